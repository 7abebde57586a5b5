// The checker as it was before issue 15 ("Every verdict is honest"), kept unchanged under the name
// check_baseline so that a benchmark (bench/lin_checker_bench.cpp) and the tests can run it next to
// today's check() in the same run, and so that the two can be compared verdict for verdict.
//
// The search is the one described in checker.hpp's first paragraphs: a depth-first walk over
// (per-actor counts, model state) with memoization of 64-bit configuration hashes, trying actors in
// index order, copying the state into a frame at every configuration where another actor may go.
// Do not improve it here: its value is that it stays what it was.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "indexbus/linearizability/checker.hpp"

namespace indexbus::linearizability {

// The history may list operations in any order; each actor's operations must not overlap.
template <SequentialModel M>
CheckResult check_baseline(const typename M::State& initial,
                           const std::vector<Operation<typename M::Op, typename M::Result>>& history,
                           const Options& options = {}) {
  using State = typename M::State;
  CheckResult out;

  // Per actor, its operations in invocation order.
  std::uint32_t actor_count = 0;
  for (const auto& op : history) actor_count = std::max(actor_count, op.actor + 1);
  std::vector<std::vector<std::size_t>> lists(actor_count);
  for (std::size_t i = 0; i < history.size(); ++i) lists[history[i].actor].push_back(i);
  for (auto& list : lists) {
    std::sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
      return history[a].invoke_time < history[b].invoke_time;
    });
    for (std::size_t k = 0; k + 1 < list.size(); ++k) {
      const auto& a = history[list[k]];
      const auto& b = history[list[k + 1]];
      if (!a.result.has_value() || a.response_time > b.invoke_time) {
        out.verdict = Verdict::Unknown;
        out.problem = "actor " + std::to_string(a.actor) + " has overlapping operations";
        return out;
      }
    }
  }

  std::vector<std::size_t> counts(actor_count, 0);
  std::size_t completed_total = 0;
  for (const auto& op : history) completed_total += op.result.has_value() ? 1 : 0;

  // Branch points keep the state to return to; straight-line steps keep nothing.
  struct Frame {
    std::vector<std::size_t> counts;
    State state;
    std::size_t order_size;
    std::size_t completed_done;
    std::uint32_t next_actor;  // the next candidate actor to try from this configuration
  };
  std::vector<Frame> stack;
  std::unordered_set<std::uint64_t> seen;
  std::vector<std::size_t> order;
  std::vector<std::size_t> best;

  State state = initial;
  std::size_t completed_done = 0;
  std::uint32_t first_actor = 0;

  auto key_of = [&](const State& s) {
    std::uint64_t key = M::hash(s);
    for (std::size_t c : counts) key = detail::mix(key, c);
    return key;
  };
  // An operation may go next if no other unlinearized operation precedes it (returned before it
  // was invoked, or happens before it). Only each actor's next operation can have the earliest
  // response, so one look per actor.
  auto may_go_next = [&](std::uint32_t actor) {
    if (counts[actor] >= lists[actor].size()) return false;
    const auto& candidate = history[lists[actor][counts[actor]]];
    for (std::uint32_t other = 0; other < actor_count; ++other) {
      if (other == actor || counts[other] >= lists[other].size()) continue;
      if (precedes(history[lists[other][counts[other]]], candidate)) return false;
    }
    return true;
  };

  const auto started = std::chrono::steady_clock::now();
  auto out_of_time = [&] {
    if (options.time_limit_ns == 0 || out.configurations % 4096 != 0) return false;
    return std::chrono::steady_clock::now() - started > std::chrono::nanoseconds(options.time_limit_ns);
  };

  for (;;) {
    if (completed_done == completed_total) {
      out.verdict = Verdict::Linearizable;
      out.order = order;
      return out;
    }
    if (out.configurations >= options.configurations_max || out_of_time()) {
      out.verdict = Verdict::Unknown;
      out.order = best.size() >= order.size() ? best : order;
      out.problem = "gave up after " + std::to_string(out.configurations) + " configurations" +
                    (out.configurations >= options.configurations_max ? "" : " (time limit)");
      return out;
    }
    ++out.configurations;

    // Find the legal successors from first_actor on.
    bool advanced = false;
    for (std::uint32_t actor = first_actor; actor < actor_count && !advanced; ++actor) {
      if (!may_go_next(actor)) continue;
      const std::size_t index = lists[actor][counts[actor]];
      const auto& operation = history[index];
      auto [next_state, result] = M::step(state, operation.op);
      if (operation.result.has_value() && !M::same_result(*operation.result, result)) continue;
      ++counts[actor];
      const std::uint64_t key = key_of(next_state);
      if (!seen.insert(key).second) {
        --counts[actor];
        continue;
      }
      // Remember where to resume if this choice fails, only if another choice may remain: most
      // steps of a real history have one candidate, and a frame holds a copy of the state.
      bool other_may_go = false;
      for (std::uint32_t later = actor + 1; later < actor_count && !other_may_go; ++later) {
        if (later != actor) {
          --counts[actor];
          other_may_go = may_go_next(later);
          ++counts[actor];
        }
      }
      if (other_may_go) {
        --counts[actor];
        stack.push_back(Frame{counts, state, order.size(), completed_done, actor + 1});
        ++counts[actor];
      }
      state = std::move(next_state);
      order.push_back(index);
      if (operation.result.has_value()) ++completed_done;
      advanced = true;
    }
    if (advanced) {
      first_actor = 0;
      continue;
    }
    if (order.size() > best.size()) best = order;
    if (stack.empty()) {
      out.verdict = Verdict::NotLinearizable;
      out.order = best;
      return out;
    }
    Frame& frame = stack.back();
    counts = std::move(frame.counts);
    state = std::move(frame.state);
    order.resize(frame.order_size);
    completed_done = frame.completed_done;
    first_actor = frame.next_actor;
    stack.pop_back();
  }
}

}  // namespace indexbus::linearizability

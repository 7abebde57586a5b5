// A linearizability checker for histories in which every actor (a producer, a consumer, a reader)
// runs its operations one after another: Wing and Gong's search with memoization of
// (linearized set, model state), as in Lowe's "Testing for linearizability" and Porcupine.
//
// Why it lives here and not in sim/: the multi-process harness (conformance/) records the same
// kind of history with real clocks, so the checker depends on nothing but the sequential model
// (spec/) and the standard library: no fibers, no lane code.
//
// The search. A history is linearizable if its operations can be put in one order that (a)
// respects real time: if x returned before y was invoked, x comes first; and (b) is legal for the
// model: stepping the model through the order reproduces every observed result. Because each
// actor is sequential (its next operation is invoked after the previous returned), program order
// is a sub-order of real time, so every set of operations that can be linearized first is a
// prefix of each actor's list: the linearized set is a vector of per-actor counts. The search is
// a depth-first walk over (counts, state); a configuration seen before (same counts, same state
// hash) cannot lead anywhere new and is skipped. Memoized configurations are kept as 64-bit hashes,
// not as states: with n configurations the chance of a false "seen" is about n^2 / 2^64,
// negligible next to the memory a million stored states would need.
//
// Blocking operations with deadlines. The model's blocking operations answer Timeout exactly where
// the lane would have to wait (spec/model/events_model.hpp). So the rule is the ordinary one:
// each operation must linearize at some point of its interval where the model returns what the
// lane returned. A blocking write or read that succeeded linearizes as the success at a point where
// it could proceed; one that returned Timeout linearizes as a no-op at a point where the model
// says it would have to wait (full, or empty and open). A Timeout therefore needs only one moment
// of its interval at which waiting was justified, which is what a lane that re-checks once after
// its deadline guarantees.
//
// Pending operations (invoked, never returned: the run ended in a deadlock or a crash) may be
// linearized anywhere after their invocation with whatever result the model gives, or left out.
//
// Bounds: the search visits at most options.configurations_max configurations, and runs at most
// options.time_limit_ns of wall time (0: no limit; the clock is read every 4096 configurations),
// then reports Unknown rather than running on.
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace indexbus::linearizability {

// What the checker needs of a sequential model: a pure step and a hash of the state.
template <typename M>
concept SequentialModel = requires(const typename M::State& s, const typename M::Op& op,
                                   const typename M::Result& r) {
  { M::step(s, op) } -> std::same_as<std::pair<typename M::State, typename M::Result>>;
  { M::hash(s) } -> std::same_as<std::uint64_t>;
  { M::same_result(r, r) } -> std::same_as<bool>;
};

inline constexpr std::uint64_t kPendingTime = std::numeric_limits<std::uint64_t>::max();

// Happens-before instead of real time (the simulator's weak memory model). Under a weak memory
// model, "x returned before y was invoked" in the interleaving is not observable unless x's return
// happens before y's invocation: without that, y's thread cannot know x returned, and y may see
// memory as it was before x. So when both operations carry a stamp, x precedes y iff y's invoking
// thread's vector clock at the invocation covers x's response: invoke[x.actor] >= response.
inline constexpr std::uint32_t kClockActorsMax = 8;
struct HappensBefore {
  bool set = false;
  std::uint32_t actor = 0;                                 // the thread (simulator actor) that ran it
  std::uint32_t invoke[kClockActorsMax] = {};              // its vector clock at the invocation
  std::uint32_t response = std::numeric_limits<std::uint32_t>::max();  // its own epoch at the response
};

// One operation of a history. Times are in any unit that orders events (simulated steps, or
// CLOCK_MONOTONIC ns); x precedes y in real time iff x.response_time < y.invoke_time.
template <typename Op, typename Result>
struct Operation {
  std::uint32_t actor = 0;
  Op op;
  std::optional<Result> result;  // nullopt: pending (never returned)
  std::uint64_t invoke_time = 0;
  std::uint64_t response_time = kPendingTime;
  HappensBefore hb{};
};

// Does x precede y: real time, or happens-before where both carry a stamp.
template <typename Op, typename Result>
bool precedes(const Operation<Op, Result>& x, const Operation<Op, Result>& y) noexcept {
  if (x.hb.set && y.hb.set) {
    if (!x.result.has_value()) return false;
    return x.hb.actor < kClockActorsMax && y.hb.invoke[x.hb.actor] >= x.hb.response;
  }
  return x.response_time < y.invoke_time;
}

enum class Verdict : std::uint8_t { Linearizable, NotLinearizable, Unknown };

struct Options {
  std::uint64_t configurations_max = 10'000'000;  // about 400 MB of memoized hashes at most
  std::uint64_t time_limit_ns = 0;                // wall time; 0 = bounded by configurations only
};

struct CheckResult {
  Verdict verdict = Verdict::Unknown;
  // Linearizable: the order found (indices into the history). Otherwise the longest legal
  // prefix the search reached, which is where a report should look.
  std::vector<std::size_t> order;
  std::uint64_t configurations = 0;  // configurations visited
  std::string problem;               // a malformed history (an actor not sequential), or empty
};

namespace detail {

inline std::uint64_t mix(std::uint64_t seed, std::uint64_t value) noexcept {
  value += 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

}  // namespace detail

// The history may list operations in any order; each actor's operations must not overlap.
template <SequentialModel M>
CheckResult check(const typename M::State& initial,
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

// Concurrent histories with a known answer, for the checker's tests and its benchmark.
//
// A history is made the way a real run makes one, except that the moment each operation takes
// effect is chosen, not observed: every process (a producer, a consumer, a Journal reader) runs
// its operations one after another, each with a random interval [invoke, response]; a point is
// drawn inside each interval, and the sequential model (spec/) is stepped through the operations
// in the order of their points. The results it returns are the history's results. Since every
// point lies inside its interval, that order respects real time, so the history is linearizable by
// construction, whatever the overlaps.
//
// A killed process: its last operation has no result and no response (pending); it took effect at
// its point or never (a coin decides), the process runs nothing after it, and a new process (a new
// actor) takes its role over after a restart delay, as lin_batch does after a SIGKILL.
//
// A process chooses each call from what it has seen (ProcessView): a SequencedSlots producer
// publishes after a claim that answered Ok, a Journal reader names the record its attach returned.
// Its previous result is known when it invokes the next call, because the previous call's point is
// no later than its response.
//
// corrupt_an_entry() makes a history that no order can explain (a read returns a payload nobody
// wrote); perturb_a_result() changes a result at random, which may or may not keep the history
// linearizable (the tests ask the baseline checker which).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/linearizability/rings.hpp"

namespace indexbus::linearizability::generate {

using Rng = std::mt19937_64;

// What a process knows when it invokes its next operation.
template <typename M>
struct ProcessView {
  std::uint32_t role = 0;               // 0: the producer; 1 + c: consumer (reader) c
  std::uint64_t role_ops = 0;           // operations this role invoked so far, all incarnations
  std::uint64_t role_ops_max = 0;       // the role's share of the history
  std::uint64_t incarnation_ops = 0;    // operations this process invoked so far
  std::optional<typename M::Result> last;  // the result of this process's previous operation
  std::uint32_t record = 0;             // Journal: the reader record its attach returned
  std::uint64_t published = 0;          // SequencedSlots: publishes so far (names the payload)
};

template <typename M>
struct Workload {
  std::string name;
  typename M::State initial;
  std::uint32_t roles = 2;  // the producer and the consumers: the processes alive at any time
  std::function<typename M::Op(ProcessView<M>&, Rng&)> next_op;
  // A killed process's death as an operation of an actor of its own (the Journal model has no
  // processes: the death detaches the record, JR-4); none where the model needs nothing.
  std::function<std::optional<typename M::Op>(const ProcessView<M>&)> death_op;
};

// Intervals in ticks: most calls are short, some are preempted for a while (a page fault, a
// descheduled process), a few are stopped (lin_batch's SIGSTOP pauses), which is what makes
// operations of other processes pile up inside them.
struct Timing {
  std::uint64_t gap_ticks_max = 4;
  std::uint64_t short_ticks_max = 12;
  std::uint64_t medium_ticks_max = 60;
  std::uint64_t long_ticks_max = 400;
  std::uint64_t pause_ticks_max = 4000;
  std::uint32_t medium_percent = 17;
  std::uint32_t long_percent = 3;
  std::uint32_t pause_per_mille = 1;
  std::uint64_t restart_ticks = 50;  // from a death to the new process's first call
};

struct Params {
  std::uint64_t ops = 1000;  // all processes together
  std::uint32_t kills = 0;   // consumer processes killed mid-operation (each replaced)
  std::uint64_t seed = 1;
  // Record each kill's time as its pending operation's pending_deadline_time, as a harness that
  // knows when it sent SIGKILL could; off, the history says only "never returned".
  bool kill_deadlines = false;
  Timing timing{};
};

template <typename M>
struct Generated {
  std::vector<Operation<typename M::Op, typename M::Result>> history;
  std::uint32_t actors = 0;
  std::uint64_t pending = 0;
};

inline spec::Bytes payload_of(std::uint64_t n, std::uint32_t size) {
  spec::Bytes out(size);
  for (std::uint32_t i = 0; i < size; ++i) {
    out[i] = i < 8 ? static_cast<std::byte>((n >> (8 * i)) & 0xff) : static_cast<std::byte>((n * 31 + i) & 0xff);
  }
  return out;
}

namespace detail {

inline std::uint64_t uniform(Rng& rng, std::uint64_t lo, std::uint64_t hi) {
  return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
}

inline std::uint64_t duration_ticks(Rng& rng, const Timing& t) {
  if (uniform(rng, 0, 999) < t.pause_per_mille) return uniform(rng, t.long_ticks_max, t.pause_ticks_max);
  const std::uint64_t percent = uniform(rng, 0, 99);
  if (percent < t.long_percent) return uniform(rng, t.medium_ticks_max, t.long_ticks_max);
  if (percent < t.long_percent + t.medium_percent) return uniform(rng, t.short_ticks_max, t.medium_ticks_max);
  return uniform(rng, 1, t.short_ticks_max);
}

}  // namespace detail

template <typename M>
Generated<M> generate(const Workload<M>& workload, const Params& params) {
  using History = std::vector<Operation<typename M::Op, typename M::Result>>;
  assert(workload.roles >= 1);
  Rng rng(params.seed);
  Generated<M> out;
  History& history = out.history;
  history.reserve(params.ops + 3 * params.kills);

  struct Process {
    std::uint32_t actor = 0;
    ProcessView<M> view;
  };
  std::vector<Process> processes;
  std::uint32_t next_actor = 0;
  for (std::uint32_t role = 0; role < workload.roles; ++role) {
    Process p;
    p.actor = next_actor++;
    p.view.role = role;
    p.view.role_ops_max = params.ops / workload.roles + (role < params.ops % workload.roles ? 1 : 0);
    processes.push_back(std::move(p));
  }
  // Kills: consumers only (a killed producer ends the history; lin_batch never kills it), each at
  // a role operation in the middle 80% of the role's share.
  std::vector<std::vector<std::uint64_t>> kills_at(workload.roles);
  for (std::uint32_t k = 0; k < params.kills && workload.roles > 1; ++k) {
    const auto role = static_cast<std::uint32_t>(detail::uniform(rng, 1, workload.roles - 1));
    const std::uint64_t share = processes[role].view.role_ops_max;
    kills_at[role].push_back(detail::uniform(rng, share / 10, std::max<std::uint64_t>(share / 10, share * 9 / 10)));
  }
  for (auto& list : kills_at) std::sort(list.begin(), list.end(), std::greater<>());  // next kill at back()

  // Events in time order; at equal times, points before invocations (a process's next call may
  // depend on the result of the call whose point is at that same tick), then first come first.
  struct Event {
    std::uint64_t time = 0;
    std::uint32_t kind = 0;  // 0: an operation's point; 1: a process invokes its next call
    std::uint64_t order = 0;
    std::size_t index = 0;   // the operation (kind 0) or the process (kind 1)
    bool operator>(const Event& o) const {
      if (time != o.time) return time > o.time;
      if (kind != o.kind) return kind > o.kind;
      return order > o.order;
    }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::uint64_t event_order = 0;
  std::vector<std::size_t> process_of;  // per operation: its process, or SIZE_MAX (a death)
  std::vector<bool> records_result;     // per operation: false for a killed process's last one
  for (std::size_t p = 0; p < processes.size(); ++p) {
    events.push(Event{detail::uniform(rng, 0, params.timing.gap_ticks_max), 1, event_order++, p});
  }

  typename M::State state = workload.initial;
  // Bounded: each event is an invocation or a point of one of at most ops + 3 * kills operations.
  while (!events.empty()) {
    const Event e = events.top();
    events.pop();
    if (e.kind == 0) {
      auto [next, result] = M::step(state, history[e.index].op);
      state = std::move(next);
      if (!records_result[e.index]) continue;
      if (process_of[e.index] != SIZE_MAX) processes[process_of[e.index]].view.last = result;
      history[e.index].result = std::move(result);
      continue;
    }
    const std::size_t p = e.index;
    ProcessView<M>& view = processes[p].view;
    if (view.role_ops >= view.role_ops_max) continue;
    auto& kills = kills_at[view.role];
    // Never kill a process in its first call (a Journal reader's attach): the death needs the record.
    const bool killed = !kills.empty() && view.role_ops >= kills.back() && view.incarnation_ops > 0;
    if (killed) kills.pop_back();
    typename M::Op op = workload.next_op(view, rng);
    ++view.role_ops;
    ++view.incarnation_ops;
    const std::uint64_t ticks = detail::duration_ticks(rng, params.timing);
    const std::uint64_t point = e.time + detail::uniform(rng, 0, ticks);
    const std::uint64_t response = e.time + ticks;
    const std::size_t index = history.size();
    // Filled in place: g++ 12 -O2 warns (maybe-uninitialized, a false positive) on a braced
    // temporary that moves a variant holding a vector.
    auto& record = history.emplace_back();
    record.actor = processes[p].actor;
    record.op = std::move(op);
    record.invoke_time = e.time;
    record.response_time = killed ? kPendingTime : response;
    if (killed && params.kill_deadlines) record.pending_deadline_time = response;  // the kill
    process_of.push_back(p);
    records_result.push_back(!killed);
    if (!killed) {
      events.push(Event{point, 0, event_order++, index});
      events.push(Event{response + detail::uniform(rng, 0, params.timing.gap_ticks_max), 1, event_order++, p});
      continue;
    }
    ++out.pending;
    if (detail::uniform(rng, 0, 1) == 1) events.push(Event{point, 0, event_order++, index});  // it took effect
    const std::uint64_t death_time = response + 1;
    if (workload.death_op) {
      if (auto death = workload.death_op(view)) {
        const std::size_t death_index = history.size();
        auto& death_record = history.emplace_back();
        death_record.actor = next_actor++;
        death_record.op = std::move(*death);
        death_record.invoke_time = death_time;
        death_record.response_time = death_time + 1;
        process_of.push_back(SIZE_MAX);
        records_result.push_back(true);
        events.push(Event{death_time, 0, event_order++, death_index});
      }
    }
    Process successor;
    successor.actor = next_actor++;
    successor.view.role = view.role;
    successor.view.role_ops = view.role_ops;
    successor.view.role_ops_max = view.role_ops_max;
    successor.view.published = view.published;
    processes.push_back(std::move(successor));
    events.push(Event{death_time + 2 + params.timing.restart_ticks, 1, event_order++, processes.size() - 1});
  }
  out.actors = next_actor;
  return out;
}

// ---- Workloads, one per lane kind ----------------------------------------------------------

inline bool coin(Rng& rng) { return detail::uniform(rng, 0, 1) == 1; }

// Events: one producer, one consumer (the lane is single-producer, single-consumer).
inline Workload<EventsModel> events_workload(const spec::EventsConfig& config) {
  Workload<EventsModel> w;
  w.name = std::string("events ") + (config.on_full == OnFull::Block ? "block" : "drop");
  w.initial = spec::initial_state(config);
  w.roles = 2;
  w.next_op = [config](ProcessView<EventsModel>& v, Rng& rng) -> spec::Op {
    if (v.role == 0) {
      if (v.role_ops + 1 == v.role_ops_max) return spec::Close{};
      spec::Bytes p = payload_of(v.role_ops, config.slot_payload_bytes);
      if (coin(rng)) return spec::Write{std::move(p)};
      return spec::TryWrite{std::move(p)};
    }
    if (coin(rng)) return spec::Read{};
    return spec::TryRead{};
  };
  return w;
}

// FanoutBroadcast: one producer, consumer_count consumers.
inline Workload<FanoutModel> fanout_workload(const spec::FanoutConfig& config) {
  Workload<FanoutModel> w;
  w.name = std::string("fanout ") + (config.on_full == OnFull::Block ? "block" : "drop");
  w.initial = spec::initial_state(config);
  w.roles = 1 + config.consumer_count;
  w.next_op = [config](ProcessView<FanoutModel>& v, Rng& rng) -> spec::FanoutOp {
    if (v.role == 0) {
      if (v.role_ops + 1 == v.role_ops_max) return spec::FanoutClose{};
      spec::Bytes p = payload_of(v.role_ops, config.slot_payload_bytes);
      if (coin(rng)) return spec::FanoutWrite{std::move(p)};
      return spec::FanoutTryWrite{std::move(p)};
    }
    if (coin(rng)) return spec::FanoutRead{v.role - 1};
    return spec::FanoutTryRead{v.role - 1};
  };
  return w;
}

// Journal: one writer, reader_count named readers ("r<c>") that attach as their first call,
// then read and commit after every read, as lin_batch's readers do. A killed reader's death
// detaches its record; its successor attaches by name and resumes at the committed cursor.
inline Workload<JournalModel> journal_workload(const spec::JournalConfig& config) {
  Workload<JournalModel> w;
  w.name = std::string("journal ") + (config.on_full == OnFull::Block ? "block" : "drop");
  w.initial = spec::initial_state(config);
  w.roles = 1 + config.reader_count;
  w.next_op = [config](ProcessView<JournalModel>& v, Rng& rng) -> spec::JournalOp {
    if (v.role == 0) {
      if (v.role_ops + 1 == v.role_ops_max) return spec::JournalClose{};
      spec::Bytes p = payload_of(v.role_ops, config.slot_payload_bytes);
      if (coin(rng)) return spec::JournalWrite{std::move(p)};
      return spec::JournalTryWrite{std::move(p)};
    }
    if (v.incarnation_ops == 0) return spec::JournalAttach{"r" + std::to_string(v.role - 1), std::nullopt};
    if (v.last) {
      if (const auto* attach = std::get_if<spec::JournalAttachOutcome>(&*v.last)) v.record = attach->reader;
      if (std::holds_alternative<spec::ReadOutcome>(*v.last)) return spec::JournalCommit{v.record};
    }
    if (coin(rng)) return spec::JournalRead{v.record};
    return spec::JournalTryRead{v.record};
  };
  w.death_op = [](const ProcessView<JournalModel>& v) -> std::optional<spec::JournalOp> {
    return spec::JournalDetach{v.record};
  };
  return w;
}

// SequencedSlots: a producer that claims, and publishes after a claim that answered Ok; consumers
// as configured (gated_on).
inline Workload<SequencedModel> sequenced_workload(const spec::SequencedConfig& config) {
  Workload<SequencedModel> w;
  w.name = std::string("sequenced ") + (config.on_full == OnFull::Block ? "block" : "drop");
  w.initial = spec::sequenced_initial_state(config);
  w.roles = 1 + config.consumer_count();
  w.next_op = [config](ProcessView<SequencedModel>& v, Rng& rng) -> spec::SequencedOp {
    if (v.role == 0) {
      if (v.role_ops + 1 == v.role_ops_max) return spec::SeqClose{};
      const auto* claim = v.last ? std::get_if<spec::SeqClaimOutcome>(&*v.last) : nullptr;
      if (claim != nullptr && claim->status == WriteStatus::Ok) {
        return spec::SeqPublish{payload_of(v.published++, config.slot_payload_bytes)};
      }
      if (coin(rng)) return spec::SeqClaim{};
      return spec::SeqTryClaim{};
    }
    if (coin(rng)) return spec::SeqRead{v.role - 1};
    return spec::SeqTryRead{v.role - 1};
  };
  return w;
}

// ---- Broken histories ------------------------------------------------------------------------

template <typename T, typename V>
struct HasAlternative : std::false_type {};
template <typename T, typename... Ts>
struct HasAlternative<T, std::variant<Ts...>> : std::disjunction<std::is_same<T, Ts>...> {};

// The alternative T of a model's result, if the result type has it and holds it.
template <typename T, typename V>
T* alternative(V& result) {
  if constexpr (HasAlternative<T, V>::value) {
    return std::get_if<T>(&result);
  } else {
    return nullptr;
  }
}

// Makes the Entry read at or after history[from] return a payload nobody wrote (the top bit of its
// 8-byte name is never set): no order explains it. The index changed, or nullopt if none.
template <typename Op, typename Result>
std::optional<std::size_t> corrupt_an_entry(std::vector<Operation<Op, Result>>& history, std::size_t from) {
  for (std::size_t k = 0; k < history.size(); ++k) {
    const std::size_t i = (from + k) % history.size();
    if (!history[i].result) continue;
    spec::ReadOutcome* read = alternative<spec::ReadOutcome>(*history[i].result);
    if (read == nullptr || read->status != ReadStatus::Entry || read->payload.size() < 8) continue;
    read->payload[7] ^= std::byte{0x80};
    return i;
  }
  return std::nullopt;
}

// Changes one result at random: a read's status, sequence or loss count, a write's status. The
// history may still be linearizable (an Empty that could also have been read a moment earlier).
template <typename Op, typename Result>
bool perturb_a_result(std::vector<Operation<Op, Result>>& history, Rng& rng) {
  if (history.empty()) return false;
  // Bounded: at most one look per operation.
  const std::size_t start = detail::uniform(rng, 0, history.size() - 1);
  for (std::size_t k = 0; k < history.size(); ++k) {
    auto& op = history[(start + k) % history.size()];
    if (!op.result) continue;
    if (spec::ReadOutcome* read = alternative<spec::ReadOutcome>(*op.result)) {
      switch (detail::uniform(rng, 0, 3)) {
        case 0:
          if (read->status != ReadStatus::Entry) continue;
          read->seq += coin(rng) ? 1 : static_cast<std::uint64_t>(-1);
          return true;
        case 1:
          if (read->status == ReadStatus::Empty) continue;
          *read = spec::ReadOutcome{ReadStatus::Empty, 0, {}, 0};
          return true;
        case 2:
          if (read->status != ReadStatus::Lost) continue;
          read->lost_count += 1;
          return true;
        default:
          if (read->status == ReadStatus::Closed) continue;
          *read = spec::ReadOutcome{ReadStatus::Closed, 0, {}, 0};
          return true;
      }
    }
    if (auto* write = alternative<spec::WriteOutcome>(*op.result)) {
      write->status = write->status == WriteStatus::Ok ? WriteStatus::Full : WriteStatus::Ok;
      return true;
    }
  }
  return false;
}

}  // namespace indexbus::linearizability::generate

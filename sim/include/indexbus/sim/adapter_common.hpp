// What every scenario adapter (events_adapter.hpp, ring_adapter.hpp) shares: history records
// stamped with the scheduler's clock, deadlines, the slot checks (Events and ring slots have one
// layout: layout.hpp SlotHeader = EventsSlotHeader), slot word names, and the messages of the
// post-run checks. Lane-specific words and models stay in the adapters.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/layout.hpp"
#include "indexbus/linearizability/two_step.hpp"
#include "indexbus/sim/scheduler.hpp"

namespace indexbus::sim::adapter {

// Appends a record at the invocation of an operation; the history is reserved up front and never
// reallocated during a run (actors hold references into it across scheduling points).
template <typename Record>
Record& begin_record(Scheduler& scheduler, std::vector<Record>& history) {
  assert(history.size() < history.capacity());
  Record& r = history.emplace_back();
  r.invoke_time = scheduler.next_event_time();
  if constexpr (requires { r.hb; }) scheduler.stamp_invoke(r.hb);
  scheduler.record(AccessKind::Invoke, nullptr, 0, history.size() - 1, Where::current());
  return r;
}

template <typename Record>
void end_record(Scheduler& scheduler, const std::vector<Record>& history, Record& r) {
  r.response_time = scheduler.next_event_time();
  if constexpr (requires { r.hb; }) scheduler.stamp_response(r.hb);
  r.done = true;
  scheduler.record(AccessKind::Respond, nullptr, 0, static_cast<std::uint64_t>(&r - history.data()),
                   Where::current());
}

// Wait-freedom of the non-blocking reads (try_read, read_at) of every lane, under both policies
// (spec/v1-semantics.md, EV-8: a reader never waits for a producer's publish). Such a call may make
// no wait step at all (no futex wait, no pause: spin, yield or sleep) and at most
// kNonBlockingReadAccessesMax accesses of its own, however the other actors are scheduled. A wait
// loop, even a bounded one, is a wait step; a loop without pauses runs into the access bound.
// The bound is generous: the longest non-blocking read of the scenarios (a gated SequencedSlots
// consumer, or a Journal reader that re-checks its record) makes a few dozen accesses.
inline constexpr std::uint64_t kNonBlockingReadAccessesMax = 256;

class NonBlockingCall {
 public:
  explicit NonBlockingCall(const Scheduler& scheduler) noexcept
      : scheduler_(&scheduler), actor_(scheduler.current()), before_(scheduler.step_counts(actor_)) {}
  // After the call: a description of the violation (`what` names the call), or nullopt.
  std::optional<std::string> violation(const std::string& what) const {
    const Scheduler::StepCounts after = scheduler_->step_counts(actor_);
    const std::uint64_t waits = after.waits - before_.waits;
    const std::uint64_t accesses = after.accesses - before_.accesses;
    if (waits == 0 && accesses <= kNonBlockingReadAccessesMax) return std::nullopt;
    return what + " is not wait-free: it made " + std::to_string(waits) + " wait steps (futex waits or pauses) and " +
           std::to_string(accesses) + " accesses (at most " + std::to_string(kNonBlockingReadAccessesMax) +
           ", no wait step); a non-blocking read never waits for a producer (EV-8)";
  }

 private:
  const Scheduler* scheduler_;
  std::uint32_t actor_;
  Scheduler::StepCounts before_;
};

// The platform deadline of an operation with a timeout, saturating.
inline std::uint64_t deadline_after(const Scheduler& scheduler, std::uint64_t timeout_ns) noexcept {
  const std::uint64_t now = scheduler.now_ns();
  return timeout_ns == kNoDeadline || timeout_ns > kNoDeadline - now ? kNoDeadline : now + timeout_ns;
}

// What a successful write put under one sequence number: producer op op_index wrote
// payload_bytes bytes of payload_of(op_index, ...).
struct WrittenEntry {
  std::uint32_t op_index = 0;
  std::uint32_t payload_bytes = 0;
};

// nullopt if the delivered entry (seq, length, bytes) is what was written under seq; otherwise
// the torn-entry message.
std::optional<std::string> torn_entry(const std::vector<WrittenEntry>& by_seq, std::uint64_t seq,
                                      std::uint32_t payload_bytes, const std::byte* data);

std::string duplicate_message(std::uint64_t seq, std::uint64_t last);

// The report's model-state column: per recorded operation, the state of model M after it along
// `order` (indices of the checker's history `ops`, writes split as `split` says), or "" where it
// changed nothing. The position is the one in the linearization, which need not follow the table's
// response order; a write's first step is shown on the write's row, before its second.
template <typename M, typename Ops>
std::vector<std::string> states_along(typename M::State state, const Ops& ops, const linearizability::TwoStepSplit& split,
                                      const std::vector<std::size_t>& order) {
  std::vector<std::string> out(split.recorded_count);
  for (std::size_t position = 0; position < order.size(); ++position) {
    const std::size_t index = order[position];
    auto [next, result] = M::step(state, ops[index].op);
    if (!(next == state)) {
      std::string& cell = out[split.recorded(index)];
      if (!cell.empty()) cell += "; ";
      cell += "lin #" + std::to_string(position) + (split.is_first_step(index) ? " (begins)" : "") + ": " + describe(next);
    }
    state = std::move(next);
  }
  return out;
}

// "no order of the n operations agrees with the model; ... first unplaced: <op>".
template <typename Describe>
std::string not_linearizable_message(std::size_t history_size, const std::vector<std::size_t>& order,
                                     Describe describe) {
  std::string out = "no order of the " + std::to_string(history_size) +
                    " operations agrees with the model; the longest legal prefix has " + std::to_string(order.size());
  if (order.size() < history_size) {
    // Name the first operation (in invocation order) that could not be placed after that prefix.
    std::vector<bool> placed(history_size, false);
    for (std::size_t i : order) placed[i] = true;
    for (std::size_t i = 0; i < history_size; ++i) {
      if (!placed[i]) return out + "; first unplaced: " + describe(i);
    }
  }
  return out;
}

// The slot checks that hold after every step: each stamp names a sequence of its own slot and is
// not above stamp_max; payload_bytes fits the slot. Plain reads: the simulator's own look.
bool check_slots(const std::byte* slots, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                 std::uint64_t stamp_max, std::uint64_t write_seq, std::string& message);

// "slot[1].stamp", "slot[0].payload+8", ... for an offset from the first slot; "" if beyond them.
std::string slot_word_name(std::uint64_t offset, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes);

}  // namespace indexbus::sim::adapter

// Writes that take effect in two steps (spec/v1-semantics.md, "A write takes effect in two
// steps"; the models' BeginWrite ops), in the shape the checker wants.
//
// A ring or Events write that overwrites a slot destroys the entry the slot held when it stores
// the slot's odd stamp, and makes its own entry readable when it publishes write_seq. A reader that
// finds its entry being overwritten reports the loss at once (it never waits for the publish), so
// between the two steps the lane holds one entry fewer than either a "before" or an "after" state
// of a one-step write: a Lost followed by an Empty is what a reader sees there. The models express
// that with a separate operation for the first step. A recorded history has one operation per
// call; split_two_step_writes adds, for every write that may have taken its first step apart
// (accepted, or pending), a first-step operation over the same interval, and the checker places
// both, the first step no later than the write:
//
//  - The first step goes to an actor of its own (one per writing actor, numbered after every actor
//    of the history), not to the writer's: the checker needs each actor's operations one after
//    another in real time (checker.hpp, actor_lists), and the two share an interval. On its own
//    actor the first steps of one writer are sequential, as its writes are.
//  - "No later than the write": the recorded write is replaced by its second step (the model's
//    write with second_step set), which only appends after a begun write and, without one, is
//    refused and changes nothing. So no order places a write before its own first step. (A plain
//    write there would take both steps at once, and its first step, placed after it, would leave
//    a phantom begun write that destroys an entry nobody overwrote: the simulator's planted
//    ordering bug events.drop-publish-write-seq-relaxed passed that way.) Where a write is pending
//    (its process was killed), both are pending and may each be left out, so a write that began
//    and never published (a producer killed between its stamp and its publish) is the first step
//    alone.
//  - The first step's result is the write's (Ok), or pending with it; its happens-before stamp and
//    kill deadline are the write's.
//
// A write that was refused (Full, Timeout, Closed, TooLarge) never began: it is not split.
// The same shape serves other calls whose effect the lane spreads over two stores: a Journal reader
// call's heartbeat CAS, then its effect (rings.hpp, JournalModel::split_write); a model may give
// such a first step its own result (first_step_result). A
// history recorded without first steps is still checked correctly against a stricter model (every
// write in one step), which is what a sequential history is.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "indexbus/linearizability/checker.hpp"

namespace indexbus::linearizability {

// A model whose writes may take two steps: split_write(initial, op, observed) is op's first and
// second step, or nullopt when op is not such a write, or was refused (observed says so).
template <typename M>
concept TwoStepWrites =
    SequentialModel<M> && requires(const typename M::State& s, const typename M::Op& op,
                                   const std::optional<typename M::Result>& observed) {
      { M::split_write(s, op, observed) } -> std::same_as<std::optional<std::pair<typename M::Op, typename M::Op>>>;
    };

// What split_two_step_writes added, so that orders over the split history can be reported in terms
// of the recorded one.
struct TwoStepSplit {
  std::size_t recorded_count = 0;       // operations of the recorded history: indices below it
  std::vector<std::size_t> write_of;    // per added first step (index recorded_count + k): its write

  bool is_first_step(std::size_t index) const noexcept { return index >= recorded_count; }
  // The recorded operation an index of the split history stands for.
  std::size_t recorded(std::size_t index) const noexcept {
    return index < recorded_count ? index : write_of[index - recorded_count];
  }
  // An order over the split history without its first steps: indices of the recorded history.
  std::vector<std::size_t> recorded_order(const std::vector<std::size_t>& order) const {
    std::vector<std::size_t> out;
    out.reserve(order.size());
    for (std::size_t index : order) {
      if (!is_first_step(index)) out.push_back(index);
    }
    return out;
  }
};

// Appends the first steps of history's two-step writes (see the top of this file).
template <TwoStepWrites M>
TwoStepSplit split_two_step_writes(const typename M::State& initial,
                                   std::vector<Operation<typename M::Op, typename M::Result>>& history) {
  TwoStepSplit split;
  split.recorded_count = history.size();
  std::uint32_t actor_count = 0;
  for (const auto& op : history) actor_count = std::max(actor_count, op.actor + 1);
  // Writing actors in order of first appearance get first-step actors actor_count, +1, ...
  constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> first_step_actor(actor_count, kNone);
  std::uint32_t next_actor = actor_count;
  for (std::size_t i = 0; i < split.recorded_count; ++i) {
    const auto& write = history[i];
    std::optional<std::pair<typename M::Op, typename M::Op>> steps = M::split_write(initial, write.op, write.result);
    if (!steps) continue;
    if (first_step_actor[write.actor] == kNone) first_step_actor[write.actor] = next_actor++;
    Operation<typename M::Op, typename M::Result> first = write;  // interval, result, stamps, deadline
    first.actor = first_step_actor[write.actor];
    first.op = std::move(steps->first);
    // A model whose first steps answer otherwise than the call (a Journal reader call's heartbeat).
    if constexpr (requires { M::first_step_result(first.op, write.result); }) {
      first.result = M::first_step_result(first.op, write.result);
    }
    history[i].op = std::move(steps->second);  // `write` refers to it: copied above
    history.push_back(std::move(first));
    split.write_of.push_back(i);
  }
  return split;
}

}  // namespace indexbus::linearizability

// The Events lane's sequential model (spec/) in the shape the checker wants. Adding a lane kind
// to the checker is one such struct over its spec model.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <utility>
#include <vector>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/two_step.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::linearizability {

struct EventsModel {
  using State = spec::EventsState;
  using Op = spec::Op;
  using Result = spec::OpResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  // The counters no result reveals are left out (spec::hash_observable): the memo then meets a
  // configuration again however the cursor got there.
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_observable(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  // Rule 7 (checker.hpp): only consumer operations move read_seq.
  static constexpr std::uint32_t kProducerPart = 1u << 0;
  static constexpr std::uint32_t kCursorPart = 1u << 1;
  static std::uint32_t changes(const Op& op) noexcept { return spec::is_consumer_op(op) ? kCursorPart : kProducerPart; }
  static std::uint32_t needs_first(const State& state, const Op& op, const Result& observed) {
    return spec::needs_consumer_first(state, op, observed) ? kCursorPart : 0;
  }
  static std::uint64_t changes_needed(const State& state, const Op& op, const Result& observed, std::uint32_t part) {
    return part == kProducerPart ? spec::producer_ops_needed(state, op, observed) : 0;
  }
  // two_step.hpp: accepted or pending Drop writes (under Block the consumer never meets an
  // overwrite).
  static std::optional<std::pair<Op, Op>> split_write(const State& initial, const Op& op,
                                                      const std::optional<Result>& observed) {
    if (initial.config.on_full != OnFull::Drop) return std::nullopt;
    if (observed) {
      const auto* outcome = std::get_if<spec::WriteOutcome>(&*observed);
      if (outcome == nullptr || outcome->status != WriteStatus::Ok) return std::nullopt;
    }
    if (const auto* w = std::get_if<spec::TryWrite>(&op)) {
      return std::pair<Op, Op>{spec::BeginWrite{static_cast<std::uint32_t>(w->payload.size())}, spec::TryWrite{w->payload, true}};
    }
    if (const auto* w = std::get_if<spec::Write>(&op)) {
      return std::pair<Op, Op>{spec::BeginWrite{static_cast<std::uint32_t>(w->payload.size())}, spec::Write{w->payload, true}};
    }
    return std::nullopt;
  }
};
static_assert(SequentialModel<EventsModel>);
static_assert(TwoStepWrites<EventsModel>);
static_assert(CountedHopelessCheck<EventsModel>);

using EventsOperation = Operation<spec::Op, spec::OpResult>;
using EventsHistory = std::vector<EventsOperation>;

inline CheckResult check_events(const spec::EventsConfig& config, const EventsHistory& history,
                                const Options& options = {}) {
  return check<EventsModel>(spec::initial_state(config), history, options);
}

}  // namespace indexbus::linearizability

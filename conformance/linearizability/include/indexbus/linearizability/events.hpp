// The Events lane's sequential model (spec/) in the shape the checker wants. Adding a lane kind
// to the checker is one such struct over its spec model.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::linearizability {

struct EventsModel {
  using State = spec::EventsState;
  using Op = spec::Op;
  using Result = spec::OpResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_value(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
};
static_assert(SequentialModel<EventsModel>);

using EventsOperation = Operation<spec::Op, spec::OpResult>;
using EventsHistory = std::vector<EventsOperation>;

inline CheckResult check_events(const spec::EventsConfig& config, const EventsHistory& history,
                                const Options& options = {}) {
  return check<EventsModel>(spec::initial_state(config), history, options);
}

}  // namespace indexbus::linearizability

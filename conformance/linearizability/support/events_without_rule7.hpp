// The Events model as the checker saw it before rule 7 (checker.hpp): no HopelessCheck hooks.
// PlainEvents also hashes the whole state (before the observable hash); ObservableHashEvents
// hashes what results reveal, as EventsModel does. For tests that need the search without its
// shortcuts (to compare, or to make it run into a limit).
#pragma once

#include <cstdint>
#include <utility>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::linearizability::test_models {

struct PlainEvents {
  using State = EventsModel::State;
  using Op = EventsModel::Op;
  using Result = EventsModel::Result;
  static std::pair<State, Result> step(const State& s, const Op& op) { return EventsModel::step(s, op); }
  static std::uint64_t hash(const State& s) noexcept { return spec::hash_value(s); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
};
static_assert(!HopelessCheck<PlainEvents>);

struct ObservableHashEvents : PlainEvents {
  static std::uint64_t hash(const State& s) noexcept { return spec::hash_observable(s); }
};
static_assert(!HopelessCheck<ObservableHashEvents>);

}  // namespace indexbus::linearizability::test_models

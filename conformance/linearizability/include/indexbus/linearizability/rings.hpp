// The sequential models of the three ring lanes (spec/: journal_model, sequenced_slots_model,
// fanout_model) in the shape the checker wants, as events.hpp does for Events. The simulator's
// ring adapter and any harness that records ring histories use them.
#pragma once

#include <cstdint>
#include <utility>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/spec/fanout_model.hpp"
#include "indexbus/spec/journal_model.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"

namespace indexbus::linearizability {

struct JournalModel {
  using State = spec::JournalState;
  using Op = spec::JournalOp;
  using Result = spec::JournalResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_value(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::JournalConfig& config) { return spec::initial_state(config); }
};
static_assert(SequentialModel<JournalModel>);

struct SequencedModel {
  using State = spec::SequencedState;
  using Op = spec::SequencedOp;
  using Result = spec::SequencedResult;
  // The model's precondition (a publish needs a claim) holds for every order the checker tries
  // only if the history is well formed; an order that breaks it is simply not legal.
  static std::pair<State, Result> step(const State& state, const Op& op) {
    if (!spec::sequenced_op_allowed(state, op)) return {state, spec::SeqCloseOutcome{}};
    return spec::sequenced_step(state, op);
  }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_value(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::SequencedConfig& config) { return spec::sequenced_initial_state(config); }
};
static_assert(SequentialModel<SequencedModel>);

struct FanoutModel {
  using State = spec::FanoutState;
  using Op = spec::FanoutOp;
  using Result = spec::FanoutResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_value(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::FanoutConfig& config) { return spec::initial_state(config); }
};
static_assert(SequentialModel<FanoutModel>);

}  // namespace indexbus::linearizability

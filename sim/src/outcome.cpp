#include "indexbus/sim/outcome.hpp"

namespace indexbus::sim {

const char* to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::None: return "none";
    case FailureKind::Deadlock: return "deadlock";
    case FailureKind::StepBudget: return "step budget exhausted";
    case FailureKind::Invariant: return "invariant broken";
    case FailureKind::TornEntry: return "torn entry";
    case FailureKind::NotLinearizable: return "not linearizable";
    case FailureKind::CheckGaveUp: return "linearizability check gave up";
    case FailureKind::WrongOutput: return "output differs from the model";
    case FailureKind::DataRace: return "data race";
  }
  return "?";
}

}  // namespace indexbus::sim

// What the checks of one run found. Shared by every lane kind's adapter; shrinking keeps a failure
// "the same" when its kind is the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace indexbus::sim {

enum class FailureKind : std::uint8_t {
  None,
  Deadlock,
  StepBudget,
  Invariant,        // a per-step or per-op invariant (occupancy, counters, duplicate entry)
  TornEntry,        // an entry whose payload is not what was written for its seq
  NotLinearizable,
  CheckGaveUp,      // the linearizability search hit its bound
  WrongOutput,      // a router's or merge's outputs differ from spec/'s model (loop_adapter.hpp)
  DataRace,         // two plain accesses not ordered by happens-before (weak memory model)
};
const char* to_string(FailureKind kind) noexcept;

struct CheckOutcome {
  FailureKind kind = FailureKind::None;
  std::string message;
  std::vector<std::size_t> order;  // the linearization (or the longest legal prefix) found
};

}  // namespace indexbus::sim

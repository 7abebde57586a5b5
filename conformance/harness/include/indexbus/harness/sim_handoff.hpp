// Handing a batch case to the simulator (issue 5: "a batch-mode failure can be handed to the
// simulator to search for the same interleaving deterministically"). A batch case is a lane spec
// and one operation script per agent; the simulator runs the same lane code at operation
// granularity, so the scripts are cut to a few operations per actor (the simulator explores every
// interleaving of few operations rather than a few interleavings of many) and written in its
// compact scenario form (sim/README.md, "Scenarios"). What the simulator cannot express is left
// out and said so in `omitted`: pauses (its scheduler already stops any actor at any step), the
// SIGKILL of a consumer and its successor, timed writes (a Block write's 2 s deadline is never
// reached in simulated time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "indexbus/harness/catalog.hpp"

namespace indexbus::harness {

inline constexpr std::uint32_t kSimWritesMax = 6;  // producer writes kept (at most capacity + 2), then close
inline constexpr std::uint32_t kSimReadsMax = 4;   // reads kept per consumer, then a drain

struct SimHandoff {
  std::string lane;      // `indexbus sim run --lane`
  std::string scenario;  // `--scenario`, compact form
  std::string omitted;   // what of the batch case the simulated scenario leaves out, or empty
};

// The simulator's scenario for a batch case; nullopt if the kind has none.
std::optional<SimHandoff> sim_handoff_of(const LinBatchScenario& scenario);

}  // namespace indexbus::harness

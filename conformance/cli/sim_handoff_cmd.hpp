// `indexbus replay FILE --sim`: hands a saved batch-case failure to the simulator (issue 5). The
// failure file's "sim" field holds the case's scenario in the simulator's compact form
// (harness/sim_handoff.hpp); the simulator's explorer searches the reference lane code with PCT,
// then a random walk, each with a bounded number of schedules, and prints either the failing
// interleaving (its table and the `indexbus sim replay ...` line) or "not reproduced in N
// schedules".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace indexbus::cli {

inline constexpr std::uint64_t kHandoffRunsDefault = 20'000;  // per strategy

// Reads a saved failure (failures/<ID>.json): the JSON object, or nullopt after printing why on
// stderr under `command`'s name, with exit_code set (missing file: environment; not JSON: usage).
// `indexbus replay` and `indexbus replay --sim` both read the file this way.
std::optional<nlohmann::json> read_saved_failure(const std::string& path, const char* command, int& exit_code);

// plant: test only, a planted ordering bug (sim/plants.hpp) in the lane code searched; "" = none.
int run_sim_handoff(const std::string& failure_path, std::uint64_t runs_per_strategy, const std::string& plant = "");

}  // namespace indexbus::cli

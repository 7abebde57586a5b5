// `indexbus replay FILE --sim`: hands a saved batch-case failure to the simulator (issue 5). The
// failure file's "sim" field holds the case's scenario in the simulator's compact form
// (harness/sim_handoff.hpp); the simulator's explorer searches the reference lane code with PCT,
// then a random walk, each with a bounded number of schedules, and prints either the failing
// interleaving (its table and the `indexbus sim replay ...` line) or "not reproduced in N
// schedules".
#pragma once

#include <cstdint>
#include <string>

namespace indexbus::cli {

inline constexpr std::uint64_t kHandoffRunsDefault = 20'000;  // per strategy

int run_sim_handoff(const std::string& failure_path, std::uint64_t runs_per_strategy);

}  // namespace indexbus::cli

// Step mode: the harness runs one scenario across real agent processes, one operation at a time
// in the order the seeded scheduler chose, and compares every result with the model (spec/model
// events_model step), blocking operations' timeouts included. Deterministic for a seed at
// operation granularity; bounded by each request's deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/cleanup.hpp"

namespace indexbus::harness {

// Inconclusive: the case found no violation, but a check it depends on (the linearizability search
// of a batch case) stopped at its time or configuration bound before deciding. It is not a pass:
// a REQUIRED case ending INCONCLUSIVE fails the run unless the run allows it (conform.hpp).
enum class Outcome { Pass, Fail, Crash, Timeout, Skip, Inconclusive };
inline constexpr std::size_t kOutcomeCount = 6;
std::string to_string(Outcome outcome);

struct HistoryRecord {
  std::size_t step = 0;
  std::size_t agent = 0;
  std::string action;    // "try_write 8 bytes", "SIGKILL agent 1", ...
  std::string expected;  // the model's result (empty for non-operations)
  std::string actual;    // the agent's result
  std::uint64_t invoked_ns = 0;
  std::uint64_t returned_ns = 0;
  bool matched = true;
};

struct CaseResult {
  std::string id;
  Level level = Level::Required;
  std::vector<std::string> rules;
  Outcome outcome = Outcome::Pass;
  std::uint64_t seed = 0;
  double duration_s = 0;
  std::string detail;  // one line: why it failed, or what passed
  bool timing_dependent = false;  // is_timing_dependent(the case): its seed does not fix its interleaving
  std::vector<HistoryRecord> history;
  std::vector<std::string> scenario;  // the steps, described, for the saved scenario
  // Batch cases: the scenario in the simulator's compact form (sim_handoff.hpp), saved with a
  // failure so that `indexbus replay FILE --sim` can search for it; empty otherwise.
  std::string sim_lane;
  std::string sim_scenario;
  std::string sim_omitted;  // what of the case the simulated scenario leaves out
};

// Runs a step-mode scenario with fresh agents started as `agents` assigns them; region files go in dir.
CaseResult run_step_case(const CaseDef& def, const Scenario& scenario, std::uint64_t seed,
                         const AgentAssignment& agents, const ScratchDir& dir,
                         std::uint32_t request_deadline_ms = 5'000);

}  // namespace indexbus::harness

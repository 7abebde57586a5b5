// `indexbus sim run` and `indexbus sim replay`: the simulator behind the CLI (conformance/cli
// parses the arguments). Exit codes as the CLI's: 0 ok, 1 failure found, 2 usage, 3 environment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace indexbus::sim {

struct RunArgs {
  std::string lane = "events";
  std::string policy;             // router / merge: "" = any of the three
  std::string on_full;            // "", "block", "drop" (generated scenarios; "" = either)
  std::string waiting;            // "", "park", "poll"
  std::optional<std::uint32_t> capacity_slots;
  std::uint32_t ops_max = 8;      // per actor, generated scenarios
  bool blocking_reads_only = false;
  std::string scenario;           // compact form; overrides generation
  std::string scenario_file;      // JSON; overrides generation
  std::string strategy = "random";
  std::uint32_t depth = 3;
  std::uint32_t preemption_bound = 2;
  std::uint64_t runs = 10'000;
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string time_budget;        // "60s", "2m", "500ms"; empty: none
  std::uint64_t steps_max = 1'000'000;
  bool shrink = true;
  std::string json_path;
  std::string memory = "weak";    // weak (the C++ memory model) or sc
  std::string barrier;            // membarrier or seq_cst; "": membarrier, or the plant's barrier
  std::string plant;              // test only: a planted ordering bug (plants.hpp); "list" prints them
};

struct ReplayArgs {
  std::string lane = "events";
  std::string scenario;
  std::string scenario_file;
  std::string schedule;
  std::uint64_t seed = 0;         // for the record; the schedule holds every choice
  std::uint64_t steps_max = 1'000'000;
  std::string json_path;
  bool quiet = false;             // no table
  std::string memory = "weak";
  std::string barrier;            // as RunArgs
  std::string plant;              // the planted ordering bug of the run being replayed
};

// What a run found, for callers that check rather than print (the conformance catalog's
// Required.<Kind>.Simulated.* cases).
struct RunSummary {
  std::uint64_t runs = 0;
  std::uint64_t steps = 0;
  double seconds = 0;
  std::uint64_t seed = 0;
  bool failed = false;
  std::string failure_kind;  // to_string(FailureKind)
  std::string message;
  std::string replay;         // the one-line replay command of the failure as found
  std::string replay_shrunk;  // and shrunk (empty when the failure was not deterministic)
};

// sim_run's exit code; with `summary`, also what it found; with quiet, nothing on stdout (usage
// errors still go to stderr).
int sim_run(const RunArgs& args, RunSummary* summary = nullptr, bool quiet = false);
int sim_replay(const ReplayArgs& args);
// `indexbus sim plants`: prints the plant catalog (plants.hpp).
int sim_plants();

}  // namespace indexbus::sim

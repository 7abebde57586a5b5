#include "sim_handoff_cmd.hpp"

#include <cstdio>

#include "exit_codes.hpp"

#ifdef INDEXBUS_WITH_SIM
#include "indexbus/sim/command.hpp"
#endif

namespace indexbus::cli {

std::optional<nlohmann::json> read_saved_failure(const std::string& path, const char* command, int& exit_code) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    std::fprintf(stderr, "%s: cannot open %s\n", command, path.c_str());
    exit_code = kExitEnvironment;
    return std::nullopt;
  }
  nlohmann::json saved = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  std::fclose(file);
  if (saved.is_discarded() || !saved.is_object()) {
    std::fprintf(stderr, "%s: %s is not a JSON object (expected failures/<ID>.json of a report)\n", command, path.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return saved;
}

int run_sim_handoff(const std::string& failure_path, std::uint64_t runs_per_strategy, const std::string& plant) {
  int exit_code = kExitOk;
  const auto read = read_saved_failure(failure_path, "indexbus replay --sim", exit_code);
  if (!read) return exit_code;
  const nlohmann::json& saved = *read;
  const auto sim = saved.find("sim");
  if (sim == saved.end() || !sim->is_object() || !sim->contains("lane") || !(*sim)["lane"].is_string() ||
      !sim->contains("scenario") || !(*sim)["scenario"].is_string()) {
    std::fprintf(stderr,
                 "indexbus replay --sim: %s: field \"sim\" is %s; expected {\"lane\": ..., \"scenario\": ...} (only batch cases "
                 "carry one)\n",
                 failure_path.c_str(), sim == saved.end() ? "missing" : sim->dump().c_str());
    return kExitUsage;
  }
#ifdef INDEXBUS_WITH_SIM
  const std::string lane = (*sim)["lane"].get<std::string>();
  const std::string scenario = (*sim)["scenario"].get<std::string>();
  std::printf("handing %s to the simulator: --lane %s --scenario '%s'\n",
              saved.value("id", std::string("the case")).c_str(), lane.c_str(), scenario.c_str());
  if (sim->contains("omitted") && (*sim)["omitted"].is_string() && !(*sim)["omitted"].get<std::string>().empty()) {
    std::printf("left out (the simulator runs operations, not processes): %s\n", (*sim)["omitted"].get<std::string>().c_str());
  }
  std::fflush(stdout);
  std::uint64_t schedules = 0;
  // PCT first (depth 3 finds most ordering bugs of a few operations), then a random walk; the
  // seed is fixed so that the hand-off itself replays.
  for (const char* strategy : {"pct", "random"}) {
    sim::RunArgs args;
    args.lane = lane;
    args.scenario = scenario;
    args.strategy = strategy;
    args.runs = runs_per_strategy;
    args.seed = 1;
    args.seed_given = true;
    args.plant = plant;
    const int code = sim::sim_run(args);
    if (code != kExitOk) return code;  // found (1; the table and replay line are printed), or usage
    schedules += runs_per_strategy;
  }
  std::printf("not reproduced in %llu schedules (the reference lane code passed every one)\n",
              static_cast<unsigned long long>(schedules));
  return kExitOk;
#else
  (void)runs_per_strategy;
  (void)plant;
  std::fprintf(stderr, "indexbus replay --sim: this indexbus was built without the simulator (INDEXBUS_BUILD_TESTS=OFF)\n");
  return kExitEnvironment;
#endif
}

}  // namespace indexbus::cli

// The `indexbus` command line.
//
// Exit codes (also in README.md and `indexbus --help`):
//   0  success
//   1  conformance failure: a property or rule failed, or a region failed validation
//   2  usage error: bad arguments; the one-line message says what was expected
//   3  environment error: missing file or directory, permissions, I/O, no /dev/shm
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/conformance/rule_suites.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/linearizability/checker.hpp"  // Options: the search bound --lin-configurations-max replaces
#ifdef INDEXBUS_WITH_SIM
#include "indexbus/sim/command.hpp"
#include "indexbus/sim/plants.hpp"
#endif
#include "indexbus/region.hpp"
#include "agent_path.hpp"
#include "certify_command.hpp"
#include "exit_codes.hpp"
#include "doctor_cmd.hpp"
#include "loop_cmd.hpp"
#include "sim_handoff_cmd.hpp"
#include "inspect.hpp"
#include "lane_arg.hpp"

namespace {

using indexbus::cli::kExitConformance;
using indexbus::cli::kExitEnvironment;
using indexbus::cli::kExitOk;
using indexbus::cli::kExitUsage;

// conform's default loop executable for the topology cases: this indexbus (its route/merge verbs).
constexpr const char* kSelfExe = "/proc/self/exe";

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 conformance failure (or invalid region), 2 usage error, 3 environment error.";

int exit_code_for(indexbus::ErrorCode code) {
  using indexbus::ErrorCode;
  switch (code) {
    case ErrorCode::Io:
    case ErrorCode::NotFound:
    case ErrorCode::AlreadyExists:
    case ErrorCode::SymlinkRefused:
    case ErrorCode::NotRegularFile:
    case ErrorCode::WrongOwner:
    case ErrorCode::WritableByOthers:
      return kExitEnvironment;
    case ErrorCode::BadPermissions:
    case ErrorCode::LaneIndexOutOfRange:
    case ErrorCode::WrongLaneKind:
      return kExitUsage;
    default:
      return kExitConformance;  // the region itself is not a valid v1 region
  }
}

int fail(const indexbus::Error& error) {
  std::fprintf(stderr, "indexbus: %s (%s)\n", error.message.c_str(),
               std::string(indexbus::to_string(error.code)).c_str());
  return exit_code_for(error.code);
}

bool directory_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int run_create(const std::string& path, const std::vector<std::string>& lane_args,
               const std::string& mode_text, const std::string& topology_file, bool prefault) {
  if (!topology_file.empty()) {
    if (!path.empty() || !lane_args.empty()) {
      std::fprintf(stderr, "indexbus create: --topology creates the file's regions; give no path or --lane with it\n");
      return kExitUsage;
    }
    return indexbus::cli::create_from_topology(topology_file, prefault);
  }
  if (path.empty() || lane_args.empty()) {
    std::fprintf(stderr, "indexbus create: give a path and at least one --lane, or --topology FILE\n");
    return kExitUsage;
  }
  std::vector<indexbus::LaneSpec> lanes;
  for (std::uint32_t i = 0; i < lane_args.size(); ++i) {
    auto lane = indexbus::cli::parse_lane_arg(lane_args[i], i);
    if (!lane.ok()) {
      std::fprintf(stderr, "indexbus create: %s\n", lane.error().message.c_str());
      return kExitUsage;
    }
    lanes.push_back(lane.value());
  }
  indexbus::CreateOptions options;
  options.prefault = prefault;
  if (mode_text == "0600") {
    options.mode = 0600;
  } else if (mode_text == "0660") {
    options.mode = 0660;
  } else {
    std::fprintf(stderr, "indexbus create: --mode '%s' is not 0600 or 0660\n", mode_text.c_str());
    return kExitUsage;
  }
  auto region = indexbus::Region::create(path, lanes, options);
  if (!region.ok()) return fail(region.error());
  std::printf("created %s: %zu lane(s), %llu bytes\n", path.c_str(), lanes.size(),
              static_cast<unsigned long long>(region->size_bytes()));
  return kExitOk;
}

int run_inspect(const std::string& path, bool json) {
  auto region = indexbus::Region::open(path, indexbus::OpenOptions{200'000'000});
  nlohmann::json report = region.ok() ? indexbus::cli::inspect_region(region.value())
                                      : indexbus::cli::inspect_error(path, region.error());
  indexbus::cli::add_liveness(report, path);
  if (json) {
    // replace: a byte that is not UTF-8 is never fatal, whatever a region holds (display_name escapes names first).
    std::printf("%s\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s%s", indexbus::cli::render_text(report).c_str(), indexbus::cli::render_liveness(report).c_str());
  }
  if (!region.ok()) return exit_code_for(region.error().code);
  for (const auto& lane : report["lanes"]) {
    if (lane.contains("state") && !lane["state"]["consistent"].get<bool>()) return kExitConformance;
  }
  return kExitOk;
}

int run_remove(const std::string& path) {
  auto removed = indexbus::Region::remove(path);
  if (!removed.ok()) return fail(removed.error());
  if (!removed.value()) {
    std::fprintf(stderr, "indexbus remove: %s: no such region file\n", path.c_str());
    return kExitEnvironment;
  }
  return kExitOk;
}

int run_rule_suite(const std::string& lane, std::uint64_t seed, bool seed_given, std::uint64_t runs,
                   std::uint32_t ops, const std::string& region_dir) {
  const indexbus::conformance::RuleSuite* suite = indexbus::conformance::find_rule_suite(lane);
  if (suite == nullptr) {
    std::string known;
    for (const auto& s : indexbus::conformance::rule_suites()) known += (known.empty() ? "" : ", ") + std::string(s.lane);
    std::fprintf(stderr, "indexbus conform: --lane %s has no per-rule suite (suites: %s)\n", lane.c_str(), known.c_str());
    return kExitUsage;
  }
  if (!directory_exists(region_dir)) {
    std::fprintf(stderr, "indexbus conform: region directory %s does not exist (need tmpfs, e.g. /dev/shm)\n",
                 region_dir.c_str());
    return kExitEnvironment;
  }
  if (!seed_given) seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  indexbus::conformance::SuiteOptions options;
  options.seed = seed;
  options.runs = runs;
  options.ops_per_run = ops;
  options.region_dir = region_dir;
  std::printf("indexbus conform: %s per-rule suite, seed %llu, %llu runs x %u ops\n", lane.c_str(),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(runs), ops);
  std::fflush(stdout);
  indexbus::conformance::SuiteReport report;
  try {
    report = suite->run(options);
  } catch (const indexbus::conformance::SetupError& e) {
    std::fprintf(stderr, "indexbus conform: cannot set up a lane: %s\n", e.what());
    return kExitEnvironment;
  }
  std::size_t passed = 0;
  std::size_t failed = 0;
  for (const auto& rule : report.rules) {
    const bool ok = rule.failures == 0 && rule.checks > 0;
    (ok ? passed : failed) += 1;
    std::printf("%s  %-7s %-52s %llu checks\n", ok ? "PASS" : "FAIL", rule.rule_id.c_str(),
                rule.title.c_str(), static_cast<unsigned long long>(rule.checks));
    if (rule.checks == 0) std::printf("      never exercised: raise --runs\n");
    if (rule.failures != 0) {
      std::printf("      %llu failure(s); first: %s\n", static_cast<unsigned long long>(rule.failures),
                  rule.first_failure.c_str());
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  std::printf("seed %llu; replay: %s\n", static_cast<unsigned long long>(seed),
              report.replay_command.c_str());
  return report.passed && failed == 0 ? kExitOk : kExitConformance;
}


// The agent next to this executable: build/<preset>/bin/indexbus-agent.
using indexbus::cli::default_agent_path;

struct ConformArgs {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::vector<std::string> case_globs;
  double time_budget_s = 110;
  std::uint32_t jobs = 2;
  std::string report_dir = "indexbus-conform-report";
  bool list = false;
  std::string agent;
  std::vector<std::string> agent_args;
  std::vector<std::string> consumer_agent_argv;  // a saved interop failure's consumers; empty: agent
  std::string loop;  // topology cases: whose route/merge run the loops (default: this executable)
  std::vector<std::string> loop_args;
  std::string region_dir;
  bool allow_inconclusive = false;          // a REQUIRED case ending INCONCLUSIVE does not fail the run
  std::uint64_t lin_configurations_max = 0;  // diagnostic bound of the batch cases' search; 0: default
  double sim_seconds = 0;                     // Simulated cases: a time box each; 0: their fixed schedules
  std::string sim_plant;                      // test only: a planted ordering bug for the Simulated cases
};

int list_cases(const std::vector<const indexbus::harness::CaseDef*>& cases) {
  for (const auto* def : cases) {
    std::string rules;
    for (const auto& rule : def->rules) rules += (rules.empty() ? "" : ",") + rule;
    std::printf("%-62s %-13s %-8s %s\n", def->id.c_str(), indexbus::harness::to_string(def->level).c_str(),
                def->make_scenario || def->make_ring || def->run_with_agents ? "step" : def->make_batch || def->make_lin_batch ? "batch" : "process",
                rules.c_str());
  }
  std::printf("%zu case(s)\n", cases.size());
  return kExitOk;
}

int run_catalog(ConformArgs args) {
  namespace h = indexbus::harness;
  const auto cases = h::select_cases(args.case_globs);
  if (cases.empty()) {
    std::fprintf(stderr, "indexbus conform: no case matches --cases (see indexbus conform --list)\n");
    return kExitUsage;
  }
  if (args.list) return list_cases(cases);
  if (!directory_exists(args.region_dir)) {
    std::fprintf(stderr, "indexbus conform: region directory %s does not exist (need tmpfs, e.g. /dev/shm)\n",
                 args.region_dir.c_str());
    return kExitEnvironment;
  }
  if (args.agent.empty()) args.agent = default_agent_path();
  if (::access(args.agent.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "indexbus conform: agent %s is not an executable file (--agent)\n", args.agent.c_str());
    return kExitEnvironment;
  }
  if (!args.seed_given) args.seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  if (!args.sim_plant.empty()) {
#ifdef INDEXBUS_WITH_SIM
    if (indexbus::sim::find_plant(args.sim_plant) == nullptr) {
      std::fprintf(stderr, "indexbus conform: --sim-plant '%s': no such plant; expected one of %s\n",
                   args.sim_plant.c_str(), indexbus::sim::plant_names().c_str());
      return kExitUsage;
    }
#else
    std::fprintf(stderr, "indexbus conform: --sim-plant: this indexbus was built without the simulator\n");
    return kExitUsage;
#endif
  }

  h::ConformOptions options;
  options.case_globs = args.case_globs;
  options.seed = args.seed;
  options.jobs = args.jobs;
  options.time_budget_ms = static_cast<std::uint64_t>(args.time_budget_s * 1000);
  options.region_dir = args.region_dir;
  options.agent_argv.push_back(args.agent);
  for (const auto& arg : args.agent_args) options.agent_argv.push_back(arg);
  options.consumer_agent_argv = args.consumer_agent_argv;
  // Topology cases run this executable's route/merge, with the reference agent as producers and consumers.
  options.loop_argv = {args.loop.empty() ? std::string(kSelfExe) : args.loop};
  options.loop_argv.insert(options.loop_argv.end(), args.loop_args.begin(), args.loop_args.end());
  options.reference_agent_argv = {default_agent_path()};
  options.allow_inconclusive = args.allow_inconclusive;
  options.lin_configurations_max = args.lin_configurations_max;
  options.sim_seconds = args.sim_seconds;
  options.sim_plant = args.sim_plant;
  options.replay_prefix = "indexbus conform";
  if (args.agent != default_agent_path()) options.replay_prefix += " --agent " + args.agent;
  for (const auto& arg : args.agent_args) options.replay_prefix += " --agent-arg " + arg;
  if (!args.loop.empty()) options.replay_prefix += " --loop " + args.loop;
  for (const auto& arg : args.loop_args) options.replay_prefix += " --loop-arg=" + arg;
  if (args.lin_configurations_max != 0) options.replay_prefix += " --lin-configurations-max " + std::to_string(args.lin_configurations_max);
  if (!args.sim_plant.empty()) options.replay_prefix += " --sim-plant " + args.sim_plant;

  std::printf("indexbus conform: %zu case(s), seed %llu, agent %s, %u job(s)\n", cases.size(),
              static_cast<unsigned long long>(options.seed), args.agent.c_str(), options.jobs);
  std::fflush(stdout);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  h::ConformReport report;
  try {
    report = h::run_conform(options, cases, [&](const h::CaseResult& result, std::size_t done, std::size_t total) {
      if (!tty) return;
      const std::size_t width = 30;
      const std::size_t filled = done * width / total;
      std::fprintf(stderr, "\r[%s%s] %zu/%zu %-60.60s", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), done, total, result.id.c_str());
      if (done == total) std::fprintf(stderr, "\r%*s\r", 110, "");
    });
  } catch (const indexbus::conformance::SetupError& e) {
    std::fprintf(stderr, "indexbus conform: %s\n", e.what());
    return kExitEnvironment;
  }

  for (const auto& result : report.cases) {
    std::string rules;
    for (const auto& rule : result.rules) rules += (rules.empty() ? "" : " ") + rule;
    std::printf("%-7s %-13s %-62s %6.2fs  %s\n", h::to_string(result.outcome).c_str(), h::to_string(result.level).c_str(),
                result.id.c_str(), result.duration_s, rules.size() > 40 ? (rules.substr(0, 37) + "...").c_str() : rules.c_str());
    if (result.outcome != h::Outcome::Pass) {
      std::printf("        %s\n", result.detail.c_str());
      if (result.outcome != h::Outcome::Skip) {
        std::printf("        replay: %s\n", h::replay_command(options, result).c_str());
        if (result.timing_dependent) std::printf("        %s\n", h::replay_caveat(result).c_str());
      }
    }
  }
  std::printf("%s in %.1f s; seed %llu\n", h::outcome_counts_text(report).c_str(), report.duration_s,
              static_cast<unsigned long long>(options.seed));
  std::size_t timing_cases = 0;
  std::size_t timing_not_passed = 0;
  for (const auto& result : report.cases) {
    timing_cases += result.timing_dependent;
    timing_not_passed += result.timing_dependent && result.outcome != h::Outcome::Pass && result.outcome != h::Outcome::Skip;
  }
  if (timing_cases > 0) {
    std::printf("%zu of the cases are timing-dependent (batch and topology: the seed does not fix their interleaving), "
                "%zu of them not passed\n", timing_cases, timing_not_passed);
  }
  if (const std::size_t inconclusive = h::required_inconclusive(report); inconclusive > 0) {
    std::printf(args.allow_inconclusive
                    ? "%zu REQUIRED case(s) INCONCLUSIVE: allowed by --allow-inconclusive, but not passed\n"
                    : "%zu REQUIRED case(s) INCONCLUSIVE: the run fails (--allow-inconclusive accepts them)\n",
                inconclusive);
  }
  if (auto error = h::write_report(report, options, args.report_dir)) {
    std::fprintf(stderr, "indexbus conform: %s\n", error->c_str());
    return kExitEnvironment;
  }
  std::printf("report: %s/index.json, %s/junit.xml, %s/report.html\n", args.report_dir.c_str(), args.report_dir.c_str(),
              args.report_dir.c_str());
  for (const auto& result : report.cases) {
    if (result.outcome == h::Outcome::Pass || result.outcome == h::Outcome::Skip) continue;
    std::printf("saved: indexbus replay %s/failures/%s.json\n", args.report_dir.c_str(), result.id.c_str());
    if (!result.sim_scenario.empty()) {
      std::printf("  search the interleaving in the simulator: indexbus replay %s/failures/%s.json --sim\n", args.report_dir.c_str(),
                  result.id.c_str());
    }
  }
  return h::run_failed(report) ? kExitConformance : kExitOk;
}

// Runs the case saved in a report's failures/<ID>.json again: same case, run seed and agent.
int run_replay(const std::string& path, const std::string& report_dir, const std::string& region_dir) {
  int exit_code = kExitOk;
  const auto read = indexbus::cli::read_saved_failure(path, "indexbus replay", exit_code);
  if (!read) return exit_code;
  const nlohmann::json& saved = *read;
  if (!saved.contains("id") || !saved["id"].is_string() ||
      !saved.contains("run_seed") || !saved["run_seed"].is_number_unsigned() || !saved.contains("agent") ||
      !saved["agent"].is_array() || saved["agent"].empty()) {
    std::fprintf(stderr, "indexbus replay: %s is not a saved failure (failures/<ID>.json of a report)\n", path.c_str());
    return kExitUsage;
  }
  ConformArgs args;
  args.case_globs = {saved["id"].get<std::string>()};
  args.seed = saved["run_seed"].get<std::uint64_t>();
  args.seed_given = true;
  args.jobs = 1;
  args.report_dir = report_dir;
  args.region_dir = region_dir;
  // A saved command line: an array of strings.
  auto words_of = [&](const char* key) -> std::optional<std::vector<std::string>> {
    const nlohmann::json& value = saved[key];
    if (!value.is_array()) return std::nullopt;
    std::vector<std::string> words;
    for (const auto& word : value) {
      if (!word.is_string()) return std::nullopt;
      words.push_back(word.get<std::string>());
    }
    return words;
  };
  const auto agent = words_of("agent");
  if (!agent) return kExitUsage;
  args.agent = agent->front();
  args.agent_args.assign(agent->begin() + 1, agent->end());
  if (saved.contains("loop")) {  // the route/merge executable of the topology cases
    const auto loop = words_of("loop");
    if (!loop || loop->empty()) return kExitUsage;
    // conform's default loop (this indexbus) is what --loop left empty means too.
    if (loop->front() != kSelfExe) args.loop = loop->front();
    args.loop_args.assign(loop->begin() + 1, loop->end());
  }
  if (saved.contains("lin_configurations_max")) {  // the search bound that left the case INCONCLUSIVE
    if (!saved["lin_configurations_max"].is_number_unsigned()) return kExitUsage;
    args.lin_configurations_max = saved["lin_configurations_max"].get<std::uint64_t>();
  }
  if (saved.contains("consumer_agent")) {  // an interop failure of indexbus certify
    const auto consumer = words_of("consumer_agent");
    if (!consumer) return kExitUsage;
    args.consumer_agent_argv = *consumer;
  }
  return run_catalog(std::move(args));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"indexbus: create, inspect and check IndexBus v1 shared-memory regions"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);

  auto* create = app.add_subcommand("create", "Create a region file exclusively (never reuses one)");
  std::string create_path;
  std::vector<std::string> lane_args;
  std::string mode_text = "0600";
  create->add_option("path", create_path, "Region file, e.g. /dev/shm/my-region (not with --topology)");
  std::string create_topology;
  bool create_prefault = false;
  create->add_option("--topology", create_topology, "Create every region of this topology file (spec/topology.md)");
  create->add_flag("--prefault", create_prefault, "Commit every page now, so a full tmpfs fails here, not as SIGBUS later");
  create->add_option("--lane", lane_args,
                     "Lane as KIND:key=value,... with KIND events, journal, sequenced_slots or "
                     "fanout_broadcast, e.g. events:capacity=1024,slot=64,on_full=block or "
                     "sequenced_slots:readers=3,gates=1<0/2<1 (keys: capacity, slot, on_full, readers, "
                     "timeout_ns (journal reader timeout), gates (sequenced_slots: consumer<upstream+...)); "
                     "repeat for more lanes");
  create->add_option("--mode", mode_text, "File permissions: 0600 (default) or 0660");

  auto* inspect = app.add_subcommand("inspect", "Validate a region and show its header, lanes, counters and cursors");
  std::string inspect_path;
  bool json = false;
  inspect->add_option("path", inspect_path, "Region file")->required();
  inspect->add_flag("--json", json, "Print JSON instead of text");

  auto* remove = app.add_subcommand("remove", "Remove a region file");
  std::string remove_path;
  remove->add_option("path", remove_path, "Region file")->required();

  auto* conform = app.add_subcommand(
      "conform",
      "Check an implementation against the executable model: the case catalog, run in agent processes "
      "(step mode) and in process. A REQUIRED case that fails, crashes, times out or ends INCONCLUSIVE (a "
      "linearizability check stopped at its bound) makes the exit status 1.");
  ConformArgs conform_args;
  conform_args.region_dir = indexbus::kDefaultRegionDirectory;
  std::uint64_t runs = 200;
  std::uint32_t ops = 200;
  bool rule_suite = false;
  std::string suite_lane = "events";
  auto* seed_option = conform->add_option("--seed", conform_args.seed, "Seed (printed when chosen at random)");
  conform->add_option("--cases", conform_args.case_globs, "Only cases whose ID matches this glob (repeatable), e.g. 'Required.Events.Drop.*'");
  conform->add_flag("--list", conform_args.list, "Print the catalog (ID, level, mode, rule IDs) and exit");
  conform->add_option("--time-budget", conform_args.time_budget_s, "Seconds; cases not started by then are SKIP")
      ->check(CLI::Range(1.0, 86400.0));
  conform->add_option("--jobs", conform_args.jobs, "Cases run in parallel")->check(CLI::Range(1, 64));
  conform->add_option("--report", conform_args.report_dir, "Report folder (index.json, junit.xml, failures/)");
  conform->add_option("--agent", conform_args.agent, "Agent executable (default: indexbus-agent next to indexbus)");
  conform->add_option("--agent-arg", conform_args.agent_args, "Argument for the agent (repeatable)");
  conform->add_option("--loop", conform_args.loop,
                      "Executable whose route/merge subcommands run the topology cases' routers and merges (default: this indexbus)");
  conform->add_option("--loop-arg", conform_args.loop_args, "Argument for --loop, before route/merge (repeatable)");
  conform->add_flag("--rule-suite", rule_suite,
                    "Run only the in-process per-rule suite and print one line per rule (the pre-catalog output)");
  conform->add_option("--lane", suite_lane, "--rule-suite: events, journal, sequenced_slots or fanout_broadcast");
  conform->add_option("--runs", runs, "--rule-suite: random operation sequences to run")->check(CLI::Range(1, 1'000'000));
  conform->add_option("--ops", ops, "--rule-suite: operations per sequence")->check(CLI::Range(1, 100'000));
  conform->add_option("--region-dir", conform_args.region_dir, "Directory for scratch regions (tmpfs)");
  conform->add_flag("--allow-inconclusive", conform_args.allow_inconclusive,
                    "A REQUIRED case ending INCONCLUSIVE does not make the exit status 1 (it is still reported, never as PASS)");
  conform->add_option("--sim-seconds", conform_args.sim_seconds,
                      "Required.<Kind>.Simulated cases: explore each for S seconds instead of its fixed number of schedules (a soak; "
                      "the verdict then depends on the machine's speed)")
      ->check(CLI::Range(0.01, 3600.0));
  conform->add_option("--sim-plant", conform_args.sim_plant,
                      "Test only: plant this ordering bug (indexbus sim plants) into the Simulated cases, which must "
                      "then fail");
  conform->add_option("--lin-configurations-max", conform_args.lin_configurations_max,
                      "Diagnostic: bound each batch case's linearizability search to N configurations (default " +
                          std::to_string(indexbus::linearizability::Options{}.configurations_max) +
                          "); a case the search leaves undecided ends INCONCLUSIVE")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));

  auto* replay = app.add_subcommand("replay", "Run a failed case again from its saved scenario (report failures/<ID>.json)");
  std::string replay_path;
  std::string replay_report = "indexbus-replay-report";
  std::string replay_region_dir = indexbus::kDefaultRegionDirectory;
  replay->add_option("file", replay_path, "A failures/<ID>.json file of an indexbus conform report")->required();
  replay->add_option("--report", replay_report, "Report folder for the replay");
  replay->add_option("--region-dir", replay_region_dir, "Directory for scratch regions (tmpfs)");
  bool replay_sim = false;
  std::uint64_t replay_sim_runs = indexbus::cli::kHandoffRunsDefault;
  replay->add_flag("--sim", replay_sim, "Batch cases: search for the failure in the simulator (reference lane code) instead");
  replay->add_option("--sim-runs", replay_sim_runs, "--sim: schedules per strategy (PCT, then random)")
      ->check(CLI::Range(1ull, 10'000'000ull));
  std::string replay_sim_plant;
  replay->add_option("--sim-plant", replay_sim_plant,
                     "TEST ONLY, --sim: search with this planted ordering bug in the lane code (indexbus sim plants)");

  indexbus::cli::CertifyCommand certify(app);

  const auto doctor_commands = indexbus::cli::register_doctor(app);
  const auto loop_commands = indexbus::cli::register_loops(app);
  for (auto* sub : {create, inspect, remove, conform, replay}) sub->footer(kExitCodesHelp);

#ifdef INDEXBUS_WITH_SIM
  auto* sim = app.add_subcommand("sim", "Run the lanes under the deterministic simulator, or replay a failure");
  sim->require_subcommand(1);
  sim->footer(kExitCodesHelp);
  indexbus::sim::RunArgs sim_run_args;
  auto* sim_run = sim->add_subcommand("run", "Explore schedules and check every run against the model");
  sim_run->add_option("--lane", sim_run_args.lane, "Lane kind: events, journal, sequenced_slots or fanout_broadcast; or router or merge");
  sim_run->add_option("--policy", sim_run_args.policy, "router: round_robin, key_hash, broadcast; merge: round_robin, sequence, arrival (default: any)");
  sim_run->add_option("--on-full", sim_run_args.on_full, "block or drop (default: both)");
  sim_run->add_option("--waiting", sim_run_args.waiting, "park (futex path) or poll (default: both)");
  sim_run->add_option("--capacity", sim_run_args.capacity_slots, "Capacity in slots (default: 1, 2 or 4)");
  sim_run->add_option("--ops", sim_run_args.ops_max, "Operations per actor in generated scenarios")
      ->check(CLI::Range(1, 1000));
  sim_run->add_flag("--blocking-reads", sim_run_args.blocking_reads_only,
                    "Generated consumers use only blocking reads without a deadline");
  sim_run->add_option("--scenario", sim_run_args.scenario, "A scenario in compact form instead of generated ones");
  sim_run->add_option("--scenario-file", sim_run_args.scenario_file, "A scenario as JSON instead of generated ones");
  sim_run->add_option("--strategy", sim_run_args.strategy, "random, pct or exhaustive");
  sim_run->add_option("--depth", sim_run_args.depth, "PCT depth (priority change points + 1)");
  sim_run->add_option("--preemptions", sim_run_args.preemption_bound, "Exhaustive: preemption bound");
  sim_run->add_option("--runs", sim_run_args.runs, "Schedules to run")->check(CLI::Range(1ull, 1'000'000'000ull));
  auto* sim_seed = sim_run->add_option("--seed", sim_run_args.seed, "Seed (printed when chosen at random)");
  sim_run->add_option("--time-budget", sim_run_args.time_budget, "Stop after this long, e.g. 60s");
  sim_run->add_option("--steps-max", sim_run_args.steps_max, "Step budget per run");
  sim_run->add_flag("!--no-shrink", sim_run_args.shrink, "Report the failure as found, without shrinking");
  sim_run->add_option("--json", sim_run_args.json_path, "Also write the failure and its table to this file");
  sim_run->add_option("--memory", sim_run_args.memory,
                      "weak (default: the C++ memory model, every load may read an older store) or sc "
                      "(sequential consistency)");
  sim_run->add_option("--barrier", sim_run_args.barrier,
                      "membarrier (default: RealPlatform with membarrier(2)) or seq_cst (its fallback; the default "
                      "of a --plant that lives there)");
  sim_run->add_option("--plant", sim_run_args.plant,
                      "TEST ONLY: run the lane with a planted ordering bug, one memory order too weak; "
                      "list (or indexbus sim plants) prints them");
  indexbus::sim::ReplayArgs sim_replay_args;
  auto* sim_replay = sim->add_subcommand("replay", "Replay one schedule and print its interleaving table");
  sim_replay->add_option("--lane", sim_replay_args.lane, "Lane kind: events, journal, sequenced_slots or fanout_broadcast; or router or merge");
  sim_replay->add_option("--scenario", sim_replay_args.scenario, "The scenario in compact form");
  sim_replay->add_option("--scenario-file", sim_replay_args.scenario_file, "The scenario as JSON");
  sim_replay->add_option("--schedule", sim_replay_args.schedule, "The schedule string")->required();
  sim_replay->add_option("--seed", sim_replay_args.seed, "The seed of the run (for the record)");
  sim_replay->add_option("--steps-max", sim_replay_args.steps_max, "Step budget");
  sim_replay->add_option("--json", sim_replay_args.json_path, "Also write the table to this file");
  sim_replay->add_flag("--quiet", sim_replay_args.quiet, "No table");
  sim_replay->add_option("--memory", sim_replay_args.memory, "weak (default) or sc");
  sim_replay->add_option("--barrier", sim_replay_args.barrier,
                         "membarrier (default) or seq_cst (the default of a --plant that lives there)");
  sim_replay->add_option("--plant", sim_replay_args.plant, "TEST ONLY: the planted ordering bug of the run");
  auto* sim_plants = sim->add_subcommand("plants", "TEST ONLY: list the planted ordering bugs that --plant takes");
  for (auto* sub : {sim_run, sim_replay, sim_plants}) sub->footer(kExitCodesHelp);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "indexbus: %s (see indexbus --help)\n", e.what());
    return kExitUsage;
  }
  if (create->parsed()) return run_create(create_path, lane_args, mode_text, create_topology, create_prefault);
  for (const auto& command : doctor_commands) {
    if (command.sub->parsed()) return command.run();
  }
  for (const auto& command : loop_commands) {
    if (command.sub->parsed()) return command.run();
  }
  if (inspect->parsed()) return run_inspect(inspect_path, json);
  if (remove->parsed()) return run_remove(remove_path);
  if (certify.parsed()) return certify.run();
  if (replay->parsed() && replay_sim) return indexbus::cli::run_sim_handoff(replay_path, replay_sim_runs, replay_sim_plant);
  if (replay->parsed()) return run_replay(replay_path, replay_report, replay_region_dir);
  if (conform->parsed()) {
    conform_args.seed_given = seed_option->count() > 0;
    if (rule_suite) {
      return run_rule_suite(suite_lane, conform_args.seed, conform_args.seed_given, runs, ops, conform_args.region_dir);
    }
    return run_catalog(std::move(conform_args));
  }
#ifdef INDEXBUS_WITH_SIM
  if (sim_run->parsed()) {
    sim_run_args.seed_given = sim_seed->count() > 0;
    return indexbus::sim::sim_run(sim_run_args);
  }
  if (sim_replay->parsed()) return indexbus::sim::sim_replay(sim_replay_args);
  if (sim_plants->parsed()) return indexbus::sim::sim_plants();
#endif
  return kExitUsage;
}

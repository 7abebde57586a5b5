// The `indexbus` command line.
//
// Exit codes (also in README.md and `indexbus --help`):
//   0  success
//   1  conformance failure: a property or rule failed, or a region failed validation
//   2  usage error: bad arguments; the one-line message says what was expected
//   3  environment error: missing file or directory, permissions, I/O, no /dev/shm
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/region.hpp"
#include "inspect.hpp"
#include "lane_arg.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitConformance = 1;
constexpr int kExitUsage = 2;
constexpr int kExitEnvironment = 3;

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
               const std::string& mode_text) {
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
  const nlohmann::json report = region.ok() ? indexbus::cli::inspect_region(region.value())
                                            : indexbus::cli::inspect_error(path, region.error());
  if (json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("%s", indexbus::cli::render_text(report).c_str());
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

int run_conform(std::uint64_t seed, bool seed_given, std::uint64_t runs, std::uint32_t ops,
                const std::string& region_dir) {
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
  std::printf("indexbus conform: events property suite, seed %llu, %llu runs x %u ops\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(runs), ops);
  std::fflush(stdout);
  indexbus::conformance::SuiteReport report;
  try {
    report = indexbus::conformance::run_events_suite(options);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"indexbus: create, inspect and check IndexBus v1 shared-memory regions"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);

  auto* create = app.add_subcommand("create", "Create a region file exclusively (never reuses one)");
  std::string create_path;
  std::vector<std::string> lane_args;
  std::string mode_text = "0600";
  create->add_option("path", create_path, "Region file, e.g. /dev/shm/my-region")->required();
  create->add_option("--lane", lane_args,
                     "Lane as KIND:key=value,... with KIND events, journal, sequenced_slots or "
                     "fanout_broadcast, e.g. events:capacity=1024,slot=64,on_full=block or "
                     "sequenced_slots:readers=3,gates=1<0/2<1 (keys: capacity, slot, on_full, readers, "
                     "timeout_ns (journal reader timeout), gates (sequenced_slots: consumer<upstream+...)); "
                     "repeat for more lanes")
      ->required();
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
      "conform", "Check the built-in implementation against the executable model, per rule ID");
  std::uint64_t seed = 0;
  std::uint64_t runs = 200;
  std::uint32_t ops = 200;
  std::string region_dir = indexbus::kDefaultRegionDirectory;
  auto* seed_option = conform->add_option("--seed", seed, "Seed (printed when chosen at random)");
  conform->add_option("--runs", runs, "Random operation sequences to run")->check(CLI::Range(1, 1'000'000));
  conform->add_option("--ops", ops, "Operations per sequence")->check(CLI::Range(1, 100'000));
  conform->add_option("--region-dir", region_dir, "Directory for scratch regions (tmpfs)");

  for (auto* sub : {create, inspect, remove, conform}) sub->footer(kExitCodesHelp);

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
  if (create->parsed()) return run_create(create_path, lane_args, mode_text);
  if (inspect->parsed()) return run_inspect(inspect_path, json);
  if (remove->parsed()) return run_remove(remove_path);
  if (conform->parsed()) return run_conform(seed, seed_option->count() > 0, runs, ops, region_dir);
  return kExitUsage;
}

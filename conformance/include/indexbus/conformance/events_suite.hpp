// The Events conformance suite: many random operation sequences, each on a fresh lane, every
// step compared with the model; the outcome reported per rule ID (spec/v1-semantics.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/conformance/lane_under_test.hpp"

namespace indexbus::conformance {

struct RuleOutcome {
  std::string rule_id;
  std::string title;
  std::uint64_t checks = 0;
  std::uint64_t failures = 0;
  std::string first_failure;  // run, config, op index, op, expected vs got
};

struct SuiteOptions {
  std::uint64_t seed = 0;
  std::uint64_t runs = 200;
  std::uint32_t ops_per_run = 200;
  std::string region_dir = "/dev/shm";
  // Deadline of blocking calls, from the call. Sequentially a blocking call either proceeds at
  // once or must time out, so this only sets what each predicted Timeout costs.
  std::uint64_t blocking_timeout_ns = 200'000;
};

struct SuiteReport {
  std::uint64_t seed = 0;
  std::uint64_t runs = 0;
  std::vector<RuleOutcome> rules;  // every rule the suite checks, in rule order
  bool passed = false;             // no check failed
  std::string replay_command;      // rule_suite_replay_command(...)
  std::uint64_t ops = 0;           // operations executed, drain included
  std::uint64_t failed_runs = 0;   // runs stopped at their first mismatch
};

// Run i uses a lane from factory for a config drawn from the seed: Block on even runs, Drop on
// odd ones, capacity 1, 2, 4, 8 or 64, slot 8, 16, 64 or 1024 bytes. It executes ops_per_run
// random operations, then closes and drains the lane. A run stops at its first mismatch (the
// lane and the model have diverged; later comparisons would only repeat it). Deterministic for
// a seed. Throws SetupError when a lane cannot be made.
SuiteReport run_events_suite(const SuiteOptions& options, const LaneFactory& factory = real_lane_factory());

// "indexbus conform --rule-suite --lane <lane> --seed S --runs N [--ops M] [--region-dir D]": the
// one-line replay of a per-rule suite run, for every lane kind's suite.
std::string rule_suite_replay_command(std::string_view lane, const SuiteOptions& options);

// The report as text, one line per rule, then the replay command.
std::string format_report(const SuiteReport& report);

}  // namespace indexbus::conformance

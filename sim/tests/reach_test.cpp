// Every simulated lane kind's generator reaches every entry point, option, notable outcome and
// rule ID of its catalogue (reach.hpp) within a modest budget; a generator that never produces
// something leaves the lane code behind it unexplored, and bugs there pass `indexbus sim run`.
// The check can fail: a generator narrowed on purpose is reported as missing exactly what it lacks.
//
// Every exploration prints its seed and the CLI command that repeats it (its output ends with the
// same reach report); set INDEXBUS_SIM_SEED to run with another seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/loop_adapter.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;

// Release budgets of a few seconds per lane at most (Journal, the slowest, explores about
// 1 000 schedules/s; Events about 50 000).
constexpr std::uint64_t kRuns = 3000;
// As `indexbus sim run` generates by default (RunArgs::ops_max), so the printed command repeats it.
constexpr std::uint32_t kOpsMax = 8;

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SIM_SEED")) return std::strtoull(text, nullptr, 10);
  return 20261207;
}

struct Explored {
  reach::Counts counts;
  std::uint64_t runs = 0;
};

template <typename A, typename Generate>
Explored explore(const std::string& lane, bool blocking_reads_only, const Generate& generate) {
  ExploreOptions o;
  o.strategy = StrategyKind::Random;
  o.runs = kRuns;
  o.seed = test_seed();
  o.shrink = false;
  std::cout << "seed " << o.seed << "; repeat with: indexbus sim run --lane " << lane << " --strategy random --runs "
            << kRuns << " --seed " << o.seed << " --ops " << kOpsMax << (blocking_reads_only ? " --blocking-reads" : "")
            << "\n";
  Explorer<A> explorer;
  const auto report = explorer.explore(std::nullopt, generate, o);
  if (report.failure) {
    // Not this test's subject (the lane tests judge failures), but what is reached stops with it.
    std::cout << "exploration stopped at a failure after " << report.runs << " runs: "
              << to_string(report.failure->kind) << ": " << report.failure->message << "\n";
  }
  std::cout << reach::describe(lane, report.reach);
  return {report.reach, report.runs};
}

// The generator-driven exploration of `indexbus sim run --lane <lane>` with default options.
Explored explore_lane(const std::string& lane, bool blocking_reads_only = false) {
  if (lane == "events") {
    events::GenParams p;
    p.ops_max = kOpsMax;
    p.blocking_reads_only = blocking_reads_only;
    return explore<events::RealAdapter>(lane, blocking_reads_only,
                                        [p](std::uint64_t seed) { return events::generate(seed, p); });
  }
  if (const auto kind = ring::parse_ring_kind(lane)) {
    ring::GenParams p;
    p.kind = *kind;
    p.ops_max = kOpsMax;
    p.blocking_reads_only = blocking_reads_only;
    return explore<ring::RealAdapter>(lane, blocking_reads_only,
                                      [p](std::uint64_t seed) { return ring::generate(seed, p); });
  }
  const auto kind = loops::parse_loop_kind(lane);
  EXPECT_TRUE(kind.has_value()) << lane;
  loops::GenParams p;
  p.kind = kind.value_or(loops::LoopKind::Router);
  p.ops_max = kOpsMax;
  return explore<loops::RealAdapter>(lane, false, [p](std::uint64_t seed) { return loops::generate(seed, p); });
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(nothing)" : out;
}

class Reach : public ::testing::TestWithParam<std::string> {};

TEST_P(Reach, GeneratorReachesEveryEntryPointAndRule) {
  const std::string lane = GetParam();
  ASSERT_FALSE(reach::catalogue(lane).empty());
  const Explored explored = explore_lane(lane);
  const auto missing = reach::never_reached(lane, explored.counts);
  EXPECT_TRUE(missing.empty()) << lane << ", " << explored.runs << " runs of generated scenarios, never reached: "
                               << join(missing);
}

INSTANTIATE_TEST_SUITE_P(Lanes, Reach,
                         ::testing::Values("events", "journal", "fanout_broadcast", "sequenced_slots", "router", "merge"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// Blocking reads only (`--blocking-reads`): no try_read and no deadline, so neither Empty nor a read
// Timeout. The report must name exactly those, beyond what the full generator misses (the same
// seed and budget), and a rule only they exercise (Events: EV-13).
struct Narrowed {
  std::string lane;
  std::vector<std::string> lacks;
};

class NarrowedReach : public ::testing::TestWithParam<Narrowed> {};

TEST_P(NarrowedReach, ReportsExactlyWhatTheGeneratorLacks) {
  const Narrowed& n = GetParam();
  std::vector<std::string> expected = reach::never_reached(n.lane, explore_lane(n.lane).counts);
  for (const std::string& name : n.lacks) {
    if (std::find(expected.begin(), expected.end(), name) == expected.end()) expected.push_back(name);
  }
  std::vector<std::string> missing = reach::never_reached(n.lane, explore_lane(n.lane, true).counts);
  std::sort(expected.begin(), expected.end());
  std::sort(missing.begin(), missing.end());
  EXPECT_EQ(missing, expected) << "never reached: " << join(missing) << "; expected: " << join(expected);
}

INSTANTIATE_TEST_SUITE_P(
    BlockingReadsOnly, NarrowedReach,
    ::testing::Values(
        Narrowed{"events", {"try_read", "read (deadline)", "try_read -> Empty", "read -> Timeout", "EV-13"}},
        Narrowed{"fanout_broadcast", {"try_read", "read (deadline)", "try_read -> Empty", "read -> Timeout"}}),
    [](const ::testing::TestParamInfo<Narrowed>& param_info) { return param_info.param.lane; });

}  // namespace

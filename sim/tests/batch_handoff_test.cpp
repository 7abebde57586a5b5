// A batch case handed to the simulator (issue 5): the scenario that harness/sim_handoff.hpp makes
// of a batch case's lane spec and scripts parses as a simulator scenario, and the explorer, PCT
// then random with a bounded budget (as `indexbus replay FILE --sim` runs it), reproduces a
// failure with a broken lane variant (broken_rings.hpp) and none with the real lane code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "broken_rings.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/harness/sim_handoff.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;

constexpr std::uint64_t kRunsPerStrategy = 1500;

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SIM_SEED")) return std::strtoull(text, nullptr, 10);
  return 20261126;
}

ring::Scenario handed_off(const std::string& case_id) {
  const harness::CaseDef& def = *harness::select_cases({case_id}).at(0);
  std::mt19937_64 rng(test_seed());
  const auto handoff = harness::sim_handoff_of(def.make_lin_batch(rng));
  EXPECT_TRUE(handoff.has_value()) << case_id;
  std::string error;
  const auto scenario = ring::parse_scenario(handoff ? handoff->scenario : "", &error);
  EXPECT_TRUE(scenario.has_value()) << case_id << ": " << error;
  std::cout << case_id << " -> --lane " << handoff.value_or(harness::SimHandoff{}).lane << " --scenario '"
            << handoff.value_or(harness::SimHandoff{}).scenario << "'\n";
  return scenario.value_or(ring::Scenario{});
}

// PCT, then random: the failure kind found, or None after both budgets.
template <typename A>
FailureKind hand_off(const ring::Scenario& scenario) {
  for (const StrategyKind strategy : {StrategyKind::Pct, StrategyKind::Random}) {
    ExploreOptions o;
    o.strategy = strategy;
    o.runs = kRunsPerStrategy;
    o.seed = test_seed();
    o.shrink = false;
    std::cout << "seed " << o.seed << "; repeat (real lane) with: indexbus sim run --lane " << to_string(scenario.kind)
              << " --strategy " << to_string(strategy) << " --runs " << kRunsPerStrategy << " --seed " << o.seed << " --scenario '"
              << ring::to_string(scenario) << "'\n";
    Explorer<A> explorer;
    // The scenario is fixed: the generator is never asked.
    const auto report = explorer.explore(scenario, [](std::uint64_t seed) { return ring::generate(seed, ring::GenParams{}); }, o);
    if (report.failure) {
      std::cout << "reproduced after " << report.runs << " " << to_string(strategy) << " schedules: " << report.failure->message << "\n";
      return report.failure->kind;
    }
  }
  return FailureKind::None;
}

TEST(BatchHandoff, ABrokenLaneIsReproducedAndTheRealLaneIsNot) {
  const ring::Scenario sequenced = handed_off("Required.SequencedSlots.BatchLinearizable.Block.Perturbed");
  EXPECT_NE(hand_off<broken::IgnoreGate>(sequenced), FailureKind::None);
  EXPECT_EQ(hand_off<ring::RealAdapter>(sequenced), FailureKind::None);

  const ring::Scenario fanout = handed_off("Required.Fanout.BatchLinearizable.Block.Perturbed");
  EXPECT_NE(hand_off<broken::IgnoreOneConsumer>(fanout), FailureKind::None);
  EXPECT_EQ(hand_off<ring::RealAdapter>(fanout), FailureKind::None);

  const ring::Scenario journal = handed_off("Required.Journal.BatchLinearizable.Drop.Perturbed");
  EXPECT_NE(hand_off<broken::NoRevalidate>(journal), FailureKind::None);
  EXPECT_EQ(hand_off<ring::RealAdapter>(journal), FailureKind::None);
}

}  // namespace

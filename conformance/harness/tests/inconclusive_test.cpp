// A linearizability check that stops at its bound leaves its case INCONCLUSIVE, never PASS; and
// INCONCLUSIVE is its own status in the run's verdict and in every report (index.json, junit.xml,
// report.html).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/harness/lin_batch.hpp"

namespace indexbus::harness {
namespace {

constexpr std::uint64_t kSeed = 1;
constexpr const char* kBatchCase = "Required.Events.BatchLinearizable.Block.Perturbed";

CaseResult run_batch_case(const LinBatchScenario& scenario) {
  const CaseDef& def = *select_cases({kBatchCase}).at(0);
  const ScratchDir dir("/dev/shm");
  return run_lin_batch_case(def, scenario, case_seed(kSeed, def.id), AgentAssignment{{INDEXBUS_AGENT}, {}}, dir, 5'000);
}

LinBatchScenario batch_scenario() {
  const CaseDef& def = *select_cases({kBatchCase}).at(0);
  std::mt19937_64 rng(case_seed(kSeed, def.id));
  return def.make_lin_batch(rng);
}

// 300 entries through the lane make a history of more than 600 operations: the search needs at
// least one configuration per operation, so a bound of 10 cannot decide it, and neither can a
// time limit of 1 ns (the clock is read before the first configuration). With the default bounds
// the reference lane's history is linearizable, so the bound alone makes the difference.
TEST(Inconclusive, LinearizabilitySearchStoppedAtItsBoundIsNotAPass) {
  LinBatchScenario capped = batch_scenario();
  capped.check_configurations_max = 10;
  const CaseResult by_configurations = run_batch_case(capped);
  EXPECT_EQ(by_configurations.outcome, Outcome::Inconclusive) << by_configurations.detail;
  EXPECT_NE(by_configurations.detail.find("linearizability not decided: gave up after 10 configurations"), std::string::npos)
      << by_configurations.detail;
  EXPECT_NE(by_configurations.detail.find("at most 10 configurations"), std::string::npos) << by_configurations.detail;

  LinBatchScenario timed = batch_scenario();
  timed.check_time_limit_ns = 1;
  const CaseResult by_time = run_batch_case(timed);
  EXPECT_EQ(by_time.outcome, Outcome::Inconclusive) << by_time.detail;
  EXPECT_NE(by_time.detail.find("(time limit)"), std::string::npos) << by_time.detail;

  const CaseResult unbounded = run_batch_case(batch_scenario());
  EXPECT_EQ(unbounded.outcome, Outcome::Pass) << unbounded.detail;
  EXPECT_NE(unbounded.detail.find("linearizable, invariants hold"), std::string::npos) << unbounded.detail;
}

ConformReport report_with(Level level, bool allow_inconclusive) {
  ConformReport report;
  report.seed = kSeed;
  report.allow_inconclusive = allow_inconclusive;
  report.cases = {CaseResult{.id = "Required.Events.Block.A", .level = Level::Required, .outcome = Outcome::Pass, .detail = "fine"},
                  CaseResult{.id = level == Level::Required ? "Required.Events.Batch.B" : "Informational.Events.Batch.B",
                             .level = level,
                             .outcome = Outcome::Inconclusive,
                             .detail = "linearizability not decided: gave up after 4096 configurations (time limit)"}};
  return report;
}

// A REQUIRED INCONCLUSIVE case fails the run unless allowed; a non-required one never does.
TEST(Inconclusive, RequiredCaseFailsTheRunUnlessAllowed) {
  EXPECT_TRUE(run_failed(report_with(Level::Required, false)));
  EXPECT_FALSE(run_failed(report_with(Level::Required, true)));
  EXPECT_FALSE(run_failed(report_with(Level::Informational, false)));
  EXPECT_FALSE(run_failed(report_with(Level::Recommended, false)));
  EXPECT_EQ(required_inconclusive(report_with(Level::Required, true)), 1u);
  EXPECT_EQ(required_inconclusive(report_with(Level::Informational, false)), 0u);
}

TEST(Inconclusive, EveryReportNamesIt) {
  const ConformOptions options;
  const ConformReport report = report_with(Level::Required, false);
  EXPECT_EQ(outcome_counts_text(report), "1 passed, 0 failed, 0 crashed, 0 timed out, 1 inconclusive, 0 skipped");

  const Json index = index_json(report, options);
  EXPECT_FALSE(index["passed"].get<bool>());
  EXPECT_EQ(index["summary"]["INCONCLUSIVE"], 1);
  EXPECT_EQ(index["summary"]["PASS"], 1);
  EXPECT_EQ(index["cases"][1]["outcome"], "INCONCLUSIVE");
  EXPECT_TRUE(index["cases"][1].contains("replay"));
  EXPECT_TRUE(index_json(report_with(Level::Required, true), options)["passed"].get<bool>());

  const std::string junit = junit_xml(report, options);
  EXPECT_NE(junit.find("<error type=\"INCONCLUSIVE\" message=\"inconclusive: linearizability not decided: gave up after 4096 "
                       "configurations (time limit)\">"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("errors=\"1\""), std::string::npos) << junit;

  const std::string html = report_html(report, options);
  EXPECT_NE(html.find(".INCONCLUSIVE{"), std::string::npos);
  EXPECT_NE(html.find("<p id=\"summary\" class=\"FAIL\">1 passed, 0 failed, 0 crashed, 0 timed out, 1 inconclusive"), std::string::npos)
      << html;
  EXPECT_NE(html.find("<tr class=\"INCONCLUSIVE\"><td>INCONCLUSIVE</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<section class=\"case INCONCLUSIVE\" id=\"Required.Events.Batch.B\">"), std::string::npos) << html;
  // Allowed, the run does not fail, but its summary does not say PASS either.
  const std::string allowed = report_html(report_with(Level::Required, true), options);
  EXPECT_NE(allowed.find("<p id=\"summary\" class=\"INCONCLUSIVE\">"), std::string::npos) << allowed;
}

}  // namespace
}  // namespace indexbus::harness

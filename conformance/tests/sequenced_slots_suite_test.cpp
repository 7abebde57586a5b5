// The SequencedSlots suite passes the real lane and fails each deliberately broken one under the
// rule it breaks. Seeded (printed); replay with INDEXBUS_SEED=<seed>.
#include "indexbus/conformance/sequenced_slots_suite.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

namespace indexbus::conformance {
namespace {

SuiteOptions options() {
  SuiteOptions o;
  const char* env = std::getenv("INDEXBUS_SEED");
  o.seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  o.runs = 60;
  o.ops_per_run = 150;
  std::printf("seed %llu; replay: INDEXBUS_SEED=%llu sequenced_slots_suite_test\n",
              static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed));
  return o;
}

const RuleOutcome& outcome(const SuiteReport& report, const std::string& id) {
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id == id) return r;
  }
  ADD_FAILURE() << id << " not reported";
  return report.rules.front();
}

TEST(SequencedSuite, RealLanePassesEveryRule) {
  const SuiteReport report = run_sequenced_slots_suite(options());
  EXPECT_TRUE(report.passed) << format_report(report);
  for (const RuleOutcome& r : report.rules) EXPECT_GT(r.checks, 0u) << r.rule_id << " never checked";
}

TEST(SequencedSuite, ConsumerIgnoringItsGateFailsSs4) {
  SequencedLaneTweak tweak{[](RingLaneRef&, RingLaneRef& consumer_ref) {
                             for (std::uint32_t i = 0; i < consumer_ref.reader_count; ++i) {
                               consumer_ref.readers[i].gated_on_mask = 0;
                             }
                           },
                           "broken:ignore-gate"};
  const SuiteReport report = run_sequenced_slots_suite(options(), tweak);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(outcome(report, "SS-4").failures, 0u) << format_report(report);
}

TEST(SequencedSuite, ProducerIgnoringLeavesFailsSs6) {
  SequencedLaneTweak tweak{[](RingLaneRef& producer_ref, RingLaneRef&) { producer_ref.on_full = OnFull::Drop; },
                           "broken:producer-ignores-leaves"};
  const SuiteReport report = run_sequenced_slots_suite(options(), tweak);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(outcome(report, "SS-6").failures, 0u) << format_report(report);
}

}  // namespace
}  // namespace indexbus::conformance

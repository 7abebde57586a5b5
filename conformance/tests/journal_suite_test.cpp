// The Journal suite passes the real lane on every rule (each checked) and fails each deliberately
// broken lane under the rule it breaks. Seeded (printed); replay with INDEXBUS_SEED=<seed>
// journal_suite_test, or the report's `indexbus conform` command.
#include "indexbus/conformance/journal_suite.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

namespace indexbus::conformance {
namespace {

SuiteOptions options() {
  SuiteOptions o;  // the default runs and ops per run: what `indexbus conform` runs
  const char* env = std::getenv("INDEXBUS_SEED");
  o.seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("seed %llu; replay: INDEXBUS_SEED=%llu journal_suite_test\n", static_cast<unsigned long long>(o.seed),
              static_cast<unsigned long long>(o.seed));
  return o;
}

const RuleOutcome& outcome(const SuiteReport& report, const std::string& id) {
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id == id) return r;
  }
  ADD_FAILURE() << id << " not reported";
  return report.rules.front();
}

TEST(JournalSuite, ReportsEveryRuleInOrder) {
  const auto ids = journal_checked_rule_ids();
  ASSERT_EQ(ids.size(), 12u);
  SuiteOptions o;
  o.seed = 7;
  o.runs = 2;
  o.ops_per_run = 10;
  const SuiteReport report = run_journal_suite(o);
  ASSERT_EQ(report.rules.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(report.rules[i].rule_id, ids[i]);
  EXPECT_EQ(report.replay_command, "indexbus conform --rule-suite --lane journal --seed 7 --runs 2 --ops 10");
}

TEST(JournalSuite, RealLanePassesEveryRule) {
  const SuiteReport report = run_journal_suite(options());
  std::printf("%s", format_report(report).c_str());
  EXPECT_TRUE(report.passed);
  EXPECT_EQ(report.failed_runs, 0u);
  for (const RuleOutcome& r : report.rules) {
    EXPECT_GT(r.checks, 0u) << r.rule_id << " never checked";
    EXPECT_EQ(r.failures, 0u) << r.rule_id << ": " << r.first_failure;
  }
}

TEST(JournalSuite, DeterministicForASeed) {
  SuiteOptions o;
  o.seed = 12345;
  o.runs = 20;
  o.ops_per_run = 100;
  const SuiteReport first = run_journal_suite(o, JournalDefect::CommitNotPublished);
  const SuiteReport second = run_journal_suite(o, JournalDefect::CommitNotPublished);
  EXPECT_EQ(first.ops, second.ops);
  EXPECT_EQ(first.failed_runs, second.failed_runs);
  ASSERT_EQ(first.rules.size(), second.rules.size());
  for (std::size_t i = 0; i < first.rules.size(); ++i) {
    EXPECT_EQ(first.rules[i].checks, second.rules[i].checks);
    EXPECT_EQ(first.rules[i].failures, second.rules[i].failures);
    EXPECT_EQ(first.rules[i].first_failure, second.rules[i].first_failure);
  }
}

// read_at that skips the window and stamp check returns an overwritten slot's bytes as an old
// sequence's entry: JR-7, and nothing else (its liveness check and heartbeat are the real ones).
TEST(JournalSuite, ReadAtWithoutRevalidationFailsJr7) {
  const SuiteReport report = run_journal_suite(options(), JournalDefect::ReadAtWithoutRevalidation);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(outcome(report, "JR-7").failures, 0u) << format_report(report);
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id != "JR-7") {
      EXPECT_EQ(r.failures, 0u) << r.rule_id << ": " << r.first_failure;
    }
  }
}

// commit that never stores the cursor: the record's cursor_seq stays behind (JR-5) right at the
// commit, before a Block writer could find itself short of room.
TEST(JournalSuite, CommitNotPublishedFailsJr5) {
  const SuiteReport report = run_journal_suite(options(), JournalDefect::CommitNotPublished);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(outcome(report, "JR-5").failures, 0u) << format_report(report);
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id != "JR-5") {
      EXPECT_EQ(r.failures, 0u) << r.rule_id << ": " << r.first_failure;
    }
  }
}

// heartbeat that never reaches the record: its heartbeat_ns stays old, and an evicted reader is
// told it is still attached (JR-10).
TEST(JournalSuite, HeartbeatNotStoredFailsJr10) {
  const SuiteReport report = run_journal_suite(options(), JournalDefect::HeartbeatNotStored);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(outcome(report, "JR-10").failures, 0u) << format_report(report);
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id != "JR-10") {
      EXPECT_EQ(r.failures, 0u) << r.rule_id << ": " << r.first_failure;
    }
  }
}

}  // namespace
}  // namespace indexbus::conformance

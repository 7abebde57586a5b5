// The Events suite: the real lane passes; each deliberately broken lane fails under the rule its
// defect breaks (a checker that cannot fail proves nothing); scratch regions are always removed.
#include "indexbus/conformance/events_suite.hpp"

#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "indexbus/conformance/broken_lanes.hpp"

namespace indexbus::conformance {
namespace {

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SEED")) return std::strtoull(text, nullptr, 10);
  return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
}

void print_replay(std::uint64_t seed) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::printf("seed %llu; replay: INDEXBUS_SEED=%llu conformance_tests --gtest_filter=%s.%s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              test->test_suite_name(), test->name());
}

// Region files this process left in /dev/shm. The lane removes its file as soon as both mappings
// exist, so there should never be any, not even after a crash.
std::vector<std::string> leftover_regions() {
  const std::string prefix = "indexbus-conform-" + std::to_string(::getpid()) + "-";
  std::vector<std::string> out;
  if (DIR* dir = ::opendir("/dev/shm")) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.rfind(prefix, 0) == 0) out.push_back(name);
    }
    ::closedir(dir);
  }
  return out;
}

std::set<std::string> failing_rules(const SuiteReport& report) {
  std::set<std::string> out;
  for (const RuleOutcome& rule : report.rules) {
    if (rule.failures != 0) out.insert(rule.rule_id);
  }
  return out;
}

const RuleOutcome& rule(const SuiteReport& report, const std::string& id) {
  for (const RuleOutcome& r : report.rules) {
    if (r.rule_id == id) return r;
  }
  ADD_FAILURE() << id << " missing from the report";
  return report.rules.front();
}

TEST(EventsSuite, RealLanePassesTheDefaultSuite) {  // EV-2 .. EV-15, REG-10, REG-11
  const std::uint64_t seed = test_seed();
  print_replay(seed);
  SuiteOptions options;
  options.seed = seed;
  const auto start = std::chrono::steady_clock::now();
  const SuiteReport report = run_events_suite(options);
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s%.2f s for %llu runs, %llu ops\n", format_report(report).c_str(), elapsed,
              static_cast<unsigned long long>(report.runs), static_cast<unsigned long long>(report.ops));
  EXPECT_TRUE(report.passed) << "replay: " << report.replay_command << "\n" << format_report(report);
  EXPECT_EQ(report.failed_runs, 0u);
  EXPECT_EQ(report.runs, 200u);
  EXPECT_GT(report.ops, 200u * 200u);  // the drain phase comes on top
  for (const RuleOutcome& r : report.rules) {
    EXPECT_GT(r.checks, 0u) << r.rule_id << " never checked";
    EXPECT_FALSE(r.title.empty()) << r.rule_id;
  }
  EXPECT_TRUE(leftover_regions().empty()) << "a scratch region was left behind";
}

// The CLI counts a rule that was never checked as a failure, so short suites must reach every
// rule too: the run index rotates policy and operation mix for that reason.
TEST(EventsSuite, TwentyRunsCheckEveryRule) {
  for (std::uint64_t seed : {0ull, 1ull, 7ull, 123ull, 99999ull}) {
    SuiteOptions options;
    options.seed = seed;
    options.runs = 20;
    const SuiteReport report = run_events_suite(options);
    EXPECT_TRUE(report.passed) << "seed " << seed << "\n" << format_report(report);
    for (const RuleOutcome& r : report.rules) EXPECT_GT(r.checks, 0u) << "seed " << seed << ": " << r.rule_id;
  }
}

TEST(EventsSuite, DeterministicForASeed) {
  const std::uint64_t seed = test_seed();
  print_replay(seed);
  SuiteOptions options;
  options.seed = seed;
  options.runs = 10;
  const SuiteReport a = run_events_suite(options);
  const SuiteReport b = run_events_suite(options);
  EXPECT_EQ(a.ops, b.ops);
  ASSERT_EQ(a.rules.size(), b.rules.size());
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    EXPECT_EQ(a.rules[i].rule_id, b.rules[i].rule_id);
    EXPECT_EQ(a.rules[i].checks, b.rules[i].checks) << a.rules[i].rule_id;
  }
}

TEST(EventsSuite, ReplayCommand) {
  SuiteOptions options;
  options.seed = 123;
  options.runs = 0;
  EXPECT_EQ(run_events_suite(options).replay_command, "indexbus conform --rule-suite --lane events --seed 123 --runs 0");
  options.ops_per_run = 50;
  options.region_dir = "/tmp";
  EXPECT_EQ(run_events_suite(options).replay_command,
            "indexbus conform --rule-suite --lane events --seed 123 --runs 0 --ops 50 --region-dir /tmp");
}

TEST(RealLane, WorksWithItsFileAlreadyRemoved) {
  const auto lane = make_real_lane(spec::EventsConfig{2, 8, OnFull::Block}, "/dev/shm");
  EXPECT_TRUE(leftover_regions().empty());
  const std::array<std::byte, 3> payload{std::byte{1}, std::byte{2}, std::byte{3}};
  ASSERT_EQ(lane->try_write(payload), WriteStatus::Ok);
  std::array<std::byte, 8> out{};
  const ReadResult r = lane->try_read(out);
  EXPECT_EQ(r.status, ReadStatus::Entry);
  EXPECT_EQ(r.payload_bytes, 3u);
  EXPECT_EQ(out[2], std::byte{3});
  EXPECT_EQ(lane->counters(), (LaneCounters{1, 1, 0}));
  EXPECT_FALSE(lane->check_region_image().has_value());
  EXPECT_FALSE(lane->check_lane_state().has_value());
  EXPECT_EQ(lane->name(), "real");
}

TEST(EventsSuite, MissingRegionDirectoryIsASetupError) {
  SuiteOptions options;
  options.runs = 1;
  options.region_dir = "/nonexistent-indexbus-dir";
  EXPECT_THROW((void)run_events_suite(options), SetupError);
}

// What each defect must be caught as. `exact`: no other rule may fail (the mapping is precise);
// otherwise the defect has knock-on effects and the primary rule must be among the failures.
struct Expectation {
  std::string primary;
  std::set<std::string> exact;
};

const std::map<Defect, Expectation>& expectations() {
  static const std::map<Defect, Expectation> table{
      {Defect::SkipEntryOnRead, {"EV-4", {}}},  // then EV-5/EV-11/...: the lanes have diverged
      {Defect::LostCountOffByOne, {"EV-8", {"EV-8"}}},
      {Defect::OkInsteadOfFull, {"EV-6", {"EV-6"}}},
      {Defect::TruncateTooLarge, {"EV-2", {"EV-2", "EV-14"}}},  // it wrote: counters moved on a refusal
      {Defect::CorruptPayloadByte, {"EV-9", {"EV-9"}}},
      {Defect::HideClosed, {"EV-10", {"EV-10"}}},
      {Defect::CounterDrift, {"EV-11", {"EV-11"}}},
      {Defect::DropRefusesWhenFull, {"EV-12", {"EV-12", "EV-11"}}},  // nothing written: written lags
      {Defect::TimeoutEarly, {"EV-15", {"EV-15"}}},
      {Defect::ScribbleHeader, {"REG-10", {"REG-10"}}},
  };
  return table;
}

class BrokenLanes : public ::testing::TestWithParam<Defect> {};

TEST_P(BrokenLanes, SuiteFailsUnderTheRightRule) {
  const Defect defect = GetParam();
  const std::uint64_t seed = test_seed();
  print_replay(seed);
  ASSERT_TRUE(expectations().count(defect)) << to_string(defect) << " has no expectation";
  const Expectation& expected = expectations().at(defect);
  SuiteOptions options;
  options.seed = seed;
  options.runs = 40;
  const SuiteReport report = run_events_suite(options, broken_lane_factory(defect));
  EXPECT_FALSE(report.passed) << to_string(defect) << " passed the suite";
  EXPECT_GT(report.failed_runs, 0u);
  const RuleOutcome& primary = rule(report, expected.primary);
  EXPECT_GT(primary.failures, 0u) << to_string(defect) << " not caught by " << expected.primary << "\n"
                                  << format_report(report);
  EXPECT_EQ(primary.first_failure.rfind("run ", 0), 0u) << primary.first_failure;
  if (expected.primary.rfind("EV-", 0) == 0) {
    EXPECT_NE(primary.first_failure.find(" op "), std::string::npos) << primary.first_failure;
  }
  EXPECT_NE(primary.first_failure.find("broken:"), std::string::npos) << primary.first_failure;
  if (!expected.exact.empty()) {
    EXPECT_EQ(failing_rules(report), expected.exact) << to_string(defect) << "\n" << format_report(report);
  }
  EXPECT_TRUE(leftover_regions().empty()) << "a scratch region was left behind";
}

INSTANTIATE_TEST_SUITE_P(AllDefects, BrokenLanes, ::testing::ValuesIn(all_defects().begin(), all_defects().end()),
                         [](const ::testing::TestParamInfo<Defect>& param_info) {
                           std::string name(to_string(param_info.param));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(EventsSuite, FormatReportNamesFailures) {
  SuiteOptions options;
  options.seed = 3;
  options.runs = 4;
  const std::string text = format_report(run_events_suite(options, broken_lane_factory(Defect::OkInsteadOfFull)));
  EXPECT_NE(text.find("FAIL EV-6"), std::string::npos) << text;
  EXPECT_NE(text.find("first: run "), std::string::npos) << text;
  EXPECT_NE(text.find("PASS EV-8"), std::string::npos) << text;
  EXPECT_NE(text.find("replay: indexbus conform --rule-suite --lane events --seed 3 --runs 4"), std::string::npos) << text;
}

}  // namespace
}  // namespace indexbus::conformance

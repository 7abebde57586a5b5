// The harness against real agent processes: the reference agent passes the whole catalog; the
// test-only broken agent fails exactly the cases its defect touches; an agent that crashes, hangs
// or sends garbage ends its case CRASH, TIMEOUT or FAIL with the reason; nothing is left behind.
#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>

#include "indexbus/conformance/lane_under_test.hpp"
#include "indexbus/harness/batch.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/harness/lin_batch.hpp"
#include "indexbus/spec/rules.hpp"

extern char** environ;

namespace indexbus::harness {
namespace {

constexpr std::uint64_t kSeed = 1;  // the expected failure sets below are for this seed

// A private parent for scratch directories, so that "nothing left behind" is checkable.
class PrivateDir {
 public:
  PrivateDir() {
    std::string pattern = "/dev/shm/indexbus-harness-test-XXXXXX";
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~PrivateDir() {
    EXPECT_EQ(entries(), 0u) << "stale files in " << path_;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") (void)std::system(("rm -rf '" + path_ + "/" + name + "'").c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }
  std::size_t entries() const {
    std::size_t count = 0;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (const dirent* e = ::readdir(dir)) count += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
      ::closedir(dir);
    }
    return count;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConformOptions options(const PrivateDir& dir, std::vector<std::string> agent_argv) {
  ConformOptions o;
  o.seed = kSeed;
  o.jobs = 2;
  o.region_dir = dir.path();
  o.agent_argv = std::move(agent_argv);
  // The whole catalog, simulated cases included, under ctest -j2 on a loaded 2-core machine: the
  // CLI's default of 110 s left its last simulated cases SKIP (a failure here) under a load of 4.
  // Still inside the test's 300 s ctest timeout.
  o.time_budget_ms = 240'000;
  return o;
}

std::vector<std::string> broken(const std::string& defect) { return {INDEXBUS_AGENT_BROKEN, "--defect", defect}; }

// Cases that did not pass, every one: the reference passes them all (nothing is set aside).
std::set<std::string> not_passed(const ConformReport& report) {
  std::set<std::string> out;
  for (const CaseResult& c : report.cases) {
    if (c.outcome != Outcome::Pass) out.insert(c.id);
  }
  return out;
}

void print_failures(const ConformReport& report, const ConformOptions& o) {
  for (const CaseResult& c : report.cases) {
    if (c.outcome != Outcome::Pass) {
      std::printf("%s %s: %s\n  replay: %s\n", to_string(c.outcome).c_str(), c.id.c_str(), c.detail.c_str(),
                  replay_command(o, c).c_str());
    }
  }
}

TEST(Catalog, IdsAreUniqueHierarchicalAndNameKnownRules) {
  std::set<std::string> ids;
  for (const CaseDef& c : catalog()) {
    EXPECT_TRUE(ids.insert(c.id).second) << "duplicate " << c.id;
    const std::string level_prefix = c.level == Level::Required      ? "Required."
                                     : c.level == Level::Recommended ? "Recommended."
                                                                     : "Informational.";
    EXPECT_EQ(c.id.rfind(level_prefix, 0), 0u) << c.id;
    EXPECT_GE(std::count(c.id.begin(), c.id.end(), '.'), 3) << c.id;
    EXPECT_FALSE(c.rules.empty()) << c.id;
    for (const std::string& rule : c.rules) EXPECT_NE(spec::find_rule(rule), nullptr) << c.id << " names " << rule;
    const int modes = static_cast<bool>(c.make_scenario) + static_cast<bool>(c.run_in_process) + static_cast<bool>(c.make_batch) +
                      static_cast<bool>(c.make_ring) + static_cast<bool>(c.make_lin_batch) +
                      static_cast<bool>(c.run_with_agents);
    EXPECT_EQ(modes, 1) << c.id;
  }
}

TEST(Catalog, EveryEventsRuleHasAStepModeCase) {
  std::set<std::string> covered;
  for (const CaseDef& c : catalog()) {
    if (c.make_scenario) covered.insert(c.rules.begin(), c.rules.end());
  }
  for (const spec::Rule& rule : spec::all_rules()) {
    if (std::string(rule.id).rfind("EV-", 0) == 0) {
      EXPECT_EQ(covered.count(std::string(rule.id)), 1u) << rule.id;
    }
  }
}

TEST(Catalog, ScenariosAreDeterministicPerSeed) {
  const CaseDef& random_case = *select_cases({"Required.Events.Interleaving.Drop.Capacity8"}).at(0);
  auto steps_for = [&](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> out;
    for (const Step& step : random_case.make_scenario(rng).steps) out.push_back(describe(step));
    return out;
  };
  EXPECT_EQ(steps_for(5), steps_for(5));
  EXPECT_NE(steps_for(5), steps_for(6));
  EXPECT_EQ(case_seed(9, "A.B"), case_seed(9, "A.B"));
  EXPECT_NE(case_seed(9, "A.B"), case_seed(9, "A.C"));
}

// g++ 12 with ASan at -O2 reports the inactive OpStep alternative of std::variant as "maybe
// uninitialized" when a KillStep is moved into the vector: a known false positive of the variant
// move constructor, silenced for this one test only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
TEST(Scheduler, InterleaveKeepsEachAgentsOrder) {
  std::vector<std::vector<Step>> scripts(3);
  for (std::size_t a = 0; a < 3; ++a) {
    for (int i = 0; i < 20; ++i) scripts[a].push_back(KillStep{a * 100 + static_cast<std::size_t>(i)});
  }
  std::mt19937_64 rng(3);
  const std::vector<Step> merged = interleave(scripts, rng);
  ASSERT_EQ(merged.size(), 60u);
  std::vector<std::size_t> last(3, 0);
  bool switched = false;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    const std::size_t tag = std::get<KillStep>(merged[i]).agent;
    const std::size_t agent = tag / 100;
    if (tag % 100 != 0) {
      EXPECT_EQ(last[agent] + 1, tag % 100);
    }
    last[agent] = tag % 100;
    if (i > 0 && std::get<KillStep>(merged[i - 1]).agent / 100 != agent) switched = true;
  }
  EXPECT_TRUE(switched);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The batch checker next to the histories it must reject: each broken history breaks one invariant.
TEST(BatchChecker, AcceptsAnExactHistoryAndRejectsEachBrokenOne) {
  auto payload = [](std::uint8_t n) { return spec::Bytes{std::byte{n}, std::byte{static_cast<std::uint8_t>(n + 100)}}; };
  auto entry = [&](std::uint64_t seq) { return BatchRead{ReadStatus::Entry, seq, payload(static_cast<std::uint8_t>(seq)), 0}; };
  const BatchRead closed{ReadStatus::Closed, 0, {}, 0};
  BatchHistory exact;
  for (std::uint8_t n = 0; n < 6; ++n) exact.writes.push_back({payload(n), WriteStatus::Ok});
  for (std::uint64_t s = 0; s < 6; ++s) exact.reads.push_back(entry(s));
  exact.reads.push_back(closed);
  const BatchVerdict ok = check_batch_history(exact, true);
  ASSERT_FALSE(ok.violation.has_value()) << *ok.violation;
  EXPECT_EQ(ok.tally.delivered, 6u);

  struct Broken {
    const char* name;
    std::function<void(BatchHistory&)> edit;
    const char* expected;  // substring of the violation
  };
  const Broken broken_histories[] = {
      {"duplicate", [&](BatchHistory& h) { h.reads[3] = entry(2); }, "already delivered"},
      {"skipped", [&](BatchHistory& h) { h.reads.erase(h.reads.begin() + 3); }, "an entry was skipped"},
      {"torn", [&](BatchHistory& h) { h.reads[2].payload[1] = std::byte{0}; }, "(EV-9)"},
      {"invented", [&](BatchHistory& h) { h.reads.insert(h.reads.begin() + 6, entry(6)); }, "no write was accepted"},
      {"block lost", [&](BatchHistory& h) { h.reads[3] = BatchRead{ReadStatus::Lost, 0, {}, 1}; }, "(EV-7)"},
      {"closed early", [&](BatchHistory& h) { h.reads.erase(h.reads.begin() + 5); }, "entries unread (EV-10)"},
      {"entry after closed", [&](BatchHistory& h) { h.reads.insert(h.reads.begin() + 2, closed); }, "(EV-10)"},
      {"never closed", [&](BatchHistory& h) { h.reads.pop_back(); }, "never read Closed"},
      {"drop refused", [&](BatchHistory& h) { h.on_full = OnFull::Drop; h.writes[1].status = WriteStatus::Full; }, "(EV-12)"},
      {"drop lost too many",
       [&](BatchHistory& h) {
         h.on_full = OnFull::Drop;
         h.reads = {BatchRead{ReadStatus::Lost, 0, {}, 7}, closed};
       },
       "more lost than written"},
  };
  for (const Broken& b : broken_histories) {
    BatchHistory history = exact;
    b.edit(history);
    const BatchVerdict verdict = check_batch_history(history, true);
    ASSERT_TRUE(verdict.violation.has_value()) << b.name << " was accepted";
    EXPECT_NE(verdict.violation->find(b.expected), std::string::npos) << b.name << ": " << *verdict.violation;
  }
  BatchHistory drop = exact;  // a correct Drop history with a loss
  drop.on_full = OnFull::Drop;
  drop.reads = {BatchRead{ReadStatus::Lost, 0, {}, 4}, entry(4), entry(5), closed};
  const BatchVerdict drop_ok = check_batch_history(drop, true);
  EXPECT_FALSE(drop_ok.violation.has_value()) << *drop_ok.violation;
  EXPECT_EQ(drop_ok.tally.lost, 4u);
}

TEST(ReferenceAgent, PassesTheWholeCatalog) {
  const PrivateDir dir;
  const ConformOptions o = options(dir, {INDEXBUS_AGENT});
  const ConformReport report = run_conform(o, select_cases({}));
  print_failures(report, o);
  EXPECT_TRUE(not_passed(report).empty());
  EXPECT_FALSE(run_failed(report));
  EXPECT_EQ(report.cases.size(), catalog().size());
}

TEST(BrokenAgent, SkippingEveryFifthEntryFailsExactlyTheCasesThatReadFive) {
  const PrivateDir dir;
  const ConformOptions o = options(dir, broken("skip-every-5th-entry"));
  const ConformReport report = run_conform(o, select_cases({}));
  print_failures(report, o);
  // Every case whose consumer process reads at least 5 entries; the in-process suite has no agent.
  const std::set<std::string> expected{
      "Required.Events.Block.FifoInOrder",
      "Required.Events.Block.TryWriteFullWhenFull",
      "Required.Events.Block.WriteWaitsWhenFull",
      "Required.Events.Block.CapacityOne",
      "Required.Events.Block.Wraparound",
      "Required.Events.Block.NeverLosesOrOverwrites",
      "Required.Events.Drop.LossAfterPartialRead",
      "Required.Events.Drop.RandomInterleaving",
      "Required.Events.ProcessDeath.ConsumerKilledThenReattached",
      "Required.Events.ProcessDeath.ProducerKilledThenReattached",
      "Required.Events.Interleaving.Block.Capacity1",
      "Required.Events.Interleaving.Drop.Capacity1",
      "Required.Events.Interleaving.Block.Capacity8",
      "Required.Events.Interleaving.Drop.Capacity8",
      "Informational.Events.StepMode.LongRun",
      "Required.Events.Batch.Block.NothingLostUnderPauses",
      "Required.Events.Batch.Drop.AccountingUnderPauses",
      "Required.Events.BatchLinearizable.Block.Perturbed",
      "Required.Events.BatchLinearizable.Drop.Perturbed",
      "Required.Events.BatchLinearizable.Block.ConsumerKilled",
      "Required.Events.BatchLinearizable.Block.ProducerKilled",
      "Required.Events.BatchLinearizable.Drop.ProducerKilled",
      "Required.Events.BatchLinearizable.Drop.ProducerKilledLateSuccessor",
  };
  EXPECT_EQ(not_passed(report), expected);
  for (const CaseResult& c : report.cases) {
    if (c.outcome == Outcome::Pass) continue;
    EXPECT_EQ(c.outcome, Outcome::Fail) << c.id;
    if (c.id.find(".BatchLinearizable.") != std::string::npos) continue;  // "not linearizable" or an invariant
    EXPECT_NE(c.detail.find("expected"), std::string::npos) << c.detail;
    ASSERT_FALSE(c.history.empty()) << c.id;
    if (c.id.find(".Batch.") == std::string::npos) {
      EXPECT_FALSE(c.history.back().matched) << c.id;  // step mode stops at the mismatch
    }
  }
  EXPECT_TRUE(run_failed(report));
}

TEST(BrokenAgent, OkInsteadOfFullFailsExactlyTheCasesThatFillABlockLane) {
  const PrivateDir dir;
  const ConformOptions o = options(dir, broken("ok-instead-of-full"));
  const ConformReport report = run_conform(o, select_cases({}));
  print_failures(report, o);
  const std::set<std::string> expected{
      "Required.Events.Block.FifoInOrder",
      "Required.Events.Block.TryWriteFullWhenFull",
      "Required.Events.Block.CapacityOne",
      "Required.Events.Block.NeverLosesOrOverwrites",
      "Required.Events.Interleaving.Block.Capacity1",
      "Required.Events.Interleaving.Block.Capacity8",
  };
  EXPECT_EQ(not_passed(report), expected);
  for (const CaseResult& c : report.cases) {
    if (c.outcome != Outcome::Pass) {
      EXPECT_NE(c.detail.find("expected Full, got Ok"), std::string::npos) << c.detail;
    }
  }
}

struct ProcessDefect {
  const char* defect;
  Outcome outcome;
  const char* detail;  // a substring of the case detail
};

void PrintTo(const ProcessDefect& p, std::ostream* os) { *os << p.defect; }

class BrokenProcess : public ::testing::TestWithParam<ProcessDefect> {};

TEST_P(BrokenProcess, EndsTheCaseWithTheReasonAndLeavesNothing) {
  const ProcessDefect& p = GetParam();
  const PrivateDir dir;
  ConformOptions o = options(dir, broken(p.defect));
  o.request_deadline_ms = 200;  // a hung agent costs 200 ms + 1 s grace
  const auto start = std::chrono::steady_clock::now();
  const ConformReport report = run_conform(o, select_cases({"Required.Events.Read.EmptyAndTimeout", "Required.Events.Block.CapacityOne"}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_EQ(report.cases.size(), 2u);
  for (const CaseResult& c : report.cases) {
    EXPECT_EQ(c.outcome, p.outcome) << c.id << ": " << c.detail;
    EXPECT_NE(c.detail.find(p.detail), std::string::npos) << c.detail;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Harness, BrokenProcess,
    ::testing::Values(ProcessDefect{"crash-on-read", Outcome::Crash, "killed by signal 6"},
                      ProcessDefect{"hang-on-read", Outcome::Timeout, "no reply to request"},
                      ProcessDefect{"garbage-on-read", Outcome::Fail, "not valid UTF-8 JSON: \"hello\""}),
    [](const auto& param_info) {
      std::string name = param_info.param.defect;
      for (char& c : name) c = c == '-' ? '_' : c;
      return name;
    });

TEST(AgentProcess, MissingExecutableIsAnEnvironmentError) {
  EXPECT_THROW(AgentProcess({"/nonexistent/indexbus-agent"}), conformance::SetupError);
}

TEST(AgentProcess, HelloOfTheReferenceAgent) {
  AgentProcess agent({INDEXBUS_AGENT});
  ASSERT_FALSE(agent.handshake().has_value());
  EXPECT_EQ(agent.hello()["protocol"], 1);
  EXPECT_EQ(agent.hello()["lane_kinds"], Json::array({"events", "journal", "sequenced_slots", "fanout_broadcast"}));
  const RequestOutcome before_region = agent.request(Json{{"type", "op"}, {"lane", 0}, {"role", "producer"}, {"op", "close"}});
  ASSERT_TRUE(std::holds_alternative<Reply>(before_region));
  EXPECT_EQ(std::get<Reply>(before_region).error_kind, "no_region");
  const RequestOutcome unknown = agent.request(Json{{"type", "teleport"}});
  EXPECT_EQ(std::get<Reply>(unknown).type, "unsupported");
  const RequestOutcome malformed = agent.request(Json{{"type", "open_region"}, {"path", 5}});
  EXPECT_EQ(std::get<Reply>(malformed).error_kind, "bad_request");
  EXPECT_NE(std::get<Reply>(malformed).message.find("field 'path'"), std::string::npos);
}

// Batch and topology cases run real processes at full speed: their seed fixes the scenario, not
// the interleaving. Reports keep them apart from the cases the seed replays exactly, and their
// replay line says it may pass.
TEST(Report, TimingDependentCasesAreKeptApartAndTheirReplaySaysItMayPass) {
  std::size_t timing = 0;
  std::size_t exact = 0;
  for (const CaseDef& def : catalog()) {
    const bool expected = def.make_batch || def.make_lin_batch || def.id.rfind("Required.Topology.", 0) == 0;
    EXPECT_EQ(is_timing_dependent(def), expected) << def.id;
    (is_timing_dependent(def) ? timing : exact) += 1;
  }
  EXPECT_GT(timing, 0u);
  EXPECT_GT(exact, 0u);

  const PrivateDir dir;
  const ConformOptions o = options(dir, broken("skip-every-5th-entry"));
  const std::string step_case = "Required.Events.Block.FifoInOrder";
  const std::string batch_case = "Required.Events.Batch.Block.NothingLostUnderPauses";
  const ConformReport report = run_conform(o, select_cases({step_case, batch_case}));
  ASSERT_EQ(report.cases.size(), 2u);
  const Json index = index_json(report, o);
  for (const Json& c : index["cases"]) {
    ASSERT_EQ(c["outcome"], "FAIL") << c.dump();
    const bool batch = c["id"] == batch_case;
    EXPECT_EQ(c["timing_dependent"].get<bool>(), batch) << c.dump();
    EXPECT_EQ(c.contains("replay_caveat"), batch) << c.dump();
    if (batch) {
      EXPECT_NE(c["replay_caveat"].get<std::string>().find("may pass"), std::string::npos);
    }
  }
  EXPECT_EQ(index["summary_by_replay"]["deterministic"]["FAIL"], 1);
  EXPECT_EQ(index["summary_by_replay"]["timing_dependent"]["FAIL"], 1);
  const std::string junit = junit_xml(report, o);
  EXPECT_NE(junit.find("<testsuite name=\"indexbus-conform.deterministic\" tests=\"1\" failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<testsuite name=\"indexbus-conform.timing-dependent\" tests=\"1\" failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("timing-dependent: the seed fixes the scenario"), std::string::npos) << junit;
  const std::string html = report_html(report, o);
  const std::size_t exact_table = html.find("<table id=\"cases-deterministic\">");
  const std::size_t timing_table = html.find("<table id=\"cases-timing-dependent\">");
  ASSERT_NE(exact_table, std::string::npos) << html;
  ASSERT_NE(timing_table, std::string::npos) << html;
  EXPECT_LT(html.find(step_case, exact_table), timing_table);
  EXPECT_NE(html.find(batch_case, timing_table), std::string::npos);
  EXPECT_NE(html.find("<span class=\"caveat\">timing-dependent"), std::string::npos);
}

TEST(Report, FailuresCarryReplayHistoryAndJUnitEntries) {
  const PrivateDir dir;
  const ConformOptions o = options(dir, broken("ok-instead-of-full"));
  const ConformReport report = run_conform(o, select_cases({"Required.Events.Block.TryWriteFullWhenFull", "Required.Events.Drop.*"}));
  const Json index = index_json(report, o);
  EXPECT_FALSE(index["passed"].get<bool>());
  EXPECT_EQ(index["summary"]["FAIL"], 1);
  const Json& failed = index["cases"][0];
  EXPECT_EQ(failed["outcome"], "FAIL");
  EXPECT_EQ(failed["level"], "REQUIRED");
  EXPECT_EQ(failed["replay"], "indexbus conform --cases Required.Events.Block.TryWriteFullWhenFull --seed 1");
  EXPECT_FALSE(failed["history"].empty());
  EXPECT_FALSE(index["cases"][1].contains("history"));  // passing cases stay small
  const std::string junit = junit_xml(report, o);
  EXPECT_NE(junit.find("<failure type=\"FAIL\" message=\"step 4"), std::string::npos) << junit;
  EXPECT_NE(junit.find("classname=\"Required.Events.Block\" name=\"TryWriteFullWhenFull\""), std::string::npos);
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos);
  const std::string html = report_html(report, o);
  EXPECT_NE(html.find("<section class=\"case FAIL\" id=\"Required.Events.Block.TryWriteFullWhenFull\">"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"mismatch\"><td>4</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>Full</td><td>Ok</td>"), std::string::npos) << html;  // model vs agent
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // self-contained
  char report_dir[] = "/tmp/indexbus-report-test-XXXXXX";
  ASSERT_NE(::mkdtemp(report_dir), nullptr);
  ASSERT_FALSE(write_report(report, o, report_dir).has_value());
  for (const char* file : {"/index.json", "/junit.xml", "/report.html", "/failures/Required.Events.Block.TryWriteFullWhenFull.json"}) {
    EXPECT_EQ(::access((std::string(report_dir) + file).c_str(), R_OK), 0) << file;
  }
  (void)std::system((std::string("rm -rf ") + report_dir).c_str());
}

// Live agent processes whose command line contains token (zombies excluded: their cmdline is empty).
std::size_t processes_with_token(const std::string& token) {
  std::size_t count = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (const dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    count += cmdline.rfind(INDEXBUS_AGENT_BROKEN, 0) == 0 && cmdline.find(token) != std::string::npos;
  }
  ::closedir(proc);
  return count;
}

// SIGTERM or SIGINT while an agent hangs: the harness kills the agent and removes its scratch
// directory and region files before it dies of the signal.
TEST(Cleanup, SignalMidRunLeavesNoFileAndNoAgent) {
  for (const int signal_number : {SIGTERM, SIGINT}) {
    const PrivateDir dir;
    char report_dir[] = "/tmp/indexbus-report-test-XXXXXX";
    ASSERT_NE(::mkdtemp(report_dir), nullptr);
    // The agent ignores extra arguments: the token finds its processes in /proc afterwards.
    const std::string token = "cleanup-token-" + std::to_string(::getpid()) + "-" + std::to_string(signal_number);
    std::vector<std::string> args{INDEXBUS_CLI, "conform", "--agent", INDEXBUS_AGENT_BROKEN, "--agent-arg", "--defect",
                                  "--agent-arg", "hang-on-read", "--agent-arg", token,
                                  "--cases", "Required.Events.Read.EmptyAndTimeout",
                                  "--region-dir", dir.path(), "--report", report_dir};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    ASSERT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    // Wait (bounded) until the run has made its scratch directory, then a little for the agents.
    for (int i = 0; i < 400 && dir.entries() == 0; ++i) ::usleep(5'000);
    EXPECT_EQ(dir.entries(), 1u);
    ::usleep(300'000);
    EXPECT_EQ(processes_with_token(token), 2u);  // producer and consumer agent, the consumer hung
    ::kill(pid, signal_number);
    int status = 0;
    for (int i = 0; i < 400 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) ::usleep(5'000);
    if (::kill(pid, 0) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "harness did not die of signal " << signal_number;
    }
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(dir.entries(), 0u);
    for (int i = 0; i < 200 && processes_with_token(token) != 0; ++i) ::usleep(5'000);  // SIGKILL is asynchronous
    EXPECT_EQ(processes_with_token(token), 0u);
    (void)std::system((std::string("rm -rf ") + report_dir).c_str());
  }
}

}  // namespace
}  // namespace indexbus::harness

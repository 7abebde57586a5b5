// Liars and vandals (spec/certify.md, "Bad input"): agents of the test-only broken build that lie
// in their hello or write shared memory where no implementation may. Each must fail its case with
// a reason naming the field, the value found and the value expected; the harness, which reads the
// region only as a pread copy validated before use, must come to no harm (these tests run under
// asan-ubsan too). About 0.3 s each.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "../src/region_watch.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus::harness {
namespace {

constexpr std::uint64_t kSeed = 5;

// The one case `case_id` against the broken agent with `defect` (as producer and consumer, or as
// the consumer only when `consumer_only`, the reference agent producing).
CaseResult run_defect(const std::string& defect, const std::string& case_id, bool consumer_only = false) {
  ConformOptions o;
  o.case_globs = {case_id};
  o.seed = kSeed;
  o.jobs = 1;
  o.time_budget_ms = 30'000;
  o.request_deadline_ms = 3'000;
  const std::vector<std::string> broken = {INDEXBUS_AGENT_BROKEN, "--defect", defect};
  o.agent_argv = consumer_only ? std::vector<std::string>{INDEXBUS_AGENT} : broken;
  if (consumer_only) o.consumer_agent_argv = broken;
  const auto cases = select_cases(o.case_globs);
  EXPECT_EQ(cases.size(), 1u) << case_id;
  const ConformReport report = run_conform(o, cases);
  EXPECT_EQ(report.cases.size(), 1u);
  std::printf("defect %s, case %s, seed %llu: %s %s\nreplay: indexbus conform --agent %s --agent-arg=--defect --agent-arg=%s "
              "--cases %s --seed %llu\n",
              defect.c_str(), case_id.c_str(), static_cast<unsigned long long>(kSeed), to_string(report.cases[0].outcome).c_str(),
              report.cases[0].detail.c_str(), INDEXBUS_AGENT_BROKEN, defect.c_str(), case_id.c_str(),
              static_cast<unsigned long long>(kSeed));
  return report.cases.empty() ? CaseResult{} : report.cases[0];
}

void expect_fail_naming(const CaseResult& r, const std::vector<std::string>& words) {
  EXPECT_EQ(r.outcome, Outcome::Fail) << r.detail;
  for (const std::string& word : words) EXPECT_NE(r.detail.find(word), std::string::npos) << "'" << word << "' not in: " << r.detail;
}

TEST(BadInput, HelloDeclaresDropButCreateRegionSaysUnsupported) {
  expect_fail_naming(run_defect("hello-lies-drop", "Required.Events.Drop.OverwritesOldest"),
                     {"agent 0 create_region: unsupported", "hello declares"});
}

TEST(BadInput, HelloDeclaresDropButAttachSaysUnsupported) {  // the liar consumes a region the reference made
  expect_fail_naming(run_defect("hello-lies-drop", "Required.Events.Drop.OverwritesOldest", true),
                     {"agent 1 attach", "unsupported", "hello declares"});
}

TEST(BadInput, HeaderWithAnotherLayoutVersionIsCaughtAtCreation) {
  expect_fail_naming(run_defect("bad-header-version", "Required.Events.Block.FifoInOrder"),
                     {"agent 0 create_region: the region as created is invalid", "version_major", "REG-4"});
}

TEST(BadInput, RegionHeaderCorruptedMidCase) {
  expect_fail_naming(run_defect("corrupt-region-header", "Required.Events.Block.FifoInOrder"),
                     {"region after step", "reserved0"});
}

TEST(BadInput, LaneHeaderCorruptedMidCase) {
  expect_fail_naming(run_defect("corrupt-lane-header", "Required.Events.Block.FifoInOrder"),
                     {"region after step", "closed", "7", "REG-11"});
}

TEST(BadInput, WriteOutsideTheLaneBlock) {
  expect_fail_naming(run_defect("write-past-lane", "Required.Events.Block.FifoInOrder"),
                     {"region after step", "171, expected 0", "REG-10"});
}

TEST(BadInput, WriteOutsideTheLaneBlockOfARingKind) {
  expect_fail_naming(run_defect("write-past-lane", "Required.Journal.Block.FreshReaderAtTailInOrder"),
                     {"region after step", "171, expected 0", "REG-10"});
}

TEST(BadInput, RegionTruncatedMidCase) {  // every agent may die of SIGBUS; the harness reads with pread
  const CaseResult r = run_defect("truncate-region", "Required.Events.Block.FifoInOrder");
  expect_fail_naming(r, {"region after step", "file size", "expected"});
}

TEST(BadInput, TheReferenceAgentIsNotCaught) {  // the checks can pass: no false alarm on the same cases
  ConformOptions o;
  o.case_globs = {"Required.Events.Block.FifoInOrder", "Required.Events.Drop.OverwritesOldest",
                  "Required.Journal.Block.FreshReaderAtTailInOrder"};
  o.seed = kSeed;
  o.jobs = 2;
  o.agent_argv = {INDEXBUS_AGENT};
  const ConformReport report = run_conform(o, select_cases(o.case_globs));
  for (const CaseResult& r : report.cases) EXPECT_EQ(r.outcome, Outcome::Pass) << r.id << ": " << r.detail;
}

// A waker that loses wake-ups (--defect lose-wakes: for 200 ms from its first publish that finds a
// peer parked, no publish bumps or wakes). Every result stays right, since the park slice ends the peer's sleep;
// only the agents' lost_wakeups count (spec/agent-protocol.md, "Lost wake-ups") exposes it, in a
// plain batch case (Events: events_detail::wait_until) and a linearizability batch case (Fanout:
// ring_detail::reader_wait_until, and the producer's wait).
TEST(LostWakeups, ABatchCaseFailsNamingTheAgentAndTheCount) {
  expect_fail_naming(run_defect("lose-wakes", "Required.Events.Batch.Block.NothingLostUnderPauses"),
                     {"agent ", " reported ", "lost wake-up", "without waking it"});
}

TEST(LostWakeups, ALinearizabilityBatchCaseFailsNamingTheAgentAndTheCount) {
  expect_fail_naming(run_defect("lose-wakes", "Required.Fanout.BatchLinearizable.Block.Perturbed"),
                     {"agent ", " reported ", "lost wake-up", "without waking it"});
}

TEST(LostWakeups, TheReferenceAgentPassesTheSameCases) {  // the count can stay 0: no false alarm
  ConformOptions o;
  o.case_globs = {"Required.Events.Batch.Block.NothingLostUnderPauses", "Required.Fanout.BatchLinearizable.Block.Perturbed"};
  o.seed = kSeed;
  o.jobs = 1;
  o.agent_argv = {INDEXBUS_AGENT};
  const ConformReport report = run_conform(o, select_cases(o.case_globs));
  ASSERT_EQ(report.cases.size(), 2u);
  for (const CaseResult& r : report.cases) EXPECT_EQ(r.outcome, Outcome::Pass) << r.id << ": " << r.detail;
}

// Required.Protocol.Refusals.*: the reference agent and the C agent (certify tests) answer every
// refusal with its kind and code; --defect sloppy-refusals (no codes, a reader index narrowed to
// 32 bits and not checked against 64, a publish not checked against the claim) fails every one.
TEST(ProtocolRefusals, TheReferencePassesEveryCaseAndASloppyAgentFailsEveryCase) {
  std::vector<std::string> ids;
  for (const CaseDef* def : select_cases({"Required.Protocol.Refusals.*"})) ids.push_back(def->id);
  ASSERT_EQ(ids.size(), 11u);  // 7 RoleTaken (Events 2, Journal writer, SequencedSlots 2, Fanout 2), 3 ReaderIndex, 1 publish
  ConformOptions o;
  o.case_globs = {"Required.Protocol.Refusals.*"};
  o.seed = kSeed;
  o.agent_argv = {INDEXBUS_AGENT};
  const ConformReport report = run_conform(o, select_cases(o.case_globs));
  for (const CaseResult& r : report.cases) EXPECT_EQ(r.outcome, Outcome::Pass) << r.id << ": " << r.detail;
  for (const std::string& id : ids) {
    const CaseResult r = run_defect("sloppy-refusals", id);
    EXPECT_EQ(r.outcome, Outcome::Fail) << id << ": " << r.detail;
    EXPECT_NE(r.detail.find(": expected "), std::string::npos) << id << ": " << r.detail;
  }
}

// Required.Layout.Corrupt.*: every check of spec/layout.md's validation order (and the open checks
// before it) put to open_region. The reference agent and the C agent refuse each corrupt region
// with its check's code and field, leave the file alone, hold no region afterwards, and open the
// control image. About 3 s each (Header.InitStateCreating waits out the 2 s ready timeout).
const std::vector<std::string> kCorruptGlob = {"Required.Layout.Corrupt.*"};
constexpr std::size_t kCorruptCases = 81;  // 6 open, 18 header, 25 lane, 2 overlap, 7 gating, 3 checksum, 19 order, 1 control

TEST(CorruptRegions, TheReferenceAndTheCAgentRefuseEachAsTheSpecSays) {
  const auto cases = select_cases(kCorruptGlob);
  ASSERT_EQ(cases.size(), kCorruptCases);
  for (const char* agent : {INDEXBUS_AGENT, INDEXBUS_AGENT_C}) {
    ConformOptions o;
    o.case_globs = kCorruptGlob;
    o.seed = kSeed;
    o.jobs = 2;
    o.agent_argv = {agent};
    const ConformReport report = run_conform(o, cases);
    ASSERT_EQ(report.cases.size(), kCorruptCases);
    for (const CaseResult& r : report.cases) {
      EXPECT_EQ(r.outcome, Outcome::Pass) << agent << " " << r.id << ": " << r.detail << "\nreplay: indexbus conform --agent "
                                          << agent << " --cases " << r.id << " --seed " << kSeed;
    }
  }
}

// --defect lenient-open, an opener with gaps in its validation: it "opens" what fails the bounds
// checks (BadLaneTableOffset, BlockOutOfBounds), answers ReservedNotZero as BadFlags, names an
// overlap on lane i instead of lane j, and rewrites the checksum of a file it refuses. Exactly the
// cases whose first failing check is one of those fail, each for its own reason; the rest pass.
TEST(CorruptRegions, ALenientOpenerFailsExactlyTheCasesOfTheChecksItBends) {
  ConformOptions o;
  o.case_globs = kCorruptGlob;
  o.seed = kSeed;
  o.jobs = 2;
  o.agent_argv = {INDEXBUS_AGENT_BROKEN, "--defect", "lenient-open"};
  std::printf("replay: indexbus conform --agent %s --agent-arg=--defect --agent-arg=lenient-open --cases '%s' --seed %llu\n",
              INDEXBUS_AGENT_BROKEN, kCorruptGlob[0].c_str(), static_cast<unsigned long long>(kSeed));
  const ConformReport report = run_conform(o, select_cases(kCorruptGlob));
  ASSERT_EQ(report.cases.size(), kCorruptCases);
  std::size_t failed = 0;
  for (const CaseResult& r : report.cases) {
    ASSERT_FALSE(r.history.empty()) << r.id << ": " << r.detail;
    const std::string& expected = r.history[0].expected;  // "error region CODE naming '...'", or "ok, ..." (the control)
    auto expects = [&](const char* code) { return expected.find(std::string("error region ") + code + " ") == 0 ||
                                                  expected == std::string("error region ") + code; };
    const char* reason = expects("BadLaneTableOffset") || expects("BlockOutOfBounds") ? "got ok"
                         : expects("ReservedNotZero")                                 ? "got error region BadFlags"
                         : expects("BlocksOverlap")                                   ? "got error region BlocksOverlap"
                         : expects("ChecksumMismatch") ? "open_region changed what it was given: the file byte 60"
                                                       : nullptr;
    if (reason == nullptr) {
      EXPECT_EQ(r.outcome, Outcome::Pass) << r.id << ": " << r.detail;
      continue;
    }
    ++failed;
    EXPECT_EQ(r.outcome, Outcome::Fail) << r.id << ": " << r.detail;
    EXPECT_NE(r.detail.find(reason), std::string::npos) << r.id << ": '" << reason << "' not in: " << r.detail;
  }
  EXPECT_EQ(failed, 23u);  // 5 table offset, 6 block bounds, 5 reserved, 4 overlap, 3 checksum
}

// The watch itself, without agents: whatever the file holds, it reads no byte past it.
TEST(RegionWatch, AMissingTinyOrHugeFileIsAReasonNotACrash) {
  testing::TempRegionPath path("watch");
  const Json lanes = Json::array({Json{{"kind", "events"}, {"on_full", "block"}, {"capacity_slots", 4}, {"slot_payload_bytes", 8}}});
  RegionWatch watch(path.str());
  EXPECT_EQ(watch.check(true), std::nullopt);  // no baseline: nothing to compare
  auto reason = watch.baseline(lanes);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("cannot open"), std::string::npos) << *reason;
  std::ofstream(path.str()) << "tiny file";
  reason = watch.baseline(lanes);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("TooSmall"), std::string::npos) << *reason;
  ASSERT_EQ(::truncate(path.str().c_str(), static_cast<off_t>(RegionWatch::kRegionBytesMax + 4096)), 0);  // sparse
  reason = watch.baseline(lanes);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("above the harness's limit"), std::string::npos) << *reason;
}

TEST(RegionWatch, AValidRegionPassesUntilItShrinks) {
  testing::TempRegionPath path("watch");
  const LaneSpec spec{LaneKind::Events, OnFull::Block, 4, 8};
  auto region = Region::create(path.str(), std::span<const LaneSpec>(&spec, 1));
  ASSERT_TRUE(region.ok());
  RegionWatch watch(path.str());
  EXPECT_EQ(watch.baseline(Json::array({Json{{"kind", "events"}, {"on_full", "drop"}, {"capacity_slots", 4}, {"slot_payload_bytes", 8}}})),
            std::optional<std::string>("the region as created: lane 0 descriptor on_full is 1 (block), expected drop (asked for in create_region)"));
  EXPECT_EQ(watch.baseline(Json::array({Json{{"kind", "events"}, {"on_full", "block"}, {"capacity_slots", 4}, {"slot_payload_bytes", 8}}})),
            std::nullopt);
  EXPECT_EQ(watch.check(true), std::nullopt);
  ASSERT_EQ(::truncate(path.str().c_str(), 100), 0);
  const auto reason = watch.check(true);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("file size 100 bytes, expected"), std::string::npos) << *reason;
}

}  // namespace
}  // namespace indexbus::harness

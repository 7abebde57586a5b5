// The *.BatchLinearizable.*.ProducerKilled cases (lin_batch.cpp; spec/agent-protocol.md,
// run_script's kill_at_access): the producer's agent SIGKILLs itself at a seeded shared-memory
// access, inside a write, a claim, a publish or the close, and a new process takes the role over.
// The reference agent passes them on several seeds; the test-only broken agent fails them twice
// over: when it ignores kill_at_access (the kill never fires) and when its replacement producer
// resumes two entries behind the lane's write_seq. Every run prints its seed and replay line.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "indexbus/harness/conform.hpp"
#include "indexbus/harness/lin_batch.hpp"

namespace indexbus::harness {
namespace {

const std::vector<std::string> kProducerKilledCases = {
    "Required.Events.BatchLinearizable.Block.ProducerKilled",         "Required.Events.BatchLinearizable.Drop.ProducerKilled",
    "Required.Fanout.BatchLinearizable.Block.ProducerKilled",         "Required.Fanout.BatchLinearizable.Drop.ProducerKilled",
    "Required.Journal.BatchLinearizable.Block.ProducerKilled",        "Required.Journal.BatchLinearizable.Drop.ProducerKilled",
    "Required.SequencedSlots.BatchLinearizable.Block.ProducerKilled", "Required.SequencedSlots.BatchLinearizable.Drop.ProducerKilled",
};

// A scratch directory under /dev/shm, removed (and checked empty) at the end.
class ScratchParent {
 public:
  ScratchParent() {
    char pattern[] = "/dev/shm/indexbus-producer-killed-test-XXXXXX";
    EXPECT_NE(::mkdtemp(pattern), nullptr);
    path_ = pattern;
  }
  ~ScratchParent() { EXPECT_EQ(::rmdir(path_.c_str()), 0) << "files left in " << path_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConformReport run(const std::vector<std::string>& ids, std::uint64_t seed, const std::vector<std::string>& agent_argv,
                  const ScratchParent& dir, ConformOptions* used = nullptr) {
  ConformOptions o;
  o.case_globs = ids;
  o.seed = seed;
  o.jobs = 1;  // one case at a time: they run real processes at full speed
  o.region_dir = dir.path();
  o.agent_argv = agent_argv;
  const ConformReport report = run_conform(o, select_cases(ids));
  for (const CaseResult& c : report.cases) {
    std::printf("seed %llu %s: %s %s\n  replay: %s\n", static_cast<unsigned long long>(seed), c.id.c_str(),
                to_string(c.outcome).c_str(), c.detail.c_str(), replay_command(o, c).c_str());
  }
  if (used != nullptr) *used = o;
  return report;
}

TEST(ProducerKilled, KillPointIsSeededAndInsideTheProducersScript) {
  for (const std::string& id : kProducerKilledCases) {
    const CaseDef& def = *select_cases({id}).at(0);
    ASSERT_TRUE(def.make_lin_batch) << id;
    std::mt19937_64 a(7);
    std::mt19937_64 b(7);
    const LinBatchScenario s = def.make_lin_batch(a);
    EXPECT_EQ(s.kill_producer_at_access, def.make_lin_batch(b).kill_producer_at_access) << id;
    const bool claims = id.find("SequencedSlots") != std::string::npos;
    const std::uint64_t script_ops = std::uint64_t{s.entries} * (claims ? 2 : 1) + 1;
    EXPECT_GE(s.kill_producer_at_access, 1u) << id;
    EXPECT_LE(s.kill_producer_at_access, script_ops) << id;
    EXPECT_FALSE(s.kill_consumer_after_us) << id;
    // Different seeds put the kill at different accesses (over a few seeds, at least two points).
    std::vector<std::uint64_t> points;
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      std::mt19937_64 rng(seed);
      points.push_back(def.make_lin_batch(rng).kill_producer_at_access);
    }
    EXPECT_NE(std::count(points.begin(), points.end(), points[0]), 4) << id;
  }
}

// The reference agent passes every case, Events Block included since its successor stamps an
// entry the dead producer published in write_seq only (EV-16).
TEST(ProducerKilled, ReferenceAgentPassesEveryKindOnSeveralSeeds) {
  const ScratchParent dir;
  std::vector<std::string> ids = kProducerKilledCases;
  // A late successor: a reader meets the dead write's first step for a quarter of a second and
  // reports the loss at once (EV-8, two-step writes).
  for (const char* kind : {"Events", "Fanout", "Journal", "SequencedSlots"}) {
    ids.push_back(std::string("Required.") + kind + ".BatchLinearizable.Drop.ProducerKilledLateSuccessor");
  }
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    const ConformReport report = run(ids, seed, {INDEXBUS_AGENT}, dir);
    ASSERT_EQ(report.cases.size(), ids.size());
    for (const CaseResult& c : report.cases) {
      EXPECT_EQ(c.level, Level::Required) << c.id;
      EXPECT_EQ(c.outcome, Outcome::Pass) << c.id << " seed " << seed << ": " << c.detail;
    }
  }
}

// An agent that accepts kill_at_access and never dies: the case must say so, not pass.
TEST(ProducerKilled, AKillThatNeverFiresFailsTheCase) {
  const ScratchParent dir;
  for (const std::string& id : {kProducerKilledCases[1], kProducerKilledCases[7]}) {
    const ConformReport report = run({id}, 5, {INDEXBUS_AGENT_BROKEN, "--defect", "ignore-kill"}, dir);
    ASSERT_EQ(report.cases.size(), 1u);
    EXPECT_EQ(report.cases[0].outcome, Outcome::Fail) << report.cases[0].detail;
    EXPECT_NE(report.cases[0].detail.find("the kill never fired"), std::string::npos) << report.cases[0].detail;
  }
}

// A replacement producer that resumes two entries behind the lane's write_seq (an implementation
// resuming from a stale sequence): write_seq moves back, so the replacement's first entry has a
// sequence the dead producer already completed. Each seed must fail.
TEST(ProducerKilled, AReplacementResumingBehindWriteSeqFailsTheCase) {
  const ScratchParent dir;
  for (const std::string& id : {kProducerKilledCases[1], kProducerKilledCases[3], kProducerKilledCases[5], kProducerKilledCases[7]}) {
    for (const std::uint64_t seed : {1u, 2u}) {
      const ConformReport report = run({id}, seed, {INDEXBUS_AGENT_BROKEN, "--defect", "producer-resumes-behind"}, dir);
      ASSERT_EQ(report.cases.size(), 1u);
      EXPECT_EQ(report.cases[0].outcome, Outcome::Fail) << id << " seed " << seed << ": " << report.cases[0].detail;
    }
  }
}

}  // namespace
}  // namespace indexbus::harness

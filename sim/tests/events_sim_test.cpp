// The Events lane of core/ under the simulator: the real lane passes every strategy within a fixed
// budget, each bug planted into it (broken_platform.hpp: the unchanged lane on a platform that
// perturbs particular loads and stores) is caught within the same budget, failures replay
// bit-identically, and shrinking keeps the failure.
//
// Every exploration prints its seed and the CLI command that repeats it; set INDEXBUS_SIM_SEED to
// run with another seed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "broken_platform.hpp"
#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/explorer.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;
using events::GenParams;
using events::Scenario;
using broken::PlatformBug;

template <PlatformBug B>
using BrokenAdapter = broken::BrokenEvents<B>;

// Sanitizers slow every step several times over (ThreadSanitizer's fiber switches most): smaller
// budgets keep each test well under 20 s.
#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kBudgetScale = 40;
// The exhaustive space cannot be scaled by a run count: a smaller bound keeps it under 20 s.
constexpr std::uint32_t kPreemptionBound = 1;
#elif defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kBudgetScale = 4;
constexpr std::uint32_t kPreemptionBound = 2;
#else
constexpr std::uint64_t kBudgetScale = 1;
constexpr std::uint32_t kPreemptionBound = 2;
#endif
constexpr std::uint64_t kRuns = 20000 / kBudgetScale;

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SIM_SEED")) return std::strtoull(text, nullptr, 10);
  return 20261126;
}

std::string run_command(StrategyKind kind, const GenParams& p, std::uint64_t runs, std::uint64_t seed) {
  std::string out = "indexbus sim run --lane events --strategy " + std::string(to_string(kind)) +
                    " --runs " + std::to_string(runs) + " --seed " + std::to_string(seed) +
                    " --ops " + std::to_string(p.ops_max);
  if (p.on_full) out += std::string(" --on-full ") + std::string(to_string(*p.on_full));
  if (p.parking) out += *p.parking ? " --waiting park" : " --waiting poll";
  if (p.capacity_slots) out += " --capacity " + std::to_string(*p.capacity_slots);
  if (p.blocking_reads_only) out += " --blocking-reads";
  return out;
}

template <typename A>
ExploreReport<Scenario> explore(StrategyKind kind, const GenParams& params, std::uint64_t runs,
                                bool shrink = false, std::optional<Scenario> fixed = std::nullopt,
                                std::uint32_t preemption_bound = kPreemptionBound) {
  ExploreOptions o;
  o.strategy = kind;
  o.runs = runs;
  o.seed = test_seed();
  o.pct_depth = 3;
  o.preemption_bound = preemption_bound;
  o.shrink = shrink;
  o.shrink_runs_max = 5000 / kBudgetScale;
  std::cout << "seed " << o.seed << "; repeat (real lane) with: "
            << (fixed ? "indexbus sim run --lane events --strategy " + std::string(to_string(kind)) +
                            " --runs " + std::to_string(runs) + " --scenario '" + events::to_string(*fixed) + "'"
                      : run_command(kind, params, runs, o.seed))
            << "\n";
  Explorer<A> explorer;
  auto report = explorer.explore(fixed, [&](std::uint64_t seed) { return events::generate(seed, params); }, o);
  if (report.failure) {
    const auto& f = *report.failure;
    std::cout << "failure after " << report.runs << " runs: " << to_string(f.kind) << ": " << f.message
              << "\nreplay: indexbus sim replay --lane events --scenario '" << events::to_string(f.scenario)
              << "' --schedule '" << encode_schedule(f.choices) << "'\n";
  }
  return report;
}

// Drop explorations mix try_read, timed and blocking reads, as Block ones do.
GenParams params(std::optional<OnFull> on_full, std::optional<bool> parking, std::uint32_t ops_max = 6) {
  GenParams p;
  p.on_full = on_full;
  p.parking = parking;
  p.ops_max = ops_max;
  return p;
}

// ---- The real lane passes ----

struct Config {
  StrategyKind strategy;
  OnFull on_full;
  bool parking;
};

// Readable parameters in test names and ctest output.
void PrintTo(const Config& c, std::ostream* os) {
  *os << to_string(c.strategy) << " " << to_string(c.on_full) << (c.parking ? " park" : " poll");
}

class RealLane : public ::testing::TestWithParam<Config> {};

TEST_P(RealLane, PassesTheBudget) {
  const Config c = GetParam();
  const auto report = explore<events::RealAdapter>(c.strategy, params(c.on_full, c.parking), kRuns);
  EXPECT_FALSE(report.failure.has_value());
  EXPECT_EQ(report.runs, kRuns);
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, RealLane,
    ::testing::Values(Config{StrategyKind::Random, OnFull::Block, true}, Config{StrategyKind::Random, OnFull::Block, false},
                      Config{StrategyKind::Random, OnFull::Drop, true}, Config{StrategyKind::Random, OnFull::Drop, false},
                      Config{StrategyKind::Pct, OnFull::Block, true}, Config{StrategyKind::Pct, OnFull::Block, false},
                      Config{StrategyKind::Pct, OnFull::Drop, true}, Config{StrategyKind::Pct, OnFull::Drop, false}),
    [](const auto& test_info) {
      const Config& c = test_info.param;
      return std::string(to_string(c.strategy)) + "_" + std::string(to_string(c.on_full)) + "_" +
             (c.parking ? "park" : "poll");
    });

// Small scenarios whose whole bounded space (2 preemptions; 1 under TSan) is run.
const char* const kExhaustiveScenarios[] = {
    "block,cap=1,slot=16,park;p:W16,W8,C;c:R,r,D",
    "block,cap=1,slot=16,poll;p:W16,W8,C;c:R,D",
    "block,cap=2,slot=16,park;p:W16,w16,W16@20,C;c:R@10,D",
    "drop,cap=1,slot=16,park;p:W16,W16,C;c:R,D",
    "drop,cap=2,slot=16,poll;p:W16,W16,W16,C;c:R,D",
};

TEST(RealLane, ExhaustiveSearchPassesAndExhaustsTheBoundedSpace) {
  for (const char* text : kExhaustiveScenarios) {
    const auto scenario = events::parse_scenario(text);
    ASSERT_TRUE(scenario.has_value()) << text;
    const auto report = explore<events::RealAdapter>(StrategyKind::Exhaustive, {}, 200'000, false, scenario);
    EXPECT_FALSE(report.failure.has_value()) << text;
    EXPECT_TRUE(report.exhausted) << text << " after " << report.runs << " schedules";
    EXPECT_FALSE(report.nondeterminism_seen) << text;
    std::cout << text << ": " << report.runs << " schedules exhaust the bound\n";
  }
}

// A finding, kept as a test so that it flips when core/ changes: under Drop the producer
// overwrites a slot (new stamp) before it advances write_seq. A consumer that meets the new stamp
// reports Lost{1} (entry r is gone) although write_seq - read_seq is not above capacity, and its
// next try_read returns Empty because write_seq has not moved yet. No sequential order explains
// Found by the simulator: a Drop consumer that met the stamp of an overwrite in progress reported
// Lost{1} before the producer published the overwriting entry, then Empty, which no order of
// one-step writes explains. First fixed by making the consumer wait for that publish; now a write
// takes effect in two steps (EV-8: the overwrite destroys the oldest entry, the publish adds the
// new one), the consumer reports Lost at once and never waits, and the checker places both steps
// inside the write. The exhaustive search of the scenarios that found it must come back clean
// (and every try_read wait-free: BrokenLane.ADropConsumerThatWaitsIsCaught).
TEST(RealLane, DropTryReadAfterLostIsLinearizable) {
  for (const char* text : {"drop,cap=1,slot=16,park;p:W16,W16,W16,C;c:r,r,D",
                           "drop,cap=1,slot=16,poll;p:w0,w0,C;c:r,r,D"}) {
    const auto scenario = events::parse_scenario(text);
    ASSERT_TRUE(scenario.has_value()) << text;
    const auto report = explore<events::RealAdapter>(StrategyKind::Exhaustive, {}, 100'000, true, scenario);
    EXPECT_FALSE(report.failure.has_value()) << text;
  }
}

TEST(RealLane, BenchmarkScenarioPasses) {
  for (OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    for (bool parking : {true, false}) {
      const Scenario s = events::writes_then_reads(on_full, 2, 8, parking);
      const auto report = explore<events::RealAdapter>(StrategyKind::Pct, {}, kRuns / 4, false, s);
      EXPECT_FALSE(report.failure.has_value()) << events::to_string(s);
    }
  }
}

// ---- Each broken variant is caught ----

struct BugCase {
  PlatformBug bug;
  OnFull on_full;
  std::optional<bool> parking;
  const char* name;
  FailureKind expected;
  // A second symptom of the same bug that a walk may meet first, and a phrase its message must
  // hold; None where the bug has one symptom.
  FailureKind also = FailureKind::None;
  const char* also_says = "";
};

// The failure is the bug's: its expected kind, or its second symptom with that symptom's message.
void expect_caught(const BugCase& c, const ExploreReport<Scenario>& report) {
  ASSERT_TRUE(report.failure.has_value()) << c.name << " survived " << report.runs << " runs";
  const auto& f = *report.failure;
  EXPECT_TRUE(f.deterministic) << f.determinism_note;
  if (c.also != FailureKind::None && f.kind == c.also) {
    EXPECT_NE(f.message.find(c.also_says), std::string::npos) << f.message;
    return;
  }
  EXPECT_EQ(f.kind, c.expected) << f.message;
}

template <PlatformBug B>
ExploreReport<Scenario> explore_broken(StrategyKind kind, const BugCase& c, bool shrink) {
  return explore<BrokenAdapter<B>>(kind, params(c.on_full, c.parking), kRuns, shrink);
}

ExploreReport<Scenario> explore_bug(StrategyKind kind, const BugCase& c, bool shrink = false) {
  switch (c.bug) {
    case PlatformBug::PublishBeforePayload: return explore_broken<PlatformBug::PublishBeforePayload>(kind, c, shrink);
    case PlatformBug::OffByOneCapacity: return explore_broken<PlatformBug::OffByOneCapacity>(kind, c, shrink);
    case PlatformBug::NoRevalidate: return explore_broken<PlatformBug::NoRevalidate>(kind, c, shrink);
    case PlatformBug::MissedWake: return explore_broken<PlatformBug::MissedWake>(kind, c, shrink);
    case PlatformBug::ClosedBeforeDrained: return explore_broken<PlatformBug::ClosedBeforeDrained>(kind, c, shrink);
    case PlatformBug::ReaderWaits: return explore_broken<PlatformBug::ReaderWaits>(kind, c, shrink);
    case PlatformBug::IgnoreGate:
    case PlatformBug::IgnoresEvictionTag:
    case PlatformBug::WriterTagsByStore:
    case PlatformBug::ReaderStoresHeartbeat: break;  // ring bugs: inert on the Events lane
  }
  ADD_FAILURE() << c.name << " plants nothing into the Events lane";
  return {};
}

void PrintTo(const BugCase& c, std::ostream* os) { *os << c.name << " (expect " << to_string(c.expected) << ")"; }

class BrokenLane : public ::testing::TestWithParam<BugCase> {};

TEST_P(BrokenLane, RandomWalkFindsIt) { expect_caught(GetParam(), explore_bug(StrategyKind::Random, GetParam())); }

TEST_P(BrokenLane, PctFindsIt) { expect_caught(GetParam(), explore_bug(StrategyKind::Pct, GetParam())); }

// Under the weak model (the default) a Block payload copy is a plain copy, race-checked: a payload
// read before it is published, or overwritten while the consumer copies it, is a data race before
// it is a torn entry or a broken invariant (which --memory sc reports instead). OffByOneCapacity
// has two symptoms: an overwrite of a slot the consumer has copied from is a data race, one of a
// slot it has not reached yet shows at the write_seq store as occupancy above capacity. Which a
// walk meets first depends on the seed, for the test-only copy of the lane this replaced as much
// as for the planted hook (random walk, INDEXBUS_SIM_SEED=1, 2, 5, 6: the occupancy; 3, 9: the
// race; the default seed met the race in the copy and meets the occupancy now).
INSTANTIATE_TEST_SUITE_P(
    PlantedBugs, BrokenLane,
    ::testing::Values(
        BugCase{PlatformBug::PublishBeforePayload, OnFull::Block, std::nullopt, "PublishBeforePayload",
                FailureKind::DataRace},
        BugCase{PlatformBug::OffByOneCapacity, OnFull::Block, std::nullopt, "OffByOneCapacity", FailureKind::DataRace,
                FailureKind::Invariant, "is above capacity"},
        BugCase{PlatformBug::NoRevalidate, OnFull::Drop, std::nullopt, "DropNoRevalidate", FailureKind::TornEntry},
        BugCase{PlatformBug::MissedWake, OnFull::Block, true, "MissedWake", FailureKind::Deadlock},
        BugCase{PlatformBug::ClosedBeforeDrained, OnFull::Block, std::nullopt, "ClosedBeforeDrained",
                FailureKind::NotLinearizable},
        BugCase{PlatformBug::ReaderWaits, OnFull::Drop, std::nullopt, "DropReaderWaits", FailureKind::Invariant}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

// What the exhaustive search (2 preemptions, also under TSan: these spaces are small) of one
// fixed scenario finds with bug B planted; None if it finds nothing.
template <PlatformBug B>
FailureKind exhaustive_kind(const std::optional<Scenario>& scenario) {
  const auto report = explore<BrokenAdapter<B>>(StrategyKind::Exhaustive, {}, 100'000, false, scenario, 2);
  return report.failure ? report.failure->kind : FailureKind::None;
}

// The exhaustive search finds each planted bug in a small fixed scenario.
TEST(BrokenLane, ExhaustiveSearchFindsThem) {
  const auto missed_wake = events::parse_scenario("block,cap=1,slot=16,park;p:W16,W16,C;c:R,D");
  const auto torn = events::parse_scenario("drop,cap=1,slot=16,park;p:W16,W16,W16,C;c:R,D");
  const auto early = events::parse_scenario("block,cap=1,slot=16,park;p:W16,W16,C;c:R,D");
  const auto over = events::parse_scenario("block,cap=1,slot=16,park;p:W16,W16,C;c:D");
  const auto closed = events::parse_scenario("block,cap=2,slot=16,park;p:W16,W16,C;c:D");
  ASSERT_TRUE(missed_wake && torn && early && over && closed);
  EXPECT_EQ(exhaustive_kind<PlatformBug::MissedWake>(missed_wake), FailureKind::Deadlock);
  EXPECT_EQ(exhaustive_kind<PlatformBug::NoRevalidate>(torn), FailureKind::TornEntry);
  // No read races the overwrite here: the occupancy check.
  EXPECT_EQ(exhaustive_kind<PlatformBug::OffByOneCapacity>(over), FailureKind::Invariant);
  EXPECT_EQ(exhaustive_kind<PlatformBug::ClosedBeforeDrained>(closed), FailureKind::NotLinearizable);
  EXPECT_EQ(exhaustive_kind<PlatformBug::PublishBeforePayload>(early), FailureKind::DataRace);
}

// A consumer that waits for an overwrite's publish (the lane before writes took effect in two
// steps, EV-8) is linearizable but not wait-free: the simulator fails its try_read for the wait
// step, naming the call. The real lane passes the same space (RealLane.DropTryReadAfterLostIsLinearizable).
TEST(BrokenLane, ADropConsumerThatWaitsIsCaught) {
  const auto scenario = events::parse_scenario("drop,cap=1,slot=16,poll;p:w0,w0,C;c:r,r,D");
  ASSERT_TRUE(scenario);
  const auto report =
      explore<BrokenAdapter<PlatformBug::ReaderWaits>>(StrategyKind::Exhaustive, {}, 100'000, false, scenario, 2);
  ASSERT_TRUE(report.failure.has_value());
  EXPECT_EQ(report.failure->kind, FailureKind::Invariant) << report.failure->message;
  EXPECT_NE(report.failure->message.find("try_read() is not wait-free"), std::string::npos) << report.failure->message;
}

// ---- Replay and shrinking ----

TEST(Replay, IsBitIdenticalAndShrinkingKeepsTheFailure) {
  const BugCase c{PlatformBug::NoRevalidate, OnFull::Drop, std::nullopt, "DropNoRevalidate", FailureKind::TornEntry};
  const auto report = explore_broken<PlatformBug::NoRevalidate>(StrategyKind::Random, c, true);
  ASSERT_TRUE(report.failure.has_value());
  const auto& f = *report.failure;
  ASSERT_TRUE(f.deterministic) << f.determinism_note;
  // Shrinking never grows the scenario and keeps the failure kind.
  EXPECT_LE(f.scenario.producer.size(), f.original_scenario.producer.size());
  EXPECT_LE(f.scenario.consumer.size(), f.original_scenario.consumer.size());
  Explorer<BrokenAdapter<PlatformBug::NoRevalidate>> explorer;
  // The printed strings replay the identical run, twice over.
  const auto scenario = events::parse_scenario(events::to_string(f.scenario));
  const auto choices = decode_schedule(encode_schedule(f.choices));
  ASSERT_TRUE(scenario && choices);
  std::optional<std::size_t> diverged;
  const Outcome first = explorer.replay(*scenario, *choices, true, false, &diverged);
  const Outcome second = explorer.replay(*scenario, *choices, true, true);
  EXPECT_FALSE(diverged.has_value());
  EXPECT_EQ(first.kind, f.kind);
  EXPECT_EQ(first.run.trace_hash, second.run.trace_hash);
  EXPECT_EQ(first.run.choices, *choices);
  // The original, unshrunk failure replays too.
  const Outcome original = explorer.replay(f.original_scenario, f.original_choices, true, false);
  EXPECT_EQ(original.kind, f.kind);
  // And the table names words, values and source lines.
  const auto rows = explorer.table(f.scenario, f.choices);
  ASSERT_FALSE(rows.empty());
  const std::string table = render_table(rows);
  EXPECT_NE(table.find("stamp"), std::string::npos);
  // The source column names the lane's own lines: the bug is planted, not copied.
  EXPECT_NE(table.find("events.hpp:"), std::string::npos);
  EXPECT_EQ(table.find("broken_"), std::string::npos);
  std::cout << "shrunk to " << f.scenario.producer.size() << " + " << f.scenario.consumer.size() << " ops, "
            << f.choices.size() << " choices, " << f.preemptions << " preemptions, in " << f.shrink_runs
            << " runs:\n"
            << table;
}

TEST(ScenarioString, RoundTripsAndRejectsNonsense) {
  const char* text = "drop,cap=4,slot=24,poll;p:w8,W16@30,W0,C;c:r,R@5,R,D";
  const auto scenario = events::parse_scenario(text);
  ASSERT_TRUE(scenario.has_value());
  EXPECT_EQ(events::to_string(*scenario), text);
  std::string error;
  EXPECT_FALSE(events::parse_scenario("block,cap=3;p:;c:", &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(events::parse_scenario("block;p:R;c:", &error).has_value());
  EXPECT_FALSE(events::parse_scenario("block;p:;c:W8", &error).has_value());
}

}  // namespace

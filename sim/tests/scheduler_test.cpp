// The scheduler on its own: fibers, simulated time, deadlock detection, determinism, strategies
// and schedule strings, with tiny actor bodies instead of a lane.
#include "indexbus/sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "indexbus/sim/sim_platform.hpp"
#include "indexbus/sim/strategy.hpp"

namespace {

using namespace indexbus::sim;

struct Counters {
  Scheduler* scheduler = nullptr;
  std::uint64_t word = 0;
  std::uint32_t flag = 0;
  std::uint32_t steps_per_actor = 2;
};

void increment_body(void* context, std::uint32_t) {
  auto& c = *static_cast<Counters*>(context);
  SimPlatform platform(*c.scheduler, true);
  for (std::uint32_t i = 0; i < c.steps_per_actor; ++i) {
    // A racy increment: load, then store, two steps.
    const std::uint64_t seen = platform.load(c.word, std::memory_order_relaxed);
    platform.store(c.word, seen + 1, std::memory_order_relaxed);
  }
}

void wait_forever_body(void* context, std::uint32_t) {
  auto& c = *static_cast<Counters*>(context);
  SimPlatform platform(*c.scheduler, true);
  platform.wait(c.flag, 0, kNoDeadline);
}

void wait_with_deadline_body(void* context, std::uint32_t actor) {
  auto& c = *static_cast<Counters*>(context);
  SimPlatform platform(*c.scheduler, true);
  // 1 s and 2 s of simulated time. RealPlatform's wait sleeps at most one park slice (50 ms) and
  // may return early, so a caller re-checks, as every lane does; bounded by the deadline.
  const std::uint64_t deadline_ns = 1'000'000'000ull * (actor + 1);
  while (platform.now_ns() < deadline_ns) platform.wait(c.flag, 0, deadline_ns);
}

TEST(Scheduler, RunsActorsToCompletionAndFindsTheLostUpdate) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  std::set<std::uint64_t> finals;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    c.word = 0;
    RandomStrategy strategy(seed);
    const RunResult result = scheduler.run(strategy, &increment_body, &c);
    ASSERT_EQ(result.status, RunStatus::Completed) << "seed " << seed;
    finals.insert(c.word);
  }
  // Some interleavings lose updates: the racy increment is visible.
  EXPECT_TRUE(finals.count(4));
  EXPECT_TRUE(finals.count(2) || finals.count(3));
}

TEST(Scheduler, ReportsDeadlockWhenEveryActorWaitsWithoutDeadline) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  RandomStrategy strategy(1);
  const RunResult result = scheduler.run(strategy, &wait_forever_body, &c);
  EXPECT_EQ(result.status, RunStatus::Deadlock);
  EXPECT_NE(result.message.find("parked"), std::string::npos) << result.message;
}

TEST(Scheduler, DeadlinesPassInSimulatedTimeOnly) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  RandomStrategy strategy(2);
  const RunResult result = scheduler.run(strategy, &wait_with_deadline_body, &c);
  EXPECT_EQ(result.status, RunStatus::Completed);
  EXPECT_GE(result.now_ns, 2'000'000'000ull);  // two simulated seconds, no real sleep
}

TEST(Scheduler, SameSeedSameTrace) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  c.steps_per_actor = 20;
  RandomStrategy first(42);
  c.word = 0;
  const RunResult a = scheduler.run(first, &increment_body, &c);
  RandomStrategy second(42);
  c.word = 0;
  const RunResult b = scheduler.run(second, &increment_body, &c);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.choices, b.choices);
  ReplayStrategy replay(a.choices, true);
  c.word = 0;
  const RunResult again = scheduler.run(replay, &increment_body, &c);
  EXPECT_EQ(again.trace_hash, a.trace_hash);
  EXPECT_FALSE(replay.diverged_at().has_value());
}

TEST(Scheduler, ExhaustiveSearchCoversTheBoundedSpaceAndSaysSo) {
  Scheduler scheduler(2, Scheduler::Options{.memory = MemoryModel::Sequential});  // actor choices only: read choices are weak_memory_test's
  Counters c;
  c.scheduler = &scheduler;
  for (std::uint32_t bound : {0u, 1u, 2u, 8u}) {
    ExhaustiveStrategy strategy(bound);
    std::set<std::string> schedules;  // as schedule strings (g++ 12 misreports a set of vectors)
    std::set<std::uint64_t> finals;
    bool exhausted = false;
    for (int run = 0; run < 10'000; ++run) {
      strategy.begin_run();
      c.word = 0;
      const RunResult result = scheduler.run(strategy, &increment_body, &c);
      ASSERT_EQ(result.status, RunStatus::Completed);
      ASSERT_LE(result.preemptions, bound);
      EXPECT_TRUE(schedules.insert(encode_schedule(result.choices)).second) << "a schedule ran twice";
      finals.insert(c.word);
      if (!strategy.advance()) {
        exhausted = true;
        break;
      }
    }
    EXPECT_TRUE(exhausted);
    EXPECT_FALSE(strategy.nondeterminism_seen());
    if (bound == 0) {
      EXPECT_EQ(schedules.size(), 2u);  // who goes first; nobody is preempted
    } else {
      EXPECT_TRUE(finals.count(2) || finals.count(3)) << "bound " << bound;
    }
  }
}

TEST(Scheduler, PctRunsTheHighestPriorityActor) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  // Depth 1: no change points, so one actor runs to the end before the other starts.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PctStrategy strategy(seed, 2, 1, 10);
    c.word = 0;
    const RunResult result = scheduler.run(strategy, &increment_body, &c);
    EXPECT_EQ(result.preemptions, 0u);
    EXPECT_EQ(c.word, 4u);
  }
}

TEST(ScheduleString, RoundTrips) {
  const std::vector<std::uint8_t> choices{0, 0, 0, 1, 0, 0, 2, 2, 1};
  EXPECT_EQ(encode_schedule(choices), "a3ba2c2b");
  const auto decoded = decode_schedule("a3ba2c2b");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(*decoded == choices);
  const auto empty = decode_schedule("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(decode_schedule("a1").has_value());
  EXPECT_FALSE(decode_schedule("z").has_value());
  EXPECT_FALSE(decode_schedule("3a").has_value());
}

}  // namespace

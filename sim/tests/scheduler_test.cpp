// The scheduler on its own: fibers, simulated time, deadlock detection, determinism, strategies
// and schedule strings, with tiny actor bodies instead of a lane.
#include "indexbus/sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
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
  // 't': a clock jump (scheduler.hpp, "Clock jumps").
  const std::vector<std::uint8_t> jumps{0, kClockChoice, 1, 1, kClockChoice, kClockChoice, 0};
  EXPECT_EQ(encode_schedule(jumps), "atb2t2a");
  EXPECT_TRUE(decode_schedule("atb2t2a") == jumps);
  EXPECT_FALSE(decode_schedule("3a").has_value());
}

// ---- Clock jumps ----

// Records every actor decision it is asked, choosing like the random walk (or the clock at the
// listed steps, where offered).
class Spy final : public Strategy {
 public:
  explicit Spy(std::uint64_t seed, std::set<std::uint64_t> jump_at = {}) : random_(seed), jump_at_(std::move(jump_at)) {}
  std::uint32_t choose(const Decision& d) override {
    if (d.kind == DecisionKind::Actor) decisions.push_back(d);
    if (d.kind == DecisionKind::Actor && d.jumps_left != 0 && jump_at_.erase(d.step) != 0) return kClockChoice;
    Decision actors_only = d;
    actors_only.jumps_left = 0;
    return random_.choose(actors_only);
  }
  std::vector<Decision> decisions;

 private:
  RandomStrategy random_;
  std::set<std::uint64_t> jump_at_;
};

struct Jumps {
  std::uint32_t calls = 0;
  std::vector<std::uint64_t> at_ns;
  std::vector<std::uint64_t> jumped_ns;
};
Jumps* g_jumps = nullptr;
void note_jump(void*, std::uint64_t jump_ns) {
  ++g_jumps->calls;
  g_jumps->jumped_ns.push_back(jump_ns);
}

// Actor 0 counts (racy increments); actor 1 parks on a flag nobody sets, with a deadline of
// 150 ns, and notes when it woke.
struct Sleeper {
  Scheduler* scheduler = nullptr;
  std::uint64_t word = 0;
  std::uint32_t flag = 0;
  std::uint64_t woke_at_ns = 0;
  std::uint64_t counted_when_woken = 0;
};
void count_or_sleep_body(void* context, std::uint32_t actor) {
  auto& c = *static_cast<Sleeper*>(context);
  SimPlatform platform(*c.scheduler, true);
  if (actor == 0) {
    for (int i = 0; i < 20; ++i) {
      const std::uint64_t seen = platform.load(c.word, std::memory_order_relaxed);
      platform.store(c.word, seen + 1, std::memory_order_relaxed);
    }
    return;
  }
  // Bounded by the deadline, as every lane's wait (the park slice may end it early).
  while (platform.now_ns() < 150) platform.wait(c.flag, 0, 150);
  c.woke_at_ns = platform.now_ns();
  c.counted_when_woken = c.word;
}

TEST(ClockJumps, AreOfferedOnlyWhenOptedIn) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  c.steps_per_actor = 10;
  // Never opted in, and opted out again (max_jumps 0): the decisions of a scheduler without
  // jumps, only where two actors can run, and the same schedule for a seed.
  Spy before(7);
  const RunResult a = scheduler.run(before, &increment_body, &c);
  scheduler.set_clock_jumps(5, 2, nullptr);
  scheduler.set_clock_jumps(0, 0, nullptr);
  Spy after(7);
  c.word = 0;
  const RunResult b = scheduler.run(after, &increment_body, &c);
  EXPECT_EQ(a.choices, b.choices);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  ASSERT_FALSE(after.decisions.empty());
  for (const Decision& d : after.decisions) {
    EXPECT_EQ(d.jumps_left, 0u);
    EXPECT_GE(std::popcount(d.runnable_mask), 2);
  }
  EXPECT_EQ(b.clock_jumps, 0u);
  // Opted in: every point is a decision, one actor runnable or two, and jumps are offered.
  scheduler.set_clock_jumps(5, 2, nullptr);
  Spy on(7);
  c.word = 0;
  const RunResult d = scheduler.run(on, &increment_body, &c);
  EXPECT_EQ(d.status, RunStatus::Completed);
  EXPECT_GT(on.decisions.size(), after.decisions.size());
  EXPECT_TRUE(std::any_of(on.decisions.begin(), on.decisions.end(),
                          [](const Decision& x) { return std::popcount(x.runnable_mask) == 1; }));
  EXPECT_TRUE(std::all_of(on.decisions.begin(), on.decisions.end(), [](const Decision& x) { return x.jumps_left == 2; }));
  scheduler.set_clock_jumps(0, 0, nullptr);
}

TEST(ClockJumps, AreBoundedMoveTheClockAtOnceAndReleaseWaiters) {
  Scheduler scheduler(2, Scheduler::Options{.memory = MemoryModel::Sequential});
  Sleeper c;
  c.scheduler = &scheduler;
  Jumps jumps;
  g_jumps = &jumps;
  scheduler.set_clock_moves_only_when_idle(true);
  scheduler.set_clock_jumps(100, 2, &note_jump);
  // The strategy asks for the clock at three points; two jumps are allowed.
  Spy spy(3, {10, 20, 30});
  const RunResult result = scheduler.run(spy, &count_or_sleep_body, &c);
  ASSERT_EQ(result.status, RunStatus::Completed) << result.message;
  EXPECT_EQ(result.clock_jumps, 2u);
  EXPECT_EQ(jumps.calls, 2u);  // the hook, once per jump
  EXPECT_EQ(jumps.jumped_ns, (std::vector<std::uint64_t>{100, 100}));
  EXPECT_EQ(std::count(result.choices.begin(), result.choices.end(), kClockChoice), 2);
  // Each jump spends one; after the last none is offered (the ask at step 30 found none).
  ASSERT_FALSE(spy.decisions.empty());
  for (std::size_t i = 1; i < spy.decisions.size(); ++i) {
    EXPECT_LE(spy.decisions[i].jumps_left, spy.decisions[i - 1].jumps_left);
  }
  EXPECT_EQ(spy.decisions.front().jumps_left, 2u);
  EXPECT_EQ(spy.decisions.back().jumps_left, 0u);
  // The sleeper's deadline (150) passed at the second jump while the counter still ran: it woke
  // at 200 (the clock moves at jumps only here), before the counter finished.
  EXPECT_EQ(c.woke_at_ns, 200u);
  EXPECT_LT(c.counted_when_woken, 20u);
  EXPECT_EQ(result.now_ns, 200u);
  scheduler.set_clock_jumps(0, 0, nullptr);
  scheduler.set_clock_moves_only_when_idle(false);
  g_jumps = nullptr;
}

TEST(ClockJumps, ReplayFromTheScheduleString) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  c.steps_per_actor = 20;
  scheduler.set_clock_jumps(1000, 3, nullptr);
  std::uint32_t with_jumps = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    RandomStrategy strategy(seed, 8);
    c.word = 0;
    const RunResult run = scheduler.run(strategy, &increment_body, &c);
    ASSERT_EQ(run.status, RunStatus::Completed);
    ASSERT_LE(run.clock_jumps, 3u);
    if (run.clock_jumps == 0) continue;
    ++with_jumps;
    const std::string text = encode_schedule(run.choices);
    EXPECT_NE(text.find('t'), std::string::npos) << text;
    const auto decoded = decode_schedule(text);
    ASSERT_TRUE(decoded.has_value());
    ReplayStrategy replay(*decoded, true);
    c.word = 0;
    const RunResult again = scheduler.run(replay, &increment_body, &c);
    EXPECT_FALSE(replay.diverged_at().has_value()) << text;
    EXPECT_EQ(again.trace_hash, run.trace_hash) << text;
    EXPECT_EQ(again.choices, run.choices);
    EXPECT_EQ(again.clock_jumps, run.clock_jumps);
    EXPECT_EQ(again.now_ns, run.now_ns);
    // Without its jumps, the same schedule replays leniently with the clock where it was not moved.
    std::vector<std::uint8_t> no_jumps = run.choices;
    std::erase(no_jumps, kClockChoice);
    ReplayStrategy without(no_jumps, true);
    c.word = 0;
    const RunResult plain = scheduler.run(without, &increment_body, &c);
    EXPECT_FALSE(without.diverged_at().has_value()) << text;
    EXPECT_EQ(plain.clock_jumps, 0u);
    EXPECT_EQ(plain.now_ns + 1000 * run.clock_jumps, run.now_ns);
  }
  EXPECT_GT(with_jumps, 10u);
  scheduler.set_clock_jumps(0, 0, nullptr);
}

TEST(ClockJumps, ExhaustiveSearchEnumeratesThemWithinThePreemptionBound) {
  Scheduler scheduler(2, Scheduler::Options{.memory = MemoryModel::Sequential});
  Counters c;
  c.scheduler = &scheduler;
  scheduler.set_clock_jumps(10, 2, nullptr);
  for (std::uint32_t bound : {0u, 1u, 2u}) {
    ExhaustiveStrategy strategy(bound);
    std::set<std::string> schedules;
    std::set<std::uint32_t> jump_counts;
    bool exhausted = false;
    for (int run = 0; run < 20'000; ++run) {
      strategy.begin_run();
      c.word = 0;
      const RunResult result = scheduler.run(strategy, &increment_body, &c);
      ASSERT_EQ(result.status, RunStatus::Completed);
      ASSERT_LE(result.preemptions, bound);  // a jump counts as one
      EXPECT_TRUE(schedules.insert(encode_schedule(result.choices)).second) << "a schedule ran twice";
      jump_counts.insert(result.clock_jumps);
      if (!strategy.advance()) {
        exhausted = true;
        break;
      }
    }
    EXPECT_TRUE(exhausted) << "bound " << bound;
    EXPECT_FALSE(strategy.nondeterminism_seen());
    EXPECT_EQ(*jump_counts.rbegin(), bound) << "bound " << bound;  // up to the bound, and no more
  }
  scheduler.set_clock_jumps(0, 0, nullptr);
}

TEST(ClockJumps, PctPlacesThemAtItsJumpSteps) {
  Scheduler scheduler(2, {});
  Counters c;
  c.scheduler = &scheduler;
  c.steps_per_actor = 20;
  std::uint32_t with_jumps = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    scheduler.set_clock_jumps(10, 2, nullptr);
    PctStrategy strategy(seed, 2, 1, 80);
    c.word = 0;
    const RunResult result = scheduler.run(strategy, &increment_body, &c);
    ASSERT_EQ(result.status, RunStatus::Completed);
    EXPECT_LE(result.clock_jumps, 2u);
    with_jumps += result.clock_jumps != 0 ? 1 : 0;
    // Jumps do not change the priorities: depth 1 still runs one actor to the end first.
    EXPECT_EQ(c.word, 40u);
  }
  EXPECT_GT(with_jumps, 10u);
  scheduler.set_clock_jumps(0, 0, nullptr);
}

}  // namespace

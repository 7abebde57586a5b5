// Litmus tests of the weak memory model (weak_memory.hpp) and of the simulated primitives
// (sim_platform.hpp): each shape's weak outcome must be reachable where C++ allows it and
// unreachable where the orders (or fences, or membarrier) forbid it; each forbidding test has a
// twin with one order weakened that must reach the outcome, so no test passes vacuously.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <utility>

#include "indexbus/sim/sim_platform.hpp"
#include "indexbus/sim/strategy.hpp"

namespace indexbus::sim {
namespace {

constexpr std::uint64_t kSeeds = 3000;

struct Litmus {
  Scheduler* scheduler = nullptr;
  Barrier barrier = Barrier::Membarrier;
  const Weakening* plant = nullptr;  // a barrier of RealPlatform's composition planted away
  std::memory_order store_order = std::memory_order_relaxed;
  std::memory_order load_order = std::memory_order_relaxed;
  bool fences = false;       // SB: a seq_cst fence between each side's store and load
  bool membarrier = false;   // SB: the announce side calls membarrier (RealPlatform's composition)
  std::uint64_t x = 0;
  std::uint64_t y = 0;
  std::uint64_t r0 = 0;
  std::uint64_t r1 = 0;
  std::array<std::byte, 16> data{};
  std::array<std::byte, 16> copy{};
  std::uint32_t flag = 0;  // fallback_body: the waiter's flag
};

// Message passing: actor 0 writes x then y; actor 1 reads y then x.
void mp_body(void* context, std::uint32_t actor) {
  auto& t = *static_cast<Litmus*>(context);
  SimPlatform platform(*t.scheduler, false, t.barrier);
  if (actor == 0) {
    platform.store(t.x, std::uint64_t{1}, std::memory_order_relaxed);
    platform.store(t.y, std::uint64_t{1}, t.store_order);
  } else {
    t.r0 = platform.load(t.y, t.load_order);
    t.r1 = platform.load(t.x, std::memory_order_relaxed);
  }
}

// Store buffering: each actor stores its word, then loads the other's.
void sb_body(void* context, std::uint32_t actor) {
  auto& t = *static_cast<Litmus*>(context);
  SimPlatform platform(*t.scheduler, true, t.barrier);
  platform.plant(t.plant);
  std::uint64_t& mine = actor == 0 ? t.x : t.y;
  std::uint64_t& other = actor == 0 ? t.y : t.x;
  if (t.membarrier) {
    // Actor 0 is the waiter (announce_waiter), actor 1 the publisher (publish_then_load_flag).
    if (actor == 0) {
      platform.store(mine, std::uint64_t{1}, std::memory_order_relaxed);
      (void)platform.os().membarrier(Where::current());
      t.r0 = platform.load(other, std::memory_order_relaxed);
    } else {
      platform.store(mine, std::uint64_t{1}, std::memory_order_release);
      platform.os().compiler_fence(Where::current());
      t.r1 = platform.load(other, std::memory_order_relaxed);
    }
    return;
  }
  platform.store(mine, std::uint64_t{1}, t.store_order);
  if (t.fences) platform.os().thread_fence(std::memory_order_seq_cst, Where::current());
  (actor == 0 ? t.r0 : t.r1) = platform.load(other, t.load_order);
}

// RealPlatform's seq_cst fallback pair, as the lanes use it: actor 0 announces itself
// (announce_waiter: seq_cst store of the flag, then a seq_cst fence) and re-checks the cursor
// with acquire; actor 1 publishes the cursor (publish_then_load_flag: seq_cst store, seq_cst
// load of the flag). r0: the cursor the waiter saw; r1: the flag the publisher saw.
void fallback_body(void* context, std::uint32_t actor) {
  auto& t = *static_cast<Litmus*>(context);
  SimPlatform platform(*t.scheduler, true, Barrier::SeqCst);
  platform.plant(t.plant);
  if (actor == 0) {
    platform.announce_waiter(t.flag, std::uint32_t{1});
    t.r0 = platform.load(t.x, std::memory_order_acquire);
  } else {
    t.r1 = platform.publish_then_load_flag(t.x, std::uint64_t{1}, t.flag);
  }
}

// Plain data handed over through a flag: a race unless release/acquire order them.
void handoff_body(void* context, std::uint32_t actor) {
  auto& t = *static_cast<Litmus*>(context);
  SimPlatform platform(*t.scheduler, false, t.barrier);
  if (actor == 0) {
    const std::array<std::byte, 16> value{std::byte{7}};
    platform.copy_to_shared(t.data.data(), value.data(), value.size());
    platform.store(t.y, std::uint64_t{1}, t.store_order);
  } else {
    for (std::uint32_t round = 0; platform.load(t.y, t.load_order) == 0; ++round) {
      if (round > 64) return;  // bounded; the writer may not have run yet
      platform.pause(round, kNoDeadline);
    }
    platform.copy_from_shared(t.copy.data(), t.data.data(), t.data.size());
  }
}

Scheduler::Options weak_options() {
  Scheduler::Options options;
  options.memory = MemoryModel::Weak;
  return options;
}

// The set of (r0, r1) outcomes over kSeeds random schedules; fails the test on a failed run.
std::set<std::pair<std::uint64_t, std::uint64_t>> outcomes(Litmus& t, Scheduler::Body body, MemoryModel memory) {
  Scheduler::Options options;
  options.memory = memory;
  Scheduler scheduler(2, options);
  t.scheduler = &scheduler;
  std::set<std::pair<std::uint64_t, std::uint64_t>> seen;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    t.x = t.y = t.r0 = t.r1 = 0;
    t.flag = 0;
    RandomStrategy strategy(seed);
    const RunResult result = scheduler.run(strategy, body, &t);
    EXPECT_EQ(result.status, RunStatus::Completed) << "seed " << seed << ": " << result.message;
    seen.insert({t.r0, t.r1});
  }
  return seen;
}

TEST(WeakMemory, MessagePassingWithRelaxedFlagReadsStaleData) {
  Litmus t;
  const auto weak = outcomes(t, &mp_body, MemoryModel::Weak);
  EXPECT_TRUE(weak.count({1, 0})) << "flag seen, data not: allowed with relaxed orders";
  EXPECT_FALSE(outcomes(t, &mp_body, MemoryModel::Sequential).count({1, 0})) << "never under sc";
}

TEST(WeakMemory, MessagePassingWithReleaseAcquireNeverReadsStaleData) {
  Litmus t;
  t.store_order = std::memory_order_release;
  t.load_order = std::memory_order_acquire;
  const auto weak = outcomes(t, &mp_body, MemoryModel::Weak);
  EXPECT_FALSE(weak.count({1, 0}));
  EXPECT_TRUE(weak.count({1, 1}));
  EXPECT_TRUE(weak.count({0, 0}) || weak.count({0, 1}));
}

TEST(WeakMemory, StoreBufferingIsAllowedWithReleaseAcquireAndSeqCstStoresAlone) {
  Litmus t;
  t.store_order = std::memory_order_release;
  t.load_order = std::memory_order_acquire;
  EXPECT_TRUE(outcomes(t, &sb_body, MemoryModel::Weak).count({0, 0}));
  // A seq_cst store followed by a non-seq_cst load orders nothing (the announce_waiter fallback
  // without its fence).
  t.store_order = std::memory_order_seq_cst;
  EXPECT_TRUE(outcomes(t, &sb_body, MemoryModel::Weak).count({0, 0}));
}

TEST(WeakMemory, StoreBufferingIsForbiddenBySeqCstOrFences) {
  Litmus t;
  t.store_order = std::memory_order_seq_cst;
  t.load_order = std::memory_order_seq_cst;
  EXPECT_FALSE(outcomes(t, &sb_body, MemoryModel::Weak).count({0, 0}));
  t.store_order = std::memory_order_relaxed;
  t.load_order = std::memory_order_relaxed;
  t.fences = true;
  const auto fenced = outcomes(t, &sb_body, MemoryModel::Weak);
  EXPECT_FALSE(fenced.count({0, 0}));
  EXPECT_TRUE(fenced.count({1, 1}));
}

TEST(WeakMemory, MembarrierOnOneSideForbidsStoreBufferingAndItsAbsenceDoesNot) {
  Litmus t;
  t.membarrier = true;
  EXPECT_FALSE(outcomes(t, &sb_body, MemoryModel::Weak).count({0, 0}));
  // The same shape with the barrier planted away: both loads may miss.
  Weakening no_membarrier;
  no_membarrier.no_membarrier = true;
  t.plant = &no_membarrier;
  EXPECT_TRUE(outcomes(t, &sb_body, MemoryModel::Weak).count({0, 0}));
}

TEST(WeakMemory, TheFallbackPairForbidsStoreBufferingAndWithItsFencePlantedAwayDoesNot) {
  Litmus t;
  EXPECT_FALSE(outcomes(t, &fallback_body, MemoryModel::Weak).count({0, 0}));
  // The plant removes announce_waiter's fence only: a seq_cst store and an acquire load.
  Weakening no_fence;
  no_fence.no_fallback_fence = true;
  t.plant = &no_fence;
  EXPECT_TRUE(outcomes(t, &fallback_body, MemoryModel::Weak).count({0, 0}));
}

TEST(WeakMemory, PlainDataWithoutReleaseAcquireIsADataRace) {
  Litmus t;
  Scheduler scheduler(2, weak_options());
  t.scheduler = &scheduler;
  std::uint64_t races = 0;
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    t.y = 0;
    RandomStrategy strategy(seed);
    const RunResult result = scheduler.run(strategy, &handoff_body, &t);
    if (result.status == RunStatus::DataRace) {
      ++races;
      EXPECT_NE(result.message.find("no happens-before"), std::string::npos) << result.message;
    }
  }
  EXPECT_GT(races, 0u) << "relaxed flag: the reader's copy races with the writer's";
  t.store_order = std::memory_order_release;
  t.load_order = std::memory_order_acquire;
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    t.y = 0;
    RandomStrategy strategy(seed);
    const RunResult result = scheduler.run(strategy, &handoff_body, &t);
    EXPECT_EQ(result.status, RunStatus::Completed) << "seed " << seed << ": " << result.message;
  }
}

TEST(WeakMemory, ReadChoicesAreInTheScheduleAndReplayBitIdentically) {
  Litmus t;
  Scheduler scheduler(2, weak_options());
  t.scheduler = &scheduler;
  bool found = false;
  for (std::uint64_t seed = 0; seed < kSeeds && !found; ++seed) {
    t.x = t.y = t.r0 = t.r1 = 0;
    RandomStrategy strategy(seed);
    const RunResult first = scheduler.run(strategy, &mp_body, &t);
    if (first.stale_reads == 0) continue;
    found = true;
    const std::string schedule = encode_schedule(first.choices);
    EXPECT_NE(schedule.find_first_of("BCDEFGH"), std::string::npos) << schedule;
    const auto decoded = decode_schedule(schedule);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, first.choices);
    const std::pair<std::uint64_t, std::uint64_t> outcome{t.r0, t.r1};
    t.x = t.y = t.r0 = t.r1 = 0;
    ReplayStrategy replay(*decoded, true);
    const RunResult again = scheduler.run(replay, &mp_body, &t);
    EXPECT_FALSE(replay.diverged_at().has_value());
    EXPECT_EQ(again.trace_hash, first.trace_hash);
    EXPECT_EQ(outcome, (std::pair<std::uint64_t, std::uint64_t>{t.r0, t.r1}));
  }
  EXPECT_TRUE(found);
}

TEST(WeakMemory, AScheduleWithoutReadLettersReplaysAsTheSequentiallyConsistentRun) {
  Litmus t;
  Scheduler sc(2, Scheduler::Options{.memory = MemoryModel::Sequential});
  Scheduler weak(2, weak_options());
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    t.scheduler = &sc;
    t.x = t.y = t.r0 = t.r1 = 0;
    RandomStrategy strategy(seed);
    const RunResult first = sc.run(strategy, &mp_body, &t);
    const auto sc_outcome = std::make_pair(t.r0, t.r1);
    t.scheduler = &weak;
    t.x = t.y = t.r0 = t.r1 = 0;
    ReplayStrategy replay(first.choices, true);
    const RunResult again = weak.run(replay, &mp_body, &t);
    EXPECT_EQ(again.status, RunStatus::Completed);
    EXPECT_EQ(again.stale_reads, 0u);
    EXPECT_EQ(sc_outcome, std::make_pair(t.r0, t.r1)) << "seed " << seed;
  }
}

TEST(WeakMemory, ExhaustiveSearchReachesTheStaleReadWithinItsStaleBound) {
  Litmus t;
  Scheduler scheduler(2, weak_options());
  t.scheduler = &scheduler;
  for (const std::uint32_t stale_bound : {0u, 1u}) {
    ExhaustiveStrategy strategy(2, stale_bound);
    bool stale_outcome = false;
    std::uint64_t runs = 0;
    do {
      t.x = t.y = t.r0 = t.r1 = 0;
      strategy.begin_run();
      const RunResult result = scheduler.run(strategy, &mp_body, &t);
      ASSERT_EQ(result.status, RunStatus::Completed);
      EXPECT_LE(result.stale_reads, stale_bound);
      stale_outcome = stale_outcome || (t.r0 == 1 && t.r1 == 0);
      ASSERT_LT(++runs, 10'000u);
    } while (strategy.advance());
    EXPECT_EQ(stale_outcome, stale_bound == 1) << "stale bound " << stale_bound;
  }
}

}  // namespace
}  // namespace indexbus::sim

// RT-11, MG-10: the router's and the merge's steps allocate nothing. 200k entries through a
// producer -> router (Broadcast, 2 outputs) and producers -> merge (Sequence), counted by replacing
// the global operator new for this executable; the loops allocate only when they are created.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/router.hpp"
#include "loop_lanes.hpp"

#include "count_allocations.hpp"

namespace indexbus {
namespace {

constexpr std::uint64_t kEntries = 200'000;

TEST(LoopAllocFree, RouterStepAllocatesNothing) {
  testing::LoopLanes lanes({{OnFull::Block, 64, 32}, {OnFull::Block, 64, 32}, {OnFull::Drop, 64, 32}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer producer(platform, lanes.ref(0));
  EventsConsumer consumer(platform, lanes.ref(1));
  const std::array<EventsLaneRef, 2> outputs{lanes.ref(1), lanes.ref(2)};
  Router router(platform, lanes.ref(0), outputs, RouterPolicy::Broadcast);
  std::array<std::byte, 32> in{}, out{};
  const std::uint64_t before = g_allocations.load();
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    std::memcpy(in.data(), &i, 8);
    if (producer.try_write(in) != WriteStatus::Ok) FAIL() << "write " << i;
    if (router.step() != LoopStatus::Progress) FAIL() << "step " << i;
    if (consumer.try_read(out).status != ReadStatus::Entry) FAIL() << "read " << i;
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

TEST(LoopAllocFree, MergeStepAllocatesNothing) {
  testing::LoopLanes lanes({{OnFull::Block, 64, 32}, {OnFull::Block, 64, 32}, {OnFull::Block, 64, 32}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer a(platform, lanes.ref(0));
  EventsProducer b(platform, lanes.ref(1));
  EventsConsumer consumer(platform, lanes.ref(2));
  const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
  Merge merge(platform, inputs, lanes.ref(2), MergePolicy::Sequence);
  std::array<std::byte, 32> in{}, out{};
  // One entry ahead on each input, so that Sequence always has both heads (MG-4).
  ASSERT_EQ(a.try_write(in), WriteStatus::Ok);
  ASSERT_EQ(b.try_write(in), WriteStatus::Ok);
  const std::uint64_t before = g_allocations.load();
  for (std::uint64_t i = 1; i < kEntries; ++i) {
    std::memcpy(in.data(), &i, 8);
    if (a.try_write(in) != WriteStatus::Ok || b.try_write(in) != WriteStatus::Ok) FAIL() << "write " << i;
    for (int k = 0; k < 2; ++k) {
      if (merge.step() != LoopStatus::Progress) FAIL() << "step " << i;
      if (consumer.try_read(out).status != ReadStatus::Entry) FAIL() << "read " << i;
    }
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

}  // namespace
}  // namespace indexbus

// The hot path allocates nothing: 1M write/read pairs on each policy, counted by replacing the
// global operator new for this executable.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

#include "count_allocations.hpp"

namespace indexbus {
namespace {

class AllocFree : public ::testing::TestWithParam<OnFull> {};

TEST_P(AllocFree, OneMillionPairsAllocateNothing) {
  testing::TempRegionPath path("alloc");
  const LaneSpec spec{LaneKind::Events, GetParam(), 64, 64, 1};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok());
  RealPlatform platform(WaitStrategy::Park);
  const auto ref = events_lane_ref(region->lane_block(0), region->lane(0));
  EventsProducer producer(platform, ref);
  EventsConsumer consumer(platform, ref);
  std::array<std::byte, 64> in{}, out{};
  constexpr std::uint64_t kPairs = 1'000'000;
  const std::uint64_t before = g_allocations.load();
  std::uint64_t checksum = 0;
  for (std::uint64_t i = 0; i < kPairs; ++i) {
    in[0] = static_cast<std::byte>(i);
    if (producer.write(in, platform.now_ns() + 1'000'000'000) != WriteStatus::Ok) FAIL();
    const auto r = consumer.read(out, platform.now_ns() + 1'000'000'000);
    if (r.status != ReadStatus::Entry || r.seq != i) FAIL() << "at " << i;
    checksum += static_cast<std::uint64_t>(out[0]);
  }
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(checksum, 0u);
}

INSTANTIATE_TEST_SUITE_P(Policies, AllocFree, ::testing::Values(OnFull::Block, OnFull::Drop));

// The counter the allocation tests trust (count_allocations.hpp) sees an allocation. A call of
// the operator itself, not a new-expression, which the compiler may elide.
TEST(CountAllocations, SeesAnAllocation) {
  const std::uint64_t before = g_allocations.load();
  void* p = ::operator new(16);
  const std::uint64_t after = g_allocations.load();
  ::operator delete(p);
  EXPECT_EQ(after - before, 1u);
}

}  // namespace
}  // namespace indexbus

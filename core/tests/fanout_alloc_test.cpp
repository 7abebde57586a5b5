// The FanoutBroadcast hot path allocates nothing: 250k writes, each read by 4 consumers, on each
// policy (plus a Drop phase where the consumers are lapped and read Lost), counted by replacing the
// global operator new for this executable.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "indexbus/fanout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

#include "count_allocations.hpp"

namespace indexbus {
namespace {

class FanoutAllocFree : public ::testing::TestWithParam<OnFull> {};

TEST_P(FanoutAllocFree, WritesAndReadsAllocateNothing) {
  constexpr std::uint32_t kConsumers = 4;
  testing::TempRegionPath path("fanout-alloc");
  const LaneSpec spec{LaneKind::FanoutBroadcast, GetParam(), 64, 64, kConsumers};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok());
  RealPlatform platform(WaitStrategy::Park);
  const RingLaneRef ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  FanoutProducer<RealPlatform> producer(platform, ref);
  std::vector<FanoutConsumer<RealPlatform>> consumers;
  for (std::uint32_t i = 0; i < kConsumers; ++i) consumers.emplace_back(platform, ref, i);
  std::array<std::byte, 64> in{}, out{};
  constexpr std::uint64_t kWrites = 250'000;
  const std::uint64_t before = g_allocations.load();
  std::uint64_t checksum = 0;
  for (std::uint64_t i = 0; i < kWrites; ++i) {
    in[0] = static_cast<std::byte>(i | 1);
    if (producer.write(in, platform.now_ns() + 1'000'000'000) != WriteStatus::Ok) FAIL();
    for (auto& consumer : consumers) {
      const auto r = consumer.read(out, platform.now_ns() + 1'000'000'000);
      if (r.status != ReadStatus::Entry || r.seq != i) FAIL() << "at " << i;
      checksum += static_cast<std::uint64_t>(out[0]);
    }
  }
  if (GetParam() == OnFull::Drop) {
    // Lap every consumer: the Lost path must not allocate either.
    for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(producer.try_write(in), WriteStatus::Ok);
    for (auto& consumer : consumers) ASSERT_EQ(consumer.try_read(out).status, ReadStatus::Lost);
  }
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(checksum, 0u);
}

INSTANTIATE_TEST_SUITE_P(Policies, FanoutAllocFree, ::testing::Values(OnFull::Block, OnFull::Drop));

}  // namespace
}  // namespace indexbus

// The SequencedSlots hot path allocates nothing: 200k claim/publish and three gated reads per
// entry on each policy, counted by replacing the global operator new for this executable.
// (Attaching allocates: its errors carry messages. It is done before counting starts.)
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "temp_region_path.hpp"

#include "count_allocations.hpp"

namespace indexbus {
namespace {

class SequencedAllocFree : public ::testing::TestWithParam<OnFull> {};

TEST_P(SequencedAllocFree, PipelineAllocatesNothing) {
  testing::TempRegionPath path("ssalloc");
  const LaneSpec spec{LaneKind::SequencedSlots, GetParam(), 64, 64, 3, 0, {0, 0b1, 0b10}};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok());
  RealPlatform platform(WaitStrategy::Park);
  const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  auto producer = attach_sequenced_producer(platform, ref);
  auto c0 = attach_sequenced_consumer(platform, ref, 0);
  auto c1 = attach_sequenced_consumer(platform, ref, 1);
  auto c2 = attach_sequenced_consumer(platform, ref, 2);
  ASSERT_TRUE(producer.ok() && c0.ok() && c1.ok() && c2.ok());
  std::array<std::byte, 64> out{};
  constexpr std::uint64_t kEntries = 200'000;
  const std::uint64_t before = g_allocations.load();
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    const ClaimResult c = producer->claim(platform.now_ns() + 1'000'000'000);
    if (c.status != WriteStatus::Ok) FAIL();
    std::memcpy(c.payload.data(), &i, sizeof(i));
    if (producer->publish(sizeof(i)) != WriteStatus::Ok) FAIL();
    for (auto* consumer : {&c0.value(), &c1.value(), &c2.value()}) {
      const ReadResult r = consumer->read(out, platform.now_ns() + 1'000'000'000);
      if (r.status != ReadStatus::Entry || r.seq != i) FAIL() << "at " << i;
    }
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

INSTANTIATE_TEST_SUITE_P(Policies, SequencedAllocFree, ::testing::Values(OnFull::Block, OnFull::Drop),
                         [](const ::testing::TestParamInfo<OnFull>& param_info) {
                           return std::string(param_info.param == OnFull::Block ? "Block" : "Drop");
                         });

}  // namespace
}  // namespace indexbus

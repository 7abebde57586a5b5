// The Journal hot path allocates nothing: 200k write/read/commit/read_at/heartbeat rounds with two
// readers on each policy, counted by replacing the global operator new for this executable.
// (attach() may allocate: it returns an Error with a message on failure.)
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

#include "count_allocations.hpp"

namespace indexbus {
namespace {

class JournalAllocFree : public ::testing::TestWithParam<OnFull> {};

TEST_P(JournalAllocFree, HotPathAllocatesNothing) {
  testing::TempRegionPath path("journal-alloc");
  const LaneSpec spec{LaneKind::Journal, GetParam(), 64, 64, 2, 1'000'000'000, {}};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok());
  RealPlatform platform(WaitStrategy::Park);
  const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  JournalWriter writer(platform, ref);
  auto a = JournalReader<RealPlatform>::attach(platform, ref, "a");
  auto b = JournalReader<RealPlatform>::attach(platform, ref, "");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  std::array<std::byte, 64> in{}, out{};
  constexpr std::uint64_t kRounds = 200'000;
  const std::uint64_t before = g_allocations.load();
  std::uint64_t checksum = 0;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    in[0] = static_cast<std::byte>(i);
    if (writer.write(in, platform.now_ns() + 1'000'000'000) != WriteStatus::Ok) FAIL() << "write " << i;
    for (auto* reader : {&a.value(), &b.value()}) {
      const auto r = reader->read(out, platform.now_ns() + 1'000'000'000);
      if (r.status != ReadStatus::Entry || r.seq != i) FAIL() << "at " << i;
      if (!reader->commit()) FAIL();
      checksum += static_cast<std::uint64_t>(out[0]);
    }
    if (a->read_at(i, out).status != ReadStatus::Entry) FAIL();
    if (!b->heartbeat()) FAIL();
  }
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(checksum, 0u);
  a->detach();
  b->detach();
}

INSTANTIATE_TEST_SUITE_P(Policies, JournalAllocFree, ::testing::Values(OnFull::Block, OnFull::Drop));

}  // namespace
}  // namespace indexbus

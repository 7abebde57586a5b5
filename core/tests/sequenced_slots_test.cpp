// Unit tests of the SequencedSlots lane (SS-*): gating shapes, the producer gated by the leaves
// only, claim/publish in place, Drop's Lost, close and the attach errors. The model comparison is
// conformance/tests/sequenced_slots_property_test.cpp; this file pins concrete scenarios.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

struct Lane {
  Lane(OnFull on_full, std::uint32_t capacity, std::vector<std::uint64_t> gated_on)
      : path("ssunit"), platform(WaitStrategy::Backoff) {
    const LaneSpec spec{LaneKind::SequencedSlots, on_full, capacity, 16,
                        static_cast<std::uint32_t>(gated_on.size()), 0, std::move(gated_on)};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    EXPECT_TRUE(created.ok()) << created.error().message;
    region.emplace(std::move(created.value()));
    ref = ring_lane_ref(region->lane_block(0), region->lane(0));
    auto p = attach_sequenced_producer(platform, ref);
    EXPECT_TRUE(p.ok());
    producer.emplace(std::move(p.value()));
    for (std::uint32_t i = 0; i < ref.reader_count; ++i) {
      auto c = attach_sequenced_consumer(platform, ref, i);
      EXPECT_TRUE(c.ok());
      consumers.push_back(std::move(c.value()));
    }
  }
  WriteStatus write(std::uint64_t value) {
    const ClaimResult c = producer->try_claim();
    if (c.status != WriteStatus::Ok) return c.status;
    std::memcpy(c.payload.data(), &value, sizeof(value));
    return producer->publish(sizeof(value));
  }
  ReadResult read(std::uint32_t i) { return consumers[i].try_read(out); }
  std::uint64_t value() const {
    std::uint64_t v = 0;
    std::memcpy(&v, out.data(), sizeof(v));
    return v;
  }

  testing::TempRegionPath path;
  RealPlatform platform;
  std::optional<Region> region;
  RingLaneRef ref;
  std::optional<SequencedProducer<RealPlatform>> producer;
  std::vector<SequencedConsumer<RealPlatform>> consumers;
  std::array<std::byte, 16> out{};
};

TEST(SequencedSlots, PipelineEachStageWaitsForTheOneBefore) {  // SS-4, SS-5
  Lane lane(OnFull::Block, 4, {0, 0b1, 0b10});  // A -> B -> C
  ASSERT_EQ(lane.write(41), WriteStatus::Ok);
  EXPECT_EQ(lane.read(2).status, ReadStatus::Empty);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Empty);
  const ReadResult a = lane.read(0);
  ASSERT_EQ(a.status, ReadStatus::Entry);
  EXPECT_EQ(a.seq, 0u);
  EXPECT_EQ(a.payload_bytes, 8u);
  EXPECT_EQ(lane.value(), 41u);
  EXPECT_EQ(lane.read(2).status, ReadStatus::Empty);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(lane.read(2).status, ReadStatus::Entry);
  EXPECT_EQ(lane.value(), 41u);
  EXPECT_EQ(lane.ref.readers[2].cursor_seq, 1u);
}

TEST(SequencedSlots, DiamondJoinWaitsForBothBranches) {  // SS-4
  Lane lane(OnFull::Block, 4, {0, 0b1, 0b1, 0b110});  // 0 -> {1, 2} -> 3
  EXPECT_EQ(lane.producer->leaves_mask(), 0b1000u);
  ASSERT_EQ(lane.write(7), WriteStatus::Ok);
  ASSERT_EQ(lane.read(0).status, ReadStatus::Entry);
  ASSERT_EQ(lane.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(lane.read(3).status, ReadStatus::Empty);  // 2 has not finished 0
  ASSERT_EQ(lane.read(2).status, ReadStatus::Entry);
  EXPECT_EQ(lane.read(3).status, ReadStatus::Entry);
}

TEST(SequencedSlots, BlockProducerIsGatedByLeavesOnly) {  // SS-6, SS-7
  Lane lane(OnFull::Block, 2, {0, 0b1});
  EXPECT_EQ(lane.producer->leaves_mask(), 0b10u);
  ASSERT_EQ(lane.write(1), WriteStatus::Ok);
  ASSERT_EQ(lane.write(2), WriteStatus::Ok);
  EXPECT_EQ(lane.write(3), WriteStatus::Full);
  ASSERT_EQ(lane.read(0).status, ReadStatus::Entry);
  ASSERT_EQ(lane.read(0).status, ReadStatus::Entry);
  EXPECT_EQ(lane.write(3), WriteStatus::Full);  // the leaf has read nothing
  const auto deadline = lane.platform.now_ns() + 2'000'000;
  EXPECT_EQ(lane.producer->claim(deadline).status, WriteStatus::Timeout);
  EXPECT_GE(lane.platform.now_ns(), deadline);
  ASSERT_EQ(lane.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(lane.write(3), WriteStatus::Ok);
}

TEST(SequencedSlots, ClaimWritesInPlaceAndPublishCompletesIt) {  // SS-2
  Lane lane(OnFull::Block, 1, {0});
  const ClaimResult first = lane.producer->try_claim();
  ASSERT_EQ(first.status, WriteStatus::Ok);
  EXPECT_EQ(first.payload.size(), 16u);
  const ClaimResult again = lane.producer->try_claim();
  EXPECT_EQ(again.seq, first.seq);
  EXPECT_EQ(again.payload.data(), first.payload.data());  // the slot itself: no staging copy
  std::memset(first.payload.data(), 0xab, 16);
  EXPECT_EQ(lane.read(0).status, ReadStatus::Empty);  // claimed is not published
  EXPECT_EQ(lane.producer->publish(17), WriteStatus::TooLarge);
  EXPECT_TRUE(lane.producer->claimed());
  ASSERT_EQ(lane.producer->publish(16), WriteStatus::Ok);
  const ReadResult r = lane.read(0);
  ASSERT_EQ(r.status, ReadStatus::Entry);
  EXPECT_EQ(r.payload_bytes, 16u);
  EXPECT_EQ(lane.out[15], std::byte{0xab});
}

TEST(SequencedSlots, DropOverwritesAndReportsExactLoss) {  // SS-8
  Lane lane(OnFull::Drop, 2, {0, 0b1});
  for (std::uint64_t v = 0; v < 5; ++v) ASSERT_EQ(lane.write(v), WriteStatus::Ok);
  const ReadResult lost = lane.read(1);  // ungated: entries 0..2 are gone for everyone
  ASSERT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 3u);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Empty);  // 3 is held, consumer 0 has not finished it
  EXPECT_EQ(lane.read(0).lost_count, 3u);
  ASSERT_EQ(lane.read(0).seq, 3u);
  EXPECT_EQ(lane.value(), 3u);
  ASSERT_EQ(lane.read(1).seq, 3u);
  // A claim destroys the oldest held entry before it is published: held 4, 5; claiming 6 takes
  // slot 4's place.
  ASSERT_EQ(lane.write(5), WriteStatus::Ok);
  ASSERT_EQ(lane.producer->try_claim().status, WriteStatus::Ok);
  EXPECT_EQ(lane.read(0).lost_count, 1u);
  ASSERT_EQ(lane.read(0).seq, 5u);
  EXPECT_EQ(lane.read(0).status, ReadStatus::Empty);
  EXPECT_EQ(lane.ref.readers[0].lost_count, 4u);
  EXPECT_EQ(lane.ref.readers[0].read_count, 2u);
}

TEST(SequencedSlots, CloseAbandonsClaimAndEveryStageDrains) {  // SS-10
  Lane lane(OnFull::Block, 4, {0, 0b1});
  ASSERT_EQ(lane.write(1), WriteStatus::Ok);
  ASSERT_EQ(lane.producer->try_claim().status, WriteStatus::Ok);
  lane.producer->close();
  EXPECT_EQ(lane.producer->publish(8), WriteStatus::Closed);
  EXPECT_EQ(lane.producer->try_claim().status, WriteStatus::Closed);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Empty);
  EXPECT_EQ(lane.read(0).status, ReadStatus::Entry);
  EXPECT_EQ(lane.read(0).status, ReadStatus::Closed);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(lane.read(1).status, ReadStatus::Closed);
}

TEST(SequencedSlots, AttachErrors) {  // SS-1, SS-3
  Lane lane(OnFull::Block, 4, {0, 0b1});
  auto bad_index = attach_sequenced_consumer(lane.platform, lane.ref, 2);
  ASSERT_FALSE(bad_index.ok());
  EXPECT_EQ(bad_index.error().code, ErrorCode::BadReaderIndex);
  // Held by a live process (pid 1): RoleTaken; our own pid: re-attach succeeds.
  lane.ref.readers[1].pid = 1;
  auto taken = attach_sequenced_consumer(lane.platform, lane.ref, 1);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::RoleTaken);
  lane.ref.header->producer_pid = 1;
  auto producer_taken = attach_sequenced_producer(lane.platform, lane.ref);
  ASSERT_FALSE(producer_taken.ok());
  EXPECT_EQ(producer_taken.error().code, ErrorCode::RoleTaken);
  // Cyclic or self gating is refused at creation.
  testing::TempRegionPath path("sscycle");
  for (const std::vector<std::uint64_t>& gating :
       {std::vector<std::uint64_t>{0b10, 0b1}, std::vector<std::uint64_t>{0b1, 0}, std::vector<std::uint64_t>{0b100, 0}}) {
    const LaneSpec spec{LaneKind::SequencedSlots, OnFull::Block, 4, 16, 2, 0, gating};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, ErrorCode::BadGating);
  }
}

// Two threads, Block only (the in-place write is race-free there, so TSan stays exact): the
// producer parks on the leaf and the stages on each other; nothing is lost or reordered.
TEST(SequencedSlots, ThreadedPipelineBlock) {  // SS-4 .. SS-7, SS-12
  for (const WaitStrategy strategy : {WaitStrategy::Backoff, WaitStrategy::Park}) {
    Lane lane(OnFull::Block, 4, {0, 0b1});
    lane.platform = RealPlatform(strategy);
    constexpr std::uint64_t kEntries = 5'000;
    std::array<bool, 2> ok{true, true};
    std::vector<std::thread> threads;
    for (std::uint32_t i = 0; i < 2; ++i) {
      threads.emplace_back([&lane, &ok, i] {
        std::array<std::byte, 16> out{};
        for (std::uint64_t expected = 0;;) {
          const ReadResult r = lane.consumers[i].read(out, lane.platform.now_ns() + 10'000'000'000ull);
          if (r.status == ReadStatus::Closed) {
            ok[i] = ok[i] && expected == kEntries;
            return;
          }
          std::uint64_t v = 0;
          std::memcpy(&v, out.data(), sizeof(v));
          if (r.status != ReadStatus::Entry || r.seq != expected || v != expected * 7) {
            ok[i] = false;
            return;
          }
          ++expected;
        }
      });
    }
    for (std::uint64_t seq = 0; seq < kEntries; ++seq) {
      const ClaimResult c = lane.producer->claim(lane.platform.now_ns() + 10'000'000'000ull);
      ASSERT_EQ(c.status, WriteStatus::Ok);
      const std::uint64_t v = seq * 7;
      std::memcpy(c.payload.data(), &v, sizeof(v));
      ASSERT_EQ(lane.producer->publish(sizeof(v)), WriteStatus::Ok);
    }
    lane.producer->close();
    for (auto& t : threads) t.join();
    EXPECT_TRUE(ok[0]);
    EXPECT_TRUE(ok[1]);
  }
}

}  // namespace
}  // namespace indexbus

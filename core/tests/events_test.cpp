// Events lane on real shared memory: single-threaded edge cases and a two-thread stream.
// The comparison with the model (EV-* rules, random operation sequences) is in
// conformance/tests/events_property_test.cpp; these tests pin behaviour the model cannot see.
#include "indexbus/events.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

struct Lane {
  explicit Lane(OnFull on_full, std::uint32_t capacity = 4, std::uint32_t slot = 16,
                WaitStrategy strategy = WaitStrategy::Backoff)
      : platform(strategy), region(make(on_full, capacity, slot)) {}

  Region make(OnFull on_full, std::uint32_t capacity, std::uint32_t slot) {
    const LaneSpec spec{LaneKind::Events, on_full, capacity, slot, 1};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return std::move(created).value();
  }
  EventsLaneRef ref() { return events_lane_ref(region.lane_block(0), region.lane(0)); }
  EventsLaneHeader& header() { return *ref().header; }

  testing::TempRegionPath path{"events"};
  RealPlatform platform;
  Region region;
};

std::vector<std::byte> bytes_of(std::uint64_t value, std::size_t size = 8) {
  std::vector<std::byte> out(size);
  if (size != 0) std::memcpy(out.data(), &value, std::min<std::size_t>(8, size));
  return out;
}

std::uint64_t value_of(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data(), 8);
  return value;
}

TEST(Events, BlockFifoFullThenEmpty) {  // EV-3, EV-4, EV-6
  Lane lane(OnFull::Block);
  EventsProducer producer(lane.platform, lane.ref());
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::byte, 16> out{};
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Empty);
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(producer.try_write(bytes_of(100 + i)), WriteStatus::Ok);
  EXPECT_EQ(producer.try_write(bytes_of(999)), WriteStatus::Full);
  for (std::uint64_t i = 0; i < 4; ++i) {
    const auto r = consumer.try_read(out);
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(r.payload_bytes, 8u);
    EXPECT_EQ(value_of(out), 100 + i);
  }
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Empty);
  EXPECT_EQ(lane.header().write_seq, 4u);
  EXPECT_EQ(lane.header().read_count, 4u);
}

TEST(Events, BlockWriteTimesOutWhenFull) {  // EV-6
  Lane lane(OnFull::Block, 1);
  EventsProducer producer(lane.platform, lane.ref());
  ASSERT_EQ(producer.try_write(bytes_of(1)), WriteStatus::Ok);
  const auto start = lane.platform.now_ns();
  EXPECT_EQ(producer.write(bytes_of(2), start + 5'000'000), WriteStatus::Timeout);
  EXPECT_GE(lane.platform.now_ns(), start + 5'000'000);
}

TEST(Events, DropOverwritesOldestAndReportsExactLoss) {  // EV-8
  Lane lane(OnFull::Drop, 4);
  EventsProducer producer(lane.platform, lane.ref());
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::byte, 16> out{};
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(producer.try_write(bytes_of(i)), WriteStatus::Ok);
  auto r = consumer.try_read(out);
  ASSERT_EQ(r.status, ReadStatus::Lost);
  EXPECT_EQ(r.lost_count, 6u);
  for (std::uint64_t i = 6; i < 10; ++i) {
    r = consumer.try_read(out);
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(value_of(out), i);
  }
  EXPECT_EQ(lane.header().lost_count, 6u);
  EXPECT_EQ(lane.header().read_count, 4u);
}

TEST(Events, DropDetectsOverwriteAfterStaleCursor) {  // EV-8: loss found through the slot stamp
  Lane lane(OnFull::Drop, 2);
  EventsProducer producer(lane.platform, lane.ref());
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::byte, 16> out{};
  ASSERT_EQ(producer.try_write(bytes_of(0)), WriteStatus::Ok);
  ASSERT_EQ(producer.try_write(bytes_of(1)), WriteStatus::Ok);
  ASSERT_EQ(consumer.try_read(out).status, ReadStatus::Entry);  // caches write_seq = 2
  for (std::uint64_t i = 2; i < 5; ++i) ASSERT_EQ(producer.try_write(bytes_of(i)), WriteStatus::Ok);
  const auto r = consumer.try_read(out);
  ASSERT_EQ(r.status, ReadStatus::Lost);
  EXPECT_EQ(r.lost_count, 2u);  // entries 1 and 2; 3 and 4 remain
  EXPECT_EQ(consumer.try_read(out).seq, 3u);
}

TEST(Events, CloseDrainsThenClosed) {  // EV-10
  Lane lane(OnFull::Block);
  EventsProducer producer(lane.platform, lane.ref());
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::byte, 16> out{};
  ASSERT_EQ(producer.try_write(bytes_of(7)), WriteStatus::Ok);
  producer.close();
  EXPECT_EQ(producer.try_write(bytes_of(8)), WriteStatus::Closed);
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Closed);
  EXPECT_EQ(consumer.read(out, lane.platform.now_ns() + 1'000'000).status, ReadStatus::Closed);
}

TEST(Events, TooLargePayloadRejected) {  // EV-2
  Lane lane(OnFull::Block, 4, 8);
  EventsProducer producer(lane.platform, lane.ref());
  EXPECT_EQ(producer.try_write(bytes_of(1, 9)), WriteStatus::TooLarge);
  EXPECT_EQ(producer.try_write(bytes_of(1, 0)), WriteStatus::Ok);
}

TEST(Events, ReadTimesOutWhenEmpty) {
  Lane lane(OnFull::Drop);
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::byte, 16> out{};
  EXPECT_EQ(consumer.read(out, lane.platform.now_ns() + 2'000'000).status, ReadStatus::Timeout);
}

TEST(Events, ReattachResumesCursors) {
  Lane lane(OnFull::Block);
  std::array<std::byte, 16> out{};
  {
    EventsProducer producer(lane.platform, lane.ref());
    ASSERT_EQ(producer.try_write(bytes_of(1)), WriteStatus::Ok);
    ASSERT_EQ(producer.try_write(bytes_of(2)), WriteStatus::Ok);
    EventsConsumer consumer(lane.platform, lane.ref());
    ASSERT_EQ(consumer.try_read(out).seq, 0u);
  }
  EventsProducer producer(lane.platform, lane.ref());
  EventsConsumer consumer(lane.platform, lane.ref());
  EXPECT_EQ(producer.written(), 2u);
  EXPECT_EQ(consumer.try_read(out).seq, 1u);
}

TEST(Events, RoleClaimIsExclusive) {
  Lane lane(OnFull::Block);
  auto& pid_word = lane.header().producer_pid;
  EXPECT_TRUE(claim_role(lane.platform, pid_word));
  EXPECT_TRUE(claim_role(lane.platform, pid_word));  // same process: idempotent
  lane.platform.store(pid_word, std::uint32_t{1}, std::memory_order_relaxed);  // init: alive
  EXPECT_FALSE(claim_role(lane.platform, pid_word));
  lane.platform.store(pid_word, std::uint32_t{0x7ffffff0}, std::memory_order_relaxed);  // no such pid
  EXPECT_TRUE(claim_role(lane.platform, pid_word));
  release_role(lane.platform, pid_word);
  EXPECT_EQ(pid_word, 0u);
}

// Two threads, every strategy and policy: order, no duplicates, exact accounting.
class EventsStream : public ::testing::TestWithParam<std::tuple<OnFull, WaitStrategy>> {};

TEST_P(EventsStream, InOrderAndAccounted) {  // EV-5, EV-7, EV-8, EV-11
  const auto [on_full, strategy] = GetParam();
  Lane lane(on_full, 8, 24, strategy);
  constexpr std::uint64_t kEntries = 200'000;
  std::thread producer_thread([&] {
    EventsProducer producer(lane.platform, lane.ref());
    for (std::uint64_t i = 0; i < kEntries; ++i) {
      std::array<std::uint64_t, 3> words{i, ~i, i * 3};
      const auto status = producer.write(std::as_bytes(std::span(words)),
                                         lane.platform.now_ns() + 10'000'000'000ull);
      ASSERT_EQ(status, WriteStatus::Ok);
    }
    producer.close();
  });
  EventsConsumer consumer(lane.platform, lane.ref());
  std::array<std::uint64_t, 3> words{};
  std::uint64_t delivered = 0, lost = 0, expected_seq = 0;
  for (;;) {
    const auto r = consumer.read(std::as_writable_bytes(std::span(words)),
                                 lane.platform.now_ns() + 10'000'000'000ull);
    ASSERT_NE(r.status, ReadStatus::Timeout);
    if (r.status == ReadStatus::Closed) break;
    if (r.status == ReadStatus::Lost) {
      ASSERT_EQ(on_full, OnFull::Drop);
      lost += r.lost_count;
      expected_seq += r.lost_count;
      continue;
    }
    ASSERT_EQ(r.status, ReadStatus::Entry);
    ASSERT_EQ(r.seq, expected_seq);
    ASSERT_EQ(words[0], r.seq);  // untorn: all three words from the same entry
    ASSERT_EQ(words[1], ~r.seq);
    ASSERT_EQ(words[2], r.seq * 3);
    ++expected_seq;
    ++delivered;
  }
  producer_thread.join();
  EXPECT_EQ(delivered + lost, kEntries);
  if (on_full == OnFull::Block) {
    EXPECT_EQ(lost, 0u);
  }
  EXPECT_EQ(lane.header().read_count, delivered);
  EXPECT_EQ(lane.header().lost_count, lost);
}

INSTANTIATE_TEST_SUITE_P(
    AllPolicies, EventsStream,
    ::testing::Combine(::testing::Values(OnFull::Block, OnFull::Drop),
                       ::testing::Values(WaitStrategy::Spin, WaitStrategy::Backoff, WaitStrategy::Park)));

}  // namespace
}  // namespace indexbus

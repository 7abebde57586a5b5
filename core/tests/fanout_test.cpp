// FanoutBroadcast lane on real shared memory: attach rules, edge cases the model cannot see
// (bytes in the region, reattach, wrong index) and an in-process multi-thread stream. The model
// comparison (FB-* on random operation sequences) is conformance/tests/fanout_property_test.cpp.
#include "indexbus/fanout.hpp"

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

constexpr std::uint64_t kLongNs = 60'000'000'000ull;  // a hang fails the test instead of stalling CI

struct Lane {
  Lane(OnFull on_full, std::uint32_t consumers, std::uint32_t capacity = 4, std::uint32_t slot = 16,
       WaitStrategy strategy = WaitStrategy::Backoff)
      : platform(strategy), region(make(on_full, consumers, capacity, slot)) {}

  Region make(OnFull on_full, std::uint32_t consumers, std::uint32_t capacity, std::uint32_t slot) {
    const LaneSpec spec{LaneKind::FanoutBroadcast, on_full, capacity, slot, consumers};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return std::move(created).value();
  }
  RingLaneRef ref() { return ring_lane_ref(region.lane_block(0), region.lane(0)); }
  FanoutProducer<RealPlatform> producer() { return FanoutProducer<RealPlatform>(platform, ref()); }
  FanoutConsumer<RealPlatform> consumer(std::uint32_t i) { return FanoutConsumer<RealPlatform>(platform, ref(), i); }

  testing::TempRegionPath path{"fanout"};
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

TEST(Fanout, AttachByIndexIsExclusiveAndBounded) {  // FB-1
  Lane lane(OnFull::Block, 3);
  auto producer = attach_fanout_producer(lane.platform, lane.ref());
  ASSERT_TRUE(producer.ok());
  EXPECT_EQ(lane.ref().header->producer_pid, lane.platform.current_pid());
  auto c2 = attach_fanout_consumer(lane.platform, lane.ref(), 2);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->index(), 2u);
  EXPECT_EQ(lane.ref().readers[2].state, kReaderAttached);
  auto bad = attach_fanout_consumer(lane.platform, lane.ref(), 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::BadReaderIndex);
  // A live foreign holder (our parent process) blocks the claim; a dead one does not.
  lane.ref().readers[1].pid = static_cast<std::uint32_t>(::getppid());
  auto taken = attach_fanout_consumer(lane.platform, lane.ref(), 1);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::RoleTaken);
  lane.ref().header->producer_pid = static_cast<std::uint32_t>(::getppid());
  EXPECT_EQ(attach_fanout_producer(lane.platform, lane.ref()).error().code, ErrorCode::RoleTaken);
  detach_fanout_consumer(lane.platform, lane.ref(), 2);
  EXPECT_EQ(lane.ref().readers[2].pid, 0u);

  const LaneSpec events{LaneKind::Events, OnFull::Block, 4, 16, 1};
  testing::TempRegionPath other("fanout-wrong-kind");
  auto region = Region::create(other.str(), std::span(&events, 1));
  ASSERT_TRUE(region.ok());
  // ring_lane_ref asserts the kind; build the ref by hand to reach attach's own check.
  RingLaneRef wrong = lane.ref();
  wrong.kind = LaneKind::Journal;
  EXPECT_EQ(attach_fanout_consumer(lane.platform, wrong, 0).error().code, ErrorCode::WrongLaneKind);
}

TEST(Fanout, BlockEveryConsumerGetsEveryEntryAndSlowestGates) {  // FB-3, FB-4, FB-6
  Lane lane(OnFull::Block, 3);
  auto producer = lane.producer();
  auto c0 = lane.consumer(0);
  auto c1 = lane.consumer(1);
  auto c2 = lane.consumer(2);
  std::array<std::byte, 16> out{};
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(producer.try_write(bytes_of(100 + i)), WriteStatus::Ok);
  EXPECT_EQ(producer.try_write(bytes_of(999)), WriteStatus::Full);
  for (auto* c : {&c0, &c1}) {
    for (std::uint64_t i = 0; i < 4; ++i) {
      const auto r = c->try_read(out);
      ASSERT_EQ(r.status, ReadStatus::Entry);
      EXPECT_EQ(r.seq, i);
      EXPECT_EQ(value_of(out), 100 + i);
    }
  }
  // Consumer 2 has read nothing: it still gates the producer.
  EXPECT_EQ(producer.try_write(bytes_of(999)), WriteStatus::Full);
  const auto start = lane.platform.now_ns();
  EXPECT_EQ(producer.write(bytes_of(999), start + 2'000'000), WriteStatus::Timeout);
  EXPECT_GE(lane.platform.now_ns(), start + 2'000'000);
  ASSERT_EQ(c2.try_read(out).seq, 0u);
  EXPECT_EQ(producer.try_write(bytes_of(104)), WriteStatus::Ok);
  EXPECT_EQ(lane.ref().readers[2].cursor_seq, 1u);
  EXPECT_EQ(lane.ref().readers[0].read_count, 4u);
  EXPECT_EQ(lane.ref().header->write_seq, 5u);
}

TEST(Fanout, DropLappedConsumerLosesExactlyOthersUnaffected) {  // FB-7, FB-8
  Lane lane(OnFull::Drop, 2, 4);
  auto producer = lane.producer();
  auto fast = lane.consumer(0);
  auto slow = lane.consumer(1);
  std::array<std::byte, 16> out{};
  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_EQ(producer.try_write(bytes_of(i)), WriteStatus::Ok);
    const auto r = fast.try_read(out);
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(value_of(out), i);
  }
  const auto lost = slow.try_read(out);
  ASSERT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 6u);
  for (std::uint64_t i = 6; i < 10; ++i) {
    const auto r = slow.try_read(out);
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(value_of(out), i);
  }
  EXPECT_EQ(lane.ref().readers[1].lost_count, 6u);
  EXPECT_EQ(lane.ref().readers[1].read_count, 4u);
  EXPECT_EQ(lane.ref().readers[0].lost_count, 0u);
}

TEST(Fanout, DropDetectsOverwriteAfterStaleCachedWriteSeq) {  // FB-7
  Lane lane(OnFull::Drop, 1, 2);
  auto producer = lane.producer();
  auto consumer = lane.consumer(0);
  std::array<std::byte, 16> out{};
  ASSERT_EQ(producer.try_write(bytes_of(0)), WriteStatus::Ok);
  ASSERT_EQ(producer.try_write(bytes_of(1)), WriteStatus::Ok);
  ASSERT_EQ(consumer.try_read(out).seq, 0u);  // caches write_seq = 2
  for (std::uint64_t i = 2; i < 5; ++i) ASSERT_EQ(producer.try_write(bytes_of(i)), WriteStatus::Ok);
  // Its cache says entry 1 is there; the stamp says it was overwritten.
  const auto lost = consumer.try_read(out);
  ASSERT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 2u);  // 1 and 2; 3 and 4 are held
  EXPECT_EQ(consumer.try_read(out).seq, 3u);
}

TEST(Fanout, CloseDrainsThenClosedForEachConsumer) {  // FB-9
  Lane lane(OnFull::Block, 2);
  auto producer = lane.producer();
  auto c0 = lane.consumer(0);
  auto c1 = lane.consumer(1);
  std::array<std::byte, 16> out{};
  ASSERT_EQ(producer.try_write(bytes_of(7)), WriteStatus::Ok);
  producer.close();
  producer.close();
  EXPECT_EQ(producer.try_write(bytes_of(8)), WriteStatus::Closed);
  EXPECT_EQ(c0.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(c0.try_read(out).status, ReadStatus::Closed);
  EXPECT_EQ(c1.read(out, lane.platform.now_ns() + kLongNs).status, ReadStatus::Entry);
  EXPECT_EQ(c1.read(out, lane.platform.now_ns() + kLongNs).status, ReadStatus::Closed);
}

TEST(Fanout, TooLargeAndReadTimeout) {  // FB-2, FB-10, FB-12
  Lane lane(OnFull::Drop, 1, 4, 8);
  auto producer = lane.producer();
  auto consumer = lane.consumer(0);
  std::array<std::byte, 8> out{};
  EXPECT_EQ(producer.try_write(bytes_of(1, 9)), WriteStatus::TooLarge);
  EXPECT_EQ(lane.ref().header->write_seq, 0u);
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Empty);
  const auto start = lane.platform.now_ns();
  EXPECT_EQ(consumer.read(out, start + 2'000'000).status, ReadStatus::Timeout);
  EXPECT_GE(lane.platform.now_ns(), start + 2'000'000);
}

TEST(Fanout, ReattachResumesCursor) {  // FB-6
  Lane lane(OnFull::Block, 2);
  auto producer = lane.producer();
  std::array<std::byte, 16> out{};
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(producer.try_write(bytes_of(i)), WriteStatus::Ok);
  {
    auto first = lane.consumer(1);
    ASSERT_EQ(first.try_read(out).seq, 0u);
  }
  auto again = lane.consumer(1);
  EXPECT_EQ(again.next_seq(), 1u);
  EXPECT_EQ(again.try_read(out).seq, 1u);
  auto producer_again = lane.producer();  // resumes write_seq
  EXPECT_EQ(producer_again.written(), 3u);
}

// Threads in one process (TSan sees these): 1 producer, 3 consumers, every entry to every one.
class FanoutStream : public ::testing::TestWithParam<std::tuple<OnFull, WaitStrategy>> {};

TEST_P(FanoutStream, EveryConsumerInOrderAndAccounted) {  // FB-3, FB-5, FB-7, FB-10
  const auto [on_full, strategy] = GetParam();
  constexpr std::uint32_t kConsumers = 3;
  constexpr std::uint64_t kEntries = 20'000;
  Lane lane(on_full, kConsumers, 8, 16, strategy);
  std::array<std::uint64_t, kConsumers> delivered{}, lost{};
  std::array<bool, kConsumers> in_order{};
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    threads.emplace_back([&, i] {
      auto consumer = lane.consumer(i);
      std::array<std::uint64_t, 2> words{};
      std::uint64_t expected = 0;
      in_order[i] = true;
      for (std::uint64_t rounds = 0; rounds < 4 * kEntries; ++rounds) {
        const auto r = consumer.read(std::as_writable_bytes(std::span(words)), lane.platform.now_ns() + kLongNs);
        if (r.status == ReadStatus::Closed) break;
        if (r.status == ReadStatus::Lost) {
          lost[i] += r.lost_count;
          expected += r.lost_count;
          continue;
        }
        if (r.status != ReadStatus::Entry || r.seq != expected || words[0] != r.seq || words[1] != ~r.seq) {
          in_order[i] = false;
          break;
        }
        ++expected;
        ++delivered[i];
      }
    });
  }
  auto producer = lane.producer();
  for (std::uint64_t seq = 0; seq < kEntries; ++seq) {
    const std::array<std::uint64_t, 2> words{seq, ~seq};
    ASSERT_EQ(producer.write(std::as_bytes(std::span(words)), lane.platform.now_ns() + kLongNs), WriteStatus::Ok);
  }
  producer.close();
  for (auto& t : threads) t.join();
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    EXPECT_TRUE(in_order[i]) << "consumer " << i;
    EXPECT_EQ(delivered[i] + lost[i], kEntries) << "consumer " << i;
    EXPECT_EQ(lane.ref().readers[i].read_count, delivered[i]);
    EXPECT_EQ(lane.ref().readers[i].lost_count, lost[i]);
    if (on_full == OnFull::Block) {
      EXPECT_EQ(lost[i], 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, FanoutStream,
                         ::testing::Values(std::make_tuple(OnFull::Block, WaitStrategy::Backoff),
                                           std::make_tuple(OnFull::Block, WaitStrategy::Park),
                                           std::make_tuple(OnFull::Drop, WaitStrategy::Backoff),
                                           std::make_tuple(OnFull::Drop, WaitStrategy::Park)));

}  // namespace
}  // namespace indexbus

// Router and merge loops on real lanes (RT-*, MG-*): configuration errors, backpressure, Drop,
// close propagation, run-loop deadlines, and a threaded topology for ThreadSanitizer. The exact
// comparison with the model is in conformance/tests/router_property_test.cpp.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/router.hpp"
#include "loop_lanes.hpp"

namespace indexbus {
namespace {

using testing::EventsLaneSpec;
using testing::LoopLanes;

constexpr std::uint64_t kSecondNs = 1'000'000'000;

std::array<std::byte, 16> entry(std::uint64_t a, std::uint64_t b = 0) {
  std::array<std::byte, 16> out{};
  std::memcpy(out.data(), &a, 8);
  std::memcpy(out.data() + 8, &b, 8);
  return out;
}

std::uint64_t first_word(std::span<const std::byte> bytes) {
  std::uint64_t word = 0;
  std::memcpy(&word, bytes.data(), 8);
  return word;
}

TEST(RouterLoop, KeyMixMatchesTheSpecVectors) {  // RT-3, RT-4
  static_assert(key_mix64(0) == 0);
  static_assert(key_mix64(1) == 0x5692161d100b05e5ull);
  static_assert(key_mix64(0x0123456789abcdefull) == 0xb2c058e4ebb5112cull);
  static_assert(key_mix64(0xffffffffffffffffull) == 0xb4d055fcf2cbbd7bull);
  const std::array<std::byte, 3> three{std::byte{1}, std::byte{2}, std::byte{3}};
  EXPECT_EQ(entry_key(three, 0), 0x030201u);
  EXPECT_EQ(entry_key(three, 2), 0x03u);
  EXPECT_EQ(entry_key(three, 3), 0u);
  EXPECT_EQ(entry_key(three, 1u << 20), 0u);
}

TEST(RouterLoop, ConfigErrorsNameTheField) {  // RT-1
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}, {OnFull::Block, 4, 8}});
  const std::array<EventsLaneRef, 2> small{lanes.ref(1), lanes.ref(2)};
  const auto too_small = check_router_lanes(lanes.ref(0), small, 0);
  ASSERT_TRUE(too_small.has_value());
  EXPECT_EQ(*too_small, "router: output 1 slot_payload_bytes 8, expected at least the input's 16");
  const std::array<EventsLaneRef, 2> twice{lanes.ref(1), lanes.ref(1)};
  EXPECT_EQ(check_router_lanes(lanes.ref(0), twice, 0), "router: output 1 is the same lane as output 0");
  EXPECT_EQ(check_router_lanes(lanes.ref(0), std::span<const EventsLaneRef>{}, 0),
            "router: outputs 0, expected 1 to 16");
  const std::array<EventsLaneRef, 1> one{lanes.ref(1)};
  EXPECT_EQ(check_router_lanes(lanes.ref(0), one, (1u << 20) + 1),
            "router: key_offset_bytes 1048577, expected at most 1048576");
  EXPECT_EQ(check_router_lanes(lanes.ref(0), one, 0), std::nullopt);
}

TEST(MergeLoop, ConfigErrorsNameTheField) {  // MG-1
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 32}, {OnFull::Block, 4, 16}});
  const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
  EXPECT_EQ(check_merge_lanes(inputs, lanes.ref(2), 0),
            "merge: input 1 slot_payload_bytes 32, expected at most the output's 16");
  const std::array<EventsLaneRef, 2> self{lanes.ref(0), lanes.ref(2)};
  EXPECT_EQ(check_merge_lanes(self, lanes.ref(2), 0), "merge: input 1 is the output lane");
  const std::vector<EventsLaneRef> seventeen(17, lanes.ref(0));
  EXPECT_EQ(check_merge_lanes(seventeen, lanes.ref(2), 0), "merge: inputs 17, expected 1 to 16");
}

TEST(RouterLoop, BlockBackpressureReachesProducer) {  // RT-7
  LoopLanes lanes({{OnFull::Block, 2, 16}, {OnFull::Block, 2, 16}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer producer(platform, lanes.ref(0));
  EventsConsumer consumer(platform, lanes.ref(1));
  const std::array<EventsLaneRef, 1> outputs{lanes.ref(1)};
  Router router(platform, lanes.ref(0), outputs, RouterPolicy::RoundRobin);
  std::uint64_t written = 0;
  for (int round = 0; round < 16; ++round) {
    while (producer.try_write(entry(written)) == WriteStatus::Ok) ++written;
    while (router.step() == LoopStatus::Progress) {
    }
  }
  // Output full (2), one entry held, input full (2): the producer sees Full and nothing is lost.
  EXPECT_EQ(written, 5u);
  EXPECT_TRUE(router.holding());
  EXPECT_EQ(producer.try_write(entry(99)), WriteStatus::Full);
  std::array<std::byte, 16> out{};
  for (std::uint64_t expected = 0; expected < written; ++expected) {
    ReadResult r = consumer.try_read(out);
    while (r.status == ReadStatus::Empty) {
      ASSERT_NE(router.step(), LoopStatus::Closed);
      r = consumer.try_read(out);
    }
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(first_word(out), expected);
  }
}

TEST(RouterLoop, DropNeverWaits) {  // RT-8
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Drop, 2, 16}, {OnFull::Drop, 2, 16}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer producer(platform, lanes.ref(0));
  const std::array<EventsLaneRef, 2> outputs{lanes.ref(1), lanes.ref(2)};
  Router router(platform, lanes.ref(0), outputs, RouterPolicy::Broadcast);
  for (std::uint64_t k = 0; k < 100; ++k) {
    ASSERT_EQ(producer.try_write(entry(k)), WriteStatus::Ok);
    ASSERT_EQ(router.step(), LoopStatus::Progress);
    ASSERT_FALSE(router.holding());
  }
  EventsConsumer consumer(platform, lanes.ref(2));
  std::array<std::byte, 16> out{};
  const ReadResult lost = consumer.try_read(out);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 98u);
  ASSERT_EQ(consumer.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(first_word(out), 98u);
}

TEST(RouterLoop, ClosePropagates) {  // RT-10
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer producer(platform, lanes.ref(0));
  const std::array<EventsLaneRef, 2> outputs{lanes.ref(1), lanes.ref(2)};
  Router router(platform, lanes.ref(0), outputs, RouterPolicy::RoundRobin);
  for (std::uint64_t k = 0; k < 3; ++k) ASSERT_EQ(producer.try_write(entry(k)), WriteStatus::Ok);
  producer.close();
  EXPECT_EQ(router.run(platform.now_ns() + kSecondNs), RunEnd::Closed);
  EXPECT_EQ(router.step(), LoopStatus::Closed);
  std::array<std::byte, 16> out{};
  for (std::uint32_t o = 0; o < 2; ++o) {
    EventsConsumer consumer(platform, lanes.ref(1 + o));
    std::uint64_t entries = 0;
    ReadResult r = consumer.try_read(out);
    for (; r.status == ReadStatus::Entry; r = consumer.try_read(out)) ++entries;
    EXPECT_EQ(r.status, ReadStatus::Closed);
    EXPECT_EQ(entries, o == 0 ? 2u : 1u);
  }
}

TEST(RouterLoop, RunLoopHonoursDeadline) {  // RT-11: every wait bounded; the stop flag is seen
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}});
  RealPlatform platform(WaitStrategy::Backoff);
  const std::array<EventsLaneRef, 1> outputs{lanes.ref(1)};
  Router router(platform, lanes.ref(0), outputs, RouterPolicy::RoundRobin);
  const std::uint64_t start = platform.now_ns();
  EXPECT_EQ(router.run(start + 20'000'000), RunEnd::DeadlinePassed);
  const std::uint64_t took = platform.now_ns() - start;
  EXPECT_GE(took, 20'000'000u);
  EXPECT_LT(took, 2'000'000'000u);  // bounded; generous for sanitizers on a loaded machine
  std::atomic<bool> stop{true};
  EXPECT_EQ(router.run(platform.now_ns() + 10 * kSecondNs, &stop), RunEnd::Stopped);
}

TEST(MergeLoop, RunLoopHonoursDeadline) {  // MG-10
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}});
  RealPlatform platform(WaitStrategy::Backoff);
  const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
  Merge merge(platform, inputs, lanes.ref(2), MergePolicy::Arrival);
  const std::uint64_t start = platform.now_ns();
  EXPECT_EQ(merge.run(start + 20'000'000), RunEnd::DeadlinePassed);
  EXPECT_GE(platform.now_ns() - start, 20'000'000u);
  std::atomic<bool> stop{true};
  EXPECT_EQ(merge.run(platform.now_ns() + 10 * kSecondNs, &stop), RunEnd::Stopped);
}

TEST(MergeLoop, BlockBackpressureReachesProducers) {  // MG-7
  LoopLanes lanes({{OnFull::Block, 2, 16}, {OnFull::Block, 2, 16}, {OnFull::Block, 2, 16}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer a(platform, lanes.ref(0));
  EventsProducer b(platform, lanes.ref(1));
  const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
  Merge merge(platform, inputs, lanes.ref(2), MergePolicy::RoundRobin);
  std::uint64_t written_a = 0, written_b = 0;
  for (int round = 0; round < 16; ++round) {
    while (a.try_write(entry(written_a)) == WriteStatus::Ok) ++written_a;
    while (b.try_write(entry(100 + written_b)) == WriteStatus::Ok) ++written_b;
    while (merge.step() == LoopStatus::Progress) {
    }
  }
  // Output 2 + one head each + input 2 each.
  EXPECT_EQ(written_a + written_b, 8u);
  EXPECT_EQ(a.try_write(entry(99)), WriteStatus::Full);
  EXPECT_EQ(b.try_write(entry(99)), WriteStatus::Full);
}

TEST(MergeLoop, ClosePropagates) {  // MG-9
  LoopLanes lanes({{OnFull::Block, 4, 16}, {OnFull::Block, 4, 16}, {OnFull::Block, 8, 16}});
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer a(platform, lanes.ref(0));
  EventsProducer b(platform, lanes.ref(1));
  const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
  Merge merge(platform, inputs, lanes.ref(2), MergePolicy::Sequence);
  ASSERT_EQ(a.try_write(entry(5)), WriteStatus::Ok);
  a.close();
  ASSERT_EQ(b.try_write(entry(3)), WriteStatus::Ok);
  while (merge.step() == LoopStatus::Progress) {
  }
  EXPECT_EQ(merge.step(), LoopStatus::Idle);  // b is still open
  b.close();
  EXPECT_EQ(merge.run(platform.now_ns() + kSecondNs), RunEnd::Closed);
  EventsConsumer consumer(platform, lanes.ref(2));
  std::array<std::byte, 16> out{};
  ASSERT_EQ(consumer.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(first_word(out), 3u);
  ASSERT_EQ(consumer.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(first_word(out), 5u);
  EXPECT_EQ(consumer.try_read(out).status, ReadStatus::Closed);
}

// Two producer threads -> Sequence merge -> RoundRobin router -> three consumer threads, every
// loop on its own thread with run(): the lanes' ordering under ThreadSanitizer, and the exact
// routing (entry k of the merged stream goes to consumer k mod 3).
TEST(LoopThreads, TwoProducersMergeRouterThreeConsumers) {
  constexpr std::uint64_t kPerProducer = 3'000;  // a few seconds under sanitizers on a loaded machine
  // Capacity 64: fewer hand-offs through full lanes, each of which may cost a Backoff sleep.
  LoopLanes lanes({{OnFull::Block, 64, 16}, {OnFull::Block, 64, 16}, {OnFull::Block, 64, 16},
                   {OnFull::Block, 64, 16}, {OnFull::Block, 64, 16}, {OnFull::Block, 64, 16}});
  RealPlatform platform(WaitStrategy::Backoff);
  const std::uint64_t deadline = platform.now_ns() + 60 * kSecondNs;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      EventsProducer producer(platform, lanes.ref(p));
      // Keys 2k + p: the Sequence merge interleaves the two producers strictly.
      for (std::uint64_t k = 0; k < kPerProducer; ++k) {
        if (producer.write(entry(2 * k + p, p), deadline) != WriteStatus::Ok) return;
      }
      producer.close();
    });
  }
  RunEnd merge_end = RunEnd::Stopped, router_end = RunEnd::Stopped;
  threads.emplace_back([&] {
    const std::array<EventsLaneRef, 2> inputs{lanes.ref(0), lanes.ref(1)};
    Merge merge(platform, inputs, lanes.ref(2), MergePolicy::Sequence);
    merge_end = merge.run(deadline);
  });
  threads.emplace_back([&] {
    const std::array<EventsLaneRef, 3> outputs{lanes.ref(3), lanes.ref(4), lanes.ref(5)};
    Router router(platform, lanes.ref(2), outputs, RouterPolicy::RoundRobin);
    router_end = router.run(deadline);
  });
  std::array<std::uint64_t, 3> received{};
  std::array<bool, 3> in_order{true, true, true};
  for (std::uint32_t c = 0; c < 3; ++c) {
    threads.emplace_back([&, c] {
      EventsConsumer consumer(platform, lanes.ref(3 + c));
      std::array<std::byte, 16> out{};
      for (;;) {
        const ReadResult r = consumer.read(out, deadline);
        if (r.status != ReadStatus::Entry) break;
        // Merged key k goes to consumer k mod 3, as its (k / 3)-th entry.
        if (first_word(out) != 3 * received[c] + c) in_order[c] = false;
        ++received[c];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(merge_end, RunEnd::Closed);
  EXPECT_EQ(router_end, RunEnd::Closed);
  EXPECT_EQ(received[0] + received[1] + received[2], 2 * kPerProducer);
  for (std::uint32_t c = 0; c < 3; ++c) EXPECT_TRUE(in_order[c]) << "consumer " << c;
}

}  // namespace
}  // namespace indexbus

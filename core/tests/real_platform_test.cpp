// RealPlatform: every wait strategy returns on change and on its deadline, never later than a
// bounded overshoot; wake_all ends a futex sleep; racy copies round-trip every length.
#include "indexbus/real_platform.hpp"

#include <gtest/gtest.h>

#include <array>
#include <thread>

#include "indexbus/events.hpp"

namespace indexbus {
namespace {

class Strategies : public ::testing::TestWithParam<WaitStrategy> {};

TEST_P(Strategies, WaitHonoursDeadline) {
  RealPlatform platform(GetParam());
  alignas(64) std::uint32_t word = 5;
  const auto start = platform.now_ns();
  for (int i = 0; i < 1000 && platform.now_ns() < start + 3'000'000; ++i) {
    platform.wait(word, 5, start + 3'000'000);
  }
  EXPECT_GE(platform.now_ns(), start + 3'000'000);
  EXPECT_LT(platform.now_ns(), start + 2'000'000'000ull);
}

TEST_P(Strategies, WaitReturnsWhenWordChanges) {
  RealPlatform platform(GetParam());
  alignas(64) std::uint32_t word = 0;
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    platform.store(word, std::uint32_t{1}, std::memory_order_release);
    platform.wake_all(word);
  });
  const auto deadline = platform.now_ns() + 10'000'000'000ull;
  while (platform.load(word, std::memory_order_acquire) == 0 && platform.now_ns() < deadline) {
    platform.wait(word, 0, deadline);
  }
  waker.join();
  EXPECT_EQ(word, 1u);
  EXPECT_LT(platform.now_ns(), deadline);
}

INSTANTIATE_TEST_SUITE_P(All, Strategies,
                         ::testing::Values(WaitStrategy::Spin, WaitStrategy::Backoff, WaitStrategy::Park));

TEST(RealPlatform, RacyCopiesRoundTripEveryLength) {
  RealPlatform platform;
  alignas(8) std::array<std::byte, 48> shared{};
  std::array<std::byte, 40> source{}, back{};
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<std::byte>(i + 1);
  for (std::size_t length = 0; length <= 40; ++length) {
    back.fill(std::byte{0});
    platform.copy_to_shared_racy(shared.data(), source.data(), length);
    platform.copy_from_shared_racy(back.data(), shared.data(), length);
    for (std::size_t i = 0; i < length; ++i) ASSERT_EQ(back[i], source[i]) << length;
    for (std::size_t i = length; i < back.size(); ++i) ASSERT_EQ(back[i], std::byte{0}) << length;
  }
}

TEST(RealPlatform, ProcessAlive) {
  RealPlatform platform;
  EXPECT_TRUE(platform.process_alive(platform.current_pid()));
  EXPECT_FALSE(platform.process_alive(0));
  EXPECT_FALSE(platform.process_alive(0x7ffffff0));
  EXPECT_FALSE(platform.process_alive(0xffffffff));  // would be kill(-1, 0): every process
  EXPECT_FALSE(platform.process_alive(0x80000001));  // would name a process group
}

// The wake audit (events.hpp, "Waiting"; RealPlatform::note_unwoken_ready). A parked waiter on
// the real waiting protocol (events_detail::wait_until) and a peer that publishes with the real
// hot half of the Dekker pair, then wakes in one of three ways.
enum class PeerWake { Wakes, Never, LateWithinGrace };

// Returns how many lost wake-ups the waiter's wait added to the process-wide count.
std::uint64_t lost_wakeups_of_one_wait(PeerWake how) {
  const RealPlatform platform(WaitStrategy::Park);
  alignas(64) std::uint64_t cursor = 0;
  alignas(64) std::uint32_t waiting = 0;
  alignas(64) std::uint32_t epoch = 0;
  const std::uint64_t before = RealPlatform::lost_wakeup_count();
  std::thread peer([&] {
    // Bounded: until the waiter has announced itself (or 5 s), then 5 ms for it to fall asleep.
    const std::uint64_t give_up_ns = platform.now_ns() + 5'000'000'000ull;
    while (platform.load(waiting, std::memory_order_acquire) == 0 && platform.now_ns() < give_up_ns) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (how == PeerWake::Wakes) {
      events_detail::publish_and_wake(platform, cursor, std::uint64_t{1}, waiting, epoch);
      return;
    }
    const std::uint32_t flag = platform.publish_then_load_flag(cursor, std::uint64_t{1}, waiting);
    EXPECT_NE(flag, 0u);  // the Dekker pair: the announcement is visible
    if (how == PeerWake::Never) return;
    // Past the park slice, within the grace: late, but not lost.
    std::this_thread::sleep_for(std::chrono::nanoseconds(real_platform_detail::kParkSliceMaxNs +
                                                         real_platform_detail::kLostWakeGraceNs / 4));
    platform.fetch_add(epoch, std::uint32_t{1}, std::memory_order_release);
    platform.wake_all(epoch);
  });
  const bool ready = events_detail::wait_until(platform, waiting, epoch, platform.now_ns() + 10'000'000'000ull,
                                               [&](bool) { return platform.load(cursor, std::memory_order_acquire) != 0; });
  peer.join();
  EXPECT_TRUE(ready);
  EXPECT_EQ(waiting, 0u);  // the flag is cleared after the audit
  return RealPlatform::lost_wakeup_count() - before;
}

TEST(RealPlatformLostWakeup, AWokenWaiterCountsNothing) {
  EXPECT_EQ(lost_wakeups_of_one_wait(PeerWake::Wakes), 0u);
}

TEST(RealPlatformLostWakeup, AWakeThatNeverComesIsCounted) {
  EXPECT_EQ(lost_wakeups_of_one_wait(PeerWake::Never), 1u);
}

TEST(RealPlatformLostWakeup, AWakeLateWithinTheGraceIsNotCounted) {
  EXPECT_EQ(lost_wakeups_of_one_wait(PeerWake::LateWithinGrace), 0u);
}

}  // namespace
}  // namespace indexbus

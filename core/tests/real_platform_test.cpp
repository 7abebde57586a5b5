// RealPlatform: every wait strategy returns on change and on its deadline, never later than a
// bounded overshoot; wake_all ends a futex sleep; racy copies round-trip every length.
#include "indexbus/real_platform.hpp"

#include <gtest/gtest.h>

#include <array>
#include <thread>

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

}  // namespace
}  // namespace indexbus

// RealPlatform: the lanes on real shared memory. Atomics are std::atomic_ref on the mapping;
// waiting is a configurable strategy: spin, backoff (spin, then yield, then sleep) or park on a
// futex, always bounded by the caller's deadline.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "indexbus/platform.hpp"

namespace indexbus {

enum class WaitStrategy : std::uint8_t { Spin, Backoff, Park };

class RealPlatform {
 public:
  explicit RealPlatform(WaitStrategy strategy = WaitStrategy::Backoff) noexcept;

  WaitStrategy strategy() const noexcept { return strategy_; }

  template <typename T>
  T load(T& word, std::memory_order order) const noexcept {
    return std::atomic_ref<T>(word).load(order);
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order) const noexcept {
    std::atomic_ref<T>(word).store(value, order);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order) const noexcept {
    return std::atomic_ref<T>(word).fetch_add(delta, order);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order) const noexcept {
    return std::atomic_ref<T>(word).compare_exchange_strong(expected, desired, order);
  }

  // An empty payload may come from an empty span whose data() is null: memcpy must not see it.
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }
  // dst is 8-byte aligned shared memory; the tail word is zero-padded.
  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    assert(reinterpret_cast<std::uintptr_t>(dst) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(dst);
    const std::size_t full_words = bytes / 8;
    for (std::size_t i = 0; i < full_words; ++i) {
      std::uint64_t word;
      std::memcpy(&word, src + i * 8, 8);
      std::atomic_ref<std::uint64_t>(words[i]).store(word, std::memory_order_release);
    }
    if (const std::size_t tail = bytes % 8; tail != 0) {
      std::uint64_t word = 0;
      std::memcpy(&word, src + full_words * 8, tail);
      std::atomic_ref<std::uint64_t>(words[full_words]).store(word, std::memory_order_release);
    }
  }
  // src is 8-byte aligned shared memory that may hold whole words past `bytes`.
  void copy_from_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    assert(reinterpret_cast<std::uintptr_t>(src) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(src));
    const std::size_t full_words = bytes / 8;
    for (std::size_t i = 0; i < full_words; ++i) {
      const std::uint64_t word =
          std::atomic_ref<std::uint64_t>(words[i]).load(std::memory_order_acquire);
      std::memcpy(dst + i * 8, &word, 8);
    }
    if (const std::size_t tail = bytes % 8; tail != 0) {
      const std::uint64_t word =
          std::atomic_ref<std::uint64_t>(words[full_words]).load(std::memory_order_acquire);
      std::memcpy(dst + full_words * 8, &word, tail);
    }
  }

  std::uint64_t now_ns() const noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
  }

  bool waiter_needs_wake() const noexcept { return strategy_ == WaitStrategy::Park; }

  // Polling waiters read the clock once every kRoundsPerClockRead rounds: a clock read costs
  // about as much as the cache miss that ends the wait.
  static constexpr std::uint32_t kRoundsPerClockRead = 64;
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t round) const noexcept {
    // Not on round 0: a wait that ends within a few rounds (the common case) reads no clock.
    return round % kRoundsPerClockRead == kRoundsPerClockRead - 1 && now_ns() >= deadline_ns;
  }
  // Spin: a pause instruction. Backoff: pauses, then yields, then sleeps of growing length (at
  // most 1 ms and never past the deadline).
  void pause(std::uint32_t round, std::uint64_t deadline_ns) const noexcept;

  // The hot half of the Dekker pair (see platform.hpp). Where every process of the region has
  // registered for membarrier(2) global expedited barriers, the sleeping side pays for the
  // store-load barrier (announce_waiter) and this side needs only a compiler fence: a release
  // store and a plain load. Elsewhere, and under ThreadSanitizer, which models neither, both sides
  // use seq_cst.
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag) const noexcept {
    if (asymmetric_barrier_available()) {
      std::atomic_ref<T>(word).store(value, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      return std::atomic_ref<std::uint32_t>(flag).load(std::memory_order_relaxed);
    }
    std::atomic_ref<T>(word).store(value, std::memory_order_seq_cst);
    return std::atomic_ref<std::uint32_t>(flag).load(std::memory_order_seq_cst);
  }
  // The cold half: store the flag, then a barrier on every CPU running a registered process.
  [[gnu::cold]] void announce_waiter(std::uint32_t& flag, std::uint32_t value) const noexcept;

  // True once this process has registered for global expedited membarrier (re-registered in a
  // forked child, whose registration the kernel does not inherit).
  static bool asymmetric_barrier_available() noexcept;

  // Cold: the slow path of every lane.
  [[gnu::cold]] void wait(std::uint32_t& word, std::uint32_t expected,
                          std::uint64_t deadline_ns) const noexcept;
  [[gnu::cold]] void wake_all(std::uint32_t& word) const noexcept;

  bool process_alive(std::uint32_t pid) const noexcept;
  std::uint32_t current_pid() const noexcept;

 private:
  WaitStrategy strategy_;
};
static_assert(Platform<RealPlatform>);

}  // namespace indexbus

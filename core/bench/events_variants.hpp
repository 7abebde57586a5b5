// Experiments for events_bench --variants: what the Events lane's costs are, and what proposed
// changes would buy, measured without touching core/. Nothing here is used by the lanes.
//
// FencePlatform<kind>: RealPlatform with std::atomic_thread_fence(seq_cst) replaced.
//   LockOr: `lock addl $0,-4(%rsp)` instead of mfence. On x86 every locked instruction is a full
//           barrier, so this keeps the Dekker argument of events.hpp intact; only the cost differs.
//   None:   a compiler barrier only. NOT a valid replacement in general: it measures what the
//           fence costs. It is only run with polling (try_*) loops, where no side ever sets a
//           *_waiting flag, so no wake can be lost in these runs.
//
// StampPollingConsumer<P>: a prototype of a Block consumer that learns that entry r is published
// from its slot stamp (2r+2, which the producer already stores with release after the payload)
// instead of from write_seq. The producer's write_seq line then stays in the producer's cache
// in steady state, and the consumer's critical path touches the slot line only. Layout-compatible
// with EventsProducer; Block lanes only.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"

namespace indexbus::bench {

enum class FenceKind { Mfence, LockOr, None };

template <FenceKind kKind>
class FencePlatform {
 public:
  FencePlatform() noexcept : real_(WaitStrategy::Spin) {}

  template <typename T>
  T load(T& word, std::memory_order order) const noexcept { return real_.load(word, order); }
  template <typename T>
  void store(T& word, T value, std::memory_order order) const noexcept { real_.store(word, value, order); }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order) const noexcept {
    return real_.fetch_add(word, delta, order);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order) const noexcept {
    return real_.compare_exchange(word, expected, desired, order);
  }
  void fence(std::memory_order order) const noexcept {
    if (order != std::memory_order_seq_cst) {
      std::atomic_thread_fence(order);
      return;
    }
    if constexpr (kKind == FenceKind::Mfence) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    } else if constexpr (kKind == FenceKind::LockOr) {
#if defined(__x86_64__)
      asm volatile("lock addl $0, -4(%%rsp)" ::: "memory", "cc");
#else
      std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    } else {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
  }
  void copy_to_shared(std::byte* d, const std::byte* s, std::size_t n) const noexcept { real_.copy_to_shared(d, s, n); }
  void copy_from_shared(std::byte* d, const std::byte* s, std::size_t n) const noexcept { real_.copy_from_shared(d, s, n); }
  void copy_to_shared_racy(std::byte* d, const std::byte* s, std::size_t n) const noexcept {
    real_.copy_to_shared_racy(d, s, n);
  }
  void copy_from_shared_racy(std::byte* d, const std::byte* s, std::size_t n) const noexcept {
    real_.copy_from_shared_racy(d, s, n);
  }
  std::uint64_t now_ns() const noexcept { return real_.now_ns(); }
  bool waiter_needs_wake() const noexcept { return real_.waiter_needs_wake(); }
  void wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t deadline_ns) const noexcept {
    real_.wait(word, expected, deadline_ns);
  }
  void wake_all(std::uint32_t& word) const noexcept { real_.wake_all(word); }
  bool process_alive(std::uint32_t pid) const noexcept { return real_.process_alive(pid); }
  std::uint32_t current_pid() const noexcept { return real_.current_pid(); }

 private:
  RealPlatform real_;
};
static_assert(Platform<FencePlatform<FenceKind::LockOr>>);
static_assert(Platform<FencePlatform<FenceKind::None>>);

// Same contract as EventsConsumer::try_read for a Block lane (Entry, Empty, Closed).
template <Platform P>
class StampPollingConsumer {
 public:
  StampPollingConsumer(const P& platform, EventsLaneRef lane) noexcept
      : platform_(&platform), lane_(lane) {
    read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_relaxed);
  }

  [[nodiscard]] ReadResult try_read(std::span<std::byte> out) noexcept {
    auto& slot = events_detail::slot_at(lane_, read_seq_);
    const std::uint64_t stamp = platform_->load(slot.stamp, std::memory_order_acquire);
    if (stamp != events_stamp_complete(read_seq_)) {
      // Not published as far as this load saw. closed before write_seq, as in events.hpp; if
      // write_seq says r is published, its stamp store happened before and is visible now.
      // `<=`, not `==`: the producer stores the stamp before write_seq, so this consumer can
      // have read entry w through its stamp while write_seq still says w (read_seq = w + 1).
      auto& h = *lane_.header;
      const bool closed = platform_->load(h.closed, std::memory_order_acquire) != 0;
      const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_acquire);
      if (written <= read_seq_) return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
    }
    const std::uint32_t length = std::min(
        platform_->load(slot.payload_bytes, std::memory_order_relaxed), lane_.slot_payload_bytes);
    platform_->copy_from_shared(out.data(), events_detail::payload_of(slot), length);
    auto& h = *lane_.header;
    const std::uint64_t seq = read_seq_;
    ++read_seq_;
    platform_->store(h.read_count, platform_->load(h.read_count, std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    platform_->store(h.read_seq, read_seq_, std::memory_order_release);
    events_detail::wake_peer(*platform_, h.producer_waiting, h.producer_wake_epoch);
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

 private:
  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t read_seq_ = 0;
};

}  // namespace indexbus::bench

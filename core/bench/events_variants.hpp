// Experiments for events_bench --variants: what the Events lane's costs are, and what proposed
// changes would buy, measured without touching core/. Nothing here is used by the lanes.
//
// events.hpp publishes each cursor (write_seq, read_seq, closed) with
// Platform::publish_then_load_flag, the hot half of the waiting protocol's Dekker pair.
// RealPlatform does it with a release store and a compiler fence where membarrier(2) is
// available (the parking side pays), and with a seq_cst store (on x86 a locked xchg) elsewhere.
//
// StorePlatform<kind>: RealPlatform(Spin) with publish_then_load_flag done a fixed way.
//   Xchg:      seq_cst store and load (RealPlatform without membarrier, e.g. under TSan).
//   MovMfence: a plain store followed by mfence (the other x86 mapping of a seq_cst store).
//   Release:   a plain release store, no barrier (RealPlatform with membarrier; only valid
//              together with its announce_waiter, which this wrapper forwards).
//
// StampPollingConsumer<P>: a prototype of a Block consumer that learns that entry r is published
// from its slot stamp (2r+2, which the producer already stores with release after the payload)
// instead of from write_seq. The producer's write_seq line then stays in the producer's cache
// in steady state, and the consumer's critical path touches the slot line only. Layout-compatible
// with EventsProducer; Block lanes only.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <span>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"

namespace indexbus::bench {

enum class StoreKind { Xchg, MovMfence, Release };

template <StoreKind kKind>
class StorePlatform {
 public:
  StorePlatform() noexcept : real_(WaitStrategy::Spin) {}

  template <typename T>
  T load(T& word, std::memory_order order) const noexcept { return real_.load(word, order); }
  template <typename T>
  void store(T& word, T value, std::memory_order order) const noexcept { real_.store(word, value, order); }
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag) const noexcept {
    if constexpr (kKind == StoreKind::Xchg) {
      real_.store(word, value, std::memory_order_seq_cst);
      return real_.load(flag, std::memory_order_seq_cst);
    } else if constexpr (kKind == StoreKind::MovMfence) {
      real_.store(word, value, std::memory_order_release);
#if defined(__x86_64__) || defined(__i386__)
      // The instruction itself, which is what this variant measures (and which, unlike
      // std::atomic_thread_fence, g++ accepts under -fsanitize=thread).
      asm volatile("mfence" ::: "memory");
#else
      std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
      return real_.load(flag, std::memory_order_relaxed);
    } else {
      real_.store(word, value, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      return real_.load(flag, std::memory_order_relaxed);
    }
  }
  void announce_waiter(std::uint32_t& flag, std::uint32_t value) const noexcept {
    real_.announce_waiter(flag, value);
  }
  void store_load_fence() const noexcept { real_.store_load_fence(); }
  void heavy_fence() const noexcept { real_.heavy_fence(); }
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t round) const noexcept {
    return real_.deadline_passed(deadline_ns, round);
  }
  void pause(std::uint32_t round, std::uint64_t deadline_ns) const noexcept { real_.pause(round, deadline_ns); }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order) const noexcept {
    return real_.fetch_add(word, delta, order);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order) const noexcept {
    return real_.compare_exchange(word, expected, desired, order);
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
  void note_unwoken_ready(std::uint32_t& word, std::uint32_t seen) const noexcept {
    real_.note_unwoken_ready(word, seen);
  }
  bool process_alive(std::uint32_t pid) const noexcept { return real_.process_alive(pid); }
  std::uint32_t current_pid() const noexcept { return real_.current_pid(); }

 private:
  RealPlatform real_;
};
static_assert(Platform<StorePlatform<StoreKind::Xchg>>);
static_assert(Platform<StorePlatform<StoreKind::MovMfence>>);
static_assert(Platform<StorePlatform<StoreKind::Release>>);

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
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_seq_cst);
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
    events_detail::publish_and_wake(*platform_, h.read_seq, read_seq_, h.producer_waiting,
                                    h.producer_wake_epoch);
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

 private:
  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t read_seq_ = 0;
};

}  // namespace indexbus::bench

// The baselines events_bench compares the Events lane against.
//
// MinimalRing: the least an SPSC ring in shared memory can do (rigtorp/SPSCQueue style): two
// cache-line-padded monotonic indices, each side caching the peer's index and reloading it only
// when the cached copy says full/empty, fixed slots of exactly the payload size, release stores
// and acquire loads. No sequence numbers, stamps, lengths, counters, close protocol or waiting
// handshake. It is the throughput and latency an Events lane could approach at best.
//
// PingPongLines: one 64-byte line each way, spun on; the floor for one-way latency between two
// CPUs (one cache-line transfer).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace indexbus::bench {

inline constexpr std::size_t kLineBytes = 64;

struct MinimalRingShared {
  // Producer line: the write index and the producer's "done" word (read by the consumer only
  // when it finds the ring empty, like Events reads `closed`).
  alignas(kLineBytes) std::atomic<std::uint64_t> write_index{0};
  std::atomic<std::uint64_t> done_count{0};  // entries written + 1 once the producer is done
  // Consumer line.
  alignas(kLineBytes) std::atomic<std::uint64_t> read_index{0};
  // Slots follow on their own line (see bytes_for).
  alignas(kLineBytes) std::byte slots_start[kLineBytes];

  static std::size_t bytes_for(std::uint32_t capacity_slots, std::uint32_t slot_bytes) noexcept {
    return offsetof(MinimalRingShared, slots_start) +
           std::size_t{capacity_slots} * slot_bytes + kLineBytes;
  }
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");
static_assert(offsetof(MinimalRingShared, read_index) == kLineBytes);
static_assert(offsetof(MinimalRingShared, slots_start) == 2 * kLineBytes);

class MinimalRingProducer {
 public:
  MinimalRingProducer(MinimalRingShared& shared, std::uint32_t capacity_slots,
                      std::uint32_t slot_bytes) noexcept
      : shared_(&shared), capacity_(capacity_slots), slot_bytes_(slot_bytes) {}

  bool try_push(std::span<const std::byte> payload) noexcept {
    if (write_ - cached_read_ == capacity_) {
      cached_read_ = shared_->read_index.load(std::memory_order_acquire);
      if (write_ - cached_read_ == capacity_) return false;
    }
    std::memcpy(slot(write_), payload.data(), payload.size());
    ++write_;
    shared_->write_index.store(write_, std::memory_order_release);
    return true;
  }

  void finish() noexcept { shared_->done_count.store(write_ + 1, std::memory_order_release); }

 private:
  std::byte* slot(std::uint64_t index) const noexcept {
    return shared_->slots_start + (index & (capacity_ - 1)) * slot_bytes_;
  }

  MinimalRingShared* shared_;
  std::uint64_t capacity_;
  std::uint64_t slot_bytes_;
  std::uint64_t write_ = 0;
  std::uint64_t cached_read_ = 0;
};

class MinimalRingConsumer {
 public:
  MinimalRingConsumer(MinimalRingShared& shared, std::uint32_t capacity_slots,
                      std::uint32_t slot_bytes) noexcept
      : shared_(&shared), capacity_(capacity_slots), slot_bytes_(slot_bytes) {}

  // Copies the oldest entry (slot_bytes) into out; false when empty.
  bool try_pop(std::span<std::byte> out) noexcept {
    if (read_ == cached_write_) {
      cached_write_ = shared_->write_index.load(std::memory_order_acquire);
      if (read_ == cached_write_) return false;
    }
    std::memcpy(out.data(), slot(read_), slot_bytes_);
    ++read_;
    shared_->read_index.store(read_, std::memory_order_release);
    return true;
  }

  // True once the producer has finished and everything it wrote was popped.
  bool drained() const noexcept {
    const std::uint64_t done = shared_->done_count.load(std::memory_order_acquire);
    return done != 0 && read_ == done - 1;
  }

  std::uint64_t popped() const noexcept { return read_; }

 private:
  const std::byte* slot(std::uint64_t index) const noexcept {
    return shared_->slots_start + (index & (capacity_ - 1)) * slot_bytes_;
  }

  MinimalRingShared* shared_;
  std::uint64_t capacity_;
  std::uint64_t slot_bytes_;
  std::uint64_t read_ = 0;
  std::uint64_t cached_write_ = 0;
};

struct PingPongLines {
  alignas(kLineBytes) std::atomic<std::uint64_t> a_to_b{0};
  alignas(kLineBytes) std::atomic<std::uint64_t> b_to_a{0};
};
static_assert(sizeof(PingPongLines) == 2 * kLineBytes);

}  // namespace indexbus::bench

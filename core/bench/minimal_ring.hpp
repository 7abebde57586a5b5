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

#include <algorithm>
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
  // A word no one writes; only the --variants ring that mimics wake_peer loads it.
  alignas(kLineBytes) std::atomic<std::uint32_t> never_written{0};
  // Slots follow on their own line (see bytes_for).
  alignas(kLineBytes) std::byte slots_start[kLineBytes];

  static std::size_t bytes_for(std::uint32_t capacity_slots, std::uint32_t slot_stride_bytes) noexcept {
    return offsetof(MinimalRingShared, slots_start) +
           std::size_t{capacity_slots} * slot_stride_bytes + kLineBytes;
  }
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");
static_assert(offsetof(MinimalRingShared, read_index) == kLineBytes);
static_assert(offsetof(MinimalRingShared, slots_start) == 3 * kLineBytes);

// The slots run past the end of the struct (into the rest of the mapping), so they are addressed
// from the struct's base, not by indexing the 64-byte member (which UBSan's bounds check rejects).
inline std::byte* ring_slots(MinimalRingShared& shared) noexcept {
  return reinterpret_cast<std::byte*>(&shared) + offsetof(MinimalRingShared, slots_start);
}

// The baseline is MinimalRing<>. The parameters exist for events_bench --variants only, to
// find out which of the Events lane's extra costs matter:
//   kHeaderBytes = 16: every slot starts with a 16-byte header like EventsSlotHeader (a stamp
//                      and the payload length, written by the producer, the length read back by
//                      the consumer), so the slot stride is 16 + payload as in Events.
//   kSeqCst = true:    index stores are seq_cst (a locked instruction on x86) and each is
//                      followed by a seq_cst load of a word on another line, as Events' cursor
//                      stores and events_detail::wake_peer do.
//   kLineAligned:      the slot stride is rounded up to a multiple of 64 bytes, so no two slots
//                      share a cache line (a layout Events v1 does not have).
template <std::uint32_t kHeaderBytes = 0, bool kSeqCst = false, bool kLineAligned = false>
struct MinimalRing {
  static_assert(kHeaderBytes == 0 || kHeaderBytes == 16);
  static constexpr std::memory_order kIndexStoreOrder =
      kSeqCst ? std::memory_order_seq_cst : std::memory_order_release;

  static std::uint64_t stride(std::uint32_t payload_bytes) noexcept {
    const std::uint64_t bytes = kHeaderBytes + payload_bytes;
    return kLineAligned ? (bytes + kLineBytes - 1) / kLineBytes * kLineBytes : bytes;
  }

  static void after_index_store(MinimalRingShared& shared) noexcept {
    if constexpr (kSeqCst) (void)shared.never_written.load(std::memory_order_seq_cst);
  }

  class Producer {
   public:
    Producer(MinimalRingShared& shared, std::uint32_t capacity_slots, std::uint32_t slot_bytes) noexcept
        : shared_(&shared), capacity_(capacity_slots), slot_bytes_(slot_bytes), stride_(stride(slot_bytes)) {}

    bool try_push(std::span<const std::byte> payload) noexcept {
      if (write_ - cached_read_ == capacity_) {
        cached_read_ = shared_->read_index.load(std::memory_order_acquire);
        if (write_ - cached_read_ == capacity_) return false;
      }
      std::byte* slot = ring_slots(*shared_) + (write_ & (capacity_ - 1)) * stride_;
      if constexpr (kHeaderBytes != 0) {
        const std::uint64_t stamp = 2 * write_ + 2;
        const auto length = static_cast<std::uint32_t>(payload.size());
        std::memcpy(slot + kHeaderBytes, payload.data(), payload.size());
        std::memcpy(slot + 8, &length, sizeof(length));
        std::memcpy(slot, &stamp, sizeof(stamp));
      } else {
        std::memcpy(slot, payload.data(), payload.size());
      }
      ++write_;
      shared_->write_index.store(write_, kIndexStoreOrder);
      after_index_store(*shared_);
      return true;
    }

    void finish() noexcept { shared_->done_count.store(write_ + 1, std::memory_order_release); }

   private:
    MinimalRingShared* shared_;
    std::uint64_t capacity_;
    std::uint64_t slot_bytes_;
    std::uint64_t stride_;
    std::uint64_t write_ = 0;
    std::uint64_t cached_read_ = 0;
  };

  class Consumer {
   public:
    Consumer(MinimalRingShared& shared, std::uint32_t capacity_slots, std::uint32_t slot_bytes) noexcept
        : shared_(&shared), capacity_(capacity_slots), slot_bytes_(slot_bytes), stride_(stride(slot_bytes)) {}

    // Copies the oldest entry into out (slot_bytes); false when empty.
    bool try_pop(std::span<std::byte> out) noexcept {
      if (read_ == cached_write_) {
        cached_write_ = shared_->write_index.load(std::memory_order_acquire);
        if (read_ == cached_write_) return false;
      }
      const std::byte* slot = ring_slots(*shared_) + (read_ & (capacity_ - 1)) * stride_;
      if constexpr (kHeaderBytes != 0) {
        std::uint32_t length = 0;
        std::memcpy(&length, slot + 8, sizeof(length));
        std::memcpy(out.data(), slot + kHeaderBytes, std::min<std::uint64_t>(length, slot_bytes_));
      } else {
        std::memcpy(out.data(), slot, slot_bytes_);
      }
      ++read_;
      shared_->read_index.store(read_, kIndexStoreOrder);
      after_index_store(*shared_);
      return true;
    }

    // True once the producer has finished and everything it wrote was popped.
    bool drained() const noexcept {
      const std::uint64_t done = shared_->done_count.load(std::memory_order_acquire);
      return done != 0 && read_ == done - 1;
    }

    std::uint64_t popped() const noexcept { return read_; }

   private:
    MinimalRingShared* shared_;
    std::uint64_t capacity_;
    std::uint64_t slot_bytes_;
    std::uint64_t stride_;
    std::uint64_t read_ = 0;
    std::uint64_t cached_write_ = 0;
  };
};

using MinimalRingProducer = MinimalRing<>::Producer;
using MinimalRingConsumer = MinimalRing<>::Consumer;

struct PingPongLines {
  alignas(kLineBytes) std::atomic<std::uint64_t> a_to_b{0};
  alignas(kLineBytes) std::atomic<std::uint64_t> b_to_a{0};
};
static_assert(sizeof(PingPongLines) == 2 * kLineBytes);

}  // namespace indexbus::bench

// Test-only broken variants of the ring lanes, each of which the simulator must catch
// (ring_sim_test.cpp). Unlike broken_events.hpp they copy no lane code: each is a thin
// subclass or a platform policy that plants one bug into the unchanged core/ lanes.
//
//   IgnoreOneConsumer   a FanoutBroadcast producer that ignores the last consumer's cursor
//                       (it sees one reader less), so under Block it overwrites entries that
//                       consumer has not read.
//   NoRevalidate        the seqlock re-check after a copy always passes: the platform answers a
//                       reader's relaxed re-load of a slot stamp with the value its acquire load
//                       saw before the copy (ring.hpp read_slot), so a Drop reader delivers a
//                       copy torn by an overwrite.
//   IgnoreGate          SequencedSlots consumers ignore their gate: a reader's load of another
//                       reader's cursor (only the gate check does that) answers "far ahead".
//   PublishBeforePayload the producer's payload words reach memory only after its next publish
//                       (the store of write_seq): write_seq, and the slot's complete stamp,
//                       announce an entry whose bytes are not written yet.
//   IgnoresEvictionTag  Journal readers load heartbeat words without the writer's evicted tag: a
//                       read that waited, or found its entry overwritten, re-checks its heartbeat
//                       and misses the eviction (journal.hpp, "Eviction"), as the old re-check
//                       of the state would have without the writer's state CAS.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "indexbus/sim/ring_adapter.hpp"

namespace indexbus::sim::broken {

template <Platform P>
class IgnoreOneConsumerProducer : public FanoutProducer<P> {
 public:
  IgnoreOneConsumerProducer(const P& platform, RingLaneRef lane) noexcept
      : FanoutProducer<P>(platform, one_reader_less(lane)) {}

 private:
  static RingLaneRef one_reader_less(RingLaneRef lane) noexcept {
    if (lane.reader_count > 1) --lane.reader_count;
    return lane;
  }
};

struct IgnoreOneConsumerLanes : ring::RealLanes {
  template <typename P> using Fanout = IgnoreOneConsumerProducer<P>;
};

enum class PlatformBug : std::uint8_t { NoRevalidate, IgnoreGate, PublishBeforePayload, IgnoresEvictionTag };

template <PlatformBug B>
class BrokenPlatform : public SimPlatform {
 public:
  BrokenPlatform(Scheduler& scheduler, bool parking, Barrier barrier = Barrier::Membarrier) noexcept
      : SimPlatform(scheduler, parking, barrier), scheduler_(&scheduler) {}

  // Called by the adapter once the lane is laid out.
  void configure(const RingLaneRef& lane) noexcept {
    lane_ = lane;
    slots_end_ = lane.slots + std::uint64_t{lane.capacity_slots} * events_slot_stride_bytes(lane.slot_payload_bytes);
  }

  template <typename T>
  T load(T& word, std::memory_order order, Where where = Where::current()) const {
    const T value = SimPlatform::load(word, order, where);
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      const std::uint32_t actor = scheduler_->current();
      if (B == PlatformBug::NoRevalidate && is_stamp(&word) && actor < last_stamp_.size()) {
        LastStamp& last = last_stamp_[actor];
        if (order == std::memory_order_relaxed && last.address == &word) return last.value;
        if (order == std::memory_order_acquire) last = LastStamp{&word, value};
      }
      if (B == PlatformBug::IgnoreGate && actor != 0 && is_other_cursor(&word, actor - 1)) return ~std::uint64_t{0};
      if (B == PlatformBug::IgnoresEvictionTag && actor != 0 && is_heartbeat(&word)) return value & ~kHeartbeatEvicted;
    }
    return value;
  }

  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                           Where where = Where::current()) const {
    if (B != PlatformBug::PublishBeforePayload || scheduler_->current() != 0) {
      SimPlatform::copy_to_shared_racy(dst, src, bytes, where);
      return;
    }
    assert(bytes <= pending_.size());
    std::memcpy(pending_.data(), src, bytes);
    pending_dst_ = dst;
    pending_bytes_ = bytes;
  }

  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag, Where where = Where::current()) const {
    const std::uint32_t seen = SimPlatform::publish_then_load_flag(word, value, flag, where);
    if (B == PlatformBug::PublishBeforePayload && scheduler_->current() == 0 && pending_dst_ != nullptr) {
      std::byte* dst = pending_dst_;
      pending_dst_ = nullptr;
      SimPlatform::copy_to_shared_racy(dst, pending_.data(), pending_bytes_, where);
    }
    return seen;
  }

 private:
  struct LastStamp {
    const void* address = nullptr;
    std::uint64_t value = 0;
  };

  bool is_stamp(const void* address) const noexcept {
    const auto* p = static_cast<const std::byte*>(address);
    if (p < lane_.slots || p >= slots_end_) return false;
    return static_cast<std::uint64_t>(p - lane_.slots) % events_slot_stride_bytes(lane_.slot_payload_bytes) == 0;
  }
  bool is_heartbeat(const void* address) const noexcept {
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
      if (address == &lane_.readers[i].heartbeat_ns) return true;
    }
    return false;
  }
  bool is_other_cursor(const void* address, std::uint32_t self) const noexcept {
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
      if (i != self && address == &lane_.readers[i].cursor_seq) return true;
    }
    return false;
  }

  Scheduler* scheduler_;
  RingLaneRef lane_;
  const std::byte* slots_end_ = nullptr;
  mutable std::array<LastStamp, kActorsMax> last_stamp_{};
  mutable std::array<std::byte, events::kSlotPayloadBytesMax + 8> pending_{};
  mutable std::byte* pending_dst_ = nullptr;
  mutable std::size_t pending_bytes_ = 0;
};

template <PlatformBug B>
struct BrokenPlatformLanes : ring::RealLanes {
  using Platform = BrokenPlatform<B>;
};

using IgnoreOneConsumer = ring::Adapter<IgnoreOneConsumerLanes>;
using NoRevalidate = ring::Adapter<BrokenPlatformLanes<PlatformBug::NoRevalidate>>;
using IgnoreGate = ring::Adapter<BrokenPlatformLanes<PlatformBug::IgnoreGate>>;
using PublishBeforePayload = ring::Adapter<BrokenPlatformLanes<PlatformBug::PublishBeforePayload>>;
using IgnoresEvictionTag = ring::Adapter<BrokenPlatformLanes<PlatformBug::IgnoresEvictionTag>>;

}  // namespace indexbus::sim::broken

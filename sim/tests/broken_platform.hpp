// Test-only platform policies that plant one bug each into the unchanged core/ lanes, so that
// they can never drift from the lane code: BrokenPlatform<B> is SimPlatform except that it
// perturbs particular loads and stores, picked by the word's address and the acting side. The
// simulator must catch every one (ring_sim_test.cpp, events_sim_test.cpp). The ring lanes and
// Events share the slot format (layout.hpp: stamp, payload_bytes, payload), so the slot bugs
// serve both; the others name one lane's header words and are inert on the other lanes.
//
// Slots, every lane:
//   NoRevalidate         the seqlock re-check after a copy always passes: the platform answers a
//                        reader's relaxed re-load of a slot stamp with the value its acquire load
//                        saw before the copy (ring.hpp read_slot, events.hpp read_drop), so a
//                        Drop reader delivers a copy torn by an overwrite.
//   PublishBeforePayload the producer's payload bytes reach memory only after its next publish
//                        (publish_then_load_flag: write_seq for the rings, the slot stamp for an
//                        Events Block lane): the publish announces an entry whose bytes are not
//                        written yet.
// Ring lanes:
//   IgnoreGate           SequencedSlots consumers ignore their gate: a reader's load of another
//                        reader's cursor (only the gate check does that) answers "far ahead".
//   IgnoresEvictionTag   Journal readers load heartbeat words without the writer's evicted tag: a
//                        read that waited, or found its entry overwritten, re-checks its heartbeat
//                        and misses the eviction (journal.hpp, "Eviction"), as the old re-check
//                        of the state would have without the writer's state CAS.
//   WriterTagsByStore    the Journal writer evicts by a plain store of the tagged heartbeat instead
//                        of a CAS from the value it judged silent: a reader call whose heartbeat
//                        CAS lands between the writer's load and its tag succeeds, and is evicted
//                        under it (journal.hpp, "Eviction"). Needs a reader silent at the writer's
//                        load and active right after: a clock jump in the middle of its call.
//   ReaderStoresHeartbeat Journal reader calls store their heartbeat instead of CAS-ing it from
//                        their last value: a call after an eviction overwrites the tag and goes on
//                        as attached (the model: Evicted).
// Events:
//   OffByOneCapacity     the producer's load of read_seq answers one more than it is (never above
//                        write_seq), so the Block full check admits capacity + 1 entries.
//   MissedWake           a producer that has announced it will park (its store of
//                        producer_waiting) re-checks read_seq and is answered the value it loaded
//                        before announcing: it parks without seeing progress made in between, whose
//                        publish saw no waiter and woke nobody.
//   ClosedBeforeDrained  once the consumer has loaded closed == 1, its next load of write_seq
//                        answers its own read_seq: it reports Closed with entries unread.
//   ReaderWaits          a consumer that loads an odd stamp (an overwrite in progress) waits,
//                        polling and bounded, for that write's publish, as the Drop lane did before
//                        a write took effect in two steps (EV-8): linearizable, not wait-free.
//
// The perturbed values come from memory the lane really wrote (a value loaded earlier, or the
// actor's own cursor, which only it stores): no lane logic is restated here.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace indexbus::sim::broken {

enum class PlatformBug : std::uint8_t {
  NoRevalidate,
  PublishBeforePayload,
  IgnoreGate,
  IgnoresEvictionTag,
  WriterTagsByStore,
  ReaderStoresHeartbeat,
  OffByOneCapacity,
  MissedWake,
  ClosedBeforeDrained,
  ReaderWaits,
};

template <PlatformBug B>
class BrokenPlatform : public SimPlatform {
 public:
  // Both adapters make actor 0 the producer and actor 1 the (first) consumer.
  static constexpr std::uint32_t kProducer = 0;
  static constexpr std::uint32_t kConsumer = 1;

  BrokenPlatform(Scheduler& scheduler, bool parking, Barrier barrier = Barrier::Membarrier) noexcept
      : SimPlatform(scheduler, parking, barrier), scheduler_(&scheduler) {}

  // Called by the adapter once the lane is laid out (one overload per adapter).
  void configure(const RingLaneRef& lane) noexcept {
    ring_ = lane;
    configure_slots(lane.slots, lane.capacity_slots, lane.slot_payload_bytes);
  }
  void configure(const EventsLaneRef& lane) noexcept {
    events_ = lane.header;
    configure_slots(lane.slots, lane.capacity_slots, lane.slot_payload_bytes);
  }

  template <typename T>
  T load(T& word, std::memory_order order, Where where = Where::current()) const {
    const T value = SimPlatform::load(word, order, where);
    const std::uint32_t actor = scheduler_->current();
    if constexpr (std::is_same_v<T, std::uint32_t>) {
      if (B == PlatformBug::ClosedBeforeDrained && actor == kConsumer && events_ != nullptr &&
          &word == &events_->closed && value != 0) {
        closed_seen_ = true;
      }
    }
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (B == PlatformBug::NoRevalidate && is_stamp(&word) && actor < last_stamp_.size()) {
        LastStamp& last = last_stamp_[actor];
        if (order == std::memory_order_relaxed && last.address == &word) return last.value;
        if (order == std::memory_order_acquire) last = LastStamp{&word, value};
      }
      if (B == PlatformBug::IgnoreGate && actor != 0 && is_other_cursor(&word, actor - 1)) return ~std::uint64_t{0};
      if (B == PlatformBug::IgnoresEvictionTag && actor != kProducer && is_heartbeat(&word)) {
        return value & ~kHeartbeatEvicted;
      }
      if (events_ != nullptr) return events_load(word, value, order, actor, where);
    }
    return value;
  }

  // WriterTagsByStore, ReaderStoresHeartbeat: a CAS of a Journal heartbeat word made as a plain
  // store of the desired value (one step, like the CAS), answered as if it succeeded. The writer's
  // CASes that tag evicted; the readers' CASes between untagged values (calls, and attaches of a
  // record never tagged).
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order, Where where = Where::current()) const {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      const std::uint32_t actor = scheduler_->current();
      const bool as_store =
          is_heartbeat(&word) &&
          ((B == PlatformBug::WriterTagsByStore && actor == kProducer && (desired & kHeartbeatEvicted) != 0) ||
           (B == PlatformBug::ReaderStoresHeartbeat && actor != kProducer && !is_heartbeat_tagged(expected) &&
            !is_heartbeat_tagged(desired)));
      if (as_store) {
        SimPlatform::store(word, desired, order, where);
        return true;
      }
    }
    return SimPlatform::compare_exchange(word, expected, desired, order, where);
  }

  // MissedWake: marks the producer's announcement, so that its next load of read_seq (the
  // re-check) is answered from before it.
  void announce_waiter(std::uint32_t& flag, std::uint32_t value, Where where = Where::current()) const {
    SimPlatform::announce_waiter(flag, value, where);
    if (B == PlatformBug::MissedWake && events_ != nullptr && &flag == &events_->producer_waiting) {
      assert(scheduler_->current() == kProducer);
      recheck_stale_ = true;
    }
  }

  // PublishBeforePayload: the producer's payload copy (racy: ring and Events Drop slots, and the
  // SequencedSlots adapter's in-place write; plain: Events Block slots) is held back.
  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                           Where where = Where::current()) const {
    if (!hold_back(dst, src, bytes, true)) SimPlatform::copy_to_shared_racy(dst, src, bytes, where);
  }
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes, Where where = Where::current()) const {
    if (!hold_back(dst, src, bytes, false)) SimPlatform::copy_to_shared(dst, src, bytes, where);
  }

  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag, Where where = Where::current()) const {
    const std::uint32_t seen = SimPlatform::publish_then_load_flag(word, value, flag, where);
    if (B == PlatformBug::PublishBeforePayload && scheduler_->current() == kProducer && pending_dst_ != nullptr) {
      std::byte* dst = pending_dst_;
      pending_dst_ = nullptr;
      if (pending_racy_) {
        SimPlatform::copy_to_shared_racy(dst, pending_.data(), pending_bytes_, where);
      } else {
        SimPlatform::copy_to_shared(dst, pending_.data(), pending_bytes_, where);
      }
    }
    return seen;
  }

 private:
  struct LastStamp {
    const void* address = nullptr;
    std::uint64_t value = 0;
  };

  void configure_slots(std::byte* slots, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes) noexcept {
    slots_ = slots;
    stride_bytes_ = events_slot_stride_bytes(slot_payload_bytes);
    slots_end_ = slots + std::uint64_t{capacity_slots} * stride_bytes_;
  }

  // The Events bugs on 64-bit words: the producer's loads of read_seq, the consumer's of
  // write_seq and of slot stamps. value is what the load really read.
  std::uint64_t events_load(std::uint64_t& word, std::uint64_t value, std::memory_order order, std::uint32_t actor,
                            Where where) const {
    if (B == PlatformBug::OffByOneCapacity && actor == kProducer && &word == &events_->read_seq) {
      // The producer's own write_seq is the raw word: only it stores there.
      return std::min(value + 1, events_->write_seq);
    }
    if (B == PlatformBug::MissedWake && actor == kProducer && &word == &events_->read_seq) {
      if (recheck_stale_) {
        recheck_stale_ = false;
        return read_seq_before_;
      }
      read_seq_before_ = value;
    }
    if (B == PlatformBug::ClosedBeforeDrained && actor == kConsumer && &word == &events_->write_seq && closed_seen_) {
      closed_seen_ = false;
      // The consumer's own read_seq is the raw word: only it stores there.
      return events_->read_seq;
    }
    if (B == PlatformBug::ReaderWaits && actor == kConsumer && order == std::memory_order_acquire && is_stamp(&word) &&
        value % 2 == 1) {
      wait_for_publish((value - 1) / 2, where);
    }
    return value;
  }

  // ReaderWaits: poll write_seq until the write whose odd stamp the consumer met is published,
  // with the lane's own pause schedule and a 10 ms bound (the old lane's). Each pause is a wait
  // step of the scheduler, which is what a non-blocking call must never make.
  void wait_for_publish(std::uint64_t writer_seq, Where where) const {
    const std::uint64_t deadline_ns = now_ns() + 10'000'000;
    for (std::uint32_t round = 0;; ++round) {
      if (SimPlatform::load(events_->write_seq, std::memory_order_seq_cst, where) > writer_seq) return;
      if (deadline_passed(deadline_ns, round)) return;
      pause(round, deadline_ns, where);
    }
  }

  // True if the copy was held back for the producer's next publish.
  bool hold_back(std::byte* dst, const std::byte* src, std::size_t bytes, bool racy) const {
    if (B != PlatformBug::PublishBeforePayload || scheduler_->current() != kProducer) return false;
    assert(pending_dst_ == nullptr);
    assert(bytes <= pending_.size());
    std::memcpy(pending_.data(), src, bytes);
    pending_dst_ = dst;
    pending_bytes_ = bytes;
    pending_racy_ = racy;
    return true;
  }

  bool is_stamp(const void* address) const noexcept {
    const auto* p = static_cast<const std::byte*>(address);
    if (p < slots_ || p >= slots_end_) return false;
    return static_cast<std::uint64_t>(p - slots_) % stride_bytes_ == 0;
  }
  bool is_heartbeat(const void* address) const noexcept {
    for (std::uint32_t i = 0; i < ring_.reader_count; ++i) {
      if (address == &ring_.readers[i].heartbeat_ns) return true;
    }
    return false;
  }
  bool is_other_cursor(const void* address, std::uint32_t self) const noexcept {
    for (std::uint32_t i = 0; i < ring_.reader_count; ++i) {
      if (i != self && address == &ring_.readers[i].cursor_seq) return true;
    }
    return false;
  }

  Scheduler* scheduler_;
  RingLaneRef ring_;                    // a ring lane's words (IgnoreGate, IgnoresEvictionTag); reader_count 0 otherwise
  EventsLaneHeader* events_ = nullptr;  // an Events lane's header; nullptr on the ring lanes
  const std::byte* slots_ = nullptr;
  const std::byte* slots_end_ = nullptr;
  std::uint64_t stride_bytes_ = 1;
  mutable std::array<LastStamp, kActorsMax> last_stamp_{};
  mutable std::array<std::byte, events::kSlotPayloadBytesMax + 8> pending_{};
  mutable std::byte* pending_dst_ = nullptr;
  mutable std::size_t pending_bytes_ = 0;
  mutable bool pending_racy_ = false;
  mutable std::uint64_t read_seq_before_ = 0;  // MissedWake: the producer's last read_seq load
  mutable bool recheck_stale_ = false;         // MissedWake: announced, re-check not yet made
  mutable bool closed_seen_ = false;           // ClosedBeforeDrained: the consumer loaded closed == 1
};
static_assert(Platform<BrokenPlatform<PlatformBug::NoRevalidate>>);

// The unchanged Events lane on a broken platform.
template <PlatformBug B>
using BrokenEvents = events::Adapter<BrokenPlatform<B>>;

}  // namespace indexbus::sim::broken

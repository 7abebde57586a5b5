// What the three ring lanes (Journal, SequencedSlots, FanoutBroadcast) share: one producer,
// reader_count tracked readers with a cursor each, and one ring of seqlocked slots
// (layout.hpp: RingLaneHeader, ReaderRecord, SlotHeader). The lanes themselves (journal.hpp,
// sequenced_slots.hpp, fanout.hpp) decide what a cursor means and what gates the producer; this
// file holds the protocol pieces they must not each re-invent.
//
// Memory ordering, argued once for all ring lanes
// ------------------------------------------------
// Slots are seqlocks under both policies. Unlike Events, a ring slot can be read by a party the
// producer does not wait for (a Journal read_at of an old entry, a lapped reader under Drop), so
// every copy into or out of a slot is a racy word copy validated by the stamp:
//   producer  stamp = 2s+1 (release); payload words and payload_bytes (release stores);
//             stamp = 2s+2 (release); then write_seq = s+1 (publish, below).
//   reader    stamp (acquire) must equal 2s+2; payload_bytes and payload words (acquire loads);
//             stamp again (relaxed) must be unchanged.
// If any of the reader's loads read a store of a later write of the slot, it synchronizes with
// that release store, so the odd stamp stored before it is visible to the re-load: an unchanged
// stamp proves the copy is entry s, untorn. A stamp below 2s+2 means s is not written yet; above
// it, that s was overwritten. The odd stamp is a release store although the seqlock needs only
// relaxed: a SequencedSlots reader that finds its entry destroyed by the claim of s (SS-8) learns
// of that claim from this store alone, and must then also see every publish before it, or it
// reports Lost and then Empty for an entry published before the claim (the weak-memory simulator
// found that; sim/README.md, "Findings"). Free on x86, where every store is a release. For the
// same reason a reader that answers Overwritten has acquired the overwriting stamp, so that the
// claim happens before the reader's later stores: a SequencedSlots consumer gated on it that
// acquires its cursor (moved past s by a Lost) must then find s destroyed too, not read a stale
// copy of s (found by the weak-memory simulator; sim/README.md, "Findings"). The seqlock's
// second stamp load is relaxed, so read_slot re-loads with acquire on that (cold) path.
//
// Overwritten is final: a write takes effect in two steps (spec/v1-semantics.md, EV-8), its odd
// stamp destroys entry s, its write_seq store makes its own entry readable. A reader (Journal
// read and read_at, a FanoutBroadcast consumer) that meets the first step reports Lost or Evicted
// at once and never waits for the second, so every non-blocking read is wait-free. Having
// acquired the overwriting stamp of write w, its reload of write_seq sees every publish before w
// (write_seq >= w >= s + C), and the jump to max(s + 1, write_seq - C) is the model's. (Until
// 2026-12-07 the reader waited up to 100 ms for the overwriting publish, so a stopped or dead
// producer stalled every reader and a slow one made the verdict flaky.)
//
// Publish. The producer stores write_seq = s+1 (release, via publish_then_load_flag) after the
// slot's final stamp. A reader that loads write_seq > s (acquire) sees the complete stamp (or a
// later one), hence entry s or evidence that it was overwritten.
//
// Cursors. A reader that is done with entry s (read it, or a Journal reader committing) stores
// cursor_seq = s+1 (release). A producer that loads it (acquire) and then reuses slot
// s % capacity overwrites only bytes the reader no longer needs. Under Drop the producer ignores
// cursors; readers find out from stamps and write_seq that they were lapped.
//
// Full and Empty. As in Events (events.hpp, "Full and Empty"): the producer's last store is
// write_seq and a reader's is its cursor, and each answers Full or Empty from a load of the
// other's; without a store-load barrier on both sides both loads may miss (store buffering). So
// the producer's reload of the cursors (min_cursor, Journal's gate) and a reader's reload of
// write_seq before it answers Empty each start with a store_load_fence. Only the slow paths pay.
//
// Waiting. The producer waits on producer_wake_epoch with its own flag producer_waiting (only the
// producer sets and clears it); any reader that advances a cursor publishes it with
// publish_then_load_flag(cursor, value, producer_waiting) and wakes the producer if the flag is
// set. Readers wait on reader_wake_epoch with the shared flag readers_waiting. Several readers may
// park at once, so a reader never clears the flag (it could erase another reader's announcement);
// whoever wakes readers (the producer on publish or close, a SequencedSlots consumer that
// advances a cursor someone is gated on) clears it before it bumps the epoch and wakes them all.
// That is still a Dekker pair: a reader that announced after the waker loaded the flag re-checks
// after its announcement and sees the waker's earlier store, so it does not sleep; one that
// announced before is woken.
//
// A reader loads reader_wake_epoch *before* it announces itself. With two kinds of wakers (the
// producer, and in SequencedSlots an upstream consumer) a waker may clear the flag for a reason
// the reader is not waiting for: the producer publishes while a gated consumer waits for its
// upstream. Had the reader loaded the epoch after announcing, such a waker could clear the flag
// and bump the epoch between the two; the reader would then park on the new epoch with no
// announcement left, and the upstream consumer it waits for would see the flag clear and not
// wake it (the simulator found this: sim/README.md, "Findings"). Loaded before, every bump that
// follows a clear of this reader's announcement also follows its epoch load, so its wait returns
// at once and it announces again.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/platform.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus {

// Where a ring lane lives in a mapped region. The lane code never touches memory outside it.
struct RingLaneRef {
  RingLaneHeader* header = nullptr;
  ReaderRecord* readers = nullptr;  // reader_count records
  std::byte* slots = nullptr;       // capacity_slots slots of events_slot_stride_bytes each
  LaneKind kind = LaneKind::Journal;
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 0;
  std::uint32_t slot_payload_bytes = 0;
  std::uint32_t reader_count = 0;
  std::uint64_t reader_timeout_ns = 0;
};

inline RingLaneRef ring_lane_ref(std::byte* block, const LaneDescriptor& lane) noexcept {
  assert(is_ring_kind(static_cast<LaneKind>(lane.kind)));
  assert(reinterpret_cast<std::uintptr_t>(block) % kCacheLineBytes == 0);
  assert(lane.reader_count >= 1 && lane.reader_count <= kReaderCountMax);
  return RingLaneRef{reinterpret_cast<RingLaneHeader*>(block),
                     reinterpret_cast<ReaderRecord*>(block + sizeof(RingLaneHeader)),
                     block + ring_slots_offset(lane.reader_count),
                     static_cast<LaneKind>(lane.kind),
                     static_cast<OnFull>(lane.on_full),
                     lane.capacity_slots,
                     lane.slot_payload_bytes,
                     lane.reader_count,
                     lane.reader_timeout_ns};
}

namespace ring_detail {

inline SlotHeader& slot_at(const RingLaneRef& lane, std::uint64_t seq) noexcept {
  const std::uint64_t index = seq & (lane.capacity_slots - 1);
  return *reinterpret_cast<SlotHeader*>(lane.slots +
                                        index * events_slot_stride_bytes(lane.slot_payload_bytes));
}

inline std::byte* payload_of(SlotHeader& slot) noexcept {
  return reinterpret_cast<std::byte*>(&slot) + sizeof(SlotHeader);
}

// Producer: entry seq is being written (stamp 2s+1). Call before touching the slot's payload.
template <Platform P>
void begin_slot(const P& platform, SlotHeader& slot, std::uint64_t seq) noexcept {
  platform.store(slot.stamp, events_stamp_writing(seq), std::memory_order_release);
}

// Producer: copies payload into the slot (racy word copy) and records its length.
template <Platform P>
void fill_slot(const P& platform, SlotHeader& slot, std::span<const std::byte> payload) noexcept {
  platform.copy_to_shared_racy(payload_of(slot), payload.data(), payload.size());
  platform.store(slot.payload_bytes, static_cast<std::uint32_t>(payload.size()),
                 std::memory_order_release);
}

// Producer: entry seq is complete (stamp 2s+2). Then publish_write_seq.
template <Platform P>
void complete_slot(const P& platform, SlotHeader& slot, std::uint64_t seq) noexcept {
  platform.store(slot.stamp, events_stamp_complete(seq), std::memory_order_release);
}

// Wakes every parked reader, if any announced itself. `cleared` is the flag value loaded right
// after the waker's own store (see "Waiting" above).
template <Platform P>
void wake_readers_if(const P& platform, RingLaneHeader& header, std::uint32_t flag) noexcept {
  if (flag == 0) [[likely]] return;
  platform.store(header.readers_waiting, std::uint32_t{0}, std::memory_order_relaxed);
  platform.fetch_add(header.reader_wake_epoch, std::uint32_t{1}, std::memory_order_release);
  platform.wake_all(header.reader_wake_epoch);
}

// Producer: makes entries below write_seq visible and wakes parked readers.
template <Platform P>
void publish_write_seq(const P& platform, RingLaneHeader& header, std::uint64_t write_seq) noexcept {
  const std::uint32_t flag =
      platform.publish_then_load_flag(header.write_seq, write_seq, header.readers_waiting);
  wake_readers_if(platform, header, flag);
}

// Producer: closes the lane and wakes parked readers. Idempotent.
template <Platform P>
void publish_closed(const P& platform, RingLaneHeader& header) noexcept {
  const std::uint32_t flag =
      platform.publish_then_load_flag(header.closed, std::uint32_t{1}, header.readers_waiting);
  wake_readers_if(platform, header, flag);
}

// Reader: stores its cursor (release) and wakes the producer if it may be parked. With
// wake_readers (SequencedSlots, where other consumers may be gated on this one), it also wakes
// parked readers: the load of readers_waiting after publish_then_load_flag is ordered after the
// cursor store by the same store-load barrier.
template <Platform P>
void publish_cursor(const P& platform, RingLaneHeader& header, ReaderRecord& reader,
                    std::uint64_t cursor_seq, bool wake_readers) noexcept {
  const std::uint32_t producer_flag =
      platform.publish_then_load_flag(reader.cursor_seq, cursor_seq, header.producer_waiting);
  if (producer_flag != 0) [[unlikely]] {
    platform.fetch_add(header.producer_wake_epoch, std::uint32_t{1}, std::memory_order_release);
    platform.wake_all(header.producer_wake_epoch);
  }
  if (wake_readers) {
    wake_readers_if(platform, header,
                    platform.load(header.readers_waiting, std::memory_order_seq_cst));
  }
}

enum class SlotRead : std::uint8_t {
  Entry,        // the entry was copied out, untorn
  NotYet,       // the slot does not hold entry seq yet
  Overwritten,  // entry seq was overwritten (or was being overwritten during the copy)
};

// Reader: seqlock copy of entry seq into out (at least slot_payload_bytes). On Entry,
// *payload_bytes is its length (clamped to slot_payload_bytes: a corrupt length never makes a
// copy overrun `out`).
template <Platform P>
SlotRead read_slot(const P& platform, const RingLaneRef& lane, std::uint64_t seq,
                   std::span<std::byte> out, std::uint32_t* payload_bytes) noexcept {
  assert(out.size() >= lane.slot_payload_bytes);
  SlotHeader& slot = slot_at(lane, seq);
  const std::uint64_t expected = events_stamp_complete(seq);
  const std::uint64_t before = platform.load(slot.stamp, std::memory_order_acquire);
  if (before < expected) return SlotRead::NotYet;
  if (before > expected) return SlotRead::Overwritten;
  const std::uint32_t length = std::min(
      platform.load(slot.payload_bytes, std::memory_order_acquire), lane.slot_payload_bytes);
  platform.copy_from_shared_racy(out.data(), payload_of(slot), length);
  const std::uint64_t after = platform.load(slot.stamp, std::memory_order_relaxed);
  if (after != before) [[unlikely]] {
    // The relaxed load saw a later write's stamp without synchronizing with it. Whoever acts on
    // Overwritten must have, or what follows may contradict it: see "Slots are seqlocks" above.
    // Cold path; the acquire re-load reads that stamp or a later one (coherence).
    static_cast<void>(platform.load(slot.stamp, std::memory_order_acquire));
    return SlotRead::Overwritten;
  }
  *payload_bytes = length;
  return SlotRead::Entry;
}

// The smallest cursor among the readers in reader_mask (bit i = reader i), or `none` if the mask
// is empty. A store_load_fence, then each cursor (see "Cursors" and "Full and Empty" above).
// O(reader_count).
template <Platform P>
std::uint64_t min_cursor(const P& platform, const RingLaneRef& lane, std::uint64_t reader_mask,
                         std::uint64_t none) noexcept {
  platform.store_load_fence();  // see "Full and Empty" above
  std::uint64_t lowest = none;
  for (std::uint32_t i = 0; i < lane.reader_count; ++i) {
    if (((reader_mask >> i) & 1) == 0) continue;
    lowest = std::min(lowest, platform.load(lane.readers[i].cursor_seq, std::memory_order_seq_cst));
  }
  return lowest;
}

inline constexpr std::uint64_t all_readers_mask(std::uint32_t reader_count) noexcept {
  return reader_count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << reader_count) - 1;
}

// A reader's wait: until ready(full) or deadline_ns. Like events_detail::wait_until, except that
// the shared readers_waiting flag is never cleared by a reader (see "Waiting" above).
template <Platform P, typename Ready>
bool reader_wait_until(const P& platform, RingLaneHeader& header, std::uint64_t deadline_ns,
                       Ready ready) {
  if (!platform.waiter_needs_wake()) {
    for (std::uint32_t round = 0;; ++round) {
      if (ready()) return true;
      if (platform.deadline_passed(deadline_ns, round)) return ready();
      platform.pause(round, deadline_ns);
    }
  }
  for (;;) {
    if (ready()) return true;
    if (platform.now_ns() >= deadline_ns) return false;
    // The epoch before the announcement, not after: see "Waiting" above.
    const std::uint32_t seen_epoch = platform.load(header.reader_wake_epoch, std::memory_order_acquire);
    platform.announce_waiter(header.readers_waiting, kWaiterParked);
    if (ready()) return true;
    platform.wait(header.reader_wake_epoch, seen_epoch, deadline_ns);
    // The audit of the wake (events.hpp, "Waiting"); the shared flag stays up, as always.
    if (ready()) {
      if (platform.load(header.reader_wake_epoch, std::memory_order_acquire) == seen_epoch) [[unlikely]] {
        platform.note_unwoken_ready(header.reader_wake_epoch, seen_epoch);
      }
      return true;
    }
  }
}

// The producer's wait: until ready() or deadline_ns, parked on producer_wake_epoch.
template <Platform P, typename Ready>
bool producer_wait_until(const P& platform, RingLaneHeader& header, std::uint64_t deadline_ns,
                         Ready ready) {
  return events_detail::wait_until(platform, header.producer_waiting, header.producer_wake_epoch,
                                   deadline_ns, [&](bool) { return ready(); });
}

}  // namespace ring_detail

// Claims reader record `index` for this process (pid word), as claim_role does for Events: free,
// or held by a process that no longer exists.
template <Platform P>
[[nodiscard]] bool claim_reader_pid(const P& platform, ReaderRecord& reader) noexcept {
  return claim_role(platform, reader.pid);
}

}  // namespace indexbus

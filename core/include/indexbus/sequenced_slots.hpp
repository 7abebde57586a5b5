// The SequencedSlots lane: one producer and reader_count consumers over a ring of capacity_slots
// sequenced slots, with consumers arranged in stages fixed at creation (spec/v1-semantics.md,
// SS-*; bytes in spec/layout.md, "SequencedSlots"). The producer claims the next sequence, fills
// that slot in place and publishes it; consumer i reads sequence s only after every consumer it is
// gated on (ReaderRecord[i].gated_on_mask) has finished s, and under Block the producer reuses a
// slot only after the leaf consumers (those nobody is gated on) have finished its previous entry.
//
// Memory ordering
// ---------------
// The slot seqlock, publish (write_seq), cursor and waiting arguments are those of ring.hpp; read
// them first. What SequencedSlots adds:
//
// Gating. Consumer i finishing s stores cursor_seq = s+1 with release (publish_cursor). Consumer k
// gated on i loads that cursor with acquire (min_cursor) before it copies s, so i's copy of s
// happens before k's. Happens-before is transitive along the gating graph, and the graph is
// acyclic (SS-3), so from every consumer a path of "is gated on by" edges ends at a leaf: every
// consumer's use of s happens before some leaf's cursor passes s. The producer therefore loads
// only the leaves' cursors (acquire) before it reuses slot s % capacity under Block, and still
// overwrites nothing any consumer is using (SS-6). Consumers that have not attached still gate:
// their cursors are in the region from creation, so an entry is never reused unread.
//
// Claim, then publish. claim() stores the slot's odd stamp 2s+1 and hands out the slot's payload
// bytes; the caller writes them in place (plain stores); publish(length) stores payload_bytes
// (release), the stamp 2s+2 (release) and write_seq = s+1 (release). Under Block the claimed slot
// belongs to the producer alone (see Gating), so the plain writes race with nothing, and a
// consumer that loads write_seq > s (acquire) sees all of them (SS-9).
//
// Under Drop the in-place writes race, by design, with the atomic word copies of lapped consumers
// (read_slot). That is formally a data race in the C++ model: it is the classic cross-process
// seqlock with a writer writing in place, which the "claim, then publish, written once" contract
// requires. The writer orders the odd stamp before the payload stores with a release fence
// (Boehm's seqlock writer); a consumer whose copy saw any new word re-loads the stamp and finds it
// changed, and reports Lost instead of the entry. On x86-64 (stores leave in program order) this
// holds in practice; under ThreadSanitizer the fence is replaced by a compiler barrier (TSan does
// not model fences, and gcc warns), so in-process threaded tests use Block only, and Drop is
// stressed across processes, which TSan does not track.
//
// Drop and gating. The producer never waits; a consumer lapped by it reports Lost{count} and jumps
// to the oldest entry still held, without waiting for its upstream consumers: an overwritten entry
// is gone for every consumer, and a consumer that reported s Lost has finished s for those gated
// on it (SS-8). A claimed slot already counts as overwritten: its previous entry is gone the
// moment the odd stamp is stored.
//
// No allocation, syscall or serialization on try_claim/publish/try_read; waits park only when
// the platform's strategy parks.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "indexbus/error.hpp"
#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/platform.hpp"
#include "indexbus/ring.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus {

// What claim returns. On Ok, payload is the whole slot (slot_payload_bytes): write the entry's
// bytes into it, then publish(length).
struct ClaimResult {
  WriteStatus status = WriteStatus::Ok;  // Ok, Full (try_claim), Timeout (claim), Closed
  std::uint64_t seq = 0;                 // Ok: the sequence being written
  std::span<std::byte> payload;          // Ok: the slot's payload bytes
};

namespace sequenced_detail {

// The odd stamp must be ordered before the caller's in-place payload stores (see "Claim, then
// publish" above). TSan does not model fences; its builds run Drop only across processes.
inline void order_stamp_before_payload() noexcept {
#if defined(__SANITIZE_THREAD__)
  std::atomic_signal_fence(std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_release);
#endif
}

}  // namespace sequenced_detail

// The producer side. One producer per lane (producer_pid); all calls from one thread.
template <Platform P>
class SequencedProducer {
 public:
  SequencedProducer(const P& platform, RingLaneRef lane) noexcept : platform_(&platform), lane_(lane) {
    assert(lane_.kind == LaneKind::SequencedSlots);
    assert(is_power_of_two(lane_.capacity_slots));
    assert(lane_.reader_count >= 1 && lane_.reader_count <= kReaderCountMax);
    std::uint64_t upstream = 0;
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) upstream |= lane_.readers[i].gated_on_mask;
    leaves_mask_ = ring_detail::all_readers_mask(lane_.reader_count) & ~upstream;
    assert(leaves_mask_ != 0);  // an acyclic graph has a leaf (SS-3)
    write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_relaxed);
    closed_ = platform_->load(lane_.header->closed, std::memory_order_relaxed) != 0;
    cached_min_cursor_ = ring_detail::min_cursor(*platform_, lane_, leaves_mask_, write_seq_);
  }

  // Producer. Never waits. Block: Ok or Full (SS-6). Drop: Ok, overwriting the oldest (SS-8).
  // A second claim before publish returns the same slot again (SS-2).
  [[nodiscard]] ClaimResult try_claim() noexcept {
    if (closed_) return ClaimResult{WriteStatus::Closed, 0, {}};
    if (!claimed_ && !has_space()) return ClaimResult{WriteStatus::Full, 0, {}};
    return begin();
  }

  // Producer. Block: waits for the leaves until deadline_ns (platform clock), then Timeout.
  [[nodiscard]] ClaimResult claim(std::uint64_t deadline_ns) noexcept {
    if (closed_) return ClaimResult{WriteStatus::Closed, 0, {}};
    if (!claimed_ && !has_space() && !wait_for_space(deadline_ns)) {
      return ClaimResult{WriteStatus::Timeout, 0, {}};
    }
    return begin();
  }

  // Producer, after an Ok claim: entry `seq` is the first payload_bytes bytes of the claimed span.
  // Closed if the lane was closed since (the claim stays abandoned); TooLarge changes nothing.
  [[nodiscard]] WriteStatus publish(std::uint32_t payload_bytes) noexcept {
    if (closed_) return WriteStatus::Closed;
    assert(claimed_);  // publish without a claim is a caller error (SS-2)
    if (!claimed_) return WriteStatus::Closed;
    if (payload_bytes > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    SlotHeader& slot = ring_detail::slot_at(lane_, write_seq_);
    platform_->store(slot.payload_bytes, payload_bytes, std::memory_order_release);
    ring_detail::complete_slot(*platform_, slot, write_seq_);
    ++write_seq_;
    claimed_ = false;
    ring_detail::publish_write_seq(*platform_, *lane_.header, write_seq_);
    return WriteStatus::Ok;
  }

  // Producer. Later claims and publishes return Closed; consumers drain, then read Closed. An
  // outstanding claim is abandoned, not published. Idempotent.
  void close() noexcept {
    closed_ = true;
    ring_detail::publish_closed(*platform_, *lane_.header);
  }

  std::uint64_t written() const noexcept { return write_seq_; }
  bool claimed() const noexcept { return claimed_; }
  std::uint64_t leaves_mask() const noexcept { return leaves_mask_; }

 private:
  bool has_space() noexcept {
    if (lane_.on_full == OnFull::Drop) return true;
    assert(cached_min_cursor_ <= write_seq_);
    if (write_seq_ - cached_min_cursor_ < lane_.capacity_slots) return true;
    cached_min_cursor_ = ring_detail::min_cursor(*platform_, lane_, leaves_mask_, write_seq_);
    assert(cached_min_cursor_ <= write_seq_);
    return write_seq_ - cached_min_cursor_ < lane_.capacity_slots;
  }

  [[gnu::cold]] bool wait_for_space(std::uint64_t deadline_ns) noexcept {
    return ring_detail::producer_wait_until(*platform_, *lane_.header, deadline_ns,
                                            [this] { return has_space(); });
  }

  ClaimResult begin() noexcept {
    SlotHeader& slot = ring_detail::slot_at(lane_, write_seq_);
    if (!claimed_) {
      ring_detail::begin_slot(*platform_, slot, write_seq_);
      if (lane_.on_full == OnFull::Drop) sequenced_detail::order_stamp_before_payload();
      claimed_ = true;
    }
    return ClaimResult{WriteStatus::Ok, write_seq_,
                       std::span<std::byte>(ring_detail::payload_of(slot), lane_.slot_payload_bytes)};
  }

  const P* platform_;
  RingLaneRef lane_;
  std::uint64_t leaves_mask_ = 0;
  std::uint64_t write_seq_ = 0;
  std::uint64_t cached_min_cursor_ = 0;
  bool claimed_ = false;
  bool closed_ = false;
};

// Consumer `index` of a lane. One process per index (ReaderRecord.pid); all calls from one
// thread. `out` must hold at least slot_payload_bytes.
template <Platform P>
class SequencedConsumer {
 public:
  SequencedConsumer(const P& platform, RingLaneRef lane, std::uint32_t index) noexcept
      : platform_(&platform), lane_(lane), index_(index) {
    assert(lane_.kind == LaneKind::SequencedSlots);
    assert(index_ < lane_.reader_count);
    gate_mask_ = lane_.readers[index_].gated_on_mask;
    assert(((gate_mask_ >> index_) & 1) == 0);
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
      if ((lane_.readers[i].gated_on_mask >> index_) & 1) has_downstream_ = true;
    }
    next_seq_ = platform_->load(self().cursor_seq, std::memory_order_relaxed);
    cached_write_seq_ = next_seq_;
  }

  // Consumer. Never waits: Entry, Empty (nothing written, or gated), Lost{count} (Drop) or Closed.
  [[nodiscard]] ReadResult try_read(std::span<std::byte> out) noexcept { return poll(out); }

  // Consumer. Waits until there is something to report or deadline_ns passes (then Timeout).
  [[nodiscard]] ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) noexcept {
    ReadResult result = poll(out);
    if (result.status != ReadStatus::Empty) return result;
    const bool ready = ring_detail::reader_wait_until(*platform_, *lane_.header, deadline_ns, [&] {
      result = poll(out);
      return result.status != ReadStatus::Empty;
    });
    if (!ready) return ReadResult{ReadStatus::Timeout, 0, 0, 0};
    return result;
  }

  std::uint64_t next_seq() const noexcept { return next_seq_; }
  std::uint32_t index() const noexcept { return index_; }
  std::uint64_t gate_mask() const noexcept { return gate_mask_; }

 private:
  ReaderRecord& self() const noexcept { return lane_.readers[index_]; }

  ReadResult poll(std::span<std::byte> out) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    const std::uint64_t s = next_seq_;
    if (s == cached_write_seq_) {
      // closed before write_seq: once closed is seen, so is the final write_seq (ring.hpp). The
      // fence: ring.hpp, "Full and Empty".
      platform_->store_load_fence();
      const bool closed = platform_->load(lane_.header->closed, std::memory_order_seq_cst) != 0;
      cached_write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_seq_cst);
      assert(cached_write_seq_ >= s);
      if (s == cached_write_seq_) {
        return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
      }
    }
    if (lane_.on_full == OnFull::Drop) {
      if (cached_write_seq_ - s > lane_.capacity_slots) return report_lost();
      // A claim of s + capacity already destroys entry s (SS-8), before write_seq says so.
      const SlotHeader& slot = ring_detail::slot_at(lane_, s);
      if (platform_->load(slot.stamp, std::memory_order_acquire) > events_stamp_complete(s)) {
        return report_lost();
      }
    }
    // SS-4: every upstream consumer must have finished (read or skipped) s.
    if (gate_mask_ != 0 &&
        ring_detail::min_cursor(*platform_, lane_, gate_mask_, std::numeric_limits<std::uint64_t>::max()) <= s) {
      return ReadResult{ReadStatus::Empty, 0, 0, 0};
    }
    std::uint32_t length = 0;
    switch (ring_detail::read_slot(*platform_, lane_, s, out, &length)) {
      case ring_detail::SlotRead::Entry:
        return deliver(length);
      case ring_detail::SlotRead::Overwritten:
        assert(lane_.on_full == OnFull::Drop);  // Block: gating keeps the slot (SS-7)
        return report_lost();
      case ring_detail::SlotRead::NotYet:
        break;
    }
    // write_seq > s promises the complete stamp; a region that says otherwise is corrupt. Report
    // Empty rather than trusting the slot.
    return ReadResult{ReadStatus::Empty, 0, 0, 0};
  }

  ReadResult deliver(std::uint32_t length) noexcept {
    const std::uint64_t seq = next_seq_;
    ++next_seq_;
    ReaderRecord& r = self();
    platform_->store(r.read_count, platform_->load(r.read_count, std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    ring_detail::publish_cursor(*platform_, *lane_.header, r, next_seq_, has_downstream_);
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

  // Drop: jump to the oldest entry still held, max(s+1, write_seq - capacity), one further if
  // that entry's slot is already claimed again (SS-8). Bounded by capacity_slots steps.
  [[gnu::cold]] ReadResult report_lost() noexcept {
    assert(lane_.on_full == OnFull::Drop);
    cached_write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_seq_cst);
    const std::uint64_t oldest =
        cached_write_seq_ > lane_.capacity_slots ? cached_write_seq_ - lane_.capacity_slots : 0;
    std::uint64_t next = std::max(next_seq_ + 1, oldest);
    for (std::uint32_t step = 0; step < lane_.capacity_slots && next < cached_write_seq_; ++step) {
      const SlotHeader& slot = ring_detail::slot_at(lane_, next);
      if (platform_->load(slot.stamp, std::memory_order_acquire) <= events_stamp_complete(next)) break;
      ++next;
    }
    const std::uint64_t lost = next - next_seq_;
    assert(lost >= 1);
    next_seq_ = next;
    ReaderRecord& r = self();
    platform_->store(r.lost_count, platform_->load(r.lost_count, std::memory_order_relaxed) + lost,
                     std::memory_order_relaxed);
    ring_detail::publish_cursor(*platform_, *lane_.header, r, next_seq_, has_downstream_);
    return ReadResult{ReadStatus::Lost, 0, 0, lost};
  }

  const P* platform_;
  RingLaneRef lane_;
  std::uint32_t index_ = 0;
  std::uint64_t gate_mask_ = 0;
  bool has_downstream_ = false;  // someone is gated on us: wake parked readers on every cursor
  std::uint64_t next_seq_ = 0;
  std::uint64_t cached_write_seq_ = 0;
};

// Attach as the producer (SS-1): WrongLaneKind, or RoleTaken while a live process holds it.
template <Platform P>
[[nodiscard]] Result<SequencedProducer<P>> attach_sequenced_producer(const P& platform, RingLaneRef lane) {
  if (lane.kind != LaneKind::SequencedSlots) {
    return Error{ErrorCode::WrongLaneKind, "lane kind " + std::string(to_string(lane.kind)) +
                                               " is not sequenced_slots"};
  }
  if (!claim_role(platform, lane.header->producer_pid)) {
    return Error{ErrorCode::RoleTaken, "producer_pid " + std::to_string(lane.header->producer_pid) +
                                           " is a live process; one producer per lane"};
  }
  return SequencedProducer<P>(platform, lane);
}

// Attach as consumer `index` (SS-1): BadReaderIndex if index >= reader_count, RoleTaken while a
// live process holds that consumer.
template <Platform P>
[[nodiscard]] Result<SequencedConsumer<P>> attach_sequenced_consumer(const P& platform, RingLaneRef lane,
                                                                     std::uint32_t index) {
  if (lane.kind != LaneKind::SequencedSlots) {
    return Error{ErrorCode::WrongLaneKind, "lane kind " + std::string(to_string(lane.kind)) +
                                               " is not sequenced_slots"};
  }
  if (index >= lane.reader_count) {
    return Error{ErrorCode::BadReaderIndex, "consumer index " + std::to_string(index) +
                                                " is not below reader_count " +
                                                std::to_string(lane.reader_count)};
  }
  ReaderRecord& record = lane.readers[index];
  if (!claim_reader_pid(platform, record)) {
    return Error{ErrorCode::RoleTaken, "consumer " + std::to_string(index) + " pid " +
                                           std::to_string(record.pid) + " is a live process"};
  }
  platform.store(record.state, kReaderAttached, std::memory_order_release);
  return SequencedConsumer<P>(platform, lane, index);
}

// Gives the producer role back (the lane stays as it is; a later producer resumes it).
template <Platform P>
void detach_sequenced_producer(const P& platform, RingLaneRef lane) noexcept {
  release_role(platform, lane.header->producer_pid);
}

// Gives consumer `index` back. Its cursor stays and keeps gating (SS-6).
template <Platform P>
void detach_sequenced_consumer(const P& platform, RingLaneRef lane, std::uint32_t index) noexcept {
  assert(index < lane.reader_count);
  release_role(platform, lane.readers[index].pid);
}

}  // namespace indexbus

// The FanoutBroadcast lane: one producer, N = reader_count consumers fixed at creation (indexes
// 0..N-1). Every consumer receives every entry, in order, unless under Drop it is lapped.
//
// Memory ordering
// ---------------
// The slot seqlock, publish, cursor and waiting arguments are those of ring.hpp ("Memory
// ordering, argued once for all ring lanes"); this lane uses only its pieces. What is specific:
//
// Cursors. ReaderRecord[i].cursor_seq is the next entry consumer i reads: everything below it was
// delivered or reported Lost. Only consumer i stores it (release, after its copy-out is validated).
//
// Block gate. The producer may reuse slot s % C only when every consumer's cursor exceeds s - C,
// attached or not: a consumer that attaches late still receives every entry (FB-6). The producer
// keeps a private copy of min(cursor_seq) and reloads all N cursors (min_cursor, acquire or
// stronger) only when that copy says full. A stale copy is never too high (cursors only grow), so
// the producer can only under-estimate the space, never overwrite an unread entry.
//
// Drop. The producer never loads a cursor, so a slow consumer cannot slow it or any other
// consumer (FB-8). A lapped consumer finds out from write_seq (cached - next > C) or from a slot
// stamp above 2s+2, reloads write_seq and jumps to max(next + 1, write_seq - C), reporting the
// difference as Lost, exactly as Events EV-8; the seqlock copy guarantees what it does deliver is
// untorn. A consumer that finds its entry overwritten by a stamp (before write_seq says so)
// reports Lost at once: the overwriting write has taken its first step (ring.hpp, "Overwritten is
// final"), and the consumer never waits for it.
//
// Close. A consumer that has caught up with its cached write_seq loads closed before write_seq
// (both seq_cst), so once it sees closed it also sees the final write_seq and reports Closed only
// after it has read (or lost) everything written.
//
// Consumers learn of new entries from write_seq, which they cache and reload only when caught up,
// so a consumer that is behind touches no producer line but the slots it copies.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
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

// The producer side. One producer per lane (RingLaneHeader.producer_pid); all calls from one
// thread. No call allocates or makes a syscall, except a write that parks under WaitStrategy Park.
template <Platform P>
class FanoutProducer {
 public:
  FanoutProducer(const P& platform, RingLaneRef lane) noexcept : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(lane_.kind == LaneKind::FanoutBroadcast);
    assert(is_power_of_two(lane_.capacity_slots));
    assert(lane_.reader_count >= 1 && lane_.reader_count <= kReaderCountMax);
    write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_relaxed);
    closed_ = platform_->load(lane_.header->closed, std::memory_order_relaxed) != 0;
    cached_min_cursor_ = lowest_cursor();
  }

  // Producer. Never waits. Block: Ok or Full (some consumer has C unread entries). Drop: Ok,
  // overwriting the oldest entry when the ring is full.
  [[nodiscard]] WriteStatus try_write(std::span<const std::byte> payload) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) return WriteStatus::Full;
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Block: waits for the slowest consumer until deadline_ns (platform clock), then
  // Timeout. Drop: never waits; same as try_write.
  [[nodiscard]] WriteStatus write(std::span<const std::byte> payload,
                                  std::uint64_t deadline_ns) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space() && !wait_for_space(deadline_ns)) return WriteStatus::Timeout;
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Later writes return Closed; every consumer drains, then reads Closed. Idempotent.
  void close() noexcept {
    closed_ = true;
    ring_detail::publish_closed(*platform_, *lane_.header);
  }

  // Producer. Entries published so far (= the next sequence number).
  std::uint64_t written() const noexcept { return write_seq_; }

 private:
  std::optional<WriteStatus> precheck(std::span<const std::byte> payload) const noexcept {
    if (closed_) return WriteStatus::Closed;
    if (payload.size() > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    return std::nullopt;
  }

  std::uint64_t lowest_cursor() const noexcept {
    return ring_detail::min_cursor(*platform_, lane_, ring_detail::all_readers_mask(lane_.reader_count),
                                   write_seq_);
  }

  bool has_space() noexcept {
    if (lane_.on_full == OnFull::Drop) return true;
    if (write_seq_ - cached_min_cursor_ < lane_.capacity_slots) return true;
    cached_min_cursor_ = lowest_cursor();
    assert(cached_min_cursor_ <= write_seq_);
    return write_seq_ - cached_min_cursor_ < lane_.capacity_slots;
  }

  [[gnu::cold]] bool wait_for_space(std::uint64_t deadline_ns) noexcept {
    return ring_detail::producer_wait_until(*platform_, *lane_.header, deadline_ns,
                                            [this] { return has_space(); });
  }

  void publish(std::span<const std::byte> payload) noexcept {
    assert(payload.size() <= lane_.slot_payload_bytes);
    if (lane_.on_full == OnFull::Block) assert(write_seq_ - cached_min_cursor_ < lane_.capacity_slots);
    SlotHeader& slot = ring_detail::slot_at(lane_, write_seq_);
    ring_detail::begin_slot(*platform_, slot, write_seq_);
    ring_detail::fill_slot(*platform_, slot, payload);
    ring_detail::complete_slot(*platform_, slot, write_seq_);
    ++write_seq_;
    ring_detail::publish_write_seq(*platform_, *lane_.header, write_seq_);
  }

  const P* platform_;
  RingLaneRef lane_;
  std::uint64_t write_seq_ = 0;
  std::uint64_t cached_min_cursor_ = 0;  // never above the true minimum: cursors only grow
  bool closed_ = false;
};

// Consumer `index` (0..reader_count-1). One process per index (ReaderRecord.pid); all calls from
// one thread. `out` must hold at least slot_payload_bytes. Resumes from the stored cursor, so a
// consumer re-created after a detach continues where the last one stopped.
template <Platform P>
class FanoutConsumer {
 public:
  FanoutConsumer(const P& platform, RingLaneRef lane, std::uint32_t index) noexcept
      : platform_(&platform), lane_(lane), index_(index) {
    assert(lane_.header != nullptr);
    assert(lane_.kind == LaneKind::FanoutBroadcast);
    assert(index_ < lane_.reader_count);
    record_ = &lane_.readers[index_];
    next_seq_ = platform_->load(record_->cursor_seq, std::memory_order_relaxed);
    cached_write_seq_ = next_seq_;
  }

  // Consumer. Never waits: Entry, Empty, Lost{count} (Drop) or Closed (after draining).
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

  // Consumer. The next sequence this consumer reads (its cursor).
  std::uint64_t next_seq() const noexcept { return next_seq_; }
  std::uint32_t index() const noexcept { return index_; }

 private:
  ReadResult poll(std::span<std::byte> out) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    if (next_seq_ == cached_write_seq_) {
      RingLaneHeader& h = *lane_.header;
      // closed before write_seq: see "Close" at the top of this file; the fence: ring.hpp,
      // "Full and Empty".
      platform_->store_load_fence();
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
      assert(cached_write_seq_ >= next_seq_);
      if (next_seq_ == cached_write_seq_) {
        return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
      }
    }
    if (cached_write_seq_ - next_seq_ > lane_.capacity_slots) return report_lost();
    std::uint32_t length = 0;
    switch (ring_detail::read_slot(*platform_, lane_, next_seq_, out, &length)) {
      case ring_detail::SlotRead::Entry:
        return deliver(length);
      case ring_detail::SlotRead::NotYet:
        // write_seq said entry next_seq_ is published, so its complete stamp is visible (ring.hpp,
        // "Publish"). Only a corrupt region gets here; report nothing rather than trust the slot.
        return ReadResult{ReadStatus::Empty, 0, 0, 0};
      case ring_detail::SlotRead::Overwritten:
        break;
    }
    // Under Block the producer waits for this cursor, so an overwrite means a corrupt region or a
    // broken producer; reporting it as Lost makes it visible (FB-5) instead of hiding it, which
    // is why there is no assert here: the tests feed this path a deliberately broken producer.
    // Lost at once, never waiting for the overwriting write's publish (ring.hpp, "Overwritten is
    // final").
    return report_lost();
  }

  ReadResult deliver(std::uint32_t length) noexcept {
    const std::uint64_t seq = next_seq_;
    ++next_seq_;
    platform_->store(record_->read_count,
                     platform_->load(record_->read_count, std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    store_cursor();
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

  [[gnu::cold]] ReadResult report_lost() noexcept {
    cached_write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_seq_cst);
    const std::uint64_t oldest_retained =
        cached_write_seq_ > lane_.capacity_slots ? cached_write_seq_ - lane_.capacity_slots : 0;
    const std::uint64_t next = std::max(next_seq_ + 1, oldest_retained);
    assert(next <= cached_write_seq_);
    const std::uint64_t lost = next - next_seq_;
    next_seq_ = next;
    platform_->store(record_->lost_count,
                     platform_->load(record_->lost_count, std::memory_order_relaxed) + lost,
                     std::memory_order_relaxed);
    store_cursor();
    return ReadResult{ReadStatus::Lost, 0, 0, lost};
  }

  void store_cursor() noexcept {
    if (lane_.on_full == OnFull::Block) {
      ring_detail::publish_cursor(*platform_, *lane_.header, *record_, next_seq_, false);
    } else {
      // Drop: the producer never waits for a consumer, so there is nobody to wake.
      platform_->store(record_->cursor_seq, next_seq_, std::memory_order_release);
    }
  }

  const P* platform_;
  RingLaneRef lane_;
  ReaderRecord* record_ = nullptr;
  std::uint32_t index_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t cached_write_seq_ = 0;
};

// Attaching: the producer claims RingLaneHeader.producer_pid, consumer i claims
// ReaderRecord[i].pid (free, or held by a process that no longer exists) and marks the record
// Attached. A second live holder gets RoleTaken; an index >= reader_count gets BadReaderIndex.
template <Platform P>
[[nodiscard]] Result<FanoutProducer<P>> attach_fanout_producer(const P& platform,
                                                               RingLaneRef lane) {
  if (lane.kind != LaneKind::FanoutBroadcast) {
    return Error{ErrorCode::WrongLaneKind, "fanout: lane kind is not fanout_broadcast"};
  }
  if (!claim_role(platform, lane.header->producer_pid)) {
    return Error{ErrorCode::RoleTaken, "fanout: producer_pid is held by a live process"};
  }
  return FanoutProducer<P>(platform, lane);
}

template <Platform P>
void detach_fanout_producer(const P& platform, RingLaneRef lane) noexcept {
  release_role(platform, lane.header->producer_pid);
}

template <Platform P>
[[nodiscard]] Result<FanoutConsumer<P>> attach_fanout_consumer(const P& platform, RingLaneRef lane,
                                                               std::uint32_t index) {
  if (lane.kind != LaneKind::FanoutBroadcast) {
    return Error{ErrorCode::WrongLaneKind, "fanout: lane kind is not fanout_broadcast"};
  }
  if (index >= lane.reader_count) {
    return Error{ErrorCode::BadReaderIndex, "fanout: consumer index " + std::to_string(index) +
                                                " is not below reader_count " +
                                                std::to_string(lane.reader_count)};
  }
  ReaderRecord& record = lane.readers[index];
  if (!claim_reader_pid(platform, record)) {
    return Error{ErrorCode::RoleTaken,
                 "fanout: consumer " + std::to_string(index) + " is held by a live process"};
  }
  platform.store(record.state, kReaderAttached, std::memory_order_relaxed);
  return FanoutConsumer<P>(platform, lane, index);
}

// Releases consumer `index`'s pid word; its cursor stays, and still gates a Block producer.
template <Platform P>
void detach_fanout_consumer(const P& platform, RingLaneRef lane, std::uint32_t index) noexcept {
  assert(index < lane.reader_count);
  release_role(platform, lane.readers[index].pid);
}

}  // namespace indexbus

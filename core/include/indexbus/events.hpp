// The Events lane: one producer, one consumer, a bounded FIFO of fixed-size slots in shared
// memory. Every entry carries a 64-bit sequence number and its payload length.
//
// Memory ordering, argued once
// ----------------------------
// Each side owns one cursor and reads the other's. The producer owns write_seq, the consumer
// owns read_seq. Each side keeps a private cached copy of the peer's cursor and loads the shared
// one only when the cached copy says full (producer) or empty (consumer).
//
// Publish. The producer fills slot[w % capacity] (payload, then payload_bytes), stores the slot
// stamp 2w+2 with release, then stores write_seq = w+1 with (at least) release. A consumer that
// loads write_seq > w with (at least) acquire therefore sees the whole entry w: everything the producer wrote before publishing entry w is visible to a consumer after
// try_read returns entry w (EV-5).
//
// Release (Block). The consumer copies entry r out, then stores read_seq = r+1 with (at least)
// release. A producer that loads read_seq > r with acquire may reuse slot r % capacity: the consumer's copy happened
// before, so the producer never overwrites bytes still being read (EV-7).
//
// Overwrite (Drop). The producer never looks at read_seq; it overwrites the oldest slot. Each slot
// is a seqlock: the producer stores the odd stamp 2w+1 (release), then writes payload words and
// payload_bytes with release stores, then stores 2w+2 with release. The consumer loads the stamp
// with acquire and proceeds only if it is exactly 2r+2; it loads payload_bytes and the payload
// words with acquire loads and then reloads the stamp. If any of those loads read a store of a
// later write, it synchronizes with that release store, so the odd stamp stored before it is
// visible and the reload returns it (or a later stamp): an unchanged stamp proves the copy is
// entry r, untorn (EV-9). No standalone fence is needed, which also keeps ThreadSanitizer exact.
// A changed or larger stamp means entry r was overwritten: the consumer acquires that stamp, loads
// write_seq w and, since every entry below w - capacity has certainly been overwritten and r itself
// has been, jumps to max(r + 1, w - capacity) and reports the difference as Lost (EV-8). No entry is
// delivered twice: read_seq only grows.
//
// A write takes effect in two steps (EV-8): its odd stamp destroys entry w - C, its write_seq store
// makes entry w readable. The consumer reports a loss as soon as it sees the first step and never
// waits for the second, so a Drop read is wait-free: a bounded number of its own steps, whatever
// the producer does (the simulator checks that no try_read of any lane waits: sim/README.md).
// Between the steps the lane holds one entry fewer than before or after the write; a Lost there
// followed by an Empty (capacity 1) is what the model allows at that point.
//
// Full and Empty. Each side's last store is its own cursor (the consumer's read_seq; the
// producer's slot stamp, the store the consumer polls), and each answers Full or Empty from a load
// of the other's. Release stores and acquire (even seq_cst) loads do not order a store before a
// later load of another word, so both loads could miss both stores (store buffering, which x86's
// store buffer really does): a Full and an Empty that no sequential order explains. So a side that
// is about to answer Full or Empty from the shared copy first makes a store_load_fence
// (Platform): of two seq_cst fences one comes first in S, and the load after the later one sees
// the store before the earlier one. Only that slow path pays; the weak-memory simulator found the
// missing fence (sim/README.md, "Findings").
//
// Close. The producer stores closed = 1 after its last publish. The consumer, finding nothing to
// read, loads closed before write_seq, so once it has seen closed it also sees the final
// write_seq, and reports Closed only when it has read up to it (EV-10).
//
// Waiting. A side that must wait (producer on a full Block lane, consumer on an empty lane)
// either polls the peer's cursor (Spin and Backoff strategies: nobody needs to wake it, so it
// touches no shared word but the cursor) or parks on a futex. A parking waiter stores its
// *_waiting flag with Platform::announce_waiter, reads its wake epoch, re-checks the peer's cursor
// and only then sleeps on the epoch. The peer makes its last store (read_seq for the consumer; the
// slot stamp under Block or write_seq under Drop for the producer; closed) with
// Platform::publish_then_load_flag, and if the flag is set it bumps the epoch (release) and wakes
// the sleeper. Those two Platform operations are the two halves of a Dekker pair: each has a
// store-load barrier between its store and its load, so either the waiter's re-check sees the new
// cursor or the peer sees the flag; no wake is lost. RealPlatform makes the barrier asymmetric
// (membarrier(2) on the rare parking side, a compiler-only fence on the hot side) where the kernel
// allows it, and seq_cst stores and loads elsewhere. Every wait is bounded by a deadline, and a
// waiter always re-checks its condition before it reports Timeout.
//
// A lost wake-up does not show in results: a sleep lasts at most one park slice (RealPlatform:
// 50 ms) or until the deadline, and the waiter then finds its condition true and goes on. So a
// parked waiter audits each wait that returns: it re-checks its condition while its announcement
// is still up, and if the condition holds but the epoch is still the one it slept on, it calls
// Platform::note_unwoken_ready. The condition was false at the re-check before the sleep, so the
// peer's publish that made it true came after that re-check; by the Dekker pair that publish's
// flag load saw the announcement (nobody else clears the waiter's own flag, and a ring waker that
// clears the shared readers_waiting bumps the epoch after the reader loaded it), so the peer owes
// a bump of the epoch. An unchanged epoch means the peer is still between its publish and its bump
// (a few instructions, unless it is descheduled or stopped there) or the bump will never come;
// the platform waits a bounded grace for it and counts a lost wake-up if none arrives. The audit
// costs nothing on the hot path: only a waiter that slept, and whose sleep ended with the epoch
// unchanged, pays one load. The flag is cleared after the audit, not before: a publish after the
// clear rightly sees no flag and owes no bump.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "indexbus/layout.hpp"
#include "indexbus/platform.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus {

// Where an Events lane lives in a mapped region. The lane code never touches memory outside it.
struct EventsLaneRef {
  EventsLaneHeader* header = nullptr;
  std::byte* slots = nullptr;  // capacity_slots slots of events_slot_stride_bytes each
  std::uint32_t capacity_slots = 0;
  std::uint32_t slot_payload_bytes = 0;
  OnFull on_full = OnFull::Block;
};

inline EventsLaneRef events_lane_ref(std::byte* block, const LaneDescriptor& lane) noexcept {
  assert(lane.kind == static_cast<std::uint32_t>(LaneKind::Events));
  assert(reinterpret_cast<std::uintptr_t>(block) % kCacheLineBytes == 0);
  return EventsLaneRef{reinterpret_cast<EventsLaneHeader*>(block), block + sizeof(EventsLaneHeader),
                       lane.capacity_slots, lane.slot_payload_bytes,
                       static_cast<OnFull>(lane.on_full)};
}

struct ReadResult {
  ReadStatus status = ReadStatus::Empty;
  std::uint64_t seq = 0;            // Entry: its sequence number
  std::uint32_t payload_bytes = 0;  // Entry: its length; the bytes are in the caller's buffer
  std::uint64_t lost_count = 0;     // Lost: how many entries were overwritten unread

  friend bool operator==(const ReadResult&, const ReadResult&) = default;
};

// Value of a *_waiting flag while its side may be asleep on its wake epoch (0 otherwise).
inline constexpr std::uint32_t kWaiterParked = 3;

namespace events_detail {

inline EventsSlotHeader& slot_at(const EventsLaneRef& lane, std::uint64_t seq) noexcept {
  const std::uint64_t index = seq & (lane.capacity_slots - 1);
  return *reinterpret_cast<EventsSlotHeader*>(
      lane.slots + index * events_slot_stride_bytes(lane.slot_payload_bytes));
}

inline std::byte* payload_of(EventsSlotHeader& slot) noexcept {
  return reinterpret_cast<std::byte*>(&slot) + sizeof(EventsSlotHeader);
}

// The peer's side of the waiting protocol: publish our cursor (or closed) and wake a parked peer.
template <Platform P, typename Word>
inline void publish_and_wake(const P& platform, Word& cursor, Word value, std::uint32_t& waiting,
                             std::uint32_t& epoch) noexcept {
  const std::uint32_t flag = platform.publish_then_load_flag(cursor, value, waiting);
  if (flag == 0) [[likely]] return;
  platform.fetch_add(epoch, std::uint32_t{1}, std::memory_order_release);
  platform.wake_all(epoch);
}

inline constexpr std::uint32_t kFullCheckRounds = 64;

// The waiter's side: wait until ready(full) or the deadline; ready() loads the peer's cursor with
// (at least) acquire. A polling waiter passes full = false on most rounds, so that a check that
// would pull a line the peer writes on every publish (the consumer's closed/write_seq) is made
// only every kFullCheckRounds rounds. Returns ready(true)'s answer after the deadline. Bounded by deadline_ns: each pass either returns or pauses or sleeps until a change.
// Not marked cold: a latency-sensitive consumer spends its life here.
template <Platform P, typename Ready>
bool wait_until(const P& platform, std::uint32_t& waiting, std::uint32_t& epoch,
                              std::uint64_t deadline_ns, Ready ready) {
  if (!platform.waiter_needs_wake()) {
    for (std::uint32_t round = 0;; ++round) {
      if (ready(round % kFullCheckRounds == kFullCheckRounds - 1)) return true;
      if (platform.deadline_passed(deadline_ns, round)) return ready(true);
      platform.pause(round, deadline_ns);
    }
  }
  for (;;) {
    if (ready(true)) return true;
    if (platform.now_ns() >= deadline_ns) return false;
    platform.announce_waiter(waiting, kWaiterParked);
    const std::uint32_t seen_epoch = platform.load(epoch, std::memory_order_acquire);
    if (ready(true)) {
      platform.store(waiting, std::uint32_t{0}, std::memory_order_relaxed);
      return true;
    }
    platform.wait(epoch, seen_epoch, deadline_ns);
    // The audit (see "Waiting" above): the condition re-checked before the flag is cleared.
    if (ready(true)) {
      if (platform.load(epoch, std::memory_order_acquire) == seen_epoch) [[unlikely]] {
        platform.note_unwoken_ready(epoch, seen_epoch);
      }
      platform.store(waiting, std::uint32_t{0}, std::memory_order_relaxed);
      return true;
    }
    platform.store(waiting, std::uint32_t{0}, std::memory_order_relaxed);
  }
}

}  // namespace events_detail

// The producer side. Only one producer may be attached to a lane; all calls from one thread.
template <Platform P>
class EventsProducer {
 public:
  EventsProducer(const P& platform, EventsLaneRef lane) noexcept
      : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(is_power_of_two(lane_.capacity_slots));
    // Acquire: a Block predecessor's payload of entry write_seq - 1 (complete_interrupted_publish).
    write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_acquire);
    cached_read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_acquire);
    closed_ = platform_->load(lane_.header->closed, std::memory_order_relaxed) != 0;
    complete_interrupted_publish();
  }

  // Producer. Never waits. Block: Ok or Full. Drop: overwrites the oldest entry when full, Ok.
  [[nodiscard]] WriteStatus try_write(std::span<const std::byte> payload) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) return WriteStatus::Full;
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Block: waits for space until deadline_ns (platform clock), then Timeout.
  // Drop: never waits; same as try_write.
  [[nodiscard]] WriteStatus write(std::span<const std::byte> payload,
                                  std::uint64_t deadline_ns) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) {
      auto& h = *lane_.header;
      if (!events_detail::wait_until(*platform_, h.producer_waiting, h.producer_wake_epoch,
                                     deadline_ns, [this](bool) { return has_space(); })) {
        return WriteStatus::Timeout;
      }
    }
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Later writes return Closed; the consumer drains, then reads Closed. Idempotent.
  void close() noexcept {
    closed_ = true;
    auto& h = *lane_.header;
    events_detail::publish_and_wake(*platform_, h.closed, std::uint32_t{1}, h.consumer_waiting,
                                    h.consumer_wake_epoch);
  }

  std::uint64_t written() const noexcept { return write_seq_; }

 private:
  std::optional<WriteStatus> precheck(std::span<const std::byte> payload) const noexcept {
    if (closed_) return WriteStatus::Closed;
    if (payload.size() > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    return std::nullopt;
  }

  // EV-16, resuming after a Block producer that died between its two publishing stores: write_seq
  // (step 4 of layout.md's publish) is stored before the stamp the consumer polls (step 5), so a
  // predecessor killed between them left write_seq = w with entry w - 1 complete (its payload and
  // length were stored before write_seq, release) but never stamped, and the consumer, which
  // learns of an entry from its stamp alone, would wait for it forever. Store that stamp (and wake
  // a parked consumer): the dead write takes effect here, at its successor's attach. Only the
  // producer stores Block stamps and only one producer is attached, so nobody races this; a
  // stamp that is already complete (every other case) is left alone. Under Drop a write killed
  // before its write_seq store is simply written again (EV-8).
  void complete_interrupted_publish() noexcept {
    if (lane_.on_full != OnFull::Block || write_seq_ == 0) return;
    const std::uint64_t last = write_seq_ - 1;
    auto& slot = events_detail::slot_at(lane_, last);
    if (platform_->load(slot.stamp, std::memory_order_acquire) == events_stamp_complete(last)) return;
    auto& h = *lane_.header;
    events_detail::publish_and_wake(*platform_, slot.stamp, events_stamp_complete(last), h.consumer_waiting,
                                    h.consumer_wake_epoch);
  }

  bool has_space() noexcept {
    if (lane_.on_full == OnFull::Drop) return true;
    if (write_seq_ - cached_read_seq_ < lane_.capacity_slots) return true;
    platform_->store_load_fence();  // see "Full and Empty" above
    cached_read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_acquire);
    assert(cached_read_seq_ <= write_seq_);
    return write_seq_ - cached_read_seq_ < lane_.capacity_slots;
  }

  void publish(std::span<const std::byte> payload) noexcept {
    auto& slot = events_detail::slot_at(lane_, write_seq_);
    std::byte* bytes = events_detail::payload_of(slot);
    const auto length = static_cast<std::uint32_t>(payload.size());
    assert(length <= lane_.slot_payload_bytes);
    const std::uint64_t seq = write_seq_;
    ++write_seq_;
    auto& h = *lane_.header;
    if (lane_.on_full == OnFull::Drop) {
      // Release: this store is the write's first step, which destroys entry seq - C; a consumer
      // that reports that loss must then see this write's predecessors published (EV-8).
      platform_->store(slot.stamp, events_stamp_writing(seq), std::memory_order_release);
      platform_->copy_to_shared_racy(bytes, payload.data(), length);
      platform_->store(slot.payload_bytes, length, std::memory_order_release);
      platform_->store(slot.stamp, events_stamp_complete(seq), std::memory_order_release);
      events_detail::publish_and_wake(*platform_, h.write_seq, write_seq_, h.consumer_waiting,
                                      h.consumer_wake_epoch);
    } else {
      // Block: write_seq first, then the stamp the consumer polls (see "Publish" above).
      platform_->copy_to_shared(bytes, payload.data(), length);
      platform_->store(slot.payload_bytes, length, std::memory_order_relaxed);
      platform_->store(h.write_seq, write_seq_, std::memory_order_release);
      events_detail::publish_and_wake(*platform_, slot.stamp, events_stamp_complete(seq),
                                      h.consumer_waiting, h.consumer_wake_epoch);
    }
  }

  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t write_seq_ = 0;
  std::uint64_t cached_read_seq_ = 0;
  bool closed_ = false;
};

// The consumer side. Only one consumer may be attached to a lane; all calls from one thread.
// `out` must hold at least slot_payload_bytes.
template <Platform P>
class EventsConsumer {
 public:
  EventsConsumer(const P& platform, EventsLaneRef lane) noexcept
      : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(is_power_of_two(lane_.capacity_slots));
    read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_relaxed);
    cached_write_seq_ = read_seq_;
  }

  // Consumer. Never waits: Entry, Empty, Lost{count} or Closed (after draining).
  [[nodiscard]] ReadResult try_read(std::span<std::byte> out) noexcept { return poll(out, true); }

  // Consumer. Waits until there is something to report or deadline_ns passes (then Timeout).
  [[nodiscard]] ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) noexcept {
    // Not a full poll first: a consumer that calls read() before the producer has written (the
    // common case of a latency-bound stream) would pull the producer's line (closed, write_seq)
    // on every call, and the producer's next write_seq store would then wait for that line to
    // come back before its stamp could become visible: one more cache-line transfer per entry.
    // wait_until makes the full check, periodically and before it gives up.
    ReadResult result = poll(out, false);
    if (result.status != ReadStatus::Empty) return result;
    auto& h = *lane_.header;
    const bool ready = events_detail::wait_until(
        *platform_, h.consumer_waiting, h.consumer_wake_epoch, deadline_ns, [&](bool full) {
          result = poll(out, full);
          return result.status != ReadStatus::Empty;
        });
    if (!ready) return ReadResult{ReadStatus::Timeout, 0, 0, 0};
    return result;
  }

  std::uint64_t next_seq() const noexcept { return read_seq_; }

 private:
  // try_read's contract when full; without full, a Block lane may answer Empty instead of Closed
  // (read() re-checks in full before it gives up).
  ReadResult poll(std::span<std::byte> out, bool full) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    if (lane_.on_full == OnFull::Block) return read_block(out, full);
    if (read_seq_ == cached_write_seq_) {
      auto& h = *lane_.header;
      // closed before write_seq: see "Close" at the top of this file.
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
      if (read_seq_ == cached_write_seq_) {
        return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
      }
    }
    return read_drop(out);
  }

  ReadResult read_block(std::span<std::byte> out, bool full) noexcept {
    auto& slot = events_detail::slot_at(lane_, read_seq_);
    if (platform_->load(slot.stamp, std::memory_order_acquire) != events_stamp_complete(read_seq_)) {
      // closed and write_seq share the producer's line, which every publish writes: a polling
      // consumer reads them only on full checks, so that it does not steal that line each round.
      if (!full) return ReadResult{ReadStatus::Empty, 0, 0, 0};
      // Before answering Empty: the fence, and the stamp again (see "Full and Empty" above).
      platform_->store_load_fence();
      if (platform_->load(slot.stamp, std::memory_order_acquire) == events_stamp_complete(read_seq_)) {
        return copy_block(slot, out);
      }
      // Not published yet, or a publish whose stamp is not stored yet. closed before write_seq:
      // see "Close" above; Closed only when everything written has been read.
      auto& h = *lane_.header;
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_seq_cst);
      const bool drained = written == read_seq_;
      return ReadResult{closed && drained ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
    }
    return copy_block(slot, out);
  }

  ReadResult copy_block(EventsSlotHeader& slot, std::span<std::byte> out) noexcept {
    const std::uint32_t length = std::min(
        platform_->load(slot.payload_bytes, std::memory_order_relaxed), lane_.slot_payload_bytes);
    platform_->copy_from_shared(out.data(), events_detail::payload_of(slot), length);
    return deliver(length);
  }

  ReadResult read_drop(std::span<std::byte> out) noexcept {
    if (cached_write_seq_ - read_seq_ > lane_.capacity_slots) return report_lost();
    auto& slot = events_detail::slot_at(lane_, read_seq_);
    const std::uint64_t expected = events_stamp_complete(read_seq_);
    const std::uint64_t before = platform_->load(slot.stamp, std::memory_order_acquire);
    if (before != expected) {
      // A smaller stamp cannot happen once write_seq said the entry is published; treat a
      // region that says so as an overwrite rather than trusting the slot.
      return report_overwritten(before);
    }
    const std::uint32_t length = std::min(
        platform_->load(slot.payload_bytes, std::memory_order_acquire), lane_.slot_payload_bytes);
    platform_->copy_from_shared_racy(out.data(), events_detail::payload_of(slot), length);
    const std::uint64_t after = platform_->load(slot.stamp, std::memory_order_relaxed);
    if (after != before) return report_overwritten(after);
    return deliver(length);
  }

  // The slot of read_seq_ carries `stamp`, the stamp of a later write w = (stamp - 1) / 2 that is
  // being written (odd) or written but maybe not yet published (even): entry read_seq_ is gone,
  // destroyed by w's first step (EV-8, "A write takes effect in two steps"). Lost at once: the
  // consumer never waits for w's publish. The acquire re-load synchronizes with w's odd stamp
  // (release), so report_lost's reload of write_seq sees every publish before w: write_seq >= w
  // >= read_seq_ + C. (The seqlock's second stamp load is relaxed; this cold path pays for it.)
  [[gnu::cold]] ReadResult report_overwritten(std::uint64_t stamp) noexcept {
    if (stamp > events_stamp_complete(read_seq_)) {
      auto& slot = events_detail::slot_at(lane_, read_seq_);
      static_cast<void>(platform_->load(slot.stamp, std::memory_order_acquire));
    }
    return report_lost();
  }

  ReadResult deliver(std::uint32_t length) noexcept {
    auto& h = *lane_.header;
    const std::uint64_t seq = read_seq_;
    ++read_seq_;
    platform_->store(h.read_count, platform_->load(h.read_count, std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    if (lane_.on_full == OnFull::Block) {
      events_detail::publish_and_wake(*platform_, h.read_seq, read_seq_, h.producer_waiting,
                                      h.producer_wake_epoch);
    } else {
      // Drop: the producer never waits for the consumer, so there is nobody to wake.
      platform_->store(h.read_seq, read_seq_, std::memory_order_release);
    }
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

  [[gnu::cold]] ReadResult report_lost() noexcept {
    auto& h = *lane_.header;
    cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
    const std::uint64_t oldest_retained =
        cached_write_seq_ > lane_.capacity_slots ? cached_write_seq_ - lane_.capacity_slots : 0;
    const std::uint64_t next = std::max(read_seq_ + 1, oldest_retained);
    const std::uint64_t lost = next - read_seq_;
    read_seq_ = next;
    platform_->store(h.lost_count, platform_->load(h.lost_count, std::memory_order_relaxed) + lost,
                     std::memory_order_relaxed);
    platform_->store(h.read_seq, read_seq_, std::memory_order_release);
    return ReadResult{ReadStatus::Lost, 0, 0, lost};
  }

  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t read_seq_ = 0;
  std::uint64_t cached_write_seq_ = 0;
};

}  // namespace indexbus

namespace indexbus {

// Claims a role word (EventsLaneHeader::producer_pid or consumer_pid) for this process: it
// succeeds if the word is free, or if it names a process that no longer exists (a crashed holder).
// One producer and one consumer is the lane's contract; this makes a second one an error.
template <Platform P>
[[nodiscard]] bool claim_role(const P& platform, std::uint32_t& role_pid) noexcept {
  const std::uint32_t self = platform.current_pid();
  std::uint32_t holder = platform.load(role_pid, std::memory_order_acquire);
  if (holder == self) return true;
  if (holder != 0 && platform.process_alive(holder)) return false;
  return platform.compare_exchange(role_pid, holder, self, std::memory_order_acq_rel);
}

template <Platform P>
void release_role(const P& platform, std::uint32_t& role_pid) noexcept {
  std::uint32_t self = platform.current_pid();
  (void)platform.compare_exchange(role_pid, self, std::uint32_t{0}, std::memory_order_acq_rel);
}

}  // namespace indexbus

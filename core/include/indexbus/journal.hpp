// The Journal lane: one writer, up to reader_count tracked readers over a ring of the last
// capacity_slots entries (spec/v1-semantics.md, JR-*; bytes in spec/layout.md, "Journal").
// A reader attaches (optionally by name), reads in order, commits its position, and detaches;
// a re-attach by the same name resumes after the last committed position. read_at(seq) replays
// any retained entry. Under Block the writer waits for the slowest attached reader's committed
// position, and evicts a reader whose heartbeat is older than the lane's reader timeout.
//
// Memory ordering
// ---------------
// Slots, publish, cursors and waiting follow ring.hpp's argument unchanged: every slot is a
// seqlock (read and read_at copy with ring_detail::read_slot and trust only an unchanged stamp),
// the writer publishes write_seq after the slot's final stamp, and a reader's commit publishes
// ReaderRecord.cursor_seq with release (publish_cursor), which is what a Block writer loads before
// it reuses a slot. A read or read_at that finds its entry overwritten by a stamp reports Lost /
// Evicted at once, under both policies: the overwriting write has taken its first step (ring.hpp,
// "Overwritten is final"), and no reader call ever waits for a publish. What is Journal-specific:
//
// Attach vs a writer with a cached gate. The Block writer caches the smallest committed cursor of
// the attached readers (cached_min_, at most its own write_seq) and rescans the records only when
// that cache says full, or when RingLaneHeader.attach_epoch changed since its last rescan (one
// acquire load per write, of a line that only attaches write). A rescan reads the epoch with an
// RMW (fetch_add 0), which reads the latest value in its modification order. A fresh attach loads
// write_seq (W0), stores its cursor as W0 tagged provisional (kCursorProvisional), then the rest
// of the record, then state = Attached, then bumps attach_epoch (seq_cst RMW), then loads
// write_seq again (W1) and fixes its start with a CAS of the cursor from the provisional value to
// W1. A writer that meets a provisional cursor in a rescan does not use it as it is: it adopts it,
// with a CAS from the provisional value to max(W0, its write_seq + 1 - capacity), the oldest entry
// from W0 on that its next write keeps. The CAS decides the start: whoever moves the word first
// wins, and the loser uses what the winner stored. So no decision of the writer ever rests on a cursor the
// reader does not start at:
//   - The writer adopted: the reader starts at the adopted S. Entries from S on were in the ring
//     at the adoption (S > write_seq - capacity) and the writer keeps S in its gate from then on,
//     so none is overwritten before the reader reads and commits it (JR-3). The attach takes
//     effect when write_seq was S, inside its interval (W0 <= S <= the writer's write_seq).
//   - The attacher won: no rescan used its provisional cursor. Either the writer's rescan RMW
//     comes after the bump in the epoch's modification order, so it synchronizes with it and sees
//     the record (it then meets the provisional cursor and loses the CAS, or meets W1); or it comes
//     before, so the bump synchronizes with the rescan and the attach sees every write_seq the
//     writer had published before that rescan (W_s <= W1). In the second case the writer will write
//     only entries below W_s + capacity before it rescans, overwriting only entries below W_s, so
//     nothing from W1 on is overwritten before the writer sees the reader (JR-3).
//
// Resume by name vs a writer in flight. A resume (take_over) of a Detached or Evicted record
// starts at max(c, W1 + 1 - capacity), c its committed cursor (JR-4); of a record Attached by a
// dead process, which gated the writer all along, at max(c, write_seq - capacity) without any tag
// (take_over_gating). The first publishes itself as a fresh attach does: claiming cursor,
// state = Attached, cursor c | kCursorProvisional, the epoch bump, then W1 = write_seq and the CAS
// of its start; the writer adopts max(c, its write_seq + 1 - capacity) (the same formula as for a
// fresh attach, which may start at any write_seq of its interval). So the writer never answers
// Full on the raw committed cursor: a resume may start above it. A resume's start may lie in the
// past, so the fresh attach's argument (fewer than capacity writes past the last rescan) does not
// protect it: the writer must notice it within one write. Between the bump and W1 the resumer runs
// platform.heavy_fence() (membarrier: a full barrier in the writer at whatever point it has
// reached); the writer loads the epoch before every write, after the previous write's write_seq
// store in program order (seq_cst, which on x86 is a plain load). Take the writer's epoch load of
// each write against the barrier in the writer. After it: it reads the bump (C++ [atomics.order]
// p4.4: the bump precedes the caller's first fence, which precedes the remote one in S), so the
// writer rescans and adopts or gates on the fixed start. Before it: every write_seq stored before
// that load is visible to the load of W1 (the remote fence precedes the caller's second one in S),
// so W1 >= that write's sequence number. Hence at most one write, entry W1, passed its check
// without seeing the resume; it overwrites entry W1 - capacity, below the start (the + 1). Without
// membarrier the fence is seq_cst, and the writer's write_seq store and epoch load are seq_cst
// (publish_then_load_flag's fallback, the load below): S then orders store, load, bump and W1, and
// the same follows. With an acquire epoch load and no barrier, store buffering let several writes
// pass their check while W1 still read an older write_seq, and a resume at max(c, W1 - capacity)
// started at the entry the in-flight write was destroying (found by the simulator: sim/README.md,
// "Findings"). The claiming tag carries the committed cursor
// (claiming_cursor(c)), so a resumer that dies anywhere in its attach leaves c under a tag, and the
// next resume of the name starts from it (until the layout revision of 2026-12-08 the claiming tag
// was all ones, and that next resume started from 0: the committed position was lost).
//
// A new name first publishes its record (name, state = Attached) to check for a duplicate name,
// with its cursor tagged claiming (claiming_cursor(0)), which the writer skips: a claim that backs
// off (RoleTaken) never had a gate the writer could have answered Full on.
//
// Claiming a record. Attaches take turns: the whole of attach() runs under the lane's attach
// lock (RingLaneHeader.attach_lock: the pid of the process inside an attach, 0 if none; taken by
// CAS from 0 or from a dead pid, released by CAS back to 0; a live holder is waited for at most
// kAttachLockWaitNs, then the attach fails with RoleTaken naming it). Only attaches change a
// record's pid, so under the lock a record's pid and its owner cannot change between an
// attacher's load and its CAS. Without the lock they could: two attachers CASed pid from the
// value each had seen, and a holder that released and re-claimed its record in between (the same
// pid again) let both succeed, so one record had two readers (found by the simulator:
// sim/README.md, "Findings"). A detach therefore leaves its pid in the record (as an eviction
// does): a Detached or Evicted record is taken whatever its pid says. Outside the lock a record
// only becomes easier to take (a detach, an eviction, a holder's death), so an attach that found
// none free may take effect when it began its scan. The writer never waits for the lock: it reads
// records and tags heartbeats ("Eviction", below), and takes the lock with one CAS only to settle
// states. A new name still checks, after publishing its record, that no other record holds it:
// under the lock it finds none, but an attacher of the layout before the lock (1.0 of 2026-12-07)
// does not take it.
//
// Eviction: the heartbeat word decides. ReaderRecord.heartbeat_ns holds the holder's last
// heartbeat, or that value tagged evicted (kHeartbeatEvicted) or detached (kHeartbeatDetached);
// a tag is final for the holder (layout.hpp). Every reader call begins with a CAS of the word from
// the value its handle stored last to max(now, that value + 1) (it moves even when the clock does
// not: a writer that loaded the last value and judged it silent must fail its CAS after this one;
// with the same value stored again, a commit whose CAS came first was evicted under it and still
// published its cursor, found by the simulator); the writer evicts an attached reader
// that holds it back by a CAS from the untagged value it judged silent (more than
// reader_timeout_ns old) to that value tagged evicted, and counts it; a detach is a CAS from the
// handle's value to that value tagged detached. So reader calls, detach and eviction are ordered by
// one word: a call whose CAS succeeds takes effect with the reader attached and its heartbeat the
// value it stored (the model's heartbeat is that value, taken when the CAS ran: the simulator
// records it as the call's first step, spec journal_model.hpp, JournalBeginCall); a writer's CAS
// after it fails (the value moved), and the writer re-judges the new one. A CAS that fails finds a
// tag (or an attach's value, after this process was taken for dead): the call reports Evicted.
// Each call decides there, not on an earlier load of the state: the writer used to load the
// heartbeat, then CAS the state Attached -> Evicted, and a call that checked its state in between
// and then stored its heartbeat succeeded on a reader the writer evicted; and a commit stored its
// heartbeat before its cursor, so the writer saw a fresh heartbeat with the old cursor and answered
// Full (both found by the simulator: sim/README.md, "Findings"). The first is gone because the
// call's CAS and the writer's CAS compare the same value; the second is now an order the model
// has: the commit's heartbeat (its first step) before the writer's Full, its cursor after. One
// write evicts each silent holder by a CAS of its own, at different moments (a blocking write
// between waits), so a recorded history checks each eviction as a step of its own (JournalEvict,
// from last_call_evictions()): with one eviction of all silent holders at one point, a holder
// the writer judged fresh after another's eviction had no place (found by the simulator). A
// read or a commit that finds its entry overwritten, and a read that waited, check that the word
// still holds their value (a load): a tag being final, untagged then means untagged all along, so
// the call takes effect with the reader attached; else it reports Evicted. A read that waited
// keeps the heartbeat of its start (JR-10), so it does not store another.
//
// The state follows the tag. Only attach lock holders store a Journal state: an attach settles
// every record (Attached with a tag -> Evicted or Detached) before it looks at states; the writer
// after evicting, and a detach, settle by taking the lock with one CAS (never waiting) if it is
// free, and the writer tries again at its next rescan otherwise. Until then a record is Attached
// with a tag: the writer does not gate on it, an attach settles it first, and a validator or
// inspect reports it evicted (detached). The state used to be the arbiter, stored by the writer's
// CAS and a detach's store outside the lock; a late store could then land on the record's next
// holder. Under the lock, a state store can follow only a settle of the same record.
//
// An attach takes the heartbeat by a CAS from the value it loaded to max(now, that value + 1)
// (claim_heartbeat), once its cursor says claiming (the writer skips the record: replacing a tag
// earlier would let a record still Attached gate again at its previous holder's cursor; found by
// the simulator), or first of all when it resumes a dead holder's gating record: above every
// value the record held, so a writer's eviction CAS, which compares
// a value it loaded earlier (possibly the previous holder's, at the same clock reading), never
// matches a later holder's. A generation would do the same with more words; a pid check would not
// (a process may hold a record twice, and only attaches change pids). Racing the writer, the
// claim either comes first (the writer's CAS fails: the dead holder it judged is not evicted, and
// its record is taken over) or second (it finds the tag: that holder was evicted, and the resume
// is one of an Evicted record). The attach's value is recorded with it in a simulated history.
// Clocks in two processes: a holder preempted between reading the clock and its CAS for longer
// than the timeout may be evicted with the value it then stores; the writer judged the value,
// which is all the model asks.
//
// Commit vs eviction. A commit's heartbeat CAS comes before its cursor store, and a holder
// preempted between the two for longer than the timeout may be evicted in between. The commit
// used to store the cursor anyway and answer true: a commit that took effect after the reader's
// eviction (found by the simulator once its clock could jump while a call runs: sim/README.md,
// "Findings"), and a plain store that could land on the record after a resume by name claimed it.
// Now the cursor is a CAS from the value this handle stored last (a resume's claim makes it fail:
// Evicted, nothing stored), and then the heartbeat is loaded again: still this call's value (a tag
// being final, untagged all along), the commit took effect at its CAS, with the reader attached;
// tagged, the commit answers Evicted, and its position may or may not be the record's committed
// cursor (stored before or after the eviction; JR-5 says so). A true commit is always stored, and
// a resume by name after it starts at or past it. In a recorded history the store of a commit that
// answered Evicted is a step of its own (JournalPublishCursor, placed anywhere in the commit's
// interval: last_commit_stored() tells the simulator whether it happened).
//
// Results after an eviction. The same preemption between a call's heartbeat and its look at the
// lane lets the writer evict the reader, write on and close meanwhile; an Entry written, or a
// Closed stored, after the eviction is then no answer an evicted reader may give (found by the
// simulator with clock jumps: a read_at answered Entry{3}, written after its reader's eviction;
// sim/README.md, "Findings"). So a call that found an Entry or Closed by a write_seq it loaded
// itself (a poll that reloads it, every read_at) loads the heartbeat word once more before it
// answers or counts: untagged, the reader was attached all along, and the call takes effect where
// it looked; tagged, Evicted. Empty, NotYet and overwritten answers need no such load: write_seq
// and closed only grow, so they held at the heartbeat already. A poll from a write_seq cached by an
// earlier call reads entries published before this call's heartbeat, and takes effect there.
//
// A Block writer waits at most until its deadline or until the earliest moment a holder becomes
// evictable, then evicts it, so a dead reader blocks it for at most the timeout (JR-10).
//
// Allocation: only attach() (which returns an Error with a message on failure) allocates; the
// read, commit, read_at, heartbeat and write paths do not.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "indexbus/error.hpp"
#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/platform.hpp"
#include "indexbus/ring.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus {

namespace journal_detail {

inline std::uint64_t oldest_retained(std::uint64_t write_seq, std::uint32_t capacity_slots) noexcept {
  return write_seq > capacity_slots ? write_seq - capacity_slots : 0;
}

// JR-4: the oldest entry that the next write (entry write_seq) does not overwrite; where a resume
// behind the window starts, and where the writer adopts an attach's provisional start.
inline std::uint64_t resume_floor(std::uint64_t write_seq, std::uint32_t capacity_slots) noexcept {
  return oldest_retained(write_seq + 1, capacity_slots);
}

// JR-2: at most kReaderNameBytes bytes, no NUL. Empty = anonymous.
inline bool valid_reader_name(std::string_view name) noexcept {
  return name.size() <= kReaderNameBytes && name.find('\0') == std::string_view::npos;
}

using NameBytes = std::array<char, kReaderNameBytes>;

inline NameBytes pad_name(std::string_view name) noexcept {
  assert(valid_reader_name(name));
  NameBytes bytes{};
  std::memcpy(bytes.data(), name.data(), name.size());
  return bytes;
}

template <Platform P>
NameBytes load_name(const P& platform, const ReaderRecord& record) noexcept {
  NameBytes bytes{};
  platform.copy_from_shared_racy(reinterpret_cast<std::byte*>(bytes.data()),
                                 reinterpret_cast<const std::byte*>(record.name), kReaderNameBytes);
  return bytes;
}

template <Platform P>
void store_name(const P& platform, ReaderRecord& record, const NameBytes& bytes) noexcept {
  platform.copy_to_shared_racy(reinterpret_cast<std::byte*>(record.name),
                               reinterpret_cast<const std::byte*>(bytes.data()), kReaderNameBytes);
}

inline bool is_anonymous(const NameBytes& bytes) noexcept { return bytes[0] == '\0'; }

// How long an attach waits for another process's attach to finish (the attach lock, header,
// "Claiming a record"): an attach takes a few dozen shared accesses, so only a holder that is
// stopped or descheduled for long makes this expire.
inline constexpr std::uint64_t kAttachLockWaitNs = 100'000'000;  // 100 ms

// Holds RingLaneHeader.attach_lock for one attach: taken by CAS from 0, or from the pid of a
// process that died inside an attach; released by CAS back to 0. held() is false if a live
// process held it for all of kAttachLockWaitNs (holder() names it). Bounded: one CAS per round.
template <Platform P>
class AttachLock {
 public:
  AttachLock(const P& platform, RingLaneHeader& header, std::uint32_t self_pid) noexcept
      : platform_(&platform), header_(&header), self_pid_(self_pid) {
    const std::uint64_t deadline_ns = platform.now_ns() + kAttachLockWaitNs;
    for (std::uint32_t round = 0;; ++round) {
      std::uint32_t seen = platform.load(header.attach_lock, std::memory_order_seq_cst);
      if (seen == 0 || (seen != self_pid && !platform.process_alive(seen))) {
        if (platform.compare_exchange(header.attach_lock, seen, self_pid, std::memory_order_seq_cst)) {
          held_ = true;
          return;
        }
      }
      holder_ = seen;
      if (platform.deadline_passed(deadline_ns, round)) return;
      platform.pause(round, deadline_ns);
    }
  }
  ~AttachLock() {
    if (!held_) return;
    std::uint32_t self = self_pid_;
    (void)platform_->compare_exchange(header_->attach_lock, self, std::uint32_t{0}, std::memory_order_seq_cst);
  }
  AttachLock(const AttachLock&) = delete;
  AttachLock& operator=(const AttachLock&) = delete;

  bool held() const noexcept { return held_; }
  std::uint32_t holder() const noexcept { return holder_; }

 private:
  const P* platform_;
  RingLaneHeader* header_;
  std::uint32_t self_pid_ = 0;
  std::uint32_t holder_ = 0;
  bool held_ = false;
};

// One try at the attach lock, for callers that must not wait (the writer, a detach): taken only
// when free. Released with release_attach_lock.
template <Platform P>
bool try_attach_lock(const P& platform, RingLaneHeader& header, std::uint32_t self_pid) noexcept {
  std::uint32_t free_lock = 0;
  return platform.compare_exchange(header.attach_lock, free_lock, self_pid, std::memory_order_seq_cst);
}

template <Platform P>
void release_attach_lock(const P& platform, RingLaneHeader& header, std::uint32_t self_pid) noexcept {
  std::uint32_t self = self_pid;
  (void)platform.compare_exchange(header.attach_lock, self, std::uint32_t{0}, std::memory_order_seq_cst);
}

// Under the attach lock: a record still Attached whose heartbeat carries a tag gets the state the
// tag decided (header, "Eviction"). Only attach lock holders store a Journal state, so the state
// cannot move between the load and the store; a tag is final, so the heartbeat cannot lose it.
template <Platform P>
void settle_state(const P& platform, ReaderRecord& r) noexcept {
  if (platform.load(r.state, std::memory_order_seq_cst) != kReaderAttached) return;
  const std::uint64_t heartbeat_ns = platform.load(r.heartbeat_ns, std::memory_order_seq_cst);
  if ((heartbeat_ns & kHeartbeatEvicted) != 0) {
    platform.store(r.state, kReaderEvicted, std::memory_order_seq_cst);
  } else if ((heartbeat_ns & kHeartbeatDetached) != 0) {
    platform.store(r.state, kReaderDetached, std::memory_order_seq_cst);
  }
}

// Is record r held by a live holder that has not detached nor been evicted? (An attacher's test
// before it takes a record; a tag stored after it only makes the record easier to take.)
template <Platform P>
bool held_by_live(const P& platform, const ReaderRecord& r, std::uint32_t state, std::uint32_t holder) noexcept {
  if (state != kReaderAttached || holder == 0 || !platform.process_alive(holder)) return false;
  return !is_heartbeat_tagged(platform.load(r.heartbeat_ns, std::memory_order_seq_cst));
}

}  // namespace journal_detail

// The writer side. One writer per lane (RingLaneHeader.producer_pid, claimed by the caller with
// claim_role); all calls from one thread.
template <Platform P>
class JournalWriter {
 public:
  JournalWriter(const P& platform, RingLaneRef lane) noexcept : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(lane_.kind == LaneKind::Journal);
    assert(is_power_of_two(lane_.capacity_slots));
    write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_relaxed);
    closed_ = platform_->load(lane_.header->closed, std::memory_order_relaxed) != 0;
    self_pid_ = platform_->current_pid();
    if (lane_.on_full == OnFull::Block) (void)rescan();
  }

  // Writer. Never waits. Block: Ok, or Full after evicting the silent readers that hold it back
  // (JR-9, JR-10). Drop: overwrites the oldest entry when the ring is full, Ok (JR-8).
  [[nodiscard]] WriteStatus try_write(std::span<const std::byte> payload) noexcept {
    eviction_count_ = 0;
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) {
      (void)evict_silent_holders(platform_->now_ns());
      if (!rescan()) return WriteStatus::Full;
    }
    publish(payload);
    return WriteStatus::Ok;
  }

  // Writer. Block: waits for space until deadline_ns, waking up when a holder becomes evictable
  // to evict it; then Timeout. Drop: same as try_write.
  [[nodiscard]] WriteStatus write(std::span<const std::byte> payload,
                                  std::uint64_t deadline_ns) noexcept {
    eviction_count_ = 0;
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space() && !wait_for_space(deadline_ns)) return WriteStatus::Timeout;
    publish(payload);
    return WriteStatus::Ok;
  }

  // Writer. Later writes return Closed; readers drain, then read Closed. Idempotent.
  void close() noexcept {
    closed_ = true;
    ring_detail::publish_closed(*platform_, *lane_.header);
  }

  std::uint64_t written() const noexcept { return write_seq_; }

  // The records the last try_write or write evicted, in the order of its eviction CASes (at most
  // kEvictionsNoted): a caller that records histories (the simulator) checks each eviction as a
  // step of its own, since one write's evictions happen at different moments.
  static constexpr std::uint32_t kEvictionsNoted = 8;
  std::span<const std::uint32_t> last_call_evictions() const noexcept {
    return {evicted_.data(), std::min(eviction_count_, kEvictionsNoted)};
  }
  std::uint32_t last_call_eviction_count() const noexcept { return eviction_count_; }

 private:
  std::optional<WriteStatus> precheck(std::span<const std::byte> payload) const noexcept {
    if (closed_) return WriteStatus::Closed;
    if (payload.size() > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    return std::nullopt;
  }

  // The fast path: the cached gate says there is room and no reader attached since the rescan.
  bool has_space() noexcept {
    if (lane_.on_full == OnFull::Drop) return true;
    // seq_cst, after the previous write's write_seq store: the light side of a resume's
    // heavy_fence (header, "Resume by name vs a writer in flight").
    const std::uint32_t epoch =
        platform_->load(lane_.header->attach_epoch, std::memory_order_seq_cst);
    if (epoch == cached_epoch_ && write_seq_ - cached_min_ < lane_.capacity_slots) return true;
    return rescan();
  }

  // The smallest committed cursor of the attached readers, or write_seq_ if none is attached.
  std::uint64_t gate() const noexcept {
    platform_->store_load_fence();  // ring.hpp, "Full and Empty"
    std::uint64_t lowest = write_seq_;
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
      ReaderRecord& r = lane_.readers[i];
      if (platform_->load(r.state, std::memory_order_seq_cst) != kReaderAttached) continue;
      // Evicted or detached by its tag, its state not settled yet: it gates no more.
      if (is_heartbeat_tagged(platform_->load(r.heartbeat_ns, std::memory_order_seq_cst))) continue;
      const std::uint64_t cursor = settled_cursor(r);
      if (cursor == kNoGate) continue;
      // A corrupt cursor beyond write_seq must not wrap the subtraction below.
      lowest = std::min(lowest, cursor);
    }
    return lowest;
  }

  static constexpr std::uint64_t kNoGate = std::numeric_limits<std::uint64_t>::max();

  // After an eviction: the states of evicted (and detached) records follow their heartbeat tags,
  // under the attach lock if it is free now; else later (the next rescan), or by the attach that
  // holds it. Never waits.
  [[gnu::cold]] void settle_states() noexcept {
    auto& h = *lane_.header;
    if (!journal_detail::try_attach_lock(*platform_, h, self_pid_)) return;
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) journal_detail::settle_state(*platform_, lane_.readers[i]);
    journal_detail::release_attach_lock(*platform_, h, self_pid_);
    settle_pending_ = false;
  }

  // The cursor an attached record gates at: its value, once any attach tag is resolved (header,
  // "Attach vs a writer with a cached gate"). A claiming record does not gate (kNoGate); a
  // provisional one is adopted. Bounded: each failed CAS means the record changed hands (an attach
  // fixed its start, or detached and another attach began); after a few, the record gates at its
  // untagged value, which keeps every entry from there (safe), only a Full may then rest on it.
  std::uint64_t settled_cursor(ReaderRecord& r) const noexcept {
    constexpr int kAdoptTriesMax = 4;
    std::uint64_t cursor = platform_->load(r.cursor_seq, std::memory_order_seq_cst);
    for (int tries = 0; is_attach_tagged(cursor); ++tries) {
      if (is_claiming(cursor)) return kNoGate;
      const std::uint64_t provisional = tagged_value(cursor);
      if (tries == kAdoptTriesMax) return provisional;
      // The oldest entry from the provisional start on that the next write keeps (JR-3, JR-4).
      const std::uint64_t adopted =
          std::max(provisional, journal_detail::resume_floor(write_seq_, lane_.capacity_slots));
      if (platform_->compare_exchange(r.cursor_seq, cursor, adopted, std::memory_order_seq_cst)) return adopted;
      // cursor now holds the value that beat the CAS.
    }
    return cursor;
  }

  [[gnu::cold]] bool rescan() noexcept {
    if (settle_pending_) settle_states();
    // An RMW, not a load: see "Attach vs a writer with a cached gate" above.
    cached_epoch_ = platform_->fetch_add(lane_.header->attach_epoch, std::uint32_t{0},
                                         std::memory_order_seq_cst);
    cached_min_ = gate();
    assert(cached_min_ <= write_seq_);
    return write_seq_ - cached_min_ < lane_.capacity_slots;
  }

  // Evicts every attached reader that holds the writer back (its committed cursor is capacity
  // behind) and whose heartbeat is more than reader_timeout_ns old at now_ns, by a CAS of the
  // heartbeat from the value judged silent to that value tagged evicted (header, "Eviction").
  // Returns the earliest time at which a remaining holder becomes evictable (max if none can be).
  [[gnu::cold]] std::uint64_t evict_silent_holders(std::uint64_t now_ns) noexcept {
    constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t timeout_ns = lane_.reader_timeout_ns;
    if (timeout_ns == 0) return kNever;
    std::uint64_t earliest_ns = kNever;
    for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
      ReaderRecord& r = lane_.readers[i];
      if (platform_->load(r.state, std::memory_order_seq_cst) != kReaderAttached) continue;
      const std::uint64_t cursor = platform_->load(r.cursor_seq, std::memory_order_seq_cst);
      // A tagged cursor is an attach in progress: it heartbeats as it starts, never silent.
      if (is_attach_tagged(cursor)) continue;
      if (cursor > write_seq_ || write_seq_ - cursor < lane_.capacity_slots) continue;
      std::uint64_t heartbeat_ns = platform_->load(r.heartbeat_ns, std::memory_order_seq_cst);
      if (is_heartbeat_tagged(heartbeat_ns)) continue;  // evicted or detached already
      if (now_ns > heartbeat_ns && now_ns - heartbeat_ns > timeout_ns) {
        // The eviction itself: it succeeds only if no reader call (nor an attach) moved the
        // heartbeat since the load; a call that moves it after sees the tag and reports Evicted.
        const std::uint64_t silent_ns = heartbeat_ns;
        if (platform_->compare_exchange(r.heartbeat_ns, heartbeat_ns, silent_ns | kHeartbeatEvicted,
                                        std::memory_order_seq_cst)) {
          auto& h = *lane_.header;
          platform_->store(h.eviction_count,
                           platform_->load(h.eviction_count, std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
          settle_pending_ = true;
          if (eviction_count_ < kEvictionsNoted) evicted_[eviction_count_] = i;
          ++eviction_count_;
          continue;
        }
        // heartbeat_ns now holds what beat the CAS: a fresh heartbeat, or a tag.
        if (is_heartbeat_tagged(heartbeat_ns)) continue;
      }
      const std::uint64_t evictable_ns =
          heartbeat_ns > kNever - timeout_ns - 1 ? kNever : heartbeat_ns + timeout_ns + 1;
      earliest_ns = std::min(earliest_ns, evictable_ns);
    }
    if (settle_pending_) settle_states();
    return earliest_ns;
  }

  // Bounded by deadline_ns: every pass either finds space, returns at the deadline, or waits
  // until min(deadline, the next eviction time), which is in the future.
  [[gnu::cold]] bool wait_for_space(std::uint64_t deadline_ns) noexcept {
    for (;;) {
      const std::uint64_t now_ns = platform_->now_ns();
      const std::uint64_t evictable_ns = evict_silent_holders(now_ns);
      if (rescan()) return true;
      if (now_ns >= deadline_ns) return false;
      const std::uint64_t until_ns = std::min(deadline_ns, std::max(evictable_ns, now_ns + 1));
      if (ring_detail::producer_wait_until(*platform_, *lane_.header, until_ns, [this] {
            return write_seq_ - gate() < lane_.capacity_slots;
          })) {
        if (rescan()) return true;
      }
    }
  }

  void publish(std::span<const std::byte> payload) noexcept {
    assert(payload.size() <= lane_.slot_payload_bytes);
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
  std::uint64_t cached_min_ = 0;
  std::uint32_t cached_epoch_ = 0;
  std::uint32_t self_pid_ = 0;   // the writer's pid: it holds the attach lock to settle states
  bool settle_pending_ = false;  // an eviction's record may still say Attached (settle_states)
  std::array<std::uint32_t, kEvictionsNoted> evicted_{};  // last_call_evictions()
  std::uint32_t eviction_count_ = 0;
  bool closed_ = false;
};

// One attached reader. All calls of one handle from one thread. `out` must hold at least
// slot_payload_bytes. Every call refreshes the record's heartbeat; once the writer evicted this
// reader (or another process took its record over), every call reports Evicted (JR-10).
// The destructor does not detach: a handle dropped without detach() keeps its record Attached
// until the process dies and someone re-attaches by its name, or the writer evicts it.
template <Platform P>
class JournalReader {
 public:
  // Attaches to reader record by name (empty: anonymous). A fresh record starts at the current
  // write_seq (JR-3); a named record resumes at its committed cursor (JR-4). Errors:
  // BadReaderName, RoleTaken (the name is attached by a live process, or an attach race was
  // lost), NoFreeReader, WrongLaneKind.
  static Result<JournalReader> attach(const P& platform, RingLaneRef lane, std::string_view name) {
    if (lane.kind != LaneKind::Journal) {
      return Error{ErrorCode::WrongLaneKind, "lane is " + std::string(to_string(lane.kind)) + ", not journal"};
    }
    if (!journal_detail::valid_reader_name(name)) {
      return Error{ErrorCode::BadReaderName,
                   "reader name of " + std::to_string(name.size()) +
                       " bytes is longer than 32 bytes or contains NUL"};
    }
    JournalReader reader(platform, lane);
    const journal_detail::AttachLock<P> lock(platform, *lane.header, reader.self_pid_);
    if (!lock.held()) {
      return Error{ErrorCode::RoleTaken, "attach_lock: held by live pid " + std::to_string(lock.holder()) +
                                             " for more than 100 ms (another attach in progress, or stopped)"};
    }
    // Records whose heartbeat tag says evicted or detached get that state before anything looks
    // at states (header, "Eviction").
    for (std::uint32_t i = 0; i < lane.reader_count; ++i) journal_detail::settle_state(platform, lane.readers[i]);
    const journal_detail::NameBytes wanted = journal_detail::pad_name(name);
    if (!name.empty()) {
      for (std::uint32_t i = 0; i < lane.reader_count; ++i) {
        const ReaderRecord& r = lane.readers[i];
        if (platform.load(r.state, std::memory_order_seq_cst) == kReaderFree) continue;
        if (journal_detail::load_name(platform, r) != wanted) continue;
        if (!reader.take_over(i)) {
          return Error{ErrorCode::RoleTaken, "reader '" + std::string(name) + "' is attached by a live process"};
        }
        reader.cursor_stored_ = reader.next_seq_;  // every attach leaves its start in cursor_seq
        return reader;
      }
    }
    for (std::uint32_t i = 0; i < lane.reader_count; ++i) {
      if (!reader.claim_fresh(i)) continue;
      if (!name.empty() && reader.duplicate_name(wanted)) {
        reader.back_off();
        return Error{ErrorCode::RoleTaken, "reader '" + std::string(name) + "' is being attached by another process"};
      }
      reader.start_fresh(wanted);
      reader.cursor_stored_ = reader.next_seq_;
      return reader;
    }
    return Error{ErrorCode::NoFreeReader,
                 "all " + std::to_string(lane.reader_count) + " reader records are in use"};
  }

  // Reader. Never waits: Entry, Empty, Lost{count} (then continues at the oldest retained entry),
  // Closed (closed and read to the end), or Evicted.
  [[nodiscard]] ReadResult try_read(std::span<std::byte> out) noexcept {
    if (!begin_call()) return evicted_result();
    return poll(out);
  }

  // Reader. Waits until there is something to report or deadline_ns passes (then Timeout). The
  // heartbeat is refreshed when the call starts, not while it waits: a reader that waits here
  // longer than the timeout with C entries read but not committed holds the writer back and may
  // be evicted (the read then reports Evicted, whatever it found). Commit before waiting.
  [[nodiscard]] ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) noexcept {
    if (!begin_call()) return evicted_result();
    ReadResult result = poll(out);
    if (result.status != ReadStatus::Empty) return result;
    const bool ready = ring_detail::reader_wait_until(*platform_, *lane_.header, deadline_ns, [&] {
      result = poll(out);
      return result.status != ReadStatus::Empty;
    });
    if (!ready) return ReadResult{ReadStatus::Timeout, 0, 0, 0};
    // The heartbeat was moved when the call began; while it waited, the writer may have evicted
    // this reader (it holds the writer back with reads it has not committed, JR-10) and written
    // the entry it now returns. Reported as such, that read would follow the eviction. So check
    // again: the heartbeat still the one this call stored (a tag is final, so it was untagged all
    // along), the read takes effect here; else Evicted. A load, not a refreshing CAS: the
    // heartbeat stays the one of the call's start, as JR-10 says.
    if (!heartbeat_still_ours()) {
      dead_ = true;
      return evicted_result();
    }
    return result;
  }

  // Reader. Commits everything read so far (cursor_seq = next_seq()): a re-attach by name resumes
  // here, and a Block writer may now overwrite those entries (JR-5). False if evicted; then the
  // position may or may not have been stored (header, "Commit vs eviction").
  [[nodiscard]] bool commit() noexcept {
    commit_stored_ = false;
    if (!begin_call()) return false;
    ReaderRecord& r = record();
    auto& h = *lane_.header;
    // A CAS from the value this handle stored last: failing, a resume by name has claimed the
    // record since the writer evicted this reader, and the cursor is the resume's now.
    std::uint64_t expected = cursor_stored_;
    if (!platform_->compare_exchange(r.cursor_seq, expected, next_seq_, std::memory_order_seq_cst)) [[unlikely]] {
      dead_ = true;
      return false;
    }
    cursor_stored_ = next_seq_;
    commit_stored_ = true;
    // The CAS, then the writer's waiting flag (ring.hpp, "Waiting and waking": a seq_cst RMW then
    // a seq_cst load, the fallback half of publish_then_load_flag's pair).
    if (platform_->load(h.producer_waiting, std::memory_order_seq_cst) != 0) [[unlikely]] {
      platform_->fetch_add(h.producer_wake_epoch, std::uint32_t{1}, std::memory_order_release);
      platform_->wake_all(h.producer_wake_epoch);
    }
    // Still attached at the CAS? The heartbeat still the one begin_call stored (a tag is final, so
    // untagged now means untagged all along): the commit took effect at its CAS. Tagged, the writer
    // evicted this reader at some moment since begin_call, before or after the CAS: Evicted, and
    // the stored position stays for a resume by name (it never lies past what this handle read).
    if (!heartbeat_still_ours()) [[unlikely]] {
      dead_ = true;
      return false;
    }
    return true;
  }

  // Reader. Copies retained entry seq without moving the read position: Entry, NotYet (seq not
  // written yet) or Evicted (overwritten, or this reader was evicted) (JR-7).
  [[nodiscard]] ReadResult read_at(std::uint64_t seq, std::span<std::byte> out) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    if (!begin_call()) return evicted_result();
    std::uint64_t written = platform_->load(lane_.header->write_seq, std::memory_order_acquire);
    if (seq >= written) {
      // NotYet is an Empty: answer it only from a write_seq loaded after a store_load_fence, as
      // poll() does (ring.hpp, "Full and Empty"). The acquire load alone may still miss a write
      // that returned before this call began (found by the weak-memory simulator: sim/README.md,
      // "Findings").
      platform_->store_load_fence();
      written = platform_->load(lane_.header->write_seq, std::memory_order_seq_cst);
      if (seq >= written) return ReadResult{ReadStatus::NotYet, 0, 0, 0};
    }
    if (seq < journal_detail::oldest_retained(written, lane_.capacity_slots)) return evicted_result();
    std::uint32_t length = 0;
    switch (ring_detail::read_slot(*platform_, lane_, seq, out, &length)) {
      case ring_detail::SlotRead::Entry:
        // The entry may have been written after the writer evicted this reader (header, "Results
        // after an eviction"): only a reader still attached answers it.
        if (!heartbeat_still_ours()) [[unlikely]] {
          dead_ = true;
          return evicted_result();
        }
        return ReadResult{ReadStatus::Entry, seq, length, 0};
      case ring_detail::SlotRead::NotYet: return ReadResult{ReadStatus::NotYet, 0, 0, 0};
      case ring_detail::SlotRead::Overwritten:
        // At once: the overwriting write took its first step (ring.hpp, "Overwritten is final").
        return evicted_result();
    }
    return evicted_result();
  }

  // Reader. Only refreshes the heartbeat (for a reader that is busy elsewhere). False if evicted.
  [[nodiscard]] bool heartbeat() noexcept { return begin_call(); }

  // Reader. Detaches: the record keeps its name and committed cursor (state Detached) and stops
  // holding the writer back; reads past the last commit are forgotten. The handle is dead after.
  void detach() noexcept {
    if (detached_) return;
    detached_ = true;
    ReaderRecord& r = record();
    std::uint64_t seen = heartbeat_ns_;
    // The detach itself: a CAS of the heartbeat from the value this handle stored to that value
    // tagged detached. Failing, the writer evicted this reader first (nothing to do). The state
    // follows under the attach lock (settle_state): by this detach if the lock is free, else by
    // whoever holds it next; until then the tag alone says Detached.
    if (!dead_ && platform_->compare_exchange(r.heartbeat_ns, seen, heartbeat_ns_ | kHeartbeatDetached,
                                              std::memory_order_seq_cst)) {
      auto& h = *lane_.header;
      // The CAS, then the writer's waiting flag: the writer stores the flag, then re-checks gates
      // (ring.hpp, "Waiting and waking"); one of the two sees the other.
      platform_->store_load_fence();
      if (platform_->load(h.producer_waiting, std::memory_order_seq_cst) != 0) {
        platform_->fetch_add(h.producer_wake_epoch, std::uint32_t{1}, std::memory_order_release);
        platform_->wake_all(h.producer_wake_epoch);
      }
      if (journal_detail::try_attach_lock(*platform_, h, self_pid_)) {
        journal_detail::settle_state(*platform_, r);
        journal_detail::release_attach_lock(*platform_, h, self_pid_);
      }
    }
    // The pid stays: only attaches, under the attach lock, change it ("Claiming a record").
    dead_ = true;
  }

  std::uint32_t reader_id() const noexcept { return reader_id_; }
  // The heartbeat this handle last stored (its attach's, or its last call's), and how many it has
  // stored: a caller that records histories (the simulator) learns whether a call stored one.
  std::uint64_t last_heartbeat_ns() const noexcept { return heartbeat_ns_; }
  std::uint64_t heartbeat_count() const noexcept { return heartbeat_count_; }
  // Did the last commit() store its cursor? Its answer alone does not say when it is false (header,
  // "Commit vs eviction"): a caller that records histories (the simulator) records the store.
  bool last_commit_stored() const noexcept { return commit_stored_; }
  std::uint64_t next_seq() const noexcept { return next_seq_; }
  bool evicted() const noexcept { return dead_; }

 private:
  JournalReader(const P& platform, RingLaneRef lane) noexcept
      : platform_(&platform), lane_(lane), self_pid_(platform.current_pid()) {}

  ReaderRecord& record() const noexcept { return lane_.readers[reader_id_]; }

  // Has nobody moved the heartbeat since this handle stored it? A tag is final, so true also
  // means it was untagged at every moment since (header, "Eviction").
  bool heartbeat_still_ours() const noexcept {
    return platform_->load(record().heartbeat_ns, std::memory_order_seq_cst) == heartbeat_ns_;
  }

  // Every reader call starts here: the heartbeat, a CAS from the value this handle stored last.
  // It fails if the writer tagged it evicted, or (after this process was taken for dead) an
  // attach replaced it: either way this handle holds the record no more. The CAS is where the
  // call's liveness is decided: an eviction is a CAS of the same word.
  bool begin_call() noexcept {
    if (dead_) return false;
    std::uint64_t seen = heartbeat_ns_;
    // Above the last value even when the clock has not moved: a writer that loaded the last value
    // and judged it silent must fail its CAS after this one (header, "Eviction").
    const std::uint64_t fresh_ns = std::max(heartbeat_value(platform_->now_ns()), heartbeat_ns_ + 1);
    if (!platform_->compare_exchange(record().heartbeat_ns, seen, fresh_ns, std::memory_order_seq_cst)) [[unlikely]] {
      dead_ = true;
      return false;
    }
    heartbeat_ns_ = fresh_ns;
    ++heartbeat_count_;
    return true;
  }

  // What an attach stores over `seen`: max(now, its value + 1), or now over a value of 0 (a
  // record never held, or held at clock 0: a writer judges a value silent only at a later clock,
  // which a claim that reads the clock after it then exceeds).
  std::uint64_t claimed_heartbeat(std::uint64_t seen) const noexcept {
    const std::uint64_t now_ns = heartbeat_value(platform_->now_ns());
    return heartbeat_value(seen) == 0 ? now_ns : std::max(now_ns, heartbeat_value(seen) + 1);
  }

  // An attach's heartbeat (under the attach lock): one CAS from `seen` (a value loaded from the
  // word) to max(now, its value + 1), above every value the record held (header, "Eviction").
  // Fails only when the writer tagged it evicted since (then `seen` holds the tag).
  bool try_claim_heartbeat(ReaderRecord& r, std::uint64_t& seen) noexcept {
    const std::uint64_t fresh_ns = claimed_heartbeat(seen);
    if (!platform_->compare_exchange(r.heartbeat_ns, seen, fresh_ns, std::memory_order_seq_cst)) return false;
    heartbeat_ns_ = fresh_ns;
    ++heartbeat_count_;
    return true;
  }

  // The same, for a record the writer skips already (its cursor says claiming, or its state is
  // not Attached): whatever the word holds is replaced. Bounded: the writer tags a value once (it
  // may have loaded the record before it became skipped), and nothing else moves it under the lock.
  void claim_heartbeat(ReaderRecord& r) noexcept {
    std::uint64_t seen = platform_->load(r.heartbeat_ns, std::memory_order_seq_cst);
    if (try_claim_heartbeat(r, seen)) return;
    assert((seen & kHeartbeatEvicted) != 0);
    if (try_claim_heartbeat(r, seen)) return;
    // Not reached but by a region off the protocol: take the word as it is.
    const std::uint64_t fresh_ns = claimed_heartbeat(seen);
    platform_->store(r.heartbeat_ns, fresh_ns, std::memory_order_seq_cst);
    heartbeat_ns_ = fresh_ns;
    ++heartbeat_count_;
  }



  static ReadResult evicted_result() noexcept { return ReadResult{ReadStatus::Evicted, 0, 0, 0}; }

  ReadResult poll(std::span<std::byte> out) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    if (pending_lost_ != 0) [[unlikely]] {  // skipped at the resume, already in lost_count
      const std::uint64_t lost = pending_lost_;
      pending_lost_ = 0;
      return ReadResult{ReadStatus::Lost, 0, 0, lost};
    }
    auto& h = *lane_.header;
    // write_seq is on the writer's line, which every publish writes: load it only when the cached
    // value says there is nothing left. A stale value is safe: it was loaded with acquire, so it
    // still proves entries below it published, and an overwrite is caught by the slot's stamp.
    // Loaded in this call, it may show entries written after the writer evicted this reader (the
    // call preempted past the timeout after its heartbeat): an Entry or Closed found so is checked
    // against the heartbeat word before it counts (header, "Results after an eviction").
    bool loaded_now = false;
    if (next_seq_ >= cached_write_seq_) {
      loaded_now = true;
      cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_acquire);
      if (next_seq_ >= cached_write_seq_) {
        // closed before write_seq: once closed is seen, so is the final write_seq (as in Events).
        // The fence: ring.hpp, "Full and Empty".
        platform_->store_load_fence();
        const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
        cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
        if (next_seq_ >= cached_write_seq_) {
          if (closed && !heartbeat_still_ours()) [[unlikely]] {
            dead_ = true;
            return evicted_result();
          }
          return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
        }
      }
    }
    const std::uint64_t written = cached_write_seq_;
    assert(next_seq_ < written);
    if (written - next_seq_ > lane_.capacity_slots) return report_lost();
    std::uint32_t length = 0;
    switch (ring_detail::read_slot(*platform_, lane_, next_seq_, out, &length)) {
      case ring_detail::SlotRead::Entry: {
        if (loaded_now && !heartbeat_still_ours()) [[unlikely]] {
          dead_ = true;
          return evicted_result();
        }
        const std::uint64_t seq = next_seq_++;
        ReaderRecord& r = record();
        platform_->store(r.read_count, platform_->load(r.read_count, std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
        return ReadResult{ReadStatus::Entry, seq, length, 0};
      }
      case ring_detail::SlotRead::NotYet:
        // write_seq said published, so the stamp must be complete; a region that says otherwise
        // is corrupt: report nothing rather than trust it.
        return ReadResult{ReadStatus::Empty, 0, 0, 0};
      case ring_detail::SlotRead::Overwritten:
        // Lost at once: the overwriting write took its first step (ring.hpp, "Overwritten is final").
        return report_lost();
    }
    return report_lost();
  }

  // The entry at next_seq_ was overwritten: because this reader was evicted, or (Drop, or a
  // resume by name) because it fell more than capacity behind (JR-8).
  [[gnu::cold]] ReadResult report_lost() noexcept {
    if (!heartbeat_still_ours()) {
      dead_ = true;
      return evicted_result();
    }
    const std::uint64_t written = platform_->load(lane_.header->write_seq, std::memory_order_seq_cst);
    cached_write_seq_ = written;
    const std::uint64_t next =
        std::max(next_seq_ + 1, journal_detail::oldest_retained(written, lane_.capacity_slots));
    const std::uint64_t lost = next - next_seq_;
    next_seq_ = next;
    ReaderRecord& r = record();
    platform_->store(r.lost_count, platform_->load(r.lost_count, std::memory_order_relaxed) + lost,
                     std::memory_order_relaxed);
    return ReadResult{ReadStatus::Lost, 0, 0, lost};
  }

  // Named re-attach of record i (JR-4): Detached, Evicted, or Attached by a dead process. The
  // start is max(c, write_seq + 1 - capacity), fixed as a fresh attach fixes its start (header,
  // "Resume by name vs a writer in flight"; layout.md, "Attach ordering").
  bool take_over(std::uint32_t i) noexcept {
    ReaderRecord& r = lane_.readers[i];
    auto& h = *lane_.header;
    const std::uint32_t state = platform_->load(r.state, std::memory_order_seq_cst);
    std::uint32_t holder = platform_->load(r.pid, std::memory_order_seq_cst);
    if (journal_detail::held_by_live(*platform_, r, state, holder)) return false;
    if (!platform_->compare_exchange(r.pid, holder, self_pid_, std::memory_order_seq_cst)) return false;
    reader_id_ = i;
    // A record whose attacher died mid-attach may still carry an attach tag: its value is where
    // that attach would have started, nothing was committed past it.
    std::uint64_t committed = platform_->load(r.cursor_seq, std::memory_order_seq_cst);
    // Attached (by a dead process; only attach lock holders store a state, so it is the state
    // loaded above), neither evicted nor detached, cursor untagged: it gates the writer, and
    // keeps gating if the heartbeat CAS wins against the writer's eviction CAS (its value is the
    // dead holder's). Lost, the holder was evicted just now: a resume of an Evicted record.
    std::uint64_t heartbeat_seen = platform_->load(r.heartbeat_ns, std::memory_order_seq_cst);
    if (state == kReaderAttached && !is_heartbeat_tagged(heartbeat_seen) && !is_attach_tagged(committed) &&
        try_claim_heartbeat(r, heartbeat_seen)) {
      return take_over_gating(committed);
    }
    if (is_attach_tagged(committed)) committed = tagged_value(committed);
    // Claiming (the writer skips the record), then Attached, then provisional: a writer whose
    // adoption CAS reads the provisional cursor then sees the record Attached in every later
    // rescan (as in start_fresh). Until the start is fixed, nothing gates on the raw cursor. The
    // claiming tag carries the committed cursor: a resumer that dies before the provisional store
    // leaves it for the next resume of the name.
    platform_->store(r.cursor_seq, claiming_cursor(committed), std::memory_order_seq_cst);
    // The heartbeat once the writer skips the record: replacing a tag before would make a record
    // still Attached gate again at the previous holder's cursor.
    claim_heartbeat(r);
    platform_->store(r.state, kReaderAttached, std::memory_order_seq_cst);
    const std::uint64_t provisional = committed | kCursorProvisional;
    platform_->store(r.cursor_seq, provisional, std::memory_order_seq_cst);
    (void)platform_->fetch_add(h.attach_epoch, std::uint32_t{1}, std::memory_order_seq_cst);
    // The heavy half of the pair with the writer's epoch load: past it, at most one write (entry
    // `written`) is in flight without having seen this resume, and it overwrites an entry below
    // the start.
    platform_->heavy_fence();
    const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_seq_cst);
    const std::uint64_t start = std::max(committed, journal_detail::resume_floor(written, lane_.capacity_slots));
    std::uint64_t seen = provisional;
    if (platform_->compare_exchange(r.cursor_seq, seen, start, std::memory_order_seq_cst)) {
      next_seq_ = start;
    } else {
      // The writer adopted max(committed, its write_seq + 1 - capacity) and gates on it.
      assert(!is_attach_tagged(seen) && seen >= committed);
      next_seq_ = seen;
    }
    // A start above the committed cursor: the skipped entries count as lost now (so a detach
    // before the next read keeps the accounting) and the next read reports them.
    if (next_seq_ != committed) {
      pending_lost_ = next_seq_ - committed;
      platform_->store(r.lost_count,
                       platform_->load(r.lost_count, std::memory_order_relaxed) + pending_lost_,
                       std::memory_order_relaxed);
    }
    return true;
  }

  // take_over of a record Attached by a dead process, whose committed cursor gated the writer all
  // along (JR-4): it keeps gating (no tag), so no write can be in flight over it and the resume
  // starts at max(c, write_seq - capacity) (c itself under Block, where it held the writer back).
  // The bump makes a writer with a cached gate rescan (the record's heartbeat is new).
  bool take_over_gating(std::uint64_t committed) noexcept {
    ReaderRecord& r = record();
    auto& h = *lane_.header;
    // The heartbeat was claimed by take_over; the state is Attached already.
    (void)platform_->fetch_add(h.attach_epoch, std::uint32_t{1}, std::memory_order_seq_cst);
    const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_seq_cst);
    next_seq_ = std::max(committed, journal_detail::oldest_retained(written, lane_.capacity_slots));
    if (next_seq_ != committed) {  // Drop: the writer did not wait for it
      pending_lost_ = next_seq_ - committed;
      platform_->store(r.lost_count,
                       platform_->load(r.lost_count, std::memory_order_relaxed) + pending_lost_,
                       std::memory_order_relaxed);
      ring_detail::publish_cursor(*platform_, h, r, next_seq_, false);
    }
    return true;
  }

  // Claims record i for a fresh start if it is Free (and unclaimed), or anonymous and Detached,
  // Evicted or Attached by a dead process (JR-3).
  bool claim_fresh(std::uint32_t i) noexcept {
    ReaderRecord& r = lane_.readers[i];
    const std::uint32_t state = platform_->load(r.state, std::memory_order_seq_cst);
    std::uint32_t holder = platform_->load(r.pid, std::memory_order_seq_cst);
    const bool holder_live = holder != 0 && platform_->process_alive(holder);
    if (state == kReaderFree) {
      if (holder_live) return false;  // being claimed right now
    } else {
      if (!journal_detail::is_anonymous(journal_detail::load_name(*platform_, r))) return false;
      if (journal_detail::held_by_live(*platform_, r, state, holder)) return false;
    }
    if (!platform_->compare_exchange(r.pid, holder, self_pid_, std::memory_order_seq_cst)) return false;
    // The state may have changed between the loads and the CAS: the writer evicted a record
    // Attached by a dead process, or its holder detached.
    if (platform_->load(r.state, std::memory_order_seq_cst) != state) {
      std::uint32_t self = self_pid_;
      (void)platform_->compare_exchange(r.pid, self, holder, std::memory_order_seq_cst);
      return false;
    }
    reader_id_ = i;
    return true;
  }

  // A fresh start (header, "Attach vs a writer with a cached gate"): publish the record with a
  // provisional cursor, bump the epoch, then fix the start unless the writer adopted it first.
  void start_fresh(const journal_detail::NameBytes& name) noexcept {
    ReaderRecord& r = record();
    auto& h = *lane_.header;
    // Claiming cursor (the writer skips the record), then state = Attached, and only then the
    // provisional cursor. A writer that adopts the provisional cursor (its CAS reads that store)
    // then sees the record Attached in every later rescan, so it keeps gating on what it adopted.
    // With the provisional cursor stored first, a writer that read a stale Attached of the
    // record's previous (detached) holder adopted the start, then saw Detached and overwrote it
    // (found by the simulator: sim/README.md, "Findings"). A new name has done the first two in
    // duplicate_name.
    if (!claim_published_) {
      platform_->store(r.cursor_seq, claiming_cursor(0), std::memory_order_seq_cst);
      claim_heartbeat(r);  // once the writer skips the record (take_over says why)
      journal_detail::store_name(*platform_, r, name);
      platform_->store(r.state, kReaderAttached, std::memory_order_seq_cst);
    }
    const std::uint64_t before = platform_->load(h.write_seq, std::memory_order_seq_cst);
    assert(before <= kSeqLimit);
    const std::uint64_t provisional = before | kCursorProvisional;
    platform_->store(r.read_count, std::uint64_t{0}, std::memory_order_relaxed);
    platform_->store(r.lost_count, std::uint64_t{0}, std::memory_order_relaxed);
    platform_->store(r.cursor_seq, provisional, std::memory_order_seq_cst);
    (void)platform_->fetch_add(h.attach_epoch, std::uint32_t{1}, std::memory_order_seq_cst);
    const std::uint64_t after = platform_->load(h.write_seq, std::memory_order_seq_cst);
    std::uint64_t seen = provisional;
    // Won: no writer decision rested on the provisional cursor, so none waits on it either (a
    // parked writer's re-check adopts, and would have made this CAS fail). Lost: the writer
    // adopted a start and gates on it.
    if (platform_->compare_exchange(r.cursor_seq, seen, after, std::memory_order_seq_cst)) {
      next_seq_ = after;
    } else {
      // The writer's S = max(before, its write_seq + 1 - capacity): its write_seq may be up to
      // capacity past `after` (it rescans at least every capacity writes), so S <= after + 1.
      assert(!is_attach_tagged(seen) && seen >= before && seen <= after + 1);
      next_seq_ = seen;
    }
  }

  // After claiming a free record for a new name: is another record already claimed under it?
  bool duplicate_name(const journal_detail::NameBytes& name) noexcept {
    ReaderRecord& mine = record();
    // Publish the claim (name, then a non-Free state) before looking at the others.
    journal_detail::store_name(*platform_, mine, name);
    // Claiming: the writer skips the record until start_fresh makes the cursor provisional.
    platform_->store(mine.cursor_seq, claiming_cursor(0), std::memory_order_seq_cst);
    claim_heartbeat(mine);  // once the writer skips the record (take_over says why)
    // Attached, not Detached: a concurrent take-over by the same name must see a live holder.
    platform_->store(mine.state, kReaderAttached, std::memory_order_seq_cst);
    claim_published_ = true;
    for (std::uint32_t j = 0; j < lane_.reader_count; ++j) {
      if (j == reader_id_) continue;
      const ReaderRecord& other = lane_.readers[j];
      if (platform_->load(other.state, std::memory_order_seq_cst) == kReaderFree) continue;
      if (journal_detail::load_name(*platform_, other) == name) return true;
    }
    return false;
  }

  void back_off() noexcept {
    ReaderRecord& r = record();
    journal_detail::store_name(*platform_, r, journal_detail::NameBytes{});
    platform_->store(r.cursor_seq, std::uint64_t{0}, std::memory_order_seq_cst);  // a Free record's
    platform_->store(r.state, kReaderFree, std::memory_order_seq_cst);
    std::uint32_t self = self_pid_;
    (void)platform_->compare_exchange(r.pid, self, std::uint32_t{0}, std::memory_order_seq_cst);
    dead_ = true;
    detached_ = true;
  }

  const P* platform_;
  RingLaneRef lane_;
  std::uint32_t self_pid_ = 0;
  std::uint32_t reader_id_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t cached_write_seq_ = 0;  // a write_seq this reader loaded (acquire) earlier
  std::uint64_t pending_lost_ = 0;  // Lost to report on the next read (a resume behind the window)
  std::uint64_t heartbeat_ns_ = 0;     // the heartbeat this handle stored last (its CAS compares it)
  std::uint64_t heartbeat_count_ = 0;  // how many heartbeats this handle stored (attach included)
  // The cursor_seq this handle's record holds by this handle's doing: its start once the attach
  // fixed it, then each commit's (only the holder stores it after the attach; commit CASes from it).
  std::uint64_t cursor_stored_ = 0;
  bool commit_stored_ = false;    // the last commit() stored its cursor (last_commit_stored)
  bool claim_published_ = false;  // duplicate_name stored the claiming cursor, name and state
  bool dead_ = false;      // evicted, taken over, backed off or detached: every call fails
  bool detached_ = false;  // detach() ran (it runs once)
};

}  // namespace indexbus

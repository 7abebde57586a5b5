// The executable sequential model of a Journal lane (spec/v1-semantics.md, JR-*).
//
// Like the Events model: plain values and one pure function, step(state, op). Time is explicit:
// the state holds a clock (now_ns) that only JournalAdvanceTime moves, and every reader call
// records it as the reader's heartbeat, so evictions are decided deterministically. A concurrent
// history may instead carry the heartbeat each call stored (the lane's value, at the moment the
// lane stored it): such a call is checked in two steps, JournalBeginCall (the heartbeat) and the
// call itself (see JournalBeginCall). A blocking
// operation that would have to wait returns Timeout at once (nothing else happens meanwhile in a
// sequential history, and the clock does not move by itself). Reader ids are reader record
// indexes; an operation on a reader names a record that a live handle holds.
//
// The model has no processes: a record attached by a live handle is "attached by a live process"
// (attach by its name is RoleTaken). Recovery from dead processes is checked by core's tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "indexbus/spec/events_model.hpp"  // Bytes, RetainedEntry, WriteOutcome, ReadOutcome, ...
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

struct JournalConfig {
  std::uint32_t capacity_slots = 4;       // power of two in [1, 2^24]
  std::uint32_t slot_payload_bytes = 16;  // multiple of 8 in [8, 2^20]
  OnFull on_full = OnFull::Block;
  std::uint32_t reader_count = 1;         // 1..kReaderCountMax
  std::uint64_t reader_timeout_ns = 0;    // 0 = never evict

  friend bool operator==(const JournalConfig&, const JournalConfig&) = default;
};

// The values of ReaderRecord.state (spec/layout.md).
enum class JournalReaderState : std::uint32_t { Free = 0, Attached = 1, Evicted = 2, Detached = 3 };

struct JournalReaderRecord {
  JournalReaderState state = JournalReaderState::Free;
  std::string name;              // empty = anonymous
  std::uint64_t cursor_seq = 0;  // committed position
  std::uint64_t next_seq = 0;    // read position of the live handle (meaningful while has_handle)
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;
  std::uint64_t heartbeat_ns = 0;
  bool has_handle = false;       // a handle from an attach is live (Attached, or Evicted unseen)
  bool call_begun = false;       // the handle's call took its first step (JournalBeginCall)
  // Attaches of this record so far. A concurrent history's reader op may name the handle it came
  // from (handle = the generation its attach gave): an op of an older handle, whose record was
  // evicted and taken by another attach, is an op without a live handle (Evicted, false, nothing).
  std::uint32_t generation = 0;
  std::uint64_t pending_lost = 0;  // handle: entries skipped at a resume, reported by its next read

  friend bool operator==(const JournalReaderRecord&, const JournalReaderRecord&) = default;
};

struct JournalState {
  JournalConfig config;
  std::uint64_t now_ns = 0;
  std::uint64_t written = 0;  // = write_seq
  bool closed = false;
  std::uint64_t eviction_count = 0;
  // A write has taken its first step (JournalBeginWrite) and not its second (events_model.hpp,
  // BeginWrite): entry written - capacity is already gone, under both policies (read_at reads
  // entries no cursor protects).
  bool write_begun = false;
  // Exactly the sequences [max(0, written + write_begun - capacity), written): the retained
  // window (JR-6).
  std::deque<RetainedEntry> retained;
  std::vector<JournalReaderRecord> readers;  // reader_count records

  friend bool operator==(const JournalState&, const JournalState&) = default;
};

JournalState initial_state(const JournalConfig& config);

// Operations: JournalWriter and JournalReader calls, plus the clock, plus a write's first step.
//
// A write in two steps, as in the Events model (events_model.hpp, BeginWrite): the first destroys
// entry written - C, the second makes the new entry readable. Under Block too: no reader's cursor
// is at written - C then (the write had room), but read_at may ask for it (JR-7). A concurrent
// history records each accepted write as JournalBeginWrite, then the write itself.
struct JournalBeginWrite {
  std::uint32_t payload_bytes = 0;
  bool evictions_recorded = false;  // see JournalEvict
  friend bool operator==(const JournalBeginWrite&, const JournalBeginWrite&) = default;
};
struct JournalTryWrite {
  Bytes payload;
  bool second_step = false;  // as the Events model's TryWrite
  bool evictions_recorded = false;  // see JournalEvict
  friend bool operator==(const JournalTryWrite&, const JournalTryWrite&) = default;
};
struct JournalWrite {  // blocking, with a deadline
  Bytes payload;
  bool second_step = false;
  bool evictions_recorded = false;  // see JournalEvict
  friend bool operator==(const JournalWrite&, const JournalWrite&) = default;
};
struct JournalClose {
  friend bool operator==(const JournalClose&, const JournalClose&) = default;
};
struct JournalAttach {
  std::string name;
  // Concurrent histories only (the linearizability checks): the record the implementation took.
  // A fresh attach may then take it if it is reusable, not only the lowest reusable one (JR-3).
  std::optional<std::uint32_t> record;
  // Concurrent histories: the heartbeat the attach stored (the lane stores one above the record's
  // previous value, JR-10, so it may be ahead of the clock); nullopt: the clock at the step.
  std::optional<std::uint64_t> heartbeat_ns;
  friend bool operator==(const JournalAttach&, const JournalAttach&) = default;
};
struct JournalTryRead {
  std::uint32_t reader = 0;
  std::optional<std::uint64_t> heartbeat_ns;  // see JournalBeginCall
  bool second_step = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalTryRead&, const JournalTryRead&) = default;
};
struct JournalRead {  // blocking, with a deadline
  std::uint32_t reader = 0;
  // A concurrent history's read that waited: the clock when it began, which is its heartbeat
  // (JR-10: refreshed when the call starts, not while it waits); at most the clock at the step.
  // nullopt: the clock at the step (a sequential read never waits).
  std::optional<std::uint64_t> started_ns;
  std::optional<std::uint64_t> heartbeat_ns;  // see JournalBeginCall
  bool second_step = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalRead&, const JournalRead&) = default;
};
struct JournalCommit {
  std::uint32_t reader = 0;
  std::optional<std::uint64_t> heartbeat_ns;  // see JournalBeginCall
  bool second_step = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalCommit&, const JournalCommit&) = default;
};
struct JournalReadAt {
  std::uint32_t reader = 0;
  std::uint64_t seq = 0;
  std::optional<std::uint64_t> heartbeat_ns;  // see JournalBeginCall
  bool second_step = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalReadAt&, const JournalReadAt&) = default;
};
struct JournalHeartbeat {
  std::uint32_t reader = 0;
  std::optional<std::uint64_t> heartbeat_ns;  // see JournalBeginCall
  bool second_step = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalHeartbeat&, const JournalHeartbeat&) = default;
};
struct JournalDetach {
  std::uint32_t reader = 0;
  // The handle's process died (a concurrent history's kill): the record stays Attached, holding
  // the writer back, until the writer evicts it or a resume by name takes it over (JR-4, JR-10).
  bool died = false;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalDetach&, const JournalDetach&) = default;
};
// A reader call's first step in a concurrent history (JR-10): the lane's heartbeat CAS, which
// decides whether the reader is still attached, stored heartbeat_ns. A reader call that carries
// the heartbeat it stored (heartbeat_ns) is checked as this step, then the call itself with
// second_step set, which no longer sets the heartbeat, and is refused (JournalDoneOutcome, which no
// call returns) without its first step; as two_step.hpp splits writes. Why: the lane stores the
// heartbeat when the call begins and takes the call's effect later (a commit publishes its cursor
// after), and a writer in between sees the new heartbeat with the old cursor. The step answers ok
// on a reader attached with a live handle (the CAS succeeded), else evicted, which no recorded
// first step observed: so it cannot be placed after an eviction.
struct JournalBeginCall {
  std::uint32_t reader = 0;
  std::uint64_t heartbeat_ns = 0;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalBeginCall&, const JournalBeginCall&) = default;
};
// One eviction by the writer, as a step of its own in a concurrent history (JR-10): the lane
// evicts each silent holder by a CAS of its own, at different moments of one write (a blocking
// write between waits), so one step per eviction, each placed where it happened. It evicts the
// reader if it is attached, holds the writer back and is silent (answering ok), else changes
// nothing and answers evicted (no recorded eviction answers that). A write whose evictions are
// recorded so (evictions_recorded) evicts nobody itself, and may only answer Full (Timeout), or
// take its first step, where no holder is silent: the lane evicts every silent holder it finds.
struct JournalEvict {
  std::uint32_t reader = 0;
  friend bool operator==(const JournalEvict&, const JournalEvict&) = default;
};
// The cursor store of a commit that answered Evicted, as a step of its own in a concurrent history
// (JR-5): the lane stores a commit's cursor after its heartbeat and only then finds whether the
// writer evicted the reader meanwhile, so such a commit may have stored its position, before or
// after the eviction. Recorded where the lane did store it, placed anywhere in the commit's
// interval: it sets the record's committed cursor to the handle's read position if the handle
// still holds the record (attached, or evicted and not taken again), answering ok; else it changes
// nothing and answers false (no recorded store answers that).
struct JournalPublishCursor {
  std::uint32_t reader = 0;
  std::optional<std::uint32_t> handle;  // see JournalReaderRecord::generation
  friend bool operator==(const JournalPublishCursor&, const JournalPublishCursor&) = default;
};
struct JournalAdvanceTime {
  std::uint64_t ns = 0;
  friend bool operator==(const JournalAdvanceTime&, const JournalAdvanceTime&) = default;
};
using JournalOp = std::variant<JournalTryWrite, JournalWrite, JournalClose, JournalAttach,
                               JournalTryRead, JournalRead, JournalCommit, JournalReadAt,
                               JournalHeartbeat, JournalDetach, JournalAdvanceTime, JournalBeginWrite,
                               JournalBeginCall, JournalEvict, JournalPublishCursor>;

enum class JournalAttachError : std::uint8_t { None = 0, BadReaderName, RoleTaken, NoFreeReader };

struct JournalAttachOutcome {
  JournalAttachError error = JournalAttachError::None;
  std::uint32_t reader = 0;  // None only
  friend bool operator==(const JournalAttachOutcome&, const JournalAttachOutcome&) = default;
};
struct JournalCallOutcome {  // commit, heartbeat: false = the reader was evicted
  bool ok = true;
  friend bool operator==(const JournalCallOutcome&, const JournalCallOutcome&) = default;
};
struct JournalDoneOutcome {  // detach, advance time
  friend bool operator==(const JournalDoneOutcome&, const JournalDoneOutcome&) = default;
};
using JournalResult = std::variant<WriteOutcome, CloseOutcome, ReadOutcome, JournalAttachOutcome,
                                   JournalCallOutcome, JournalDoneOutcome>;

// The model. Pure; every op is defined in every state (an op on a reader without a live handle
// reports Evicted / false and changes nothing).
std::pair<JournalState, JournalResult> step(const JournalState& state, const JournalOp& op);

// JR-6: the oldest entry held, written + write_begun - capacity (0 if negative).
std::uint64_t oldest_retained_seq(const JournalState& state) noexcept;
// JR-4: where a resume behind the window starts: the oldest entry the next write does not overwrite.
std::uint64_t resume_floor_seq(const JournalState& state) noexcept;
// Block: the writer has no room (JR-9), before any eviction.
bool is_full(const JournalState& state) noexcept;

std::optional<std::string> check_invariants(const JournalState& state);

std::string describe(const JournalConfig& config);
std::string describe(const JournalOp& op);
std::string describe(const JournalResult& result);
std::string describe(const JournalState& state);
std::ostream& operator<<(std::ostream& os, const JournalConfig& config);
std::ostream& operator<<(std::ostream& os, const JournalOp& op);
std::ostream& operator<<(std::ostream& os, const JournalResult& result);
std::ostream& operator<<(std::ostream& os, const JournalState& state);

std::size_t hash_value(const JournalConfig& config) noexcept;
std::size_t hash_value(const JournalState& state) noexcept;

}  // namespace indexbus::spec

template <>
struct std::hash<indexbus::spec::JournalState> {
  std::size_t operator()(const indexbus::spec::JournalState& state) const noexcept {
    return indexbus::spec::hash_value(state);
  }
};

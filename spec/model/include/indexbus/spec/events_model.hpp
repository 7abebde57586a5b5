// The executable sequential model of an Events lane (spec/v1-semantics.md, EV-*).
//
// Plain values and one pure function: step(state, op) -> (next state, result). The model knows
// nothing of shared memory, slots or stamps; it is the rules restated as data, so that the real
// lane (conformance/), a linearizability checker (sim/) and foreign implementations can be
// compared with it. It includes only core's layout vocabulary (the shared enums), never lane code.
//
// Sequential means: one operation at a time, each taking effect at once. A blocking operation
// that would have to wait therefore returns Timeout (write on a full Block lane, read on an empty
// open lane): in a sequential history nobody else can make progress while it waits.
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

#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

using Bytes = std::vector<std::byte>;

struct EventsConfig {
  std::uint32_t capacity_slots = 4;       // power of two in [1, 2^24]
  std::uint32_t slot_payload_bytes = 16;  // multiple of 8 in [8, 2^20]
  OnFull on_full = OnFull::Block;

  friend bool operator==(const EventsConfig&, const EventsConfig&) = default;
};

// An entry that was written and can still be read: not yet consumed and, under Drop, not yet
// overwritten.
struct RetainedEntry {
  std::uint64_t seq = 0;
  Bytes payload;

  friend bool operator==(const RetainedEntry&, const RetainedEntry&) = default;
};

// Everything that distinguishes one lane from another in the eyes of its users. Canonical: two
// states that no sequence of operations can tell apart compare equal (already consumed or already
// overwritten entries are not kept), which is what a memoizing checker needs.
struct EventsState {
  EventsConfig config;
  std::uint64_t written = 0;     // entries accepted so far = the next sequence number (write_seq)
  std::uint64_t read_seq = 0;    // next sequence the consumer reads = read_count + lost_count
  std::uint64_t read_count = 0;  // entries delivered
  std::uint64_t lost_count = 0;  // entries reported Lost (Drop only)
  bool closed = false;
  // A write has taken its first step (BeginWrite) and not its second: entry `written` is not
  // readable yet, and under Drop the entry it overwrites, written - capacity, is already gone.
  bool write_begun = false;
  // Oldest first; exactly the sequences [max(read_seq, written + write_begun - capacity), written).
  std::deque<RetainedEntry> retained;

  friend bool operator==(const EventsState&, const EventsState&) = default;
};

EventsState initial_state(const EventsConfig& config);

// Operations, one per lane API call (EventsProducer / EventsConsumer), and BeginWrite.
//
// A write in two steps (EV-8, "A write takes effect in two steps"). A Drop write destroys the
// oldest entry when it begins to overwrite its slot and makes its own entry readable when it
// publishes; a consumer that finds its entry being overwritten reports Lost at once, never waiting
// for the publish. A concurrent history therefore records each accepted Drop write as two
// operations over the same interval: BeginWrite (everything but the new entry: the checks, and
// under Drop the loss of entry written - C) and then the TryWrite or Write itself, marked
// second_step, which only appends its entry. A TryWrite or Write not so marked takes both steps
// at once, as in every sequential history.
struct BeginWrite {
  std::uint32_t payload_bytes = 0;
  friend bool operator==(const BeginWrite&, const BeginWrite&) = default;
};
// second_step: this is the second step of a write split in two (BeginWrite came first): it only
// appends, and without a begun write it is refused and changes nothing (so the checker can never
// place a write before its own first step, leaving a phantom begun write behind).
struct TryWrite {
  Bytes payload;
  bool second_step = false;
  friend bool operator==(const TryWrite&, const TryWrite&) = default;
};
struct Write {  // blocking, with a deadline
  Bytes payload;
  bool second_step = false;
  friend bool operator==(const Write&, const Write&) = default;
};
struct Close {
  friend bool operator==(const Close&, const Close&) = default;
};
struct TryRead {
  friend bool operator==(const TryRead&, const TryRead&) = default;
};
struct Read {  // blocking, with a deadline
  friend bool operator==(const Read&, const Read&) = default;
};
using Op = std::variant<TryWrite, Write, Close, TryRead, Read, BeginWrite>;

// Results, one alternative per kind of operation.
struct WriteOutcome {
  WriteStatus status = WriteStatus::Ok;
  friend bool operator==(const WriteOutcome&, const WriteOutcome&) = default;
};
struct CloseOutcome {
  friend bool operator==(const CloseOutcome&, const CloseOutcome&) = default;
};
struct ReadOutcome {
  ReadStatus status = ReadStatus::Empty;
  std::uint64_t seq = 0;         // Entry only
  Bytes payload;                 // Entry only; its size is the entry's payload_bytes
  std::uint64_t lost_count = 0;  // Lost only

  std::uint32_t payload_bytes() const noexcept { return static_cast<std::uint32_t>(payload.size()); }
  friend bool operator==(const ReadOutcome&, const ReadOutcome&) = default;
};
using OpResult = std::variant<WriteOutcome, CloseOutcome, ReadOutcome>;

// The model. Pure: the input state is never changed. Every op is defined in every state.
std::pair<EventsState, OpResult> step(const EventsState& state, const Op& op);

// Derived facts, each a direct reading of a rule.
std::uint64_t unread_count(const EventsState& state) noexcept;  // written - read_seq
bool is_full(const EventsState& state) noexcept;                // Block: unread == capacity (EV-6)
// Drop: read_seq is below the oldest entry held, written + write_begun - capacity (EV-8).
bool would_report_lost(const EventsState& state) noexcept;
bool is_drained(const EventsState& state) noexcept;             // closed and nothing left (EV-10)
bool is_refusal(const OpResult& result) noexcept;               // a result that changes nothing (EV-14)

// The invariants every reachable state satisfies; a description of the first one broken.
std::optional<std::string> check_invariants(const EventsState& state);

// One-line, human-readable renderings for reports and RapidCheck counterexamples.
std::string describe(const EventsConfig& config);
std::string describe(const Op& op);
std::string describe(const OpResult& result);
std::string describe(const EventsState& state);
std::ostream& operator<<(std::ostream& os, const EventsConfig& config);
std::ostream& operator<<(std::ostream& os, const Op& op);
std::ostream& operator<<(std::ostream& os, const OpResult& result);
std::ostream& operator<<(std::ostream& os, const EventsState& state);

std::size_t hash_value(const EventsConfig& config) noexcept;
std::size_t hash_value(const EventsState& state) noexcept;

// Facts for a checker that searches orders of a concurrent history (conformance/linearizability).
//
// hash_observable: hash_value without read_count and lost_count. No result reveals those two
// (a Lost result carries the count of its own read, not the total) and no step reads them, so two
// states that differ only there give the same results under every sequence of operations: a
// memoizing search may treat them as one (states that reached the same cursor by different mixes
// of reads and losses, such as a killed consumer's read that took an entry or reported a loss).
std::size_t hash_observable(const EventsState& state) noexcept;

// Consumer operations (TryRead, Read) are the only ones that move read_seq; the producer's
// (TryWrite, Write, BeginWrite, Close) never do, and never make written smaller or the lane open
// again.
bool is_consumer_op(const Op& op) noexcept;
// A consumer operation `op` that cannot return `observed` in `state` nor in any state reached from
// it by producer operations alone: only another consumer operation moving read_seq first could
// make it possible. False means nothing is claimed (it may match now or later). Each case follows
// from the producer never moving read_seq: an Entry needs read_seq == its seq (and, once entry
// read_seq is held, carries that entry's payload, which no producer operation rewrites); a Lost of
// k needs written - C <= read_seq + k (written only grows); an Empty, Timeout or Closed needs
// read_seq == written (written only grows), an Empty or Timeout an open lane (Close is for good).
bool needs_consumer_first(const EventsState& state, const Op& op, const OpResult& observed);
// How many producer operations must take effect at least before a consumer operation `op` can
// return `observed`, from `state`, whatever consumer operations come between (0: nothing claimed).
// Each producer operation adds at most one to written + write_begun, consumer operations only
// move read_seq forward: an Entry of seq s needs written > s; a Lost of k needs
// written + write_begun >= read_seq + max(k, 1) + C (the entry at read_seq overwritten, and for
// k > 1 the published window k past it).
std::uint64_t producer_ops_needed(const EventsState& state, const Op& op, const OpResult& observed);

}  // namespace indexbus::spec

template <>
struct std::hash<indexbus::spec::EventsState> {
  std::size_t operator()(const indexbus::spec::EventsState& state) const noexcept {
    return indexbus::spec::hash_value(state);
  }
};

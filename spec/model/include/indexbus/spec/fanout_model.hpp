// The executable sequential model of a FanoutBroadcast lane (spec/v1-semantics.md, FB-*).
//
// Like the Events model (events_model.hpp): plain values and one pure function, step(state, op).
// It knows nothing of rings, stamps or cursors in shared memory and includes only core's layout
// vocabulary. Names carry a Fanout prefix so that both models can be used in one program; the
// results are the Events model's (WriteOutcome, CloseOutcome, ReadOutcome), since a fanout call
// reports exactly what the matching Events call reports.
//
// Sequential: one operation at a time, each taking effect at once, so a blocking call that would
// have to wait returns Timeout.
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

#include "indexbus/spec/events_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

struct FanoutConfig {
  std::uint32_t capacity_slots = 4;       // power of two in [1, 2^24]
  std::uint32_t slot_payload_bytes = 16;  // multiple of 8 in [8, 2^20]
  OnFull on_full = OnFull::Block;
  std::uint32_t consumer_count = 2;       // N, fixed at creation: 1..kReaderCountMax

  friend bool operator==(const FanoutConfig&, const FanoutConfig&) = default;
};

// One consumer's view: its cursor and counters. next_seq = read_count + lost_count.
struct FanoutConsumerState {
  std::uint64_t next_seq = 0;
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;

  friend bool operator==(const FanoutConsumerState&, const FanoutConsumerState&) = default;
};

// Canonical: retained holds exactly the entries some consumer can still read, the sequences
// [max(min next_seq, written + write_begun - C under Drop), written); nothing else is kept, so states that no
// sequence of operations can tell apart compare equal.
struct FanoutState {
  FanoutConfig config;
  std::uint64_t written = 0;  // entries accepted so far = the next sequence number
  bool closed = false;
  // A write has taken its first step (FanoutBeginWrite) and not its second (events_model.hpp,
  // BeginWrite): under Drop, entry written - C is already gone.
  bool write_begun = false;
  std::vector<FanoutConsumerState> consumers;  // config.consumer_count of them
  std::deque<RetainedEntry> retained;          // oldest first

  friend bool operator==(const FanoutState&, const FanoutState&) = default;
};

FanoutState initial_state(const FanoutConfig& config);

// Operations, one per lane API call (FanoutProducer / FanoutConsumer).
// A write's first step, as the Events model's BeginWrite (events_model.hpp, "A write in two
// steps"): a concurrent history records each accepted Drop write as FanoutBeginWrite, then the
// write itself.
struct FanoutBeginWrite {
  std::uint32_t payload_bytes = 0;
  friend bool operator==(const FanoutBeginWrite&, const FanoutBeginWrite&) = default;
};
struct FanoutTryWrite {
  Bytes payload;
  bool second_step = false;  // as the Events model's TryWrite
  friend bool operator==(const FanoutTryWrite&, const FanoutTryWrite&) = default;
};
struct FanoutWrite {  // blocking, with a deadline
  Bytes payload;
  bool second_step = false;
  friend bool operator==(const FanoutWrite&, const FanoutWrite&) = default;
};
struct FanoutClose {
  friend bool operator==(const FanoutClose&, const FanoutClose&) = default;
};
struct FanoutTryRead {
  std::uint32_t consumer = 0;  // below config.consumer_count
  friend bool operator==(const FanoutTryRead&, const FanoutTryRead&) = default;
};
struct FanoutRead {  // blocking, with a deadline
  std::uint32_t consumer = 0;
  friend bool operator==(const FanoutRead&, const FanoutRead&) = default;
};
using FanoutOp = std::variant<FanoutTryWrite, FanoutWrite, FanoutClose, FanoutTryRead, FanoutRead, FanoutBeginWrite>;

// The same alternatives as the Events model's OpResult (one type, so describe and << are shared).
using FanoutResult = OpResult;

// Reads must name a consumer the lane has (attach refuses any other index with BadReaderIndex).
bool is_valid_op(const FanoutState& state, const FanoutOp& op) noexcept;

// The model. Pure. Defined for every valid op in every state.
std::pair<FanoutState, FanoutResult> step(const FanoutState& state, const FanoutOp& op);

// Derived facts, each a direct reading of a rule.
std::uint64_t unread_count(const FanoutState& state, std::uint32_t consumer) noexcept;
std::uint64_t min_next_seq(const FanoutState& state) noexcept;  // the slowest consumer's cursor
bool is_full(const FanoutState& state) noexcept;                // Block: slowest has C unread (FB-4)
bool would_report_lost(const FanoutState& state, std::uint32_t consumer) noexcept;  // FB-7
bool is_drained(const FanoutState& state, std::uint32_t consumer) noexcept;         // FB-9

// The invariants every reachable state satisfies; a description of the first one broken.
std::optional<std::string> check_invariants(const FanoutState& state);

std::string describe(const FanoutConfig& config);
std::string describe(const FanoutOp& op);
std::string describe(const FanoutState& state);
std::ostream& operator<<(std::ostream& os, const FanoutConfig& config);
std::ostream& operator<<(std::ostream& os, const FanoutOp& op);
std::ostream& operator<<(std::ostream& os, const FanoutState& state);

std::size_t hash_value(const FanoutConfig& config) noexcept;
std::size_t hash_value(const FanoutState& state) noexcept;
// hash_value without what no result reveals (events_model.hpp, hash_observable): the
// consumers' read_count and lost_count.
std::size_t hash_observable(const FanoutState& state) noexcept;

}  // namespace indexbus::spec

template <>
struct std::hash<indexbus::spec::FanoutState> {
  std::size_t operator()(const indexbus::spec::FanoutState& state) const noexcept {
    return indexbus::spec::hash_value(state);
  }
};

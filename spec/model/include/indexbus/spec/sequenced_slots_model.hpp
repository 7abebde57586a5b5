// The executable sequential model of a SequencedSlots lane (spec/v1-semantics.md, SS-*).
//
// Plain values and one pure function, like events_model.hpp: sequenced_step(state, op) ->
// (next state, result). It knows nothing of slots, stamps or cursors in shared memory; it includes
// only core's vocabulary. A blocking call that would have to wait returns Timeout.
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

#include "indexbus/spec/events_model.hpp"  // Bytes, RetainedEntry
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

struct SequencedConfig {
  std::uint32_t capacity_slots = 4;       // power of two in [1, 2^24]
  std::uint32_t slot_payload_bytes = 16;  // multiple of 8 in [8, 2^20]
  OnFull on_full = OnFull::Block;
  // One mask per consumer (size = consumer count, 1..64): bit j of gated_on[i] set = consumer i
  // reads s only after consumer j has finished s.
  std::vector<std::uint64_t> gated_on{0};

  std::uint32_t consumer_count() const noexcept { return static_cast<std::uint32_t>(gated_on.size()); }
  friend bool operator==(const SequencedConfig&, const SequencedConfig&) = default;
};

// SS-3 restated: every mask names existing consumers only, never its own, and the graph has no
// cycle. A description of the first violation, or nullopt.
std::optional<std::string> check_gating_graph(const std::vector<std::uint64_t>& gated_on);

// Consumers that no other consumer is gated on: the ones the producer waits for (SS-6).
std::uint64_t leaf_consumers(const SequencedConfig& config) noexcept;

struct SequencedConsumerState {
  std::uint64_t next_seq = 0;    // finished everything below = read_count + lost_count
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;

  friend bool operator==(const SequencedConsumerState&, const SequencedConsumerState&) = default;
};

// Canonical: only what can still be observed. retained holds exactly the entries
// [max(min consumer next_seq, oldest_held), written).
struct SequencedState {
  SequencedConfig config;
  std::uint64_t written = 0;  // entries published = the next sequence to claim (write_seq)
  bool claimed = false;       // the slot of sequence `written` is claimed and not published (SS-2)
  bool closed = false;
  std::vector<SequencedConsumerState> consumers;
  std::deque<RetainedEntry> retained;

  friend bool operator==(const SequencedState&, const SequencedState&) = default;
};

SequencedState sequenced_initial_state(const SequencedConfig& config);

// Operations, one per lane API call.
struct SeqTryClaim {
  friend bool operator==(const SeqTryClaim&, const SeqTryClaim&) = default;
};
struct SeqClaim {  // blocking, with a deadline
  friend bool operator==(const SeqClaim&, const SeqClaim&) = default;
};
struct SeqPublish {  // the claimed span was filled with `payload`, then publish(payload.size())
  Bytes payload;
  friend bool operator==(const SeqPublish&, const SeqPublish&) = default;
};
struct SeqClose {
  friend bool operator==(const SeqClose&, const SeqClose&) = default;
};
struct SeqTryRead {
  std::uint32_t consumer = 0;
  friend bool operator==(const SeqTryRead&, const SeqTryRead&) = default;
};
struct SeqRead {  // blocking, with a deadline
  std::uint32_t consumer = 0;
  friend bool operator==(const SeqRead&, const SeqRead&) = default;
};
using SequencedOp = std::variant<SeqTryClaim, SeqClaim, SeqPublish, SeqClose, SeqTryRead, SeqRead>;

struct SeqClaimOutcome {
  WriteStatus status = WriteStatus::Ok;  // Ok, Full, Timeout, Closed
  std::uint64_t seq = 0;                 // Ok only
  friend bool operator==(const SeqClaimOutcome&, const SeqClaimOutcome&) = default;
};
struct SeqPublishOutcome {
  WriteStatus status = WriteStatus::Ok;  // Ok, TooLarge, Closed
  friend bool operator==(const SeqPublishOutcome&, const SeqPublishOutcome&) = default;
};
struct SeqCloseOutcome {
  friend bool operator==(const SeqCloseOutcome&, const SeqCloseOutcome&) = default;
};
using SequencedResult = std::variant<SeqClaimOutcome, SeqPublishOutcome, SeqCloseOutcome, ReadOutcome>;

// Defined for every op in every state except SeqPublish on an open lane without a claim, and a
// consumer index >= consumer_count: caller errors (the lane asserts), preconditions here.
bool sequenced_op_allowed(const SequencedState& state, const SequencedOp& op) noexcept;

// The model. Pure. Precondition: sequenced_op_allowed(state, op).
std::pair<SequencedState, SequencedResult> sequenced_step(const SequencedState& state, const SequencedOp& op);

// Derived facts, each a direct reading of a rule.
std::uint64_t oldest_held_seq(const SequencedState& state) noexcept;  // SS-8
bool sequenced_is_full(const SequencedState& state) noexcept;         // SS-6
bool may_read(const SequencedState& state, std::uint32_t consumer) noexcept;  // SS-4

std::optional<std::string> check_invariants(const SequencedState& state);

std::string describe(const SequencedConfig& config);
std::string describe(const SequencedOp& op);
std::string describe(const SequencedResult& result);
std::string describe(const SequencedState& state);
std::ostream& operator<<(std::ostream& os, const SequencedConfig& config);
std::ostream& operator<<(std::ostream& os, const SequencedOp& op);
std::ostream& operator<<(std::ostream& os, const SequencedResult& result);
std::ostream& operator<<(std::ostream& os, const SequencedState& state);

std::size_t hash_value(const SequencedConfig& config) noexcept;
std::size_t hash_value(const SequencedState& state) noexcept;
// hash_value without what no result reveals (events_model.hpp, hash_observable): the
// consumers' read_count and lost_count.
std::size_t hash_observable(const SequencedState& state) noexcept;

}  // namespace indexbus::spec

template <>
struct std::hash<indexbus::spec::SequencedState> {
  std::size_t operator()(const indexbus::spec::SequencedState& state) const noexcept {
    return indexbus::spec::hash_value(state);
  }
};

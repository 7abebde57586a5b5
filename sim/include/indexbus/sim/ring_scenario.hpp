// Scenarios for the three ring lanes (Journal, SequencedSlots, FanoutBroadcast): one producer and
// 1-3 readers (Journal readers, SequencedSlots / FanoutBroadcast consumers), each with a fixed list
// of operations.
//
// Compact form:
//   <journal|sequenced_slots|fanout_broadcast>,<block|drop>,cap=<n>,slot=<n>,<park|poll>[,gates=<m0>.<m1>..][,named]
//   [,timeout=<ns>[,jumps=<n>]]
//   ;p:<ops>;r0:<ops>[;r1:<ops>..]
// Producer ops as for Events: w<bytes> try_write (SequencedSlots: try_claim, fill, publish),
// W<bytes>[@<ns>] write (claim) with no deadline or a timeout, C close, and for SequencedSlots only
// K<bytes>: try_claim, then close with the claim outstanding, then publish (SS-10: Closed). Reader ops: r try_read,
// R[@<ns>] read, D drain (read until Closed; a Journal reader commits after each read), and for
// Journal only a<seq> read_at(seq), c commit, h heartbeat, X detach, A attach again (after X).
// gates (SequencedSlots only) gives each consumer's gated_on_mask in decimal: "gates=0.1" is
// consumer 1 gated on consumer 0. A Journal reader attaches before its first op, anonymously, or
// with `named` by the name "r<i>" (so an A after X resumes at the committed cursor, JR-4; an
// anonymous A is a fresh attach, JR-3); every attach is an operation of the history. timeout
// (Journal only) is the lane's reader_timeout_ns (JR-10; 0 or absent: never evict); with it the
// simulated clock moves only when every actor waits (no tick per step), and each move is an
// AdvanceTime operation of the history (ring_adapter.hpp), so the model's clock is the lane's.
// jumps (Journal with a timeout only, 1..kClockJumpsMax) turns on clock jumps (scheduler.hpp): at
// up to n scheduling points of the strategy's choosing the clock moves, while actors are
// runnable, far enough to leave every reader silent (timeout + 1 ns, plus the lead a heartbeat
// can take over the clock: ring_adapter.hpp), so a reader can fall silent in the middle of a call
// (preempted for longer than the timeout) and be evicted there; each jump is an AdvanceTime operation recorded at that
// point, and a 't' in the schedule string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <rapidcheck/Shrinkable.h>

#include "indexbus/sim/events_scenario.hpp"  // kSlotPayloadBytesMax, payload_byte, payload_of
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::sim::ring {

inline constexpr std::uint32_t kReadersMax = 3;  // 1 producer + 3 readers: well below kActorsMax
// The history's actor of the clock's moves (AdvanceTime records; not a fiber).
inline constexpr std::uint32_t kClockActor = kReadersMax + 1;
inline constexpr std::size_t kOpsPerActorMax = 100'000;

// Attach and Publish are never written in a scenario: the adapter records them (a Journal
// reader's attach, a SequencedSlots publish after a successful claim).
// AdvanceTime is never written either: the adapter records each move of the simulated clock in a
// scenario with a reader timeout.
enum class OpKind : std::uint8_t { TryWrite, Write, Close, TryRead, Read, Drain, ReadAt, Commit, Heartbeat,
                                   Attach, Publish, Detach, Reattach, ClaimClosePublish, AdvanceTime };

struct OpSpec {
  OpKind kind = OpKind::TryRead;
  std::uint32_t payload_bytes = 0;         // writes only
  std::uint64_t timeout_ns = kNoDeadline;  // Write and Read only
  std::uint64_t seq = 0;                   // ReadAt only

  friend bool operator==(const OpSpec&, const OpSpec&) = default;
};

struct Scenario {
  LaneKind kind = LaneKind::FanoutBroadcast;
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 2;
  std::uint32_t slot_payload_bytes = 16;
  bool parking = true;
  std::vector<std::uint64_t> gates;  // SequencedSlots: one mask per reader; empty elsewhere
  bool named = false;                // Journal: reader i attaches by the name "r<i>"
  std::uint64_t reader_timeout_ns = 0;  // Journal: the lane's reader timeout (JR-10); 0 never evicts
  std::uint32_t clock_jumps = 0;     // Journal with a reader timeout: clock jumps per run; 0 none
  std::vector<OpSpec> producer;
  std::vector<std::vector<OpSpec>> readers;  // 1..kReadersMax

  std::uint32_t reader_count() const noexcept { return static_cast<std::uint32_t>(readers.size()); }
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

std::optional<LaneKind> parse_ring_kind(std::string_view text) noexcept;
std::string to_string(const Scenario& scenario);
std::optional<Scenario> parse_scenario(std::string_view text, std::string* error = nullptr);
void to_json(nlohmann::json& out, const Scenario& scenario);
std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error = nullptr);
std::string describe(const OpSpec& op);

struct GenParams {
  LaneKind kind = LaneKind::FanoutBroadcast;
  std::optional<OnFull> on_full;
  std::optional<std::uint32_t> capacity_slots;
  std::optional<bool> parking;
  std::optional<std::uint32_t> readers;  // 1..kReadersMax; nullopt: any
  std::uint32_t ops_max = 6;             // per actor, before the closing Close / Drain
  bool blocking_reads_only = false;      // readers: only reads without a deadline (not Journal)
};
// Always terminates with correct lanes: the producer ends with Close and every reader with Drain.
// Journal readers get timed reads only: an unbounded read with C entries read but not committed
// would wait for a Block writer that waits for its commit (a scenario deadlock, not a lane bug).
rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params);
std::vector<Scenario> simple_shrinks(const Scenario& scenario);

// The benchmark's scenario: capacity C, one producer with N writes, `readers` readers each draining.
Scenario writes_then_drains(LaneKind kind, OnFull on_full, std::uint32_t capacity_slots, std::uint32_t count,
                            std::uint32_t readers, bool parking);

}  // namespace indexbus::sim::ring

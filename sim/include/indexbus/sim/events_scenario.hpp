// Events scenarios: the lane configuration and each actor's operation list. Plain data, with a
// compact one-line form for replay commands, a JSON form for files, and a RapidCheck generator
// (so that a failing scenario shrinks).
//
// Compact form: "<block|drop>,cap=<n>,slot=<n>,<park|poll>;p:<ops>;c:<ops>", ops comma-separated.
// Producer ops: w<bytes> try_write, W<bytes> write with no deadline, W<bytes>@<ns> write with a
// timeout, C close. Consumer ops: r try_read, R read with no deadline, R@<ns> read with a timeout,
// D drain (read with no deadline until Closed; one history operation per read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <rapidcheck/Shrinkable.h>

#include "indexbus/sim/scheduler.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::sim::events {

// Slots are small in the simulator: two or three words show a torn copy as well as a megabyte.
inline constexpr std::uint32_t kSlotPayloadBytesMax = 64;
inline constexpr std::size_t kOpsPerActorMax = 100'000;

enum class OpKind : std::uint8_t { TryWrite, Write, Close, TryRead, Read, Drain };

struct OpSpec {
  OpKind kind = OpKind::TryRead;
  std::uint32_t payload_bytes = 0;       // writes only
  std::uint64_t timeout_ns = kNoDeadline;  // Write and Read only

  friend bool operator==(const OpSpec&, const OpSpec&) = default;
};

struct Scenario {
  spec::EventsConfig config{2, 16, OnFull::Block};
  bool parking = true;  // waiter_needs_wake(): park on the futex word, or poll
  std::vector<OpSpec> producer;
  std::vector<OpSpec> consumer;

  friend bool operator==(const Scenario&, const Scenario&) = default;
};

std::string to_string(const Scenario& scenario);
// nullopt and a reason in *error on a malformed string.
std::optional<Scenario> parse_scenario(std::string_view text, std::string* error = nullptr);
void to_json(nlohmann::json& out, const Scenario& scenario);
std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error = nullptr);
std::string describe(const OpSpec& op);

// Byte j of the payload of producer op i: distinct for every write within 256 of each other, so
// that a copy torn between two entries of one slot never looks whole.
inline std::byte payload_byte(std::size_t op_index, std::size_t j) noexcept {
  return static_cast<std::byte>((op_index * 0x9d + j * 7 + 1) & 0xff);
}
spec::Bytes payload_of(std::size_t op_index, std::uint32_t bytes);

struct GenParams {
  std::optional<OnFull> on_full;            // nullopt: either
  std::optional<std::uint32_t> capacity_slots;
  std::optional<bool> parking;
  std::uint32_t ops_max = 10;               // per actor, before the closing Close / Drain
  // Consumer ops only blocking reads without a deadline. The real Drop lane is not linearizable
  // for try_read and timed reads (sim/README.md, "Findings"); this keeps Drop explorations on
  // everything else until core/ changes.
  bool blocking_reads_only = false;
};
// A scenario that always terminates with correct lanes: the producer ends with Close and the
// consumer with Drain, so every blocking operation without a deadline has a partner.
rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params);

// Scenario shrinks for a scenario that was not generated (read from a string or file): each op
// removed in turn, the closing Close and Drain kept.
std::vector<Scenario> simple_shrinks(const Scenario& scenario);

// "Events, capacity C, one producer with N writes, one consumer with N reads" (blocking, no
// deadline): the benchmark's scenario.
Scenario writes_then_reads(OnFull on_full, std::uint32_t capacity_slots, std::uint32_t count, bool parking);

}  // namespace indexbus::sim::events

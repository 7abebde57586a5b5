// Router and merge scenarios (core/include/indexbus/router.hpp, merge.hpp): a small topology of
// Events lanes in one simulated region, one producer actor per input lane writing keyed entries and
// closing, the loop actor running the real loop's step() until Closed, and one consumer actor per
// output lane draining it to Closed.
//
// Compact form:
//   router,<round_robin|key_hash|broadcast>,<park|poll>;in:<lane>;out:<lane>[,<lane>..];p0:<ops>
//   merge,<round_robin|sequence|arrival>,<park|poll>;in:<lane>[,<lane>..];out:<lane>;p0:<ops>[;p1:<ops>..]
// A lane is its policy and capacity: block1, drop2, ... (slots of kLoopSlotBytes bytes). Producer
// ops: W<key> write with no deadline, w<key> try_write, C close; producer i writes input i. Every
// entry is kLoopSlotBytes bytes: the key (little-endian, at offset 0) and a tag naming the producer
// and the op, so that each delivered entry names the write it came from. Consumers always drain.
// Example: "merge,sequence,park;in:block1,drop2;out:block1;p0:W3,W1,C;p1:w2,C".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <rapidcheck/Shrinkable.h>

#include "indexbus/spec/merge_model.hpp"
#include "indexbus/spec/router_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::sim::loops {

inline constexpr std::uint32_t kLoopSlotBytes = 16;   // key (8) + tag (8)
inline constexpr std::uint32_t kLoopLanesMax = 3;     // router outputs / merge inputs: 5 actors at most
inline constexpr std::uint32_t kCapacitySlotsMax = 64;
inline constexpr std::size_t kWritesPerProducerMax = 1000;

enum class LoopKind : std::uint8_t { Router, Merge };
enum class OpKind : std::uint8_t { TryWrite, Write, Close };

struct LaneSpec {
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 1;
  friend bool operator==(const LaneSpec&, const LaneSpec&) = default;
};

struct OpSpec {
  OpKind kind = OpKind::Write;
  std::uint64_t key = 0;  // writes only
  friend bool operator==(const OpSpec&, const OpSpec&) = default;
};

struct Scenario {
  LoopKind kind = LoopKind::Router;
  std::uint8_t policy = 1;  // spec::RouterPolicy or spec::MergePolicy, by kind
  bool parking = true;
  std::vector<LaneSpec> inputs;                // router: 1; merge: 1..kLoopLanesMax
  std::vector<LaneSpec> outputs;               // router: 1..kLoopLanesMax; merge: 1
  std::vector<std::vector<OpSpec>> producers;  // one per input

  std::uint32_t input_count() const noexcept { return static_cast<std::uint32_t>(inputs.size()); }
  std::uint32_t output_count() const noexcept { return static_cast<std::uint32_t>(outputs.size()); }
  spec::RouterPolicy router_policy() const noexcept { return static_cast<spec::RouterPolicy>(policy); }
  spec::MergePolicy merge_policy() const noexcept { return static_cast<spec::MergePolicy>(policy); }
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// The 16-byte entry of producer `input`'s op `op_index`: key, then tag (input << 32 | op_index).
std::array<std::byte, kLoopSlotBytes> entry_of(std::uint32_t input, std::uint32_t op_index, std::uint64_t key) noexcept;

std::optional<LoopKind> parse_loop_kind(std::string_view text) noexcept;
const char* to_string(LoopKind kind) noexcept;
// "round_robin", "key_hash", ... of the kind's policy; nullopt if the kind has no such policy.
std::optional<std::uint8_t> parse_policy(LoopKind kind, std::string_view text) noexcept;
std::string policy_name(LoopKind kind, std::uint8_t policy);

std::string to_string(const Scenario& scenario);
std::optional<Scenario> parse_scenario(std::string_view text, std::string* error = nullptr);
void to_json(nlohmann::json& out, const Scenario& scenario);
std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error = nullptr);
std::string describe(const OpSpec& op);

struct GenParams {
  LoopKind kind = LoopKind::Router;
  std::optional<std::uint8_t> policy;      // nullopt: any of the kind's three
  std::optional<OnFull> on_full;           // every lane; nullopt: each lane either
  std::optional<std::uint32_t> capacity_slots;
  std::optional<bool> parking;
  std::optional<std::uint32_t> lanes;      // router outputs / merge inputs, 1..kLoopLanesMax
  std::uint32_t ops_max = 4;               // writes per producer, before its Close
};
// Always terminates with a correct loop: every producer ends with Close, every consumer drains.
rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params);
// One write less, a smaller capacity, one lane less (the last output of a router, the last input
// of a merge with its producer).
std::vector<Scenario> simple_shrinks(const Scenario& scenario);

}  // namespace indexbus::sim::loops

// The pieces of a differential check of a lane against the model: run one model operation on a
// lane, compare what happened with what the model says (each comparison under the rule it
// checks), and generate random operation sequences.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/conformance/lane_under_test.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::conformance {

// What one operation did on a lane, in the model's terms.
struct Observation {
  spec::OpResult result;
  std::uint32_t reported_payload_bytes = 0;  // Entry: as the lane reported it (may exceed the slot if broken)
  LaneCounters counters;                     // read after the operation
  std::optional<std::uint64_t> deadline_ns;  // blocking operations only
  std::uint64_t returned_at_ns = 0;          // lane clock right after the call
};

// Runs op on lane. Blocking operations get the deadline now + blocking_timeout_ns.
Observation execute(LaneUnderTest& lane, const spec::Op& op, std::uint32_t slot_payload_bytes,
                    std::uint64_t blocking_timeout_ns);

LaneCounters counters_of(const spec::EventsState& state) noexcept;

// How late a blocking call may return after its deadline before EV-15 calls it unbounded. Generous:
// sanitizers and a loaded machine delay wake-ups by milliseconds, never by seconds.
inline constexpr std::uint64_t kDeadlineSlackNs = 2'000'000'000;

// One comparison, under the rule it checks. detail says "expected X, got Y" when it failed.
struct Check {
  std::string_view rule_id;
  bool passed = true;
  std::string detail;
};

// Every comparison of one step (the model went before -> after with result expected; the lane
// did got): result and counters against the model's, a Timeout against its deadline.
std::vector<Check> compare_step(const spec::EventsState& before, const spec::EventsState& after,
                                const spec::OpResult& expected, const Observation& got);

// The rules compare_step and the suite check, in report order.
std::vector<std::string_view> checked_rule_ids();

// A payload whose bytes say which write made it: the first (up to) 8 bytes are `tag` in
// little-endian, the rest a pattern of tag and position, so a dump shows where it came from.
spec::Bytes recognisable_payload(std::uint64_t tag, std::size_t size);

// The shape of a random operation sequence, in parts per thousand.
struct OpMix {
  std::uint32_t close_permille = 3;       // of all ops
  std::uint32_t write_permille = 500;     // of the rest; the others are reads
  std::uint32_t blocking_permille = 330;  // of writes and of reads: Write / Read instead of Try*
  std::uint32_t too_large_permille = 40;  // of writes: a payload longer than the slot
};

// Random operations for one lane config; deterministic for a seed.
class OpGenerator {
 public:
  OpGenerator(const spec::EventsConfig& config, std::uint64_t seed, const OpMix& mix = {});
  spec::Op next();

 private:
  spec::Bytes next_payload();
  bool chance(std::uint32_t permille) { return rng_() % 1000 < permille; }

  spec::EventsConfig config_;
  std::mt19937_64 rng_;
  OpMix mix_;
  std::uint64_t tag_base_;
  std::uint64_t writes_ = 0;
};

}  // namespace indexbus::conformance

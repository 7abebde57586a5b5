// The SequencedSlots conformance suite: random operation sequences on real SequencedSlots lanes
// (both policies, capacities 1..8, one to four consumers with random acyclic gating), every step
// compared with the model (spec::sequenced_step), outcomes reported per rule ID (SS-*). Reuses
// the Events suite's SuiteOptions / SuiteReport / format_report.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/ring.hpp"

namespace indexbus::conformance {

// Applied to the lane references after the region is created and before the producer and the
// consumers attach: the real lane uses none. Tests pass deliberately broken ones (e.g. clearing
// the gating masks the consumers see) to prove the suite catches them under the right rule.
struct SequencedLaneTweak {
  std::function<void(RingLaneRef& producer_ref, RingLaneRef& consumer_ref)> apply;
  std::string name = "real";
};

// Run i: Block on even runs, Drop on odd ones; config drawn from the seed; ops_per_run random
// operations, then close and a drain of every consumer, then the accounting check. Besides,
// every run offers a random (possibly cyclic) gating graph to Region::create and checks that it
// is refused exactly when the model's check_gating_graph refuses it (SS-3), and attaches one
// consumer index too many (SS-1). Deterministic for a seed. Throws SetupError.
SuiteReport run_sequenced_slots_suite(const SuiteOptions& options, const SequencedLaneTweak& tweak = {});

// The rules the suite checks, in rule order (SS-1..SS-12).
std::vector<std::string_view> sequenced_slots_checked_rule_ids();

}  // namespace indexbus::conformance

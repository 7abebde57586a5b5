// The FanoutBroadcast conformance suite: random operation sequences, each on a fresh lane, every
// step compared with the model (spec/fanout_model) and each comparison reported under its FB rule.
// Same options and report types as the Events suite.
#pragma once

#include <string_view>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/conformance/fanout_lane.hpp"

namespace indexbus::conformance {

// The rules the suite checks, in rule order (FB-1 and FB-6, attach and late attach, are checked by
// core tests instead).
std::vector<std::string_view> fanout_checked_rule_ids();

// Run i: Block on even runs, Drop on odd ones; capacity 1, 2, 4 or 8; 1..4 consumers; slot 8, 16
// or 64 bytes. ops_per_run random operations, then close and drain every consumer. A run stops at
// its first mismatch. Deterministic for a seed. Throws std::runtime_error when a lane cannot be made.
SuiteReport run_fanout_suite(const SuiteOptions& options, FanoutDefect defect = FanoutDefect::None);

}  // namespace indexbus::conformance

// The Journal conformance suite: random operation sequences, each on a fresh lane, every step
// compared with the model (spec/journal_model) on its result and on the lane's words, and each
// comparison reported under its JR rule. Same options and report types as the Events suite.
#pragma once

#include <string_view>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/conformance/journal_lane.hpp"

namespace indexbus::conformance {

// The rules the suite checks, in rule order: JR-1 .. JR-12. (Dead processes, racing attaches and
// concurrent overwriting are core's tests: a sequential history cannot show them.)
std::vector<std::string_view> journal_checked_rule_ids();

// Run i: Block on even runs, Drop on odd ones; capacity 1, 2, 4 or 8; 1..4 reader records; slot
// 8 or 16 bytes; reader timeout 100 ns (three runs in four) or 0 (never evict). The lane's clock
// is the model's and moves only by JournalAdvanceTime. ops_per_run random operations (attach by
// name and anonymous, detach, try_write/write, try_read/read, commit, read_at, heartbeat, clock
// advance, close), then close and a drain of every live handle. A run stops at its first
// mismatch. Deterministic for a seed. Throws std::runtime_error when a lane cannot be made.
SuiteReport run_journal_suite(const SuiteOptions& options, JournalDefect defect = JournalDefect::None);

}  // namespace indexbus::conformance

// Step mode for the ring kinds (Journal, SequencedSlots, FanoutBroadcast): the same loop as the
// Events runner (step_runner.hpp) over each kind's own model (spec/model journal_model,
// sequenced_slots_model, fanout_model). One template runs all three; a small traits struct per
// kind says how a model operation becomes a protocol request and how a reply becomes a model
// result. Also the ring-kind part of the catalog.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/step_runner.hpp"

namespace indexbus::harness {

CaseResult run_ring_case(const CaseDef& def, const RingScenario& scenario, std::uint64_t seed,
                         const AgentAssignment& agents, const ScratchDir& dir,
                         std::uint32_t request_deadline_ms = 5'000);

// Appends the Journal, SequencedSlots and FanoutBroadcast cases (ring_catalog.cpp).
void add_ring_cases(std::vector<CaseDef>& cases);

// The steps of a ring scenario, described one per line (the saved scenario file).
std::vector<std::string> describe_steps(const RingScenario& scenario);

// How the runner checks a Journal operation left in flight (RingStartStep) against the model: the
// model step taken when it starts and the operation the await checks. A read is split (JR-10: its
// heartbeat is the one of its start, not of its return): JournalBeginCall with the heartbeat the
// model stores for a call beginning now, then the read's second step. nullopt: the whole operation
// is checked at the await (a write, or a read the model says reports Evicted at once).
std::optional<std::pair<spec::JournalOp, spec::JournalOp>> journal_in_flight_split(const spec::JournalState& state,
                                                                                  const spec::JournalOp& op);

}  // namespace indexbus::harness

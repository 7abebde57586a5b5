// Step mode for the ring kinds (Journal, SequencedSlots, FanoutBroadcast): the same loop as the
// Events runner (step_runner.hpp) over each kind's own model (spec/model journal_model,
// sequenced_slots_model, fanout_model). One template runs all three; a small traits struct per
// kind says how a model operation becomes a protocol request and how a reply becomes a model
// result. Also the ring-kind part of the catalog.
#pragma once

#include <cstdint>
#include <string>
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

}  // namespace indexbus::harness

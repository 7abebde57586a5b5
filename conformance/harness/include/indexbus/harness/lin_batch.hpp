// Batch mode with a linearizability check, for every lane kind (Events, FanoutBroadcast, Journal,
// SequencedSlots; spec/agent-protocol.md, "Batch cases of every kind"): one producer
// agent and one agent per consumer run their scripts concurrently at full speed, each on the
// reference agent's PerturbingPlatform (seeded delays at the lanes' shared-memory accesses), while
// the harness pauses them (SIGSTOP/SIGCONT) and may SIGKILL a consumer mid-run and start a new
// process that takes its role over. Every agent streams each completed operation to a history
// file, so a killed agent's completed operations survive; its unfinished one is indeterminate
// (taken effect or not). The merged history (invocation and response times, CLOCK_MONOTONIC) is
// checked against the spec model with conformance/linearizability, bounded by a time limit and a
// number of configurations; then the lane invariants per consumer: no duplicate, torn or invented
// entry, in order; Block loses nothing; Drop delivered + lost = written; then the lane's counters
// against the linearized model's. A search stopped at its bound (the checker's Unknown) ends the
// case INCONCLUSIVE, never PASS: nothing was found, but linearizability was not shown either. A killed Journal reader's successor re-attaches by name (JR-4); the
// death is recorded as a detach, since the model has no processes. A saved failure carries the
// case in the simulator's form (sim_handoff.hpp) for `indexbus replay FILE --sim`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/step_runner.hpp"

namespace indexbus::harness {

CaseResult run_lin_batch_case(const CaseDef& def, const LinBatchScenario& scenario, std::uint64_t seed,
                              const AgentAssignment& agents, const ScratchDir& dir,
                              std::uint32_t request_deadline_ms);

// What the producer-death cases found in the reference lanes, all fixed: FanoutBroadcast Drop
// consumers reporting Lost before the overwriting write was published; Drop readers of every kind
// reporting Lost after a bounded 100 ms wait for a dead producer's publish (the
// *.Drop.ProducerKilledLateSuccessor cases), both fixed by the two-step writes of EV-8 (a reader
// reports the loss at once; the model and the checker let a write destroy the oldest entry before
// it publishes its own: linearizability/two_step.hpp); and an Events Block producer killed between
// its write_seq store and its stamp store, which stranded the consumer (every read Timeout, never
// the entry, then the successor blocked on a full lane; seed 7 reproduced it), fixed by EV-16's
// resume rule: the successor's attach stamps that entry (layout.md, "Resume").

// The lane's counters of consumer 0 after its process was SIGKILLed with a read in flight and
// replaced, against the linearized model's: equal, or as far apart as that one read may leave them
// (lin_batch.cpp argues which). Declared here for its unit test (lin_batch_counters_test.cpp).
bool killed_reader_counters_match(std::uint64_t read_count, std::uint64_t lost_count, std::uint64_t model_read_count,
                                  std::uint64_t model_lost_count, std::uint64_t capacity_slots, OnFull on_full);

// Appends the linearizability batch cases to the catalog.
void add_lin_batch_cases(std::vector<CaseDef>& cases);

}  // namespace indexbus::harness

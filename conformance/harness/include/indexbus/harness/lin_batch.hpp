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

// Known findings against the reference lanes: cases kept in the catalog at INFORMATIONAL level,
// their summary starting "KNOWN FINDING", until the fix lands. One is open:
//
// Events Block, producer killed mid-write (kEventsBlockProducerKilledId). spec/layout.md ("Events
// protocol", steps 4 and 5) and core/include/indexbus/events.hpp store write_seq = w+1 before the
// stamp 2w+2 that publishes entry w, and a Block consumer learns of entry w from its stamp alone.
// A producer killed between the two stores leaves write_seq = w+1 with entry w unpublished; its
// successor resumes at w+1 (layout.md "Resume"), so the consumer waits for entry w forever (every
// read Timeout at its deadline, never Closed) and the successor blocks once the lane is full.
// Reproduced with the reference and the C agent (both follow layout.md), e.g. seed 7: "the
// producer died at access 151 inside operation 19 (write) after 19 entries; write_seq then 20",
// ending TIMEOUT after the 30 s script deadline. A fix is a rule for the successor (on resume
// under Block, if slot w-1's stamp is not 2(w-1)+2, the payload is complete: store the stamp),
// in layout.md, core and the C agent.
//
// The previous ones: FanoutBroadcast Drop consumers reporting Lost before the overwriting write
// was published, then Drop readers of every kind reporting Lost after a bounded 100 ms wait for a
// dead producer's publish (the *.Drop.ProducerKilledLateSuccessor cases). Both fixed by the
// two-step writes of EV-8: a reader reports the loss at once, and the model and the checker let a
// write destroy the oldest entry before it publishes its own (linearizability/two_step.hpp).
inline constexpr const char* kEventsBlockProducerKilledId = "Informational.Events.BatchLinearizable.Block.ProducerKilled";
inline constexpr const char* kEventsBlockProducerKilledWhy =
    "a Block producer killed between its write_seq store and its stamp store leaves an entry the consumer never sees";
bool is_known_finding(const std::string& case_id);

// Appends the linearizability batch cases to the catalog.
void add_lin_batch_cases(std::vector<CaseDef>& cases);

}  // namespace indexbus::harness

// Batch mode: the agents run their scripts concurrently at full speed while the harness pauses
// them (SIGSTOP/SIGCONT) on a seeded schedule; each agent returns its history with invocation
// and response times. This increment checks the lane invariants of the merged history, which need
// no linearization order: every entry delivered is exactly the accepted write with its sequence
// number, in order, at most once (no duplicate, torn or invented entry); Block loses nothing;
// Drop accounts delivered + lost = written; Closed only after a complete drain. The
// linearizability check (conformance/linearizability, branch sim) plugs in here later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/step_runner.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::harness {

struct BatchWrite {
  spec::Bytes payload;
  WriteStatus status = WriteStatus::Ok;
};
struct BatchRead {
  ReadStatus status = ReadStatus::Empty;
  std::uint64_t seq = 0;
  spec::Bytes payload;
  std::uint64_t lost_count = 0;
};
struct BatchHistory {
  OnFull on_full = OnFull::Block;
  std::vector<BatchWrite> writes;  // the producer's writes, in program order (close last)
  std::vector<BatchRead> reads;    // the consumer's reads, in program order, drain included
};
struct BatchTally {
  std::uint64_t written = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
};

// The first broken invariant, or the tallies. drained: the history ends with a complete drain.
struct BatchVerdict {
  std::optional<std::string> violation;
  BatchTally tally;
};
BatchVerdict check_batch_history(const BatchHistory& history, bool drained);

CaseResult run_batch_case(const CaseDef& def, const BatchScenario& scenario, std::uint64_t seed,
                          const AgentAssignment& agents, const ScratchDir& dir,
                          std::uint32_t request_deadline_ms);

}  // namespace indexbus::harness

// The case catalog of `indexbus conform`: data, one entry per case, with a stable hierarchical ID
// (Level.Kind.Topic.Name), the spec rule IDs it checks and a level. A step-mode case is a
// scenario generated from the case seed: the region's lanes, which agent holds which role, and
// the steps (operations, process kills, restarts, attaches) in the order the seeded scheduler
// chose. In-process cases run a suite inside the harness (run_events_suite, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "indexbus/spec/events_model.hpp"
#include "indexbus/spec/fanout_model.hpp"
#include "indexbus/spec/journal_model.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"

namespace indexbus::harness {

enum class Level { Required, Recommended, Informational };
std::string to_string(Level level);

// Roles of the Events lane (lane 0 of the scenario's region).
enum class Role { Producer, Consumer };
std::string to_string(Role role);
Role role_of(const spec::Op& op);  // producer ops: TryWrite, Write, Close

struct OpStep {
  std::size_t agent = 0;
  spec::Op op;
  // RECOMMENDED promptness: a Timeout must come no later than timeout + this (0: not checked).
  std::uint64_t late_by_max_ns = 0;
};
struct KillStep {  // SIGKILL the agent between two operations: its roles stay claimed by a dead pid
  std::size_t agent = 0;
};
struct RestartStep {  // a new process for a killed agent: open the region, attach the same roles
  std::size_t agent = 0;
};
struct AttachStep {  // an extra attach of role by agent; refused when another live agent holds it
  std::size_t agent = 0;
  Role role = Role::Producer;
  bool expect_refused = true;
};
using Step = std::variant<OpStep, KillStep, RestartStep, AttachStep>;
std::string describe(const Step& step);

struct Scenario {
  spec::EventsConfig config;
  // roles[a]: the roles agent a attaches at the start. Agent 0 creates the region, the others
  // open it.
  std::vector<std::vector<Role>> roles{{Role::Producer}, {Role::Consumer}};
  std::vector<Step> steps;
  std::uint64_t op_timeout_ns = 1'000'000;  // timeout of every blocking op
};

// A batch-mode case (batch.hpp): one producer agent writes `entries` entries and closes, one
// consumer agent reads, both at full speed, concurrently, while the harness pauses them.
struct BatchScenario {
  spec::EventsConfig config;
  std::uint32_t entries = 5000;                    // producer writes, then close
  std::uint32_t reads = 5002;                      // consumer blocking reads, then a drain
  std::uint64_t write_timeout_ns = 2'000'000'000;  // Block writes: long enough to outlast pauses
  // Reads wait long enough that a loaded machine never makes the consumer run out of reads
  // before the producer closes; after Closed every read returns at once.
  std::uint64_t read_timeout_ns = 1'000'000'000;
  // Pauses: (agent, delay before SIGSTOP, stopped for), in order, microseconds.
  struct Pause {
    std::size_t agent = 0;
    std::uint32_t delay_us = 0;
    std::uint32_t stopped_us = 0;
  };
  std::vector<Pause> pauses;
};

// A step-mode case on a ring kind (ring_step.hpp): lane 0 of the region is a Journal,
// SequencedSlots or FanoutBroadcast lane and each operation is compared with that kind's model.
struct RingRole {
  std::string role;         // "producer", "consumer" (by index) or "reader" (Journal: attach ops)
  std::uint32_t reader = 0;
};
struct RingAttachStep {  // an extra attach; refused (role_taken) when another live agent holds it
  std::size_t agent = 0;
  RingRole role;
  bool expect_refused = true;
};
template <typename Op>
struct RingOpStep {
  std::size_t agent = 0;
  Op op;
};
// A blocking operation left in flight: its request goes out and the runner goes on with the next
// steps (other agents' operations, the model's clock) while the agent waits in it; the agent's
// RingAwaitStep takes the reply later and compares it with the model, which takes the operation
// at the await (a Journal read: its heartbeat at the start, JR-10; ring_step.cpp). The agent gets
// no other step in between, and its deadline must outlast the steps in between. timeout_ns: the
// operation's own deadline (0: the scenario's op_timeout_ns).
template <typename Op>
struct RingStartStep {
  std::size_t agent = 0;
  Op op;
  std::uint64_t timeout_ns = 0;
};
struct RingAwaitStep {  // the reply of the agent's operation in flight (RingStartStep)
  std::size_t agent = 0;
};
template <typename Config, typename Op>
struct KindScenario {
  Config config;
  // roles[a]: what agent a attaches at the start and again after a restart. Agent 0 creates the
  // region. Journal readers are attached by JournalAttach operations instead (the model decides
  // the reader id), and a killed agent's Journal readers count as detached in the model: a
  // re-attach by name takes the record over at its committed cursor (JR-4).
  std::vector<std::vector<RingRole>> roles;
  std::vector<std::variant<RingOpStep<Op>, KillStep, RestartStep, RingAttachStep, RingStartStep<Op>, RingAwaitStep>> steps;
  std::uint64_t op_timeout_ns = 1'000'000;  // of every blocking op
};
using JournalScenario = KindScenario<spec::JournalConfig, spec::JournalOp>;
using SequencedScenario = KindScenario<spec::SequencedConfig, spec::SequencedOp>;
using FanoutScenario = KindScenario<spec::FanoutConfig, spec::FanoutOp>;
using RingScenario = std::variant<JournalScenario, SequencedScenario, FanoutScenario>;

// Batch mode with a linearizability check (lin_batch.hpp), any lane kind.
struct LinBatchScenario {
  std::variant<spec::EventsConfig, spec::FanoutConfig, spec::JournalConfig, spec::SequencedConfig> config;
  // Producer writes (Block: write, Drop: try_write; SequencedSlots: claim / try_claim, then
  // publish), then close. Journal readers commit after every read.
  std::uint32_t entries = 300;
  std::uint64_t write_timeout_ns = 2'000'000'000;
  std::uint64_t read_timeout_ns = 200'000'000;
  std::uint32_t perturb_period = 16;  // about one shared-memory access in this many is delayed
  std::uint64_t perturb_seed = 0;
  std::vector<BatchScenario::Pause> pauses;
  // SIGKILL consumer 0's agent this long after the start, then a new process takes consumer 0 over
  // (Journal: re-attaches reader "r0" by name and resumes from its committed cursor, JR-4).
  std::optional<std::uint32_t> kill_consumer_after_us;
  // SIGKILL the producer inside an operation: its script carries kill_at_access = this (0: no
  // kill; spec/agent-protocol.md), drawn between 1 and the script's op count, so that it fires
  // inside the script for any agent whose producer ops each touch the lane at least once. A new
  // process then takes the producer role over (EV-1), writes the rest from the lane's write_seq
  // and closes; the killed operation is indeterminate.
  std::uint64_t kill_producer_at_access = 0;
  // How long the harness waits, after reaping the killed producer, before it starts the successor
  // (a supervisor's restart time). Meanwhile a write killed after its first step (EV-8) has
  // destroyed the oldest entry and published nothing; the readers must say so at once.
  std::uint32_t producer_successor_delay_us = 0;
  // Journal: the readers' attach requests go out together this long after the producer's script
  // starts (negative: before it), so the attaches race each other and the first writes (JR-3).
  std::int32_t attach_offset_us = 0;
  // Bounds of the linearizability search; a search stopped at either ends the case INCONCLUSIVE.
  std::uint64_t check_time_limit_ns = 10'000'000'000;
  std::uint64_t check_configurations_max = 0;  // 0: the checker's default (linearizability::Options)
};

struct CaseContext {  // what an in-process case gets
  std::uint64_t seed = 0;
  std::string region_dir;
  // Topology cases (topology_case.hpp): the `indexbus` that runs `route`/`merge`, the reference
  // agent that runs producers and consumers, and the deadline of each request.
  std::vector<std::string> loop_argv;
  std::vector<std::string> reference_agent_argv;
  std::uint32_t request_deadline_ms = 5'000;
  // Simulated cases (simulated_catalog.cpp): the time budget of each (seconds; 0: the default)
  // and, test only, a planted ordering bug they must catch (sim/include/indexbus/sim/plants.hpp).
  double sim_seconds = 0;
  std::string sim_plant;
};
struct InProcessOutcome {
  bool passed = false;
  bool inconclusive = false;  // neither passed nor failed: too little was checked to say
  std::string detail;
};


// A case that runs its own agents (golden_catalog.cpp): it gets the agent command line and the
// scratch directory and fills in the result (outcome, detail, history).
struct CaseResult;  // step_runner.hpp
class ScratchDir;   // cleanup.hpp
struct AgentCaseContext {
  std::uint64_t seed = 0;
  const std::vector<std::string>& agent_argv;
  const ScratchDir& dir;
  std::uint32_t request_deadline_ms = 5'000;
};

struct CaseDef {
  std::string id;
  Level level = Level::Required;
  std::vector<std::string> rules;
  std::string summary;
  std::function<Scenario(std::mt19937_64& rng)> make_scenario;                  // step mode
  std::function<InProcessOutcome(const CaseContext& context)> run_in_process;  // or in process
  std::function<BatchScenario(std::mt19937_64& rng)> make_batch;               // or batch mode
  std::function<RingScenario(std::mt19937_64& rng)> make_ring;                 // or a ring kind, step mode
  std::function<LinBatchScenario(std::mt19937_64& rng)> make_lin_batch;        // or batch + linearizability
  std::function<void(const AgentCaseContext& context, CaseResult& result)> run_with_agents;  // or its own agents
  // Real processes at full speed, whose interleaving the seed does not fix: the topology cases
  // set it; batch cases are so by construction (is_timing_dependent).
  bool timing_dependent = false;
};

// Whether the case's seed replays it exactly (step mode, golden images, the simulator's in-process
// cases) or fixes only its scenario, pauses and perturbations (batch and topology cases: real
// processes at full speed, so the same seed may catch a bug in one run and miss it in the next).
inline bool is_timing_dependent(const CaseDef& def) {
  return def.timing_dependent || static_cast<bool>(def.make_batch) || static_cast<bool>(def.make_lin_batch);
}

// Every case, in a stable order.
const std::vector<CaseDef>& catalog();

// Appends the Required.Protocol.Refusals.* cases (protocol_catalog.cpp): refusals an agent must
// answer with their error kind and code.
void add_protocol_cases(std::vector<CaseDef>& cases);

// Appends the Required.Layout.Corrupt.* cases (corrupt_catalog.cpp): every check of spec/layout.md's
// validation order, and the checks before it, put to an agent's open_region by a corrupt region.
void add_corrupt_cases(std::vector<CaseDef>& cases);

// Appends the Required.<Kind>.Simulated.* cases (simulated_catalog.cpp; built with the tests).
void append_simulated_cases(std::vector<CaseDef>& catalog);

// The seeded scheduler of step mode: merges per-agent scripts, choosing at each step uniformly
// among the agents that have operations left. Each script keeps its own order.
std::vector<Step> interleave(std::vector<std::vector<Step>> scripts, std::mt19937_64& rng);

// Appends what drains the lane: close (if open), then consumer reads until the model says Closed,
// then one blocking read that must return Closed at once (EV-10). Uses the model to know when.
void append_close_and_drain(Scenario& scenario);

// The case seed: a mix of the run seed and the case ID, so that a case replays alone with
// `--cases ID --seed RUN_SEED`.
std::uint64_t case_seed(std::uint64_t run_seed, const std::string& case_id);

}  // namespace indexbus::harness

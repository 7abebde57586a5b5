#include "indexbus/harness/catalog.hpp"

#include <cassert>

#include "indexbus/conformance/differential.hpp"
#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/conformance/rule_suites.hpp"
#include "indexbus/harness/golden_catalog.hpp"
#include "indexbus/harness/lin_batch.hpp"
#include "indexbus/harness/ring_step.hpp"
#include "indexbus/harness/topology_case.hpp"
#include "indexbus/spec/rules.hpp"

namespace indexbus::harness {
namespace {

using spec::Bytes;

// Agents of the default two-agent scenario.
constexpr std::size_t kProducerAgent = 0;
constexpr std::size_t kConsumerAgent = 1;

// Entry n's bytes: distinct per entry and per position, so a torn, shifted or swapped entry shows.
Bytes entry_bytes(std::uint64_t n, std::uint32_t size) {
  Bytes out(size);
  for (std::uint32_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((n * 131 + i * 7 + 1) & 0xff);
  return out;
}

// Small builders so that fixed scenarios read like the rule they check.
struct Script {
  std::vector<Step> steps;
  std::uint64_t written = 0;  // next entry number for payloads
  std::uint32_t size = 8;     // payload bytes of the next write

  Script& try_write(std::uint32_t n = 1) {
    for (std::uint32_t i = 0; i < n; ++i) steps.push_back(OpStep{kProducerAgent, spec::TryWrite{entry_bytes(written++, size)}});
    return *this;
  }
  Script& try_write_bytes(std::uint32_t bytes) {
    steps.push_back(OpStep{kProducerAgent, spec::TryWrite{entry_bytes(written++, bytes)}});
    return *this;
  }
  Script& write(std::uint32_t n = 1) {
    for (std::uint32_t i = 0; i < n; ++i) steps.push_back(OpStep{kProducerAgent, spec::Write{entry_bytes(written++, size)}});
    return *this;
  }
  Script& close() {
    steps.push_back(OpStep{kProducerAgent, spec::Close{}});
    return *this;
  }
  Script& try_read(std::uint32_t n = 1) {
    for (std::uint32_t i = 0; i < n; ++i) steps.push_back(OpStep{kConsumerAgent, spec::TryRead{}});
    return *this;
  }
  Script& read(std::uint32_t n = 1, std::uint64_t late_by_max_ns = 0) {
    for (std::uint32_t i = 0; i < n; ++i) steps.push_back(OpStep{kConsumerAgent, spec::Read{}, late_by_max_ns});
    return *this;
  }
  Script& then(Step step) {
    steps.push_back(std::move(step));
    return *this;
  }
};

Scenario fixed(OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes, Script script, bool drain = true) {
  Scenario scenario;
  scenario.config = spec::EventsConfig{capacity, slot_bytes, on_full};
  scenario.steps = std::move(script.steps);
  if (drain) append_close_and_drain(scenario);
  return scenario;
}

// A random producer script and a random consumer script, merged by the seeded scheduler.
// writer_weight in [0, 100]: the share of producer operations.
Scenario random_interleaving(std::mt19937_64& rng, OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes,
                             std::uint32_t op_count, std::uint32_t writer_percent) {
  std::vector<std::vector<Step>> scripts(2);
  std::uniform_int_distribution<std::uint32_t> percent(0, 99);
  std::uniform_int_distribution<std::uint32_t> size(0, slot_bytes);
  std::uint64_t written = 0;
  for (std::uint32_t i = 0; i < op_count; ++i) {
    const std::uint32_t blocking = percent(rng);
    if (percent(rng) < writer_percent) {
      Bytes payload = entry_bytes(written++, size(rng));
      if (blocking < 15) {
        scripts[kProducerAgent].push_back(OpStep{kProducerAgent, spec::Write{std::move(payload)}});
      } else {
        scripts[kProducerAgent].push_back(OpStep{kProducerAgent, spec::TryWrite{std::move(payload)}});
      }
    } else if (blocking < 15) {
      scripts[kConsumerAgent].push_back(OpStep{kConsumerAgent, spec::Read{}});
    } else {
      scripts[kConsumerAgent].push_back(OpStep{kConsumerAgent, spec::TryRead{}});
    }
  }
  Scenario scenario;
  scenario.config = spec::EventsConfig{capacity, slot_bytes, on_full};
  scenario.steps = interleave(std::move(scripts), rng);
  append_close_and_drain(scenario);
  return scenario;
}

std::vector<CaseDef> build_catalog() {
  using L = Level;
  const auto B = OnFull::Block;
  const auto D = OnFull::Drop;
  std::vector<CaseDef> cases;
  auto step_case = [&](std::string id, L level, std::vector<std::string> rules, std::string summary,
                       std::function<Scenario(std::mt19937_64&)> make) {
    cases.push_back(CaseDef{std::move(id), level, std::move(rules), std::move(summary), std::move(make), {}, {}, {}, {}});
  };

  // ---- Block ----
  step_case("Required.Events.Block.FifoInOrder", L::Required, {"EV-3", "EV-4", "EV-5", "EV-9"},
            "random interleaving of writes and reads, capacity 4: entries in order, exact, each once",
            [=](std::mt19937_64& rng) { return random_interleaving(rng, B, 4, 16, 120, 50); });
  step_case("Required.Events.Block.TryWriteFullWhenFull", L::Required, {"EV-6", "EV-14"},
            "try_write on a full lane returns Full and changes nothing; a read frees a slot",
            [=](std::mt19937_64&) { return fixed(B, 4, 8, Script{}.try_write(4).try_write().try_read().try_write().try_write()); });
  step_case("Required.Events.Block.WriteWaitsWhenFull", L::Required, {"EV-6", "EV-15"},
            "a blocking write on a full lane times out no earlier than its deadline",
            [=](std::mt19937_64&) { return fixed(B, 4, 8, Script{}.write(4).write().try_read().write()); });
  step_case("Required.Events.Block.CapacityOne", L::Required, {"EV-6", "EV-4", "EV-3"},
            "capacity 1: every second write is refused until the entry is read",
            [=](std::mt19937_64&) {
              Script s;
              for (int i = 0; i < 6; ++i) s.try_write().try_write().write().try_read().try_read();
              return fixed(B, 1, 8, std::move(s));
            });
  step_case("Required.Events.Block.Wraparound", L::Required, {"EV-3", "EV-4", "EV-9"},
            "capacity 2, 60 entries of every length up to the slot: the ring wraps 30 times",
            [=](std::mt19937_64&) {
              Script s;
              for (std::uint32_t i = 0; i < 30; ++i) s.try_write_bytes((i * 13) % 65).try_write_bytes((i * 7 + 3) % 65).try_read(2);
              return fixed(B, 2, 64, std::move(s));
            });
  step_case("Required.Events.Block.NeverLosesOrOverwrites", L::Required, {"EV-7", "EV-11", "EV-6"},
            "writer-heavy random interleaving, capacity 2: no Lost, counters exact",
            [=](std::mt19937_64& rng) { return random_interleaving(rng, B, 2, 8, 200, 70); });

  // ---- Drop ----
  step_case("Required.Events.Drop.OverwritesOldest", L::Required, {"EV-12", "EV-8"},
            "10 writes into capacity 4: one Lost of 6, then entries 6 to 9",
            [=](std::mt19937_64&) { return fixed(D, 4, 8, Script{}.try_write(10).try_read(6)); });
  step_case("Required.Events.Drop.ExactlyFullLosesNothing", L::Required, {"EV-8", "EV-12"},
            "exactly capacity unread entries: nothing is lost",
            [=](std::mt19937_64&) { return fixed(D, 4, 8, Script{}.try_write(4).try_read(5)); });
  step_case("Required.Events.Drop.CapacityOneKeepsNewest", L::Required, {"EV-8", "EV-12"},
            "capacity 1: only the newest entry survives, the rest is one Lost",
            [=](std::mt19937_64&) { return fixed(D, 1, 8, Script{}.try_write(3).try_read(2).write(2).read(2)); });
  step_case("Required.Events.Drop.LossAfterPartialRead", L::Required, {"EV-8", "EV-11"},
            "the consumer reads some, falls behind, and gets the exact Lost count",
            [=](std::mt19937_64&) { return fixed(D, 4, 8, Script{}.try_write(3).try_read(2).try_write(9).try_read(3)); });
  step_case("Required.Events.Drop.RandomInterleaving", L::Required, {"EV-8", "EV-11", "EV-4", "EV-12"},
            "writer-heavy random interleaving, capacity 4: exact losses, then the oldest retained",
            [=](std::mt19937_64& rng) { return random_interleaving(rng, D, 4, 16, 200, 70); });

  // ---- Payload, read, close ----
  step_case("Required.Events.Payload.TooLargeRefused", L::Required, {"EV-2", "EV-14"},
            "a payload one byte over the slot is TooLarge and writes nothing",
            [=](std::mt19937_64&) { return fixed(B, 2, 8, Script{}.try_write_bytes(9).try_write_bytes(8).try_read(2)); });
  step_case("Required.Events.Payload.ZeroLengthEntry", L::Required, {"EV-2", "EV-3"},
            "an empty payload is an entry like any other",
            [=](std::mt19937_64&) { return fixed(B, 2, 8, Script{}.try_write_bytes(0).try_write_bytes(1).try_read(3)); });
  step_case("Required.Events.Read.EmptyAndTimeout", L::Required, {"EV-13", "EV-14", "EV-15"},
            "an empty open lane: try_read Empty, read Timeout after its deadline, then the entry",
            [=](std::mt19937_64&) { return fixed(B, 4, 8, Script{}.try_read().read().try_write().read()); });
  step_case("Required.Events.Close.BlockDrainThenClosed", L::Required, {"EV-10"},
            "after close: writes Closed, the consumer drains, then Closed at once (idempotent close)",
            [=](std::mt19937_64&) {
              return fixed(B, 4, 8, Script{}.try_write(3).close().try_write().write().try_read(3).try_read().read().close().try_read(), false);
            });
  step_case("Required.Events.Close.DropLostThenEntriesThenClosed", L::Required, {"EV-10", "EV-8"},
            "Drop, closed with losses pending: Lost, the retained entries, then Closed",
            [=](std::mt19937_64&) { return fixed(D, 2, 8, Script{}.try_write(5).close().try_read(4).read(), false); });
  step_case("Required.Events.Close.ClosedBeforeTooLarge", L::Required, {"EV-10", "EV-2"},
            "a too-large write to a closed lane returns Closed",
            [=](std::mt19937_64&) { return fixed(B, 2, 8, Script{}.close().try_write_bytes(9).try_read()); });

  // ---- Attachment and process death ----
  step_case("Required.Events.Attach.SecondProducerRefused", L::Required, {"EV-1"},
            "a third process cannot attach the producer role a live process holds",
            [=](std::mt19937_64&) {
              Scenario s = fixed(B, 2, 8, Script{}.try_write().then(AttachStep{2, Role::Producer, true}).try_read());
              s.roles.push_back({});
              return s;
            });
  step_case("Required.Events.Attach.SecondConsumerRefused", L::Required, {"EV-1"},
            "a third process cannot attach the consumer role a live process holds",
            [=](std::mt19937_64&) {
              Scenario s = fixed(B, 2, 8, Script{}.try_write().then(AttachStep{2, Role::Consumer, true}).try_read());
              s.roles.push_back({});
              return s;
            });
  step_case("Required.Events.ProcessDeath.ConsumerKilledThenReattached", L::Required, {"EV-16", "EV-1"},
            "SIGKILL of the consumer; a new process takes the role over and resumes at read_seq",
            [=](std::mt19937_64&) {
              return fixed(B, 4, 8, Script{}.try_write(4).try_read(2).then(KillStep{kConsumerAgent}).try_write()
                                        .then(RestartStep{kConsumerAgent}).try_read(3).try_write(2).try_read(2));
            });
  step_case("Required.Events.ProcessDeath.ProducerKilledThenReattached", L::Required, {"EV-16", "EV-1"},
            "SIGKILL of the producer; a new process takes the role over and resumes at write_seq",
            [=](std::mt19937_64&) {
              return fixed(B, 4, 8, Script{}.try_write(3).then(KillStep{kProducerAgent}).try_read()
                                        .then(RestartStep{kProducerAgent}).try_write(2).try_read(4));
            });
  step_case("Required.Events.ProcessDeath.DropConsumerKilledWhileBehind", L::Required, {"EV-16", "EV-8"},
            "Drop: the consumer dies, the producer laps it, the new consumer reports the exact loss",
            [=](std::mt19937_64&) {
              return fixed(D, 2, 8, Script{}.try_write(2).try_read().then(KillStep{kConsumerAgent}).try_write(5)
                                        .then(RestartStep{kConsumerAgent}).try_read(3));
            });
  step_case("Required.Events.ProcessDeath.KilledAfterClose", L::Required, {"EV-16", "EV-10"},
            "the producer closes and dies; a new producer still sees Closed",
            [=](std::mt19937_64&) {
              return fixed(B, 2, 8, Script{}.try_write().close().then(KillStep{kProducerAgent})
                                        .then(RestartStep{kProducerAgent}).try_write().try_read(2), false);
            });

  // ---- Random interleavings over the parameter space ----
  for (const std::uint32_t capacity : {1u, 8u}) {
    for (const OnFull on_full : {B, D}) {
      const std::string policy = on_full == B ? "Block" : "Drop";
      step_case("Required.Events.Interleaving." + policy + ".Capacity" + std::to_string(capacity), L::Required,
                {"EV-3", "EV-4", "EV-5", "EV-6", "EV-8", "EV-10", "EV-11", "EV-12", "EV-13"},
                "seeded random interleaving of both agents, then close and drain",
                [=](std::mt19937_64& rng) { return random_interleaving(rng, on_full, capacity, 24, 150, 55); });
    }
  }

  // ---- Recommended and informational ----
  step_case("Recommended.Events.Read.TimeoutIsPrompt", L::Recommended, {"EV-15"},
            "a read Timeout comes within 50 ms after its deadline",
            [=](std::mt19937_64&) { return fixed(B, 2, 8, Script{}.read(3, 50'000'000)); });
  step_case("Informational.Events.StepMode.LongRun", L::Informational, {"EV-4", "EV-11"},
            "1000 steps of balanced traffic: measures the step-mode round trip",
            [=](std::mt19937_64& rng) { return random_interleaving(rng, B, 64, 64, 1000, 50); });

  // ---- Batch mode: concurrent agents, seeded SIGSTOP/SIGCONT pauses, lane invariants ----
  auto batch_case = [&](std::string id, std::vector<std::string> rules, std::string summary, OnFull on_full,
                        std::uint32_t capacity) {
    CaseDef def{std::move(id), L::Required, std::move(rules), std::move(summary), {}, {}, {}, {}, {}};
    def.make_batch = [=](std::mt19937_64& rng) {
      BatchScenario s;
      s.config = spec::EventsConfig{capacity, 24, on_full};
      std::uniform_int_distribution<std::uint32_t> delay_us(200, 3000);
      std::uniform_int_distribution<std::uint32_t> stopped_us(500, 5000);
      for (std::size_t i = 0; i < 8; ++i) s.pauses.push_back({i % 2, delay_us(rng), stopped_us(rng)});
      return s;
    };
    cases.push_back(std::move(def));
  };
  batch_case("Required.Events.Batch.Block.NothingLostUnderPauses", {"EV-4", "EV-5", "EV-7", "EV-9", "EV-10", "EV-11"},
             "5000 entries at full speed through capacity 8 while both processes are paused: exact, in order, none lost",
             B, 8);
  batch_case("Required.Events.Batch.Drop.AccountingUnderPauses", {"EV-4", "EV-8", "EV-9", "EV-10", "EV-11", "EV-12"},
             "5000 entries through capacity 8 under Drop while paused: delivered + lost = written, no torn entry",
             D, 8);

  // ---- In-process suites (each lane kind's per-rule differential suite, no agents) ----
  for (const conformance::RuleSuite& suite : conformance::rule_suites()) {
    std::vector<std::string> suite_rules;
    for (std::string_view rule : suite.rule_ids()) suite_rules.emplace_back(rule);
    const conformance::RuleSuite* entry = &suite;  // rule_suites() is a static table
    cases.push_back(CaseDef{
        std::string(suite.case_id), L::Required, suite_rules,
        "the " + std::string(suite.lane) +
            " per-rule suite: random sequences on a real lane in this process, checked per rule",
        {},
        [entry](const CaseContext& context) {
          conformance::SuiteOptions options;
          options.seed = context.seed;
          options.runs = 60;
          options.ops_per_run = 150;
          options.region_dir = context.region_dir;
          const conformance::SuiteReport report = entry->run(options);
          InProcessOutcome outcome{report.passed, {}};
          for (const auto& rule : report.rules) {
            if (rule.failures != 0) outcome.detail += rule.rule_id + ": " + rule.first_failure + "; ";
          }
          if (outcome.passed) outcome.detail = std::to_string(report.ops) + " operations, every rule passed";
          return outcome;
        },
        {},
        {},
        {}});
  }
  add_ring_cases(cases);
  add_lin_batch_cases(cases);
  add_golden_cases(cases);
  add_corrupt_cases(cases);
  add_protocol_cases(cases);
  add_topology_cases(cases);
  return cases;
}

}  // namespace

std::string to_string(Level level) {
  switch (level) {
    case Level::Required: return "REQUIRED";
    case Level::Recommended: return "RECOMMENDED";
    case Level::Informational: return "INFORMATIONAL";
  }
  return "unknown";
}

std::string to_string(Role role) { return role == Role::Producer ? "producer" : "consumer"; }

Role role_of(const spec::Op& op) {
  const bool producer = std::holds_alternative<spec::TryWrite>(op) || std::holds_alternative<spec::Write>(op) ||
                        std::holds_alternative<spec::Close>(op);
  return producer ? Role::Producer : Role::Consumer;
}

std::string describe(const Step& step) {
  struct Visitor {
    std::string operator()(const OpStep& s) const { return "agent " + std::to_string(s.agent) + ": " + spec::describe(s.op); }
    std::string operator()(const KillStep& s) const { return "SIGKILL agent " + std::to_string(s.agent); }
    std::string operator()(const RestartStep& s) const {
      return "restart agent " + std::to_string(s.agent) + " (open the region, attach its roles again)";
    }
    std::string operator()(const AttachStep& s) const {
      return "agent " + std::to_string(s.agent) + " attaches " + to_string(s.role) + (s.expect_refused ? " (must be refused)" : "");
    }
  };
  return std::visit(Visitor{}, step);
}

const std::vector<CaseDef>& catalog() {
  static const std::vector<CaseDef> cases = [] {
    std::vector<CaseDef> built = build_catalog();
#ifdef INDEXBUS_WITH_SIM
    append_simulated_cases(built);
#endif
    for ([[maybe_unused]] const CaseDef& c : built) {
      for ([[maybe_unused]] const std::string& rule : c.rules) assert(spec::find_rule(rule) != nullptr);
    }
    return built;
  }();
  return cases;
}

std::vector<Step> interleave(std::vector<std::vector<Step>> scripts, std::mt19937_64& rng) {
  std::vector<std::size_t> next(scripts.size(), 0);
  std::size_t remaining = 0;
  for (const auto& script : scripts) remaining += script.size();
  std::vector<Step> merged;
  merged.reserve(remaining);
  // Each pass takes one step: bounded by the total number of steps.
  while (remaining > 0) {
    std::vector<std::size_t> ready;
    for (std::size_t a = 0; a < scripts.size(); ++a) {
      if (next[a] < scripts[a].size()) ready.push_back(a);
    }
    assert(!ready.empty());
    const std::size_t agent = ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng)];
    merged.push_back(std::move(scripts[agent][next[agent]++]));
    --remaining;
  }
  return merged;
}

void append_close_and_drain(Scenario& scenario) {
  spec::EventsState state = spec::initial_state(scenario.config);
  for (const Step& step : scenario.steps) {
    if (const auto* op = std::get_if<OpStep>(&step)) state = spec::step(state, op->op).first;
  }
  if (!state.closed) scenario.steps.push_back(OpStep{kProducerAgent, spec::Close{}});
  state = spec::step(state, spec::Close{}).first;
  // Each read consumes an entry or a Lost: bounded by the unread entries plus the final Closed.
  const std::uint64_t reads_max = spec::unread_count(state) + 2;
  for (std::uint64_t i = 0; i < reads_max; ++i) {
    auto [next, result] = spec::step(state, spec::TryRead{});
    scenario.steps.push_back(OpStep{kConsumerAgent, spec::TryRead{}});
    state = std::move(next);
    if (std::get<spec::ReadOutcome>(result).status == ReadStatus::Closed) break;
  }
  scenario.steps.push_back(OpStep{kConsumerAgent, spec::Read{}});  // Closed at once, not Timeout
}

std::uint64_t case_seed(std::uint64_t run_seed, const std::string& case_id) {
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a of the ID
  for (const char c : case_id) hash = (hash ^ static_cast<std::uint8_t>(c)) * 1099511628211ull;
  std::uint64_t z = run_seed ^ hash;  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace indexbus::harness

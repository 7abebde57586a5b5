// The explorer: runs a lane's scenarios under a strategy, checks every run, and turns a failure
// into something a person can act on: a determinism self-check, two-level shrinking (scenario,
// then schedule), a one-line replay command and a per-actor interleaving table.
//
// Generic over a scenario adapter A (see events_adapter.hpp for the contract).
#pragma once

#include <unistd.h>

#include <array>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <rapidcheck/Shrinkable.h>
#include <rapidcheck/Seq.h>

#include "indexbus/sim/outcome.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/sim_platform.hpp"
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/sim/strategy.hpp"

namespace indexbus::sim {

enum class StrategyKind : std::uint8_t { Random, Pct, Exhaustive };
const char* to_string(StrategyKind kind) noexcept;
std::optional<StrategyKind> parse_strategy(std::string_view text) noexcept;

struct ExploreOptions {
  StrategyKind strategy = StrategyKind::Random;
  std::uint32_t pct_depth = 3;
  std::uint32_t preemption_bound = 2;
  std::uint64_t runs = 1000;
  std::uint64_t seed = 0;
  double time_budget_s = 0;          // 0: no limit besides runs
  bool shrink = true;
  std::uint64_t shrink_runs_max = 20'000;  // runs are cheap (tens of microseconds)
  bool progress = false;             // a progress bar on stderr
  Scheduler::Options scheduler{};
};

struct Outcome {
  RunResult run;
  FailureKind kind = FailureKind::None;
  std::string message;
  std::vector<std::size_t> order;
};

template <typename Scenario>
struct Failure {
  Scenario scenario;
  std::vector<std::uint8_t> choices;
  FailureKind kind = FailureKind::None;
  std::string message;
  std::uint64_t run_index = 0;
  std::uint64_t run_seed = 0;
  std::uint32_t preemptions = 0;
  bool deterministic = true;
  std::string determinism_note;
  // Before shrinking.
  Scenario original_scenario;
  std::vector<std::uint8_t> original_choices;
  std::uint64_t shrink_runs = 0;
};

template <typename Scenario>
struct ExploreReport {
  std::uint64_t runs = 0;
  std::uint64_t steps = 0;
  double seconds = 0;
  bool exhausted = false;            // exhaustive: the bounded space was covered
  bool nondeterminism_seen = false;  // exhaustive: a prefix did not reproduce
  reach::Counts reach;               // what the runs reached (reach.hpp), the failing run included
  std::optional<Failure<Scenario>> failure;
};

struct TableRow {
  std::uint64_t step = 0;
  std::uint64_t now_ns = 0;
  std::string actor;
  std::string op;
  std::string access;  // load, store, ...
  std::string word;
  std::string value;
  std::string read_from;  // weak memory: the store a load read, and why an older one was allowed
  std::string source;  // file:line
  std::string model;   // the model state where this row changed it
};

std::string render_table(const std::vector<TableRow>& rows);
// "producer @41 (latest)", or "producer @41 (stale: 2 stores behind; allowed: no happens-before
// from producer @57)".
std::string describe_read_from(const ReadFrom& from, const std::string& writer, const std::string& newest_writer);
std::string source_of(const Where& where);
bool stderr_is_tty() noexcept;
void draw_progress(std::uint64_t done, std::uint64_t total, double seconds, double budget_s);

template <typename A>
class Explorer {
 public:
  using Scenario = typename A::ScenarioType;
  using Generator = std::function<rc::Shrinkable<Scenario>(std::uint64_t seed)>;

  explicit Explorer(Scheduler::Options options = {}) : options_(options) {}

  // One run of scenario under strategy, checked.
  Outcome run(const Scenario& scenario, Strategy& strategy, bool trace = false) {
    Scheduler& scheduler = scheduler_for(scenario);
    scheduler.set_trace(trace);
    world_.reset(scenario, scheduler);
    Outcome out;
    out.run = scheduler.run(strategy, &A::World::body, &world_, &A::World::invariant,
                            [](void* world, const void* address) {
                              return static_cast<typename A::World*>(world)->name(address);
                            });
    switch (out.run.status) {
      case RunStatus::Completed: {
        CheckOutcome check = world_.check();
        out.kind = check.kind;
        out.message = std::move(check.message);
        out.order = std::move(check.order);
        break;
      }
      case RunStatus::Deadlock: out.kind = FailureKind::Deadlock; break;
      case RunStatus::StepBudget: out.kind = FailureKind::StepBudget; break;
      case RunStatus::InvariantBroken: out.kind = FailureKind::Invariant; break;
      case RunStatus::DataRace: out.kind = FailureKind::DataRace; break;
    }
    if (out.run.status != RunStatus::Completed) out.message = out.run.message;
    return out;
  }

  Outcome replay(const Scenario& scenario, const std::vector<std::uint8_t>& choices, bool strict, bool trace,
                 std::optional<std::size_t>* diverged = nullptr) {
    ReplayStrategy strategy(choices, strict);
    Outcome out = run(scenario, strategy, trace);
    if (diverged != nullptr) *diverged = strategy.diverged_at();
    return out;
  }

  // Explores from a fixed scenario (fixed set) or from generated ones (one per run, seeded).
  ExploreReport<Scenario> explore(const std::optional<Scenario>& fixed, const Generator& generate,
                                  const ExploreOptions& o) {
    ExploreReport<Scenario> report;
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    std::optional<ExhaustiveStrategy> exhaustive;
    std::optional<rc::Shrinkable<Scenario>> exhaustive_scenario;
    if (o.strategy == StrategyKind::Exhaustive) {
      exhaustive.emplace(o.preemption_bound);
      if (!fixed) exhaustive_scenario = generate(o.seed);
    }
    std::uint64_t steps_estimate = 64;
    for (std::uint64_t i = 0; i < o.runs; ++i) {
      if ((i & 63) == 0) {
        const double seconds = elapsed();
        if (o.time_budget_s > 0 && seconds >= o.time_budget_s) break;
        if (o.progress) draw_progress(i, o.runs, seconds, o.time_budget_s);
      }
      const std::uint64_t run_seed = derive_seed(o.seed, i);
      std::optional<rc::Shrinkable<Scenario>> shrinkable;
      if (exhaustive_scenario) {
        shrinkable = exhaustive_scenario;
      } else if (!fixed) {
        shrinkable = generate(run_seed);
      }
      const Scenario scenario = fixed ? *fixed : shrinkable->value();
      Outcome outcome;
      const std::uint64_t run_steps_estimate = steps_estimate;
      // The random walk's clock jumps (RandomStrategy::clock_one_in_for) are spread over a typical
      // run: the mean steps so far, not the maximum (one long polling run would make jumps rare in
      // every run after it).
      const std::uint64_t run_mean_steps = report.runs == 0 ? steps_estimate : report.steps / report.runs;
      if (exhaustive) {
        exhaustive->begin_run();
        outcome = run(scenario, *exhaustive);
      } else {
        auto strategy = make_strategy(o, run_seed, A::actor_count(scenario), run_steps_estimate, run_mean_steps);
        outcome = run(scenario, *strategy);
      }
      ++report.runs;
      report.steps += outcome.run.steps;
      // Before a failure's re-runs reset the world. Adapters without a tally count nothing.
      if constexpr (requires { world_.tally(report.reach); }) world_.tally(report.reach);
      steps_estimate = std::max(steps_estimate, outcome.run.steps);
      if (outcome.kind != FailureKind::None) {
        report.seconds = elapsed();  // exploration only: shrinking is not part of the rate
        report.failure =
            handle_failure(scenario, shrinkable, outcome, i, run_seed, run_steps_estimate, run_mean_steps, o);
        break;
      }
      if (exhaustive && !exhaustive->advance()) {
        report.exhausted = true;
        break;
      }
    }
    if (exhaustive) report.nondeterminism_seen = exhaustive->nondeterminism_seen();
    if (!report.failure) report.seconds = elapsed();
    if (o.progress) std::fputs("\r\033[K", stderr);
    return report;
  }

  // The interleaving table of a (shrunk) failure, from a traced strict replay.
  std::vector<TableRow> table(const Scenario& scenario, const std::vector<std::uint8_t>& choices) {
    const Outcome outcome = replay(scenario, choices, true, true);
    const auto& trace = scheduler_for(scenario).trace();
    const std::vector<std::string> states = world_.model_states(outcome.order);
    std::vector<std::string> current_op(A::actor_count(scenario));
    std::vector<TableRow> rows;
    rows.reserve(trace.size());
    for (const TraceEvent& e : trace) {
      TableRow row;
      row.step = e.step;
      row.now_ns = e.now_ns;
      if (e.kind == AccessKind::ClockJump) {
        // Not an actor's access: the clock jumped here, in the middle of whatever was in flight.
        row.actor = "clock";
        row.op = "clock jump";
        row.access = to_string(e.kind);
        row.value = "+" + std::to_string(e.value) + " ns";
        rows.push_back(std::move(row));
        continue;
      }
      // An adapter whose actors depend on the scenario (loop_adapter.hpp) names them in its world.
      if constexpr (requires { world_.actor_name(e.actor); }) {
        row.actor = world_.actor_name(e.actor);
      } else {
        row.actor = A::actor_name(e.actor);
      }
      row.access = to_string(e.kind);
      if (e.kind == AccessKind::Invoke) current_op[e.actor] = world_.describe_op(e.value);
      row.op = e.kind == AccessKind::Respond ? world_.describe_op(e.value) : current_op[e.actor];
      row.word = world_.name(e.address);
      switch (e.kind) {
        case AccessKind::Load:
        case AccessKind::Store:
        case AccessKind::Rmw:
        case AccessKind::Wait: row.value = std::to_string(e.value); break;
        case AccessKind::CopyIn:
        case AccessKind::CopyOut: row.value = std::to_string(e.value) + " B"; break;
        default: break;
      }
      if (e.from.valid) {
        auto actor_name = [&](std::uint32_t actor) -> std::string {
          if (actor >= A::actor_count(scenario)) return "initial";
          if constexpr (requires { world_.actor_name(actor); }) {
            return world_.actor_name(actor);
          } else {
            return A::actor_name(actor);
          }
        };
        row.read_from = describe_read_from(e.from, actor_name(e.from.actor), actor_name(e.from.newest_actor));
      }
      if (e.kind == AccessKind::Fence) {
        row.value = e.value == SimOs::kMembarrierValue ? "membarrier" : "seq_cst";
      }
      if (e.kind == AccessKind::Respond) row.model = states[e.value];
      if (e.kind != AccessKind::Respond && e.kind != AccessKind::Invoke) row.source = source_of(e.where);
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  Scheduler& scheduler_for(const Scenario& scenario) {
    const std::uint32_t actors = A::actor_count(scenario);
    assert(actors >= 1);
    assert(actors <= kActorsMax);
    // One scheduler per actor count, kept: generated scenarios vary their actor count, and a new
    // scheduler maps fresh guarded stacks (system calls that would dominate a run).
    std::unique_ptr<Scheduler>& scheduler = schedulers_[actors];
    if (!scheduler) scheduler = std::make_unique<Scheduler>(actors, options_);
    return *scheduler;
  }

  static std::unique_ptr<Strategy> make_strategy(const ExploreOptions& o, std::uint64_t seed,
                                                 std::uint32_t actors, std::uint64_t steps_estimate,
                                                 std::uint64_t mean_steps) {
    if (o.strategy == StrategyKind::Pct) {
      return std::make_unique<PctStrategy>(seed, actors, o.pct_depth, steps_estimate, mean_steps);
    }
    return std::make_unique<RandomStrategy>(seed, RandomStrategy::clock_one_in_for(mean_steps));
  }

  Failure<Scenario> handle_failure(const Scenario& scenario, std::optional<rc::Shrinkable<Scenario>> shrinkable,
                                   const Outcome& outcome, std::uint64_t run_index, std::uint64_t run_seed,
                                   std::uint64_t steps_estimate, std::uint64_t mean_steps, const ExploreOptions& o) {
    Failure<Scenario> f;
    f.scenario = scenario;
    f.choices = outcome.run.choices;
    f.kind = outcome.kind;
    f.message = outcome.message;
    f.run_index = run_index;
    f.run_seed = run_seed;
    f.preemptions = outcome.run.preemptions;
    f.original_scenario = scenario;
    f.original_choices = outcome.run.choices;
    // Determinism self-check: the same seed with a fresh strategy, and the recorded schedule, must
    // both reproduce the same trace.
    Outcome again;
    if (o.strategy != StrategyKind::Exhaustive) {
      auto strategy = make_strategy(o, run_seed, A::actor_count(scenario), steps_estimate, mean_steps);
      again = run(scenario, *strategy);
    } else {
      again = replay(scenario, f.choices, true, false);
    }
    std::optional<std::size_t> diverged;
    if (again.run.trace_hash == outcome.run.trace_hash && again.kind == outcome.kind) {
      again = replay(scenario, f.choices, true, false, &diverged);
    }
    if (diverged || again.run.trace_hash != outcome.run.trace_hash || again.kind != outcome.kind) {
      f.deterministic = false;
      f.determinism_note = "replaying the recorded schedule gave trace hash " + hex(again.run.trace_hash) +
                           " (" + to_string(again.kind) + "), the run gave " + hex(outcome.run.trace_hash) +
                           " (" + to_string(outcome.kind) + ")" +
                           (diverged ? ", diverging at choice " + std::to_string(*diverged) : "");
      return f;  // shrinking needs a reproducible failure
    }
    if (o.shrink) shrink(f, std::move(shrinkable), o);
    return f;
  }

  static std::string hex(std::uint64_t value) {
    char text[19];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
  }

  // Does scenario fail with kind? Tries the current schedule leniently, then fresh schedules of
  // the original strategy. On success leaves the failing schedule in choices.
  bool reproduces(const Scenario& scenario, FailureKind kind, std::vector<std::uint8_t>& choices,
                  std::uint64_t& budget, const ExploreOptions& o, std::uint64_t salt) {
    if (budget == 0) return false;
    --budget;
    Outcome outcome = replay(scenario, choices, false, false);
    if (outcome.kind == kind) {
      choices = std::move(outcome.run.choices);
      return true;
    }
    constexpr std::uint64_t kAttempts = 32;
    for (std::uint64_t k = 0; k < kAttempts && budget > 0; ++k, --budget) {
      auto strategy = make_strategy(o.strategy == StrategyKind::Exhaustive ? ExploreOptions{} : o,
                                    derive_seed(o.seed ^ salt, k), A::actor_count(scenario), 256, 256);
      Outcome fresh = run(scenario, *strategy);
      if (fresh.kind == kind) {
        choices = std::move(fresh.run.choices);
        return true;
      }
    }
    return false;
  }

  void shrink(Failure<Scenario>& f, std::optional<rc::Shrinkable<Scenario>> shrinkable, const ExploreOptions& o) {
    std::uint64_t budget = o.shrink_runs_max;
    const std::uint64_t budget_start = budget;
    std::uint64_t salt = 1;
    // Level 1a: RapidCheck's shrinks of a generated scenario (fewer ops, smaller values).
    // Bounded: every accepted shrink is strictly smaller, and the budget caps the attempts.
    while (shrinkable && budget > 0) {
      bool improved = false;
      auto candidates = shrinkable->shrinks();
      for (auto candidate = candidates.next(); candidate && budget > 0; candidate = candidates.next()) {
        std::vector<std::uint8_t> choices = f.choices;
        const Scenario value = candidate->value();
        if (reproduces(value, f.kind, choices, budget, o, ++salt)) {
          f.scenario = value;
          f.choices = std::move(choices);
          shrinkable = std::move(*candidate);
          improved = true;
          break;
        }
      }
      if (!improved) break;
    }
    // Level 1b: the adapter's own shrinks (one op less), for given scenarios and as a final pass.
    for (bool improved = true; improved && budget > 0;) {
      improved = false;
      for (const Scenario& candidate : A::shrinks(f.scenario)) {
        std::vector<std::uint8_t> choices = f.choices;
        if (reproduces(candidate, f.kind, choices, budget, o, ++salt)) {
          f.scenario = candidate;
          f.choices = std::move(choices);
          improved = true;
          break;
        }
        if (budget == 0) break;
      }
    }
    // Level 2a: the shortest prefix of the schedule (the rest non-preemptive).
    {
      std::size_t low = 0;
      std::size_t high = f.choices.size();  // high always fails
      while (low < high && budget > 0) {
        const std::size_t mid = low + (high - low) / 2;
        --budget;
        const std::vector<std::uint8_t> prefix(f.choices.begin(), f.choices.begin() + static_cast<std::ptrdiff_t>(mid));
        const Outcome outcome = replay(f.scenario, prefix, false, false);
        if (outcome.kind == f.kind) {
          high = mid;
        } else {
          low = mid + 1;
        }
      }
      std::vector<std::uint8_t> prefix(f.choices.begin(), f.choices.begin() + static_cast<std::ptrdiff_t>(high));
      Outcome outcome = replay(f.scenario, prefix, false, false);
      if (outcome.kind == f.kind) f.choices = std::move(outcome.run.choices);
    }
    // Level 2b: fewer preemptions: make one preemptive choice non-preemptive at a time, or drop
    // one clock jump (with jumps on every point is a decision, so the choices after it still
    // answer the decisions they answered).
    {
      Outcome current = replay(f.scenario, f.choices, true, false);
      for (std::size_t i = 0; i < current.run.preemptive.size() && budget > 0; ++i) {
        if (current.run.preemptive[i] == 0) continue;
        --budget;
        std::vector<std::uint8_t> candidate = current.run.choices;
        if (candidate[i] == kClockChoice) {
          candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          candidate[i] = 0xff;  // not an actor: the replay makes the non-preemptive choice here
        }
        Outcome outcome = replay(f.scenario, candidate, false, false);
        if (outcome.kind == f.kind && outcome.run.preemptions < current.run.preemptions) {
          current = std::move(outcome);
          i = static_cast<std::size_t>(-1);  // indices moved: start over (bounded by the budget)
        }
      }
      f.choices = current.run.choices;
      f.preemptions = current.run.preemptions;
      f.message = current.message;
    }
    // Level 2c (weak memory): fewer stale reads: make one stale read choice read the newest store
    // at a time, keeping it if the failure stays and needs fewer stale reads.
    {
      Outcome current = replay(f.scenario, f.choices, true, false);
      for (std::size_t i = 0; i < current.run.choices.size() && budget > 0; ++i) {
        const std::uint8_t choice = current.run.choices[i];
        if (!is_read_choice(choice) || choice == kReadChoice) continue;
        --budget;
        std::vector<std::uint8_t> candidate = current.run.choices;
        candidate[i] = kReadChoice;
        Outcome outcome = replay(f.scenario, candidate, false, false);
        if (outcome.kind == f.kind && outcome.run.stale_reads < current.run.stale_reads) {
          current = std::move(outcome);
          i = static_cast<std::size_t>(-1);  // the schedule may have changed after i: start over (bounded)
        }
      }
      f.choices = current.run.choices;
      f.preemptions = current.run.preemptions;
      f.message = current.message;
    }
    f.shrink_runs = budget_start - budget;
  }

  Scheduler::Options options_;
  std::array<std::unique_ptr<Scheduler>, kActorsMax + 1> schedulers_;
  typename A::World world_;
};

}  // namespace indexbus::sim

// The simulator's speed figures (issue 4): scheduling steps per second on one core, schedules per
// second for "Events, capacity 2, one producer with 8 writes, one consumer with 8 reads", and the
// time to check a 100k-operation history for linearizability; and schedules per second for one
// ring lane: "FanoutBroadcast, capacity 2, one producer with 8 writes, two consumers draining".
//
// Every figure is measured under both memory models in the same run, weak (the default) next to
// sc, with their ratio: issue 14's target is weak at least a quarter of sc's steps/s.
//
// Wall-clock figures are printed, never asserted: ctest runs this with --quick as a smoke test.
#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::sim;
// CPU time of this thread: the machine is shared, and "per core" is what the figures claim.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};

double seconds_since(double start) { return Clock::now() - start; }

// Raw scheduling: one long run, no history check.
struct Rate {
  double steps_per_s = 0;
  double schedules_per_s = 0;
};

void print_ratio(const char* what, const Rate& weak, const Rate& sc) {
  std::printf("  weak/sc        %s: steps/s %.2f", what, sc.steps_per_s > 0 ? weak.steps_per_s / sc.steps_per_s : 0.0);
  if (sc.schedules_per_s > 0) std::printf(", schedules/s %.2f", weak.schedules_per_s / sc.schedules_per_s);
  std::printf(" (target: steps/s >= 0.25)\n");
}

Rate steps_per_second(std::uint32_t count, bool parking, std::uint64_t seed, MemoryModel memory) {
  const events::Scenario scenario = events::writes_then_reads(OnFull::Block, 2, count, parking);
  Scheduler::Options options;
  options.steps_max = 1'000'000'000;
  options.memory = memory;
  Scheduler scheduler(2, options);
  events::RealAdapter::World world;
  world.reset(scenario, scheduler);
  RandomStrategy strategy(seed);
  const auto start = Clock::now();
  const RunResult result = scheduler.run(strategy, &events::RealAdapter::World::body, &world,
                                         &events::RealAdapter::World::invariant);
  const double seconds = seconds_since(start);
  std::printf("steps/s        %-4s random walk, Block cap 2, %u writes + %u reads, %s: %llu steps in %.3f s = %.2fM steps/s (%s)\n",
              to_string(memory), count, count, parking ? "park" : "poll", static_cast<unsigned long long>(result.steps),
              seconds, static_cast<double>(result.steps) / seconds / 1e6, to_string(result.status));
  // The same history checked: 2 * count operations.
  const auto check_start = Clock::now();
  const CheckOutcome check = world.check();
  const double check_seconds = seconds_since(check_start);
  std::printf("lin-check      %-4s %zu-operation history of that run: %.3f s (%s)\n", to_string(memory),
              world.history().size(), check_seconds,
              check.kind == FailureKind::None ? "linearizable" : to_string(check.kind));
  return Rate{static_cast<double>(result.steps) / seconds, 0};
}

Rate schedules_per_second(StrategyKind kind, bool parking, std::uint64_t runs, std::uint64_t seed, MemoryModel memory) {
  const events::Scenario scenario = events::writes_then_reads(OnFull::Block, 2, 8, parking);
  ExploreOptions o;
  o.strategy = kind;
  o.runs = runs;
  o.seed = seed;
  o.pct_depth = 3;
  o.scheduler.memory = memory;
  Explorer<events::RealAdapter> explorer(o.scheduler);
  const double start = Clock::now();
  auto report = explorer.explore(scenario, {}, o);
  report.seconds = seconds_since(start);
  std::printf("schedules/s    %-4s %-6s %s, \"%s\": %llu schedules (checked) in %.3f s = %.0f schedules/s, %.2fM steps/s%s\n",
              to_string(memory), to_string(kind), parking ? "park" : "poll", events::to_string(scenario).c_str(),
              static_cast<unsigned long long>(report.runs), report.seconds,
              static_cast<double>(report.runs) / report.seconds,
              static_cast<double>(report.steps) / report.seconds / 1e6, report.failure ? " FAILURE" : "");
  return Rate{static_cast<double>(report.steps) / report.seconds, static_cast<double>(report.runs) / report.seconds};
}

// A ring lane: three actors, so more choices per step than Events; each run checked against the
// fanout model. Block, writes without deadline; each consumer drains (8 entries, then Closed).
Rate ring_schedules_per_second(StrategyKind kind, bool parking, std::uint64_t runs, std::uint64_t seed,
                               MemoryModel memory) {
  const ring::Scenario scenario = ring::writes_then_drains(LaneKind::FanoutBroadcast, OnFull::Block, 2, 8, 2, parking);
  ExploreOptions o;
  o.strategy = kind;
  o.runs = runs;
  o.seed = seed;
  o.pct_depth = 3;
  o.scheduler.memory = memory;
  Explorer<ring::RealAdapter> explorer(o.scheduler);
  const double start = Clock::now();
  auto report = explorer.explore(scenario, {}, o);
  report.seconds = seconds_since(start);
  std::printf("schedules/s    %-4s %-6s %s, \"%s\": %llu schedules (checked) in %.3f s = %.0f schedules/s, %.2fM steps/s%s\n",
              to_string(memory), to_string(kind), parking ? "park" : "poll", ring::to_string(scenario).c_str(),
              static_cast<unsigned long long>(report.runs), report.seconds,
              static_cast<double>(report.runs) / report.seconds,
              static_cast<double>(report.steps) / report.seconds / 1e6, report.failure ? " FAILURE" : "");
  return Rate{static_cast<double>(report.steps) / report.seconds, static_cast<double>(report.runs) / report.seconds};
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::uint64_t seed = 20261126;
  std::printf("all rates per second of thread CPU time (one core), not wall time\n");
  std::printf("indexbus sim bench%s (seed %llu)\n", quick ? " --quick (smoke test, figures meaningless)" : "",
              static_cast<unsigned long long>(seed));
  const std::uint32_t count = quick ? 500 : 50'000;
  for (bool parking : {true, false}) {
    const Rate weak = steps_per_second(count, parking, seed, MemoryModel::Weak);
    const Rate sc = steps_per_second(count, parking, seed, MemoryModel::Sequential);
    print_ratio(parking ? "one long run, park" : "one long run, poll", weak, sc);
  }
  const std::uint64_t runs = quick ? 200 : 200'000;
  for (bool parking : {true, false}) {
    for (StrategyKind kind : {StrategyKind::Random, StrategyKind::Pct}) {
      const Rate weak = schedules_per_second(kind, parking, runs, seed, MemoryModel::Weak);
      const Rate sc = schedules_per_second(kind, parking, runs, seed, MemoryModel::Sequential);
      print_ratio("Events", weak, sc);
    }
  }
  const std::uint64_t ring_runs = quick ? 100 : 50'000;
  for (bool parking : {true, false}) {
    for (StrategyKind kind : {StrategyKind::Random, StrategyKind::Pct}) {
      const Rate weak = ring_schedules_per_second(kind, parking, ring_runs, seed, MemoryModel::Weak);
      const Rate sc = ring_schedules_per_second(kind, parking, ring_runs, seed, MemoryModel::Sequential);
      print_ratio("FanoutBroadcast", weak, sc);
    }
  }
  return 0;
}

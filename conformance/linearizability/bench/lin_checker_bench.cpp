// The linearizability checker's speed on multi-process concurrent histories (issue 15): today's
// check() next to check_baseline() (the search before issue 15) in the same run, on the same
// histories.
//
// Histories: for each lane kind the models allow, Block and Drop, one made by
// support/history_generator.hpp from the seed: every process runs its calls one after another
// with random intervals that overlap the other processes' (short calls, preempted ones, a few
// stopped for thousands of ticks), the model is stepped at a random point inside each interval,
// so the history is linearizable by construction; `--kills` consumer processes are killed
// mid-call (that call stays pending, it took effect or not) and replaced by a new process; with
// --kill-deadlines the history also says when each was killed (Operation::pending_deadline_time),
// which check_baseline ignores and check() uses to bound where the pending call may go.
// Events has its two processes (producer, consumer); FanoutBroadcast, Journal and SequencedSlots
// have four (a producer and three consumers or readers; SequencedSlots' consumer 1 is gated on
// consumer 0). Then each again with one read at 90% of the history changed to return a payload
// nobody wrote: not linearizable, and the search must rule out every order of the 90% before it.
//
// Figures: wall time and the thread's CPU time of each checker, its verdict and configurations;
// the baseline runs with a time limit (--baseline-limit-s) and reports "gave up" at it. Nothing is
// asserted about time: the exit status says only whether every verdict was right (the new checker
// decides every history correctly; the baseline never contradicts it), which is what the ctest
// smoke run (--ops 2000) checks.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "history_generator.hpp"
#include "indexbus/linearizability/baseline.hpp"
#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/linearizability/rings.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::linearizability;

struct Args {
  std::uint64_t ops = 100'000;
  std::uint64_t seed = 1;
  std::uint32_t kills = 2;
  double baseline_limit_s = 30;
  bool baseline = true;
  bool kill_deadlines = false;  // give each killed process's pending call its kill time
  std::string only;  // one history by name, for a replay
};

double cpu_now_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timed {
  CheckResult result;
  double wall_s = 0;
  double cpu_s = 0;
};

template <typename F>
Timed timed(F&& run) {
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_now_s();
  Timed out{run(), 0, 0};
  out.cpu_s = cpu_now_s() - cpu_start;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Linearizable: return "linearizable";
    case Verdict::NotLinearizable: return "NOT lin.";
    case Verdict::Unknown: return "unknown";
  }
  return "?";
}

struct Totals {
  std::uint32_t wrong = 0;
  double new_wall_max_s = 0;  // over the linearizable histories
  double new_bad_wall_max_s = 0;
  double new_cpu_max_s = 0;  // the target's measure: one core's time, whatever else the machine runs
  double new_bad_cpu_max_s = 0;
};

// One row: the history `name`, expected verdict `expected`.
template <typename M>
void run_one(const std::string& name, const typename M::State& initial,
             const std::vector<Operation<typename M::Op, typename M::Result>>& history, std::uint32_t actors,
             std::uint64_t pending, Verdict expected, const Args& args, Totals& totals) {
  const Timed fresh = timed([&] { return check<M>(initial, history); });
  std::optional<Timed> base;
  if (args.baseline) {
    Options limited;
    limited.configurations_max = std::numeric_limits<std::uint64_t>::max();
    limited.time_limit_ns = static_cast<std::uint64_t>(args.baseline_limit_s * 1e9);
    base = timed([&] { return check_baseline<M>(initial, history, limited); });
  }
  const bool fresh_right = fresh.result.verdict == expected;
  const bool base_right = !base || base->result.verdict == expected || base->result.verdict == Verdict::Unknown;
  if (!fresh_right || !base_right) ++totals.wrong;
  if (expected == Verdict::Linearizable) {
    totals.new_wall_max_s = std::max(totals.new_wall_max_s, fresh.wall_s);
    totals.new_cpu_max_s = std::max(totals.new_cpu_max_s, fresh.cpu_s);
  } else {
    totals.new_bad_wall_max_s = std::max(totals.new_bad_wall_max_s, fresh.wall_s);
    totals.new_bad_cpu_max_s = std::max(totals.new_bad_cpu_max_s, fresh.cpu_s);
  }

  std::printf("%-18s %7zu %6u %7" PRIu64 " | %-12s %7.3f %7.3f %9" PRIu64 " %4u |", name.c_str(), history.size(), actors,
              pending, verdict_name(fresh.result.verdict), fresh.wall_s, fresh.cpu_s, fresh.result.configurations,
              fresh.result.projections);
  if (base) {
    if (base->result.verdict == Verdict::Unknown) {
      char gave_up[32];
      std::snprintf(gave_up, sizeof gave_up, "gave up %.0fs", base->wall_s);
      std::printf(" %-12s %7.3f %7.3f %9" PRIu64 " | >%6.1f", gave_up, base->wall_s, base->cpu_s,
                  base->result.configurations, fresh.wall_s > 0 ? base->wall_s / fresh.wall_s : 0.0);
    } else {
      std::printf(" %-12s %7.3f %7.3f %9" PRIu64 " | %7.1f", verdict_name(base->result.verdict), base->wall_s, base->cpu_s,
                  base->result.configurations, fresh.wall_s > 0 ? base->wall_s / fresh.wall_s : 0.0);
    }
  } else {
    std::printf(" %-12s %7s %7s %9s | %7s", "(skipped)", "", "", "", "");
  }
  std::printf("%s\n", fresh_right && base_right ? "" : "  WRONG VERDICT");
  std::fflush(stdout);
}

// Both histories of one lane kind and policy: as generated, and with one read broken.
template <typename M>
void run_lane(const generate::Workload<M>& workload, std::uint64_t index, const Args& args, Totals& totals) {
  std::string name = workload.name;
  for (char& c : name) c = c == ' ' ? '-' : c;
  if (!args.only.empty() && args.only != name && args.only != name + "-bad") return;
  const std::uint64_t seed = detail::mix(args.seed, index);
  generate::Params params;
  params.ops = args.ops;
  params.kills = args.kills;
  params.seed = seed;
  params.kill_deadlines = args.kill_deadlines;
  generate::Generated<M> made = generate::generate(workload, params);
  if (args.only.empty() || args.only == name) {
    run_one<M>(name, workload.initial, made.history, made.actors, made.pending, Verdict::Linearizable, args, totals);
  }
  if (args.only.empty() || args.only == name + "-bad") {
    if (generate::corrupt_an_entry(made.history, made.history.size() * 9 / 10)) {
      run_one<M>(name + "-bad", workload.initial, made.history, made.actors, made.pending, Verdict::NotLinearizable, args,
                 totals);
    }
  }
}

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--ops" && has_value) {
      args.ops = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--seed" && has_value) {
      args.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--kills" && has_value) {
      args.kills = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (flag == "--baseline-limit-s" && has_value) {
      args.baseline_limit_s = std::strtod(argv[++i], nullptr);
    } else if (flag == "--no-baseline") {
      args.baseline = false;
    } else if (flag == "--kill-deadlines") {
      args.kill_deadlines = true;
    } else if (flag == "--only" && has_value) {
      args.only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: lin_checker_bench [--ops N] [--seed S] [--kills K] [--kill-deadlines] [--baseline-limit-s X] "
                   "[--no-baseline] [--only HISTORY]\n");
      return false;
    }
  }
  return args.ops >= 16;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) return 2;
  std::printf("lin_checker_bench: seed %" PRIu64 ", %" PRIu64 " operations per history, %u consumer processes killed%s\n",
              args.seed, args.ops, args.kills, args.kill_deadlines ? " (kill times known)" : "");
  std::printf("replay: lin_checker_bench --ops %" PRIu64 " --seed %" PRIu64 " --kills %u%s [--only HISTORY]\n", args.ops,
              args.seed, args.kills, args.kill_deadlines ? " --kill-deadlines" : "");
  std::printf("lanes: capacity 4, 16-byte slots; Events 1+1 processes, the others 1+3 (SequencedSlots: consumer 1 gated "
              "on 0); -bad: one read at 90%% returns a payload nobody wrote\n");
  std::printf("times in s (wall, then this thread's CPU); proj: projections searched; ratio: baseline wall / new wall\n\n");
  std::printf("%-18s %7s %6s %7s | %-12s %7s %7s %9s %4s | %-12s %7s %7s %9s | %7s\n", "history", "ops", "actors",
              "pending", "new", "wall", "cpu", "configs", "proj", "baseline", "wall", "cpu", "configs", "ratio");
  Totals totals;
  std::uint64_t index = 0;
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    run_lane(generate::events_workload(spec::EventsConfig{4, 16, on_full}), index++, args, totals);
    run_lane(generate::fanout_workload(spec::FanoutConfig{4, 16, on_full, 3}), index++, args, totals);
    run_lane(generate::journal_workload(spec::JournalConfig{4, 16, on_full, 3, 0}), index++, args, totals);
    run_lane(generate::sequenced_workload(spec::SequencedConfig{4, 16, on_full, {0, 1, 0}}), index++, args, totals);
  }
  std::printf("\nnew checker (target: at most 1 s of one core's CPU), slowest linearizable history: %.3f s CPU (%.3f s "
              "wall); slowest rejection: %.3f s CPU (%.3f s wall)\n",
              totals.new_cpu_max_s, totals.new_wall_max_s, totals.new_bad_cpu_max_s, totals.new_bad_wall_max_s);
  if (totals.wrong != 0) {
    std::printf("%u WRONG VERDICT(S)\n", totals.wrong);
    return 1;
  }
  std::printf("every verdict right\n");
  return 0;
}

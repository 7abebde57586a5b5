#include "indexbus/sim/command.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/explorer.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/loop_adapter.hpp"
#include "indexbus/sim/plants.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace indexbus::sim {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitEnvironment = 3;

// What the command needs of a lane kind's scenarios, beyond its adapter.
struct EventsLane {
  using Adapter = events::RealAdapter;
  using Scenario = events::Scenario;
  static std::string to_string(const Scenario& s) { return events::to_string(s); }
  static std::optional<Scenario> parse(const std::string& text, std::string* error) {
    return events::parse_scenario(text, error);
  }
  static std::optional<Scenario> from_json(const nlohmann::json& in, std::string* error) {
    return events::scenario_from_json(in, error);
  }
  static void to_json(nlohmann::json& out, const Scenario& s) { events::to_json(out, s); }
  static std::size_t ops(const Scenario& s) { return s.producer.size() + s.consumer.size(); }
  static bool matches(const std::string&, const Scenario&) { return true; }
};

struct RingLane {
  using Adapter = ring::RealAdapter;
  using Scenario = ring::Scenario;
  static std::string to_string(const Scenario& s) { return ring::to_string(s); }
  static std::optional<Scenario> parse(const std::string& text, std::string* error) {
    return ring::parse_scenario(text, error);
  }
  static std::optional<Scenario> from_json(const nlohmann::json& in, std::string* error) {
    return ring::scenario_from_json(in, error);
  }
  static void to_json(nlohmann::json& out, const Scenario& s) { ring::to_json(out, s); }
  static std::size_t ops(const Scenario& s) {
    std::size_t n = s.producer.size();
    for (const auto& r : s.readers) n += r.size();
    return n;
  }
  static bool matches(const std::string& lane, const Scenario& s) { return lane == indexbus::to_string(s.kind); }
};

struct LoopLane {
  using Adapter = loops::RealAdapter;
  using Scenario = loops::Scenario;
  static std::string to_string(const Scenario& s) { return loops::to_string(s); }
  static std::optional<Scenario> parse(const std::string& text, std::string* error) {
    return loops::parse_scenario(text, error);
  }
  static std::optional<Scenario> from_json(const nlohmann::json& in, std::string* error) {
    return loops::scenario_from_json(in, error);
  }
  static void to_json(nlohmann::json& out, const Scenario& s) { loops::to_json(out, s); }
  static std::size_t ops(const Scenario& s) {
    std::size_t n = 0;
    for (const auto& ops : s.producers) n += ops.size();
    return n;
  }
  static bool matches(const std::string& lane, const Scenario& s) { return lane == loops::to_string(s.kind); }
};

std::optional<double> parse_duration_s(const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || value < 0) return std::nullopt;
  const std::string unit(end, text.data() + text.size());
  if (unit == "s" || unit.empty()) return value;
  if (unit == "ms") return value / 1000;
  if (unit == "m") return value * 60;
  if (unit == "h") return value * 3600;
  return std::nullopt;
}

// --memory, --barrier and --plant into options. A plant names the barrier its bug lives in; an
// explicit --barrier that contradicts it is a usage error, none takes the plant's.
bool configure_memory(const std::string& memory, const std::string& barrier, const std::string& lane,
                      const std::string& plant_name, Scheduler::Options& options, const char* verb) {
  const auto model = parse_memory_model(memory);
  if (!model) {
    std::fprintf(stderr, "%s: --memory '%s': expected weak or sc\n", verb, memory.c_str());
    return false;
  }
  options.memory = *model;
  const Plant* plant = nullptr;
  if (!plant_name.empty()) {
    plant = find_plant(plant_name);
    if (plant == nullptr) {
      std::fprintf(stderr, "%s: --plant '%s': expected %s (indexbus sim plants describes them)\n", verb,
                   plant_name.c_str(), plant_names().c_str());
      return false;
    }
    if (!applies_to(*plant, lane)) {
      const std::string fitting = plant_names(lane);
      std::fprintf(stderr, "%s: --plant '%s' does not apply to --lane %s: expected %s\n", verb, plant_name.c_str(),
                   lane.c_str(), fitting.empty() ? "no --plant" : fitting.c_str());
      return false;
    }
  }
  options.plant = plant;
  const auto kind = barrier.empty() ? std::optional<Barrier>(Barrier::Membarrier) : parse_barrier(barrier);
  if (!kind) {
    std::fprintf(stderr, "%s: --barrier '%s': expected membarrier or seq_cst\n", verb, barrier.c_str());
    return false;
  }
  options.barrier = *kind;
  if (plant != nullptr && plant->barrier) {
    if (!barrier.empty() && *kind != *plant->barrier) {
      std::fprintf(stderr, "%s: --barrier '%s': --plant %s lives in the %s barrier; expected --barrier %s or none\n",
                   verb, barrier.c_str(), plant_name.c_str(), to_string(*plant->barrier),
                   to_string(*plant->barrier));
      return false;
    }
    options.barrier = *plant->barrier;
  }
  return true;
}

std::string memory_flags(const Scheduler::Options& options) {
  // Always named: a replay line must replay whatever the default becomes.
  std::string out = " --memory " + std::string(to_string(options.memory));
  if (options.barrier != Barrier::Membarrier) out += " --barrier " + std::string(to_string(options.barrier));
  if (options.plant != nullptr) out += " --plant " + std::string(options.plant->name);
  return out;
}

// A --on-full or --waiting that contradicts the plant's conditions (generated scenarios take them).
bool plant_conditions(const Plant* plant, const std::string& on_full, const std::string& waiting) {
  if (plant == nullptr) return true;
  if (plant->on_full && !on_full.empty() && on_full != to_string(*plant->on_full)) {
    const std::string needed(to_string(*plant->on_full));
    std::fprintf(stderr, "indexbus sim run: --on-full '%s': --plant %s matters only under %s; expected %s or none\n",
                 on_full.c_str(), std::string(plant->name).c_str(), needed.c_str(), needed.c_str());
    return false;
  }
  const char* parking = plant->parking ? (*plant->parking ? "park" : "poll") : nullptr;
  if (parking != nullptr && !waiting.empty() && waiting != parking) {
    std::fprintf(stderr, "indexbus sim run: --waiting '%s': --plant %s matters only with %s; expected %s or none\n",
                 waiting.c_str(), std::string(plant->name).c_str(), parking, parking);
    return false;
  }
  return true;
}

// Shell-safe: scenario strings use only [a-zA-Z0-9,;:=@], quoted anyway for the ';'.
template <typename L>
std::string replay_command(const std::string& lane, const typename L::Scenario& scenario,
                           const std::vector<std::uint8_t>& choices, std::uint64_t seed,
                           const Scheduler::Options& options) {
  return "indexbus sim replay --lane " + lane + " --scenario '" + L::to_string(scenario) + "' --schedule '" +
         encode_schedule(choices) + "' --seed " + std::to_string(seed) + memory_flags(options);
}

nlohmann::json rows_json(const std::vector<TableRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const TableRow& r : rows) {
    out.push_back({{"step", r.step}, {"ns", r.now_ns}, {"actor", r.actor}, {"operation", r.op},
                   {"access", r.access}, {"word", r.word}, {"value", r.value}, {"read_from", r.read_from},
                   {"source", r.source},
                   {"model", r.model}});
  }
  return out;
}

bool write_json(const std::string& path, const nlohmann::json& document) {
  std::ofstream file(path);
  if (!file) {
    std::fprintf(stderr, "indexbus sim: cannot write %s\n", path.c_str());
    return false;
  }
  file << document.dump(2) << '\n';
  return static_cast<bool>(file);
}

// The scenario of --scenario or --scenario-file; nullopt and *exit_code on error; nullopt and 0 if none.
template <typename L>
std::optional<typename L::Scenario> read_scenario(const std::string& text, const std::string& file, int* exit_code) {
  *exit_code = kExitOk;
  std::string error;
  if (!text.empty()) {
    auto scenario = L::parse(text, &error);
    if (!scenario) {
      std::fprintf(stderr, "indexbus sim: --scenario: %s\n", error.c_str());
      *exit_code = kExitUsage;
    }
    return scenario;
  }
  if (file.empty()) return std::nullopt;
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "indexbus sim: cannot read %s\n", file.c_str());
    *exit_code = kExitEnvironment;
    return std::nullopt;
  }
  try {
    const auto document = nlohmann::json::parse(in);
    auto scenario = L::from_json(document.contains("scenario") ? document["scenario"] : document, &error);
    if (!scenario) {
      std::fprintf(stderr, "indexbus sim: %s: %s\n", file.c_str(), error.c_str());
      *exit_code = kExitUsage;
    }
    return scenario;
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "indexbus sim: %s: %s\n", file.c_str(), e.what());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
}

template <typename L>
std::optional<typename L::Scenario> given_scenario(const std::string& lane, const std::string& text,
                                                   const std::string& file, int* exit_code) {
  auto scenario = read_scenario<L>(text, file, exit_code);
  if (scenario && !L::matches(lane, *scenario)) {
    std::fprintf(stderr, "indexbus sim: the scenario is not of lane kind '%s' (--lane)\n", lane.c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return scenario;
}

template <typename L, typename Generate>
int explore_lane(const RunArgs& args, const ExploreOptions& options, const Generate& generate, RunSummary* summary,
                 bool quiet) {
  std::FILE* out = quiet ? nullptr : stdout;
  auto say = [out](const char* format, auto... values) {
    if (out != nullptr) std::fprintf(out, format, values...);
  };
  int exit_code = kExitOk;
  const auto fixed = given_scenario<L>(args.lane, args.scenario, args.scenario_file, &exit_code);
  if (exit_code != kExitOk) return exit_code;

  say("indexbus sim run: lane %s, memory %s, strategy %s", args.lane.c_str(),
              to_string(options.scheduler.memory), to_string(options.strategy));
  if (options.scheduler.plant != nullptr) {
    say(", plant %s (barrier %s)", std::string(options.scheduler.plant->name).c_str(),
        to_string(options.scheduler.barrier));
  }
  if (options.strategy == StrategyKind::Pct) say(" depth %u", options.pct_depth);
  if (options.strategy == StrategyKind::Exhaustive) say(" preemption bound %u", options.preemption_bound);
  say(", seed %llu, %s\n", static_cast<unsigned long long>(options.seed),
              fixed ? ("scenario " + L::to_string(*fixed)).c_str() : "generated scenarios");
  if (out != nullptr) std::fflush(out);

  Explorer<typename L::Adapter> explorer(options.scheduler);
  const auto report = explorer.explore(fixed, generate, options);

  const double seconds = report.seconds > 0 ? report.seconds : 1e-9;
  say("%llu schedules, %llu steps in %.2f s: %.0f schedules/s, %.2fM steps/s\n",
              static_cast<unsigned long long>(report.runs), static_cast<unsigned long long>(report.steps),
              report.seconds, static_cast<double>(report.runs) / seconds,
              static_cast<double>(report.steps) / seconds / 1e6);
  if (options.strategy == StrategyKind::Exhaustive) {
    say(report.exhausted ? "bounded space exhausted: every schedule with at most %u preemptions (clock jumps included) was run\n"
                                 : "bounded space (at most %u preemptions, clock jumps included) NOT exhausted within the budget\n",
                options.preemption_bound);
    if (report.nondeterminism_seen) say("warning: a schedule prefix did not reproduce (nondeterminism)\n");
  }
  // What the runs reached of the lane's catalogue (reach.hpp), and what they never did.
  say("%s", reach::describe(args.lane, report.reach).c_str());
  if (summary != nullptr) {
    summary->runs = report.runs;
    summary->steps = report.steps;
    summary->seconds = report.seconds;
    summary->seed = options.seed;
    summary->failed = report.failure.has_value();
  }
  if (!report.failure) {
    say("no failure found\n");
    if (!args.json_path.empty()) {
      const nlohmann::json document{{"seed", options.seed},
                                    {"strategy", to_string(options.strategy)},
                                    {"runs", report.runs},
                                    {"steps", report.steps},
                                    {"seconds", report.seconds},
                                    {"failure", nullptr},
                                    {"reach", reach::to_json(args.lane, report.reach)}};
      if (!write_json(args.json_path, document)) return kExitEnvironment;
    }
    return kExitOk;
  }
  const auto& f = *report.failure;
  if (summary != nullptr) {
    summary->failure_kind = to_string(f.kind);
    summary->message = f.message;
    summary->replay = replay_command<L>(args.lane, f.original_scenario, f.original_choices, options.seed, options.scheduler);
    if (f.deterministic) summary->replay_shrunk = replay_command<L>(args.lane, f.scenario, f.choices, options.seed, options.scheduler);
  }
  say("FAILURE (run %llu, run seed %llu): %s: %s\n", static_cast<unsigned long long>(f.run_index),
              static_cast<unsigned long long>(f.run_seed), to_string(f.kind), f.message.c_str());
  say("replay: %s\n", replay_command<L>(args.lane, f.original_scenario, f.original_choices, options.seed, options.scheduler).c_str());
  if (!f.deterministic) {
    say("determinism self-check FAILED: %s\n", f.determinism_note.c_str());
  } else {
    say("determinism self-check: the same seed and the replayed schedule both gave the identical trace\n");
  }
  std::vector<TableRow> rows;
  if (f.deterministic) {
    say("shrunk (%llu runs): %zu ops, %zu choices, %u preemptions (clock jumps, 't', included)\n",
                static_cast<unsigned long long>(f.shrink_runs), L::ops(f.scenario),
                f.choices.size(), f.preemptions);
    say("replay shrunk: %s\n", replay_command<L>(args.lane, f.scenario, f.choices, options.seed, options.scheduler).c_str());
    rows = explorer.table(f.scenario, f.choices);
    say("%s", render_table(rows).c_str());
  }
  if (!args.json_path.empty()) {
    nlohmann::json document{{"seed", options.seed},
                            {"strategy", to_string(options.strategy)},
                            {"runs", report.runs},
                            {"steps", report.steps},
                            {"seconds", report.seconds},
                            {"failure", {{"kind", to_string(f.kind)}, {"message", f.message}}},
                            {"deterministic", f.deterministic},
                            {"replay", replay_command<L>(args.lane, f.original_scenario, f.original_choices, options.seed, options.scheduler)},
                            {"replay_shrunk", replay_command<L>(args.lane, f.scenario, f.choices, options.seed, options.scheduler)},
                            {"schedule", encode_schedule(f.choices)},
                            {"rows", rows_json(rows)},
                            {"reach", reach::to_json(args.lane, report.reach)}};
    L::to_json(document["scenario"], f.scenario);
    if (options.scheduler.plant != nullptr) document["plant"] = std::string(options.scheduler.plant->name);
    if (!write_json(args.json_path, document)) return kExitEnvironment;
  }
  return kExitFailure;
}

template <typename L>
int replay_lane(const ReplayArgs& args) {
  int exit_code = kExitOk;
  const auto scenario = given_scenario<L>(args.lane, args.scenario, args.scenario_file, &exit_code);
  if (exit_code != kExitOk) return exit_code;
  if (!scenario) {
    std::fprintf(stderr, "indexbus sim replay: --scenario or --scenario-file is required\n");
    return kExitUsage;
  }
  const auto choices = decode_schedule(args.schedule);
  if (!choices) {
    std::fprintf(stderr, "indexbus sim replay: --schedule is not a schedule string (letters a-h with counts)\n");
    return kExitUsage;
  }
  Scheduler::Options options;
  options.steps_max = args.steps_max;
  if (!configure_memory(args.memory, args.barrier, args.lane, args.plant, options, "indexbus sim replay")) {
    return kExitUsage;
  }
  Explorer<typename L::Adapter> explorer(options);
  std::optional<std::size_t> diverged;
  const Outcome first = explorer.replay(*scenario, *choices, true, false, &diverged);
  const Outcome second = explorer.replay(*scenario, *choices, true, false);
  std::printf("indexbus sim replay: scenario %s, %zu choices, %llu steps, trace hash %016llx\n",
              L::to_string(*scenario).c_str(), choices->size(), static_cast<unsigned long long>(first.run.steps),
              static_cast<unsigned long long>(first.run.trace_hash));
  if (options.plant != nullptr) {
    std::printf("planted (test only): %s, barrier %s: %s\n", std::string(options.plant->name).c_str(),
                to_string(options.barrier), std::string(options.plant->description).c_str());
  }
  if (diverged) std::printf("warning: the schedule does not fit this scenario from choice %zu on\n", *diverged);
  if (first.run.trace_hash != second.run.trace_hash) {
    std::printf("determinism self-check FAILED: a second replay gave trace hash %016llx\n",
                static_cast<unsigned long long>(second.run.trace_hash));
  }
  std::vector<TableRow> rows;
  if (!args.quiet) {
    rows = explorer.table(*scenario, *choices);
    std::printf("%s", render_table(rows).c_str());
  }
  if (first.kind == FailureKind::None) {
    std::printf("no failure: the run passed every check\n");
  } else {
    std::printf("FAILURE: %s: %s\n", to_string(first.kind), first.message.c_str());
  }
  if (!args.json_path.empty()) {
    nlohmann::json document{{"seed", args.seed},
                            {"schedule", encode_schedule(*choices)},
                            {"trace_hash", first.run.trace_hash},
                            {"failure", {{"kind", to_string(first.kind)}, {"message", first.message}}},
                            {"rows", rows_json(rows)}};
    L::to_json(document["scenario"], *scenario);
    if (options.plant != nullptr) document["plant"] = std::string(options.plant->name);
    if (!write_json(args.json_path, document)) return kExitEnvironment;
  }
  return first.kind == FailureKind::None ? kExitOk : kExitFailure;
}

}  // namespace

int sim_plants() {
  std::printf("%s", describe_catalog().c_str());
  return kExitOk;
}

int sim_run(const RunArgs& args, RunSummary* summary, bool quiet) {
  if (args.plant == "list") return sim_plants();
  const bool events_lane = args.lane == "events";
  const auto ring_kind = ring::parse_ring_kind(args.lane);
  const auto loop_kind = loops::parse_loop_kind(args.lane);
  if (!events_lane && !ring_kind && !loop_kind) {
    std::fprintf(stderr,
                 "indexbus sim run: --lane '%s': expected events, journal, sequenced_slots, fanout_broadcast, router "
                 "or merge\n",
                 args.lane.c_str());
    return kExitUsage;
  }
  std::optional<std::uint8_t> loop_policy;
  if (!args.policy.empty()) {
    if (loop_kind) loop_policy = loops::parse_policy(*loop_kind, args.policy);
    if (!loop_policy) {
      std::fprintf(stderr, "indexbus sim run: --policy '%s': expected %s\n", args.policy.c_str(),
                   !loop_kind                          ? "no --policy unless --lane is router or merge"
                   : *loop_kind == loops::LoopKind::Router ? "round_robin, key_hash or broadcast"
                                                       : "round_robin, sequence or arrival");
      return kExitUsage;
    }
  }
  const auto strategy = parse_strategy(args.strategy);
  if (!strategy) {
    std::fprintf(stderr, "indexbus sim run: --strategy must be random, pct or exhaustive\n");
    return kExitUsage;
  }
  ExploreOptions options;
  options.strategy = *strategy;
  options.pct_depth = args.depth;
  options.preemption_bound = args.preemption_bound;
  options.runs = args.runs;
  options.shrink = args.shrink;
  options.progress = !quiet && stderr_is_tty();
  options.scheduler.steps_max = args.steps_max;
  if (!configure_memory(args.memory, args.barrier, args.lane, args.plant, options.scheduler, "indexbus sim run")) {
    return kExitUsage;
  }
  const Plant* plant = options.scheduler.plant;
  if (!plant_conditions(plant, args.on_full, args.waiting)) return kExitUsage;
  if (args.depth < 1 || args.depth > 16) {
    std::fprintf(stderr, "indexbus sim run: --depth must be in [1, 16]\n");
    return kExitUsage;
  }
  if (!args.time_budget.empty()) {
    const auto budget = parse_duration_s(args.time_budget);
    if (!budget) {
      std::fprintf(stderr, "indexbus sim run: --time-budget takes a duration such as 60s, 500ms or 2m\n");
      return kExitUsage;
    }
    options.time_budget_s = *budget;
  }
  options.seed = args.seed;
  if (!args.seed_given) options.seed = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  events::GenParams params;
  ring::GenParams ring_params;
  params.ops_max = args.ops_max;
  params.blocking_reads_only = args.blocking_reads_only;
  params.capacity_slots = args.capacity_slots;
  if (args.capacity_slots && (!is_power_of_two(*args.capacity_slots) || *args.capacity_slots > 64)) {
    std::fprintf(stderr, "indexbus sim run: --capacity must be a power of two in [1, 64]\n");
    return kExitUsage;
  }
  if (args.on_full == "block") params.on_full = OnFull::Block;
  else if (args.on_full == "drop") params.on_full = OnFull::Drop;
  else if (!args.on_full.empty()) {
    std::fprintf(stderr, "indexbus sim run: --on-full must be block or drop\n");
    return kExitUsage;
  }
  if (args.waiting == "park") params.parking = true;
  else if (args.waiting == "poll") params.parking = false;
  else if (!args.waiting.empty()) {
    std::fprintf(stderr, "indexbus sim run: --waiting must be park or poll\n");
    return kExitUsage;
  }
  // Generated scenarios of a planted run take the plant's conditions (checked above not to
  // contradict the options).
  if (plant != nullptr && plant->on_full) params.on_full = plant->on_full;
  if (plant != nullptr && plant->parking) params.parking = plant->parking;
  ring_params.kind = ring_kind.value_or(LaneKind::FanoutBroadcast);
  ring_params.on_full = params.on_full;
  ring_params.parking = params.parking;
  ring_params.capacity_slots = params.capacity_slots;
  ring_params.ops_max = params.ops_max;
  ring_params.blocking_reads_only = params.blocking_reads_only;
  if (loop_kind) {
    loops::GenParams loop_params;
    loop_params.kind = *loop_kind;
    loop_params.policy = loop_policy;
    loop_params.on_full = params.on_full;
    loop_params.parking = params.parking;
    loop_params.capacity_slots = params.capacity_slots;
    loop_params.ops_max = params.ops_max;
    return explore_lane<LoopLane>(
        args, options, [loop_params](std::uint64_t seed) { return loops::generate(seed, loop_params); }, summary, quiet);
  }
  if (events_lane) {
    return explore_lane<EventsLane>(
        args, options, [params](std::uint64_t seed) { return events::generate(seed, params); }, summary, quiet);
  }
  return explore_lane<RingLane>(
      args, options, [ring_params](std::uint64_t seed) { return ring::generate(seed, ring_params); }, summary, quiet);
}

int sim_replay(const ReplayArgs& args) {
  if (args.lane == "events") return replay_lane<EventsLane>(args);
  if (ring::parse_ring_kind(args.lane)) return replay_lane<RingLane>(args);
  if (loops::parse_loop_kind(args.lane)) return replay_lane<LoopLane>(args);
  std::fprintf(stderr,
               "indexbus sim replay: --lane '%s': expected events, journal, sequenced_slots, fanout_broadcast, router "
               "or merge\n",
               args.lane.c_str());
  return kExitUsage;
}

}  // namespace indexbus::sim

#include "loop_cmd.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "exit_codes.hpp"
#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/router.hpp"
#include "indexbus/topology/topology.hpp"
#ifdef INDEXBUS_LOOP_DEFECTS
#include "broken_loop_hooks.hpp"
#endif

namespace indexbus::cli {

#ifdef INDEXBUS_LOOP_DEFECTS
std::string g_loop_defect;
#endif

namespace {

// Set by SIGINT/SIGTERM: the loop stops at its next check and releases its roles; the lanes stay
// open, so a restarted process carries on where this one stopped.
std::atomic<bool> g_stop{false};
void request_stop(int) { g_stop.store(true, std::memory_order_relaxed); }

struct LoopArgs {
  std::string topology_file;
  std::string name;
  double seconds = 0;  // 0: until closed or stopped
};

// The lanes a loop touches, each region mapped once, and the roles it claimed (released on exit).
class LoopLanes {
 public:
  LoopLanes(const topology::Topology& topology, const RealPlatform& platform, std::string who)
      : topology_(topology), platform_(platform), who_(std::move(who)) {}
  ~LoopLanes() {
    for (std::uint32_t* pid : claimed_) release_role(platform_, *pid);
  }
  LoopLanes(const LoopLanes&) = delete;
  LoopLanes& operator=(const LoopLanes&) = delete;

  // The Events lane at ref, with the role claimed (consumer: the loop reads it; else producer).
  // nullopt after printing why (error_exit_ says which exit code).
  std::optional<EventsLaneRef> attach(const topology::LaneRef& ref, bool consumer) {
    const topology::RegionDef& region_def = topology_.regions.at(ref.region_index);
    auto found = regions_.find(ref.region_index);
    if (found == regions_.end()) {
      auto opened = Region::open(region_def.path());
      if (!opened.ok()) {
        std::fprintf(stderr, "%s: cannot open region %s for lane %s: %s (create it first: indexbus create --topology)\n",
                     who_.c_str(), region_def.path().c_str(), ref.text.c_str(), opened.error().message.c_str());
        error_exit_ = kExitEnvironment;
        return std::nullopt;
      }
      found = regions_.emplace(ref.region_index, std::make_unique<Region>(std::move(*opened))).first;
    }
    Region& region = *found->second;
    const topology::LaneDef& lane_def = topology_.lane(ref);
    const LaneDescriptor& lane = region.lane(ref.lane_index);
    if (lane.kind != static_cast<std::uint32_t>(LaneKind::Events)) {
      std::fprintf(stderr, "%s: lane %s is %s; routers and merges connect events lanes (RT-1, MG-1)\n", who_.c_str(),
                   ref.text.c_str(), topology::lane_kind_name(static_cast<LaneKind>(lane.kind)).c_str());
      error_exit_ = kExitUsage;
      return std::nullopt;
    }
    if (lane.capacity_slots != lane_def.spec.capacity_slots || lane.slot_payload_bytes != lane_def.spec.slot_payload_bytes) {
      std::fprintf(stderr, "%s: lane %s in %s has %u slots x %u B, the topology says %u x %u (run indexbus doctor)\n",
                   who_.c_str(), ref.text.c_str(), region_def.path().c_str(), lane.capacity_slots, lane.slot_payload_bytes,
                   lane_def.spec.capacity_slots, lane_def.spec.slot_payload_bytes);
      error_exit_ = kExitConformance;
      return std::nullopt;
    }
    const EventsLaneRef events = events_lane_ref(region.lane_block(ref.lane_index), lane);
    std::uint32_t& pid = consumer ? events.header->consumer_pid : events.header->producer_pid;
    if (!claim_role(platform_, pid)) {
      std::fprintf(stderr, "%s: the %s of lane %s is held by live pid %u (EV-1)\n", who_.c_str(),
                   consumer ? "consumer" : "producer", ref.text.c_str(), platform_.load(pid, std::memory_order_acquire));
      error_exit_ = kExitEnvironment;
      return std::nullopt;
    }
    claimed_.push_back(&pid);
    return events;
  }
  int error_exit() const { return error_exit_; }

 private:
  const topology::Topology& topology_;
  const RealPlatform& platform_;
  std::string who_;
  std::map<std::uint32_t, std::unique_ptr<Region>> regions_;
  std::vector<std::uint32_t*> claimed_;
  int error_exit_ = kExitEnvironment;
};

std::optional<topology::Topology> load(const std::string& file, const char* verb) {
  auto parsed = topology::parse_topology_file(file);
  if (!parsed.ok()) {
    std::fprintf(stderr, "indexbus %s: %s\n", verb, parsed.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*parsed);
}

std::uint64_t deadline_of(const RealPlatform& platform, double seconds) {
  if (seconds <= 0) return std::numeric_limits<std::uint64_t>::max();
  return platform.now_ns() + static_cast<std::uint64_t>(seconds * 1e9);
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

const char* end_text(RunEnd end) {
  switch (end) {
    case RunEnd::Closed: return "closed";
    case RunEnd::Stopped: return "stopped by a signal";
    case RunEnd::DeadlinePassed: return "--seconds passed";
  }
  return "?";
}

// The loops run with DefaultLoopHooks; only the test-only build (indexbus-loop-broken) can pick a
// broken policy, by the name given to its --defect.
template <typename Hooks>
RouterStats route_with(const RealPlatform& platform, const EventsLaneRef& input, const std::vector<EventsLaneRef>& outputs,
                       RouterPolicy policy, std::uint32_t key_offset_bytes, std::uint64_t deadline_ns, RunEnd& end) {
  Router<RealPlatform, Hooks> router(platform, input, outputs, policy, key_offset_bytes);
  end = router.run(deadline_ns, &g_stop);
  return router.stats();
}

RouterStats route_until_done(const RealPlatform& platform, const EventsLaneRef& input,
                             const std::vector<EventsLaneRef>& outputs, RouterPolicy policy, std::uint32_t key_offset_bytes,
                             std::uint64_t deadline_ns, RunEnd& end) {
#ifdef INDEXBUS_LOOP_DEFECTS
  namespace broken = testing;
  if (g_loop_defect == "round-robin-skips-an-output") {
    return route_with<broken::RoundRobinSkipsAnOutput>(platform, input, outputs, policy, key_offset_bytes, deadline_ns, end);
  }
  if (g_loop_defect == "router-discards-on-full") {
    return route_with<broken::RouterDiscardsOnFull>(platform, input, outputs, policy, key_offset_bytes, deadline_ns, end);
  }
  if (g_loop_defect == "never-closes") {
    return route_with<broken::RouterNeverCloses>(platform, input, outputs, policy, key_offset_bytes, deadline_ns, end);
  }
#endif
  return route_with<DefaultLoopHooks>(platform, input, outputs, policy, key_offset_bytes, deadline_ns, end);
}

template <typename Hooks>
MergeStats merge_with(const RealPlatform& platform, const std::vector<EventsLaneRef>& inputs, const EventsLaneRef& output,
                      MergePolicy policy, std::uint32_t key_offset_bytes, std::uint64_t deadline_ns, RunEnd& end) {
  Merge<RealPlatform, Hooks> merge(platform, inputs, output, policy, key_offset_bytes);
  end = merge.run(deadline_ns, &g_stop);
  return merge.stats();
}

MergeStats merge_until_done(const RealPlatform& platform, const std::vector<EventsLaneRef>& inputs,
                            const EventsLaneRef& output, MergePolicy policy, std::uint32_t key_offset_bytes,
                            std::uint64_t deadline_ns, RunEnd& end) {
#ifdef INDEXBUS_LOOP_DEFECTS
  namespace broken = testing;
  if (g_loop_defect == "never-closes") {
    return merge_with<broken::RouterNeverCloses>(platform, inputs, output, policy, key_offset_bytes, deadline_ns, end);
  }
  if (g_loop_defect == "sequence-emits-early") {
    return merge_with<broken::SequenceEmitsEarly>(platform, inputs, output, policy, key_offset_bytes, deadline_ns, end);
  }
  if (g_loop_defect == "arrival-favours-input-zero") {
    return merge_with<broken::ArrivalFavoursInputZero>(platform, inputs, output, policy, key_offset_bytes, deadline_ns, end);
  }
#endif
  return merge_with<DefaultLoopHooks>(platform, inputs, output, policy, key_offset_bytes, deadline_ns, end);
}

int run_route(const LoopArgs& args) {
  const auto topology = load(args.topology_file, "route");
  if (!topology) return kExitUsage;
  const topology::RouterDef* def = nullptr;
  for (const auto& router : topology->routers) def = router.name == args.name ? &router : def;
  if (def == nullptr) {
    std::fprintf(stderr, "indexbus route: %s has no router named '%s'\n", args.topology_file.c_str(), args.name.c_str());
    return kExitUsage;
  }
  const std::string who = "indexbus route " + def->name + " (" + def->where.str() + ")";
  RealPlatform platform(WaitStrategy::Backoff);
  LoopLanes lanes(*topology, platform, who);
  const auto input = lanes.attach(def->input, true);
  if (!input) return lanes.error_exit();
  std::vector<EventsLaneRef> outputs;
  for (const auto& ref : def->outputs) {
    const auto output = lanes.attach(ref, false);
    if (!output) return lanes.error_exit();
    outputs.push_back(*output);
  }
  if (auto why = check_router_lanes(*input, outputs, def->key_offset_bytes)) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), why->c_str());
    return kExitUsage;
  }
  const RouterPolicy policy = def->policy == topology::RouterPolicy::RoundRobin ? RouterPolicy::RoundRobin
                              : def->policy == topology::RouterPolicy::KeyHash  ? RouterPolicy::KeyHash
                                                                                 : RouterPolicy::Broadcast;
  install_stop_handlers();
  std::printf("%s: %s -> %zu output(s), %s\n", who.c_str(), def->input.text.c_str(), outputs.size(),
              topology::to_string(def->policy).c_str());
  std::fflush(stdout);
  RunEnd end = RunEnd::Stopped;
  const RouterStats stats =
      route_until_done(platform, *input, outputs, policy, def->key_offset_bytes, deadline_of(platform, args.seconds), end);
  std::printf("%s: %s; routed %llu, input lost %llu, short keys %llu\n", who.c_str(), end_text(end),
              static_cast<unsigned long long>(stats.routed_count), static_cast<unsigned long long>(stats.input_lost_count),
              static_cast<unsigned long long>(stats.short_key_count));
  return kExitOk;
}

int run_merge(const LoopArgs& args) {
  const auto topology = load(args.topology_file, "merge");
  if (!topology) return kExitUsage;
  const topology::MergeDef* def = nullptr;
  for (const auto& merge : topology->merges) def = merge.name == args.name ? &merge : def;
  if (def == nullptr) {
    std::fprintf(stderr, "indexbus merge: %s has no merge named '%s'\n", args.topology_file.c_str(), args.name.c_str());
    return kExitUsage;
  }
  const std::string who = "indexbus merge " + def->name + " (" + def->where.str() + ")";
  RealPlatform platform(WaitStrategy::Backoff);
  LoopLanes lanes(*topology, platform, who);
  std::vector<EventsLaneRef> inputs;
  for (const auto& ref : def->inputs) {
    const auto input = lanes.attach(ref, true);
    if (!input) return lanes.error_exit();
    inputs.push_back(*input);
  }
  const auto output = lanes.attach(def->output, false);
  if (!output) return lanes.error_exit();
  if (auto why = check_merge_lanes(inputs, *output, def->key_offset_bytes)) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), why->c_str());
    return kExitUsage;
  }
  const MergePolicy policy = def->policy == topology::MergePolicy::RoundRobin ? MergePolicy::RoundRobin
                             : def->policy == topology::MergePolicy::Sequence ? MergePolicy::Sequence
                                                                               : MergePolicy::Arrival;
  install_stop_handlers();
  std::printf("%s: %zu input(s) -> %s, %s\n", who.c_str(), inputs.size(), def->output.text.c_str(),
              topology::to_string(def->policy).c_str());
  std::fflush(stdout);
  RunEnd end = RunEnd::Stopped;
  const MergeStats stats =
      merge_until_done(platform, inputs, *output, policy, def->key_offset_bytes, deadline_of(platform, args.seconds), end);
  std::printf("%s: %s; emitted %llu, input lost %llu\n", who.c_str(), end_text(end),
              static_cast<unsigned long long>(stats.emitted_count), static_cast<unsigned long long>(stats.input_lost_count));
  return kExitOk;
}

void add_options(CLI::App* sub, LoopArgs& args, const char* what) {
  sub->add_option("--topology", args.topology_file, "Topology file (TOML, spec/topology.md)")->required();
  sub->add_option("--name", args.name, std::string("Name of the ") + what + " in the topology")->required();
  sub->add_option("--seconds", args.seconds, "Stop after this long (default: run until closed or SIGINT/SIGTERM)")
      ->check(CLI::Range(0.0, 1e9));
}

}  // namespace

std::vector<Command> register_loops(CLI::App& app) {
  auto route_args = std::make_shared<LoopArgs>();
  auto merge_args = std::make_shared<LoopArgs>();
  CLI::App* route = app.add_subcommand(
      "route", "Run a router of a topology file until its input closes (then its outputs close), or SIGINT/SIGTERM");
  CLI::App* merge = app.add_subcommand(
      "merge", "Run a merge of a topology file until all its inputs close (then its output closes), or SIGINT/SIGTERM");
  add_options(route, *route_args, "router");
  add_options(merge, *merge_args, "merge");
  return {Command{route, [route_args] { return run_route(*route_args); }},
          Command{merge, [merge_args] { return run_merge(*merge_args); }}};
}

}  // namespace indexbus::cli

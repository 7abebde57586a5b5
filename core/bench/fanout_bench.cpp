// fanout_bench: 1 -> N broadcast throughput of the FanoutBroadcast lane, per consumer, for
// N = 1, 2, 4, next to the Events lane (1 -> 1) measured in the same run with the same settings.
//
// Method. Every trial forks fresh processes: one producer and N consumers (the parent only
// supervises, with a deadline). All of them meet at a start gate in shared memory; the producer
// stamps the start and writes `entries` entries (Block, so nothing is lost) and closes; each
// consumer stamps the moment it reads Closed. A consumer's throughput is entries / (its end -
// start); the row shows the median over trials of the mean per-consumer figure, and of the
// slowest consumer's. Consumers are not pinned: with N + 1 processes on a small machine, the
// wait strategy (default Backoff: pause, yield, then sleep) decides how well they share the CPUs,
// and the figures mean most next to the Events row of the same run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "bench_harness.hpp"
#include "indexbus/events.hpp"
#include "indexbus/fanout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"

namespace indexbus::bench {
namespace {

constexpr std::uint32_t kConsumersMax = 4;
constexpr std::uint64_t kOpDeadlineNs = 30'000'000'000ull;  // one write or read; a hang fails

struct Options {
  std::uint64_t entries = 2'000'000;
  std::uint32_t trials = 3;
  std::uint32_t capacity_slots = 1024;
  std::uint32_t payload_bytes = 32;
  std::string strategy = "backoff";
  bool quick = false;
};

// Lives in a shared anonymous mapping that every forked process inherits.
struct TrialShared {
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint64_t> start_ns{0};
  std::array<std::atomic<std::uint64_t>, kConsumersMax> end_ns{};
  std::array<std::atomic<std::uint64_t>, kConsumersMax> delivered{};
};

// Every process of a trial arrives here; nobody starts before all have (bounded).
bool arrive_and_wait(TrialShared& shared, std::uint32_t parties) {
  shared.arrived.fetch_add(1, std::memory_order_acq_rel);
  const std::uint64_t deadline = now_ns() + 30'000'000'000ull;
  while (shared.arrived.load(std::memory_order_acquire) < parties) {
    if (now_ns() > deadline) return false;
    ::sched_yield();
  }
  return true;
}

WaitStrategy parse_strategy(const std::string& name) {
  if (name == "spin") return WaitStrategy::Spin;
  if (name == "park") return WaitStrategy::Park;
  if (name == "backoff") return WaitStrategy::Backoff;
  throw BenchError("--strategy must be spin, backoff or park, not " + name);
}

// Forks one process per body and waits for all of them until timeout_ns; a body returns "" on
// success. A failure, a death or a timeout kills every child and throws, naming the culprit.
void run_processes(const std::vector<std::function<std::string()>>& bodies, std::uint64_t timeout_ns) {
  std::vector<pid_t> pids;
  auto kill_all = [&] {
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, nullptr, 0);
    }
  };
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      kill_all();
      throw BenchError("fork failed");
    }
    if (pid == 0) {
      const std::string error = bodies[i]();
      if (!error.empty()) std::fprintf(stderr, "process %zu: %s\n", i, error.c_str());
      std::fflush(stderr);
      _exit(error.empty() ? 0 : 1);
    }
    pids.push_back(pid);
  }
  const std::uint64_t deadline = now_ns() + timeout_ns;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    pid_t done = 0;
    while ((done = ::waitpid(pids[i], &status, WNOHANG)) == 0 && now_ns() < deadline) ::usleep(1000);
    if (done == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      const std::string why = done == 0 ? "did not finish in time" : "failed";
      pids.erase(pids.begin(), pids.begin() + static_cast<std::ptrdiff_t>(done == 0 ? i : i + 1));
      kill_all();
      throw BenchError("process " + std::to_string(i) + " " + why);
    }
  }
}

// A region file for one trial, removed when the trial ends (and on fatal signals, by the harness).
class TrialRegion {
 public:
  explicit TrialRegion(const LaneSpec& spec) : path_(new_bench_region_path()) {
    register_region_path(path_);
    auto created = Region::create(path_, std::span(&spec, 1));
    if (!created.ok()) throw BenchError("region: " + created.error().message);
    region_.emplace(std::move(created).value());
  }
  ~TrialRegion() {
    region_.reset();
    (void)Region::remove(path_);
    unregister_region_path();
  }
  TrialRegion(const TrialRegion&) = delete;
  TrialRegion& operator=(const TrialRegion&) = delete;
  Region& region() { return *region_; }

 private:
  std::string path_;
  std::optional<Region> region_;
};

struct TrialFigures {
  double mean_per_consumer_mps = 0;     // million entries per second
  double slowest_per_consumer_mps = 0;
};

TrialFigures figures_of(const TrialShared& shared, std::uint32_t consumers, std::uint64_t entries) {
  TrialFigures f;
  f.slowest_per_consumer_mps = 1e300;
  const std::uint64_t start = shared.start_ns.load();
  for (std::uint32_t i = 0; i < consumers; ++i) {
    if (shared.delivered[i].load() != entries) throw BenchError("a consumer missed entries under Block");
    const double seconds = static_cast<double>(shared.end_ns[i].load() - start) / 1e9;
    const double mps = static_cast<double>(entries) / seconds / 1e6;
    f.mean_per_consumer_mps += mps / consumers;
    f.slowest_per_consumer_mps = std::min(f.slowest_per_consumer_mps, mps);
  }
  return f;
}

std::vector<std::byte> payload_of(std::uint32_t bytes) { return std::vector<std::byte>(bytes, std::byte{0x5a}); }

TrialFigures run_fanout_trial(const Options& o, WaitStrategy strategy, std::uint32_t consumers) {
  SharedMemory memory(sizeof(TrialShared));
  auto* shared = new (memory.data()) TrialShared{};
  TrialRegion trial(LaneSpec{LaneKind::FanoutBroadcast, OnFull::Block, o.capacity_slots, o.payload_bytes, consumers});
  const RingLaneRef lane = ring_lane_ref(trial.region().lane_block(0), trial.region().lane(0));
  const std::uint32_t parties = consumers + 1;
  std::vector<std::function<std::string()>> bodies;
  bodies.push_back([&]() -> std::string {
    RealPlatform platform(strategy);
    FanoutProducer<RealPlatform> producer(platform, lane);
    const auto payload = payload_of(o.payload_bytes);
    if (!arrive_and_wait(*shared, parties)) return "start gate timed out";
    shared->start_ns.store(now_ns());
    for (std::uint64_t i = 0; i < o.entries; ++i) {
      if (producer.write(payload, platform.now_ns() + kOpDeadlineNs) != WriteStatus::Ok) return "write failed";
    }
    producer.close();
    return "";
  });
  for (std::uint32_t c = 0; c < consumers; ++c) {
    bodies.push_back([&, c]() -> std::string {
      RealPlatform platform(strategy);
      FanoutConsumer<RealPlatform> consumer(platform, lane, c);
      std::vector<std::byte> out(o.payload_bytes);
      if (!arrive_and_wait(*shared, parties)) return "start gate timed out";
      std::uint64_t delivered = 0;
      for (std::uint64_t rounds = 0; rounds <= o.entries; ++rounds) {
        const ReadResult r = consumer.read(out, platform.now_ns() + kOpDeadlineNs);
        if (r.status == ReadStatus::Closed) break;
        if (r.status != ReadStatus::Entry) return "read returned " + std::string(to_string(r.status));
        ++delivered;
      }
      shared->end_ns[c].store(now_ns());
      shared->delivered[c].store(delivered);
      return "";
    });
  }
  run_processes(bodies, 600'000'000'000ull);
  return figures_of(*shared, consumers, o.entries);
}

TrialFigures run_events_trial(const Options& o, WaitStrategy strategy) {
  SharedMemory memory(sizeof(TrialShared));
  auto* shared = new (memory.data()) TrialShared{};
  TrialRegion trial(LaneSpec{LaneKind::Events, OnFull::Block, o.capacity_slots, o.payload_bytes, 1});
  const EventsLaneRef lane = events_lane_ref(trial.region().lane_block(0), trial.region().lane(0));
  std::vector<std::function<std::string()>> bodies;
  bodies.push_back([&]() -> std::string {
    RealPlatform platform(strategy);
    EventsProducer<RealPlatform> producer(platform, lane);
    const auto payload = payload_of(o.payload_bytes);
    if (!arrive_and_wait(*shared, 2)) return "start gate timed out";
    shared->start_ns.store(now_ns());
    for (std::uint64_t i = 0; i < o.entries; ++i) {
      if (producer.write(payload, platform.now_ns() + kOpDeadlineNs) != WriteStatus::Ok) return "write failed";
    }
    producer.close();
    return "";
  });
  bodies.push_back([&]() -> std::string {
    RealPlatform platform(strategy);
    EventsConsumer<RealPlatform> consumer(platform, lane);
    std::vector<std::byte> out(o.payload_bytes);
    if (!arrive_and_wait(*shared, 2)) return "start gate timed out";
    std::uint64_t delivered = 0;
    for (std::uint64_t rounds = 0; rounds <= o.entries; ++rounds) {
      const ReadResult r = consumer.read(out, platform.now_ns() + kOpDeadlineNs);
      if (r.status == ReadStatus::Closed) break;
      if (r.status != ReadStatus::Entry) return "read returned " + std::string(to_string(r.status));
      ++delivered;
    }
    shared->end_ns[0].store(now_ns());
    shared->delivered[0].store(delivered);
    return "";
  });
  run_processes(bodies, 600'000'000'000ull);
  return figures_of(*shared, 1, o.entries);
}

void print_row(const char* lane, std::uint32_t consumers, const std::vector<TrialFigures>& trials) {
  std::vector<double> mean, slowest;
  for (const TrialFigures& t : trials) {
    mean.push_back(t.mean_per_consumer_mps);
    slowest.push_back(t.slowest_per_consumer_mps);
  }
  const double m = median_of(mean);
  std::printf("%-16s %9u %22.2f %22.2f %20.2f\n", lane, consumers, m, median_of(slowest), m * consumers);
}

int run(const Options& o) {
  const WaitStrategy strategy = parse_strategy(o.strategy);
  std::printf("fanout_bench: 1 -> N broadcast, Block, %s, %u B payload, capacity %u, %llu entries, %u trials "
              "(median), %ld CPUs online\n",
              o.strategy.c_str(), o.payload_bytes, o.capacity_slots, static_cast<unsigned long long>(o.entries),
              o.trials, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-16s %9s %22s %22s %20s\n", "lane", "consumers", "per consumer Mentry/s", "slowest Mentry/s",
              "delivered Mentry/s");
  std::vector<TrialFigures> events;
  for (std::uint32_t t = 0; t < o.trials; ++t) events.push_back(run_events_trial(o, strategy));
  print_row("events 1->1", 1, events);
  for (std::uint32_t n : {1u, 2u, 4u}) {
    std::vector<TrialFigures> fanout;
    for (std::uint32_t t = 0; t < o.trials; ++t) fanout.push_back(run_fanout_trial(o, strategy, n));
    const std::string name = "fanout 1->" + std::to_string(n);
    print_row(name.c_str(), n, fanout);
  }
  return 0;
}

}  // namespace
}  // namespace indexbus::bench

int main(int argc, char** argv) {
  using namespace indexbus::bench;
  Options options;
  CLI::App app{"fanout_bench: FanoutBroadcast 1 -> N throughput per consumer, next to Events 1 -> 1"};
  app.add_option("--entries", options.entries, "entries per trial (default 2M)");
  app.add_option("--trials", options.trials, "trials per row (default 3; the median is shown)");
  app.add_option("--capacity", options.capacity_slots, "slots per lane (power of two)");
  app.add_option("--payload", options.payload_bytes, "payload bytes (multiple of 8)");
  app.add_option("--strategy", options.strategy, "wait strategy: spin, backoff (default) or park");
  app.add_flag("--quick", options.quick, "a tiny run for the smoke test (figures meaningless)");
  CLI11_PARSE(app, argc, argv);
  if (options.quick) {
    options.entries = 2000;
    options.trials = 1;
  }
  try {
    install_cleanup_handlers();
    remove_stale_bench_regions();
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fanout_bench: %s\n", e.what());
    return 1;
  }
}

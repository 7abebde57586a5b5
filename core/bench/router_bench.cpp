// router_bench: throughput through a router and through a merge, next to a direct Events lane
// measured in the same run with the same settings; the ratio to the direct row is what counts.
//
// Rows (every process forked fresh per trial; the parent only supervises, with a deadline):
//   direct          producer -> consumer                                  (one Events lane)
//   router 1->1     producer -> router (RoundRobin) -> consumer           (the forwarding cost)
//   router 1->2     producer -> router (RoundRobin) -> 2 consumers
//   router bcast 2  producer -> router (Broadcast)  -> 2 consumers        (each gets every entry)
//   merge 2->1 arr  2 producers -> merge (Arrival)  -> consumer
//   merge 2->1 seq  2 producers -> merge (Sequence) -> consumer
// All lanes Block, so nothing is lost. Everyone meets at a start gate; the first producer stamps
// the start, each consumer stamps the moment it reads Closed. Throughput = entries delivered to
// consumers / (last end - start), in million entries per second; the row shows the median over
// trials. Processes are not pinned and the wait strategy (default Backoff) decides how they share
// the CPUs: with more processes than cores, figures mean most next to the direct row.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_harness.hpp"
#include "indexbus/events.hpp"
#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/router.hpp"

namespace indexbus::bench {
namespace {

constexpr std::uint64_t kTrialTimeoutNs = 120'000'000'000ull;
constexpr std::uint32_t kProcessesMax = 8;

struct Options {
  std::uint64_t entries = 2'000'000;  // per producer
  std::uint32_t trials = 3;
  std::uint32_t capacity_slots = 1024;
  std::uint32_t payload_bytes = 32;
  std::string strategy = "backoff";
  bool quick = false;
};

enum class Shape { Direct, Router, Merge };

struct Row {
  const char* name;
  Shape shape;
  std::uint32_t producers;
  std::uint32_t consumers;
  RouterPolicy router_policy = RouterPolicy::RoundRobin;
  MergePolicy merge_policy = MergePolicy::Arrival;
};

struct TrialShared {
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint64_t> start_ns{0};
  std::array<std::atomic<std::uint64_t>, kProcessesMax> end_ns{};
  std::array<std::atomic<std::uint64_t>, kProcessesMax> delivered{};
};

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

// Forks one process per body; any failure, death or timeout kills all and throws.
void run_processes(const std::vector<std::function<std::string()>>& bodies, std::uint64_t timeout_ns) {
  std::vector<pid_t> pids;
  const auto kill_all = [&] {
    for (const pid_t pid : pids) {
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, nullptr, 0);
    }
  };
  for (const auto& body : bodies) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      kill_all();
      throw BenchError("fork failed");
    }
    if (pid == 0) {
      const std::string error = body();
      if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
      std::fflush(stderr);
      _exit(error.empty() ? 0 : 1);
    }
    pids.push_back(pid);
  }
  const std::uint64_t deadline = now_ns() + timeout_ns;
  std::vector<bool> done(pids.size(), false);
  std::size_t finished = 0;
  while (finished < pids.size()) {
    if (now_ns() > deadline) {
      kill_all();
      throw BenchError("a process did not finish in time");
    }
    for (std::size_t i = 0; i < pids.size(); ++i) {
      if (done[i]) continue;
      int status = 0;
      if (::waitpid(pids[i], &status, WNOHANG) != pids[i]) continue;
      done[i] = true;
      ++finished;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        kill_all();
        throw BenchError("process " + std::to_string(i) + " failed");
      }
    }
    ::usleep(1000);
  }
}

// Lanes of one trial: producers' lanes first, then the loop's other side(s).
double run_trial(const Row& row, const Options& options, TrialShared& shared) {
  const LaneSpec lane{LaneKind::Events, OnFull::Block, options.capacity_slots, options.payload_bytes, 1};
  std::uint32_t lane_count = 1;
  if (row.shape == Shape::Router) lane_count = 1 + row.consumers;
  if (row.shape == Shape::Merge) lane_count = row.producers + 1;
  const std::vector<LaneSpec> lanes(lane_count, lane);
  const std::string path = new_bench_region_path();
  register_region_path(path);
  auto created = Region::create(path, lanes);
  if (!created.ok()) throw BenchError("region: " + created.error().message);
  std::optional<Region> region(std::move(created).value());
  new (&shared) TrialShared{};

  const WaitStrategy strategy = parse_strategy(options.strategy);
  const std::uint32_t parties = row.producers + row.consumers + (row.shape == Shape::Direct ? 0 : 1);
  const auto ref = [&](std::uint32_t i) { return events_lane_ref(region->lane_block(i), region->lane(i)); };
  std::vector<std::function<std::string()>> bodies;
  for (std::uint32_t p = 0; p < row.producers; ++p) {
    bodies.emplace_back([&, p] {
      RealPlatform platform(strategy);
      EventsProducer producer(platform, ref(p));
      std::vector<std::byte> payload(options.payload_bytes);
      if (!arrive_and_wait(shared, parties)) return std::string("start gate timed out");
      if (p == 0) shared.start_ns.store(now_ns());
      const std::uint64_t deadline = now_ns() + kTrialTimeoutNs;
      for (std::uint64_t k = 0; k < options.entries; ++k) {
        std::memcpy(payload.data(), &k, 8);  // the key: sorted, for the Sequence merge
        if (producer.write(payload, deadline) != WriteStatus::Ok) return std::string("producer write failed");
      }
      producer.close();
      return std::string();
    });
  }
  if (row.shape != Shape::Direct) {
    bodies.emplace_back([&] {
      RealPlatform platform(strategy);
      const std::uint64_t deadline = now_ns() + kTrialTimeoutNs;
      if (row.shape == Shape::Router) {
        std::vector<EventsLaneRef> outputs;
        for (std::uint32_t c = 0; c < row.consumers; ++c) outputs.push_back(ref(1 + c));
        Router router(platform, ref(0), outputs, row.router_policy);
        if (!arrive_and_wait(shared, parties)) return std::string("start gate timed out");
        return router.run(deadline) == RunEnd::Closed ? std::string() : std::string("router did not close");
      }
      std::vector<EventsLaneRef> inputs;
      for (std::uint32_t p = 0; p < row.producers; ++p) inputs.push_back(ref(p));
      Merge merge(platform, inputs, ref(row.producers), row.merge_policy);
      if (!arrive_and_wait(shared, parties)) return std::string("start gate timed out");
      return merge.run(deadline) == RunEnd::Closed ? std::string() : std::string("merge did not close");
    });
  }
  for (std::uint32_t c = 0; c < row.consumers; ++c) {
    const std::uint32_t lane_index = row.shape == Shape::Router ? 1 + c : row.shape == Shape::Merge ? row.producers : 0;
    bodies.emplace_back([&, c, lane_index] {
      RealPlatform platform(strategy);
      EventsConsumer consumer(platform, ref(lane_index));
      std::vector<std::byte> out(options.payload_bytes);
      if (!arrive_and_wait(shared, parties)) return std::string("start gate timed out");
      const std::uint64_t deadline = now_ns() + kTrialTimeoutNs;
      std::uint64_t delivered = 0;
      for (;;) {
        const ReadResult r = consumer.read(out, deadline);
        if (r.status == ReadStatus::Closed) break;
        if (r.status != ReadStatus::Entry) return std::string("consumer read ") + std::string(to_string(r.status));
        ++delivered;
      }
      shared.end_ns[c].store(now_ns());
      shared.delivered[c].store(delivered);
      return std::string();
    });
  }
  run_processes(bodies, kTrialTimeoutNs + 10'000'000'000ull);
  region.reset();
  (void)Region::remove(path);
  unregister_region_path();

  std::uint64_t delivered = 0, end = 0;
  for (std::uint32_t c = 0; c < row.consumers; ++c) {
    delivered += shared.delivered[c].load();
    end = std::max(end, shared.end_ns[c].load());
  }
  std::uint64_t expected = options.entries * row.producers;
  if (row.shape == Shape::Router && row.router_policy == RouterPolicy::Broadcast) expected *= row.consumers;
  if (delivered != expected) {
    throw BenchError(std::string(row.name) + ": delivered " + std::to_string(delivered) + ", expected " +
                     std::to_string(expected));
  }
  const double seconds = static_cast<double>(end - shared.start_ns.load()) / 1e9;
  return static_cast<double>(delivered) / seconds / 1e6;
}

int run(const Options& options) {
  install_cleanup_handlers();
  remove_stale_bench_regions();
  auto* shared = static_cast<TrialShared*>(
      ::mmap(nullptr, sizeof(TrialShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (shared == MAP_FAILED) throw BenchError("mmap failed");
  const std::vector<Row> rows = {
      {"direct 1->1", Shape::Direct, 1, 1},
      {"router rr 1->1", Shape::Router, 1, 1, RouterPolicy::RoundRobin},
      {"router rr 1->2", Shape::Router, 1, 2, RouterPolicy::RoundRobin},
      {"router bcast 1->2", Shape::Router, 1, 2, RouterPolicy::Broadcast},
      {"merge arrival 2->1", Shape::Merge, 2, 1, RouterPolicy::RoundRobin, MergePolicy::Arrival},
      {"merge sequence 2->1", Shape::Merge, 2, 1, RouterPolicy::RoundRobin, MergePolicy::Sequence},
  };
  std::printf("router_bench: entries/producer=%llu trials=%u capacity=%u payload=%u B strategy=%s cpus=%ld\n",
              static_cast<unsigned long long>(options.entries), options.trials, options.capacity_slots,
              options.payload_bytes, options.strategy.c_str(), ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-22s %14s %10s\n", "row", "M entries/s", "vs direct");
  double direct = 0;
  for (const Row& row : rows) {
    std::vector<double> figures;
    for (std::uint32_t t = 0; t < options.trials; ++t) figures.push_back(run_trial(row, options, *shared));
    const double median = median_of(figures);
    if (row.shape == Shape::Direct) direct = median;
    std::printf("%-22s %14.2f %9.2fx\n", row.name, median, direct > 0 ? median / direct : 0.0);
    std::fflush(stdout);
  }
  ::munmap(shared, sizeof(TrialShared));
  return 0;
}

}  // namespace
}  // namespace indexbus::bench

int main(int argc, char** argv) {
  indexbus::bench::Options options;
  CLI::App app{"Throughput through a router and a merge, next to a direct Events lane"};
  app.add_option("--entries", options.entries, "entries per producer")->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--trials", options.trials, "trials per row (median shown)")->check(CLI::Range(1u, 100u));
  app.add_option("--capacity", options.capacity_slots, "slots per lane (power of two)");
  app.add_option("--payload", options.payload_bytes, "payload bytes (multiple of 8, at least 8)");
  app.add_option("--strategy", options.strategy, "spin, backoff or park");
  app.add_flag("--quick", options.quick, "a tiny run that only checks the bench works (ctest)");
  CLI11_PARSE(app, argc, argv);
  if (options.quick) {
    options.entries = 5'000;
    options.trials = 1;
  }
  try {
    return indexbus::bench::run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "router_bench: %s\n", e.what());
    return 1;
  }
}

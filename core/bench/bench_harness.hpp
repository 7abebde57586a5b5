// The two-process harness of events_bench: clocks, shared memory inherited across fork, CPU
// pinning, a start gate, a deadline-bounded runner for two child processes, cleanup of region
// files on exit and on fatal signals, and latency statistics.
//
// Everything that waits here has a deadline: a child that dies or hangs fails the run with a
// message naming it, and the other child is killed, so a broken lane can never wedge the bench.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace indexbus::bench {

// Any failure of the harness or of a child; main() prints it and exits 1 after cleanup.
class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// CLOCK_MONOTONIC: one clock for every process, so a start stamped by one child and an end
// stamped by the other can be subtracted.
inline std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// A cheap per-sample timestamp (the TSC on x86; elsewhere the monotonic clock). Converted to ns
// with a rate measured over each trial against now_ns(), so no frequency is assumed.
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return now_ns();
#endif
}

// An anonymous MAP_SHARED mapping: forked children see the parent's pages, so results and
// baseline rings live here. Same page type (shmem) as a region file on /dev/shm.
class SharedMemory {
 public:
  explicit SharedMemory(std::size_t bytes);
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  std::byte* data() const noexcept { return static_cast<std::byte*>(address_); }
  std::size_t size_bytes() const noexcept { return bytes_; }

 private:
  void* address_ = nullptr;
  std::size_t bytes_ = 0;
};

// Both sides of a trial arrive here after their setup; neither starts timing before the other
// is ready. Lives in shared memory; reset() before each trial.
struct StartGate {
  std::atomic<std::uint32_t> arrived{0};
  void reset() noexcept { arrived.store(0, std::memory_order_relaxed); }
  // false if the peer did not arrive within timeout_ns.
  bool arrive_and_wait(std::uint64_t timeout_ns) noexcept;
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "the gate is shared between processes");

// One side of a trial: runs in its own process, pinned to `cpu` when cpu >= 0. Returns an empty
// string on success, else what went wrong (reported by the parent).
struct Side {
  std::string role;
  int cpu = -1;
  std::function<std::string(StartGate&)> body;
};

// Forks one process per side, waits for both, and throws BenchError naming the side if one fails,
// dies on a signal, or has not exited by timeout_ns (then both are killed first).
void run_two_processes(const Side& a, const Side& b, std::uint64_t timeout_ns);

// CPUs to pin the two sides to: the first two of this process's affinity mask, or {-1, -1} when
// pinning is off or fewer than two CPUs are available.
std::vector<int> pick_cpus(bool pin);

// Region files of this run are registered here so that a fatal signal removes them too (the
// normal path removes them with Region::remove). One path at a time.
void install_cleanup_handlers();
void register_region_path(const std::string& path);
void unregister_region_path();
// Removes /dev/shm/indexbus-bench-<pid>-* left by a bench that was SIGKILLed (pid not alive).
void remove_stale_bench_regions();
std::string new_bench_region_path();

struct LatencyStats {
  double median_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  double mean_ns = 0;
  double min_ns = 0;
  std::uint64_t samples = 0;
};

// One-way latency statistics from round-trip tick samples: each sample is halved.
LatencyStats one_way_stats(std::vector<std::uint64_t>& round_trip_ticks, double ns_per_tick);

double median_of(std::vector<double> values);

}  // namespace indexbus::bench

#include "bench_harness.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace indexbus::bench {
namespace {

constexpr const char* kRegionDirectory = "/dev/shm";
constexpr const char* kRegionPrefix = "indexbus-bench-";
constexpr std::size_t kMessageBytes = 512;

// State the signal handler reads: plain arrays and sig_atomic_t flags only.
pid_t g_parent_pid = 0;
char g_region_path[256] = {};
volatile sig_atomic_t g_region_path_set = 0;
pid_t g_children[2] = {0, 0};
volatile sig_atomic_t g_children_set = 0;

constexpr std::array<int, 6> kFatalSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV};

void on_fatal_signal(int signal_number) {
  // Only the parent owns the region file and the children; a child just dies.
  if (::getpid() == g_parent_pid) {
    if (g_children_set != 0) {
      for (const pid_t child : g_children) {
        if (child > 0) ::kill(child, SIGKILL);
      }
    }
    if (g_region_path_set != 0) ::unlink(g_region_path);
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

struct ChildMessages {
  char text[2][kMessageBytes];
};

[[noreturn]] void run_child(const Side& side, StartGate& gate, char* message, pid_t parent) {
  // A child never outlives the parent: if the parent is killed, so is the child (checked after
  // prctl in case the parent died in between).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(3);
  for (const int s : kFatalSignals) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::string error;
  if (side.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(side.cpu, &set);
    if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
      error = "sched_setaffinity(cpu " + std::to_string(side.cpu) + "): " + std::strerror(errno);
    }
  }
  if (error.empty()) {
    try {
      error = side.body(gate);
    } catch (const std::exception& e) {
      error = std::string("exception: ") + e.what();
    }
  }
  if (!error.empty()) {
    std::snprintf(message, kMessageBytes, "%s", error.c_str());
    ::_exit(1);
  }
  // _exit: no destructors, no atexit handlers of the parent's objects in the child.
  ::_exit(0);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped";
}

bool pid_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

SharedMemory::SharedMemory(std::size_t bytes) : bytes_(bytes) {
  address_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (address_ == MAP_FAILED) {
    address_ = nullptr;
    throw BenchError("mmap(" + std::to_string(bytes) + " bytes shared): " + std::strerror(errno));
  }
}

SharedMemory::~SharedMemory() {
  if (address_ != nullptr) ::munmap(address_, bytes_);
}

bool StartGate::arrive_and_wait(std::uint64_t timeout_ns) noexcept {
  arrived.fetch_add(1, std::memory_order_acq_rel);
  const std::uint64_t deadline = now_ns() + timeout_ns;
  for (std::uint32_t spins = 0;; ++spins) {
    if (arrived.load(std::memory_order_acquire) >= 2) return true;
    cpu_relax();
    if ((spins & 1023) == 1023 && now_ns() >= deadline) return false;
  }
}

void run_two_processes(const Side& a, const Side& b, std::uint64_t timeout_ns) {
  SharedMemory shared(sizeof(StartGate) + sizeof(ChildMessages));
  auto* gate = new (shared.data()) StartGate;
  auto* messages = new (shared.data() + sizeof(StartGate)) ChildMessages{};

  // SIGCHLD is blocked so that sigtimedwait can sleep until a child exits (no polling that
  // would steal a CPU from the two spinning sides).
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &chld, &previous);

  const Side* sides[2] = {&a, &b};
  pid_t pids[2] = {0, 0};
  const pid_t parent = ::getpid();
  for (int i = 0; i < 2; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      if (i == 1) {
        ::kill(pids[0], SIGKILL);
        ::waitpid(pids[0], nullptr, 0);
      }
      ::sigprocmask(SIG_SETMASK, &previous, nullptr);
      throw BenchError(std::string("fork: ") + std::strerror(err));
    }
    if (pid == 0) run_child(*sides[i], *gate, messages->text[i], parent);
    pids[i] = pid;
  }
  g_children[0] = pids[0];
  g_children[1] = pids[1];
  g_children_set = 1;

  const std::uint64_t deadline = now_ns() + timeout_ns;
  int statuses[2] = {0, 0};
  bool exited[2] = {false, false};
  bool failed = false;
  bool timed_out = false;
  for (;;) {
    for (int i = 0; i < 2; ++i) {
      if (exited[i]) continue;
      int status = 0;
      const pid_t r = ::waitpid(pids[i], &status, WNOHANG);
      if (r == pids[i]) {
        exited[i] = true;
        statuses[i] = status;
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) failed = true;
      }
    }
    if (exited[0] && exited[1]) break;
    // One side failed: the other is probably waiting for it; no point in letting it time out.
    if (failed) break;
    const std::uint64_t now = now_ns();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    // Sleep until a child changes state, at most 100 ms so the deadline is checked.
    const std::uint64_t slice = std::min<std::uint64_t>(deadline - now, 100'000'000);
    timespec ts{static_cast<time_t>(slice / 1'000'000'000ull),
                static_cast<long>(slice % 1'000'000'000ull)};
    ::sigtimedwait(&chld, nullptr, &ts);
  }

  std::string report;
  for (int i = 0; i < 2; ++i) {
    if (exited[i]) continue;
    ::kill(pids[i], SIGKILL);
    int status = 0;
    ::waitpid(pids[i], &status, 0);  // bounded: SIGKILL cannot be caught
    if (timed_out) {
      report += sides[i]->role + " (pid " + std::to_string(pids[i]) + ") hung: no exit within " +
                std::to_string(timeout_ns / 1'000'000) + " ms, killed. ";
    } else {
      report += sides[i]->role + " killed after its peer failed. ";
    }
  }
  g_children_set = 0;
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);

  for (int i = 0; i < 2; ++i) {
    if (!exited[i]) continue;
    const int status = statuses[i];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    report += sides[i]->role + " " + describe_status(status);
    if (messages->text[i][0] != '\0') report += ": " + std::string(messages->text[i]);
    report += ". ";
  }
  if (!report.empty()) throw BenchError(report);
}

std::vector<int> pick_cpus(bool pin) {
  if (!pin) return {-1, -1};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return {-1, -1};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) return {-1, -1};
  return cpus;
}

void install_cleanup_handlers() {
  g_parent_pid = ::getpid();
  for (const int s : kFatalSignals) {
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(s, &action, nullptr);
  }
}

void register_region_path(const std::string& path) {
  g_region_path_set = 0;
  std::snprintf(g_region_path, sizeof(g_region_path), "%s", path.c_str());
  g_region_path_set = 1;
}

void unregister_region_path() { g_region_path_set = 0; }

std::string new_bench_region_path() {
  static unsigned counter = 0;
  return std::string(kRegionDirectory) + "/" + kRegionPrefix + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

void remove_stale_bench_regions() {
  DIR* dir = ::opendir(kRegionDirectory);
  if (dir == nullptr) return;
  const std::string prefix = kRegionPrefix;
  const pid_t self = ::getpid();
  // Bounded: one pass over the directory.
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    char* end = nullptr;
    const long pid = std::strtol(rest.c_str(), &end, 10);
    if (end == rest.c_str() || *end != '-' || pid <= 0) continue;
    // Our own pid cannot own a file yet (we just started), so such a file is a dead run's too.
    if (pid != self && pid_alive(static_cast<pid_t>(pid))) continue;
    const std::string path = std::string(kRegionDirectory) + "/" + name;
    if (::unlink(path.c_str()) == 0) {
      std::fprintf(stderr, "events_bench: removed stale %s\n", path.c_str());
    }
  }
  ::closedir(dir);
}

LatencyStats one_way_stats(std::vector<std::uint64_t>& round_trip_ticks, double ns_per_tick) {
  LatencyStats stats;
  if (round_trip_ticks.empty()) return stats;
  std::sort(round_trip_ticks.begin(), round_trip_ticks.end());
  const std::size_t n = round_trip_ticks.size();
  auto at = [&](double q) {
    const auto index = std::min(n - 1, static_cast<std::size_t>(std::floor(q * static_cast<double>(n))));
    return static_cast<double>(round_trip_ticks[index]) * ns_per_tick / 2.0;
  };
  double sum = 0;
  for (const std::uint64_t t : round_trip_ticks) sum += static_cast<double>(t);
  stats.median_ns = at(0.5);
  stats.p99_ns = at(0.99);
  stats.p999_ns = at(0.999);
  stats.min_ns = static_cast<double>(round_trip_ticks.front()) * ns_per_tick / 2.0;
  stats.mean_ns = sum / static_cast<double>(n) * ns_per_tick / 2.0;
  stats.samples = n;
  return stats;
}

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

}  // namespace indexbus::bench

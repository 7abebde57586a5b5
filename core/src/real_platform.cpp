#include "indexbus/real_platform.hpp"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace indexbus {
namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

constexpr std::uint32_t kBackoffSpins = 256;
constexpr std::uint32_t kBackoffYields = 64;
constexpr std::uint64_t kBackoffSleepMaxNs = 1'000'000;  // 1 ms
// A futex sleep never exceeds this slice, so even a wake lost to a process dying mid-wake costs
// at most one slice before the caller re-checks its condition.
constexpr std::uint64_t kParkSliceMaxNs = 50'000'000;  // 50 ms

void sleep_ns(std::uint64_t ns) noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
  nanosleep(&ts, nullptr);
}

#if defined(__SANITIZE_THREAD__)
#define INDEXBUS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INDEXBUS_TSAN 1
#endif
#endif

// Written at start-up and in a forked child (single-threaded then); read on every publish.
std::atomic<bool> g_asymmetric_barrier{false};

bool register_global_membarrier() noexcept {
#if defined(INDEXBUS_TSAN)
  return false;  // ThreadSanitizer cannot see membarrier's ordering: keep seq_cst everywhere.
#else
  const long supported = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (supported < 0) return false;
  const long needed = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  if ((supported & needed) != needed) return false;
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
#endif
}

void reregister_in_child() noexcept {
  g_asymmetric_barrier.store(register_global_membarrier(), std::memory_order_relaxed);
}

void register_once() noexcept {
  static const bool done = [] {
    g_asymmetric_barrier.store(register_global_membarrier(), std::memory_order_relaxed);
    pthread_atfork(nullptr, nullptr, reregister_in_child);
    return true;
  }();
  (void)done;
}

}  // namespace

RealPlatform::RealPlatform(WaitStrategy strategy) noexcept : strategy_(strategy) { register_once(); }

bool RealPlatform::asymmetric_barrier_available() noexcept {
  return g_asymmetric_barrier.load(std::memory_order_relaxed);
}

void RealPlatform::announce_waiter(std::uint32_t& flag, std::uint32_t value) const noexcept {
  if (asymmetric_barrier_available()) {
    std::atomic_ref<std::uint32_t>(flag).store(value, std::memory_order_relaxed);
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0) return;
    // Cannot fail once registration succeeded; if it does, a park slice bounds the cost.
  }
  std::atomic_ref<std::uint32_t>(flag).store(value, std::memory_order_seq_cst);
}

void RealPlatform::pause(std::uint32_t round, std::uint64_t deadline_ns) const noexcept {
  if (strategy_ == WaitStrategy::Spin || round < kBackoffSpins) {
    cpu_relax();
    return;
  }
  if (round < kBackoffSpins + kBackoffYields) {
    sched_yield();
    return;
  }
  const std::uint32_t sleeps = std::min<std::uint32_t>(round - kBackoffSpins - kBackoffYields, 10);
  const std::uint64_t now = now_ns();
  if (now >= deadline_ns) return;
  sleep_ns(std::min({std::uint64_t{1'000} << sleeps, kBackoffSleepMaxNs, deadline_ns - now}));
}

void RealPlatform::wait(std::uint32_t& word, std::uint32_t expected,
                        std::uint64_t deadline_ns) const noexcept {
  if (strategy_ != WaitStrategy::Park) {
    // The same schedule as a polling lane waiter: pause() and deadline_passed() define it once.
    for (std::uint32_t round = 0;; ++round) {
      if (load(word, std::memory_order_acquire) != expected) return;
      if (deadline_passed(deadline_ns, round)) return;
      pause(round, deadline_ns);
    }
  }
  const std::uint64_t now = now_ns();
  if (now >= deadline_ns) return;
  const std::uint64_t slice = std::min(deadline_ns - now, kParkSliceMaxNs);
  timespec timeout{static_cast<time_t>(slice / 1'000'000'000ull),
                   static_cast<long>(slice % 1'000'000'000ull)};
  // Not FUTEX_PRIVATE_FLAG: the word is shared between processes. EAGAIN (the word already
  // changed), EINTR and ETIMEDOUT all mean "re-check", which the caller does.
  syscall(SYS_futex, &word, FUTEX_WAIT, expected, &timeout, nullptr, 0);
}

void RealPlatform::wake_all(std::uint32_t& word) const noexcept {
  syscall(SYS_futex, &word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

bool RealPlatform::process_alive(std::uint32_t pid) const noexcept {
  // Linux pids are at most PID_MAX_LIMIT (2^22). Anything larger read from a region is corrupt,
  // and passed to kill() it would name a process group or, as -1, every process.
  constexpr std::uint32_t kPidMaxLimit = 1u << 22;
  if (pid == 0 || pid > kPidMaxLimit) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint32_t RealPlatform::current_pid() const noexcept {
  return static_cast<std::uint32_t>(getpid());
}

}  // namespace indexbus

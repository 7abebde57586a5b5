#include "indexbus/real_platform.hpp"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace indexbus {
namespace {

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

RealPlatform::RealPlatform(WaitStrategy strategy) noexcept : BasicRealPlatform<LinuxOs>(LinuxOs{}, strategy) {
  register_once();
}

bool RealPlatform::asymmetric_barrier_available() noexcept {
  return g_asymmetric_barrier.load(std::memory_order_relaxed);
}

bool LinuxOs::membarrier_registered() const noexcept {
  return g_asymmetric_barrier.load(std::memory_order_relaxed);
}

void LinuxOs::thread_fence(std::memory_order order, Site) const noexcept {
#if defined(INDEXBUS_TSAN)
  static std::atomic<std::uint32_t> fence_word{0};
  fence_word.fetch_add(0, order);
#else
  std::atomic_thread_fence(order);
#endif
}

bool LinuxOs::membarrier(Site) const noexcept {
  return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
}

void LinuxOs::cpu_relax(std::uint64_t, Site) const noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

void LinuxOs::yield(std::uint64_t, Site) const noexcept { sched_yield(); }

void LinuxOs::sleep_ns(std::uint64_t ns, std::uint64_t, Site) const noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
  nanosleep(&ts, nullptr);
}

void LinuxOs::futex_wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t timeout_ns,
                         std::uint64_t, Site) const noexcept {
  timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000ull),
                   static_cast<long>(timeout_ns % 1'000'000'000ull)};
  // Not FUTEX_PRIVATE_FLAG: the word is shared between processes. EAGAIN (the word already
  // changed), EINTR and ETIMEDOUT all mean "re-check", which the caller does.
  syscall(SYS_futex, &word, FUTEX_WAIT, expected, &timeout, nullptr, 0);
}

void LinuxOs::futex_wake_all(std::uint32_t& word, Site) const noexcept {
  syscall(SYS_futex, &word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

bool LinuxOs::process_alive(std::uint32_t pid) const noexcept {
  // Linux pids are at most PID_MAX_LIMIT (2^22). Anything larger read from a region is corrupt,
  // and passed to kill() it would name a process group or, as -1, every process.
  constexpr std::uint32_t kPidMaxLimit = 1u << 22;
  if (pid == 0 || pid > kPidMaxLimit) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint32_t LinuxOs::current_pid() const noexcept { return static_cast<std::uint32_t>(getpid()); }

}  // namespace indexbus

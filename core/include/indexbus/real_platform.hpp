// RealPlatform: the lanes on real shared memory. Atomics are std::atomic_ref on the mapping;
// waiting is a configurable strategy: spin, backoff (spin, then yield, then sleep) or park on a
// futex, always bounded by the caller's deadline.
//
// The platform is split in two so that the simulator can run the real thing:
//   - the OS primitives (LinuxOs below, real_platform.cpp): atomic accesses, the compiler fence,
//     membarrier(2), futex wait and wake, the clock, cpu_relax/sched_yield/nanosleep, kill(pid, 0);
//   - the composition above them (BasicRealPlatform<Os>): the asymmetric Dekker pair, the
//     backoff schedule, the park slice, the polling wait. This is where ordering bugs of the
//     waiting handshake would live, so the simulator instantiates BasicRealPlatform with its own
//     primitives (sim/include/indexbus/sim/sim_platform.hpp: every atomic a scheduling point under
//     the weak memory model, membarrier as the Linux kernel memory model defines it, futexes and
//     the clock simulated) and explores exactly this code.
//
// The Dekker pair, argued once. A waiter announces itself (announce_waiter: store the flag) and
// then re-checks the peer's cursor; the peer publishes its cursor (publish_then_load_flag: store
// the cursor) and then loads the flag. Both loads may not miss both stores (store buffering), or
// the waiter sleeps while the peer wakes nobody. Two ways to forbid that:
//   - Asymmetric (membarrier registered). The hot side makes a release store, a compiler-only
//     fence and a relaxed load: no hardware fence. The cold side stores the flag and calls
//     membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a full barrier (smp_mb) on every
//     CPU that runs a thread of a registered process, between the call's entry and its return,
//     and a full barrier in the caller on each side of that. Either that remote barrier lands in
//     the hot thread before its flag load (the flag store, ordered before it by the caller's first
//     barrier, is then visible to that load), or after the load, so after the cursor store too
//     (the compiler fence keeps store and load in program order), and the caller's second barrier
//     makes the cursor store visible to its re-check. In C++ terms: three seq_cst fences, the
//     caller's, the remote one, the caller's, in that order in the total order S.
//   - Fallback (no membarrier, or ThreadSanitizer). The hot side makes a seq_cst store and a
//     seq_cst load. The cold side makes a seq_cst store of the flag followed by a seq_cst fence:
//     the waiter's re-check loads are acquire loads of the lane, not seq_cst, and a seq_cst store
//     alone does not order a later non-seq_cst load ([atomics.order] p4 constrains S only through
//     seq_cst operations and fences). With the fence F: if the peer's flag load L read the old
//     flag, L precedes the flag store in S (both seq_cst, p4.1), so the peer's cursor store
//     precedes F; F happens before the re-check, which therefore cannot read a cursor older than
//     that store (p4.3). The weak-memory simulator found the missing fence (sim/README.md).
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "indexbus/platform.hpp"

namespace indexbus {

enum class WaitStrategy : std::uint8_t { Spin, Backoff, Park };

// The OS primitives on Linux. Each is one instruction, one system call or one libc call; the
// composition above decides when to use which. Site is the simulator's "where was this called
// from"; on real hardware it is empty and costs nothing.
class LinuxOs {
 public:
  struct Site {
    static constexpr Site current() noexcept { return Site{}; }
  };

  template <typename T>
  T load(T& word, std::memory_order order, Site = {}) const noexcept {
    return std::atomic_ref<T>(word).load(order);
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order, Site = {}) const noexcept {
    std::atomic_ref<T>(word).store(value, order);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order, Site = {}) const noexcept {
    return std::atomic_ref<T>(word).fetch_add(delta, order);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order, Site = {}) const noexcept {
    return std::atomic_ref<T>(word).compare_exchange_strong(expected, desired, order);
  }
  // A standalone fence (the cold fallback of announce_waiter and the lanes' slow paths). Under
  // ThreadSanitizer, which does not model fences (GCC refuses them with -Werror=tsan), a seq_cst
  // read-modify-write of a private word stands in: a full barrier on the hardware all the same.
  void thread_fence(std::memory_order order, Site = {}) const noexcept;
  // Orders this thread's accesses for the compiler only (no instruction).
  void compiler_fence(Site = {}) const noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

  // An empty payload may come from an empty span whose data() is null: memcpy must not see it.
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes, Site = {}) const noexcept {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes, Site = {}) const noexcept {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }

  // True once this process has registered for global expedited membarrier (re-registered in a
  // forked child, whose registration the kernel does not inherit).
  bool membarrier_registered() const noexcept;
  // MEMBARRIER_CMD_GLOBAL_EXPEDITED; false if the kernel refused (then the caller falls back).
  bool membarrier(Site = {}) const noexcept;

  std::uint64_t now_ns() const noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
  }
  // The three ways to let time pass while polling. deadline_ns is the caller's deadline (the
  // simulator needs it to know when the poller will look at the clock again; Linux ignores it).
  void cpu_relax(std::uint64_t deadline_ns, Site = {}) const noexcept;
  void yield(std::uint64_t deadline_ns, Site = {}) const noexcept;
  void sleep_ns(std::uint64_t ns, std::uint64_t deadline_ns, Site = {}) const noexcept;
  // FUTEX_WAIT on a shared (not FUTEX_PRIVATE_FLAG) word for at most timeout_ns; any return
  // (woken, EAGAIN, EINTR, ETIMEDOUT) means "re-check". deadline_ns is the caller's own deadline
  // (the timeout may be a shorter park slice); Linux ignores it, the simulator needs it.
  [[gnu::cold]] void futex_wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t timeout_ns,
                                std::uint64_t deadline_ns, Site = {}) const noexcept;
  [[gnu::cold]] void futex_wake_all(std::uint32_t& word, Site = {}) const noexcept;

  bool process_alive(std::uint32_t pid) const noexcept;
  std::uint32_t current_pid() const noexcept;
};

namespace real_platform_detail {
inline constexpr std::uint32_t kBackoffSpins = 256;
inline constexpr std::uint32_t kBackoffYields = 64;
inline constexpr std::uint64_t kBackoffSleepMaxNs = 1'000'000;  // 1 ms
// A futex sleep never exceeds this slice, so even a wake lost to a process dying mid-wake costs
// at most one slice before the caller re-checks its condition.
inline constexpr std::uint64_t kParkSliceMaxNs = 50'000'000;  // 50 ms
// How long note_unwoken_ready gives a peer that has published, but not yet bumped the wake epoch,
// to bump it before the wake counts as lost. The peer's publish and its bump are a few
// instructions apart, so the grace only has to outlast the peer being held between them: a
// descheduled process on a loaded machine (tens of ms on the 2-core CI machines), or a SIGSTOP
// of the harness's batch cases (at most 5 ms). A shorter window for the same kind of gap (10 ms,
// the Drop readers' former wait for an overwriting publish) proved flaky under load, hence 100 ms. A
// long grace costs a correct lane nothing: it is spent only when a waiter finds its condition true
// with the epoch unbumped, and a peer that is merely late ends it by bumping (and waking) it.
inline constexpr std::uint64_t kLostWakeGraceNs = 100'000'000;  // 100 ms
}  // namespace real_platform_detail

// The composition (see the top of this file). Os supplies the primitives; Os::Site is passed
// through so that the simulator's trace names the lane's line, not this file's.
template <typename Os>
class BasicRealPlatform {
 public:
  using Site = typename Os::Site;

  BasicRealPlatform(Os os, WaitStrategy strategy) noexcept : os_(os), strategy_(strategy) {}

  WaitStrategy strategy() const noexcept { return strategy_; }
  const Os& os() const noexcept { return os_; }

  template <typename T>
  T load(T& word, std::memory_order order, Site site = Site::current()) const noexcept {
    return os_.load(word, order, site);
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order, Site site = Site::current()) const noexcept {
    os_.store(word, value, order, site);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order, Site site = Site::current()) const noexcept {
    return os_.fetch_add(word, delta, order, site);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order,
                        Site site = Site::current()) const noexcept {
    return os_.compare_exchange(word, expected, desired, order, site);
  }

  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes,
                      Site site = Site::current()) const noexcept {
    os_.copy_to_shared(dst, src, bytes, site);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes,
                        Site site = Site::current()) const noexcept {
    os_.copy_from_shared(dst, src, bytes, site);
  }
  // dst is 8-byte aligned shared memory; the tail word is zero-padded. Whole words with release
  // stores (the seqlock argument in events.hpp).
  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                           Site site = Site::current()) const noexcept {
    assert(reinterpret_cast<std::uintptr_t>(dst) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(dst);
    const std::size_t full_words = bytes / 8;
    for (std::size_t i = 0; i < full_words; ++i) {
      std::uint64_t word;
      std::memcpy(&word, src + i * 8, 8);
      os_.store(words[i], word, std::memory_order_release, site);
    }
    if (const std::size_t tail = bytes % 8; tail != 0) {
      std::uint64_t word = 0;
      std::memcpy(&word, src + full_words * 8, tail);
      os_.store(words[full_words], word, std::memory_order_release, site);
    }
  }
  // src is 8-byte aligned shared memory that may hold whole words past `bytes`.
  void copy_from_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                             Site site = Site::current()) const noexcept {
    assert(reinterpret_cast<std::uintptr_t>(src) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(src));
    const std::size_t full_words = bytes / 8;
    for (std::size_t i = 0; i < full_words; ++i) {
      const std::uint64_t word = os_.load(words[i], std::memory_order_acquire, site);
      std::memcpy(dst + i * 8, &word, 8);
    }
    if (const std::size_t tail = bytes % 8; tail != 0) {
      const std::uint64_t word = os_.load(words[full_words], std::memory_order_acquire, site);
      std::memcpy(dst + full_words * 8, &word, tail);
    }
  }

  std::uint64_t now_ns() const noexcept { return os_.now_ns(); }

  bool waiter_needs_wake() const noexcept { return strategy_ == WaitStrategy::Park; }

  // Polling waiters read the clock once every kRoundsPerClockRead rounds: a clock read costs
  // about as much as the cache miss that ends the wait.
  static constexpr std::uint32_t kRoundsPerClockRead = 64;
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t round) const noexcept {
    // Not on round 0: a wait that ends within a few rounds (the common case) reads no clock.
    return round % kRoundsPerClockRead == kRoundsPerClockRead - 1 && now_ns() >= deadline_ns;
  }
  // Spin: a pause instruction. Backoff: pauses, then yields, then sleeps of growing length (at
  // most 1 ms and never past the deadline).
  void pause(std::uint32_t round, std::uint64_t deadline_ns, Site site = Site::current()) const noexcept {
    using namespace real_platform_detail;
    if (strategy_ == WaitStrategy::Spin || round < kBackoffSpins) {
      os_.cpu_relax(deadline_ns, site);
      return;
    }
    if (round < kBackoffSpins + kBackoffYields) {
      os_.yield(deadline_ns, site);
      return;
    }
    const std::uint32_t sleeps = round - kBackoffSpins - kBackoffYields < 10 ? round - kBackoffSpins - kBackoffYields : 10;
    const std::uint64_t now = now_ns();
    if (now >= deadline_ns) return;
    std::uint64_t ns = std::uint64_t{1'000} << sleeps;
    if (ns > kBackoffSleepMaxNs) ns = kBackoffSleepMaxNs;
    if (ns > deadline_ns - now) ns = deadline_ns - now;
    os_.sleep_ns(ns, deadline_ns, site);
  }

  // The hot half of the Dekker pair (argued at the top of this file).
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag,
                                       Site site = Site::current()) const noexcept {
    if (os_.membarrier_registered()) {
      os_.store(word, value, std::memory_order_release, site);
      os_.compiler_fence(site);
      return os_.load(flag, std::memory_order_relaxed, site);
    }
    os_.store(word, value, std::memory_order_seq_cst, site);
    return os_.load(flag, std::memory_order_seq_cst, site);
  }
  // The cold half: store the flag, then a barrier that orders it before the caller's re-check.
  [[gnu::cold]] void announce_waiter(std::uint32_t& flag, std::uint32_t value,
                                     Site site = Site::current()) const noexcept {
    if (os_.membarrier_registered()) {
      os_.store(flag, value, std::memory_order_relaxed, site);
      if (os_.membarrier(site)) return;
      // Cannot fail once registration succeeded; if it does, fall through to the fallback.
    }
    os_.store(flag, value, std::memory_order_seq_cst, site);
    os_.thread_fence(std::memory_order_seq_cst, site);
  }

  // A seq_cst fence on a lane's slow path (platform.hpp): mfence on x86, dmb ish on Arm.
  [[gnu::cold]] void store_load_fence(Site site = Site::current()) const noexcept {
    os_.thread_fence(std::memory_order_seq_cst, site);
  }

  // The heavy half of an asymmetric fence (platform.hpp): membarrier where registered (the
  // remote barrier is what orders the hot side's program-ordered store and load against the
  // caller, as in the Dekker pair above), else a seq_cst fence (the hot side is then seq_cst).
  [[gnu::cold]] void heavy_fence(Site site = Site::current()) const noexcept {
    if (os_.membarrier_registered() && os_.membarrier(site)) return;
    os_.thread_fence(std::memory_order_seq_cst, site);
  }

  // Sleeps until word may differ from expected, a wake, or the deadline; spurious returns allowed.
  [[gnu::cold]] void wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t deadline_ns,
                          Site site = Site::current()) const noexcept {
    if (strategy_ != WaitStrategy::Park) {
      // The same schedule as a polling lane waiter: pause() and deadline_passed() define it once.
      // Bounded by deadline_ns.
      for (std::uint32_t round = 0;; ++round) {
        if (load(word, std::memory_order_acquire, site) != expected) return;
        if (deadline_passed(deadline_ns, round)) return;
        pause(round, deadline_ns, site);
      }
    }
    const std::uint64_t now = now_ns();
    if (now >= deadline_ns) return;
    const std::uint64_t rest = deadline_ns - now;
    os_.futex_wait(word, expected,
                   rest < real_platform_detail::kParkSliceMaxNs ? rest : real_platform_detail::kParkSliceMaxNs,
                   deadline_ns, site);
  }
  [[gnu::cold]] void wake_all(std::uint32_t& word, Site site = Site::current()) const noexcept {
    os_.futex_wake_all(word, site);
  }

  // The audit of a wake (platform.hpp; argued in events.hpp, "Waiting"): the caller's wait on
  // word returned, its announcement is up, its condition holds and word was still `seen`. Sleeps
  // on word for at most kLostWakeGraceNs; a peer that was between its publish and its bump ends
  // that by bumping and waking. If word never changes, counts a lost wake-up. Bounded by
  // kLostWakeGraceNs: each futex_wait returns by the grace deadline.
  [[gnu::cold]] void note_unwoken_ready(std::uint32_t& word, std::uint32_t seen,
                                        Site site = Site::current()) const noexcept {
    const std::uint64_t grace_deadline_ns = os_.now_ns() + real_platform_detail::kLostWakeGraceNs;
    for (;;) {
      if (os_.load(word, std::memory_order_acquire, site) != seen) return;
      const std::uint64_t now = os_.now_ns();
      if (now >= grace_deadline_ns) break;
      os_.futex_wait(word, seen, grace_deadline_ns - now, grace_deadline_ns, site);
    }
    lost_wakeups_.fetch_add(1, std::memory_order_relaxed);
  }
  // Lost wake-ups counted by note_unwoken_ready in this process (every platform over Os shares
  // the count). A correct lane on a correct peer keeps it at 0.
  static std::uint64_t lost_wakeup_count() noexcept { return lost_wakeups_.load(std::memory_order_relaxed); }

  bool process_alive(std::uint32_t pid) const noexcept { return os_.process_alive(pid); }
  std::uint32_t current_pid() const noexcept { return os_.current_pid(); }

 private:
  Os os_;
  WaitStrategy strategy_;
  static inline std::atomic<std::uint64_t> lost_wakeups_{0};
};

class RealPlatform : public BasicRealPlatform<LinuxOs> {
 public:
  explicit RealPlatform(WaitStrategy strategy = WaitStrategy::Backoff) noexcept;

  // True once this process has registered for global expedited membarrier.
  static bool asymmetric_barrier_available() noexcept;
};
static_assert(Platform<RealPlatform>);

}  // namespace indexbus

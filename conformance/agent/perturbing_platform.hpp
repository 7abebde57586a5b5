// PerturbingPlatform: RealPlatform plus seeded delays at every shared-memory access, for batch
// mode. The lanes take their platform as a template parameter, so the reference agent
// instantiates them with this one and the perturbation points sit exactly where the lanes touch
// shared memory, with no edit in core/ and no cost for users, who link the lanes with
// RealPlatform. While disabled (step mode) an access costs one predictable branch more.
//
// At each access, with probability 1 / period (from a splitmix64 stream seeded per script), the
// calling process spins a few hundred cycles, yields, or sleeps a few microseconds: enough to
// open the windows between a load and the store that depends on it, which at full speed are a few
// nanoseconds wide.
//
// kill_at_access (run_script's `kill_at_access`, spec/agent-protocol.md): the Nth access of the
// lanes after arming raises SIGKILL on this process, so that it dies inside whichever operation
// makes that access (a write mid-copy, a claim between its stamp and its return, a publish
// between its stamp and write_seq, a close). Counted whether or not delays are enabled.
#pragma once

#include <sched.h>
#include <signal.h>
#include <time.h>

#include <cstdint>

#include "indexbus/real_platform.hpp"

namespace indexbus::agent {

class PerturbingPlatform : public RealPlatform {
 public:
  using RealPlatform::RealPlatform;

  // Single-threaded agent: the state is mutable so that the const accessors can draw from it.
  void enable(std::uint64_t seed, std::uint32_t period) noexcept {
    state_ = seed ^ 0x5851f42d4c957f2dull;
    period_ = period == 0 ? 1 : period;
    enabled_ = true;
  }
  void disable() noexcept { enabled_ = false; }
  // Arms the kill: the accesses_before_kill-th access from now raises SIGKILL (0: disarmed).
  void kill_at_access(std::uint64_t accesses_before_kill) noexcept { kill_countdown_ = accesses_before_kill; }
  std::uint64_t perturbations() const noexcept { return perturbations_; }
  // Test-only (indexbus-agent-broken --defect lose-wakes): from the first publish that finds a
  // waiter's flag raised, and for window_ns after it, every publish reports the flag lowered, so
  // none bumps the wake epoch or wakes. A window, not a number of publishes: a busy waker's next
  // publish would otherwise make up for a lost wake before the sleeper could tell. Over a window
  // longer than a park slice plus the waiter's grace (RealPlatform), the waiter sleeps its slice,
  // finds its condition true with the epoch unbumped through the whole grace, and counts a lost
  // wake-up (RealPlatform::note_unwoken_ready). One window per process: the run then goes on.
  void lose_wakes_for(std::uint64_t window_ns) noexcept { lose_window_ns_ = window_ns; }

  template <typename T>
  T load(T& word, std::memory_order order) const noexcept {
    perturb();
    return RealPlatform::load(word, order);
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order) const noexcept {
    perturb();
    RealPlatform::store(word, value, order);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order) const noexcept {
    perturb();
    return RealPlatform::fetch_add(word, delta, order);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order) const noexcept {
    perturb();
    return RealPlatform::compare_exchange(word, expected, desired, order);
  }
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    perturb();
    RealPlatform::copy_to_shared(dst, src, bytes);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    perturb();
    RealPlatform::copy_from_shared(dst, src, bytes);
  }
  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    perturb();
    RealPlatform::copy_to_shared_racy(dst, src, bytes);
  }
  void copy_from_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes) const noexcept {
    perturb();
    RealPlatform::copy_from_shared_racy(dst, src, bytes);
  }
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag) const noexcept {
    perturb();
    const std::uint32_t seen = RealPlatform::publish_then_load_flag(word, value, flag);
    if (seen != 0 && lose_window_ns_ != 0) [[unlikely]] {
      const std::uint64_t now = now_ns();
      if (lose_until_ns_ == 0) lose_until_ns_ = now + lose_window_ns_;
      if (now < lose_until_ns_) return 0;
    }
    return seen;
  }

 private:
  std::uint64_t next() const noexcept {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void perturb() const noexcept {
    if (kill_countdown_ != 0 && --kill_countdown_ == 0) [[unlikely]] {
      ::raise(SIGKILL);  // never returns: SIGKILL cannot be caught, and raise delivers it at once
    }
    if (!enabled_) return;
    const std::uint64_t draw = next();
    if (draw % period_ != 0) return;
    ++perturbations_;
    switch ((draw >> 32) % 4) {
      case 0:
      case 1: {  // spin: up to ~500 iterations
        const std::uint64_t spins = (draw >> 40) % 512;
        for (std::uint64_t i = 0; i < spins; ++i) asm volatile("" ::: "memory");  // not optimized away
        break;
      }
      case 2: ::sched_yield(); break;
      default: {  // sleep 1..16 us
        const timespec pause{0, static_cast<long>(1000 * (1 + (draw >> 44) % 16))};
        ::nanosleep(&pause, nullptr);
      }
    }
  }

  bool enabled_ = false;
  std::uint32_t period_ = 64;
  mutable std::uint64_t state_ = 0;
  mutable std::uint64_t perturbations_ = 0;
  mutable std::uint64_t kill_countdown_ = 0;  // accesses left until SIGKILL; 0: disarmed
  std::uint64_t lose_window_ns_ = 0;         // 0: no wake is lost
  mutable std::uint64_t lose_until_ns_ = 0;  // the window's end, once it has opened
};
static_assert(Platform<PerturbingPlatform>);

}  // namespace indexbus::agent

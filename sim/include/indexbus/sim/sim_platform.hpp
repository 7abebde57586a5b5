// SimPlatform: the Platform (core/include/indexbus/platform.hpp) of the simulator. It is
// RealPlatform's own composition (BasicRealPlatform in core/include/indexbus/real_platform.hpp:
// the asymmetric Dekker pair, the backoff schedule, the park slice) over simulated OS
// primitives (SimOs, below), so the handshake code that runs on real hardware is the code the
// simulator explores. Every access to shared memory, wait and wake is a scheduling point of the
// Scheduler, so the lane code of core/ runs unchanged while a strategy chooses the interleaving
// and, under the weak memory model (weak_memory.hpp, the default), which store each load reads.
//
// The primitives, modelled
// ------------------------
// - Atomics: one step each; under --memory weak through WeakMemory, under --memory sc plain
//   accesses in the single thread that runs every fiber (sequential consistency).
// - Plain copies (Block payloads): one step per copy; under the weak model a data-race check.
//   Racy (Drop) copies are BasicRealPlatform's: one atomic step per 8-byte word, each with its
//   order.
// - compiler_fence: nothing (the simulator does not reorder an actor's program order).
// - thread_fence: a fence of the weak model, in the same step as the access before it.
// - membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), as the Linux kernel memory model defines it: a
//   full barrier (smp_mb) in the caller, then one on every CPU running a thread of a registered
//   process (here: in every other actor, at the point its program has reached), then one more in
//   the caller, all between the call's entry and its return. Each smp_mb is a seq_cst fence, in
//   that order in S. It happens in the step of the flag store before it (no scheduling point of
//   its own), which only removes interleavings that the barrier itself makes equivalent.
// - futex_wait: the kernel's smp_mb (futex_q_lock), then the comparison with the word's value (a
//   seq_cst load of the model) and the sleep, as one step; the actor wakes on futex_wake_all of
//   the word (which happens-before its return: the hash-bucket lock), or when its timeout passes
//   in simulated time. When every actor waits, time jumps to the earliest caller's deadline, not to
//   the end of a park slice (kParkSliceMaxNs): with no deadline left that is a deadlock, as without
//   the slice, since only a lost wake-up can leave a correct lane so.
// - futex_wake_all: smp_mb, then the waiters of the word become runnable.
// - The clock is simulated time; cpu_relax, yield and sleep are the scheduler's pause (runnable
//   again after any store, at the deadline, or when nobody else can run).
//
// Lost wake-ups hidden by a deadline. When the hot half of the Dekker pair (publish_then_load_flag)
// reads a flag value older than a waiter's announcement, the waiter depends on its own re-check
// having seen the publish. If it then sleeps and is released by its timeout rather than a wake, the
// wake was lost, whatever the deadline hid: the run fails with the steps involved.
// The lanes' own audit of a wake (BasicRealPlatform::note_unwoken_ready, events.hpp "Waiting")
// runs unchanged: it is reached only when a sleep ended with the epoch unbumped and the condition
// true, which here means a timeout after a missed wake, a run the check above already fails; its
// grace is a futex wait whose deadline is the grace's end, so simulated time can jump there and
// the run stays bounded.
// Its counter does not steer the schedule, so runs stay deterministic.
//
// waiter_needs_wake() is a run-time choice: true exercises the parking path (announce_waiter,
// wait, wake_all), where lost wake-ups live; false the polling path (pause, deadline_passed).
// The barrier is one too: Barrier::Membarrier (a kernel with membarrier, the usual case) or
// Barrier::SeqCst (RealPlatform's fallback).
#pragma once

#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include "indexbus/platform.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/sim/scheduler.hpp"

namespace indexbus::sim {

// Planted ordering bugs (test-only broken variants; the catalog is plants.hpp). The lane code
// and RealPlatform's composition stay unchanged: SimOs weakens what they ask for.
//
// An order rule names a set of accesses (loads, stores, RMWs, fences) to a set of words and the
// strongest order those accesses may keep: each matching access runs with meet(its own order,
// rule.order), the strongest order whose semantics both have (acquire, release and seq_cst are
// kept only if both orders have them). A rule can therefore only ever weaken an access, never
// strengthen it, and an access no rule matches keeps its order. Under --memory sc orders are
// ignored, so a planted lane behaves exactly as the correct one: a plant that fails under weak
// memory and passes under sc is an ordering bug and nothing else.
//
// Words: the bytes [first + k * stride_bytes, + span_bytes) for k < count, so that one rule names
// a header word (count 1), every slot's stamp (stride = the slot stride, span 8), every slot's
// payload (span = the payload bytes) or every reader's cursor. A fence has no address: a fence
// rule matches every thread_fence (membarrier is planted away by no_membarrier, below).
//
// Bounded: at most kOrderRulesMax rules, checked in a fixed loop per access; nothing allocates.
// With no Weakening planted, or one without rules, an access costs one pointer test.
struct OrderRule {
  enum Access : std::uint8_t { kLoad = 1, kStore = 2, kRmw = 4, kFence = 8 };
  std::uint8_t accesses = 0;           // a mask of Access
  const std::byte* first = nullptr;    // the first word (not used by fences)
  std::uint32_t span_bytes = 0;
  std::uint32_t stride_bytes = 0;      // 0 with count 1: one range
  std::uint32_t count = 1;
  std::memory_order order = std::memory_order_seq_cst;  // the strongest order left

  bool matches(Access access, const void* address) const noexcept {
    if ((accesses & access) == 0) return false;
    if (access == kFence) return true;
    const auto* p = static_cast<const std::byte*>(address);
    if (p < first) return false;
    const auto offset = static_cast<std::uint64_t>(p - first);
    if (stride_bytes == 0) return offset < span_bytes;
    return offset / stride_bytes < count && offset % stride_bytes < span_bytes;
  }
};

// The semantics an order has: acquire (1), release (2), seq_cst (4, which implies both).
constexpr std::uint8_t order_semantics(std::memory_order order) noexcept {
  switch (order) {
    case std::memory_order_relaxed: return 0;
    case std::memory_order_consume:
    case std::memory_order_acquire: return 1;
    case std::memory_order_release: return 2;
    case std::memory_order_acq_rel: return 3;
    case std::memory_order_seq_cst: return 7;
  }
  return 7;
}
// The strongest order with only the semantics both a and b have. An acq_rel result on a load
// acts as acquire and on a store as release (the weak model reads it so).
constexpr std::memory_order meet(std::memory_order a, std::memory_order b) noexcept {
  switch (order_semantics(a) & order_semantics(b)) {
    case 0: return std::memory_order_relaxed;
    case 1: return std::memory_order_acquire;
    case 2: return std::memory_order_release;
    case 3: return std::memory_order_acq_rel;
    default: return std::memory_order_seq_cst;
  }
}
static_assert(meet(std::memory_order_seq_cst, std::memory_order_acquire) == std::memory_order_acquire);
static_assert(meet(std::memory_order_release, std::memory_order_acquire) == std::memory_order_relaxed);
static_assert(meet(std::memory_order_relaxed, std::memory_order_seq_cst) == std::memory_order_relaxed);
static_assert(meet(std::memory_order_acq_rel, std::memory_order_release) == std::memory_order_release);

inline constexpr std::uint32_t kOrderRulesMax = 8;

struct Weakening {
  bool no_membarrier = false;      // membarrier() returns success without a barrier
  bool no_fallback_fence = false;  // announce_waiter's fallback thread_fence(seq_cst) does nothing
  bool no_heavy_fence = false;     // heavy_fence() does nothing (neither membarrier nor its fallback)
  std::array<OrderRule, kOrderRulesMax> rules{};
  std::uint32_t rule_count = 0;

  // False (and nothing added) when kOrderRulesMax rules are planted already.
  [[nodiscard]] bool add(const OrderRule& rule) noexcept {
    if (rule.stride_bytes == 0) assert(rule.count == 1);
    if (rule.stride_bytes != 0) assert(rule.span_bytes <= rule.stride_bytes);
    if (rule_count == kOrderRulesMax) return false;
    rules[rule_count++] = rule;
    return true;
  }
  std::memory_order order_for(OrderRule::Access access, const void* address,
                              std::memory_order order) const noexcept {
    assert(rule_count <= kOrderRulesMax);
    for (std::uint32_t i = 0; i < rule_count; ++i) {
      if (rules[i].matches(access, address)) order = meet(order, rules[i].order);
    }
    return order;
  }
};

class SimOs {
 public:
  using Site = Where;

  SimOs(Scheduler& scheduler, Barrier barrier) noexcept : scheduler_(&scheduler), barrier_(barrier) {}

  void plant(const Weakening* weakening) noexcept { weakening_ = weakening; }

  template <typename T>
  T load(T& word, std::memory_order order, Site where) const {
    order = planted(OrderRule::kLoad, &word, order);
    Scheduler& s = *scheduler_;
    s.point();
    std::remove_const_t<T> value = word;
    if (s.weak()) {
      ReadFrom from;
      const auto read = s.weak_memory().load(&word, sizeof(T), word, order, s.current(), &choose, &s, &from);
      if (!read) s.fail_memory();
      value = static_cast<std::remove_const_t<T>>(*read);
      s.set_read_from(from);
    }
    s.record(AccessKind::Load, &word, sizeof(T), value, where);
    return value;
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order, Site where) const {
    order = planted(OrderRule::kStore, &word, order);
    Scheduler& s = *scheduler_;
    s.point();
    if (s.weak() && !s.weak_memory().store(&word, sizeof(T), word, value, order, s.current(), s.step())) {
      s.fail_memory();
    }
    word = value;
    s.note_store();
    s.record(AccessKind::Store, &word, sizeof(T), value, where);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order, Site where) const {
    order = planted(OrderRule::kRmw, &word, order);
    Scheduler& s = *scheduler_;
    s.point();
    const T old = word;  // an RMW reads the newest store, which memory always holds
    const T next = static_cast<T>(old + delta);
    weak_rmw(word, order, next);
    word = next;
    s.note_store();
    s.record(AccessKind::Rmw, &word, sizeof(T), next, where);
    return old;
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order, Site where) const {
    order = planted(OrderRule::kRmw, &word, order);
    Scheduler& s = *scheduler_;
    s.point();
    const T old = word;  // as in fetch_add
    const bool swapped = old == expected;
    weak_rmw(word, order, swapped ? std::optional<std::uint64_t>(desired) : std::nullopt);
    if (swapped) {
      word = desired;
      s.note_store();
    }
    expected = old;
    s.record(AccessKind::Rmw, &word, sizeof(T), swapped ? desired : old, where);
    return swapped;
  }
  void thread_fence(std::memory_order order, Site where) const {
    Scheduler& s = *scheduler_;
    // Only announce_waiter's fence: the lanes' store_load_fence is the same primitive, and is not
    // what this plant removes.
    if (weakening_ != nullptr && weakening_->no_fallback_fence && announcing(s.current()) && order == std::memory_order_seq_cst) {
      return;
    }
    order = planted(OrderRule::kFence, nullptr, order);
    if (s.weak() && order != std::memory_order_relaxed) s.weak_memory().fence(order, s.current());
    s.record(AccessKind::Fence, nullptr, 0, static_cast<std::uint64_t>(order), where);
  }
  void compiler_fence(Site) const noexcept {}

  // Block copies: the slot belongs to one side, so one step per copy.
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes, Site where) const {
    Scheduler& s = *scheduler_;
    s.point();
    if (s.weak() && bytes != 0 && !s.weak_memory().plain_write(dst, bytes, s.current(), s.step())) s.fail_memory();
    if (bytes != 0) std::memcpy(dst, src, bytes);
    s.note_store();
    s.record(AccessKind::CopyIn, dst, 0, bytes, where);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes, Site where) const {
    Scheduler& s = *scheduler_;
    s.point();
    if (s.weak() && bytes != 0 && !s.weak_memory().plain_read(src, bytes, s.current(), s.step())) s.fail_memory();
    if (bytes != 0) std::memcpy(dst, src, bytes);
    s.record(AccessKind::CopyOut, src, 0, bytes, where);
  }

  bool membarrier_registered() const noexcept { return barrier_ == Barrier::Membarrier; }
  bool membarrier(Site where) const {
    Scheduler& s = *scheduler_;
    if (weakening_ != nullptr && weakening_->no_membarrier) return true;
    if (s.weak()) {
      WeakMemory& m = s.weak_memory();
      const std::uint32_t me = s.current();
      m.fence(std::memory_order_seq_cst, me);
      for (std::uint32_t other = 0; other < s.actor_count(); ++other) {
        if (other != me) m.fence(std::memory_order_seq_cst, other);
      }
      m.fence(std::memory_order_seq_cst, me);
    }
    s.record(AccessKind::Fence, nullptr, 0, kMembarrierValue, where);
    return true;
  }

  std::uint64_t now_ns() const noexcept { return scheduler_->now_ns(); }
  void cpu_relax(std::uint64_t deadline_ns, Site where) const { pause(deadline_ns, where); }
  void yield(std::uint64_t deadline_ns, Site where) const { pause(deadline_ns, where); }
  void sleep_ns(std::uint64_t ns, std::uint64_t deadline_ns, Site where) const {
    const std::uint64_t until = scheduler_->now_ns() + ns;
    pause(until < deadline_ns ? until : deadline_ns, where);
  }
  void futex_wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t timeout_ns, std::uint64_t deadline_ns,
                  Site where) const;
  void futex_wake_all(std::uint32_t& word, Site where) const;

  // The simulated actors are one process each; none ever dies.
  bool process_alive(std::uint32_t pid) const noexcept { return pid != 0; }
  std::uint32_t current_pid() const noexcept { return scheduler_->current() + 1; }

  // Called by SimPlatform's publish_then_load_flag after the flag load: remembers the waiters
  // whose announcement that load did not see (weak model).
  void note_flag_read(const std::uint32_t& flag, std::uint32_t value_read) const;
  // Called by SimPlatform's announce_waiter: a new announcement; earlier misses no longer apply.
  void note_announce() const;
  // Marks the current actor while BasicRealPlatform::announce_waiter runs in it
  // (Weakening::no_fallback_fence). Per actor: the call's flag store is a scheduling point, and
  // the other actors run their own fences meanwhile.
  struct AnnouncingScope {
    explicit AnnouncingScope(const SimOs& os) noexcept : os_(&os), bit_(1u << os.scheduler_->current()) {
      os_->announcing_mask_ |= bit_;
    }
    ~AnnouncingScope() { os_->announcing_mask_ &= ~bit_; }
    AnnouncingScope(const AnnouncingScope&) = delete;
    AnnouncingScope& operator=(const AnnouncingScope&) = delete;
    const SimOs* os_;
    std::uint32_t bit_;
  };
  bool announcing(std::uint32_t actor) const noexcept { return ((announcing_mask_ >> actor) & 1u) != 0; }
  bool heavy_fence_planted_away() const noexcept { return weakening_ != nullptr && weakening_->no_heavy_fence; }

  static constexpr std::uint64_t kMembarrierValue = 0x6d62;  // "mb", in the trace's value column

 private:
  // The weak model's side of an RMW on word (nothing under sc): the read of the newest store and,
  // if written, the store after it.
  template <typename T>
  void weak_rmw(T& word, std::memory_order order, std::optional<std::uint64_t> written) const {
    Scheduler& s = *scheduler_;
    if (!s.weak()) return;
    ReadFrom from;
    if (!s.weak_memory().rmw(&word, sizeof(T), word, order, s.current(), s.step(), written, &from)) s.fail_memory();
    s.set_read_from(from);
  }
  std::memory_order planted(OrderRule::Access access, const void* address, std::memory_order order) const noexcept {
    return weakening_ == nullptr ? order : weakening_->order_for(access, address, order);
  }
  static std::uint32_t choose(void* context, std::uint32_t candidates) {
    return static_cast<Scheduler*>(context)->choose_read(candidates);
  }
  void pause(std::uint64_t deadline_ns, Site where) const {
    scheduler_->point();
    scheduler_->record(AccessKind::Pause, nullptr, 0, 0, where);
    scheduler_->pause(deadline_ns);
  }

  Scheduler* scheduler_;
  Barrier barrier_;
  const Weakening* weakening_ = nullptr;
  mutable std::uint32_t announcing_mask_ = 0;  // bit i: actor i is in announce_waiter
  static_assert(kActorsMax <= 32);
};

class SimPlatform : public BasicRealPlatform<SimOs> {
 public:
  SimPlatform(Scheduler& scheduler, bool parking, Barrier barrier = Barrier::Membarrier) noexcept
      : BasicRealPlatform<SimOs>(SimOs(scheduler, barrier), parking ? WaitStrategy::Park : WaitStrategy::Spin) {}

  void plant(const Weakening* weakening) noexcept { mutable_os().plant(weakening); }

  // The composition's Dekker pair, plus the simulator's lost-wake-up bookkeeping.
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag, Where where = Where::current()) const {
    const std::uint32_t seen = BasicRealPlatform<SimOs>::publish_then_load_flag(word, value, flag, where);
    os().note_flag_read(flag, seen);
    return seen;
  }
  void announce_waiter(std::uint32_t& flag, std::uint32_t value, Where where = Where::current()) const {
    os().note_announce();
    const SimOs::AnnouncingScope announcing(os());
    BasicRealPlatform<SimOs>::announce_waiter(flag, value, where);
  }
  // The composition's heavy_fence, unless a plant removed it (Weakening::no_heavy_fence).
  void heavy_fence(Where where = Where::current()) const {
    if (os().heavy_fence_planted_away()) return;
    BasicRealPlatform<SimOs>::heavy_fence(where);
  }

 private:
  SimOs& mutable_os() noexcept { return const_cast<SimOs&>(os()); }
};
static_assert(Platform<SimPlatform>);

}  // namespace indexbus::sim

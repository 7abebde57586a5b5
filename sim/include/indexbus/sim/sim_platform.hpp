// SimPlatform: the Platform (core/include/indexbus/platform.hpp) of the simulator. Every access to
// shared memory, every wait and every wake is a scheduling point of the Scheduler, so the lane code
// of core/ runs unchanged while a strategy chooses the interleaving.
//
// Memory model. The values an access sees come from a Memory policy. SequentialMemory is sequential
// consistency: a load returns the last store to the word in the one global order the scheduler
// makes. A weak-memory policy (bounded per-location store histories with vector clocks, as Relacy
// and Loom keep) would replace it without touching lane code or this class's interface: every
// access already carries its memory order, its width and the acting actor, and fences are implied
// by the orders of publish_then_load_flag and announce_waiter.
//
// Payload copies are one access per 8-byte word (racy copies) or per copy (Block copies, where the
// slot belongs to one side), so a torn read under Drop is reachable.
//
// waiter_needs_wake() is a run-time choice: true exercises the parking path (announce_waiter,
// wait, wake_all), where lost wake-ups live; false the polling path (pause, deadline_passed).
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "indexbus/platform.hpp"
#include "indexbus/sim/scheduler.hpp"

namespace indexbus::sim {

// Sequential consistency: plain accesses in the single thread that runs every fiber.
struct SequentialMemory {
  template <typename T>
  static T load(const T& word, std::memory_order) noexcept {
    return word;
  }
  template <typename T>
  static void store(T& word, T value, std::memory_order) noexcept {
    word = value;
  }
};

template <typename Memory = SequentialMemory>
class BasicSimPlatform {
 public:

  BasicSimPlatform(Scheduler& scheduler, bool parking) noexcept
      : scheduler_(&scheduler), parking_(parking) {}

  template <typename T>
  T load(T& word, std::memory_order order, Where where = Where::current()) const {
    scheduler_->point();
    const T value = Memory::load(word, order);
    scheduler_->record(AccessKind::Load, &word, sizeof(T), value, where);
    return value;
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order, Where where = Where::current()) const {
    scheduler_->point();
    Memory::store(word, value, order);
    scheduler_->note_store();
    scheduler_->record(AccessKind::Store, &word, sizeof(T), value, where);
  }
  template <typename T>
  T fetch_add(T& word, T delta, std::memory_order order, Where where = Where::current()) const {
    scheduler_->point();
    const T old = Memory::load(word, order);
    Memory::store(word, static_cast<T>(old + delta), order);
    scheduler_->note_store();
    scheduler_->record(AccessKind::Rmw, &word, sizeof(T), old + delta, where);
    return old;
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order,
                        Where where = Where::current()) const {
    scheduler_->point();
    const T old = Memory::load(word, order);
    const bool swapped = old == expected;
    if (swapped) {
      Memory::store(word, desired, order);
      scheduler_->note_store();
    }
    expected = old;
    scheduler_->record(AccessKind::Rmw, &word, sizeof(T), swapped ? desired : old, where);
    return swapped;
  }

  // Block copies: the slot belongs to one side, so one step per copy.
  void copy_to_shared(std::byte* dst, const std::byte* src, std::size_t bytes,
                      Where where = Where::current()) const {
    scheduler_->point();
    if (bytes != 0) std::memcpy(dst, src, bytes);
    scheduler_->note_store();
    scheduler_->record(AccessKind::CopyIn, dst, 0, bytes, where);
  }
  void copy_from_shared(std::byte* dst, const std::byte* src, std::size_t bytes,
                        Where where = Where::current()) const {
    scheduler_->point();
    if (bytes != 0) std::memcpy(dst, src, bytes);
    scheduler_->record(AccessKind::CopyOut, src, 0, bytes, where);
  }
  // Seqlock copies: one step per 8-byte word, exactly as RealPlatform moves them.
  void copy_to_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                           Where where = Where::current()) const {
    assert(reinterpret_cast<std::uintptr_t>(dst) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(dst);
    const std::size_t word_count = (bytes + 7) / 8;
    for (std::size_t i = 0; i < word_count; ++i) {
      std::uint64_t word = 0;
      std::memcpy(&word, src + i * 8, i * 8 + 8 <= bytes ? 8 : bytes % 8);
      store(words[i], word, std::memory_order_release, where);
    }
  }
  void copy_from_shared_racy(std::byte* dst, const std::byte* src, std::size_t bytes,
                             Where where = Where::current()) const {
    assert(reinterpret_cast<std::uintptr_t>(src) % 8 == 0);
    auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(src));
    const std::size_t word_count = (bytes + 7) / 8;
    for (std::size_t i = 0; i < word_count; ++i) {
      const std::uint64_t word = load(words[i], std::memory_order_acquire, where);
      std::memcpy(dst + i * 8, &word, i * 8 + 8 <= bytes ? 8 : bytes % 8);
    }
  }

  std::uint64_t now_ns() const noexcept { return scheduler_->now_ns(); }
  bool waiter_needs_wake() const noexcept { return parking_; }
  // The simulated clock is exact and free to read: no rounds are skipped.
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t /*round*/) const noexcept {
    return scheduler_->now_ns() >= deadline_ns;
  }
  void pause(std::uint32_t /*round*/, std::uint64_t deadline_ns, Where where = Where::current()) const {
    scheduler_->point();
    scheduler_->record(AccessKind::Pause, nullptr, 0, 0, where);
    scheduler_->pause(deadline_ns);
  }

  // Under sequential consistency the Dekker pair needs no fence: a store, then a load, each a step.
  template <typename T>
  std::uint32_t publish_then_load_flag(T& word, T value, std::uint32_t& flag,
                                       Where where = Where::current()) const {
    store(word, value, std::memory_order_seq_cst, where);
    return load(flag, std::memory_order_seq_cst, where);
  }
  void announce_waiter(std::uint32_t& flag, std::uint32_t value, Where where = Where::current()) const {
    store(flag, value, std::memory_order_seq_cst, where);
  }
  // Futex semantics: the comparison and the sleep are one step.
  void wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t deadline_ns,
            Where where = Where::current()) const {
    scheduler_->point();
    const std::uint32_t value = Memory::load(word, std::memory_order_seq_cst);
    scheduler_->record(AccessKind::Wait, &word, sizeof(word), value, where);
    if (value != expected) return;
    if (scheduler_->now_ns() >= deadline_ns) return;
    scheduler_->block_on(&word, deadline_ns);
  }
  void wake_all(std::uint32_t& word, Where where = Where::current()) const {
    scheduler_->point();
    scheduler_->wake_all(&word);
    scheduler_->record(AccessKind::Wake, &word, sizeof(word), 0, where);
  }

  // The simulated actors are one process each; none ever dies.
  bool process_alive(std::uint32_t pid) const noexcept { return pid != 0; }
  std::uint32_t current_pid() const noexcept { return scheduler_->current() + 1; }

 private:
  Scheduler* scheduler_;
  bool parking_;
};

using SimPlatform = BasicSimPlatform<SequentialMemory>;
static_assert(Platform<SimPlatform>);

}  // namespace indexbus::sim

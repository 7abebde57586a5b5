// The weak memory model of the simulator: the C++20 memory model for the accesses a Platform
// makes, operationally, as CDSChecker, Relacy and Loom keep it.
//
// The model, argued once
// ----------------------
// The scheduler runs one access at a time, so every execution has an interleaving order. Stores
// enter their location's modification order (mo) in that order. A load does not necessarily read
// the newest store: it may read any store of its location that coherence and happens-before do
// not hide, and which one is a scheduling decision (Scheduler::choose_read). Concretely, a load
// by actor t of location x may read mo index i when
//   - i >= seen[t][x]: coherence (read-read, write-read): t never reads older than what it already
//     read or wrote there;
//   - no store at or after i ... that happens before the load is newer than i: the newest store
//     that happens before the load (vector clocks, below) is the oldest one it may read;
//   - i >= sc_floor[x] for a seq_cst load, and for any load after a seq_cst fence of t ([atomics.order]
//     p4, below);
//   - i is among the last kStoreHistoryMax stores of x (the bound K: older stores are forgotten);
//   - i is not older than the newest store made before t's last pause or wait (visibility
//     progress, [intro.progress] p18 and [atomics.order] p11: a store becomes visible to every
//     thread in finite time. Without it a poll loop could read a stale value for ever; with it
//     a poller sees everything stored before it paused. It adds no happens-before).
// Read-modify-writes read the newest store (atomicity). A compare-exchange reads the newest store
// also when it fails (fewer behaviours than C++ allows; no lane retries on a stale failure).
//
// Happens-before is kept with vector clocks. Every actor has a clock; its own component grows by
// one after each of its stores, RMWs and plain copies, so each of those has a unique epoch. A store
// carries the clock an acquire load reading it acquires (its "sync" clock): a release (or
// stronger) store carries its actor's clock, a relaxed store the clock of its actor's last release
// fence (or nothing), and an RMW also carries the sync clock of the store it read, so a release
// sequence continues through RMWs of any actor (C++20: only RMWs continue it). An acquire load joins
// the sync clock into its actor's clock; a relaxed load keeps it for the actor's next acquire
// fence. A store s happens before actor t's current point iff clock[t][s.actor] >= s.epoch.
//
// seq_cst. The total order S is the interleaving order of the seq_cst operations and fences; the
// constraints of [atomics.order] p4 then reduce to one floor per location, sc_floor[x]: the mo
// index of the newest seq_cst store to x and of the newest store to x that happens before some
// seq_cst fence so far. A seq_cst load reads at or above it (p4.1, p4.2), and a seq_cst fence
// raises its actor's coherence floor to it for every location (p4.3, p4.4), then raises it with
// the stores that happen before the fence. A seq_cst fence is also an acquire and a release fence.
//
// Plain (non-atomic) bytes, the Block payload copies, are not values to choose among: two
// conflicting plain accesses not ordered by happens-before are a data race, which is undefined
// behaviour and reported as a failure (FastTrack-style: per 8-byte word the last write's epoch and
// each actor's last read epoch).
//
// The futex and membarrier primitives are modelled in sim_platform.hpp (SimOs) on top of this.
//
// Not covered: load buffering and out-of-thin-air values (a load reads only stores that have
// already happened in the interleaving, as in Loom; CDSChecker's promises would be needed),
// memory_order_consume (treated as acquire), and mixed-size accesses to one word (reported).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/sim/scheduler_limits.hpp"

namespace indexbus::sim {

enum class MemoryModel : std::uint8_t { Sequential, Weak };
const char* to_string(MemoryModel model) noexcept;
std::optional<MemoryModel> parse_memory_model(std::string_view text) noexcept;

// K: how many of a location's newest stores a load may choose among.
inline constexpr std::uint32_t kStoreHistoryMax = 8;
// Locations a run may touch; past kLocationsUsedMax the run fails with a clear message.
inline constexpr std::uint32_t kLocationSlots = 4096;
inline constexpr std::uint32_t kLocationsUsedMax = kLocationSlots / 2;

struct VectorClock {
  std::array<std::uint32_t, kActorsMax> at{};
  void join(const VectorClock& other) noexcept {
    for (std::uint32_t i = 0; i < kActorsMax; ++i) at[i] = at[i] > other.at[i] ? at[i] : other.at[i];
  }
};

// Which store a load (or the read half of an RMW) read; for the interleaving table.
struct ReadFrom {
  bool valid = false;
  std::uint32_t actor = kNoActor;      // the writer; kNoActor: the value the run started with
  std::uint64_t step = 0;              // the writer's step (0: initial)
  std::uint32_t behind = 0;            // 0: the newest store; n: n newer stores existed
  std::uint32_t newest_actor = kNoActor;
  std::uint64_t newest_step = 0;       // the newest store's step, when behind > 0
};

// A run's weak memory. Not thread-safe: the scheduler runs every fiber in one thread.
class WeakMemory {
 public:
  // Decides which of n > 1 visible stores a load reads: 0 is the newest, n - 1 the oldest.
  using Chooser = std::uint32_t (*)(void* context, std::uint32_t candidates);

  WeakMemory();
  void reset(std::uint32_t actor_count);

  // Each access names the acting actor and the step. On an error (too many locations, a
  // mixed-size or mixed plain/atomic access, a data race) the functions return false or
  // nullopt and error() says what happened.
  std::optional<std::uint64_t> load(const void* address, std::uint8_t bytes, std::uint64_t memory_value,
                                    std::memory_order order, std::uint32_t actor, Chooser choose,
                                    void* context, ReadFrom* from);
  bool store(const void* address, std::uint8_t bytes, std::uint64_t memory_value, std::uint64_t value,
             std::memory_order order, std::uint32_t actor, std::uint64_t step);
  // The read half reads the newest store, whose value memory_value is (the caller's memory always
  // holds the newest store); if written, a store of that value follows atomically (a failed
  // compare-exchange writes nothing).
  bool rmw(const void* address, std::uint8_t bytes, std::uint64_t memory_value, std::memory_order order,
           std::uint32_t actor, std::uint64_t step, std::optional<std::uint64_t> written, ReadFrom* from);
  void fence(std::memory_order order, std::uint32_t actor);
  // The kernel orders a futex wake before the woken waiter's return (its hash-bucket lock).
  void synchronize(std::uint32_t from_actor, std::uint32_t to_actor);
  // Visibility progress at a pause or a wait: stores up to step are visible to actor from now on.
  void flush(std::uint32_t actor, std::uint64_t step) noexcept;
  // The step of actor's last flush: every store made at or before it is visible to the actor.
  std::uint64_t flush_step(std::uint32_t actor) const noexcept { return actors_[actor].flush_step; }
  // Plain copies; false (and error()) on a data race.
  bool plain_write(const void* address, std::size_t bytes, std::uint32_t actor, std::uint64_t step);
  bool plain_read(const void* address, std::size_t bytes, std::uint32_t actor, std::uint64_t step);

  // The `behind` newest stores of a location (newest first), at most max of them: the stores a
  // load that read `behind` stores back did not see. Returns how many were written to out.
  struct StoreInfo {
    std::uint64_t value = 0;
    std::uint32_t actor = kNoActor;
    std::uint64_t step = 0;
  };
  std::uint32_t newer_stores(const void* address, std::uint32_t behind, StoreInfo* out, std::uint32_t max) const;

  const VectorClock& clock(std::uint32_t actor) const noexcept { return actors_[actor].clock; }
  // A new epoch for actor (after an event that others must be able to tell apart from later ones).
  void tick_actor(std::uint32_t actor) noexcept { tick(actor); }

  const std::string& error() const noexcept { return error_; }
  // The address a data race was found at (for naming it), nullptr otherwise.
  const void* error_address() const noexcept { return error_address_; }

 private:
  struct Store {
    std::uint64_t value = 0;
    std::uint64_t step = 0;
    VectorClock sync;
    std::uint32_t epoch = 0;
    std::uint32_t actor = kNoActor;
    bool seq_cst = false;
  };
  struct Location {
    const void* address = nullptr;
    std::uint32_t generation = 0;
    std::uint8_t bytes = 0;
    bool plain = false;
    std::uint32_t mo_count = 0;   // stores so far; the initial value is store 0
    std::uint32_t sc_floor = 0;
    std::array<std::uint32_t, kActorsMax> seen{};
    std::array<Store, kStoreHistoryMax> history;
    // Plain words: the last write and every actor's last read (epoch 0: none).
    std::uint32_t write_actor = kNoActor;
    std::uint32_t write_epoch = 0;
    std::uint64_t write_step = 0;
    std::array<std::uint32_t, kActorsMax> read_epoch{};
    std::array<std::uint64_t, kActorsMax> read_step{};
  };
  struct Actor {
    VectorClock clock;
    VectorClock acquire_pending;  // sync clocks of relaxed loads, for the next acquire fence
    VectorClock release_fence;    // the clock at the last release fence
    bool has_release_fence = false;
    std::uint64_t flush_step = 0;
  };

  Location* find(const void* address, std::uint8_t bytes, bool plain, std::uint64_t memory_value);
  const Location* lookup(const void* address) const noexcept;
  bool visible(const Store& s, std::uint32_t actor) const noexcept;
  std::uint32_t newest_visible(const Location& loc, std::uint32_t actor) const noexcept;
  void tick(std::uint32_t actor) noexcept;
  void take(std::uint32_t actor, const VectorClock& sync, std::memory_order order) noexcept;
  bool write_unordered(const Location& loc, std::uint32_t actor) const noexcept;
  // Runs per_word on each 8-byte plain word of [address, address + bytes); false on the first
  // false (an error), else a new epoch for actor.
  template <typename PerWord>
  bool each_plain_word(const void* address, std::size_t bytes, std::uint32_t actor, PerWord per_word);
  void append(Location& loc, std::uint64_t value, std::memory_order order, std::uint32_t actor,
              std::uint64_t step, const VectorClock* carried);
  bool race(const char* what, const Location& loc, std::uint32_t actor, std::uint64_t step,
            std::uint32_t other, std::uint64_t other_step);

  std::unique_ptr<Location[]> table_;
  std::vector<std::uint32_t> used_;
  std::uint32_t generation_ = 0;
  std::uint32_t actor_count_ = 0;
  std::array<Actor, kActorsMax> actors_{};
  std::string error_;
  const void* error_address_ = nullptr;
};

}  // namespace indexbus::sim

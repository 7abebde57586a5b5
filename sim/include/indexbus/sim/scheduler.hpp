// The deterministic scheduler: actors are stackful fibers (Boost.Context fcontext) in one OS thread,
// and every shared-memory access, wait and wake a lane makes through SimPlatform is a scheduling
// point at which a Strategy picks the actor that takes the next step.
//
// Time is simulated. The clock advances by tick_ns per step; an actor waiting on a word (parking)
// or polling (pause) is not runnable until it is woken, a store happens, or its deadline passes in
// simulated time. When no actor is runnable the clock jumps to the earliest deadline; if there is
// none, the run is a deadlock (reported as a failure). Nothing ever sleeps for real.
//
// Polling. A pause() means "nothing I read has changed yet": the actor becomes runnable again after
// any store by another actor, at its deadline, or when no other actor can run (a poll loop may
// change its own mind after some rounds without any store, as the Events consumer's periodic full
// check does). A run in which only pollers remain and no store happens for kSpinStepsMax steps
// and no deadline is pending is a livelock, reported as a deadlock.
//
// Aborting a run. A failed run abandons the suspended fibers: their stacks are re-initialized at
// the next run and nothing on them is destroyed. So an actor body must hold nothing that owns heap
// memory across a scheduling point; every buffer lives in the run's world, allocated up front.
//
// Clock jumps (opt-in per run, set_clock_jumps): a model of preemption with time. On a real machine
// a thread can be descheduled between two of its shared-memory accesses for longer than any
// timeout; with the clock moving only when every actor waits (set_clock_moves_only_when_idle) the
// simulator would never show an actor silent in the middle of a call. With jumps on, every
// scheduling point is a decision (even with one actor runnable, so that the decision sequence
// does not depend on how many jumps were taken), and while jumps remain the strategy may choose
// the clock instead of an actor: time advances by jump_ns, timed waiters whose deadline passed are
// released, the world's hook records the move at that exact point, and the decision is made again
// among the actors. At most max_jumps (<= kClockJumpsMax) per run; each is a choice of the
// schedule ('t' in schedule strings) and counts as a preemption (of the running actor, by time).
//
// Determinism: a run is a function of (actor bodies, strategy decisions). The trace hash folds
// every access (actor, kind, address offset, value) and is compared by the determinism self-check.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/sim/scheduler_limits.hpp"
#include "indexbus/sim/weak_memory.hpp"

namespace indexbus::sim {

struct Plant;  // plants.hpp

// Where an access was made: the file and line of the call into SimPlatform. Not
// std::source_location: clang 14 with libstdc++ 12 lacks it, while __builtin_FILE and
// __builtin_LINE, used as default arguments, report the caller's location in both compilers.
struct Where {
  const char* file = "";
  std::uint32_t line = 0;
  static constexpr Where current(const char* file = __builtin_FILE(),
                                 std::uint32_t line = __builtin_LINE()) noexcept {
    return Where{file, line};
  }
};

// ClockJump: not an access but a trace row of its own (actor kNoActor, value the ns jumped).
enum class AccessKind : std::uint8_t { Load, Store, Rmw, CopyIn, CopyOut, Wait, Wake, Pause, Invoke, Respond, Fence, ClockJump };
const char* to_string(AccessKind kind) noexcept;

// One scheduling decision: which runnable actor takes the next step (Actor), or, under the weak
// memory model, which of the stores a load may see it reads (Read).
enum class DecisionKind : std::uint8_t { Actor, Read };
struct Decision {
  std::uint64_t step = 0;              // scheduling points so far in this run
  std::uint32_t current = kNoActor;    // the actor that reached the point; kNoActor if it blocked or finished
  std::uint32_t runnable_mask = 0;     // Actor: bit i: actor i may run; never 0
  DecisionKind kind = DecisionKind::Actor;
  std::uint32_t candidates = 0;        // Read: how many stores the load may read (>= 2); 0 is the newest
  // Actor, clock jumps on: how many jumps remain; when non-zero the strategy may return
  // kClockChoice (the clock jumps, then the decision is asked again). 0: only actors.
  std::uint32_t jumps_left = 0;
};

// How a choice is kept in RunResult::choices and schedule strings: an actor as its index (0-7),
// a clock jump as kClockChoice ('t'), a read as kReadChoice + how many stores behind the newest it
// read. kClockChoice is also what Strategy::choose returns for a jump.
inline constexpr std::uint8_t kClockChoice = 0x20;
inline constexpr std::uint32_t kClockJumpsMax = 8;  // per run (set_clock_jumps)
inline constexpr std::uint8_t kReadChoice = 0x40;
inline constexpr std::uint32_t kReadChoicesMax = 26;  // 'A'..'Z' in schedule strings
static_assert(kStoreHistoryMax <= kReadChoicesMax);
inline bool is_read_choice(std::uint8_t choice) noexcept {
  return choice >= kReadChoice && choice < kReadChoice + kReadChoicesMax;
}

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Actor: returns an actor whose bit is set in d.runnable_mask, or kClockChoice if d.jumps_left
  // is non-zero; called only when two or more may run, or, with clock jumps on, at every point.
  // Read: returns an index below d.candidates (0: the newest store).
  virtual std::uint32_t choose(const Decision& d) = 0;
};

// The lowest-index choice that is not a preemption: keep the current actor while it can run.
inline std::uint32_t non_preemptive_choice(const Decision& d) noexcept {
  if (d.current != kNoActor && (d.runnable_mask >> d.current & 1u) != 0) return d.current;
  return static_cast<std::uint32_t>(__builtin_ctz(d.runnable_mask));
}

// RealPlatform's Dekker barrier (real_platform.hpp): membarrier(2) where the kernel has it, the
// seq_cst fallback elsewhere.
enum class Barrier : std::uint8_t { Membarrier, SeqCst };
const char* to_string(Barrier barrier) noexcept;
std::optional<Barrier> parse_barrier(std::string_view text) noexcept;

enum class RunStatus : std::uint8_t { Completed, Deadlock, InvariantBroken, StepBudget, DataRace };
const char* to_string(RunStatus status) noexcept;

struct TraceEvent {
  std::uint64_t step = 0;
  std::uint64_t now_ns = 0;
  std::uint32_t actor = 0;
  AccessKind kind = AccessKind::Load;
  std::uint8_t bytes = 0;           // width of the access (0 for wait/wake/pause/invoke/respond)
  const void* address = nullptr;    // Invoke/Respond: nullptr
  std::uint64_t value = 0;          // read or written; Invoke/Respond: the operation's history index
  Where where;
  ReadFrom from;                    // Load, Rmw and Wait under the weak model: the store read
};

struct RunResult {
  RunStatus status = RunStatus::Completed;
  std::string message;              // empty when Completed
  std::uint64_t steps = 0;
  std::uint64_t now_ns = 0;
  std::uint64_t trace_hash = 0;
  std::vector<std::uint8_t> choices;       // the actor chosen at each decision with 2+ runnable, and
                                           // each read choice (kReadChoice + stores behind)
  std::vector<std::uint8_t> preemptive;    // 1 where that choice preempted a runnable current actor,
                                           // or was a clock jump
  std::uint32_t preemptions = 0;           // clock jumps included
  std::uint32_t clock_jumps = 0;
  std::uint32_t stale_reads = 0;           // read choices of an older store than the newest
};

class Scheduler {
 public:
  using Body = void (*)(void* context, std::uint32_t actor);
  // Called after every step that may have changed shared memory; returns false and sets message on
  // a broken invariant.
  using InvariantHook = bool (*)(void* context, std::string& message);
  // Names a shared word for failure messages (the adapter's name of an address).
  using Namer = std::string (*)(void* context, const void* address);
  // Called at a clock jump, at once, with the run's context and the ns jumped (now_ns() is the
  // clock after the jump).
  using ClockHook = void (*)(void* context, std::uint64_t jump_ns);

  struct Options {
    std::uint64_t steps_max = 1'000'000;  // per run; past it the run fails with StepBudget
    std::uint64_t tick_ns = 1;            // simulated time per step
    bool trace = false;                   // keep every event (replay, reports); off for exploration
    MemoryModel memory = MemoryModel::Weak;  // the C++ memory model (weak_memory.hpp); Sequential: --memory sc
    // What the worlds build their SimPlatform with (sim_platform.hpp): RealPlatform's barrier.
    Barrier barrier = Barrier::Membarrier;
    // Test only: a planted ordering bug (plants.hpp) that each world plants into its laid-out
    // lane(s) at reset; nullptr: the lanes as they are.
    const Plant* plant = nullptr;
  };

  Scheduler(std::uint32_t actor_count, Options options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // One run from a fresh start. The actors run body(context, actor) and finish when it returns.
  RunResult run(Strategy& strategy, Body body, void* context, InvariantHook hook = nullptr, Namer namer = nullptr);

  std::uint32_t actor_count() const noexcept { return actor_count_; }
  const Options& options() const noexcept { return options_; }
  void set_trace(bool on) noexcept { options_.trace = on; }
  // Per run, set by a world at reset: the clock moves only when no actor can run (jumps to a
  // deadline), not by tick_ns per step. A Journal scenario with a reader timeout needs it: the
  // model's clock moves by the AdvanceTime operations the adapter records at those jumps.
  void set_clock_moves_only_when_idle(bool on) noexcept { idle_clock_ = on; }
  // Per run, set by a world at reset (see "Clock jumps" above): max_jumps 0 turns jumps off, and
  // then the decisions are exactly those of a scheduler without them (old schedules replay as
  // before). hook may be nullptr.
  void set_clock_jumps(std::uint64_t jump_ns, std::uint32_t max_jumps, ClockHook hook) noexcept {
    assert(max_jumps <= kClockJumpsMax);
    assert(max_jumps == 0 || jump_ns > 0);
    jump_ns_ = jump_ns;
    max_jumps_ = max_jumps;
    clock_hook_ = hook;
  }
  bool clock_jumps_on() const noexcept { return max_jumps_ != 0; }
  MemoryModel memory() const noexcept { return options_.memory; }
  bool weak() const noexcept { return options_.memory == MemoryModel::Weak; }
  // The run's weak memory (weak() only).
  WeakMemory& weak_memory() noexcept { return *weak_; }
  const std::vector<TraceEvent>& trace() const noexcept { return trace_; }
  // Base address for trace hashing, so that the hash does not depend on where the heap put the lane.
  void set_hash_base(const void* base) noexcept { hash_base_ = base; }

  // ---- Called by actors (through SimPlatform and the scenario adapter) ----
  // A scheduling point before an access: the strategy may switch to another actor here.
  void point();
  // After the access: trace, hash, and the invariant hook for stores.
  void record(AccessKind kind, const void* address, std::uint8_t bytes, std::uint64_t value,
              const Where& where);
  void note_store() noexcept;
  // A read decision of the weak model: which of candidates (>= 2) stores the current load reads.
  std::uint32_t choose_read(std::uint32_t candidates);
  // The store the next recorded load read (weak model); consumed by record().
  void set_read_from(const ReadFrom& from) noexcept { read_from_ = from; }
  // What the last recorded load of the current run read (weak model).
  const ReadFrom& last_read() const noexcept { return last_read_; }
  // Lost wake-up bookkeeping (sim_platform.hpp): a publish by `publisher` at `step` read a flag
  // value older than `waiter`'s announcement made at `announce_step`.
  struct MissedWake {
    bool pending = false;
    std::uint32_t publisher = kNoActor;
    std::uint64_t step = 0;
    std::uint64_t announce_step = 0;
    const void* flag = nullptr;
  };
  void note_missed_wake(std::uint32_t waiter, const MissedWake& missed) noexcept { missed_wake_[waiter] = missed; }
  void clear_missed_wake(std::uint32_t waiter) noexcept { missed_wake_[waiter].pending = false; }
  const MissedWake& missed_wake(std::uint32_t waiter) const noexcept { return missed_wake_[waiter]; }
  // Per actor, this run: the accesses it made, and how many of them were waits (a futex wait or a
  // pause: spin, yield, sleep). What the adapters' wait-freedom check counts (adapter_common.hpp).
  struct StepCounts {
    std::uint64_t accesses = 0;
    std::uint64_t waits = 0;
  };
  StepCounts step_counts(std::uint32_t actor) const noexcept { return step_counts_[actor]; }
  std::string name_of(const void* address) const;
  // Happens-before stamps of history records (weak model; nothing under sc).
  void stamp_invoke(linearizability::HappensBefore& hb) noexcept;
  void stamp_response(linearizability::HappensBefore& hb) noexcept;
  // A memory model error (data race, unsupported access) of the current actor. Does not return.
  [[noreturn]] void fail_memory();
  // Block the current actor on word until wake_all(word) or the deadline; true if woken. When
  // every actor waits, time jumps to the earliest jump_deadline_ns (the caller's own deadline,
  // where deadline_ns is only a park slice), and with none left the run is a deadlock.
  bool block_on(const void* word, std::uint64_t deadline_ns, std::uint64_t jump_deadline_ns);
  bool block_on(const void* word, std::uint64_t deadline_ns) { return block_on(word, deadline_ns, deadline_ns); }
  // Block the current actor until another actor stores, the deadline, or nobody else can run.
  void pause(std::uint64_t deadline_ns);
  void wake_all(const void* word) noexcept;
  // History clock: a strictly increasing counter of invocations and responses.
  std::uint64_t next_event_time() noexcept { return ++event_time_; }
  std::uint64_t now_ns() const noexcept { return now_ns_; }
  std::uint64_t step() const noexcept { return step_; }
  std::uint32_t current() const noexcept { return current_; }
  // Fail the run from inside an actor (a broken invariant found by the adapter). Does not return.
  [[noreturn]] void fail(RunStatus status, std::string message);

 private:
  enum class ActorState : std::uint8_t { Runnable, Blocked, Paused, Done };
  struct Actor {
    boost::context::detail::fcontext_t context = nullptr;
    std::byte* stack = nullptr;  // lowest address
    ActorState state = ActorState::Done;
    const void* blocked_on = nullptr;
    std::uint64_t deadline_ns = kNoDeadline;
    std::uint64_t jump_deadline_ns = kNoDeadline;  // when everyone waits (block_on)
    bool woken = false;        // released by wake_all (not by its deadline)
    void* fake_stack = nullptr;  // AddressSanitizer's per-fiber fake stack
    void* tsan_fiber = nullptr;  // ThreadSanitizer's fiber handle
  };

  static void entry(boost::context::detail::transfer_t from);
  void switch_to(std::uint32_t target);
  void arrived(boost::context::detail::transfer_t from);
  // The current actor can no longer run (blocked, paused or done): pick another, advancing time
  // or declaring deadlock if nobody can run.
  void reschedule();
  void choose_and_switch(std::uint32_t current);
  void jump_clock();
  std::uint32_t runnable_mask() const noexcept;
  void make_runnable(std::uint32_t actor) noexcept;
  void release_timeouts() noexcept;
  [[noreturn]] void abort_to_main();
  std::string describe_waiters() const;

  std::uint32_t actor_count_;
  Options options_;
  std::size_t stack_bytes_;
  Actor actors_[kActorsMax + 1];  // [kActorsMax] is the main context (the caller of run)
  std::uint32_t current_ = kNoActor;
  std::uint32_t switching_from_ = kNoActor;

  Strategy* strategy_ = nullptr;
  Body body_ = nullptr;
  void* context_ = nullptr;
  InvariantHook hook_ = nullptr;
  Namer namer_ = nullptr;
  std::unique_ptr<WeakMemory> weak_;
  ReadFrom read_from_;
  ReadFrom last_read_;
  std::array<MissedWake, kActorsMax> missed_wake_{};
  std::array<StepCounts, kActorsMax> step_counts_{};
  RunResult result_;
  std::string hook_message_;
  std::vector<TraceEvent> trace_;
  const void* hash_base_ = nullptr;
  std::uint64_t step_ = 0;
  std::uint64_t now_ns_ = 0;
  bool idle_clock_ = false;  // set_clock_moves_only_when_idle
  std::uint64_t jump_ns_ = 0;      // set_clock_jumps
  std::uint32_t max_jumps_ = 0;
  ClockHook clock_hook_ = nullptr;
  std::uint32_t jumps_left_ = 0;   // this run
  std::uint64_t event_time_ = 0;
  std::uint64_t steps_since_store_ = 0;
  std::uint32_t timed_mask_ = 0;   // actors blocked or paused with a finite deadline
  std::uint32_t paused_mask_ = 0;
  std::uint32_t runnable_mask_ = 0;
  std::uint32_t blocked_mask_ = 0;
  std::uint32_t done_count_ = 0;
  // Used only by the AddressSanitizer fiber annotations.
  [[maybe_unused]] const void* main_stack_bottom_ = nullptr;
  [[maybe_unused]] std::size_t main_stack_size_ = 0;
  // Used only under ThreadSanitizer: runs since the fibers' TSan state was last renewed.
  [[maybe_unused]] std::uint32_t tsan_runs_since_renewal_ = 0;
};

}  // namespace indexbus::sim

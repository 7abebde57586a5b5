#include "indexbus/sim/scheduler.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define INDEXBUS_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INDEXBUS_SIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define INDEXBUS_SIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INDEXBUS_SIM_TSAN 1
#endif
#endif

#ifdef INDEXBUS_SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef INDEXBUS_SIM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace indexbus::sim {
namespace {

namespace ctx = boost::context::detail;

constexpr std::uint32_t kMain = kActorsMax;
constexpr std::size_t kGuardBytes = 4096;
// Lane code is shallow; sanitizers grow frames several times over.
#if defined(INDEXBUS_SIM_ASAN) || defined(INDEXBUS_SIM_TSAN)
constexpr std::size_t kStackBytes = 1024 * 1024;
#else
constexpr std::size_t kStackBytes = 128 * 1024;
#endif
#ifdef INDEXBUS_SIM_TSAN
constexpr std::uint32_t kTsanFiberRuns = 256;
#endif

std::uint64_t mix(std::uint64_t seed, std::uint64_t value) noexcept {
  value += 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

}  // namespace

const char* to_string(AccessKind kind) noexcept {
  switch (kind) {
    case AccessKind::Load: return "load";
    case AccessKind::Store: return "store";
    case AccessKind::Rmw: return "rmw";
    case AccessKind::CopyIn: return "copy-in";
    case AccessKind::CopyOut: return "copy-out";
    case AccessKind::Wait: return "wait";
    case AccessKind::Wake: return "wake";
    case AccessKind::Pause: return "pause";
    case AccessKind::Invoke: return "invoke";
    case AccessKind::Respond: return "respond";
    case AccessKind::Fence: return "fence";
    case AccessKind::ClockJump: return "clock jump";
  }
  return "?";
}

const char* to_string(Barrier barrier) noexcept {
  switch (barrier) {
    case Barrier::Membarrier: return "membarrier";
    case Barrier::SeqCst: return "seq_cst";
  }
  return "?";
}

std::optional<Barrier> parse_barrier(std::string_view text) noexcept {
  if (text == "membarrier") return Barrier::Membarrier;
  if (text == "seq_cst") return Barrier::SeqCst;
  return std::nullopt;
}

const char* to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::Completed: return "completed";
    case RunStatus::Deadlock: return "deadlock";
    case RunStatus::InvariantBroken: return "invariant broken";
    case RunStatus::StepBudget: return "step budget exhausted";
    case RunStatus::DataRace: return "data race";
  }
  return "?";
}

Scheduler::Scheduler(std::uint32_t actor_count, Options options)
    : actor_count_(actor_count), options_(options), stack_bytes_(kStackBytes) {
  if (options_.memory == MemoryModel::Weak) weak_ = std::make_unique<WeakMemory>();
  assert(actor_count_ >= 1);
  assert(actor_count_ <= kActorsMax);
  for (std::uint32_t i = 0; i < actor_count_; ++i) {
    // Allocated once: runs reuse the stacks. The lowest page is a guard against overflow.
    void* memory = ::mmap(nullptr, stack_bytes_ + kGuardBytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
      std::fprintf(stderr, "indexbus sim: cannot map a fiber stack\n");
      std::abort();
    }
    (void)::mprotect(memory, kGuardBytes, PROT_NONE);
    actors_[i].stack = static_cast<std::byte*>(memory) + kGuardBytes;
#ifdef INDEXBUS_SIM_TSAN
    actors_[i].tsan_fiber = __tsan_create_fiber(0);
#endif
  }
}

Scheduler::~Scheduler() {
  for (std::uint32_t i = 0; i < actor_count_; ++i) {
#ifdef INDEXBUS_SIM_TSAN
    __tsan_destroy_fiber(actors_[i].tsan_fiber);
#endif
#ifdef INDEXBUS_SIM_ASAN
    // Frames of an abandoned run leave poisoned shadow; the next mapping here must not inherit it.
    ASAN_UNPOISON_MEMORY_REGION(actors_[i].stack, stack_bytes_);
#endif
    ::munmap(actors_[i].stack - kGuardBytes, stack_bytes_ + kGuardBytes);
  }
}

RunResult Scheduler::run(Strategy& strategy, Body body, void* context, InvariantHook hook, Namer namer) {
  assert(current_ == kNoActor);
  strategy_ = &strategy;
  body_ = body;
  context_ = context;
  hook_ = hook;
  namer_ = namer;
  read_from_ = ReadFrom{};
  last_read_ = ReadFrom{};
  missed_wake_.fill(MissedWake{});
  step_counts_.fill(StepCounts{});
  if (weak()) weak_->reset(actor_count_);
  result_ = RunResult{};
  trace_.clear();
  step_ = 0;
  now_ns_ = 0;
  jumps_left_ = max_jumps_;
  event_time_ = 0;
  steps_since_store_ = 0;
  timed_mask_ = 0;
  paused_mask_ = 0;
  blocked_mask_ = 0;
  done_count_ = 0;
  for (std::uint32_t i = 0; i < actor_count_; ++i) {
    Actor& a = actors_[i];
#ifdef INDEXBUS_SIM_ASAN
    // Frames of an abandoned run may have left redzones poisoned.
    ASAN_UNPOISON_MEMORY_REGION(a.stack, stack_bytes_);
#endif
    a.context = ctx::make_fcontext(a.stack + stack_bytes_, stack_bytes_, &Scheduler::entry);
    a.state = ActorState::Runnable;
    a.blocked_on = nullptr;
    a.deadline_ns = kNoDeadline;
    a.jump_deadline_ns = kNoDeadline;
    a.woken = false;
    a.fake_stack = nullptr;
  }
  runnable_mask_ = (1u << actor_count_) - 1;
#ifdef INDEXBUS_SIM_TSAN
  // A fiber never returns from entry() and an aborted run abandons its fibers mid-call, so each run
  // leaves frames on ThreadSanitizer's shadow call stack of every fiber. Reused for ever, the
  // stacks grow by a few frames per run and every allocation's stack, copied into TSan's stack
  // depot, grows with them (20 000 exhaustive runs took minutes instead of seconds). A fresh fiber
  // starts empty, but creating one costs about a megabyte of memset: so renew them every
  // kTsanFiberRuns runs, which bounds the depth and keeps the cost amortized.
  if (++tsan_runs_since_renewal_ >= kTsanFiberRuns) {
    tsan_runs_since_renewal_ = 0;
    for (std::uint32_t i = 0; i < actor_count_; ++i) {
      __tsan_destroy_fiber(actors_[i].tsan_fiber);
      actors_[i].tsan_fiber = __tsan_create_fiber(0);
    }
  }
  actors_[kMain].tsan_fiber = __tsan_get_current_fiber();
#endif
  current_ = kMain;
  choose_and_switch(kNoActor);
  // Back in the main context: the run completed or was aborted.
  current_ = kNoActor;
  result_.steps = step_;
  result_.now_ns = now_ns_;
  return std::move(result_);
}

void Scheduler::entry(ctx::transfer_t from) {
  auto* self = static_cast<Scheduler*>(from.data);
  self->arrived(from);
  const std::uint32_t me = self->current_;
  self->body_(self->context_, me);
  Actor& a = self->actors_[me];
  a.state = ActorState::Done;
  self->runnable_mask_ &= ~(1u << me);
  ++self->done_count_;
  if (self->done_count_ == self->actor_count_) {
    self->result_.status = RunStatus::Completed;
    self->switch_to(kMain);
  } else {
    self->reschedule();
  }
  // A finished fiber is never resumed.
  std::abort();
}

void Scheduler::switch_to(std::uint32_t target) {
  assert(target != current_);
  const std::uint32_t from = current_;
  switching_from_ = from;
  current_ = target;
#ifdef INDEXBUS_SIM_ASAN
  // A finished fiber passes no fake-stack slot: ASan may free its fake stack.
  void** save = (from != kMain && actors_[from].state == ActorState::Done) ? nullptr
                                                                           : &actors_[from].fake_stack;
  if (target == kMain) {
    __sanitizer_start_switch_fiber(save, main_stack_bottom_, main_stack_size_);
  } else {
    __sanitizer_start_switch_fiber(save, actors_[target].stack, stack_bytes_);
  }
#endif
#ifdef INDEXBUS_SIM_TSAN
  __tsan_switch_to_fiber(actors_[target].tsan_fiber, 0);
#endif
  const ctx::transfer_t back = ctx::jump_fcontext(actors_[target].context, this);
  arrived(back);
}

void Scheduler::arrived(ctx::transfer_t from) {
#ifdef INDEXBUS_SIM_ASAN
  const void* old_bottom = nullptr;
  std::size_t old_size = 0;
  __sanitizer_finish_switch_fiber(actors_[current_].fake_stack, &old_bottom, &old_size);
  if (switching_from_ == kMain) {
    main_stack_bottom_ = old_bottom;
    main_stack_size_ = old_size;
  }
#endif
  actors_[switching_from_].context = from.fctx;
}

std::uint32_t Scheduler::runnable_mask() const noexcept { return runnable_mask_; }

void Scheduler::make_runnable(std::uint32_t i) noexcept {
  Actor& a = actors_[i];
  assert(a.state == ActorState::Blocked || a.state == ActorState::Paused);
  a.state = ActorState::Runnable;
  a.blocked_on = nullptr;
  a.deadline_ns = kNoDeadline;
  const std::uint32_t bit = 1u << i;
  blocked_mask_ &= ~bit;
  paused_mask_ &= ~bit;
  timed_mask_ &= ~bit;
  runnable_mask_ |= bit;
}

void Scheduler::release_timeouts() noexcept {
  for (std::uint32_t mask = timed_mask_; mask != 0; mask &= mask - 1) {
    const auto i = static_cast<std::uint32_t>(std::countr_zero(mask));
    if (actors_[i].deadline_ns <= now_ns_) make_runnable(i);
  }
}

void Scheduler::point() {
  assert(current_ < actor_count_);
  ++step_;
  ++steps_since_store_;
  if (!idle_clock_) now_ns_ += options_.tick_ns;
  if (step_ > options_.steps_max) {
    fail(RunStatus::StepBudget, "step budget of " + std::to_string(options_.steps_max) +
                                    " steps exhausted (livelock, or a budget too small for the scenario)");
  }
  if (timed_mask_ != 0) release_timeouts();
  choose_and_switch(current_);
}

void Scheduler::choose_and_switch(std::uint32_t current) {
  // Bounded: each pass either picks an actor or spends one of at most kClockJumpsMax jumps.
  for (;;) {
    const std::uint32_t mask = runnable_mask_;
    assert(mask != 0);
    std::uint32_t next;
    if ((mask & (mask - 1)) == 0 && max_jumps_ == 0) {
      next = static_cast<std::uint32_t>(std::countr_zero(mask));
    } else {
      // With jumps on, every point is a decision, even with one actor runnable and after the last
      // jump: the decision sequence (and so a recorded schedule) does not depend on how many
      // jumps were taken, and shrinking can drop a jump without shifting the choices after it.
      next = strategy_->choose(Decision{step_, current, mask, DecisionKind::Actor, 0, jumps_left_});
      if (next == kClockChoice) {
        assert(jumps_left_ > 0);
        result_.choices.push_back(kClockChoice);
        result_.preemptive.push_back(1);
        ++result_.preemptions;
        ++result_.clock_jumps;
        jump_clock();
        continue;
      }
      assert((mask >> next & 1u) != 0);
      const bool preempts = current != kNoActor && (mask >> current & 1u) != 0 && next != current;
      result_.choices.push_back(static_cast<std::uint8_t>(next));
      result_.preemptive.push_back(preempts ? 1 : 0);
      result_.preemptions += preempts ? 1 : 0;
    }
    if (next != current_) switch_to(next);
    return;
  }
}

void Scheduler::jump_clock() {
  --jumps_left_;
  now_ns_ += jump_ns_;
  result_.trace_hash = mix(result_.trace_hash, std::uint64_t{static_cast<std::uint8_t>(AccessKind::ClockJump)} << 8);
  result_.trace_hash = mix(result_.trace_hash, jump_ns_);
  if (options_.trace) {
    trace_.push_back(TraceEvent{step_, now_ns_, kNoActor, AccessKind::ClockJump, 0, nullptr, jump_ns_, Where{}, ReadFrom{}});
  }
  // A jump is time in which no actor takes a step, longer than any timeout the lane has: store
  // buffers drain (C++ promises visibility in finite time; a context switch is a full barrier on
  // Linux). So, as for an actor that pauses or sleeps, every load after the jump sees at least the
  // stores made before it. Without this, a load after the jump could read a value older than a
  // store of an operation that returned before it, while the AdvanceTime record orders that
  // operation before every one invoked after the jump: the checker would see an order the memory
  // model did not promise (found at once: a try_read after a jump answered Empty from a stale
  // `closed` of a close that returned before it). This adds no happens-before.
  if (weak()) {
    for (std::uint32_t i = 0; i < actor_count_; ++i) weak_->flush(i, step_);
  }
  // Before any actor runs again: the world records the move here, not at the next invocation or
  // response (ring_adapter.hpp, note_jump).
  if (clock_hook_ != nullptr) clock_hook_(context_, jump_ns_);
  if (timed_mask_ != 0) release_timeouts();
}

void Scheduler::record(AccessKind kind, const void* address, std::uint8_t bytes, std::uint64_t value,
                       const Where& where) {
  // Offsets, not addresses: the hash must not depend on where the heap put the lane.
  const std::uint64_t offset = address == nullptr ? 0
                               : reinterpret_cast<std::uintptr_t>(address) -
                                     reinterpret_cast<std::uintptr_t>(hash_base_);
  result_.trace_hash = mix(result_.trace_hash,
                           current_ | std::uint64_t{static_cast<std::uint8_t>(kind)} << 8 |
                               std::uint64_t{bytes} << 16 | offset << 24);
  result_.trace_hash = mix(result_.trace_hash, value);
  if (options_.trace) {
    trace_.push_back(TraceEvent{step_, now_ns_, current_, kind, bytes, address, value, where, read_from_});
  }
  if (read_from_.valid) last_read_ = read_from_;
  read_from_.valid = false;
  if (current_ < kActorsMax) {
    StepCounts& counts = step_counts_[current_];
    ++counts.accesses;
    counts.waits += kind == AccessKind::Wait || kind == AccessKind::Pause ? 1 : 0;
  }
  if (hook_ != nullptr &&
      (kind == AccessKind::Store || kind == AccessKind::Rmw || kind == AccessKind::CopyIn)) {
    if (!hook_(context_, hook_message_)) fail(RunStatus::InvariantBroken, std::move(hook_message_));
  }
}

std::uint32_t Scheduler::choose_read(std::uint32_t candidates) {
  assert(candidates >= 2);
  assert(candidates <= kReadChoicesMax);
  assert(current_ < actor_count_);
  const std::uint32_t behind =
      strategy_->choose(Decision{step_, current_, runnable_mask_, DecisionKind::Read, candidates});
  assert(behind < candidates);
  result_.choices.push_back(static_cast<std::uint8_t>(kReadChoice + behind));
  result_.preemptive.push_back(0);
  result_.stale_reads += behind != 0 ? 1 : 0;
  return behind;
}

void Scheduler::fail_memory() {
  assert(weak());
  std::string message = weak_->error();
  if (const void* address = weak_->error_address(); address != nullptr && namer_ != nullptr) {
    message += " (word: " + namer_(context_, address) + ")";
  }
  const bool race = message.rfind("data race", 0) == 0;
  fail(race ? RunStatus::DataRace : RunStatus::InvariantBroken, std::move(message));
}

void Scheduler::note_store() noexcept {
  steps_since_store_ = 0;
  // Pollers re-check only when something changed.
  for (std::uint32_t mask = paused_mask_; mask != 0; mask &= mask - 1) {
    make_runnable(static_cast<std::uint32_t>(std::countr_zero(mask)));
  }
}

void Scheduler::stamp_invoke(linearizability::HappensBefore& hb) noexcept {
  if (!weak() || current_ >= actor_count_) return;
  static_assert(linearizability::kClockActorsMax == kActorsMax);
  const VectorClock& clock = weak_->clock(current_);
  hb.set = true;
  hb.actor = current_;
  for (std::uint32_t i = 0; i < kActorsMax; ++i) hb.invoke[i] = clock.at[i];
}

void Scheduler::stamp_response(linearizability::HappensBefore& hb) noexcept {
  if (!weak() || current_ >= actor_count_) return;
  assert(hb.set);
  hb.response = weak_->clock(current_).at[current_];
  weak_->tick_actor(current_);
}

std::string Scheduler::name_of(const void* address) const {
  if (namer_ == nullptr) return "?";
  return namer_(context_, address);
}

bool Scheduler::block_on(const void* word, std::uint64_t deadline_ns, std::uint64_t jump_deadline_ns) {
  const std::uint32_t me = current_;
  assert(me < actor_count_);
  if (weak()) weak_->flush(me, step_);
  Actor& a = actors_[me];
  a.state = ActorState::Blocked;
  a.blocked_on = word;
  a.deadline_ns = deadline_ns;
  a.jump_deadline_ns = jump_deadline_ns < deadline_ns ? deadline_ns : jump_deadline_ns;
  a.woken = false;
  const std::uint32_t bit = 1u << me;
  runnable_mask_ &= ~bit;
  blocked_mask_ |= bit;
  if (deadline_ns != kNoDeadline) timed_mask_ |= bit;
  reschedule();
  return actors_[me].woken;
}

void Scheduler::pause(std::uint64_t deadline_ns) {
  const std::uint32_t me = current_;
  assert(me < actor_count_);
  if (weak()) weak_->flush(me, step_);
  Actor& a = actors_[me];
  a.state = ActorState::Paused;
  a.deadline_ns = deadline_ns;
  a.jump_deadline_ns = deadline_ns;
  const std::uint32_t bit = 1u << me;
  runnable_mask_ &= ~bit;
  paused_mask_ |= bit;
  if (deadline_ns != kNoDeadline) timed_mask_ |= bit;
  reschedule();
}

void Scheduler::wake_all(const void* word) noexcept {
  for (std::uint32_t mask = blocked_mask_; mask != 0; mask &= mask - 1) {
    const auto i = static_cast<std::uint32_t>(std::countr_zero(mask));
    if (actors_[i].blocked_on != word) continue;
    // The kernel's futex hash-bucket lock orders the wake before the woken waiter's return.
    if (weak() && current_ < actor_count_) weak_->synchronize(current_, i);
    actors_[i].woken = true;
    make_runnable(i);
  }
}

void Scheduler::reschedule() {
  // Bounded: each pass either finds a runnable actor or ends the run; time jumps release at least
  // one timed actor.
  for (std::uint32_t pass = 0; runnable_mask_ == 0; ++pass) {
    assert(pass < 2 * kActorsMax + 2);
    // A park slice alone never ends a wait in which everyone waits: without a lost wake-up, a
    // correct lane never gets here with nothing but slices pending. Jump to the earliest caller's
    // deadline (slices that end before it are released on the way).
    std::uint64_t earliest = kNoDeadline;
    for (std::uint32_t mask = timed_mask_; mask != 0; mask &= mask - 1) {
      const Actor& t = actors_[std::countr_zero(mask)];
      earliest = std::min(earliest, t.state == ActorState::Blocked ? t.jump_deadline_ns : t.deadline_ns);
    }
    if (earliest != kNoDeadline) {
      now_ns_ = std::max(now_ns_, earliest);
      release_timeouts();
      continue;
    }
    if (paused_mask_ != 0 && steps_since_store_ < kSpinStepsMax) {
      // Nobody else can run: the pollers spin on (their checks may depend on the round).
      for (std::uint32_t mask = paused_mask_; mask != 0; mask &= mask - 1) {
        make_runnable(static_cast<std::uint32_t>(std::countr_zero(mask)));
      }
      continue;
    }
    result_.status = RunStatus::Deadlock;
    result_.message = describe_waiters();
    abort_to_main();
  }
  choose_and_switch(kNoActor);
}

std::string Scheduler::describe_waiters() const {
  std::string out = "every actor is waiting with no deadline:";
  for (std::uint32_t i = 0; i < actor_count_; ++i) {
    const Actor& a = actors_[i];
    out += " actor " + std::to_string(i);
    switch (a.state) {
      case ActorState::Blocked:
        out += " parked on " + name_of(a.blocked_on) +
               (a.deadline_ns != kNoDeadline ? " (only its park slice would wake it);" : ";");
        break;
      case ActorState::Paused: out += " polling with no store for " + std::to_string(steps_since_store_) + " steps;"; break;
      case ActorState::Done: out += " finished;"; break;
      case ActorState::Runnable: out += " runnable;"; break;
    }
  }
  return out;
}

void Scheduler::fail(RunStatus status, std::string message) {
  result_.status = status;
  result_.message = std::move(message);
  abort_to_main();
}

void Scheduler::abort_to_main() {
  assert(current_ < actor_count_);
  switch_to(kMain);
  // Nobody resumes an aborted run's fiber.
  std::abort();
}

}  // namespace indexbus::sim

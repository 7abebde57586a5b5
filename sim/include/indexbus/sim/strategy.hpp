// Exploration strategies. A run is fully determined by (scenario, strategy, seed): every strategy
// draws only from its own seeded generator, and the scheduler asks it only at decisions with two or
// more runnable actors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/sim/scheduler.hpp"

namespace indexbus::sim {

// splitmix64: tiny, fast and good enough for schedule choices.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) (bound > 0); the bias of a 64-bit modulo is irrelevant here.
  std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }

 private:
  std::uint64_t state_;
};

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) noexcept;

// A read decision of a randomized strategy: the newest store, or with probability 1/one_in an
// older one, uniformly among them.
std::uint32_t random_read_choice(Rng& rng, const Decision& d, std::uint32_t one_in) noexcept;

// Random walk: a uniformly random runnable actor at each decision; a load reads an older store
// than the newest it may read one time in kStaleOneIn. Where a clock jump is offered
// (Decision::jumps_left), the clock one time in clock_one_in, before the actor is drawn.
// clock_one_in defaults to kClockOneIn; the explorer passes a quarter of the mean steps of the runs
// so far instead (clock_one_in_for): with jumps on every step is a decision, so 1/16
// would spend every jump in the first few dozen steps (the attaches), and a jump must be able to
// land anywhere in the run, e.g. between a late commit's heartbeat and its cursor store.
class RandomStrategy final : public Strategy {
 public:
  static constexpr std::uint32_t kStaleOneIn = 4;
  static constexpr std::uint64_t kClockOneIn = 16;
  explicit RandomStrategy(std::uint64_t seed, std::uint64_t clock_one_in = kClockOneIn) noexcept
      : rng_(seed), clock_one_in_(clock_one_in < 2 ? 2 : clock_one_in) {}
  std::uint32_t choose(const Decision& d) override;
  static std::uint64_t clock_one_in_for(std::uint64_t steps_estimate) noexcept {
    return steps_estimate / 4 > kClockOneIn ? steps_estimate / 4 : kClockOneIn;
  }

 private:
  Rng rng_;
  std::uint64_t clock_one_in_;
};

// PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities, the highest-priority runnable
// actor always runs, and at depth - 1 random steps in [1, steps_estimate] the running actor drops
// below every initial priority. Finds any bug of depth d with probability >= 1/(n k^(d-1)).
// Read decisions (weak memory) are drawn from a separate generator, stale one time in kStaleOneIn,
// so that the actor schedule of a seed is the same whatever the loads read.
// Clock jumps, where offered: like the change points, kClockPoints jump steps drawn uniformly in
// [1, jump_steps_estimate] (the explorer passes the mean steps of the runs so far, as for the
// random walk; 0: steps_estimate) (from a third generator, so a seed's priorities and change points are the
// same with jumps on or off); the first decision at or past a jump step where a jump is offered
// chooses the clock. A jump is a preemption by time, placed as PCT places its priority changes:
// anywhere in the run with equal chance, few per run.
class PctStrategy final : public Strategy {
 public:
  static constexpr std::uint32_t kStaleOneIn = 8;
  static constexpr std::uint32_t kClockPoints = 3;
  PctStrategy(std::uint64_t seed, std::uint32_t actor_count, std::uint32_t depth,
              std::uint64_t steps_estimate, std::uint64_t jump_steps_estimate = 0);
  std::uint32_t choose(const Decision& d) override;

 private:
  std::vector<std::uint64_t> change_steps_;  // sorted
  std::size_t next_change_ = 0;
  std::uint32_t priority_[kActorsMax] = {};
  std::uint32_t lowered_ = 0;
  Rng read_rng_{0};
  std::vector<std::uint64_t> jump_steps_;  // sorted
  std::size_t next_jump_ = 0;
};

// Replays a recorded choice list; past its end (or, when lenient, where a recorded choice cannot
// run) it makes the non-preemptive choice, and a read reads the newest store. A recorded clock
// jump is taken where a jump is offered; where none is (no jumps left), it is skipped (strict
// replay records the divergence) and the next recorded choice answers the decision. Strict replay
// records where it diverged. A read decision met where the list holds an actor choice reads the
// newest store and consumes nothing, so a schedule recorded under sequential consistency (no read
// letters) replays under the weak model as the same execution: one where every load reads the
// newest store is sequentially consistent.
class ReplayStrategy final : public Strategy {
 public:
  ReplayStrategy(std::vector<std::uint8_t> choices, bool strict)
      : choices_(std::move(choices)), strict_(strict) {}
  std::uint32_t choose(const Decision& d) override;
  std::optional<std::size_t> diverged_at() const noexcept { return diverged_at_; }

 private:
  std::vector<std::uint8_t> choices_;
  std::size_t index_ = 0;
  bool strict_;
  std::optional<std::size_t> diverged_at_;
};

// Bounded exhaustive search (CHESS, Musuvathi and Qadeer, PLDI 2007): a depth-first walk over
// decision sequences by re-execution, keeping only schedules with at most preemption_bound
// preemptions (a switch away from an actor that could have continued) and, under the weak memory
// model, at most stale_bound loads that read an older store than the newest. Where a clock jump is
// offered it is one more alternative of the decision, costing one preemption (a jump preempts the
// running actor by time), so the preemption bound also bounds the jumps. Call begin_run()
// before each run and advance() after it; advance() returns false once the bounded space is
// exhausted.
class ExhaustiveStrategy final : public Strategy {
 public:
  explicit ExhaustiveStrategy(std::uint32_t preemption_bound, std::uint32_t stale_bound = 1) noexcept
      : bound_(preemption_bound), stale_bound_(stale_bound) {}
  void begin_run() noexcept { depth_ = 0; }
  std::uint32_t choose(const Decision& d) override;
  bool advance();
  bool nondeterminism_seen() const noexcept { return nondeterministic_; }

 private:
  struct Node {
    DecisionKind kind = DecisionKind::Actor;
    std::uint32_t mask = 0;        // Actor: runnable mask; Read: the candidate count
    std::uint32_t jumps_left = 0;  // Actor: a clock jump is an alternative when non-zero
    std::uint32_t current = kNoActor;
    std::uint32_t chosen = 0;
    std::uint32_t tried = 0;
    std::uint32_t preemptions_before = 0;
    std::uint32_t stale_before = 0;
  };
  std::uint32_t bound_;
  std::uint32_t stale_bound_;
  std::vector<Node> path_;
  std::size_t depth_ = 0;
  bool nondeterministic_ = false;
};

// The compact schedule string of a choice list: actor letters with run lengths, "a3ba2" for
// a a a b a a; a clock jump as 't'; read choices as capitals, 'A' for the newest store, 'B' one
// behind, ... Empty means "no decisions".
std::string encode_schedule(const std::vector<std::uint8_t>& choices);
std::optional<std::vector<std::uint8_t>> decode_schedule(std::string_view text);

}  // namespace indexbus::sim

// A linearizability checker for histories in which every actor (a producer, a consumer, a reader)
// runs its operations one after another: Wing and Gong's search with memoization of
// (linearized set, model state), as in Lowe's "Testing for linearizability" and Porcupine, with
// P-compositionality (Horn and Kroening, "Faster linearizability checking via P-compositionality")
// where a model allows it.
//
// Why it lives here and not in sim/: the multi-process harness (conformance/) records the same
// kind of history with real clocks, so the checker depends on nothing but the sequential model
// (spec/) and the standard library: no fibers, no lane code.
//
// The search. A history is linearizable if its operations can be put in one order that (a)
// respects real time: if x returned before y was invoked, x comes first; and (b) is legal for the
// model: stepping the model through the order reproduces every observed result. Because each
// actor is sequential (its next operation is invoked after the previous returned), program order
// is a sub-order of real time, so every set of operations that can be linearized first is a
// prefix of each actor's list: the linearized set is a vector of per-actor counts. The search is
// a depth-first walk over (counts, state); a configuration seen before (same counts, same state
// hash) cannot lead anywhere new and is skipped. Memoized configurations are kept as 64-bit hashes,
// not as states: with n configurations the chance of a false "seen" is about n^2 / 2^64,
// negligible next to the memory a million stored states would need.
//
// Blocking operations with deadlines. The model's blocking operations answer Timeout exactly where
// the lane would have to wait (spec/model/events_model.hpp). So the rule is the ordinary one:
// each operation must linearize at some point of its interval where the model returns what the
// lane returned. A blocking write or read that succeeded linearizes as the success at a point where
// it could proceed; one that returned Timeout linearizes as a no-op at a point where the model
// says it would have to wait (full, or empty and open). A Timeout therefore needs only one moment
// of its interval at which waiting was justified, which is what a lane that re-checks once after
// its deadline guarantees.
//
// Pending operations (invoked, never returned: the run ended in a deadlock or a crash) may be
// linearized anywhere after their invocation with whatever result the model gives, or left out;
// where the history knows when the process died (Operation::pending_deadline_time), only before
// that moment: not after any operation invoked later.
//
// What makes check() fast, and why each rule keeps every verdict honest (check_baseline() in
// baseline.hpp is the search before these rules, kept to compare against):
//
//  1. Candidate order. At each configuration the candidates (each actor's next operation that no
//     other unlinearized operation precedes) are tried earliest invocation first, pending ones
//     last: an operation tends to take effect early in its interval, and the search then follows
//     the run. (On lin_checker_bench's histories, earliest response first needed up to four
//     times the configurations on Drop lanes and saved at most a quarter on Block lanes; trying
//     first a candidate about to be forced halved Fanout Block but ran one Fanout Drop history
//     into the configuration bound.) Order changes only which linearization is found first,
//     never whether one is found: every candidate is still tried before a configuration is
//     given up.
//  2. Pending operations. A pending operation is only linearized where stepping it changes the
//     state. Where it changes nothing, linearizing it there gives a configuration that differs
//     from "left out" only in its own count, and that count matters to nobody: a pending
//     operation is its actor's last (an actor with a pending operation and a later one is
//     rejected as malformed), it has no result to match, and it precedes nothing (it never
//     returned). So every linearization that places it there is matched by one that leaves it
//     out, which the search still tries. The search ends as soon as every completed operation is
//     placed: pending ones may stay out. A pending operation with a deadline stops being a
//     candidate once an operation invoked after the deadline is placed (checked against the
//     largest invocation time placed so far). Each placement of a pending operation is its own
//     branch, and under Drop each gives another state, so a rejection must rule them all out:
//     a deadline is what keeps that to the few operations around the kill.
//  3. Frames without copies. A configuration with other candidates left pushes a frame holding its
//     state, moved (not copied) out of the walk, and the untried candidates. At most
//     kFrameStatesMax frames keep their states; an older frame gets its state back by replaying
//     the order from a checkpoint (one kept every kCheckpointDepth placed operations). The states
//     are the same either way: the model is pure.
//  4. P-compositionality. A model adapter may declare projections (the Projectable concept
//     below): for projection p, an initial state and a mapping of each operation to an operation
//     of p, or to nothing. The adapter promises a simulation: for every linearization of the
//     whole history, the projected order (mapped operations, in the same order, observed results
//     unchanged, some pending operations possibly left out, as any pending operation may be) is
//     legal from p's initial state. Then:
//       - a projection that is not linearizable proves the whole history is not: a linearization
//         of the whole would project to one of the projection (the projected order keeps real
//         time, being a sub-order, and is legal by the promise). That is a sound rejection.
//       - projections that are all linearizable prove nothing by themselves: operations shared by
//         several projections (the producer's writes) must take one place in all of them at once.
//         Example: a write overlapping two reads, consumer B's read returns the entry and then,
//         later in real time, consumer A's read returns Empty. Each projection alone linearizes
//         (B after the write, A before it), the whole does not. So the projections' orders are
//         merged at their shared operations (operations no projection holds, such as a write
//         refused for space, placed as early as they may go) and the merged order is replayed
//         against the model and real time (verify_order); only a verified order is a
//         Linearizable verdict. When the merge or the replay fails, the whole-history search
//         decides. On long histories it often fails: each projection places a long shared write
//         where its own reads allow, and two projections may choose places that real time
//         between their reads cannot reconcile although other places would. So projections
//         mostly make rejections fast.
//     check() first searches the whole history with a budget of kFirstPassPerOperation
//     configurations per operation (lin_checker_bench's linearizable histories need 1.5 to 6),
//     then the projections, then the whole history again with what is left of the bounds.
//     Which models declare projections, and why each split is a simulation, is argued next to
//     each adapter (rings.hpp: FanoutBroadcast per consumer, SequencedSlots per group of
//     consumers joined by gating, Journal per reader record when readers are never evicted).
//     Events declares none: its one producer and one consumer share every entry, and a history
//     of two actors is cheap to search whole. Lanes are already checked one history at a time,
//     which is per-lane P-compositionality (Herlihy and Wing's locality).
//  5. The memo by depth. The memoized configurations are kept in one hash set per block of
//     kMemoDepthBlock depths (operations placed), not in one set. Only where a key is stored
//     changes: two configurations of different depths have different counts, so they are never
//     the same configuration and never needed comparing; configurations of one depth go to one
//     set and are compared exactly as before. What it buys: the walk visits configurations of
//     nearby depths one after another, so an insert touches a small set it used a moment ago
//     (one set of millions missed the cache at nearly every insert: a fifth of the time of a
//     4-million-configuration rejection).
//  6. Interchangeable pending operations. At a configuration where two pending operations are
//     both candidates, have equal operations (Op ==) and the same pending_deadline_time, only
//     the one of the lower actor is tried. Placing either gives the same state; the two
//     configurations differ only in which of the two is left, and the one left is as placeable as
//     the other for the rest of the walk: a pending operation that is a candidate stays one
//     (its actor's earlier operations are placed, and what precedes it stays placed), precedes
//     nothing (it never returned), has no result to match, is its actor's last (rule 2), and the
//     deadline test reads only pending_deadline_time, the same for both. Swapping the two in any
//     order of the rest maps every linearization from one configuration to one from the other,
//     so one is linearizable exactly when the other is, and trying the second is redundant.
//     (Operations that differ but would change the state alike, a blocking and a non-blocking
//     read, are not merged: the checker knows the model only through step(), and equal effects
//     at one state say nothing of the effects at the states the rest of the walk reaches.) Two
//     killed consumers' identical reads otherwise cost the search twice, once for each being the
//     one that took effect first; lin_checker_bench's events-drop-bad, seed 2, needed 4.15 M
//     configurations with them and 2.79 M without.
//  7. Hopeless configurations. A model may say (HopelessCheck below) which parts of its state
//     each operation changes, and, for an operation whose observed result the state cannot give,
//     which parts must change first (Events: a read that returned entry 7 while read_seq is 5
//     needs a consumer operation first; no write moves read_seq). At each configuration, if some
//     actor's next operation y, completed, needs a part that no operation which may still go
//     before y can change, the configuration has no completion and is given up. Which operations
//     may go before y: those of other actors that y does not precede, and of those, per actor,
//     only a run from its next operation (an operation goes only after its actor's earlier ones,
//     and once y precedes one it precedes all that follow it in real time); y's own later
//     operations never do. Pending operations count as any other: a killed consumer's read, invoked
//     before y returned, may still move the cursor. With CountedHopelessCheck the model also says
//     how many changing operations y needs at least (Events: a Lost of k needs written to reach
//     read_seq + k + C, one write at a time), and the configuration is given up when the other
//     actors have fewer such operations invoked before y returned (real-time histories only:
//     under happens-before the run is not found by invocation time). Sound: the model's promise
//     says no completion exists. Complete: only configurations without a completion are given
//     up. What it buys: a killed consumer's pending read placed where no later read can agree
//     with it used to be carried on until a later read was forced by real time (through a pause
//     of hundreds of writes: hundreds of placements times hundreds of configurations each);
//     now it is given up where it is placed. lin_checker_bench events-drop-bad, seed 2: 2.79 M
//     configurations before, 2.12 M with the observable hash (events.hpp), 1.08 M with rule 7.
//
// Bounds: the search visits at most options.configurations_max configurations, and runs at most
// options.time_limit_ns of wall time (0: no limit; the clock is read every 4096 configurations),
// then reports Unknown rather than running on. Configurations of the projections and of both
// whole-history passes count against the same bounds.
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace indexbus::linearizability {

// What the checker needs of a sequential model: a pure step and a hash of the state.
template <typename M>
concept SequentialModel = requires(const typename M::State& s, const typename M::Op& op,
                                   const typename M::Result& r) {
  { M::step(s, op) } -> std::same_as<std::pair<typename M::State, typename M::Result>>;
  { M::hash(s) } -> std::same_as<std::uint64_t>;
  { M::same_result(r, r) } -> std::same_as<bool>;
};

// Optional P-compositionality (see the header comment, rule 4). projections(initial): how many
// projections this configuration allows (0 or 1: none). projection_initial(initial, p): the state
// projection p starts from. project(initial, p, op, observed): op as projection p sees it, or
// nullopt when p leaves it out; observed is the history's result (nullopt: pending), which a
// projection may use to leave out an operation that changed nothing (a write that answered Full).
// The contract: every linearization of the whole history projects to a linearization of p (some
// pending operations possibly left out of it).
template <typename M>
concept Projectable =
    SequentialModel<M> && requires(const typename M::State& s, std::uint32_t p, const typename M::Op& op,
                                   const std::optional<typename M::Result>& observed) {
      { M::projections(s) } -> std::same_as<std::uint32_t>;
      { M::projection_initial(s, p) } -> std::same_as<typename M::State>;
      { M::project(s, p, op, observed) } -> std::same_as<std::optional<typename M::Op>>;
    };

// Optional (rule 7, hopeless configurations): changes(op) is the parts of the state op may
// change, as bits of the model's choosing; needs_first(state, op, observed) is 0 (nothing claimed)
// or a mask m of parts with this promise: op does not return `observed` in `state`, nor in any
// state reached from it by operations o with changes(o) & m == 0. Example (Events): a read that
// returned entry 7 while read_seq is 5 needs a consumer operation first; no write can help.
template <typename M>
concept HopelessCheck =
    SequentialModel<M> && requires(const typename M::State& s, const typename M::Op& op, const typename M::Result& r) {
      { M::changes(op) } -> std::same_as<std::uint32_t>;
      { M::needs_first(s, op, r) } -> std::same_as<std::uint32_t>;
    };

// Optional, with HopelessCheck (rule 7, counted): changes_needed(state, op, observed, part) is 0
// (nothing claimed) or a number n with this promise: op does not return `observed` in `state`, nor
// in any state reached from it by operations among which fewer than n have changes(o) & part.
template <typename M>
concept CountedHopelessCheck =
    HopelessCheck<M> && requires(const typename M::State& s, const typename M::Op& op, const typename M::Result& r,
                                 std::uint32_t part) {
      { M::changes_needed(s, op, r, part) } -> std::same_as<std::uint64_t>;
    };

inline constexpr std::uint64_t kPendingTime = std::numeric_limits<std::uint64_t>::max();

// Happens-before instead of real time (the simulator's weak memory model). Under a weak memory
// model, "x returned before y was invoked" in the interleaving is not observable unless x's return
// happens before y's invocation: without that, y's thread cannot know x returned, and y may see
// memory as it was before x. So when both operations carry a stamp, x precedes y iff y's invoking
// thread's vector clock at the invocation covers x's response: invoke[x.actor] >= response.
inline constexpr std::uint32_t kClockActorsMax = 8;
struct HappensBefore {
  bool set = false;
  std::uint32_t actor = 0;                                 // the thread (simulator actor) that ran it
  std::uint32_t invoke[kClockActorsMax] = {};              // its vector clock at the invocation
  std::uint32_t response = std::numeric_limits<std::uint32_t>::max();  // its own epoch at the response
};

// One operation of a history. Times are in any unit that orders events (simulated steps, or
// CLOCK_MONOTONIC ns); x precedes y in real time iff x.response_time < y.invoke_time.
template <typename Op, typename Result>
struct Operation {
  std::uint32_t actor = 0;
  Op op;
  std::optional<Result> result;  // nullopt: pending (never returned)
  std::uint64_t invoke_time = 0;
  std::uint64_t response_time = kPendingTime;
  HappensBefore hb{};
  // A pending operation whose process is known to have died at this time (a SIGKILL the harness
  // sent) took effect before it or never: it is not placed after an operation invoked later.
  // kPendingTime: not known (the operation may take effect at any later moment).
  std::uint64_t pending_deadline_time = kPendingTime;
};

// Does x precede y: real time, or happens-before where both carry a stamp.
template <typename Op, typename Result>
bool precedes(const Operation<Op, Result>& x, const Operation<Op, Result>& y) noexcept {
  if (x.hb.set && y.hb.set) {
    if (!x.result.has_value()) return false;
    return x.hb.actor < kClockActorsMax && y.hb.invoke[x.hb.actor] >= x.hb.response;
  }
  return x.response_time < y.invoke_time;
}

enum class Verdict : std::uint8_t { Linearizable, NotLinearizable, Unknown };

struct Options {
  std::uint64_t configurations_max = 10'000'000;  // about 400 MB of memoized hashes at most
  std::uint64_t time_limit_ns = 0;                // wall time; 0 = bounded by configurations only
};

struct CheckResult {
  Verdict verdict = Verdict::Unknown;
  // Linearizable: the order found (indices into the history). Otherwise the longest legal
  // prefix the search reached, which is where a report should look. (A rejection by a projection
  // gives that projection's longest legal prefix: a legal order of the model too, of fewer
  // operations.)
  std::vector<std::size_t> order;
  std::uint64_t configurations = 0;  // configurations visited
  std::string problem;               // a malformed history (an actor not sequential), or empty
  std::uint32_t projections = 0;     // projections searched (P-compositionality); 0: none
};

namespace detail {

inline std::uint64_t mix(std::uint64_t seed, std::uint64_t value) noexcept {
  value += 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

// Operations placed between two checkpoints, and frames that keep their states (rule 3).
inline constexpr std::size_t kCheckpointDepth = 64;
inline constexpr std::size_t kFrameStatesMax = 4096;
// The first whole-history pass of a Projectable model: configurations per operation, plus a floor.
inline constexpr std::uint64_t kFirstPassPerOperation = 4;
inline constexpr std::uint64_t kFirstPassMin = 4096;

// An open-addressing set of 64-bit hashes, at most 3/4 full.
inline constexpr std::size_t kKeySetSlotsMin = 64;
class KeySet {
 public:
  // False if key was already there.
  bool insert(std::uint64_t key) {
    if (key == 0) key = 1;  // 0 marks a free slot; one more collision in 2^64
    if ((size_ + 1) * 4 > table_.size() * 3) grow();
    std::size_t slot = key & mask_;
    // Bounded: a quarter of the table is free, so a free slot comes before a full lap.
    for (std::size_t probe = 0; probe < table_.size(); ++probe) {
      if (table_[slot] == 0) {
        table_[slot] = key;
        ++size_;
        return true;
      }
      if (table_[slot] == key) return false;
      slot = (slot + 1) & mask_;
    }
    assert(false);
    return false;
  }

 private:
  void grow() {
    std::vector<std::uint64_t> old = std::move(table_);
    table_.assign(std::max<std::size_t>(kKeySetSlotsMin, old.size() * 2), 0);
    mask_ = table_.size() - 1;
    size_ = 0;
    for (std::uint64_t key : old) {
      if (key != 0) insert(key);
    }
  }
  std::vector<std::uint64_t> table_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// The memoized configurations (rule 5): one KeySet per block of kMemoDepthBlock depths. Two
// configurations of different depths (operations placed) differ in their counts, so they never
// need comparing; and the depth-first walk visits configurations of nearby depths one after
// another, so each insert looks into a small table it used a moment ago instead of a random
// cache line of one table of millions.
inline constexpr std::size_t kMemoDepthBlock = 32;
class Memo {
 public:
  // False if the configuration (depth, key) was already there.
  bool insert(std::size_t depth, std::uint64_t key) {
    const std::size_t block = depth / kMemoDepthBlock;
    if (block >= blocks_.size()) blocks_.resize(block + 1);  // bounded by the history's length
    return blocks_[block].insert(key);
  }

 private:
  std::vector<KeySet> blocks_;
};

// The bounds of one check(), shared by every search it runs.
struct Budget {
  const Options& options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::uint64_t configurations = 0;

  // Read before a configuration is counted, so a limit of 1 ns stops before the first.
  bool out_of_time() const {
    if (options.time_limit_ns == 0 || configurations % 4096 != 0) return false;
    return std::chrono::steady_clock::now() - started > std::chrono::nanoseconds(options.time_limit_ns);
  }
  bool exhausted() const { return configurations >= options.configurations_max || out_of_time(); }
};

// Per actor, its operations in invocation order; a description of the first actor whose
// operations overlap, if any (the search needs each actor sequential).
template <typename Op, typename Result>
std::optional<std::string> actor_lists(const std::vector<Operation<Op, Result>>& history,
                                       std::vector<std::vector<std::size_t>>& lists) {
  std::uint32_t actor_count = 0;
  for (const auto& op : history) actor_count = std::max(actor_count, op.actor + 1);
  lists.assign(actor_count, {});
  for (std::size_t i = 0; i < history.size(); ++i) lists[history[i].actor].push_back(i);
  for (auto& list : lists) {
    std::sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
      return history[a].invoke_time < history[b].invoke_time;
    });
    for (std::size_t k = 0; k + 1 < list.size(); ++k) {
      const auto& a = history[list[k]];
      const auto& b = history[list[k + 1]];
      if (!a.result.has_value() || a.response_time > b.invoke_time) {
        return "actor " + std::to_string(a.actor) + " has overlapping operations";
      }
    }
  }
  return std::nullopt;
}

// Did stepping a pending operation change nothing (rule 2)? Equality where the state has it;
// otherwise the hash, which the memo trusts anyway.
template <SequentialModel M>
bool unchanged(const typename M::State& before, const typename M::State& after) {
  if constexpr (std::equality_comparable<typename M::State>) {
    return before == after;
  } else {
    return M::hash(before) == M::hash(after);
  }
}

// The depth-first search over (counts, state) of one history (the whole, or a projection).
// Resumable: run() stops at a configuration count and can be called again with a larger one.
template <SequentialModel M>
class Search {
 public:
  using State = typename M::State;
  using History = std::vector<Operation<typename M::Op, typename M::Result>>;

  // global[i]: the index of history[i] in the caller's history (empty: the same index). The
  // history must outlive the search, and every actor in it must be sequential (actor_lists).
  Search(const State& initial, const History& history, std::vector<std::size_t> global, Budget& budget)
      : history_(history), global_(std::move(global)), budget_(budget), state_(initial) {
    assert(global_.empty() || global_.size() == history_.size());
    std::vector<std::vector<std::size_t>> by_actor;
    [[maybe_unused]] const auto problem = actor_lists(history_, by_actor);
    assert(!problem);
    for (auto& list : by_actor) {
      if (!list.empty()) lists_.push_back(std::move(list));  // dense actor numbers
    }
    counts_.assign(lists_.size(), 0);
    if constexpr (HopelessCheck<M>) index_changes();
    for (std::uint32_t a = 0; a < lists_.size(); ++a) counts_key_ += count_term(a, 0);
    for (const auto& op : history_) completed_total_ += op.result.has_value() ? 1 : 0;
    checkpoints_.push_back(Checkpoint{0, initial});
    // The walk is at most one operation deep per operation, with at most one frame per depth:
    // reserving once keeps the states in frames from moving as the stack grows.
    order_.reserve(history_.size());
    order_actor_.reserve(history_.size());
    placed_invoke_max_.reserve(history_.size());
    frames_.reserve(history_.size());
  }

  // Searches until a verdict, or until the budget's configurations reach configurations_end or
  // its time runs out (Unknown). Not to be called again after a definite verdict.
  Verdict run(std::uint64_t configurations_end) {
    // Bounded by configurations_end and the time limit: one configuration per pass.
    for (;;) {
      if (completed_done_ == completed_total_) return Verdict::Linearizable;
      if (budget_.configurations >= configurations_end || budget_.out_of_time()) return Verdict::Unknown;
      ++budget_.configurations;
      const bool advanced = resume_next_ ? resume() : advance();
      resume_next_ = false;
      if (advanced) continue;
      note_dead_end();
      if (frames_.empty()) return Verdict::NotLinearizable;
      resume_next_ = true;
    }
  }

  std::vector<std::size_t> order() const { return to_global(order_); }
  std::vector<std::size_t> longest() const { return to_global(best_); }
  std::size_t placed() const { return order_.size(); }

 private:
  struct Frame {
    std::size_t depth = 0;               // operations placed at this configuration
    std::size_t alternatives_base = 0;   // its untried candidates: alternatives_[begin, end)
    std::size_t alternatives_begin = 0;
    std::size_t alternatives_end = 0;
    std::optional<State> state;          // nullopt: given up to the memory bound (rule 3)
  };
  struct Checkpoint {
    std::size_t depth = 0;
    State state;
  };

  // The counts' part of a key is a sum of one term per actor (Zobrist style, updated in O(1) per
  // step). mix() adds its seed to its value before mixing, so the actor goes through mix() first:
  // mix(actor, count) alone would make (actor 0, count 64) and (actor 1, count 0) the same term.
  static std::uint64_t count_term(std::uint32_t actor, std::size_t count) noexcept {
    return mix(mix(0x5bd1e9955bd1e995ull, actor), count);
  }

  std::vector<std::size_t> to_global(const std::vector<std::size_t>& local) const {
    if (global_.empty()) return local;
    std::vector<std::size_t> out;
    out.reserve(local.size());
    for (std::size_t i : local) out.push_back(global_[i]);
    return out;
  }

  // The candidates at this configuration, in the order to try them (rule 1).
  void collect_candidates() {
    candidates_.clear();
    const std::uint64_t placed_invoke_max = placed_invoke_max_.empty() ? 0 : placed_invoke_max_.back();
    for (std::uint32_t a = 0; a < lists_.size(); ++a) {
      if (counts_[a] == lists_[a].size()) continue;
      const auto& x = history_[lists_[a][counts_[a]]];
      if (!x.result.has_value() && placed_invoke_max > x.pending_deadline_time) continue;  // died before
      bool preceded = false;
      for (std::uint32_t b = 0; b < lists_.size() && !preceded; ++b) {
        if (b == a || counts_[b] == lists_[b].size()) continue;
        preceded = precedes(history_[lists_[b][counts_[b]]], x);
      }
      if (!preceded && !interchangeable_with_a_candidate(x)) candidates_.push_back(a);
    }
    auto rank = [&](std::uint32_t a) {
      const auto& x = history_[lists_[a][counts_[a]]];
      return std::make_tuple(!x.result.has_value(), x.invoke_time, a);
    };
    std::sort(candidates_.begin(), candidates_.end(), [&](std::uint32_t a, std::uint32_t b) { return rank(a) < rank(b); });
  }

  // Rule 7: per actor and per bit of changes(), the index of its first operation at or after
  // each position that may change that part (the list's size: none).
  void index_changes() {
    std::uint32_t all = 0;
    for (const auto& x : history_) all |= M::changes(x.op);
    for (std::uint32_t bit = 0; bit < 32; ++bit) {
      if ((all >> bit) & 1u) change_bits_.push_back(bit);
    }
    for (const auto& x : history_) real_time_ = real_time_ && !x.hb.set;
    changes_before_.assign(lists_.size() * change_bits_.size(), {});
    next_change_.assign(lists_.size() * change_bits_.size(), {});
    for (std::uint32_t a = 0; a < lists_.size(); ++a) {
      for (std::size_t k = 0; k < change_bits_.size(); ++k) {
        std::vector<std::uint32_t>& next = next_change_[a * change_bits_.size() + k];
        next.assign(lists_[a].size() + 1, static_cast<std::uint32_t>(lists_[a].size()));
        for (std::size_t i = lists_[a].size(); i-- > 0;) {  // bounded by the list
          const bool changes = (M::changes(history_[lists_[a][i]].op) >> change_bits_[k]) & 1u;
          next[i] = changes ? static_cast<std::uint32_t>(i) : next[i + 1];
        }
        std::vector<std::uint32_t>& before = changes_before_[a * change_bits_.size() + k];
        before.assign(lists_[a].size() + 1, 0);
        for (std::size_t i = 0; i < lists_[a].size(); ++i) {  // bounded by the list
          before[i + 1] = before[i] + ((M::changes(history_[lists_[a][i]].op) >> change_bits_[k]) & 1u);
        }
      }
    }
  }

  // Rule 7: is some actor's next operation, completed, one that cannot return its result here
  // (needs_first) while no operation that may still be placed before it can change what it needs?
  // An operation x of another actor goes before that operation y only if y does not precede x,
  // and then so do x's predecessors in its actor; so per actor, only its first operation that
  // changes a needed part is asked. y's own later operations never go before it.
  bool hopeless() const {
    for (std::uint32_t a = 0; a < lists_.size(); ++a) {
      if (counts_[a] == lists_[a].size()) continue;
      const auto& y = history_[lists_[a][counts_[a]]];
      if (!y.result.has_value()) continue;
      const std::uint32_t needed = M::needs_first(state_, y.op, *y.result);
      if (needed == 0) continue;
      bool helped = false;
      for (std::uint32_t b = 0; b < lists_.size() && !helped; ++b) {
        if (b == a) continue;
        for (std::size_t k = 0; k < change_bits_.size() && !helped; ++k) {
          if (((needed >> change_bits_[k]) & 1u) == 0) continue;
          const std::uint32_t j = next_change_[b * change_bits_.size() + k][counts_[b]];
          helped = j < lists_[b].size() && !precedes(y, history_[lists_[b][j]]);
        }
      }
      if (!helped) return true;
    }
    if constexpr (CountedHopelessCheck<M>) {
      if (real_time_ && too_few_changes_left()) return true;
    }
    return false;
  }

  // Rule 7, counted: is some actor's next operation y, completed, one that needs more operations
  // changing a part (changes_needed) than the other actors can still place before it? Those of
  // actor b that may go before y are its unplaced ones invoked no later than y returned (real
  // time: b's list is in invocation order, so they are a run from its next operation on); y's own
  // later operations never go before it.
  bool too_few_changes_left() const {
    for (std::uint32_t a = 0; a < lists_.size(); ++a) {
      if (counts_[a] == lists_[a].size()) continue;
      const auto& y = history_[lists_[a][counts_[a]]];
      if (!y.result.has_value()) continue;
      for (std::size_t k = 0; k < change_bits_.size(); ++k) {
        const std::uint64_t needed = M::changes_needed(state_, y.op, *y.result, 1u << change_bits_[k]);
        if (needed == 0) continue;
        std::uint64_t available = 0;
        for (std::uint32_t b = 0; b < lists_.size() && available < needed; ++b) {
          if (b == a) continue;
          const auto first = lists_[b].begin() + static_cast<std::ptrdiff_t>(counts_[b]);
          const auto end = std::partition_point(first, lists_[b].end(), [&](std::size_t i) {
            return !(y.response_time < history_[i].invoke_time);
          });
          const std::vector<std::uint32_t>& before = changes_before_[b * change_bits_.size() + k];
          available += before[static_cast<std::size_t>(end - lists_[b].begin())] - before[counts_[b]];
        }
        if (available < needed) return true;
      }
    }
    return false;
  }

  // Rule 6: is x a pending operation that one already among the candidates (with no result, the
  // same operation, the same deadline) stands for?
  bool interchangeable_with_a_candidate(const Operation<typename M::Op, typename M::Result>& x) const {
    if constexpr (std::equality_comparable<typename M::Op>) {
      if (x.result.has_value()) return false;
      for (std::uint32_t b : candidates_) {
        const auto& y = history_[lists_[b][counts_[b]]];
        if (!y.result.has_value() && y.pending_deadline_time == x.pending_deadline_time && y.op == x.op) return true;
      }
    }
    return false;
  }

  // Actor a's next operation stepped from `from`, if its result matches (or, pending, it changes
  // something) and the configuration it leads to is new.
  std::optional<State> try_step(const State& from, std::uint32_t a) {
    assert(a < lists_.size());
    assert(counts_[a] < lists_[a].size());
    const auto& x = history_[lists_[a][counts_[a]]];
    auto [next, result] = M::step(from, x.op);
    if (x.result.has_value()) {
      if (!M::same_result(*x.result, result)) return std::nullopt;
    } else if (unchanged<M>(from, next)) {
      return std::nullopt;
    }
    const std::uint64_t counts_key = counts_key_ - count_term(a, counts_[a]) + count_term(a, counts_[a] + 1);
    if (!seen_.insert(order_.size() + 1, mix(M::hash(next), counts_key))) return std::nullopt;
    return std::move(next);
  }

  void commit(std::uint32_t a, State&& next) {
    assert(counts_[a] < lists_[a].size());
    const std::size_t i = lists_[a][counts_[a]];
    counts_key_ += count_term(a, counts_[a] + 1) - count_term(a, counts_[a]);
    ++counts_[a];
    if (agree_ == order_.size() && agree_ < best_.size() && best_[agree_] == i) ++agree_;
    order_.push_back(i);
    order_actor_.push_back(a);
    placed_invoke_max_.push_back(std::max(placed_invoke_max_.empty() ? 0 : placed_invoke_max_.back(), history_[i].invoke_time));
    if (history_[i].result.has_value()) ++completed_done_;
    state_ = std::move(next);
    if (order_.size() % kCheckpointDepth == 0) checkpoints_.push_back(Checkpoint{order_.size(), state_});
  }

  bool advance() {
    if constexpr (HopelessCheck<M>) {
      if (hopeless()) return false;
    }
    collect_candidates();
    for (std::size_t k = 0; k < candidates_.size(); ++k) {
      std::optional<State> next = try_step(state_, candidates_[k]);
      if (!next) continue;
      if (k + 1 < candidates_.size()) push_frame(k + 1);
      commit(candidates_[k], std::move(*next));
      return true;
    }
    return false;
  }

  // A frame for this configuration with candidates_[first..] untried; takes state_ (rule 3).
  void push_frame(std::size_t first) {
    const std::size_t base = alternatives_.size();
    alternatives_.insert(alternatives_.end(), candidates_.begin() + static_cast<std::ptrdiff_t>(first), candidates_.end());
    frames_.push_back(Frame{order_.size(), base, base, alternatives_.size(), std::move(state_)});
    if (frames_.size() - first_stated_ > kFrameStatesMax) {
      frames_[first_stated_].state.reset();
      ++first_stated_;
    }
    assert(frames_.back().alternatives_begin < frames_.back().alternatives_end);
  }

  void pop_frame() {
    assert(!frames_.empty());
    alternatives_.resize(frames_.back().alternatives_base);
    frames_.pop_back();
    first_stated_ = std::min(first_stated_, frames_.size());
  }

  // Back to the configuration after the first `depth` operations of the order.
  void undo_to(std::size_t depth) {
    assert(depth <= order_.size());
    while (order_.size() > depth) {  // bounded by the order's length
      const std::uint32_t a = order_actor_.back();
      if (history_[order_.back()].result.has_value()) --completed_done_;
      counts_key_ += count_term(a, counts_[a] - 1) - count_term(a, counts_[a]);
      --counts_[a];
      order_.pop_back();
      order_actor_.pop_back();
      placed_invoke_max_.pop_back();
    }
    agree_ = std::min(agree_, depth);
    while (checkpoints_.back().depth > depth) checkpoints_.pop_back();  // depth 0 always stays
  }

  // The top frame gave its state up: replay from the checkpoint below it, handing their states
  // back to the frames met on the way, which are the next ones to resume.
  void rematerialize() {
    const Checkpoint& checkpoint = checkpoints_.back();
    assert(checkpoint.depth <= frames_.back().depth);
    std::size_t first = frames_.size() - 1;
    while (first > 0 && !frames_[first - 1].state && frames_[first - 1].depth >= checkpoint.depth) --first;
    State state = checkpoint.state;
    std::size_t depth = checkpoint.depth;
    for (std::size_t j = first; j < frames_.size(); ++j) {
      // Bounded: at most kCheckpointDepth steps in all.
      for (; depth < frames_[j].depth; ++depth) state = M::step(state, history_[order_[depth]].op).first;
      frames_[j].state = state;
    }
    assert(frames_.size() - first <= kCheckpointDepth + 1);  // distinct depths since the checkpoint
    first_stated_ = first;
  }

  // The top frame's next untried candidate; pops the frame once none is left.
  bool resume() {
    Frame& frame = frames_.back();
    undo_to(frame.depth);
    if (!frame.state) rematerialize();
    assert(frame.state.has_value());
    assert(frame.depth == order_.size());
    while (frame.alternatives_begin < frame.alternatives_end) {  // bounded by the actors
      const std::uint32_t a = alternatives_[frame.alternatives_begin++];
      std::optional<State> next = try_step(*frame.state, a);
      if (!next) continue;
      if (frame.alternatives_begin == frame.alternatives_end) pop_frame();
      commit(a, std::move(*next));
      return true;
    }
    pop_frame();
    return false;
  }

  // The longest order reached is what a report shows; best_ shares its first agree_ operations
  // with order_, so keeping it costs only what changed since it was last extended.
  void note_dead_end() {
    if (order_.size() <= best_.size()) return;
    best_.resize(agree_);
    best_.insert(best_.end(), order_.begin() + static_cast<std::ptrdiff_t>(agree_), order_.end());
    agree_ = order_.size();
  }

  const History& history_;
  std::vector<std::size_t> global_;
  Budget& budget_;
  std::vector<std::vector<std::size_t>> lists_;  // per (dense) actor, indices into history_
  std::vector<std::size_t> counts_;
  std::vector<std::uint32_t> change_bits_;                // rule 7: the bits changes() uses
  std::vector<std::vector<std::uint32_t>> next_change_;   // rule 7: [actor * bits + bit][position]
  std::vector<std::vector<std::uint32_t>> changes_before_;  // rule 7, counted: changing ops before a position
  bool real_time_ = true;                                 // no happens-before stamps: precedence is real time
  std::uint64_t counts_key_ = 0;  // sum of count_term over the actors: the counts' part of a key
  std::size_t completed_total_ = 0;
  std::size_t completed_done_ = 0;
  State state_;
  std::vector<std::size_t> order_;
  std::vector<std::uint32_t> order_actor_;
  std::vector<std::uint64_t> placed_invoke_max_;  // per position of order_: the largest invoke_time up to it
  std::vector<std::size_t> best_;
  std::size_t agree_ = 0;
  std::vector<std::uint32_t> candidates_;
  std::vector<std::uint32_t> alternatives_;
  std::vector<Frame> frames_;
  std::size_t first_stated_ = 0;  // frames_[first_stated_..] hold their states, the older ones not
  std::vector<Checkpoint> checkpoints_;
  Memo seen_;
  bool resume_next_ = false;
};

// Is `order` a linearization of the history: each actor's operations in program order, none
// placed while an unplaced one precedes it, every result reproduced by the model, every completed
// operation placed? The check behind every Linearizable verdict that does not come from the
// whole-history search itself (rule 4).
template <SequentialModel M>
bool verify_order(const typename M::State& initial,
                  const std::vector<Operation<typename M::Op, typename M::Result>>& history,
                  const std::vector<std::vector<std::size_t>>& lists, const std::vector<std::size_t>& order) {
  std::vector<std::size_t> placed(lists.size(), 0);
  typename M::State state = initial;
  std::size_t completed = 0;
  std::uint64_t placed_invoke_max = 0;
  for (std::size_t i : order) {
    if (i >= history.size()) return false;
    const auto& x = history[i];
    const std::uint32_t a = x.actor;
    if (placed[a] >= lists[a].size() || lists[a][placed[a]] != i) return false;
    if (!x.result.has_value() && placed_invoke_max > x.pending_deadline_time) return false;
    placed_invoke_max = std::max(placed_invoke_max, x.invoke_time);
    for (std::uint32_t b = 0; b < lists.size(); ++b) {
      if (b != a && placed[b] < lists[b].size() && precedes(history[lists[b][placed[b]]], x)) return false;
    }
    auto [next, result] = M::step(state, x.op);
    if (x.result.has_value() && !M::same_result(*x.result, result)) return false;
    state = std::move(next);
    ++placed[a];
    completed += x.result.has_value() ? 1 : 0;
  }
  std::size_t completed_total = 0;
  for (const auto& x : history) completed_total += x.result.has_value() ? 1 : 0;
  return completed == completed_total;
}

// Merges the projections' orders into one order of the whole history. Each pass places, first, an
// operation no projection holds (a write refused for space: it changed nothing, so every
// projection left it out) as soon as it is its actor's next and nothing unplaced precedes it: as
// early as it may go, where a refusal for space is likeliest to hold; then an operation of one
// projection that may go (earliest response first); then an operation shared by several
// projections once it heads every projection not yet exhausted. nullopt when the orders cannot be
// merged (they place a shared operation inconsistently). The result is only a candidate:
// verify_order decides. Pending operations no projection placed stay out.
template <typename Op, typename Result>
std::optional<std::vector<std::size_t>> merge_orders(const std::vector<Operation<Op, Result>>& history,
                                                     const std::vector<std::vector<std::size_t>>& lists,
                                                     const std::vector<std::vector<std::size_t>>& orders,
                                                     const std::vector<std::uint32_t>& appearances) {
  std::vector<std::size_t> merged;
  std::vector<std::size_t> position(orders.size(), 0);
  std::vector<std::size_t> placed(lists.size(), 0);
  auto ready = [&](std::size_t i) {
    const std::uint32_t a = history[i].actor;
    if (placed[a] >= lists[a].size() || lists[a][placed[a]] != i) return false;
    for (std::uint32_t b = 0; b < lists.size(); ++b) {
      if (b != a && placed[b] < lists[b].size() && precedes(history[lists[b][placed[b]]], history[i])) return false;
    }
    return true;
  };
  auto place = [&](std::size_t i) {
    merged.push_back(i);
    ++placed[history[i].actor];
  };
  auto loose = [&](std::size_t i) { return appearances[i] == 0 && history[i].result.has_value(); };
  std::size_t total = 0;
  for (const auto& order : orders) total += order.size();
  for (std::size_t i = 0; i < history.size(); ++i) total += loose(i) ? 1 : 0;
  // Bounded: every pass places an operation or returns.
  for (std::size_t pass = 0; pass <= total; ++pass) {
    std::optional<std::size_t> unheld;
    for (std::uint32_t a = 0; a < lists.size() && !unheld; ++a) {
      if (placed[a] < lists[a].size() && loose(lists[a][placed[a]]) && ready(lists[a][placed[a]])) unheld = lists[a][placed[a]];
    }
    if (unheld) {
      place(*unheld);
      continue;
    }
    std::optional<std::size_t> own;  // the projection whose head goes next
    for (std::size_t j = 0; j < orders.size(); ++j) {
      if (position[j] == orders[j].size()) continue;
      const std::size_t i = orders[j][position[j]];
      if (appearances[i] != 1 || !ready(i)) continue;
      if (!own || history[i].response_time < history[orders[*own][position[*own]]].response_time) own = j;
    }
    if (own) {
      place(orders[*own][position[*own]++]);
      continue;
    }
    std::optional<std::size_t> shared;
    bool exhausted = true;
    for (std::size_t j = 0; j < orders.size(); ++j) {
      if (position[j] == orders[j].size()) continue;
      exhausted = false;
      const std::size_t i = orders[j][position[j]];
      if (appearances[i] == 1) return std::nullopt;  // an own operation that cannot go yet
      if (shared && *shared != i) return std::nullopt;
      shared = i;
    }
    if (exhausted) return merged;  // a loose operation left unplaced fails verify_order
    if (!shared || !ready(*shared)) return std::nullopt;
    place(*shared);
    for (std::size_t j = 0; j < orders.size(); ++j) {
      if (position[j] < orders[j].size() && orders[j][position[j]] == *shared) ++position[j];
    }
  }
  return std::nullopt;
}

// Rule 4: search each projection; a rejection is the verdict, and so is a merged order that
// verifies. nullopt: the whole-history search must decide. searched: projections searched.
template <Projectable M>
std::optional<CheckResult> check_projections(const typename M::State& initial,
                                             const std::vector<Operation<typename M::Op, typename M::Result>>& history,
                                             const std::vector<std::vector<std::size_t>>& lists, Budget& budget,
                                             std::uint32_t& searched) {
  using History = std::vector<Operation<typename M::Op, typename M::Result>>;
  const std::uint32_t count = M::projections(initial);
  std::vector<History> subs(count);
  std::vector<std::vector<std::size_t>> globals(count);
  std::vector<std::uint32_t> appearances(history.size(), 0);
  for (std::uint32_t p = 0; p < count; ++p) {
    for (std::size_t i = 0; i < history.size(); ++i) {
      const auto& x = history[i];
      std::optional<typename M::Op> op = M::project(initial, p, x.op, x.result);
      if (!op) continue;
      subs[p].push_back({x.actor, std::move(*op), x.result, x.invoke_time, x.response_time, x.hb, x.pending_deadline_time});
      globals[p].push_back(i);
      ++appearances[i];
    }
  }
  // A projection with no operation of its own repeats what the others check.
  std::vector<std::uint32_t> useful;
  for (std::uint32_t p = 0; p < count; ++p) {
    const bool own = std::any_of(globals[p].begin(), globals[p].end(), [&](std::size_t i) { return appearances[i] == 1; });
    if (own) useful.push_back(p);
  }
  if (useful.size() < 2) return std::nullopt;

  CheckResult out;
  std::vector<std::vector<std::size_t>> orders;
  for (std::uint32_t p : useful) {
    Search<M> search(M::projection_initial(initial, p), subs[p], globals[p], budget);
    out.projections = ++searched;
    const Verdict verdict = search.run(budget.options.configurations_max);
    if (verdict == Verdict::Unknown) return std::nullopt;
    if (verdict == Verdict::NotLinearizable) {
      out.verdict = Verdict::NotLinearizable;
      out.order = search.longest();
      out.configurations = budget.configurations;
      return out;
    }
    orders.push_back(search.order());
  }
  std::optional<std::vector<std::size_t>> merged = merge_orders(history, lists, orders, appearances);
  if (!merged || !verify_order<M>(initial, history, lists, *merged)) return std::nullopt;
  out.verdict = Verdict::Linearizable;
  out.order = std::move(*merged);
  out.configurations = budget.configurations;
  return out;
}

}  // namespace detail

// The history may list operations in any order; each actor's operations must not overlap.
template <SequentialModel M>
CheckResult check(const typename M::State& initial,
                  const std::vector<Operation<typename M::Op, typename M::Result>>& history,
                  const Options& options = {}) {
  CheckResult out;
  std::vector<std::vector<std::size_t>> lists;
  if (auto problem = detail::actor_lists(history, lists)) {
    out.verdict = Verdict::Unknown;
    out.problem = std::move(*problem);
    return out;
  }
  detail::Budget budget{options};
  detail::Search<M> whole(initial, history, {}, budget);
  std::uint64_t whole_end = options.configurations_max;
  if constexpr (Projectable<M>) {
    if (M::projections(initial) > 1) {
      whole_end = std::min<std::uint64_t>(options.configurations_max,
                                          detail::kFirstPassPerOperation * history.size() + detail::kFirstPassMin);
    }
  }
  Verdict verdict = whole.run(whole_end);
  if constexpr (Projectable<M>) {
    if (verdict == Verdict::Unknown && !budget.exhausted()) {
      std::optional<CheckResult> composed = detail::check_projections<M>(initial, history, lists, budget, out.projections);
      if (composed) return std::move(*composed);
    }
    if (verdict == Verdict::Unknown) verdict = whole.run(options.configurations_max);
  }
  out.verdict = verdict;
  out.configurations = budget.configurations;
  switch (verdict) {
    case Verdict::Linearizable: out.order = whole.order(); break;
    case Verdict::NotLinearizable: out.order = whole.longest(); break;
    case Verdict::Unknown: {
      std::vector<std::size_t> longest = whole.longest();
      out.order = longest.size() >= whole.placed() ? std::move(longest) : whole.order();
      out.problem = "gave up after " + std::to_string(out.configurations) + " configurations" +
                    (out.configurations >= options.configurations_max ? "" : " (time limit)");
      break;
    }
  }
  return out;
}

// P-compositionality alone (rule 4), without the whole-history search: NotLinearizable when a
// projection rejects, Linearizable when the projections' orders merge into an order that
// verifies, Unknown otherwise (problem says why). check() uses the same steps; this entry point is
// for tests and benchmarks, which need to see the projections decide on histories small enough
// for the whole-history search to decide first.
template <Projectable M>
CheckResult check_by_projections(const typename M::State& initial,
                                 const std::vector<Operation<typename M::Op, typename M::Result>>& history,
                                 const Options& options = {}) {
  CheckResult out;
  std::vector<std::vector<std::size_t>> lists;
  if (auto problem = detail::actor_lists(history, lists)) {
    out.problem = std::move(*problem);
    return out;
  }
  detail::Budget budget{options};
  std::optional<CheckResult> composed = detail::check_projections<M>(initial, history, lists, budget, out.projections);
  if (composed) return std::move(*composed);
  out.configurations = budget.configurations;
  out.problem = budget.exhausted() ? "gave up after " + std::to_string(out.configurations) + " configurations"
                                   : "the projections did not decide (fewer than two, or their orders do not merge)";
  return out;
}

}  // namespace indexbus::linearizability

// The sequential models of the three ring lanes (spec/: journal_model, sequenced_slots_model,
// fanout_model) in the shape the checker wants, as events.hpp does for Events. The simulator's
// ring adapter and any harness that records ring histories use them.
//
// P-compositionality (checker.hpp, rule 4), decided per lane kind. A projection must be a
// simulation: for every linearization of the whole history, the projected operations in the same
// order (some pending operations possibly left out, as any pending operation may be) are a
// linearization of the projection. The projected order keeps real time, being a sub-order; what
// each adapter argues below is that it stays legal for the model.
//
//  - FanoutBroadcast: one projection per consumer, a lane with that consumer only.
//  - SequencedSlots: one projection per group of consumers joined by gating (weakly connected in
//    gated_on), a lane with only that group.
//  - Journal: one projection per reader record, when readers are never evicted
//    (reader_timeout_ns = 0); with evictions a blocked writer changes every silent reader's
//    record, so there is none.
// Block and Drop alike: a write the whole lane accepted would be accepted by the projection's lane
// too, and one it refused for space changed nothing and is left out. The projections only ever
// reject on their own; a Linearizable verdict needs their orders merged and replayed against the
// whole model.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/two_step.hpp"
#include "indexbus/spec/fanout_model.hpp"
#include "indexbus/spec/journal_model.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"

namespace indexbus::linearizability {

namespace detail {

// A write (of either model) that answered Full or Timeout, which changes nothing (FB-4, SS-6).
inline bool refused_for_space(WriteStatus status) noexcept {
  return status == WriteStatus::Full || status == WriteStatus::Timeout;
}

// Is an observed write result one whose write began (two_step.hpp): accepted, or pending.
template <typename Result>
bool accepted_or_pending(const std::optional<Result>& observed) noexcept {
  if (!observed) return true;
  const auto* outcome = std::get_if<spec::WriteOutcome>(&*observed);
  return outcome != nullptr && outcome->status == WriteStatus::Ok;
}

inline std::uint32_t bytes_of(const spec::Bytes& payload) noexcept {
  return static_cast<std::uint32_t>(payload.size());
}

// The entries a reader from `first_seq` on can still read, in a projection's canonical form.
inline std::deque<spec::RetainedEntry> retained_from(const std::deque<spec::RetainedEntry>& retained,
                                                     std::uint64_t first_seq) {
  std::deque<spec::RetainedEntry> out;
  for (const spec::RetainedEntry& entry : retained) {
    if (entry.seq >= first_seq) out.push_back(entry);
  }
  return out;
}

}  // namespace detail

// Projection k (reader_timeout_ns = 0 only): the writer's operations, the clock, and the
// operations of reader record k, in a lane of the same configuration whose other records stay
// free. Operations name records, not readers, so this needs no renaming; an attach belongs to the
// record its result names. Why that is a simulation (the projection's state is the whole state
// with every record but k free: written, closed, the clock, the retained window, record k):
//  - a read, read_at, commit, heartbeat or detach of record k reads and changes record k, written,
//    closed, the clock and the retained window only (JR-4..JR-8, JR-10): the same in both;
//  - an operation of another record changes only that record: left out;
//  - an attach whose result is record k is rewritten to name k as the record it took (JR-3's
//    concurrent form, JournalAttach::record). A name held by record k is found in both states
//    (names are looked up among non-free records, and only k is non-free here); otherwise the
//    whole lane took k as a reusable record, so k is reusable in the projection and is taken
//    with the same contents. An attach that failed (RoleTaken, NoFreeReader, BadReaderName)
//    changed nothing: left out. A pending attach goes to every projection, naming that
//    projection's record: where the whole lane applied it to record j, projection j applies it
//    the same way and the others leave it out;
//  - a write checks closed, the length, then (Block) whether an attached reader's committed cursor
//    is C behind (JR-9). Without evictions (JR-10 needs a timeout), a write the whole lane
//    accepted had no such reader, so neither has the projection; a write refused for space
//    changed nothing: left out;
//  - a write's first step (JournalBeginWrite; two_step.hpp) is split off accepted writes only: it
//    checks what the write checks, as above, and destroys entry written - C in both states; the
//    write after it only appends, in both;
//  - close and advance-time change only closed and the clock, in both.
struct JournalModel {
  using State = spec::JournalState;
  using Op = spec::JournalOp;
  using Result = spec::JournalResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_value(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::JournalConfig& config) { return spec::initial_state(config); }
  // two_step.hpp: every accepted or pending write, under both policies (read_at reads entries no
  // cursor protects, so a Block write's overwrite is visible too).
  static std::optional<std::pair<Op, Op>> split_write(const State&, const Op& op, const std::optional<Result>& observed) {
    // A reader call that carries the heartbeat it stored (spec journal_model.hpp, JournalBeginCall):
    // the heartbeat, then the call. Pending calls carry none (their CAS is not known to have run).
    const auto call = std::visit(
        [&](const auto& o) -> std::optional<std::pair<Op, Op>> {
          if constexpr (requires { o.second_step; o.reader; o.heartbeat_ns; }) {
            if (!o.heartbeat_ns || o.second_step || !observed) return std::nullopt;
            auto second = o;
            second.heartbeat_ns.reset();
            second.second_step = true;
            return std::pair<Op, Op>{spec::JournalBeginCall{o.reader, *o.heartbeat_ns, o.handle}, Op{second}};
          } else {
            return std::nullopt;
          }
        },
        op);
    if (call) return call;
    if (!detail::accepted_or_pending(observed)) return std::nullopt;
    if (const auto* w = std::get_if<spec::JournalTryWrite>(&op)) {
      return std::pair<Op, Op>{spec::JournalBeginWrite{detail::bytes_of(w->payload), w->evictions_recorded},
                               spec::JournalTryWrite{w->payload, true, w->evictions_recorded}};
    }
    if (const auto* w = std::get_if<spec::JournalWrite>(&op)) {
      return std::pair<Op, Op>{spec::JournalBeginWrite{detail::bytes_of(w->payload), w->evictions_recorded},
                               spec::JournalWrite{w->payload, true, w->evictions_recorded}};
    }
    return std::nullopt;
  }
  // two_step.hpp: a first step's own result where it is not the call's (a heartbeat's: ok).
  static std::optional<Result> first_step_result(const Op& first, const std::optional<Result>& observed) {
    if (std::holds_alternative<spec::JournalBeginCall>(first)) return Result{spec::JournalCallOutcome{true}};
    return observed;
  }

  static std::uint32_t projections(const State& initial) {
    return initial.config.reader_timeout_ns == 0 ? static_cast<std::uint32_t>(initial.readers.size()) : 0;
  }
  static State projection_initial(const State& initial, std::uint32_t record) {
    State out = initial;
    for (std::uint32_t r = 0; r < out.readers.size(); ++r) {
      if (r != record) out.readers[r] = spec::JournalReaderRecord{};
    }
    return out;
  }
  static std::optional<Op> project(const State& initial, std::uint32_t record, const Op& op,
                                   const std::optional<Result>& observed) {
    auto own = [&](std::uint32_t reader) -> std::optional<Op> {
      if (reader != record) return std::nullopt;
      return op;
    };
    return std::visit(
        [&](const auto& o) -> std::optional<Op> {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, spec::JournalTryWrite> || std::is_same_v<T, spec::JournalWrite> ||
                        std::is_same_v<T, spec::JournalBeginWrite>) {
            if (initial.config.on_full != OnFull::Block || !observed) return op;
            const auto* outcome = std::get_if<spec::WriteOutcome>(&*observed);
            if (outcome != nullptr && detail::refused_for_space(outcome->status)) return std::nullopt;
            return op;
          } else if constexpr (std::is_same_v<T, spec::JournalClose> || std::is_same_v<T, spec::JournalAdvanceTime>) {
            return op;
          } else if constexpr (std::is_same_v<T, spec::JournalAttach>) {
            if (!observed) return spec::JournalAttach{o.name, record};
            const auto* outcome = std::get_if<spec::JournalAttachOutcome>(&*observed);
            if (outcome == nullptr || outcome->error != spec::JournalAttachError::None) return std::nullopt;
            if (outcome->reader != record) return std::nullopt;
            return spec::JournalAttach{o.name, record};
          } else {
            return own(o.reader);  // read, try_read, commit, read_at, heartbeat, detach
          }
        },
        op);
  }
};
static_assert(SequentialModel<JournalModel>);
static_assert(Projectable<JournalModel>);
static_assert(TwoStepWrites<JournalModel>);

// Projection g: the producer's operations and the reads of the consumers in gating group g (the
// consumers joined by gated_on, in either direction), renamed in index order, in a lane with only
// that group and its gating. Why that is a simulation (the projection's state is the whole state
// seen by the group: written, claimed, closed, the group's cursors, the entries from the group's
// slowest cursor on):
//  - a read by a group member reads its cursor, the cursors it is gated on (SS-4: all in the
//    group), written, closed and (Drop) the oldest held sequence, from written and claimed (SS-8):
//    the same in both states;
//  - a read by a consumer of another group changes nothing the group can observe: left out;
//  - a claim checks closed, an outstanding claim, then (Block) whether the leaf consumers' slowest
//    cursor is C behind (SS-6). The group's leaves are the whole lane's leaves that belong to it
//    (gating never leaves a group), so if the whole lane had room, so does the group's lane. Under
//    Drop nothing is full. A claim that answered Full or Timeout changed nothing: left out, and a
//    pending one that changed nothing is left out of the projected linearization;
//  - publish and close read and change only the producer's side (written, claimed, closed).
struct SequencedModel {
  using State = spec::SequencedState;
  using Op = spec::SequencedOp;
  using Result = spec::SequencedResult;
  // The model's precondition (a publish needs a claim) holds for every order the checker tries
  // only if the history is well formed; an order that breaks it is simply not legal.
  static std::pair<State, Result> step(const State& state, const Op& op) {
    if (!spec::sequenced_op_allowed(state, op)) return {state, spec::SeqCloseOutcome{}};
    return spec::sequenced_step(state, op);
  }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_observable(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::SequencedConfig& config) { return spec::sequenced_initial_state(config); }

  // Per consumer, its gating group's number (groups numbered by their lowest consumer), and the
  // number of groups.
  struct Groups {
    std::array<std::uint32_t, kReaderCountMax> group_of{};
    std::uint32_t count = 0;
  };
  static Groups groups(const spec::SequencedConfig& config) {
    const std::uint32_t n = config.consumer_count();
    std::array<std::uint32_t, kReaderCountMax> label{};
    for (std::uint32_t i = 0; i < n; ++i) label[i] = i;
    // Lowest label wins along every gating edge; n rounds reach every member of a group.
    for (std::uint32_t round = 0; round < n; ++round) {
      for (std::uint32_t i = 0; i < n; ++i) {
        for (std::uint32_t j = 0; j < n; ++j) {
          if (((config.gated_on[i] >> j) & 1) == 0) continue;
          const std::uint32_t lowest = std::min(label[i], label[j]);
          label[i] = lowest;
          label[j] = lowest;
        }
      }
    }
    Groups out;
    std::array<std::uint32_t, kReaderCountMax> number_of_label{};
    number_of_label.fill(kReaderCountMax);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (number_of_label[label[i]] == kReaderCountMax) number_of_label[label[i]] = out.count++;
      out.group_of[i] = number_of_label[label[i]];
    }
    return out;
  }
  // A consumer's index among its group's members.
  static std::uint32_t index_in_group(const Groups& g, std::uint32_t consumer) {
    std::uint32_t index = 0;
    for (std::uint32_t i = 0; i < consumer; ++i) index += g.group_of[i] == g.group_of[consumer] ? 1 : 0;
    return index;
  }

  static std::uint32_t projections(const State& initial) { return groups(initial.config).count; }
  static State projection_initial(const State& initial, std::uint32_t group) {
    const Groups g = groups(initial.config);
    const std::uint32_t n = initial.config.consumer_count();
    State out;
    out.config = initial.config;
    out.config.gated_on.clear();
    std::uint64_t slowest = initial.written;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (g.group_of[i] != group) continue;
      std::uint64_t mask = 0;
      for (std::uint32_t j = 0; j < n; ++j) {
        if (((initial.config.gated_on[i] >> j) & 1) != 0) mask |= std::uint64_t{1} << index_in_group(g, j);
      }
      out.config.gated_on.push_back(mask);
      out.consumers.push_back(initial.consumers[i]);
      slowest = std::min(slowest, initial.consumers[i].next_seq);
    }
    out.written = initial.written;
    out.claimed = initial.claimed;
    out.closed = initial.closed;
    out.retained = detail::retained_from(initial.retained, slowest);
    return out;
  }
  static std::optional<Op> project(const State& initial, std::uint32_t group, const Op& op,
                                   const std::optional<Result>& observed) {
    auto member = [&](std::uint32_t consumer) -> std::optional<std::uint32_t> {
      if (consumer >= initial.config.consumer_count()) return std::nullopt;
      const Groups g = groups(initial.config);
      if (g.group_of[consumer] != group) return std::nullopt;
      return index_in_group(g, consumer);
    };
    if (const auto* read = std::get_if<spec::SeqTryRead>(&op)) {
      const auto index = member(read->consumer);
      if (!index) return std::nullopt;
      return spec::SeqTryRead{*index};
    }
    if (const auto* read = std::get_if<spec::SeqRead>(&op)) {
      const auto index = member(read->consumer);
      if (!index) return std::nullopt;
      return spec::SeqRead{*index};
    }
    const bool claim = std::holds_alternative<spec::SeqTryClaim>(op) || std::holds_alternative<spec::SeqClaim>(op);
    if (claim && initial.config.on_full == OnFull::Block && observed) {
      const auto* outcome = std::get_if<spec::SeqClaimOutcome>(&*observed);
      if (outcome != nullptr && detail::refused_for_space(outcome->status)) return std::nullopt;
    }
    return op;
  }
};
static_assert(SequentialModel<SequencedModel>);
static_assert(Projectable<SequencedModel>);

// Projection c: the producer's operations and consumer c's reads (renamed consumer 0), in a lane
// of the same capacity with c as its only consumer. Why that is a simulation, per operation of a
// linearization of the whole history, by induction on the order (the projection's state is the
// whole state seen by c: written, closed, c's cursor and counters, the entries from c's cursor on):
//  - a read by c reads written, closed, c's cursor and counters, the payload at c's cursor and
//    (Drop) the oldest entry the ring holds, written - C (FB-7, FB-8): the same in both states,
//    so the same result and the same change;
//  - a read by another consumer changes only its own cursor and which entries are kept for it:
//    nothing c can observe. Left out;
//  - a write checks closed (FB-9), the length (FB-2), then (Block) whether the slowest consumer
//    has C unread (FB-4). If the whole lane accepted it, c had fewer than C unread, so the
//    one-consumer lane accepts it too and appends the same entry. Under Drop nothing is full.
//    A Block write that answered Full or Timeout changed nothing: left out. A pending Block write
//    that changed nothing in the whole linearization is left out of the projected one (the
//    one-consumer lane might have accepted it there);
//  - a write's first step (FanoutBeginWrite; two_step.hpp) is split off accepted Drop writes only:
//    it checks closed and the length and destroys entry written - C in both states (what c reads
//    of it is whether that entry is still held); the write after it only appends, in both;
//  - close sets closed in both.
struct FanoutModel {
  using State = spec::FanoutState;
  using Op = spec::FanoutOp;
  using Result = spec::FanoutResult;
  static std::pair<State, Result> step(const State& state, const Op& op) { return spec::step(state, op); }
  static std::uint64_t hash(const State& state) noexcept { return spec::hash_observable(state); }
  static bool same_result(const Result& observed, const Result& model) { return observed == model; }
  static State initial(const spec::FanoutConfig& config) { return spec::initial_state(config); }
  // two_step.hpp: accepted or pending Drop writes (under Block no reader ever meets an overwrite).
  static std::optional<std::pair<Op, Op>> split_write(const State& initial, const Op& op,
                                                      const std::optional<Result>& observed) {
    if (initial.config.on_full != OnFull::Drop || !detail::accepted_or_pending(observed)) return std::nullopt;
    if (const auto* w = std::get_if<spec::FanoutTryWrite>(&op)) {
      return std::pair<Op, Op>{spec::FanoutBeginWrite{detail::bytes_of(w->payload)}, spec::FanoutTryWrite{w->payload, true}};
    }
    if (const auto* w = std::get_if<spec::FanoutWrite>(&op)) {
      return std::pair<Op, Op>{spec::FanoutBeginWrite{detail::bytes_of(w->payload)}, spec::FanoutWrite{w->payload, true}};
    }
    return std::nullopt;
  }

  static std::uint32_t projections(const State& initial) { return initial.config.consumer_count; }
  static State projection_initial(const State& initial, std::uint32_t consumer) {
    State out;
    out.config = initial.config;
    out.config.consumer_count = 1;
    out.written = initial.written;
    out.closed = initial.closed;
    out.write_begun = initial.write_begun;
    out.consumers = {initial.consumers.at(consumer)};
    out.retained = detail::retained_from(initial.retained, initial.consumers[consumer].next_seq);
    return out;
  }
  static std::optional<Op> project(const State& initial, std::uint32_t consumer, const Op& op,
                                   const std::optional<Result>& observed) {
    if (const auto* read = std::get_if<spec::FanoutTryRead>(&op)) {
      if (read->consumer != consumer) return std::nullopt;
      return spec::FanoutTryRead{0};
    }
    if (const auto* read = std::get_if<spec::FanoutRead>(&op)) {
      if (read->consumer != consumer) return std::nullopt;
      return spec::FanoutRead{0};
    }
    const bool write = std::holds_alternative<spec::FanoutTryWrite>(op) || std::holds_alternative<spec::FanoutWrite>(op) ||
                       std::holds_alternative<spec::FanoutBeginWrite>(op);
    if (write && initial.config.on_full == OnFull::Block && observed) {
      const auto* outcome = std::get_if<spec::WriteOutcome>(&*observed);
      if (outcome != nullptr && detail::refused_for_space(outcome->status)) return std::nullopt;
    }
    return op;
  }
};
static_assert(SequentialModel<FanoutModel>);
static_assert(Projectable<FanoutModel>);
static_assert(TwoStepWrites<FanoutModel>);

}  // namespace indexbus::linearizability

// The rules that make check() fast (checker.hpp, rules 1-4), each with a history it must accept and
// a broken one it must still reject; and check() against check_baseline() (the search before those
// rules) on many random histories, linearizable by construction and with a result changed.
//
// Every accepted order is replayed (verify_order): a Linearizable verdict must come with a real
// linearization, since callers replay it to get the lane's final state.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events_without_rule7.hpp"
#include "history_generator.hpp"
#include "indexbus/linearizability/baseline.hpp"
#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/linearizability/rings.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::linearizability;

template <typename M>
using HistoryOf = std::vector<Operation<typename M::Op, typename M::Result>>;

spec::Bytes payload(std::uint8_t value) { return spec::Bytes(8, std::byte{value}); }
spec::ReadOutcome entry(std::uint64_t seq, std::uint8_t value) { return {ReadStatus::Entry, seq, payload(value), 0}; }
spec::ReadOutcome status(ReadStatus s) { return {s, 0, {}, 0}; }

template <typename M>
bool is_linearization(const typename M::State& initial, const HistoryOf<M>& history, const std::vector<std::size_t>& order) {
  std::vector<std::vector<std::size_t>> lists;
  if (detail::actor_lists(history, lists)) return false;
  return detail::verify_order<M>(initial, history, lists, order);
}

// check() and check_baseline() both give `expected`; an accepted order is a linearization.
template <typename M>
CheckResult expect_verdict(const typename M::State& initial, const HistoryOf<M>& history, Verdict expected) {
  const CheckResult fresh = check<M>(initial, history);
  EXPECT_EQ(fresh.verdict, expected) << fresh.problem;
  EXPECT_EQ(check_baseline<M>(initial, history).verdict, expected);
  if (fresh.verdict == Verdict::Linearizable) {
    EXPECT_TRUE(is_linearization<M>(initial, history, fresh.order));
  }
  return fresh;
}

// ---- Events --------------------------------------------------------------------------------

EventsOperation ev_write(std::uint64_t invoke, std::uint64_t response, std::uint8_t value) {
  return EventsOperation{0, spec::TryWrite{payload(value)}, spec::WriteOutcome{WriteStatus::Ok}, invoke, response};
}
EventsOperation ev_read(std::uint32_t actor, std::uint64_t invoke, std::uint64_t response, spec::ReadOutcome outcome) {
  return EventsOperation{actor, spec::TryRead{}, std::move(outcome), invoke, response};
}
EventsOperation ev_pending_read(std::uint32_t actor, std::uint64_t invoke) {
  return EventsOperation{actor, spec::TryRead{}, std::nullopt, invoke, kPendingTime};
}
spec::EventsState events_lane(OnFull on_full, std::uint32_t capacity) {
  return spec::initial_state(spec::EventsConfig{capacity, 8, on_full});
}

// Rule 1: the write was invoked first, so it is tried first; only the other order explains the
// Empty, and the search must still find it.
TEST(CheckerRules, CandidateOrderStillTriesEveryCandidate) {
  const EventsHistory history{ev_write(0, 10, 7), ev_read(1, 1, 20, status(ReadStatus::Empty))};
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), history, Verdict::Linearizable);
}

// Rule 1, broken: neither order explains both reads (the second began after the write returned).
TEST(CheckerRules, CandidateOrderRejectsWhenNoOrderExplains) {
  const EventsHistory history{ev_write(0, 10, 7), ev_read(1, 1, 20, status(ReadStatus::Empty)),
                              ev_read(1, 21, 30, status(ReadStatus::Empty))};
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), history, Verdict::NotLinearizable);
}

// Rule 2: a killed consumer's read (pending) must have taken effect: its successor finds the
// lane empty. And must not have: its successor reads the entry.
TEST(CheckerRules, PendingReadTakesEffectOrNotAsTheRestNeeds) {
  const EventsHistory took_effect{ev_write(0, 10, 1), ev_pending_read(1, 11), ev_read(2, 20, 25, status(ReadStatus::Empty))};
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), took_effect, Verdict::Linearizable);
  const EventsHistory left_out{ev_write(0, 10, 1), ev_pending_read(1, 11), ev_read(2, 20, 25, entry(0, 1)),
                               ev_read(2, 26, 30, status(ReadStatus::Empty))};
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), left_out, Verdict::Linearizable);
}

// Rule 2, broken: the successor saw Empty (so the pending read consumed entry 0), then entry 0.
TEST(CheckerRules, PendingReadRejectsWhatNoPlacementExplains) {
  const EventsHistory history{ev_write(0, 10, 1), ev_pending_read(1, 11), ev_read(2, 20, 25, status(ReadStatus::Empty)),
                              ev_read(2, 26, 30, entry(0, 1))};
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), history, Verdict::NotLinearizable);
}

// Rule 2, deadlines: a consumer killed at time 10 (before the write began at 20) cannot have
// consumed the entry, so its successor's Empty is unexplained; killed at 25 (during the write), it
// can have. The baseline does not know deadlines: it accepts both.
EventsHistory killed_before_the_successor_sees_empty(std::uint64_t killed_at) {
  EventsHistory history{ev_write(20, 30, 1), ev_pending_read(1, 1), ev_read(2, 40, 50, status(ReadStatus::Empty))};
  history[1].pending_deadline_time = killed_at;
  return history;
}

TEST(CheckerRules, PendingReadWithADeadlineTakesEffectBeforeIt) {
  const EventsHistory history = killed_before_the_successor_sees_empty(25);
  const CheckResult result = check<EventsModel>(events_lane(OnFull::Block, 2), history);
  EXPECT_EQ(result.verdict, Verdict::Linearizable);
  EXPECT_TRUE(is_linearization<EventsModel>(events_lane(OnFull::Block, 2), history, result.order));
}

TEST(CheckerRules, PendingReadWithADeadlineRejectsAnEffectAfterIt) {
  const EventsHistory history = killed_before_the_successor_sees_empty(10);
  EXPECT_EQ(check<EventsModel>(events_lane(OnFull::Block, 2), history).verdict, Verdict::NotLinearizable);
  EXPECT_EQ(check_baseline<EventsModel>(events_lane(OnFull::Block, 2), history).verdict, Verdict::Linearizable);
  // The order the baseline finds breaks the deadline; the replay says so.
  EXPECT_FALSE(is_linearization<EventsModel>(events_lane(OnFull::Block, 2), history,
                                             check_baseline<EventsModel>(events_lane(OnFull::Block, 2), history).order));
}

// Rule 2: a pending read on an empty lane changes nothing anywhere; it must not multiply the
// configurations (each one with and without it).
TEST(CheckerRules, PendingReadThatChangesNothingCostsNothing) {
  EventsHistory history{ev_pending_read(1, 0)};
  constexpr std::uint64_t kCloses = 2'000;  // close is idempotent: a long run of no-ops around the read
  for (std::uint64_t i = 0; i < kCloses; ++i) {
    history.push_back(EventsOperation{0, spec::Close{}, spec::CloseOutcome{}, 10 * i + 1, 10 * i + 5});
  }
  const CheckResult result = expect_verdict<EventsModel>(events_lane(OnFull::Block, 2), history, Verdict::Linearizable);
  EXPECT_LE(result.configurations, history.size());
}

// Rule 3: a long history in which every write overlaps a read of the entry two before it (both
// orders legal: a frame at each, and the lane never empty), except that at pair kEmptyPair the
// consumer catches up and the lane is empty until the next write. One read (actor 2), invoked just
// after that next write and spanning the rest, returned Empty: only placing it before that write
// explains it. The write was invoked first, so it is tried first; the search goes to the end,
// fails, and backtracks through more frames than keep their states, to a frame whose state must
// come back from a checkpoint and a replay (its depth, 2 * kEmptyPair + 1, is not a checkpoint's).
EventsHistory long_history_with_one_empty_moment(spec::ReadOutcome spanning) {
  constexpr std::uint64_t kEmptyPair = 1000;
  constexpr std::uint64_t kPairs = kEmptyPair + 2 * detail::kFrameStatesMax;
  static_assert((2 * kEmptyPair + 1) % detail::kCheckpointDepth != 0);
  auto value = [](std::uint64_t i) { return static_cast<std::uint8_t>(i); };
  EventsHistory history;
  for (std::uint64_t i = 0; i < kPairs; ++i) {
    history.push_back(ev_write(10 * i, 10 * i + 6, value(i)));
    if (i < 2 || i == kEmptyPair + 1 || i == kEmptyPair + 2) continue;  // two behind, or catching up
    history.push_back(ev_read(1, 10 * i + 1, 10 * i + 2, entry(i - 2, value(i - 2))));
    if (i != kEmptyPair) continue;
    history.push_back(ev_read(1, 10 * i + 3, 10 * i + 4, entry(i - 1, value(i - 1))));
    history.push_back(ev_read(1, 10 * i + 7, 10 * i + 8, entry(i, value(i))));
  }
  history.push_back(ev_read(2, 10 * (kEmptyPair + 1) + 1, 10 * kPairs + 100, std::move(spanning)));
  return history;
}

TEST(CheckerRules, DeepBacktrackingRestoresStatesFromCheckpoints) {
  const EventsHistory history = long_history_with_one_empty_moment(status(ReadStatus::Empty));
  const CheckResult result = expect_verdict<EventsModel>(events_lane(OnFull::Block, 4), history, Verdict::Linearizable);
  EXPECT_LT(result.configurations, 8 * history.size());  // linear: each frame's alternative is a memo hit
}

// Rule 3, broken: the spanning read returned an entry nobody wrote; every frame is tried.
TEST(CheckerRules, DeepBacktrackingRejectsAfterTryingEveryFrame) {
  const EventsHistory history = long_history_with_one_empty_moment(entry(0, 200));
  const CheckResult result = expect_verdict<EventsModel>(events_lane(OnFull::Block, 4), history, Verdict::NotLinearizable);
  EXPECT_LT(result.configurations, 8 * history.size());
}

// ---- Rule 5: the memo by depth -------------------------------------------------------------

// Drop lanes with killed consumers, long enough for the walk to revisit configurations across
// many depth blocks: accepted as made (with an order that replays), rejected with one read changed
// to a payload nobody wrote; the baseline (one memo set) agrees on both.
TEST(CheckerRules, MemoByDepthAcceptsAndRejectsAcrossBlocks) {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    generate::Params params;
    params.ops = 40 * detail::kMemoDepthBlock;
    params.kills = 2;
    params.seed = seed;
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto workload = generate::events_workload(spec::EventsConfig{4, 16, OnFull::Drop});
    generate::Generated<EventsModel> made = generate::generate(workload, params);
    const CheckResult accepted = expect_verdict<EventsModel>(workload.initial, made.history, Verdict::Linearizable);
    EXPECT_GT(accepted.order.size(), 4 * detail::kMemoDepthBlock);
    // From the middle: a Drop consumer's last reads may all be Lost or Empty, and the search for
    // an Entry to change would wrap around to the start.
    const std::optional<std::size_t> changed = generate::corrupt_an_entry(made.history, made.history.size() / 2);
    ASSERT_TRUE(changed.has_value());
    ASSERT_GT(*changed, made.history.size() / 4);
    const CheckResult rejected = expect_verdict<EventsModel>(workload.initial, made.history, Verdict::NotLinearizable);
    EXPECT_GT(rejected.order.size(), 4 * detail::kMemoDepthBlock);  // the report's prefix reaches deep
  }
}

// ---- Rule 6: interchangeable pending operations -------------------------------------------

// Two killed consumers' reads, both pending, and a third consumer that reads the third entry
// (seq 2) after the writes: the pending reads must have consumed seq 0 and seq 1, both of them.
// With equal reads and no deadlines, the rule tries only actor 1's read at each configuration
// where both may go; actor 2's must still be placed after it.
EventsHistory two_killed_readers_then_seq_2(std::uint64_t deadline_1, std::uint64_t deadline_2) {
  EventsHistory history{ev_write(0, 1, 10), ev_pending_read(1, 2), ev_pending_read(2, 3), ev_write(10, 11, 11),
                        ev_write(20, 21, 12), ev_read(3, 30, 31, entry(2, 12))};
  history[1].pending_deadline_time = deadline_1;
  history[2].pending_deadline_time = deadline_2;
  return history;
}

TEST(CheckerRules, InterchangeablePendingReadsBothTakeEffect) {
  const EventsHistory history = two_killed_readers_then_seq_2(kPendingTime, kPendingTime);
  const CheckResult result = expect_verdict<EventsModel>(events_lane(OnFull::Block, 4), history, Verdict::Linearizable);
  EXPECT_EQ(result.order.size(), history.size());  // both pending reads placed
}

// Rule 6, broken: the third consumer read seq 3, which needs three reads before it; there are two.
TEST(CheckerRules, InterchangeablePendingReadsRejectWhatTwoCannotExplain) {
  EventsHistory history = two_killed_readers_then_seq_2(kPendingTime, kPendingTime);
  history.push_back(ev_write(22, 23, 13));
  history[5] = ev_read(3, 30, 31, entry(3, 13));
  expect_verdict<EventsModel>(events_lane(OnFull::Block, 4), history, Verdict::NotLinearizable);
}

// Rule 6 needs the same deadline. Actor 2 was killed at time 5, actor 1's kill time is unknown:
// the entry written at 10 can only have been consumed by actor 1's read, so actor 2's must have
// taken the first entry, early. Merging the two (trying only actor 1's read where both may go)
// would place actor 1's early and leave actor 2's, past its deadline, for the second: a
// rejection of a linearizable history.
TEST(CheckerRules, PendingReadsWithDifferentDeadlinesAreNotInterchangeable) {
  const EventsHistory history = two_killed_readers_then_seq_2(kPendingTime, 5);
  const CheckResult result = check<EventsModel>(events_lane(OnFull::Block, 4), history);
  EXPECT_EQ(result.verdict, Verdict::Linearizable) << result.problem;
  EXPECT_TRUE(is_linearization<EventsModel>(events_lane(OnFull::Block, 4), history, result.order));
}

// Rule 6 with equal deadlines, broken: both were killed at time 5, before the second write began,
// so neither can have consumed its entry.
TEST(CheckerRules, InterchangeablePendingReadsKeepTheirCommonDeadline) {
  const EventsHistory history = two_killed_readers_then_seq_2(5, 5);
  EXPECT_EQ(check<EventsModel>(events_lane(OnFull::Block, 4), history).verdict, Verdict::NotLinearizable);
  // Without the deadlines (the baseline ignores them) the same history is linearizable.
  EXPECT_EQ(check_baseline<EventsModel>(events_lane(OnFull::Block, 4), history).verdict, Verdict::Linearizable);
}

// Rule 6 merges only equal operations: a blocking and a non-blocking pending read are both tried.
// Here either order works; the point is that the verdict and the replay hold.
TEST(CheckerRules, DifferentPendingOperationsAreBothTried) {
  EventsHistory history = two_killed_readers_then_seq_2(kPendingTime, kPendingTime);
  history[2].op = spec::Read{};
  const CheckResult result = expect_verdict<EventsModel>(events_lane(OnFull::Block, 4), history, Verdict::Linearizable);
  EXPECT_EQ(result.order.size(), history.size());
}

// ---- Rule 4: projections -------------------------------------------------------------------

using FanoutOperation = Operation<spec::FanoutOp, spec::FanoutResult>;

FanoutOperation fo_write(std::uint64_t invoke, std::uint64_t response, std::uint8_t value, WriteStatus s = WriteStatus::Ok) {
  return FanoutOperation{0, spec::FanoutTryWrite{payload(value)}, spec::WriteOutcome{s}, invoke, response};
}
FanoutOperation fo_read(std::uint32_t consumer, std::uint64_t invoke, std::uint64_t response, spec::ReadOutcome outcome) {
  return FanoutOperation{1 + consumer, spec::FanoutTryRead{consumer}, std::move(outcome), invoke, response};
}
spec::FanoutState fanout_lane(OnFull on_full, std::uint32_t capacity, std::uint32_t consumers) {
  return spec::initial_state(spec::FanoutConfig{capacity, 8, on_full, consumers});
}

TEST(CheckerRules, FanoutProjectionsAcceptByMergingTheirOrders) {
  // Consumer 0 read before the write took effect, consumer 1 after it.
  const HistoryOf<FanoutModel> history{fo_write(0, 10, 7), fo_read(0, 1, 2, status(ReadStatus::Empty)),
                                       fo_read(1, 3, 4, entry(0, 7))};
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const CheckResult composed = check_by_projections<FanoutModel>(fanout_lane(on_full, 2, 2), history);
    EXPECT_EQ(composed.verdict, Verdict::Linearizable) << composed.problem;
    EXPECT_EQ(composed.projections, 2u);
    EXPECT_TRUE(is_linearization<FanoutModel>(fanout_lane(on_full, 2, 2), history, composed.order));
    expect_verdict<FanoutModel>(fanout_lane(on_full, 2, 2), history, Verdict::Linearizable);
  }
}

TEST(CheckerRules, FanoutProjectionRejectsATornEntry) {
  const HistoryOf<FanoutModel> history{fo_write(0, 10, 7), fo_read(0, 11, 12, entry(0, 7)), fo_read(1, 11, 12, entry(0, 8))};
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    EXPECT_EQ(check_by_projections<FanoutModel>(fanout_lane(on_full, 2, 2), history).verdict, Verdict::NotLinearizable);
    expect_verdict<FanoutModel>(fanout_lane(on_full, 2, 2), history, Verdict::NotLinearizable);
  }
}

// checker.hpp's example of why projections cannot accept alone: each consumer's projection is
// linearizable (1 after the write, 0 before it), the whole is not, since 1's read returned before
// 0's began. The projections must not decide; check() must reject.
TEST(CheckerRules, ProjectionsThatAgreeOnlyOneByOneDoNotAccept) {
  const HistoryOf<FanoutModel> history{fo_write(0, 10, 7), fo_read(1, 1, 2, entry(0, 7)),
                                       fo_read(0, 3, 4, status(ReadStatus::Empty))};
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const CheckResult composed = check_by_projections<FanoutModel>(fanout_lane(on_full, 2, 2), history);
    EXPECT_EQ(composed.verdict, Verdict::Unknown) << composed.problem;
    expect_verdict<FanoutModel>(fanout_lane(on_full, 2, 2), history, Verdict::NotLinearizable);
  }
}

// Block: a write refused for space is left out of every projection (it changed nothing there,
// and the one-consumer lanes might not have been full); the merge places it as early as it may
// go, and the replay checks that the whole lane was full there.
TEST(CheckerRules, FanoutBlockWriteRefusedForSpaceIsPlacedByTheMerge) {
  const HistoryOf<FanoutModel> accepted{fo_write(0, 1, 1), fo_write(2, 3, 2, WriteStatus::Full), fo_read(0, 4, 5, entry(0, 1)),
                                        fo_read(1, 4, 5, entry(0, 1))};
  const CheckResult composed = check_by_projections<FanoutModel>(fanout_lane(OnFull::Block, 1, 2), accepted);
  EXPECT_EQ(composed.verdict, Verdict::Linearizable) << composed.problem;
  EXPECT_TRUE(is_linearization<FanoutModel>(fanout_lane(OnFull::Block, 1, 2), accepted, composed.order));
  expect_verdict<FanoutModel>(fanout_lane(OnFull::Block, 1, 2), accepted, Verdict::Linearizable);
}

// Broken: both consumers had read the entry before the write began: nothing was full. No
// projection can see it (each leaves the write out); the replay of the merged order does, so
// the projections do not decide, and the whole-history search rejects.
TEST(CheckerRules, FanoutBlockWriteRefusedWithRoomIsRejected) {
  const HistoryOf<FanoutModel> broken{fo_write(0, 1, 1), fo_read(0, 2, 3, entry(0, 1)), fo_read(1, 2, 3, entry(0, 1)),
                                      fo_write(4, 5, 2, WriteStatus::Full)};
  EXPECT_EQ(check_by_projections<FanoutModel>(fanout_lane(OnFull::Block, 1, 2), broken).verdict, Verdict::Unknown);
  expect_verdict<FanoutModel>(fanout_lane(OnFull::Block, 1, 2), broken, Verdict::NotLinearizable);
}

using SequencedOperation = Operation<spec::SequencedOp, spec::SequencedResult>;

SequencedOperation sq_claim(std::uint64_t invoke, std::uint64_t response, std::uint64_t seq) {
  return SequencedOperation{0, spec::SeqTryClaim{}, spec::SeqClaimOutcome{WriteStatus::Ok, seq}, invoke, response};
}
SequencedOperation sq_publish(std::uint64_t invoke, std::uint64_t response, std::uint8_t value) {
  return SequencedOperation{0, spec::SeqPublish{payload(value)}, spec::SeqPublishOutcome{WriteStatus::Ok}, invoke, response};
}
SequencedOperation sq_read(std::uint32_t consumer, std::uint64_t invoke, std::uint64_t response, spec::ReadOutcome outcome) {
  return SequencedOperation{1 + consumer, spec::SeqTryRead{consumer}, std::move(outcome), invoke, response};
}

// Consumer 1 gated on 0 (one group), consumer 2 alone (another): two projections.
TEST(CheckerRules, SequencedProjectionsFollowTheGatingGroups) {
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const spec::SequencedState lane = spec::sequenced_initial_state(spec::SequencedConfig{4, 8, on_full, {0, 1, 0}});
    EXPECT_EQ(SequencedModel::projections(lane), 2u);
    // Consumer 1 waits for 0 (Empty while 0 has not read), consumer 2 reads at once.
    const HistoryOf<SequencedModel> history{sq_claim(0, 1, 0), sq_publish(2, 3, 5),
                                            sq_read(1, 4, 5, status(ReadStatus::Empty)), sq_read(2, 4, 5, entry(0, 5)),
                                            sq_read(0, 6, 7, entry(0, 5)), sq_read(1, 8, 9, entry(0, 5))};
    const CheckResult composed = check_by_projections<SequencedModel>(lane, history);
    EXPECT_EQ(composed.verdict, Verdict::Linearizable) << composed.problem;
    expect_verdict<SequencedModel>(lane, history, Verdict::Linearizable);
    // Broken: consumer 1 read the entry before consumer 0 (gated), in real time.
    const HistoryOf<SequencedModel> broken{sq_claim(0, 1, 0), sq_publish(2, 3, 5), sq_read(1, 4, 5, entry(0, 5)),
                                           sq_read(2, 4, 5, entry(0, 5)), sq_read(0, 6, 7, entry(0, 5))};
    EXPECT_EQ(check_by_projections<SequencedModel>(lane, broken).verdict, Verdict::NotLinearizable);
    expect_verdict<SequencedModel>(lane, broken, Verdict::NotLinearizable);
  }
}

using JournalOperation = Operation<spec::JournalOp, spec::JournalResult>;

JournalOperation jr_attach(std::uint32_t actor, std::uint64_t invoke, std::uint64_t response, const char* name,
                           std::uint32_t record) {
  return JournalOperation{actor, spec::JournalAttach{name, std::nullopt},
                          spec::JournalAttachOutcome{spec::JournalAttachError::None, record}, invoke, response};
}
JournalOperation jr_write(std::uint64_t invoke, std::uint64_t response, std::uint8_t value) {
  return JournalOperation{0, spec::JournalTryWrite{payload(value)}, spec::WriteOutcome{WriteStatus::Ok}, invoke, response};
}
JournalOperation jr_read(std::uint32_t actor, std::uint32_t record, std::uint64_t invoke, std::uint64_t response,
                         spec::ReadOutcome outcome) {
  return JournalOperation{actor, spec::JournalTryRead{record}, std::move(outcome), invoke, response};
}

// Two named readers attach at once: "r1" takes record 0 first, "r0" record 1. Projection k holds
// the attach whose result is record k, rewritten to name that record (JR-3's concurrent form).
TEST(CheckerRules, JournalProjectionsPerReaderRecord) {
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const spec::JournalState lane = spec::initial_state(spec::JournalConfig{4, 8, on_full, 2, 0});
    EXPECT_EQ(JournalModel::projections(lane), 2u);
    const HistoryOf<JournalModel> history{jr_attach(2, 0, 4, "r1", 0), jr_attach(1, 2, 10, "r0", 1), jr_write(20, 25, 3),
                                          jr_read(1, 1, 30, 35, entry(0, 3)), jr_read(2, 0, 30, 35, entry(0, 3))};
    const CheckResult composed = check_by_projections<JournalModel>(lane, history);
    EXPECT_EQ(composed.verdict, Verdict::Linearizable) << composed.problem;
    expect_verdict<JournalModel>(lane, history, Verdict::Linearizable);
    HistoryOf<JournalModel> broken = history;
    broken[3].result = entry(0, 4);  // record 1 read a payload nobody wrote
    EXPECT_EQ(check_by_projections<JournalModel>(lane, broken).verdict, Verdict::NotLinearizable);
    expect_verdict<JournalModel>(lane, broken, Verdict::NotLinearizable);
  }
  // With evictions, a blocked writer changes silent readers' records: no projections.
  EXPECT_EQ(JournalModel::projections(spec::initial_state(spec::JournalConfig{4, 8, OnFull::Block, 2, 1000})), 0u);
}

// ---- check() against check_baseline() on random histories -----------------------------------

// Overlap-heavy timing for short histories: many calls inside each other's intervals.
generate::Timing tight_timing() {
  generate::Timing t;
  t.gap_ticks_max = 2;
  t.short_ticks_max = 6;
  t.medium_ticks_max = 20;
  t.long_ticks_max = 60;
  t.pause_ticks_max = 200;
  t.pause_per_mille = 20;
  t.restart_ticks = 4;
  return t;
}

// The seeds a test runs: 1..count, or only INDEXBUS_LIN_SEED when it is set (a replay).
std::vector<std::uint64_t> seeds(std::uint64_t count) {
  if (const char* only = std::getenv("INDEXBUS_LIN_SEED")) return {std::strtoull(only, nullptr, 10)};
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = 1; s <= count; ++s) out.push_back(s);
  return out;
}

std::string replay_hint(std::uint64_t seed) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "seed " + std::to_string(seed) + " (replay: INDEXBUS_LIN_SEED=" + std::to_string(seed) +
         " linearizability_tests --gtest_filter=" + info->test_suite_name() + "." + info->name() + ")";
}

// One generated history and one perturbed copy: check() agrees with the baseline wherever the
// baseline decides (and generated ones are linearizable by construction); the projections, where
// the model has them, never contradict it either.
template <typename M>
void compare_on(const generate::Workload<M>& workload, std::uint64_t seed, std::uint64_t ops) {
  generate::Params params;
  params.ops = ops;
  params.kills = static_cast<std::uint32_t>(seed % 3);
  params.seed = seed;
  params.timing = tight_timing();
  SCOPED_TRACE(workload.name + ", " + std::to_string(ops) + " operations, " + std::to_string(params.kills) + " kills, " +
               replay_hint(seed));
  generate::Generated<M> made = generate::generate(workload, params);
  Options bounded;
  bounded.configurations_max = 2'000'000;

  auto compare = [&](const HistoryOf<M>& history, std::optional<Verdict> expected) {
    const CheckResult base = check_baseline<M>(workload.initial, history, bounded);
    const CheckResult fresh = check<M>(workload.initial, history, bounded);
    if (expected) {
      EXPECT_EQ(fresh.verdict, *expected) << fresh.problem;
      EXPECT_NE(base.verdict, Verdict::NotLinearizable);
    }
    if (base.verdict != Verdict::Unknown) {
      EXPECT_EQ(fresh.verdict, base.verdict) << fresh.problem;
    }
    if (fresh.verdict == Verdict::Linearizable) {
      EXPECT_TRUE(is_linearization<M>(workload.initial, history, fresh.order));
    }
    if constexpr (Projectable<M>) {
      const CheckResult composed = check_by_projections<M>(workload.initial, history, bounded);
      if (composed.verdict != Verdict::Unknown) {
        EXPECT_EQ(composed.verdict, fresh.verdict);
      }
      if (composed.verdict == Verdict::Linearizable) {
        EXPECT_TRUE(is_linearization<M>(workload.initial, history, composed.order));
      }
    }
  };
  compare(made.history, Verdict::Linearizable);
  generate::Rng rng(seed * 7919 + 1);
  if (generate::perturb_a_result(made.history, rng)) compare(made.history, std::nullopt);
}

// With kill times known, check() may reject what the baseline (which ignores them) accepts, never
// the other way round; and whatever it accepts, it accepts with an order that keeps the deadlines.
template <typename M>
void compare_with_deadlines_on(const generate::Workload<M>& workload, std::uint64_t seed, std::uint64_t ops) {
  generate::Params params;
  params.ops = ops;
  params.kills = 1 + static_cast<std::uint32_t>(seed % 2);
  params.seed = seed;
  params.kill_deadlines = true;
  params.timing = tight_timing();
  SCOPED_TRACE(workload.name + ", " + std::to_string(ops) + " operations, " + std::to_string(params.kills) +
               " kills with deadlines, " + replay_hint(seed));
  generate::Generated<M> made = generate::generate(workload, params);
  Options bounded;
  bounded.configurations_max = 2'000'000;
  auto compare = [&](const HistoryOf<M>& history, bool linearizable_by_construction) {
    const CheckResult base = check_baseline<M>(workload.initial, history, bounded);
    const CheckResult fresh = check<M>(workload.initial, history, bounded);
    if (linearizable_by_construction) {
      EXPECT_EQ(fresh.verdict, Verdict::Linearizable) << fresh.problem;
    }
    if (base.verdict == Verdict::NotLinearizable) {
      EXPECT_EQ(fresh.verdict, Verdict::NotLinearizable);
    }
    if (fresh.verdict == Verdict::Linearizable) {
      EXPECT_NE(base.verdict, Verdict::NotLinearizable);
      EXPECT_TRUE(is_linearization<M>(workload.initial, history, fresh.order));
    }
  };
  compare(made.history, true);
  generate::Rng rng(seed * 7919 + 3);
  if (generate::perturb_a_result(made.history, rng)) compare(made.history, false);
}

// ---- Rule 7 and the observable hash -----------------------------------------------------------

// The Events model without rule 7's hooks and with the full hash (the search before both), and
// with the observable hash alone (support/events_without_rule7.hpp).
using test_models::ObservableHashEvents;
using test_models::PlainEvents;

// The observable hash: the same cursor reached through a read or a loss is one state for the memo;
// a different cursor is not.
TEST(CheckerRules, ObservableHashLeavesOutOnlyTheCounters) {
  spec::EventsState a = events_lane(OnFull::Drop, 2);
  a.written = 5;
  a.read_seq = 3;
  a.read_count = 1;
  a.lost_count = 2;
  a.retained = {spec::RetainedEntry{3, payload(3)}, spec::RetainedEntry{4, payload(4)}};
  spec::EventsState b = a;
  b.read_count = 3;
  b.lost_count = 0;
  EXPECT_EQ(spec::hash_observable(a), spec::hash_observable(b));
  EXPECT_NE(spec::hash_value(a), spec::hash_value(b));
  spec::EventsState c = a;
  c.read_seq = 4;
  c.retained.pop_front();
  EXPECT_NE(spec::hash_observable(a), spec::hash_observable(c));
}

// Rule 7 and the observable hash prune: the bench's kind of history (a Drop lane, two consumers
// killed mid-read and replaced, one read near the end returning a payload nobody wrote) is
// rejected by all three searches, each with fewer configurations than the one before.
TEST(CheckerRules, HopelessReadsAndObservableHashPruneKilledConsumersReads) {
  const auto workload = generate::events_workload(spec::EventsConfig{4, 16, OnFull::Drop});
  generate::Params params;
  params.ops = 3000;
  params.kills = 2;
  params.seed = 2;
  generate::Generated<EventsModel> made = generate::generate(workload, params);
  ASSERT_EQ(made.pending, 2u);
  ASSERT_TRUE(generate::corrupt_an_entry(made.history, made.history.size() * 9 / 10));
  const CheckResult plain = check<PlainEvents>(workload.initial, made.history);
  const CheckResult hashed = check<ObservableHashEvents>(workload.initial, made.history);
  const CheckResult fresh = check<EventsModel>(workload.initial, made.history);
  EXPECT_EQ(plain.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(hashed.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(fresh.verdict, Verdict::NotLinearizable);
  EXPECT_LT(hashed.configurations, plain.configurations);
  EXPECT_LT(fresh.configurations, hashed.configurations);
  std::printf("configurations: plain %llu, observable hash %llu, and rule 7 %llu\n",
              static_cast<unsigned long long>(plain.configurations), static_cast<unsigned long long>(hashed.configurations),
              static_cast<unsigned long long>(fresh.configurations));
}

// Rule 7 must count every operation that may still go first. The successor's read returned entry
// 1 while the cursor is at 0: stuck for the producer, but the killed consumer's pending read
// (invoked before it returned) can take entry 0 first. Linearizable; rule 7 must not cut it.
TEST(CheckerRules, HopelessReadIsRescuedByAPendingRead) {
  const EventsHistory history{ev_write(0, 2, 1), ev_write(3, 5, 2), ev_pending_read(1, 6),
                              ev_read(2, 20, 30, entry(1, 2))};
  expect_verdict<EventsModel>(events_lane(OnFull::Drop, 4), history, Verdict::Linearizable);
  // Broken: the pending read was invoked after the successor's read returned; nothing else moves
  // the cursor.
  EventsHistory late = history;
  late[2].invoke_time = 31;
  expect_verdict<EventsModel>(events_lane(OnFull::Drop, 4), late, Verdict::NotLinearizable);
}

// Rule 7, counted: a Lost of 2 on a Drop lane of capacity 2 needs written = 4, four writes before
// the read. With the read returning after the fourth write was invoked, linearizable (the rule
// must count that write); returning before it, not (the rule may cut at once).
EventsHistory lost_two_after_writes(std::uint64_t read_returns) {
  EventsHistory history;
  for (std::uint64_t i = 0; i < 4; ++i) history.push_back(ev_write(10 * i, 10 * i + 5, static_cast<std::uint8_t>(i)));
  history.push_back(ev_read(1, 1, read_returns, spec::ReadOutcome{ReadStatus::Lost, 0, {}, 2}));
  return history;
}

TEST(CheckerRules, HopelessLostCountsTheWritesThatMayStillComeFirst) {
  expect_verdict<EventsModel>(events_lane(OnFull::Drop, 2), lost_two_after_writes(31), Verdict::Linearizable);
  expect_verdict<EventsModel>(events_lane(OnFull::Drop, 2), lost_two_after_writes(29), Verdict::NotLinearizable);
}

// Rule 7 on the model: what it claims, and what it does not.
TEST(CheckerRules, NeedsConsumerFirstClaimsOnlyWhatNoWriteCanChange) {
  spec::EventsState s = events_lane(OnFull::Drop, 2);
  s = spec::step(s, spec::TryWrite{payload(1)}).first;  // entry 0
  const spec::Op read = spec::TryRead{};
  EXPECT_FALSE(spec::needs_consumer_first(s, read, entry(0, 1)));
  EXPECT_TRUE(spec::needs_consumer_first(s, read, entry(1, 2)));      // the cursor is at 0
  EXPECT_TRUE(spec::needs_consumer_first(s, read, entry(0, 9)));      // entry 0 holds another payload
  EXPECT_TRUE(spec::needs_consumer_first(s, read, status(ReadStatus::Empty)));  // entry 0 stays unread
  EXPECT_FALSE(spec::needs_consumer_first(s, read, spec::ReadOutcome{ReadStatus::Lost, 0, {}, 1}));  // writes may overwrite it
  EXPECT_EQ(spec::producer_ops_needed(s, read, entry(3, 4)), 3u);     // entries 1, 2, 3
  EXPECT_EQ(spec::producer_ops_needed(s, read, spec::ReadOutcome{ReadStatus::Lost, 0, {}, 2}), 3u);  // written 4
  EXPECT_FALSE(spec::needs_consumer_first(s, spec::TryWrite{payload(2)}, spec::WriteOutcome{WriteStatus::Ok}));
}

template <typename F>
void for_every_lane(F&& run) {
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    run(generate::events_workload(spec::EventsConfig{2, 16, on_full}));
    run(generate::fanout_workload(spec::FanoutConfig{2, 16, on_full, 3}));
    run(generate::journal_workload(spec::JournalConfig{2, 16, on_full, 3, 0}));
    run(generate::sequenced_workload(spec::SequencedConfig{2, 16, on_full, {0, 1, 0}}));
  }
}

TEST(CheckerRules, NewAgreesWithBaselineOnSmallRandomHistories) {
  for (const std::uint64_t seed : seeds(150)) {
    const std::uint64_t ops = 4 + seed % 37;
    for_every_lane([&](const auto& workload) { compare_on(workload, seed, ops); });
  }
}

// Longer histories reach what short ones cannot: checkpoints, many frames, memo collisions of a
// weak key (the counts' hash once gave counts (x + 64, y) and (y + 64, x) the same key; histories
// of a few hundred operations found it, short ones did not).
TEST(CheckerRules, NewAgreesWithBaselineOnLongerRandomHistories) {
  for (const std::uint64_t seed : seeds(6)) {
    const std::uint64_t ops = 300 + 100 * seed;
    for_every_lane([&](const auto& workload) { compare_on(workload, seed, ops); });
  }
}

TEST(CheckerRules, DeadlinesOnlyEverRejectMoreThanTheBaseline) {
  for (const std::uint64_t seed : seeds(60)) {
    const std::uint64_t ops = 6 + seed % 31;
    for_every_lane([&](const auto& workload) { compare_with_deadlines_on(workload, seed, ops); });
  }
}

}  // namespace

// The checker accepts linearizable Events histories and rejects non-linearizable ones (a checker
// that cannot fail proves nothing), including the deadline rule for blocking operations.
#include "indexbus/linearizability/events.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <vector>

#include "events_without_rule7.hpp"

namespace {

using namespace indexbus;
using namespace indexbus::linearizability;

spec::Bytes payload(std::uint8_t value) { return spec::Bytes(8, std::byte{value}); }

EventsOperation write_op(std::uint64_t invoke, std::uint64_t response, std::uint8_t value,
                         WriteStatus status = WriteStatus::Ok) {
  return EventsOperation{0, spec::TryWrite{payload(value)}, spec::WriteOutcome{status}, invoke, response};
}
EventsOperation blocking_write(std::uint64_t invoke, std::uint64_t response, std::uint8_t value,
                               WriteStatus status) {
  return EventsOperation{0, spec::Write{payload(value)}, spec::WriteOutcome{status}, invoke, response};
}
EventsOperation read_entry(std::uint64_t invoke, std::uint64_t response, std::uint64_t seq,
                           std::uint8_t value) {
  return EventsOperation{1, spec::TryRead{},
                         spec::ReadOutcome{ReadStatus::Entry, seq, payload(value), 0}, invoke, response};
}
EventsOperation read_status(std::uint64_t invoke, std::uint64_t response, ReadStatus status,
                            bool blocking = false) {
  EventsOperation out{1, spec::TryRead{}, spec::ReadOutcome{status, 0, {}, 0}, invoke, response};
  if (blocking) out.op.emplace<spec::Read>();
  return out;
}

spec::EventsConfig block(std::uint32_t capacity) { return {capacity, 8, OnFull::Block}; }

TEST(Linearizability, OverlappingWriteAndReadLinearizeEitherWay) {
  // The read overlaps the write, so it may see the entry or Empty.
  EventsHistory saw_it{write_op(0, 10, 7), read_entry(5, 15, 0, 7)};
  EXPECT_EQ(check_events(block(2), saw_it).verdict, Verdict::Linearizable);
  EventsHistory missed_it{write_op(0, 10, 7), read_status(5, 15, ReadStatus::Empty)};
  EXPECT_EQ(check_events(block(2), missed_it).verdict, Verdict::Linearizable);
}

TEST(Linearizability, RejectsEmptyAfterACompletedWrite) {
  // The write returned before the read was invoked: Empty is impossible.
  EventsHistory history{write_op(0, 10, 7), read_status(11, 15, ReadStatus::Empty)};
  const auto result = check_events(block(2), history);
  EXPECT_EQ(result.verdict, Verdict::NotLinearizable);
}

TEST(Linearizability, RejectsATornPayload) {
  EventsHistory history{write_op(0, 10, 7), read_entry(11, 15, 0, 8)};
  EXPECT_EQ(check_events(block(2), history).verdict, Verdict::NotLinearizable);
}

TEST(Linearizability, RejectsAReadFromTheFuture) {
  // The read returned before the write was invoked.
  EventsHistory history{write_op(20, 30, 7), read_entry(0, 10, 0, 7)};
  EXPECT_EQ(check_events(block(2), history).verdict, Verdict::NotLinearizable);
}

TEST(Linearizability, RejectsADuplicatedEntry) {
  EventsHistory history{write_op(0, 10, 7), read_entry(11, 15, 0, 7), read_entry(16, 20, 0, 7)};
  EXPECT_EQ(check_events(block(2), history).verdict, Verdict::NotLinearizable);
}

TEST(Linearizability, TimeoutNeedsAMomentWhenWaitingWasJustified) {
  // Capacity 1: the second blocking write times out while the lane is full: fine.
  EventsHistory full{write_op(0, 1, 1), blocking_write(2, 50, 2, WriteStatus::Timeout)};
  EXPECT_EQ(check_events(block(1), full).verdict, Verdict::Linearizable);
  // A read that drained the entry overlaps the whole timed-out write: the write may still
  // linearize before the read, where the lane was full.
  EventsHistory raced{write_op(0, 1, 1), blocking_write(2, 50, 2, WriteStatus::Timeout),
                      read_entry(3, 40, 0, 1)};
  EXPECT_EQ(check_events(block(1), raced).verdict, Verdict::Linearizable);
  // But if the entry was read before the write was invoked, there was always space: a Timeout
  // is a lost wake-up or a wrong capacity check.
  EventsHistory never_full{write_op(0, 1, 1), read_entry(2, 3, 0, 1),
                           blocking_write(4, 50, 2, WriteStatus::Timeout)};
  EXPECT_EQ(check_events(block(1), never_full).verdict, Verdict::NotLinearizable);
  // Same for a blocking read: Timeout while an entry sat in the lane the whole time.
  EventsHistory read_timeout{write_op(0, 1, 1), read_status(2, 50, ReadStatus::Timeout, true)};
  EXPECT_EQ(check_events(block(1), read_timeout).verdict, Verdict::NotLinearizable);
}

TEST(Linearizability, PendingOperationsMayTakeEffectOrNot) {
  EventsHistory history{write_op(0, 10, 1), read_entry(11, 12, 0, 1)};
  history.push_back(EventsOperation{0, spec::TryWrite{payload(2)}, std::nullopt, 13, kPendingTime});
  history.push_back(read_entry(14, 20, 1, 2));
  EXPECT_EQ(check_events(block(2), history).verdict, Verdict::Linearizable);
  history.pop_back();
  history.push_back(read_status(14, 20, ReadStatus::Empty));
  EXPECT_EQ(check_events(block(2), history).verdict, Verdict::Linearizable);
}

TEST(Linearizability, RejectsOverlappingOperationsOfOneActor) {
  EventsHistory history{write_op(0, 10, 1), write_op(5, 15, 2)};
  const auto result = check_events(block(2), history);
  EXPECT_EQ(result.verdict, Verdict::Unknown);
  EXPECT_FALSE(result.problem.empty());
}

// A long history of overlapping pairs: each write overlaps the read of the previous entry. The
// search must stay linear (memoization and frames only at branch points).
TEST(Linearizability, LongHistoryChecksInLinearSteps) {
  EventsHistory history;
  constexpr std::uint64_t kPairs = 20'000;
  for (std::uint64_t i = 0; i < kPairs; ++i) {
    history.push_back(write_op(10 * i, 10 * i + 6, static_cast<std::uint8_t>(i)));
    if (i > 0) history.push_back(read_entry(10 * i - 5, 10 * i + 3, i - 1, static_cast<std::uint8_t>(i - 1)));
  }
  const auto result = check_events(block(4), history);
  EXPECT_EQ(result.verdict, Verdict::Linearizable);
  EXPECT_LT(result.configurations, 4 * history.size());
}

// The work behind the speed bound of issue 5: a 100k-operation single-lane history (50k writes,
// each overlapping the read of the entry before it) is checked visiting one configuration per
// operation, with no backtracking. Tests do not time anything (a shared machine's clock measures
// its neighbours); the time is printed, and lin_checker_bench measures it against a baseline.
TEST(Linearizability, HundredThousandOperationsWithoutBacktracking) {
  EventsHistory history;
  constexpr std::uint64_t kPairs = 50'000;
  for (std::uint64_t i = 0; i < kPairs; ++i) {
    history.push_back(write_op(10 * i, 10 * i + 6, static_cast<std::uint8_t>(i)));
    history.push_back(read_entry(10 * i + 3, 10 * i + 12, i, static_cast<std::uint8_t>(i)));
  }
  ASSERT_EQ(history.size(), 100'000u);
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  const auto result = check_events(block(4), history);
  const double wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::printf("100k operations checked in %.3f s CPU (%.3f s wall), %llu configurations\n", seconds, wall_seconds,
              static_cast<unsigned long long>(result.configurations));
  EXPECT_EQ(result.verdict, Verdict::Linearizable);
  EXPECT_LE(result.configurations, history.size());
}

// The Events model without rule 7's hooks (checker.hpp; support/events_without_rule7.hpp): rule 7
// rejects the history below at once (entry 0 holds another payload and no consumer operation can go
// first), so the search that must run into the limit is the one without it.
using EventsWithoutShortcuts = test_models::ObservableHashEvents;

// A search that cannot finish (20 writers all concurrent, then a read of an entry nobody wrote)
// answers Unknown at the time limit instead of running on; with rule 7 it is a rejection.
TEST(Linearizability, TimeLimitAnswersUnknown) {
  EventsHistory history;
  for (std::uint32_t a = 0; a < 20; ++a) {
    history.push_back(EventsOperation{a + 1, spec::TryWrite{payload(static_cast<std::uint8_t>(a))},
                                      spec::WriteOutcome{WriteStatus::Ok}, 0, 100});
  }
  history.push_back(EventsOperation{0, spec::TryRead{}, spec::ReadOutcome{ReadStatus::Entry, 0, payload(200), 0}, 200, 300});
  Options options;
  options.time_limit_ns = 50'000'000;
  const auto start = std::chrono::steady_clock::now();
  const auto result = check<EventsWithoutShortcuts>(spec::initial_state(block(32)), history, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(result.verdict, Verdict::Unknown);
  EXPECT_NE(result.problem.find("time limit"), std::string::npos) << result.problem;
  EXPECT_EQ(check<EventsModel>(spec::initial_state(block(32)), history, options).verdict, Verdict::NotLinearizable);
}


// ---- Writes in two steps (two_step.hpp; spec/v1-semantics.md EV-8) ----

EventsOperation read_lost(std::uint64_t invoke, std::uint64_t response, std::uint64_t count) {
  return EventsOperation{1, spec::TryRead{}, spec::ReadOutcome{ReadStatus::Lost, 0, {}, count}, invoke, response};
}
spec::EventsConfig drop(std::uint32_t capacity) { return {capacity, 8, OnFull::Drop}; }

CheckResult check_split(const spec::EventsConfig& config, EventsHistory history) {
  const TwoStepSplit split = split_two_step_writes<EventsModel>(spec::initial_state(config), history);
  CheckResult result = check_events(config, history);
  result.order = split.recorded_order(result.order);
  return result;
}

// Capacity 1: the second write has destroyed entry 0 and not yet published entry 1 while the
// consumer reads Lost{1}, then Empty. One-step writes cannot explain it; two steps inside the
// write's interval do.
TEST(TwoStepWrites, LostThenEmptyInsideAnOverwriteIsLinearizable) {
  const EventsHistory history{write_op(0, 10, 0), write_op(20, 100, 1), read_lost(30, 40, 1),
                              read_status(50, 60, ReadStatus::Empty), read_entry(110, 120, 1, 1)};
  EXPECT_EQ(check_events(drop(1), history).verdict, Verdict::NotLinearizable);
  const CheckResult split = check_split(drop(1), history);
  EXPECT_EQ(split.verdict, Verdict::Linearizable);
  EXPECT_EQ(split.order.size(), history.size());  // recorded operations only
}

// Two steps still inside the write: a Lost before the overwriting write was invoked, or an Empty
// after it returned, is rejected.
TEST(TwoStepWrites, StepsStayInsideTheWrite) {
  const EventsHistory early{write_op(0, 10, 0), read_lost(12, 15, 1), write_op(20, 100, 1),
                            read_status(110, 120, ReadStatus::Empty)};
  EXPECT_EQ(check_split(drop(1), early).verdict, Verdict::NotLinearizable);
  const EventsHistory late{write_op(0, 10, 0), write_op(20, 100, 1), read_lost(30, 40, 1),
                           read_status(110, 120, ReadStatus::Empty)};
  EXPECT_EQ(check_split(drop(1), late).verdict, Verdict::NotLinearizable);
}

// The first step comes before the write's second, never after: an Entry of the new write then a
// Lost of the entry it overwrote has no order (the write cannot publish before it began).
TEST(TwoStepWrites, FirstStepNeverFollowsThePublish) {
  const EventsHistory history{write_op(0, 10, 0), write_op(20, 100, 1), read_entry(30, 40, 1, 1),
                              read_lost(50, 60, 1)};
  EXPECT_EQ(check_split(drop(1), history).verdict, Verdict::NotLinearizable);
}

// A write's first step never outlives the write: with one write and nothing after it, a Lost of its
// entry has no explanation (found by the simulator's plant events.drop-publish-write-seq-relaxed,
// which passed while a write could be placed before its own first step).
TEST(TwoStepWrites, AFirstStepNeverOutlivesItsWrite) {
  const EventsHistory history{write_op(0, 10, 0), read_lost(20, 30, 1), read_status(40, 50, ReadStatus::Empty)};
  EXPECT_EQ(check_split(drop(1), history).verdict, Verdict::NotLinearizable);
  const EventsHistory overlapping{write_op(0, 10, 0), read_lost(5, 30, 1)};
  EXPECT_EQ(check_split(drop(1), overlapping).verdict, Verdict::NotLinearizable);
}

// A producer killed between the steps: its write is pending, with the kill time as deadline. The
// first step alone explains Lost{1} then Empty for as long as nobody writes; a successor's write
// of the same sequence number then publishes. Without the split it is not linearizable.
TEST(TwoStepWrites, AWriteKilledBetweenItsStepsIsItsFirstStepAlone) {
  EventsOperation killed{0, spec::TryWrite{payload(1)}, std::nullopt, 20, kPendingTime};
  killed.pending_deadline_time = 25;
  EventsOperation successor{2, spec::TryWrite{payload(2)}, spec::WriteOutcome{WriteStatus::Ok}, 300, 310};
  const EventsHistory history{write_op(0, 10, 0), killed, read_lost(30, 40, 1), read_status(50, 60, ReadStatus::Empty),
                              read_status(200, 210, ReadStatus::Empty), successor, read_entry(320, 330, 1, 2)};
  EXPECT_EQ(check_events(drop(1), history).verdict, Verdict::NotLinearizable);
  EXPECT_EQ(check_split(drop(1), history).verdict, Verdict::Linearizable);
  // The same with the successor's entry read as the dead write's payload: nobody published it.
  EventsHistory wrong = history;
  wrong.back() = read_entry(320, 330, 1, 1);
  EXPECT_EQ(check_split(drop(1), wrong).verdict, Verdict::NotLinearizable);
}

// Block writes, and refused writes, are not split: the consumer never meets an overwrite there.
TEST(TwoStepWrites, OnlyAcceptedOrPendingDropWritesAreSplit) {
  EventsHistory block_history{write_op(0, 10, 0), write_op(20, 30, 1)};
  EXPECT_TRUE(split_two_step_writes<EventsModel>(spec::initial_state(block(1)), block_history).write_of.empty());
  EventsHistory drop_history{write_op(0, 10, 0), write_op(20, 30, 1, WriteStatus::Closed),
                             EventsOperation{0, spec::TryWrite{payload(2)}, std::nullopt, 40, kPendingTime}};
  const TwoStepSplit split = split_two_step_writes<EventsModel>(spec::initial_state(drop(1)), drop_history);
  ASSERT_EQ(split.write_of.size(), 2u);
  EXPECT_EQ(split.write_of[0], 0u);
  EXPECT_EQ(split.write_of[1], 2u);
  ASSERT_EQ(drop_history.size(), 5u);
  EXPECT_EQ(drop_history[3].actor, drop_history[4].actor);
  EXPECT_NE(drop_history[3].actor, 0u);
  EXPECT_TRUE(std::holds_alternative<spec::BeginWrite>(drop_history[3].op));
  EXPECT_FALSE(drop_history[4].result.has_value());
  EXPECT_TRUE(std::get<spec::TryWrite>(drop_history[0].op).second_step);
  EXPECT_FALSE(std::get<spec::TryWrite>(drop_history[1].op).second_step);  // refused: one step
}

}  // namespace

// The Events model checked rule by rule on step() alone (spec/v1-semantics.md, EV-*).
#include "indexbus/spec/events_model.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <unordered_set>

namespace indexbus::spec {
namespace {

Bytes payload(std::uint64_t tag, std::size_t size = 8) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((tag * 31 + i) & 0xff);
  return out;
}

// Applies op to state in place and returns the result, checking the invariants after every step.
OpResult apply(EventsState& state, const Op& op) {
  auto [next, result] = step(state, op);
  const auto broken = check_invariants(next);
  EXPECT_FALSE(broken.has_value()) << describe(op) << " broke: " << *broken;
  state = std::move(next);
  return result;
}

WriteStatus write_status(const OpResult& result) { return std::get<WriteOutcome>(result).status; }
ReadOutcome read_outcome(const OpResult& result) { return std::get<ReadOutcome>(result); }

EventsState lane(OnFull on_full, std::uint32_t capacity = 4, std::uint32_t slot = 16) {
  return initial_state(EventsConfig{capacity, slot, on_full});
}

TEST(EventsModel, InitialStateIsEmptyAndValid) {  // EV-11, EV-13
  const EventsState s = lane(OnFull::Block);
  EXPECT_FALSE(check_invariants(s).has_value());
  EXPECT_EQ(s.written, 0u);
  EXPECT_TRUE(s.retained.empty());
  EXPECT_EQ(read_outcome(step(s, TryRead{}).second).status, ReadStatus::Empty);
  EXPECT_EQ(read_outcome(step(s, Read{}).second).status, ReadStatus::Timeout);
}

TEST(EventsModel, StepIsPure) {
  const EventsState s = lane(OnFull::Drop, 1);
  const EventsState copy = s;
  (void)step(s, TryWrite{payload(1)});
  EXPECT_EQ(s, copy);
}

TEST(EventsModel, SequenceNumbersAndFifo) {  // EV-3, EV-4
  EventsState s = lane(OnFull::Block);
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_EQ(write_status(apply(s, TryWrite{payload(i, i)})), WriteStatus::Ok);
  }
  for (std::uint64_t i = 0; i < 4; ++i) {
    const ReadOutcome r = read_outcome(apply(s, TryRead{}));
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(r.payload_bytes(), i);
    EXPECT_EQ(r.payload, payload(i, i));
  }
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Empty);
}

TEST(EventsModel, PayloadSizeLimits) {  // EV-2, EV-14
  EventsState s = lane(OnFull::Block, 4, 8);
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(1, 9)})), WriteStatus::TooLarge);
  EXPECT_EQ(write_status(apply(s, Write{payload(1, 1024)})), WriteStatus::TooLarge);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(2, 8)})), WriteStatus::Ok);
  EXPECT_EQ(write_status(apply(s, TryWrite{Bytes{}})), WriteStatus::Ok);  // zero length is an entry
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).payload_bytes(), 8u);
  const ReadOutcome empty_entry = read_outcome(apply(s, TryRead{}));
  EXPECT_EQ(empty_entry.status, ReadStatus::Entry);
  EXPECT_EQ(empty_entry.seq, 1u);
  EXPECT_EQ(empty_entry.payload_bytes(), 0u);
}

TEST(EventsModel, BlockFullAndTimeoutChangeNothing) {  // EV-6, EV-14
  EventsState s = lane(OnFull::Block, 2);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(0)})), WriteStatus::Ok);
  ASSERT_EQ(write_status(apply(s, Write{payload(1)})), WriteStatus::Ok);
  EXPECT_TRUE(is_full(s));
  const EventsState full = s;
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(2)})), WriteStatus::Full);
  EXPECT_EQ(write_status(apply(s, Write{payload(2)})), WriteStatus::Timeout);
  EXPECT_EQ(s, full);
  ASSERT_EQ(read_outcome(apply(s, TryRead{})).seq, 0u);
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(2)})), WriteStatus::Ok);
}

TEST(EventsModel, BlockCapacityOneAlternates) {  // EV-6, EV-7
  EventsState s = lane(OnFull::Block, 1);
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
    ASSERT_EQ(write_status(apply(s, TryWrite{payload(99)})), WriteStatus::Full);
    const ReadOutcome r = read_outcome(apply(s, Read{}));
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(r.payload, payload(i));
  }
  EXPECT_EQ(s.lost_count, 0u);
}

TEST(EventsModel, BlockNeverReportsLost) {  // EV-7
  EventsState s = lane(OnFull::Block, 2);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000; ++i) {
    const Op op = (rng() % 2) ? Op{TryWrite{payload(i)}} : Op{TryRead{}};
    const OpResult r = apply(s, op);
    if (const auto* read = std::get_if<ReadOutcome>(&r)) {
      ASSERT_NE(read->status, ReadStatus::Lost);
    }
  }
  EXPECT_EQ(s.lost_count, 0u);
}

TEST(EventsModel, DropReportsExactLossThenOldestRetained) {  // EV-8, EV-12
  EventsState s = lane(OnFull::Drop, 4);
  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
  }
  ASSERT_EQ(s.retained.size(), 4u);
  EXPECT_EQ(s.retained.front().seq, 6u);
  const ReadOutcome lost = read_outcome(apply(s, TryRead{}));
  ASSERT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 6u);
  for (std::uint64_t i = 6; i < 10; ++i) {
    const ReadOutcome r = read_outcome(apply(s, TryRead{}));
    ASSERT_EQ(r.status, ReadStatus::Entry);
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(r.payload, payload(i));
  }
  EXPECT_EQ(s.read_count, 4u);
  EXPECT_EQ(s.lost_count, 6u);
}

TEST(EventsModel, DropLossAfterPartialRead) {  // EV-8: a stale cursor loses exactly the overwritten
  EventsState s = lane(OnFull::Drop, 2);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(0)})), WriteStatus::Ok);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(1)})), WriteStatus::Ok);
  ASSERT_EQ(read_outcome(apply(s, TryRead{})).seq, 0u);
  for (std::uint64_t i = 2; i < 5; ++i) ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
  const ReadOutcome lost = read_outcome(apply(s, Read{}));
  ASSERT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 2u);  // entries 1 and 2; 3 and 4 remain
  EXPECT_EQ(read_outcome(apply(s, Read{})).seq, 3u);
}

TEST(EventsModel, DropCapacityOneKeepsOnlyTheNewest) {  // EV-8, EV-12
  EventsState s = lane(OnFull::Drop, 1);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(write_status(apply(s, Write{payload(i)})), WriteStatus::Ok);
  EXPECT_FALSE(is_full(s));  // Drop is never full
  EXPECT_TRUE(would_report_lost(s));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).lost_count, 2u);
  const ReadOutcome r = read_outcome(apply(s, TryRead{}));
  EXPECT_EQ(r.seq, 2u);
  EXPECT_EQ(r.payload, payload(2));
  EXPECT_FALSE(would_report_lost(s));
}

TEST(EventsModel, DropExactlyFullLosesNothing) {  // EV-8: unread == capacity is not a loss
  EventsState s = lane(OnFull::Drop, 4);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
  EXPECT_FALSE(would_report_lost(s));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).seq, 0u);
}

// EV-8, "A write takes effect in two steps": BeginWrite destroys the oldest entry, the write then
// only appends. Capacity 1: between the steps the consumer is told Lost{1}, then Empty.
TEST(EventsModel, DropWriteInTwoStepsLosesTheOldestFirst) {
  EventsState s = lane(OnFull::Drop, 1);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(0)})), WriteStatus::Ok);
  ASSERT_EQ(write_status(apply(s, BeginWrite{8})), WriteStatus::Ok);
  EXPECT_TRUE(s.write_begun);
  EXPECT_TRUE(s.retained.empty());  // entry 0 is gone, entry 1 not yet readable
  EXPECT_EQ(read_outcome(apply(s, TryRead{})), (ReadOutcome{ReadStatus::Lost, 0, {}, 1}));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Empty);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(1)})), WriteStatus::Ok);
  EXPECT_FALSE(s.write_begun);
  EXPECT_EQ(read_outcome(apply(s, TryRead{})), (ReadOutcome{ReadStatus::Entry, 1, payload(1), 0}));
}

// A consumer lapped by more than the begun write: the jump runs to written - C (published writes
// only), and the entry the begun write destroys is a Lost of its own.
TEST(EventsModel, DropLossWhileAWriteIsBegunCountsPublishedWritesOnly) {
  EventsState s = lane(OnFull::Drop, 2);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
  ASSERT_EQ(write_status(apply(s, BeginWrite{8})), WriteStatus::Ok);  // write 4 destroys entry 2
  EXPECT_EQ(read_outcome(apply(s, TryRead{})), (ReadOutcome{ReadStatus::Lost, 0, {}, 2}));  // 0, 1
  EXPECT_EQ(read_outcome(apply(s, TryRead{})), (ReadOutcome{ReadStatus::Lost, 0, {}, 1}));  // 2
  EXPECT_EQ(read_outcome(apply(s, TryRead{})), (ReadOutcome{ReadStatus::Entry, 3, payload(3), 0}));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Empty);
  EXPECT_EQ(s.lost_count, 3u);
}

// The first step makes the write's checks; a second BeginWrite (a successor producer after one
// that died between the steps) changes nothing more; a write without BeginWrite takes both steps.
TEST(EventsModel, BeginWriteChecksLikeTheWrite) {
  EventsState block = lane(OnFull::Block, 1);
  ASSERT_EQ(write_status(apply(block, TryWrite{payload(0)})), WriteStatus::Ok);
  const EventsState full = block;
  EXPECT_EQ(write_status(apply(block, BeginWrite{8})), WriteStatus::Full);
  EXPECT_EQ(block, full);
  EventsState drop = lane(OnFull::Drop, 1, 16);
  EXPECT_EQ(write_status(apply(drop, BeginWrite{24})), WriteStatus::TooLarge);
  ASSERT_EQ(write_status(apply(drop, BeginWrite{8})), WriteStatus::Ok);
  const EventsState begun = drop;
  EXPECT_EQ(write_status(apply(drop, BeginWrite{8})), WriteStatus::Ok);
  EXPECT_EQ(drop, begun);
  apply(drop, Close{});
  EXPECT_EQ(write_status(apply(drop, BeginWrite{8})), WriteStatus::Closed);
}

TEST(EventsModel, CloseIsIdempotentAndDrains) {  // EV-10
  EventsState s = lane(OnFull::Block);
  ASSERT_EQ(write_status(apply(s, TryWrite{payload(7)})), WriteStatus::Ok);
  EXPECT_TRUE(std::holds_alternative<CloseOutcome>(apply(s, Close{})));
  const EventsState once = s;
  (void)apply(s, Close{});
  EXPECT_EQ(s, once);
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(8)})), WriteStatus::Closed);
  EXPECT_EQ(write_status(apply(s, Write{payload(8)})), WriteStatus::Closed);
  EXPECT_FALSE(is_drained(s));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Entry);
  EXPECT_TRUE(is_drained(s));
  EXPECT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Closed);
  EXPECT_EQ(read_outcome(apply(s, Read{})).status, ReadStatus::Closed);  // never Timeout once drained
}

TEST(EventsModel, ClosedWinsOverTooLarge) {  // EV-10 before EV-2
  EventsState s = lane(OnFull::Drop, 4, 8);
  (void)apply(s, Close{});
  EXPECT_EQ(write_status(apply(s, TryWrite{payload(1, 64)})), WriteStatus::Closed);
}

TEST(EventsModel, DropClosedReportsLossBeforeEntriesAndClosed) {  // EV-8, EV-10
  EventsState s = lane(OnFull::Drop, 2);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(write_status(apply(s, TryWrite{payload(i)})), WriteStatus::Ok);
  (void)apply(s, Close{});
  EXPECT_EQ(read_outcome(apply(s, Read{})).lost_count, 3u);
  EXPECT_EQ(read_outcome(apply(s, Read{})).seq, 3u);
  EXPECT_EQ(read_outcome(apply(s, Read{})).seq, 4u);
  EXPECT_EQ(read_outcome(apply(s, Read{})).status, ReadStatus::Closed);
  EXPECT_EQ(s.read_count + s.lost_count, s.written);
}

TEST(EventsModel, RefusalsAreExactlyTheResultsThatChangeNothing) {  // EV-14
  EXPECT_TRUE(is_refusal(WriteOutcome{WriteStatus::Full}));
  EXPECT_TRUE(is_refusal(WriteOutcome{WriteStatus::Closed}));
  EXPECT_FALSE(is_refusal(WriteOutcome{WriteStatus::Ok}));
  EXPECT_FALSE(is_refusal(CloseOutcome{}));
  EXPECT_TRUE(is_refusal(ReadOutcome{ReadStatus::Timeout, 0, {}, 0}));
  EXPECT_FALSE(is_refusal(ReadOutcome{ReadStatus::Lost, 0, {}, 1}));
}

std::uint64_t test_seed() {
  if (const char* text = std::getenv("INDEXBUS_SEED")) return std::strtoull(text, nullptr, 10);
  return std::random_device{}();
}

// Random histories on every policy and a range of capacities: after close and a bounded drain,
// read + lost = written, and every state on the way satisfies the invariants (EV-11).
TEST(EventsModel, AccountingHoldsOnRandomHistories) {  // EV-11
  const std::uint64_t seed = test_seed();
  std::printf("seed %llu; replay: INDEXBUS_SEED=%llu spec_tests --gtest_filter=EventsModel.AccountingHoldsOnRandomHistories\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int run = 0; run < 200; ++run) {
    const OnFull on_full = (run % 2) ? OnFull::Drop : OnFull::Block;
    const std::uint32_t capacity = 1u << (rng() % 4);
    EventsState s = lane(on_full, capacity, 8);
    for (int i = 0; i < 100; ++i) {
      const auto pick = rng() % 10;
      const Op op = pick < 5 ? Op{TryWrite{payload(i, rng() % 10)}}
                  : pick < 9 ? Op{TryRead{}}
                             : Op{Read{}};
      (void)apply(s, op);
    }
    (void)apply(s, Close{});
    // Bounded: at most one Lost plus capacity entries remain.
    for (std::uint32_t i = 0; i < capacity + 2 && !is_drained(s); ++i) (void)apply(s, TryRead{});
    ASSERT_TRUE(is_drained(s)) << "seed " << seed << " run " << run << ": " << describe(s);
    ASSERT_EQ(s.read_count + s.lost_count, s.written) << "seed " << seed << " run " << run;
    ASSERT_EQ(read_outcome(apply(s, TryRead{})).status, ReadStatus::Closed);
  }
}

TEST(EventsModel, EqualStatesHashEqual) {
  EventsState a = lane(OnFull::Drop, 1);
  EventsState b = lane(OnFull::Drop, 1);
  // Different histories, same observable state: the overwritten entry is not remembered.
  (void)apply(a, TryWrite{payload(1)});
  (void)apply(a, TryWrite{payload(2)});
  (void)apply(b, TryWrite{payload(3)});
  (void)apply(b, TryWrite{payload(2)});
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::hash<EventsState>{}(a), std::hash<EventsState>{}(b));
  std::unordered_set<EventsState> seen{a, b};
  EXPECT_EQ(seen.size(), 1u);
  EventsState c = b;
  c.retained.back().payload[0] ^= std::byte{1};
  EXPECT_NE(a, c);
  EXPECT_NE(hash_value(a), hash_value(c));
  EventsState d = a;
  d.closed = true;
  EXPECT_NE(hash_value(a), hash_value(d));
}

// The invariant checker must reject a broken state of each kind, or it proves nothing.
TEST(EventsModel, InvariantCheckerRejectsBrokenStates) {
  EventsState base = lane(OnFull::Block, 4);
  (void)apply(base, TryWrite{payload(0)});
  (void)apply(base, TryWrite{payload(1)});
  (void)apply(base, TryRead{});
  ASSERT_FALSE(check_invariants(base).has_value());

  auto broken = [&](auto mutate) {
    EventsState s = base;
    mutate(s);
    return check_invariants(s).has_value();
  };
  EXPECT_TRUE(broken([](EventsState& s) { s.config.capacity_slots = 3; }));
  EXPECT_TRUE(broken([](EventsState& s) { s.config.slot_payload_bytes = 12; }));
  EXPECT_TRUE(broken([](EventsState& s) { s.config.on_full = static_cast<OnFull>(7); }));
  EXPECT_TRUE(broken([](EventsState& s) { s.read_seq = s.written + 1; }));
  EXPECT_TRUE(broken([](EventsState& s) { ++s.read_count; }));
  EXPECT_TRUE(broken([](EventsState& s) { ++s.lost_count; --s.read_count; }));  // Block never loses
  EXPECT_TRUE(broken([](EventsState& s) { s.written += 4; }));                  // Block over capacity
  EXPECT_TRUE(broken([](EventsState& s) { s.retained.pop_back(); }));
  EXPECT_TRUE(broken([](EventsState& s) { s.retained.front().seq = 9; }));
  EXPECT_TRUE(broken([](EventsState& s) { s.retained.front().payload.resize(17); }));
}

TEST(EventsModel, DescribeIsOneReadableLine) {
  EXPECT_EQ(describe(Op{TryWrite{Bytes{std::byte{0xab}, std::byte{0x01}}}}), "TryWrite(2 B ab01)");
  EXPECT_EQ(describe(Op{Read{}}), "Read");
  EXPECT_EQ(describe(OpResult{ReadOutcome{ReadStatus::Lost, 0, {}, 6}}), "Lost{6}");
  EXPECT_EQ(describe(OpResult{ReadOutcome{ReadStatus::Entry, 3, Bytes{}, 0}}), "Entry{seq 3, 0 B}");
  EXPECT_EQ(describe(OpResult{WriteOutcome{WriteStatus::Full}}), "Full");
  EXPECT_EQ(describe(EventsConfig{8, 64, OnFull::Drop}), "drop capacity 8 slot 64 B");
}

}  // namespace
}  // namespace indexbus::spec

// The Journal model checked rule by rule (JR-*), on step() alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_set>

#include "indexbus/spec/journal_model.hpp"

namespace indexbus::spec {
namespace {

Bytes bytes_of(std::uint8_t value, std::size_t size = 8) { return Bytes(size, std::byte{value}); }

struct Driver {
  JournalState s;
  explicit Driver(JournalConfig c) : s(initial_state(c)) {}
  JournalResult run(const JournalOp& op) {
    auto [next, result] = step(s, op);
    s = std::move(next);
    const auto broken = check_invariants(s);
    EXPECT_FALSE(broken.has_value()) << *broken << " after " << describe(op);
    return result;
  }
  WriteStatus write(std::uint8_t v) { return std::get<WriteOutcome>(run(JournalTryWrite{bytes_of(v)})).status; }
  JournalAttachOutcome attach(const std::string& name) { return std::get<JournalAttachOutcome>(run(JournalAttach{name})); }
  ReadOutcome read(std::uint32_t r) { return std::get<ReadOutcome>(run(JournalTryRead{r})); }
  ReadOutcome read_at(std::uint32_t r, std::uint64_t seq) { return std::get<ReadOutcome>(run(JournalReadAt{r, seq})); }
  bool commit(std::uint32_t r) { return std::get<JournalCallOutcome>(run(JournalCommit{r})).ok; }
};

JournalConfig config(OnFull on_full, std::uint32_t capacity, std::uint32_t readers, std::uint64_t timeout_ns = 0) {
  return JournalConfig{capacity, 16, on_full, readers, timeout_ns};
}

TEST(JournalModel, InitialStateIsValid) {
  const JournalState s = initial_state(config(OnFull::Block, 4, 3));
  EXPECT_FALSE(check_invariants(s).has_value());
  EXPECT_EQ(s.readers.size(), 3u);
  EXPECT_FALSE(is_full(s));
}

TEST(JournalModel, NamesAndRecords) {  // JR-2, JR-3
  Driver d(config(OnFull::Block, 4, 2));
  EXPECT_EQ(d.attach(std::string(33, 'x')).error, JournalAttachError::BadReaderName);
  EXPECT_EQ(d.attach(std::string("a\0b", 3)).error, JournalAttachError::BadReaderName);
  EXPECT_EQ(d.attach(std::string(32, 'x')).error, JournalAttachError::None);
  EXPECT_EQ(d.attach("").reader, 1u);
  EXPECT_EQ(d.attach("other").error, JournalAttachError::NoFreeReader);
  EXPECT_EQ(d.attach(std::string(32, 'x')).error, JournalAttachError::RoleTaken);
}

TEST(JournalModel, FreshReaderStartsAtTheTail) {  // JR-3
  Driver d(config(OnFull::Drop, 4, 1));
  d.write(1);
  d.write(2);
  const auto a = d.attach("");
  EXPECT_EQ(d.s.readers[a.reader].next_seq, 2u);
  EXPECT_EQ(d.read(a.reader).status, ReadStatus::Empty);
  d.write(3);
  const auto r = d.read(a.reader);
  EXPECT_EQ(r.status, ReadStatus::Entry);
  EXPECT_EQ(r.seq, 2u);
}

// JR-3 for concurrent histories: a fresh attach may take the record the implementation took, if
// that record is reusable; a record that is not reusable (or out of range) gives the sequential
// answer, the lowest reusable record, so a checker comparing results rejects that order.
TEST(JournalModel, RacingAttachesMayTakeAnyReusableRecord) {
  Driver d(config(OnFull::Drop, 4, 3));
  auto attach_taking = [&](std::uint32_t record) {
    return std::get<JournalAttachOutcome>(d.run(JournalAttach{"", record}));
  };
  const auto higher = attach_taking(2);
  EXPECT_EQ(higher.error, JournalAttachError::None);
  EXPECT_EQ(higher.reader, 2u);
  EXPECT_EQ(attach_taking(2).reader, 0u) << "record 2 is taken: the lowest reusable one";
  EXPECT_EQ(attach_taking(7).reader, 1u) << "no such record: the lowest reusable one";
  EXPECT_EQ(attach_taking(0).error, JournalAttachError::NoFreeReader);
  // Without a record (step mode, sequential) it is always the lowest reusable one.
  Driver sequential(config(OnFull::Drop, 4, 3));
  EXPECT_EQ(sequential.attach("").reader, 0u);
  EXPECT_EQ(sequential.attach("").reader, 1u);
}

TEST(JournalModel, ResumeByNameAfterLastCommit) {  // JR-4, JR-5
  Driver d(config(OnFull::Block, 8, 2));
  const auto a = d.attach("audit");
  for (std::uint8_t v = 0; v < 5; ++v) d.write(v);
  EXPECT_EQ(d.read(a.reader).seq, 0u);
  EXPECT_EQ(d.read(a.reader).seq, 1u);
  EXPECT_TRUE(d.commit(a.reader));
  EXPECT_EQ(d.read(a.reader).seq, 2u);  // read, not committed
  d.run(JournalDetach{a.reader});
  EXPECT_EQ(d.s.readers[a.reader].state, JournalReaderState::Detached);
  EXPECT_EQ(d.attach("").reader, 1u);  // the named record is kept for its name
  const auto again = d.attach("audit");
  EXPECT_EQ(again.reader, a.reader);
  EXPECT_EQ(d.read(again.reader).seq, 2u);
}

TEST(JournalModel, ReadAtWindow) {  // JR-6, JR-7
  Driver d(config(OnFull::Drop, 2, 1));
  const auto a = d.attach("");
  for (std::uint8_t v = 0; v < 5; ++v) d.write(v);
  EXPECT_EQ(d.read_at(a.reader, 2).status, ReadStatus::Evicted);
  EXPECT_EQ(d.read_at(a.reader, 3).status, ReadStatus::Entry);
  EXPECT_EQ(d.read_at(a.reader, 3).payload, bytes_of(3));
  EXPECT_EQ(d.read_at(a.reader, 4).status, ReadStatus::Entry);
  EXPECT_EQ(d.read_at(a.reader, 5).status, ReadStatus::NotYet);
  EXPECT_EQ(d.s.readers[a.reader].next_seq, 0u);  // read_at does not move the read position
}

TEST(JournalModel, DropReportsExactLossThenOldest) {  // JR-8
  Driver d(config(OnFull::Drop, 2, 1));
  const auto a = d.attach("");
  for (std::uint8_t v = 0; v < 5; ++v) EXPECT_EQ(d.write(v), WriteStatus::Ok);
  const auto lost = d.read(a.reader);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 3u);
  EXPECT_EQ(d.read(a.reader).seq, 3u);
}

// JR-6..JR-8 with EV-8's two-step writes, under both policies: a begun write has destroyed entry
// written - C (read_at: Evicted at once); under Drop a reader there is told Lost{1}; under Block
// the write needed room, so no cursor is there, and BeginWrite on a full lane answers Full.
TEST(JournalModel, WriteInTwoStepsDestroysTheOldestFirst) {
  Driver drop(config(OnFull::Drop, 1, 1));
  const auto a = drop.attach("");
  EXPECT_EQ(drop.write(0), WriteStatus::Ok);
  EXPECT_EQ(std::get<WriteOutcome>(drop.run(JournalBeginWrite{8})).status, WriteStatus::Ok);
  EXPECT_EQ(drop.read_at(a.reader, 0).status, ReadStatus::Evicted);
  EXPECT_EQ(drop.read(a.reader).lost_count, 1u);
  EXPECT_EQ(drop.read(a.reader).status, ReadStatus::Empty);
  EXPECT_EQ(drop.write(1), WriteStatus::Ok);
  EXPECT_EQ(drop.read(a.reader).seq, 1u);

  Driver block(config(OnFull::Block, 2, 1));
  const auto b = block.attach("b");
  EXPECT_EQ(block.write(0), WriteStatus::Ok);
  EXPECT_EQ(block.write(1), WriteStatus::Ok);
  EXPECT_EQ(std::get<WriteOutcome>(block.run(JournalBeginWrite{8})).status, WriteStatus::Full);
  EXPECT_EQ(block.read(b.reader).seq, 0u);
  block.commit(b.reader);
  EXPECT_EQ(std::get<WriteOutcome>(block.run(JournalBeginWrite{8})).status, WriteStatus::Ok);
  EXPECT_EQ(block.read_at(b.reader, 0).status, ReadStatus::Evicted);
  EXPECT_EQ(block.read_at(b.reader, 1).seq, 1u);
  EXPECT_EQ(block.read(b.reader).seq, 1u);
  EXPECT_EQ(block.read(b.reader).status, ReadStatus::Empty);
  EXPECT_EQ(block.write(2), WriteStatus::Ok);
  EXPECT_EQ(block.read(b.reader).seq, 2u);
}

TEST(JournalModel, BlockWaitsForSlowestAttachedReader) {  // JR-9
  Driver d(config(OnFull::Block, 2, 2));
  const auto a = d.attach("a");
  const auto b = d.attach("b");
  EXPECT_EQ(d.write(0), WriteStatus::Ok);
  EXPECT_EQ(d.write(1), WriteStatus::Ok);
  EXPECT_EQ(d.write(2), WriteStatus::Full);
  EXPECT_EQ(std::get<WriteOutcome>(d.run(JournalWrite{bytes_of(2)})).status, WriteStatus::Timeout);
  d.read(a.reader);
  EXPECT_EQ(d.write(2), WriteStatus::Full);  // read is not commit
  d.commit(a.reader);
  EXPECT_EQ(d.write(2), WriteStatus::Full);  // b is still behind
  d.run(JournalDetach{b.reader});            // a detached reader does not gate
  EXPECT_EQ(d.write(2), WriteStatus::Ok);
  d.run(JournalDetach{a.reader});
  for (std::uint8_t v = 3; v < 10; ++v) EXPECT_EQ(d.write(v), WriteStatus::Ok);  // nobody attached
}

TEST(JournalModel, ResumeBehindTheWindowReportsLostUnderBlock) {  // JR-4, JR-8
  Driver d(config(OnFull::Block, 2, 1));
  const auto a = d.attach("a");
  d.run(JournalDetach{a.reader});
  for (std::uint8_t v = 0; v < 5; ++v) EXPECT_EQ(d.write(v), WriteStatus::Ok);
  // Entries 3 and 4 are retained, but the resume starts at 4: never at the entry the next write
  // overwrites (a write in flight at the resume may be overwriting it already).
  const auto again = d.attach("a");
  EXPECT_FALSE(is_full(d.s));
  EXPECT_EQ(d.s.readers[again.reader].cursor_seq, 4u);
  EXPECT_EQ(d.write(5), WriteStatus::Ok);  // overwrites 3, which the resume gave up
  EXPECT_TRUE(is_full(d.s));
  const auto lost = d.read(again.reader);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 4u);
  EXPECT_EQ(d.read(again.reader).seq, 4u);
  EXPECT_TRUE(d.commit(again.reader));
  EXPECT_EQ(d.write(6), WriteStatus::Ok);
}

TEST(JournalModel, ResumeWithinTheWindowKeepsTheCursor) {  // JR-4
  Driver d(config(OnFull::Block, 2, 1));
  const auto a = d.attach("a");
  EXPECT_EQ(d.write(0), WriteStatus::Ok);
  d.run(JournalDetach{a.reader});
  EXPECT_EQ(d.write(1), WriteStatus::Ok);
  const auto again = d.attach("a");  // cursor 0 = the oldest entry, which the next write overwrites
  EXPECT_EQ(d.s.readers[again.reader].cursor_seq, 1u);
  EXPECT_EQ(d.read(again.reader).lost_count, 1u);
  EXPECT_EQ(d.read(again.reader).seq, 1u);
  d.run(JournalDetach{again.reader});
  const auto third = d.attach("a");  // the read was not committed: cursor 1, in the window
  EXPECT_EQ(d.s.readers[third.reader].cursor_seq, 1u);
}

TEST(JournalModel, ResumeOfADeadHolderLosesNothingUnderBlock) {  // JR-4
  Driver d(config(OnFull::Block, 2, 1));
  const auto a = d.attach("a");
  EXPECT_EQ(d.write(0), WriteStatus::Ok);
  EXPECT_EQ(d.write(1), WriteStatus::Ok);
  d.run(JournalDetach{a.reader, true});  // its process died: still Attached, still gating
  EXPECT_EQ(d.write(2), WriteStatus::Full);
  const auto again = d.attach("a");
  EXPECT_EQ(again.error, JournalAttachError::None);
  EXPECT_EQ(d.read(again.reader).seq, 0u);  // at its cursor, the oldest entry: nothing lost
}

TEST(JournalModel, SilentHolderIsEvicted) {  // JR-10
  Driver d(config(OnFull::Block, 1, 2, 100));
  const auto a = d.attach("a");
  const auto b = d.attach("b");
  EXPECT_EQ(d.write(0), WriteStatus::Ok);
  d.run(JournalAdvanceTime{100});
  EXPECT_EQ(d.write(1), WriteStatus::Full);  // exactly the timeout: not yet
  d.run(JournalAdvanceTime{1});
  EXPECT_TRUE(std::get<JournalCallOutcome>(d.run(JournalHeartbeat{b.reader})).ok);
  EXPECT_EQ(d.write(1), WriteStatus::Full);  // a evicted, b is fresh and holds it back
  EXPECT_EQ(d.s.readers[a.reader].state, JournalReaderState::Evicted);
  EXPECT_EQ(d.s.eviction_count, 1u);
  EXPECT_EQ(d.read(a.reader).status, ReadStatus::Evicted);
  EXPECT_FALSE(d.commit(a.reader));
  EXPECT_EQ(d.read(b.reader).seq, 0u);
  EXPECT_TRUE(d.commit(b.reader));
  EXPECT_EQ(d.write(1), WriteStatus::Ok);
  d.run(JournalDetach{a.reader});
  const auto back = d.attach("a");  // resumes at its committed cursor 0: entry 0 is gone
  EXPECT_EQ(back.reader, a.reader);
  EXPECT_EQ(d.read(back.reader).status, ReadStatus::Lost);
}

// A commit whose reader the writer evicts while it runs: its cursor store (JournalPublishCursor)
// may land before or after the eviction and stays for a resume by name, and the commit answers
// false; a store after the record was taken again by a resume is refused (JR-5).
TEST(JournalModel, ACommitOverlappingItsEvictionMayLeaveItsPosition) {  // JR-4, JR-5, JR-10
  Driver d(config(OnFull::Block, 1, 1, 100));
  const auto a = d.attach("a");
  const std::uint32_t first_handle = d.s.readers[a.reader].generation;
  EXPECT_EQ(d.write(0), WriteStatus::Ok);
  EXPECT_EQ(d.read(a.reader).seq, 0u);
  EXPECT_TRUE(std::get<JournalCallOutcome>(d.run(JournalBeginCall{a.reader, 0, first_handle})).ok);
  d.run(JournalAdvanceTime{101});
  EXPECT_TRUE(std::get<JournalCallOutcome>(d.run(JournalEvict{a.reader})).ok);
  EXPECT_TRUE(std::get<JournalCallOutcome>(d.run(JournalPublishCursor{a.reader, first_handle})).ok);
  EXPECT_EQ(d.s.readers[a.reader].cursor_seq, 1u);  // stored after the eviction
  // The commit itself: the reader was evicted at its point, so false, however its store went.
  EXPECT_FALSE(std::get<JournalCallOutcome>(d.run(JournalCommit{a.reader, std::nullopt, true, first_handle})).ok);
  const auto back = d.attach("a");  // resumes at the stored position 1, not at 0
  EXPECT_EQ(back.reader, a.reader);
  EXPECT_EQ(d.read(back.reader).status, ReadStatus::Empty);
  EXPECT_EQ(d.write(1), WriteStatus::Ok);
  EXPECT_EQ(d.read(back.reader).seq, 1u);
  // A store of the evicted handle once a resume took the record: refused, nothing changes.
  const JournalState before = d.s;
  EXPECT_FALSE(std::get<JournalCallOutcome>(d.run(JournalPublishCursor{a.reader, first_handle})).ok);
  EXPECT_EQ(d.s, before);
}

TEST(JournalModel, ZeroTimeoutNeverEvicts) {  // JR-10
  Driver d(config(OnFull::Block, 1, 1, 0));
  d.attach("a");
  d.write(0);
  d.run(JournalAdvanceTime{1'000'000'000'000});
  EXPECT_EQ(d.write(1), WriteStatus::Full);
  EXPECT_EQ(d.s.eviction_count, 0u);
}

TEST(JournalModel, CloseDrainsThenClosed) {  // JR-11
  Driver d(config(OnFull::Block, 4, 1));
  const auto a = d.attach("");
  d.write(0);
  d.run(JournalClose{});
  EXPECT_EQ(d.write(1), WriteStatus::Closed);
  EXPECT_EQ(d.read(a.reader).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(a.reader).status, ReadStatus::Closed);
}

TEST(JournalModel, TooLargeChangesNothing) {  // JR-1
  Driver d(config(OnFull::Drop, 4, 1));
  const JournalState before = d.s;
  EXPECT_EQ(std::get<WriteOutcome>(d.run(JournalTryWrite{bytes_of(1, 17)})).status, WriteStatus::TooLarge);
  EXPECT_EQ(d.s, before);
  EXPECT_EQ(std::get<WriteOutcome>(d.run(JournalTryWrite{bytes_of(1, 16)})).status, WriteStatus::Ok);
  EXPECT_EQ(d.s.retained.back().seq, 0u);
}

TEST(JournalModel, RandomHistoriesKeepInvariantsAndHashesAgree) {
  const char* env = std::getenv("INDEXBUS_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("seed=%llu replay: INDEXBUS_SEED=%llu spec_tests "
              "--gtest_filter=JournalModel.RandomHistoriesKeepInvariantsAndHashesAgree\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int run = 0; run < 50; ++run) {
    const OnFull policy = run % 2 == 0 ? OnFull::Block : OnFull::Drop;
    Driver d(config(policy, 1u << (run % 4), 1 + run % 4, 50));
    std::unordered_set<JournalState> seen;
    for (int i = 0; i < 200; ++i) {
      const auto reader = static_cast<std::uint32_t>(rng() % d.s.readers.size());
      switch (rng() % 9) {
        case 0: case 1: d.run(JournalTryWrite{bytes_of(static_cast<std::uint8_t>(i))}); break;
        case 2: d.run(JournalAttach{rng() % 2 ? "" : std::string(1, static_cast<char>('a' + rng() % 3))}); break;
        case 3: case 4: d.run(JournalTryRead{reader}); break;
        case 5: d.run(JournalCommit{reader}); break;
        case 6: d.run(JournalReadAt{reader, rng() % (d.s.written + 2)}); break;
        case 7: d.run(JournalDetach{reader}); break;
        default: d.run(JournalAdvanceTime{rng() % 40}); break;
      }
      const JournalState copy = d.s;
      EXPECT_EQ(hash_value(copy), hash_value(d.s));
      seen.insert(d.s);
    }
    EXPECT_GE(seen.size(), 1u);
  }
}

}  // namespace
}  // namespace indexbus::spec

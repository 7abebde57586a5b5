// Unit tests of the Journal lane in a real region (JR-*): attach, resume by name, read_at,
// Block gating, eviction of a silent and of a dead (forked) reader, and the errors.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000ull;

struct JournalFixture {
  testing::TempRegionPath path{"journal"};
  std::optional<Region> region;
  RealPlatform platform{WaitStrategy::Spin};
  RingLaneRef ref;

  JournalFixture(OnFull on_full, std::uint32_t capacity, std::uint32_t readers, std::uint64_t timeout_ns = 0,
                 WaitStrategy strategy = WaitStrategy::Spin)
      : platform(strategy) {
    const LaneSpec spec{LaneKind::Journal, on_full, capacity, 16, readers, timeout_ns, {}};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    EXPECT_TRUE(created.ok()) << created.error().message;
    region.emplace(std::move(created).value());
    ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  }
  JournalReader<RealPlatform> attach(std::string_view name) {
    auto r = JournalReader<RealPlatform>::attach(platform, ref, name);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  }
};

std::array<std::byte, 8> word(std::uint64_t v) {
  std::array<std::byte, 8> out{};
  std::memcpy(out.data(), &v, 8);
  return out;
}

std::uint64_t value_of(const std::array<std::byte, 16>& buffer) {
  std::uint64_t v = 0;
  std::memcpy(&v, buffer.data(), 8);
  return v;
}

TEST(Journal, Errors) {  // JR-1, JR-2
  JournalFixture f(OnFull::Block, 4, 2);
  using Reader = JournalReader<RealPlatform>;
  EXPECT_EQ(Reader::attach(f.platform, f.ref, std::string(33, 'n')).error().code, ErrorCode::BadReaderName);
  EXPECT_EQ(Reader::attach(f.platform, f.ref, std::string_view("a\0b", 3)).error().code, ErrorCode::BadReaderName);
  RingLaneRef wrong = f.ref;
  wrong.kind = LaneKind::FanoutBroadcast;
  EXPECT_EQ(Reader::attach(f.platform, wrong, "x").error().code, ErrorCode::WrongLaneKind);
  auto a = f.attach(std::string(32, 'n'));
  auto b = f.attach("");
  EXPECT_EQ(Reader::attach(f.platform, f.ref, "c").error().code, ErrorCode::NoFreeReader);
  JournalWriter writer(f.platform, f.ref);
  const std::array<std::byte, 17> too_large{};
  EXPECT_EQ(writer.try_write(too_large), WriteStatus::TooLarge);
  EXPECT_EQ(writer.written(), 0u);
  a.detach();
  b.detach();
}

TEST(Journal, RoleTakenWhileLive) {  // JR-2, JR-4
  JournalFixture f(OnFull::Block, 4, 2);
  auto a = f.attach("a");
  auto again = JournalReader<RealPlatform>::attach(f.platform, f.ref, "a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::RoleTaken);
  a.detach();
  auto after = f.attach("a");
  EXPECT_EQ(after.reader_id(), 0u);
  after.detach();
}

TEST(Journal, ResumeByName) {  // JR-3, JR-4, JR-5
  JournalFixture f(OnFull::Block, 8, 2);
  JournalWriter writer(f.platform, f.ref);
  ASSERT_EQ(writer.try_write(word(100)), WriteStatus::Ok);  // before the reader: not seen (JR-3)
  auto r = f.attach("audit");
  EXPECT_EQ(r.next_seq(), 1u);
  for (std::uint64_t v = 1; v < 5; ++v) ASSERT_EQ(writer.try_write(word(100 + v)), WriteStatus::Ok);
  std::array<std::byte, 16> out{};
  EXPECT_EQ(r.try_read(out).seq, 1u);
  EXPECT_EQ(r.try_read(out).seq, 2u);
  EXPECT_EQ(value_of(out), 102u);
  EXPECT_TRUE(r.commit());
  EXPECT_EQ(r.try_read(out).seq, 3u);  // read, not committed
  r.detach();
  EXPECT_EQ(f.ref.readers[0].state, kReaderDetached);
  EXPECT_EQ(f.ref.readers[0].cursor_seq, 3u);
  auto anonymous = f.attach("");
  EXPECT_EQ(anonymous.reader_id(), 1u);  // the named record is kept for its name
  auto back = f.attach("audit");
  EXPECT_EQ(back.reader_id(), 0u);
  const ReadResult got = back.try_read(out);
  EXPECT_EQ(got.status, ReadStatus::Entry);
  EXPECT_EQ(got.seq, 3u);
  EXPECT_EQ(f.ref.readers[0].read_count, 4u);  // counters survive a detach
  back.detach();
  anonymous.detach();
}

TEST(Journal, ReadAtWindow) {  // JR-6, JR-7
  JournalFixture f(OnFull::Drop, 2, 1);
  JournalWriter writer(f.platform, f.ref);
  auto r = f.attach("");
  for (std::uint64_t v = 0; v < 5; ++v) ASSERT_EQ(writer.try_write(word(v)), WriteStatus::Ok);
  std::array<std::byte, 16> out{};
  EXPECT_EQ(r.read_at(2, out).status, ReadStatus::Evicted);
  const ReadResult three = r.read_at(3, out);
  EXPECT_EQ(three.status, ReadStatus::Entry);
  EXPECT_EQ(three.payload_bytes, 8u);
  EXPECT_EQ(value_of(out), 3u);
  EXPECT_EQ(r.read_at(4, out).status, ReadStatus::Entry);
  EXPECT_EQ(r.read_at(5, out).status, ReadStatus::NotYet);
  EXPECT_EQ(r.next_seq(), 0u);
  const ReadResult lost = r.try_read(out);  // JR-8
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 3u);
  EXPECT_EQ(r.try_read(out).seq, 3u);
  r.detach();
}

TEST(Journal, BlockWaitsForSlowestReader) {  // JR-9
  JournalFixture f(OnFull::Block, 2, 2);
  JournalWriter writer(f.platform, f.ref);
  auto a = f.attach("a");
  auto b = f.attach("b");
  ASSERT_EQ(writer.try_write(word(0)), WriteStatus::Ok);
  ASSERT_EQ(writer.try_write(word(1)), WriteStatus::Ok);
  EXPECT_EQ(writer.try_write(word(2)), WriteStatus::Full);
  const auto start = f.platform.now_ns();
  EXPECT_EQ(writer.write(word(2), start + 2'000'000), WriteStatus::Timeout);
  EXPECT_GE(f.platform.now_ns(), start + 2'000'000);
  std::array<std::byte, 16> out{};
  ASSERT_EQ(a.try_read(out).status, ReadStatus::Entry);
  EXPECT_EQ(writer.try_write(word(2)), WriteStatus::Full);  // reading is not committing
  ASSERT_TRUE(a.commit());
  EXPECT_EQ(writer.try_write(word(2)), WriteStatus::Full);  // b still holds it back
  b.detach();
  EXPECT_EQ(writer.try_write(word(2)), WriteStatus::Ok);
  a.detach();
  for (std::uint64_t v = 3; v < 10; ++v) EXPECT_EQ(writer.try_write(word(v)), WriteStatus::Ok);
  writer.close();
  EXPECT_EQ(writer.try_write(word(0)), WriteStatus::Closed);
}

class Eviction : public ::testing::TestWithParam<WaitStrategy> {};

TEST_P(Eviction, SilentReaderIsEvictedWithinTheTimeout) {  // JR-10
  constexpr std::uint64_t kTimeoutNs = 50'000'000;
  JournalFixture f(OnFull::Block, 4, 2, kTimeoutNs, GetParam());
  JournalWriter writer(f.platform, f.ref);
  auto silent = f.attach("silent");
  for (std::uint64_t v = 0; v < 4; ++v) ASSERT_EQ(writer.try_write(word(v)), WriteStatus::Ok);
  EXPECT_EQ(writer.try_write(word(4)), WriteStatus::Full);  // not silent for long enough yet
  const std::uint64_t start = f.platform.now_ns();
  EXPECT_EQ(writer.write(word(4), start + 10 * kSecondNs), WriteStatus::Ok);
  const std::uint64_t waited = f.platform.now_ns() - start;
  EXPECT_LE(waited, kTimeoutNs + kSecondNs / 2) << "the writer must wake itself up to evict";
  EXPECT_EQ(f.ref.header->eviction_count, 1u);
  EXPECT_EQ(f.ref.readers[0].state, kReaderEvicted);
  std::array<std::byte, 16> out{};
  EXPECT_EQ(silent.try_read(out).status, ReadStatus::Evicted);
  EXPECT_FALSE(silent.commit());
  EXPECT_FALSE(silent.heartbeat());
  EXPECT_EQ(silent.read_at(4, out).status, ReadStatus::Evicted);
  silent.detach();
  // Its committed cursor 0 is overwritten: it resumes at max(0, 5 + 1 - 4) = 2, never at the
  // entry the next write overwrites (JR-4).
  auto back = f.attach("silent");
  const ReadResult lost = back.try_read(out);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 2u);
  EXPECT_EQ(back.try_read(out).seq, 2u);
  back.detach();
}

INSTANTIATE_TEST_SUITE_P(Strategies, Eviction,
                         ::testing::Values(WaitStrategy::Spin, WaitStrategy::Park));

TEST(Journal, HeartbeatKeepsAReaderAttached) {  // JR-10
  constexpr std::uint64_t kTimeoutNs = 20'000'000;
  JournalFixture f(OnFull::Block, 1, 1, kTimeoutNs);
  JournalWriter writer(f.platform, f.ref);
  auto r = f.attach("busy");
  ASSERT_EQ(writer.try_write(word(0)), WriteStatus::Ok);
  for (int i = 0; i < 5; ++i) {
    ::usleep(5'000);
    ASSERT_TRUE(r.heartbeat());
    EXPECT_EQ(writer.try_write(word(1)), WriteStatus::Full);
  }
  EXPECT_EQ(f.ref.header->eviction_count, 0u);
  r.detach();
}

TEST(Journal, DeadReaderIsEvictedAndItsNameTakenOver) {  // JR-4, JR-10
  constexpr std::uint64_t kTimeoutNs = 100'000'000;
  JournalFixture f(OnFull::Block, 2, 1, kTimeoutNs);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Attach and die without detaching: the record stays Attached by a dead pid.
    auto r = JournalReader<RealPlatform>::attach(f.platform, f.ref, "dead");
    _exit(r.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(f.ref.readers[0].state, kReaderAttached);
  JournalWriter writer(f.platform, f.ref);
  ASSERT_EQ(writer.try_write(word(0)), WriteStatus::Ok);
  ASSERT_EQ(writer.try_write(word(1)), WriteStatus::Ok);
  const std::uint64_t start = f.platform.now_ns();
  EXPECT_EQ(writer.write(word(2), start + 10 * kSecondNs), WriteStatus::Ok);
  EXPECT_LE(f.platform.now_ns() - start, kTimeoutNs + kSecondNs / 2);
  EXPECT_EQ(f.ref.readers[0].state, kReaderEvicted);
  auto back = f.attach("dead");  // cursor 0, 3 written, capacity 2: resumes at 3 + 1 - 2 = 2 (JR-4)
  EXPECT_EQ(back.reader_id(), 0u);
  std::array<std::byte, 16> out{};
  const ReadResult lost = back.try_read(out);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 2u);
  EXPECT_EQ(back.try_read(out).seq, 2u);
  back.detach();
}

// The OS of a process that dies (_exit) just before it stores a provisional start into the watched
// cursor: a resume by name killed between its claiming store and its provisional one.
struct DiesBeforeProvisionalStore : LinuxOs {
  const std::uint64_t* watched = nullptr;
  template <typename T>
  void store(T& word, T value, std::memory_order order, Site site = {}) const noexcept {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (&word == watched && is_attach_tagged(value) && !is_claiming(value)) _exit(7);
    }
    LinuxOs::store(word, value, order, site);
  }
};

TEST(Journal, AResumeKilledMidAttachLosesNoCommittedPosition) {  // JR-4
  JournalFixture f(OnFull::Block, 4, 1);
  JournalWriter writer(f.platform, f.ref);
  {
    auto reader = f.attach("keep");
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(writer.try_write(word(i)), WriteStatus::Ok);
    std::array<std::byte, 16> out{};
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(reader.try_read(out).seq, i);
    ASSERT_TRUE(reader.commit());
    reader.detach();
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const BasicRealPlatform<DiesBeforeProvisionalStore> dying(
        DiesBeforeProvisionalStore{{}, &f.ref.readers[0].cursor_seq}, WaitStrategy::Spin);
    auto r = JournalReader<BasicRealPlatform<DiesBeforeProvisionalStore>>::attach(dying, f.ref, "keep");
    _exit(r.ok() ? 0 : 1);  // not reached: the attach dies first
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 7) << "the child did not die at its provisional store";
  // It died with the record claimed: the claiming tag still carries the committed cursor.
  const std::uint64_t left = f.ref.readers[0].cursor_seq;
  EXPECT_TRUE(is_claiming(left)) << left;
  EXPECT_EQ(tagged_value(left), 3u);
  auto back = f.attach("keep");  // resumes at the committed 3, not at 0 (entries 0-2 again)
  EXPECT_EQ(back.next_seq(), 3u);
  std::array<std::byte, 16> out{};
  EXPECT_EQ(back.try_read(out).status, ReadStatus::Empty);
  ASSERT_EQ(writer.try_write(word(3)), WriteStatus::Ok);
  EXPECT_EQ(back.try_read(out).seq, 3u);
  back.detach();
}

// The OS of a reader preempted at its commit's cursor store: the first store or CAS to the watched
// cursor once armed first runs `preempted` (which lets the writer evict the reader meanwhile).
struct PreemptedAtCursorStore : LinuxOs {
  const std::uint64_t* watched = nullptr;
  bool* armed = nullptr;
  const std::function<void()>* preempted = nullptr;
  void at(const void* word) const {
    if (word != watched || !*armed) return;
    *armed = false;
    (*preempted)();
  }
  template <typename T>
  void store(T& word, T value, std::memory_order order, Site site = {}) const noexcept {
    at(&word);
    LinuxOs::store(word, value, order, site);
  }
  template <typename T>
  bool compare_exchange(T& word, T& expected, T desired, std::memory_order order, Site site = {}) const noexcept {
    at(&word);
    return LinuxOs::compare_exchange(word, expected, desired, order, site);
  }
};
using PreemptedPlatform = BasicRealPlatform<PreemptedAtCursorStore>;

// A commit preempted between its heartbeat and its cursor store for longer than the timeout, while
// holding the writer back: the writer evicts the reader in between. The commit took effect after
// the eviction, so it must report Evicted (JR-5, JR-10); it used to answer true (journal.hpp,
// "Commit vs eviction"). Its position may stay stored: a resume by name starts at 0 or 1.
TEST(Journal, ACommitOverlappingItsEvictionReportsEvicted) {  // JR-5, JR-10
  constexpr std::uint64_t kTimeoutNs = 20'000'000;
  JournalFixture f(OnFull::Block, 1, 2, kTimeoutNs);
  JournalWriter writer(f.platform, f.ref);
  bool armed = false;
  WriteStatus during = WriteStatus::Full;
  const std::function<void()> preempted = [&] {
    ::usleep(2 * kTimeoutNs / 1000);
    during = writer.try_write(word(1));  // the reader holds entry 0, silent: evicted, then Ok
  };
  const PreemptedPlatform platform(PreemptedAtCursorStore{{}, &f.ref.readers[0].cursor_seq, &armed, &preempted},
                                   WaitStrategy::Spin);
  auto attached = JournalReader<PreemptedPlatform>::attach(platform, f.ref, "slow");
  ASSERT_TRUE(attached.ok()) << attached.error().message;
  auto reader = std::move(attached).value();
  ASSERT_EQ(writer.try_write(word(0)), WriteStatus::Ok);
  std::array<std::byte, 16> out{};
  ASSERT_EQ(reader.try_read(out).seq, 0u);
  armed = true;
  EXPECT_FALSE(reader.commit()) << "a commit that took effect after its reader's eviction answered true";
  EXPECT_FALSE(armed) << "the commit made no cursor store";
  EXPECT_EQ(during, WriteStatus::Ok);
  EXPECT_EQ(f.ref.header->eviction_count, 1u);
  EXPECT_EQ(reader.try_read(out).status, ReadStatus::Evicted);
  const std::uint64_t committed = f.ref.readers[0].cursor_seq;  // the store may have stayed
  EXPECT_TRUE(committed == 0u || committed == 1u) << committed;
  auto back = f.attach("slow");  // max(committed, 2 + 1 - 1): behind the window, Lost first (JR-4)
  EXPECT_EQ(back.next_seq(), 2u);
  EXPECT_EQ(back.try_read(out).lost_count, 2u - committed);
  back.detach();
}

// The same preemption, and a resume by name takes the evicted record before the commit's store:
// the store must not land on the record (it is the resume's now), and the commit reports Evicted.
TEST(Journal, ACommitAfterItsRecordWasResumedStoresNothing) {  // JR-4, JR-5
  constexpr std::uint64_t kTimeoutNs = 20'000'000;
  JournalFixture f(OnFull::Block, 4, 2, kTimeoutNs);
  JournalWriter writer(f.platform, f.ref);
  bool armed = false;
  std::optional<JournalReader<RealPlatform>> resumed;
  const std::function<void()> preempted = [&] {
    ::usleep(2 * kTimeoutNs / 1000);
    for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(writer.try_write(word(4 + i)), WriteStatus::Ok) << i;
    resumed.emplace(f.attach("slow"));  // the evicted record, by name: resumes behind the window, at 5
  };
  const PreemptedPlatform platform(PreemptedAtCursorStore{{}, &f.ref.readers[0].cursor_seq, &armed, &preempted},
                                   WaitStrategy::Spin);
  auto attached = JournalReader<PreemptedPlatform>::attach(platform, f.ref, "slow");
  ASSERT_TRUE(attached.ok()) << attached.error().message;
  auto reader = std::move(attached).value();
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.try_write(word(i)), WriteStatus::Ok);
  std::array<std::byte, 16> out{};
  for (std::uint64_t i = 0; i < 2; ++i) ASSERT_EQ(reader.try_read(out).seq, i);
  armed = true;
  EXPECT_FALSE(reader.commit());
  ASSERT_TRUE(resumed.has_value());
  EXPECT_EQ(resumed->reader_id(), 0u);
  EXPECT_EQ(f.ref.readers[0].cursor_seq, resumed->next_seq()) << "the old holder's commit overwrote the resume's cursor";
  resumed->detach();
}

TEST(Journal, AttachedByADeadProcessIsTakenOverByName) {  // JR-4
  JournalFixture f(OnFull::Block, 4, 1);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto r = JournalReader<RealPlatform>::attach(f.platform, f.ref, "crashy");
    _exit(r.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto back = f.attach("crashy");
  EXPECT_EQ(back.reader_id(), 0u);
  EXPECT_EQ(f.ref.readers[0].pid, f.platform.current_pid());
  back.detach();
}

TEST(Journal, CloseDrainsThenClosed) {  // JR-11
  JournalFixture f(OnFull::Block, 4, 1);
  JournalWriter writer(f.platform, f.ref);
  auto r = f.attach("");
  ASSERT_EQ(writer.try_write(word(7)), WriteStatus::Ok);
  writer.close();
  std::array<std::byte, 16> out{};
  EXPECT_EQ(r.read(out, f.platform.now_ns() + kSecondNs).status, ReadStatus::Entry);
  EXPECT_EQ(r.read(out, f.platform.now_ns() + kSecondNs).status, ReadStatus::Closed);
  r.detach();
}


// Threads in one process (so ThreadSanitizer sees every access): a writer and three readers that
// commit every few entries. Block: every reader gets every entry, in order, exact (JR-5, JR-9, JR-12).
TEST(Journal, ThreadsStreamInOrder) {
  constexpr std::uint64_t kEntries = 50'000;
  constexpr std::uint32_t kReaders = 3;
  JournalFixture f(OnFull::Block, 1024, kReaders, 0, WaitStrategy::Park);
  std::vector<JournalReader<RealPlatform>> readers;
  for (std::uint32_t i = 0; i < kReaders; ++i) readers.push_back(f.attach("t" + std::to_string(i)));
  std::array<std::uint64_t, kReaders> delivered{};
  std::array<bool, kReaders> in_order{};
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      std::array<std::byte, 16> out{};
      bool ok = true;
      for (std::uint64_t expected = 0; ok; ++expected) {
        const ReadResult r = readers[i].read(out, f.platform.now_ns() + 30 * kSecondNs);
        if (r.status == ReadStatus::Closed) break;
        ok = r.status == ReadStatus::Entry && r.seq == expected && value_of(out) == expected * 7;
        if (ok) ++delivered[i];
        if (expected % (i + 2) == 0) ok = ok && readers[i].commit();
      }
      ok = ok && readers[i].commit();
      in_order[i] = ok;
    });
  }
  JournalWriter writer(f.platform, f.ref);
  for (std::uint64_t v = 0; v < kEntries; ++v) {
    ASSERT_EQ(writer.write(word(v * 7), f.platform.now_ns() + 30 * kSecondNs), WriteStatus::Ok) << v;
  }
  writer.close();
  for (auto& t : threads) t.join();
  for (std::uint32_t i = 0; i < kReaders; ++i) {
    EXPECT_TRUE(in_order[i]) << "reader " << i;
    EXPECT_EQ(delivered[i], kEntries) << "reader " << i;
    readers[i].detach();
  }
}

// Racing attaches of one new name never give two records that name (JR-2).
TEST(Journal, RacingAttachesOfOneNameGiveOneRecord) {
  constexpr std::uint32_t kThreads = 4;
  for (int round = 0; round < 20; ++round) {
    JournalFixture f(OnFull::Drop, 4, kThreads);
    std::atomic<std::uint32_t> go{0};
    std::atomic<std::uint32_t> attached{0};
    std::vector<std::thread> threads;
    std::vector<std::optional<JournalReader<RealPlatform>>> handles(kThreads);
    for (std::uint32_t i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        go.fetch_add(1);
        while (go.load() < kThreads) std::this_thread::yield();
        auto r = JournalReader<RealPlatform>::attach(f.platform, f.ref, "same");
        if (r.ok()) {
          attached.fetch_add(1);
          handles[i].emplace(std::move(r).value());
        } else {
          EXPECT_EQ(r.error().code, ErrorCode::RoleTaken);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_LE(attached.load(), 1u);
    std::uint32_t named = 0;
    for (std::uint32_t i = 0; i < kThreads; ++i) {
      if (f.ref.readers[i].state != kReaderFree && std::string(f.ref.readers[i].name) == "same") ++named;
    }
    EXPECT_EQ(named, attached.load());
    for (auto& h : handles) {
      if (h) h->detach();
    }
  }
}

}  // namespace
}  // namespace indexbus

// Four real processes over a real region (JR-5, JR-8, JR-9, JR-11, JR-12): this process writes
// INDEXBUS_MP_ENTRIES (default 5M) entries into a Journal lane read by three forked readers, each
// attached by name before the first write, committing every few entries. Block: every reader
// gets every entry in order with its exact payload. Drop: every reader's delivered + lost equals
// written. A watchdog kills the readers at a deadline, so the test never hangs.
//
// Deterministic apart from scheduling; the seed picks the readers' commit intervals and is
// printed with the command that replays it (INDEXBUS_SEED=<seed>).
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>

#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

constexpr std::uint32_t kReaders = 3;
constexpr std::uint64_t kOpDeadlineNs = 60'000'000'000ull;   // per blocking call
constexpr std::uint64_t kWatchdogNs = 240'000'000'000ull;    // whole test

std::uint64_t entry_count() {
  if (const char* env = std::getenv("INDEXBUS_MP_ENTRIES")) return std::strtoull(env, nullptr, 10);
  return 5'000'000;
}

std::uint64_t test_seed() {
  if (const char* env = std::getenv("INDEXBUS_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

// seq, ~seq, seq*3: a torn copy breaks the relation.
std::array<std::uint64_t, 3> payload_for(std::uint64_t seq) { return {seq, ~seq, seq * 3}; }

// Exit codes of a reader process.
enum ReaderExit : int { kOk = 0, kAttach = 10, kStatus = 11, kOrder = 12, kTorn = 13, kLostUnderBlock = 14,
                        kAccounting = 15, kEvicted = 16 };

// How many readers have finished attach(), in memory shared with the forked readers. Not the
// records' state: a fresh attach by name stores state = Attached while it checks for a duplicate
// name, before it fixes its start (spec/layout.md, "Attach ordering"), so a writer that started
// on seeing that state could write entries the reader then rightly starts after (JR-3). That is
// what failed CI twice ("reader 2: exited with 12", order: its first entry was not seq 0).
std::atomic<std::uint32_t>* g_attached = nullptr;

int run_reader(const std::string& path, std::uint32_t index, OnFull on_full, std::uint64_t entries,
               std::uint32_t commit_every) {
  RealPlatform platform(WaitStrategy::Backoff);
  auto region = Region::open(path);
  if (!region.ok()) return kAttach;
  const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  auto attached = JournalReader<RealPlatform>::attach(platform, ref, "reader-" + std::to_string(index));
  if (!attached.ok()) return kAttach;
  auto reader = std::move(attached).value();
  if (reader.next_seq() != 0) return kAttach;  // the writer waits for every attach to return
  g_attached->fetch_add(1, std::memory_order_release);
  std::array<std::uint64_t, 3> words{};
  std::uint64_t delivered = 0, lost = 0, expected_seq = 0, since_commit = 0;
  for (;;) {
    const ReadResult r = reader.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status == ReadStatus::Lost) {
      if (on_full == OnFull::Block) return kLostUnderBlock;
      lost += r.lost_count;
      expected_seq += r.lost_count;
      continue;
    }
    if (r.status == ReadStatus::Evicted) return kEvicted;
    if (r.status != ReadStatus::Entry) return kStatus;
    if (r.seq != expected_seq) return kOrder;
    if (r.payload_bytes != sizeof(words) || words != payload_for(r.seq)) return kTorn;
    ++expected_seq;
    ++delivered;
    if (++since_commit >= commit_every) {
      if (!reader.commit()) return kEvicted;
      since_commit = 0;
    }
  }
  if (!reader.commit()) return kEvicted;
  std::printf("reader %u: delivered=%llu lost=%llu\n", index, static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(lost));
  std::fflush(stdout);
  if (delivered + lost != entries) return kAccounting;
  if (on_full == OnFull::Block && delivered != entries) return kAccounting;
  if (ref.readers[reader.reader_id()].read_count != delivered) return kAccounting;
  if (ref.readers[reader.reader_id()].lost_count != lost) return kAccounting;
  reader.detach();
  return kOk;
}

class JournalMultiProcess : public ::testing::TestWithParam<std::tuple<OnFull, WaitStrategy>> {};

TEST_P(JournalMultiProcess, OneWriterThreeReaders) {
  const auto [on_full, strategy] = GetParam();
  // Park pays a futex wake for most entries when the readers keep up: a quarter of the stream
  // exercises it as well and keeps CI time in check (Backoff runs the whole stream).
  const std::uint64_t entries = strategy == WaitStrategy::Park ? entry_count() / 4 : entry_count();
  const std::uint64_t seed = test_seed();
  std::printf("seed=%llu entries=%llu; replay: INDEXBUS_SEED=%llu INDEXBUS_MP_ENTRIES=%llu "
              "journal_multiprocess_test --gtest_filter='%s'\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entries),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entry_count()),
              (std::string(::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name()) + "." +
               ::testing::UnitTest::GetInstance()->current_test_info()->name()).c_str());
  std::fflush(stdout);  // or every forked reader prints it again
  std::mt19937_64 rng(seed);
  testing::TempRegionPath path("journal-mp");
  const LaneSpec spec{LaneKind::Journal, on_full, 4096, 24, kReaders, 0, {}};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok()) << region.error().message;
  RealPlatform platform(strategy);
  const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));

  void* shared = ::mmap(nullptr, sizeof(std::atomic<std::uint32_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  const std::unique_ptr<void, void (*)(void*)> unmap(shared, [](void* p) { ::munmap(p, sizeof(std::atomic<std::uint32_t>)); });
  g_attached = new (shared) std::atomic<std::uint32_t>(0);
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);  // so it works across processes
  std::array<pid_t, kReaders> children{};
  for (std::uint32_t i = 0; i < kReaders; ++i) {
    const auto commit_every = static_cast<std::uint32_t>(1 + rng() % 64);
    children[i] = ::fork();
    ASSERT_GE(children[i], 0);
    if (children[i] == 0) _exit(run_reader(path.str(), i, on_full, entries, commit_every));
  }
  // Start writing only once every reader's attach has returned (g_attached), so that each must
  // see every entry. Bounded: 30 s.
  const std::uint64_t attach_deadline = platform.now_ns() + 30'000'000'000ull;
  bool all_attached = false;
  while (!all_attached && platform.now_ns() < attach_deadline) {
    all_attached = g_attached->load(std::memory_order_acquire) == kReaders;
    if (!all_attached) ::usleep(1000);
  }
  bool ok = all_attached;
  std::string failure = all_attached ? "" : "readers did not attach";
  if (ok) {
    ASSERT_TRUE(claim_role(platform, ref.header->producer_pid));
    JournalWriter writer(platform, ref);
    for (std::uint64_t seq = 0; seq < entries && ok; ++seq) {
      const auto words = payload_for(seq);
      const WriteStatus s = writer.write(std::as_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
      if (s != WriteStatus::Ok) {
        ok = false;
        failure = "write " + std::to_string(seq) + ": " + std::string(to_string(s));
      }
    }
    writer.close();
    release_role(platform, ref.header->producer_pid);
  }
  // Watchdog: reap the readers until the deadline, then kill whoever is left.
  const std::uint64_t watchdog = platform.now_ns() + kWatchdogNs;
  std::array<int, kReaders> statuses{};
  std::array<bool, kReaders> reaped{};
  std::uint32_t left = kReaders;
  while (left > 0) {
    for (std::uint32_t i = 0; i < kReaders; ++i) {
      if (reaped[i]) continue;
      if (::waitpid(children[i], &statuses[i], WNOHANG) == children[i]) {
        reaped[i] = true;
        --left;
      }
    }
    if (left == 0) break;
    if (platform.now_ns() > watchdog || !ok) {
      if (ok) failure = "watchdog killed the readers";
      // Say which readers had stopped by themselves (and how) before killing the rest: a writer
      // that timed out is waiting for a reader that either exited or stopped making progress.
      for (std::uint32_t i = 0; i < kReaders; ++i) {
        failure += "; reader " + std::to_string(i) + ": ";
        if (!reaped[i]) {
          failure += "still running (committed cursor " + std::to_string(ref.readers[i].cursor_seq) + "), killed";
          ::kill(children[i], SIGKILL);
        } else if (WIFEXITED(statuses[i])) {
          failure += "exited with " + std::to_string(WEXITSTATUS(statuses[i]));
        } else {
          failure += "died of signal " + std::to_string(WTERMSIG(statuses[i]));
        }
      }
      for (std::uint32_t i = 0; i < kReaders; ++i) {
        if (!reaped[i]) (void)::waitpid(children[i], &statuses[i], 0);
      }
      ok = false;
      break;
    }
    ::usleep(2000);
  }
  ASSERT_TRUE(ok) << failure << " (reader exit codes: 10 attach, 11 status, 12 order, 13 torn, "
                  << "14 lost under block, 15 accounting, 16 evicted)";
  for (std::uint32_t i = 0; i < kReaders; ++i) {
    ASSERT_TRUE(WIFEXITED(statuses[i])) << "reader " << i << " died";
    EXPECT_EQ(WEXITSTATUS(statuses[i]), 0)
        << "reader " << i << " exit code (10 attach, 11 status, 12 order, 13 torn, 14 lost under block, "
        << "15 accounting, 16 evicted)";
  }
  EXPECT_EQ(ref.header->write_seq, entries);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, JournalMultiProcess,
    // Four processes share two cores in CI: a spinning writer would starve the readers, so the
    // polling variant uses Backoff.
    ::testing::Values(std::make_tuple(OnFull::Block, WaitStrategy::Backoff),
                      std::make_tuple(OnFull::Block, WaitStrategy::Park),
                      std::make_tuple(OnFull::Drop, WaitStrategy::Backoff)));

}  // namespace
}  // namespace indexbus

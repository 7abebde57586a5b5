// Four real processes over a real region (SS-4, SS-5, SS-7, SS-8, SS-9, SS-11): a forked producer
// streams INDEXBUS_MP_ENTRIES entries (default 5M in release, 500k under sanitizers) through a
// small SequencedSlots lane to three forked consumers in a pipeline 0 -> 1 -> 2. This process is
// the watchdog: it kills every child after a deadline, so a hang fails instead of waiting.
// Block: every consumer gets every entry, in order, untorn, and only after its upstream consumer's
// cursor (in the region) has passed it. Drop: in order and untorn, and delivered + lost = written
// for every consumer. Prints its seed; replay with INDEXBUS_SEED=<seed> (and INDEXBUS_MP_ENTRIES).
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <optional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kDefaultEntries = 500'000;
#else
constexpr std::uint64_t kDefaultEntries = 5'000'000;
#endif

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  if (const char* env = std::getenv(name)) return std::strtoull(env, nullptr, 10);
  return fallback;
}

constexpr std::uint64_t kOpDeadlineNs = 30'000'000'000ull;  // per operation
constexpr auto kWatchdog = std::chrono::seconds(120);      // whole test
constexpr std::uint32_t kConsumers = 3;

// Child exit codes.
enum Exit : int { kOk = 0, kOpen = 10, kAttach = 11, kWrite = 12, kRead = 13, kOrder = 14, kTorn = 15,
                  kGate = 16, kLostUnderBlock = 17, kAccounting = 18 };

// Payload: seq ^ key, ~seq, seq * 3 + key: a torn copy breaks the relation.
std::array<std::uint64_t, 3> payload_for(std::uint64_t seq, std::uint64_t key) {
  return {seq ^ key, ~seq, seq * 3 + key};
}

RingLaneRef open_lane(const std::string& path, std::optional<Region>& holder) {
  auto opened = Region::open(path);
  if (!opened.ok()) _exit(kOpen);
  holder.emplace(std::move(opened.value()));
  return ring_lane_ref(holder->lane_block(0), holder->lane(0));
}

[[noreturn]] void run_producer(const std::string& path, std::uint64_t entries, std::uint64_t key) {
  RealPlatform platform(WaitStrategy::Backoff);
  std::optional<Region> region;
  const RingLaneRef lane = open_lane(path, region);
  auto attached = attach_sequenced_producer(platform, lane);
  if (!attached.ok()) _exit(kAttach);
  SequencedProducer<RealPlatform>& producer = attached.value();
  for (std::uint64_t seq = 0; seq < entries; ++seq) {
    const ClaimResult claim = producer.claim(platform.now_ns() + kOpDeadlineNs);
    if (claim.status != WriteStatus::Ok || claim.seq != seq) _exit(kWrite);
    const auto words = payload_for(seq, key);
    std::memcpy(claim.payload.data(), words.data(), sizeof(words));  // in place, once
    if (producer.publish(sizeof(words)) != WriteStatus::Ok) _exit(kWrite);
  }
  producer.close();
  detach_sequenced_producer(platform, lane);
  _exit(kOk);
}

[[noreturn]] void run_consumer(const std::string& path, std::uint32_t index, OnFull on_full, std::uint64_t entries,
                               std::uint64_t key, std::uint64_t seed) {
  RealPlatform platform(WaitStrategy::Backoff);
  std::optional<Region> region;
  const RingLaneRef lane = open_lane(path, region);
  auto attached = attach_sequenced_consumer(platform, lane, index);
  if (!attached.ok()) _exit(kAttach);
  SequencedConsumer<RealPlatform>& consumer = attached.value();
  std::mt19937_64 rng(seed + index);
  std::array<std::uint64_t, 3> words{};
  std::uint64_t next = 0, delivered = 0, lost = 0;
  for (;;) {
    const ReadResult r = consumer.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status == ReadStatus::Lost) {
      if (on_full == OnFull::Block) _exit(kLostUnderBlock);
      lost += r.lost_count;
      next += r.lost_count;
      continue;
    }
    if (r.status != ReadStatus::Entry) _exit(kRead);
    if (r.seq != next) _exit(kOrder);
    if (r.payload_bytes != sizeof(words) || words != payload_for(r.seq, key)) _exit(kTorn);
    // SS-4: the upstream consumer finished this entry before we got it. Its cursor only grows, so
    // a cursor at or below seq now means we read ahead of it.
    if (index > 0) {
      const std::uint64_t upstream = std::atomic_ref<std::uint64_t>(lane.readers[index - 1].cursor_seq).load(std::memory_order_acquire);
      if (upstream <= r.seq) _exit(kGate);
    }
    ++next;
    ++delivered;
    // Under Drop, an occasional stall makes this consumer fall behind and be lapped.
    if (on_full == OnFull::Drop && rng() % 4096 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (delivered + lost != entries || next != entries) _exit(kAccounting);
  if (on_full == OnFull::Block && delivered != entries) _exit(kAccounting);
  detach_sequenced_consumer(platform, lane, index);
  _exit(kOk);
}

class SequencedPipeline : public ::testing::TestWithParam<OnFull> {};

TEST_P(SequencedPipeline, OneProducerThreeStagesExactAccounting) {
  const OnFull on_full = GetParam();
  const std::uint64_t entries = env_or("INDEXBUS_MP_ENTRIES", kDefaultEntries);
  const std::uint64_t seed = env_or("INDEXBUS_SEED", std::random_device{}());
  const std::string policy(to_string(on_full));
  std::printf("seed=%llu entries=%llu policy=%s; replay: INDEXBUS_SEED=%llu INDEXBUS_MP_ENTRIES=%llu "
              "sequenced_slots_multiprocess_test --gtest_filter='*%s*'\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entries), policy.c_str(),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entries),
              on_full == OnFull::Block ? "Block" : "Drop");
  const std::uint64_t key = std::mt19937_64(seed)();
  testing::TempRegionPath path("ssmp");
  const LaneSpec spec{LaneKind::SequencedSlots, on_full, 1024, 24, kConsumers, 0, {0, 0b1, 0b10}};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok()) << region.error().message;
  const RingLaneRef ref = ring_lane_ref(region->lane_block(0), region->lane(0));

  std::vector<pid_t> children;
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) run_consumer(path.str(), i, on_full, entries, key, seed);
    children.push_back(child);
  }
  const pid_t producer = ::fork();
  ASSERT_GE(producer, 0);
  if (producer == 0) run_producer(path.str(), entries, key);
  children.push_back(producer);

  // Watchdog: reap children until all exited or the deadline passes; then kill the rest.
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + kWatchdog;
  std::vector<int> status(children.size(), -1);
  std::size_t remaining = children.size();
  bool timed_out = false;
  while (remaining > 0) {
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (status[i] != -1) continue;
      int s = 0;
      if (::waitpid(children[i], &s, WNOHANG) == children[i]) {
        status[i] = s;
        --remaining;
      }
    }
    if (remaining == 0) break;
    // A failed child would leave the others blocked until their deadlines: stop at once.
    bool failed = false;
    for (int s : status) failed = failed || (s != -1 && (!WIFEXITED(s) || WEXITSTATUS(s) != 0));
    if (failed || std::chrono::steady_clock::now() > deadline) {
      timed_out = !failed;
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (status[i] == -1) ::kill(children[i], SIGKILL);
      }
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (status[i] == -1) ::waitpid(children[i], &status[i], 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_FALSE(timed_out) << "watchdog killed the children after " << seconds << " s";
  for (std::size_t i = 0; i < children.size(); ++i) {
    const char* who = i < kConsumers ? "consumer" : "producer";
    ASSERT_TRUE(WIFEXITED(status[i])) << who << " " << i << " died or was killed";
    EXPECT_EQ(WEXITSTATUS(status[i]), 0)
        << who << " " << i << " exit code (10 open, 11 attach, 12 write, 13 read, 14 order, 15 torn, 16 gate, "
        << "17 lost under block, 18 accounting)";
  }
  EXPECT_EQ(ref.header->write_seq, entries);
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    const ReaderRecord& r = ref.readers[i];
    EXPECT_EQ(r.read_count + r.lost_count, entries) << "consumer " << i;
    EXPECT_EQ(r.cursor_seq, entries) << "consumer " << i;
    if (on_full == OnFull::Block) {
      EXPECT_EQ(r.lost_count, 0u) << "consumer " << i;
    }
    std::printf("consumer %u: delivered=%llu lost=%llu\n", i, static_cast<unsigned long long>(r.read_count),
                static_cast<unsigned long long>(r.lost_count));
  }
  std::printf("%s: %llu entries through 3 stages in %.2f s\n", policy.c_str(),
              static_cast<unsigned long long>(entries), seconds);
}

INSTANTIATE_TEST_SUITE_P(Policies, SequencedPipeline, ::testing::Values(OnFull::Block, OnFull::Drop),
                         [](const ::testing::TestParamInfo<OnFull>& param_info) {
                           return std::string(param_info.param == OnFull::Block ? "Block" : "Drop");
                         });

}  // namespace
}  // namespace indexbus

// Four real processes over a real region (FB-3, FB-5, FB-7, FB-8, FB-10): this process produces
// INDEXBUS_FANOUT_MP_ENTRIES (default 5M; CMake sets fewer under sanitizers) entries into a
// FanoutBroadcast lane read by 3 forked consumer processes.
//   Block: every consumer receives every entry, in order, with its exact payload; none lost.
//   Drop:  one consumer (chosen by the seed) is as slow as a consumer can be: it is stopped
//          (SIGSTOP) before the first write and continued only after the producer has closed and
//          the other two have finished. So the producer and the fast consumers provably never
//          waited for it (FB-8), and it must then see exactly Lost{written - C}, the last C
//          entries and Closed (FB-7). For every consumer delivered + lost = written, deliveries
//          in order and untorn. Rates are printed, not asserted: timing on a shared 2-core CI
//          machine is not a test oracle.
// Watchdog: every child arms alarm(); this process kills all children after a deadline.
// Replay: INDEXBUS_SEED=<seed> (printed) with --gtest_filter as printed.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "indexbus/fanout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

constexpr std::uint32_t kConsumers = 3;
constexpr std::uint64_t kOpDeadlineNs = 60'000'000'000ull;  // per operation; a hang fails
constexpr unsigned kWatchdogSeconds = 300;                   // whole test, children included

std::uint64_t entry_count() {
  if (const char* env = std::getenv("INDEXBUS_FANOUT_MP_ENTRIES")) return std::strtoull(env, nullptr, 10);
  return 5'000'000;
}

std::uint64_t seed_value() {
  if (const char* env = std::getenv("INDEXBUS_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

std::array<std::uint64_t, 3> payload_for(std::uint64_t seq) { return {seq, ~seq, seq * 3}; }

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// What a consumer process reports through its pipe.
struct ConsumerReport {
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t lost_reports = 0;
  std::uint64_t elapsed_ns = 0;
  std::uint64_t failed_at_seq = 0;
  std::uint32_t failure = 0;  // 0 ok, else one of kFail*
};
constexpr std::uint32_t kFailOpen = 1, kFailAttach = 2, kFailStatus = 3, kFailOrder = 4, kFailTorn = 5,
                        kFailLostUnderBlock = 6, kFailCounters = 7;

// Sends the report and ends the consumer process.
[[noreturn]] void finish(ConsumerReport report, int report_fd, std::uint32_t failure) {
  report.failure = failure;
  const auto written = ::write(report_fd, &report, sizeof(report));
  _exit(written == static_cast<ssize_t>(sizeof(report)) ? 0 : 20);
}

// A consumer process: attach, read until Closed, check every entry, report, exit. Never returns
// into gtest.
[[noreturn]] void consume(const std::string& path, std::uint32_t index, OnFull on_full, WaitStrategy strategy,
                          int report_fd) {
  ::alarm(kWatchdogSeconds);
  ConsumerReport report;
  auto opened = Region::open(path);
  if (!opened.ok()) finish(report, report_fd, kFailOpen);
  RealPlatform platform(strategy);
  const RingLaneRef lane = ring_lane_ref(opened->lane_block(0), opened->lane(0));
  auto consumer = attach_fanout_consumer(platform, lane, index);
  if (!consumer.ok()) finish(report, report_fd, kFailAttach);
  std::array<std::uint64_t, 3> words{};
  std::uint64_t expected = 0;
  const std::uint64_t start = now_ns();
  for (;;) {
    const ReadResult r = consumer->read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status == ReadStatus::Lost) {
      if (on_full == OnFull::Block) finish(report, report_fd, kFailLostUnderBlock);
      report.lost += r.lost_count;
      ++report.lost_reports;
      expected += r.lost_count;
      continue;
    }
    if (r.status != ReadStatus::Entry) finish(report, report_fd, kFailStatus);
    report.failed_at_seq = r.seq;
    if (r.seq != expected) finish(report, report_fd, kFailOrder);
    if (words != payload_for(r.seq)) finish(report, report_fd, kFailTorn);
    ++expected;
    ++report.delivered;
  }
  report.elapsed_ns = now_ns() - start;
  if (lane.readers[index].read_count != report.delivered || lane.readers[index].lost_count != report.lost) {
    finish(report, report_fd, kFailCounters);
  }
  detach_fanout_consumer(platform, lane, index);
  finish(report, report_fd, 0);
}

// Kills and reaps every child not yet reaped, however the test leaves (a failed ASSERT included),
// so that no consumer outlives its test, stopped or not.
struct ChildGuard {
  std::array<pid_t, kConsumers> pids{};
  std::array<bool, kConsumers> reaped{};
  ~ChildGuard() {
    for (std::uint32_t i = 0; i < kConsumers; ++i) {
      if (pids[i] <= 0 || reaped[i]) continue;
      ::kill(pids[i], SIGKILL);
      (void)::waitpid(pids[i], nullptr, 0);
    }
  }
};

class FanoutProcesses : public ::testing::TestWithParam<std::tuple<OnFull, WaitStrategy>> {};

TEST_P(FanoutProcesses, OneProducerThreeConsumers) {
  const auto [on_full, strategy] = GetParam();
  // Park pays a futex wake per entry or two when the ring is full and every process shares two
  // cores: a tenth of the entries still exercises hundreds of thousands of park/wake pairs.
  const std::uint64_t entries = strategy == WaitStrategy::Park ? entry_count() / 10 : entry_count();
  const std::uint64_t seed = seed_value();
  std::mt19937_64 rng(seed);
  const auto slow_index = static_cast<std::uint32_t>(rng() % kConsumers);
  const bool has_slow = on_full == OnFull::Drop;
  std::printf("seed %llu entries %llu (replay: INDEXBUS_SEED=%llu INDEXBUS_FANOUT_MP_ENTRIES=%llu "
              "fanout_multiprocess_test --gtest_filter='*FanoutProcesses*')\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entries),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entry_count()));

  testing::TempRegionPath path("fanout-mp");
  constexpr std::uint32_t kCapacity = 1024;
  const LaneSpec spec{LaneKind::FanoutBroadcast, on_full, kCapacity, 24, kConsumers};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok()) << region.error().message;
  RealPlatform platform(strategy);
  const RingLaneRef lane = ring_lane_ref(region->lane_block(0), region->lane(0));

  ChildGuard guard;
  std::array<pid_t, kConsumers>& children = guard.pids;
  std::array<int, kConsumers> report_fds{};
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      consume(path.str(), i, on_full, strategy, fds[1]);
    }
    ::close(fds[1]);
    children[i] = child;
    report_fds[i] = fds[0];
  }
  auto kill_all = [&] {
    for (pid_t child : children) ::kill(child, SIGKILL);
  };

  // Start together: wait (bounded) until every consumer has attached, so that Drop figures measure
  // the stream rather than the fork.
  const std::uint64_t attach_deadline = now_ns() + 30'000'000'000ull;
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    while (platform.load(lane.readers[i].pid, std::memory_order_acquire) == 0 && now_ns() < attach_deadline) {
      ::usleep(100);
    }
  }

  if (has_slow) {
    // Stopped before the first write: whatever it does later, it read nothing until it resumes.
    ASSERT_EQ(::kill(children[slow_index], SIGSTOP), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(children[slow_index], &status, WUNTRACED), children[slow_index]);
    ASSERT_TRUE(WIFSTOPPED(status));
  }

  auto producer = attach_fanout_producer(platform, lane);
  ASSERT_TRUE(producer.ok());
  const std::uint64_t start = now_ns();
  bool wrote_all = true;
  for (std::uint64_t seq = 0; seq < entries; ++seq) {
    const auto words = payload_for(seq);
    if (producer->write(std::as_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs) != WriteStatus::Ok) {
      wrote_all = false;
      break;
    }
  }
  const std::uint64_t producer_ns = now_ns() - start;
  producer->close();
  if (!wrote_all) kill_all();
  ASSERT_TRUE(wrote_all) << "producer write failed";

  // Collect, with a watchdog: a child that does not finish in time is killed and fails the test.
  // The stopped consumer is collected last, after it is continued: the others must finish without it.
  std::array<ConsumerReport, kConsumers> reports{};
  const std::uint64_t collect_deadline = now_ns() + std::uint64_t{kWatchdogSeconds} * 1'000'000'000ull;
  std::array<std::uint32_t, kConsumers> order{0, 1, 2};
  if (has_slow) std::swap(order[slow_index], order[kConsumers - 1]);
  for (std::uint32_t i : order) {
    if (has_slow && i == slow_index) {
      ASSERT_EQ(::kill(children[i], SIGCONT), 0);
    }
    int status = 0;
    pid_t done = 0;
    while ((done = ::waitpid(children[i], &status, WNOHANG)) == 0 && now_ns() < collect_deadline) ::usleep(1000);
    if (done == 0) {
      kill_all();
      (void)::waitpid(children[i], &status, 0);
      guard.reaped[i] = true;
      FAIL() << "consumer " << i << " did not finish before the watchdog";
    }
    guard.reaped[i] = true;
    ASSERT_TRUE(WIFEXITED(status)) << "consumer " << i << " died";
    ASSERT_EQ(WEXITSTATUS(status), 0) << "consumer " << i << " could not report";
    ASSERT_EQ(::read(report_fds[i], &reports[i], sizeof(ConsumerReport)), static_cast<ssize_t>(sizeof(ConsumerReport)));
    ::close(report_fds[i]);
  }
  detach_fanout_producer(platform, lane);

  std::printf("policy=%s strategy=%u producer %.1f Mentries/s\n", std::string(to_string(on_full)).c_str(),
              static_cast<unsigned>(strategy), entries * 1e3 / static_cast<double>(producer_ns));
  for (std::uint32_t i = 0; i < kConsumers; ++i) {
    const ConsumerReport& r = reports[i];
    std::printf("  consumer %u%s: delivered %llu lost %llu (%llu reports) in %.3f s, %.1f Mentries/s delivered\n", i,
                has_slow && i == slow_index ? " (slow)" : "", static_cast<unsigned long long>(r.delivered),
                static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.lost_reports),
                static_cast<double>(r.elapsed_ns) / 1e9,
                r.elapsed_ns == 0 ? 0.0 : static_cast<double>(r.delivered) * 1e3 / static_cast<double>(r.elapsed_ns));
    EXPECT_EQ(r.failure, 0u) << "consumer " << i << " failed (code " << r.failure << ": 1 open, 2 attach, 3 status, "
                             << "4 order, 5 torn, 6 lost under block, 7 counters) at seq " << r.failed_at_seq;
    EXPECT_EQ(r.delivered + r.lost, entries) << "consumer " << i;
    if (on_full == OnFull::Block) {
      EXPECT_EQ(r.delivered, entries) << "consumer " << i;
    }
    if (has_slow && i == slow_index) {
      EXPECT_EQ(r.delivered, std::min<std::uint64_t>(entries, kCapacity));
      EXPECT_EQ(r.lost, entries - std::min<std::uint64_t>(entries, kCapacity));
    }
  }
  EXPECT_EQ(lane.header->write_seq, entries);
}

INSTANTIATE_TEST_SUITE_P(Policies, FanoutProcesses,
                         ::testing::Values(std::make_tuple(OnFull::Block, WaitStrategy::Backoff),
                                           std::make_tuple(OnFull::Block, WaitStrategy::Park),
                                           std::make_tuple(OnFull::Drop, WaitStrategy::Backoff)));

}  // namespace
}  // namespace indexbus

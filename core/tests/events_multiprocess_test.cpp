// Two real processes over a real region (EV-5, EV-7, EV-8, EV-9, EV-11): a forked producer
// streams INDEXBUS_MP_ENTRIES (default 10M) entries through a small lane to a consumer in this
// process. Block: all arrive in order, none lost or duplicated. Drop: every gap is reported as
// Lost with the exact count, and delivered + lost = written.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

std::uint64_t entry_count() {
  if (const char* env = std::getenv("INDEXBUS_MP_ENTRIES")) return std::strtoull(env, nullptr, 10);
  return 10'000'000;
}

constexpr std::uint64_t kDeadlineNs = 120'000'000'000ull;  // per operation; a hang fails, not waits

// Payload: seq, ~seq, then (for the 24-byte lanes) seq*3: a torn copy breaks the relation.
std::array<std::uint64_t, 3> payload_for(std::uint64_t seq) { return {seq, ~seq, seq * 3}; }

class TwoProcess : public ::testing::TestWithParam<std::tuple<OnFull, WaitStrategy>> {};

TEST_P(TwoProcess, StreamInOrderWithExactAccounting) {
  const auto [on_full, strategy] = GetParam();
  const std::uint64_t entries = entry_count();
  testing::TempRegionPath path("mp");
  const LaneSpec spec{LaneKind::Events, on_full, 64, 24, 1};
  auto region = Region::create(path.str(), std::span(&spec, 1));
  ASSERT_TRUE(region.ok()) << region.error().message;
  RealPlatform platform(strategy);
  const auto ref = events_lane_ref(region->lane_block(0), region->lane(0));

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The producer process: attaches, streams, closes, exits. Never returns into gtest.
    auto opened = Region::open(path.str());
    if (!opened.ok()) _exit(10);
    const auto child_ref = events_lane_ref(opened->lane_block(0), opened->lane(0));
    if (!claim_role(platform, child_ref.header->producer_pid)) _exit(11);
    EventsProducer producer(platform, child_ref);
    for (std::uint64_t seq = 0; seq < entries; ++seq) {
      const auto words = payload_for(seq);
      if (producer.write(std::as_bytes(std::span(words)), platform.now_ns() + kDeadlineNs) !=
          WriteStatus::Ok) {
        _exit(12);
      }
    }
    producer.close();
    release_role(platform, child_ref.header->producer_pid);
    _exit(0);
  }

  ASSERT_TRUE(claim_role(platform, ref.header->consumer_pid));
  EventsConsumer consumer(platform, ref);
  std::array<std::uint64_t, 3> words{};
  std::uint64_t delivered = 0, lost = 0, next_seq = 0, lost_reports = 0;
  bool ok = true;
  std::string failure;
  while (ok) {
    const auto r = consumer.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status == ReadStatus::Lost) {
      ++lost_reports;
      if (on_full == OnFull::Block) { ok = false; failure = "Lost under Block"; }
      if (r.lost_count == 0) { ok = false; failure = "Lost{0}"; }
      lost += r.lost_count;
      next_seq += r.lost_count;
      continue;
    }
    if (r.status != ReadStatus::Entry) { ok = false; failure = std::string(to_string(r.status)); break; }
    if (r.seq != next_seq) { ok = false; failure = "seq " + std::to_string(r.seq) + " expected " + std::to_string(next_seq); break; }
    if (words != payload_for(r.seq)) { ok = false; failure = "torn entry " + std::to_string(r.seq); break; }
    ++next_seq;
    ++delivered;
  }
  if (!ok) ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(ok) << failure << " after " << delivered << " entries";
  ASSERT_TRUE(WIFEXITED(status)) << "producer died";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "producer exit code (10 open, 11 role, 12 write)";
  release_role(platform, ref.header->consumer_pid);
  EXPECT_EQ(delivered + lost, entries);
  EXPECT_EQ(ref.header->write_seq, entries);
  EXPECT_EQ(ref.header->read_count, delivered);
  EXPECT_EQ(ref.header->lost_count, lost);
  if (on_full == OnFull::Block) {
    EXPECT_EQ(delivered, entries);
  }
  std::printf("policy=%s delivered=%llu lost=%llu lost_reports=%llu written=%llu\n",
              std::string(to_string(on_full)).c_str(), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(lost), static_cast<unsigned long long>(lost_reports),
              static_cast<unsigned long long>(entries));
}

INSTANTIATE_TEST_SUITE_P(
    Policies, TwoProcess,
    ::testing::Values(std::make_tuple(OnFull::Block, WaitStrategy::Spin),
                      std::make_tuple(OnFull::Block, WaitStrategy::Park),
                      std::make_tuple(OnFull::Drop, WaitStrategy::Spin)));

}  // namespace
}  // namespace indexbus

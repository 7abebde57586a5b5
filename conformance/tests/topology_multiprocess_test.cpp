// A topology across real processes (RT-*, MG-*): two producer processes -> a merge process -> a
// router process -> three consumer processes, over six Events lanes of one region. The inputs come
// from a seed; each consumer compares its stream with the model's prediction
// (spec::merge_order then spec::route) entry by entry, or for Arrival (whose order depends on
// timing) checks it with spec::check_arrival. A watchdog kills every process past its deadline.
// The seed is printed with a one-line replay command; set INDEXBUS_TOPOLOGY_SEED to replay.
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
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/router.hpp"
#include "indexbus/spec/merge_model.hpp"
#include "indexbus/spec/router_model.hpp"
#include "loop_lanes.hpp"

namespace indexbus {
namespace {

constexpr std::uint32_t kSlotBytes = 24;
constexpr std::uint32_t kConsumers = 3;
constexpr std::uint64_t kWatchdogNs = 60'000'000'000ull;  // the whole topology; a hang fails

std::uint64_t entries_per_producer() {
  if (const char* env = std::getenv("INDEXBUS_TOPOLOGY_ENTRIES")) return std::strtoull(env, nullptr, 10);
  return 20'000;
}

std::uint64_t topology_seed() {
  if (const char* env = std::getenv("INDEXBUS_TOPOLOGY_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

// Key, tag (producer << 32 | serial), and key * 3 + tag: a torn entry breaks the relation.
spec::Bytes make_entry(std::uint64_t key, std::uint64_t tag) {
  const std::array<std::uint64_t, 3> words{key, tag, key * 3 + tag};
  spec::Bytes out(kSlotBytes);
  std::memcpy(out.data(), words.data(), kSlotBytes);
  return out;
}

// Sorted keys per producer (Sequence merges sorted inputs into a sorted output), with repeats so
// that ties between the producers happen.
std::vector<std::vector<spec::Bytes>> make_inputs(std::uint64_t seed, std::uint64_t entries) {
  std::mt19937_64 random(seed);
  std::vector<std::vector<spec::Bytes>> inputs(2);
  for (std::uint64_t p = 0; p < 2; ++p) {
    std::uint64_t key = 0;
    for (std::uint64_t k = 0; k < entries; ++k) {
      key += random() % 3;
      inputs[p].push_back(make_entry(key, (p << 32) | k));
    }
  }
  return inputs;
}

struct Topology {
  spec::MergePolicy merge;
  spec::RouterPolicy router;
};

void PrintTo(const Topology& topology, std::ostream* os) {
  *os << spec::describe(topology.merge) << " merge into " << spec::describe(topology.router) << " router";
}

struct Shared {  // a shared anonymous mapping every process inherits
  std::array<std::atomic<std::uint64_t>, kConsumers> received{};
  std::array<std::atomic<std::uint64_t>, kConsumers> digest{};
};

class TopologyTest : public ::testing::TestWithParam<Topology> {};

TEST_P(TopologyTest, TwoProducersMergeRouterThreeConsumers) {
  const Topology topology = GetParam();
  const std::uint64_t seed = topology_seed();
  const std::uint64_t entries = entries_per_producer();
  std::printf("seed=%llu entries=%llu; replay: INDEXBUS_TOPOLOGY_SEED=%llu %s --gtest_filter='%s.%s'\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(entries),
              static_cast<unsigned long long>(seed), ::testing::internal::GetArgvs()[0].c_str(),
              ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name(),
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::fflush(stdout);

  // The model's prediction, computed before any fork so that every consumer inherits it.
  const auto inputs = make_inputs(seed, entries);
  const spec::MergeModelConfig merge_config{topology.merge, 2, 0};
  const spec::RouterModelConfig router_config{topology.router, kConsumers, 0};
  std::vector<spec::Bytes> merged;
  std::vector<std::vector<spec::Bytes>> expected(kConsumers);
  if (topology.merge != spec::MergePolicy::Arrival) {
    for (const spec::MergeSource& source : spec::merge_order(merge_config, inputs)) {
      merged.push_back(inputs[source.input][source.index]);
    }
    const auto routed = spec::route(router_config, merged);
    for (std::uint32_t c = 0; c < kConsumers; ++c) {
      for (const std::uint64_t j : routed[c]) expected[c].push_back(merged[j]);
    }
  }

  const testing::EventsLaneSpec lane{OnFull::Block, 64, kSlotBytes};
  testing::LoopLanes lanes({lane, lane, lane, lane, lane, lane}, "topology");
  auto* shared = static_cast<Shared*>(
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(shared, MAP_FAILED);
  new (shared) Shared{};

  const std::string path = lanes.path();
  std::vector<pid_t> children;
  const auto spawn = [&](auto body) {
    const pid_t child = ::fork();
    if (child == 0) {
      // Never returns into gtest. Each process maps the region itself, as a real one would.
      auto region = Region::open(path);
      if (!region.ok()) _exit(10);
      RealPlatform platform(WaitStrategy::Backoff);
      const auto ref = [&](std::uint32_t i) { return events_lane_ref(region->lane_block(i), region->lane(i)); };
      _exit(body(platform, ref, platform.now_ns() + kWatchdogNs));
    }
    children.push_back(child);
  };
  for (std::uint32_t p = 0; p < 2; ++p) {
    spawn([&, p](RealPlatform& platform, auto ref, std::uint64_t deadline) {
      EventsProducer producer(platform, ref(p));
      for (const spec::Bytes& payload : inputs[p]) {
        if (producer.write(payload, deadline) != WriteStatus::Ok) return 12;
      }
      producer.close();
      return 0;
    });
  }
  spawn([&](RealPlatform& platform, auto ref, std::uint64_t deadline) {
    const std::array<EventsLaneRef, 2> in{ref(0), ref(1)};
    Merge merge(platform, in, ref(2), static_cast<MergePolicy>(topology.merge));
    return merge.run(deadline) == RunEnd::Closed ? 0 : 20;
  });
  spawn([&](RealPlatform& platform, auto ref, std::uint64_t deadline) {
    const std::array<EventsLaneRef, kConsumers> out{ref(3), ref(4), ref(5)};
    Router router(platform, ref(2), out, static_cast<RouterPolicy>(topology.router));
    return router.run(deadline) == RunEnd::Closed ? 0 : 30;
  });
  for (std::uint32_t c = 0; c < kConsumers; ++c) {
    spawn([&, c](RealPlatform& platform, auto ref, std::uint64_t deadline) {
      EventsConsumer consumer(platform, ref(3 + c));
      std::array<std::byte, kSlotBytes> out{};
      std::vector<spec::Bytes> got;
      std::vector<std::uint32_t> sources;
      std::uint64_t digest = 0;
      for (;;) {
        const ReadResult r = consumer.read(out, deadline);
        if (r.status == ReadStatus::Closed) break;
        if (r.status != ReadStatus::Entry) return 40;
        got.emplace_back(out.begin(), out.end());
        std::uint64_t tag = 0;
        std::memcpy(&tag, out.data() + 8, 8);
        sources.push_back(static_cast<std::uint32_t>(tag >> 32));
        digest = digest * 1'000'003 + tag;
      }
      shared->received[c].store(got.size());
      shared->digest[c].store(digest);
      if (topology.merge == spec::MergePolicy::Arrival) {
        // MG-6 across processes: an order-preserving interleaving, every entry present (Broadcast).
        return spec::check_arrival(inputs, got, sources, {}, true) ? 41 : 0;
      }
      return got == expected[c] ? 0 : 42;
    });
  }

  // The watchdog: wait for every child until the deadline, then kill whatever is left.
  RealPlatform platform(WaitStrategy::Backoff);
  const std::uint64_t deadline = platform.now_ns() + kWatchdogNs + 5'000'000'000ull;
  std::vector<int> statuses(children.size(), -1);
  std::size_t done = 0;
  while (done < children.size() && platform.now_ns() < deadline) {
    for (std::size_t k = 0; k < children.size(); ++k) {
      if (statuses[k] != -1) continue;
      int status = 0;
      if (::waitpid(children[k], &status, WNOHANG) == children[k]) {
        statuses[k] = status;
        ++done;
      }
    }
    ::usleep(2000);
  }
  for (std::size_t k = 0; k < children.size(); ++k) {
    if (statuses[k] == -1) {
      ::kill(children[k], SIGKILL);
      ::waitpid(children[k], nullptr, 0);
    }
  }
  static const char* const kRoles[] = {"producer 0", "producer 1", "merge", "router", "consumer 0", "consumer 1", "consumer 2"};
  for (std::size_t k = 0; k < children.size(); ++k) {
    ASSERT_NE(statuses[k], -1) << kRoles[k] << " still running at the watchdog deadline (seed " << seed << ")";
    ASSERT_TRUE(WIFEXITED(statuses[k])) << kRoles[k] << " died (seed " << seed << ")";
    EXPECT_EQ(WEXITSTATUS(statuses[k]), 0)
        << kRoles[k] << " failed (10 open, 12 write, 20/30 loop not closed, 40 read, 41 not an order-preserving "
        << "interleaving, 42 stream differs from the model) (seed " << seed << ")";
  }
  std::uint64_t total = 0;
  for (std::uint32_t c = 0; c < kConsumers; ++c) total += shared->received[c].load();
  if (topology.router == spec::RouterPolicy::Broadcast) {
    EXPECT_EQ(total, 2 * entries * kConsumers);
    EXPECT_EQ(shared->digest[0].load(), shared->digest[1].load());  // every consumer saw one order
    EXPECT_EQ(shared->digest[0].load(), shared->digest[2].load());
  } else {
    EXPECT_EQ(total, 2 * entries);
  }
  ::munmap(shared, sizeof(Shared));
}

INSTANTIATE_TEST_SUITE_P(
    Topology, TopologyTest,
    ::testing::Values(Topology{spec::MergePolicy::Sequence, spec::RouterPolicy::KeyHash},
                      Topology{spec::MergePolicy::RoundRobin, spec::RouterPolicy::RoundRobin},
                      Topology{spec::MergePolicy::Arrival, spec::RouterPolicy::Broadcast}),
    [](const ::testing::TestParamInfo<Topology>& param_info) {
      return spec::describe(param_info.param.merge) + "_into_" + spec::describe(param_info.param.router);
    });

}  // namespace
}  // namespace indexbus

// journal_bench: the Journal lane's append rate with 1 and 4 reader processes, next to the Events
// lane's append rate (one consumer process) measured in the same run, the same way.
//
// Every trial creates a fresh region on /dev/shm (Block, 4096 slots of 64 bytes), forks the
// readers (each attaches by name, reads every entry, checks its sequence number and payload,
// commits every 64 entries, and exits at Closed), waits until they are attached, then times the
// writer in this process from its first write to its last. The rate is entries / that time.
// Trials of the three configurations are interleaved within each repeat so that other load on
// the machine hits them alike; the figure is the best of the repeats. Readers and writer use the
// Backoff strategy: with more processes than cores a spinning side would starve the others.
//
// Usage: journal_bench [--entries N] [--repeats R] [--quick]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/events.hpp"
#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"

namespace indexbus {
namespace {

constexpr std::uint32_t kCapacitySlots = 4096;
constexpr std::uint32_t kPayloadBytes = 64;
constexpr std::uint64_t kOpDeadlineNs = 30'000'000'000ull;
constexpr std::uint64_t kWatchdogNs = 120'000'000'000ull;

struct Options {
  std::uint64_t entries = 5'000'000;
  int repeats = 3;
};

std::string region_path(const char* what) {
  return "/dev/shm/indexbus-journal-bench-" + std::to_string(::getpid()) + "-" + what;
}

std::array<std::uint64_t, kPayloadBytes / 8> payload_for(std::uint64_t seq) {
  std::array<std::uint64_t, kPayloadBytes / 8> words{};
  words[0] = seq;
  words[1] = ~seq;
  return words;
}

int journal_reader(const std::string& path, std::uint32_t index) {
  RealPlatform platform(WaitStrategy::Backoff);
  auto region = Region::open(path);
  if (!region.ok()) return 10;
  const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));
  auto attached = JournalReader<RealPlatform>::attach(platform, ref, "bench-" + std::to_string(index));
  if (!attached.ok()) return 11;
  auto reader = std::move(attached).value();
  std::array<std::uint64_t, kPayloadBytes / 8> words{};
  std::uint64_t expected = 0;
  for (;;) {
    const ReadResult r = reader.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status != ReadStatus::Entry) return 12;
    if (r.seq != expected || words[0] != r.seq || words[1] != ~r.seq) return 13;
    ++expected;
    if ((expected & 63) == 0 && !reader.commit()) return 14;
  }
  (void)reader.commit();
  reader.detach();
  return 0;
}

int events_consumer(const std::string& path) {
  RealPlatform platform(WaitStrategy::Backoff);
  auto region = Region::open(path);
  if (!region.ok()) return 10;
  const auto ref = events_lane_ref(region->lane_block(0), region->lane(0));
  if (!claim_role(platform, ref.header->consumer_pid)) return 11;
  EventsConsumer consumer(platform, ref);
  std::array<std::uint64_t, kPayloadBytes / 8> words{};
  std::uint64_t expected = 0;
  for (;;) {
    const ReadResult r = consumer.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs);
    if (r.status == ReadStatus::Closed) break;
    if (r.status != ReadStatus::Entry) return 12;
    if (r.seq != expected || words[0] != r.seq || words[1] != ~r.seq) return 13;
    ++expected;
  }
  release_role(platform, ref.header->consumer_pid);
  return 0;
}

// Reaps the children until the watchdog, then kills the rest. True if all exited 0.
bool reap(const std::vector<pid_t>& children) {
  RealPlatform platform;
  const std::uint64_t deadline = platform.now_ns() + kWatchdogNs;
  bool ok = true;
  for (pid_t child : children) {
    int status = 0;
    for (;;) {
      const pid_t got = ::waitpid(child, &status, WNOHANG);
      if (got == child) break;
      if (platform.now_ns() > deadline) {
        ::kill(child, SIGKILL);
        (void)::waitpid(child, &status, 0);
        break;
      }
      ::usleep(1000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "child %d failed (status %d)\n", static_cast<int>(child), status);
      ok = false;
    }
  }
  return ok;
}

// Entries per second, or nullopt on failure. readers == 0 means the Events lane.
std::optional<double> trial(std::uint32_t readers, std::uint64_t entries) {
  const bool journal = readers > 0;
  const std::string path = region_path(journal ? "journal" : "events");
  (void)Region::remove(path);
  const LaneSpec spec = journal ? LaneSpec{LaneKind::Journal, OnFull::Block, kCapacitySlots, kPayloadBytes, readers, 0, {}}
                                : LaneSpec{LaneKind::Events, OnFull::Block, kCapacitySlots, kPayloadBytes, 1, 0, {}};
  auto region = Region::create(path, std::span(&spec, 1));
  if (!region.ok()) {
    std::fprintf(stderr, "%s\n", region.error().message.c_str());
    return std::nullopt;
  }
  RealPlatform platform(WaitStrategy::Backoff);
  std::fflush(stdout);
  std::vector<pid_t> children;
  for (std::uint32_t i = 0; i < std::max(readers, 1u); ++i) {
    const pid_t child = ::fork();
    if (child < 0) return std::nullopt;
    if (child == 0) _exit(journal ? journal_reader(path, i) : events_consumer(path));
    children.push_back(child);
  }
  std::optional<double> rate;
  bool ok = true;
  const std::uint64_t attach_deadline = platform.now_ns() + 10'000'000'000ull;
  if (journal) {
    const auto ref = ring_lane_ref(region->lane_block(0), region->lane(0));
    for (std::uint32_t i = 0; i < readers && ok; ++i) {
      while (platform.load(ref.readers[i].state, std::memory_order_acquire) != kReaderAttached) {
        if (platform.now_ns() > attach_deadline) { ok = false; break; }
        ::usleep(200);
      }
    }
    if (ok) {
      JournalWriter writer(platform, ref);
      const std::uint64_t start = platform.now_ns();
      for (std::uint64_t seq = 0; seq < entries && ok; ++seq) {
        const auto words = payload_for(seq);
        ok = writer.write(std::as_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs) == WriteStatus::Ok;
      }
      const std::uint64_t elapsed = platform.now_ns() - start;
      writer.close();
      rate = static_cast<double>(entries) * 1e9 / static_cast<double>(std::max<std::uint64_t>(elapsed, 1));
    }
  } else {
    const auto ref = events_lane_ref(region->lane_block(0), region->lane(0));
    while (platform.load(ref.header->consumer_pid, std::memory_order_acquire) == 0) {
      if (platform.now_ns() > attach_deadline) { ok = false; break; }
      ::usleep(200);
    }
    if (ok && claim_role(platform, ref.header->producer_pid)) {
      EventsProducer producer(platform, ref);
      const std::uint64_t start = platform.now_ns();
      for (std::uint64_t seq = 0; seq < entries && ok; ++seq) {
        const auto words = payload_for(seq);
        ok = producer.write(std::as_bytes(std::span(words)), platform.now_ns() + kOpDeadlineNs) == WriteStatus::Ok;
      }
      const std::uint64_t elapsed = platform.now_ns() - start;
      producer.close();
      release_role(platform, ref.header->producer_pid);
      rate = static_cast<double>(entries) * 1e9 / static_cast<double>(std::max<std::uint64_t>(elapsed, 1));
    }
  }
  if (!ok) {
    for (pid_t child : children) ::kill(child, SIGKILL);
  }
  const bool children_ok = reap(children);
  (void)Region::remove(path);
  if (!ok || !children_ok) return std::nullopt;
  return rate;
}

int run(const Options& options) {
  struct Config {
    const char* label;
    std::uint32_t readers;
    double best = 0;
  };
  std::array<Config, 3> configs{{{"journal, 1 reader ", 1}, {"journal, 4 readers", 4}, {"events, 1 consumer", 0}}};
  for (int repeat = 0; repeat < options.repeats; ++repeat) {
    for (Config& c : configs) {
      const auto rate = trial(c.readers, options.entries);
      if (!rate) {
        std::fprintf(stderr, "trial failed: %s\n", c.label);
        return 1;
      }
      c.best = std::max(c.best, *rate);
    }
  }
  std::printf("append rate, Block, %u slots of %u B, %llu entries, best of %d (Backoff waits):\n", kCapacitySlots,
              kPayloadBytes, static_cast<unsigned long long>(options.entries), options.repeats);
  for (const Config& c : configs) {
    std::printf("  %s  %8.2f M entries/s  (%6.1f ns/entry)\n", c.label, c.best / 1e6, 1e9 / c.best);
  }
  return 0;
}

}  // namespace
}  // namespace indexbus

int main(int argc, char** argv) {
  indexbus::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      options.entries = 20'000;
      options.repeats = 1;
    } else if (arg == "--entries" && i + 1 < argc) {
      options.entries = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--repeats" && i + 1 < argc) {
      options.repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--entries N] [--repeats R] [--quick]\n", argv[0]);
      return 2;
    }
  }
  return indexbus::run(options);
}

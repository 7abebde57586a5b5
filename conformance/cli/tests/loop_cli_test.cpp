// `indexbus route` and `indexbus merge` as processes over a topology file: entries written by this
// test go through a round-robin router into two lanes and back through a Sequence merge, and come
// out in key order (RT-2, MG-3, MG-4); closing the input closes everything (RT-10, MG-9) and both
// processes exit 0. The loops' algorithms are checked against the models in
// conformance/tests/router_property_test; this checks the processes, the topology and the roles.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.hpp"
#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"

extern char** environ;

namespace {

using indexbus::cli_test::run;
using indexbus::cli_test::TempDir;

constexpr std::uint64_t kEntries = 1000;
constexpr auto kProcessDeadline = std::chrono::seconds(30);

// A child `indexbus ARGS...` with stdout and stderr in log_path; killed by the destructor if it is
// still running (the test never leaves a process behind).
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log_path) : log_path_(log_path) {
    std::vector<std::string> argv_text{INDEXBUS_CLI};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& word : argv_text) argv.push_back(word.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    ::posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The exit code, or -1 if it did not exit by the deadline (then it is killed) or died of a signal.
  int wait(std::chrono::steady_clock::time_point deadline) {
    while (pid_ > 0) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  bool started() const { return pid_ > 0; }
  std::string log() const {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

std::string topology_in(const TempDir& dir, const std::string& input_kind) {
  const std::string path = dir.file("topology.toml");
  std::ofstream(path) << "[[region]]\nname = \"r\"\ndir = \"" << dir.str() << "\"\n"
                      << "  [[region.lane]]\n  name = \"in\"\n  kind = \"" << input_kind
                      << "\"\n  capacity_slots = 64\n  slot_payload_bytes = 16\n  producer = \"test\"\n"
                      << "  [[region.lane]]\n  name = \"a\"\n  kind = \"events\"\n  capacity_slots = 16\n  slot_payload_bytes = 16\n"
                      << "  [[region.lane]]\n  name = \"b\"\n  kind = \"events\"\n  capacity_slots = 16\n  slot_payload_bytes = 16\n"
                      << "  [[region.lane]]\n  name = \"m\"\n  kind = \"events\"\n  capacity_slots = 64\n  slot_payload_bytes = 16\n"
                      << "[[router]]\nname = \"split\"\ninput = \"r/in\"\noutputs = [\"r/a\", \"r/b\"]\npolicy = \"round_robin\"\n"
                      << "[[merge]]\nname = \"join\"\ninputs = [\"r/a\", \"r/b\"]\noutput = \"r/m\"\npolicy = \"sequence\"\n"
                      << "key_offset_bytes = 0\n";
  return path;
}

TEST(LoopCli, RouterAndMergeProcessesCarryEveryEntryInKeyOrderAndPropagateClose) {
  TempDir dir("/dev/shm", "indexbus-loop-cli");
  const std::string topology = topology_in(dir, "events");
  const auto created = run("create --topology " + topology);
  ASSERT_EQ(created.exit_code, 0) << created.output;

  Child route({"route", "--topology", topology, "--name", "split", "--seconds", "60"}, dir.file("route.log"));
  Child merge({"merge", "--topology", topology, "--name", "join", "--seconds", "60"}, dir.file("merge.log"));
  ASSERT_TRUE(route.started() && merge.started());

  auto region = indexbus::Region::open(dir.file("r"));
  ASSERT_TRUE(region.ok()) << region.error().message;
  indexbus::RealPlatform platform(indexbus::WaitStrategy::Backoff);
  const auto input = indexbus::events_lane_ref(region->lane_block(0), region->lane(0));
  const auto output = indexbus::events_lane_ref(region->lane_block(3), region->lane(3));
  ASSERT_TRUE(indexbus::claim_role(platform, input.header->producer_pid));
  ASSERT_TRUE(indexbus::claim_role(platform, output.header->consumer_pid));
  indexbus::EventsProducer producer(platform, input);
  indexbus::EventsConsumer consumer(platform, output);

  // Keys 0, 1, 2, ...: round robin puts the even ones on a and the odd ones on b, each in order;
  // the Sequence merge takes the smallest head, so the output is 0, 1, 2, ... again.
  const auto deadline = std::chrono::steady_clock::now() + kProcessDeadline;
  const auto deadline_ns = platform.now_ns() + 30'000'000'000ull;
  std::array<std::uint64_t, 2> words{};
  std::vector<std::uint64_t> keys;
  std::uint64_t written = 0;
  bool closed_read = false;
  while (!closed_read && std::chrono::steady_clock::now() < deadline) {
    // Interleave writing and reading: the lanes are small, so neither side may run ahead alone.
    if (written < kEntries) {
      words = {written, ~written};
      const auto status = producer.try_write(std::as_bytes(std::span(words)));
      ASSERT_TRUE(status == indexbus::WriteStatus::Ok || status == indexbus::WriteStatus::Full);
      if (status == indexbus::WriteStatus::Ok && ++written == kEntries) producer.close();
    }
    const auto result = consumer.read(std::as_writable_bytes(std::span(words)), platform.now_ns() + 1'000'000);
    if (result.status == indexbus::ReadStatus::Entry) {
      ASSERT_EQ(words[1], ~words[0]) << "torn entry";
      keys.push_back(words[0]);
    } else if (result.status == indexbus::ReadStatus::Closed) {
      closed_read = true;
    } else {
      ASSERT_EQ(result.status, indexbus::ReadStatus::Timeout);
    }
    ASSERT_LT(platform.now_ns(), deadline_ns) << "no progress: route log:\n" << route.log() << "\nmerge log:\n" << merge.log();
  }
  EXPECT_TRUE(closed_read) << "the output never closed";
  ASSERT_EQ(keys.size(), kEntries);
  for (std::uint64_t i = 0; i < kEntries; ++i) ASSERT_EQ(keys[i], i) << "at output position " << i;
  indexbus::release_role(platform, input.header->producer_pid);
  indexbus::release_role(platform, output.header->consumer_pid);

  EXPECT_EQ(route.wait(deadline), 0) << route.log();
  EXPECT_EQ(merge.wait(deadline), 0) << merge.log();
  const std::string count = std::to_string(kEntries);
  EXPECT_NE(route.log().find("closed; routed " + count + ", input lost 0"), std::string::npos) << route.log();
  EXPECT_NE(merge.log().find("closed; emitted " + count + ", input lost 0"), std::string::npos) << merge.log();
}

TEST(LoopCli, BadNamesKindsAndHeldRolesAreClearErrors) {
  TempDir dir("/dev/shm", "indexbus-loop-cli");
  const std::string topology = topology_in(dir, "journal");
  const auto no_region = run("route --topology " + topology + " --name split");
  EXPECT_EQ(no_region.exit_code, 3) << no_region.output;
  EXPECT_NE(no_region.output.find("cannot open region"), std::string::npos) << no_region.output;
  ASSERT_EQ(run("create --topology " + topology).exit_code, 0);
  const auto unknown = run("route --topology " + topology + " --name nosuch");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("has no router named 'nosuch'"), std::string::npos) << unknown.output;
  const auto journal = run("route --topology " + topology + " --name split");
  EXPECT_EQ(journal.exit_code, 2) << journal.output;
  EXPECT_NE(journal.output.find("lane r/in is journal; routers and merges connect events lanes"), std::string::npos)
      << journal.output;
  // An input's consumer role held by a live process: the merge is refused (EV-1).
  auto region = indexbus::Region::open(dir.file("r"));
  ASSERT_TRUE(region.ok());
  indexbus::RealPlatform platform(indexbus::WaitStrategy::Backoff);
  const auto a = indexbus::events_lane_ref(region->lane_block(1), region->lane(1));
  ASSERT_TRUE(indexbus::claim_role(platform, a.header->consumer_pid));
  const auto held = run("merge --topology " + topology + " --name join --seconds 1");
  EXPECT_EQ(held.exit_code, 3) << held.output;
  EXPECT_NE(held.output.find("the consumer of lane r/a is held by live pid"), std::string::npos) << held.output;
  indexbus::release_role(platform, a.header->consumer_pid);
  // Released: the merge runs, and stops at --seconds since nothing closes its inputs.
  const auto timed = run("merge --topology " + topology + " --name join --seconds 0.2");
  EXPECT_EQ(timed.exit_code, 0) << timed.output;
  EXPECT_NE(timed.output.find("--seconds passed; emitted 0"), std::string::npos) << timed.output;
}

}  // namespace

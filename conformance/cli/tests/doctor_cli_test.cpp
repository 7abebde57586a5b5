// `indexbus doctor`, `clean`, `create --topology` and inspect's liveness line, end to end on real
// files: exit codes 0/1/2, one JSON entry per finding, clean never removing a live region.
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "indexbus/region.hpp"

namespace {

namespace fs = std::filesystem;

using indexbus::cli_test::run;
using indexbus::cli_test::Run;

class TempDir : public indexbus::cli_test::TempDir {
 public:
  explicit TempDir(const std::string& parent = "/dev/shm") : indexbus::cli_test::TempDir(parent, "indexbus-doctor-cli") {}
};

// The shipped example with every region moved into `dir`.
std::string example_in(const TempDir& dir) {
  std::ifstream in(std::string(INDEXBUS_TOPOLOGY_EXAMPLES) + "/pipeline.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = std::regex_replace(text, std::regex("dir = \"/dev/shm\"\n"), "");
  text = std::regex_replace(text, std::regex("hugepages = \"prefer\""), "hugepages = \"no\"");
  text = std::regex_replace(text, std::regex("\\[\\[region\\]\\]\n"), "[[region]]\ndir = \"" + dir.str() + "\"\n");
  const std::string path = dir.file("topology.toml");  // not a region: doctor and clean leave it alone
  std::ofstream(path) << text;
  return path;
}

TEST(DoctorCli, GoodTopologyPassesCreateThenStaleAfterCreatorDies) {
  TempDir dir;
  const std::string topo = example_in(dir);
  auto good = run("doctor --topology " + topo);
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("ingest/raw: header 512 (256 + 2 readers x 128) + 1024 slots x 80 stride"), std::string::npos)
      << good.output;
  // create --topology makes every region; the creating process (the CLI) has exited, so they
  // are stale at once: doctor fails, inspect says STALE, clean removes them.
  auto created = run("create --topology " + topo + " --prefault");
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_TRUE(fs::exists(dir.file("ingest")));
  EXPECT_TRUE(fs::exists(dir.file("results")));
  auto again = run("create --topology " + topo);  // exclusive: nothing reused, nothing left half-made
  EXPECT_EQ(again.exit_code, 3) << again.output;
  auto inspect = run("inspect " + dir.file("ingest"));
  EXPECT_NE(inspect.output.find("STALE: stale-dead-creator"), std::string::npos) << inspect.output;
  auto inspect_json = run("inspect --json " + dir.file("ingest"));
  const auto report = nlohmann::json::parse(inspect_json.output);
  EXPECT_TRUE(report["liveness"]["stale"].get<bool>());
  auto stale = run("doctor --json --topology " + topo);
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  const auto findings = nlohmann::json::parse(stale.output);
  EXPECT_FALSE(findings["passed"].get<bool>());
  int stale_fails = 0;
  for (const auto& f : findings["findings"]) {
    ASSERT_TRUE(f.contains("check") && f.contains("status") && f.contains("subject") && f.contains("detail") &&
                f.contains("advice"));
    if (f["check"] == "stale" && f["status"] == "fail") ++stale_fails;
  }
  EXPECT_EQ(stale_fails, 2);
  auto dry = run("clean --dry-run --dir " + dir.str());
  EXPECT_EQ(dry.exit_code, 0);
  EXPECT_NE(dry.output.find("would remove " + dir.file("ingest")), std::string::npos) << dry.output;
  EXPECT_TRUE(fs::exists(dir.file("ingest")));
  auto clean = run("clean --dir " + dir.str());
  EXPECT_NE(clean.output.find("removed " + dir.file("results")), std::string::npos) << clean.output;
  EXPECT_FALSE(fs::exists(dir.file("ingest")));
  EXPECT_EQ(run("doctor --topology " + topo).exit_code, 0);
  fs::remove(topo);
}

TEST(DoctorCli, UsageErrorsExitTwoAndNameTheField) {
  TempDir dir;
  const std::string bad = dir.file("bad.toml");
  std::ofstream(bad) << "[[region]]\nname = \"r\"\n[[region.lane]]\nname = \"a\"\nkind = \"events\"\ncapacity_slots = 3\nslot_payload_bytes = 64\n";
  auto result = run("doctor --topology " + bad);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(bad + ":6:18: region[0].lane[0].capacity_slots"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("capacity_slots 3"), std::string::npos) << result.output;
  EXPECT_EQ(run("doctor --bogus").exit_code, 2);
  EXPECT_EQ(run("create --topology " + bad).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir.file("r")));
}

TEST(DoctorCli, BadPermissionsAndWrongFileSystemFail) {
  TempDir dir;
  ASSERT_EQ(run("create " + dir.file("r") + " --lane events:capacity=8,slot=8").exit_code, 0);
  ASSERT_EQ(::chmod(dir.file("r").c_str(), 0666), 0);
  auto perms = run("doctor --dir " + dir.str());
  EXPECT_EQ(perms.exit_code, 1) << perms.output;
  EXPECT_NE(perms.output.find("0666 lets everyone write"), std::string::npos) << perms.output;
  // A directory on a disk file system: the build tree, when it is not tmpfs itself.
  struct statfs st {};
  ASSERT_EQ(::statfs(".", &st), 0);
  if (static_cast<unsigned long>(st.f_type) == 0x01021994ul) GTEST_SKIP() << "the build tree is on tmpfs";
  TempDir disk(fs::current_path().string());
  auto wrong = run("doctor --dir " + disk.str());
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("neither tmpfs"), std::string::npos) << wrong.output;
}

// A child process creates a region and stays alive while `indexbus clean` runs: the region stays.
// Once the child has exited (and been reaped), the next clean removes it.
TEST(DoctorCli, CleanNeverRemovesALiveRegion) {
  TempDir dir;
  int release[2];
  int ready[2];
  ASSERT_EQ(::pipe(release), 0);
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(20);  // watchdog: never outlives a stuck test
    ::close(release[1]);
    const std::vector<indexbus::LaneSpec> lanes = {indexbus::LaneSpec{}};
    auto region = indexbus::Region::create(dir.file("held"), lanes);
    (void)!::write(ready[1], region.ok() ? "y" : "n", 1);
    char ignored;
    (void)!::read(release[0], &ignored, 1);  // until the parent closes its end
    ::_exit(0);
  }
  ::close(release[0]);
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  auto clean = run("clean --dir " + dir.str());
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_TRUE(fs::exists(dir.file("held"))) << clean.output;
  auto doctor = run("doctor --dir " + dir.str());
  EXPECT_EQ(doctor.exit_code, 0) << doctor.output;
  ::close(release[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto after = run("clean --dir " + dir.str());
  EXPECT_NE(after.output.find("removed " + dir.file("held")), std::string::npos) << after.output;
  EXPECT_FALSE(fs::exists(dir.file("held")));
  ::close(ready[0]);
}

}  // namespace

// doctor and clean: each broken setup of the fixture must be found (the checks can fail), a good
// one passes, and clean never removes a live region. Facts about file systems, space and cgroups
// are injected; stale region files are made by real processes that exit.
#include "indexbus/topology/doctor.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <filesystem>

#include "indexbus/region.hpp"

namespace indexbus::doctor {
namespace {

namespace fs = std::filesystem;

// A fresh directory on /dev/shm (tmpfs), removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    char name[] = "/dev/shm/indexbus-doctor-XXXXXX";
    const char* made = ::mkdtemp(name);
    assert(made != nullptr);
    path_ = made;
    ::chmod(path_.c_str(), 0700);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& str() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

const std::vector<LaneSpec> kLanes = {LaneSpec{LaneKind::Events, OnFull::Block, 16, 64, 1, 0, {}},
                                      LaneSpec{LaneKind::FanoutBroadcast, OnFull::Block, 16, 64, 2, 0, {}}};

// A pid that existed and is gone: a child that exited and was reaped.
std::uint32_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<std::uint32_t>(child);
}

// Runs `body` in a child process that then exits (status 0 = ok); waits (bounded by an alarm
// in the child) and returns the exit status.
template <typename Body>
int in_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(10);  // watchdog: the child never outlives a stuck test
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void poke(const std::string& path, std::uint64_t offset, const void* bytes, std::size_t size) {
  const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes, size, static_cast<off_t>(offset)), static_cast<ssize_t>(size));
  ::close(fd);
}

bool has(const std::vector<Finding>& findings, const std::string& check, Status status, const std::string& text) {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
    return f.check == check && f.status == status && (f.detail + " " + f.subject).find(text) != std::string::npos;
  });
}

DirFacts good_tmpfs() {
  DirFacts facts;
  facts.exists = true;
  facts.fs_magic = kTmpfsMagic;
  facts.block_bytes = 4096;
  facts.free_bytes = 1ull << 30;
  facts.mode = 01777;
  return facts;
}

// --- Injected facts ------------------------------------------------------------------------

TEST(DoctorChecks, FileSystem) {
  EXPECT_EQ(check_filesystem("/d", good_tmpfs(), topology::HugePages::No)[0].status, Status::Pass);
  DirFacts ext4 = good_tmpfs();
  ext4.fs_magic = 0xEF53;
  const auto wrong = check_filesystem("/d", ext4, topology::HugePages::No);
  EXPECT_EQ(wrong[0].status, Status::Fail);
  EXPECT_NE(wrong[0].detail.find("0xef53"), std::string::npos) << wrong[0].detail;
  EXPECT_FALSE(wrong[0].advice.empty());
  EXPECT_EQ(check_filesystem("/d", good_tmpfs(), topology::HugePages::Require)[0].status, Status::Fail);
  EXPECT_EQ(check_filesystem("/d", good_tmpfs(), topology::HugePages::Prefer)[0].status, Status::Warn);
  DirFacts huge = good_tmpfs();
  huge.fs_magic = kHugetlbfsMagic;
  huge.block_bytes = 2u << 20;
  EXPECT_EQ(check_filesystem("/d", huge, topology::HugePages::Require)[0].status, Status::Pass);
  EXPECT_EQ(check_filesystem("/d", DirFacts{}, topology::HugePages::No)[0].status, Status::Fail);
}

TEST(DoctorChecks, SpaceMemoryAndDirectoryPermissions) {
  DirFacts small = good_tmpfs();
  small.free_bytes = 1u << 20;
  EXPECT_EQ(check_space("/d", small, 1u << 20)[0].status, Status::Pass);
  EXPECT_EQ(check_space("/d", small, (1u << 20) + 1)[0].status, Status::Fail);
  HostFacts host;
  EXPECT_EQ(check_memory(host, 1ull << 40)[0].status, Status::Pass);  // no limit
  host.cgroup_memory_max_bytes = 64u << 20;
  EXPECT_EQ(check_memory(host, 16u << 20)[0].status, Status::Pass);
  EXPECT_EQ(check_memory(host, 40u << 20)[0].status, Status::Warn);
  EXPECT_EQ(check_memory(host, 65u << 20)[0].status, Status::Fail);
  DirFacts open_dir = good_tmpfs();
  open_dir.mode = 0777;  // world-writable, no sticky bit
  EXPECT_EQ(check_dir_permissions("/d", open_dir)[0].status, Status::Fail);
  EXPECT_EQ(check_dir_permissions("/d", good_tmpfs())[0].status, Status::Pass);
}

TEST(DoctorChecks, SizingUsesCoreFormula) {
  topology::RegionDef region;
  region.name = "r";
  region.lanes.push_back({"e", kLanes[0], "p", {}});
  region.lanes.push_back({"f", kLanes[1], "p", {}});
  auto sizing = size_region(region, 2u << 20);
  ASSERT_TRUE(sizing.ok());
  EXPECT_EQ(sizing->region_bytes, plan_region(kLanes)->region_bytes);
  EXPECT_EQ(sizing->rounded_bytes, 2u << 20);
  ASSERT_EQ(sizing->formulas.size(), 3u);
  EXPECT_NE(sizing->formulas[0].find("16 slots x 80 stride (16 + 64)"), std::string::npos) << sizing->formulas[0];
  EXPECT_NE(sizing->formulas[1].find("2 readers x 128"), std::string::npos) << sizing->formulas[1];
}

topology::Topology example() {
  auto topo = topology::parse_topology_file(std::string(INDEXBUS_TOPOLOGY_EXAMPLES) + "/pipeline.toml");
  EXPECT_TRUE(topo.ok()) << topo.error().message;
  return std::move(topo.value());
}

TEST(DoctorChecks, TopologyProducersAndSlotSizes) {
  topology::Topology good = example();
  const auto ok = check_topology(good);
  EXPECT_FALSE(any_failed(ok));
  EXPECT_TRUE(has(ok, "topology", Status::Pass, "router sharder"));

  topology::Topology two_producers = example();
  two_producers.regions[0].lanes[1].producer = "rogue";  // shard0 is also written by the router
  EXPECT_TRUE(has(check_topology(two_producers), "topology", Status::Fail, "2 producers"));

  topology::Topology orphan = example();
  orphan.regions[0].lanes[0].producer.clear();
  EXPECT_TRUE(has(check_topology(orphan), "topology", Status::Fail, "0 producers"));

  topology::Topology narrow = example();
  narrow.regions[0].lanes[1].spec.slot_payload_bytes = 32;  // router output smaller than input
  EXPECT_TRUE(has(check_topology(narrow), "topology", Status::Fail, "smaller than input"));

  topology::Topology wide_in = example();
  wide_in.regions[1].lanes[1].spec.slot_payload_bytes = 256;  // merge input larger than output
  EXPECT_TRUE(has(check_topology(wide_in), "topology", Status::Fail, "larger than output"));

  topology::Topology key = example();
  key.routers[0].key_offset_bytes = 60;  // 60 + 8 > 64
  EXPECT_TRUE(has(check_topology(key), "topology", Status::Fail, "key_offset_bytes 60"));
}

TEST(DoctorRun, GoodTopologyPassesAndTooLittleSpaceOrCgroupFails) {
  TempDir dir;
  topology::Topology topo = example();
  for (auto& region : topo.regions) {
    region.dir = dir.str();
    region.hugepages = topology::HugePages::No;
  }
  DoctorRequest request;
  request.topology = &topo;
  Facts facts;
  facts.host.uid = static_cast<std::uint32_t>(::geteuid());
  facts.dirs.emplace_back(dir.str(), good_tmpfs());
  const auto good = run_doctor(request, facts);
  EXPECT_FALSE(any_failed(good));
  EXPECT_TRUE(has(good, "sizing", Status::Pass, "ingest/raw: header 512 (256 + 2 readers x 128)"));

  Facts full = facts;
  full.dirs[0].second.free_bytes = 64 * 1024;
  EXPECT_TRUE(has(run_doctor(request, full), "space", Status::Fail, "free"));

  Facts limited = facts;
  limited.host.cgroup_memory_max_bytes = 100 * 1024;
  EXPECT_TRUE(has(run_doctor(request, limited), "memory", Status::Fail, "cgroup memory limit"));

  Facts disk = facts;
  disk.dirs[0].second.fs_magic = 0xEF53;
  EXPECT_TRUE(has(run_doctor(request, disk), "filesystem", Status::Fail, "neither tmpfs"));
}

TEST(DoctorRun, AnExistingRegionThatDiffersFromTheTopologyFails) {
  TempDir dir;
  topology::Topology topo = example();
  for (auto& region : topo.regions) {
    region.dir = dir.str();
    region.hugepages = topology::HugePages::No;
  }
  auto specs = [&](std::size_t r) {
    std::vector<LaneSpec> lanes;
    for (const auto& lane : topo.regions[r].lanes) lanes.push_back(lane.spec);
    return lanes;
  };
  auto same = Region::create(topo.regions[0].path(), specs(0));
  ASSERT_TRUE(same.ok());
  std::vector<LaneSpec> deeper = specs(1);
  deeper[1].capacity_slots *= 2;  // out1 twice as deep as the topology says
  auto other = Region::create(topo.regions[1].path(), deeper);
  ASSERT_TRUE(other.ok());
  DoctorRequest request;
  request.topology = &topo;
  const auto findings = run_doctor(request, probe_facts(request));
  EXPECT_TRUE(has(findings, "topology", Status::Fail, "lane 1 (out1) differs"));
  EXPECT_FALSE(has(findings, "topology", Status::Fail, topo.regions[0].path()));
}

// --- Real region files, made and abandoned by real processes --------------------------------

TEST(DoctorFiles, EveryKindOfStaleFileIsFoundAndAGoodOneIsNot) {
  TempDir dir;
  const HostFacts host = probe_host();
  // Live: created by this (alive) process.
  auto live = Region::create(dir.file("live"), kLanes);
  ASSERT_TRUE(live.ok());
  // Dead creator: a child created it and exited.
  ASSERT_EQ(in_child([&] { return Region::create(dir.file("dead"), kLanes).ok() ? 0 : 1; }), 0);
  // Never Ready: a child created it, put it back to Creating (as if it died mid-way), exited.
  ASSERT_EQ(in_child([&] {
              auto region = Region::create(dir.file("never"), kLanes);
              if (!region.ok()) return 1;
              auto* state = reinterpret_cast<std::uint32_t*>(region->base() + offsetof(RegionHeader, init_state));
              *state = kInitStateCreating;
              return 0;
            }),
            0);
  // Blank: sized, creator pid stored, then the creator died before writing the magic.
  {
    const int fd = ::open(dir.file("blank").c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    ::close(fd);
    const std::uint32_t pid = dead_pid();
    poke(dir.file("blank"), offsetof(RegionHeader, creator_pid), &pid, sizeof pid);
  }
  // Version mismatch: a region of layout major 2.
  {
    auto other = Region::create(dir.file("v2"), kLanes);
    ASSERT_TRUE(other.ok());
    const std::uint16_t major = 2;
    poke(dir.file("v2"), offsetof(RegionHeader, version_major), &major, sizeof major);
  }
  // Stale reader: a live region whose fanout reader 1 is attached by a process that died.
  {
    auto region = Region::create(dir.file("reader"), kLanes);
    ASSERT_TRUE(region.ok());
    const std::uint64_t record = region->lane(1).block_offset + sizeof(RingLaneHeader) + sizeof(ReaderRecord);
    const std::uint32_t pid = dead_pid();
    const std::uint32_t attached = kReaderAttached;
    poke(dir.file("reader"), record + offsetof(ReaderRecord, pid), &pid, sizeof pid);
    poke(dir.file("reader"), record + offsetof(ReaderRecord, state), &attached, sizeof attached);
  }
  // Bad permissions and a symlink.
  {
    auto open_region = Region::create(dir.file("open"), kLanes);
    ASSERT_TRUE(open_region.ok());
    ASSERT_EQ(::chmod(dir.file("open").c_str(), 0666), 0);
    ASSERT_EQ(::symlink(dir.file("live").c_str(), dir.file("link").c_str()), 0);
  }
  // Not ours: left alone, never reported or removed.
  {
    const int fd = ::open(dir.file("foreign").c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    const std::string text(200, 'x');
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

  const auto state_of = [&](const std::string& name) { return classify_region_file(dir.file(name), 10'000'000'000).state; };
  EXPECT_EQ(state_of("live"), RegionState::Live);
  EXPECT_EQ(state_of("dead"), RegionState::DeadCreator);
  EXPECT_EQ(state_of("never"), RegionState::NeverReady);
  EXPECT_EQ(state_of("blank"), RegionState::NeverReady);
  EXPECT_EQ(state_of("v2"), RegionState::VersionMismatch);
  EXPECT_EQ(state_of("reader"), RegionState::Live);
  EXPECT_EQ(state_of("foreign"), RegionState::NotRegion);

  DoctorRequest request;
  request.dirs = {dir.str()};
  const auto findings = run_doctor(request, probe_facts(request));
  EXPECT_TRUE(has(findings, "stale", Status::Pass, dir.file("live")));
  EXPECT_TRUE(has(findings, "stale", Status::Fail, "stale-dead-creator"));
  EXPECT_TRUE(has(findings, "stale", Status::Fail, "stale-never-ready: init_state 0"));
  EXPECT_TRUE(has(findings, "stale", Status::Fail, "header still blank"));
  EXPECT_TRUE(has(findings, "stale", Status::Fail, "stale-version-mismatch"));
  EXPECT_TRUE(has(findings, "stale", Status::Fail, "lane 1 reader 1: pid"));
  EXPECT_TRUE(has(findings, "permissions", Status::Fail, "0666 lets everyone write"));
  EXPECT_TRUE(has(findings, "permissions", Status::Fail, "symbolic link"));
  for (const auto& f : findings) EXPECT_EQ(f.subject.find("foreign"), std::string::npos) << f.detail;
  EXPECT_TRUE(has(findings, "filesystem", Status::Pass, "tmpfs"));

  // Dry run removes nothing; clean removes exactly the dead-creator and never-Ready ones.
  const auto dry = clean_dir(dir.str(), true, 10'000'000'000);
  EXPECT_EQ(dry.size(), 3u);
  for (const char* name : {"dead", "never", "blank"}) EXPECT_TRUE(fs::exists(dir.file(name))) << name;
  const auto cleaned = clean_dir(dir.str(), false, 10'000'000'000);
  EXPECT_EQ(cleaned.size(), 3u);
  for (const char* name : {"dead", "never", "blank"}) EXPECT_FALSE(fs::exists(dir.file(name))) << name;
  for (const char* name : {"live", "v2", "reader", "open", "link", "foreign"}) EXPECT_TRUE(fs::exists(fs::symlink_status(dir.file(name)))) << name;
}

// A child creates a region and stays alive while clean runs: the region stays. Once the child
// is gone (reaped), the next clean removes it.
TEST(Clean, NeverRemovesARegionHeldByALiveProcess) {
  TempDir dir;
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(10);  // watchdog
    ::close(release[1]);
    auto region = Region::create(dir.file("held"), kLanes);
    const char byte = region.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    char ignored;
    (void)!::read(release[0], &ignored, 1);  // until the parent closes its end
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_EQ(classify_region_file(dir.file("held"), 0).state, RegionState::Live);
  EXPECT_TRUE(clean_dir(dir.str(), false, 0).empty());
  EXPECT_TRUE(fs::exists(dir.file("held")));
  ::close(release[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const auto cleaned = clean_dir(dir.str(), false, 0);
  ASSERT_EQ(cleaned.size(), 1u);
  EXPECT_TRUE(cleaned[0].removed);
  EXPECT_FALSE(fs::exists(dir.file("held")));
  ::close(ready[0]);
}

// Liveness counts every attached role, not only the creator: a region whose creator died but
// that a live process still reads is live, and clean keeps it. The same file before the reader
// attached classifies as DeadCreator: liveness by the creator alone would have removed it.
TEST(Clean, KeepsARegionWhoseCreatorDiedButAReaderLives) {
  TempDir dir;
  ASSERT_EQ(in_child([&] { return Region::create(dir.file("r"), kLanes).ok() ? 0 : 1; }), 0);
  ASSERT_EQ(classify_region_file(dir.file("r"), 0).state, RegionState::DeadCreator);
  auto region = Region::open(dir.file("r"));
  ASSERT_TRUE(region.ok());
  const std::uint64_t record = region->lane(1).block_offset + sizeof(RingLaneHeader);
  const std::uint32_t self = static_cast<std::uint32_t>(::getpid());
  const std::uint32_t attached = kReaderAttached;
  poke(dir.file("r"), record + offsetof(ReaderRecord, pid), &self, sizeof self);
  poke(dir.file("r"), record + offsetof(ReaderRecord, state), &attached, sizeof attached);
  EXPECT_EQ(classify_region_file(dir.file("r"), 0).state, RegionState::Live);
  EXPECT_TRUE(clean_dir(dir.str(), false, 0).empty());
  EXPECT_TRUE(fs::exists(dir.file("r")));
}

// A journal reader that is attached by a live process but stopped calling: its heartbeat is
// older than the lane's reader_timeout_ns.
TEST(DoctorFiles, JournalReaderWhoseHeartbeatStoppedIsStale) {
  TempDir dir;
  const std::vector<LaneSpec> lanes = {LaneSpec{LaneKind::Journal, OnFull::Block, 16, 64, 2, 1'000'000, {}}};
  auto region = Region::create(dir.file("j"), lanes);
  ASSERT_TRUE(region.ok());
  const std::uint64_t record = region->lane(0).block_offset + sizeof(RingLaneHeader);
  const std::uint32_t self = static_cast<std::uint32_t>(::getpid());
  const std::uint32_t attached = kReaderAttached;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::uint64_t long_ago_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull - 5'000'000'000ull;
  poke(dir.file("j"), record + offsetof(ReaderRecord, pid), &self, sizeof self);
  poke(dir.file("j"), record + offsetof(ReaderRecord, state), &attached, sizeof attached);
  poke(dir.file("j"), record + offsetof(ReaderRecord, heartbeat_ns), &long_ago_ns, sizeof long_ago_ns);
  const auto info = classify_region_file(dir.file("j"), 0);
  EXPECT_EQ(info.state, RegionState::Live);
  ASSERT_EQ(info.stale_roles.size(), 1u);
  EXPECT_NE(info.stale_roles[0].find("lane 0 reader 0: heartbeat stopped"), std::string::npos) << info.stale_roles[0];
  EXPECT_TRUE(has(check_region_file(info, probe_host()), "stale", Status::Fail, "heartbeat stopped"));
}

// Truncated, garbage and oversized-claim files never crash the classifier.
TEST(DoctorFiles, CorruptFilesAreReportedNotCrashedOn) {
  TempDir dir;
  auto region = Region::create(dir.file("r"), kLanes);
  ASSERT_TRUE(region.ok());
  const std::uint64_t huge = 1ull << 40;
  poke(dir.file("r"), offsetof(RegionHeader, region_bytes), &huge, sizeof huge);
  EXPECT_EQ(classify_region_file(dir.file("r"), 0).state, RegionState::Corrupt);
  ASSERT_EQ(::truncate(dir.file("r").c_str(), 100), 0);
  EXPECT_EQ(classify_region_file(dir.file("r"), 0).state, RegionState::NotRegion);
}

// --prefault: on a full tmpfs, creation fails with a clear error and leaves no file; without it,
// creation "succeeds" on a sparse file that would SIGBUS later. Needs a private 64 KiB tmpfs
// (mount namespace); skipped where mounting is not allowed.
TEST(Prefault, FullTmpfsIsAnErrorAtCreation) {
  TempDir dir;
  const int status = in_child([&] {
    if (::unshare(CLONE_NEWNS) != 0) return 77;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
    if (::mount("tmpfs", dir.str().c_str(), "tmpfs", 0, "size=64k") != 0) return 77;
    const std::vector<LaneSpec> big = {LaneSpec{LaneKind::Events, OnFull::Block, 4096, 64, 1, 0, {}}};  // ~320 KiB
    CreateOptions options;
    options.prefault = true;
    auto failed = Region::create(dir.file("big"), big, options);
    if (failed.ok()) return 2;
    if (failed.error().message.find("cannot pre-fault") == std::string::npos) return 3;
    if (::access(dir.file("big").c_str(), F_OK) == 0) return 4;  // the half-made file was removed
    auto sparse = Region::create(dir.file("big"), big);           // without: sparse, "succeeds"
    if (!sparse.ok()) return 5;
    return 0;
  });
  if (status == 77) GTEST_SKIP() << "cannot mount a private tmpfs here (needs CAP_SYS_ADMIN)";
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace indexbus::doctor

// Region files: exclusive creation, explicit permissions, no symlinks, ownership and
// writability checks, bounded wait for Ready, stale detection, and cleanup on failure.
#include "indexbus/region.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "region_images.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

const std::vector<LaneSpec> kOneLane{{LaneKind::Events, OnFull::Block, 16, 64, 1}};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST(Region, CreateThenOpen) {  // REG-1, REG-2
  testing::TempRegionPath path;
  auto created = Region::create(path.str(), kOneLane);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(mode_of(path.str()), 0600u);
  auto opened = Region::open(path.str());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->lane_count(), 1u);
  EXPECT_EQ(opened->lane(0).capacity_slots, 16u);
  EXPECT_EQ(opened->header().creation_id, created->header().creation_id);
  EXPECT_NE(opened->header().creation_id, 0u);
  EXPECT_EQ(opened->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(opened->lane(0).block_offset % 64, 0u);
}

TEST(Region, GroupModeIsExplicitNotUmask) {
  testing::TempRegionPath path;
  const mode_t old = ::umask(0077);
  auto created = Region::create(path.str(), kOneLane, CreateOptions{0660});
  ::umask(old);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(mode_of(path.str()), 0660u);
}

TEST(Region, RejectsOtherModes) {
  testing::TempRegionPath path;
  auto created = Region::create(path.str(), kOneLane, CreateOptions{0666});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::BadPermissions);
  EXPECT_NE(::access(path.str().c_str(), F_OK), 0);
}

TEST(Region, NeverReusesAnExistingFile) {  // REG-1
  testing::TempRegionPath path;
  ASSERT_TRUE(Region::create(path.str(), kOneLane).ok());
  auto again = Region::create(path.str(), kOneLane);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::AlreadyExists);
  EXPECT_TRUE(Region::open(path.str()).ok());  // the original is untouched
}

TEST(Region, BadSpecLeavesNoFile) {
  testing::TempRegionPath path;
  const std::vector<LaneSpec> bad{{LaneKind::Events, OnFull::Block, 3, 64, 1}};
  auto created = Region::create(path.str(), bad);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::BadCapacity);
  EXPECT_NE(::access(path.str().c_str(), F_OK), 0);
}

TEST(Region, RefusesSymlink) {
  testing::TempRegionPath target, link;
  ASSERT_TRUE(Region::create(target.str(), kOneLane).ok());
  ASSERT_EQ(::symlink(target.str().c_str(), link.str().c_str()), 0);
  auto opened = Region::open(link.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::SymlinkRefused);
  auto created = Region::create(link.str(), kOneLane);
  ASSERT_FALSE(created.ok());
}

TEST(Region, RefusesWorldWritable) {
  testing::TempRegionPath path;
  ASSERT_TRUE(Region::create(path.str(), kOneLane).ok());
  ASSERT_EQ(::chmod(path.str().c_str(), 0666), 0);
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::WritableByOthers);
}

TEST(Region, RefusesOtherOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  testing::TempRegionPath path;
  ASSERT_TRUE(Region::create(path.str(), kOneLane).ok());
  ASSERT_EQ(::chown(path.str().c_str(), 65534, 65534), 0);
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::WrongOwner);
}

TEST(Region, MissingAndDirectory) {
  auto missing = Region::open("/dev/shm/indexbus-definitely-missing-region");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
}

// Writes an image whose init_state is still Creating, as if the creator were mid-way.
void write_unready(const std::string& path, std::uint32_t creator_pid) {
  auto image = testing::valid_region_image(kOneLane);
  const std::uint32_t creating = kInitStateCreating;
  std::memcpy(image.data() + offsetof(RegionHeader, init_state), &creating, 4);
  std::memcpy(image.data() + offsetof(RegionHeader, creator_pid), &creator_pid, 4);
  ASSERT_TRUE(testing::write_region_file(path, image));
}

TEST(Region, CreatorDiedBeforeReadyIsStale) {  // REG-3
  testing::TempRegionPath path;
  const pid_t child = ::fork();
  if (child == 0) _exit(0);
  ::waitpid(child, nullptr, 0);  // now a pid that no longer exists
  write_unready(path.str(), static_cast<std::uint32_t>(child));
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::Stale) << opened.error().message;
}

TEST(Region, CorruptCreatorPidIsNotAlive) {  // REG-3: 0xffffffff must not read as kill(-1, 0)
  testing::TempRegionPath path;
  write_unready(path.str(), 0xffffffffu);
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::Stale) << opened.error().message;
}

TEST(Region, NotARegionIsNeverCalledStale) {  // REG-3: only a region can be stale
  testing::TempRegionPath path;
  std::vector<std::byte> junk(4096);
  const std::uint64_t magic = 0x4B4E554A4B4E554Aull;  // "JUNKJUNK"
  const std::uint32_t dead_pid = 0x7ffffff0;
  std::memcpy(junk.data(), &magic, 8);
  std::memcpy(junk.data() + offsetof(RegionHeader, creator_pid), &dead_pid, 4);
  ASSERT_TRUE(testing::write_region_file(path.str(), junk));
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::BadMagic) << opened.error().message;
}

TEST(Region, LiveCreatorNeverReadyTimesOut) {  // REG-3: the wait is bounded
  testing::TempRegionPath path;
  write_unready(path.str(), static_cast<std::uint32_t>(::getpid()));
  auto opened = Region::open(path.str(), OpenOptions{20'000'000});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::NotReady) << opened.error().message;
}

TEST(Region, OpenValidatesBeforeUse) {
  testing::TempRegionPath path;
  ASSERT_TRUE(testing::write_region_file(path.str(), testing::corrupt_region_image("lane0_capacity_3")));
  auto opened = Region::open(path.str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::BadCapacity);
  EXPECT_NE(opened.error().message.find("lane 0: capacity_slots 3"), std::string::npos);
}

TEST(Region, PlanLimits) {
  EXPECT_EQ(plan_region({}).error().code, ErrorCode::BadLaneCount);
  std::vector<LaneSpec> many(65);
  EXPECT_EQ(plan_region(many).error().code, ErrorCode::BadLaneCount);
  std::vector<LaneSpec> max(64);
  auto plan = plan_region(max);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->region_bytes % 4096, 0u);
  EXPECT_EQ(Region::remove("/dev/shm/indexbus-definitely-missing-region").value(), false);
}

// CreateOptions::prefault commits every page at creation (posix_fallocate): the file's
// allocated blocks cover its size, where a plain create leaves a sparse file. A full tmpfs is
// then an error at creation (conformance/topology/tests: Prefault.FullTmpfsIsAnErrorAtCreation).
TEST(Region, PrefaultCommitsEveryPage) {
  const std::vector<LaneSpec> lanes = {LaneSpec{LaneKind::Events, OnFull::Block, 1024, 256, 1, 0, {}}};
  testing::TempRegionPath sparse_path("prefault-off");
  testing::TempRegionPath full_path("prefault-on");
  auto sparse = Region::create(sparse_path.str(), lanes);
  ASSERT_TRUE(sparse.ok());
  CreateOptions options;
  options.prefault = true;
  auto full = Region::create(full_path.str(), lanes, options);
  ASSERT_TRUE(full.ok()) << full.error().message;
  struct stat sparse_st {};
  struct stat full_st {};
  ASSERT_EQ(::stat(sparse_path.str().c_str(), &sparse_st), 0);
  ASSERT_EQ(::stat(full_path.str().c_str(), &full_st), 0);
  EXPECT_GE(static_cast<std::uint64_t>(full_st.st_blocks) * 512, full->size_bytes());
  EXPECT_LT(static_cast<std::uint64_t>(sparse_st.st_blocks) * 512, sparse->size_bytes());
}

}  // namespace
}  // namespace indexbus

// The GoldenCreate check (golden_catalog.cpp) accepts what core's creator writes for every fresh
// golden image, whatever pid and creation id it chose, and names the first difference of a file
// that is not the golden one: a wrong descriptor field, a non-zero lane block byte, a bad magic.
#include <gtest/gtest.h>
#include <unistd.h>

#include "indexbus/harness/golden_catalog.hpp"
#include "indexbus/region.hpp"

namespace indexbus::harness {
namespace {

std::vector<LaneSpec> specs_of(const golden::GoldenImage& image) {
  std::vector<LaneSpec> specs;
  for (const golden::GoldenLane& lane : image.lanes) {
    const golden::GoldenLaneConfig& c = lane.config;
    specs.push_back(LaneSpec{c.kind, c.on_full, c.capacity_slots, c.slot_payload_bytes, c.reader_count, c.reader_timeout_ns, c.gated_on});
  }
  return specs;
}

// What a creator writes for specs, with its own pid and creation id.
golden::Bytes created_by_core(const std::vector<LaneSpec>& specs) {
  auto plan = plan_region(specs);
  EXPECT_TRUE(plan.ok());
  golden::Bytes image(plan.value().region_bytes, std::byte{0});
  write_region_image(image, plan.value(), specs, static_cast<std::uint32_t>(::getpid()), 0x0123456789ABCDEFull);
  return image;
}

const golden::GoldenImage& fresh_image(const std::string& name) {
  for (const auto& image : golden::golden_images()) {
    if (image.name == name) return image;
  }
  throw std::logic_error("no golden image " + name);
}

TEST(GoldenCreate, AcceptsWhatCoresCreatorWritesForEveryFreshImage) {
  int fresh = 0;
  for (const auto& image : golden::golden_images()) {
    if (!image.fresh) continue;
    ++fresh;
    const auto difference = check_created_region(created_by_core(specs_of(image)), image);
    EXPECT_FALSE(difference.has_value()) << image.name << ": " << *difference;
  }
  EXPECT_GE(fresh, 4);
}

TEST(GoldenCreate, NamesTheFirstDifferenceOfABrokenCreator) {
  const auto& image = fresh_image("multi_lane_fresh");
  auto specs = specs_of(image);
  specs[2].reader_count = 3;  // a Journal with one reader record too many: valid, but not the golden file
  const auto wrong_readers = check_created_region(created_by_core(specs), image);
  ASSERT_TRUE(wrong_readers.has_value());
  EXPECT_NE(wrong_readers->find("lane table: descriptor 2 byte 16"), std::string::npos) << *wrong_readers;  // reader_count

  golden::Bytes dirty = created_by_core(specs_of(image));
  dirty[128 + 64 * 4 + 200] = std::byte{7};  // lane 0 block byte 200 (EventsLaneHeader pad3): not validated
  const auto dirty_block = check_created_region(dirty, image);
  ASSERT_TRUE(dirty_block.has_value());
  EXPECT_NE(dirty_block->find("lane 0 block byte 200"), std::string::npos) << *dirty_block;

  golden::Bytes bad_magic = created_by_core(specs_of(image));
  bad_magic[0] = std::byte{'X'};
  const auto invalid = check_created_region(bad_magic, image);
  ASSERT_TRUE(invalid.has_value());
  EXPECT_NE(invalid->find("reference validator"), std::string::npos) << *invalid;
}

}  // namespace
}  // namespace indexbus::harness

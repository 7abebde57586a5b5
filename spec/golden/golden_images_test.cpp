// The golden images (spec/golden/v1): the committed files are exactly what the generator makes;
// every image passes core's validator, its lane state checks and its manifest hash; the fresh
// images are byte for byte what core's creator writes. Each check is shown to reject a broken
// input. The images' reads are checked by agents (conformance/harness, Required.Layout.Golden.*).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "golden_images.hpp"
#include "indexbus/region.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::golden {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = INDEXBUS_GOLDEN_DIR;
constexpr const char* kRegenerate = "regenerate with: cmake --build build/release --target golden_images";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
Bytes read_bytes(const fs::path& path) {
  const std::string text = read_text(path);
  Bytes out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

// The first offset where two byte strings differ (or the shorter length), nullopt if equal.
std::optional<std::size_t> first_difference(const Bytes& a, const Bytes& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return i;
  }
  if (a.size() != b.size()) return std::min(a.size(), b.size());
  return std::nullopt;
}

// Every check an opener or inspector makes, in order: validation, then each lane's state and slots.
std::optional<Error> image_error(std::span<const std::byte> image) {
  if (auto error = validate_region_image(image)) return error;
  LaneDescriptor table_entry{};
  RegionHeader header{};
  std::memcpy(&header, image.data(), sizeof header);
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    std::memcpy(&table_entry, image.data() + header.lane_table_offset + i * sizeof(LaneDescriptor), sizeof table_entry);
    const std::byte* block = image.data() + table_entry.block_offset;
    if (static_cast<LaneKind>(table_entry.kind) == LaneKind::Events) {
      const auto snapshot = snapshot_events_lane(block);
      if (auto error = check_events_lane_state(i, table_entry, snapshot)) return error;
      if (auto error = check_events_slots(i, table_entry, block, snapshot.write_seq)) return error;
    } else {
      const auto snapshot = snapshot_ring_lane(block, table_entry.reader_count);
      if (auto error = check_ring_lane_state(i, table_entry, snapshot)) return error;
      if (auto error = check_ring_slots(i, table_entry, block, snapshot.write_seq)) return error;
    }
  }
  return std::nullopt;
}

TEST(GoldenImages, CommittedFilesMatchTheGenerator) {
  std::map<std::string, bool> generated;
  for (const GoldenImage& image : golden_images()) {
    SCOPED_TRACE(image.name);
    generated[image.name + ".bin"] = true;
    const fs::path path = kGoldenDir / (image.name + ".bin");
    ASSERT_TRUE(fs::exists(path)) << path << " is missing; " << kRegenerate;
    const auto diff = first_difference(read_bytes(path), image.bytes);
    EXPECT_FALSE(diff.has_value()) << path << " differs from the generator at byte " << diff.value_or(0) << "; " << kRegenerate;
  }
  EXPECT_EQ(read_text(kGoldenDir / "manifest.json"), golden_manifest(golden_images()))
      << "manifest.json differs from the generator; " << kRegenerate;
  for (const auto& file : fs::directory_iterator(kGoldenDir)) {
    const std::string name = file.path().filename().string();
    if (name == "manifest.json") continue;
    EXPECT_TRUE(generated.contains(name)) << name << " is not generated; " << kRegenerate;
  }
}

// The comparison above can fail: one flipped byte anywhere is found, at its offset.
TEST(GoldenImages, ComparisonCatchesOneFlippedByte) {
  const GoldenImage& image = golden_images().back();
  for (const std::size_t offset : {std::size_t{0}, std::size_t{77}, image.bytes.size() - 1}) {
    Bytes broken = image.bytes;
    broken[offset] ^= std::byte{0x01};
    EXPECT_EQ(first_difference(broken, image.bytes), offset);
  }
  EXPECT_EQ(first_difference(Bytes(image.bytes.begin(), image.bytes.end() - 1), image.bytes), image.bytes.size() - 1);
}

TEST(GoldenImages, EveryImagePassesTheValidatorAndItsManifestHash) {
  const auto manifest = nlohmann::json::parse(read_text(kGoldenDir / "manifest.json"));
  ASSERT_EQ(manifest.at("images").size(), golden_images().size());
  for (const auto& entry : manifest.at("images")) {
    const std::string file = entry.at("file").get<std::string>();
    SCOPED_TRACE(file);
    const Bytes bytes = read_bytes(kGoldenDir / file);
    EXPECT_EQ(bytes.size(), entry.at("bytes").get<std::size_t>());
    EXPECT_EQ(sha256_hex(bytes), entry.at("sha256").get<std::string>());
    EXPECT_EQ(entry.at("layout_version").get<std::string>(), "1.0");
    const auto error = image_error(bytes);
    EXPECT_FALSE(error.has_value()) << error->message;
    EXPECT_LE(bytes.size(), 16u * 1024) << "golden images stay small";
  }
}

// The checks above can fail: a flipped payload byte changes the hash (the validator does not
// cover slots), a flipped descriptor byte fails validation, a cursor ahead of write_seq fails the
// lane state check.
TEST(GoldenImages, HashValidatorAndStateCheckRejectBrokenImages) {
  const GoldenImage& image = golden_images().back();  // multi_lane
  ASSERT_FALSE(image_error(image.bytes).has_value());
  Bytes payload_flipped = image.bytes;
  payload_flipped.back() ^= std::byte{0x80};  // unused bytes after the last block: not validated
  EXPECT_NE(sha256_hex(payload_flipped), sha256_hex(image.bytes));

  Bytes capacity_broken = image.bytes;
  capacity_broken[128 + 8] = std::byte{3};  // lane 0 capacity_slots 3
  const auto capacity_error = image_error(capacity_broken);
  ASSERT_TRUE(capacity_error.has_value());
  EXPECT_EQ(capacity_error->code, ErrorCode::BadCapacity);

  Bytes cursor_ahead = image.bytes;
  std::uint64_t block = 0;
  std::memcpy(&block, cursor_ahead.data() + 128 + 24, 8);            // lane 0 block_offset (Events)
  const std::uint64_t far_ahead = 1000;
  std::memcpy(cursor_ahead.data() + block + 64, &far_ahead, 8);      // read_seq
  const auto state_error = image_error(cursor_ahead);
  ASSERT_TRUE(state_error.has_value());
  EXPECT_EQ(state_error->code, ErrorCode::LaneStateCorrupt);
}

// The encoder here is written from spec/layout.md; core's creator from the same document. A fresh
// image is what a creator writes, so the two must agree on every byte (pid and id normalized).
TEST(GoldenImages, FreshImagesAreWhatCoresCreatorWrites) {
  int fresh = 0;
  for (const GoldenImage& image : golden_images()) {
    if (!image.fresh) continue;
    SCOPED_TRACE(image.name);
    ++fresh;
    std::vector<LaneSpec> specs;
    for (const GoldenLane& lane : image.lanes) {
      const GoldenLaneConfig& c = lane.config;
      specs.push_back(LaneSpec{c.kind, c.on_full, c.capacity_slots, c.slot_payload_bytes, c.reader_count, c.reader_timeout_ns,
                               c.gated_on});
    }
    auto plan = plan_region(specs);
    ASSERT_TRUE(plan.ok());
    Bytes created(plan.value().region_bytes, std::byte{0});
    write_region_image(created, plan.value(), specs, 0, kGoldenCreationId);
    const auto diff = first_difference(created, image.bytes);
    EXPECT_FALSE(diff.has_value()) << "core's creator differs at byte " << diff.value_or(0);
  }
  EXPECT_EQ(fresh, 5);
}

TEST(GoldenImages, HashAndChecksumKnownAnswers) {
  auto bytes_of = [](std::string_view text) {
    Bytes out(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
    return out;
  };
  EXPECT_EQ(sha256_hex(bytes_of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(bytes_of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(crc32c(bytes_of("123456789")) ^ 0xFFFFFFFFu, 0xE3069283u);
}

}  // namespace
}  // namespace indexbus::golden

#include "region_images.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "indexbus/layout.hpp"
#include "indexbus/region.hpp"

namespace indexbus::testing {
namespace {

template <typename T>
void poke(std::vector<std::byte>& image, std::size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof(T));
}

void reseal(std::vector<std::byte>& image) {
  RegionHeader header;
  std::memcpy(&header, image.data(), sizeof(header));
  const std::uint32_t crc = region_checksum(image, header.lane_table_offset, header.lane_count);
  poke(image, offsetof(RegionHeader, checksum), crc);
}

std::size_t lane_field(std::uint32_t lane, std::size_t field_offset) {
  return sizeof(RegionHeader) + lane * sizeof(LaneDescriptor) + field_offset;
}

}  // namespace

std::vector<std::byte> valid_region_image(const std::vector<LaneSpec>& lanes) {
  auto plan = plan_region(lanes);
  if (!plan) return {};
  std::vector<std::byte> image(plan->region_bytes);
  write_region_image(image, *plan, lanes, 4242, 0x1234'5678'9abc'def0ull);
  return image;
}

std::vector<CorruptImage> corrupt_region_images() {
  const std::vector<LaneSpec> lanes{{LaneKind::Events, OnFull::Block, 4, 16, 1, 0, {}},
                                    {LaneKind::Events, OnFull::Drop, 8, 8, 1, 0, {}}};
  const auto base = valid_region_image(lanes);
  std::vector<CorruptImage> out;
  auto add = [&](std::string name, ErrorCode code, std::function<void(std::vector<std::byte>&)> edit,
                 bool reseal_after = true) {
    auto image = base;
    edit(image);
    if (reseal_after) reseal(image);
    out.push_back({std::move(name), code, std::move(image)});
  };
  const auto h = [](std::size_t offset) { return offset; };
  add("too_small", ErrorCode::TooSmall, [](auto& i) { i.resize(100); }, false);
  add("bad_magic", ErrorCode::BadMagic, [&](auto& i) { poke<std::uint64_t>(i, h(0), 0x4B4E554Aull); });
  add("version_major_2", ErrorCode::VersionMismatch, [&](auto& i) { poke<std::uint16_t>(i, h(8), 2); });
  add("init_creating", ErrorCode::NotReady, [&](auto& i) { poke<std::uint32_t>(i, h(64), 0); });
  add("header_bytes_64", ErrorCode::BadHeaderBytes, [&](auto& i) { poke<std::uint32_t>(i, h(12), 64); });
  add("region_bytes_short", ErrorCode::RegionSizeMismatch, [&](auto& i) { i.resize(i.size() - 64); }, false);
  add("lane_count_0", ErrorCode::BadLaneCount, [&](auto& i) { poke<std::uint32_t>(i, h(24), 0); }, false);
  add("lane_count_65", ErrorCode::BadLaneCount, [&](auto& i) { poke<std::uint32_t>(i, h(24), 65); }, false);
  add("descriptor_bytes_32", ErrorCode::BadDescriptorBytes, [&](auto& i) { poke<std::uint32_t>(i, h(32), 32); });
  add("lane_table_offset_huge", ErrorCode::BadLaneTableOffset, [&](auto& i) { poke<std::uint32_t>(i, h(28), 0xFFFFFFC0u); }, false);
  add("lane_table_offset_misaligned", ErrorCode::BadLaneTableOffset, [&](auto& i) { poke<std::uint32_t>(i, h(28), 130); }, false);
  add("reserved0_set", ErrorCode::ReservedNotZero, [&](auto& i) { poke<std::uint64_t>(i, h(48), 1); });
  add("reserved1_set", ErrorCode::ReservedNotZero, [&](auto& i) { poke<std::uint8_t>(i, h(100), 1); });
  add("flags_set", ErrorCode::BadFlags, [&](auto& i) { poke<std::uint32_t>(i, h(56), 4); });
  add("checksum_wrong", ErrorCode::ChecksumMismatch, [&](auto& i) { poke<std::uint32_t>(i, h(60), 0xDEADBEEF); }, false);
  add("lane1_kind_9", ErrorCode::BadLaneKind, [&](auto& i) { poke<std::uint32_t>(i, lane_field(1, 0), 9); });
  add("lane1_kind_journal", ErrorCode::BadBlockBytes, [&](auto& i) { poke<std::uint32_t>(i, lane_field(1, 0), 2); });
  add("lane0_on_full_7", ErrorCode::BadOnFull, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 4), 7); });
  add("lane0_capacity_3", ErrorCode::BadCapacity, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 8), 3); });
  add("lane0_capacity_2_25", ErrorCode::BadCapacity, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 8), 1u << 25); });
  add("lane0_capacity_0", ErrorCode::BadCapacity, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 8), 0); });
  add("lane1_slot_12", ErrorCode::BadSlotBytes, [&](auto& i) { poke<std::uint32_t>(i, lane_field(1, 12), 12); });
  add("lane1_slot_0", ErrorCode::BadSlotBytes, [&](auto& i) { poke<std::uint32_t>(i, lane_field(1, 12), 0); });
  add("lane0_readers_2", ErrorCode::BadReaderCount, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 16), 2); });
  add("lane0_reader_timeout_set", ErrorCode::BadReaderTimeout, [&](auto& i) { poke<std::uint64_t>(i, lane_field(0, 40), 1000); });
  add("lane0_reserved_set", ErrorCode::ReservedNotZero, [&](auto& i) { poke<std::uint32_t>(i, lane_field(0, 20), 1); });
  add("lane1_block_misaligned", ErrorCode::BlockMisaligned, [&](auto& i) { poke<std::uint64_t>(i, lane_field(1, 24), 1000); });
  add("lane1_block_past_end", ErrorCode::BlockOutOfBounds, [&](auto& i) { poke<std::uint64_t>(i, lane_field(1, 24), 1ull << 40); });
  add("lane1_block_offset_overflow", ErrorCode::BlockOutOfBounds, [&](auto& i) { poke<std::uint64_t>(i, lane_field(1, 24), ~std::uint64_t{63}); });
  add("lane0_block_in_table", ErrorCode::BlockOutOfBounds, [&](auto& i) { poke<std::uint64_t>(i, lane_field(0, 24), 128); });
  add("lane0_block_bytes_wrong", ErrorCode::BadBlockBytes, [&](auto& i) { poke<std::uint64_t>(i, lane_field(0, 32), 64); });
  add("lane1_overlaps_lane0", ErrorCode::BlocksOverlap, [&](auto& i) {
    std::uint64_t lane0_offset;
    std::memcpy(&lane0_offset, i.data() + lane_field(0, 24), 8);
    poke<std::uint64_t>(i, lane_field(1, 24), lane0_offset + 64);
  });
  return out;
}

std::vector<std::byte> corrupt_region_image(const std::string& name) {
  for (auto& corrupt : corrupt_region_images()) {
    if (corrupt.name == name) return std::move(corrupt.bytes);
  }
  return {};
}

bool write_region_file(const std::string& path, const std::vector<std::byte>& bytes) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  return written;
}

}  // namespace indexbus::testing

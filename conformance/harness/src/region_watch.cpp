#include "region_watch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <variant>

#include "indexbus/layout.hpp"
#include "indexbus/validate.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::harness {
namespace {

// The file's bytes, or what kept them from being read.
std::variant<std::vector<std::byte>, std::string> read_image(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "cannot open the region file " + path + ": " + std::strerror(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("cannot stat the region file: ") + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "the region file is not a regular file";
  const auto size_bytes = static_cast<std::uint64_t>(st.st_size);
  if (size_bytes > RegionWatch::kRegionBytesMax) {
    return "file size " + std::to_string(size_bytes) + " bytes, above the harness's limit of " +
           std::to_string(RegionWatch::kRegionBytesMax) + " (an agent grew the region?)";
  }
  std::vector<std::byte> image(size_bytes);
  std::size_t done = 0;
  // Bounded: each pass reads at least one byte or ends the loop (EOF: the file shrank meanwhile).
  while (done < image.size()) {
    const ssize_t n = ::pread(fd, image.data() + done, image.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("cannot read the region file: ") + std::strerror(errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  image.resize(done);
  return image;
}

std::string error_text(const Error& error, const char* rule) {
  return std::string(to_string(error.code)) + ": " + error.message + " (" + rule + ")";
}

template <typename T>
T load(const std::vector<std::byte>& image, std::size_t offset) {
  assert(offset + sizeof(T) <= image.size());
  T value;
  std::memcpy(&value, image.data() + offset, sizeof value);
  return value;
}

// Where byte `offset` lies, for a message.
std::string place_of(std::uint64_t offset, std::uint32_t table_offset, std::uint32_t lane_count) {
  if (offset < kChecksumCoveredHeaderBytes + 4) return "region header line 0";
  if (offset < sizeof(RegionHeader)) return "region header line 1";
  const std::uint64_t table_end = table_offset + std::uint64_t{lane_count} * sizeof(LaneDescriptor);
  if (offset >= table_offset && offset < table_end) {
    return "lane table (descriptor " + std::to_string((offset - table_offset) / sizeof(LaneDescriptor)) + ")";
  }
  return "outside every lane block";
}

}  // namespace

std::optional<std::string> RegionWatch::baseline(const protocol::Json& lanes) {
  auto read = read_image(path_);
  if (auto* why = std::get_if<std::string>(&read)) return *why;
  std::vector<std::byte>& image = std::get<std::vector<std::byte>>(read);
  if (auto error = validate_region_image(image)) return "the region as created is invalid: " + error_text(*error, "REG-4");
  // Valid: the header and every descriptor lie inside the image.
  const auto& header = *reinterpret_cast<const RegionHeader*>(image.data());
  if (!lanes.is_array() || lanes.size() != header.lane_count) {
    return "the region as created has lane_count " + std::to_string(header.lane_count) + ", expected " +
           std::to_string(lanes.is_array() ? lanes.size() : 0);
  }
  blocks_.clear();
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    const auto lane = load<LaneDescriptor>(image, header.lane_table_offset + std::size_t{i} * sizeof(LaneDescriptor));
    const protocol::Json& asked = lanes[i];
    auto mismatch = [&](const char* field, std::uint64_t found, const std::string& expected, std::string_view name = {}) {
      return "the region as created: lane " + std::to_string(i) + " descriptor " + field + " is " + std::to_string(found) +
             (name.empty() ? "" : " (" + std::string(name) + ")") + ", expected " + expected + " (asked for in create_region)";
    };
    const std::string kind = asked.value("kind", "");
    const std::string_view kind_found = to_string(static_cast<LaneKind>(lane.kind));
    if (kind_found != kind) return mismatch("kind", lane.kind, kind, kind_found);
    const std::string on_full = asked.value("on_full", "");
    const std::string_view on_full_found = to_string(static_cast<OnFull>(lane.on_full));
    if (on_full_found != on_full) return mismatch("on_full", lane.on_full, on_full, on_full_found);
    const auto capacity = asked.value("capacity_slots", std::uint64_t{0});
    if (lane.capacity_slots != capacity) return mismatch("capacity_slots", lane.capacity_slots, std::to_string(capacity));
    const auto payload = asked.value("slot_payload_bytes", std::uint64_t{0});
    if (lane.slot_payload_bytes != payload) return mismatch("slot_payload_bytes", lane.slot_payload_bytes, std::to_string(payload));
    const auto readers = asked.value("reader_count", std::uint64_t{1});
    if (lane.reader_count != readers) return mismatch("reader_count", lane.reader_count, std::to_string(readers));
    blocks_.emplace_back(lane.block_offset, lane.block_offset + lane.block_bytes);
  }
  baseline_ = std::move(image);
  return std::nullopt;
}

std::optional<std::string> RegionWatch::check(bool lane_state) const {
  if (baseline_.empty()) return std::nullopt;
  auto read = read_image(path_);
  if (auto* why = std::get_if<std::string>(&read)) return *why;
  const std::vector<std::byte>& image = std::get<std::vector<std::byte>>(read);
  if (image.size() != baseline_.size()) {
    return "file size " + std::to_string(image.size()) + " bytes, expected " + std::to_string(baseline_.size()) +
           " (region_bytes as created; an agent resized the region) (REG-10)";
  }
  if (auto error = validate_region_image(image)) return error_text(*error, "REG-4, REG-10");
  const auto& header = *reinterpret_cast<const RegionHeader*>(baseline_.data());
  // Every byte outside the lane blocks is immutable once Ready, but init_state (REG-10).
  for (std::uint64_t offset = 0; offset < image.size(); ++offset) {
    if (offset >= offsetof(RegionHeader, init_state) && offset < offsetof(RegionHeader, init_state) + 4) continue;
    bool in_block = false;
    for (const auto& [begin, end] : blocks_) in_block = in_block || (offset >= begin && offset < end);
    if (in_block || image[offset] == baseline_[offset]) continue;
    return "byte " + std::to_string(offset) + " (" + place_of(offset, header.lane_table_offset, header.lane_count) +
           ") is " + std::to_string(static_cast<unsigned>(image[offset])) + ", expected " +
           std::to_string(static_cast<unsigned>(baseline_[offset])) +
           " as created: only init_state and the lane blocks may change once Ready (REG-10)";
  }
  if (load<std::uint32_t>(image, offsetof(RegionHeader, init_state)) != kInitStateReady) {
    return "init_state is " + std::to_string(load<std::uint32_t>(image, offsetof(RegionHeader, init_state))) +
           ", expected " + std::to_string(kInitStateReady) + " (Ready) (REG-3)";
  }
  if (!lane_state) return std::nullopt;
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    const auto lane = load<LaneDescriptor>(image, header.lane_table_offset + std::size_t{i} * sizeof(LaneDescriptor));
    // Validated: the block lies inside the image, 64-aligned (the copy is 16-aligned: the
    // snapshots' 8-byte atomic loads are aligned).
    const std::byte* block = image.data() + lane.block_offset;
    std::optional<Error> error;
    if (static_cast<LaneKind>(lane.kind) == LaneKind::Events) {
      const EventsLaneSnapshot state = snapshot_events_lane(block);
      error = check_events_lane_state(i, lane, state);
      if (!error) error = check_events_slots(i, lane, block, state.write_seq);
    } else {
      const RingLaneSnapshot state = snapshot_ring_lane(block, lane.reader_count);
      error = check_ring_lane_state(i, lane, state);
      if (!error) error = check_ring_slots(i, lane, block, state.write_seq);
    }
    if (error) return error_text(*error, "REG-11");
  }
  return std::nullopt;
}

}  // namespace indexbus::harness

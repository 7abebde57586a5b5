#include "indexbus/validate.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/crc.hpp>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <string>

namespace indexbus {
namespace {

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

std::string where(std::int64_t lane_index) {
  return lane_index < 0 ? std::string("region header") : "lane " + std::to_string(lane_index);
}

Error fail(ErrorCode code, std::int64_t lane_index, std::string_view field, std::uint64_t found,
           std::string_view expected) {
  std::string message = where(lane_index);
  message += ": ";
  message += field;
  message += ' ';
  message += std::to_string(found);
  message += ' ';
  message += expected;
  return Error{code, std::move(message)};
}

// Magic numbers and checksums read best in hex, as every byte-level tool shows them.
Error fail_hex(ErrorCode code, std::int64_t lane_index, std::string_view field, std::uint64_t found,
               std::string_view expected) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "0x%llx", static_cast<unsigned long long>(found));
  return Error{code, where(lane_index) + ": " + std::string(field) + " " + buffer + " " +
                         std::string(expected)};
}

std::string range(std::uint64_t low, std::uint64_t high) {
  return "[" + std::to_string(low) + ", " + std::to_string(high) + "]";
}

template <typename T>
T read_plain(std::span<const std::byte> image, std::uint64_t offset) {
  T value;
  std::memcpy(&value, image.data() + offset, sizeof(T));
  return value;
}

// Names the first non-zero byte of a reserved range, by its offset in the enclosing struct.
std::optional<Error> check_reserved_zero(std::int64_t lane_index, std::string_view field,
                                         const void* bytes, std::size_t size,
                                         std::size_t struct_offset) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  const auto* nonzero = std::find_if(p, p + size, [](unsigned char b) { return b != 0; });
  if (nonzero == p + size) return std::nullopt;
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), " byte %zu is 0x%02x; expected all of bytes %zu..%zu to be 0",
                struct_offset + static_cast<std::size_t>(nonzero - p), *nonzero, struct_offset,
                struct_offset + size - 1);
  return Error{ErrorCode::ReservedNotZero, where(lane_index) + ": " + std::string(field) + buffer};
}

// The block is live shared memory; atomic loads are the only race-free way to look.
template <typename T>
T load_relaxed(const std::byte* block, std::size_t offset) {
  T* word = reinterpret_cast<T*>(const_cast<std::byte*>(block) + offset);
  return std::atomic_ref<T>(*word).load(std::memory_order_relaxed);
}
template <typename T>
T load_acquire(const std::byte* block, std::size_t offset) {
  T* word = reinterpret_cast<T*>(const_cast<std::byte*>(block) + offset);
  return std::atomic_ref<T>(*word).load(std::memory_order_acquire);
}

}  // namespace

std::optional<Error> check_lane_fields(std::uint32_t lane_index, std::uint32_t kind,
                                       std::uint32_t on_full, std::uint32_t capacity_slots,
                                       std::uint32_t slot_payload_bytes, std::uint32_t reader_count,
                                       std::uint64_t reader_timeout_ns) {
  if (kind < static_cast<std::uint32_t>(LaneKind::Events) ||
      kind > static_cast<std::uint32_t>(LaneKind::FanoutBroadcast)) {
    return fail(ErrorCode::BadLaneKind, lane_index, "kind", kind,
                "is not a lane kind (1 events, 2 journal, 3 sequenced_slots, 4 fanout_broadcast)");
  }
  if (!lane_kind_supported(static_cast<LaneKind>(kind))) {
    return fail(ErrorCode::UnsupportedLaneKind, lane_index, "kind", kind,
                "is a v1 lane kind this build does not implement");
  }
  if (on_full != static_cast<std::uint32_t>(OnFull::Block) &&
      on_full != static_cast<std::uint32_t>(OnFull::Drop)) {
    return fail(ErrorCode::BadOnFull, lane_index, "on_full", on_full, "is not 1 (block) or 2 (drop)");
  }
  if (!is_power_of_two(capacity_slots) || capacity_slots > kCapacitySlotsMax) {
    return fail(ErrorCode::BadCapacity, lane_index, "capacity_slots", capacity_slots,
                "is not a power of two in " + range(kCapacitySlotsMin, kCapacitySlotsMax));
  }
  if (slot_payload_bytes < kSlotPayloadBytesMin || slot_payload_bytes > kSlotPayloadBytesMax ||
      slot_payload_bytes % kSlotPayloadBytesAlign != 0) {
    return fail(ErrorCode::BadSlotBytes, lane_index, "slot_payload_bytes", slot_payload_bytes,
                "is not a multiple of 8 in " + range(kSlotPayloadBytesMin, kSlotPayloadBytesMax));
  }
  if (kind == static_cast<std::uint32_t>(LaneKind::Events)) {
    if (reader_count != 1) {
      return fail(ErrorCode::BadReaderCount, lane_index, "reader_count", reader_count,
                  "is not 1 (an events lane has exactly one consumer)");
    }
  } else if (reader_count < 1 || reader_count > kReaderCountMax) {
    return fail(ErrorCode::BadReaderCount, lane_index, "reader_count", reader_count,
                "is not in " + range(1, kReaderCountMax));
  }
  if (reader_timeout_ns != 0 && kind != static_cast<std::uint32_t>(LaneKind::Journal)) {
    return fail(ErrorCode::BadReaderTimeout, lane_index, "reader_timeout_ns", reader_timeout_ns,
                "is not 0 (only a journal lane has a reader timeout)");
  }
  return std::nullopt;
}

std::optional<Error> check_gating(std::uint32_t lane_index, LaneKind kind, std::uint32_t reader_count,
                                  std::span<const std::uint64_t> masks) {
  assert(masks.empty() || masks.size() == reader_count);
  assert(reader_count <= kReaderCountMax);
  const std::uint64_t existing = reader_count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << reader_count) - 1;
  for (std::uint32_t i = 0; i < masks.size(); ++i) {
    const std::string field = "reader " + std::to_string(i) + " gated_on_mask";
    if (masks[i] != 0 && kind != LaneKind::SequencedSlots) {
      return fail_hex(ErrorCode::BadGating, lane_index, field, masks[i],
                      "is not 0 (only a sequenced_slots lane gates its consumers)");
    }
    if ((masks[i] & ~existing) != 0) {
      return fail_hex(ErrorCode::BadGating, lane_index, field, masks[i],
                      "names a consumer >= reader_count " + std::to_string(reader_count));
    }
    if ((masks[i] >> i) & 1) {
      return fail_hex(ErrorCode::BadGating, lane_index, field, masks[i],
                      "gates consumer " + std::to_string(i) + " on itself");
    }
  }
  // Kahn's algorithm: repeatedly remove consumers whose gates are all removed. At most
  // reader_count rounds; whatever remains lies on or behind a cycle.
  std::uint64_t removed = 0;
  for (std::uint32_t round = 0; round < masks.size(); ++round) {
    bool progress = false;
    for (std::uint32_t i = 0; i < masks.size(); ++i) {
      const std::uint64_t bit = std::uint64_t{1} << i;
      if ((removed & bit) == 0 && (masks[i] & ~removed) == 0) {
        removed |= bit;
        progress = true;
      }
    }
    if (!progress) break;
  }
  for (std::uint32_t i = 0; i < masks.size(); ++i) {
    if ((removed >> i) & 1) continue;
    return fail_hex(ErrorCode::BadGating, lane_index,
                    "reader " + std::to_string(i) + " gated_on_mask", masks[i],
                    "is part of (or waits on) a gating cycle; the gating graph must be acyclic");
  }
  return std::nullopt;
}

std::uint32_t region_checksum(std::span<const std::byte> image, std::uint32_t lane_table_offset,
                              std::uint32_t lane_count) {
  const std::uint64_t table_bytes = std::uint64_t{lane_count} * sizeof(LaneDescriptor);
  assert(kChecksumCoveredHeaderBytes <= image.size());
  assert(lane_table_offset + table_bytes <= image.size());
  Crc32c crc;
  crc.process_bytes(image.data(), kChecksumCoveredHeaderBytes);
  crc.process_bytes(image.data() + lane_table_offset, table_bytes);
  return crc.checksum();
}

std::optional<Error> validate_region_image(std::span<const std::byte> image) {
  constexpr std::int64_t kHeader = -1;
  if (image.size() < sizeof(RegionHeader)) {
    return fail(ErrorCode::TooSmall, kHeader, "file size", image.size(),
                "is smaller than the " + std::to_string(sizeof(RegionHeader)) + "-byte region header");
  }
  const auto header = read_plain<RegionHeader>(image, 0);
  if (header.magic != kRegionMagic) {
    return fail_hex(ErrorCode::BadMagic, kHeader, "magic", header.magic,
                    "is not 0x5355425845444e49 (\"INDEXBUS\" little-endian)");
  }
  if (header.version_major != kLayoutVersionMajor) {
    return fail(ErrorCode::VersionMismatch, kHeader, "version_major", header.version_major,
                "is not " + std::to_string(kLayoutVersionMajor) + " (this build reads layout v1.x)");
  }
  if (header.init_state != kInitStateReady) {
    if (header.init_state == kInitStateCreating) {
      return fail(ErrorCode::NotReady, kHeader, "init_state", header.init_state,
                  "is 0 (creating): the creator has not finished; expected 1 (ready)");
    }
    return fail(ErrorCode::NotReady, kHeader, "init_state", header.init_state,
                "is not 0 (creating) or 1 (ready)");
  }
  if (header.header_bytes != sizeof(RegionHeader)) {
    return fail(ErrorCode::BadHeaderBytes, kHeader, "header_bytes", header.header_bytes,
                "is not " + std::to_string(sizeof(RegionHeader)));
  }
  if (header.region_bytes != image.size()) {
    return fail(ErrorCode::RegionSizeMismatch, kHeader, "region_bytes", header.region_bytes,
                "does not match the file size " + std::to_string(image.size()));
  }
  if (header.lane_count < 1 || header.lane_count > kLaneCountMax) {
    return fail(ErrorCode::BadLaneCount, kHeader, "lane_count", header.lane_count,
                "is not in " + range(1, kLaneCountMax));
  }
  if (header.lane_descriptor_bytes != sizeof(LaneDescriptor)) {
    return fail(ErrorCode::BadDescriptorBytes, kHeader, "lane_descriptor_bytes",
                header.lane_descriptor_bytes, "is not " + std::to_string(sizeof(LaneDescriptor)));
  }
  const std::uint64_t table_end =
      std::uint64_t{header.lane_table_offset} + lane_table_bytes(header.lane_count);
  if (header.lane_table_offset < sizeof(RegionHeader) ||
      header.lane_table_offset % kCacheLineBytes != 0 || table_end > image.size()) {
    return fail(ErrorCode::BadLaneTableOffset, kHeader, "lane_table_offset",
                header.lane_table_offset,
                "is not a 64-aligned offset >= 128 with room for " +
                    std::to_string(header.lane_count) + " descriptors in the region");
  }
  if (header.reserved0 != 0) {
    return fail(ErrorCode::ReservedNotZero, kHeader, "reserved0", header.reserved0, "is not 0");
  }
  if (auto error = check_reserved_zero(kHeader, "reserved1", header.reserved1,
                                       sizeof(header.reserved1), offsetof(RegionHeader, reserved1))) {
    return error;
  }
  if (header.flags != 0) {
    return fail(ErrorCode::BadFlags, kHeader, "flags", header.flags, "is not 0 (no flags in v1.0)");
  }

  // The table is inside the image now, so every descriptor can be read.
  std::array<std::pair<std::uint64_t, std::uint64_t>, kLaneCountMax> blocks{};
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    const auto lane = read_plain<LaneDescriptor>(
        image, header.lane_table_offset + std::uint64_t{i} * sizeof(LaneDescriptor));
    if (auto error = check_lane_fields(i, lane.kind, lane.on_full, lane.capacity_slots,
                                       lane.slot_payload_bytes, lane.reader_count,
                                       lane.reader_timeout_ns)) {
      return error;
    }
    if (lane.reserved0 != 0) {
      return fail(ErrorCode::ReservedNotZero, i, "reserved0", lane.reserved0, "is not 0");
    }
    if (auto error = check_reserved_zero(i, "reserved1", lane.reserved1, sizeof(lane.reserved1),
                                         offsetof(LaneDescriptor, reserved1))) {
      return error;
    }
    if (lane.block_offset % kCacheLineBytes != 0) {
      return fail(ErrorCode::BlockMisaligned, i, "block_offset", lane.block_offset,
                  "is not a multiple of 64");
    }
    const std::uint64_t expected_bytes =
        lane_block_bytes(static_cast<LaneKind>(lane.kind), lane.capacity_slots,
                         lane.slot_payload_bytes, lane.reader_count);
    if (lane.block_bytes != expected_bytes) {
      return fail(ErrorCode::BadBlockBytes, i, "block_bytes", lane.block_bytes,
                  "is not " + std::to_string(expected_bytes) + " (what kind, capacity and slot size need)");
    }
    // Subtraction form: block_offset + block_bytes could overflow.
    if (lane.block_offset < table_end || lane.block_offset > image.size() ||
        lane.block_bytes > image.size() - lane.block_offset) {
      return fail(ErrorCode::BlockOutOfBounds, i, "block_offset", lane.block_offset,
                  "with block_bytes " + std::to_string(lane.block_bytes) +
                      " is not inside [" + std::to_string(table_end) + ", " +
                      std::to_string(image.size()) + ") (after the lane table, within the region)");
    }
    blocks[i] = {lane.block_offset, lane.block_bytes};
  }
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    for (std::uint32_t j = i + 1; j < header.lane_count; ++j) {
      const auto [a_offset, a_bytes] = blocks[i];
      const auto [b_offset, b_bytes] = blocks[j];
      if (a_offset < b_offset + b_bytes && b_offset < a_offset + a_bytes) {
        return fail(ErrorCode::BlocksOverlap, j, "block_offset", b_offset,
                    "overlaps the block of lane " + std::to_string(i) + " at [" +
                        std::to_string(a_offset) + ", " + std::to_string(a_offset + a_bytes) + ")");
      }
    }
  }
  // The gating masks live in the (validated, in-bounds) lane blocks; they never change after
  // creation, so plain reads of them are as good as atomic ones. Checked before the checksum, so
  // that the checksum stays the last check (an image failing only it is valid once resealed).
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    const auto lane = read_plain<LaneDescriptor>(
        image, header.lane_table_offset + std::uint64_t{i} * sizeof(LaneDescriptor));
    if (!is_ring_kind(static_cast<LaneKind>(lane.kind))) continue;
    std::array<std::uint64_t, kReaderCountMax> masks{};
    for (std::uint32_t r = 0; r < lane.reader_count; ++r) {
      masks[r] = read_plain<std::uint64_t>(image, lane.block_offset + sizeof(RingLaneHeader) +
                                                      std::uint64_t{r} * sizeof(ReaderRecord) +
                                                      offsetof(ReaderRecord, gated_on_mask));
    }
    if (auto error = check_gating(i, static_cast<LaneKind>(lane.kind), lane.reader_count,
                                  std::span(masks.data(), lane.reader_count))) {
      return error;
    }
  }
  const std::uint32_t computed = region_checksum(image, header.lane_table_offset, header.lane_count);
  if (computed != header.checksum) {
    char computed_hex[16];
    std::snprintf(computed_hex, sizeof(computed_hex), "0x%08x", computed);
    return fail_hex(ErrorCode::ChecksumMismatch, kHeader, "checksum", header.checksum,
                    std::string("does not match the CRC32C ") + computed_hex +
                        " of header bytes 0..59 and the lane table");
  }
  return std::nullopt;
}

EventsLaneSnapshot snapshot_events_lane(const std::byte* block) {
  EventsLaneSnapshot s;
  // Consumer words first, producer words last: a live lane then never looks as if it had read
  // ahead of what was written.
  s.read_seq = load_acquire<std::uint64_t>(block, offsetof(EventsLaneHeader, read_seq));
  s.read_count = load_relaxed<std::uint64_t>(block, offsetof(EventsLaneHeader, read_count));
  s.lost_count = load_relaxed<std::uint64_t>(block, offsetof(EventsLaneHeader, lost_count));
  s.consumer_pid = load_relaxed<std::uint32_t>(block, offsetof(EventsLaneHeader, consumer_pid));
  s.write_seq = load_acquire<std::uint64_t>(block, offsetof(EventsLaneHeader, write_seq));
  s.closed = load_relaxed<std::uint32_t>(block, offsetof(EventsLaneHeader, closed));
  s.producer_pid = load_relaxed<std::uint32_t>(block, offsetof(EventsLaneHeader, producer_pid));
  return s;
}

namespace {
// A write_seq above kSeqLimit: a cursor is checked against write_seq, and a slot stamp against
// 2 * write_seq + 1, both of which would wrap near 2^63 and let a corrupt lane pass.
Error seq_limit_failure(std::uint32_t lane_index, std::uint64_t write_seq) {
  return fail(ErrorCode::LaneStateCorrupt, lane_index, "write_seq", write_seq,
              "exceeds " + std::to_string(kSeqLimit) + " (2^62 - 1), the largest sequence number of a v1 lane");
}
}  // namespace

std::optional<Error> check_events_lane_state(std::uint32_t lane_index, const LaneDescriptor& lane,
                                             const EventsLaneSnapshot& state) {
  if (state.closed > 1) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "closed", state.closed, "is not 0 or 1");
  }
  if (state.write_seq > kSeqLimit) return seq_limit_failure(lane_index, state.write_seq);
  if (state.read_seq > state.write_seq) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "read_seq", state.read_seq,
                "is ahead of write_seq " + std::to_string(state.write_seq));
  }
  // read_seq = read_count + lost_count as integers, compared without the sum, which could wrap.
  if (state.read_count > state.read_seq) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "read_count", state.read_count,
                "is ahead of read_seq " + std::to_string(state.read_seq));
  }
  if (state.lost_count != state.read_seq - state.read_count) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "lost_count", state.lost_count,
                "is not read_seq - read_count = " + std::to_string(state.read_seq - state.read_count));
  }
  if (lane.on_full == static_cast<std::uint32_t>(OnFull::Block) &&
      state.write_seq - state.read_seq > lane.capacity_slots) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "write_seq - read_seq",
                state.write_seq - state.read_seq,
                "exceeds capacity_slots " + std::to_string(lane.capacity_slots) + " under block");
  }
  if (lane.on_full == static_cast<std::uint32_t>(OnFull::Block) && state.lost_count != 0) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "lost_count", state.lost_count,
                "is not 0 under block (block never loses an entry)");
  }
  return std::nullopt;
}

namespace {

// Slots start at slots_offset in the block (Events: after its header; ring lanes: after the
// reader records).
std::optional<Error> check_slots(std::uint32_t lane_index, const LaneDescriptor& lane,
                                 const std::byte* block, std::uint64_t slots_offset,
                                 std::uint64_t write_seq) {
  if (write_seq > kSeqLimit) return seq_limit_failure(lane_index, write_seq);  // stamp_max must not wrap
  const std::uint64_t stride = events_slot_stride_bytes(lane.slot_payload_bytes);
  const std::uint64_t stamp_max = 2 * write_seq + 1;
  for (std::uint64_t i = 0; i < lane.capacity_slots; ++i) {
    const std::size_t slot = slots_offset + i * stride;
    const auto stamp = load_relaxed<std::uint64_t>(block, slot + offsetof(EventsSlotHeader, stamp));
    if (stamp > stamp_max) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index, "slot " + std::to_string(i) + " stamp",
                  stamp, "is ahead of write_seq " + std::to_string(write_seq) + " (at most " +
                             std::to_string(stamp_max) + ")");
    }
    const auto length =
        load_relaxed<std::uint32_t>(block, slot + offsetof(EventsSlotHeader, payload_bytes));
    if (length > lane.slot_payload_bytes) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index,
                  "slot " + std::to_string(i) + " payload_bytes", length,
                  "exceeds slot_payload_bytes " + std::to_string(lane.slot_payload_bytes));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> check_events_slots(std::uint32_t lane_index, const LaneDescriptor& lane,
                                        const std::byte* block, std::uint64_t write_seq) {
  return check_slots(lane_index, lane, block, sizeof(EventsLaneHeader), write_seq);
}

std::optional<Error> check_ring_slots(std::uint32_t lane_index, const LaneDescriptor& lane,
                                      const std::byte* block, std::uint64_t write_seq) {
  return check_slots(lane_index, lane, block, ring_slots_offset(lane.reader_count), write_seq);
}

RingLaneSnapshot snapshot_ring_lane(const std::byte* block, std::uint32_t reader_count) {
  assert(reader_count <= kReaderCountMax);
  RingLaneSnapshot s;
  s.readers.resize(reader_count);
  for (std::uint32_t r = 0; r < reader_count; ++r) {
    const std::size_t at = sizeof(RingLaneHeader) + std::size_t{r} * sizeof(ReaderRecord);
    RingReaderSnapshot& reader = s.readers[r];
    reader.cursor_seq = load_acquire<std::uint64_t>(block, at + offsetof(ReaderRecord, cursor_seq));
    reader.read_count = load_relaxed<std::uint64_t>(block, at + offsetof(ReaderRecord, read_count));
    reader.lost_count = load_relaxed<std::uint64_t>(block, at + offsetof(ReaderRecord, lost_count));
    reader.heartbeat_ns = load_relaxed<std::uint64_t>(block, at + offsetof(ReaderRecord, heartbeat_ns));
    reader.pid = load_relaxed<std::uint32_t>(block, at + offsetof(ReaderRecord, pid));
    reader.state = load_relaxed<std::uint32_t>(block, at + offsetof(ReaderRecord, state));
    reader.gated_on_mask = load_relaxed<std::uint64_t>(block, at + offsetof(ReaderRecord, gated_on_mask));
    // The name is written once per attach, before the record's state says Attached; byte loads
    // keep a concurrent attach a benign race.
    for (std::size_t c = 0; c < kReaderNameBytes; ++c) {
      const auto byte = load_relaxed<std::uint8_t>(block, at + offsetof(ReaderRecord, name) + c);
      if (byte == 0) break;
      reader.name.push_back(static_cast<char>(byte));
    }
  }
  s.write_seq = load_acquire<std::uint64_t>(block, offsetof(RingLaneHeader, write_seq));
  s.closed = load_relaxed<std::uint32_t>(block, offsetof(RingLaneHeader, closed));
  s.eviction_count = load_relaxed<std::uint64_t>(block, offsetof(RingLaneHeader, eviction_count));
  s.producer_pid = load_relaxed<std::uint32_t>(block, offsetof(RingLaneHeader, producer_pid));
  return s;
}

std::optional<Error> check_ring_lane_state(std::uint32_t lane_index, const LaneDescriptor& lane,
                                           const RingLaneSnapshot& state) {
  if (state.closed > 1) {
    return fail(ErrorCode::LaneStateCorrupt, lane_index, "closed", state.closed, "is not 0 or 1");
  }
  if (state.write_seq > kSeqLimit) return seq_limit_failure(lane_index, state.write_seq);
  const bool block = lane.on_full == static_cast<std::uint32_t>(OnFull::Block);
  const bool journal = lane.kind == static_cast<std::uint32_t>(LaneKind::Journal);
  for (std::uint32_t r = 0; r < state.readers.size(); ++r) {
    const RingReaderSnapshot& reader = state.readers[r];
    const std::string who = "reader " + std::to_string(r) + " ";
    if (reader.state > kReaderStateMax) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index, who + "state", reader.state,
                  "is not 0 (free), 1 (attached), 2 (evicted) or 3 (detached)");
    }
    if (!journal && (reader.state == kReaderEvicted || reader.state == kReaderDetached)) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index, who + "state", reader.state,
                  "is journal-only (evicted or detached) on a " +
                      std::string(to_string(static_cast<LaneKind>(lane.kind))) + " lane");
    }
    // A Journal attach in progress tags its cursor (layout.md, "Attach ordering"): the value
    // under the tag is a write_seq loaded earlier, or the committed cursor of a resume that is
    // claiming; the writer does not gate on it yet.
    std::uint64_t cursor = reader.cursor_seq;
    const bool attaching = journal && is_attach_tagged(cursor);
    if (attaching) cursor = tagged_value(cursor);
    if (cursor > state.write_seq) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index, who + "cursor_seq", reader.cursor_seq,
                  "is ahead of write_seq " + std::to_string(state.write_seq));
    }
    const bool gates = !journal || (reader.state == kReaderAttached && !attaching);
    if (block && gates && state.write_seq - cursor > lane.capacity_slots) {
      return fail(ErrorCode::LaneStateCorrupt, lane_index, who + "lag (write_seq - cursor_seq)",
                  state.write_seq - cursor,
                  "exceeds capacity_slots " + std::to_string(lane.capacity_slots) + " under block");
    }
  }
  return std::nullopt;
}

}  // namespace indexbus

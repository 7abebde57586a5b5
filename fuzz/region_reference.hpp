// An independent reader of layout v1.0, written from spec/layout.md alone: raw little-endian
// loads at the documented offsets, a bitwise CRC32C and the documented validation order. It
// shares no layout code with core/ (only the ErrorCode vocabulary), so when the fuzzer finds the
// two disagreeing, either the validator or the document is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "indexbus/error.hpp"

namespace indexbus::reference {

// spec/layout.md, "Constants".
inline constexpr std::uint64_t kMagic = 0x5355425845444E49ull;  // "INDEXBUS"
inline constexpr std::uint64_t kHeaderBytes = 128;
inline constexpr std::uint64_t kDescriptorBytes = 64;
inline constexpr std::uint64_t kEventsHeaderBytes = 256;
inline constexpr std::uint64_t kSlotHeaderBytes = 16;
inline constexpr std::uint32_t kLaneCountMax = 64;
inline constexpr std::uint32_t kCapacityMax = 1u << 24;
inline constexpr std::uint32_t kSlotBytesMax = 1u << 20;
inline constexpr std::uint64_t kRingHeaderBytes = 256;
inline constexpr std::uint64_t kReaderRecordBytes = 128;
inline constexpr std::uint32_t kReaderCountMax = 64;

// spec/layout.md, "RegionHeader" and "LaneDescriptor": byte offsets.
namespace header_at {
inline constexpr std::size_t magic = 0, version_major = 8, version_minor = 10, header_bytes = 12,
                             region_bytes = 16, lane_count = 24, lane_table_offset = 28,
                             lane_descriptor_bytes = 32, creator_pid = 36, creation_id = 40,
                             reserved0 = 48, flags = 56, checksum = 60, init_state = 64,
                             reserved1 = 68;
}
namespace lane_at {
inline constexpr std::size_t kind = 0, on_full = 4, capacity_slots = 8, slot_payload_bytes = 12,
                             reader_count = 16, reserved0 = 20, block_offset = 24, block_bytes = 32,
                             reader_timeout_ns = 40, reserved1 = 48;
}
// spec/layout.md, "ReaderRecord": the gating mask of reader r sits at
// 256 + r * 128 + gated_on_mask in a ring lane block.
namespace reader_at {
inline constexpr std::size_t cursor_seq = 0, gated_on_mask = 64;
}
// spec/layout.md, "EventsLaneHeader".
namespace events_at {
inline constexpr std::size_t write_seq = 0, closed = 8, consumer_wake_epoch = 12, read_seq = 64,
                             read_count = 72, lost_count = 80, producer_wake_epoch = 88,
                             producer_waiting = 128, consumer_waiting = 132, producer_pid = 192,
                             consumer_pid = 196;
}

// Little-endian loads; the caller has checked that [offset, offset + N) is inside `bytes`.
inline std::uint64_t le(std::span<const std::byte> bytes, std::size_t offset, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint64_t{std::to_integer<std::uint8_t>(bytes[offset + i])} << (8 * i);
  }
  return value;
}
inline std::uint16_t le16(std::span<const std::byte> b, std::size_t o) { return static_cast<std::uint16_t>(le(b, o, 2)); }
inline std::uint32_t le32(std::span<const std::byte> b, std::size_t o) { return static_cast<std::uint32_t>(le(b, o, 4)); }
inline std::uint64_t le64(std::span<const std::byte> b, std::size_t o) { return le(b, o, 8); }

inline bool all_zero(std::span<const std::byte> bytes, std::size_t offset, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (bytes[offset + i] != std::byte{0}) return false;
  }
  return true;
}

// CRC32C (Castagnoli), reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF; bitwise.
inline std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::byte> bytes) {
  for (std::byte b : bytes) {
    crc ^= std::to_integer<std::uint8_t>(b);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

// spec/layout.md, "Checksum". Precondition: the lane table is inside the image.
inline std::uint32_t region_checksum(std::span<const std::byte> image) {
  const std::uint32_t table_offset = le32(image, header_at::lane_table_offset);
  const std::uint32_t lane_count = le32(image, header_at::lane_count);
  std::uint32_t crc = 0xFFFFFFFFu;
  crc = crc32c_update(crc, image.subspan(0, 60));
  crc = crc32c_update(crc, image.subspan(table_offset, std::size_t{lane_count} * kDescriptorBytes));
  return crc ^ 0xFFFFFFFFu;
}

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t align) {
  return (value + align - 1) / align * align;
}

// spec/layout.md, "Lane block size".
constexpr std::uint64_t events_block_bytes(std::uint32_t capacity_slots,
                                           std::uint32_t slot_payload_bytes) {
  return round_up(kEventsHeaderBytes + std::uint64_t{capacity_slots} *
                                           (kSlotHeaderBytes + slot_payload_bytes),
                  64);
}

// Journal (2), SequencedSlots (3), FanoutBroadcast (4): RingLaneHeader, reader records, slots.
constexpr std::uint64_t ring_block_bytes(std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                                         std::uint32_t reader_count) {
  return round_up(kRingHeaderBytes + std::uint64_t{reader_count} * kReaderRecordBytes +
                      std::uint64_t{capacity_slots} * (kSlotHeaderBytes + slot_payload_bytes),
                  64);
}

// spec/layout.md, "Gating": only sequenced_slots gates; a mask names existing consumers other
// than its own; no cycle. Depth-first search with colours, not the validator's peeling.
inline bool gating_ok(std::uint32_t kind, std::uint32_t readers, const std::uint64_t* masks) {
  for (std::uint32_t r = 0; r < readers; ++r) {
    if (masks[r] == 0) continue;
    if (kind != 3) return false;
    if (readers < 64 && (masks[r] >> readers) != 0) return false;
    if ((masks[r] >> r) & 1) return false;
  }
  // colour: 0 white, 1 on the stack, 2 done. Iterative DFS, at most readers^2 edge visits.
  std::uint8_t colour[kReaderCountMax] = {};
  std::uint32_t stack[kReaderCountMax];
  std::uint32_t next_edge[kReaderCountMax];
  for (std::uint32_t root = 0; root < readers; ++root) {
    if (colour[root] != 0) continue;
    std::uint32_t depth = 0;
    stack[depth] = root;
    next_edge[depth] = 0;
    colour[root] = 1;
    for (;;) {
      const std::uint32_t node = stack[depth];
      std::uint32_t& j = next_edge[depth];
      while (j < readers && ((masks[node] >> j) & 1) == 0) ++j;
      if (j == readers) {
        colour[node] = 2;
        if (depth == 0) break;
        --depth;
        continue;
      }
      const std::uint32_t to = j++;
      if (colour[to] == 1) return false;
      if (colour[to] == 0) {
        colour[to] = 1;
        ++depth;
        stack[depth] = to;
        next_edge[depth] = 0;
      }
    }
  }
  return true;
}

struct Verdict {
  std::optional<ErrorCode> code;  // nullopt: the image is valid
  std::int64_t lane = -1;         // the lane the failure is reported on, -1 for the header
};

// spec/layout.md, "Validation order": the first failing row, exactly in the documented order.
inline Verdict validate(std::span<const std::byte> image) {
  auto header_fails = [](ErrorCode code) { return Verdict{code, -1}; };
  const std::uint64_t size = image.size();
  if (size < kHeaderBytes) return header_fails(ErrorCode::TooSmall);
  if (le64(image, header_at::magic) != kMagic) return header_fails(ErrorCode::BadMagic);
  if (le16(image, header_at::version_major) != 1) return header_fails(ErrorCode::VersionMismatch);
  if (le32(image, header_at::init_state) != 1) return header_fails(ErrorCode::NotReady);
  if (le32(image, header_at::header_bytes) != kHeaderBytes) return header_fails(ErrorCode::BadHeaderBytes);
  if (le64(image, header_at::region_bytes) != size) return header_fails(ErrorCode::RegionSizeMismatch);
  const std::uint32_t lane_count = le32(image, header_at::lane_count);
  if (lane_count < 1 || lane_count > kLaneCountMax) return header_fails(ErrorCode::BadLaneCount);
  if (le32(image, header_at::lane_descriptor_bytes) != kDescriptorBytes) {
    return header_fails(ErrorCode::BadDescriptorBytes);
  }
  const std::uint64_t table_offset = le32(image, header_at::lane_table_offset);
  const std::uint64_t table_end = table_offset + round_up(lane_count * kDescriptorBytes, 64);
  if (table_offset < kHeaderBytes || table_offset % 64 != 0 || table_end > size) {
    return header_fails(ErrorCode::BadLaneTableOffset);
  }
  if (le64(image, header_at::reserved0) != 0) return header_fails(ErrorCode::ReservedNotZero);
  if (!all_zero(image, header_at::reserved1, 60)) return header_fails(ErrorCode::ReservedNotZero);
  if (le32(image, header_at::flags) != 0) return header_fails(ErrorCode::BadFlags);

  std::uint64_t offsets[kLaneCountMax] = {};
  std::uint64_t lengths[kLaneCountMax] = {};
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    const std::size_t d = table_offset + std::size_t{i} * kDescriptorBytes;
    auto lane_fails = [i](ErrorCode code) { return Verdict{code, i}; };
    const std::uint32_t kind = le32(image, d + lane_at::kind);
    const std::uint32_t on_full = le32(image, d + lane_at::on_full);
    const std::uint32_t capacity = le32(image, d + lane_at::capacity_slots);
    const std::uint32_t slot_bytes = le32(image, d + lane_at::slot_payload_bytes);
    if (kind < 1 || kind > 4) return lane_fails(ErrorCode::BadLaneKind);
    if (on_full != 1 && on_full != 2) return lane_fails(ErrorCode::BadOnFull);
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || capacity > kCapacityMax) {
      return lane_fails(ErrorCode::BadCapacity);
    }
    if (slot_bytes < 8 || slot_bytes > kSlotBytesMax || slot_bytes % 8 != 0) {
      return lane_fails(ErrorCode::BadSlotBytes);
    }
    const std::uint32_t readers = le32(image, d + lane_at::reader_count);
    if (kind == 1 ? readers != 1 : (readers < 1 || readers > kReaderCountMax)) {
      return lane_fails(ErrorCode::BadReaderCount);
    }
    if (kind != 2 && le64(image, d + lane_at::reader_timeout_ns) != 0) {
      return lane_fails(ErrorCode::BadReaderTimeout);
    }
    if (le32(image, d + lane_at::reserved0) != 0) return lane_fails(ErrorCode::ReservedNotZero);
    if (!all_zero(image, d + lane_at::reserved1, 16)) return lane_fails(ErrorCode::ReservedNotZero);
    const std::uint64_t block_offset = le64(image, d + lane_at::block_offset);
    const std::uint64_t block_bytes = le64(image, d + lane_at::block_bytes);
    if (block_offset % 64 != 0) return lane_fails(ErrorCode::BlockMisaligned);
    const std::uint64_t expected_bytes =
        kind == 1 ? events_block_bytes(capacity, slot_bytes) : ring_block_bytes(capacity, slot_bytes, readers);
    if (block_bytes != expected_bytes) return lane_fails(ErrorCode::BadBlockBytes);
    if (block_offset < table_end || block_offset > size || block_bytes > size - block_offset) {
      return lane_fails(ErrorCode::BlockOutOfBounds);
    }
    offsets[i] = block_offset;
    lengths[i] = block_bytes;
  }
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    for (std::uint32_t j = i + 1; j < lane_count; ++j) {
      if (offsets[i] < offsets[j] + lengths[j] && offsets[j] < offsets[i] + lengths[i]) {
        return Verdict{ErrorCode::BlocksOverlap, j};
      }
    }
  }
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    const std::size_t d = table_offset + std::size_t{i} * kDescriptorBytes;
    const std::uint32_t kind = le32(image, d + lane_at::kind);
    if (kind == 1) continue;
    const std::uint32_t readers = le32(image, d + lane_at::reader_count);
    std::uint64_t masks[kReaderCountMax] = {};
    for (std::uint32_t r = 0; r < readers; ++r) {
      masks[r] = le64(image, offsets[i] + kRingHeaderBytes + r * kReaderRecordBytes + reader_at::gated_on_mask);
    }
    if (!gating_ok(kind, readers, masks)) return Verdict{ErrorCode::BadGating, i};
  }
  if (region_checksum(image) != le32(image, header_at::checksum)) {
    return header_fails(ErrorCode::ChecksumMismatch);
  }
  return Verdict{};
}

// The mutable words of an Events lane (spec/layout.md, "EventsLaneHeader").
struct EventsState {
  std::uint64_t write_seq, read_seq, read_count, lost_count;
  std::uint32_t closed;
};
inline EventsState events_state(std::span<const std::byte> block) {
  return EventsState{le64(block, events_at::write_seq), le64(block, events_at::read_seq),
                     le64(block, events_at::read_count), le64(block, events_at::lost_count),
                     le32(block, events_at::closed)};
}

// spec/layout.md, "Lane state check".
// "Sequence numbers": no write_seq above 2^62 - 1 (so 2 * write_seq + 1 below cannot wrap, and no
// sequence number has the attach tag bits 62 and 63).
inline constexpr std::uint64_t kSeqLimit = (std::uint64_t{1} << 62) - 1;

inline bool events_state_ok(const EventsState& s, std::uint32_t on_full, std::uint32_t capacity) {
  if (s.closed > 1) return false;
  if (s.write_seq > kSeqLimit) return false;
  if (s.read_seq > s.write_seq) return false;
  // As integers, not modulo 2^64 (fuzz/corpus regress_lane1_counters_wrap).
  if (s.read_count > s.read_seq || s.lost_count != s.read_seq - s.read_count) return false;
  if (on_full == 1 && s.write_seq - s.read_seq > capacity) return false;
  if (on_full == 1 && s.lost_count != 0) return false;
  return true;
}

// spec/layout.md, "Lane state check", slot rules: stamps at most 2 * write_seq + 1, lengths at
// most S. `block` spans the whole lane block.
inline bool events_slots_ok(std::span<const std::byte> block, std::uint32_t capacity,
                            std::uint32_t slot_bytes, std::uint64_t write_seq) {
  if (write_seq > kSeqLimit) return false;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    const std::size_t slot = 256 + i * (16 + std::size_t{slot_bytes});
    if (le64(block, slot) > 2 * write_seq + 1) return false;
    if (le32(block, slot + 8) > slot_bytes) return false;
  }
  return true;
}

// spec/layout.md, "Lane state check (ring lanes)", from the raw bytes of a ring lane block.
inline bool ring_state_ok(std::span<const std::byte> block, std::uint32_t kind, std::uint32_t on_full,
                          std::uint32_t capacity, std::uint32_t readers) {
  const std::uint64_t write_seq = le64(block, 0);
  if (le32(block, 8) > 1) return false;  // closed
  if (write_seq > kSeqLimit) return false;
  for (std::uint32_t r = 0; r < readers; ++r) {
    const std::size_t record = kRingHeaderBytes + std::size_t{r} * kReaderRecordBytes;
    std::uint64_t cursor = le64(block, record + reader_at::cursor_seq);
    const std::uint32_t state = le32(block, record + 36);
    if (state > 3) return false;
    if (kind != 2 && state >= 2) return false;
    // Journal attach tags: bit 63 set is an attach under way (bit 62 too: claiming), and the
    // value under the tag is its low 62 bits. The record does not gate yet.
    constexpr std::uint64_t kProvisional = std::uint64_t{1} << 63;
    const bool attaching = kind == 2 && (cursor & kProvisional) != 0;
    if (attaching) cursor &= (std::uint64_t{1} << 62) - 1;
    if (cursor > write_seq) return false;
    const bool gates = kind != 2 || (state == 1 && !attaching);
    if (on_full == 1 && gates && write_seq - cursor > capacity) return false;
  }
  return true;
}

// The slot rules, for slots starting at `slots_offset` of the block.
inline bool slots_ok(std::span<const std::byte> block, std::size_t slots_offset, std::uint32_t capacity,
                     std::uint32_t slot_bytes, std::uint64_t write_seq) {
  if (write_seq > kSeqLimit) return false;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    const std::size_t slot = slots_offset + i * (kSlotHeaderBytes + std::size_t{slot_bytes});
    if (le64(block, slot) > 2 * write_seq + 1) return false;
    if (le32(block, slot + 8) > slot_bytes) return false;
  }
  return true;
}

// The field a validation message must name first (after "<where>: "), per error code.
inline std::string_view field_named_by(ErrorCode code) {
  switch (code) {
    case ErrorCode::TooSmall: return "file size";
    case ErrorCode::BadMagic: return "magic";
    case ErrorCode::VersionMismatch: return "version_major";
    case ErrorCode::NotReady: return "init_state";
    case ErrorCode::BadHeaderBytes: return "header_bytes";
    case ErrorCode::RegionSizeMismatch: return "region_bytes";
    case ErrorCode::BadLaneCount: return "lane_count";
    case ErrorCode::BadDescriptorBytes: return "lane_descriptor_bytes";
    case ErrorCode::BadLaneTableOffset: return "lane_table_offset";
    case ErrorCode::ReservedNotZero: return "reserved";
    case ErrorCode::BadFlags: return "flags";
    case ErrorCode::ChecksumMismatch: return "checksum";
    case ErrorCode::BadLaneKind: return "kind";
    case ErrorCode::UnsupportedLaneKind: return "kind";
    case ErrorCode::BadOnFull: return "on_full";
    case ErrorCode::BadCapacity: return "capacity_slots";
    case ErrorCode::BadSlotBytes: return "slot_payload_bytes";
    case ErrorCode::BadReaderCount: return "reader_count";
    case ErrorCode::BadReaderTimeout: return "reader_timeout_ns";
    case ErrorCode::BadGating: return "reader";
    case ErrorCode::BlockMisaligned: return "block_offset";
    case ErrorCode::BadBlockBytes: return "block_bytes";
    case ErrorCode::BlockOutOfBounds: return "block_offset";
    case ErrorCode::BlocksOverlap: return "block_offset";
    default: return {};
  }
}

// "region header: " or "lane <i>: ", the prefix every validation message starts with.
inline std::string where_prefix(std::int64_t lane) {
  return lane < 0 ? std::string("region header: ") : "lane " + std::to_string(lane) + ": ";
}

}  // namespace indexbus::reference

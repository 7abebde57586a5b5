// IndexBus v1 layout vocabulary: the enums and limits that the byte layout, the lanes, the spec
// model and foreign implementations all share. This header is the only part of core/ that spec/
// may include; it holds no algorithm.
#pragma once

#include <cstdint>
#include <string_view>

namespace indexbus {

inline constexpr std::uint16_t kLayoutVersionMajor = 1;
inline constexpr std::uint16_t kLayoutVersionMinor = 0;

enum class LaneKind : std::uint32_t {
  Events = 1,
  Journal = 2,
  SequencedSlots = 3,
  FanoutBroadcast = 4,
};

enum class OnFull : std::uint32_t {
  Block = 1,  // the producer waits for space (or its deadline)
  Drop = 2,   // the oldest entry is overwritten; readers detect and report the loss
};

// Limits of a lane descriptor (spec/layout.md, REG-5).
inline constexpr std::uint32_t kCapacitySlotsMin = 1;
inline constexpr std::uint32_t kCapacitySlotsMax = 1u << 24;
inline constexpr std::uint32_t kSlotPayloadBytesMin = 8;
inline constexpr std::uint32_t kSlotPayloadBytesMax = 1u << 20;
inline constexpr std::uint32_t kSlotPayloadBytesAlign = 8;
inline constexpr std::uint32_t kLaneCountMax = 64;
// Readers of a ring lane (Journal readers, SequencedSlots and FanoutBroadcast consumers).
inline constexpr std::uint32_t kReaderCountMax = 64;
// A Journal reader's attach name: at most this many bytes, NUL-padded in the record.
inline constexpr std::uint32_t kReaderNameBytes = 32;

// Results of lane operations, shared by the lanes and the model so that they can be compared.
enum class WriteStatus : std::uint8_t {
  Ok = 0,
  Full = 1,      // try_write under Block with no free slot
  Timeout = 2,   // write under Block: the deadline passed with no free slot
  Closed = 3,    // the producer closed the lane earlier
  TooLarge = 4,  // payload longer than the lane's slot payload bytes
};

enum class ReadStatus : std::uint8_t {
  Entry = 0,    // an entry was copied out
  Empty = 1,    // nothing to read now
  Lost = 2,     // entries were overwritten before this consumer read them (Drop); count given
  Closed = 3,   // the lane is closed and drained
  Timeout = 4,  // read: the deadline passed with nothing to read
  Evicted = 5,  // Journal: this reader was evicted for silence, or read_at(seq) of an overwritten entry
  NotYet = 6,   // Journal read_at(seq): seq has not been written yet
};

constexpr std::string_view to_string(LaneKind kind) noexcept {
  switch (kind) {
    case LaneKind::Events: return "events";
    case LaneKind::Journal: return "journal";
    case LaneKind::SequencedSlots: return "sequenced_slots";
    case LaneKind::FanoutBroadcast: return "fanout_broadcast";
  }
  return "unknown";
}

constexpr std::string_view to_string(OnFull on_full) noexcept {
  switch (on_full) {
    case OnFull::Block: return "block";
    case OnFull::Drop: return "drop";
  }
  return "unknown";
}

constexpr std::string_view to_string(WriteStatus status) noexcept {
  switch (status) {
    case WriteStatus::Ok: return "Ok";
    case WriteStatus::Full: return "Full";
    case WriteStatus::Timeout: return "Timeout";
    case WriteStatus::Closed: return "Closed";
    case WriteStatus::TooLarge: return "TooLarge";
  }
  return "unknown";
}

constexpr std::string_view to_string(ReadStatus status) noexcept {
  switch (status) {
    case ReadStatus::Entry: return "Entry";
    case ReadStatus::Empty: return "Empty";
    case ReadStatus::Lost: return "Lost";
    case ReadStatus::Closed: return "Closed";
    case ReadStatus::Timeout: return "Timeout";
    case ReadStatus::Evicted: return "Evicted";
    case ReadStatus::NotYet: return "NotYet";
  }
  return "unknown";
}

constexpr bool is_power_of_two(std::uint64_t value) noexcept {
  return value != 0 && (value & (value - 1)) == 0;
}

}  // namespace indexbus

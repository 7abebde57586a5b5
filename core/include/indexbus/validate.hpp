// Validation of a region image. Every field is checked before any offset in it is trusted, so no
// input, however corrupt, makes the validator read outside the image (fuzz/region_header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "indexbus/error.hpp"
#include "indexbus/layout.hpp"

namespace indexbus {

// What a creator asks for; also the shape a descriptor must have (REG-5).
struct LaneSpec {
  LaneKind kind = LaneKind::Events;
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 1024;
  std::uint32_t slot_payload_bytes = 64;
  std::uint32_t reader_count = 1;
  // Journal only: a reader silent this long is evicted by the writer; 0 = never.
  std::uint64_t reader_timeout_ns = 0;
  // SequencedSlots only: gated_on[i] bit j set = consumer i reads s only after consumer j has
  // finished s. Empty = no gating (every consumer reads straight behind the producer).
  std::vector<std::uint64_t> gated_on;

  friend bool operator==(const LaneSpec&, const LaneSpec&) = default;
};

// Kinds this build implements (all four v1 kinds).
constexpr bool lane_kind_supported(LaneKind kind) noexcept {
  return kind == LaneKind::Events || is_ring_kind(kind);
}

// Range checks of one lane's parameters, with the raw values as found in a descriptor.
std::optional<Error> check_lane_fields(std::uint32_t lane_index, std::uint32_t kind,
                                       std::uint32_t on_full, std::uint32_t capacity_slots,
                                       std::uint32_t slot_payload_bytes, std::uint32_t reader_count,
                                       std::uint64_t reader_timeout_ns);
// The gating graph of a ring lane (masks[i] = ReaderRecord[i].gated_on_mask): only
// SequencedSlots may gate; a mask names only existing consumers, never itself, and the graph has
// no cycle (SS-3). Names the first consumer on a cycle.
std::optional<Error> check_gating(std::uint32_t lane_index, LaneKind kind, std::uint32_t reader_count,
                                  std::span<const std::uint64_t> masks);
inline std::optional<Error> check_lane_spec(std::uint32_t lane_index, const LaneSpec& spec) {
  if (auto error = check_lane_fields(lane_index, static_cast<std::uint32_t>(spec.kind),
                                     static_cast<std::uint32_t>(spec.on_full), spec.capacity_slots,
                                     spec.slot_payload_bytes, spec.reader_count,
                                     spec.reader_timeout_ns)) {
    return error;
  }
  if (!spec.gated_on.empty() && spec.gated_on.size() != spec.reader_count) {
    return Error{ErrorCode::BadGating, "lane " + std::to_string(lane_index) + ": gated_on has " +
                                           std::to_string(spec.gated_on.size()) +
                                           " masks; expected none or one per reader (" +
                                           std::to_string(spec.reader_count) + ")"};
  }
  return check_gating(lane_index, spec.kind, spec.reader_count, spec.gated_on);
}

// CRC32C of header bytes [0, 60) followed by the lane table. Precondition: the table lies
// inside the image (validate_region_image checks that first).
std::uint32_t region_checksum(std::span<const std::byte> image, std::uint32_t lane_table_offset,
                              std::uint32_t lane_count);

// Checks the whole immutable part of an image: header, lane table, every descriptor, block
// bounds and overlap, and the checksum. Returns the first failure. The header is read with plain
// copies: once init_state is Ready it never changes.
std::optional<Error> validate_region_image(std::span<const std::byte> image);

// A consistent-enough copy of an Events lane's mutable words, read with relaxed atomic loads.
struct EventsLaneSnapshot {
  std::uint64_t write_seq = 0;
  std::uint32_t closed = 0;
  std::uint64_t read_seq = 0;
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;
  std::uint32_t producer_pid = 0;
  std::uint32_t consumer_pid = 0;
};
EventsLaneSnapshot snapshot_events_lane(const std::byte* block);

// Invariants of an Events lane at quiescence (EV-11): read_seq <= write_seq,
// read_seq = read_count + lost_count, under Block write_seq - read_seq <= capacity, closed in {0,1}.
std::optional<Error> check_events_lane_state(std::uint32_t lane_index, const LaneDescriptor& lane,
                                             const EventsLaneSnapshot& state);

// The slots of an Events lane (REG-11): no slot stamp may claim an entry the producer has not
// begun, i.e. every stamp is at most 2 * write_seq + 1 (entry write_seq being written, Drop), and
// every payload_bytes at most slot_payload_bytes. A Block consumer learns of entries from stamps
// alone, so a stamp "from the future" would deliver an entry that was never written.
// `block` is the whole lane block (lane.block_bytes bytes); O(capacity_slots).
std::optional<Error> check_events_slots(std::uint32_t lane_index, const LaneDescriptor& lane,
                                        const std::byte* block, std::uint64_t write_seq);

// A consistent-enough copy of a ring lane's mutable words (Journal, SequencedSlots,
// FanoutBroadcast), read with relaxed/acquire atomic loads: readers first, producer last.
struct RingReaderSnapshot {
  std::uint64_t cursor_seq = 0;
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;
  std::uint64_t heartbeat_ns = 0;
  std::uint32_t pid = 0;
  std::uint32_t state = 0;
  std::uint64_t gated_on_mask = 0;
  std::string name;  // up to the first NUL of the 32 name bytes
};
struct RingLaneSnapshot {
  std::uint64_t write_seq = 0;
  std::uint32_t closed = 0;
  std::uint64_t eviction_count = 0;
  std::uint32_t producer_pid = 0;
  std::vector<RingReaderSnapshot> readers;  // reader_count entries
};
// `block` is a validated ring lane block of a lane with reader_count readers.
RingLaneSnapshot snapshot_ring_lane(const std::byte* block, std::uint32_t reader_count);

// Invariants of a ring lane at quiescence (REG-11): closed in {0, 1}; every reader state a known
// value; no cursor ahead of write_seq; under Block, no gating reader (every reader of
// SequencedSlots and FanoutBroadcast, the attached ones of a Journal) more than capacity behind.
std::optional<Error> check_ring_lane_state(std::uint32_t lane_index, const LaneDescriptor& lane,
                                           const RingLaneSnapshot& state);

// The slots of a ring lane, as check_events_slots: no stamp from the future, no over-long length.
std::optional<Error> check_ring_slots(std::uint32_t lane_index, const LaneDescriptor& lane,
                                      const std::byte* block, std::uint64_t write_seq);

}  // namespace indexbus

// The validator: a valid image passes, and every corrupt image is rejected with its own code and
// a message naming the field, the value found and what was allowed (REG-4, REG-5, REG-6).
#include "indexbus/validate.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>
#include <vector>

#include "indexbus/region.hpp"

#include "region_images.hpp"

namespace indexbus {
namespace {

TEST(Validate, ValidImagePasses) {
  const auto image = testing::valid_region_image({{LaneKind::Events, OnFull::Block, 1, 8, 1},
                                                  {LaneKind::Events, OnFull::Drop, 1u << 10, 1024, 1}});
  ASSERT_FALSE(image.empty());
  const auto error = validate_region_image(image);
  EXPECT_FALSE(error.has_value()) << error->message;
}

TEST(Validate, EveryCorruptImageGetsItsSpecificError) {
  const auto images = testing::corrupt_region_images();
  ASSERT_GE(images.size(), 25u);
  std::set<ErrorCode> codes_seen;
  for (const auto& corrupt : images) {
    const auto error = validate_region_image(corrupt.bytes);
    ASSERT_TRUE(error.has_value()) << corrupt.name << " was accepted";
    EXPECT_EQ(error->code, corrupt.expected)
        << corrupt.name << ": got " << to_string(error->code) << ": " << error->message;
    EXPECT_FALSE(error->message.empty());
    codes_seen.insert(error->code);
  }
  EXPECT_GE(codes_seen.size(), 20u);
}

TEST(Validate, MessageNamesFieldValueAndRange) {
  for (const auto& corrupt : testing::corrupt_region_images()) {
    if (corrupt.name != "lane0_capacity_3") continue;
    const auto error = validate_region_image(corrupt.bytes);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->message, "lane 0: capacity_slots 3 is not a power of two in [1, 16777216]");
    return;
  }
  FAIL() << "lane0_capacity_3 missing from the corrupt images";
}

TEST(Validate, MessagesShowReservedBytesAndHexMagic) {
  for (const auto& corrupt : testing::corrupt_region_images()) {
    const auto error = validate_region_image(corrupt.bytes);
    ASSERT_TRUE(error.has_value());
    if (corrupt.name == "reserved1_set") {
      EXPECT_EQ(error->message, "region header: reserved1 byte 100 is 0x01; expected all of bytes 68..127 to be 0");
    }
    if (corrupt.name == "bad_magic") {
      EXPECT_EQ(error->message,
                "region header: magic 0x4b4e554a is not 0x5355425845444e49 (\"INDEXBUS\" little-endian)");
    }
  }
}

TEST(Validate, LaneSpecLimits) {
  EXPECT_FALSE(check_lane_spec(0, {LaneKind::Events, OnFull::Block, 1u << 24, 1u << 20, 1}));
  EXPECT_EQ(check_lane_spec(0, {LaneKind::Events, OnFull::Block, 0, 8, 1})->code, ErrorCode::BadCapacity);
  EXPECT_EQ(check_lane_spec(0, {LaneKind::Events, OnFull::Block, 4, (1u << 20) + 8, 1})->code,
            ErrorCode::BadSlotBytes);
  EXPECT_EQ(check_lane_spec(3, {LaneKind::Events, static_cast<OnFull>(0), 4, 8, 1})->message,
            "lane 3: on_full 0 is not 1 (block) or 2 (drop)");
}

TEST(Validate, RingLaneReaderCountsAndTimeout) {  // REG-5
  for (LaneKind kind : {LaneKind::Journal, LaneKind::SequencedSlots, LaneKind::FanoutBroadcast}) {
    EXPECT_FALSE(check_lane_spec(0, {kind, OnFull::Block, 4, 8, 1}));
    EXPECT_FALSE(check_lane_spec(0, {kind, OnFull::Drop, 4, 8, kReaderCountMax}));
    EXPECT_EQ(check_lane_spec(0, {kind, OnFull::Block, 4, 8, 0})->code, ErrorCode::BadReaderCount);
    EXPECT_EQ(check_lane_spec(0, {kind, OnFull::Block, 4, 8, 65})->message,
              "lane 0: reader_count 65 is not in [1, 64]");
  }
  EXPECT_FALSE(check_lane_spec(0, {LaneKind::Journal, OnFull::Block, 4, 8, 2, 1'000'000}));
  EXPECT_EQ(check_lane_spec(1, {LaneKind::FanoutBroadcast, OnFull::Block, 4, 8, 2, 7})->message,
            "lane 1: reader_timeout_ns 7 is not 0 (only a journal lane has a reader timeout)");
}

TEST(Validate, GatingMustBeAcyclicAndInRange) {  // SS-3: the gating graph
  const auto ss = [](std::vector<std::uint64_t> masks) {
    const auto readers = static_cast<std::uint32_t>(masks.size());
    return LaneSpec{LaneKind::SequencedSlots, OnFull::Block, 4, 8, readers, 0, std::move(masks)};
  };
  EXPECT_FALSE(check_lane_spec(0, ss({0, 0b1, 0b10})));         // pipeline 0 -> 1 -> 2
  EXPECT_FALSE(check_lane_spec(0, ss({0, 0b1, 0b1, 0b110})));   // diamond
  EXPECT_EQ(check_lane_spec(0, ss({0, 0b10}))->message,
            "lane 0: reader 1 gated_on_mask 0x2 gates consumer 1 on itself");
  EXPECT_EQ(check_lane_spec(0, ss({0b100, 0}))->message,
            "lane 0: reader 0 gated_on_mask 0x4 names a consumer >= reader_count 2");
  EXPECT_EQ(check_lane_spec(2, ss({0b10, 0b1, 0}))->message,
            "lane 2: reader 0 gated_on_mask 0x2 is part of (or waits on) a gating cycle; the gating "
            "graph must be acyclic");
  // A consumer downstream of a cycle is reported only after the cycle's first member.
  EXPECT_EQ(check_lane_spec(0, ss({0, 0b100, 0b10, 0b10}))->code, ErrorCode::BadGating);
  EXPECT_EQ(check_lane_spec(0, LaneSpec{LaneKind::FanoutBroadcast, OnFull::Block, 4, 8, 2, 0, {0, 1}})->message,
            "lane 0: reader 1 gated_on_mask 0x1 is not 0 (only a sequenced_slots lane gates its consumers)");
  EXPECT_EQ(check_lane_spec(0, LaneSpec{LaneKind::SequencedSlots, OnFull::Block, 4, 8, 3, 0, {0, 1}})->code,
            ErrorCode::BadGating);
  // 64 consumers in one long pipeline: the largest graph, still accepted.
  std::vector<std::uint64_t> chain(kReaderCountMax, 0);
  for (std::uint32_t i = 1; i < kReaderCountMax; ++i) chain[i] = std::uint64_t{1} << (i - 1);
  EXPECT_FALSE(check_lane_spec(0, ss(chain)));
  chain[0] = std::uint64_t{1} << 63;  // closes the ring
  EXPECT_EQ(check_lane_spec(0, ss(chain))->code, ErrorCode::BadGating);
  // Creation refuses a cycle too, before any file exists.
  const std::vector<LaneSpec> lanes{ss({0b10, 0b1})};
  EXPECT_EQ(plan_region(lanes).error().code, ErrorCode::BadGating);
}

TEST(Validate, RingLaneStateInvariants) {  // REG-11 for ring lanes
  LaneDescriptor lane{};
  lane.kind = static_cast<std::uint32_t>(LaneKind::FanoutBroadcast);
  lane.on_full = static_cast<std::uint32_t>(OnFull::Block);
  lane.capacity_slots = 4;
  lane.reader_count = 2;
  RingLaneSnapshot ok;
  ok.write_seq = 10;
  ok.readers.resize(2);
  ok.readers[0].cursor_seq = 6;
  ok.readers[1].cursor_seq = 10;
  EXPECT_FALSE(check_ring_lane_state(0, lane, ok));
  auto with = [&](auto edit) {
    RingLaneSnapshot s = ok;
    edit(s);
    const auto error = check_ring_lane_state(2, lane, s);
    return error ? error->message : std::string("accepted");
  };
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.closed = 2; }), "lane 2: closed 2 is not 0 or 1");
  // layout.md "Sequence numbers": 2^62 - 1 at most; beyond, cursors and stamps near 2^63 would wrap.
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.write_seq = kSeqLimit; s.readers[0].cursor_seq = kSeqLimit - 4; s.readers[1].cursor_seq = kSeqLimit; }),
            "accepted");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.write_seq = kSeqLimit + 1; s.readers[0].cursor_seq = kSeqLimit; s.readers[1].cursor_seq = kSeqLimit; }),
            "lane 2: write_seq 4611686018427387904 exceeds 4611686018427387903 (2^62 - 1), the largest sequence number of a v1 lane");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[1].state = 4; }),
            "lane 2: reader 1 state 4 is not 0 (free), 1 (attached), 2 (evicted) or 3 (detached)");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].state = kReaderEvicted; }),
            "lane 2: reader 0 state 2 is journal-only (evicted or detached) on a fanout_broadcast lane");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[1].cursor_seq = 11; }),
            "lane 2: reader 1 cursor_seq 11 is ahead of write_seq 10");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = 5; }),
            "lane 2: reader 0 lag (write_seq - cursor_seq) 5 exceeds capacity_slots 4 under block");
  // A Journal's detached reader does not gate, so its lag is no inconsistency.
  lane.kind = static_cast<std::uint32_t>(LaneKind::Journal);
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = 0; s.readers[0].state = kReaderDetached; }),
            "accepted");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = 0; s.readers[0].state = kReaderAttached; }),
            "lane 2: reader 0 lag (write_seq - cursor_seq) 10 exceeds capacity_slots 4 under block");
  // Attach tags (layout.md, "Attach ordering"): the value under a tag is checked against
  // write_seq, and a tagged record does not gate yet.
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = claiming_cursor(0); s.readers[0].state = kReaderAttached; }),
            "accepted");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = claiming_cursor(3); s.readers[0].state = kReaderDetached; }),
            "accepted");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = kCursorProvisional | 2; s.readers[0].state = kReaderAttached; }),
            "accepted");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = claiming_cursor(11); }),
            "lane 2: reader 0 cursor_seq 13835058055282163723 is ahead of write_seq 10");
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = kCursorClaiming | 3; }),  // bit 62 alone: no tag
            "lane 2: reader 0 cursor_seq 4611686018427387907 is ahead of write_seq 10");
  lane.on_full = static_cast<std::uint32_t>(OnFull::Drop);
  EXPECT_EQ(with([](RingLaneSnapshot& s) { s.readers[0].cursor_seq = 0; s.readers[0].state = kReaderAttached; }),
            "accepted");
}

TEST(Validate, RingSnapshotReadsTheDocumentedBytes) {
  const auto image = testing::valid_region_image(
      {{LaneKind::Journal, OnFull::Block, 4, 8, 2, 1000}});
  ASSERT_FALSE(image.empty());
  std::vector<std::byte> copy = image;
  const auto lane = [&] {
    LaneDescriptor d;
    std::memcpy(&d, copy.data() + sizeof(RegionHeader), sizeof(d));
    return d;
  }();
  std::byte* block = copy.data() + lane.block_offset;
  auto* records = reinterpret_cast<ReaderRecord*>(block + sizeof(RingLaneHeader));
  reinterpret_cast<RingLaneHeader*>(block)->write_seq = 3;
  records[1].cursor_seq = 2;
  records[1].state = kReaderAttached;
  records[1].pid = 77;
  std::memcpy(records[1].name, "audit", 5);
  const RingLaneSnapshot s = snapshot_ring_lane(block, lane.reader_count);
  EXPECT_EQ(s.write_seq, 3u);
  ASSERT_EQ(s.readers.size(), 2u);
  EXPECT_EQ(s.readers[1].cursor_seq, 2u);
  EXPECT_EQ(s.readers[1].pid, 77u);
  EXPECT_EQ(s.readers[1].name, "audit");
  EXPECT_FALSE(check_ring_lane_state(0, lane, s));
  // A stamp from the future in a ring slot is caught as for Events.
  auto* slot0 = reinterpret_cast<SlotHeader*>(block + ring_slots_offset(lane.reader_count));
  slot0->stamp = 2 * 3 + 2;
  EXPECT_EQ(check_ring_slots(0, lane, block, 3)->message,
            "lane 0: slot 0 stamp 8 is ahead of write_seq 3 (at most 7)");
}

TEST(Validate, EventsLaneStateInvariants) {
  LaneDescriptor lane{};
  lane.on_full = static_cast<std::uint32_t>(OnFull::Block);
  lane.capacity_slots = 4;
  EventsLaneSnapshot ok{10, 1, 8, 8, 0, 0, 0};
  EXPECT_FALSE(check_events_lane_state(0, lane, ok));
  auto ahead = ok;
  ahead.read_seq = 11;
  EXPECT_EQ(check_events_lane_state(0, lane, ahead)->code, ErrorCode::LaneStateCorrupt);
  auto over = ok;
  over.write_seq = 13;
  EXPECT_EQ(check_events_lane_state(0, lane, over)->code, ErrorCode::LaneStateCorrupt);
  auto counts = ok;
  counts.read_count = 7;
  EXPECT_EQ(check_events_lane_state(0, lane, counts)->code, ErrorCode::LaneStateCorrupt);
  auto closed = ok;
  closed.closed = 2;
  EXPECT_EQ(check_events_lane_state(0, lane, closed)->code, ErrorCode::LaneStateCorrupt);
  auto wrapped = ok;  // 5 + (2^64 - 1) wraps to 4 = read_seq: must still be rejected
  wrapped.read_seq = 4;
  wrapped.read_count = 5;
  wrapped.lost_count = ~std::uint64_t{0};
  EXPECT_EQ(check_events_lane_state(0, lane, wrapped)->code, ErrorCode::LaneStateCorrupt);
  auto lost = ok;
  lost.lost_count = 1;
  lost.read_count = 7;
  EXPECT_EQ(check_events_lane_state(0, lane, lost)->code, ErrorCode::LaneStateCorrupt);
  // layout.md "Sequence numbers": 2^62 - 1 at most. Near 2^64 every other rule here passes a lane
  // whose consumer would read phantom entries (stamps 2s + 2 wrap).
  const EventsLaneSnapshot at_limit{kSeqLimit, 0, kSeqLimit - 2, kSeqLimit - 2, 0, 0, 0};
  EXPECT_FALSE(check_events_lane_state(0, lane, at_limit));
  const EventsLaneSnapshot near_wrap{~std::uint64_t{0} - 1, 0, ~std::uint64_t{0} - 3, ~std::uint64_t{0} - 3, 0, 0, 0};
  const auto error = check_events_lane_state(1, lane, near_wrap);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, ErrorCode::LaneStateCorrupt);
  EXPECT_NE(error->message.find("lane 1: write_seq 18446744073709551614 exceeds 4611686018427387903 (2^62 - 1)"), std::string::npos)
      << error->message;
}

}  // namespace
}  // namespace indexbus

namespace indexbus {
namespace {

TEST(Validate, EventsSlotsRejectStampsFromTheFutureAndLongLengths) {  // REG-11
  LaneDescriptor lane{};
  lane.on_full = static_cast<std::uint32_t>(OnFull::Block);
  lane.capacity_slots = 4;
  lane.slot_payload_bytes = 8;
  alignas(64) std::array<std::byte, 256 + 4 * 24> block{};
  auto slot_word = [&](std::size_t slot, std::size_t offset) {
    return reinterpret_cast<std::uint64_t*>(block.data() + 256 + slot * 24 + offset);
  };
  EXPECT_FALSE(check_events_slots(0, lane, block.data(), 0));
  *slot_word(2, 0) = events_stamp_complete(6);  // entry 6 in slot 2: fine once 7 were written
  EXPECT_FALSE(check_events_slots(0, lane, block.data(), 7));
  // With write_seq 6, a complete stamp of entry 6 (14 > 2*6+1) is a phantom entry.
  const auto phantom = check_events_slots(0, lane, block.data(), 6);
  ASSERT_TRUE(phantom.has_value());
  EXPECT_EQ(phantom->code, ErrorCode::LaneStateCorrupt);
  EXPECT_EQ(phantom->message, "lane 0: slot 2 stamp 14 is ahead of write_seq 6 (at most 13)");
  *slot_word(2, 0) = events_stamp_writing(7);  // Drop: entry 7 being written, write_seq 7
  EXPECT_FALSE(check_events_slots(0, lane, block.data(), 7));
  *reinterpret_cast<std::uint32_t*>(slot_word(3, 8)) = 9;
  const auto length = check_events_slots(0, lane, block.data(), 7);
  ASSERT_TRUE(length.has_value());
  EXPECT_EQ(length->message, "lane 0: slot 3 payload_bytes 9 exceeds slot_payload_bytes 8");
}

}  // namespace
}  // namespace indexbus

// Fuzzes the region validator (REG-4 header, REG-5 descriptors, REG-6 checksum) with arbitrary
// bytes, and everything a reader does with an image the validator accepted.
//
// Per input, in a 64-aligned heap copy of exactly the input's size (so ASan sees any read past
// the end, and the lanes' atomics are aligned):
//  1. validate_region_image must agree, code and lane, with fuzz/region_reference.hpp, a reader
//     written from spec/layout.md alone; its message must be one line naming the place and field.
//  2. ChecksumMismatch is the last check, so with the checksum repaired the image must validate.
//     Repairing it also lets mutations of checksummed bytes reach step 3.
//  3. For a valid image: every lane block lies inside the buffer, after the table, with room for
//     its slots; snapshot_events_lane equals plain reads; check_events_lane_state agrees with the
//     reference invariants (EV-11); on a lane it accepts, a few try_read/try_write calls behave
//     as EV-* says, keep the invariants, and write nothing outside the lane's block.
// Any disagreement aborts with a description. Deterministic; never waits; tolerant of any input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "indexbus/error.hpp"
#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/validate.hpp"
#include "region_reference.hpp"

namespace {

using namespace indexbus;
namespace ref = indexbus::reference;

[[noreturn]] void contradiction(const char* condition, const std::string& detail) {
  std::fprintf(stderr, "region_header_fuzz: contradiction: %s\n  %s\n", condition, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// The detail is built only on failure.
#define FUZZ_REQUIRE(condition, detail)                   \
  do {                                                    \
    if (!(condition)) contradiction(#condition, (detail)); \
  } while (false)

std::string describe(const std::optional<Error>& error) {
  return error ? std::string(to_string(error->code)) + " \"" + error->message + "\"" : "valid";
}

std::string describe(const ref::Verdict& verdict) {
  return verdict.code ? std::string(to_string(*verdict.code)) + " on " + ref::where_prefix(verdict.lane)
                      : "valid";
}

class AlignedImage {
 public:
  AlignedImage(const std::uint8_t* data, std::size_t size)
      : size_(size), bytes_(static_cast<std::byte*>(::operator new(size == 0 ? 1 : size, std::align_val_t{64}))) {
    if (size != 0) std::memcpy(bytes_, data, size);
  }
  ~AlignedImage() { ::operator delete(bytes_, std::align_val_t{64}); }
  AlignedImage(const AlignedImage&) = delete;
  AlignedImage& operator=(const AlignedImage&) = delete;
  std::span<std::byte> bytes() const { return {bytes_, size_}; }

 private:
  std::size_t size_;
  std::byte* bytes_;
};

// Step 1: the validator and the reference agree, and the message has the documented shape.
void check_against_reference(std::span<const std::byte> image, const std::optional<Error>& error) {
  const auto verdict = ref::validate(image);
  FUZZ_REQUIRE(error.has_value() == verdict.code.has_value(),
               "validator: " + describe(error) + "; reference: " + describe(verdict));
  if (!error) return;
  FUZZ_REQUIRE(error->code == *verdict.code, "validator: " + describe(error) + "; reference: " + describe(verdict));
  const std::string prefix = ref::where_prefix(verdict.lane);
  FUZZ_REQUIRE(error->message.starts_with(prefix), "expected prefix \"" + prefix + "\": " + describe(error));
  const auto field = ref::field_named_by(error->code);
  FUZZ_REQUIRE(!field.empty(), "not a validation error: " + describe(error));
  FUZZ_REQUIRE(error->message.compare(prefix.size(), field.size(), field) == 0,
               "message does not name " + std::string(field) + " first: " + describe(error));
  FUZZ_REQUIRE(error->message.find('\n') == std::string::npos, "multi-line message: " + describe(error));
}

LaneDescriptor descriptor(std::span<const std::byte> image, std::uint32_t index) {
  LaneDescriptor lane;
  const std::size_t table = ref::le32(image, ref::header_at::lane_table_offset);
  std::memcpy(&lane, image.data() + table + std::size_t{index} * sizeof(LaneDescriptor), sizeof(lane));
  return lane;
}

// Step 3b: a few lane operations on a lane whose state check passed.
void drive_lane(std::uint32_t index, std::byte* block, const LaneDescriptor& lane,
                const EventsLaneSnapshot& before) {
  // Sequence numbers and stamps (2s + 2) are 64-bit and never approach 2^62 in a lane's life
  // (spec/layout.md, "Sequence numbers"); the layout does not define wrap-around.
  if (before.write_seq >= (std::uint64_t{1} << 62)) return;
  const RealPlatform platform(WaitStrategy::Spin);
  const auto lane_ref = events_lane_ref(block, lane);
  EventsConsumer<RealPlatform> consumer(platform, lane_ref);
  EventsProducer<RealPlatform> producer(platform, lane_ref);
  const bool drop = lane.on_full == static_cast<std::uint32_t>(OnFull::Drop);
  const std::string where = "lane " + std::to_string(index) + ": ";

  // `out` has exactly the slot's size, so ASan sees a read that copies more. The payload pattern
  // is reused across inputs and depends on the index only, so growing it fills just the new part.
  const auto out = std::make_unique_for_overwrite<std::byte[]>(lane.slot_payload_bytes);
  static std::vector<std::byte> pattern;
  if (const std::size_t needed = std::size_t{lane.slot_payload_bytes} + 1; pattern.size() < needed) {
    const std::size_t filled = pattern.size();
    pattern.resize(needed);
    for (std::size_t i = filled; i < needed; ++i) pattern[i] = static_cast<std::byte>(0xA5 ^ (i * 31));
  }
  const std::span<const std::byte> payload(pattern.data(), std::size_t{lane.slot_payload_bytes} + 1);

  const std::uint64_t first_own_seq = producer.written();
  std::vector<std::uint32_t> own_lengths;  // lengths of the entries written here, by seq - first
  auto read_some = [&](int max_reads) {
    for (int k = 0; k < max_reads; ++k) {
      const std::uint64_t next = consumer.next_seq();
      const auto r = consumer.try_read(std::span(out.get(), lane.slot_payload_bytes));
      switch (r.status) {
        case ReadStatus::Entry: {
          FUZZ_REQUIRE(r.seq == next, where + "entry seq " + std::to_string(r.seq) + " != " + std::to_string(next));
          FUZZ_REQUIRE(r.payload_bytes <= lane.slot_payload_bytes, where + "entry longer than a slot");
          FUZZ_REQUIRE(consumer.next_seq() == next + 1, where + "cursor did not advance by one");
          if (r.seq >= first_own_seq && r.seq - first_own_seq < own_lengths.size()) {
            const std::uint32_t length = own_lengths[r.seq - first_own_seq];
            FUZZ_REQUIRE(r.payload_bytes == length, where + "entry written here came back with another length");
            FUZZ_REQUIRE(std::memcmp(out.get(), payload.data(), length) == 0,
                         where + "entry written here came back with other bytes");
          }
          break;
        }
        case ReadStatus::Lost:
          FUZZ_REQUIRE(drop, where + "Lost under Block");
          FUZZ_REQUIRE(r.lost_count >= 1, where + "Lost of 0 entries");
          FUZZ_REQUIRE(consumer.next_seq() == next + r.lost_count, where + "cursor did not skip the lost entries");
          break;
        case ReadStatus::Empty:
        case ReadStatus::Closed:
          FUZZ_REQUIRE(consumer.next_seq() == next, where + "cursor moved on Empty/Closed");
          return;
        case ReadStatus::Timeout:
        case ReadStatus::Evicted:
        case ReadStatus::NotYet:
          contradiction(r.status == ReadStatus::Timeout ? "try_read returned Timeout" : "events try_read returned a journal status", where);
      }
    }
  };

  read_some(3);
  for (const std::uint32_t length : {0u, lane.slot_payload_bytes}) {
    const auto now = snapshot_events_lane(block);
    const bool full = !drop && now.write_seq - now.read_seq >= lane.capacity_slots;
    const WriteStatus expected = now.closed != 0 ? WriteStatus::Closed : full ? WriteStatus::Full : WriteStatus::Ok;
    const WriteStatus got = producer.try_write(payload.first(length));
    FUZZ_REQUIRE(got == expected, where + "try_write(" + std::to_string(length) + ") returned " +
                                      std::string(to_string(got)) + ", expected " + std::string(to_string(expected)));
    if (got == WriteStatus::Ok) own_lengths.push_back(length);
  }
  const WriteStatus too_large = producer.try_write(payload);
  FUZZ_REQUIRE(too_large == (before.closed != 0 ? WriteStatus::Closed : WriteStatus::TooLarge),
               where + "oversized write returned " + std::string(to_string(too_large)));
  read_some(4);

  const auto after = snapshot_events_lane(block);
  const auto state_error = check_events_lane_state(index, lane, after);
  FUZZ_REQUIRE(!state_error, where + "lane operations broke the invariants: " + describe(state_error));
  FUZZ_REQUIRE(after.write_seq == before.write_seq + own_lengths.size(), where + "write_seq moved by another amount");
  FUZZ_REQUIRE(after.closed == before.closed, where + "closed changed");
}

// Step 3: a valid image.
void check_valid_image(std::span<std::byte> image) {
  const std::uint64_t size = image.size();
  FUZZ_REQUIRE(ref::le64(image, ref::header_at::region_bytes) == size, "valid image with region_bytes != size");
  const std::uint32_t lane_count = ref::le32(image, ref::header_at::lane_count);
  const std::uint64_t table_end = ref::le32(image, ref::header_at::lane_table_offset) + std::uint64_t{lane_count} * 64;
  FUZZ_REQUIRE(table_end <= size, "valid image whose lane table ends past the buffer");
  // The lane operations below may change only their own block: keep a copy to compare.
  std::vector<std::byte> expected(image.begin(), image.end());
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    const LaneDescriptor lane = descriptor(image, i);
    const std::string where = "lane " + std::to_string(i) + ": ";
    FUZZ_REQUIRE(lane.block_offset % kCacheLineBytes == 0, where + "valid image with a misaligned block");
    FUZZ_REQUIRE(lane.block_offset >= table_end, where + "valid image with a block inside the header or table");
    FUZZ_REQUIRE(lane.block_offset <= size, where + "valid image with a block starting past the buffer");
    FUZZ_REQUIRE(lane.block_bytes <= size - lane.block_offset, where + "valid image with a block ending past the buffer");
    const std::uint64_t slots_bytes =
        std::uint64_t{lane.capacity_slots} * (sizeof(EventsSlotHeader) + lane.slot_payload_bytes);
    if (lane.kind != static_cast<std::uint32_t>(LaneKind::Events)) {
      FUZZ_REQUIRE(is_ring_kind(static_cast<LaneKind>(lane.kind)), where + "valid image with an unknown kind");
      FUZZ_REQUIRE(lane.block_bytes >= ring_slots_offset(lane.reader_count) + slots_bytes,
                   where + "valid ring image with a block too small for its readers and slots");
      // Ring lanes: core's state and slot checks against the reference's reading of the bytes.
      // (Driving ring lanes from fuzzed states is still to come.)
      const std::span<const std::byte> ring_block(image.data() + lane.block_offset, lane.block_bytes);
      const auto ring = snapshot_ring_lane(image.data() + lane.block_offset, lane.reader_count);
      const auto ring_error = check_ring_lane_state(i, lane, ring);
      const bool ring_reference_ok =
          ref::ring_state_ok(ring_block, lane.kind, lane.on_full, lane.capacity_slots, lane.reader_count);
      FUZZ_REQUIRE(ring_error.has_value() != ring_reference_ok,
                   where + "ring state check: " + describe(ring_error) + "; reference: " +
                       (ring_reference_ok ? "ok" : "corrupt"));
      if (ring_error) {
        FUZZ_REQUIRE(ring_error->code == ErrorCode::LaneStateCorrupt && ring_error->message.starts_with(where),
                     where + describe(ring_error));
        continue;
      }
      const auto ring_slots_error = check_ring_slots(i, lane, image.data() + lane.block_offset, ring.write_seq);
      const bool ring_slots_reference_ok =
          ref::slots_ok(ring_block, ring_slots_offset(lane.reader_count), lane.capacity_slots,
                        lane.slot_payload_bytes, ring.write_seq);
      FUZZ_REQUIRE(ring_slots_error.has_value() != ring_slots_reference_ok,
                   where + "ring slot check: " + describe(ring_slots_error) + "; reference: " +
                       (ring_slots_reference_ok ? "ok" : "corrupt"));
      continue;
    }
    FUZZ_REQUIRE(lane.block_bytes >= sizeof(EventsLaneHeader) + slots_bytes,
                 where + "valid image with a block too small for its slots");

    std::byte* block = image.data() + lane.block_offset;
    const auto snapshot = snapshot_events_lane(block);
    const auto plain = ref::events_state(image.subspan(lane.block_offset, sizeof(EventsLaneHeader)));
    FUZZ_REQUIRE(snapshot.write_seq == plain.write_seq, where + "snapshot write_seq differs from the bytes");
    FUZZ_REQUIRE(snapshot.read_seq == plain.read_seq, where + "snapshot read_seq differs from the bytes");
    FUZZ_REQUIRE(snapshot.read_count == plain.read_count, where + "snapshot read_count differs from the bytes");
    FUZZ_REQUIRE(snapshot.lost_count == plain.lost_count, where + "snapshot lost_count differs from the bytes");
    FUZZ_REQUIRE(snapshot.closed == plain.closed, where + "snapshot closed differs from the bytes");
    FUZZ_REQUIRE(snapshot.producer_pid == ref::le32(image, lane.block_offset + ref::events_at::producer_pid),
                 where + "snapshot producer_pid differs from the bytes");
    FUZZ_REQUIRE(snapshot.consumer_pid == ref::le32(image, lane.block_offset + ref::events_at::consumer_pid),
                 where + "snapshot consumer_pid differs from the bytes");

    const auto state_error = check_events_lane_state(i, lane, snapshot);
    const bool reference_ok = ref::events_state_ok(plain, lane.on_full, lane.capacity_slots);
    FUZZ_REQUIRE(state_error.has_value() != reference_ok,
                 where + "lane state check: " + describe(state_error) + "; reference: " +
                     (reference_ok ? "ok" : "corrupt") + " (write_seq " + std::to_string(plain.write_seq) +
                     ", read_seq " + std::to_string(plain.read_seq) + ", read_count " +
                     std::to_string(plain.read_count) + ", lost_count " + std::to_string(plain.lost_count) +
                     ", closed " + std::to_string(plain.closed) + ")");
    if (state_error) {
      FUZZ_REQUIRE(state_error->code == ErrorCode::LaneStateCorrupt, where + describe(state_error));
      FUZZ_REQUIRE(state_error->message.starts_with(where), where + "state message lacks the lane: " + describe(state_error));
      continue;
    }
    const auto slots_error = check_events_slots(i, lane, block, snapshot.write_seq);
    const bool reference_slots_ok =
        ref::events_slots_ok(std::span<const std::byte>(image.data() + lane.block_offset, lane.block_bytes),
                             lane.capacity_slots, lane.slot_payload_bytes, plain.write_seq);
    FUZZ_REQUIRE(slots_error.has_value() != reference_slots_ok,
                 where + "slot check: " + describe(slots_error) + "; reference: " +
                     (reference_slots_ok ? "ok" : "corrupt"));
    if (slots_error) {
      FUZZ_REQUIRE(slots_error->code == ErrorCode::LaneStateCorrupt, where + describe(slots_error));
      continue;
    }
    drive_lane(i, block, lane, snapshot);
    // Everything outside this lane's block is as before; the block itself may have changed.
    const auto block_begin = static_cast<std::size_t>(lane.block_offset);
    const auto block_end = static_cast<std::size_t>(lane.block_offset + lane.block_bytes);
    FUZZ_REQUIRE(std::memcmp(image.data(), expected.data(), block_begin) == 0,
                 where + "lane operations wrote below the lane's block");
    FUZZ_REQUIRE(std::memcmp(image.data() + block_end, expected.data() + block_end, size - block_end) == 0,
                 where + "lane operations wrote above the lane's block");
    std::memcpy(expected.data() + block_begin, image.data() + block_begin, block_end - block_begin);
  }
  // Lane traffic never touches the immutable part, so the image still validates.
  const auto again = validate_region_image(image);
  FUZZ_REQUIRE(!again, "valid image invalid after lane operations: " + describe(again));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  AlignedImage buffer(data, size);
  const std::span<std::byte> image = buffer.bytes();

  auto error = validate_region_image(image);
  check_against_reference(image, error);
  const auto repeat = validate_region_image(image);
  FUZZ_REQUIRE(repeat == error, "validation is not deterministic: " + describe(error) + " then " + describe(repeat));

  if (error && error->code == ErrorCode::ChecksumMismatch) {
    // Step 2. Everything before the checksum passed, so the table is inside the image.
    const std::uint32_t crc = ref::region_checksum(image);
    const std::uint32_t core_crc = region_checksum(image, ref::le32(image, ref::header_at::lane_table_offset),
                                                   ref::le32(image, ref::header_at::lane_count));
    FUZZ_REQUIRE(crc == core_crc, "CRC32C of the reference " + std::to_string(crc) + " != core's " + std::to_string(core_crc));
    std::memcpy(image.data() + ref::header_at::checksum, &crc, sizeof(crc));
    error = validate_region_image(image);
    FUZZ_REQUIRE(!error, "image rejected after its checksum was repaired: " + describe(error));
    check_against_reference(image, error);
  }
  if (!error) check_valid_image(image);
  return 0;
}

#include "region_corpus.hpp"

#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <set>
#include <stdexcept>

#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/validate.hpp"
#include "region_images.hpp"

namespace indexbus::fuzzing {
namespace {

using Image = std::vector<std::byte>;

template <typename T>
void poke(Image& image, std::size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof(T));
}

template <typename T>
T peek(std::span<const std::byte> image, std::size_t offset) {
  T value;
  std::memcpy(&value, image.data() + offset, sizeof(T));
  return value;
}

std::size_t lane_field(std::uint32_t lane, std::size_t field_offset) {
  return sizeof(RegionHeader) + lane * sizeof(LaneDescriptor) + field_offset;
}

void reseal(Image& image) {
  const auto crc = region_checksum(image, peek<std::uint32_t>(image, offsetof(RegionHeader, lane_table_offset)),
                                   peek<std::uint32_t>(image, offsetof(RegionHeader, lane_count)));
  poke(image, offsetof(RegionHeader, checksum), crc);
}

// Same creator pid and creation id as region_images.cpp, so every image is reproducible.
constexpr std::uint32_t kCreatorPid = 4242;
constexpr std::uint64_t kCreationId = 0x1234'5678'9abc'def0ull;

// A layout the creator never writes but readers accept (spec/layout.md, "What a reader
// tolerates"): the plan is edited before the image is written.
Image image_from_plan(const std::vector<LaneSpec>& lanes,
                      const std::function<void(RegionPlan&)>& edit) {
  auto plan = plan_region(lanes);
  if (!plan) throw std::logic_error("corpus lane specs are invalid: " + plan.error().message);
  edit(*plan);
  Image image(plan->region_bytes);
  write_region_image(image, *plan, lanes, kCreatorPid, kCreationId);
  return image;
}

// A 64-aligned scratch copy, because the lanes require their block to be cache-line aligned.
class AlignedCopy {
 public:
  explicit AlignedCopy(const Image& image)
      : size_(image.size()),
        bytes_(static_cast<std::byte*>(::operator new(image.size(), std::align_val_t{64}))) {
    std::memcpy(bytes_, image.data(), size_);
  }
  ~AlignedCopy() { ::operator delete(bytes_, std::align_val_t{64}); }
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;
  std::byte* data() const { return bytes_; }
  Image to_image() const { return Image(bytes_, bytes_ + size_); }

 private:
  std::size_t size_;
  std::byte* bytes_;
};

// An image whose single lane has seen traffic: `writes` entries written (payload i as 8 bytes),
// then `reads` try_read calls, then close if asked. Gives the fuzzer seeds with live counters,
// stamps and payloads.
Image with_traffic(const LaneSpec& spec, int writes, int reads, bool close) {
  const auto image = testing::valid_region_image({spec});
  AlignedCopy copy(image);
  const auto& lane = *reinterpret_cast<const LaneDescriptor*>(copy.data() + sizeof(RegionHeader));
  const RealPlatform platform(WaitStrategy::Spin);
  const auto ref = events_lane_ref(copy.data() + lane.block_offset, lane);
  EventsProducer<RealPlatform> producer(platform, ref);
  EventsConsumer<RealPlatform> consumer(platform, ref);
  for (int i = 0; i < writes; ++i) {
    std::uint64_t value = 1000 + static_cast<std::uint64_t>(i);
    const auto payload = std::as_bytes(std::span(&value, 1));
    if (producer.try_write(payload) != WriteStatus::Ok) throw std::logic_error("corpus: write refused");
  }
  std::vector<std::byte> out(spec.slot_payload_bytes);
  for (int i = 0; i < reads; ++i) (void)consumer.try_read(out);
  if (close) producer.close();
  return copy.to_image();
}

std::size_t block_offset_of(const Image& image, std::uint32_t lane) {
  return static_cast<std::size_t>(peek<std::uint64_t>(image, lane_field(lane, offsetof(LaneDescriptor, block_offset))));
}

}  // namespace

std::vector<CorpusEntry> region_corpus_entries() {
  std::vector<CorpusEntry> out;
  auto valid = [&](std::string name, Image bytes) {
    out.push_back({"valid_" + name + ".bin", std::nullopt, std::move(bytes)});
  };
  auto corrupt = [&](std::string name, ErrorCode code, Image bytes) {
    out.push_back({"corrupt_" + name + "." + std::string(to_string(code)) + ".bin", code, std::move(bytes)});
  };
  using K = LaneKind;
  using F = OnFull;

  // Valid images as the creator writes them.
  const std::vector<LaneSpec> two{{K::Events, F::Block, 4, 16, 1, 0, {}}, {K::Events, F::Drop, 8, 8, 1, 0, {}}};
  valid("spec_example", testing::valid_region_image({{K::Events, F::Block, 1, 8, 1, 0, {}}}));
  valid("block_4x16_drop_8x8", testing::valid_region_image(two));
  valid("drop_capacity_1", testing::valid_region_image({{K::Events, F::Drop, 1, 64, 1, 0, {}}}));
  valid("block_capacity_1", testing::valid_region_image({{K::Events, F::Block, 1, 24, 1, 0, {}}}));
  valid("three_lanes_mixed", testing::valid_region_image({{K::Events, F::Drop, 16, 24, 1, 0, {}},
                                                          {K::Events, F::Block, 2, 8, 1, 0, {}},
                                                          {K::Events, F::Drop, 1, 1024, 1, 0, {}}}));
  valid("block_slot_64k", testing::valid_region_image({{K::Events, F::Block, 2, 1u << 16, 1, 0, {}}}));
  valid("drop_slot_1m_max", testing::valid_region_image({{K::Events, F::Drop, 1, 1u << 20, 1, 0, {}}}));
  valid("block_capacity_4096", testing::valid_region_image({{K::Events, F::Block, 4096, 8, 1, 0, {}}}));
  {
    std::vector<LaneSpec> lanes;
    for (std::uint32_t i = 0; i < kLaneCountMax; ++i) {
      lanes.push_back({K::Events, i % 2 == 0 ? F::Block : F::Drop, 1u << (i % 4), 8 * (1 + i % 3), 1});
    }
    valid("lanes_64", testing::valid_region_image(lanes));
  }

  // Ring lanes (Journal, SequencedSlots, FanoutBroadcast): readers, timeout, gating.
  const std::vector<std::uint64_t> pipeline{0, 0b1, 0b10};      // 0 -> 1 -> 2
  const std::vector<std::uint64_t> diamond{0, 0b1, 0b1, 0b110};  // 0 -> {1, 2} -> 3
  valid("journal_block_4_readers", testing::valid_region_image({{K::Journal, F::Block, 8, 16, 4, 0, {}}}));
  valid("journal_drop_timeout", testing::valid_region_image({{K::Journal, F::Drop, 1, 8, 1, 1'000'000'000, {}}}));
  valid("journal_64_readers", testing::valid_region_image({{K::Journal, F::Block, 2, 8, kReaderCountMax, 0, {}}}));
  valid("fanout_block_3", testing::valid_region_image({{K::FanoutBroadcast, F::Block, 16, 24, 3, 0, {}}}));
  valid("fanout_drop_1", testing::valid_region_image({{K::FanoutBroadcast, F::Drop, 1, 64, 1, 0, {}}}));
  valid("seqslots_pipeline", testing::valid_region_image({{K::SequencedSlots, F::Block, 4, 16, 3, 0, pipeline}}));
  valid("seqslots_diamond_drop", testing::valid_region_image({{K::SequencedSlots, F::Drop, 8, 8, 4, 0, diamond}}));
  valid("all_kinds", testing::valid_region_image({{K::Events, F::Block, 4, 16, 1, 0, {}},
                                                  {K::Journal, F::Drop, 8, 8, 2, 5'000'000, {}},
                                                  {K::SequencedSlots, F::Block, 2, 16, 4, 0, diamond},
                                                  {K::FanoutBroadcast, F::Drop, 4, 32, 2, 0, {}}}));
  {
    // Gating lives in the lane block (not under the checksum): poke a mask, no reseal needed.
    const std::vector<LaneSpec> ring{{K::Events, F::Block, 4, 16, 1, 0, {}},
                                     {K::SequencedSlots, F::Block, 4, 16, 4, 0, diamond},
                                     {K::FanoutBroadcast, F::Drop, 2, 8, 2, 0, {}}};
    auto gating = [&](std::string name, std::uint32_t lane, std::uint32_t reader, std::uint64_t mask) {
      auto image = testing::valid_region_image(ring);
      poke<std::uint64_t>(image, block_offset_of(image, lane) + sizeof(RingLaneHeader) +
                                     reader * sizeof(ReaderRecord) + offsetof(ReaderRecord, gated_on_mask),
                          mask);
      corrupt(std::move(name), ErrorCode::BadGating, std::move(image));
    };
    gating("lane1_gating_self", 1, 2, 0b100);
    gating("lane1_gating_unknown_reader", 1, 3, 0b10000);
    gating("lane1_gating_reader_63", 1, 0, 1ull << 63);
    gating("lane1_gating_cycle_0_3", 1, 0, 0b1000);  // 0 waits on 3, 3 on 1 and 2, which wait on 0
    gating("lane2_fanout_gated", 2, 1, 0b1);  // only sequenced_slots gates
    auto image = testing::valid_region_image(ring);
    const std::size_t records = block_offset_of(image, 1) + sizeof(RingLaneHeader);
    poke<std::uint64_t>(image, records + 1 * sizeof(ReaderRecord) + offsetof(ReaderRecord, gated_on_mask), 0b100);
    poke<std::uint64_t>(image, records + 2 * sizeof(ReaderRecord) + offsetof(ReaderRecord, gated_on_mask), 0b010);
    corrupt("lane1_gating_two_cycle", ErrorCode::BadGating, std::move(image));
    valid("ring_three_kinds", testing::valid_region_image(ring));
  }

  // Valid layouts that only a tolerant reader sees.
  {
    auto image = testing::valid_region_image(two);
    poke<std::uint16_t>(image, offsetof(RegionHeader, version_minor), 7);
    reseal(image);
    valid("version_minor_7", std::move(image));
  }
  valid("table_after_gap", image_from_plan(two, [](RegionPlan& plan) {
          plan.lane_table_offset = 256;
          for (auto& offset : plan.block_offsets) offset += 128;
        }));
  valid("blocks_reversed_with_gap", image_from_plan(two, [](RegionPlan& plan) {
          plan.block_offsets[1] = plan.block_offsets[0];
          plan.block_offsets[0] = plan.block_offsets[1] + plan.block_bytes[1] + 64;
        }));
  valid("size_not_page_multiple", image_from_plan(two, [](RegionPlan& plan) {
          plan.region_bytes = plan.block_offsets[1] + plan.block_bytes[1];
        }));

  // Valid images whose lane has seen traffic.
  valid("block_written_3_read_1", with_traffic({K::Events, F::Block, 4, 8, 1, 0, {}}, 3, 1, false));
  valid("block_full", with_traffic({K::Events, F::Block, 4, 16, 1, 0, {}}, 4, 0, false));
  valid("drop_overrun_unread", with_traffic({K::Events, F::Drop, 4, 8, 1, 0, {}}, 11, 0, false));
  valid("drop_overrun_lost_then_read", with_traffic({K::Events, F::Drop, 4, 8, 1, 0, {}}, 11, 3, false));
  valid("block_closed_drained", with_traffic({K::Events, F::Block, 2, 8, 1, 0, {}}, 2, 3, true));
  valid("drop_closed_pending", with_traffic({K::Events, F::Drop, 1, 8, 1, 0, {}}, 3, 0, true));

  // One corrupt image per validation error, from core's test support.
  for (auto& image : testing::corrupt_region_images()) corrupt(image.name, image.expected, std::move(image.bytes));

  // More corruptions: the other end of each range, the other reserved words, coverage of the
  // checksum, and lane state (not covered by the checksum, checked by check_events_lane_state).
  const auto base = testing::valid_region_image(two);
  auto edited = [&](std::string name, ErrorCode code, const std::function<void(Image&)>& edit,
                    bool reseal_after) {
    auto image = base;
    edit(image);
    if (reseal_after) reseal(image);
    corrupt(std::move(name), code, std::move(image));
  };
  using E = ErrorCode;
  edited("empty_file", E::TooSmall, [](Image& i) { i.clear(); }, false);
  edited("header_127", E::TooSmall, [](Image& i) { i.resize(127); }, false);
  edited("version_major_0", E::VersionMismatch, [](Image& i) { poke<std::uint16_t>(i, 8, 0); }, true);
  edited("init_state_7", E::NotReady, [](Image& i) { poke<std::uint32_t>(i, 64, 7); }, true);
  edited("header_bytes_129", E::BadHeaderBytes, [](Image& i) { poke<std::uint32_t>(i, 12, 129); }, true);
  edited("region_bytes_long", E::RegionSizeMismatch, [](Image& i) { i.resize(i.size() + 4096); }, false);
  edited("lane_table_offset_64", E::BadLaneTableOffset, [](Image& i) { poke<std::uint32_t>(i, 28, 64); }, true);
  edited("lane_count_64_no_room", E::BadLaneTableOffset, [](Image& i) { poke<std::uint32_t>(i, 24, 64); }, false);
  edited("reserved1_last_byte", E::ReservedNotZero, [](Image& i) { poke<std::uint8_t>(i, 127, 0x80); }, true);
  edited("flags_high_bit", E::BadFlags, [](Image& i) { poke<std::uint32_t>(i, 56, 0x80000000u); }, true);
  edited("creation_id_unsealed", E::ChecksumMismatch, [](Image& i) { poke<std::uint64_t>(i, 40, 77); }, false);
  edited("creator_pid_unsealed", E::ChecksumMismatch, [](Image& i) { poke<std::uint32_t>(i, 36, 1); }, false);
  edited("lane_table_edit_unsealed", E::ChecksumMismatch,
         [](Image& i) { poke<std::uint32_t>(i, lane_field(1, 4), 1); }, false);
  edited("lane0_kind_0", E::BadLaneKind, [](Image& i) { poke<std::uint32_t>(i, lane_field(0, 0), 0); }, true);
  edited("lane0_kind_fanout", E::BadBlockBytes, [](Image& i) { poke<std::uint32_t>(i, lane_field(0, 0), 4); }, true);
  edited("lane1_reader_timeout_max", E::BadReaderTimeout, [](Image& i) { poke<std::uint64_t>(i, lane_field(1, 40), ~0ull); }, true);
  edited("lane1_on_full_0", E::BadOnFull, [](Image& i) { poke<std::uint32_t>(i, lane_field(1, 4), 0); }, true);
  edited("lane1_capacity_2_31", E::BadCapacity,
         [](Image& i) { poke<std::uint32_t>(i, lane_field(1, 8), 0x80000000u); }, true);
  edited("lane0_slot_2_20_plus_8", E::BadSlotBytes,
         [](Image& i) { poke<std::uint32_t>(i, lane_field(0, 12), (1u << 20) + 8); }, true);
  edited("lane1_readers_0", E::BadReaderCount, [](Image& i) { poke<std::uint32_t>(i, lane_field(1, 16), 0); }, true);
  edited("lane1_reserved1_set", E::ReservedNotZero, [](Image& i) { poke<std::uint8_t>(i, lane_field(1, 63), 1); }, true);
  edited("lane0_block_offset_8", E::BlockMisaligned, [](Image& i) { poke<std::uint64_t>(i, lane_field(0, 24), 8); }, true);
  edited("lane1_block_bytes_huge", E::BadBlockBytes, [](Image& i) { poke<std::uint64_t>(i, lane_field(1, 32), ~0ull); }, true);
  edited("lane1_block_at_end", E::BlockOutOfBounds,
         [](Image& i) { poke<std::uint64_t>(i, lane_field(1, 24), i.size()); }, true);
  edited("lane1_block_straddles_end", E::BlockOutOfBounds,
         [](Image& i) { poke<std::uint64_t>(i, lane_field(1, 24), i.size() - 64); }, true);
  edited("lane1_same_block_as_lane0", E::BlocksOverlap, [](Image& i) {
    poke<std::uint64_t>(i, lane_field(1, 24), block_offset_of(i, 0));
  }, true);
  // Lane 0's block moved to start one cache line below lane 1's: the overlap is reported on the
  // later lane of the table (lane 1), whichever block comes first in the region.
  edited("lane1_overlapped_by_lane0_block", E::BlocksOverlap, [](Image& i) {
    poke<std::uint64_t>(i, lane_field(0, 24), block_offset_of(i, 1) - 64);
  }, true);

  // Lane state: the image validates, check_events_lane_state rejects (EV-11).
  auto state = [&](std::string name, std::uint32_t lane, std::size_t field, std::uint64_t value,
                   std::size_t width) {
    edited(std::move(name), E::LaneStateCorrupt, [&](Image& i) {
      const std::size_t at = block_offset_of(i, lane) + field;
      if (width == 8) poke<std::uint64_t>(i, at, value);
      else poke<std::uint32_t>(i, at, static_cast<std::uint32_t>(value));
    }, false);
  };
  state("lane0_closed_2", 0, offsetof(EventsLaneHeader, closed), 2, 4);
  state("lane1_read_seq_ahead", 1, offsetof(EventsLaneHeader, read_seq), 1, 8);
  state("lane1_read_count_without_read_seq", 1, offsetof(EventsLaneHeader, read_count), 1, 8);
  state("lane1_lost_count_without_read_seq", 1, offsetof(EventsLaneHeader, lost_count), 1, 8);
  state("lane0_block_overfull", 0, offsetof(EventsLaneHeader, write_seq), 5, 8);
  {
    // Block lane with a Lost count: read_seq = read_count + lost_count holds, but Block never loses.
    auto image = base;
    const std::size_t block = block_offset_of(image, 0);
    poke<std::uint64_t>(image, block + offsetof(EventsLaneHeader, write_seq), 2);
    poke<std::uint64_t>(image, block + offsetof(EventsLaneHeader, read_seq), 2);
    poke<std::uint64_t>(image, block + offsetof(EventsLaneHeader, read_count), 1);
    poke<std::uint64_t>(image, block + offsetof(EventsLaneHeader, lost_count), 1);
    corrupt("lane0_block_lost_nonzero", E::LaneStateCorrupt, std::move(image));
  }
  // Slots (check_events_slots): a stamp that claims entry 0 on an empty Block lane would make the
  // consumer deliver an entry never written (found by the fuzzer); a length longer than a slot.
  state("lane0_slot_phantom_stamp", 0, sizeof(EventsLaneHeader) + offsetof(EventsSlotHeader, stamp),
        events_stamp_complete(0), 8);
  state("lane1_slot_payload_bytes_long", 1,
        sizeof(EventsLaneHeader) + offsetof(EventsSlotHeader, payload_bytes), 9, 4);

  // Ring lane state (check_ring_lane_state, check_ring_slots): lane 1 is a Journal with 2
  // readers, lane 2 a FanoutBroadcast (Block, capacity 4) with 2 consumers.
  {
    const std::vector<LaneSpec> ring{{K::Events, F::Drop, 2, 8, 1, 0, {}},
                                     {K::Journal, F::Block, 4, 8, 2, 1'000'000, {}},
                                     {K::FanoutBroadcast, F::Block, 4, 8, 2, 0, {}}};
    auto ring_state = [&](std::string name, const std::function<void(Image&, std::size_t, std::size_t)>& edit) {
      auto image = testing::valid_region_image(ring);
      edit(image, block_offset_of(image, 1), block_offset_of(image, 2));
      corrupt(std::move(name), E::LaneStateCorrupt, std::move(image));
    };
    auto record = [](std::size_t block, std::uint32_t r, std::size_t field) {
      return block + sizeof(RingLaneHeader) + r * sizeof(ReaderRecord) + field;
    };
    ring_state("lane1_ring_closed_3", [&](Image& i, std::size_t j, std::size_t) {
      poke<std::uint32_t>(i, j + offsetof(RingLaneHeader, closed), 3);
    });
    ring_state("lane1_reader_state_7", [&](Image& i, std::size_t j, std::size_t) {
      poke<std::uint32_t>(i, record(j, 1, offsetof(ReaderRecord, state)), 7);
    });
    ring_state("lane2_fanout_reader_evicted", [&](Image& i, std::size_t, std::size_t f) {
      poke<std::uint32_t>(i, record(f, 0, offsetof(ReaderRecord, state)), kReaderEvicted);
    });
    ring_state("lane2_cursor_ahead", [&](Image& i, std::size_t, std::size_t f) {
      poke<std::uint64_t>(i, record(f, 1, offsetof(ReaderRecord, cursor_seq)), 1);
    });
    ring_state("lane2_block_reader_lapped", [&](Image& i, std::size_t, std::size_t f) {
      poke<std::uint64_t>(i, f + offsetof(RingLaneHeader, write_seq), 5);
      poke<std::uint64_t>(i, record(f, 1, offsetof(ReaderRecord, cursor_seq)), 5);
    });
    ring_state("lane1_attached_reader_lapped", [&](Image& i, std::size_t j, std::size_t) {
      poke<std::uint64_t>(i, j + offsetof(RingLaneHeader, write_seq), 9);
      poke<std::uint64_t>(i, record(j, 0, offsetof(ReaderRecord, cursor_seq)), 9);
      poke<std::uint32_t>(i, record(j, 1, offsetof(ReaderRecord, state)), kReaderAttached);
    });
    ring_state("lane2_slot_phantom_stamp", [&](Image& i, std::size_t, std::size_t f) {
      poke<std::uint64_t>(i, f + ring_slots_offset(2) + offsetof(SlotHeader, stamp), events_stamp_complete(0));
    });
    // The same Journal lag with the reader detached: not gating, so valid.
    auto image = testing::valid_region_image(ring);
    const std::size_t j = block_offset_of(image, 1);
    poke<std::uint64_t>(image, j + offsetof(RingLaneHeader, write_seq), 9);
    poke<std::uint64_t>(image, record(j, 0, offsetof(ReaderRecord, cursor_seq)), 9);
    poke<std::uint32_t>(image, record(j, 1, offsetof(ReaderRecord, state)), kReaderDetached);
    valid("journal_detached_reader_behind", std::move(image));
  }

  std::set<std::string> names;
  for (const auto& entry : out) {
    if (!names.insert(entry.file_name).second) throw std::logic_error("duplicate corpus name " + entry.file_name);
  }
  return out;
}

std::optional<Error> region_image_error(std::span<const std::byte> image) {
  if (auto error = validate_region_image(image)) return error;
  const auto header = peek<RegionHeader>(image, 0);
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    const auto lane = peek<LaneDescriptor>(image, header.lane_table_offset + std::size_t{i} * sizeof(LaneDescriptor));
    // The block is inside the image (validated); the snapshots use atomic loads, which need the
    // words aligned, so the block is copied to 8-aligned storage first.
    std::vector<std::uint64_t> words((lane.block_bytes + 7) / 8);
    std::memcpy(words.data(), image.data() + lane.block_offset, lane.block_bytes);
    const auto* block = reinterpret_cast<const std::byte*>(words.data());
    if (is_ring_kind(static_cast<LaneKind>(lane.kind))) {
      const auto snapshot = snapshot_ring_lane(block, lane.reader_count);
      if (auto error = check_ring_lane_state(i, lane, snapshot)) return error;
      if (auto error = check_ring_slots(i, lane, block, snapshot.write_seq)) return error;
      continue;
    }
    const auto snapshot = snapshot_events_lane(block);
    if (auto error = check_events_lane_state(i, lane, snapshot)) return error;
    if (auto error = check_events_slots(i, lane, block, snapshot.write_seq)) return error;
  }
  return std::nullopt;
}

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  // ErrorCode values are small; every one that to_string knows spells itself differently.
  for (std::uint32_t value = 0; value < 256; ++value) {
    const auto code = static_cast<ErrorCode>(value);
    const auto spelled = to_string(code);
    if (spelled != "Unknown" && spelled == name) return code;
  }
  return std::nullopt;
}

NameVerdict parse_corpus_name(std::string_view file_name) {
  NameVerdict verdict;
  constexpr std::string_view kValid = "valid_", kCorrupt = "corrupt_", kRegress = "regress_", kBin = ".bin";
  const bool is_valid = file_name.starts_with(kValid);
  const bool is_corrupt = file_name.starts_with(kCorrupt);
  const bool is_regress = file_name.starts_with(kRegress);
  if (!is_valid && !is_corrupt && !is_regress) return verdict;
  verdict.kind = is_valid ? NameVerdict::Kind::Valid
                          : is_corrupt ? NameVerdict::Kind::Corrupt : NameVerdict::Kind::Regress;
  if (!file_name.ends_with(kBin)) {
    verdict.malformed = true;
    return verdict;
  }
  std::string_view rest = file_name;
  rest.remove_prefix(is_valid ? kValid.size() : is_corrupt ? kCorrupt.size() : kRegress.size());
  rest.remove_suffix(kBin.size());
  if (is_valid) {
    verdict.stem = std::string(rest);
    verdict.malformed = rest.empty() || rest.find('.') != std::string_view::npos;
    return verdict;
  }
  const auto dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || rest.substr(0, dot).find('.') != std::string_view::npos) {
    verdict.malformed = true;
    return verdict;
  }
  verdict.stem = std::string(rest.substr(0, dot));
  const auto code_name = rest.substr(dot + 1);
  if (is_regress && code_name == "valid") return verdict;
  verdict.expected = error_code_from_name(code_name);
  verdict.malformed = !verdict.expected.has_value();
  return verdict;
}

}  // namespace indexbus::fuzzing

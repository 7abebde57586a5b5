// The IndexBus v1 byte layout (spec/layout.md documents every byte; keep the two in step).
//
// Every structure here lives in shared memory and is read by processes written in any language,
// so each is standard layout, made of fixed-width little-endian integers and offsets (never
// pointers), with explicit padding; every offset and size is pinned by a static_assert below.
// Hot words that different processes write sit on their own 64-byte cache lines.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "indexbus/vocabulary.hpp"

namespace indexbus {

static_assert(std::endian::native == std::endian::little, "IndexBus v1 regions are little-endian");

inline constexpr std::size_t kCacheLineBytes = 64;
// "INDEXBUS" read as a little-endian u64.
inline constexpr std::uint64_t kRegionMagic = 0x5355425845444E49ull;

// RegionHeader.init_state values. The file starts zero-filled, so a region being created reads
// Creating until its creator stores Ready, last, with release ordering.
inline constexpr std::uint32_t kInitStateCreating = 0;
inline constexpr std::uint32_t kInitStateReady = 1;

// Bytes [0, kChecksumCoveredHeaderBytes) of the header, then the whole lane table, are covered
// by RegionHeader.checksum (CRC32C). They are immutable once the region is Ready.
inline constexpr std::size_t kChecksumCoveredHeaderBytes = 60;

struct RegionHeader {
  std::uint64_t magic;                  //   0: kRegionMagic
  std::uint16_t version_major;          //   8: must equal kLayoutVersionMajor
  std::uint16_t version_minor;          //  10: any; newer minors only add meaning to reserved bytes
  std::uint32_t header_bytes;           //  12: sizeof(RegionHeader)
  std::uint64_t region_bytes;           //  16: size of the whole region file
  std::uint32_t lane_count;             //  24: 1..kLaneCountMax
  std::uint32_t lane_table_offset;      //  28: offset of LaneDescriptor[lane_count]
  std::uint32_t lane_descriptor_bytes;  //  32: sizeof(LaneDescriptor)
  std::uint32_t creator_pid;            //  36: pid of the creating process
  std::uint64_t creation_id;            //  40: random, tells a re-created region from the old one
  std::uint64_t reserved0;              //  48: zero
  std::uint32_t flags;                  //  56: zero in v1.0
  std::uint32_t checksum;               //  60: CRC32C of header[0,60) ++ lane table
  // Cache line 1: the only mutable header word.
  alignas(kCacheLineBytes) std::uint32_t init_state;  // 64: kInitStateCreating / kInitStateReady
  std::uint32_t reserved1[15];                        // 68: zero
};
static_assert(std::is_standard_layout_v<RegionHeader>);
static_assert(std::is_trivially_copyable_v<RegionHeader>);
static_assert(offsetof(RegionHeader, magic) == 0);
static_assert(offsetof(RegionHeader, version_major) == 8);
static_assert(offsetof(RegionHeader, version_minor) == 10);
static_assert(offsetof(RegionHeader, header_bytes) == 12);
static_assert(offsetof(RegionHeader, region_bytes) == 16);
static_assert(offsetof(RegionHeader, lane_count) == 24);
static_assert(offsetof(RegionHeader, lane_table_offset) == 28);
static_assert(offsetof(RegionHeader, lane_descriptor_bytes) == 32);
static_assert(offsetof(RegionHeader, creator_pid) == 36);
static_assert(offsetof(RegionHeader, creation_id) == 40);
static_assert(offsetof(RegionHeader, reserved0) == 48);
static_assert(offsetof(RegionHeader, flags) == 56);
static_assert(offsetof(RegionHeader, checksum) == kChecksumCoveredHeaderBytes);
static_assert(offsetof(RegionHeader, init_state) == 64);
static_assert(offsetof(RegionHeader, reserved1) == 68);
static_assert(sizeof(RegionHeader) == 128);

struct LaneDescriptor {
  std::uint32_t kind;                //  0: LaneKind
  std::uint32_t on_full;             //  4: OnFull
  std::uint32_t capacity_slots;      //  8: power of two in [1, 2^24]
  std::uint32_t slot_payload_bytes;  // 12: multiple of 8 in [8, 2^20]
  std::uint32_t reader_count;        // 16: Events: exactly 1
  std::uint32_t reserved0;           // 20: zero
  std::uint64_t block_offset;        // 24: 64-aligned offset of the lane block in the region
  std::uint64_t block_bytes;         // 32: lane_block_bytes(kind, capacity, slot bytes, readers)
  std::uint64_t reserved1[3];        // 40: zero
};
static_assert(std::is_standard_layout_v<LaneDescriptor>);
static_assert(std::is_trivially_copyable_v<LaneDescriptor>);
static_assert(offsetof(LaneDescriptor, kind) == 0);
static_assert(offsetof(LaneDescriptor, on_full) == 4);
static_assert(offsetof(LaneDescriptor, capacity_slots) == 8);
static_assert(offsetof(LaneDescriptor, slot_payload_bytes) == 12);
static_assert(offsetof(LaneDescriptor, reader_count) == 16);
static_assert(offsetof(LaneDescriptor, reserved0) == 20);
static_assert(offsetof(LaneDescriptor, block_offset) == 24);
static_assert(offsetof(LaneDescriptor, block_bytes) == 32);
static_assert(offsetof(LaneDescriptor, reserved1) == 40);
static_assert(sizeof(LaneDescriptor) == 64);

// The Events lane block: EventsLaneHeader, then capacity_slots slots of EventsSlotHeader +
// slot_payload_bytes each. Line 0 is written only by the producer, line 1 only by the consumer;
// line 2 holds the waiter flags (written only when a side parks) and line 3 the attach words.
struct EventsLaneHeader {
  // Line 0: producer.
  std::uint64_t write_seq;             //   0: entries published = next sequence to write
  std::uint32_t closed;                //   8: 0 open, 1 closed (set once, by the producer)
  std::uint32_t consumer_wake_epoch;   //  12: futex word; the producer bumps it to wake the consumer
  std::uint8_t pad0[48];               //  16
  // Line 1: consumer.
  alignas(kCacheLineBytes) std::uint64_t read_seq;  //  64: next sequence the consumer reads
  std::uint64_t read_count;            //  72: entries delivered
  std::uint64_t lost_count;            //  80: entries reported Lost
  std::uint32_t producer_wake_epoch;   //  88: futex word; the consumer bumps it to wake the producer
  std::uint8_t pad1[36];               //  92
  // Line 2: waiter flags, set by a side just before it parks.
  alignas(kCacheLineBytes) std::uint32_t producer_waiting;  // 128: 1 while the producer may park
  std::uint32_t consumer_waiting;      // 132: 1 while the consumer may park
  std::uint8_t pad2[56];               // 136
  // Line 3: attachment (one producer, one consumer; pid of the holder or 0).
  alignas(kCacheLineBytes) std::uint32_t producer_pid;  // 192
  std::uint32_t consumer_pid;          // 196
  std::uint8_t pad3[56];               // 200
};
static_assert(std::is_standard_layout_v<EventsLaneHeader>);
static_assert(offsetof(EventsLaneHeader, write_seq) == 0);
static_assert(offsetof(EventsLaneHeader, closed) == 8);
static_assert(offsetof(EventsLaneHeader, consumer_wake_epoch) == 12);
static_assert(offsetof(EventsLaneHeader, read_seq) == 64);
static_assert(offsetof(EventsLaneHeader, read_count) == 72);
static_assert(offsetof(EventsLaneHeader, lost_count) == 80);
static_assert(offsetof(EventsLaneHeader, producer_wake_epoch) == 88);
static_assert(offsetof(EventsLaneHeader, producer_waiting) == 128);
static_assert(offsetof(EventsLaneHeader, consumer_waiting) == 132);
static_assert(offsetof(EventsLaneHeader, producer_pid) == 192);
static_assert(offsetof(EventsLaneHeader, consumer_pid) == 196);
static_assert(sizeof(EventsLaneHeader) == 256);

// Slot stamp encoding (a per-slot seqlock): 0 = never written; 2*s+1 = entry s is being written;
// 2*s+2 = entry s is complete. A stamp only grows.
struct EventsSlotHeader {
  std::uint64_t stamp;           // 0
  std::uint32_t payload_bytes;   // 8: length of this entry, <= slot_payload_bytes
  std::uint32_t reserved;        // 12: zero
};
static_assert(std::is_standard_layout_v<EventsSlotHeader>);
static_assert(offsetof(EventsSlotHeader, stamp) == 0);
static_assert(offsetof(EventsSlotHeader, payload_bytes) == 8);
static_assert(sizeof(EventsSlotHeader) == 16);

constexpr std::uint64_t events_stamp_writing(std::uint64_t seq) noexcept { return 2 * seq + 1; }
constexpr std::uint64_t events_stamp_complete(std::uint64_t seq) noexcept { return 2 * seq + 2; }

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t align) noexcept {
  return (value + align - 1) / align * align;
}

constexpr std::uint64_t events_slot_stride_bytes(std::uint32_t slot_payload_bytes) noexcept {
  return sizeof(EventsSlotHeader) + slot_payload_bytes;
}

// Bytes of a lane block; 0 for a kind this build does not implement. Never overflows for
// descriptor values within the vocabulary limits (2^24 slots of 2^20 + 16 bytes < 2^45).
constexpr std::uint64_t lane_block_bytes(LaneKind kind, std::uint32_t capacity_slots,
                                         std::uint32_t slot_payload_bytes,
                                         std::uint32_t /*reader_count*/) noexcept {
  switch (kind) {
    case LaneKind::Events:
      return round_up(sizeof(EventsLaneHeader) +
                          std::uint64_t{capacity_slots} * events_slot_stride_bytes(slot_payload_bytes),
                      kCacheLineBytes);
    default:
      return 0;
  }
}

constexpr std::uint64_t lane_table_bytes(std::uint32_t lane_count) noexcept {
  return round_up(std::uint64_t{lane_count} * sizeof(LaneDescriptor), kCacheLineBytes);
}

}  // namespace indexbus

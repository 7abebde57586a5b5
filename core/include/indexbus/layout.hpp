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
  std::uint32_t reader_count;        // 16: Events: exactly 1; other kinds: 1..kReaderCountMax
  std::uint32_t reserved0;           // 20: zero
  std::uint64_t block_offset;        // 24: 64-aligned offset of the lane block in the region
  std::uint64_t block_bytes;         // 32: lane_block_bytes(kind, capacity, slot bytes, readers)
  std::uint64_t reader_timeout_ns;   // 40: Journal: evict a reader silent this long (0 = never);
                                     //     zero for every other kind
  std::uint64_t reserved1[2];        // 48: zero
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
static_assert(offsetof(LaneDescriptor, reader_timeout_ns) == 40);
static_assert(offsetof(LaneDescriptor, reserved1) == 48);
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

// The ring lanes: Journal, SequencedSlots and FanoutBroadcast. One producer and reader_count
// tracked readers over one ring of capacity_slots slots. The block is RingLaneHeader, then
// reader_count ReaderRecords, then the slots (each a SlotHeader + slot_payload_bytes, the same
// slot format and stamp encoding as Events). The three kinds share this layout and differ in what
// a reader's cursor means and in what gates the producer (spec/layout.md, "Ring lanes").
struct RingLaneHeader {
  // Line 0: producer.
  std::uint64_t write_seq;            //   0: entries published = next sequence to publish
  std::uint32_t closed;               //   8: 0 open, 1 closed (set once, by the producer)
  std::uint32_t reader_wake_epoch;    //  12: futex word; the producer bumps it to wake readers
  std::uint64_t eviction_count;       //  16: Journal: readers evicted for silence, ever
  std::uint8_t pad0[40];              //  24
  // Line 1: waiting. readers_waiting is set by any reader about to park and cleared by the
  // producer when it wakes them; producer_waiting is the producer's own flag.
  alignas(kCacheLineBytes) std::uint32_t producer_waiting;  //  64: 1 while the producer may park
  std::uint32_t readers_waiting;      //  68: kWaiterParked while some reader may park
  std::uint32_t producer_wake_epoch;  //  72: futex word; a reader bumps it to wake the producer
  std::uint32_t producer_pid;         //  76: pid of the attached producer or 0
  std::uint32_t attach_epoch;         //  80: Journal: bumped by every attach, so that a Block
                                      //      writer rescans the reader records (journal.hpp)
  std::uint32_t attach_lock;          //  84: Journal: pid of the process inside an attach, or 0
                                      //      (journal.hpp, "Claiming a record")
  std::uint8_t pad1[40];              //  88
  // Lines 2-3: reserved for later minors.
  alignas(kCacheLineBytes) std::uint8_t reserved[128];  // 128: zero
};
static_assert(std::is_standard_layout_v<RingLaneHeader>);
static_assert(offsetof(RingLaneHeader, write_seq) == 0);
static_assert(offsetof(RingLaneHeader, closed) == 8);
static_assert(offsetof(RingLaneHeader, reader_wake_epoch) == 12);
static_assert(offsetof(RingLaneHeader, eviction_count) == 16);
static_assert(offsetof(RingLaneHeader, producer_waiting) == 64);
static_assert(offsetof(RingLaneHeader, readers_waiting) == 68);
static_assert(offsetof(RingLaneHeader, producer_wake_epoch) == 72);
static_assert(offsetof(RingLaneHeader, producer_pid) == 76);
static_assert(offsetof(RingLaneHeader, attach_epoch) == 80);
static_assert(offsetof(RingLaneHeader, attach_lock) == 84);
static_assert(offsetof(RingLaneHeader, reserved) == 128);
static_assert(sizeof(RingLaneHeader) == 256);

// The largest sequence number (write_seq, a cursor) a v1 lane may hold (spec/layout.md, "Sequence
// numbers"): 2^62 - 1, 146 years at 10^9 entries per second. Far enough below 2^63 that a stamp
// 2s + 2 and the validator's bound 2 * write_seq + 1 never wrap, and no sequence number has bit
// 62 or 63, which the Journal attach tags below use. The lane state checks reject more.
inline constexpr std::uint64_t kSeqLimit = (std::uint64_t{1} << 62) - 1;

// Journal attach tags (spec/layout.md, "Attach ordering"): a Journal ReaderRecord.cursor_seq with
// bit 63 set belongs to an attach (fresh, or a resume by name) that has not fixed its start; the
// value under the tag (its low 62 bits, tagged_value) is where it would start. With bit 62 set
// too (claiming_cursor): the attach claimed the record and has not stored its provisional start;
// the writer skips the record, and the value is the record's committed cursor (0 for a fresh
// attach), so a resumer that dies there loses nothing: the next resume of the name reads it. With
// bit 62 clear, kCursorProvisional | W0: the start is not fixed yet; the first of the writer
// (adopting it) and the attacher (fixing it) to CAS the word away from this value decides the start.
inline constexpr std::uint64_t kCursorProvisional = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kCursorClaiming = std::uint64_t{1} << 62;  // only with kCursorProvisional
inline constexpr std::uint64_t kCursorValueMask = kCursorClaiming - 1;
static_assert(kSeqLimit == kCursorValueMask, "every sequence number fits under an attach tag");
constexpr bool is_attach_tagged(std::uint64_t cursor_seq) noexcept { return (cursor_seq & kCursorProvisional) != 0; }
constexpr bool is_claiming(std::uint64_t cursor_seq) noexcept {
  return (cursor_seq & (kCursorProvisional | kCursorClaiming)) == (kCursorProvisional | kCursorClaiming);
}
constexpr std::uint64_t claiming_cursor(std::uint64_t committed_seq) noexcept {
  return kCursorProvisional | kCursorClaiming | (committed_seq & kCursorValueMask);
}
constexpr std::uint64_t tagged_value(std::uint64_t cursor_seq) noexcept { return cursor_seq & kCursorValueMask; }

// Journal heartbeat tags (spec/layout.md, "Journal", heartbeat_ns): the heartbeat word decides
// whether a reader record's holder still holds it. Untagged: the holder's last heartbeat (a
// monotonic ns value, below 2^62). Bit 63 (kHeartbeatEvicted): the writer evicted the holder by a
// CAS from the untagged value it judged silent. Bit 62 (kHeartbeatDetached): the holder detached
// by a CAS from its last value. The bits below a tag keep that value. A tag is final for the
// holder: its next CAS from its last value fails. Only an attach (under the attach lock) replaces
// a tagged or a dead holder's value, with one greater than it (the same value never returns to a
// record, so a writer's CAS on a value it loaded cannot match a later holder's).
inline constexpr std::uint64_t kHeartbeatEvicted = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kHeartbeatDetached = std::uint64_t{1} << 62;
inline constexpr std::uint64_t kHeartbeatTagMask = kHeartbeatEvicted | kHeartbeatDetached;
constexpr bool is_heartbeat_tagged(std::uint64_t heartbeat_ns) noexcept { return (heartbeat_ns & kHeartbeatTagMask) != 0; }
constexpr std::uint64_t heartbeat_value(std::uint64_t heartbeat_ns) noexcept { return heartbeat_ns & ~kHeartbeatTagMask; }

// ReaderRecord.state values.
inline constexpr std::uint32_t kReaderFree = 0;      // never attached (Journal: slot unused)
inline constexpr std::uint32_t kReaderAttached = 1;  // attached; its cursor gates the producer
inline constexpr std::uint32_t kReaderEvicted = 2;   // Journal: evicted by the writer for silence
inline constexpr std::uint32_t kReaderDetached = 3;  // Journal: detached; name and cursor kept
inline constexpr std::uint32_t kReaderStateMax = kReaderDetached;

// One per reader. Line 0 is written by the reader (and, for state, by a Journal writer that
// evicts it); line 1 is fixed at creation (gating) or at attach (name).
struct ReaderRecord {
  // Line 0: the reader's cursor and liveness.
  std::uint64_t cursor_seq;     //   0: every entry below it is done with (Fanout/SequencedSlots:
                                //      read; Journal: committed). Gates the producer.
  std::uint64_t read_count;     //   8: entries delivered
  std::uint64_t lost_count;     //  16: entries reported Lost (Drop)
  std::uint64_t heartbeat_ns;   //  24: Journal: monotonic clock at the reader's last call, or
                                //      that value tagged evicted / detached (kHeartbeat*)
  std::uint32_t pid;            //  32: pid of the attached process or 0
  std::uint32_t state;          //  36: kReaderFree / Attached / Evicted / Detached
  std::uint8_t pad0[24];        //  40
  // Line 1: identity and configuration.
  alignas(kCacheLineBytes) std::uint64_t gated_on_mask;  // 64: SequencedSlots: bit j set = this
                                //      consumer reads s only after consumer j finished s; else 0
  char name[kReaderNameBytes];  //  72: Journal: NUL-padded attach name; empty = anonymous
  std::uint8_t pad1[24];        // 104
};
static_assert(std::is_standard_layout_v<ReaderRecord>);
static_assert(offsetof(ReaderRecord, cursor_seq) == 0);
static_assert(offsetof(ReaderRecord, read_count) == 8);
static_assert(offsetof(ReaderRecord, lost_count) == 16);
static_assert(offsetof(ReaderRecord, heartbeat_ns) == 24);
static_assert(offsetof(ReaderRecord, pid) == 32);
static_assert(offsetof(ReaderRecord, state) == 36);
static_assert(offsetof(ReaderRecord, gated_on_mask) == 64);
static_assert(offsetof(ReaderRecord, name) == 72);
static_assert(sizeof(ReaderRecord) == 128);

using SlotHeader = EventsSlotHeader;

constexpr bool is_ring_kind(LaneKind kind) noexcept {
  return kind == LaneKind::Journal || kind == LaneKind::SequencedSlots ||
         kind == LaneKind::FanoutBroadcast;
}

constexpr std::uint64_t ring_slots_offset(std::uint32_t reader_count) noexcept {
  return sizeof(RingLaneHeader) + std::uint64_t{reader_count} * sizeof(ReaderRecord);
}

// Bytes of a lane block; 0 for a kind this build does not implement. Never overflows for
// descriptor values within the vocabulary limits (2^24 slots of 2^20 + 16 bytes < 2^45).
constexpr std::uint64_t lane_block_bytes(LaneKind kind, std::uint32_t capacity_slots,
                                         std::uint32_t slot_payload_bytes,
                                         std::uint32_t reader_count) noexcept {
  const std::uint64_t slots_bytes =
      std::uint64_t{capacity_slots} * events_slot_stride_bytes(slot_payload_bytes);
  switch (kind) {
    case LaneKind::Events:
      return round_up(sizeof(EventsLaneHeader) + slots_bytes, kCacheLineBytes);
    case LaneKind::Journal:
    case LaneKind::SequencedSlots:
    case LaneKind::FanoutBroadcast:
      return round_up(ring_slots_offset(reader_count) + slots_bytes, kCacheLineBytes);
  }
  return 0;
}

constexpr std::uint64_t lane_table_bytes(std::uint32_t lane_count) noexcept {
  return round_up(std::uint64_t{lane_count} * sizeof(LaneDescriptor), kCacheLineBytes);
}

}  // namespace indexbus

/* IndexBus layout v1.0 in C11, written from spec/layout.md alone.
 *
 * Every struct below is a byte-for-byte image of a table in layout.md; the _Static_asserts pin
 * each offset and size so that this file cannot drift from the document unnoticed. Words that
 * processes share live are _Atomic and are only touched with atomic_*_explicit. */
#ifndef IBC_LAYOUT_H
#define IBC_LAYOUT_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define IBC_REGION_MAGIC UINT64_C(0x5355425845444E49) /* "INDEXBUS" little-endian */
#define IBC_VERSION_MAJOR 1u
#define IBC_VERSION_MINOR 0u
#define IBC_HEADER_BYTES 128u
#define IBC_DESCRIPTOR_BYTES 64u
#define IBC_LANE_HEADER_BYTES 256u
#define IBC_READER_RECORD_BYTES 128u
#define IBC_SLOT_HEADER_BYTES 16u
#define IBC_CHECKSUMMED_HEADER_BYTES 60u
#define IBC_LANE_COUNT_MAX 64u
#define IBC_CAPACITY_SLOTS_MAX (1u << 24)
#define IBC_SLOT_PAYLOAD_BYTES_MIN 8u
#define IBC_SLOT_PAYLOAD_BYTES_MAX (1u << 20)
#define IBC_READER_COUNT_MAX 64u
#define IBC_INIT_CREATING 0u
#define IBC_INIT_READY 1u
#define IBC_WAITER_PARKED 3u
#define IBC_REGION_GRANULE_BYTES 4096u

enum ibc_lane_kind { IBC_EVENTS = 1, IBC_JOURNAL = 2, IBC_SEQUENCED_SLOTS = 3, IBC_FANOUT = 4 };
enum ibc_on_full { IBC_BLOCK = 1, IBC_DROP = 2 };
/* ReaderRecord.state values (2 and 3 are Journal only). */
enum ibc_reader_state { IBC_RS_FREE = 0, IBC_RS_ATTACHED = 1, IBC_RS_EVICTED = 2, IBC_RS_DETACHED = 3 };
/* Journal attach tags on a reader record's cursor_seq (layout.md, "Attach ordering"): bit 63 set
 * is an attach under way, the low 62 bits (VALUE_MASK) its value. With bit 62 too (CLAIMING): the
 * record is claimed, not a gate, and the value is its committed cursor (0 for a fresh attach);
 * otherwise PROVISIONAL | W0: the start is not fixed, and the writer adopts it by CAS. */
#define IBC_CURSOR_PROVISIONAL (UINT64_C(1) << 63)
#define IBC_CURSOR_CLAIMING (UINT64_C(1) << 62)
#define IBC_CURSOR_VALUE_MASK (IBC_CURSOR_CLAIMING - 1)
#define IBC_CLAIMING_CURSOR(committed) \
  (IBC_CURSOR_PROVISIONAL | IBC_CURSOR_CLAIMING | ((committed) & IBC_CURSOR_VALUE_MASK))
#define IBC_IS_CLAIMING(cursor) \
  (((cursor) & (IBC_CURSOR_PROVISIONAL | IBC_CURSOR_CLAIMING)) == (IBC_CURSOR_PROVISIONAL | IBC_CURSOR_CLAIMING))
/* Journal heartbeat tags on a reader record's heartbeat_ns (layout.md, "Journal", heartbeat_ns):
 * the word decides whether the holder still holds the record. Bit 63: evicted by the writer's CAS
 * from the value it judged silent; bit 62: detached by the holder's CAS from its last value; the
 * bits below keep that value. A tag is final for the holder. */
#define IBC_HEARTBEAT_EVICTED (UINT64_C(1) << 63)
#define IBC_HEARTBEAT_DETACHED (UINT64_C(1) << 62)
#define IBC_HEARTBEAT_TAGS (IBC_HEARTBEAT_EVICTED | IBC_HEARTBEAT_DETACHED)

/* RegionHeader: line 0 immutable once Ready (REG-10), line 1 holds init_state. */
typedef struct {
  uint64_t magic;
  uint16_t version_major;
  uint16_t version_minor;
  uint32_t header_bytes;
  uint64_t region_bytes;
  uint32_t lane_count;
  uint32_t lane_table_offset;
  uint32_t lane_descriptor_bytes;
  uint32_t creator_pid;
  uint64_t creation_id;
  uint64_t reserved0;
  uint32_t flags;
  uint32_t checksum;
  _Atomic uint32_t init_state;
  uint32_t reserved1[15];
} ibc_region_header;

_Static_assert(offsetof(ibc_region_header, magic) == 0, "magic");
_Static_assert(offsetof(ibc_region_header, version_major) == 8, "version_major");
_Static_assert(offsetof(ibc_region_header, version_minor) == 10, "version_minor");
_Static_assert(offsetof(ibc_region_header, header_bytes) == 12, "header_bytes");
_Static_assert(offsetof(ibc_region_header, region_bytes) == 16, "region_bytes");
_Static_assert(offsetof(ibc_region_header, lane_count) == 24, "lane_count");
_Static_assert(offsetof(ibc_region_header, lane_table_offset) == 28, "lane_table_offset");
_Static_assert(offsetof(ibc_region_header, lane_descriptor_bytes) == 32, "lane_descriptor_bytes");
_Static_assert(offsetof(ibc_region_header, creator_pid) == 36, "creator_pid");
_Static_assert(offsetof(ibc_region_header, creation_id) == 40, "creation_id");
_Static_assert(offsetof(ibc_region_header, reserved0) == 48, "reserved0");
_Static_assert(offsetof(ibc_region_header, flags) == 56, "flags");
_Static_assert(offsetof(ibc_region_header, checksum) == 60, "checksum");
_Static_assert(offsetof(ibc_region_header, init_state) == 64, "init_state");
_Static_assert(offsetof(ibc_region_header, reserved1) == 68, "reserved1");
_Static_assert(sizeof(ibc_region_header) == IBC_HEADER_BYTES, "RegionHeader is 128 bytes");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 is lock-free sized");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 is lock-free sized");

typedef struct {
  uint32_t kind;
  uint32_t on_full;
  uint32_t capacity_slots;
  uint32_t slot_payload_bytes;
  uint32_t reader_count;
  uint32_t reserved0;
  uint64_t block_offset;
  uint64_t block_bytes;
  uint64_t reader_timeout_ns;
  uint64_t reserved1[2];
} ibc_lane_descriptor;

_Static_assert(offsetof(ibc_lane_descriptor, kind) == 0, "kind");
_Static_assert(offsetof(ibc_lane_descriptor, on_full) == 4, "on_full");
_Static_assert(offsetof(ibc_lane_descriptor, capacity_slots) == 8, "capacity_slots");
_Static_assert(offsetof(ibc_lane_descriptor, slot_payload_bytes) == 12, "slot_payload_bytes");
_Static_assert(offsetof(ibc_lane_descriptor, reader_count) == 16, "reader_count");
_Static_assert(offsetof(ibc_lane_descriptor, reserved0) == 20, "reserved0");
_Static_assert(offsetof(ibc_lane_descriptor, block_offset) == 24, "block_offset");
_Static_assert(offsetof(ibc_lane_descriptor, block_bytes) == 32, "block_bytes");
_Static_assert(offsetof(ibc_lane_descriptor, reader_timeout_ns) == 40, "reader_timeout_ns");
_Static_assert(offsetof(ibc_lane_descriptor, reserved1) == 48, "reserved1");
_Static_assert(sizeof(ibc_lane_descriptor) == IBC_DESCRIPTOR_BYTES, "LaneDescriptor is 64 bytes");

/* EventsLaneHeader: one 64-byte line per writer (line 2: one flag each; line 3: CAS'd pids). */
typedef struct {
  _Atomic uint64_t write_seq;
  _Atomic uint32_t closed;
  _Atomic uint32_t consumer_wake_epoch;
  uint8_t pad0[48];
  _Atomic uint64_t read_seq;
  _Atomic uint64_t read_count;
  _Atomic uint64_t lost_count;
  _Atomic uint32_t producer_wake_epoch;
  uint8_t pad1[36];
  _Atomic uint32_t producer_waiting;
  _Atomic uint32_t consumer_waiting;
  uint8_t pad2[56];
  _Atomic uint32_t producer_pid;
  _Atomic uint32_t consumer_pid;
  uint8_t pad3[56];
} ibc_events_header;

_Static_assert(offsetof(ibc_events_header, write_seq) == 0, "write_seq");
_Static_assert(offsetof(ibc_events_header, closed) == 8, "closed");
_Static_assert(offsetof(ibc_events_header, consumer_wake_epoch) == 12, "consumer_wake_epoch");
_Static_assert(offsetof(ibc_events_header, read_seq) == 64, "read_seq");
_Static_assert(offsetof(ibc_events_header, read_count) == 72, "read_count");
_Static_assert(offsetof(ibc_events_header, lost_count) == 80, "lost_count");
_Static_assert(offsetof(ibc_events_header, producer_wake_epoch) == 88, "producer_wake_epoch");
_Static_assert(offsetof(ibc_events_header, producer_waiting) == 128, "producer_waiting");
_Static_assert(offsetof(ibc_events_header, consumer_waiting) == 132, "consumer_waiting");
_Static_assert(offsetof(ibc_events_header, producer_pid) == 192, "producer_pid");
_Static_assert(offsetof(ibc_events_header, consumer_pid) == 196, "consumer_pid");
_Static_assert(sizeof(ibc_events_header) == IBC_LANE_HEADER_BYTES, "EventsLaneHeader is 256 bytes");

/* SlotHeader (Events and ring lanes alike); the payload follows at slot offset 16. */
typedef struct {
  _Atomic uint64_t stamp; /* 0 never written, 2s+1 being written, 2s+2 entry s complete */
  _Atomic uint32_t payload_bytes;
  uint32_t reserved;
} ibc_slot_header;

_Static_assert(offsetof(ibc_slot_header, stamp) == 0, "stamp");
_Static_assert(offsetof(ibc_slot_header, payload_bytes) == 8, "payload_bytes");
_Static_assert(offsetof(ibc_slot_header, reserved) == 12, "reserved");
_Static_assert(sizeof(ibc_slot_header) == IBC_SLOT_HEADER_BYTES, "SlotHeader is 16 bytes");

/* RingLaneHeader (Journal, SequencedSlots, FanoutBroadcast). */
typedef struct {
  _Atomic uint64_t write_seq;
  _Atomic uint32_t closed;
  _Atomic uint32_t reader_wake_epoch;
  _Atomic uint64_t eviction_count;
  uint8_t pad0[40];
  _Atomic uint32_t producer_waiting;
  _Atomic uint32_t readers_waiting;
  _Atomic uint32_t producer_wake_epoch;
  _Atomic uint32_t producer_pid;
  _Atomic uint32_t attach_epoch;
  _Atomic uint32_t attach_lock; /* Journal: pid of the process inside an attach, or 0 */
  uint8_t pad1[40];
  uint8_t reserved[128];
} ibc_ring_header;

_Static_assert(offsetof(ibc_ring_header, write_seq) == 0, "write_seq");
_Static_assert(offsetof(ibc_ring_header, closed) == 8, "closed");
_Static_assert(offsetof(ibc_ring_header, reader_wake_epoch) == 12, "reader_wake_epoch");
_Static_assert(offsetof(ibc_ring_header, eviction_count) == 16, "eviction_count");
_Static_assert(offsetof(ibc_ring_header, producer_waiting) == 64, "producer_waiting");
_Static_assert(offsetof(ibc_ring_header, readers_waiting) == 68, "readers_waiting");
_Static_assert(offsetof(ibc_ring_header, producer_wake_epoch) == 72, "producer_wake_epoch");
_Static_assert(offsetof(ibc_ring_header, producer_pid) == 76, "producer_pid");
_Static_assert(offsetof(ibc_ring_header, attach_epoch) == 80, "attach_epoch");
_Static_assert(offsetof(ibc_ring_header, attach_lock) == 84, "attach_lock");
_Static_assert(offsetof(ibc_ring_header, reserved) == 128, "reserved");
_Static_assert(sizeof(ibc_ring_header) == IBC_LANE_HEADER_BYTES, "RingLaneHeader is 256 bytes");

typedef struct {
  _Atomic uint64_t cursor_seq;
  _Atomic uint64_t read_count;
  _Atomic uint64_t lost_count;
  _Atomic uint64_t heartbeat_ns;
  _Atomic uint32_t pid;
  _Atomic uint32_t state;
  uint8_t pad0[24];
  uint64_t gated_on_mask; /* written by the creator only, immutable afterwards */
  char name[32];
  uint8_t pad1[24];
} ibc_reader_record;

_Static_assert(offsetof(ibc_reader_record, cursor_seq) == 0, "cursor_seq");
_Static_assert(offsetof(ibc_reader_record, read_count) == 8, "read_count");
_Static_assert(offsetof(ibc_reader_record, lost_count) == 16, "lost_count");
_Static_assert(offsetof(ibc_reader_record, heartbeat_ns) == 24, "heartbeat_ns");
_Static_assert(offsetof(ibc_reader_record, pid) == 32, "pid");
_Static_assert(offsetof(ibc_reader_record, state) == 36, "state");
_Static_assert(offsetof(ibc_reader_record, gated_on_mask) == 64, "gated_on_mask");
_Static_assert(offsetof(ibc_reader_record, name) == 72, "name");
_Static_assert(sizeof(ibc_reader_record) == IBC_READER_RECORD_BYTES, "ReaderRecord is 128 bytes");

/* round_up(x, a) of layout.md, for a a power of two. */
static inline uint64_t ibc_round_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Lane block size (layout.md "Sizes and placement"); never overflows 64 bits for valid limits.
 * slot_stride_bytes_extra is 0 except for the test-only wrong-stride break. */
static inline uint64_t ibc_slot_stride_bytes(uint32_t slot_payload_bytes) {
  return IBC_SLOT_HEADER_BYTES + (uint64_t)slot_payload_bytes;
}
static inline uint64_t ibc_lane_block_bytes(uint32_t kind, uint32_t capacity_slots,
                                            uint32_t slot_payload_bytes, uint32_t reader_count) {
  uint64_t slots_bytes = (uint64_t)capacity_slots * ibc_slot_stride_bytes(slot_payload_bytes);
  if (kind == IBC_EVENTS) return ibc_round_up(IBC_LANE_HEADER_BYTES + slots_bytes, 64);
  return ibc_round_up(IBC_LANE_HEADER_BYTES + (uint64_t)reader_count * IBC_READER_RECORD_BYTES + slots_bytes, 64);
}

#endif

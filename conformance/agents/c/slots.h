/* Slot addressing and the seqlock copies shared by every lane kind (layout.md "Slots"). */
#ifndef IBC_SLOTS_H
#define IBC_SLOTS_H

#include "lanes.h"

#include <assert.h>
#include <string.h>

/* Slot k of a lane: slots start after the lane header (and, on ring lanes, the reader records)
 * and are 16 + S bytes apart. The wrong-stride defect (test only) forgets the payload in the
 * stride, so a slot's payload runs over the next slots' headers: it must fail the EV-9 cases. */
static inline ibc_slot_header *ibc_slot(const ibc_lane *lane, uint64_t seq) {
  uint64_t first_bytes = IBC_LANE_HEADER_BYTES;
  if (lane->d.kind != IBC_EVENTS) first_bytes += (uint64_t)lane->d.reader_count * IBC_READER_RECORD_BYTES;
  uint64_t stride_bytes = ibc_slot_stride_bytes(lane->d.slot_payload_bytes);
  if (ibc_defect == IBC_BREAK_WRONG_STRIDE) stride_bytes = IBC_SLOT_HEADER_BYTES; /* forgets the payload */
  uint64_t index = seq & ((uint64_t)lane->d.capacity_slots - 1);
  assert(index < lane->d.capacity_slots);
  assert(first_bytes + (index + 1) * stride_bytes <= lane->d.block_bytes); /* never outside the block */
  return (ibc_slot_header *)(lane->block + first_bytes + index * stride_bytes);
}

static inline _Atomic uint64_t *ibc_slot_words(ibc_slot_header *slot) {
  return (_Atomic uint64_t *)((uint8_t *)slot + IBC_SLOT_HEADER_BYTES);
}

/* Payload as whole 8-byte words, each a release store; the last partial word zero-padded. */
static inline void ibc_store_payload(ibc_slot_header *slot, const uint8_t *payload, uint32_t length) {
  assert(length <= IBC_SLOT_PAYLOAD_BYTES_MAX);
  _Atomic uint64_t *words = ibc_slot_words(slot);
  for (uint32_t k = 0; k < (length + 7) / 8; k++) {
    uint64_t word = 0;
    uint32_t part = length - 8 * k < 8 ? length - 8 * k : 8;
    memcpy(&word, payload + 8 * k, part);
    IBC_STORE(&words[k], word, memory_order_release);
  }
  IBC_STORE(&slot->payload_bytes, length, memory_order_release);
}

/* Length (clamped to S, so a corrupt length never copies more than a slot) and the payload as
 * whole 8-byte acquire loads. The caller re-reads the stamp afterwards. */
static inline uint32_t ibc_load_payload(const ibc_lane *lane, ibc_slot_header *slot, uint8_t *out) {
  uint32_t length = IBC_LOAD(&slot->payload_bytes, memory_order_acquire);
  if (length > lane->d.slot_payload_bytes) length = lane->d.slot_payload_bytes;
  assert(length <= lane->d.slot_payload_bytes);
  _Atomic uint64_t *words = ibc_slot_words(slot);
  for (uint32_t k = 0; k < (length + 7) / 8; k++) {
    uint64_t word = IBC_LOAD(&words[k], memory_order_acquire);
    memcpy(out + 8 * k, &word, length - 8 * k < 8 ? length - 8 * k : 8);
  }
  return length;
}

#endif

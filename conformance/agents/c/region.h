/* Region create / open / validate (spec/layout.md "Init protocol" and "Validation order"). */
#ifndef IBC_REGION_H
#define IBC_REGION_H

#include "layout.h"

#include <stdint.h>

typedef struct {
  uint32_t kind;
  uint32_t on_full;
  uint32_t capacity_slots;
  uint32_t slot_payload_bytes;
  uint32_t reader_count;
  uint64_t reader_timeout_ns;
  uint64_t gated_on_mask[IBC_READER_COUNT_MAX]; /* SequencedSlots only; bit j of [i]: i waits for j */
} ibc_lane_spec;

typedef struct {
  uint8_t *base; /* NULL when no region is mapped */
  uint64_t bytes;
  uint32_t lane_count;
  ibc_lane_descriptor lanes[IBC_LANE_COUNT_MAX]; /* copied once validated (REG-10) */
} ibc_region;

/* An ErrorCode name (layout.md) and a one-line message naming field, value and expectation. */
typedef struct {
  const char *code;
  char message[512];
} ibc_error;

int ibc_region_create(ibc_region *region, const char *path, const ibc_lane_spec *specs,
                      uint32_t lane_count, ibc_error *error);
int ibc_region_open(ibc_region *region, const char *path, uint64_t ready_timeout_ns, ibc_error *error);
void ibc_region_unmap(ibc_region *region);

/* Checks one lane spec against the REG-5 limits; 0 if valid. */
int ibc_check_lane_spec(const ibc_lane_spec *spec, uint32_t lane, ibc_error *error);
/* Full validation of a mapped image of `file_bytes` bytes, in layout.md's order. */
int ibc_validate_image(const uint8_t *image, uint64_t file_bytes, ibc_error *error);

uint32_t ibc_crc32c(uint32_t crc, const uint8_t *bytes, uint64_t count);
uint64_t ibc_now_ns(void);
int ibc_pid_alive(uint32_t pid);

#endif

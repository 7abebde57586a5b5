/* The four lane kinds over a mapped region, from spec/layout.md and spec/v1-semantics.md.
 *
 * Who may call what: one agent process drives each role it attached; every call is made from
 * the agent's single thread. Waiting sides poll with short sleeps (layout.md "Waiting and
 * waking" allows a polling waiter: it writes nothing shared and needs no wake-up), but every
 * publishing side still wakes a peer that parked, because the peer may be another
 * implementation. Every wait is bounded by its deadline. */
#ifndef IBC_LANES_H
#define IBC_LANES_H

#include "layout.h"

#include <stdatomic.h>
#include <stdint.h>

/* Every access of a lane's shared memory below goes through these (events.c, ring.c, slots.h),
 * so that one counter sees them all: run_script's kill_at_access (agent-protocol.md) arms
 * ibc_kill_countdown, and the access that brings it to 0 raises SIGKILL on this process, which
 * then dies inside whichever operation made it. Disarmed (0) an access costs one branch. */
extern uint64_t ibc_kill_countdown;
void ibc_kill_now(void);
static inline void ibc_access(void) {
  if (ibc_kill_countdown != 0 && --ibc_kill_countdown == 0) ibc_kill_now();
}
#define IBC_LOAD(...) (ibc_access(), atomic_load_explicit(__VA_ARGS__))
#define IBC_STORE(...) (ibc_access(), atomic_store_explicit(__VA_ARGS__))
#define IBC_CAS(...) (ibc_access(), atomic_compare_exchange_strong_explicit(__VA_ARGS__))
#define IBC_FETCH_ADD(...) (ibc_access(), atomic_fetch_add_explicit(__VA_ARGS__))

typedef enum {
  IBC_OK, IBC_FULL, IBC_TIMEOUT, IBC_CLOSED, IBC_TOO_LARGE, /* writes and claims */
  IBC_ENTRY, IBC_EMPTY, IBC_LOST, IBC_EVICTED, IBC_NOT_YET  /* reads */
} ibc_status;

typedef struct {
  ibc_status status;
  uint64_t seq;        /* Entry, and Ok of a claim */
  uint32_t length;     /* Entry: payload bytes copied to the caller's buffer */
  uint64_t lost_count; /* Lost */
} ibc_result;

/* Test-only defects (`--break NAME`): a certification test proves each is caught. */
typedef enum { IBC_BREAK_NONE, IBC_BREAK_WRONG_STRIDE, IBC_BREAK_DROP_NEWEST, IBC_BREAK_NO_CHECKSUM } ibc_break;
extern ibc_break ibc_defect;

/* Attach outcomes besides 0. */
#define IBC_ROLE_TAKEN (-2)
#define IBC_BAD_READER (-3)
#define IBC_NO_FREE_READER (-4)
#define IBC_BAD_NAME (-5)

/* One lane as this agent sees it: the descriptor (validated, immutable) and the private
 * cursors of the roles this process holds. */
typedef struct {
  uint8_t *block;
  ibc_lane_descriptor d;
  uint32_t pid;
  /* producer */
  int producer_attached;
  uint64_t w;            /* private write_seq */
  uint64_t cached_min;   /* Events: cached read_seq; ring: cached min cursor; only ever too low */
  uint32_t cached_epoch; /* Journal: attach_epoch at the last rescan */
  int cached_valid;
  int claim_outstanding; /* SequencedSlots */
  uint64_t leaves_mask;  /* SequencedSlots */
  /* consumers / readers, by the request's `reader` index */
  int attached[IBC_READER_COUNT_MAX];
  uint32_t record[IBC_READER_COUNT_MAX]; /* Journal: record index chosen at attach; others = index */
  uint64_t next[IBC_READER_COUNT_MAX];
  uint64_t cached_w[IBC_READER_COUNT_MAX];
  uint64_t pending_lost[IBC_READER_COUNT_MAX]; /* Journal: a resume behind the window */
  uint64_t heartbeat[IBC_READER_COUNT_MAX];    /* Journal: the heartbeat this reader stored last */
  uint64_t cursor_stored[IBC_READER_COUNT_MAX]; /* Journal: cursor_seq as this reader left it */
  int settle_pending;                          /* Journal writer: an eviction's state to settle */
} ibc_lane;

void ibc_lane_init(ibc_lane *lane, uint8_t *region_base, const ibc_lane_descriptor *d);

/* Role claims, EV-1 / FB-1 / SS-1: a CAS of our pid into the word. */
int ibc_claim_pid(_Atomic uint32_t *word, uint32_t self);
void ibc_release_pid(_Atomic uint32_t *word, uint32_t self);

/* Waking (layout.md "Waking"): after the store that lets a peer progress. */
void ibc_wake_if_waiting(_Atomic uint32_t *flag, _Atomic uint32_t *epoch, int clear_flag);
/* One round of a polling wait: 0 while now < deadline_ns (after a short sleep), 1 once passed. */
int ibc_wait_round(uint64_t deadline_ns, uint32_t round);

/* Readers (layout.md, "overwritten"): the slot carries stamp_found, above the stamp of the entry
 * r being read, so a later write v = (stamp_found - 1) / 2 has begun to overwrite it: r is lost
 * now (v-semantics EV-8, a write takes effect in two steps), reported at once, never waiting for
 * v's publish. Acquire the slot's stamp first (v's odd stamp is a release store), so that the
 * write_seq loaded next is at least v: every write before v is published. */
void ibc_acquire_overwrite(_Atomic uint64_t *stamp, uint64_t r, uint64_t stamp_found);

/* Events */
int ibc_events_attach(ibc_lane *lane, int producer);
void ibc_events_detach(ibc_lane *lane, int producer);
ibc_result ibc_events_write(ibc_lane *lane, const uint8_t *payload, uint32_t length, int blocking, uint64_t deadline_ns);
ibc_result ibc_events_close(ibc_lane *lane);
ibc_result ibc_events_read(ibc_lane *lane, uint8_t *out, int blocking, uint64_t deadline_ns);

/* Ring kinds (Journal, SequencedSlots, FanoutBroadcast) */
int ibc_ring_attach_producer(ibc_lane *lane);
void ibc_ring_detach_producer(ibc_lane *lane);
int ibc_ring_attach_reader(ibc_lane *lane, uint32_t reader, const char *name);
void ibc_ring_detach_reader(ibc_lane *lane, uint32_t reader);
ibc_result ibc_ring_write(ibc_lane *lane, const uint8_t *payload, uint32_t length, int blocking, uint64_t deadline_ns);
ibc_result ibc_ring_close(ibc_lane *lane);
ibc_result ibc_ring_read(ibc_lane *lane, uint32_t reader, uint8_t *out, int blocking, uint64_t deadline_ns);
ibc_result ibc_seq_claim(ibc_lane *lane, int blocking, uint64_t deadline_ns);
/* publish: -1 when there is no outstanding claim of `seq` (a caller error). */
int ibc_seq_publish(ibc_lane *lane, uint64_t seq, const uint8_t *payload, uint32_t length, ibc_result *result);
ibc_result ibc_journal_read_at(ibc_lane *lane, uint32_t reader, uint64_t seq, uint8_t *out);
ibc_result ibc_journal_commit(ibc_lane *lane, uint32_t reader);
ibc_result ibc_journal_heartbeat(ibc_lane *lane, uint32_t reader);

static inline ibc_events_header *ibc_events(const ibc_lane *lane) { return (ibc_events_header *)lane->block; }
static inline ibc_ring_header *ibc_ring(const ibc_lane *lane) { return (ibc_ring_header *)lane->block; }
static inline ibc_reader_record *ibc_records(const ibc_lane *lane) {
  return (ibc_reader_record *)(lane->block + IBC_LANE_HEADER_BYTES);
}

#endif

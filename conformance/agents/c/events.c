/* Events lane (EV-*), following layout.md "Events protocol" step by step.
 *
 * Block: the producer writes the payload plainly, stores write_seq (release), then publishes the
 * stamp 2w+2; the consumer trusts the stamp alone. Drop: every slot is a seqlock (odd stamp,
 * release stores of payload words, even stamp, then write_seq); the consumer delivers only if the
 * stamp was 2r+2 before and after its copy. Publishing stores are seq_cst so that the
 * symmetric store-load barrier of "Waking" holds against a peer that parks. */

#include "lanes.h"
#include "region.h"
#include "slots.h"

#include <assert.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

ibc_break ibc_defect = IBC_BREAK_NONE;
uint64_t ibc_kill_countdown = 0;

void ibc_kill_now(void) {
  kill(getpid(), SIGKILL); /* cannot be caught or ignored: the process ends here */
  abort();                 /* unreachable; keeps the compiler from assuming we return */
}

void ibc_lane_init(ibc_lane *lane, uint8_t *region_base, const ibc_lane_descriptor *d) {
  memset(lane, 0, sizeof *lane);
  lane->block = region_base + d->block_offset;
  lane->d = *d;
  lane->pid = (uint32_t)getpid();
}

int ibc_claim_pid(_Atomic uint32_t *word, uint32_t self) {
  uint32_t holder = IBC_LOAD(word, memory_order_acquire);
  if (holder == self) return 0;
  if (holder != 0 && ibc_pid_alive(holder)) return IBC_ROLE_TAKEN;
  /* Free, or a dead holder's pid: replace it. A failed CAS means another process won. */
  if (IBC_CAS(word, &holder, self, memory_order_acq_rel, memory_order_acquire)) return 0;
  return IBC_ROLE_TAKEN;
}

void ibc_release_pid(_Atomic uint32_t *word, uint32_t self) {
  uint32_t expected = self;
  IBC_CAS(word, &expected, 0, memory_order_acq_rel, memory_order_acquire);
}

void ibc_wake_if_waiting(_Atomic uint32_t *flag, _Atomic uint32_t *epoch, int clear_flag) {
  if (IBC_LOAD(flag, memory_order_seq_cst) == 0) return;
  if (clear_flag) IBC_STORE(flag, 0, memory_order_relaxed);
  IBC_FETCH_ADD(epoch, 1, memory_order_release);
  syscall(SYS_futex, (uint32_t *)epoch, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); /* shared, not private */
}

int ibc_wait_round(uint64_t deadline_ns, uint32_t round) {
  uint64_t now_ns = ibc_now_ns();
  if (now_ns >= deadline_ns) return 1;
  uint64_t pause_ns = round < 16 ? 2000 : 50000; /* a few quick rounds, then 50 us */
  if (pause_ns > deadline_ns - now_ns) pause_ns = deadline_ns - now_ns;
  nanosleep(&(struct timespec){.tv_nsec = (long)pause_ns}, NULL);
  return 0;
}

void ibc_acquire_overwrite(_Atomic uint64_t *stamp, uint64_t r, uint64_t stamp_found) {
  if (stamp_found <= 2 * r + 2) return; /* not a later write's stamp */
  (void)IBC_LOAD(stamp, memory_order_acquire);
}

int ibc_events_attach(ibc_lane *lane, int producer) {
  ibc_events_header *h = ibc_events(lane);
  int rc = ibc_claim_pid(producer ? &h->producer_pid : &h->consumer_pid, lane->pid);
  if (rc != 0) return rc;
  if (producer) { /* EV-16: resume from the lane's words */
    lane->w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    lane->cached_min = IBC_LOAD(&h->read_seq, memory_order_acquire);
    lane->producer_attached = 1;
    /* EV-16 (layout.md "Resume"): a Block predecessor killed between its write_seq store and its
     * stamp store left entry w - 1 complete but unstamped; stamp it and wake the consumer. */
    if (lane->d.on_full == IBC_BLOCK && lane->w > 0) {
      ibc_slot_header *slot = ibc_slot(lane, lane->w - 1);
      if (IBC_LOAD(&slot->stamp, memory_order_acquire) != 2 * (lane->w - 1) + 2) {
        IBC_STORE(&slot->stamp, 2 * (lane->w - 1) + 2, memory_order_seq_cst);
        ibc_wake_if_waiting(&h->consumer_waiting, &h->consumer_wake_epoch, 1);
      }
    }
  } else {
    lane->next[0] = IBC_LOAD(&h->read_seq, memory_order_seq_cst);
    lane->cached_w[0] = lane->next[0];
    lane->attached[0] = 1;
  }
  return 0;
}

void ibc_events_detach(ibc_lane *lane, int producer) {
  ibc_events_header *h = ibc_events(lane);
  ibc_release_pid(producer ? &h->producer_pid : &h->consumer_pid, lane->pid);
  if (producer) lane->producer_attached = 0;
  else lane->attached[0] = 0;
}

ibc_result ibc_events_write(ibc_lane *lane, const uint8_t *payload, uint32_t length, int blocking,
                            uint64_t deadline_ns) {
  ibc_events_header *h = ibc_events(lane);
  const uint64_t capacity = lane->d.capacity_slots;
  const uint64_t w = lane->w;
  assert(lane->producer_attached);
  assert(lane->d.kind == IBC_EVENTS);
  /* Checks first; nothing is written if one fails (EV-14): Closed, TooLarge, then space. */
  if (IBC_LOAD(&h->closed, memory_order_seq_cst) != 0) return (ibc_result){.status = IBC_CLOSED};
  if (length > lane->d.slot_payload_bytes) return (ibc_result){.status = IBC_TOO_LARGE};
  if (lane->d.on_full == IBC_BLOCK) {
    for (uint32_t round = 0; w - lane->cached_min >= capacity; round++) {
      lane->cached_min = IBC_LOAD(&h->read_seq, memory_order_seq_cst);
      if (w - lane->cached_min < capacity) break;
      if (!blocking) return (ibc_result){.status = IBC_FULL};
      if (ibc_wait_round(deadline_ns, round)) return (ibc_result){.status = IBC_TIMEOUT};
    }
    assert(w - lane->cached_min < capacity); /* the slot is ours: read_seq > w - C */
    ibc_slot_header *slot = ibc_slot(lane, w);
    ibc_access(); /* the payload copy is an access too: a kill here leaves it half written */
    memcpy((void *)ibc_slot_words(slot), payload, length);
    IBC_STORE(&slot->payload_bytes, length, memory_order_relaxed);
    IBC_STORE(&h->write_seq, w + 1, memory_order_release);
    IBC_STORE(&slot->stamp, 2 * w + 2, memory_order_seq_cst); /* publish */
  } else {
    uint64_t target = w;
    if (ibc_defect == IBC_BREAK_DROP_NEWEST && w > 0 &&
        w - IBC_LOAD(&h->read_seq, memory_order_seq_cst) >= capacity)
      target = w - 1; /* defect: replace the newest entry instead of overwriting the oldest */
    ibc_slot_header *slot = ibc_slot(lane, target);
    IBC_STORE(&slot->stamp, 2 * target + 1, memory_order_release); /* first step: entry target - C is gone */
    ibc_store_payload(slot, payload, length);
    IBC_STORE(&slot->stamp, 2 * target + 2, memory_order_release);
    if (target == w) IBC_STORE(&h->write_seq, w + 1, memory_order_seq_cst); /* publish */
    else {
      ibc_wake_if_waiting(&h->consumer_waiting, &h->consumer_wake_epoch, 1);
      return (ibc_result){.status = IBC_OK};
    }
  }
  lane->w = w + 1;
  ibc_wake_if_waiting(&h->consumer_waiting, &h->consumer_wake_epoch, 1);
  return (ibc_result){.status = IBC_OK};
}

ibc_result ibc_events_close(ibc_lane *lane) {
  ibc_events_header *h = ibc_events(lane);
  IBC_STORE(&h->closed, 1, memory_order_seq_cst); /* EV-10: idempotent */
  ibc_wake_if_waiting(&h->consumer_waiting, &h->consumer_wake_epoch, 1);
  return (ibc_result){.status = IBC_OK};
}

static ibc_result deliver(ibc_lane *lane, uint64_t r, uint32_t length) {
  ibc_events_header *h = ibc_events(lane);
  IBC_STORE(&h->read_count, IBC_LOAD(&h->read_count, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  lane->next[0] = r + 1;
  if (lane->d.on_full == IBC_BLOCK) {
    IBC_STORE(&h->read_seq, r + 1, memory_order_seq_cst);
    ibc_wake_if_waiting(&h->producer_waiting, &h->producer_wake_epoch, 0); /* the producer clears its own flag */
  } else {
    IBC_STORE(&h->read_seq, r + 1, memory_order_release);
  }
  return (ibc_result){.status = IBC_ENTRY, .seq = r, .length = length};
}

/* Drop: the entry was overwritten (EV-8); see ibc_acquire_overwrite. */
static ibc_result lost(ibc_lane *lane, uint64_t r, uint64_t stamp_found) {
  ibc_events_header *h = ibc_events(lane);
  const uint64_t capacity = lane->d.capacity_slots;
  ibc_acquire_overwrite(&ibc_slot(lane, r)->stamp, r, stamp_found);
  uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
  lane->cached_w[0] = w;
  uint64_t oldest = w > capacity ? w - capacity : 0;
  uint64_t next = r + 1 > oldest ? r + 1 : oldest;
  assert(next > r); /* a Lost always moves the cursor */
  IBC_STORE(&h->lost_count, IBC_LOAD(&h->lost_count, memory_order_relaxed) + (next - r),
                        memory_order_relaxed);
  IBC_STORE(&h->read_seq, next, memory_order_release);
  lane->next[0] = next;
  return (ibc_result){.status = IBC_LOST, .lost_count = next - r};
}

static ibc_result try_read_once(ibc_lane *lane, uint8_t *out, int check_closed) {
  ibc_events_header *h = ibc_events(lane);
  const uint64_t capacity = lane->d.capacity_slots;
  const uint64_t r = lane->next[0];
  assert(lane->attached[0]);
  assert(lane->d.kind == IBC_EVENTS);
  if (lane->d.on_full == IBC_BLOCK) {
    ibc_slot_header *slot = ibc_slot(lane, r);
    if (IBC_LOAD(&slot->stamp, memory_order_seq_cst) == 2 * r + 2) {
      uint32_t length = IBC_LOAD(&slot->payload_bytes, memory_order_relaxed);
      if (length > lane->d.slot_payload_bytes) length = lane->d.slot_payload_bytes;
      ibc_access();
      memcpy(out, (const void *)ibc_slot_words(slot), length);
      return deliver(lane, r, length);
    }
    if (!check_closed) return (ibc_result){.status = IBC_EMPTY};
    uint32_t closed = IBC_LOAD(&h->closed, memory_order_seq_cst); /* closed first */
    uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    return (ibc_result){.status = closed && w == r ? IBC_CLOSED : IBC_EMPTY};
  }
  if (r == lane->cached_w[0]) {
    uint32_t closed = IBC_LOAD(&h->closed, memory_order_seq_cst);
    lane->cached_w[0] = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    if (r == lane->cached_w[0]) return (ibc_result){.status = closed ? IBC_CLOSED : IBC_EMPTY};
  }
  if (lane->cached_w[0] - r > capacity) return lost(lane, r, 0);
  ibc_slot_header *slot = ibc_slot(lane, r);
  uint64_t before = IBC_LOAD(&slot->stamp, memory_order_acquire);
  if (before != 2 * r + 2) return lost(lane, r, before);
  uint32_t length = ibc_load_payload(lane, slot, out);
  uint64_t after = IBC_LOAD(&slot->stamp, memory_order_relaxed);
  if (after != before) return lost(lane, r, after); /* the copy raced with an overwrite */
  return deliver(lane, r, length);
}

ibc_result ibc_events_read(ibc_lane *lane, uint8_t *out, int blocking, uint64_t deadline_ns) {
  for (uint32_t round = 0;; round++) { /* bounded by deadline_ns */
    ibc_result result = try_read_once(lane, out, 1);
    if (result.status != IBC_EMPTY || !blocking) return result;
    if (ibc_wait_round(deadline_ns, round)) {
      result = try_read_once(lane, out, 1); /* one last check at the deadline */
      return result.status == IBC_EMPTY ? (ibc_result){.status = IBC_TIMEOUT} : result;
    }
  }
}

/* Ring lanes: FanoutBroadcast (FB-*), SequencedSlots (SS-*) and Journal (JR-*), over the shared
 * ring block of layout.md ("Ring lane block" and each kind's section).
 *
 * Every ring slot is a seqlock under both policies: the producer stores stamp 2s+1, the payload
 * words and payload_bytes (release), stamp 2s+2 (release), then write_seq = s+1 (seq_cst) and
 * wakes parked readers. A reader copies entry s only while the stamp reads 2s+2 before and after.
 * A reader done with s stores cursor_seq = s+1 and wakes a parked producer; a Block producer
 * reuses a slot only after loading every gating cursor past it. */
#include "lanes.h"
#include "region.h"
#include "slots.h"

#include <assert.h>
#include <sched.h>

static uint64_t oldest_of(uint64_t w, uint64_t capacity) { return w > capacity ? w - capacity : 0; }
/* JR-4: the oldest entry the next write (entry w) does not overwrite: where a resume behind the
 * window starts, and where the writer adopts a provisional start. */
static uint64_t resume_floor(uint64_t w, uint64_t capacity) { return oldest_of(w + 1, capacity); }

static void publish_entry(ibc_lane *lane, uint64_t w, const uint8_t *payload, uint32_t length, int stamp_odd) {
  ibc_ring_header *h = ibc_ring(lane);
  ibc_slot_header *slot = ibc_slot(lane, w);
  if (stamp_odd) IBC_STORE(&slot->stamp, 2 * w + 1, memory_order_release); /* first step: entry w - C is gone */
  ibc_store_payload(slot, payload, length);
  IBC_STORE(&slot->stamp, 2 * w + 2, memory_order_release);
  IBC_STORE(&h->write_seq, w + 1, memory_order_seq_cst);
  lane->w = w + 1;
  ibc_wake_if_waiting(&h->readers_waiting, &h->reader_wake_epoch, 1);
}

/* A reader is done with everything below `cursor`: store it and wake a parked producer. */
static void publish_cursor(ibc_lane *lane, ibc_reader_record *record, uint64_t cursor) {
  ibc_ring_header *h = ibc_ring(lane);
  if (lane->d.on_full == IBC_DROP && lane->d.kind == IBC_FANOUT) {
    IBC_STORE(&record->cursor_seq, cursor, memory_order_release); /* nobody waits on it */
    return;
  }
  IBC_STORE(&record->cursor_seq, cursor, memory_order_seq_cst);
  ibc_wake_if_waiting(&h->producer_waiting, &h->producer_wake_epoch, 0);
}

static void add_relaxed(_Atomic uint64_t *word, uint64_t n) {
  IBC_STORE(word, IBC_LOAD(word, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Smallest cursor among the records that gate a Block producer: all of them (FanoutBroadcast),
 * the leaves (SequencedSlots), the attached ones (Journal; w if none). */
static uint64_t gating_min(ibc_lane *lane) {
  ibc_reader_record *records = ibc_records(lane);
  uint64_t least = lane->w;
  for (uint32_t r = 0; r < lane->d.reader_count; r++) {
    if (lane->d.kind == IBC_SEQUENCED_SLOTS && !(lane->leaves_mask & (UINT64_C(1) << r))) continue;
    if (lane->d.kind == IBC_JOURNAL && IBC_LOAD(&records[r].state, memory_order_seq_cst) != IBC_RS_ATTACHED)
      continue;
    /* Journal: a tagged heartbeat is an eviction or a detach whose state is not settled yet. */
    if (lane->d.kind == IBC_JOURNAL && (IBC_LOAD(&records[r].heartbeat_ns, memory_order_seq_cst) & IBC_HEARTBEAT_TAGS))
      continue;
    uint64_t cursor = IBC_LOAD(&records[r].cursor_seq, memory_order_seq_cst);
    if (lane->d.kind == IBC_JOURNAL) {
      /* An attach in progress: a claiming record does not gate; a provisional one is adopted at
       * max(its value, the oldest entry the next write keeps), unless its attacher fixed its start first
       * (the CAS then returns that start). Each failed CAS is an attach that finished; after 4,
       * gate at the untagged value (safe; layout.md, "Attach ordering"). */
      for (int tries = 0; cursor & IBC_CURSOR_PROVISIONAL; tries++) {
        if (IBC_IS_CLAIMING(cursor)) break;
        uint64_t start = cursor & IBC_CURSOR_VALUE_MASK;
        if (tries == 4) { cursor = start; break; }
        uint64_t floor = resume_floor(lane->w, lane->d.capacity_slots);
        if (floor > start) start = floor;
        if (IBC_CAS(&records[r].cursor_seq, &cursor, start, memory_order_seq_cst,
                                                    memory_order_seq_cst))
          cursor = start;
      }
      if (IBC_IS_CLAIMING(cursor)) continue;
    }
    if (cursor < least) least = cursor;
  }
  return least;
}

static void journal_unlock_attach(ibc_ring_header *h, uint32_t self);

/* Under attach_lock: a record still Attached whose heartbeat carries a tag gets the state the tag
 * decided (layout.md, "Journal", eviction). Only lock holders store a Journal state. */
static void journal_settle(ibc_reader_record *record) {
  if (IBC_LOAD(&record->state, memory_order_seq_cst) != IBC_RS_ATTACHED) return;
  uint64_t heartbeat = IBC_LOAD(&record->heartbeat_ns, memory_order_seq_cst);
  if (heartbeat & IBC_HEARTBEAT_EVICTED) IBC_STORE(&record->state, IBC_RS_EVICTED, memory_order_seq_cst);
  else if (heartbeat & IBC_HEARTBEAT_DETACHED) IBC_STORE(&record->state, IBC_RS_DETACHED, memory_order_seq_cst);
}

/* Settles every record if attach_lock is free now (one CAS, never waiting); else the next try does. */
static int journal_try_settle(ibc_lane *lane) {
  ibc_ring_header *h = ibc_ring(lane);
  uint32_t free_lock = 0;
  if (!IBC_CAS(&h->attach_lock, &free_lock, lane->pid, memory_order_seq_cst, memory_order_seq_cst)) return 0;
  for (uint32_t r = 0; r < lane->d.reader_count; r++) journal_settle(&ibc_records(lane)[r]);
  journal_unlock_attach(h, lane->pid);
  return 1;
}

/* JR-10: evict every attached reader that holds the writer back and is silent too long, by a CAS
 * of its heartbeat from the value judged silent to that value tagged evicted (a reader call's CAS
 * of the same word comes first or fails); then settle the states. */
static void journal_evict(ibc_lane *lane) {
  if (lane->d.reader_timeout_ns == 0) return;
  ibc_ring_header *h = ibc_ring(lane);
  ibc_reader_record *records = ibc_records(lane);
  uint64_t now_ns = ibc_now_ns();
  for (uint32_t r = 0; r < lane->d.reader_count; r++) {
    uint32_t state = IBC_LOAD(&records[r].state, memory_order_seq_cst);
    if (state != IBC_RS_ATTACHED) continue;
    uint64_t cursor = IBC_LOAD(&records[r].cursor_seq, memory_order_seq_cst);
    if (cursor & IBC_CURSOR_PROVISIONAL) continue; /* attaching: it has just heartbeat */
    if (cursor > lane->w || lane->w - cursor < lane->d.capacity_slots) continue;
    uint64_t heartbeat_ns = IBC_LOAD(&records[r].heartbeat_ns, memory_order_seq_cst);
    if (heartbeat_ns & IBC_HEARTBEAT_TAGS) continue;
    if (now_ns <= heartbeat_ns || now_ns - heartbeat_ns <= lane->d.reader_timeout_ns) continue;
    if (IBC_CAS(&records[r].heartbeat_ns, &heartbeat_ns, heartbeat_ns | IBC_HEARTBEAT_EVICTED,
                memory_order_seq_cst, memory_order_seq_cst)) {
      IBC_FETCH_ADD(&h->eviction_count, 1, memory_order_seq_cst);
      lane->settle_pending = 1;
    }
  }
  if (lane->settle_pending && journal_try_settle(lane)) lane->settle_pending = 0;
}

/* Room for entry w under Block? Reloads the cursors only when the cached minimum says full. */
static int has_room(ibc_lane *lane) {
  const uint64_t capacity = lane->d.capacity_slots;
  if (lane->d.kind == IBC_JOURNAL) {
    ibc_ring_header *h = ibc_ring(lane);
    /* seq_cst, after the seq_cst write_seq store of the previous write: the other side of a
     * resume's fence (layout.md, "Attach ordering", resume by name). */
    uint32_t epoch = IBC_LOAD(&h->attach_epoch, memory_order_seq_cst);
    if (lane->cached_valid && epoch == lane->cached_epoch && lane->w - lane->cached_min < capacity) return 1;
    if (lane->settle_pending && journal_try_settle(lane)) lane->settle_pending = 0;
    lane->cached_epoch = IBC_FETCH_ADD(&h->attach_epoch, 0, memory_order_seq_cst);
    lane->cached_valid = 1;
    lane->cached_min = gating_min(lane);
    if (lane->w - lane->cached_min < capacity) return 1;
    journal_evict(lane);
    lane->cached_min = gating_min(lane);
    return lane->w - lane->cached_min < capacity;
  }
  if (lane->w - lane->cached_min < capacity) return 1;
  lane->cached_min = gating_min(lane);
  return lane->w - lane->cached_min < capacity;
}

int ibc_ring_attach_producer(ibc_lane *lane) {
  ibc_ring_header *h = ibc_ring(lane);
  int rc = ibc_claim_pid(&h->producer_pid, lane->pid);
  if (rc != 0) return rc;
  lane->w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
  lane->cached_min = 0; /* too low is safe: the first full check reloads */
  lane->cached_valid = 0;
  lane->claim_outstanding = 0;
  if (lane->d.kind == IBC_SEQUENCED_SLOTS) { /* leaves: no other consumer is gated on them */
    uint64_t all = lane->d.reader_count == 64 ? ~UINT64_C(0) : (UINT64_C(1) << lane->d.reader_count) - 1;
    uint64_t gated_on = 0;
    for (uint32_t r = 0; r < lane->d.reader_count; r++) gated_on |= ibc_records(lane)[r].gated_on_mask;
    lane->leaves_mask = all & ~gated_on;
  }
  lane->producer_attached = 1;
  return 0;
}

void ibc_ring_detach_producer(ibc_lane *lane) {
  ibc_release_pid(&ibc_ring(lane)->producer_pid, lane->pid);
  lane->producer_attached = 0;
}

static int valid_name(const char *name) { return name == NULL || strlen(name) <= 32; }

/* layout.md "Attach ordering": attaches take turns under attach_lock (a pid, 0 if free; a dead
 * holder's is free too), waiting at most 100 ms for a live holder. Only attaches change a
 * Journal record's pid, so under the lock no pid changes between a load and the CAS after it. */
static int journal_lock_attach(ibc_ring_header *h, uint32_t self) {
  const uint64_t deadline_ns = ibc_now_ns() + 100000000u;
  for (;;) {
    uint32_t seen = IBC_LOAD(&h->attach_lock, memory_order_seq_cst);
    if ((seen == 0 || (seen != self && !ibc_pid_alive(seen))) &&
        IBC_CAS(&h->attach_lock, &seen, self, memory_order_seq_cst,
                                                memory_order_seq_cst))
      return 0;
    if (ibc_now_ns() >= deadline_ns) return IBC_ROLE_TAKEN;
    sched_yield();
  }
}

static void journal_unlock_attach(ibc_ring_header *h, uint32_t self) {
  IBC_CAS(&h->attach_lock, &self, 0, memory_order_seq_cst, memory_order_seq_cst);
}

/* Journal attach (JR-2, JR-3, JR-4): resume the record carrying `name`, or take a fresh one. */
static int journal_attach_locked(ibc_lane *lane, uint32_t reader, const char *name);

/* An attach's heartbeat (under attach_lock): one CAS from *seen to max(now, its value + 1), above
 * every value the record held, so the writer's eviction CAS on a previous holder's value never
 * matches. Fails only if the writer tagged it evicted since (*seen then holds the tag). */
static int journal_try_claim_heartbeat(ibc_lane *lane, uint32_t reader, ibc_reader_record *record, uint64_t *seen) {
  uint64_t fresh = ibc_now_ns() & ~IBC_HEARTBEAT_TAGS;
  if ((*seen & ~IBC_HEARTBEAT_TAGS) != 0 && fresh < (*seen & ~IBC_HEARTBEAT_TAGS) + 1)
    fresh = (*seen & ~IBC_HEARTBEAT_TAGS) + 1;
  if (!IBC_CAS(&record->heartbeat_ns, seen, fresh, memory_order_seq_cst, memory_order_seq_cst)) return 0;
  lane->heartbeat[reader] = fresh;
  return 1;
}

/* The same once the writer skips the record (claiming cursor, or not Attached): whatever the word
 * holds is replaced (the writer, which may have loaded it before, tags a value at most once). */
static void journal_claim_heartbeat(ibc_lane *lane, uint32_t reader, ibc_reader_record *record) {
  uint64_t seen = IBC_LOAD(&record->heartbeat_ns, memory_order_seq_cst);
  if (journal_try_claim_heartbeat(lane, reader, record, &seen)) return;
  if (journal_try_claim_heartbeat(lane, reader, record, &seen)) return;
  uint64_t fresh = (seen & ~IBC_HEARTBEAT_TAGS) + 1; /* a region off the protocol */
  IBC_STORE(&record->heartbeat_ns, fresh, memory_order_seq_cst);
  lane->heartbeat[reader] = fresh;
}

/* A record another attach may not take: Attached by a live pid, its heartbeat untagged. */
static int journal_held(ibc_reader_record *record, uint32_t state, uint32_t holder) {
  if (state != IBC_RS_ATTACHED || holder == 0 || !ibc_pid_alive(holder)) return 0;
  return (IBC_LOAD(&record->heartbeat_ns, memory_order_seq_cst) & IBC_HEARTBEAT_TAGS) == 0;
}

static int journal_attach(ibc_lane *lane, uint32_t reader, const char *name) {
  if (!valid_name(name)) return IBC_BAD_NAME;
  ibc_ring_header *h = ibc_ring(lane);
  int rc = journal_lock_attach(h, lane->pid);
  if (rc != 0) return rc;
  rc = journal_attach_locked(lane, reader, name);
  if (rc == 0) lane->cursor_stored[reader] = lane->next[reader]; /* every attach leaves its start */
  journal_unlock_attach(h, lane->pid);
  return rc;
}

static int journal_attach_locked(ibc_lane *lane, uint32_t reader, const char *name) {
  ibc_ring_header *h = ibc_ring(lane);
  ibc_reader_record *records = ibc_records(lane);
  const uint32_t n = lane->d.reader_count;
  const int named = name != NULL && name[0] != '\0';
  if (!valid_name(name)) return IBC_BAD_NAME;
  for (uint32_t r = 0; r < n; r++) journal_settle(&records[r]); /* tags decide states first */
  if (named) {
    for (uint32_t r = 0; r < n; r++) {
      uint32_t state = IBC_LOAD(&records[r].state, memory_order_seq_cst);
      if (state == IBC_RS_FREE || strncmp(records[r].name, name, 32) != 0) continue;
      uint32_t holder = IBC_LOAD(&records[r].pid, memory_order_acquire);
      if (journal_held(&records[r], state, holder)) return IBC_ROLE_TAKEN;
      if (!IBC_CAS(&records[r].pid, &holder, lane->pid, memory_order_acq_rel,
                                                   memory_order_acquire))
        return IBC_ROLE_TAKEN;

      /* JR-4, layout.md "Attach ordering" (resume by name): claiming, state, provisional, bump,
       * fence, then the start max(c, w + 1 - C) unless the writer adopted one first. This agent
       * uses the symmetric barrier: a seq_cst fence, against the writer's seq_cst write_seq store
       * and seq_cst epoch load. A holder that died mid-attach may have left a tag: the value
       * under it is its start. */
      uint64_t committed = IBC_LOAD(&records[r].cursor_seq, memory_order_seq_cst);
      /* Attached by a dead process, untagged: it keeps gating if the heartbeat CAS beats the
       * writer's eviction CAS; lost, it was evicted just now (a resume of an Evicted record). */
      uint64_t seen_heartbeat = IBC_LOAD(&records[r].heartbeat_ns, memory_order_seq_cst);
      if (state == IBC_RS_ATTACHED && !(seen_heartbeat & IBC_HEARTBEAT_TAGS) && !(committed & IBC_CURSOR_PROVISIONAL) &&
          journal_try_claim_heartbeat(lane, reader, &records[r], &seen_heartbeat)) {
        /* Attached by a dead process: its cursor gated the writer all along, so no write is in
         * flight over it; resume at max(c, w - C) with no tag (JR-4). */
        IBC_FETCH_ADD(&h->attach_epoch, 1, memory_order_seq_cst);
        uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
        uint64_t oldest = oldest_of(w, lane->d.capacity_slots);
        lane->pending_lost[reader] = 0;
        if (committed < oldest) { /* Drop: the writer did not wait for it */
          add_relaxed(&records[r].lost_count, oldest - committed);
          lane->pending_lost[reader] = oldest - committed;
          committed = oldest;
          publish_cursor(lane, &records[r], committed);
        }
        lane->record[reader] = r;
        lane->next[reader] = committed;
        lane->attached[reader] = 1;
        return 0;
      }
      if (committed & IBC_CURSOR_PROVISIONAL) committed &= IBC_CURSOR_VALUE_MASK;
      /* The claiming tag carries the committed cursor: a resumer that dies before the
       * provisional store leaves it for the next resume of the name. */
      IBC_STORE(&records[r].cursor_seq, IBC_CLAIMING_CURSOR(committed), memory_order_seq_cst);
      journal_claim_heartbeat(lane, reader, &records[r]); /* once the writer skips the record */
      IBC_STORE(&records[r].state, IBC_RS_ATTACHED, memory_order_seq_cst);
      const uint64_t provisional = committed | IBC_CURSOR_PROVISIONAL;
      IBC_STORE(&records[r].cursor_seq, provisional, memory_order_seq_cst);
      IBC_FETCH_ADD(&h->attach_epoch, 1, memory_order_seq_cst);
      atomic_thread_fence(memory_order_seq_cst);
      uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
      uint64_t cursor = resume_floor(w, lane->d.capacity_slots);
      if (cursor < committed) cursor = committed;
      uint64_t seen = provisional;
      if (!IBC_CAS(&records[r].cursor_seq, &seen, cursor, memory_order_seq_cst, memory_order_seq_cst))
        cursor = seen; /* the writer's adopted start */
      lane->pending_lost[reader] = 0;
      if (cursor > committed) { /* JR-4: resumed behind the window, reported as Lost next */
        add_relaxed(&records[r].lost_count, cursor - committed);
        lane->pending_lost[reader] = cursor - committed;
      }
      lane->record[reader] = r;
      lane->next[reader] = cursor;
      lane->attached[reader] = 1;
      return 0;
    }
  }
  for (uint32_t r = 0; r < n; r++) {
    uint32_t state = IBC_LOAD(&records[r].state, memory_order_seq_cst);
    uint32_t holder = IBC_LOAD(&records[r].pid, memory_order_acquire);
    int anonymous = records[r].name[0] == '\0';
    int takeable = (state == IBC_RS_FREE && (holder == 0 || !ibc_pid_alive(holder))) ||
                   (anonymous && (state == IBC_RS_DETACHED || state == IBC_RS_EVICTED ||
                                  (state == IBC_RS_ATTACHED && !journal_held(&records[r], state, holder))));
    if (!takeable) continue;
    if (!IBC_CAS(&records[r].pid, &holder, lane->pid, memory_order_acq_rel,
                                                 memory_order_acquire))
      continue;
    if (IBC_LOAD(&records[r].state, memory_order_seq_cst) != state) {
      /* the writer evicted it (Attached by a dead pid) between the loads and the CAS */
      uint32_t self = lane->pid;
      IBC_CAS(&records[r].pid, &self, holder, memory_order_seq_cst,
                                              memory_order_seq_cst);
      continue;
    }
    if (named) {
      memset(records[r].name, 0, sizeof records[r].name);
      memcpy(records[r].name, name, strlen(name));
      IBC_STORE(&records[r].cursor_seq, IBC_CLAIMING_CURSOR(0), memory_order_seq_cst);
      journal_claim_heartbeat(lane, reader, &records[r]); /* once the writer skips the record */
      IBC_STORE(&records[r].state, IBC_RS_ATTACHED, memory_order_seq_cst);
      for (uint32_t o = 0; o < n; o++) {
        if (o == r || IBC_LOAD(&records[o].state, memory_order_seq_cst) == IBC_RS_FREE) continue;
        if (strncmp(records[o].name, name, 32) != 0) continue;
        memset(records[r].name, 0, sizeof records[r].name); /* someone else carries it: undo */
        IBC_STORE(&records[r].cursor_seq, 0, memory_order_seq_cst);
        IBC_STORE(&records[r].state, IBC_RS_FREE, memory_order_seq_cst);
        IBC_STORE(&records[r].pid, 0, memory_order_seq_cst);
        return IBC_ROLE_TAKEN;
      }
    } else {
      /* Claiming cursor, then state, then the provisional cursor (layout.md "Attach ordering"):
       * a writer that adopts the provisional cursor then always sees the record attached. */
      IBC_STORE(&records[r].cursor_seq, IBC_CLAIMING_CURSOR(0), memory_order_seq_cst);
      journal_claim_heartbeat(lane, reader, &records[r]); /* once the writer skips the record */
      memset(records[r].name, 0, sizeof records[r].name);
      IBC_STORE(&records[r].state, IBC_RS_ATTACHED, memory_order_seq_cst);
    }
    /* JR-3, layout.md "Attach ordering": a provisional start W0, then the live tail W1 unless
     * the writer adopted the provisional cursor first (the CAS fails and holds its choice). */
    uint64_t provisional = IBC_LOAD(&h->write_seq, memory_order_seq_cst) | IBC_CURSOR_PROVISIONAL;
    IBC_STORE(&records[r].cursor_seq, provisional, memory_order_seq_cst);
    IBC_STORE(&records[r].read_count, 0, memory_order_relaxed);
    IBC_STORE(&records[r].lost_count, 0, memory_order_relaxed);
    IBC_STORE(&records[r].state, IBC_RS_ATTACHED, memory_order_seq_cst);
    IBC_FETCH_ADD(&h->attach_epoch, 1, memory_order_seq_cst);
    uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    uint64_t seen = provisional;
    if (!IBC_CAS(&records[r].cursor_seq, &seen, w, memory_order_seq_cst,
                                                 memory_order_seq_cst))
      w = seen; /* the writer's adopted start */
    lane->record[reader] = r;
    lane->next[reader] = w;
    lane->pending_lost[reader] = 0;
    lane->attached[reader] = 1;
    return 0;
  }
  return IBC_NO_FREE_READER;
}

int ibc_ring_attach_reader(ibc_lane *lane, uint32_t reader, const char *name) {
  if (reader >= IBC_READER_COUNT_MAX) return IBC_BAD_READER;
  if (lane->d.kind == IBC_JOURNAL) return journal_attach(lane, reader, name);
  if (reader >= lane->d.reader_count) return IBC_BAD_READER;
  ibc_reader_record *record = &ibc_records(lane)[reader];
  int rc = ibc_claim_pid(&record->pid, lane->pid);
  if (rc != 0) return rc;
  IBC_STORE(&record->state, IBC_RS_ATTACHED, memory_order_seq_cst);
  lane->record[reader] = reader;
  lane->next[reader] = IBC_LOAD(&record->cursor_seq, memory_order_seq_cst); /* FB-1: resume */
  lane->cached_w[reader] = lane->next[reader];
  lane->attached[reader] = 1;
  return 0;
}

void ibc_ring_detach_reader(ibc_lane *lane, uint32_t reader) {
  ibc_reader_record *record = &ibc_records(lane)[lane->record[reader]];
  lane->attached[reader] = 0;
  if (lane->d.kind == IBC_JOURNAL) {
    /* The detach is a CAS of the heartbeat to its value tagged detached (failing: evicted first);
     * the state follows under attach_lock, now if it is free, else at the next attach. */
    uint64_t seen = lane->heartbeat[reader];
    if (IBC_CAS(&record->heartbeat_ns, &seen, seen | IBC_HEARTBEAT_DETACHED, memory_order_seq_cst,
                memory_order_seq_cst)) {
      ibc_wake_if_waiting(&ibc_ring(lane)->producer_waiting, &ibc_ring(lane)->producer_wake_epoch, 0);
      (void)journal_try_settle(lane);
    }
    return; /* the pid stays: only attaches, under attach_lock, change it */
  }
  ibc_release_pid(&record->pid, lane->pid);
}

ibc_result ibc_ring_close(ibc_lane *lane) {
  ibc_ring_header *h = ibc_ring(lane);
  IBC_STORE(&h->closed, 1, memory_order_seq_cst);
  lane->claim_outstanding = 0; /* SS-10: an outstanding claim is abandoned */
  ibc_wake_if_waiting(&h->readers_waiting, &h->reader_wake_epoch, 1);
  return (ibc_result){.status = IBC_OK};
}

ibc_result ibc_ring_write(ibc_lane *lane, const uint8_t *payload, uint32_t length, int blocking, uint64_t deadline_ns) {
  ibc_ring_header *h = ibc_ring(lane);
  if (IBC_LOAD(&h->closed, memory_order_seq_cst) != 0) return (ibc_result){.status = IBC_CLOSED};
  if (length > lane->d.slot_payload_bytes) return (ibc_result){.status = IBC_TOO_LARGE};
  if (lane->d.on_full == IBC_BLOCK)
    for (uint32_t round = 0; !has_room(lane); round++) {
      if (!blocking) return (ibc_result){.status = IBC_FULL};
      if (ibc_wait_round(deadline_ns, round)) return (ibc_result){.status = IBC_TIMEOUT};
    }
  publish_entry(lane, lane->w, payload, length, 1);
  return (ibc_result){.status = IBC_OK};
}

ibc_result ibc_seq_claim(ibc_lane *lane, int blocking, uint64_t deadline_ns) {
  ibc_ring_header *h = ibc_ring(lane);
  if (IBC_LOAD(&h->closed, memory_order_seq_cst) != 0) return (ibc_result){.status = IBC_CLOSED};
  if (lane->claim_outstanding) return (ibc_result){.status = IBC_OK, .seq = lane->w}; /* SS-2: same claim */
  if (lane->d.on_full == IBC_BLOCK)
    for (uint32_t round = 0; !has_room(lane); round++) {
      if (!blocking) return (ibc_result){.status = IBC_FULL};
      if (ibc_wait_round(deadline_ns, round)) return (ibc_result){.status = IBC_TIMEOUT};
    }
  /* SS-8: the claim destroys the entry in its slot at once. */
  /* Release: a Drop consumer that finds its entry destroyed by this store must also see every
   * publish before it (ring.hpp, "Slots are seqlocks"); the fence orders it before the payload. */
  IBC_STORE(&ibc_slot(lane, lane->w)->stamp, 2 * lane->w + 1, memory_order_release);
  if (lane->d.on_full == IBC_DROP) atomic_thread_fence(memory_order_release);
  lane->claim_outstanding = 1;
  return (ibc_result){.status = IBC_OK, .seq = lane->w};
}

int ibc_seq_publish(ibc_lane *lane, uint64_t seq, const uint8_t *payload, uint32_t length, ibc_result *result) {
  ibc_ring_header *h = ibc_ring(lane);
  if (IBC_LOAD(&h->closed, memory_order_seq_cst) != 0) {
    *result = (ibc_result){.status = IBC_CLOSED};
    return 0;
  }
  if (!lane->claim_outstanding || seq != lane->w) return -1;
  assert(lane->producer_attached);
  if (length > lane->d.slot_payload_bytes) {
    *result = (ibc_result){.status = IBC_TOO_LARGE}; /* SS-2: the claim is kept */
    return 0;
  }
  publish_entry(lane, lane->w, payload, length, 0);
  lane->claim_outstanding = 0;
  *result = (ibc_result){.status = IBC_OK, .seq = seq};
  return 0;
}

/* Journal: every reader call begins with its heartbeat, a CAS from the value it stored last to
 * max(now, that value + 1) (JR-10; layout.md, "Journal"): failing, the writer tagged it evicted (or an
 * attach took the record from a process taken for dead). The value moves even when the clock does
 * not, so a writer's CAS on the previous one fails. */
static int journal_alive(ibc_lane *lane, uint32_t reader, ibc_reader_record *record) {
  uint64_t seen = lane->heartbeat[reader];
  uint64_t fresh = ibc_now_ns() & ~IBC_HEARTBEAT_TAGS;
  if (fresh < seen + 1) fresh = seen + 1; /* above it even at the same clock reading */
  if (!IBC_CAS(&record->heartbeat_ns, &seen, fresh, memory_order_seq_cst, memory_order_seq_cst)) return 0;
  lane->heartbeat[reader] = fresh;
  return 1;
}

/* Mid-call: is the heartbeat still the one this reader stored (a tag being final: untagged all
 * along)? A load: the call's heartbeat is the one of its start. */
static int journal_still_alive(ibc_lane *lane, uint32_t reader, ibc_reader_record *record) {
  return IBC_LOAD(&record->heartbeat_ns, memory_order_seq_cst) == lane->heartbeat[reader];
}

/* SequencedSlots Lost (Drop): skip every entry whose slot was claimed or written again. */
static uint64_t seq_lost_target(ibc_lane *lane, uint64_t r, uint64_t w) {
  const uint64_t capacity = lane->d.capacity_slots;
  uint64_t t = oldest_of(w, capacity);
  if (t < r + 1) t = r + 1;
  for (uint64_t steps = 0; t < w && steps <= capacity; steps++, t++)
    if (IBC_LOAD(&ibc_slot(lane, t)->stamp, memory_order_acquire) <= 2 * t + 2) break;
  return t;
}

static ibc_result report_lost(ibc_lane *lane, uint32_t reader, ibc_reader_record *record, uint64_t r, uint64_t next) {
  assert(next > r); /* a Lost always moves the cursor */
  assert(reader < IBC_READER_COUNT_MAX);
  add_relaxed(&record->lost_count, next - r);
  lane->next[reader] = next;
  if (lane->d.kind != IBC_JOURNAL) publish_cursor(lane, record, next); /* Journal: only commit stores it */
  return (ibc_result){.status = IBC_LOST, .lost_count = next - r};
}

/* One look at the lane for the reader, past a Journal call's heartbeat (which the caller took). */
static ibc_result ring_poll(ibc_lane *lane, uint32_t reader, uint8_t *out) {
  ibc_ring_header *h = ibc_ring(lane);
  ibc_reader_record *records = ibc_records(lane);
  ibc_reader_record *record = &records[lane->record[reader]];
  const uint64_t capacity = lane->d.capacity_slots;
  const uint64_t r = lane->next[reader];
  const int drop = lane->d.on_full == IBC_DROP;
  assert(lane->attached[reader]);
  assert(lane->record[reader] < lane->d.reader_count);
  if (lane->d.kind == IBC_JOURNAL) {
    if (lane->pending_lost[reader] != 0) { /* counted at attach already */
      uint64_t count = lane->pending_lost[reader];
      lane->pending_lost[reader] = 0;
      return (ibc_result){.status = IBC_LOST, .lost_count = count};
    }
  }
  uint32_t closed = IBC_LOAD(&h->closed, memory_order_seq_cst); /* closed before write_seq */
  uint64_t w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
  /* Journal: an Entry or Closed found after the heartbeat may postdate this reader's eviction (the
   * call preempted past the timeout meanwhile): answered only while the heartbeat is still the
   * call's (layout.md, "Journal", Read). Empty needs no check: write_seq and closed only grow. */
  if (r == w) {
    if (closed && lane->d.kind == IBC_JOURNAL && !journal_still_alive(lane, reader, record))
      return (ibc_result){.status = IBC_EVICTED};
    return (ibc_result){.status = closed ? IBC_CLOSED : IBC_EMPTY};
  }
  if (r > w) return (ibc_result){.status = IBC_EMPTY}; /* a corrupt cursor: never read ahead */
  ibc_slot_header *slot = ibc_slot(lane, r);
  if (lane->d.kind == IBC_SEQUENCED_SLOTS) {
    if (drop && (w - r > capacity || IBC_LOAD(&slot->stamp, memory_order_acquire) > 2 * r + 2))
      return report_lost(lane, reader, record, r, seq_lost_target(lane, r, w));
    uint64_t gates = record->gated_on_mask;
    for (uint32_t j = 0; j < lane->d.reader_count; j++) /* SS-4: wait for every gate to finish r */
      if ((gates & (UINT64_C(1) << j)) && IBC_LOAD(&records[j].cursor_seq, memory_order_acquire) <= r)
        return (ibc_result){.status = IBC_EMPTY};
  } else if (w - r > capacity) {
    if (lane->d.kind == IBC_JOURNAL && !journal_still_alive(lane, reader, record))
      return (ibc_result){.status = IBC_EVICTED};
    uint64_t now_w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    uint64_t oldest = oldest_of(now_w, capacity);
    return report_lost(lane, reader, record, r, r + 1 > oldest ? r + 1 : oldest);
  }
  uint64_t before = IBC_LOAD(&slot->stamp, memory_order_acquire);
  uint32_t length = 0;
  if (before == 2 * r + 2) {
    length = ibc_load_payload(lane, slot, out);
    if (IBC_LOAD(&slot->stamp, memory_order_relaxed) == before) {
      if (lane->d.kind == IBC_JOURNAL && !journal_still_alive(lane, reader, record))
        return (ibc_result){.status = IBC_EVICTED};
      add_relaxed(&record->read_count, 1);
      lane->next[reader] = r + 1;
      if (lane->d.kind != IBC_JOURNAL) {
        publish_cursor(lane, record, r + 1);
        /* SS: a consumer gated on this one may be parked waiting for this cursor. */
        if (lane->d.kind == IBC_SEQUENCED_SLOTS) ibc_wake_if_waiting(&h->readers_waiting, &h->reader_wake_epoch, 1);
      }
      return (ibc_result){.status = IBC_ENTRY, .seq = r, .length = length};
    }
  } else if (before < 2 * r + 2) {
    return (ibc_result){.status = IBC_EMPTY}; /* not written yet: impossible once write_seq > r */
  }
  /* Overwritten before or during the copy. */
  if (lane->d.kind == IBC_SEQUENCED_SLOTS) {
    if (!drop) return (ibc_result){.status = IBC_EMPTY};
    /* The re-check's relaxed load may have seen the claim: acquire it before the cursor moves, or
     * a consumer gated on this one may still copy the destroyed entry (ring.hpp, read_slot). */
    (void)IBC_LOAD(&slot->stamp, memory_order_acquire);
    w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
    return report_lost(lane, reader, record, r, seq_lost_target(lane, r, w));
  }
  (void)IBC_LOAD(&slot->stamp, memory_order_acquire); /* Lost at once: see ibc_acquire_overwrite */
  if (lane->d.kind == IBC_JOURNAL && !journal_still_alive(lane, reader, record))
    return (ibc_result){.status = IBC_EVICTED};
  w = IBC_LOAD(&h->write_seq, memory_order_seq_cst);
  uint64_t oldest = oldest_of(w, capacity);
  return report_lost(lane, reader, record, r, r + 1 > oldest ? r + 1 : oldest);
}

/* A Journal reader call begins with its heartbeat (JR-10). */
static ibc_result ring_try_read(ibc_lane *lane, uint32_t reader, uint8_t *out) {
  if (lane->d.kind == IBC_JOURNAL && !journal_alive(lane, reader, &ibc_records(lane)[lane->record[reader]]))
    return (ibc_result){.status = IBC_EVICTED};
  return ring_poll(lane, reader, out);
}

/* JR-10 (layout.md, "Journal"): a Journal read heartbeats when it starts, not while it waits, so
 * the rounds only poll. A reader that waits here longer than reader_timeout_ns with entries read
 * but not committed holds the writer back and may be evicted; the writer may then write the very
 * entry this read finds. So a result found after waiting counts only if the heartbeat is still the
 * one this call stored (a load: a tag is final, so it was untagged all along); else Evicted. */
ibc_result ibc_ring_read(ibc_lane *lane, uint32_t reader, uint8_t *out, int blocking, uint64_t deadline_ns) {
  ibc_result result = ring_try_read(lane, reader, out);
  if (result.status != IBC_EMPTY || !blocking) return result;
  for (uint32_t round = 0;; round++) { /* bounded by deadline_ns */
    int last = ibc_wait_round(deadline_ns, round);
    result = ring_poll(lane, reader, out);
    if (result.status == IBC_EMPTY) {
      if (last) return (ibc_result){.status = IBC_TIMEOUT};
      continue;
    }
    if (lane->d.kind == IBC_JOURNAL && !journal_still_alive(lane, reader, &ibc_records(lane)[lane->record[reader]]))
      return (ibc_result){.status = IBC_EVICTED};
    return result;
  }
}

ibc_result ibc_journal_read_at(ibc_lane *lane, uint32_t reader, uint64_t seq, uint8_t *out) {
  ibc_reader_record *record = &ibc_records(lane)[lane->record[reader]];
  if (!journal_alive(lane, reader, record)) return (ibc_result){.status = IBC_EVICTED};
  uint64_t w = IBC_LOAD(&ibc_ring(lane)->write_seq, memory_order_acquire);
  if (seq >= w) { /* NotYet is an Empty: only from a write_seq loaded after a full fence */
    atomic_thread_fence(memory_order_seq_cst);
    w = IBC_LOAD(&ibc_ring(lane)->write_seq, memory_order_seq_cst);
    if (seq >= w) return (ibc_result){.status = IBC_NOT_YET};
  }
  if (seq < oldest_of(w, lane->d.capacity_slots)) return (ibc_result){.status = IBC_EVICTED};
  ibc_slot_header *slot = ibc_slot(lane, seq);
  if (IBC_LOAD(&slot->stamp, memory_order_acquire) != 2 * seq + 2) return (ibc_result){.status = IBC_EVICTED};
  uint32_t length = ibc_load_payload(lane, slot, out);
  if (IBC_LOAD(&slot->stamp, memory_order_relaxed) != 2 * seq + 2) return (ibc_result){.status = IBC_EVICTED};
  /* The entry may postdate this reader's eviction: answered only while still attached. */
  if (!journal_still_alive(lane, reader, record)) return (ibc_result){.status = IBC_EVICTED};
  return (ibc_result){.status = IBC_ENTRY, .seq = seq, .length = length};
}

ibc_result ibc_journal_commit(ibc_lane *lane, uint32_t reader) {
  ibc_reader_record *record = &ibc_records(lane)[lane->record[reader]];
  if (!journal_alive(lane, reader, record)) return (ibc_result){.status = IBC_EVICTED};
  /* JR-5 (layout.md, "Journal", commit): a CAS from the cursor this reader left (failing, a resume
   * by name claimed the record after the writer evicted this reader), then the writer's waiting
   * flag, then the heartbeat again: untagged, the reader was attached at the CAS; tagged, the
   * writer evicted it meanwhile and the commit reports Evicted (its position may stay stored). */
  uint64_t expected = lane->cursor_stored[reader];
  if (!IBC_CAS(&record->cursor_seq, &expected, lane->next[reader], memory_order_seq_cst, memory_order_seq_cst))
    return (ibc_result){.status = IBC_EVICTED};
  lane->cursor_stored[reader] = lane->next[reader];
  ibc_wake_if_waiting(&ibc_ring(lane)->producer_waiting, &ibc_ring(lane)->producer_wake_epoch, 0);
  if (!journal_still_alive(lane, reader, record)) return (ibc_result){.status = IBC_EVICTED};
  return (ibc_result){.status = IBC_OK};
}

ibc_result ibc_journal_heartbeat(ibc_lane *lane, uint32_t reader) {
  ibc_reader_record *record = &ibc_records(lane)[lane->record[reader]];
  if (!journal_alive(lane, reader, record)) return (ibc_result){.status = IBC_EVICTED};
  return (ibc_result){.status = IBC_OK};
}

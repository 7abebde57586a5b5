/* indexbus-agent-c: an IndexBus v1 agent in plain C11, written from spec/agent-protocol.md,
 * spec/layout.md and spec/v1-semantics.md only. It speaks the framed JSON protocol on stdin and
 * stdout (logs go to stderr) and drives the lanes of one region at a time.
 *
 * Usage: indexbus-agent-c [--break wrong-stride|drop-newest|no-checksum]   (breaks: tests only) */

#include "lanes.h"
#include "region.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME_BYTES (16u * 1024u * 1024u)
#define MAX_DEPTH 64
#define MAX_SCRIPT_OPS 1000000u
#define START_AHEAD_MAX_NS (10ull * 1000000000ull)

static ibc_region g_region;
static ibc_lane g_lanes[IBC_LANE_COUNT_MAX];
/* Buffers allocated once at start-up (none on a lane call): a decoded payload_hex, whose size a
 * frame bounds; a read's copy; its hex text. */
#define PAYLOAD_MAX_BYTES (MAX_FRAME_BYTES / 2)
#define OUT_MAX_BYTES (IBC_SLOT_PAYLOAD_BYTES_MAX + 8)
static uint8_t *g_payload;
static uint8_t *g_out;
static char *g_out_hex;
static uint8_t *g_body; /* one frame's JSON text */

/* ---- framing ---------------------------------------------------------------------------- */

static int read_exact(uint8_t *buffer, size_t count) { /* 1 ok, 0 clean EOF, -1 error/short */
  size_t done = 0;
  while (done < count) {
    ssize_t n = read(STDIN_FILENO, buffer + done, count - done);
    if (n == 0) return done == 0 ? 0 : -1;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)n;
  }
  return 1;
}

static void write_frame(const char *text) {
  size_t length = strlen(text);
  uint8_t prefix[4] = {(uint8_t)length, (uint8_t)(length >> 8), (uint8_t)(length >> 16), (uint8_t)(length >> 24)};
  struct { const uint8_t *p; size_t n; } parts[2] = {{prefix, 4}, {(const uint8_t *)text, length}};
  for (int k = 0; k < 2; k++)
    for (size_t done = 0; done < parts[k].n;) {
      ssize_t n = write(STDOUT_FILENO, parts[k].p + done, parts[k].n - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) exit(0); /* the harness is gone */
      done += (size_t)n;
    }
}

static void send_json(cJSON *message) {
  char *text = cJSON_PrintUnformatted(message);
  if (text == NULL) {
    fprintf(stderr, "indexbus-agent-c: out of memory printing a reply\n");
    exit(1);
  }
  write_frame(text);
  free(text);
  cJSON_Delete(message);
}

static int valid_utf8(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (extra == 9 || (extra == 1 && c < 0xC2) || (extra > 0 && i + extra >= n)) return 0;
    uint32_t code = extra == 0 ? c : (uint32_t)(c & (0x3F >> extra));
    for (size_t k = 1; k <= extra; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (extra == 3 && (code < 0x10000 || code > 0x10FFFF)))
      return 0;
    i += extra + 1;
  }
  return 1;
}

static int depth_ok(const cJSON *item, int depth) {
  if (!cJSON_IsArray(item) && !cJSON_IsObject(item)) return 1;
  if (depth > MAX_DEPTH) return 0;
  for (const cJSON *child = item->child; child != NULL; child = child->next)
    if (!depth_ok(child, depth + 1)) return 0;
  return 1;
}

/* ---- replies and field access ----------------------------------------------------------- */

static void add_u64(cJSON *object, const char *name, uint64_t value) {
  char text[24];
  snprintf(text, sizeof text, "%llu", (unsigned long long)value); /* exact, unlike a double */
  cJSON_AddRawToObject(object, name, text);
}

static cJSON *reply(uint64_t id, const char *type) {
  cJSON *message = cJSON_CreateObject();
  add_u64(message, "id", id);
  cJSON_AddStringToObject(message, "type", type);
  return message;
}

static int send_error(uint64_t id, const char *kind, const char *code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static int send_error(uint64_t id, const char *kind, const char *code, const char *format, ...) {
  char text[768];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  cJSON *message = reply(id, "error");
  cJSON *error = cJSON_AddObjectToObject(message, "error");
  cJSON_AddStringToObject(error, "kind", kind);
  cJSON_AddStringToObject(error, "message", text);
  if (code != NULL) cJSON_AddStringToObject(error, "code", code);
  send_json(message);
  return 0;
}

static int send_unsupported(uint64_t id, const char *reason) {
  cJSON *message = reply(id, "unsupported");
  cJSON_AddStringToObject(message, "reason", reason);
  send_json(message);
  return 0;
}

static int send_ok(uint64_t id, cJSON *result) {
  cJSON *message = reply(id, "ok");
  cJSON_AddItemToObject(message, "result", result != NULL ? result : cJSON_CreateObject());
  send_json(message);
  return 0;
}

/* A request problem found while decoding: kind "bad_request" and the reason. */
typedef struct {
  char reason[256];
} problem;

static int bad(problem *p, const char *format, const char *field) {
  snprintf(p->reason, sizeof p->reason, format, field);
  return -1;
}

/* Integer field in [0, 2^64) (exact up to 2^53: cJSON keeps numbers as doubles). */
static int get_u64(const cJSON *object, const char *name, int required, uint64_t fallback, uint64_t *out, problem *p) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
  if (item == NULL) {
    if (required) return bad(p, "missing required field %s", name);
    *out = fallback;
    return 0;
  }
  double value = item->valuedouble;
  if (!cJSON_IsNumber(item) || value < 0 || value >= 18446744073709551616.0 || floor(value) != value)
    return bad(p, "field %s is not an integer in [0, 2^64)", name);
  *out = (uint64_t)value;
  return 0;
}

static int get_u32(const cJSON *object, const char *name, int required, uint32_t fallback, uint32_t *out, problem *p) {
  uint64_t value = 0;
  if (get_u64(object, name, required, fallback, &value, p) != 0) return -1;
  if (value > UINT32_MAX) return bad(p, "field %s is above 2^32 - 1", name);
  *out = (uint32_t)value;
  return 0;
}

static const char *get_string(const cJSON *object, const char *name, int required, problem *p) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
  if (item == NULL) {
    if (required) bad(p, "missing required field %s", name);
    return NULL;
  }
  if (!cJSON_IsString(item)) {
    bad(p, "field %s is not a string", name);
    return NULL;
  }
  return item->valuestring;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int get_payload(const cJSON *object, uint32_t *length, problem *p) {
  const char *hex = get_string(object, "payload_hex", 1, p);
  if (hex == NULL) return -1;
  size_t digits = strlen(hex);
  if (digits % 2 != 0 || digits / 2 > PAYLOAD_MAX_BYTES) return bad(p, "field %s is not an even-length hex string", "payload_hex");
  for (size_t k = 0; k < digits / 2; k++) {
    int hi = hex_digit(hex[2 * k]), lo = hex_digit(hex[2 * k + 1]);
    if (hi < 0 || lo < 0) return bad(p, "field %s has a character that is not a hex digit", "payload_hex");
    g_payload[k] = (uint8_t)(hi << 4 | lo);
  }
  *length = (uint32_t)(digits / 2);
  return 0;
}

static const char *status_name(ibc_status status) {
  static const char *const names[] = {"Ok", "Full", "Timeout", "Closed", "TooLarge",
                                      "Entry", "Empty", "Lost", "Evicted", "NotYet"};
  return names[status];
}

static const char *kind_name(uint32_t kind) {
  static const char *const names[] = {"?", "events", "journal", "sequenced_slots", "fanout_broadcast"};
  return kind <= 4 ? names[kind] : "?";
}

/* ---- regions ---------------------------------------------------------------------------- */

static void release_roles(void) {
  for (uint32_t i = 0; i < g_region.lane_count; i++) {
    ibc_lane *lane = &g_lanes[i];
    if (lane->d.kind == IBC_EVENTS) {
      if (lane->producer_attached) ibc_events_detach(lane, 1);
      if (lane->attached[0]) ibc_events_detach(lane, 0);
      continue;
    }
    if (lane->producer_attached) ibc_ring_detach_producer(lane);
    for (uint32_t r = 0; r < IBC_READER_COUNT_MAX; r++)
      if (lane->attached[r]) ibc_ring_detach_reader(lane, r);
  }
  ibc_region_unmap(&g_region);
}

/* Leaves the agent: releases every role and the start-up buffers. */
static int leave(int status) {
  release_roles();
  free(g_body);
  free(g_payload);
  free(g_out);
  free(g_out_hex);
  return status;
}

static void adopt_region(void) {
  for (uint32_t i = 0; i < g_region.lane_count; i++) ibc_lane_init(&g_lanes[i], g_region.base, &g_region.lanes[i]);
}

static int parse_lane_spec(const cJSON *item, ibc_lane_spec *spec, problem *p) {
  memset(spec, 0, sizeof *spec);
  if (!cJSON_IsObject(item)) return bad(p, "%s: a lane spec is not an object", "lanes");
  const char *kind = get_string(item, "kind", 1, p), *on_full = get_string(item, "on_full", 1, p);
  if (kind == NULL || on_full == NULL) return -1;
  for (uint32_t k = 1; k <= 4; k++)
    if (strcmp(kind, kind_name(k)) == 0) spec->kind = k;
  if (spec->kind == 0) return bad(p, "unknown lane kind %s", kind);
  if (strcmp(on_full, "block") == 0) spec->on_full = IBC_BLOCK;
  else if (strcmp(on_full, "drop") == 0) spec->on_full = IBC_DROP;
  else return bad(p, "unknown on_full %s", on_full);
  if (get_u32(item, "capacity_slots", 1, 0, &spec->capacity_slots, p) != 0 ||
      get_u32(item, "slot_payload_bytes", 1, 0, &spec->slot_payload_bytes, p) != 0 ||
      get_u32(item, "reader_count", 0, 1, &spec->reader_count, p) != 0 ||
      get_u64(item, "reader_timeout_ns", 0, 0, &spec->reader_timeout_ns, p) != 0)
    return -1;
  /* gated_on: one entry per consumer, either an array of consumer indices or a bit mask. */
  const cJSON *gated = cJSON_GetObjectItemCaseSensitive(item, "gated_on");
  if (gated == NULL) return 0;
  if (!cJSON_IsArray(gated) || cJSON_GetArraySize(gated) > (int)IBC_READER_COUNT_MAX)
    return bad(p, "field %s is not an array of at most 64 entries", "gated_on");
  uint32_t r = 0;
  for (const cJSON *entry = gated->child; entry != NULL; entry = entry->next, r++) {
    if (cJSON_IsNumber(entry)) {
      if (entry->valuedouble < 0 || floor(entry->valuedouble) != entry->valuedouble)
        return bad(p, "field %s has an entry that is not a mask or an index array", "gated_on");
      spec->gated_on_mask[r] = (uint64_t)entry->valuedouble;
      continue;
    }
    if (!cJSON_IsArray(entry)) return bad(p, "field %s has an entry that is not a mask or an index array", "gated_on");
    for (const cJSON *index = entry->child; index != NULL; index = index->next) {
      if (!cJSON_IsNumber(index) || index->valuedouble < 0 || index->valuedouble >= 64 ||
          floor(index->valuedouble) != index->valuedouble)
        return bad(p, "field %s names a consumer index outside [0, 64)", "gated_on");
      spec->gated_on_mask[r] |= UINT64_C(1) << (uint32_t)index->valuedouble;
    }
  }
  return 0;
}

static int handle_create(uint64_t id, const cJSON *request) {
  problem p = {{0}};
  const char *path = get_string(request, "path", 1, &p);
  const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(request, "lanes");
  if (path == NULL) return send_error(id, "bad_request", NULL, "%s", p.reason);
  if (!cJSON_IsArray(lanes)) return send_error(id, "bad_request", NULL, "field lanes is missing or not an array");
  static ibc_lane_spec specs[IBC_LANE_COUNT_MAX];
  uint32_t count = 0;
  for (const cJSON *item = lanes->child; item != NULL; item = item->next) {
    if (count == IBC_LANE_COUNT_MAX) {
      return send_error(id, "region", "BadLaneCount", "region header: lane_count %d is not in [1, 64]",
                        cJSON_GetArraySize(lanes));
    }
    if (parse_lane_spec(item, &specs[count], &p) != 0) return send_error(id, "bad_request", NULL, "lane %u: %s", count, p.reason);
    count++;
  }
  release_roles();
  ibc_error error = {0};
  if (ibc_region_create(&g_region, path, specs, count, &error) != 0)
    return send_error(id, "region", error.code, "%s", error.message);
  adopt_region();
  cJSON *result = cJSON_CreateObject();
  add_u64(result, "bytes", g_region.bytes);
  return send_ok(id, result);
}

static int handle_open(uint64_t id, const cJSON *request) {
  problem p = {{0}};
  const char *path = get_string(request, "path", 1, &p);
  if (path == NULL) return send_error(id, "bad_request", NULL, "%s", p.reason);
  /* The default Ready wait is 2 s (layout.md), but the reply must come within deadline_ms. */
  uint64_t deadline_ms = 0, ready_timeout_ns = 2000000000u;
  if (get_u64(request, "deadline_ms", 0, 0, &deadline_ms, &p) != 0) return send_error(id, "bad_request", NULL, "%s", p.reason);
  if (deadline_ms != 0 && deadline_ms < 4000) ready_timeout_ns = deadline_ms * 1000000u / 2;
  release_roles();
  ibc_error error = {0};
  if (ibc_region_open(&g_region, path, ready_timeout_ns, &error) != 0)
    return send_error(id, "region", error.code, "%s", error.message);
  adopt_region();
  cJSON *result = cJSON_CreateObject();
  add_u64(result, "lane_count", g_region.lane_count);
  return send_ok(id, result);
}

/* ---- roles and operations --------------------------------------------------------------- */

typedef enum { ROLE_PRODUCER, ROLE_CONSUMER, ROLE_READER } role_kind;

typedef struct {
  ibc_lane *lane;
  uint32_t lane_index;
  role_kind role;
  uint32_t reader;
} target;

/* Decodes lane, role and reader; answers the request itself (and returns -1) when they are
 * not usable. `error_kind` / `message` are filled for the caller to send. */
typedef struct {
  const char *kind;
  const char *code; /* the ErrorCode name the protocol gives this refusal, or NULL */
  char message[256];
} failure;

static int fail_with(failure *f, const char *kind, const char *message) {
  f->kind = kind;
  f->code = NULL;
  snprintf(f->message, sizeof f->message, "%s", message);
  return -1;
}

static int decode_target(const cJSON *request, target *t, failure *f) {
  problem p = {{0}};
  if (g_region.base == NULL) return fail_with(f, "no_region", "no region: create_region or open_region first");
  if (get_u32(request, "lane", 1, 0, &t->lane_index, &p) != 0) return fail_with(f, "bad_request", p.reason);
  if (t->lane_index >= g_region.lane_count) return fail_with(f, "bad_lane", "lane index out of range");
  t->lane = &g_lanes[t->lane_index];
  const char *role = get_string(request, "role", 1, &p);
  if (role == NULL) return fail_with(f, "bad_request", p.reason);
  uint32_t kind = t->lane->d.kind;
  if (strcmp(role, "producer") == 0) t->role = ROLE_PRODUCER;
  else if (strcmp(role, "consumer") == 0 && kind != IBC_JOURNAL) t->role = ROLE_CONSUMER;
  else if (strcmp(role, "reader") == 0 && kind == IBC_JOURNAL) t->role = ROLE_READER;
  else return fail_with(f, "bad_request", "unknown role for this lane kind");
  t->reader = 0;
  if (t->role != ROLE_PRODUCER && kind != IBC_EVENTS) {
    /* The whole 64-bit value is range-checked: 2^32 is an index out of range, not a type error. */
    uint64_t reader = 0;
    if (get_u64(request, "reader", 1, 0, &reader, &p) != 0) return fail_with(f, "bad_request", p.reason);
    if (reader >= IBC_READER_COUNT_MAX || (kind != IBC_JOURNAL && reader >= t->lane->d.reader_count)) {
      fail_with(f, "bad_request", "BadReaderIndex: reader index is not below reader_count");
      f->code = "BadReaderIndex";
      return -1;
    }
    t->reader = (uint32_t)reader;
  }
  return 0;
}

static int role_attached(const target *t) {
  return t->role == ROLE_PRODUCER ? t->lane->producer_attached : t->lane->attached[t->reader];
}

static int handle_attach(uint64_t id, const cJSON *request, int attach) {
  target t;
  failure f = {0};
  if (decode_target(request, &t, &f) != 0) return send_error(id, f.kind, f.code, "%s", f.message);
  if (!attach) {
    if (!role_attached(&t)) return send_error(id, "not_attached", NULL, "role of lane %u is not attached", t.lane_index);
    if (t.lane->d.kind == IBC_EVENTS) ibc_events_detach(t.lane, t.role == ROLE_PRODUCER);
    else if (t.role == ROLE_PRODUCER) ibc_ring_detach_producer(t.lane);
    else ibc_ring_detach_reader(t.lane, t.reader);
    return send_ok(id, NULL);
  }
  problem p = {{0}};
  const char *name = get_string(request, "name", 0, &p);
  if (name == NULL && p.reason[0] != '\0') return send_error(id, "bad_request", NULL, "%s", p.reason);
  int rc;
  if (t.lane->d.kind == IBC_EVENTS) rc = ibc_events_attach(t.lane, t.role == ROLE_PRODUCER);
  else if (t.role == ROLE_PRODUCER) rc = ibc_ring_attach_producer(t.lane);
  else if (t.lane->attached[t.reader]) rc = 0;
  else rc = ibc_ring_attach_reader(t.lane, t.reader, name);
  if (rc == IBC_ROLE_TAKEN) return send_error(id, "role_taken", "RoleTaken", "role of lane %u held by a live process", t.lane_index);
  if (rc == IBC_BAD_NAME) return send_error(id, "bad_request", "BadReaderName", "name is longer than 32 bytes");
  if (rc == IBC_NO_FREE_READER) return send_error(id, "role_taken", "NoFreeReader", "no free reader record on lane %u", t.lane_index);
  if (rc != 0) return send_error(id, "bad_request", "BadReaderIndex", "reader index out of range");
  cJSON *result = cJSON_CreateObject();
  if (t.lane->d.kind == IBC_JOURNAL && t.role == ROLE_READER) add_u64(result, "reader_id", t.lane->record[t.reader]);
  return send_ok(id, result);
}

/* Runs one operation; returns its result object, or NULL with `f` filled (f->kind "unsupported"
 * for an op this kind does not define). */
static cJSON *run_op(const cJSON *request, failure *f) {
  target t;
  problem p = {{0}};
  if (decode_target(request, &t, f) != 0) return NULL;
  const char *op = get_string(request, "op", 1, &p);
  if (op == NULL) return fail_with(f, "bad_request", p.reason), NULL;
  if (!role_attached(&t)) return fail_with(f, "not_attached", "this role of the lane is not attached"), NULL;
  ibc_lane *lane = t.lane;
  const uint32_t kind = lane->d.kind;
  const int producer = t.role == ROLE_PRODUCER;
  uint64_t timeout_ns = 0, seq = 0;
  uint32_t length = 0;
  int blocking = 0;
  enum { WRITE, CLOSE, READ, CLAIM, PUBLISH, READ_AT, COMMIT, HEARTBEAT } what;
  if (producer && (strcmp(op, "try_write") == 0 || strcmp(op, "write") == 0) && kind != IBC_SEQUENCED_SLOTS) what = WRITE;
  else if (producer && strcmp(op, "close") == 0) what = CLOSE;
  else if (!producer && (strcmp(op, "try_read") == 0 || strcmp(op, "read") == 0)) what = READ;
  else if (producer && kind == IBC_SEQUENCED_SLOTS && (strcmp(op, "try_claim") == 0 || strcmp(op, "claim") == 0)) what = CLAIM;
  else if (producer && kind == IBC_SEQUENCED_SLOTS && strcmp(op, "publish") == 0) what = PUBLISH;
  else if (!producer && kind == IBC_JOURNAL && strcmp(op, "read_at") == 0) what = READ_AT;
  else if (!producer && kind == IBC_JOURNAL && strcmp(op, "commit") == 0) what = COMMIT;
  else if (!producer && kind == IBC_JOURNAL && strcmp(op, "heartbeat") == 0) what = HEARTBEAT;
  else {
    snprintf(f->message, sizeof f->message, "op %s is not defined for the %s of %s lanes", op,
             producer ? "producer" : "reader", kind_name(kind));
    f->kind = "unsupported";
    return NULL;
  }
  blocking = strcmp(op, "write") == 0 || strcmp(op, "read") == 0 || strcmp(op, "claim") == 0;
  if (blocking && get_u64(request, "timeout_ns", 1, 0, &timeout_ns, &p) != 0) return fail_with(f, "bad_request", p.reason), NULL;
  if ((what == WRITE || what == PUBLISH) && get_payload(request, &length, &p) != 0) return fail_with(f, "bad_request", p.reason), NULL;
  if ((what == PUBLISH || what == READ_AT) && get_u64(request, "seq", 1, 0, &seq, &p) != 0) return fail_with(f, "bad_request", p.reason), NULL;

  ibc_result result = {.status = IBC_OK};
  uint64_t invoked_ns = ibc_now_ns();
  uint64_t deadline_ns = invoked_ns + timeout_ns; /* computed immediately before the call */
  if (kind == IBC_EVENTS) {
    if (what == WRITE) result = ibc_events_write(lane, g_payload, length, blocking, deadline_ns);
    else if (what == CLOSE) result = ibc_events_close(lane);
    else result = ibc_events_read(lane, g_out, blocking, deadline_ns);
  } else {
    switch (what) {
      case WRITE: result = ibc_ring_write(lane, g_payload, length, blocking, deadline_ns); break;
      case CLOSE: result = ibc_ring_close(lane); break;
      case READ: result = ibc_ring_read(lane, t.reader, g_out, blocking, deadline_ns); break;
      case CLAIM: result = ibc_seq_claim(lane, blocking, deadline_ns); break;
      case PUBLISH:
        if (ibc_seq_publish(lane, seq, g_payload, length, &result) != 0)
          return fail_with(f, "bad_request", "publish of a sequence that is not the outstanding claim"), NULL;
        break;
      case READ_AT: result = ibc_journal_read_at(lane, t.reader, seq, g_out); break;
      case COMMIT: result = ibc_journal_commit(lane, t.reader); break;
      case HEARTBEAT: result = ibc_journal_heartbeat(lane, t.reader); break;
    }
  }
  uint64_t returned_ns = ibc_now_ns();
  cJSON *object = cJSON_CreateObject();
  cJSON_AddStringToObject(object, "status", status_name(result.status));
  if (result.status == IBC_ENTRY || (what == CLAIM && result.status == IBC_OK)) add_u64(object, "seq", result.seq);
  if (result.status == IBC_ENTRY) {
    static const char digits[] = "0123456789abcdef";
    for (uint32_t k = 0; k < result.length; k++) {
      g_out_hex[2 * k] = digits[g_out[k] >> 4];
      g_out_hex[2 * k + 1] = digits[g_out[k] & 15];
    }
    g_out_hex[2 * result.length] = '\0';
    cJSON_AddStringToObject(object, "payload_hex", g_out_hex);
  }
  if (result.status == IBC_LOST) add_u64(object, "lost_count", result.lost_count);
  add_u64(object, "invoked_ns", invoked_ns);
  add_u64(object, "returned_ns", returned_ns);
  return object;
}

static int handle_op(uint64_t id, const cJSON *request) {
  failure f = {0};
  cJSON *result = run_op(request, &f);
  if (result != NULL) return send_ok(id, result);
  if (strcmp(f.kind, "unsupported") == 0) return send_unsupported(id, f.message);
  return send_error(id, f.kind, f.code, "%s", f.message);
}

static int handle_lane_state(uint64_t id, const cJSON *request) {
  problem p = {{0}};
  uint32_t index = 0;
  if (g_region.base == NULL) return send_error(id, "no_region", NULL, "no region: create_region or open_region first");
  if (get_u32(request, "lane", 1, 0, &index, &p) != 0) return send_error(id, "bad_request", NULL, "%s", p.reason);
  if (index >= g_region.lane_count) return send_error(id, "bad_lane", NULL, "lane %u is out of range", index);
  const ibc_lane *lane = &g_lanes[index];
  cJSON *result = cJSON_CreateObject();
  if (lane->d.kind == IBC_EVENTS) { /* consumer words first, as the lane state check reads them */
    ibc_events_header *h = ibc_events(lane);
    uint64_t read_seq = atomic_load_explicit(&h->read_seq, memory_order_acquire);
    add_u64(result, "read_seq", read_seq);
    add_u64(result, "read_count", atomic_load_explicit(&h->read_count, memory_order_relaxed));
    add_u64(result, "lost_count", atomic_load_explicit(&h->lost_count, memory_order_relaxed));
    add_u64(result, "write_seq", atomic_load_explicit(&h->write_seq, memory_order_acquire));
    cJSON_AddBoolToObject(result, "closed", atomic_load_explicit(&h->closed, memory_order_relaxed) != 0);
    return send_ok(id, result);
  }
  static const char *const states[] = {"free", "attached", "evicted", "detached"};
  ibc_ring_header *h = ibc_ring(lane);
  cJSON *readers = cJSON_AddArrayToObject(result, "readers");
  for (uint32_t r = 0; r < lane->d.reader_count; r++) {
    ibc_reader_record *record = &ibc_records(lane)[r];
    uint32_t state = atomic_load_explicit(&record->state, memory_order_acquire);
    cJSON *item = cJSON_CreateObject();
    add_u64(item, "cursor_seq", atomic_load_explicit(&record->cursor_seq, memory_order_acquire));
    add_u64(item, "read_count", atomic_load_explicit(&record->read_count, memory_order_relaxed));
    add_u64(item, "lost_count", atomic_load_explicit(&record->lost_count, memory_order_relaxed));
    cJSON_AddStringToObject(item, "state", state <= 3 ? states[state] : "corrupt");
    cJSON_AddItemToArray(readers, item);
  }
  add_u64(result, "write_seq", atomic_load_explicit(&h->write_seq, memory_order_acquire));
  cJSON_AddBoolToObject(result, "closed", atomic_load_explicit(&h->closed, memory_order_relaxed) != 0);
  add_u64(result, "eviction_count", atomic_load_explicit(&h->eviction_count, memory_order_relaxed));
  return send_ok(id, result);
}

static int handle_script(uint64_t id, const cJSON *request) {
  problem p = {{0}};
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(request, "ops");
  if (!cJSON_IsArray(ops)) return send_error(id, "bad_request", NULL, "field ops is missing or not an array");
  if ((unsigned)cJSON_GetArraySize(ops) > MAX_SCRIPT_OPS) return send_error(id, "bad_request", NULL, "more than 1000000 ops");
  uint64_t start_at_ns = 0;
  if (get_u64(request, "start_at_ns", 0, 0, &start_at_ns, &p) != 0) return send_error(id, "bad_request", NULL, "%s", p.reason);
  uint64_t now_ns = ibc_now_ns();
  if (start_at_ns > now_ns && start_at_ns - now_ns > START_AHEAD_MAX_NS)
    return send_error(id, "bad_request", NULL, "start_at_ns is more than 10 s ahead");
  while ((now_ns = ibc_now_ns()) < start_at_ns) { /* bounded: at most 10 s */
    uint64_t pause_ns = start_at_ns - now_ns;
    if (pause_ns > 100000) pause_ns = pause_ns - 50000; /* wake early, spin the rest */
    else pause_ns = 0;
    if (pause_ns) nanosleep(&(struct timespec){.tv_sec = (time_t)(pause_ns / 1000000000u), .tv_nsec = (long)(pause_ns % 1000000000u)}, NULL);
  }
  /* history_path (optional, agent-protocol.md "Ring kinds and batch additions"): every result is
   * also appended to that file as one JSON line, with one write(2), as soon as its op returns, so
   * that the ops completed before a SIGKILL survive it. */
  int history_fd = -1;
  const cJSON *history_path = cJSON_GetObjectItemCaseSensitive(request, "history_path");
  if (history_path != NULL) {
    if (!cJSON_IsString(history_path)) return send_error(id, "bad_request", NULL, "field history_path is not a string");
    history_fd = open(history_path->valuestring, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (history_fd < 0) return send_error(id, "internal", NULL, "cannot open history_path: %s", strerror(errno));
  }
  /* kill_at_access (optional, >= 1; agent-protocol.md "Ring kinds and batch additions"): the
   * Nth lane access of the script raises SIGKILL on this process (lanes.h, ibc_access). */
  uint64_t kill_at_access = 0;
  if (get_u64(request, "kill_at_access", 0, 0, &kill_at_access, &p) != 0) {
    if (history_fd >= 0) close(history_fd);
    return send_error(id, "bad_request", NULL, "%s", p.reason);
  }
  if (cJSON_GetObjectItemCaseSensitive(request, "kill_at_access") != NULL && kill_at_access == 0) {
    if (history_fd >= 0) close(history_fd);
    return send_error(id, "bad_request", NULL, "field kill_at_access is 0, expected at least 1 (the 1st access kills)");
  }
  ibc_kill_countdown = kill_at_access; /* armed last: only the ops' lane accesses count */
  cJSON *history = cJSON_CreateArray();
  uint64_t index = 0;
  for (const cJSON *op = ops->child; op != NULL; op = op->next, index++) {
    failure f = {0};
    cJSON *result = cJSON_IsObject(op) ? run_op(op, &f) : (fail_with(&f, "bad_request", "an op is not an object"), NULL);
    if (result == NULL) {
      ibc_kill_countdown = 0;
      cJSON_Delete(history);
      if (history_fd >= 0) close(history_fd);
      if (strcmp(f.kind, "unsupported") == 0) return send_unsupported(id, f.message);
      return send_error(id, f.kind, f.code, "op %llu: %s", (unsigned long long)index, f.message);
    }
    add_u64(result, "index", index);
    if (history_fd >= 0) {
      char *line = cJSON_PrintUnformatted(result);
      if (line != NULL) {
        const size_t length = strlen(line);
        line[length] = '\n'; /* replaces the terminator: one write of the whole line */
        (void)!write(history_fd, line, length + 1);
        cJSON_free(line);
      }
    }
    cJSON_AddItemToArray(history, result);
  }
  ibc_kill_countdown = 0; /* a kill that did not fire by now never will */
  if (history_fd >= 0) close(history_fd);
  cJSON *result = cJSON_CreateObject();
  cJSON_AddItemToObject(result, "history", history);
  return send_ok(id, result);
}

/* ---- main loop -------------------------------------------------------------------------- */

static void send_hello(void) {
  cJSON *hello = cJSON_CreateObject();
  cJSON_AddStringToObject(hello, "type", "hello");
  add_u64(hello, "protocol", 1);
  cJSON *implementation = cJSON_AddObjectToObject(hello, "implementation");
  cJSON_AddStringToObject(implementation, "name", ibc_defect == IBC_BREAK_NONE ? "indexbus-c" : "indexbus-c-broken");
  cJSON_AddStringToObject(implementation, "version", "1.0.0");
  const char *versions[] = {"1.0"};
  const char *kinds[] = {"events", "journal", "sequenced_slots", "fanout_broadcast"};
  const char *policies[] = {"block", "drop"};
  cJSON_AddItemToObject(hello, "layout_versions", cJSON_CreateStringArray(versions, 1));
  cJSON_AddItemToObject(hello, "lane_kinds", cJSON_CreateStringArray(kinds, 4));
  cJSON_AddItemToObject(hello, "policies", cJSON_CreateStringArray(policies, 2));
  cJSON_AddBoolToObject(hello, "batch", 1);
  cJSON_AddBoolToObject(hello, "kill_at_access", 1);
  send_json(hello);
}

int main(int argc, char **argv) {
  for (int k = 1; k < argc; k++) {
    if (strcmp(argv[k], "--break") == 0 && k + 1 < argc) {
      k++;
      if (strcmp(argv[k], "wrong-stride") == 0) ibc_defect = IBC_BREAK_WRONG_STRIDE;
      else if (strcmp(argv[k], "drop-newest") == 0) ibc_defect = IBC_BREAK_DROP_NEWEST;
      else if (strcmp(argv[k], "no-checksum") == 0) ibc_defect = IBC_BREAK_NO_CHECKSUM;
      else {
        fprintf(stderr, "indexbus-agent-c: --break %s is not wrong-stride, drop-newest or no-checksum\n", argv[k]);
        return 2;
      }
    } else {
      fprintf(stderr, "indexbus-agent-c: unknown argument %s (usage: [--break wrong-stride|drop-newest|no-checksum])\n", argv[k]);
      return 2;
    }
  }
  uint8_t *body = g_body = malloc(MAX_FRAME_BYTES + 1);
  g_payload = malloc(PAYLOAD_MAX_BYTES);
  g_out = malloc(OUT_MAX_BYTES);
  g_out_hex = malloc(2 * OUT_MAX_BYTES + 1);
  if (body == NULL || g_payload == NULL || g_out == NULL || g_out_hex == NULL) {
    fprintf(stderr, "indexbus-agent-c: out of memory at start-up\n");
    return leave(1);
  }
  send_hello();
  for (;;) {
    uint8_t prefix[4];
    int got = read_exact(prefix, 4);
    if (got == 0) break; /* EOF: the harness is gone */
    if (got < 0) {
      fprintf(stderr, "indexbus-agent-c: stdin ended inside a frame's length\n");
      break;
    }
    uint32_t length = (uint32_t)prefix[0] | (uint32_t)prefix[1] << 8 | (uint32_t)prefix[2] << 16 | (uint32_t)prefix[3] << 24;
    if (length < 2 || length > MAX_FRAME_BYTES) { /* never allocate or wait for such a body */
      fprintf(stderr, "indexbus-agent-c: protocol error: frame length %u is not in [2, %u]\n", length, MAX_FRAME_BYTES);
      return leave(1);
    }
    if (read_exact(body, length) != 1) {
      fprintf(stderr, "indexbus-agent-c: stdin ended inside a frame body\n");
      break;
    }
    body[length] = '\0';
    const char *end = NULL;
    cJSON *request = valid_utf8(body, length) ? cJSON_ParseWithLengthOpts((const char *)body, length, &end, 0) : NULL;
    while (request != NULL && end != NULL && end < (const char *)body + length && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    if (request == NULL || !cJSON_IsObject(request) || !depth_ok(request, 1) || end != (const char *)body + length) {
      fprintf(stderr, "indexbus-agent-c: protocol error: the frame is not one JSON object (UTF-8, <= 64 deep)\n");
      cJSON_Delete(request);
      return leave(1);
    }
    problem p = {{0}};
    uint64_t id = 0;
    const char *type = get_string(request, "type", 1, &p);
    if (get_u64(request, "id", 1, 0, &id, &p) != 0 || type == NULL) send_error(id, "bad_request", NULL, "%s", p.reason);
    else if (strcmp(type, "create_region") == 0) handle_create(id, request);
    else if (strcmp(type, "open_region") == 0) handle_open(id, request);
    else if (strcmp(type, "attach") == 0) handle_attach(id, request, 1);
    else if (strcmp(type, "detach") == 0) handle_attach(id, request, 0);
    else if (strcmp(type, "op") == 0) handle_op(id, request);
    else if (strcmp(type, "lane_state") == 0) handle_lane_state(id, request);
    else if (strcmp(type, "run_script") == 0) handle_script(id, request);
    else if (strcmp(type, "shutdown") == 0) {
      send_ok(id, NULL);
      cJSON_Delete(request);
      break;
    } else {
      char reason[128];
      snprintf(reason, sizeof reason, "request type %.64s is not implemented", type);
      send_unsupported(id, reason);
    }
    cJSON_Delete(request);
  }
  return leave(0);
}

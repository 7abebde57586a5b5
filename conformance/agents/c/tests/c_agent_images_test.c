/* Images both ways between the plain C agent and the reference tools, all four lane kinds:
 *
 *  1. the C agent creates a region (Events, FanoutBroadcast, SequencedSlots with gates, Journal),
 *     drives every kind, and `indexbus inspect` (the reference validator and lane-state check)
 *     accepts the result;
 *  2. its fresh image equals the one `indexbus create` makes for the same lanes, byte for byte,
 *     except creator_pid, creation_id and checksum (which depends on them);
 *  3. the C agent opens a region `indexbus create` made and drives it, and an Events lane is
 *     shared live between the reference agent and the C agent (C producer -> reference consumer);
 *  4. the two agents run batch scripts at the same time on shared lanes (Block: C producer,
 *     reference consumer; Drop: the other way round), and every read is explained by one FIFO.
 *
 * Usage: c_agent_images_test INDEXBUS REFERENCE_AGENT C_AGENT [BREAK]. With BREAK the C agent runs
 * with `--break BREAK` and the test passes only if some check above fails (it can fail). Bounded: every reply is awaited
 * at most 10 s and a watchdog alarm ends the test after 60 s. Scratch files live in a private
 * directory under /dev/shm (or /tmp) that is removed at the end, failing or not. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dir[256];
static const char *g_indexbus;
static int g_failures;
static const char *g_break; /* a --break NAME for the C agent: the checks above must then fail */

static pid_t g_agents[8]; /* every agent started, killed on any early exit */
static int g_agent_count;

static void kill_agents(void) {
  for (int k = 0; k < g_agent_count; k++)
    if (g_agents[k] > 0) kill(g_agents[k], SIGKILL);
}

/* The scratch files, named once at start so that the watchdog can remove them without
 * formatting anything (only async-signal-safe calls there). */
static char g_scratch[5][512];

static void cleanup(void) {
  kill_agents();
  if (g_dir[0] == '\0') return;
  for (size_t k = 0; k < sizeof g_scratch / sizeof g_scratch[0]; k++)
    if (g_scratch[k][0] != '\0') unlink(g_scratch[k]);
  rmdir(g_dir);
}

static void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n");
  va_end(args);
  cleanup();
  exit(1);
}

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) g_failures++;
}

typedef struct {
  pid_t pid;
  int to_fd, from_fd;
  uint64_t next_id;
  const char *name;
} agent;

static int read_exact(int fd, uint8_t *buffer, size_t count) {
  for (size_t done = 0; done < count;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1) return -1; /* 10 s per reply at most */
    ssize_t n = read(fd, buffer + done, count - done);
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

static cJSON *receive(agent *a) {
  uint8_t prefix[4];
  if (read_exact(a->from_fd, prefix, 4) != 0) die("%s: no frame", a->name);
  uint32_t length = (uint32_t)prefix[0] | (uint32_t)prefix[1] << 8 | (uint32_t)prefix[2] << 16 | (uint32_t)prefix[3] << 24;
  if (length < 2 || length > (1u << 24)) die("%s: frame length %u", a->name, length);
  char *body = malloc(length + 1);
  if (body == NULL || read_exact(a->from_fd, (uint8_t *)body, length) != 0) die("%s: short frame", a->name);
  body[length] = '\0';
  cJSON *message = cJSON_Parse(body);
  free(body);
  if (message == NULL) die("%s: frame is not JSON", a->name);
  return message;
}

static agent start(const char *path, const char *name) {
  int to[2], from[2];
  if (pipe(to) != 0 || pipe(from) != 0) die("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(to[0], 0);
    dup2(from[1], 1);
    close(to[1]);
    close(from[0]);
    if (g_break != NULL && strstr(path, "indexbus-agent-c") != NULL) execl(path, path, "--break", g_break, (char *)NULL);
    else execl(path, path, (char *)NULL);
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  if (g_agent_count < (int)(sizeof g_agents / sizeof g_agents[0])) g_agents[g_agent_count++] = pid;
  agent a = {.pid = pid, .to_fd = to[1], .from_fd = from[0], .next_id = 1, .name = name};
  cJSON *hello = receive(&a);
  const cJSON *type = cJSON_GetObjectItem(hello, "type");
  if (!cJSON_IsString(type) || strcmp(type->valuestring, "hello") != 0) die("%s: no hello", name);
  cJSON_Delete(hello);
  return a;
}

static void stop(agent *a) {
  close(a->to_fd); /* EOF: the agent releases its roles and exits 0 */
  int status = 0;
  for (int k = 0; k < 500 && waitpid(a->pid, &status, WNOHANG) == 0; k++) usleep(10000);
  if (waitpid(a->pid, &status, WNOHANG) == 0) {
    kill(a->pid, SIGKILL);
    waitpid(a->pid, &status, 0);
  }
  close(a->from_fd);
  for (int k = 0; k < g_agent_count; k++)
    if (g_agents[k] == a->pid) g_agents[k] = 0;
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exits 0 on EOF");
}

/* Sends `json` (a request without id/deadline) and returns the reply's result, or dies on an
 * error reply unless `allow_error`. The caller owns the returned reply. */
static cJSON *call(agent *a, const char *json, cJSON **result) {
  cJSON *request = cJSON_Parse(json);
  if (request == NULL) die("test request is not JSON: %s", json);
  cJSON_AddNumberToObject(request, "id", (double)a->next_id++);
  cJSON_AddNumberToObject(request, "deadline_ms", 5000);
  char *text = cJSON_PrintUnformatted(request);
  uint32_t length = (uint32_t)strlen(text);
  uint8_t prefix[4] = {(uint8_t)length, (uint8_t)(length >> 8), (uint8_t)(length >> 16), (uint8_t)(length >> 24)};
  if (write(a->to_fd, prefix, 4) != 4 || write(a->to_fd, text, length) != (ssize_t)length) die("%s: write", a->name);
  free(text);
  cJSON_Delete(request);
  cJSON *reply = receive(a);
  const cJSON *type = cJSON_GetObjectItem(reply, "type");
  if (!cJSON_IsString(type) || strcmp(type->valuestring, "ok") != 0) {
    char *shown = cJSON_PrintUnformatted(reply);
    die("%s: %s -> %s", a->name, json, shown);
  }
  *result = cJSON_GetObjectItem(reply, "result");
  return reply;
}

static void send_request(agent *a, cJSON *request) { /* takes ownership */
  cJSON_AddNumberToObject(request, "id", (double)a->next_id++);
  char *text = cJSON_PrintUnformatted(request);
  uint32_t length = (uint32_t)strlen(text);
  uint8_t prefix[4] = {(uint8_t)length, (uint8_t)(length >> 8), (uint8_t)(length >> 16), (uint8_t)(length >> 24)};
  if (write(a->to_fd, prefix, 4) != 4 || write(a->to_fd, text, length) != (ssize_t)length) die("%s: write", a->name);
  free(text);
  cJSON_Delete(request);
}

/* Entry k's bytes: 1 to 16 of them, each a function of k, so a torn or misplaced copy shows. */
static void payload_hex_of(uint64_t k, char *hex) {
  size_t bytes = 1 + k % 16;
  for (size_t j = 0; j < bytes; j++) snprintf(hex + 2 * j, 3, "%02x", (unsigned)((k * 7 + j * 13) & 0xFF));
}

/* A script of n copies of one op; writes carry entry k's payload. */
static cJSON *script(uint32_t lane, const char *role, const char *op, uint64_t timeout_ns, uint32_t n,
                     unsigned long long start_at_ns) {
  cJSON *request = cJSON_CreateObject(), *ops = cJSON_AddArrayToObject(request, "ops");
  cJSON_AddStringToObject(request, "type", "run_script");
  cJSON_AddNumberToObject(request, "deadline_ms", 30000);
  char text[32];
  snprintf(text, sizeof text, "%llu", start_at_ns);
  cJSON_AddRawToObject(request, "start_at_ns", text);
  for (uint32_t k = 0; k < n; k++) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddNumberToObject(item, "lane", lane);
    cJSON_AddStringToObject(item, "role", role);
    cJSON_AddStringToObject(item, "op", op);
    if (timeout_ns != 0) cJSON_AddNumberToObject(item, "timeout_ns", (double)timeout_ns);
    if (strstr(op, "write") != NULL) {
      char hex[40] = {0};
      payload_hex_of(k, hex);
      cJSON_AddStringToObject(item, "payload_hex", hex);
    }
    cJSON_AddItemToArray(ops, item);
  }
  return request;
}

static const cJSON *history_of(agent *a, cJSON *reply) {
  const cJSON *type = cJSON_GetObjectItem(reply, "type");
  if (!cJSON_IsString(type) || strcmp(type->valuestring, "ok") != 0) die("%s: run_script failed", a->name);
  return cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "result"), "history");
}

/* Every read of a consumer's history is explained by one FIFO of the producer's entries: an Entry
 * is the next position and carries that entry's bytes; a Lost skips exactly its count (EV-4,
 * EV-8, EV-9). Returns the final position, or -1 at the first read that no order explains. */
static long long replay_reads(const cJSON *history, int lost_allowed) {
  long long position = 0;
  for (const cJSON *item = history->child; item != NULL; item = item->next) {
    const char *status = cJSON_GetObjectItem(item, "status")->valuestring;
    if (strcmp(status, "Entry") == 0) {
      char hex[40] = {0};
      payload_hex_of((uint64_t)position, hex);
      const cJSON *seq = cJSON_GetObjectItem(item, "seq"), *payload = cJSON_GetObjectItem(item, "payload_hex");
      if (!cJSON_IsNumber(seq) || seq->valuedouble != (double)position || !cJSON_IsString(payload) ||
          strcmp(payload->valuestring, hex) != 0)
        return -1;
      position++;
    } else if (strcmp(status, "Lost") == 0) {
      const cJSON *count = cJSON_GetObjectItem(item, "lost_count");
      if (!lost_allowed || !cJSON_IsNumber(count) || count->valuedouble < 1) return -1;
      position += (long long)count->valuedouble;
    } else if (strcmp(status, "Timeout") != 0 && strcmp(status, "Empty") != 0) {
      return -1;
    }
  }
  return position;
}

/* Both agents run a script at once, from the same start time, on one shared lane. */
static void run_together(agent *producer, cJSON *producer_script, agent *consumer, cJSON *consumer_script,
                         cJSON **producer_reply, cJSON **consumer_reply) {
  send_request(producer, producer_script);
  send_request(consumer, consumer_script);
  *producer_reply = receive(producer);
  *consumer_reply = receive(consumer);
}

static void concurrent_scripts(agent *c, agent *ref, const char *path) {
  enum { N = 3000 };
  char json[600];
  cJSON *result = NULL;
  snprintf(json, sizeof json, "{\"type\":\"open_region\",\"path\":\"%s\"}", path);
  cJSON_Delete(call(c, json, &result));
  cJSON_Delete(call(ref, json, &result));
  cJSON_Delete(call(c, "{\"type\":\"attach\",\"lane\":0,\"role\":\"producer\"}", &result));
  cJSON_Delete(call(ref, "{\"type\":\"attach\",\"lane\":0,\"role\":\"consumer\"}", &result));
  cJSON_Delete(call(ref, "{\"type\":\"attach\",\"lane\":1,\"role\":\"producer\"}", &result));
  cJSON_Delete(call(c, "{\"type\":\"attach\",\"lane\":1,\"role\":\"consumer\"}", &result));
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  unsigned long long start_ns = (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec + 200000000ull;

  /* Block, C producer -> reference consumer: every write Ok, every read the next entry, untorn. */
  cJSON *c_reply = NULL, *ref_reply = NULL;
  run_together(c, script(0, "producer", "write", 2000000000u, N, start_ns), ref,
               script(0, "consumer", "read", 2000000000u, N, start_ns), &c_reply, &ref_reply);
  int all_ok = cJSON_GetArraySize(history_of(c, c_reply)) == N;
  for (const cJSON *item = history_of(c, c_reply)->child; item != NULL; item = item->next)
    all_ok = all_ok && strcmp(cJSON_GetObjectItem(item, "status")->valuestring, "Ok") == 0;
  check(all_ok, "concurrent Block: the C producer's 3000 writes all return Ok");
  check(replay_reads(history_of(ref, ref_reply), 0) == N,
        "concurrent Block: the reference consumer reads all 3000 in order, exact, nothing lost");
  cJSON_Delete(c_reply);
  cJSON_Delete(ref_reply);

  /* Drop, reference producer -> C consumer: reads explained by one FIFO with exact Lost counts. */
  clock_gettime(CLOCK_MONOTONIC, &now);
  start_ns = (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec + 200000000ull;
  run_together(ref, script(1, "producer", "try_write", 0, N, start_ns), c,
               script(1, "consumer", "read", 100000u, N, start_ns), &ref_reply, &c_reply);
  long long position = replay_reads(history_of(c, c_reply), 1);
  int entries = 0, losses = 0;
  for (const cJSON *item = history_of(c, c_reply)->child; item != NULL; item = item->next) {
    entries += strcmp(cJSON_GetObjectItem(item, "status")->valuestring, "Entry") == 0;
    losses += strcmp(cJSON_GetObjectItem(item, "status")->valuestring, "Lost") == 0;
  }
  printf("     concurrent Drop: %d entries, %d Lost reports, position %lld of %d\n", entries, losses, position, (int)N);
  check(position >= 0 && position <= N, "concurrent Drop: every C read is the next entry, exact, or an exact Lost");
  cJSON *state_reply = call(c, "{\"type\":\"lane_state\",\"lane\":1}", &result);
  const cJSON *read_seq = cJSON_GetObjectItem(result, "read_seq");
  check(cJSON_IsNumber(read_seq) && read_seq->valuedouble == (double)position,
        "concurrent Drop: read_seq equals the entries read plus lost (EV-11)");
  cJSON_Delete(state_reply);
  cJSON_Delete(c_reply);
  cJSON_Delete(ref_reply);
}

static void expect(agent *a, const char *json, const char *status, const char *payload_hex) {
  cJSON *result = NULL;
  cJSON *reply = call(a, json, &result);
  const cJSON *got = cJSON_GetObjectItem(result, "status");
  const cJSON *hex = cJSON_GetObjectItem(result, "payload_hex");
  int ok = status == NULL || (cJSON_IsString(got) && strcmp(got->valuestring, status) == 0);
  if (payload_hex != NULL) ok = ok && cJSON_IsString(hex) && strcmp(hex->valuestring, payload_hex) == 0;
  char what[512];
  snprintf(what, sizeof what, "%s: %s -> %s%s%s", a->name, json, status ? status : "ok", payload_hex ? " " : "",
           payload_hex ? payload_hex : "");
  check(ok, what);
  cJSON_Delete(reply);
}

static int run(const char *const argv[]) { /* exit status of a reference tool, output to stdout */
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, 1);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Runs `indexbus inspect --json PATH` and returns its parsed output (NULL if it failed). */
static cJSON *inspect_json(const char *path) {
  int out[2];
  if (pipe(out) != 0) die("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(g_indexbus, g_indexbus, "inspect", "--json", path, (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  static char text[1 << 20];
  size_t used = 0;
  for (ssize_t n; used < sizeof text - 1 && (n = read(out[0], text + used, sizeof text - 1 - used)) > 0;) used += (size_t)n;
  text[used] = '\0';
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return NULL;
  return cJSON_Parse(text);
}

static double number_at(const cJSON *object, const char *name) {
  const cJSON *item = cJSON_GetObjectItem(object, name);
  return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

/* The reference reader (inspect) must see, at the documented offsets, the ring counters the C
 * agent reports from its own reads: write_seq and every reader's cursor, counts and state. */
static void compare_ring_states(const char *path, cJSON *states[4]) {
  cJSON *inspected = inspect_json(path);
  check(inspected != NULL, "indexbus inspect --json reads the region");
  const cJSON *lanes = cJSON_GetObjectItem(inspected, "lanes");
  for (int lane = 1; lane < 4; lane++) {
    const cJSON *view = cJSON_GetArrayItem(lanes, lane), *mine = states[lane];
    int same = view != NULL && mine != NULL &&
               number_at(cJSON_GetObjectItem(view, "cursors"), "write_seq") == number_at(mine, "write_seq");
    const cJSON *their_readers = cJSON_GetObjectItem(view, "readers"), *my_readers = cJSON_GetObjectItem(mine, "readers");
    same = same && cJSON_GetArraySize(their_readers) == cJSON_GetArraySize(my_readers);
    for (int r = 0; same && r < cJSON_GetArraySize(my_readers); r++) {
      const cJSON *theirs = cJSON_GetArrayItem(their_readers, r), *ours = cJSON_GetArrayItem(my_readers, r);
      const cJSON *their_state = cJSON_GetObjectItem(theirs, "state"), *our_state = cJSON_GetObjectItem(ours, "state");
      same = number_at(theirs, "cursor_seq") == number_at(ours, "cursor_seq") &&
             number_at(theirs, "read") == number_at(ours, "read_count") &&
             number_at(theirs, "lost") == number_at(ours, "lost_count") && cJSON_IsString(their_state) &&
             cJSON_IsString(our_state) && strcmp(their_state->valuestring, our_state->valuestring) == 0;
    }
    char what[160];
    snprintf(what, sizeof what, "lane %d: indexbus inspect reads the same ring counters the C agent reports", lane);
    check(same, what);
  }
  cJSON_Delete(inspected);
}

static uint8_t *read_file(const char *path, size_t *bytes) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) die("%s: %s", path, strerror(errno));
  uint8_t *data = malloc((size_t)st.st_size + 1);
  if (data == NULL || read(fd, data, (size_t)st.st_size) != st.st_size) die("%s: short read", path);
  close(fd);
  *bytes = (size_t)st.st_size;
  return data;
}

#define LANES_JSON                                                                                          \
  "[{\"kind\":\"events\",\"on_full\":\"block\",\"capacity_slots\":4,\"slot_payload_bytes\":16},"           \
  "{\"kind\":\"fanout_broadcast\",\"on_full\":\"drop\",\"capacity_slots\":2,\"slot_payload_bytes\":8,"     \
  "\"reader_count\":2},"                                                                                    \
  "{\"kind\":\"sequenced_slots\",\"on_full\":\"block\",\"capacity_slots\":4,\"slot_payload_bytes\":8,"     \
  "\"reader_count\":3,\"gated_on\":[0,1,2]},"                                                               \
  "{\"kind\":\"journal\",\"on_full\":\"block\",\"capacity_slots\":2,\"slot_payload_bytes\":24,"            \
  "\"reader_count\":2,\"reader_timeout_ns\":1000000000}]"
#define LANES_CLI                                                                                                  \
  "events:capacity=4,slot=16,on_full=block", "fanout_broadcast:capacity=2,slot=8,on_full=drop,readers=2",          \
      "sequenced_slots:capacity=4,slot=8,on_full=block,readers=3,gates=1<0/2<1",                                   \
      "journal:capacity=2,slot=24,on_full=block,readers=2,timeout_ns=1000000000"

static void drive_every_kind(agent *a, cJSON *states[4]) {
  cJSON *result = NULL;
  const char *attaches[] = {
      "{\"type\":\"attach\",\"lane\":0,\"role\":\"producer\"}", "{\"type\":\"attach\",\"lane\":0,\"role\":\"consumer\"}",
      "{\"type\":\"attach\",\"lane\":1,\"role\":\"producer\"}",
      "{\"type\":\"attach\",\"lane\":1,\"role\":\"consumer\",\"reader\":1}",
      "{\"type\":\"attach\",\"lane\":2,\"role\":\"producer\"}",
      "{\"type\":\"attach\",\"lane\":2,\"role\":\"consumer\",\"reader\":0}",
      "{\"type\":\"attach\",\"lane\":2,\"role\":\"consumer\",\"reader\":1}",
      "{\"type\":\"attach\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"name\":\"audit\"}",
      "{\"type\":\"attach\",\"lane\":3,\"role\":\"producer\"}"};
  for (size_t k = 0; k < sizeof attaches / sizeof attaches[0]; k++) cJSON_Delete(call(a, attaches[k], &result));
  /* Events, Block: FIFO, then Closed after the drain. */
  expect(a, "{\"type\":\"op\",\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"00112233445566778899\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"try_read\"}", "Entry", "00112233445566778899");
  expect(a, "{\"type\":\"op\",\"lane\":0,\"role\":\"producer\",\"op\":\"close\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"read\",\"timeout_ns\":1000000}", "Closed", NULL);
  /* FanoutBroadcast, Drop, C = 2: three writes lap consumer 1 by one (FB-7). */
  for (int k = 0; k < 3; k++) {
    char json[160];
    snprintf(json, sizeof json, "{\"type\":\"op\",\"lane\":1,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"0%d\"}", k);
    expect(a, json, "Ok", NULL);
  }
  expect(a, "{\"type\":\"op\",\"lane\":1,\"role\":\"consumer\",\"reader\":1,\"op\":\"try_read\"}", "Lost", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":1,\"role\":\"consumer\",\"reader\":1,\"op\":\"try_read\"}", "Entry", "01");
  /* SequencedSlots, Block, 1 waits for 0 (and 2 for 1): claim, publish, gated reads (SS-4). */
  expect(a, "{\"type\":\"op\",\"lane\":2,\"role\":\"producer\",\"op\":\"try_claim\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":2,\"role\":\"producer\",\"op\":\"publish\",\"seq\":0,\"payload_hex\":\"abcd\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":2,\"role\":\"consumer\",\"reader\":1,\"op\":\"try_read\"}", "Empty", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":2,\"role\":\"consumer\",\"reader\":0,\"op\":\"try_read\"}", "Entry", "abcd");
  expect(a, "{\"type\":\"op\",\"lane\":2,\"role\":\"consumer\",\"reader\":1,\"op\":\"try_read\"}", "Entry", "abcd");
  /* Journal, Block, C = 2: the attached reader gates the writer until it commits (JR-9). */
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"10\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"11\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"12\"}", "Full", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"op\":\"try_read\"}", "Entry", "10");
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"op\":\"commit\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"12\"}", "Ok", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"op\":\"read_at\",\"seq\":0}", "Evicted", NULL);
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"op\":\"read_at\",\"seq\":2}", "Entry", "12");
  expect(a, "{\"type\":\"op\",\"lane\":3,\"role\":\"reader\",\"reader\":0,\"op\":\"read_at\",\"seq\":3}", "NotYet", NULL);
  for (int lane = 0; lane < 4; lane++) { /* kept for compare_ring_states */
    char json[64];
    snprintf(json, sizeof json, "{\"type\":\"lane_state\",\"lane\":%d}", lane);
    cJSON *reply = call(a, json, &result);
    states[lane] = cJSON_Duplicate(result, 1);
    cJSON_Delete(reply);
  }
}

static void on_watchdog(int signal_number) { /* async-signal-safe: kill, unlink, rmdir, _exit */
  (void)signal_number;
  cleanup();
  static const char message[] = "FAIL: watchdog: the test ran past 60 s\n";
  if (write(2, message, sizeof message - 1) < 0) _exit(1);
  _exit(1);
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s INDEXBUS REFERENCE_AGENT C_AGENT [BREAK]\n", argv[0]);
    return 2;
  }
  g_break = argc == 5 ? argv[4] : NULL;
  signal(SIGALRM, on_watchdog);
  alarm(60); /* watchdog: the test never hangs, and takes its agents with it */
  setvbuf(stdout, NULL, _IONBF, 0);
  g_indexbus = argv[1];
  snprintf(g_dir, sizeof g_dir, "%s/indexbus-cagent-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (mkdtemp(g_dir) == NULL) {
    g_dir[0] = '\0';
    die("mkdtemp: %s", strerror(errno));
  }
  char c_path[512], ref_path[512], cmp_path[512], shared_path[512], together_path[512], json[4096];
  snprintf(c_path, sizeof c_path, "%s/c", g_dir);
  snprintf(ref_path, sizeof ref_path, "%s/ref", g_dir);
  snprintf(cmp_path, sizeof cmp_path, "%s/cmp", g_dir);
  snprintf(shared_path, sizeof shared_path, "%s/shared", g_dir);
  snprintf(together_path, sizeof together_path, "%s/together", g_dir);
  const char *scratch[] = {c_path, ref_path, cmp_path, shared_path, together_path};
  for (size_t k = 0; k < sizeof scratch / sizeof scratch[0]; k++) snprintf(g_scratch[k], sizeof g_scratch[k], "%s", scratch[k]);
  cJSON *result = NULL, *states[4] = {NULL, NULL, NULL, NULL};

  /* 1. The C agent makes and drives a region; the reference validator accepts it. */
  agent c = start(argv[3], "c-agent");
  snprintf(json, sizeof json, "{\"type\":\"create_region\",\"path\":\"%s\",\"lanes\":%s}", cmp_path, LANES_JSON);
  cJSON_Delete(call(&c, json, &result)); /* a fresh image, kept untouched for step 2 */
  snprintf(json, sizeof json, "{\"type\":\"create_region\",\"path\":\"%s\",\"lanes\":%s}", c_path, LANES_JSON);
  cJSON_Delete(call(&c, json, &result));
  drive_every_kind(&c, states);
  compare_ring_states(c_path, states); /* while attached: a Journal detach changes the state */
  stop(&c);
  const char *inspect_c[] = {g_indexbus, "inspect", c_path, NULL};
  check(run(inspect_c) == 0, "indexbus inspect accepts the region the C agent made and drove");
  for (int lane = 0; lane < 4; lane++) cJSON_Delete(states[lane]);

  /* 2. Same lanes, same bytes as the reference creator (but pid, creation id and checksum). */
  const char *create_ref[] = {g_indexbus, "create", ref_path, "--lane", "events:capacity=4,slot=16,on_full=block",
                              "--lane", "fanout_broadcast:capacity=2,slot=8,on_full=drop,readers=2",
                              "--lane", "sequenced_slots:capacity=4,slot=8,on_full=block,readers=3,gates=1<0/2<1",
                              "--lane", "journal:capacity=2,slot=24,on_full=block,readers=2,timeout_ns=1000000000",
                              NULL};
  check(run(create_ref) == 0, "indexbus create makes the reference image");
  size_t c_bytes = 0, ref_bytes = 0;
  uint8_t *c_image = read_file(cmp_path, &c_bytes), *ref_image = read_file(ref_path, &ref_bytes);
  int same = c_bytes == ref_bytes;
  size_t first_difference = 0;
  for (size_t k = 0; same && k < c_bytes; k++) {
    int volatile_byte = (k >= 36 && k < 48) || (k >= 60 && k < 64); /* creator_pid, creation_id, checksum */
    if (!volatile_byte && c_image[k] != ref_image[k]) {
      same = 0;
      first_difference = k;
    }
  }
  if (!same) fprintf(stderr, "images differ: %zu vs %zu bytes, first at byte %zu\n", c_bytes, ref_bytes, first_difference);
  check(same, "the C agent's fresh image equals indexbus create's, byte for byte (but pid, id, checksum)");
  free(c_image);
  free(ref_image);

  /* 3. The C agent opens and drives the reference's image; then inspect still accepts it. */
  c = start(argv[3], "c-agent");
  snprintf(json, sizeof json, "{\"type\":\"open_region\",\"path\":\"%s\"}", ref_path);
  cJSON *opened = call(&c, json, &result);
  const cJSON *lane_count = cJSON_GetObjectItem(result, "lane_count");
  check(cJSON_IsNumber(lane_count) && lane_count->valuedouble == 4, "the C agent opens indexbus create's image: 4 lanes");
  cJSON_Delete(opened);
  drive_every_kind(&c, states);
  compare_ring_states(ref_path, states);
  stop(&c);
  for (int lane = 0; lane < 4; lane++) cJSON_Delete(states[lane]);
  const char *inspect_ref[] = {g_indexbus, "inspect", ref_path, NULL};
  check(run(inspect_ref) == 0, "indexbus inspect accepts the reference image after the C agent drove it");

  /* 4. One Events lane shared live: C producer, reference consumer, and the other way round. */
  const char *create_shared[] = {g_indexbus, "create", shared_path, "--lane", "events:capacity=2,slot=8,on_full=drop",
                                 "--lane", "events:capacity=2,slot=8,on_full=block", NULL};
  check(run(create_shared) == 0, "indexbus create makes a shared Events region");
  agent ref = start(argv[2], "reference-agent");
  c = start(argv[3], "c-agent");
  snprintf(json, sizeof json, "{\"type\":\"open_region\",\"path\":\"%s\"}", shared_path);
  cJSON_Delete(call(&c, json, &result));
  cJSON_Delete(call(&ref, json, &result));
  cJSON_Delete(call(&c, "{\"type\":\"attach\",\"lane\":0,\"role\":\"producer\"}", &result));
  cJSON_Delete(call(&ref, "{\"type\":\"attach\",\"lane\":0,\"role\":\"consumer\"}", &result));
  cJSON_Delete(call(&ref, "{\"type\":\"attach\",\"lane\":1,\"role\":\"producer\"}", &result));
  cJSON_Delete(call(&c, "{\"type\":\"attach\",\"lane\":1,\"role\":\"consumer\"}", &result));
  const char *payloads[] = {"01", "0203040506070809", "", "ff"};
  for (int k = 0; k < 4; k++) {
    snprintf(json, sizeof json, "{\"type\":\"op\",\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"%s\"}", payloads[k]);
    expect(&c, json, "Ok", NULL);
  }
  expect(&ref, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"try_read\"}", "Lost", NULL); /* 4 into 2: lost 2 */
  expect(&ref, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"try_read\"}", "Entry", "");
  expect(&ref, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"try_read\"}", "Entry", "ff");
  expect(&c, "{\"type\":\"op\",\"lane\":0,\"role\":\"producer\",\"op\":\"close\"}", "Ok", NULL);
  expect(&ref, "{\"type\":\"op\",\"lane\":0,\"role\":\"consumer\",\"op\":\"read\",\"timeout_ns\":1000000}", "Closed", NULL);
  expect(&ref, "{\"type\":\"op\",\"lane\":1,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"0a0b\"}", "Ok", NULL);
  expect(&ref, "{\"type\":\"op\",\"lane\":1,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"0c\"}", "Ok", NULL);
  expect(&ref, "{\"type\":\"op\",\"lane\":1,\"role\":\"producer\",\"op\":\"try_write\",\"payload_hex\":\"0d\"}", "Full", NULL);
  expect(&c, "{\"type\":\"op\",\"lane\":1,\"role\":\"consumer\",\"op\":\"try_read\"}", "Entry", "0a0b");
  expect(&ref, "{\"type\":\"op\",\"lane\":1,\"role\":\"producer\",\"op\":\"write\",\"payload_hex\":\"0d\",\"timeout_ns\":100000000}", "Ok", NULL);
  expect(&c, "{\"type\":\"op\",\"lane\":1,\"role\":\"consumer\",\"op\":\"read\",\"timeout_ns\":100000000}", "Entry", "0c");
  expect(&c, "{\"type\":\"op\",\"lane\":1,\"role\":\"consumer\",\"op\":\"read\",\"timeout_ns\":100000000}", "Entry", "0d");
  /* Both agents report the same counters for both lanes. */
  for (int lane = 0; lane < 2; lane++) {
    cJSON *c_result = NULL, *ref_result = NULL;
    snprintf(json, sizeof json, "{\"type\":\"lane_state\",\"lane\":%d}", lane);
    cJSON *c_reply = call(&c, json, &c_result), *ref_reply = call(&ref, json, &ref_result);
    snprintf(json, sizeof json, "lane %d: lane_state agrees between the C agent and the reference agent", lane);
    check(cJSON_Compare(c_result, ref_result, 1), json);
    cJSON_Delete(c_reply);
    cJSON_Delete(ref_reply);
  }
  stop(&c);
  stop(&ref);
  const char *inspect_shared[] = {g_indexbus, "inspect", shared_path, NULL};
  check(run(inspect_shared) == 0, "indexbus inspect accepts the shared region");

  /* 5. Real concurrency across implementations: batch scripts started together. (Not with a
   * broken agent: the checks above already caught it, and its scripts would wait out timeouts.) */
  const char *create_together[] = {g_indexbus, "create", together_path, "--lane", "events:capacity=8,slot=16,on_full=block",
                                   "--lane", "events:capacity=8,slot=16,on_full=drop", NULL};
  if (g_break == NULL) {
    check(run(create_together) == 0, "indexbus create makes a region for concurrent scripts");
    ref = start(argv[2], "reference-agent");
    c = start(argv[3], "c-agent");
    concurrent_scripts(&c, &ref, together_path);
    stop(&c);
    stop(&ref);
    const char *inspect_together[] = {g_indexbus, "inspect", together_path, NULL};
    check(run(inspect_together) == 0, "indexbus inspect accepts the region after the concurrent scripts");
  }

  cleanup();
  if (g_break != NULL) { /* the checker's own check: a broken C agent must not pass */
    printf("%s: --break %s failed %d check(s)\n", g_failures ? "PASSED (caught)" : "FAILED (not caught)", g_break,
           g_failures);
    return g_failures ? 0 : 1;
  }
  printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}

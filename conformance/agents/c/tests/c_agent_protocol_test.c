/* Hostile and malformed input to the plain C agent (spec/agent-protocol.md "Framing",
 * "Conventions", "Replies"): a bad request gets an error reply of the right kind and the agent
 * goes on; a frame that breaks the framing rules ends the agent (no reply, no crash, no hang);
 * a failed create leaves no file behind (REG-1).
 *
 * With a CORPUS directory (fuzz/corpus/region_header, files named NAME.ErrorCode.bin or
 * valid_NAME.bin) it also opens every image there and requires the error code its name gives:
 * the C validator, written from layout.md, against the corpus the reference validator is held to.
 * (LaneStateCorrupt is not an open error: those images open; a Creating image whose creator is
 * dead is Stale before any validation.)
 *
 * Usage: c_agent_protocol_test C_AGENT [CORPUS [BREAK]]. With BREAK (e.g. no-checksum) only the
 * corpus check runs, against `C_AGENT --break BREAK`, and the test passes only if it fails. Every reply is awaited at most 5 s; a watchdog alarm
 * ends the test after 60 s; the scratch directory is removed at the end. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_failures;
static char g_dir[256];
static const char *g_break; /* BREAK: the corpus check alone, which must then fail */

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) g_failures++;
}

typedef struct {
  pid_t pid;
  int to_fd, from_fd;
} agent;

/* 1 ok, 0 EOF before any byte, -1 timeout or short read. */
static int read_exact(int fd, uint8_t *buffer, size_t count, int timeout_ms) {
  for (size_t done = 0; done < count;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1) return -1;
    ssize_t n = read(fd, buffer + done, count - done);
    if (n == 0) return done == 0 ? 0 : -1;
    if (n < 0) return -1;
    done += (size_t)n;
  }
  return 1;
}

static cJSON *receive(agent *a) { /* NULL on EOF or timeout */
  uint8_t prefix[4];
  if (read_exact(a->from_fd, prefix, 4, 5000) != 1) return NULL;
  uint32_t length = (uint32_t)prefix[0] | (uint32_t)prefix[1] << 8 | (uint32_t)prefix[2] << 16 | (uint32_t)prefix[3] << 24;
  if (length < 2 || length > 65536) return NULL;
  char body[65537];
  if (read_exact(a->from_fd, (uint8_t *)body, length, 5000) != 1) return NULL;
  body[length] = '\0';
  return cJSON_Parse(body);
}

static agent start(const char *path) {
  int to[2], from[2];
  if (pipe(to) != 0 || pipe(from) != 0) exit(3);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to[0], 0);
    dup2(from[1], 1);
    close(to[1]);
    close(from[0]);
    if (g_break != NULL) execl(path, path, "--break", g_break, (char *)NULL);
    else execl(path, path, (char *)NULL);
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  agent a = {.pid = pid, .to_fd = to[1], .from_fd = from[0]};
  cJSON *hello = receive(&a);
  check(hello != NULL && cJSON_IsString(cJSON_GetObjectItem(hello, "type")) &&
            strcmp(cJSON_GetObjectItem(hello, "type")->valuestring, "hello") == 0,
        "the agent says hello at once");
  cJSON_Delete(hello);
  return a;
}

/* Waits (<= 5 s) for the agent to exit; returns its status, or -1 after killing it. */
static int finish(agent *a) {
  int status = 0;
  for (int k = 0; k < 500; k++) {
    if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
      close(a->to_fd);
      close(a->from_fd);
      return status;
    }
    usleep(10000);
  }
  kill(a->pid, SIGKILL);
  waitpid(a->pid, &status, 0);
  close(a->to_fd);
  close(a->from_fd);
  return -1;
}

static void send_raw(agent *a, uint32_t length, const void *body, size_t body_bytes) {
  uint8_t prefix[4] = {(uint8_t)length, (uint8_t)(length >> 8), (uint8_t)(length >> 16), (uint8_t)(length >> 24)};
  if (write(a->to_fd, prefix, 4) != 4) return;
  if (body_bytes > 0 && write(a->to_fd, body, body_bytes) != (ssize_t)body_bytes) return;
}

/* Sends one request and checks the reply's type (and, for errors, kind and optional code). */
static void expect_reply(agent *a, const char *json, const char *type, const char *kind, const char *code) {
  send_raw(a, (uint32_t)strlen(json), json, strlen(json));
  cJSON *reply = receive(a);
  const cJSON *got_type = cJSON_GetObjectItem(reply, "type");
  const cJSON *error = cJSON_GetObjectItem(reply, "error");
  const cJSON *got_kind = cJSON_GetObjectItem(error, "kind");
  const cJSON *got_code = cJSON_GetObjectItem(error, "code");
  int ok = cJSON_IsString(got_type) && strcmp(got_type->valuestring, type) == 0;
  if (kind != NULL) ok = ok && cJSON_IsString(got_kind) && strcmp(got_kind->valuestring, kind) == 0;
  if (code != NULL) ok = ok && cJSON_IsString(got_code) && strcmp(got_code->valuestring, code) == 0;
  char what[1024];
  char *shown = reply != NULL ? cJSON_PrintUnformatted(reply) : NULL;
  snprintf(what, sizeof what, "%.300s -> %s%s%s (got %.300s)", json, type, kind ? " " : "", kind ? kind : "",
           shown ? shown : "no reply");
  check(ok, what);
  free(shown);
  cJSON_Delete(reply);
}

/* A frame that breaks the framing rules: the agent sends nothing back and exits, non-zero. */
static void expect_protocol_error(const char *agent_path, uint32_t length, const void *body, size_t body_bytes,
                                  const char *what) {
  agent a = start(agent_path);
  send_raw(&a, length, body, body_bytes);
  uint8_t byte;
  int replied = read_exact(a.from_fd, &byte, 1, 2000) == 1;
  int status = finish(&a);
  char text[256];
  snprintf(text, sizeof text, "protocol error (%s): no reply, the agent exits by itself, non-zero", what);
  check(!replied && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0, text);
}

static void copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_EXCL | O_WRONLY, 0600);
  char buffer[65536];
  ssize_t n = 0;
  while (in >= 0 && out >= 0 && (n = read(in, buffer, sizeof buffer)) > 0)
    if (write(out, buffer, (size_t)n) != n) break;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

static void check_corpus(const char *agent_path, const char *corpus) {
  DIR *dir = opendir(corpus);
  check(dir != NULL, "the corpus directory opens");
  if (dir == NULL) return;
  agent a = start(agent_path);
  char image[512], json[1024], expected[64], what[512];
  int files = 0, id = 1;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
    const char *name = entry->d_name;
    size_t length = strlen(name);
    if (length < 5 || strcmp(name + length - 4, ".bin") != 0) continue;
    const char *dot = strchr(name, '.');
    size_t code_bytes = (size_t)(name + length - 4 - dot);
    if (strncmp(name, "valid_", 6) == 0 || dot == name + length - 4) snprintf(expected, sizeof expected, "ok");
    else snprintf(expected, sizeof expected, "%.*s", (int)(code_bytes - 1), dot + 1);
    if (strcmp(expected, "LaneStateCorrupt") == 0) snprintf(expected, sizeof expected, "ok");
    snprintf(image, sizeof image, "%s/corpus-%d", g_dir, files);
    snprintf(json, sizeof json, "%s/%s", corpus, name);
    copy_file(json, image);
    /* layout.md, opener step 4: a Creating image (magic 0 or INDEXBUS) whose creator_pid names no
     * live process is Stale at once, before validation (which the corpus names describe). */
    uint8_t head[72] = {0};
    int fd = open(image, O_RDONLY);
    ssize_t head_bytes = fd >= 0 ? read(fd, head, sizeof head) : 0;
    if (fd >= 0) close(fd);
    uint64_t magic = 0;
    uint32_t creator_pid = 0, init_state = 1;
    memcpy(&magic, head, 8);
    memcpy(&creator_pid, head + 36, 4);
    memcpy(&init_state, head + 64, 4);
    int creator_alive = creator_pid != 0 && creator_pid <= (1u << 22) && (kill((pid_t)creator_pid, 0) == 0 || errno == EPERM);
    if (head_bytes == (ssize_t)sizeof head && init_state == 0 && creator_pid != 0 && !creator_alive &&
        (magic == 0 || magic == UINT64_C(0x5355425845444E49)))
      snprintf(expected, sizeof expected, "Stale");
    snprintf(json, sizeof json, "{\"id\":%d,\"type\":\"open_region\",\"deadline_ms\":400,\"path\":\"%s\"}", id++, image);
    send_raw(&a, (uint32_t)strlen(json), json, strlen(json));
    cJSON *reply = receive(&a);
    const cJSON *type = cJSON_GetObjectItem(reply, "type");
    const cJSON *code = cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "error"), "code");
    const char *got = !cJSON_IsString(type) ? "no reply"
                      : strcmp(type->valuestring, "ok") == 0 ? "ok"
                      : cJSON_IsString(code) ? code->valuestring : "an error without code";
    int ok = strcmp(got, expected) == 0;
    snprintf(what, sizeof what, "corpus %s: %s (got %s)", name, expected, got);
    if (!ok) check(0, what);
    cJSON_Delete(reply);
    unlink(image);
    files++;
  }
  closedir(dir);
  close(a.to_fd);
  finish(&a);
  snprintf(what, sizeof what, "the C validator judges all %d corpus images as their names say", files);
  check(files > 100, what);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s C_AGENT [CORPUS [BREAK]]\n", argv[0]);
    return 2;
  }
  alarm(60);
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  snprintf(g_dir, sizeof g_dir, "%s/indexbus-cagent-proto-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (mkdtemp(g_dir) == NULL) return 3;
  char region[512], json[2048];
  snprintf(region, sizeof region, "%s/r", g_dir);
  if (argc == 4) { /* the checker's own check: a broken validator must not pass the corpus */
    g_break = argv[3];
    check_corpus(argv[1], argv[2]);
    rmdir(g_dir);
    printf("%s: --break %s failed %d check(s)\n", g_failures ? "PASSED (caught)" : "FAILED (not caught)", g_break,
           g_failures);
    return g_failures ? 0 : 1;
  }

  agent a = start(argv[1]);
  expect_reply(&a, "{\"id\":1,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"close\"}",
               "error", "no_region", NULL);
  snprintf(json, sizeof json, "{\"id\":2,\"type\":\"create_region\",\"deadline_ms\":5000,\"path\":\"%s\",\"lanes\":"
           "[{\"kind\":\"events\",\"on_full\":\"sideways\",\"capacity_slots\":4,\"slot_payload_bytes\":8}]}", region);
  expect_reply(&a, json, "error", "bad_request", NULL);
  snprintf(json, sizeof json, "{\"id\":3,\"type\":\"create_region\",\"deadline_ms\":5000,\"path\":\"%s\",\"lanes\":"
           "[{\"kind\":\"events\",\"on_full\":\"block\",\"capacity_slots\":3,\"slot_payload_bytes\":8}]}", region);
  expect_reply(&a, json, "error", "region", "BadCapacity");
  check(access(region, F_OK) != 0, "a refused create leaves no file (REG-1)");
  snprintf(json, sizeof json, "{\"id\":4,\"type\":\"create_region\",\"deadline_ms\":5000,\"path\":\"%s\",\"lanes\":"
           "[{\"kind\":\"events\",\"on_full\":\"block\",\"capacity_slots\":4,\"slot_payload_bytes\":8}]}", region);
  expect_reply(&a, json, "ok", NULL, NULL);
  expect_reply(&a, json, "error", "region", "AlreadyExists");
  /* A failed create released the region it replaced (agent-protocol.md): none is held now. */
  expect_reply(&a, "{\"id\":5,\"type\":\"lane_state\",\"deadline_ms\":5000,\"lane\":0}", "error", "no_region", NULL);
  snprintf(json, sizeof json, "{\"id\":5,\"type\":\"create_region\",\"deadline_ms\":5000,\"path\":\"%s2\",\"lanes\":"
           "[{\"kind\":\"events\",\"on_full\":\"block\",\"capacity_slots\":4,\"slot_payload_bytes\":8}]}", region);
  expect_reply(&a, json, "ok", NULL, NULL);
  expect_reply(&a, "{\"id\":6,\"type\":\"attach\",\"deadline_ms\":5000,\"lane\":7,\"role\":\"producer\"}", "error", "bad_lane", NULL);
  expect_reply(&a, "{\"id\":7,\"type\":\"attach\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"juggler\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":8,\"type\":\"attach\",\"deadline_ms\":5000,\"lane\":\"0\",\"role\":\"producer\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":9,\"type\":\"attach\",\"deadline_ms\":5000,\"lane\":-1,\"role\":\"producer\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":10,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\","
               "\"payload_hex\":\"00\"}", "error", "not_attached", NULL);
  expect_reply(&a, "{\"id\":11,\"type\":\"attach\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\"}", "ok", NULL, NULL);
  expect_reply(&a, "{\"id\":12,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\","
               "\"payload_hex\":\"0g\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":13,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\","
               "\"payload_hex\":\"abc\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":14,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\"}",
               "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":15,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"write\","
               "\"payload_hex\":\"00\"}", "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":16,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"fly\"}",
               "unsupported", NULL, NULL);
  expect_reply(&a, "{\"id\":17,\"type\":\"dance\",\"deadline_ms\":5000}", "unsupported", NULL, NULL);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  unsigned long long far_ns = (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec + 60000000000ull;
  snprintf(json, sizeof json, "{\"id\":18,\"type\":\"run_script\",\"deadline_ms\":30000,\"start_at_ns\":%llu,\"ops\":[]}", far_ns);
  expect_reply(&a, json, "error", "bad_request", NULL);
  expect_reply(&a, "{\"id\":19,\"type\":\"op\",\"deadline_ms\":5000,\"lane\":0,\"role\":\"producer\",\"op\":\"try_write\","
               "\"payload_hex\":\"00112233445566778899\"}", "ok", NULL, NULL); /* TooLarge is a result, not an error */
  expect_reply(&a, "{\"id\":20,\"type\":\"lane_state\",\"deadline_ms\":5000,\"lane\":0}", "ok", NULL, NULL);
  snprintf(json, sizeof json, "{\"id\":21,\"type\":\"open_region\",\"deadline_ms\":5000,\"path\":\"%s/missing\"}", g_dir);
  expect_reply(&a, json, "error", "region", "NotFound");
  expect_reply(&a, "{\"id\":22,\"type\":\"lane_state\",\"deadline_ms\":5000,\"lane\":0}", "error", "no_region", NULL);
  close(a.to_fd); /* EOF: the harness is gone */
  int status = finish(&a);
  check(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "end of file on stdin: the agent exits 0");

  char deep[200]; /* {"a": 65 x [ 65 x ] }: 66 levels, valid JSON but too deep */
  memcpy(deep, "{\"a\":", 5);
  memset(deep + 5, '[', 65);
  memset(deep + 70, ']', 65);
  deep[135] = '}';
  expect_protocol_error(argv[1], 0x7FFFFFFFu, NULL, 0, "length above 16 MiB, body never sent");
  expect_protocol_error(argv[1], 1, "{", 1, "length below 2");
  expect_protocol_error(argv[1], 2, "42", 2, "not an object");
  expect_protocol_error(argv[1], 3, "{}x", 3, "trailing garbage");
  expect_protocol_error(argv[1], 9, "{\"a\":\"\xff\"}", 9, "invalid UTF-8");
  expect_protocol_error(argv[1], 136, deep, 136, "more than 64 levels deep");

  if (argc == 3) check_corpus(argv[1], argv[2]);
  unlink(region);
  snprintf(json, sizeof json, "%s2", region);
  unlink(json);
  rmdir(g_dir);
  printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}

/* Region create / open / validate, from spec/layout.md ("Init protocol", "Validation order"). */
#include "region.h"

#include "lanes.h" /* ibc_defect */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define HUGETLBFS_MAGIC_ 0x958458f6u
#define PID_MAX_LIMIT_ (1u << 22)

static int fail(ibc_error *error, const char *code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  error->code = code;
  vsnprintf(error->message, sizeof error->message, format, args);
  va_end(args);
  return -1;
}

uint32_t ibc_crc32c(uint32_t crc, const uint8_t *bytes, uint64_t count) {
  while (count--) {
    crc ^= *bytes++;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

uint64_t ibc_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* layout.md: a pid of 0 or above PID_MAX_LIMIT names no process; kill(pid, 0) decides the rest. */
int ibc_pid_alive(uint32_t pid) {
  if (pid == 0 || pid > PID_MAX_LIMIT_) return 0;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static int is_power_of_two(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

int ibc_check_lane_spec(const ibc_lane_spec *spec, uint32_t lane, ibc_error *error) {
  if (spec->kind < 1 || spec->kind > 4)
    return fail(error, "BadLaneKind", "lane %u: kind %u is not a lane kind in [1, 4]", lane, spec->kind);
  if (spec->on_full != IBC_BLOCK && spec->on_full != IBC_DROP)
    return fail(error, "BadOnFull", "lane %u: on_full %u is not 1 (block) or 2 (drop)", lane, spec->on_full);
  if (!is_power_of_two(spec->capacity_slots) || spec->capacity_slots > IBC_CAPACITY_SLOTS_MAX)
    return fail(error, "BadCapacity", "lane %u: capacity_slots %u is not a power of two in [1, %u]", lane,
                spec->capacity_slots, IBC_CAPACITY_SLOTS_MAX);
  if (spec->slot_payload_bytes < IBC_SLOT_PAYLOAD_BYTES_MIN ||
      spec->slot_payload_bytes > IBC_SLOT_PAYLOAD_BYTES_MAX || spec->slot_payload_bytes % 8 != 0)
    return fail(error, "BadSlotBytes", "lane %u: slot_payload_bytes %u is not a multiple of 8 in [8, %u]", lane,
                spec->slot_payload_bytes, IBC_SLOT_PAYLOAD_BYTES_MAX);
  if (spec->kind == IBC_EVENTS ? spec->reader_count != 1
                               : (spec->reader_count < 1 || spec->reader_count > IBC_READER_COUNT_MAX))
    return fail(error, "BadReaderCount", "lane %u: reader_count %u is not %s", lane, spec->reader_count,
                spec->kind == IBC_EVENTS ? "1 for an events lane" : "in [1, 64]");
  if (spec->reader_timeout_ns != 0 && spec->kind != IBC_JOURNAL)
    return fail(error, "BadReaderTimeout", "lane %u: reader_timeout_ns %llu is not 0 on a lane that is not a journal",
                lane, (unsigned long long)spec->reader_timeout_ns);
  return 0;
}

/* Check 24b: masks only on SequencedSlots, naming other existing consumers, without a cycle.
 * Kahn's algorithm: remove consumers whose gates are all removed; whoever is left is on or
 * behind a cycle, and the lowest index of them is named. */
static int check_gating(const uint64_t *masks, uint32_t kind, uint32_t reader_count, uint32_t lane,
                        ibc_error *error) {
  for (uint32_t r = 0; r < reader_count; r++) {
    uint64_t mask = masks[r];
    if (mask != 0 && kind != IBC_SEQUENCED_SLOTS)
      return fail(error, "BadGating", "lane %u: reader %u gated_on_mask 0x%llx is not 0 on a lane that is not sequenced_slots",
                  lane, r, (unsigned long long)mask);
    if (reader_count < 64 && (mask >> reader_count) != 0)
      return fail(error, "BadGating", "lane %u: reader %u gated_on_mask 0x%llx names a consumer >= reader_count %u",
                  lane, r, (unsigned long long)mask, reader_count);
    if (mask & (UINT64_C(1) << r))
      return fail(error, "BadGating", "lane %u: reader %u gated_on_mask 0x%llx names the consumer itself", lane, r,
                  (unsigned long long)mask);
  }
  uint64_t removed = 0;
  for (uint32_t round = 0; round < reader_count; round++) { /* each round removes >= 1 or stops */
    uint64_t before = removed;
    for (uint32_t r = 0; r < reader_count; r++)
      if (!(removed & (UINT64_C(1) << r)) && (masks[r] & ~before) == 0) removed |= UINT64_C(1) << r;
    if (removed == before) break;
  }
  for (uint32_t r = 0; r < reader_count; r++)
    if (!(removed & (UINT64_C(1) << r)))
      return fail(error, "BadGating", "lane %u: reader %u gated_on_mask 0x%llx is on or behind a gating cycle", lane, r,
                  (unsigned long long)masks[r]);
  return 0;
}

int ibc_validate_image(const uint8_t *image, uint64_t file_bytes, ibc_error *error) {
  if (file_bytes < IBC_HEADER_BYTES)
    return fail(error, "TooSmall", "region header: file size %llu is below the 128-byte header",
                (unsigned long long)file_bytes);
  ibc_region_header h;
  memcpy(&h, image, sizeof h); /* immutable once Ready; init_state is re-read atomically below */
  uint32_t init_state = atomic_load_explicit(&((const ibc_region_header *)image)->init_state, memory_order_acquire);
  if (h.magic != IBC_REGION_MAGIC)
    return fail(error, "BadMagic", "region header: magic 0x%016llx is not 0x%016llx (\"INDEXBUS\")",
                (unsigned long long)h.magic, (unsigned long long)IBC_REGION_MAGIC);
  if (h.version_major != IBC_VERSION_MAJOR)
    return fail(error, "VersionMismatch", "region header: version_major %u is not 1", h.version_major);
  if (init_state != IBC_INIT_READY)
    return fail(error, "NotReady", "region header: init_state %u is %s", init_state,
                init_state == 0 ? "creating, not 1 (ready)" : "not 0 or 1");
  if (h.header_bytes != IBC_HEADER_BYTES)
    return fail(error, "BadHeaderBytes", "region header: header_bytes %u is not 128", h.header_bytes);
  if (h.region_bytes != file_bytes)
    return fail(error, "RegionSizeMismatch", "region header: region_bytes %llu is not the file size %llu",
                (unsigned long long)h.region_bytes, (unsigned long long)file_bytes);
  if (h.lane_count < 1 || h.lane_count > IBC_LANE_COUNT_MAX)
    return fail(error, "BadLaneCount", "region header: lane_count %u is not in [1, 64]", h.lane_count);
  if (h.lane_descriptor_bytes != IBC_DESCRIPTOR_BYTES)
    return fail(error, "BadDescriptorBytes", "region header: lane_descriptor_bytes %u is not 64",
                h.lane_descriptor_bytes);
  uint64_t table_end = (uint64_t)h.lane_table_offset + 64u * (uint64_t)h.lane_count;
  if (h.lane_table_offset < 128 || h.lane_table_offset % 64 != 0 || table_end > file_bytes)
    return fail(error, "BadLaneTableOffset",
                "region header: lane_table_offset %u is not a multiple of 64 >= 128 with the table inside %llu bytes",
                h.lane_table_offset, (unsigned long long)file_bytes);
  if (h.reserved0 != 0)
    return fail(error, "ReservedNotZero", "region header: reserved0 0x%llx is not 0", (unsigned long long)h.reserved0);
  for (uint32_t k = 0; k < 15; k++)
    if (h.reserved1[k] != 0)
      return fail(error, "ReservedNotZero", "region header: reserved1 (bytes 68..127) word %u is 0x%x, not 0", k,
                  h.reserved1[k]);
  if (h.flags != 0) return fail(error, "BadFlags", "region header: flags 0x%x is not 0", h.flags);

  ibc_lane_descriptor d[IBC_LANE_COUNT_MAX];
  memcpy(d, image + h.lane_table_offset, 64u * h.lane_count);
  for (uint32_t i = 0; i < h.lane_count; i++) {
    ibc_lane_spec spec = {.kind = d[i].kind, .on_full = d[i].on_full, .capacity_slots = d[i].capacity_slots,
                          .slot_payload_bytes = d[i].slot_payload_bytes, .reader_count = d[i].reader_count,
                          .reader_timeout_ns = d[i].reader_timeout_ns};
    if (ibc_check_lane_spec(&spec, i, error) != 0) return -1;
    if (d[i].reserved0 != 0) return fail(error, "ReservedNotZero", "lane %u: reserved0 0x%x is not 0", i, d[i].reserved0);
    if (d[i].reserved1[0] != 0 || d[i].reserved1[1] != 0)
      return fail(error, "ReservedNotZero", "lane %u: reserved1 (bytes 48..63) is not zero", i);
    if (d[i].block_offset % 64 != 0)
      return fail(error, "BlockMisaligned", "lane %u: block_offset %llu is not a multiple of 64", i,
                  (unsigned long long)d[i].block_offset);
    uint64_t expected = ibc_lane_block_bytes(d[i].kind, d[i].capacity_slots, d[i].slot_payload_bytes, d[i].reader_count);
    if (d[i].block_bytes != expected)
      return fail(error, "BadBlockBytes", "lane %u: block_bytes %llu is not %llu", i,
                  (unsigned long long)d[i].block_bytes, (unsigned long long)expected);
    if (d[i].block_offset < table_end || d[i].block_offset > file_bytes ||
        d[i].block_bytes > file_bytes - d[i].block_offset)
      return fail(error, "BlockOutOfBounds", "lane %u: block_offset %llu with %llu bytes is not inside [%llu, %llu)", i,
                  (unsigned long long)d[i].block_offset, (unsigned long long)d[i].block_bytes,
                  (unsigned long long)table_end, (unsigned long long)file_bytes);
  }
  for (uint32_t i = 0; i < h.lane_count; i++)
    for (uint32_t j = i + 1; j < h.lane_count; j++)
      if (d[i].block_offset < d[j].block_offset + d[j].block_bytes &&
          d[j].block_offset < d[i].block_offset + d[i].block_bytes)
        return fail(error, "BlocksOverlap", "lane %u: block_offset %llu overlaps the block of lane %u at [%llu, %llu)", j,
                    (unsigned long long)d[j].block_offset, i, (unsigned long long)d[i].block_offset,
                    (unsigned long long)(d[i].block_offset + d[i].block_bytes));
  for (uint32_t i = 0; i < h.lane_count; i++) {
    if (d[i].kind == IBC_EVENTS) continue;
    uint64_t masks[IBC_READER_COUNT_MAX];
    const ibc_reader_record *records = (const ibc_reader_record *)(image + d[i].block_offset + IBC_LANE_HEADER_BYTES);
    for (uint32_t r = 0; r < d[i].reader_count; r++) masks[r] = records[r].gated_on_mask;
    if (check_gating(masks, d[i].kind, d[i].reader_count, i, error) != 0) return -1;
  }
  uint32_t crc = ibc_crc32c(0xFFFFFFFFu, image, IBC_CHECKSUMMED_HEADER_BYTES);
  crc = ibc_crc32c(crc, image + h.lane_table_offset, 64u * h.lane_count) ^ 0xFFFFFFFFu;
  if (crc != h.checksum && ibc_defect != IBC_BREAK_NO_CHECKSUM) /* the defect: test only */
    return fail(error, "ChecksumMismatch", "region header: checksum 0x%08x is not the CRC32C 0x%08x", h.checksum, crc);
  return 0;
}

int ibc_region_create(ibc_region *region, const char *path, const ibc_lane_spec *specs, uint32_t lane_count,
                      ibc_error *error) {
  if (lane_count < 1 || lane_count > IBC_LANE_COUNT_MAX)
    return fail(error, "BadLaneCount", "region header: lane_count %u is not in [1, 64]", lane_count);
  ibc_lane_descriptor table[IBC_LANE_COUNT_MAX];
  memset(table, 0, sizeof table);
  uint64_t offset = IBC_HEADER_BYTES + 64u * (uint64_t)lane_count; /* canonical placement */
  for (uint32_t i = 0; i < lane_count; i++) {
    if (ibc_check_lane_spec(&specs[i], i, error) != 0) return -1;
    if (specs[i].kind != IBC_EVENTS && check_gating(specs[i].gated_on_mask, specs[i].kind, specs[i].reader_count, i, error) != 0)
      return -1;
    table[i] = (ibc_lane_descriptor){.kind = specs[i].kind, .on_full = specs[i].on_full,
                                     .capacity_slots = specs[i].capacity_slots,
                                     .slot_payload_bytes = specs[i].slot_payload_bytes,
                                     .reader_count = specs[i].reader_count, .block_offset = offset,
                                     .reader_timeout_ns = specs[i].reader_timeout_ns};
    table[i].block_bytes = ibc_lane_block_bytes(specs[i].kind, specs[i].capacity_slots, specs[i].slot_payload_bytes,
                                                specs[i].reader_count);
    offset += table[i].block_bytes;
  }
  uint64_t region_bytes = ibc_round_up(offset, IBC_REGION_GRANULE_BYTES);

  int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(error, errno == EEXIST ? "AlreadyExists" : "Io", "%s: open: %s", path, strerror(errno));
  struct statfs fs;
  if (fstatfs(fd, &fs) == 0 && (uint32_t)fs.f_type == HUGETLBFS_MAGIC_ && fs.f_bsize > 0)
    region_bytes = ibc_round_up(region_bytes, (uint64_t)fs.f_bsize);
  void *base = MAP_FAILED;
  if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)region_bytes) != 0 ||
      (base = mmap(NULL, region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
    int saved = errno;
    close(fd);
    unlink(path); /* REG-1: no half-made region is left behind */
    return fail(error, "Io", "%s: sizing or mapping: %s", path, strerror(saved));
  }
  close(fd); /* the mapping stays valid */
  uint8_t *image = base;
  ibc_region_header *header = (ibc_region_header *)image;
  /* creator_pid first, so that an opener can tell a dead creator from a slow one (REG-3). */
  atomic_store_explicit((_Atomic uint32_t *)&header->creator_pid, (uint32_t)getpid(), memory_order_relaxed);
  memcpy(image + IBC_HEADER_BYTES, table, 64u * lane_count);
  for (uint32_t i = 0; i < lane_count; i++) {
    if (specs[i].kind == IBC_EVENTS) continue;
    ibc_reader_record *records = (ibc_reader_record *)(image + table[i].block_offset + IBC_LANE_HEADER_BYTES);
    for (uint32_t r = 0; r < specs[i].reader_count; r++) records[r].gated_on_mask = specs[i].gated_on_mask[r];
  }
  uint64_t creation_id = 0;
  if (getrandom(&creation_id, sizeof creation_id, 0) != (ssize_t)sizeof creation_id) creation_id = ibc_now_ns();
  if (creation_id == 0) creation_id = 1;
  header->magic = IBC_REGION_MAGIC;
  header->version_major = IBC_VERSION_MAJOR;
  header->version_minor = IBC_VERSION_MINOR;
  header->header_bytes = IBC_HEADER_BYTES;
  header->region_bytes = region_bytes;
  header->lane_count = lane_count;
  header->lane_table_offset = IBC_HEADER_BYTES;
  header->lane_descriptor_bytes = IBC_DESCRIPTOR_BYTES;
  header->creation_id = creation_id;
  uint32_t crc = ibc_crc32c(0xFFFFFFFFu, image, IBC_CHECKSUMMED_HEADER_BYTES);
  header->checksum = ibc_crc32c(crc, image + IBC_HEADER_BYTES, 64u * lane_count) ^ 0xFFFFFFFFu;
  atomic_store_explicit(&header->init_state, IBC_INIT_READY, memory_order_release); /* last */

  region->base = image;
  region->bytes = region_bytes;
  region->lane_count = lane_count;
  memcpy(region->lanes, table, sizeof table);
  return 0;
}

int ibc_region_open(ibc_region *region, const char *path, uint64_t ready_timeout_ns, ibc_error *error) {
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail(error, "NotFound", "%s: no such region file", path);
    if (errno == ELOOP) return fail(error, "SymlinkRefused", "%s: is a symbolic link", path);
    return fail(error, "Io", "%s: open: %s", path, strerror(errno));
  }
  struct stat st;
  const char *code = NULL;
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    close(fd);
    return fail(error, "Io", "%s: fstat: %s", path, strerror(saved));
  }
  if (!S_ISREG(st.st_mode)) code = "NotRegularFile";
  else if (st.st_uid != geteuid()) code = "WrongOwner";
  else if (st.st_mode & S_IWOTH) code = "WritableByOthers";
  else if ((uint64_t)st.st_size < IBC_HEADER_BYTES) code = "TooSmall";
  if (code != NULL) {
    close(fd);
    if (strcmp(code, "TooSmall") == 0) /* validation check 1, made on fstat: its message names the field */
      return fail(error, code, "%s: region header: file size %lld is smaller than the 128-byte region header", path,
                  (long long)st.st_size);
    return fail(error, code, "%s: file refused before mapping (%s): mode 0%o, owner %u", path, code,
                (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
  }
  uint64_t file_bytes = (uint64_t)st.st_size;
  void *base = mmap(NULL, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return fail(error, "Io", "%s: mmap: %s", path, strerror(errno));
  uint8_t *image = base;
  ibc_region_header *header = (ibc_region_header *)image;
  uint64_t deadline_ns = ibc_now_ns() + ready_timeout_ns;
  for (;;) { /* bounded by deadline_ns, 1 ms per round */
    uint32_t init_state = atomic_load_explicit(&header->init_state, memory_order_acquire);
    if (init_state == IBC_INIT_READY) break;
    uint64_t magic = atomic_load_explicit((_Atomic uint64_t *)&header->magic, memory_order_relaxed);
    if (magic != 0 && magic != IBC_REGION_MAGIC) break;
    uint32_t creator = atomic_load_explicit((_Atomic uint32_t *)&header->creator_pid, memory_order_relaxed);
    if (init_state == 0 && creator != 0 && !ibc_pid_alive(creator)) {
      munmap(base, file_bytes);
      return fail(error, "Stale", "%s: region header: init_state 0 (creating) and creator_pid %u is dead", path, creator);
    }
    if (init_state > 1 || ibc_now_ns() >= deadline_ns) break;
    nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
  }
  if (ibc_validate_image(image, file_bytes, error) != 0) {
    char inner[sizeof error->message];
    memcpy(inner, error->message, sizeof inner);
    int used = snprintf(error->message, sizeof error->message, "%.200s: ", path); /* Region::open prefixes the path */
    if (used > 0 && (size_t)used < sizeof error->message)
      memcpy(error->message + used, inner, strnlen(inner, sizeof error->message - (size_t)used - 1) + 1);
    error->message[sizeof error->message - 1] = '\0';
    munmap(base, file_bytes);
    return -1;
  }
  region->base = image;
  region->bytes = file_bytes;
  region->lane_count = header->lane_count;
  memcpy(region->lanes, image + header->lane_table_offset, 64u * header->lane_count);
  return 0;
}

void ibc_region_unmap(ibc_region *region) {
  if (region->base != NULL) munmap(region->base, region->bytes);
  region->base = NULL;
  region->bytes = 0;
  region->lane_count = 0;
}

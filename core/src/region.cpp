#include "indexbus/region.hpp"

#include "indexbus/real_platform.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/detail/os_file_functions.hpp>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

namespace indexbus {
namespace {

namespace bip = boost::interprocess;

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

// Lets Boost.Interprocess map a file descriptor we opened ourselves (O_EXCL, O_NOFOLLOW), so the
// file that is mapped is exactly the one that was checked: no reopen by name, no race.
class FdMappable {
 public:
  explicit FdMappable(int fd) noexcept : fd_(fd) {}
  bip::mapping_handle_t get_mapping_handle() const noexcept {
    return bip::ipcdetail::mapping_handle_from_file_handle(fd_);
  }

 private:
  int fd_;
};

class FdGuard {
 public:
  explicit FdGuard(int fd) noexcept : fd_(fd) {}
  ~FdGuard() { if (fd_ >= 0) ::close(fd_); }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

Error io_error(ErrorCode code, const std::string& path, std::string_view what, int err) {
  return Error{code, path + ": " + std::string(what) + ": " + std::strerror(err)};
}

Error open_error(const std::string& path, int err) {
  if (err == ENOENT) return Error{ErrorCode::NotFound, path + ": no such region file"};
  if (err == ELOOP) {
    return Error{ErrorCode::SymlinkRefused, path + ": is a symbolic link; regions are never opened through one"};
  }
  if (err == EEXIST) {
    return Error{ErrorCode::AlreadyExists,
                 path + ": already exists; a region is never silently reused (remove it first)"};
  }
  return io_error(ErrorCode::Io, path, "cannot open", err);
}

std::uint64_t random_creation_id() {
  std::random_device device;
  const std::uint64_t high = device();
  const std::uint64_t low = device();
  const std::uint64_t id = (high << 32) | low;
  return id == 0 ? 1 : id;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

bool pid_alive(std::uint32_t pid) { return RealPlatform().process_alive(pid); }

}  // namespace

Result<RegionPlan> plan_region(std::span<const LaneSpec> lanes) {
  if (lanes.empty() || lanes.size() > kLaneCountMax) {
    return Error{ErrorCode::BadLaneCount, "region: lane count " + std::to_string(lanes.size()) +
                                              " is not in [1, " + std::to_string(kLaneCountMax) + "]"};
  }
  RegionPlan plan;
  plan.lane_table_offset = sizeof(RegionHeader);
  std::uint64_t offset =
      plan.lane_table_offset + lane_table_bytes(static_cast<std::uint32_t>(lanes.size()));
  for (std::uint32_t i = 0; i < lanes.size(); ++i) {
    if (auto error = check_lane_spec(i, lanes[i])) return *error;
    const std::uint64_t bytes = lane_block_bytes(lanes[i].kind, lanes[i].capacity_slots,
                                                 lanes[i].slot_payload_bytes, lanes[i].reader_count);
    assert(bytes % kCacheLineBytes == 0);
    plan.block_offsets.push_back(offset);
    plan.block_bytes.push_back(bytes);
    offset += bytes;
  }
  plan.region_bytes = round_up(offset, 4096);
  return plan;
}

void write_region_image(std::span<std::byte> image, const RegionPlan& plan,
                        std::span<const LaneSpec> lanes, std::uint32_t creator_pid,
                        std::uint64_t creation_id) {
  assert(image.size() == plan.region_bytes);
  assert(plan.block_offsets.size() == lanes.size());
  RegionHeader header{};
  header.magic = kRegionMagic;
  header.version_major = kLayoutVersionMajor;
  header.version_minor = kLayoutVersionMinor;
  header.header_bytes = sizeof(RegionHeader);
  header.region_bytes = plan.region_bytes;
  header.lane_count = static_cast<std::uint32_t>(lanes.size());
  header.lane_table_offset = plan.lane_table_offset;
  header.lane_descriptor_bytes = sizeof(LaneDescriptor);
  header.creator_pid = creator_pid;
  header.creation_id = creation_id;
  header.init_state = kInitStateCreating;
  for (std::uint32_t i = 0; i < lanes.size(); ++i) {
    LaneDescriptor lane{};
    lane.kind = static_cast<std::uint32_t>(lanes[i].kind);
    lane.on_full = static_cast<std::uint32_t>(lanes[i].on_full);
    lane.capacity_slots = lanes[i].capacity_slots;
    lane.slot_payload_bytes = lanes[i].slot_payload_bytes;
    lane.reader_count = lanes[i].reader_count;
    lane.block_offset = plan.block_offsets[i];
    lane.block_bytes = plan.block_bytes[i];
    lane.reader_timeout_ns = lanes[i].reader_timeout_ns;
    std::memcpy(image.data() + plan.lane_table_offset + i * sizeof(LaneDescriptor), &lane,
                sizeof(lane));
    // The rest of a block starts zero (cursors 0, readers free); only gating is configuration.
    for (std::uint32_t r = 0; r < lanes[i].gated_on.size(); ++r) {
      assert(is_ring_kind(lanes[i].kind) && r < lanes[i].reader_count);
      std::memcpy(image.data() + plan.block_offsets[i] + sizeof(RingLaneHeader) +
                      std::uint64_t{r} * sizeof(ReaderRecord) + offsetof(ReaderRecord, gated_on_mask),
                  &lanes[i].gated_on[r], sizeof(std::uint64_t));
    }
  }
  // Header without init_state: the checksum covers bytes [0, 60), then Ready is stored last.
  std::memcpy(image.data(), &header, offsetof(RegionHeader, init_state));
  const std::uint32_t checksum = region_checksum(image, plan.lane_table_offset, header.lane_count);
  std::memcpy(image.data() + offsetof(RegionHeader, checksum), &checksum, sizeof(checksum));
  auto* init_state = reinterpret_cast<std::uint32_t*>(image.data() + offsetof(RegionHeader, init_state));
  std::atomic_ref<std::uint32_t>(*init_state).store(kInitStateReady, std::memory_order_release);
}

Result<Region> Region::create(const std::string& path, std::span<const LaneSpec> lanes,
                              const CreateOptions& options) {
  if (options.mode != 0600 && options.mode != 0660) {
    return Error{ErrorCode::BadPermissions,
                 path + ": mode " + std::to_string(options.mode) + " is not 0600 or 0660"};
  }
  auto plan = plan_region(lanes);
  if (!plan) return plan.error();
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return open_error(path, errno);
  FdGuard guard(fd);
  // From here on, any failure removes the file we made.
  auto fail = [&](Error error) -> Result<Region> {
    ::unlink(path.c_str());
    return error;
  };
  if (::fchmod(fd, options.mode) != 0) return fail(io_error(ErrorCode::Io, path, "fchmod", errno));
  std::uint64_t file_bytes = plan->region_bytes;
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0 && static_cast<std::uint64_t>(fs.f_type) == HUGETLBFS_MAGIC) {
    // hugetlbfs sizes files in whole huge pages; the header still records the exact size used.
    file_bytes = round_up(file_bytes, static_cast<std::uint64_t>(fs.f_bsize));
    plan->region_bytes = file_bytes;
  }
  if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) {
    return fail(io_error(ErrorCode::Io, path, "cannot size region to " + std::to_string(file_bytes) + " bytes", errno));
  }
  if (options.prefault) {
    // posix_fallocate returns the error instead of setting errno. On tmpfs it allocates the
    // pages now and fails with ENOSPC when the file system (or its memory) is full.
    const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(file_bytes));
    if (err != 0) {
      return fail(io_error(ErrorCode::Io, path,
                           "cannot pre-fault " + std::to_string(file_bytes) +
                               " bytes (--prefault; is the file system full?)",
                           err));
    }
  }
  try {
    bip::mapped_region mapping(FdMappable(fd), bip::read_write, 0, file_bytes);
    // The creator's pid goes in first, so that an opener can tell a creator that died at any
    // later point (REG-3) from one that is still writing.
    auto* header = static_cast<RegionHeader*>(mapping.get_address());
    std::atomic_ref<std::uint32_t>(header->creator_pid)
        .store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    write_region_image({static_cast<std::byte*>(mapping.get_address()), file_bytes}, *plan, lanes,
                       static_cast<std::uint32_t>(::getpid()), random_creation_id());
    return Region(std::move(mapping), path);
  } catch (const bip::interprocess_exception& e) {
    return fail(Error{ErrorCode::Io, path + ": cannot map region: " + e.what()});
  }
}

Result<Region> Region::open(const std::string& path, const OpenOptions& options) {
  const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return open_error(path, errno);
  FdGuard guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(ErrorCode::Io, path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Error{ErrorCode::NotRegularFile, path + ": is not a regular file"};
  }
  if (st.st_uid != ::geteuid()) {
    return Error{ErrorCode::WrongOwner, path + ": owner uid " + std::to_string(st.st_uid) +
                                           " is not the current user " + std::to_string(::geteuid())};
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    return Error{ErrorCode::WritableByOthers,
                 path + ": mode " + std::to_string(st.st_mode & 0777) +
                     " lets others write; expected 0600 or 0660"};
  }
  const auto file_bytes = static_cast<std::uint64_t>(st.st_size);
  if (file_bytes < sizeof(RegionHeader)) {
    return Error{ErrorCode::TooSmall, path + ": region header: file size " +
                                          std::to_string(file_bytes) + " is smaller than the " +
                                          std::to_string(sizeof(RegionHeader)) + "-byte region header"};
  }
  try {
    bip::mapped_region mapping(FdMappable(fd), bip::read_write, 0, file_bytes);
    auto* header = static_cast<RegionHeader*>(mapping.get_address());
    // Bounded wait for Ready (REG-3). Poll every 1 ms: creation takes microseconds, and a
    // creator that died is detected through its pid instead of waiting out the deadline.
    const std::uint64_t deadline = monotonic_ns() + options.ready_timeout_ns;
    for (;;) {
      const std::uint32_t state =
          std::atomic_ref<std::uint32_t>(header->init_state).load(std::memory_order_acquire);
      if (state == kInitStateReady) break;
      const std::uint32_t creator =
          std::atomic_ref<std::uint32_t>(header->creator_pid).load(std::memory_order_relaxed);
      const std::uint64_t magic =
          std::atomic_ref<std::uint64_t>(header->magic).load(std::memory_order_relaxed);
      // Only a file that is, or is becoming, a region can be stale; anything else is reported
      // by validation (BadMagic), never as something to remove.
      const bool region_or_blank = magic == kRegionMagic || magic == 0;
      if (!region_or_blank) break;
      if (state == kInitStateCreating && creator != 0 && !pid_alive(creator)) {
        return Error{ErrorCode::Stale, path + ": region header: init_state 0 (creating) but creator pid " +
                                           std::to_string(creator) +
                                           " no longer exists; the region is stale (remove it)"};
      }
      if (state != kInitStateCreating || monotonic_ns() >= deadline) break;  // validation reports it
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Region region(std::move(mapping), path);
    if (auto error = validate_region_image(region.image())) {
      return Error{error->code, path + ": " + error->message};
    }
    return region;
  } catch (const bip::interprocess_exception& e) {
    return Error{ErrorCode::Io, path + ": cannot map region: " + e.what()};
  }
}

Result<bool> Region::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return io_error(ErrorCode::Io, path, "cannot remove", errno);
  }
  return true;
}

const LaneDescriptor& Region::lane(std::uint32_t index) const noexcept {
  assert(index < lane_count());
  return *reinterpret_cast<const LaneDescriptor*>(base() + header().lane_table_offset +
                                                  index * sizeof(LaneDescriptor));
}

std::byte* Region::lane_block(std::uint32_t index) const noexcept {
  return base() + lane(index).block_offset;
}

}  // namespace indexbus

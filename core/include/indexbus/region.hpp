// A region: a file on tmpfs (default /dev/shm) or hugetlbfs holding a RegionHeader, a lane table
// and the lane blocks, mapped shared by every cooperating process.
#pragma once

#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "indexbus/error.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/validate.hpp"

namespace indexbus {

inline constexpr const char* kDefaultRegionDirectory = "/dev/shm";

struct CreateOptions {
  // 0600 (owner only) or 0660 (owner and group). Set with fchmod, never through the umask.
  mode_t mode = 0600;
  // Commit every page of the file at creation (posix_fallocate), so that a full tmpfs or
  // hugetlbfs pool is an error here, naming the bytes asked for, instead of a SIGBUS on first touch
  // of a page later. The half-made file is removed on that error like on any other.
  bool prefault = false;
};

struct OpenOptions {
  // How long to wait for a region that is still being created to become Ready (REG-3).
  std::uint64_t ready_timeout_ns = 2'000'000'000;
};

// Sizes and offsets of a region laid out for `lanes`; what create() writes.
struct RegionPlan {
  std::uint64_t region_bytes = 0;
  std::uint32_t lane_table_offset = 0;
  std::vector<std::uint64_t> block_offsets;
  std::vector<std::uint64_t> block_bytes;
};
Result<RegionPlan> plan_region(std::span<const LaneSpec> lanes);

// Writes a complete, Ready region image for `lanes` into `image` (zero-filled, plan.region_bytes
// long). Used by create() on the mapping and by tests and the fuzz corpus on plain buffers.
void write_region_image(std::span<std::byte> image, const RegionPlan& plan,
                        std::span<const LaneSpec> lanes, std::uint32_t creator_pid,
                        std::uint64_t creation_id);

class Region {
 public:
  // Creates `path` exclusively (an existing file is an error, never reused), sizes it, maps it
  // shared, writes the header and lanes and marks it Ready last. On any failure the file is
  // removed again: no half-made region is left behind.
  static Result<Region> create(const std::string& path, std::span<const LaneSpec> lanes,
                               const CreateOptions& options = {});
  // Opens an existing region: refuses symlinks, files of another owner or writable by others,
  // waits (bounded) for Ready, reports a creator that died first as Stale, then validates every
  // field before any offset is used.
  static Result<Region> open(const std::string& path, const OpenOptions& options = {});
  // Removes a region file. Mappings stay valid until they are dropped.
  static Result<bool> remove(const std::string& path);

  Region(Region&&) noexcept = default;
  Region& operator=(Region&&) noexcept = default;

  std::byte* base() const noexcept { return static_cast<std::byte*>(mapping_.get_address()); }
  std::uint64_t size_bytes() const noexcept { return mapping_.get_size(); }
  std::span<const std::byte> image() const noexcept { return {base(), size_bytes()}; }
  const RegionHeader& header() const noexcept { return *reinterpret_cast<const RegionHeader*>(base()); }
  std::uint32_t lane_count() const noexcept { return header().lane_count; }
  const LaneDescriptor& lane(std::uint32_t index) const noexcept;
  std::byte* lane_block(std::uint32_t index) const noexcept;
  const std::string& path() const noexcept { return path_; }

 private:
  Region(boost::interprocess::mapped_region mapping, std::string path)
      : mapping_(std::move(mapping)), path_(std::move(path)) {}

  boost::interprocess::mapped_region mapping_;
  std::string path_;
};

}  // namespace indexbus

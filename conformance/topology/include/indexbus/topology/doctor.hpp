// `indexbus doctor` and `indexbus clean`: the checks an operator runs before starting a topology.
//
// Every check is a pure function of facts (statfs of a directory, the cgroup memory limit, the
// current uid, what a region file's header says), so unit tests present broken setups by
// injecting facts; probe_*() gather the real ones. Region files are read, never trusted: opened
// with O_NOFOLLOW, size checked before mapping, validated with core's validator before any lane
// offset is used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/topology/topology.hpp"

namespace indexbus::doctor {

enum class Status { Pass, Warn, Fail };
std::string to_string(Status status);

struct Finding {
  std::string check;    // filesystem, space, memory, permissions, stale, topology, sizing
  Status status = Status::Pass;
  std::string subject;  // a directory, a region file, a lane, a router
  std::string detail;   // what was found
  std::string advice;   // what to do about it (empty on Pass)
};

struct DirFacts {
  bool exists = false;  // a directory (not through a symlink)
  bool is_symlink = false;
  std::uint64_t fs_magic = 0;     // statfs f_type
  std::uint64_t block_bytes = 0;  // statfs f_bsize: the page or huge page size on tmpfs/hugetlbfs
  std::uint64_t free_bytes = 0;   // f_bavail * f_bsize
  std::uint32_t mode = 0;         // st_mode & 07777
  std::uint32_t uid = 0;
};
DirFacts probe_dir(const std::string& dir);

struct HostFacts {
  std::uint32_t uid = 0;
  std::optional<std::uint64_t> cgroup_memory_max_bytes;  // none = unlimited or unknown
  std::string cgroup_memory_file;                        // where the limit came from
};
HostFacts probe_host();

inline constexpr std::uint64_t kTmpfsMagic = 0x01021994;
inline constexpr std::uint64_t kHugetlbfsMagic = 0x958458f6;

// --- Region files --------------------------------------------------------------------------

enum class RegionState {
  Live,             // Ready and valid, creator or an attached role alive
  Creating,         // not Ready yet, creator alive, within the grace period
  StuckCreating,    // not Ready past the grace period, creator still alive
  DeadCreator,      // Ready (or never Ready), creator and every attached role dead: stale
  NeverReady,       // never marked Ready and its creator is dead or unknown past the grace: stale
  VersionMismatch,  // an IndexBus region of another layout major version
  Corrupt,          // claims to be a region but fails validation
  NotRegion,        // not an IndexBus region file at all (left alone)
};
std::string to_string(RegionState state);
// Only these may be removed by `clean`: nothing alive holds them.
constexpr bool is_removable(RegionState state) noexcept {
  return state == RegionState::DeadCreator || state == RegionState::NeverReady;
}

struct RegionFileInfo {
  std::string path;
  RegionState state = RegionState::NotRegion;
  std::string detail;  // why this state, with the values found
  bool is_symlink = false;
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint64_t file_bytes = 0;
  std::uint32_t creator_pid = 0;
  std::vector<std::uint32_t> live_pids;     // creator and attached roles still alive
  std::vector<std::string> stale_roles;     // "lane 0 reader 2: pid 123 dead" / heartbeat stopped
  std::vector<LaneSpec> lanes;              // of a valid Ready region (gating left out)
};
// grace_ns: how long a region may stay Creating before it counts as never Ready.
RegionFileInfo classify_region_file(const std::string& path, std::uint64_t grace_ns);
// Every entry of `dir` that is, or claims to be, an IndexBus region (others are skipped), plus
// symlinks (reported, never followed). Bounded: at most 100000 entries.
std::vector<RegionFileInfo> scan_region_dir(const std::string& dir, std::uint64_t grace_ns);

// True when the process exists and is not a zombie.
bool process_alive(std::uint32_t pid);

// --- Checks --------------------------------------------------------------------------------

std::vector<Finding> check_filesystem(const std::string& dir, const DirFacts& facts,
                                      topology::HugePages hugepages);
std::vector<Finding> check_dir_permissions(const std::string& dir, const DirFacts& facts);
// need_bytes: what the topology's regions in `dir` need, each rounded to facts.block_bytes.
std::vector<Finding> check_space(const std::string& dir, const DirFacts& facts, std::uint64_t need_bytes);
std::vector<Finding> check_memory(const HostFacts& host, std::uint64_t need_bytes);
std::vector<Finding> check_region_file(const RegionFileInfo& info, const HostFacts& host);
// Routers and merges: compatible slot sizes, key offsets inside the slot; every lane has exactly
// one producer (its `producer`, a router output or a merge output).
std::vector<Finding> check_topology(const topology::Topology& topo);

// The bytes a region of the topology needs, and one line per lane with the formula.
struct RegionSizing {
  std::uint64_t region_bytes = 0;    // core's plan_region
  std::uint64_t rounded_bytes = 0;   // to the directory's page (or huge page) size
  std::vector<std::string> formulas;
};
Result<RegionSizing> size_region(const topology::RegionDef& region, std::uint64_t page_bytes);

struct DoctorRequest {
  const topology::Topology* topology = nullptr;  // optional
  std::vector<std::string> dirs;                 // scanned for stale regions and permissions
  std::uint64_t grace_ns = 10'000'000'000;
};
// Facts per directory come from dir_facts(dir); tests inject them.
struct Facts {
  HostFacts host;
  std::vector<std::pair<std::string, DirFacts>> dirs;
  const DirFacts& dir(const std::string& path) const;
};
Facts probe_facts(const DoctorRequest& request);
std::vector<Finding> run_doctor(const DoctorRequest& request, const Facts& facts);
bool any_failed(const std::vector<Finding>& findings);

// --- Clean ---------------------------------------------------------------------------------

struct CleanAction {
  std::string path;
  std::string reason;
  bool removed = false;  // false under dry run, or when the re-check found it no longer stale
};
// Removes the removable regions of `dir` (re-classified just before each unlink).
std::vector<CleanAction> clean_dir(const std::string& dir, bool dry_run, std::uint64_t grace_ns);

}  // namespace indexbus::doctor

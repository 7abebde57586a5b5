#include "indexbus/topology/doctor.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "indexbus/region.hpp"

namespace indexbus::doctor {
namespace {

using topology::HugePages;

std::string octal(std::uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "0%o", mode);
  return text;
}

std::string mib(std::uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%llu bytes (%.1f MiB)", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::uint64_t now_realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t now_monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

class ReadOnlyMap {
 public:
  ReadOnlyMap(int fd, std::uint64_t bytes) : bytes_(bytes) {
    void* address = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    base_ = address == MAP_FAILED ? nullptr : static_cast<const std::byte*>(address);
  }
  ~ReadOnlyMap() { if (base_ != nullptr) ::munmap(const_cast<std::byte*>(base_), bytes_); }
  ReadOnlyMap(const ReadOnlyMap&) = delete;
  ReadOnlyMap& operator=(const ReadOnlyMap&) = delete;
  const std::byte* base() const noexcept { return base_; }

 private:
  const std::byte* base_ = nullptr;
  std::uint64_t bytes_;
};

// The header of a region whose creator died between sizing the file and writing the magic: all
// zero except creator_pid, which create() stores first. Anything else zero-filled is not ours.
bool blank_region_header(const RegionHeader& header) {
  RegionHeader expected{};
  expected.creator_pid = header.creator_pid;
  return header.creator_pid != 0 && std::memcmp(&expected, &header, sizeof header) == 0;
}

// Attached roles of a valid, Ready region and whether each is alive; stale roles are described.
void inspect_roles(const std::byte* image, const RegionHeader& header, RegionFileInfo& info) {
  const std::uint64_t now_ns = now_monotonic_ns();
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    LaneDescriptor lane{};
    std::memcpy(&lane, image + header.lane_table_offset + i * sizeof(LaneDescriptor), sizeof lane);
    const std::byte* block = image + lane.block_offset;
    const std::string where = "lane " + std::to_string(i);
    auto role = [&](const std::string& name, std::uint32_t pid) {
      if (pid == 0) return;
      if (process_alive(pid)) {
        info.live_pids.push_back(pid);
      } else {
        info.stale_roles.push_back(where + " " + name + ": pid " + std::to_string(pid) + " is dead but still attached");
      }
    };
    if (lane.kind == static_cast<std::uint32_t>(LaneKind::Events)) {
      const EventsLaneSnapshot snap = snapshot_events_lane(block);
      role("producer", snap.producer_pid);
      role("consumer", snap.consumer_pid);
      continue;
    }
    const RingLaneSnapshot snap = snapshot_ring_lane(block, lane.reader_count);
    role("producer", snap.producer_pid);
    for (std::uint32_t r = 0; r < snap.readers.size(); ++r) {
      const auto& reader = snap.readers[r];
      if (reader.state != kReaderAttached) continue;
      role("reader " + std::to_string(r), reader.pid);
      const bool journal = lane.kind == static_cast<std::uint32_t>(LaneKind::Journal);
      // A tagged heartbeat (evicted or detached, state not settled yet) holds nothing back.
      const std::uint64_t heartbeat_ns = reader.heartbeat_ns;
      if (journal && lane.reader_timeout_ns != 0 && heartbeat_ns != 0 && !is_heartbeat_tagged(heartbeat_ns) &&
          now_ns > heartbeat_ns && now_ns - heartbeat_ns > lane.reader_timeout_ns) {
        info.stale_roles.push_back(where + " reader " + std::to_string(r) + ": heartbeat stopped " +
                                   std::to_string((now_ns - heartbeat_ns) / 1'000'000) +
                                   " ms ago, past reader_timeout_ns " + std::to_string(lane.reader_timeout_ns));
      }
    }
  }
}

}  // namespace

std::string to_string(Status status) {
  switch (status) {
    case Status::Pass: return "pass";
    case Status::Warn: return "warn";
    case Status::Fail: return "fail";
  }
  return "?";
}

std::string to_string(RegionState state) {
  switch (state) {
    case RegionState::Live: return "live";
    case RegionState::Creating: return "creating";
    case RegionState::StuckCreating: return "stuck-creating";
    case RegionState::DeadCreator: return "stale-dead-creator";
    case RegionState::NeverReady: return "stale-never-ready";
    case RegionState::VersionMismatch: return "stale-version-mismatch";
    case RegionState::Corrupt: return "corrupt";
    case RegionState::NotRegion: return "not-a-region";
  }
  return "?";
}

bool process_alive(std::uint32_t pid) {
  if (pid == 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A zombie has exited: whatever it held is no longer in use.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  return line[paren + 2] != 'Z' && line[paren + 2] != 'X';
}

DirFacts probe_dir(const std::string& dir) {
  DirFacts facts;
  struct stat lst {};
  if (::lstat(dir.c_str(), &lst) != 0) return facts;
  facts.is_symlink = S_ISLNK(lst.st_mode);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return facts;
  facts.exists = !facts.is_symlink;
  facts.mode = st.st_mode & 07777;
  facts.uid = st.st_uid;
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) == 0) {
    facts.fs_magic = static_cast<std::uint64_t>(fs.f_type);
    facts.block_bytes = static_cast<std::uint64_t>(fs.f_bsize);
    facts.free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_bsize);
  }
  return facts;
}

HostFacts probe_host() {
  HostFacts host;
  host.uid = static_cast<std::uint32_t>(::geteuid());
  // cgroup v2: "0::/path" -> /sys/fs/cgroup/path/memory.max; v1: "N:memory:/path" ->
  // /sys/fs/cgroup/memory/path/memory.limit_in_bytes. Inside a container the path may not be
  // visible, so the cgroup root's file is tried next. tmpfs pages count against this limit.
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  std::vector<std::string> candidates;
  for (int lines = 0; lines < 64 && std::getline(cgroups, line); ++lines) {
    if (line.rfind("0::", 0) == 0) {
      candidates.push_back("/sys/fs/cgroup" + line.substr(3) + "/memory.max");
      candidates.push_back("/sys/fs/cgroup/memory.max");
    }
    const auto memory = line.find(":memory:");
    if (memory != std::string::npos) {
      candidates.push_back("/sys/fs/cgroup/memory" + line.substr(memory + 8) + "/memory.limit_in_bytes");
      candidates.push_back("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
  }
  for (const auto& file : candidates) {
    std::ifstream in(file);
    std::string value;
    if (!(in >> value)) continue;
    host.cgroup_memory_file = file;
    if (value == "max") return host;
    try {
      const std::uint64_t limit = std::stoull(value);
      // cgroup v1 reports "unlimited" as a huge page-rounded number near 2^63.
      if (limit < (std::uint64_t{1} << 60)) host.cgroup_memory_max_bytes = limit;
    } catch (const std::exception&) {
    }
    return host;
  }
  return host;
}

RegionFileInfo classify_region_file(const std::string& path, std::uint64_t grace_ns) {
  RegionFileInfo info;
  info.path = path;
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0) {
    info.detail = std::string("cannot stat: ") + std::strerror(errno);
    return info;
  }
  info.mode = lst.st_mode & 07777;
  info.uid = lst.st_uid;
  if (S_ISLNK(lst.st_mode)) {
    info.is_symlink = true;
    info.detail = "symbolic link";
    return info;
  }
  const int raw_fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (raw_fd < 0) {
    info.detail = std::string("cannot open: ") + std::strerror(errno);
    return info;
  }
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    info.detail = "not a regular file";
    return info;
  }
  info.file_bytes = static_cast<std::uint64_t>(st.st_size);
  if (info.file_bytes < sizeof(RegionHeader)) {
    info.detail = "file size " + std::to_string(info.file_bytes) + " is smaller than a region header";
    return info;
  }
  RegionHeader header{};
  if (::pread(fd.get(), &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    info.detail = "cannot read the region header";
    return info;
  }
  const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull +
                                 static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  const std::uint64_t now_ns = now_realtime_ns();
  const bool past_grace = now_ns > mtime_ns && now_ns - mtime_ns > grace_ns;
  info.creator_pid = header.creator_pid;
  const bool creator_alive = process_alive(header.creator_pid);
  if (creator_alive) info.live_pids.push_back(header.creator_pid);
  const std::string creator = "creator pid " + std::to_string(header.creator_pid) + (creator_alive ? " (alive)" : " (dead)");

  if (header.magic != kRegionMagic) {
    if (!blank_region_header(header)) {
      info.detail = "no IndexBus magic";
      return info;  // NotRegion: somebody else's file, never touched
    }
    info.state = creator_alive ? (past_grace ? RegionState::StuckCreating : RegionState::Creating) : RegionState::NeverReady;
    info.detail = "header still blank (magic not written), " + creator;
    return info;
  }
  if (header.version_major != kLayoutVersionMajor) {
    info.state = RegionState::VersionMismatch;
    info.detail = "layout version " + std::to_string(header.version_major) + "." + std::to_string(header.version_minor) +
                  "; this build reads version " + std::to_string(kLayoutVersionMajor) + ".x";
    return info;
  }
  if (header.init_state != kInitStateReady) {
    if (creator_alive) {
      info.state = past_grace ? RegionState::StuckCreating : RegionState::Creating;
    } else {
      info.state = RegionState::NeverReady;
    }
    info.detail = "init_state " + std::to_string(header.init_state) + " (never marked Ready), " + creator;
    return info;
  }
  ReadOnlyMap map(fd.get(), info.file_bytes);
  if (map.base() == nullptr) {
    info.state = RegionState::Corrupt;
    info.detail = std::string("cannot map: ") + std::strerror(errno);
    return info;
  }
  const std::span<const std::byte> image(map.base(), info.file_bytes);
  if (auto error = validate_region_image(image)) {
    info.state = RegionState::Corrupt;
    info.detail = error->message + " (" + std::string(indexbus::to_string(error->code)) + "), " + creator;
    return info;
  }
  for (std::uint32_t i = 0; i < header.lane_count; ++i) {
    LaneDescriptor lane{};
    std::memcpy(&lane, map.base() + header.lane_table_offset + i * sizeof(LaneDescriptor), sizeof lane);
    info.lanes.push_back(LaneSpec{static_cast<LaneKind>(lane.kind), static_cast<OnFull>(lane.on_full), lane.capacity_slots,
                                  lane.slot_payload_bytes, lane.reader_count, lane.reader_timeout_ns, {}});
  }
  inspect_roles(map.base(), header, info);
  info.state = info.live_pids.empty() ? RegionState::DeadCreator : RegionState::Live;
  info.detail = "Ready, " + creator + ", " + std::to_string(info.live_pids.size()) + " live process(es) attached or creating";
  return info;
}

std::vector<RegionFileInfo> scan_region_dir(const std::string& dir, std::uint64_t grace_ns) {
  std::vector<RegionFileInfo> found;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return found;
  std::vector<std::string> names;
  for (int entries = 0; entries < 100000; ++entries) {
    const dirent* entry = ::readdir(handle);
    if (entry == nullptr) break;
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    RegionFileInfo info = classify_region_file(dir + "/" + name, grace_ns);
    // A symlink is reported only when it points at something that looks like one of ours.
    if (info.is_symlink) {
      struct stat target {};
      char buffer[8] = {};
      const int fd = ::open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      bool ours = false;
      if (fd >= 0) {
        ours = ::fstat(fd, &target) == 0 && S_ISREG(target.st_mode) && ::pread(fd, buffer, 8, 0) == 8 &&
               std::memcmp(buffer, &kRegionMagic, 8) == 0;
        ::close(fd);
      }
      if (ours || name.rfind("indexbus", 0) == 0) found.push_back(std::move(info));
      continue;
    }
    if (info.state != RegionState::NotRegion) found.push_back(std::move(info));
  }
  return found;
}

std::vector<Finding> check_filesystem(const std::string& dir, const DirFacts& facts, HugePages hugepages) {
  Finding f{"filesystem", Status::Pass, dir, "", ""};
  if (facts.is_symlink) {
    f.status = Status::Fail;
    f.detail = "the region directory is a symbolic link";
    f.advice = "point the topology's dir at the real directory; regions are never reached through a symlink";
    return {f};
  }
  if (!facts.exists) {
    f.status = Status::Fail;
    f.detail = "no such directory";
    f.advice = "create it on tmpfs (mount -t tmpfs) or use /dev/shm";
    return {f};
  }
  char magic[32];
  std::snprintf(magic, sizeof magic, "0x%llx", static_cast<unsigned long long>(facts.fs_magic));
  const bool tmpfs = facts.fs_magic == kTmpfsMagic;
  const bool huge = facts.fs_magic == kHugetlbfsMagic;
  if (!tmpfs && !huge) {
    f.status = Status::Fail;
    f.detail = std::string("file system magic ") + magic + " is neither tmpfs (0x1021994) nor hugetlbfs (0x958458f6)";
    f.advice = "put regions on tmpfs (e.g. /dev/shm) or hugetlbfs: on a disk file system every page is written back to disk";
    return {f};
  }
  if (hugepages == HugePages::Require && !huge) {
    f.status = Status::Fail;
    f.detail = "hugepages = \"require\" but the directory is tmpfs, not hugetlbfs";
    f.advice = "mount hugetlbfs (mount -t hugetlbfs none DIR, with pages reserved in /proc/sys/vm/nr_hugepages) "
               "and set dir to it, or set hugepages = \"prefer\" to allow tmpfs";
    return {f};
  }
  if (hugepages == HugePages::Prefer && !huge) {
    f.status = Status::Warn;
    f.detail = "hugepages = \"prefer\" but the directory is tmpfs: falling back to normal pages";
    f.advice = "for huge pages, point dir at a hugetlbfs mount";
    return {f};
  }
  f.detail = std::string(huge ? "hugetlbfs" : "tmpfs") + ", page size " + std::to_string(facts.block_bytes) + " bytes";
  return {f};
}

std::vector<Finding> check_dir_permissions(const std::string& dir, const DirFacts& facts) {
  if (!facts.exists) return {};
  Finding f{"permissions", Status::Pass, dir, "mode " + octal(facts.mode), ""};
  if ((facts.mode & S_IWOTH) != 0 && (facts.mode & S_ISVTX) == 0) {
    f.status = Status::Fail;
    f.detail = "mode " + octal(facts.mode) + ": writable by everyone without the sticky bit, so anyone may replace a region file";
    f.advice = "chmod +t " + dir + " (as /dev/shm is, 1777) or chmod o-w " + dir;
  }
  return {f};
}

std::vector<Finding> check_space(const std::string& dir, const DirFacts& facts, std::uint64_t need_bytes) {
  if (!facts.exists) return {};
  Finding f{"space", Status::Pass, dir,
            "the topology needs " + mib(need_bytes) + "; the file system has " + mib(facts.free_bytes) + " free", ""};
  if (need_bytes > facts.free_bytes) {
    f.status = Status::Fail;
    f.advice = "grow the tmpfs (mount -o remount,size=...), reserve more huge pages, or shrink capacity_slots / "
               "slot_payload_bytes; until then creation fails, or without --prefault a process gets SIGBUS later";
  }
  return {f};
}

std::vector<Finding> check_memory(const HostFacts& host, std::uint64_t need_bytes) {
  Finding f{"memory", Status::Pass, host.cgroup_memory_file.empty() ? "cgroup" : host.cgroup_memory_file, "", ""};
  if (!host.cgroup_memory_max_bytes) {
    f.detail = "no cgroup memory limit; the topology needs " + mib(need_bytes);
    return {f};
  }
  f.detail = "cgroup memory limit " + mib(*host.cgroup_memory_max_bytes) + "; the topology's regions need " + mib(need_bytes);
  if (need_bytes > *host.cgroup_memory_max_bytes) {
    f.status = Status::Fail;
    f.advice = "tmpfs pages are charged to the memory cgroup: raise memory.max (memory.limit_in_bytes on cgroup v1) "
               "or shrink the lanes";
  } else if (need_bytes > *host.cgroup_memory_max_bytes / 2) {
    f.status = Status::Warn;
    f.advice = "the regions take over half of the cgroup's memory; the processes need room too";
  }
  return {f};
}

std::vector<Finding> check_region_file(const RegionFileInfo& info, const HostFacts& host) {
  std::vector<Finding> out;
  if (info.is_symlink) {
    out.push_back({"permissions", Status::Fail, info.path, "a symbolic link in the region directory",
                   "remove it: regions are opened with O_NOFOLLOW and never through a link"});
    return out;
  }
  Finding stale{"stale", Status::Pass, info.path, to_string(info.state) + ": " + info.detail, ""};
  switch (info.state) {
    case RegionState::Live:
    case RegionState::Creating:
      break;
    case RegionState::StuckCreating:
      stale.status = Status::Fail;
      stale.advice = "its creator is alive but never finished: stop that process, then run indexbus clean";
      break;
    case RegionState::DeadCreator:
    case RegionState::NeverReady:
      stale.status = Status::Fail;
      stale.advice = "nothing alive uses it: run indexbus clean --dir " + info.path.substr(0, info.path.rfind('/')) +
                     ", or indexbus remove " + info.path;
      break;
    case RegionState::VersionMismatch:
      stale.status = Status::Fail;
      stale.advice = "left by another IndexBus version: stop its users and indexbus remove " + info.path;
      break;
    case RegionState::Corrupt:
      stale.status = Status::Fail;
      stale.advice = "inspect it (indexbus inspect " + info.path + "), then remove it";
      break;
    case RegionState::NotRegion:
      return out;
  }
  out.push_back(stale);
  for (const auto& role : info.stale_roles) {
    out.push_back({"stale", Status::Fail, info.path, role,
                   "a process attached to this region died or stopped calling: restart it (it re-attaches), "
                   "or recreate the region"});
  }
  Finding perm{"permissions", Status::Pass, info.path, "mode " + octal(info.mode) + ", uid " + std::to_string(info.uid), ""};
  if ((info.mode & S_IWOTH) != 0) {
    perm.status = Status::Fail;
    perm.detail = "mode " + octal(info.mode) + " lets everyone write; expected 0600 or 0660";
    perm.advice = "chmod 0600 " + info.path + " (0660 to share with the group)";
  } else if ((info.mode & S_IROTH) != 0) {
    perm.status = Status::Fail;
    perm.detail = "mode " + octal(info.mode) + " lets everyone read; expected 0600 or 0660";
    perm.advice = "chmod 0600 " + info.path;
  } else if (info.uid != host.uid) {
    perm.status = Status::Fail;
    perm.detail = "owner uid " + std::to_string(info.uid) + " is not the current user " + std::to_string(host.uid);
    perm.advice = "run doctor as the user of the cooperating processes, or chown the file; Region::open refuses it";
  }
  out.push_back(perm);
  return out;
}

std::vector<Finding> check_topology(const topology::Topology& topo) {
  std::vector<Finding> out;
  auto lane_name = [&](const topology::LaneRef& ref) { return ref.text; };
  // Producers per lane: its own `producer` plus every router or merge writing it.
  std::vector<std::vector<std::vector<std::string>>> producers(topo.regions.size());
  for (std::uint32_t r = 0; r < topo.regions.size(); ++r) {
    producers[r].resize(topo.regions[r].lanes.size());
    for (std::uint32_t l = 0; l < topo.regions[r].lanes.size(); ++l) {
      if (!topo.regions[r].lanes[l].producer.empty()) producers[r][l].push_back("process " + topo.regions[r].lanes[l].producer);
    }
  }
  for (const auto& router : topo.routers) {
    const auto& in = topo.lane(router.input);
    for (const auto& out_ref : router.outputs) {
      producers[out_ref.region_index][out_ref.lane_index].push_back("router " + router.name);
      const auto& out_lane = topo.lane(out_ref);
      if (out_lane.spec.slot_payload_bytes < in.spec.slot_payload_bytes) {
        out.push_back({"topology", Status::Fail, "router " + router.name,
                       router.where.str() + ": output " + lane_name(out_ref) + " slot_payload_bytes " +
                           std::to_string(out_lane.spec.slot_payload_bytes) + " is smaller than input " +
                           router.input.text + "'s " + std::to_string(in.spec.slot_payload_bytes),
                       "every output's slot_payload_bytes must be at least the input's, or entries would not fit"});
      }
    }
    if (router.policy == topology::RouterPolicy::KeyHash && router.key_offset_bytes + 8 > in.spec.slot_payload_bytes) {
      out.push_back({"topology", Status::Fail, "router " + router.name,
                     router.where.str() + ": key_offset_bytes " + std::to_string(router.key_offset_bytes) +
                         " + 8-byte key goes past input slot_payload_bytes " + std::to_string(in.spec.slot_payload_bytes),
                     "put the key inside the payload (key_offset_bytes <= slot_payload_bytes - 8)"});
    }
  }
  for (const auto& merge : topo.merges) {
    const auto& out_lane = topo.lane(merge.output);
    producers[merge.output.region_index][merge.output.lane_index].push_back("merge " + merge.name);
    for (const auto& in_ref : merge.inputs) {
      const auto& in = topo.lane(in_ref);
      if (out_lane.spec.slot_payload_bytes < in.spec.slot_payload_bytes) {
        out.push_back({"topology", Status::Fail, "merge " + merge.name,
                       merge.where.str() + ": input " + in_ref.text + " slot_payload_bytes " +
                           std::to_string(in.spec.slot_payload_bytes) + " is larger than output " + merge.output.text +
                           "'s " + std::to_string(out_lane.spec.slot_payload_bytes),
                       "the output's slot_payload_bytes must be at least every input's"});
      }
      if (merge.policy == topology::MergePolicy::Sequence && merge.key_offset_bytes + 8 > in.spec.slot_payload_bytes) {
        out.push_back({"topology", Status::Fail, "merge " + merge.name,
                       merge.where.str() + ": key_offset_bytes " + std::to_string(merge.key_offset_bytes) +
                           " + 8-byte sequence goes past input " + in_ref.text + "'s slot_payload_bytes " +
                           std::to_string(in.spec.slot_payload_bytes),
                       "put the sequence number inside every input's payload"});
      }
    }
  }
  for (std::uint32_t r = 0; r < topo.regions.size(); ++r) {
    for (std::uint32_t l = 0; l < topo.regions[r].lanes.size(); ++l) {
      const auto& lane = topo.regions[r].lanes[l];
      const auto& list = producers[r][l];
      const std::string subject = topo.regions[r].name + "/" + lane.name;
      if (list.size() == 1) {
        out.push_back({"topology", Status::Pass, subject, "one producer: " + list[0], ""});
        continue;
      }
      std::string names;
      for (const auto& p : list) names += (names.empty() ? "" : ", ") + p;
      out.push_back({"topology", Status::Fail, subject,
                     lane.where.str() + ": " + std::to_string(list.size()) + " producers" +
                         (list.empty() ? "" : " (" + names + ")") + "; every lane has exactly one",
                     list.empty() ? "set producer = \"<process>\" on the lane, or make it a router/merge output"
                                  : "give each producer its own lane and merge them with a [[merge]]"});
    }
  }
  return out;
}

Result<RegionSizing> size_region(const topology::RegionDef& region, std::uint64_t page_bytes) {
  std::vector<LaneSpec> specs;
  for (const auto& lane : region.lanes) specs.push_back(lane.spec);
  auto plan = plan_region(specs);
  if (!plan) return plan.error();
  RegionSizing sizing;
  sizing.region_bytes = plan->region_bytes;
  const std::uint64_t page = page_bytes == 0 ? 4096 : page_bytes;
  sizing.rounded_bytes = round_up(plan->region_bytes, page);
  for (std::uint32_t i = 0; i < region.lanes.size(); ++i) {
    const LaneSpec& s = region.lanes[i].spec;
    const std::uint64_t header = s.kind == LaneKind::Events ? sizeof(EventsLaneHeader) : ring_slots_offset(s.reader_count);
    std::string formula = region.name + "/" + region.lanes[i].name + ": header " + std::to_string(header);
    if (s.kind != LaneKind::Events) {
      formula += " (" + std::to_string(sizeof(RingLaneHeader)) + " + " + std::to_string(s.reader_count) + " readers x " +
                 std::to_string(sizeof(ReaderRecord)) + ")";
    }
    formula += " + " + std::to_string(s.capacity_slots) + " slots x " + std::to_string(events_slot_stride_bytes(s.slot_payload_bytes)) +
               " stride (" + std::to_string(sizeof(SlotHeader)) + " + " + std::to_string(s.slot_payload_bytes) +
               "), rounded to 64 = " + std::to_string(plan->block_bytes[i]) + " bytes";
    sizing.formulas.push_back(formula);
  }
  sizing.formulas.push_back(region.name + ": region header " + std::to_string(sizeof(RegionHeader)) + " + lane table " +
                            std::to_string(lane_table_bytes(static_cast<std::uint32_t>(region.lanes.size()))) +
                            " + lane blocks, rounded to 4096 = " + std::to_string(sizing.region_bytes) +
                            " bytes; rounded to the " + std::to_string(page) + "-byte page = " +
                            std::to_string(sizing.rounded_bytes) + " bytes");
  return sizing;
}

const DirFacts& Facts::dir(const std::string& path) const {
  for (const auto& [name, facts] : dirs) {
    if (name == path) return facts;
  }
  static const DirFacts missing;
  return missing;
}

namespace {
std::vector<std::string> all_dirs(const DoctorRequest& request) {
  std::vector<std::string> dirs = request.dirs;
  if (request.topology != nullptr) {
    for (const auto& region : request.topology->regions) dirs.push_back(region.dir);
  }
  std::vector<std::string> unique;
  for (auto& dir : dirs) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (std::find(unique.begin(), unique.end(), dir) == unique.end()) unique.push_back(dir);
  }
  return unique;
}
}  // namespace

Facts probe_facts(const DoctorRequest& request) {
  Facts facts;
  facts.host = probe_host();
  for (const auto& dir : all_dirs(request)) facts.dirs.emplace_back(dir, probe_dir(dir));
  return facts;
}

std::vector<Finding> run_doctor(const DoctorRequest& request, const Facts& facts) {
  std::vector<Finding> out;
  auto append = [&](std::vector<Finding> more) { out.insert(out.end(), more.begin(), more.end()); };
  const auto dirs = all_dirs(request);
  for (const auto& dir : dirs) {
    const DirFacts& df = facts.dir(dir);
    // The strictest huge page policy of the regions that live here.
    HugePages policy = HugePages::No;
    if (request.topology != nullptr) {
      for (const auto& region : request.topology->regions) {
        if (region.dir == dir && static_cast<int>(region.hugepages) > static_cast<int>(policy)) policy = region.hugepages;
      }
    }
    append(check_filesystem(dir, df, policy));
    append(check_dir_permissions(dir, df));
  }
  if (request.topology != nullptr) {
    std::uint64_t total_bytes = 0;
    for (const auto& dir : dirs) {
      const DirFacts& df = facts.dir(dir);
      std::uint64_t need_bytes = 0;
      for (const auto& region : request.topology->regions) {
        if (region.dir != dir) continue;
        auto sizing = size_region(region, df.block_bytes);
        if (!sizing) {
          out.push_back({"sizing", Status::Fail, region.name, sizing.error().message, "fix the lane in the topology file"});
          continue;
        }
        // A region that already exists takes no new space (it is checked as a file below), but
        // it must be the region the topology describes.
        struct stat st {};
        const bool exists = ::lstat(region.path().c_str(), &st) == 0;
        if (exists) {
          const RegionFileInfo info = classify_region_file(region.path(), request.grace_ns);
          std::string mismatch;
          if (!info.lanes.empty() && info.lanes.size() != region.lanes.size()) {
            mismatch = "the file has " + std::to_string(info.lanes.size()) + " lanes, the topology " +
                       std::to_string(region.lanes.size());
          }
          for (std::size_t i = 0; mismatch.empty() && i < info.lanes.size(); ++i) {
            LaneSpec want = region.lanes[i].spec;
            want.gated_on.clear();
            if (!(want == info.lanes[i])) {
              mismatch = "lane " + std::to_string(i) + " (" + region.lanes[i].name + ") differs from " +
                         region.lanes[i].where.str() + " (kind, on_full, capacity_slots, slot_payload_bytes, readers "
                         "or reader_timeout_ns)";
            }
          }
          if (!mismatch.empty()) {
            out.push_back({"topology", Status::Fail, region.path(), "an existing region does not match: " + mismatch,
                           "remove the old region (when nothing uses it) and create the topology again"});
          }
        }
        if (!exists) need_bytes += sizing->rounded_bytes;
        std::string formulas;
        for (const auto& line : sizing->formulas) formulas += (formulas.empty() ? "" : "; ") + line;
        out.push_back({"sizing", Status::Pass, region.path(), formulas + (exists ? " (already exists)" : ""), ""});
      }
      append(check_space(dir, df, need_bytes));
      total_bytes += need_bytes;
    }
    append(check_memory(facts.host, total_bytes));
    append(check_topology(*request.topology));
  }
  for (const auto& dir : dirs) {
    if (!facts.dir(dir).exists) continue;
    for (const auto& info : scan_region_dir(dir, request.grace_ns)) append(check_region_file(info, facts.host));
  }
  return out;
}

bool any_failed(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.status == Status::Fail; });
}

std::vector<CleanAction> clean_dir(const std::string& dir, bool dry_run, std::uint64_t grace_ns) {
  std::vector<CleanAction> actions;
  for (const auto& info : scan_region_dir(dir, grace_ns)) {
    if (info.is_symlink || !is_removable(info.state)) continue;
    CleanAction action{info.path, to_string(info.state) + ": " + info.detail, false};
    if (!dry_run) {
      // Re-check just before unlinking: a process may have attached (or a new region been
      // created under the same name) since the scan.
      const RegionFileInfo again = classify_region_file(info.path, grace_ns);
      if (is_removable(again.state) && !again.is_symlink) {
        action.removed = ::unlink(info.path.c_str()) == 0;
        if (!action.removed) action.reason += std::string("; unlink failed: ") + std::strerror(errno);
      } else {
        action.reason = "kept: now " + to_string(again.state) + ": " + again.detail;
      }
    }
    actions.push_back(std::move(action));
  }
  return actions;
}

}  // namespace indexbus::doctor

// Nothing the harness makes may outlive it: agent processes and region files are registered here,
// and a handler for SIGINT, SIGTERM and SIGHUP (and crash signals) kills the registered agents and
// removes the registered files and directories before the signal takes its default course.
// Normal exits remove them through the RAII owners (ScratchDir, RegionFile, AgentProcess).
#pragma once

#include <sys/types.h>

#include <string>

namespace indexbus::harness {

// Installs the handlers once per process. Idempotent, thread-safe.
void install_cleanup_handlers();

// Registration returns a slot (or -1 when the fixed table is full: the object still works, it
// is just not cleaned up by a signal). Paths up to 255 bytes.
int register_child(pid_t pid) noexcept;
void unregister_child(int slot) noexcept;
int register_path(const std::string& path, bool is_directory) noexcept;
void unregister_path(int slot) noexcept;

// A private directory (mode 0700, mkdtemp) under a tmpfs parent holding every region file of one
// run; removed, with anything left in it, when destroyed or on a signal. Throws SetupError.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  int slot_ = -1;
};

// One region file path inside a ScratchDir; whatever is there (a file an agent created, or a
// pipe, symbolic link or empty directory a case put there) is removed when this is destroyed,
// and on a signal (`directory`: the path is one, so the signal handler uses rmdir).
class RegionFile {
 public:
  RegionFile(const ScratchDir& dir, const std::string& name, bool directory = false);
  ~RegionFile();
  RegionFile(const RegionFile&) = delete;
  RegionFile& operator=(const RegionFile&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  int slot_ = -1;
};

}  // namespace indexbus::harness

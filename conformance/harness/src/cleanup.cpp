#include "indexbus/harness/cleanup.hpp"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "indexbus/conformance/lane_under_test.hpp"  // SetupError

namespace indexbus::harness {
namespace {

constexpr std::size_t kChildSlots = 256;
constexpr std::size_t kPathSlots = 512;
constexpr std::size_t kPathBytes = 256;

// Fixed storage: the signal handler reads it without allocating or locking. A path slot is
// 0 free, 1 being written, 2 a file, 3 a directory; the handler acts on 2 and 3 only.
struct PathSlot {
  std::atomic<int> state{0};
  char path[kPathBytes]{};
};
std::array<std::atomic<pid_t>, kChildSlots> g_children{};
std::array<PathSlot, kPathSlots> g_paths{};

void cleanup_on_signal(int signal_number) {
  for (auto& child : g_children) {
    const pid_t pid = child.load(std::memory_order_acquire);
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  for (int pass_state : {2, 3}) {  // files before the directories holding them
    for (auto& slot : g_paths) {
      if (slot.state.load(std::memory_order_acquire) != pass_state) continue;
      if (pass_state == 2) {
        ::unlink(slot.path);
      } else {
        ::rmdir(slot.path);
      }
    }
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

void install_cleanup_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS}) {
      struct sigaction action {};
      action.sa_handler = cleanup_on_signal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESETHAND;
      ::sigaction(signal_number, &action, nullptr);
    }
    ::signal(SIGPIPE, SIG_IGN);  // a dead agent shows up as EOF or EPIPE, handled per case
  });
}

int register_child(pid_t pid) noexcept {
  for (std::size_t i = 0; i < kChildSlots; ++i) {
    pid_t expected = 0;
    if (g_children[i].compare_exchange_strong(expected, pid, std::memory_order_acq_rel)) return static_cast<int>(i);
  }
  return -1;
}

void unregister_child(int slot) noexcept {
  if (slot >= 0) g_children[static_cast<std::size_t>(slot)].store(0, std::memory_order_release);
}

int register_path(const std::string& path, bool is_directory) noexcept {
  if (path.size() >= kPathBytes) return -1;
  for (std::size_t i = 0; i < kPathSlots; ++i) {
    int expected = 0;
    if (!g_paths[i].state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
    std::memcpy(g_paths[i].path, path.c_str(), path.size() + 1);
    g_paths[i].state.store(is_directory ? 3 : 2, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void unregister_path(int slot) noexcept {
  if (slot >= 0) g_paths[static_cast<std::size_t>(slot)].state.store(0, std::memory_order_release);
}

ScratchDir::ScratchDir(const std::string& parent) {
  install_cleanup_handlers();
  std::string pattern = parent + "/indexbus-conform-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw conformance::SetupError("cannot create a scratch directory in " + parent + ": " + std::strerror(errno));
  }
  path_ = pattern;
  slot_ = register_path(path_, true);
}

ScratchDir::~ScratchDir() {
  // Anything an agent left behind (it never should) goes with the directory.
  if (DIR* dir = ::opendir(path_.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
    }
    ::closedir(dir);
  }
  ::rmdir(path_.c_str());
  unregister_path(slot_);
}

RegionFile::RegionFile(const ScratchDir& dir, const std::string& name, bool directory)
    : path_(dir.path() + "/" + name) {
  slot_ = register_path(path_, directory);
}

RegionFile::~RegionFile() {
  if (::unlink(path_.c_str()) != 0 && (errno == EISDIR || errno == EPERM)) ::rmdir(path_.c_str());
  unregister_path(slot_);
}

}  // namespace indexbus::harness

// A unique region path under /dev/shm that is removed when the test ends, whatever it did: by the
// destructor normally, and by a signal handler when a sanitizer or an assertion aborts the test
// (SIGABRT, SIGSEGV, SIGBUS) or a runner stops it (SIGTERM, SIGINT, SIGHUP: ctest's timeout, ^C),
// so that a crashing or stopped test leaves no stale region behind either. Only SIGKILL escapes.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <string>

namespace indexbus::testing {

namespace temp_region_detail {

inline constexpr std::size_t kSlots = 64;
inline constexpr std::size_t kPathBytes = 160;

// Fixed storage, readable from a signal handler: a path is live while its first byte is non-zero.
inline std::array<std::array<char, kPathBytes>, kSlots> g_paths{};
// The process that made each path: a forked child that dies of a signal must not remove the
// regions its parent is still using (it inherits the handlers and the table).
inline std::array<pid_t, kSlots> g_owner_pids{};

inline void unlink_all_on_signal(int signal_number) {
  const pid_t self = ::getpid();
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (g_paths[i][0] != '\0' && g_owner_pids[i] == self) ::unlink(g_paths[i].data());
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

inline void install_handlers_once() {
  static const bool installed = [] {
    for (int signal_number : {SIGABRT, SIGSEGV, SIGBUS, SIGTERM, SIGINT, SIGHUP}) ::signal(signal_number, unlink_all_on_signal);
    return true;
  }();
  (void)installed;
}

}  // namespace temp_region_detail

class TempRegionPath {
 public:
  explicit TempRegionPath(const std::string& tag = "test") {
    static std::atomic<unsigned> counter{0};
    path_ = "/dev/shm/indexbus-" + tag + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1));
    ::unlink(path_.c_str());
    temp_region_detail::install_handlers_once();
    for (std::size_t i = 0; i < temp_region_detail::kSlots; ++i) {
      auto& slot = temp_region_detail::g_paths[i];
      if (slot[0] == '\0' && path_.size() < slot.size()) {
        std::memcpy(slot.data(), path_.c_str(), path_.size() + 1);
        temp_region_detail::g_owner_pids[i] = ::getpid();
        slot_ = static_cast<int>(i);
        break;
      }
    }
  }
  ~TempRegionPath() {
    ::unlink(path_.c_str());
    if (slot_ >= 0) temp_region_detail::g_paths[static_cast<std::size_t>(slot_)][0] = '\0';
  }
  TempRegionPath(const TempRegionPath&) = delete;
  TempRegionPath& operator=(const TempRegionPath&) = delete;
  const std::string& str() const noexcept { return path_; }

 private:
  std::string path_;
  int slot_ = -1;
};

}  // namespace indexbus::testing

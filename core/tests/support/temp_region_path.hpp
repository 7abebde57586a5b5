// A unique region path under /dev/shm that is removed when the test ends, whatever it did.
#pragma once

#include <unistd.h>

#include <atomic>
#include <string>

namespace indexbus::testing {

class TempRegionPath {
 public:
  explicit TempRegionPath(const std::string& tag = "test") {
    static std::atomic<unsigned> counter{0};
    path_ = "/dev/shm/indexbus-" + tag + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1));
    ::unlink(path_.c_str());
  }
  ~TempRegionPath() { ::unlink(path_.c_str()); }
  TempRegionPath(const TempRegionPath&) = delete;
  TempRegionPath& operator=(const TempRegionPath&) = delete;
  const std::string& str() const noexcept { return path_; }

 private:
  std::string path_;
};

}  // namespace indexbus::testing

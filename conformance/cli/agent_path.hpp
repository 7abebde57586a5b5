// Where the CLI finds the reference agent: indexbus-agent next to the running indexbus executable
// (`indexbus conform` runs it by default; `indexbus certify` pairs every agent with it).
#pragma once

#include <limits.h>
#include <unistd.h>

#include <string>

namespace indexbus::cli {

inline std::string default_agent_path() {
  char self[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return "indexbus-agent";
  std::string path(self, static_cast<std::size_t>(length));
  return path.substr(0, path.rfind('/') + 1) + "indexbus-agent";
}

}  // namespace indexbus::cli

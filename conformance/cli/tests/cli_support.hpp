// What the CLI tests share: running `indexbus` as a user does, and a private directory that is
// removed with everything in it.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace indexbus::cli_test {

struct Run {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs INDEXBUS_CLI with args (shell words) and waits for it.
inline Run run(const std::string& args) {
  const std::string command = std::string(INDEXBUS_CLI) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return {-1, ""};
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class TempDir {
 public:
  explicit TempDir(const std::string& parent = "/dev/shm", const std::string& tag = "indexbus-cli-test") {
    std::string pattern = parent + "/" + tag + "-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty());
    ::chmod(path_.c_str(), 0700);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& str() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace indexbus::cli_test

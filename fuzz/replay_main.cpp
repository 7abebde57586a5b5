// main() for fuzz targets in builds without libFuzzer (cmake/Fuzzing.cmake builds NAME_replay
// from the target's source plus this file): runs LLVMFuzzerTestOneInput once on every file given,
// directly or inside a given directory, so a stored corpus is a regression test in every build.
//
//   region_header_fuzz_replay fuzz/corpus/region_header [more dirs or files...]
//
// Exit status: 0 when every input ran (a failing input aborts inside the target); 1 when an
// argument is missing, unreadable, not a file or directory, or a directory holds no files;
// 2 on usage errors. Each input's path is printed before it runs, so the last line names the
// culprit of an abort. Files in a directory run in name order, so runs are reproducible.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

bool read_file(const fs::path& path, std::vector<std::uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Collects the inputs of one argument; false (with a message) if it yields none.
bool collect(const fs::path& arg, std::vector<fs::path>& inputs) {
  std::error_code ec;
  const auto status = fs::status(arg, ec);
  if (ec || !fs::exists(status)) {
    std::fprintf(stderr, "replay: %s: no such file or directory\n", arg.c_str());
    return false;
  }
  if (fs::is_regular_file(status)) {
    inputs.push_back(arg);
    return true;
  }
  if (!fs::is_directory(status)) {
    std::fprintf(stderr, "replay: %s: not a regular file or directory\n", arg.c_str());
    return false;
  }
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(arg, ec)) {
    if (entry.is_regular_file()) found.push_back(entry.path());
  }
  if (ec) {
    std::fprintf(stderr, "replay: %s: cannot list: %s\n", arg.c_str(), ec.message().c_str());
    return false;
  }
  if (found.empty()) {
    std::fprintf(stderr, "replay: %s: directory holds no files (an empty corpus tests nothing)\n", arg.c_str());
    return false;
  }
  std::sort(found.begin(), found.end());
  inputs.insert(inputs.end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  bool ok = true;
  for (int i = 1; i < argc; ++i) ok = collect(argv[i], inputs) && ok;
  if (!ok) return 1;

  std::vector<std::uint8_t> bytes;
  std::size_t total_bytes = 0;
  for (const auto& path : inputs) {
    if (!read_file(path, bytes)) {
      std::fprintf(stderr, "replay: %s: cannot read\n", path.c_str());
      return 1;
    }
    std::printf("replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
    std::fflush(stdout);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    total_bytes += bytes.size();
  }
  std::printf("replay: ran %zu files (%zu bytes) without a finding\n", inputs.size(), total_bytes);
  return 0;
}

// Writes the seed corpus of region_header_fuzz (fuzz/tools/region_corpus.hpp) into a directory:
//   make_region_corpus fuzz/corpus/region_header
// Generated files (valid_*, corrupt_*) already there are replaced, so a renamed or dropped image
// leaves nothing stale; every other file (regress_*, libFuzzer --merge output) is kept.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "region_corpus.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "make_region_corpus: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  const auto entries = indexbus::fuzzing::region_corpus_entries();
  int removed = 0;
  for (const auto& file : fs::directory_iterator(dir)) {
    const auto name = file.path().filename().string();
    const auto kind = indexbus::fuzzing::parse_corpus_name(name).kind;
    if (kind == indexbus::fuzzing::NameVerdict::Kind::Valid ||
        kind == indexbus::fuzzing::NameVerdict::Kind::Corrupt) {
      fs::remove(file.path());
      ++removed;
    }
  }
  for (const auto& entry : entries) {
    const fs::path path = dir / entry.file_name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(entry.bytes.data()),
              static_cast<std::streamsize>(entry.bytes.size()));
    if (!out) {
      std::fprintf(stderr, "make_region_corpus: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("make_region_corpus: wrote %zu files to %s (replaced %d generated files)\n",
              entries.size(), dir.c_str(), removed);
  return 0;
}

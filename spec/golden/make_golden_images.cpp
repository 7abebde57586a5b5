// Writes the golden region images of layout v1 and their manifest (golden_images.hpp):
//   make_golden_images spec/golden/v1
// Every *.bin already there is removed first, so a renamed or dropped image leaves nothing stale.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "golden_images.hpp"

namespace fs = std::filesystem;

namespace {

bool write_file(const fs::path& path, const char* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::fprintf(stderr, "make_golden_images: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR   (e.g. spec/golden/v1)\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "make_golden_images: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  for (const auto& file : fs::directory_iterator(dir)) {
    if (file.path().extension() == ".bin") fs::remove(file.path());
  }
  const auto& images = indexbus::golden::golden_images();
  for (const auto& image : images) {
    if (!write_file(dir / (image.name + ".bin"), reinterpret_cast<const char*>(image.bytes.data()), image.bytes.size())) return 1;
  }
  const std::string manifest = indexbus::golden::golden_manifest(images);
  if (!write_file(dir / "manifest.json", manifest.data(), manifest.size())) return 1;
  std::printf("make_golden_images: wrote %zu images and manifest.json to %s\n", images.size(), dir.c_str());
  return 0;
}

// Region images for tests and the fuzz corpus: a valid image and one corrupt variant per
// validation error, each with the checksum recomputed so that the specific field error (not
// ChecksumMismatch) is what the validator must report.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "indexbus/error.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::testing {

std::vector<std::byte> valid_region_image(const std::vector<LaneSpec>& lanes);

struct CorruptImage {
  std::string name;         // stable, used as the corpus file name
  ErrorCode expected;       // the error the validator must report
  std::vector<std::byte> bytes;
};
std::vector<CorruptImage> corrupt_region_images();
// The corrupt image called `name`; empty if there is none.
std::vector<std::byte> corrupt_region_image(const std::string& name);

// Writes `bytes` to a new file at `path` (O_EXCL, mode 0600); false on any failure.
bool write_region_file(const std::string& path, const std::vector<std::byte>& bytes);

}  // namespace indexbus::testing

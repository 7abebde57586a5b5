// The golden-image cases of the catalog (spec/golden, spec/certify.md "Golden images"):
//   Required.Layout.Golden.<image>.L<lane>.<role>  the harness copies a golden image to a fresh
//       region path; the agent opens it, attaches the role and reads until Empty or Closed; every
//       read must be the manifest's (computed by the model).
//   Required.Layout.GoldenCreate.<image>           the agent creates a region with the lanes of a
//       fresh golden image; the file must pass core's validator and, with creator_pid,
//       creation_id and the checksum normalized, equal the golden image byte for byte.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "golden_images.hpp"
#include "indexbus/harness/catalog.hpp"

namespace indexbus::harness {

void add_golden_cases(std::vector<CaseDef>& cases);


// The GoldenCreate check of a file an agent created with the lanes of a fresh golden image: it
// must pass core's validator and, with creator_pid, creation_id and the checksum set to the golden
// values, equal the image. nullopt, or the first difference named by field (spec/layout.md).
std::optional<std::string> check_created_region(golden::Bytes created, const golden::GoldenImage& image);

}  // namespace indexbus::harness

// The seed corpus of fuzz/region_header_fuzz, defined once: make_region_corpus writes it to
// fuzz/corpus/region_header/ and fuzz_corpus_test checks that the committed files are exactly
// these bytes and that each is judged as its name says.
//
// File names:
//   valid_<name>.bin            validates, and every lane passes check_events_lane_state
//   corrupt_<name>.<Code>.bin   region_image_error() returns exactly ErrorCode <Code>
//                               (to_string spelling); LaneStateCorrupt means the image validates
//                               and a lane's state check fails
//   regress_<name>.<Code>.bin   like corrupt_, for minimized fuzzer findings (kept by hand,
//   regress_<name>.valid.bin    never generated)
// Anything else in the directory (libFuzzer --merge output, named by SHA-1) is only replayed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/error.hpp"

namespace indexbus::fuzzing {

struct CorpusEntry {
  std::string file_name;
  std::optional<ErrorCode> expected;  // nullopt: valid
  std::vector<std::byte> bytes;
};

// Every generated file: valid images (lane mixes, both policies, capacity 1, large slots,
// reader-tolerated layouts, lanes with traffic), corrupt_region_images() and more corruptions.
std::vector<CorpusEntry> region_corpus_entries();

// The first error of an image: validate_region_image, then check_events_lane_state on each lane
// in order. nullopt for an image a reader may use.
std::optional<Error> region_image_error(std::span<const std::byte> image);

// ErrorCode from its to_string spelling ("BadMagic"); nullopt for anything else.
std::optional<ErrorCode> error_code_from_name(std::string_view name);

// What a corpus file name says about the file.
struct NameVerdict {
  enum class Kind { Valid, Corrupt, Regress, Other } kind = Kind::Other;
  std::optional<ErrorCode> expected;  // Corrupt, and Regress unless it ends in ".valid.bin"
  std::string stem;                   // "<name>" without prefix, code and ".bin"
  bool malformed = false;             // valid_/corrupt_/regress_ prefix but not the grammar above
};
NameVerdict parse_corpus_name(std::string_view file_name);

}  // namespace indexbus::fuzzing

// What the harness itself reads of a case's region. Agents may lie or corrupt shared memory, so
// the harness never maps the file: it copies it with pread (a region an agent shrank or grew is a
// short or long read, never a SIGBUS in the harness), bounded in size, and validates the copy with
// core's validator (validate_region_image) before it uses any offset found in it. Private to the
// harness library; used by the step runners after every step and by the batch runners at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/protocol/frame.hpp"

namespace indexbus::harness {

class RegionWatch {
 public:
  // The harness reads no region larger than this: far above every case's, small enough to copy.
  static constexpr std::uint64_t kRegionBytesMax = std::uint64_t{64} << 20;

  explicit RegionWatch(std::string path) : path_(std::move(path)) {}

  // Right after create_region: the image must be valid (REG-4, REG-6) and have the lanes asked
  // for (`lanes`: the request's array); remembers the bytes that may never change again (REG-10).
  // Returns what is wrong, naming the field, the value found and the value expected.
  std::optional<std::string> baseline(const protocol::Json& lanes);

  // Later: still valid, the same size, no byte outside the lane blocks changed but init_state
  // (REG-10); with lane_state (the agents are quiescent), every lane consistent (REG-11).
  // Without a baseline (the creator failed first) there is nothing to compare: nullopt.
  std::optional<std::string> check(bool lane_state) const;

 private:
  std::string path_;
  std::vector<std::byte> baseline_;  // the image as created; empty: no baseline
  std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks_;  // [begin, end) of each lane block
};

}  // namespace indexbus::harness

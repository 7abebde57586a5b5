// The topology file (spec/topology.md): regions, their lanes, routers and merges, in TOML. Used by
// `indexbus create --topology`, `indexbus doctor` and, later, `route` and `merge`.
//
// Parsing validates everything it can without touching the machine: every field's type and range
// (lanes through core's own check_lane_spec), unique names, and that every "region/lane" a router
// or merge names exists. Each error names file:line:column, the field, the value found and what
// was expected. Cross-lane requirements (slot sizes, one producer per lane) are doctor checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "indexbus/error.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::topology {

enum class HugePages { No, Prefer, Require };
enum class RouterPolicy { RoundRobin, KeyHash, Broadcast };
enum class MergePolicy { RoundRobin, Sequence, Arrival };

// Where a definition sits in the file, for messages ("file:line:column").
struct Where {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string str() const { return file + ":" + std::to_string(line) + ":" + std::to_string(column); }
};

struct LaneDef {
  std::string name;
  LaneSpec spec;
  std::string producer;  // the process that writes this lane; empty when a router/merge does
  Where where;
};

struct RegionDef {
  std::string name;
  std::string dir = "/dev/shm";
  HugePages hugepages = HugePages::No;
  std::uint32_t mode = 0600;
  bool prefault = false;
  std::vector<LaneDef> lanes;
  Where where;
  std::string path() const { return dir + "/" + name; }
};

// "region/lane", resolved to indices into Topology::regions and RegionDef::lanes.
struct LaneRef {
  std::string text;
  std::uint32_t region_index = 0;
  std::uint32_t lane_index = 0;
};

struct RouterDef {
  std::string name;
  LaneRef input;
  std::vector<LaneRef> outputs;
  RouterPolicy policy = RouterPolicy::RoundRobin;
  std::uint32_t key_offset_bytes = 0;
  Where where;
};

struct MergeDef {
  std::string name;
  std::vector<LaneRef> inputs;
  LaneRef output;
  MergePolicy policy = MergePolicy::RoundRobin;
  std::uint32_t key_offset_bytes = 0;
  std::uint32_t max_skip_turns = 0;  // 0 = the merge's default
  Where where;
};

struct Topology {
  std::string file;
  std::vector<RegionDef> regions;
  std::vector<RouterDef> routers;
  std::vector<MergeDef> merges;

  const LaneDef& lane(const LaneRef& ref) const { return regions.at(ref.region_index).lanes.at(ref.lane_index); }
};

// ErrorCode::NotFound / Io when the file cannot be read, ErrorCode::BadTopology for anything
// wrong inside it (syntax, a field's type or range, a duplicate name, an unknown reference).
Result<Topology> parse_topology_file(const std::string& path);
// `text` is the file's content; `file_name` only appears in messages.
Result<Topology> parse_topology_text(const std::string& text, const std::string& file_name);

std::string to_string(HugePages value);
std::string to_string(RouterPolicy value);
std::string to_string(MergePolicy value);
std::string lane_kind_name(LaneKind kind);

}  // namespace indexbus::topology

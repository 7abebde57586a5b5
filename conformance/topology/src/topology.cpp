#include "indexbus/topology/topology.hpp"

#include <cassert>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

namespace indexbus::topology {
namespace {

// Thrown inside the parser only; parse_topology_text turns it into an Error. The message is
// complete: "file:line:column: field: value found; expected ...".
struct Failure {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Where where_of(const toml::value& v) const {
    const auto loc = v.location();
    return Where{file_, static_cast<std::uint32_t>(loc.line()), static_cast<std::uint32_t>(loc.column())};
  }

  [[noreturn]] void fail(const toml::value& at, const std::string& field, const std::string& found,
                         const std::string& expected) const {
    throw Failure{where_of(at).str() + ": " + field + ": " + found + "; expected " + expected};
  }

  static std::string show(const toml::value& v) {
    std::ostringstream out;
    out << v;
    std::string text = out.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return "found " + text;
  }

  // Refuses keys the schema does not know, so that a misspelt key is an error, not a silent default.
  void only_keys(const toml::value& table, const std::string& what, const std::set<std::string>& known) const {
    for (const auto& [key, value] : table.as_table()) {
      if (known.count(key) == 0) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(value, what + "." + key, "unknown key", "one of: " + list);
      }
    }
  }

  const toml::value* find(const toml::value& table, const std::string& key) const {
    const auto& t = table.as_table();
    const auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }

  std::string get_string(const toml::value& table, const std::string& what, const std::string& key,
                         const std::string* fallback) const {
    const toml::value* v = find(table, key);
    if (v == nullptr) {
      if (fallback != nullptr) return *fallback;
      fail(table, what + "." + key, "missing", "a string");
    }
    if (!v->is_string()) fail(*v, what + "." + key, show(*v), "a string");
    return v->as_string().str;
  }

  std::uint64_t get_uint(const toml::value& table, const std::string& what, const std::string& key,
                         std::uint64_t min, std::uint64_t max, const std::uint64_t* fallback) const {
    const toml::value* v = find(table, key);
    if (v == nullptr) {
      if (fallback != nullptr) return *fallback;
      fail(table, what + "." + key, "missing", "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    if (!v->is_integer() || v->as_integer() < 0 || static_cast<std::uint64_t>(v->as_integer()) < min ||
        static_cast<std::uint64_t>(v->as_integer()) > max) {
      fail(*v, what + "." + key, show(*v), "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return static_cast<std::uint64_t>(v->as_integer());
  }

  bool get_bool(const toml::value& table, const std::string& what, const std::string& key, bool fallback) const {
    const toml::value* v = find(table, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) fail(*v, what + "." + key, show(*v), "true or false");
    return v->as_boolean();
  }

  template <typename Enum>
  Enum get_enum(const toml::value& table, const std::string& what, const std::string& key,
                const std::vector<std::pair<std::string, Enum>>& names, const Enum* fallback) const {
    std::string list;
    for (const auto& [name, value] : names) list += (list.empty() ? "\"" : ", \"") + name + "\"";
    const toml::value* v = find(table, key);
    if (v == nullptr) {
      if (fallback != nullptr) return *fallback;
      fail(table, what + "." + key, "missing", "one of " + list);
    }
    if (v->is_string()) {
      for (const auto& [name, value] : names) {
        if (name == v->as_string().str) return value;
      }
    }
    fail(*v, what + "." + key, show(*v), "one of " + list);
  }

  void check_name(const toml::value& at, const std::string& field, const std::string& name) const {
    const bool ok = !name.empty() && name.size() <= 100 &&
                    name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                        std::string::npos &&
                    name != "." && name != "..";
    if (!ok) fail(at, field, "found \"" + name + "\"", "1-100 characters of [A-Za-z0-9_.-], not . or ..");
  }

  std::vector<std::uint64_t> parse_gates(const toml::value& lane, const std::string& what,
                                         std::uint32_t reader_count) const {
    const toml::value* v = find(lane, "gates");
    if (v == nullptr) return {};
    const std::string expected = "an array of \"i<j\" strings (consumer i reads after consumer j), i, j < readers (" +
                                 std::to_string(reader_count) + ")";
    if (!v->is_array()) fail(*v, what + ".gates", show(*v), expected);
    std::vector<std::uint64_t> masks(reader_count, 0);
    for (const auto& item : v->as_array()) {
      unsigned long consumer = 0;
      unsigned long upstream = 0;
      bool ok = item.is_string();
      if (ok) {
        const std::string& text = item.as_string().str;
        const auto lt = text.find('<');
        try {
          std::size_t used_a = 0;
          std::size_t used_b = 0;
          ok = lt != std::string::npos && lt > 0 && lt + 1 < text.size();
          if (ok) {
            consumer = std::stoul(text.substr(0, lt), &used_a);
            upstream = std::stoul(text.substr(lt + 1), &used_b);
            ok = used_a == lt && used_b == text.size() - lt - 1 && consumer < reader_count && upstream < reader_count;
          }
        } catch (const std::exception&) {
          ok = false;
        }
      }
      if (!ok) fail(item, what + ".gates", show(item), expected);
      masks[consumer] |= std::uint64_t{1} << upstream;
    }
    return masks;
  }

  LaneDef parse_lane(const toml::value& lane, const std::string& what, std::uint32_t lane_index) const {
    if (!lane.is_table()) fail(lane, what, show(lane), "a [[region.lane]] table");
    only_keys(lane, what, {"name", "kind", "on_full", "capacity_slots", "slot_payload_bytes", "readers",
                           "reader_timeout_ns", "gates", "producer"});
    LaneDef def;
    def.where = where_of(lane);
    def.name = get_string(lane, what, "name", nullptr);
    check_name(*find(lane, "name"), what + ".name", def.name);
    def.spec.kind = get_enum<LaneKind>(lane, what, "kind",
                                       {{"events", LaneKind::Events},
                                        {"journal", LaneKind::Journal},
                                        {"sequenced_slots", LaneKind::SequencedSlots},
                                        {"fanout_broadcast", LaneKind::FanoutBroadcast}},
                                       nullptr);
    const OnFull block = OnFull::Block;
    def.spec.on_full = get_enum<OnFull>(lane, what, "on_full", {{"block", OnFull::Block}, {"drop", OnFull::Drop}}, &block);
    const std::uint64_t one = 1;
    def.spec.capacity_slots =
        static_cast<std::uint32_t>(get_uint(lane, what, "capacity_slots", kCapacitySlotsMin, kCapacitySlotsMax, nullptr));
    def.spec.slot_payload_bytes = static_cast<std::uint32_t>(
        get_uint(lane, what, "slot_payload_bytes", kSlotPayloadBytesMin, kSlotPayloadBytesMax, nullptr));
    def.spec.reader_count = static_cast<std::uint32_t>(get_uint(lane, what, "readers", 1, kReaderCountMax, &one));
    const std::uint64_t zero = 0;
    def.spec.reader_timeout_ns = get_uint(lane, what, "reader_timeout_ns", 0, UINT64_MAX >> 1, &zero);
    def.spec.gated_on = parse_gates(lane, what, def.spec.reader_count);
    const std::string empty;
    def.producer = get_string(lane, what, "producer", &empty);
    // Core's own range checks (power-of-two capacity, slot alignment, Events = 1 reader, gating
    // only on SequencedSlots and acyclic): the topology accepts exactly what create() accepts.
    if (auto error = check_lane_spec(lane_index, def.spec)) {
      // Point at the value that core refused, when the code names one.
      const char* field = error->code == ErrorCode::BadCapacity        ? "capacity_slots"
                          : error->code == ErrorCode::BadSlotBytes     ? "slot_payload_bytes"
                          : error->code == ErrorCode::BadReaderCount   ? "readers"
                          : error->code == ErrorCode::BadReaderTimeout ? "reader_timeout_ns"
                          : error->code == ErrorCode::BadGating        ? "gates"
                          : error->code == ErrorCode::BadOnFull        ? "on_full"
                                                                       : "kind";
      const toml::value* at = find(lane, field);
      const Where where = at != nullptr ? where_of(*at) : def.where;
      throw Failure{where.str() + ": " + what + "." + field + " (lane " + def.name + "): " + error->message};
    }
    return def;
  }

  RegionDef parse_region(const toml::value& region, std::uint32_t region_index) const {
    const std::string what = "region[" + std::to_string(region_index) + "]";
    if (!region.is_table()) fail(region, what, show(region), "a [[region]] table");
    only_keys(region, what, {"name", "dir", "hugepages", "mode", "prefault", "lane"});
    RegionDef def;
    def.where = where_of(region);
    def.name = get_string(region, what, "name", nullptr);
    check_name(*find(region, "name"), what + ".name", def.name);
    const std::string shm = "/dev/shm";
    def.dir = get_string(region, what, "dir", &shm);
    if (def.dir.empty() || def.dir.front() != '/') fail(*find(region, "dir"), what + ".dir", "found \"" + def.dir + "\"", "an absolute path");
    while (def.dir.size() > 1 && def.dir.back() == '/') def.dir.pop_back();
    const HugePages no = HugePages::No;
    def.hugepages = get_enum<HugePages>(
        region, what, "hugepages", {{"no", HugePages::No}, {"prefer", HugePages::Prefer}, {"require", HugePages::Require}}, &no);
    const std::string default_mode = "0600";
    const std::string mode = get_string(region, what, "mode", &default_mode);
    if (mode == "0600") {
      def.mode = 0600;
    } else if (mode == "0660") {
      def.mode = 0660;
    } else {
      fail(*find(region, "mode"), what + ".mode", "found \"" + mode + "\"", "\"0600\" or \"0660\"");
    }
    def.prefault = get_bool(region, what, "prefault", false);
    const toml::value* lanes = find(region, "lane");
    if (lanes == nullptr || !lanes->is_array() || lanes->as_array().empty() || lanes->as_array().size() > kLaneCountMax) {
      fail(lanes == nullptr ? region : *lanes, what + ".lane", lanes == nullptr ? "missing" : show(*lanes),
           "1 to " + std::to_string(kLaneCountMax) + " [[region.lane]] tables");
    }
    std::set<std::string> names;
    for (std::uint32_t i = 0; i < lanes->as_array().size(); ++i) {
      const auto& lane = lanes->as_array()[i];
      LaneDef parsed = parse_lane(lane, what + ".lane[" + std::to_string(i) + "]", i);
      if (!names.insert(parsed.name).second) {
        fail(lane, what + ".lane[" + std::to_string(i) + "].name", "found \"" + parsed.name + "\" again",
             "lane names unique within region " + def.name);
      }
      def.lanes.push_back(std::move(parsed));
    }
    return def;
  }

  LaneRef resolve(const Topology& topo, const toml::value& at, const std::string& field) const {
    if (!at.is_string()) fail(at, field, show(at), "a string \"region/lane\"");
    const std::string& text = at.as_string().str;
    const auto slash = text.find('/');
    if (slash == std::string::npos) fail(at, field, "found \"" + text + "\"", "\"region/lane\"");
    const std::string region = text.substr(0, slash);
    const std::string lane = text.substr(slash + 1);
    for (std::uint32_t r = 0; r < topo.regions.size(); ++r) {
      if (topo.regions[r].name != region) continue;
      for (std::uint32_t l = 0; l < topo.regions[r].lanes.size(); ++l) {
        if (topo.regions[r].lanes[l].name == lane) return LaneRef{text, r, l};
      }
      fail(at, field, "found \"" + text + "\": region " + region + " has no lane " + lane, "a lane of that region");
    }
    fail(at, field, "found \"" + text + "\": no region " + region, "a region defined in this file");
  }

  RouterDef parse_router(const Topology& topo, const toml::value& router, std::uint32_t index) const {
    const std::string what = "router[" + std::to_string(index) + "]";
    if (!router.is_table()) fail(router, what, show(router), "a [[router]] table");
    only_keys(router, what, {"name", "input", "outputs", "policy", "key_offset_bytes"});
    RouterDef def;
    def.where = where_of(router);
    def.name = get_string(router, what, "name", nullptr);
    check_name(*find(router, "name"), what + ".name", def.name);
    const toml::value* input = find(router, "input");
    if (input == nullptr) fail(router, what + ".input", "missing", "a string \"region/lane\"");
    def.input = resolve(topo, *input, what + ".input");
    const toml::value* outputs = find(router, "outputs");
    if (outputs == nullptr || !outputs->is_array() || outputs->as_array().empty() || outputs->as_array().size() > 64) {
      fail(outputs == nullptr ? router : *outputs, what + ".outputs", outputs == nullptr ? "missing" : show(*outputs),
           "an array of 1 to 64 \"region/lane\" strings");
    }
    for (const auto& out : outputs->as_array()) def.outputs.push_back(resolve(topo, out, what + ".outputs"));
    const RouterPolicy rr = RouterPolicy::RoundRobin;
    def.policy = get_enum<RouterPolicy>(router, what, "policy",
                                        {{"round_robin", RouterPolicy::RoundRobin},
                                         {"key_hash", RouterPolicy::KeyHash},
                                         {"broadcast", RouterPolicy::Broadcast}},
                                        &rr);
    const std::uint64_t zero = 0;
    def.key_offset_bytes = static_cast<std::uint32_t>(get_uint(router, what, "key_offset_bytes", 0, kSlotPayloadBytesMax, &zero));
    return def;
  }

  MergeDef parse_merge(const Topology& topo, const toml::value& merge, std::uint32_t index) const {
    const std::string what = "merge[" + std::to_string(index) + "]";
    if (!merge.is_table()) fail(merge, what, show(merge), "a [[merge]] table");
    only_keys(merge, what, {"name", "inputs", "output", "policy", "key_offset_bytes", "max_skip_turns"});
    MergeDef def;
    def.where = where_of(merge);
    def.name = get_string(merge, what, "name", nullptr);
    check_name(*find(merge, "name"), what + ".name", def.name);
    const toml::value* inputs = find(merge, "inputs");
    if (inputs == nullptr || !inputs->is_array() || inputs->as_array().empty() || inputs->as_array().size() > 64) {
      fail(inputs == nullptr ? merge : *inputs, what + ".inputs", inputs == nullptr ? "missing" : show(*inputs),
           "an array of 1 to 64 \"region/lane\" strings");
    }
    for (const auto& in : inputs->as_array()) def.inputs.push_back(resolve(topo, in, what + ".inputs"));
    const toml::value* output = find(merge, "output");
    if (output == nullptr) fail(merge, what + ".output", "missing", "a string \"region/lane\"");
    def.output = resolve(topo, *output, what + ".output");
    const MergePolicy rr = MergePolicy::RoundRobin;
    def.policy = get_enum<MergePolicy>(merge, what, "policy",
                                       {{"round_robin", MergePolicy::RoundRobin},
                                        {"sequence", MergePolicy::Sequence},
                                        {"arrival", MergePolicy::Arrival}},
                                       &rr);
    const std::uint64_t zero = 0;
    def.key_offset_bytes = static_cast<std::uint32_t>(get_uint(merge, what, "key_offset_bytes", 0, kSlotPayloadBytesMax, &zero));
    def.max_skip_turns = static_cast<std::uint32_t>(get_uint(merge, what, "max_skip_turns", 0, 1u << 20, &zero));
    return def;
  }

  Topology parse(const toml::value& root) const {
    only_keys(root, "topology", {"region", "router", "merge"});
    Topology topo;
    topo.file = file_;
    const toml::value* regions = find(root, "region");
    if (regions == nullptr || !regions->is_array() || regions->as_array().empty() || regions->as_array().size() > 1024) {
      fail(regions == nullptr ? root : *regions, "region", regions == nullptr ? "missing" : show(*regions),
           "1 to 1024 [[region]] tables");
    }
    std::set<std::string> paths;
    for (std::uint32_t i = 0; i < regions->as_array().size(); ++i) {
      RegionDef region = parse_region(regions->as_array()[i], i);
      for (const auto& other : topo.regions) {
        if (other.name == region.name) {
          fail(regions->as_array()[i], "region[" + std::to_string(i) + "].name", "found \"" + region.name + "\" again",
               "region names unique (" + other.where.str() + " has it)");
        }
      }
      topo.regions.push_back(std::move(region));
    }
    std::set<std::string> names;
    for (const char* key : {"router", "merge"}) {
      const toml::value* list = find(root, key);
      if (list == nullptr) continue;
      if (!list->is_array()) fail(*list, key, show(*list), std::string("[[") + key + "]] tables");
      for (std::uint32_t i = 0; i < list->as_array().size(); ++i) {
        const auto& item = list->as_array()[i];
        std::string name;
        if (std::string(key) == "router") {
          topo.routers.push_back(parse_router(topo, item, i));
          name = topo.routers.back().name;
        } else {
          topo.merges.push_back(parse_merge(topo, item, i));
          name = topo.merges.back().name;
        }
        if (!names.insert(name).second) {
          fail(item, std::string(key) + "[" + std::to_string(i) + "].name", "found \"" + name + "\" again",
               "router and merge names unique");
        }
      }
    }
    return topo;
  }

 private:
  std::string file_;
};

}  // namespace

Result<Topology> parse_topology_text(const std::string& text, const std::string& file_name) {
  std::istringstream stream(text);
  toml::value root;
  try {
    root = toml::parse(stream, file_name);
  } catch (const toml::syntax_error& e) {
    // toml11's message is several lines with a caret; its first location is what we report.
    const auto& loc = e.location();
    std::string first = e.what();
    const auto newline = first.find('\n');
    if (newline != std::string::npos) first = first.substr(0, newline);
    return Error{ErrorCode::BadTopology, file_name + ":" + std::to_string(loc.line()) + ":" +
                                             std::to_string(loc.column()) + ": TOML syntax: " + first};
  } catch (const std::exception& e) {
    return Error{ErrorCode::BadTopology, file_name + ": TOML: " + e.what()};
  }
  try {
    return Parser(file_name).parse(root);
  } catch (const Failure& failure) {
    return Error{ErrorCode::BadTopology, failure.message};
  } catch (const std::exception& e) {
    // A toml11 type error we did not anticipate: still an error about the file, never a crash.
    std::string first = e.what();
    const auto newline = first.find('\n');
    if (newline != std::string::npos) first = first.substr(0, newline);
    return Error{ErrorCode::BadTopology, file_name + ": " + first};
  }
}

Result<Topology> parse_topology_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::NotFound, path + ": cannot open the topology file"};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{ErrorCode::Io, path + ": cannot read the topology file"};
  if (text.str().size() > (1u << 24)) {
    return Error{ErrorCode::BadTopology, path + ": size " + std::to_string(text.str().size()) + " bytes; expected at most 16 MiB"};
  }
  return parse_topology_text(text.str(), path);
}

std::string to_string(HugePages value) {
  switch (value) {
    case HugePages::No: return "no";
    case HugePages::Prefer: return "prefer";
    case HugePages::Require: return "require";
  }
  return "?";
}
std::string to_string(RouterPolicy value) {
  switch (value) {
    case RouterPolicy::RoundRobin: return "round_robin";
    case RouterPolicy::KeyHash: return "key_hash";
    case RouterPolicy::Broadcast: return "broadcast";
  }
  return "?";
}
std::string to_string(MergePolicy value) {
  switch (value) {
    case MergePolicy::RoundRobin: return "round_robin";
    case MergePolicy::Sequence: return "sequence";
    case MergePolicy::Arrival: return "arrival";
  }
  return "?";
}
std::string lane_kind_name(LaneKind kind) {
  switch (kind) {
    case LaneKind::Events: return "events";
    case LaneKind::Journal: return "journal";
    case LaneKind::SequencedSlots: return "sequenced_slots";
    case LaneKind::FanoutBroadcast: return "fanout_broadcast";
  }
  return "kind " + std::to_string(static_cast<std::uint32_t>(kind));
}

}  // namespace indexbus::topology

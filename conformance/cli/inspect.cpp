#include "inspect.hpp"

#include <cstdio>
#include <sstream>
#include <string_view>

#include "indexbus/protocol/fields.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::cli {
namespace {

bool alive(std::uint32_t pid) { return RealPlatform().process_alive(pid); }

nlohmann::json pid_json(std::uint32_t pid) {
  return {{"pid", pid}, {"alive", alive(pid)}};
}

std::string hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "0x%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string pid_text(const nlohmann::json& who) {
  const auto pid = who["pid"].get<std::uint32_t>();
  if (pid == 0) return "none";
  return std::to_string(pid) + (who["alive"].get<bool>() ? " (alive)" : " (dead)");
}

// A Journal reader name as tools show it (spec/layout.md, "Journal reader names"): the name's
// bytes are whatever an attacher stored, not necessarily UTF-8, and JSON output must be valid
// UTF-8 (nlohmann::json throws on anything else when it serializes). Printable ASCII and
// well-formed UTF-8 sequences of printable code points stay; a backslash becomes \\; every other
// byte becomes \xHH. Bounded by the name's 32 bytes.
std::string display_name(std::string_view raw) {
  std::string out;
  auto escape = [&out](unsigned char byte) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  };
  for (std::size_t i = 0; i < raw.size();) {
    const auto byte = static_cast<unsigned char>(raw[i]);
    if (byte == '\\') {
      out += "\\\\";
      i += 1;
      continue;
    }
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
      i += 1;
      continue;
    }
    // A multi-byte UTF-8 sequence: its length from the lead byte, continuation bytes 10xxxxxx, no
    // overlong form, no surrogate, at most U+10FFFF, and not a C1 control (U+0080..U+009F).
    const std::size_t length = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    bool valid = length != 0 && i + length <= raw.size();
    std::uint32_t code = length == 2 ? byte & 0x1fu : length == 3 ? byte & 0x0fu : byte & 0x07u;
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(raw[i + k]);
      valid = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3fu);
    }
    if (valid) {
      const std::uint32_t smallest = length == 2 ? 0xa0 : length == 3 ? 0x800 : 0x10000;
      valid = code >= smallest && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    }
    if (!valid) {
      escape(byte);
      i += 1;
      continue;
    }
    out.append(raw.substr(i, length));
    i += length;
  }
  return out;
}

std::string_view reader_state_name(std::uint32_t state) {
  switch (state) {
    case kReaderFree: return "free";
    case kReaderAttached: return "attached";
    case kReaderEvicted: return "evicted";
    case kReaderDetached: return "detached";
    default: return "corrupt";
  }
}

std::uint64_t monotonic_now_ns() { return RealPlatform().now_ns(); }

// Ring lanes: per reader its cursor, lag behind the producer, counters, pid and liveness, and for
// a Journal the heartbeat age against the lane's reader timeout.
void inspect_ring_lane(const Region& region, std::uint32_t index, nlohmann::json& entry) {
  const LaneDescriptor& lane = region.lane(index);
  const std::byte* block = region.lane_block(index);
  const RingLaneSnapshot s = snapshot_ring_lane(block, lane.reader_count);
  const bool journal = lane.kind == static_cast<std::uint32_t>(LaneKind::Journal);
  const std::uint64_t now_ns = monotonic_now_ns();
  entry["reader_count"] = lane.reader_count;
  if (journal) entry["reader_timeout_ns"] = lane.reader_timeout_ns;
  entry["counters"] = {{"written", s.write_seq}, {"evicted_readers", s.eviction_count}};
  entry["cursors"] = {{"write_seq", s.write_seq}};
  entry["closed"] = s.closed != 0;
  entry["producer"] = pid_json(s.producer_pid);
  std::uint64_t max_lag = 0;
  entry["readers"] = nlohmann::json::array();
  for (std::uint32_t r = 0; r < s.readers.size(); ++r) {
    const RingReaderSnapshot& reader = s.readers[r];
    // A Journal attach under way tags the cursor (layout.md, "Attach ordering"): show the value
    // under the tag, and say which tag as `attaching`.
    std::uint64_t cursor = reader.cursor_seq;
    const bool attaching = journal && is_attach_tagged(cursor);
    if (attaching) cursor = tagged_value(cursor);
    const std::uint64_t lag = s.write_seq >= cursor ? s.write_seq - cursor : 0;
    nlohmann::json j = {{"index", r},
                        {"state", reader_state_name(reader.state)},
                        {"cursor_seq", cursor},
                        {"lag", lag},
                        {"read", reader.read_count},
                        {"lost", reader.lost_count},
                        {"process", pid_json(reader.pid)}};
    if (attaching) j["attaching"] = is_claiming(reader.cursor_seq) ? "claiming" : "provisional";
    if (lane.kind == static_cast<std::uint32_t>(LaneKind::SequencedSlots)) {
      j["gated_on"] = nlohmann::json::array();
      for (std::uint32_t g = 0; g < lane.reader_count; ++g) {
        if ((reader.gated_on_mask >> g) & 1) j["gated_on"].push_back(g);
      }
    }
    if (journal) {
      j["name"] = display_name(reader.name);  // always valid UTF-8 (display_name)
      if (!reader.name.empty()) {  // the exact bytes
        j["name_hex"] = protocol::to_hex(reinterpret_cast<const std::byte*>(reader.name.data()), reader.name.size());
      }
      // The heartbeat word may carry a tag over the last value (layout.md, "Journal use of
      // ReaderRecord"): evicted or detached, whatever the state says until it is settled.
      const std::uint64_t heartbeat_ns = heartbeat_value(reader.heartbeat_ns);
      const bool tagged = is_heartbeat_tagged(reader.heartbeat_ns);
      if (tagged) j["heartbeat_tag"] = (reader.heartbeat_ns & kHeartbeatEvicted) != 0 ? "evicted" : "detached";
      const bool seen = heartbeat_ns != 0 && heartbeat_ns <= now_ns;
      j["heartbeat_age_ns"] = seen ? nlohmann::json(now_ns - heartbeat_ns) : nlohmann::json(nullptr);
      // Live: attached, not tagged, its process exists, and (with a timeout) it spoke within the
      // timeout. (A heartbeat may run a few ns ahead of the clock: calls at one clock reading.)
      const bool within = lane.reader_timeout_ns == 0 || heartbeat_ns > now_ns ||
                          (seen && now_ns - heartbeat_ns <= lane.reader_timeout_ns);
      j["live"] = reader.state == kReaderAttached && !tagged && reader.pid != 0 && alive(reader.pid) && within;
    }
    if (reader.state == kReaderAttached || !journal) max_lag = std::max(max_lag, lag);
    entry["readers"].push_back(j);
  }
  entry["occupancy_slots"] = std::min<std::uint64_t>(max_lag, lane.capacity_slots);
  auto error = check_ring_lane_state(index, lane, s);
  if (!error) error = check_ring_slots(index, lane, block, s.write_seq);
  if (error) {
    entry["state"] = {{"consistent", false}, {"code", to_string(error->code)}, {"message", error->message}};
  } else {
    entry["state"] = {{"consistent", true}};
  }
}

void render_events_lane(std::ostringstream& out, const nlohmann::json& lane) {
  out << "  occupancy " << lane["occupancy_slots"].get<std::uint64_t>() << "/"
      << lane["capacity_slots"].get<std::uint32_t>() << ", written "
      << lane["counters"]["written"].get<std::uint64_t>() << ", read "
      << lane["counters"]["read"].get<std::uint64_t>() << ", lost "
      << lane["counters"]["lost"].get<std::uint64_t>() << ", write_seq "
      << lane["cursors"]["write_seq"].get<std::uint64_t>() << ", read_seq "
      << lane["cursors"]["read_seq"].get<std::uint64_t>() << ", closed "
      << (lane["closed"].get<bool>() ? "yes" : "no") << "\n";
  out << "  producer " << pid_text(lane["producer"]) << ", consumer " << pid_text(lane["consumer"])
      << "\n";
}

void render_ring_lane(std::ostringstream& out, const nlohmann::json& lane) {
  out << "  occupancy " << lane["occupancy_slots"].get<std::uint64_t>() << "/"
      << lane["capacity_slots"].get<std::uint32_t>() << " (slowest gating reader), written "
      << lane["counters"]["written"].get<std::uint64_t>() << ", closed "
      << (lane["closed"].get<bool>() ? "yes" : "no") << ", producer " << pid_text(lane["producer"]);
  if (lane.contains("reader_timeout_ns")) {
    out << ", reader timeout " << lane["reader_timeout_ns"].get<std::uint64_t>() << " ns, evicted "
        << lane["counters"]["evicted_readers"].get<std::uint64_t>();
  }
  out << "\n";
  for (const auto& r : lane["readers"]) {
    out << "  reader " << r["index"].get<std::uint32_t>();
    if (r.contains("name") && !r["name"].get<std::string>().empty()) {
      out << " '" << r["name"].get<std::string>() << "'";
    }
    out << ": " << r["state"].get<std::string>();
    if (r.contains("attaching")) out << " (attaching: " << r["attaching"].get<std::string>() << " cursor)";
    out << ", cursor " << r["cursor_seq"].get<std::uint64_t>()
        << ", lag " << r["lag"].get<std::uint64_t>() << ", read " << r["read"].get<std::uint64_t>()
        << ", lost " << r["lost"].get<std::uint64_t>() << ", pid " << pid_text(r["process"]);
    if (r.contains("gated_on") && !r["gated_on"].empty()) out << ", gated on " << r["gated_on"].dump();
    if (r.contains("live")) {
      out << ", heartbeat age ";
      if (r["heartbeat_age_ns"].is_null()) {
        out << "never";
      } else {
        out << r["heartbeat_age_ns"].get<std::uint64_t>() << " ns";
      }
      out << (r["live"].get<bool>() ? " (live)" : " (not live)");
    }
    out << "\n";
  }
}

}  // namespace

nlohmann::json inspect_region(const Region& region) {
  const RegionHeader& h = region.header();
  nlohmann::json report;
  report["path"] = region.path();
  report["valid"] = true;
  report["header"] = {
      {"layout_version", std::to_string(h.version_major) + "." + std::to_string(h.version_minor)},
      {"region_bytes", h.region_bytes},
      {"lane_count", h.lane_count},
      {"creator", pid_json(h.creator_pid)},
      {"creation_id", hex(h.creation_id)},
      {"init_state", h.init_state == kInitStateReady ? "ready" : "creating"},
      {"checksum", hex(h.checksum)},
  };
  report["lanes"] = nlohmann::json::array();
  for (std::uint32_t i = 0; i < region.lane_count(); ++i) {
    const LaneDescriptor& lane = region.lane(i);
    nlohmann::json entry = {
        {"index", i},
        {"kind", to_string(static_cast<LaneKind>(lane.kind))},
        {"on_full", to_string(static_cast<OnFull>(lane.on_full))},
        {"capacity_slots", lane.capacity_slots},
        {"slot_payload_bytes", lane.slot_payload_bytes},
        {"block_offset", lane.block_offset},
        {"block_bytes", lane.block_bytes},
    };
    if (lane.kind == static_cast<std::uint32_t>(LaneKind::Events)) {
      const EventsLaneSnapshot s = snapshot_events_lane(region.lane_block(i));
      const std::uint64_t pending = s.write_seq >= s.read_seq ? s.write_seq - s.read_seq : 0;
      entry["occupancy_slots"] = std::min<std::uint64_t>(pending, lane.capacity_slots);
      entry["counters"] = {{"written", s.write_seq}, {"read", s.read_count}, {"lost", s.lost_count}};
      entry["cursors"] = {{"write_seq", s.write_seq}, {"read_seq", s.read_seq}};
      entry["closed"] = s.closed != 0;
      entry["producer"] = pid_json(s.producer_pid);
      entry["consumer"] = pid_json(s.consumer_pid);
      auto error = check_events_lane_state(i, lane, s);
      if (!error) error = check_events_slots(i, lane, region.lane_block(i), s.write_seq);
      if (error) {
        entry["state"] = {{"consistent", false}, {"code", to_string(error->code)}, {"message", error->message}};
      } else {
        entry["state"] = {{"consistent", true}};
      }
    }
    if (is_ring_kind(static_cast<LaneKind>(lane.kind))) inspect_ring_lane(region, i, entry);
    report["lanes"].push_back(entry);
  }
  return report;
}

nlohmann::json inspect_error(const std::string& path, const Error& error) {
  return {{"path", path}, {"valid", false},
          {"error", {{"code", to_string(error.code)}, {"message", error.message}}}};
}

std::string render_text(const nlohmann::json& report) {
  std::ostringstream out;
  out << "region " << report["path"].get<std::string>() << "\n";
  if (!report["valid"].get<bool>()) {
    out << "  INVALID " << report["error"]["code"].get<std::string>() << ": "
        << report["error"]["message"].get<std::string>() << "\n";
    return out.str();
  }
  const auto& h = report["header"];
  out << "  layout " << h["layout_version"].get<std::string>() << ", "
      << h["region_bytes"].get<std::uint64_t>() << " bytes, " << h["lane_count"].get<std::uint32_t>()
      << " lane(s), " << h["init_state"].get<std::string>() << ", creator pid "
      << pid_text(h["creator"]) << ", creation id " << h["creation_id"].get<std::string>()
      << ", checksum " << h["checksum"].get<std::string>() << " (verified)\n";
  for (const auto& lane : report["lanes"]) {
    out << "lane " << lane["index"].get<std::uint32_t>() << ": " << lane["kind"].get<std::string>()
        << ", on_full=" << lane["on_full"].get<std::string>() << ", capacity "
        << lane["capacity_slots"].get<std::uint32_t>() << " slots x "
        << lane["slot_payload_bytes"].get<std::uint32_t>() << " B, block at "
        << lane["block_offset"].get<std::uint64_t>() << " (" << lane["block_bytes"].get<std::uint64_t>()
        << " B)\n";
    if (!lane.contains("counters")) continue;
    if (lane.contains("readers")) {
      render_ring_lane(out, lane);
    } else {
      render_events_lane(out, lane);
    }
    if (lane["state"]["consistent"].get<bool>()) {
      out << "  state consistent\n";
    } else {
      out << "  state INCONSISTENT " << lane["state"]["code"].get<std::string>() << ": "
          << lane["state"]["message"].get<std::string>() << "\n";
    }
  }
  return out.str();
}

}  // namespace indexbus::cli

#include "inspect.hpp"

#include <cstdio>
#include <sstream>

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

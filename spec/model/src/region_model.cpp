#include "indexbus/spec/region_model.hpp"

#include <cassert>

namespace indexbus::spec {

std::string_view to_string(ConfigError error) noexcept {
  switch (error) {
    case ConfigError::BadLaneCount: return "BadLaneCount";
    case ConfigError::BadKind: return "BadKind";
    case ConfigError::UnsupportedKind: return "UnsupportedKind";
    case ConfigError::BadOnFull: return "BadOnFull";
    case ConfigError::BadCapacity: return "BadCapacity";
    case ConfigError::BadSlotBytes: return "BadSlotBytes";
    case ConfigError::BadReaderCount: return "BadReaderCount";
    case ConfigError::BadReaderTimeout: return "BadReaderTimeout";
  }
  return "unknown";
}

std::string_view field_of(ConfigError error) noexcept {
  switch (error) {
    case ConfigError::BadLaneCount: return "lane_count";
    case ConfigError::BadKind:
    case ConfigError::UnsupportedKind: return "kind";
    case ConfigError::BadOnFull: return "on_full";
    case ConfigError::BadCapacity: return "capacity_slots";
    case ConfigError::BadSlotBytes: return "slot_payload_bytes";
    case ConfigError::BadReaderCount: return "reader_count";
    case ConfigError::BadReaderTimeout: return "reader_timeout_ns";
  }
  return "unknown";
}

std::optional<ConfigError> check_lane_config(const LaneConfig& lane) noexcept {
  // REG-5, field by field in descriptor order; the limits are spelled out, not looked up.
  if (lane.kind < 1 || lane.kind > 4) return ConfigError::BadKind;
  if (lane.on_full != 1 && lane.on_full != 2) return ConfigError::BadOnFull;
  const std::uint32_t c = lane.capacity_slots;
  if (c == 0 || (c & (c - 1)) != 0 || c > (1u << 24)) return ConfigError::BadCapacity;
  const std::uint32_t s = lane.slot_payload_bytes;
  if (s < 8 || s > (1u << 20) || s % 8 != 0) return ConfigError::BadSlotBytes;
  if (lane.kind == 1 && lane.reader_count != 1) return ConfigError::BadReaderCount;
  if (lane.kind != 1 && (lane.reader_count < 1 || lane.reader_count > 64)) return ConfigError::BadReaderCount;
  if (lane.kind != 2 && lane.reader_timeout_ns != 0) return ConfigError::BadReaderTimeout;
  return std::nullopt;
}

std::optional<ConfigViolation> check_region_config(std::span<const LaneConfig> lanes) noexcept {
  if (lanes.empty() || lanes.size() > 64) return ConfigViolation{std::nullopt, ConfigError::BadLaneCount};
  for (std::uint32_t i = 0; i < lanes.size(); ++i) {
    if (auto error = check_lane_config(lanes[i])) return ConfigViolation{i, *error};
  }
  return std::nullopt;
}

EventsConfig events_config(const LaneConfig& lane) noexcept {
  assert(!check_lane_config(lane).has_value());
  return EventsConfig{lane.capacity_slots, lane.slot_payload_bytes, static_cast<OnFull>(lane.on_full)};
}

std::variant<RegionModel, ConfigViolation> RegionModel::create(std::span<const LaneConfig> lanes) {
  if (auto violation = check_region_config(lanes)) return *violation;
  // This model routes Events operations; the ring kinds have models of their own
  // (journal_model.hpp, sequenced_slots_model.hpp, fanout_model.hpp).
  for (std::uint32_t i = 0; i < lanes.size(); ++i) {
    if (lanes[i].kind != 1) return ConfigViolation{i, ConfigError::UnsupportedKind};
  }
  RegionModel region;
  region.lanes.reserve(lanes.size());
  for (const LaneConfig& lane : lanes) region.lanes.push_back(initial_state(events_config(lane)));
  return region;
}

std::pair<RegionModel, std::optional<OpResult>> step(const RegionModel& region, const RegionOp& op) {
  if (op.lane_index >= region.lanes.size()) return {region, std::nullopt};
  RegionModel next = region;
  auto [lane, result] = step(region.lanes[op.lane_index], op.op);
  next.lanes[op.lane_index] = std::move(lane);
  return {std::move(next), std::move(result)};
}

std::size_t hash_value(const RegionModel& region) noexcept {
  std::size_t seed = region.lanes.size();
  for (const EventsState& lane : region.lanes) {
    // boost::hash_combine's mixing step; the per-lane hashes are already well mixed.
    seed ^= hash_value(lane) + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
  }
  return seed;
}

}  // namespace indexbus::spec

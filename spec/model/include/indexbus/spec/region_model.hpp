// The model of a region as its users see it: a list of lanes, each an Events model, addressed by
// index. The limits are restated here from spec/v1-semantics.md (REG-5, REG-12) on purpose, not
// taken from core's validator: conformance/ compares the two, so each checks the other.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "indexbus/spec/events_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

// A lane as a creator asks for it, with the raw 32-bit descriptor values so that invalid values
// (kind 9, on_full 0, capacity 3, ...) can be written down.
struct LaneConfig {
  std::uint32_t kind = static_cast<std::uint32_t>(LaneKind::Events);
  std::uint32_t on_full = static_cast<std::uint32_t>(OnFull::Block);
  std::uint32_t capacity_slots = 4;
  std::uint32_t slot_payload_bytes = 16;
  std::uint32_t reader_count = 1;
  std::uint64_t reader_timeout_ns = 0;

  friend bool operator==(const LaneConfig&, const LaneConfig&) = default;
};

// Why a configuration is refused: one value per field, plus the two ways a kind can be wrong.
enum class ConfigError : std::uint8_t {
  BadLaneCount,     // lane_count not in [1, 64]                        (REG-4)
  BadKind,          // kind not a v1 lane kind                          (REG-5)
  UnsupportedKind,  // RegionModel::create only: a ring kind, which this Events-only router does not model
  BadOnFull,        // on_full not block (1) or drop (2)
  BadCapacity,      // capacity_slots not a power of two in [1, 2^24]
  BadSlotBytes,     // slot_payload_bytes not a multiple of 8 in [8, 2^20]
  BadReaderCount,   // Events: reader_count not 1; ring kinds: not in [1, 64]
  BadReaderTimeout, // reader_timeout_ns not 0 on a lane that is not a Journal
};

std::string_view to_string(ConfigError error) noexcept;
// The descriptor or header field the error is about: "lane_count", "kind", "on_full",
// "capacity_slots", "slot_payload_bytes", "reader_count".
std::string_view field_of(ConfigError error) noexcept;

// The first invalid field of one lane, checked in descriptor order, or nullopt if valid.
std::optional<ConfigError> check_lane_config(const LaneConfig& lane) noexcept;

struct ConfigViolation {
  std::optional<std::uint32_t> lane_index;  // nullopt: the region as a whole (lane count)
  ConfigError error;

  friend bool operator==(const ConfigViolation&, const ConfigViolation&) = default;
};
std::optional<ConfigViolation> check_region_config(std::span<const LaneConfig> lanes) noexcept;

// The Events view of a valid lane config. Precondition: check_lane_config(lane) is nullopt.
EventsConfig events_config(const LaneConfig& lane) noexcept;

struct RegionOp {
  std::uint32_t lane_index = 0;
  Op op;

  friend bool operator==(const RegionOp&, const RegionOp&) = default;
};

struct RegionModel {
  std::vector<EventsState> lanes;

  // A fresh region for valid configs, or the first violation.
  static std::variant<RegionModel, ConfigViolation> create(std::span<const LaneConfig> lanes);

  friend bool operator==(const RegionModel&, const RegionModel&) = default;
};

// Routes op to its lane. nullopt result: no such lane (the state is returned unchanged), what the
// real region reports as LaneIndexOutOfRange.
std::pair<RegionModel, std::optional<OpResult>> step(const RegionModel& region, const RegionOp& op);

std::size_t hash_value(const RegionModel& region) noexcept;

}  // namespace indexbus::spec

template <>
struct std::hash<indexbus::spec::RegionModel> {
  std::size_t operator()(const indexbus::spec::RegionModel& region) const noexcept {
    return indexbus::spec::hash_value(region);
  }
};

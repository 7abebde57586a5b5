// REG-4/REG-5 differential: the model's restated lane limits (spec::check_lane_config) and core's
// validator (check_lane_fields, plan_region) agree on every value of a grid around the limits.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/region.hpp"
#include "indexbus/spec/region_model.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::conformance {
namespace {

using LaneChecker = std::function<std::optional<spec::ConfigError>(const spec::LaneConfig&)>;

std::optional<spec::ConfigError> core_verdict(const spec::LaneConfig& lane) {
  const auto error = check_lane_fields(0, lane.kind, lane.on_full, lane.capacity_slots, lane.slot_payload_bytes,
                                       lane.reader_count, lane.reader_timeout_ns);
  if (!error) return std::nullopt;
  switch (error->code) {
    case ErrorCode::BadLaneKind: return spec::ConfigError::BadKind;
    case ErrorCode::UnsupportedLaneKind: return spec::ConfigError::UnsupportedKind;
    case ErrorCode::BadOnFull: return spec::ConfigError::BadOnFull;
    case ErrorCode::BadCapacity: return spec::ConfigError::BadCapacity;
    case ErrorCode::BadSlotBytes: return spec::ConfigError::BadSlotBytes;
    case ErrorCode::BadReaderCount: return spec::ConfigError::BadReaderCount;
    case ErrorCode::BadReaderTimeout: return spec::ConfigError::BadReaderTimeout;
    default: ADD_FAILURE() << "unexpected code " << to_string(error->code); return std::nullopt;
  }
}

std::string show(const std::optional<spec::ConfigError>& verdict) {
  return verdict ? std::string(spec::to_string(*verdict)) : std::string("valid");
}

// The first grid point where `checker` and core disagree, described; nullopt if none.
std::optional<std::string> find_disagreement(const LaneChecker& checker) {
  const std::vector<std::uint32_t> kinds{0, 1, 2, 3, 4, 5, 0xffffffff};
  const std::vector<std::uint32_t> on_fulls{0, 1, 2, 3};
  const std::vector<std::uint32_t> capacities{0, 1, 2, 3, 4, 6, 64, 100, 1u << 23, (1u << 24) - 1, 1u << 24,
                                              (1u << 24) + 1, 1u << 25, 1u << 31, 0xffffffff};
  const std::vector<std::uint32_t> slots{0, 1, 7, 8, 9, 12, 16, 1000, 1024, (1u << 20) - 8, 1u << 20,
                                         (1u << 20) + 8, 1u << 21, 0xfffffff8};
  const std::vector<std::uint32_t> readers{0, 1, 2, 64, 65};
  const std::vector<std::uint64_t> timeouts{0, 1};
  for (auto kind : kinds) {
    for (auto on_full : on_fulls) {
      for (auto capacity : capacities) {
        for (auto slot : slots) {
          for (auto reader_count : readers) {
           for (auto timeout : timeouts) {
            const spec::LaneConfig lane{kind, on_full, capacity, slot, reader_count, timeout};
            const auto model = checker(lane);
            const auto core = core_verdict(lane);
            if (model != core) {
              return "kind " + std::to_string(kind) + " on_full " + std::to_string(on_full) + " capacity " +
                     std::to_string(capacity) + " slot " + std::to_string(slot) + " readers " +
                     std::to_string(reader_count) + " timeout " + std::to_string(timeout) + ": model " +
                     show(model) + ", core " + show(core);
            }
           }
          }
        }
      }
    }
  }
  return std::nullopt;
}

TEST(LaneLimits, ModelAndCoreAgreeOnEveryGridPoint) {  // REG-5
  const auto disagreement = find_disagreement([](const spec::LaneConfig& l) { return spec::check_lane_config(l); });
  EXPECT_FALSE(disagreement.has_value()) << *disagreement;
}

// The comparison must catch a restatement that is off by a little, or it proves nothing.
TEST(LaneLimits, ComparisonCatchesAWrongRestatement) {
  const auto allows_capacity_3 = [](const spec::LaneConfig& l) -> std::optional<spec::ConfigError> {
    if (l.capacity_slots == 3) {
      spec::LaneConfig fixed = l;
      fixed.capacity_slots = 4;
      return spec::check_lane_config(fixed);
    }
    return spec::check_lane_config(l);
  };
  EXPECT_TRUE(find_disagreement(allows_capacity_3).has_value());
  const auto slot_limit_2_21 = [](const spec::LaneConfig& l) -> std::optional<spec::ConfigError> {
    if (l.slot_payload_bytes == (1u << 21)) {
      spec::LaneConfig fixed = l;
      fixed.slot_payload_bytes = 8;
      return spec::check_lane_config(fixed);
    }
    return spec::check_lane_config(l);
  };
  EXPECT_TRUE(find_disagreement(slot_limit_2_21).has_value());
}

TEST(LaneLimits, LaneCountAgreesWithPlanRegion) {  // REG-4
  for (std::size_t count : {0u, 1u, 2u, 63u, 64u, 65u, 100u}) {
    const std::vector<spec::LaneConfig> model_lanes(count, spec::LaneConfig{});
    const std::vector<LaneSpec> core_lanes(count, LaneSpec{LaneKind::Events, OnFull::Block, 4, 16, 1, 0, {}});
    const auto model = spec::check_region_config(model_lanes);
    const auto core = plan_region(core_lanes);
    EXPECT_EQ(model.has_value(), !core.ok()) << count << " lanes";
    if (model && !core.ok()) {
      EXPECT_EQ(model->error, spec::ConfigError::BadLaneCount);
      EXPECT_EQ(core.error().code, ErrorCode::BadLaneCount);
    }
  }
}

}  // namespace
}  // namespace indexbus::conformance

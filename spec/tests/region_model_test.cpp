// The region model: lane limits restated (REG-5, REG-4 lane count) and ops routed by lane index.
// conformance/tests/lane_limits_test.cpp compares check_lane_config with core's validator.
#include "indexbus/spec/region_model.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace indexbus::spec {
namespace {

LaneConfig events_lane(std::uint32_t capacity = 4, std::uint32_t slot = 16, OnFull on_full = OnFull::Block) {
  return LaneConfig{1, static_cast<std::uint32_t>(on_full), capacity, slot, 1};
}

std::optional<ConfigError> with(auto mutate) {
  LaneConfig lane = events_lane();
  mutate(lane);
  return check_lane_config(lane);
}

TEST(RegionModel, ValidLimitsPass) {  // REG-5
  EXPECT_FALSE(check_lane_config(events_lane(1, 8)).has_value());
  EXPECT_FALSE(check_lane_config(events_lane(1u << 24, 1u << 20, OnFull::Drop)).has_value());
}

TEST(RegionModel, EachFieldHasItsOwnError) {  // REG-5, REG-9
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 0; }), ConfigError::BadKind);
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 5; }), ConfigError::BadKind);
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 2; }), std::nullopt);
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 4; }), std::nullopt);
  EXPECT_EQ(with([](LaneConfig& l) { l.on_full = 0; }), ConfigError::BadOnFull);
  EXPECT_EQ(with([](LaneConfig& l) { l.on_full = 3; }), ConfigError::BadOnFull);
  EXPECT_EQ(with([](LaneConfig& l) { l.capacity_slots = 0; }), ConfigError::BadCapacity);
  EXPECT_EQ(with([](LaneConfig& l) { l.capacity_slots = 3; }), ConfigError::BadCapacity);
  EXPECT_EQ(with([](LaneConfig& l) { l.capacity_slots = 1u << 25; }), ConfigError::BadCapacity);
  EXPECT_EQ(with([](LaneConfig& l) { l.slot_payload_bytes = 0; }), ConfigError::BadSlotBytes);
  EXPECT_EQ(with([](LaneConfig& l) { l.slot_payload_bytes = 12; }), ConfigError::BadSlotBytes);
  EXPECT_EQ(with([](LaneConfig& l) { l.slot_payload_bytes = (1u << 20) + 8; }), ConfigError::BadSlotBytes);
  EXPECT_EQ(with([](LaneConfig& l) { l.reader_count = 0; }), ConfigError::BadReaderCount);
  EXPECT_EQ(with([](LaneConfig& l) { l.reader_count = 2; }), ConfigError::BadReaderCount);
  EXPECT_EQ(with([](LaneConfig& l) { l.reader_timeout_ns = 1; }), ConfigError::BadReaderTimeout);
}

TEST(RegionModel, RingKindsTakeUpTo64Readers) {  // REG-5
  for (std::uint32_t kind : {2u, 3u, 4u}) {
    EXPECT_EQ(with([&](LaneConfig& l) { l.kind = kind; l.reader_count = 0; }), ConfigError::BadReaderCount);
    EXPECT_EQ(with([&](LaneConfig& l) { l.kind = kind; l.reader_count = 64; }), std::nullopt);
    EXPECT_EQ(with([&](LaneConfig& l) { l.kind = kind; l.reader_count = 65; }), ConfigError::BadReaderCount);
  }
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 2; l.reader_timeout_ns = 5; }), std::nullopt);
  EXPECT_EQ(with([](LaneConfig& l) { l.kind = 4; l.reader_timeout_ns = 5; }), ConfigError::BadReaderTimeout);
}

TEST(RegionModel, FieldsAreCheckedInDescriptorOrder) {  // REG-5: the first bad field is named
  LaneConfig lane{9, 0, 3, 12, 2};
  EXPECT_EQ(check_lane_config(lane), ConfigError::BadKind);
  lane.kind = 1;
  EXPECT_EQ(check_lane_config(lane), ConfigError::BadOnFull);
  lane.on_full = 2;
  EXPECT_EQ(check_lane_config(lane), ConfigError::BadCapacity);
  lane.capacity_slots = 2;
  EXPECT_EQ(check_lane_config(lane), ConfigError::BadSlotBytes);
  lane.slot_payload_bytes = 16;
  EXPECT_EQ(check_lane_config(lane), ConfigError::BadReaderCount);
  EXPECT_EQ(field_of(ConfigError::BadReaderCount), "reader_count");
  EXPECT_EQ(field_of(ConfigError::UnsupportedKind), "kind");
  EXPECT_EQ(to_string(ConfigError::BadSlotBytes), "BadSlotBytes");
}

TEST(RegionModel, LaneCountLimits) {  // REG-4
  EXPECT_EQ(check_region_config({}), (ConfigViolation{std::nullopt, ConfigError::BadLaneCount}));
  const std::vector<LaneConfig> max(64, events_lane());
  EXPECT_FALSE(check_region_config(max).has_value());
  const std::vector<LaneConfig> too_many(65, events_lane());
  EXPECT_EQ(check_region_config(too_many)->error, ConfigError::BadLaneCount);
  std::vector<LaneConfig> third_bad(3, events_lane());
  third_bad[2].capacity_slots = 6;
  EXPECT_EQ(check_region_config(third_bad), (ConfigViolation{2u, ConfigError::BadCapacity}));
  EXPECT_TRUE(std::holds_alternative<ConfigViolation>(RegionModel::create(third_bad)));
}

TEST(RegionModel, OpsAreRoutedByLaneIndex) {
  const std::vector<LaneConfig> lanes{events_lane(1, 8, OnFull::Block), events_lane(2, 8, OnFull::Drop)};
  auto created = RegionModel::create(lanes);
  ASSERT_TRUE(std::holds_alternative<RegionModel>(created));
  RegionModel region = std::get<RegionModel>(created);
  ASSERT_EQ(region.lanes.size(), 2u);
  EXPECT_EQ(region.lanes[1].config, (EventsConfig{2, 8, OnFull::Drop}));

  auto [after_write, written] = step(region, RegionOp{1, TryWrite{Bytes(8)}});
  ASSERT_TRUE(written.has_value());
  EXPECT_EQ(std::get<WriteOutcome>(*written).status, WriteStatus::Ok);
  EXPECT_EQ(after_write.lanes[1].written, 1u);
  EXPECT_EQ(after_write.lanes[0], region.lanes[0]);  // the other lane is untouched
  EXPECT_NE(hash_value(after_write), hash_value(region));

  auto [after_read, read] = step(after_write, RegionOp{0, TryRead{}});
  EXPECT_EQ(std::get<ReadOutcome>(*read).status, ReadStatus::Empty);
  EXPECT_EQ(after_read, after_write);

  auto [unchanged, none] = step(after_write, RegionOp{2, Close{}});  // no lane 2
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(unchanged, after_write);
  EXPECT_EQ(std::hash<RegionModel>{}(unchanged), std::hash<RegionModel>{}(after_write));
}

}  // namespace
}  // namespace indexbus::spec

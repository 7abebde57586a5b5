// A region of Events lanes for router and merge tests: lane i described by specs[i], removed when
// the test ends (TempRegionPath).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "indexbus/events.hpp"
#include "indexbus/region.hpp"
#include "temp_region_path.hpp"

namespace indexbus::testing {

struct EventsLaneSpec {
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 4;
  std::uint32_t slot_payload_bytes = 16;
};

class LoopLanes {
 public:
  explicit LoopLanes(const std::vector<EventsLaneSpec>& lanes, const std::string& tag = "loop")
      : path_(std::make_unique<TempRegionPath>(tag)) {
    std::vector<LaneSpec> specs;
    for (const EventsLaneSpec& lane : lanes) {
      specs.push_back(LaneSpec{LaneKind::Events, lane.on_full, lane.capacity_slots, lane.slot_payload_bytes, 1});
    }
    auto region = Region::create(path_->str(), specs);
    if (!region.ok()) throw std::runtime_error(region.error().message);
    region_ = std::make_unique<Region>(std::move(region).value());
  }

  EventsLaneRef ref(std::uint32_t lane) const {
    return events_lane_ref(region_->lane_block(lane), region_->lane(lane));
  }
  const std::string& path() const { return path_->str(); }

 private:
  std::unique_ptr<TempRegionPath> path_;
  std::unique_ptr<Region> region_;
};

}  // namespace indexbus::testing

// The real Events lane behind LaneUnderTest (private to the library; broken_lanes.cpp wraps it).
#pragma once

#include <string>

#include "indexbus/conformance/lane_under_test.hpp"
#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"

namespace indexbus::conformance::detail {

// A region path that is unlinked when this object goes, whatever happened in between, or earlier
// through remove_now().
class ScratchRegionPath {
 public:
  explicit ScratchRegionPath(const std::string& region_dir);
  ~ScratchRegionPath() { remove_now(); }
  void remove_now() noexcept;
  ScratchRegionPath(const ScratchRegionPath&) = delete;
  ScratchRegionPath& operator=(const ScratchRegionPath&) = delete;
  const std::string& str() const noexcept { return path_; }

 private:
  std::string path_;
};

class RealEventsLane final : public LaneUnderTest {
 public:
  RealEventsLane(const spec::EventsConfig& config, const std::string& region_dir, WaitStrategy strategy);
  ~RealEventsLane() override;
  RealEventsLane(const RealEventsLane&) = delete;
  RealEventsLane& operator=(const RealEventsLane&) = delete;

  WriteStatus try_write(std::span<const std::byte> payload) override { return producer_.try_write(payload); }
  WriteStatus write(std::span<const std::byte> payload, std::uint64_t deadline_ns) override {
    return producer_.write(payload, deadline_ns);
  }
  void close() override { producer_.close(); }
  ReadResult try_read(std::span<std::byte> out) override { return consumer_.try_read(out); }
  ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) override {
    return consumer_.read(out, deadline_ns);
  }
  LaneCounters counters() const override;
  std::uint64_t now_ns() const override { return platform_.now_ns(); }
  std::optional<std::string> check_region_image() const override;
  std::optional<std::string> check_lane_state() const override;
  std::string name() const override { return "real"; }

  // The creator's mapping, writable: for broken variants that damage the region on purpose.
  std::byte* region_base() const noexcept { return producer_region_.base(); }
  const spec::EventsConfig& config() const noexcept { return config_; }

 private:
  spec::EventsConfig config_;
  ScratchRegionPath path_;  // first: destroyed last, so the file goes even if a later member throws
  Region producer_region_;
  Region consumer_region_;
  RealPlatform platform_;
  EventsProducer<RealPlatform> producer_;
  EventsConsumer<RealPlatform> consumer_;
};

}  // namespace indexbus::conformance::detail

#include "real_lane.hpp"

#include <unistd.h>

#include <atomic>
#include <ostream>
#include <random>

#include "indexbus/validate.hpp"

namespace indexbus::conformance {
namespace detail {
namespace {

// Per process, so that two test processes (ctest -j) never pick the same name.
std::string unique_region_name() {
  static const std::uint32_t token = std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  return "indexbus-conform-" + std::to_string(::getpid()) + "-" + std::to_string(token) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

Region create_region(const std::string& path, const spec::EventsConfig& config) {
  const LaneSpec lane_spec{LaneKind::Events, config.on_full, config.capacity_slots, config.slot_payload_bytes, 1, 0, {}};
  auto created = Region::create(path, std::span(&lane_spec, 1));
  if (!created.ok()) throw SetupError("cannot create a region for " + spec::describe(config) + ": " + created.error().message);
  return std::move(created).value();
}

Region open_region(const std::string& path) {
  auto opened = Region::open(path);
  if (!opened.ok()) throw SetupError("cannot open the region just created: " + opened.error().message);
  return std::move(opened).value();
}

EventsLaneRef lane_ref(const Region& region) { return events_lane_ref(region.lane_block(0), region.lane(0)); }

}  // namespace

ScratchRegionPath::ScratchRegionPath(const std::string& region_dir)
    : path_(region_dir + "/" + unique_region_name()) {}

void ScratchRegionPath::remove_now() noexcept { ::unlink(path_.c_str()); }

RealEventsLane::RealEventsLane(const spec::EventsConfig& config, const std::string& region_dir,
                               WaitStrategy strategy)
    : config_(config),
      path_(region_dir),
      producer_region_(create_region(path_.str(), config)),
      consumer_region_(open_region(path_.str())),
      platform_(strategy),
      producer_(platform_, lane_ref(producer_region_)),
      consumer_(platform_, lane_ref(consumer_region_)) {
  // One producer, one consumer (EV-1): this object is both, so it holds both roles.
  EventsLaneHeader& header = *lane_ref(producer_region_).header;
  if (!claim_role(platform_, header.producer_pid) || !claim_role(platform_, header.consumer_pid)) {
    throw SetupError("cannot claim the producer and consumer roles of a fresh lane");
  }
  // Both mappings exist, and mappings outlive the name: remove the file now, so that not even a
  // crash of the test (a sanitizer abort, SIGKILL) can leave it behind.
  path_.remove_now();
}

RealEventsLane::~RealEventsLane() {
  EventsLaneHeader& header = *lane_ref(producer_region_).header;
  release_role(platform_, header.consumer_pid);
  release_role(platform_, header.producer_pid);
}

LaneCounters RealEventsLane::counters() const {
  const EventsLaneSnapshot s = snapshot_events_lane(consumer_region_.lane_block(0));
  return LaneCounters{s.write_seq, s.read_count, s.lost_count};
}

std::optional<std::string> RealEventsLane::check_region_image() const {
  if (auto error = validate_region_image(producer_region_.image())) return error->message;
  return std::nullopt;
}

std::optional<std::string> RealEventsLane::check_lane_state() const {
  const EventsLaneSnapshot s = snapshot_events_lane(consumer_region_.lane_block(0));
  if (auto error = check_events_lane_state(0, consumer_region_.lane(0), s)) return error->message;
  return std::nullopt;
}

}  // namespace detail

std::string describe(const LaneCounters& c) {
  return "written " + std::to_string(c.written) + ", read " + std::to_string(c.read_count) + ", lost " +
         std::to_string(c.lost_count);
}

std::ostream& operator<<(std::ostream& os, const LaneCounters& counters) { return os << describe(counters); }

std::unique_ptr<LaneUnderTest> make_real_lane(const spec::EventsConfig& config, const std::string& region_dir,
                                              WaitStrategy strategy) {
  return std::make_unique<detail::RealEventsLane>(config, region_dir, strategy);
}

LaneFactory real_lane_factory(WaitStrategy strategy) {
  return [strategy](const spec::EventsConfig& config, const std::string& region_dir) {
    return make_real_lane(config, region_dir, strategy);
  };
}

}  // namespace indexbus::conformance

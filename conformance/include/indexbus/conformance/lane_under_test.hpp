// What the differential checks drive: an Events lane behind a virtual interface, so that the real
// lane (core's EventsProducer/EventsConsumer in a real region) and deliberately broken variants
// (broken_lanes.hpp), or later a foreign implementation, are checked by the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/spec/events_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::conformance {

// The lane header's counters (EventsLaneHeader write_seq, read_count, lost_count).
struct LaneCounters {
  std::uint64_t written = 0;
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;

  friend bool operator==(const LaneCounters&, const LaneCounters&) = default;
};
std::string describe(const LaneCounters& counters);
std::ostream& operator<<(std::ostream& os, const LaneCounters& counters);

// One producer and one consumer of one Events lane, driven from one thread. The calls mirror
// EventsProducer / EventsConsumer exactly.
class LaneUnderTest {
 public:
  virtual ~LaneUnderTest() = default;

  virtual WriteStatus try_write(std::span<const std::byte> payload) = 0;
  virtual WriteStatus write(std::span<const std::byte> payload, std::uint64_t deadline_ns) = 0;
  virtual void close() = 0;
  // out holds at least slot_payload_bytes.
  virtual ReadResult try_read(std::span<std::byte> out) = 0;
  virtual ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) = 0;
  virtual LaneCounters counters() const = 0;
  // The clock that deadlines refer to.
  virtual std::uint64_t now_ns() const = 0;

  // Checks of the region around the lane, meaningful at quiescence; nullopt when fine or when the
  // lane has no region. REG-10: the immutable part (header, lane table) still validates.
  virtual std::optional<std::string> check_region_image() const { return std::nullopt; }
  // REG-11: the lane's words are consistent (check_events_lane_state).
  virtual std::optional<std::string> check_lane_state() const { return std::nullopt; }

  // "real", "broken:skip-entry-on-read", ...: printed in reports.
  virtual std::string name() const = 0;
};

// A lane could not be set up (no region directory, no space, ...): an environment problem, not a
// conformance failure. The CLI maps it to its environment exit code.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Makes a fresh, empty lane for config, with any files under region_dir. Throws SetupError.
using LaneFactory =
    std::function<std::unique_ptr<LaneUnderTest>(const spec::EventsConfig& config, const std::string& region_dir)>;

// The real lane: a new region (Region::create, mode 0600) holding one Events lane, created in
// region_dir under a unique name. The producer uses the creator's mapping and the consumer a
// second mapping from Region::open, as two processes would. The file is removed as soon as both
// mappings exist (they outlive the name), and on any failure before that. Throws SetupError.
std::unique_ptr<LaneUnderTest> make_real_lane(const spec::EventsConfig& config, const std::string& region_dir,
                                              WaitStrategy strategy = WaitStrategy::Park);

// Park by default: a predicted Timeout then sleeps in the kernel until the deadline instead of
// spinning, so the suite costs little CPU on a shared machine.
LaneFactory real_lane_factory(WaitStrategy strategy = WaitStrategy::Park);

}  // namespace indexbus::conformance

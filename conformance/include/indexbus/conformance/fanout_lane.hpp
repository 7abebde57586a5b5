// A FanoutBroadcast lane under test, driven from one thread: a real region with one fanout lane,
// its producer and all N consumers, so that the property test and the suite execute model
// operations on it and read back the lane's words. FanoutDefect::IgnoreLastConsumer swaps in a
// deliberately broken producer (test-only use) that both checkers must reject.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "indexbus/fanout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/spec/fanout_model.hpp"

namespace indexbus::conformance {

enum class FanoutDefect : std::uint8_t {
  None,
  IgnoreLastConsumer,  // a Block producer that gates only on consumers 0..N-2 (breaks FB-4, FB-5)
};

// The broken producer: FanoutProducer's publish, but a space check that leaves out the last
// consumer's cursor. Its blocking write polls until the deadline.
template <Platform P>
class IgnoresLastConsumerProducer {
 public:
  IgnoresLastConsumerProducer(const P& platform, RingLaneRef lane) : platform_(&platform), lane_(lane) {}

  WriteStatus try_write(std::span<const std::byte> payload) {
    if (closed_) return WriteStatus::Closed;
    if (payload.size() > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    if (!has_space()) return WriteStatus::Full;
    publish(payload);
    return WriteStatus::Ok;
  }
  WriteStatus write(std::span<const std::byte> payload, std::uint64_t deadline_ns) {
    for (std::uint64_t round = 0;; ++round) {
      const WriteStatus status = try_write(payload);
      if (status != WriteStatus::Full) return status;
      if (platform_->deadline_passed(deadline_ns, static_cast<std::uint32_t>(round))) return WriteStatus::Timeout;
    }
  }
  void close() {
    closed_ = true;
    ring_detail::publish_closed(*platform_, *lane_.header);
  }

 private:
  bool has_space() const {
    if (lane_.on_full == OnFull::Drop) return true;
    const std::uint64_t all_but_last = ring_detail::all_readers_mask(lane_.reader_count - 1);  // the defect
    return write_seq_ - ring_detail::min_cursor(*platform_, lane_, all_but_last, write_seq_) < lane_.capacity_slots;
  }
  void publish(std::span<const std::byte> payload) {
    SlotHeader& slot = ring_detail::slot_at(lane_, write_seq_);
    ring_detail::begin_slot(*platform_, slot, write_seq_);
    ring_detail::fill_slot(*platform_, slot, payload);
    ring_detail::complete_slot(*platform_, slot, write_seq_);
    ++write_seq_;
    ring_detail::publish_write_seq(*platform_, *lane_.header, write_seq_);
  }

  const P* platform_;
  RingLaneRef lane_;
  std::uint64_t write_seq_ = 0;
  bool closed_ = false;
};

// The lane's words the model predicts (FB-10): write_seq, closed, and per consumer its cursor and
// counters, in the model's own terms.
struct FanoutCounters {
  std::uint64_t written = 0;
  bool closed = false;
  std::vector<spec::FanoutConsumerState> consumers;

  friend bool operator==(const FanoutCounters&, const FanoutCounters&) = default;
};
FanoutCounters counters_of(const spec::FanoutState& state);
std::string describe(const FanoutCounters& counters);

struct FanoutObservation {
  spec::FanoutResult result;
  std::optional<std::uint64_t> deadline_ns;  // blocking calls: the deadline given
  std::uint64_t returned_at_ns = 0;
};

class FanoutLane {
 public:
  // Creates the region file in region_dir and unlinks it at once (the mapping stays). Throws
  // std::runtime_error when the region cannot be made.
  FanoutLane(const spec::FanoutConfig& config, const std::string& region_dir, WaitStrategy strategy,
             FanoutDefect defect = FanoutDefect::None);
  FanoutLane(const FanoutLane&) = delete;
  FanoutLane& operator=(const FanoutLane&) = delete;

  // Runs op (a valid one: is_valid_op) on the real lane; blocking calls get now + timeout_ns.
  FanoutObservation execute(const spec::FanoutOp& op, std::uint64_t blocking_timeout_ns);
  FanoutCounters counters() const;
  std::uint64_t now_ns() const { return platform_.now_ns(); }

 private:
  RealPlatform platform_;
  std::optional<Region> region_;
  RingLaneRef lane_;
  std::optional<FanoutProducer<RealPlatform>> producer_;
  std::optional<IgnoresLastConsumerProducer<RealPlatform>> broken_producer_;
  std::vector<FanoutConsumer<RealPlatform>> consumers_;
  std::vector<std::byte> buffer_;
};

}  // namespace indexbus::conformance

#include "indexbus/conformance/broken_lanes.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include "indexbus/layout.hpp"
#include "real_lane.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::array<Defect, 10> kDefects{
    Defect::SkipEntryOnRead, Defect::LostCountOffByOne, Defect::OkInsteadOfFull,  Defect::TruncateTooLarge,
    Defect::CorruptPayloadByte, Defect::HideClosed,     Defect::CounterDrift,     Defect::DropRefusesWhenFull,
    Defect::TimeoutEarly,    Defect::ScribbleHeader,
};

// The real lane with one defect. Each defect changes as little as possible, so that the rule it
// breaks is the one the checker must name.
class BrokenLane final : public LaneUnderTest {
 public:
  BrokenLane(Defect defect, std::unique_ptr<detail::RealEventsLane> inner)
      : defect_(defect), inner_(std::move(inner)) {
    if (defect_ == Defect::ScribbleHeader) {
      // A reserved header word, after Ready: REG-10 says it never changes again.
      auto* header = reinterpret_cast<RegionHeader*>(inner_->region_base());
      std::atomic_ref<std::uint64_t>(header->reserved0).store(0x5c5c5c5c, std::memory_order_relaxed);
    }
  }

  WriteStatus try_write(std::span<const std::byte> payload) override {
    switch (defect_) {
      case Defect::OkInsteadOfFull: {
        const WriteStatus status = inner_->try_write(payload);
        return status == WriteStatus::Full ? WriteStatus::Ok : status;
      }
      case Defect::TruncateTooLarge: return inner_->try_write(truncated(payload));
      case Defect::DropRefusesWhenFull:
        if (drop_lane_full(payload)) return WriteStatus::Full;
        break;
      default: break;
    }
    return inner_->try_write(payload);
  }

  WriteStatus write(std::span<const std::byte> payload, std::uint64_t deadline_ns) override {
    switch (defect_) {
      case Defect::TruncateTooLarge: return inner_->write(truncated(payload), deadline_ns);
      case Defect::DropRefusesWhenFull:
        if (drop_lane_full(payload)) {
          sleep_until(deadline_ns);  // a proper Timeout, so that only EV-12 is broken
          return WriteStatus::Timeout;
        }
        break;
      case Defect::TimeoutEarly: {
        const WriteStatus status = inner_->try_write(payload);
        return status == WriteStatus::Full ? WriteStatus::Timeout : status;
      }
      default: break;
    }
    return inner_->write(payload, deadline_ns);
  }

  void close() override {
    closed_ = true;
    inner_->close();
  }

  ReadResult try_read(std::span<std::byte> out) override {
    ReadResult r = inner_->try_read(out);
    if (defect_ == Defect::SkipEntryOnRead && skipped(r)) r = inner_->try_read(out);
    if (defect_ == Defect::HideClosed && r.status == ReadStatus::Closed) r.status = ReadStatus::Empty;
    return damaged(r, out);
  }

  ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) override {
    if (defect_ == Defect::TimeoutEarly) {
      ReadResult r = inner_->try_read(out);
      if (r.status == ReadStatus::Empty) r.status = ReadStatus::Timeout;
      return r;
    }
    ReadResult r = inner_->read(out, deadline_ns);
    if (defect_ == Defect::SkipEntryOnRead && skipped(r)) r = inner_->read(out, deadline_ns);
    if (defect_ == Defect::HideClosed && r.status == ReadStatus::Closed) {
      sleep_until(deadline_ns);  // a proper Timeout, so that only EV-10 is broken
      r.status = ReadStatus::Timeout;
    }
    return damaged(r, out);
  }

  LaneCounters counters() const override {
    LaneCounters c = inner_->counters();
    if (defect_ == Defect::CounterDrift && c.read_count > 0) ++c.read_count;
    return c;
  }

  std::uint64_t now_ns() const override { return inner_->now_ns(); }
  std::optional<std::string> check_region_image() const override { return inner_->check_region_image(); }
  std::optional<std::string> check_lane_state() const override { return inner_->check_lane_state(); }
  std::string name() const override { return "broken:" + std::string(to_string(defect_)); }

 private:
  static bool skipped(const ReadResult& r) { return r.status == ReadStatus::Entry && r.seq % 4 == 1; }

  ReadResult damaged(ReadResult r, std::span<std::byte> out) const {
    if (defect_ == Defect::LostCountOffByOne && r.status == ReadStatus::Lost) ++r.lost_count;
    if (defect_ == Defect::CorruptPayloadByte && r.status == ReadStatus::Entry && r.payload_bytes > 0 &&
        r.payload_bytes <= out.size()) {
      out[r.payload_bytes - 1] ^= std::byte{0x20};
    }
    return r;
  }

  std::span<const std::byte> truncated(std::span<const std::byte> payload) const {
    return payload.first(std::min<std::size_t>(payload.size(), inner_->config().slot_payload_bytes));
  }

  // A write that the real lane would accept (open, fits) to a Drop lane with no free slot.
  bool drop_lane_full(std::span<const std::byte> payload) const {
    const spec::EventsConfig& config = inner_->config();
    if (config.on_full != OnFull::Drop || closed_ || payload.size() > config.slot_payload_bytes) return false;
    const LaneCounters c = inner_->counters();
    return c.written - (c.read_count + c.lost_count) >= config.capacity_slots;
  }

  // Bounded by the deadline; sleeps in short slices so as not to overshoot it by much.
  void sleep_until(std::uint64_t deadline_ns) const {
    for (std::uint64_t now = now_ns(); now < deadline_ns; now = now_ns()) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::uint64_t>(deadline_ns - now, 50'000)));
    }
  }

  Defect defect_;
  std::unique_ptr<detail::RealEventsLane> inner_;
  bool closed_ = false;
};

}  // namespace

std::span<const Defect> all_defects() noexcept { return kDefects; }

std::string_view to_string(Defect defect) noexcept {
  switch (defect) {
    case Defect::SkipEntryOnRead: return "skip-entry-on-read";
    case Defect::LostCountOffByOne: return "lost-count-off-by-one";
    case Defect::OkInsteadOfFull: return "ok-instead-of-full";
    case Defect::TruncateTooLarge: return "truncate-too-large";
    case Defect::CorruptPayloadByte: return "corrupt-payload-byte";
    case Defect::HideClosed: return "hide-closed";
    case Defect::CounterDrift: return "counter-drift";
    case Defect::DropRefusesWhenFull: return "drop-refuses-when-full";
    case Defect::TimeoutEarly: return "timeout-early";
    case Defect::ScribbleHeader: return "scribble-header";
  }
  return "unknown";
}

LaneFactory broken_lane_factory(Defect defect, WaitStrategy strategy) {
  return [defect, strategy](const spec::EventsConfig& config, const std::string& region_dir) {
    return std::make_unique<BrokenLane>(defect,
                                        std::make_unique<detail::RealEventsLane>(config, region_dir, strategy));
  };
}

}  // namespace indexbus::conformance

#include "indexbus/conformance/fanout_lane.hpp"

#include <unistd.h>

#include <atomic>
#include <sstream>
#include <stdexcept>

namespace indexbus::conformance {
namespace {

spec::ReadOutcome outcome_of(const ReadResult& r, std::span<const std::byte> buffer) {
  spec::ReadOutcome out{r.status, 0, {}, 0};
  if (r.status == ReadStatus::Entry) {
    out.seq = r.seq;
    out.payload.assign(buffer.begin(), buffer.begin() + r.payload_bytes);
  } else if (r.status == ReadStatus::Lost) {
    out.lost_count = r.lost_count;
  }
  return out;
}

}  // namespace

FanoutCounters counters_of(const spec::FanoutState& state) {
  return FanoutCounters{state.written, state.closed, state.consumers};
}

std::string describe(const FanoutCounters& c) {
  std::ostringstream os;
  os << "written " << c.written << (c.closed ? " closed" : "") << ", consumers";
  for (const auto& k : c.consumers) os << " " << k.next_seq << "(" << k.read_count << "+" << k.lost_count << ")";
  return os.str();
}

FanoutLane::FanoutLane(const spec::FanoutConfig& config, const std::string& region_dir, WaitStrategy strategy,
                       FanoutDefect defect)
    : platform_(strategy) {
  static std::atomic<unsigned> counter{0};
  const std::string path = region_dir + "/indexbus-fanout-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1));
  const LaneSpec spec{LaneKind::FanoutBroadcast, config.on_full, config.capacity_slots, config.slot_payload_bytes,
                      config.consumer_count};
  auto created = Region::create(path, std::span(&spec, 1));
  if (!created.ok()) throw std::runtime_error("fanout lane: " + created.error().message);
  region_.emplace(std::move(created).value());
  ::unlink(path.c_str());  // the mapping outlives the name; nothing to clean up later
  lane_ = ring_lane_ref(region_->lane_block(0), region_->lane(0));
  if (defect == FanoutDefect::IgnoreLastConsumer) {
    broken_producer_.emplace(platform_, lane_);
  } else {
    producer_.emplace(platform_, lane_);
  }
  consumers_.reserve(config.consumer_count);
  for (std::uint32_t i = 0; i < config.consumer_count; ++i) consumers_.emplace_back(platform_, lane_, i);
  buffer_.resize(config.slot_payload_bytes);
}

FanoutObservation FanoutLane::execute(const spec::FanoutOp& op, std::uint64_t blocking_timeout_ns) {
  FanoutObservation out;
  const std::uint64_t deadline_ns = platform_.now_ns() + blocking_timeout_ns;
  if (const auto* w = std::get_if<spec::FanoutTryWrite>(&op)) {
    out.result = spec::WriteOutcome{producer_ ? producer_->try_write(w->payload) : broken_producer_->try_write(w->payload)};
  } else if (const auto* bw = std::get_if<spec::FanoutWrite>(&op)) {
    out.deadline_ns = deadline_ns;
    out.result = spec::WriteOutcome{producer_ ? producer_->write(bw->payload, deadline_ns)
                                              : broken_producer_->write(bw->payload, deadline_ns)};
  } else if (std::holds_alternative<spec::FanoutClose>(op)) {
    if (producer_) {
      producer_->close();
    } else {
      broken_producer_->close();
    }
    out.result = spec::CloseOutcome{};
  } else if (const auto* r = std::get_if<spec::FanoutTryRead>(&op)) {
    out.result = outcome_of(consumers_.at(r->consumer).try_read(buffer_), buffer_);
  } else {
    const auto& br = std::get<spec::FanoutRead>(op);
    out.deadline_ns = deadline_ns;
    out.result = outcome_of(consumers_.at(br.consumer).read(buffer_, deadline_ns), buffer_);
  }
  out.returned_at_ns = platform_.now_ns();
  return out;
}

FanoutCounters FanoutLane::counters() const {
  FanoutCounters c;
  c.written = platform_.load(lane_.header->write_seq, std::memory_order_acquire);
  c.closed = platform_.load(lane_.header->closed, std::memory_order_acquire) != 0;
  for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
    ReaderRecord& r = lane_.readers[i];
    c.consumers.push_back(spec::FanoutConsumerState{platform_.load(r.cursor_seq, std::memory_order_acquire),
                                                    platform_.load(r.read_count, std::memory_order_relaxed),
                                                    platform_.load(r.lost_count, std::memory_order_relaxed)});
  }
  return c;
}

}  // namespace indexbus::conformance

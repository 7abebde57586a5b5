// RapidCheck stateful property: random command sequences on a real FanoutBroadcast lane in a real
// region (1 producer, 1..4 consumers, capacity 1..8, Block and Drop), every command compared with
// the model (spec::step on FanoutState) on its result and on the lane's words: write_seq, closed,
// and each consumer's cursor_seq, read_count and lost_count. Checks FB-2 .. FB-12. A failure prints
// RapidCheck's seed and a shrunk counterexample; rerun with RC_PARAMS="seed=<seed>" (or the
// printed reproduce string) to replay it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "indexbus/fanout.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/spec/fanout_model.hpp"
#include "temp_region_path.hpp"

namespace indexbus::conformance {
namespace {

// Sequentially a blocking call proceeds at once or times out; this is what each Timeout costs.
constexpr std::uint64_t kBlockingTimeoutNs = 200'000;

// The deliberately broken lane: a Block producer that gates only on consumers 0..N-2, so it
// overwrites entries the last consumer has not read. The property must reject it.
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
    const WriteStatus status = try_write(payload);
    if (status != WriteStatus::Full) return status;
    while (platform_->now_ns() < deadline_ns) {
    }
    return try_write(payload) == WriteStatus::Ok ? WriteStatus::Ok : WriteStatus::Timeout;
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

// The lane under test: a real region with one fanout lane, its producer (real or broken) and all
// N consumers, driven from one thread.
struct Sut {
  Sut(const spec::FanoutConfig& config, WaitStrategy strategy, bool broken)
      : platform(strategy), region(make(config)) {
    lane = ring_lane_ref(region.lane_block(0), region.lane(0));
    if (broken) {
      broken_producer.emplace(platform, lane);
    } else {
      producer.emplace(platform, lane);
    }
    for (std::uint32_t i = 0; i < config.consumer_count; ++i) consumers.emplace_back(platform, lane, i);
    buffer.resize(config.slot_payload_bytes);
  }

  Region make(const spec::FanoutConfig& config) {
    const LaneSpec spec{LaneKind::FanoutBroadcast, config.on_full, config.capacity_slots,
                        config.slot_payload_bytes, config.consumer_count};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    RC_ASSERT(created.ok());
    return std::move(created).value();
  }

  WriteStatus try_write(std::span<const std::byte> payload) {
    return producer ? producer->try_write(payload) : broken_producer->try_write(payload);
  }
  WriteStatus write(std::span<const std::byte> payload, std::uint64_t deadline_ns) {
    return producer ? producer->write(payload, deadline_ns) : broken_producer->write(payload, deadline_ns);
  }
  void close() { producer ? producer->close() : broken_producer->close(); }

  testing::TempRegionPath path{"fanout-prop"};
  RealPlatform platform;
  Region region;
  RingLaneRef lane;
  std::optional<FanoutProducer<RealPlatform>> producer;
  std::optional<IgnoresLastConsumerProducer<RealPlatform>> broken_producer;
  std::vector<FanoutConsumer<RealPlatform>> consumers;
  std::vector<std::byte> buffer;
};

using Model = spec::FanoutState;
using LaneCommand = rc::state::Command<Model, Sut>;

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

// Runs op on the real lane; returns its result and, for blocking calls, the deadline it was given.
std::pair<spec::FanoutResult, std::optional<std::uint64_t>> execute(Sut& sut, const spec::FanoutOp& op) {
  const std::uint64_t deadline_ns = sut.platform.now_ns() + kBlockingTimeoutNs;
  if (const auto* w = std::get_if<spec::FanoutTryWrite>(&op)) return {spec::WriteOutcome{sut.try_write(w->payload)}, {}};
  if (const auto* w = std::get_if<spec::FanoutWrite>(&op)) {
    return {spec::WriteOutcome{sut.write(w->payload, deadline_ns)}, deadline_ns};
  }
  if (std::holds_alternative<spec::FanoutClose>(op)) {
    sut.close();
    return {spec::CloseOutcome{}, {}};
  }
  if (const auto* r = std::get_if<spec::FanoutTryRead>(&op)) {
    return {outcome_of(sut.consumers.at(r->consumer).try_read(sut.buffer), sut.buffer), {}};
  }
  const auto& r = std::get<spec::FanoutRead>(op);
  return {outcome_of(sut.consumers.at(r.consumer).read(sut.buffer, deadline_ns), sut.buffer), deadline_ns};
}

bool is_timeout(const spec::FanoutResult& result) {
  if (const auto* w = std::get_if<spec::WriteOutcome>(&result)) return w->status == WriteStatus::Timeout;
  if (const auto* r = std::get_if<spec::ReadOutcome>(&result)) return r->status == ReadStatus::Timeout;
  return false;
}

void run_against_model(const Model& before, Sut& sut, const spec::FanoutOp& op) {
  const auto [after, expected] = spec::step(before, op);
  RC_ASSERT(!spec::check_invariants(after).has_value());
  const auto [got, deadline_ns] = execute(sut, op);
  RC_ASSERT(got == expected);
  if (is_timeout(expected)) RC_ASSERT(sut.platform.now_ns() >= *deadline_ns);  // FB-12
  // The lane's words (FB-10): the same counters the model keeps.
  RC_ASSERT(sut.lane.header->write_seq == after.written);
  RC_ASSERT((sut.lane.header->closed != 0) == after.closed);
  for (std::uint32_t i = 0; i < after.config.consumer_count; ++i) {
    const ReaderRecord& record = sut.lane.readers[i];
    RC_ASSERT(record.cursor_seq == after.consumers[i].next_seq);
    RC_ASSERT(record.read_count == after.consumers[i].read_count);
    RC_ASSERT(record.lost_count == after.consumers[i].lost_count);
    RC_ASSERT(sut.consumers[i].next_seq() == after.consumers[i].next_seq);
  }
}

spec::Bytes generate_payload(const Model& s) {
  const std::size_t slot = s.config.slot_payload_bytes;
  const auto size = *rc::gen::weightedOneOf<std::size_t>({
      {8, rc::gen::inRange<std::size_t>(0, slot + 1)},
      {1, rc::gen::element<std::size_t>(0, slot)},
      {1, rc::gen::inRange<std::size_t>(slot + 1, slot + 9)},  // FB-2
  });
  const auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(size, rc::gen::arbitrary<std::uint8_t>());
  spec::Bytes out(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<std::byte>(bytes[i]);
  return out;
}

template <typename Derived>
struct OpCommand : LaneCommand {
  // Every valid operation is defined in every state, so no command is ever discarded.
  void checkPreconditions(const Model& s) const override { RC_PRE(spec::is_valid_op(s, op())); }
  void apply(Model& s) const override { s = spec::step(s, op()).first; }
  void run(const Model& s, Sut& sut) const override { run_against_model(s, sut, op()); }
  void show(std::ostream& os) const override { os << op(); }
  spec::FanoutOp op() const { return static_cast<const Derived&>(*this).make_op(); }
};

struct TryWriteCommand final : OpCommand<TryWriteCommand> {
  explicit TryWriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::FanoutOp make_op() const { return spec::FanoutTryWrite{payload}; }
  spec::Bytes payload;
};
struct WriteCommand final : OpCommand<WriteCommand> {
  explicit WriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::FanoutOp make_op() const { return spec::FanoutWrite{payload}; }
  spec::Bytes payload;
};
struct CloseCommand final : OpCommand<CloseCommand> {
  explicit CloseCommand(const Model&) {}
  spec::FanoutOp make_op() const { return spec::FanoutClose{}; }
};
std::uint32_t pick_consumer(const Model& s) {
  return *rc::gen::inRange<std::uint32_t>(0, s.config.consumer_count);
}
struct TryReadCommand final : OpCommand<TryReadCommand> {
  explicit TryReadCommand(const Model& s) : consumer(pick_consumer(s)) {}
  spec::FanoutOp make_op() const { return spec::FanoutTryRead{consumer}; }
  std::uint32_t consumer;
};
struct ReadCommand final : OpCommand<ReadCommand> {
  explicit ReadCommand(const Model& s) : consumer(pick_consumer(s)) {}
  spec::FanoutOp make_op() const { return spec::FanoutRead{consumer}; }
  std::uint32_t consumer;
};

template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make(const Model& s) {
  return rc::gen::exec([s] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>(s)); });
}

// Close is rare, so that most sequences spend a while open before they drain.
rc::Gen<std::shared_ptr<const LaneCommand>> lane_commands(const Model& s) {
  return rc::gen::weightedOneOf<std::shared_ptr<const LaneCommand>>({
      {12, make<TryWriteCommand>(s)},
      {5, make<WriteCommand>(s)},
      {1, make<CloseCommand>(s)},
      {14, make<TryReadCommand>(s)},
      {5, make<ReadCommand>(s)},
  });
}

void check_lane_against_model(const spec::FanoutConfig& config, bool broken = false) {
  const auto strategy = *rc::gen::element(WaitStrategy::Spin, WaitStrategy::Backoff, WaitStrategy::Park);
  RC_TAG(std::string(to_string(config.on_full)), config.capacity_slots, config.consumer_count);
  Sut sut(config, strategy, broken);
  rc::state::check(spec::initial_state(config), sut, &lane_commands);
}

spec::FanoutConfig generate_config(OnFull on_full) {
  const auto capacity = *rc::gen::element<std::uint32_t>(1, 2, 4, 8);
  const auto slot = *rc::gen::element<std::uint32_t>(8, 16);
  const auto consumers = *rc::gen::element<std::uint32_t>(1, 2, 3, 4);
  return spec::FanoutConfig{capacity, slot, on_full, consumers};
}

RC_GTEST_PROP(FanoutLaneVsModel, BlockPolicy, ()) {  // FB-2 .. FB-6, FB-9 .. FB-12
  check_lane_against_model(generate_config(OnFull::Block));
}

RC_GTEST_PROP(FanoutLaneVsModel, DropPolicy, ()) {  // FB-2, FB-3, FB-7 .. FB-12
  check_lane_against_model(generate_config(OnFull::Drop));
}

// Capacity 1 is where off-by-one errors in full/empty and in the loss count show first.
RC_GTEST_PROP(FanoutLaneVsModel, CapacityOneBothPolicies, ()) {  // FB-4, FB-7
  const auto on_full = *rc::gen::element(OnFull::Block, OnFull::Drop);
  const auto consumers = *rc::gen::element<std::uint32_t>(1, 2, 3, 4);
  check_lane_against_model(spec::FanoutConfig{1, 8, on_full, consumers});
}

class QuietListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

// The property must reject the producer that ignores the last consumer's cursor (FB-4, FB-5), or
// it proves nothing. Seeded and unshrunk, with a quiet listener so the expected failure stays out
// of RapidCheck's end-of-run report.
TEST(FanoutPropertyCatches, ProducerIgnoringLastConsumer) {
  rc::detail::TestParams params;
  params.seed = 20240601;
  params.maxSuccess = 200;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = "FanoutPropertyCatches/ProducerIgnoringLastConsumer";
  QuietListener listener;
  const auto result = rc::detail::checkProperty(
      rc::detail::toProperty([] { check_lane_against_model(generate_config(OnFull::Block), true); }), metadata,
      params, listener);
  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << "the broken producer passed the property";
  std::printf("ignores-last-consumer caught after %d passing cases: %s\n", failure.numSuccess,
              failure.description.c_str());
}

}  // namespace
}  // namespace indexbus::conformance

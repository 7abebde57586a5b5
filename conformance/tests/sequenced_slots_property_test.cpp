// RapidCheck stateful property: random command sequences on a real SequencedSlots lane in a real
// region (both policies, capacities 1, 2, 4, 8, one to four consumers with random acyclic gating),
// every command compared with the model (spec::sequenced_step) on its result and on the lane's
// write_seq and per-consumer cursor, read_count and lost_count. Checks SS-2, SS-4 .. SS-12.
// A failure prints RapidCheck's seed and a shrunk counterexample; replay with
// RC_PARAMS="reproduce=<string>" (printed) or RC_PARAMS="seed=<seed>".
//
// Next to it, two deliberately broken lanes (test-only) that the property must reject:
// IgnoreGate (every consumer reads straight behind the producer) and ProducerIgnoresLeaves (a
// Block producer that never waits for the consumers).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <ostream>
#include <vector>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"
#include "temp_region_path.hpp"

namespace indexbus {
namespace {

constexpr std::uint64_t kBlockingTimeoutNs = 200'000;

enum class Defect { None, IgnoreGate, ProducerIgnoresLeaves };

const char* to_string(Defect d) {
  switch (d) {
    case Defect::None: return "none";
    case Defect::IgnoreGate: return "ignore_gate";
    case Defect::ProducerIgnoresLeaves: return "producer_ignores_leaves";
  }
  return "?";
}

// gtest prints the parameter with this instead of its bytes.
[[maybe_unused]] void PrintTo(Defect d, std::ostream* os) { *os << to_string(d); }

using Model = spec::SequencedState;

// The real lane: a region file with one SequencedSlots lane, the producer and every consumer.
struct Sut {
  Sut(const spec::SequencedConfig& config, WaitStrategy strategy, Defect defect)
      : path("ssprop"), platform(strategy) {
    const LaneSpec lane{LaneKind::SequencedSlots, config.on_full, config.capacity_slots,
                        config.slot_payload_bytes, config.consumer_count(), 0, config.gated_on};
    auto created = Region::create(path.str(), std::span(&lane, 1));
    RC_ASSERT(created.ok());
    region.emplace(std::move(created.value()));
    ref = ring_lane_ref(region->lane_block(0), region->lane(0));
    if (defect == Defect::IgnoreGate) {
      for (std::uint32_t i = 0; i < ref.reader_count; ++i) ref.readers[i].gated_on_mask = 0;
    }
    RingLaneRef producer_ref = ref;
    if (defect == Defect::ProducerIgnoresLeaves) producer_ref.on_full = OnFull::Drop;
    auto p = attach_sequenced_producer(platform, producer_ref);
    RC_ASSERT(p.ok());
    producer.emplace(std::move(p.value()));
    for (std::uint32_t i = 0; i < ref.reader_count; ++i) {
      auto c = attach_sequenced_consumer(platform, ref, i);
      RC_ASSERT(c.ok());
      consumers.push_back(std::move(c.value()));
    }
    out.resize(config.slot_payload_bytes);
  }

  testing::TempRegionPath path;
  RealPlatform platform;
  std::optional<Region> region;
  RingLaneRef ref;
  std::optional<SequencedProducer<RealPlatform>> producer;
  std::vector<SequencedConsumer<RealPlatform>> consumers;
  std::vector<std::byte> out;
  std::span<std::byte> claimed_span;
};

using LaneCommand = rc::state::Command<Model, Sut>;

// Runs op on the real lane; returns what it answered, in the model's terms.
spec::SequencedResult execute(Sut& sut, const spec::SequencedOp& op, bool* timeout_early) {
  *timeout_early = false;
  auto claim_outcome = [&](const ClaimResult& c) {
    if (c.status == WriteStatus::Ok) {
      RC_ASSERT(c.payload.size() == sut.ref.slot_payload_bytes);
      sut.claimed_span = c.payload;
    }
    return spec::SeqClaimOutcome{c.status, c.status == WriteStatus::Ok ? c.seq : 0};
  };
  auto read_outcome = [&](const ReadResult& r) {
    spec::ReadOutcome o{r.status, 0, {}, 0};
    if (r.status == ReadStatus::Entry) {
      o.seq = r.seq;
      o.payload.assign(sut.out.begin(), sut.out.begin() + r.payload_bytes);
    }
    if (r.status == ReadStatus::Lost) o.lost_count = r.lost_count;
    return o;
  };
  if (std::holds_alternative<spec::SeqTryClaim>(op)) return claim_outcome(sut.producer->try_claim());
  if (std::holds_alternative<spec::SeqClaim>(op)) {
    const std::uint64_t deadline = sut.platform.now_ns() + kBlockingTimeoutNs;
    const ClaimResult c = sut.producer->claim(deadline);
    if (c.status == WriteStatus::Timeout && sut.platform.now_ns() < deadline) *timeout_early = true;
    return claim_outcome(c);
  }
  if (const auto* p = std::get_if<spec::SeqPublish>(&op)) {
    // The payload goes straight into the claimed slot (as much as fits), then publish(length).
    if (!sut.claimed_span.empty() && sut.producer->claimed() && !p->payload.empty()) {
      std::memcpy(sut.claimed_span.data(), p->payload.data(), std::min(p->payload.size(), sut.claimed_span.size()));
    }
    return spec::SeqPublishOutcome{sut.producer->publish(static_cast<std::uint32_t>(p->payload.size()))};
  }
  if (std::holds_alternative<spec::SeqClose>(op)) {
    sut.producer->close();
    return spec::SeqCloseOutcome{};
  }
  if (const auto* r = std::get_if<spec::SeqTryRead>(&op)) return read_outcome(sut.consumers[r->consumer].try_read(sut.out));
  const auto& r = std::get<spec::SeqRead>(op);
  const std::uint64_t deadline = sut.platform.now_ns() + kBlockingTimeoutNs;
  const ReadResult result = sut.consumers[r.consumer].read(sut.out, deadline);
  if (result.status == ReadStatus::Timeout && sut.platform.now_ns() < deadline) *timeout_early = true;
  return read_outcome(result);
}

void run_against_model(const Model& before, Sut& sut, const spec::SequencedOp& op) {
  const auto [after, expected] = spec::sequenced_step(before, op);
  bool timeout_early = false;
  const spec::SequencedResult got = execute(sut, op, &timeout_early);
  RC_ASSERT(!timeout_early);
  if (!(got == expected)) {
    RC_FAIL(spec::describe(op) + ": lane " + spec::describe(got) + ", model " + spec::describe(expected));
  }
  RC_ASSERT(!spec::check_invariants(after).has_value());
  RC_ASSERT(sut.ref.header->write_seq == after.written);
  RC_ASSERT(sut.producer->claimed() == after.claimed);
  for (std::uint32_t i = 0; i < after.consumers.size(); ++i) {
    const ReaderRecord& record = sut.ref.readers[i];
    RC_ASSERT(record.cursor_seq == after.consumers[i].next_seq);
    RC_ASSERT(record.read_count == after.consumers[i].read_count);
    RC_ASSERT(record.lost_count == after.consumers[i].lost_count);
  }
}

spec::Bytes generate_payload(const Model& s) {
  const std::size_t slot = s.config.slot_payload_bytes;
  const auto size = *rc::gen::weightedOneOf<std::size_t>({
      {8, rc::gen::inRange<std::size_t>(0, slot + 1)},
      {1, rc::gen::element<std::size_t>(0, slot)},
      {1, rc::gen::inRange<std::size_t>(slot + 1, slot + 9)},
  });
  const auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(size, rc::gen::arbitrary<std::uint8_t>());
  spec::Bytes out(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<std::byte>(bytes[i]);
  return out;
}

template <typename Derived>
struct OpCommand : LaneCommand {
  void checkPreconditions(const Model& s) const override { RC_PRE(spec::sequenced_op_allowed(s, op())); }
  void apply(Model& s) const override { s = spec::sequenced_step(s, op()).first; }
  void run(const Model& s, Sut& sut) const override { run_against_model(s, sut, op()); }
  void show(std::ostream& os) const override { os << op(); }
  spec::SequencedOp op() const { return static_cast<const Derived&>(*this).make_op(); }
};

struct TryClaimCommand final : OpCommand<TryClaimCommand> {
  spec::SequencedOp make_op() const { return spec::SeqTryClaim{}; }
};
struct ClaimCommand final : OpCommand<ClaimCommand> {
  spec::SequencedOp make_op() const { return spec::SeqClaim{}; }
};
struct PublishCommand final : OpCommand<PublishCommand> {
  explicit PublishCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::SequencedOp make_op() const { return spec::SeqPublish{payload}; }
  spec::Bytes payload;
};
struct CloseCommand final : OpCommand<CloseCommand> {
  spec::SequencedOp make_op() const { return spec::SeqClose{}; }
};
struct TryReadCommand final : OpCommand<TryReadCommand> {
  explicit TryReadCommand(const Model& s)
      : consumer(*rc::gen::inRange<std::uint32_t>(0, s.config.consumer_count())) {}
  spec::SequencedOp make_op() const { return spec::SeqTryRead{consumer}; }
  std::uint32_t consumer;
};
struct ReadCommand final : OpCommand<ReadCommand> {
  explicit ReadCommand(const Model& s) : consumer(*rc::gen::inRange<std::uint32_t>(0, s.config.consumer_count())) {}
  spec::SequencedOp make_op() const { return spec::SeqRead{consumer}; }
  std::uint32_t consumer;
};

template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make(const Model& s) {
  return rc::gen::exec([s] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>(s)); });
}
template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make() {
  return rc::gen::exec([] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>()); });
}

rc::Gen<std::shared_ptr<const LaneCommand>> lane_commands(const Model& s) {
  if (s.claimed && !s.closed) {
    // A claim is outstanding: mostly publish it, so entries flow.
    return rc::gen::weightedOneOf<std::shared_ptr<const LaneCommand>>({
        {10, make<PublishCommand>(s)},
        {1, make<TryClaimCommand>()},
        {1, make<CloseCommand>()},
        {4, make<TryReadCommand>(s)},
        {2, make<ReadCommand>(s)},
    });
  }
  return rc::gen::weightedOneOf<std::shared_ptr<const LaneCommand>>({
      {8, make<TryClaimCommand>()},
      {4, make<ClaimCommand>()},
      {1, make<CloseCommand>()},
      {12, make<TryReadCommand>(s)},
      {4, make<ReadCommand>(s)},
  });
}

// Random acyclic gating: consumers in a random order, each gated on a random subset of the ones
// before it.
std::vector<std::uint64_t> generate_gating(std::uint32_t count) {
  std::vector<std::uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  for (std::uint32_t i = count; i > 1; --i) {
    std::swap(order[i - 1], order[*rc::gen::inRange<std::uint32_t>(0, i)]);
  }
  std::vector<std::uint64_t> gated_on(count, 0);
  for (std::uint32_t i = 1; i < count; ++i) {
    for (std::uint32_t j = 0; j < i; ++j) {
      if (*rc::gen::element(false, true)) gated_on[order[i]] |= std::uint64_t{1} << order[j];
    }
  }
  return gated_on;
}

spec::SequencedConfig generate_config(OnFull on_full) {
  const auto capacity = *rc::gen::element<std::uint32_t>(1, 2, 4, 8);
  const auto slot = *rc::gen::element<std::uint32_t>(8, 16);
  const auto count = *rc::gen::inRange<std::uint32_t>(1, 5);
  return spec::SequencedConfig{capacity, slot, on_full, generate_gating(count)};
}

void check_lane_against_model(const spec::SequencedConfig& config, Defect defect = Defect::None) {
  RC_PRE(!spec::check_gating_graph(config.gated_on).has_value());
  const auto strategy = *rc::gen::element(WaitStrategy::Spin, WaitStrategy::Backoff, WaitStrategy::Park);
  RC_TAG(std::string(indexbus::to_string(config.on_full)), config.capacity_slots, config.consumer_count());
  Sut sut(config, strategy, defect);
  rc::state::check(spec::sequenced_initial_state(config), sut, &lane_commands);
}

RC_GTEST_PROP(SequencedLaneVsModel, BlockPolicy, ()) { check_lane_against_model(generate_config(OnFull::Block)); }

RC_GTEST_PROP(SequencedLaneVsModel, DropPolicy, ()) { check_lane_against_model(generate_config(OnFull::Drop)); }

RC_GTEST_PROP(SequencedLaneVsModel, CapacityOneBothPolicies, ()) {
  auto config = generate_config(*rc::gen::element(OnFull::Block, OnFull::Drop));
  config.capacity_slots = 1;
  check_lane_against_model(config);
}

class QuietListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

// The property must reject each broken lane, or it proves nothing. Seeded and unshrunk.
class SequencedPropertyCatches : public ::testing::TestWithParam<Defect> {};

TEST_P(SequencedPropertyCatches, BrokenLane) {
  const Defect defect = GetParam();
  rc::detail::TestParams params;
  params.seed = 20240601;
  params.maxSuccess = 300;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("SequencedPropertyCatches/") + to_string(defect);
  QuietListener listener;
  const auto result = rc::detail::checkProperty(
      rc::detail::toProperty([&] { check_lane_against_model(generate_config(OnFull::Block), defect); }), metadata,
      params, listener);
  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << to_string(defect) << " passed the property";
  std::printf("%s caught after %d passing cases: %s\n", to_string(defect), failure.numSuccess,
              failure.description.c_str());
}

INSTANTIATE_TEST_SUITE_P(Defects, SequencedPropertyCatches,
                         ::testing::Values(Defect::IgnoreGate, Defect::ProducerIgnoresLeaves),
                         [](const ::testing::TestParamInfo<Defect>& param_info) { return std::string(to_string(param_info.param)); });

}  // namespace
}  // namespace indexbus

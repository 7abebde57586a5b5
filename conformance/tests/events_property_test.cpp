// RapidCheck stateful property: random command sequences on a real Events lane in a real region,
// every command compared with the model (spec::step) on its result and on the lane's counters.
// Checks EV-2 .. EV-15. A failure prints RapidCheck's seed and a shrunk counterexample; rerun with
// RC_PARAMS="seed=<seed>" (or the printed reproduce string) to replay it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdio>
#include <memory>
#include <ostream>

#include "indexbus/conformance/broken_lanes.hpp"
#include "indexbus/conformance/differential.hpp"
#include "indexbus/conformance/lane_under_test.hpp"
#include "indexbus/region.hpp"
#include "indexbus/spec/events_model.hpp"

namespace indexbus::conformance {
namespace {

// Sequentially a blocking call proceeds at once or times out; this is what each Timeout costs.
constexpr std::uint64_t kBlockingTimeoutNs = 200'000;

using Model = spec::EventsState;
struct Sut {
  std::unique_ptr<LaneUnderTest> lane;
};
using LaneCommand = rc::state::Command<Model, Sut>;

// The lane must do what the model does: same result, same counters, and a Timeout only once the
// deadline has passed.
bool is_timeout(const spec::OpResult& result) {
  if (const auto* w = std::get_if<spec::WriteOutcome>(&result)) return w->status == WriteStatus::Timeout;
  if (const auto* r = std::get_if<spec::ReadOutcome>(&result)) return r->status == ReadStatus::Timeout;
  return false;
}

void run_against_model(const Model& before, Sut& sut, const spec::Op& op) {
  const auto [after, expected] = spec::step(before, op);
  const Observation got = execute(*sut.lane, op, before.config.slot_payload_bytes, kBlockingTimeoutNs);
  RC_ASSERT(got.result == expected);
  RC_ASSERT(got.counters == counters_of(after));
  if (is_timeout(expected)) RC_ASSERT(got.returned_at_ns >= *got.deadline_ns);
}

spec::Bytes generate_payload(const Model& s) {
  const std::size_t slot = s.config.slot_payload_bytes;
  // Mostly payloads that fit (0 and slot included), sometimes one that is too large (EV-2).
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

// The shared part of every command: the model's step is the command's effect on the model, and
// run() checks the real lane against it.
template <typename Derived>
struct OpCommand : LaneCommand {
  // Every operation is defined in every state (the model has a result for each, Closed and
  // Timeout included), so no command is ever discarded: shrinking may drop any of them.
  void checkPreconditions(const Model&) const override {}
  void apply(Model& s) const override { s = spec::step(s, op()).first; }
  void run(const Model& s, Sut& sut) const override { run_against_model(s, sut, op()); }
  void show(std::ostream& os) const override { os << op(); }
  spec::Op op() const { return static_cast<const Derived&>(*this).make_op(); }
};

struct TryWriteCommand final : OpCommand<TryWriteCommand> {
  explicit TryWriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::Op make_op() const { return spec::TryWrite{payload}; }
  spec::Bytes payload;
};

struct WriteCommand final : OpCommand<WriteCommand> {
  explicit WriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::Op make_op() const { return spec::Write{payload}; }
  spec::Bytes payload;
};

struct CloseCommand final : OpCommand<CloseCommand> {
  spec::Op make_op() const { return spec::Close{}; }
};

struct TryReadCommand final : OpCommand<TryReadCommand> {
  spec::Op make_op() const { return spec::TryRead{}; }
};

struct ReadCommand final : OpCommand<ReadCommand> {
  spec::Op make_op() const { return spec::Read{}; }
};

template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make(const Model& s) {
  return rc::gen::exec([s] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>(s)); });
}
template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make() {
  return rc::gen::exec([] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>()); });
}

// Close is rare, so that most sequences spend a while open before they drain.
rc::Gen<std::shared_ptr<const LaneCommand>> lane_commands(const Model& s) {
  return rc::gen::weightedOneOf<std::shared_ptr<const LaneCommand>>({
      {12, make<TryWriteCommand>(s)},
      {6, make<WriteCommand>(s)},
      {1, make<CloseCommand>()},
      {12, make<TryReadCommand>()},
      {6, make<ReadCommand>()},
  });
}

// The property itself; lane_factory is the real lane except when the property is shown to catch
// broken ones.
void check_lane_against_model(const spec::EventsConfig& config, const LaneFactory* lane_factory = nullptr) {
  const auto strategy = *rc::gen::element(WaitStrategy::Spin, WaitStrategy::Backoff, WaitStrategy::Park);
  RC_TAG(std::string(to_string(config.on_full)), config.capacity_slots);
  const LaneFactory factory = lane_factory != nullptr ? *lane_factory : real_lane_factory(strategy);
  Sut sut{factory(config, kDefaultRegionDirectory)};
  rc::state::check(spec::initial_state(config), sut, &lane_commands);
}

spec::EventsConfig generate_config(OnFull on_full) {
  const auto capacity = *rc::gen::element<std::uint32_t>(1, 2, 4, 8, 64);
  const auto slot = *rc::gen::element<std::uint32_t>(8, 16, 64);
  return spec::EventsConfig{capacity, slot, on_full};
}

RC_GTEST_PROP(EventsLaneVsModel, BlockPolicy, ()) {  // EV-2 .. EV-7, EV-9 .. EV-11, EV-13 .. EV-15
  check_lane_against_model(generate_config(OnFull::Block));
}

RC_GTEST_PROP(EventsLaneVsModel, DropPolicy, ()) {  // EV-2 .. EV-5, EV-8 .. EV-15
  check_lane_against_model(generate_config(OnFull::Drop));
}

// Capacity 1 is where off-by-one errors in full/empty and in the loss count show first.
RC_GTEST_PROP(EventsLaneVsModel, CapacityOneBothPolicies, ()) {  // EV-6, EV-8, EV-12
  const auto on_full = *rc::gen::element(OnFull::Block, OnFull::Drop);
  const auto slot = *rc::gen::element<std::uint32_t>(8, 16);
  check_lane_against_model(spec::EventsConfig{1, slot, on_full});
}

// Records nothing: the failures below are expected and must not reach RapidCheck's end-of-run
// "properties had failures" report.
class QuietListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

// The property must reject a broken lane, or it proves nothing. Seeded, unshrunk, and run through
// rc::detail::checkProperty with a quiet listener so the expected failures stay out of the log.
class PropertyCatches : public ::testing::TestWithParam<Defect> {};

TEST_P(PropertyCatches, BrokenLane) {
  const Defect defect = GetParam();
  const LaneFactory factory = broken_lane_factory(defect);
  rc::detail::TestParams params;
  params.seed = 20240601;
  params.maxSuccess = 200;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = "PropertyCatches/" + std::string(to_string(defect));
  QuietListener listener;
  const auto result = rc::detail::checkProperty(
      rc::detail::toProperty([&] {
        const auto on_full = *rc::gen::element(OnFull::Block, OnFull::Drop);
        check_lane_against_model(generate_config(on_full), &factory);
      }),
      metadata, params, listener);
  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << to_string(defect) << " passed the property";
  std::printf("%s caught after %d passing cases: %s\n", std::string(to_string(defect)).c_str(), failure.numSuccess,
              failure.description.c_str());
}

// ScribbleHeader is left out: the property compares lane behaviour, not the region image; the
// suite checks that (REG-10).
INSTANTIATE_TEST_SUITE_P(Defects, PropertyCatches,
                         ::testing::Values(Defect::SkipEntryOnRead, Defect::LostCountOffByOne,
                                           Defect::OkInsteadOfFull, Defect::TruncateTooLarge,
                                           Defect::CorruptPayloadByte, Defect::HideClosed, Defect::CounterDrift,
                                           Defect::DropRefusesWhenFull, Defect::TimeoutEarly),
                         [](const ::testing::TestParamInfo<Defect>& param_info) {
                           std::string name(to_string(param_info.param));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace indexbus::conformance

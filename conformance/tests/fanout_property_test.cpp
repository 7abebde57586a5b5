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

#include "indexbus/conformance/fanout_lane.hpp"
#include "indexbus/conformance/fanout_suite.hpp"
#include "indexbus/spec/fanout_model.hpp"

namespace indexbus::conformance {
namespace {

// Sequentially a blocking call proceeds at once or times out; this is what each Timeout costs.
constexpr std::uint64_t kBlockingTimeoutNs = 200'000;

// The lane (real, or with the broken producer that ignores the last consumer's cursor) and its
// execution of model operations: indexbus/conformance/fanout_lane.hpp.
struct Sut {
  std::unique_ptr<FanoutLane> lane;
};

using Model = spec::FanoutState;
using LaneCommand = rc::state::Command<Model, Sut>;

bool is_timeout(const spec::FanoutResult& result) {
  if (const auto* w = std::get_if<spec::WriteOutcome>(&result)) return w->status == WriteStatus::Timeout;
  if (const auto* r = std::get_if<spec::ReadOutcome>(&result)) return r->status == ReadStatus::Timeout;
  return false;
}

void run_against_model(const Model& before, Sut& sut, const spec::FanoutOp& op) {
  const auto [after, expected] = spec::step(before, op);
  RC_ASSERT(!spec::check_invariants(after).has_value());
  const FanoutObservation got = sut.lane->execute(op, kBlockingTimeoutNs);
  RC_ASSERT(got.result == expected);
  if (is_timeout(expected)) RC_ASSERT(got.returned_at_ns >= *got.deadline_ns);  // FB-12
  // The lane's words (FB-10): write_seq, closed, every cursor and counter, as the model has them.
  RC_ASSERT(sut.lane->counters() == counters_of(after));
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
  Sut sut{std::make_unique<FanoutLane>(config, "/dev/shm", strategy,
                                       broken ? FanoutDefect::IgnoreLastConsumer : FanoutDefect::None)};
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

// The suite (per-rule report) passes the real lane and fails the broken producer under FB-4 or
// FB-5, the rules it breaks.
TEST(FanoutSuite, PassesTheRealLane) {
  SuiteOptions options;
  options.seed = 7;
  options.runs = 60;
  options.ops_per_run = 150;
  const SuiteReport report = run_fanout_suite(options);
  for (const RuleOutcome& rule : report.rules) {
    EXPECT_EQ(rule.failures, 0u) << rule.rule_id << ": " << rule.first_failure;
    EXPECT_GT(rule.checks, 0u) << rule.rule_id << " was never checked";
  }
  EXPECT_TRUE(report.passed);
  std::printf("%s\n", format_report(report).c_str());
}

TEST(FanoutSuite, FailsTheBrokenProducerUnderTheRightRule) {
  SuiteOptions options;
  options.seed = 7;
  options.runs = 60;
  options.ops_per_run = 150;
  const SuiteReport report = run_fanout_suite(options, FanoutDefect::IgnoreLastConsumer);
  EXPECT_FALSE(report.passed);
  std::uint64_t gate_failures = 0;
  for (const RuleOutcome& rule : report.rules) {
    if (rule.rule_id == "FB-4" || rule.rule_id == "FB-5") gate_failures += rule.failures;
  }
  EXPECT_GT(gate_failures, 0u) << format_report(report);
}

}  // namespace
}  // namespace indexbus::conformance

// RapidCheck stateful property: random command sequences on a real Journal lane in a real region
// (JournalWriter and up to four JournalReader handles), every command compared with the model
// (spec::step on JournalState) on its result, on the lane's shared words (write_seq, closed,
// eviction_count, every reader record) and on each live handle's read position. Checks JR-1 ..
// JR-12 sequentially. The lane runs on a platform whose clock is the model's clock, so heartbeats
// and evictions are deterministic. A failure prints RapidCheck's seed and a shrunk counterexample;
// rerun with RC_PARAMS="reproduce=<string>" (or seed=<seed>) to replay it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdio>
#include <memory>
#include <ostream>
#include <string>

#include "indexbus/conformance/journal_lane.hpp"
#include "indexbus/spec/journal_model.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::uint64_t kTimeoutNs = 100;  // reader timeout of lanes with eviction on

// The lane under test (conformance/journal_lane.hpp, shared with run_journal_suite).
struct Sut {
  Sut(const spec::JournalConfig& config, JournalDefect defect) : lane(config, "/dev/shm", defect) {}
  JournalLane lane;
};

using Model = spec::JournalState;
using LaneCommand = rc::state::Command<Model, Sut>;

template <typename Derived>
struct OpCommand : LaneCommand {
  void checkPreconditions(const Model& s) const override {
    const spec::JournalOp o = op();
    std::visit(
        [&](const auto& x) {
          if constexpr (requires { x.reader; }) {
            RC_PRE(x.reader < s.readers.size());
            RC_PRE(s.readers[x.reader].has_handle);
          }
        },
        o);
  }
  void apply(Model& s) const override { s = spec::step(s, op()).first; }
  void run(const Model& s, Sut& sut) const override {
    const auto [after, expected] = spec::step(s, op());
    const spec::JournalResult got = sut.lane.execute(op());
    RC_ASSERT(got == expected);
    // The lane's shared words (write_seq, closed, eviction_count, every reader record) and each
    // live handle's read position must say what the model's state says.
    const JournalWords got_words = sut.lane.words();
    const JournalWords want_words = words_of(after);
    if (!(got_words == want_words)) RC_FAIL("lane words " + describe(got_words) + "; model " + describe(want_words));
    const auto broken = spec::check_invariants(after);
    RC_ASSERT(!broken.has_value());
  }
  void show(std::ostream& os) const override { os << op(); }
  spec::JournalOp op() const { return static_cast<const Derived&>(*this).make_op(); }
};

spec::Bytes generate_payload(const Model& s) {
  const std::size_t slot = s.config.slot_payload_bytes;
  const auto size = *rc::gen::weightedOneOf<std::size_t>({
      {8, rc::gen::inRange<std::size_t>(0, slot + 1)},
      {1, rc::gen::inRange<std::size_t>(slot + 1, slot + 9)},
  });
  const auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(size, rc::gen::arbitrary<std::uint8_t>());
  spec::Bytes out(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<std::byte>(bytes[i]);
  return out;
}

std::uint32_t generate_reader(const Model& s) {
  std::vector<std::uint32_t> live;
  for (std::uint32_t i = 0; i < s.readers.size(); ++i) {
    if (s.readers[i].has_handle) live.push_back(i);
  }
  if (live.empty()) return 0;  // discarded by the precondition
  return *rc::gen::elementOf(live);
}

struct TryWriteCommand final : OpCommand<TryWriteCommand> {
  explicit TryWriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::JournalOp make_op() const { return spec::JournalTryWrite{payload}; }
  spec::Bytes payload;
};
struct WriteCommand final : OpCommand<WriteCommand> {
  explicit WriteCommand(const Model& s) : payload(generate_payload(s)) {}
  spec::JournalOp make_op() const { return spec::JournalWrite{payload}; }
  spec::Bytes payload;
};
struct CloseCommand final : OpCommand<CloseCommand> {
  explicit CloseCommand(const Model&) {}
  spec::JournalOp make_op() const { return spec::JournalClose{}; }
};
struct AttachCommand final : OpCommand<AttachCommand> {
  explicit AttachCommand(const Model&)
      : name(*rc::gen::weightedOneOf<std::string>({
            {4, rc::gen::just(std::string())},
            {6, rc::gen::element<std::string>("a", "b", "c", std::string(32, 'z'))},
            {1, rc::gen::element<std::string>(std::string(33, 'z'), std::string("n\0ul", 4))},
        })) {}
  spec::JournalOp make_op() const { return spec::JournalAttach{name}; }
  std::string name;
};
template <typename Op>
struct ReaderCommand final : OpCommand<ReaderCommand<Op>> {
  explicit ReaderCommand(const Model& s) : reader(generate_reader(s)) {}
  spec::JournalOp make_op() const { return Op{reader}; }
  std::uint32_t reader;
};
struct ReadAtCommand final : OpCommand<ReadAtCommand> {
  explicit ReadAtCommand(const Model& s)
      : reader(generate_reader(s)), seq(*rc::gen::inRange<std::uint64_t>(0, s.written + 2)) {}
  spec::JournalOp make_op() const { return spec::JournalReadAt{reader, seq}; }
  std::uint32_t reader;
  std::uint64_t seq;
};
struct AdvanceTimeCommand final : OpCommand<AdvanceTimeCommand> {
  explicit AdvanceTimeCommand(const Model&)
      : ns(*rc::gen::element<std::uint64_t>(1, kTimeoutNs / 2, kTimeoutNs, kTimeoutNs + 1)) {}
  spec::JournalOp make_op() const { return spec::JournalAdvanceTime{ns}; }
  std::uint64_t ns;
};

template <typename Command>
rc::Gen<std::shared_ptr<const LaneCommand>> make(const Model& s) {
  return rc::gen::exec([s] { return std::shared_ptr<const LaneCommand>(std::make_shared<Command>(s)); });
}

rc::Gen<std::shared_ptr<const LaneCommand>> lane_commands(const Model& s) {
  return rc::gen::weightedOneOf<std::shared_ptr<const LaneCommand>>({
      {10, make<TryWriteCommand>(s)},
      {4, make<WriteCommand>(s)},
      {1, make<CloseCommand>(s)},
      {4, make<AttachCommand>(s)},
      {8, make<ReaderCommand<spec::JournalTryRead>>(s)},
      {3, make<ReaderCommand<spec::JournalRead>>(s)},
      {5, make<ReaderCommand<spec::JournalCommit>>(s)},
      {4, make<ReadAtCommand>(s)},
      {2, make<ReaderCommand<spec::JournalHeartbeat>>(s)},
      {2, make<ReaderCommand<spec::JournalDetach>>(s)},
      {5, make<AdvanceTimeCommand>(s)},
  });
}

spec::JournalConfig generate_config(OnFull on_full) {
  const auto capacity = *rc::gen::element<std::uint32_t>(1, 2, 4, 8);
  const auto readers = *rc::gen::inRange<std::uint32_t>(1, 5);
  // Mostly with eviction on: its boundary (silent for exactly the timeout) needs long histories.
  const auto timeout = *rc::gen::weightedElement<std::uint64_t>({{1, 0}, {3, kTimeoutNs}});
  const auto slot = *rc::gen::element<std::uint32_t>(8, 16);
  return spec::JournalConfig{capacity, slot, on_full, readers, timeout};
}

void check_lane_against_model(const spec::JournalConfig& config, JournalDefect defect = JournalDefect::None) {
  RC_TAG(std::string(to_string(config.on_full)), config.capacity_slots, config.reader_count);
  Sut sut(config, defect);
  rc::state::check(spec::initial_state(config), sut, &lane_commands);
}

RC_GTEST_PROP(JournalVsModel, BlockPolicy, ()) {  // JR-1 .. JR-7, JR-9 .. JR-12
  check_lane_against_model(generate_config(OnFull::Block));
}

RC_GTEST_PROP(JournalVsModel, DropPolicy, ()) {  // JR-1 .. JR-8, JR-11, JR-12
  check_lane_against_model(generate_config(OnFull::Drop));
}

RC_GTEST_PROP(JournalVsModel, CapacityOneBothPolicies, ()) {  // JR-6, JR-8, JR-9
  const auto on_full = *rc::gen::element(OnFull::Block, OnFull::Drop);
  auto config = generate_config(on_full);
  config.capacity_slots = 1;
  check_lane_against_model(config);
}

class QuietListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

// The property must reject a broken lane, or it proves nothing. Seeded, unshrunk, quiet (the
// failures are expected and must not reach RapidCheck's end-of-run report).
class JournalPropertyCatches : public ::testing::TestWithParam<JournalDefect> {};

TEST_P(JournalPropertyCatches, BrokenLane) {  // JR-5, JR-7, JR-10
  const JournalDefect defect = GetParam();
  rc::detail::TestParams params;
  params.seed = 20240601;
  params.maxSuccess = 200;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = "JournalPropertyCatches";
  QuietListener listener;
  const auto result = rc::detail::checkProperty(
      rc::detail::toProperty([defect] {
        const auto on_full = *rc::gen::element(OnFull::Block, OnFull::Drop);
        check_lane_against_model(generate_config(on_full), defect);
      }),
      metadata, params, listener);
  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << "the broken lane passed the property";
  std::printf("caught after %d passing cases: %s\n", failure.numSuccess, failure.description.c_str());
}

INSTANTIATE_TEST_SUITE_P(Defects, JournalPropertyCatches,
                         ::testing::Values(JournalDefect::ReadAtWithoutRevalidation, JournalDefect::CommitNotPublished,
                                           JournalDefect::HeartbeatNotStored),
                         [](const ::testing::TestParamInfo<JournalDefect>& param_info) {
                           switch (param_info.param) {
                             case JournalDefect::ReadAtWithoutRevalidation: return std::string("ReadAtWithoutRevalidation");
                             case JournalDefect::CommitNotPublished: return std::string("CommitNotPublished");
                             case JournalDefect::HeartbeatNotStored: return std::string("HeartbeatNotStored");
                             case JournalDefect::None: break;
                           }
                           return std::string("None");
                         });

}  // namespace
}  // namespace indexbus::conformance

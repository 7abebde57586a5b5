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

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>

#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/spec/journal_model.hpp"
#include "temp_region_path.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::uint64_t kTimeoutNs = 100;  // reader timeout of lanes with eviction on

// RealPlatform (Spin) with the model's clock: time moves only by AdvanceTime commands, so a
// blocking call with deadline "now" returns at once, as the sequential model says.
class ManualClockPlatform : public RealPlatform {
 public:
  explicit ManualClockPlatform(const std::uint64_t* clock_ns) noexcept
      : RealPlatform(WaitStrategy::Spin), clock_ns_(clock_ns) {}
  std::uint64_t now_ns() const noexcept { return *clock_ns_; }
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t) const noexcept { return *clock_ns_ >= deadline_ns; }

 private:
  const std::uint64_t* clock_ns_;
};
static_assert(Platform<ManualClockPlatform>);

using Reader = JournalReader<ManualClockPlatform>;

// The deliberately broken variant the property must reject: read_at that copies the slot without
// checking the window or the stamp (JR-7, JR-12).
ReadResult read_at_without_revalidation(const RingLaneRef& lane, std::uint64_t seq, std::span<std::byte> out) {
  const std::uint64_t written = lane.header->write_seq;
  if (seq >= written) return ReadResult{ReadStatus::NotYet, 0, 0, 0};
  SlotHeader& slot = ring_detail::slot_at(lane, seq);
  const std::uint32_t length = std::min(slot.payload_bytes, lane.slot_payload_bytes);
  std::memcpy(out.data(), ring_detail::payload_of(slot), length);
  return ReadResult{ReadStatus::Entry, seq, length, 0};
}

// The deliberately broken variants the property must reject (test-only; the lane has no hooks).
enum class Defect : std::uint8_t {
  None,
  ReadAtWithoutRevalidation,  // read_at copies the slot without checking window or stamp (JR-7)
  CommitNotPublished,         // commit refreshes the heartbeat but never stores the cursor (JR-5)
};

struct Sut {
  Sut(const spec::JournalConfig& config, Defect defect_in)
      : clock_ns(std::make_unique<std::uint64_t>(0)), platform(clock_ns.get()), defect(defect_in) {
    const LaneSpec spec{LaneKind::Journal, config.on_full, config.capacity_slots, config.slot_payload_bytes,
                        config.reader_count, config.reader_timeout_ns, {}};
    auto created = Region::create(path.str(), std::span(&spec, 1));
    RC_ASSERT(created.ok());
    region.emplace(std::move(created).value());
    ref = ring_lane_ref(region->lane_block(0), region->lane(0));
    writer.emplace(platform, ref);
  }
  testing::TempRegionPath path{"journal-prop"};
  std::unique_ptr<std::uint64_t> clock_ns;
  ManualClockPlatform platform;
  std::optional<Region> region;
  RingLaneRef ref;
  std::optional<JournalWriter<ManualClockPlatform>> writer;
  std::array<std::optional<Reader>, kReaderCountMax> readers;
  Defect defect = Defect::None;
};

using Model = spec::JournalState;
using LaneCommand = rc::state::Command<Model, Sut>;

spec::ReadOutcome outcome_of(const ReadResult& r, std::span<const std::byte> out) {
  spec::ReadOutcome o{r.status, 0, {}, 0};
  if (r.status == ReadStatus::Entry) {
    o.seq = r.seq;
    o.payload.assign(out.begin(), out.begin() + r.payload_bytes);
  }
  if (r.status == ReadStatus::Lost) o.lost_count = r.lost_count;
  return o;
}

spec::JournalAttachError attach_error_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadReaderName: return spec::JournalAttachError::BadReaderName;
    case ErrorCode::RoleTaken: return spec::JournalAttachError::RoleTaken;
    case ErrorCode::NoFreeReader: return spec::JournalAttachError::NoFreeReader;
    default: RC_FAIL("unexpected attach error " + std::string(to_string(code)));
  }
  return spec::JournalAttachError::None;
}

// Runs op on the real lane and returns its result in the model's vocabulary.
spec::JournalResult execute(Sut& sut, const spec::JournalOp& op, std::uint32_t slot_payload_bytes) {
  std::vector<std::byte> out(slot_payload_bytes);
  const std::uint64_t now = *sut.clock_ns;
  const auto handle = [&](std::uint32_t r) -> Reader& {
    RC_ASSERT(sut.readers[r].has_value());
    return *sut.readers[r];
  };
  return std::visit(
      [&](const auto& o) -> spec::JournalResult {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, spec::JournalTryWrite>) {
          return spec::WriteOutcome{sut.writer->try_write(o.payload)};
        } else if constexpr (std::is_same_v<T, spec::JournalWrite>) {
          return spec::WriteOutcome{sut.writer->write(o.payload, now)};
        } else if constexpr (std::is_same_v<T, spec::JournalClose>) {
          sut.writer->close();
          return spec::CloseOutcome{};
        } else if constexpr (std::is_same_v<T, spec::JournalAttach>) {
          auto attached = Reader::attach(sut.platform, sut.ref, o.name);
          if (!attached.ok()) return spec::JournalAttachOutcome{attach_error_of(attached.error().code), 0};
          const std::uint32_t id = attached.value().reader_id();
          sut.readers[id].emplace(std::move(attached).value());  // replaces a stale handle
          return spec::JournalAttachOutcome{spec::JournalAttachError::None, id};
        } else if constexpr (std::is_same_v<T, spec::JournalTryRead>) {
          return outcome_of(handle(o.reader).try_read(out), out);
        } else if constexpr (std::is_same_v<T, spec::JournalRead>) {
          return outcome_of(handle(o.reader).read(out, now), out);
        } else if constexpr (std::is_same_v<T, spec::JournalCommit>) {
          if (sut.defect == Defect::CommitNotPublished) return spec::JournalCallOutcome{handle(o.reader).heartbeat()};
          return spec::JournalCallOutcome{handle(o.reader).commit()};
        } else if constexpr (std::is_same_v<T, spec::JournalReadAt>) {
          if (sut.defect == Defect::ReadAtWithoutRevalidation) return outcome_of(read_at_without_revalidation(sut.ref, o.seq, out), out);
          return outcome_of(handle(o.reader).read_at(o.seq, out), out);
        } else if constexpr (std::is_same_v<T, spec::JournalHeartbeat>) {
          return spec::JournalCallOutcome{handle(o.reader).heartbeat()};
        } else if constexpr (std::is_same_v<T, spec::JournalDetach>) {
          handle(o.reader).detach();
          sut.readers[o.reader].reset();
          return spec::JournalDoneOutcome{};
        } else {
          static_assert(std::is_same_v<T, spec::JournalAdvanceTime>);
          *sut.clock_ns += o.ns;
          return spec::JournalDoneOutcome{};
        }
      },
      op);
}

// The lane's shared words must say what the model's state says.
void check_lane_words(const Model& m, const Sut& sut) {
  const RingLaneHeader& h = *sut.ref.header;
  RC_ASSERT(h.write_seq == m.written);
  RC_ASSERT((h.closed != 0) == m.closed);
  RC_ASSERT(h.eviction_count == m.eviction_count);
  for (std::uint32_t i = 0; i < m.readers.size(); ++i) {
    const spec::JournalReaderRecord& want = m.readers[i];
    const ReaderRecord& got = sut.ref.readers[i];
    RC_ASSERT(got.state == static_cast<std::uint32_t>(want.state));
    RC_ASSERT(got.cursor_seq == want.cursor_seq);
    RC_ASSERT(got.read_count == want.read_count);
    RC_ASSERT(got.lost_count == want.lost_count);
    RC_ASSERT(got.heartbeat_ns == want.heartbeat_ns);
    RC_ASSERT(std::string(got.name, strnlen(got.name, kReaderNameBytes)) == want.name);
    RC_ASSERT(sut.readers[i].has_value() == want.has_handle);
    if (want.has_handle && want.state == spec::JournalReaderState::Attached) {
      RC_ASSERT(sut.readers[i]->next_seq() == want.next_seq);
    }
  }
}

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
    const spec::JournalResult got = execute(sut, op(), s.config.slot_payload_bytes);
    RC_ASSERT(got == expected);
    check_lane_words(after, sut);
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

void check_lane_against_model(const spec::JournalConfig& config, Defect defect = Defect::None) {
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
class JournalPropertyCatches : public ::testing::TestWithParam<Defect> {};

TEST_P(JournalPropertyCatches, BrokenLane) {  // JR-5, JR-7
  const Defect defect = GetParam();
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
                         ::testing::Values(Defect::ReadAtWithoutRevalidation, Defect::CommitNotPublished),
                         [](const ::testing::TestParamInfo<Defect>& param_info) {
                           return param_info.param == Defect::ReadAtWithoutRevalidation
                                      ? std::string("ReadAtWithoutRevalidation")
                                      : std::string("CommitNotPublished");
                         });

}  // namespace
}  // namespace indexbus::conformance

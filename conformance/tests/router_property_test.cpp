// RapidCheck: routers and merges on real lanes against the models (RT-*, MG-*).
//
// A case is a configuration (policy, lane counts, capacities, Block or Drop per lane, key offset)
// and a random program of actions interleaving the producers, the loop's steps and the consumers:
// try_write on an input, step(), try_read on an output, close an input. Every action runs on the
// real lanes and loop and on the model (spec/router_model, spec/merge_model, which compose the
// Events model); results, loop statuses and loop counters must be equal. Every program ends with
// close, steps and a full drain, so close propagation is always checked. Arrival is checked with
// spec::check_arrival (interleaving that keeps each input's order, starvation bound N).
// A failure prints RapidCheck's seed and the shrunk program; replay with RC_PARAMS="seed=<seed>"
// (or the printed reproduce string), e.g.
//   RC_PARAMS="seed=1" build/release/conformance/tests/router_property_test --gtest_filter='RouterVsModel.*'
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <vector>

#include "indexbus/merge.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/router.hpp"
#include "indexbus/spec/merge_model.hpp"
#include "indexbus/spec/router_model.hpp"
#include "broken_loop_hooks.hpp"
#include "loop_lanes.hpp"

namespace indexbus {
namespace {

constexpr std::uint32_t kSlotBytes = 16;
constexpr std::uint32_t kFinalRoundsMax = 256;  // close-and-drain rounds; each makes progress

struct Action {
  enum Kind : std::uint8_t { Write, Step, Read, Close } kind = Step;
  std::uint32_t lane = 0;    // input (Write, Close) or output (Read), modulo the count
  std::uint64_t key = 0;     // small, so that Sequence sees ties
  std::uint32_t length = 0;  // payload bytes (router programs only; merges write whole entries)
};

std::ostream& operator<<(std::ostream& os, const Action& a) {
  static const char* const kNames[] = {"write", "step", "read", "close"};
  return os << kNames[a.kind] << "(lane " << a.lane << ", key " << a.key << ", " << a.length << " B)";
}

rc::Gen<Action> action_gen() {
  return rc::gen::map(rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::inRange<std::uint32_t>(0, 16),
                                     rc::gen::inRange<std::uint64_t>(0, 4), rc::gen::inRange<std::uint32_t>(0, kSlotBytes + 1)),
                      [](const std::tuple<int, std::uint32_t, std::uint64_t, std::uint32_t>& t) {
                        const int roll = std::get<0>(t);
                        const Action::Kind kind = roll < 35   ? Action::Write
                                                  : roll < 68 ? Action::Step
                                                  : roll < 98 ? Action::Read
                                                              : Action::Close;
                        return Action{kind, std::get<1>(t), std::get<2>(t), std::get<3>(t)};
                      });
}

// Key in bytes [0, 8), a unique tag (input << 32 | serial) in [8, 16), cut to `length`.
spec::Bytes make_payload(std::uint64_t key, std::uint64_t tag, std::uint32_t length) {
  std::array<std::byte, 16> whole{};
  std::memcpy(whole.data(), &key, 8);
  std::memcpy(whole.data() + 8, &tag, 8);
  return spec::Bytes(whole.begin(), whole.begin() + length);
}

spec::EventsConfig lane_config(std::uint32_t capacity, OnFull on_full) { return {capacity, kSlotBytes, on_full}; }
testing::EventsLaneSpec lane_spec(const spec::EventsConfig& c) { return {c.on_full, c.capacity_slots, c.slot_payload_bytes}; }

spec::EventsConfig generate_lane(bool allow_drop) {
  const auto capacity = *rc::gen::element<std::uint32_t>(1, 2, 4);
  const auto on_full = allow_drop ? *rc::gen::element(OnFull::Block, OnFull::Block, OnFull::Drop) : OnFull::Block;
  return lane_config(capacity, on_full);
}

void assert_read_equal(const ReadResult& got, std::span<const std::byte> out, const spec::ReadOutcome& want) {
  RC_ASSERT(got.status == want.status);
  if (want.status == ReadStatus::Entry) {
    RC_ASSERT(got.seq == want.seq);
    RC_ASSERT(got.payload_bytes == want.payload.size());
    // An empty payload's data() may be null, which memcmp must not see (and RC_ASSERT's expression
    // capture does not short-circuit ||).
    const bool same_bytes =
        want.payload.empty() || std::memcmp(out.data(), want.payload.data(), want.payload.size()) == 0;
    RC_ASSERT(same_bytes);
  }
  if (want.status == ReadStatus::Lost) RC_ASSERT(got.lost_count == want.lost_count);
}

template <typename Want>
spec::ReadOutcome model_read(Want& lane) {
  auto [next, result] = spec::step(lane, spec::TryRead{});
  lane = std::move(next);
  return std::get<spec::ReadOutcome>(result);
}

template <typename Want>
WriteStatus model_write(Want& lane, const spec::Bytes& payload) {
  auto [next, result] = spec::step(lane, spec::TryWrite{payload});
  lane = std::move(next);
  return std::get<spec::WriteOutcome>(result).status;
}

// ---- Router ----------------------------------------------------------------------------------

template <typename Hooks = DefaultLoopHooks>
void check_router(spec::RouterPolicy policy) {
  const auto output_count = *rc::gen::element<std::uint32_t>(1, 2, 3);
  const spec::EventsConfig input = generate_lane(true);
  std::vector<spec::EventsConfig> outputs;
  for (std::uint32_t o = 0; o < output_count; ++o) outputs.push_back(generate_lane(true));
  const auto key_offset = *rc::gen::element<std::uint32_t>(0, 4, 8);
  const auto program = *rc::gen::container<std::vector<Action>>(action_gen());
  RC_TAG(spec::describe(policy), to_string(input.on_full), output_count);

  std::vector<testing::EventsLaneSpec> specs{lane_spec(input)};
  for (const auto& o : outputs) specs.push_back(lane_spec(o));
  testing::LoopLanes lanes(specs, "rtprop");
  RealPlatform platform(WaitStrategy::Spin);
  EventsProducer producer(platform, lanes.ref(0));
  std::vector<EventsLaneRef> output_refs;
  std::vector<std::unique_ptr<EventsConsumer<RealPlatform>>> consumers;
  for (std::uint32_t o = 0; o < output_count; ++o) {
    output_refs.push_back(lanes.ref(1 + o));
    consumers.push_back(std::make_unique<EventsConsumer<RealPlatform>>(platform, lanes.ref(1 + o)));
  }
  Router<RealPlatform, Hooks> router(platform, lanes.ref(0), output_refs, static_cast<RouterPolicy>(policy), key_offset);
  spec::RouterSystem model = spec::initial_router_system({policy, output_count, key_offset}, input, outputs);

  std::array<std::byte, kSlotBytes> out{};
  std::uint64_t serial = 0;
  const auto step_both = [&] {
    auto [next, want] = spec::router_step(model);
    model = std::move(next);
    const LoopStatus got = router.step();
    RC_ASSERT(static_cast<int>(got) == static_cast<int>(want));
    RC_ASSERT(router.stats().routed_count == model.routed_count);
    RC_ASSERT(router.stats().input_lost_count == model.input_lost_count);
    RC_ASSERT(router.stats().short_key_count == model.short_key_count);
    return want;
  };
  const auto read_both = [&](std::uint32_t o) {
    const spec::ReadOutcome want = model_read(model.outputs[o]);
    assert_read_equal(consumers[o]->try_read(out), out, want);
    return want.status;
  };
  for (const Action& a : program) {
    switch (a.kind) {
      case Action::Write: {
        const spec::Bytes payload = make_payload(a.key, serial++, a.length);
        RC_ASSERT(producer.try_write(payload) == model_write(model.input, payload));
        break;
      }
      case Action::Step: step_both(); break;
      case Action::Read: read_both(a.lane % output_count); break;
      case Action::Close:
        producer.close();
        model.input = spec::step(model.input, spec::Close{}).first;
        break;
    }
  }
  // Close, then step and drain until every output reads Closed (RT-10).
  producer.close();
  model.input = spec::step(model.input, spec::Close{}).first;
  std::uint32_t closed_outputs = 0;
  for (std::uint32_t round = 0; round < kFinalRoundsMax && closed_outputs < output_count; ++round) {
    step_both();
    closed_outputs = 0;
    for (std::uint32_t o = 0; o < output_count; ++o) {
      ReadStatus status = ReadStatus::Entry;
      for (std::uint32_t k = 0; k <= kSlotBytes && (status == ReadStatus::Entry || status == ReadStatus::Lost); ++k) {
        status = read_both(o);
      }
      if (status == ReadStatus::Closed) ++closed_outputs;
    }
  }
  RC_ASSERT(closed_outputs == output_count);
}

RC_GTEST_PROP(RouterVsModel, RoundRobin, ()) { check_router(spec::RouterPolicy::RoundRobin); }
RC_GTEST_PROP(RouterVsModel, KeyHash, ()) { check_router(spec::RouterPolicy::KeyHash); }
RC_GTEST_PROP(RouterVsModel, Broadcast, ()) { check_router(spec::RouterPolicy::Broadcast); }

// ---- Merge -----------------------------------------------------------------------------------

struct MergeRun {
  std::vector<std::vector<spec::Bytes>> written;              // per input, entries accepted
  std::vector<std::vector<std::uint64_t>> published_at_emit;  // per input entry: emits made then
  std::vector<spec::Bytes> output;                            // entries read from the output
  std::vector<std::uint32_t> sources;                         // input of each output entry
};

// The exact model for RoundRobin and Sequence; for Arrival only the lanes' own behaviour is
// compared step by step (through the Events model of each lane would need the merge's choice), so
// Arrival records what it needs for check_arrival instead.
template <typename Hooks = DefaultLoopHooks>
MergeRun run_merge(spec::MergePolicy policy) {
  const bool exact = policy != spec::MergePolicy::Arrival;
  const auto input_count = *rc::gen::element<std::uint32_t>(1, 2, 3);
  std::vector<spec::EventsConfig> inputs;
  for (std::uint32_t i = 0; i < input_count; ++i) inputs.push_back(generate_lane(exact));
  const spec::EventsConfig output = generate_lane(exact);
  const auto program = *rc::gen::container<std::vector<Action>>(action_gen());
  RC_TAG(spec::describe(policy), input_count);

  std::vector<testing::EventsLaneSpec> specs;
  for (const auto& i : inputs) specs.push_back(lane_spec(i));
  specs.push_back(lane_spec(output));
  testing::LoopLanes lanes(specs, "mgprop");
  RealPlatform platform(WaitStrategy::Spin);
  std::vector<std::unique_ptr<EventsProducer<RealPlatform>>> producers;
  std::vector<EventsLaneRef> input_refs;
  for (std::uint32_t i = 0; i < input_count; ++i) {
    input_refs.push_back(lanes.ref(i));
    producers.push_back(std::make_unique<EventsProducer<RealPlatform>>(platform, lanes.ref(i)));
  }
  EventsConsumer consumer(platform, lanes.ref(input_count));
  Merge<RealPlatform, Hooks> merge(platform, input_refs, lanes.ref(input_count), static_cast<MergePolicy>(policy));
  spec::MergeSystem model = spec::initial_merge_system({policy, input_count, 0}, inputs, output);

  MergeRun run;
  run.written.resize(input_count);
  run.published_at_emit.resize(input_count);
  std::array<std::byte, kSlotBytes> out{};
  std::vector<std::uint64_t> serial(input_count, 0);
  const auto write_both = [&](std::uint32_t i, std::uint64_t key) {
    const spec::Bytes payload = make_payload(key, (std::uint64_t{i} << 32) | serial[i]++, kSlotBytes);
    const WriteStatus got = producers[i]->try_write(payload);
    if (exact) RC_ASSERT(got == model_write(model.inputs[i], payload));
    if (got == WriteStatus::Ok) {
      run.written[i].push_back(payload);
      run.published_at_emit[i].push_back(merge.stats().emitted_count);
    }
  };
  const auto close_both = [&](std::uint32_t i) {
    producers[i]->close();
    if (exact) model.inputs[i] = spec::step(model.inputs[i], spec::Close{}).first;
  };
  const auto step_both = [&] {
    const LoopStatus got = merge.step();
    if (!exact) return;
    auto [next, want] = spec::merge_step(model);
    model = std::move(next);
    RC_ASSERT(static_cast<int>(got) == static_cast<int>(want));
    RC_ASSERT(merge.stats().emitted_count == model.emitted_count);
    RC_ASSERT(merge.stats().input_lost_count == model.input_lost_count);
  };
  const auto read_both = [&] {
    const ReadResult got = consumer.try_read(out);
    if (exact) assert_read_equal(got, out, model_read(model.output));
    if (got.status == ReadStatus::Entry) {
      run.output.emplace_back(out.begin(), out.begin() + got.payload_bytes);
      std::uint64_t tag = 0;
      std::memcpy(&tag, out.data() + 8, 8);
      run.sources.push_back(static_cast<std::uint32_t>(tag >> 32));
    }
    return got.status;
  };
  for (const Action& a : program) {
    switch (a.kind) {
      case Action::Write: write_both(a.lane % input_count, a.key); break;
      case Action::Step: step_both(); break;
      case Action::Read: read_both(); break;
      case Action::Close: close_both(a.lane % input_count); break;
    }
  }
  for (std::uint32_t i = 0; i < input_count; ++i) close_both(i);
  bool closed = false;
  for (std::uint32_t round = 0; round < kFinalRoundsMax && !closed; ++round) {
    step_both();
    ReadStatus status = ReadStatus::Entry;
    for (std::uint32_t k = 0; k <= kSlotBytes && (status == ReadStatus::Entry || status == ReadStatus::Lost); ++k) {
      status = read_both();
    }
    closed = status == ReadStatus::Closed;
  }
  RC_ASSERT(closed);  // MG-9
  return run;
}

template <typename Hooks = DefaultLoopHooks>
void check_merge_arrival() {
  const MergeRun run = run_merge<Hooks>(spec::MergePolicy::Arrival);
  const auto violation = spec::check_arrival(run.written, run.output, run.sources, run.published_at_emit, true);
  if (violation) RC_FAIL(*violation);
}

RC_GTEST_PROP(MergeVsModel, RoundRobin, ()) { run_merge(spec::MergePolicy::RoundRobin); }
RC_GTEST_PROP(MergeVsModel, Sequence, ()) { run_merge(spec::MergePolicy::Sequence); }
RC_GTEST_PROP(MergeArrival, InterleavingWithinBound, ()) { check_merge_arrival(); }

// ---- Broken loops (broken_loop_hooks.hpp): each must fail its property -----------------------------

using testing::ArrivalFavoursInputZero;
using testing::RoundRobinSkipsAnOutput;
using testing::RouterDiscardsOnFull;
using testing::RouterNeverCloses;
using testing::SequenceEmitsEarly;

class QuietListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

struct BrokenCase {
  const char* name;
  void (*property)();
};

// gtest names the case by this instead of dumping the struct's bytes.
void PrintTo(const BrokenCase& broken, std::ostream* os) { *os << broken.name; }

class LoopPropertyCatches : public ::testing::TestWithParam<BrokenCase> {};

// Seeded and unshrunk, through a quiet listener so the expected failures stay out of the log.
TEST_P(LoopPropertyCatches, Broken) {
  const BrokenCase broken = GetParam();
  rc::detail::TestParams params;
  params.seed = 20261126;
  params.maxSuccess = 300;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("LoopPropertyCatches/") + broken.name;
  QuietListener listener;
  const auto result = rc::detail::checkProperty(rc::detail::toProperty(broken.property), metadata, params, listener);
  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << broken.name << " passed the property (seed " << params.seed << ")";
  std::printf("%s caught after %d passing cases (seed %llu): %s\n", broken.name, failure.numSuccess,
              static_cast<unsigned long long>(params.seed), failure.description.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    LoopDefects, LoopPropertyCatches,
    ::testing::Values(
        BrokenCase{"RoundRobinSkipsAnOutput", [] { check_router<RoundRobinSkipsAnOutput>(spec::RouterPolicy::RoundRobin); }},
        BrokenCase{"RouterDiscardsOnFull", [] { check_router<RouterDiscardsOnFull>(spec::RouterPolicy::Broadcast); }},
        BrokenCase{"RouterNeverCloses", [] { check_router<RouterNeverCloses>(spec::RouterPolicy::KeyHash); }},
        BrokenCase{"SequenceEmitsEarly", [] { run_merge<SequenceEmitsEarly>(spec::MergePolicy::Sequence); }},
        BrokenCase{"ArrivalFavoursInputZero", [] { check_merge_arrival<ArrivalFavoursInputZero>(); }}),
    [](const ::testing::TestParamInfo<BrokenCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace indexbus

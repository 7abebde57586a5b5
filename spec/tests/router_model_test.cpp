// The router and merge models on their own (RT-*, MG-*): each rule checked directly.
#include <gtest/gtest.h>

#include "indexbus/spec/merge_model.hpp"
#include "indexbus/spec/router_model.hpp"

namespace indexbus::spec {
namespace {

Bytes keyed(std::uint64_t key, std::size_t size = 8) {
  Bytes out(size);
  for (std::size_t b = 0; b < size && b < 8; ++b) out[b] = static_cast<std::byte>(key >> (8 * b));
  return out;
}

ReadOutcome read(EventsState& lane) {
  auto [next, result] = step(lane, TryRead{});
  lane = std::move(next);
  return std::get<ReadOutcome>(result);
}

WriteStatus write(EventsState& lane, const Bytes& payload) {
  auto [next, result] = step(lane, TryWrite{payload});
  lane = std::move(next);
  return std::get<WriteOutcome>(result).status;
}

LoopStatus run(RouterSystem& s) {
  auto [next, status] = router_step(s);
  s = std::move(next);
  return status;
}

LoopStatus run(MergeSystem& s) {
  auto [next, status] = merge_step(s);
  s = std::move(next);
  return status;
}

TEST(RouterModel, KeyMixTestVectors) {  // RT-3: the vectors printed in v1-semantics.md
  EXPECT_EQ(key_mix64(0), 0u);
  EXPECT_EQ(key_mix64(1), 0x5692161d100b05e5ull);
  EXPECT_EQ(key_mix64(0x0123456789abcdefull), 0xb2c058e4ebb5112cull);
  EXPECT_EQ(key_mix64(0xffffffffffffffffull), 0xb4d055fcf2cbbd7bull);
  const RouterModelConfig config{RouterPolicy::KeyHash, 3, 0};
  EXPECT_EQ(route_targets(config, keyed(1), 0), std::vector<std::uint32_t>{1});
  EXPECT_EQ(route_targets(config, keyed(0xffffffffffffffffull), 7), std::vector<std::uint32_t>{0});
}

TEST(RouterModel, ShortPayloadKeyIsZeroExtended) {  // RT-4
  const Bytes three = {std::byte{0x01}, std::byte{0x02}, std::byte{0x03}};
  EXPECT_EQ(entry_key(three, 0), 0x030201u);
  EXPECT_EQ(entry_key(three, 1), 0x0302u);
  EXPECT_EQ(entry_key(three, 3), 0u);
  EXPECT_EQ(entry_key(three, 100), 0u);
  EXPECT_TRUE(key_is_short(three, 0));
  EXPECT_FALSE(key_is_short(keyed(5, 16), 8));
  EXPECT_EQ(entry_key(keyed(0x1122334455667788ull, 8), 0), 0x1122334455667788ull);
}

TEST(RouterModel, RoundRobinCycles) {  // RT-2
  const std::vector<Bytes> entries(7, keyed(9));
  const auto routed = route({RouterPolicy::RoundRobin, 3, 0}, entries);
  EXPECT_EQ(routed[0], (std::vector<std::uint64_t>{0, 3, 6}));
  EXPECT_EQ(routed[1], (std::vector<std::uint64_t>{1, 4}));
  EXPECT_EQ(routed[2], (std::vector<std::uint64_t>{2, 5}));
}

TEST(RouterModel, BroadcastEveryOutput) {  // RT-5
  const auto routed = route({RouterPolicy::Broadcast, 2, 0}, std::vector<Bytes>(3, keyed(1)));
  EXPECT_EQ(routed[0], (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(routed[1], routed[0]);
}

TEST(RouterModel, BlockHoldsOneEntry) {  // RT-7: a full output stops the router; the input fills
  const EventsConfig lane{2, 8, OnFull::Block};
  RouterSystem s = initial_router_system({RouterPolicy::RoundRobin, 1, 0}, lane, {lane});
  for (std::uint64_t k = 0; k < 2; ++k) ASSERT_EQ(write(s.input, keyed(k)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(run(s), LoopStatus::Progress);  // output full now
  for (std::uint64_t k = 2; k < 4; ++k) ASSERT_EQ(write(s.input, keyed(k)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);  // reads entry 2, cannot write it: held
  ASSERT_TRUE(s.held.has_value());
  EXPECT_EQ(run(s), LoopStatus::Idle);  // holds it and reads nothing more
  ASSERT_EQ(write(s.input, keyed(4)), WriteStatus::Ok);
  EXPECT_EQ(write(s.input, keyed(5)), WriteStatus::Full);  // backpressure reached the producer
  EXPECT_EQ(read(s.outputs[0]).payload, keyed(0));
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_FALSE(s.held.has_value());
}

TEST(RouterModel, DropNeverHolds) {  // RT-8
  const EventsConfig in{4, 8, OnFull::Block};
  const EventsConfig out{1, 8, OnFull::Drop};
  RouterSystem s = initial_router_system({RouterPolicy::Broadcast, 2, 0}, in, {out, out});
  for (std::uint64_t k = 0; k < 3; ++k) {
    ASSERT_EQ(write(s.input, keyed(k)), WriteStatus::Ok);
    EXPECT_EQ(run(s), LoopStatus::Progress);
    EXPECT_FALSE(s.held.has_value());
  }
  const auto lost = read(s.outputs[1]);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 2u);
  EXPECT_EQ(read(s.outputs[1]).payload, keyed(2));
}

TEST(RouterModel, InputLostCountedNotForwarded) {  // RT-9
  const EventsConfig in{1, 8, OnFull::Drop};
  const EventsConfig out{4, 8, OnFull::Block};
  RouterSystem s = initial_router_system({RouterPolicy::RoundRobin, 2, 0}, in, {out, out});
  for (std::uint64_t k = 0; k < 3; ++k) ASSERT_EQ(write(s.input, keyed(k)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(s.input_lost_count, 2u);
  EXPECT_EQ(s.routed_count, 0u);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(read(s.outputs[0]).payload, keyed(2));  // the first entry routed goes to output 0
}

TEST(RouterModel, ClosePropagates) {  // RT-10
  const EventsConfig lane{2, 8, OnFull::Block};
  RouterSystem s = initial_router_system({RouterPolicy::RoundRobin, 2, 0}, lane, {lane, lane});
  ASSERT_EQ(write(s.input, keyed(1)), WriteStatus::Ok);
  s.input = step(s.input, Close{}).first;
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_FALSE(s.outputs[0].closed);
  EXPECT_EQ(run(s), LoopStatus::Closed);
  EXPECT_TRUE(s.outputs[0].closed);
  EXPECT_TRUE(s.outputs[1].closed);
  EXPECT_EQ(read(s.outputs[0]).status, ReadStatus::Entry);
  EXPECT_EQ(read(s.outputs[0]).status, ReadStatus::Closed);
  EXPECT_EQ(run(s), LoopStatus::Closed);
}

TEST(MergeModel, RoundRobinStrictCycle) {  // MG-3
  const std::vector<std::vector<Bytes>> inputs = {{keyed(1), keyed(2), keyed(3)}, {keyed(4)}, {keyed(5), keyed(6)}};
  const auto order = merge_order({MergePolicy::RoundRobin, 3, 0}, inputs);
  const std::vector<MergeSource> expected = {{0, 0}, {1, 0}, {2, 0}, {0, 1}, {2, 1}, {0, 2}};
  EXPECT_EQ(order, expected);
  // Step by step: input 1 has nothing yet, so the merge waits for it though input 0 has more.
  const EventsConfig lane{4, 8, OnFull::Block};
  MergeSystem s = initial_merge_system({MergePolicy::RoundRobin, 2, 0}, {lane, lane}, lane);
  ASSERT_EQ(write(s.inputs[0], keyed(1)), WriteStatus::Ok);
  ASSERT_EQ(write(s.inputs[0], keyed(2)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(run(s), LoopStatus::Idle);
  EXPECT_EQ(s.emitted_count, 1u);
}

TEST(MergeModel, SequenceWaitsForEveryOpenInput) {  // MG-4
  const EventsConfig lane{4, 8, OnFull::Block};
  MergeSystem s = initial_merge_system({MergePolicy::Sequence, 2, 0}, {lane, lane}, lane);
  ASSERT_EQ(write(s.inputs[0], keyed(10)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);  // takes the head only
  EXPECT_EQ(run(s), LoopStatus::Idle);
  EXPECT_EQ(s.emitted_count, 0u);
  ASSERT_EQ(write(s.inputs[1], keyed(3)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(read(s.output).payload, keyed(3));
  s.inputs[1] = step(s.inputs[1], Close{}).first;
  EXPECT_EQ(run(s), LoopStatus::Progress);  // input 1 closed: input 0's head may go now
  EXPECT_EQ(read(s.output).payload, keyed(10));
}

TEST(MergeModel, SequenceTieBreakByIndex) {  // MG-5
  const std::vector<std::vector<Bytes>> inputs = {{keyed(2), keyed(5)}, {keyed(2), keyed(3)}};
  const auto order = merge_order({MergePolicy::Sequence, 2, 0}, inputs);
  const std::vector<MergeSource> expected = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  EXPECT_EQ(order, expected);
}

TEST(MergeModel, LostDoesNotConsumeATurn) {  // MG-8
  const EventsConfig drop{1, 8, OnFull::Drop};
  const EventsConfig lane{4, 8, OnFull::Block};
  MergeSystem s = initial_merge_system({MergePolicy::RoundRobin, 2, 0}, {drop, lane}, lane);
  ASSERT_EQ(write(s.inputs[0], keyed(1)), WriteStatus::Ok);
  ASSERT_EQ(write(s.inputs[0], keyed(2)), WriteStatus::Ok);
  ASSERT_EQ(write(s.inputs[1], keyed(7)), WriteStatus::Ok);
  EXPECT_EQ(run(s), LoopStatus::Progress);  // Lost{1} on input 0: still its turn
  EXPECT_EQ(s.input_lost_count, 1u);
  EXPECT_EQ(s.emitted_count, 0u);
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_EQ(read(s.output).payload, keyed(2));
}

TEST(MergeModel, ClosePropagatesWhenAllClosed) {  // MG-9
  const EventsConfig lane{4, 8, OnFull::Block};
  MergeSystem s = initial_merge_system({MergePolicy::Arrival, 2, 0}, {lane, lane}, lane);
  s.inputs[0] = step(s.inputs[0], Close{}).first;
  EXPECT_EQ(run(s), LoopStatus::Progress);
  EXPECT_FALSE(s.output.closed);
  s.inputs[1] = step(s.inputs[1], Close{}).first;
  EXPECT_EQ(run(s), LoopStatus::Closed);
  EXPECT_TRUE(s.output.closed);
}

TEST(MergeModel, ArrivalCheckerAcceptsInterleaving) {  // MG-6
  const std::vector<std::vector<Bytes>> inputs = {{keyed(1), keyed(2)}, {keyed(3)}};
  EXPECT_EQ(check_arrival(inputs, {keyed(3), keyed(1), keyed(2)}, {1, 0, 0}, {}, true), std::nullopt);
  EXPECT_EQ(check_arrival(inputs, {keyed(1), keyed(3), keyed(2)}, {0, 1, 0}, {{0, 0}, {0}}, true), std::nullopt);
}

TEST(MergeModel, ArrivalCheckerRejectsReorder) {  // MG-6: the checker can fail
  const std::vector<std::vector<Bytes>> inputs = {{keyed(1), keyed(2)}, {keyed(3)}};
  EXPECT_NE(check_arrival(inputs, {keyed(2), keyed(1), keyed(3)}, {0, 0, 1}, {}, true), std::nullopt);
  EXPECT_NE(check_arrival(inputs, {keyed(1), keyed(3)}, {0, 1}, {}, true), std::nullopt);  // incomplete
  EXPECT_EQ(check_arrival(inputs, {keyed(1), keyed(3)}, {0, 1}, {}, false), std::nullopt);
}

TEST(MergeModel, ArrivalCheckerRejectsStarvation) {  // MG-6: N = 2, input 1 ready at emit 0
  const std::vector<std::vector<Bytes>> inputs = {{keyed(1), keyed(2), keyed(4)}, {keyed(3)}};
  const std::vector<std::vector<std::uint64_t>> published = {{0, 0, 0}, {0}};
  EXPECT_EQ(check_arrival(inputs, {keyed(1), keyed(3), keyed(2), keyed(4)}, {0, 1, 0, 0}, published, true),
            std::nullopt);
  EXPECT_NE(check_arrival(inputs, {keyed(1), keyed(2), keyed(3), keyed(4)}, {0, 0, 1, 0}, published, true),
            std::nullopt);
}

}  // namespace
}  // namespace indexbus::spec

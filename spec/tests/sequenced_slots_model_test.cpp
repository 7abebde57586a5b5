// Each SS-* rule checked directly on the model's sequenced_step(), without a real lane.
#include "indexbus/spec/sequenced_slots_model.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_set>

namespace indexbus::spec {
namespace {

Bytes bytes_of(std::uint8_t value, std::size_t size = 8) { return Bytes(size, static_cast<std::byte>(value)); }

struct Driver {
  SequencedState state;
  SequencedResult last;
  explicit Driver(SequencedConfig config) : state(sequenced_initial_state(config)) {}
  SequencedResult run(const SequencedOp& op) {
    EXPECT_TRUE(sequenced_op_allowed(state, op)) << describe(op);
    auto [next, result] = sequenced_step(state, op);
    state = std::move(next);
    const auto broken = check_invariants(state);
    EXPECT_FALSE(broken.has_value()) << *broken << " after " << describe(op);
    return result;
  }
  WriteStatus write(std::uint8_t value) {
    const auto claimed = std::get<SeqClaimOutcome>(run(SeqTryClaim{}));
    if (claimed.status != WriteStatus::Ok) return claimed.status;
    return std::get<SeqPublishOutcome>(run(SeqPublish{bytes_of(value)})).status;
  }
  ReadOutcome read(std::uint32_t consumer) { return std::get<ReadOutcome>(run(SeqTryRead{consumer})); }
};

TEST(SequencedModel, GatingGraphRules) {  // SS-3
  EXPECT_FALSE(check_gating_graph({0}).has_value());
  EXPECT_FALSE(check_gating_graph({0, 0b1, 0b10}).has_value());        // pipeline 0 -> 1 -> 2
  EXPECT_FALSE(check_gating_graph({0, 0b1, 0b1, 0b110}).has_value());  // diamond
  EXPECT_TRUE(check_gating_graph({0b1}).has_value());                  // self
  EXPECT_TRUE(check_gating_graph({0b100, 0}).has_value());             // out of range
  EXPECT_TRUE(check_gating_graph({0b10, 0b1}).has_value());            // 2-cycle
  EXPECT_TRUE(check_gating_graph({0b100, 0b1, 0b10}).has_value());     // 3-cycle
  EXPECT_TRUE(check_gating_graph({}).has_value());
  EXPECT_EQ(leaf_consumers(SequencedConfig{4, 8, OnFull::Block, {0, 0b1, 0b10}}), 0b100u);
  EXPECT_EQ(leaf_consumers(SequencedConfig{4, 8, OnFull::Block, {0, 0b1, 0b1, 0b110}}), 0b1000u);
  EXPECT_EQ(leaf_consumers(SequencedConfig{4, 8, OnFull::Block, {0, 0}}), 0b11u);
}

TEST(SequencedModel, PipelineGatesEachStageOnTheLast) {  // SS-4, SS-5
  Driver d(SequencedConfig{4, 8, OnFull::Block, {0, 0b1, 0b10}});
  ASSERT_EQ(d.write(7), WriteStatus::Ok);
  EXPECT_EQ(d.read(2).status, ReadStatus::Empty);  // consumer 1 has not finished 0
  EXPECT_EQ(d.read(1).status, ReadStatus::Empty);  // consumer 0 has not finished 0
  const auto first = d.read(0);
  EXPECT_EQ(first.status, ReadStatus::Entry);
  EXPECT_EQ(first.seq, 0u);
  EXPECT_EQ(first.payload, bytes_of(7));
  EXPECT_EQ(d.read(2).status, ReadStatus::Empty);
  EXPECT_EQ(d.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(2).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(2).status, ReadStatus::Empty);
}

TEST(SequencedModel, BlockProducerWaitsForLeavesOnly) {  // SS-6, SS-7
  Driver d(SequencedConfig{2, 8, OnFull::Block, {0, 0b1}});
  ASSERT_EQ(d.write(1), WriteStatus::Ok);
  ASSERT_EQ(d.write(2), WriteStatus::Ok);
  EXPECT_EQ(d.write(3), WriteStatus::Full);
  EXPECT_EQ(std::get<SeqClaimOutcome>(d.run(SeqClaim{})).status, WriteStatus::Timeout);
  // The upstream consumer finishing everything frees nothing: the leaf has not read.
  EXPECT_EQ(d.read(0).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(0).status, ReadStatus::Entry);
  EXPECT_EQ(d.write(3), WriteStatus::Full);
  EXPECT_EQ(d.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(d.write(3), WriteStatus::Ok);
}

TEST(SequencedModel, ClaimTwiceIsTheSameSlotAndTooLargeKeepsTheClaim) {  // SS-2
  Driver d(SequencedConfig{1, 8, OnFull::Block, {0}});
  EXPECT_EQ(std::get<SeqClaimOutcome>(d.run(SeqTryClaim{})), (SeqClaimOutcome{WriteStatus::Ok, 0}));
  EXPECT_EQ(std::get<SeqClaimOutcome>(d.run(SeqTryClaim{})), (SeqClaimOutcome{WriteStatus::Ok, 0}));
  EXPECT_EQ(d.read(0).status, ReadStatus::Empty);  // claimed is not published
  EXPECT_EQ(std::get<SeqPublishOutcome>(d.run(SeqPublish{bytes_of(1, 9)})).status, WriteStatus::TooLarge);
  EXPECT_TRUE(d.state.claimed);
  EXPECT_EQ(std::get<SeqPublishOutcome>(d.run(SeqPublish{Bytes{}})).status, WriteStatus::Ok);
  EXPECT_EQ(d.read(0).payload.size(), 0u);
  EXPECT_FALSE(sequenced_op_allowed(d.state, SeqPublish{}));
}

TEST(SequencedModel, DropClaimDestroysOldestAndLostIsUngated) {  // SS-8
  Driver d(SequencedConfig{2, 8, OnFull::Drop, {0, 0b1}});
  ASSERT_EQ(d.write(1), WriteStatus::Ok);
  ASSERT_EQ(d.write(2), WriteStatus::Ok);
  ASSERT_EQ(std::get<SeqClaimOutcome>(d.run(SeqTryClaim{})).status, WriteStatus::Ok);  // destroys 0
  EXPECT_EQ(oldest_held_seq(d.state), 1u);
  // Consumer 1 is gated on 0, but an overwritten entry is gone for everyone.
  const auto lost = d.read(1);
  EXPECT_EQ(lost.status, ReadStatus::Lost);
  EXPECT_EQ(lost.lost_count, 1u);
  EXPECT_EQ(d.read(1).status, ReadStatus::Empty);  // 1 is held, but consumer 0 has not finished it
  EXPECT_EQ(d.read(0).lost_count, 1u);
  EXPECT_EQ(d.read(0).seq, 1u);
  EXPECT_EQ(d.read(1).seq, 1u);
}

TEST(SequencedModel, CloseAbandonsClaimAndDrains) {  // SS-10
  Driver d(SequencedConfig{4, 8, OnFull::Block, {0, 0b1}});
  ASSERT_EQ(d.write(1), WriteStatus::Ok);
  ASSERT_EQ(std::get<SeqClaimOutcome>(d.run(SeqTryClaim{})).status, WriteStatus::Ok);
  d.run(SeqClose{});
  EXPECT_EQ(std::get<SeqPublishOutcome>(d.run(SeqPublish{bytes_of(2)})).status, WriteStatus::Closed);
  EXPECT_EQ(std::get<SeqClaimOutcome>(d.run(SeqClaim{})).status, WriteStatus::Closed);
  EXPECT_EQ(d.read(1).status, ReadStatus::Empty);  // closed, but its upstream has not finished 0
  EXPECT_EQ(d.read(0).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(0).status, ReadStatus::Closed);
  EXPECT_EQ(d.read(1).status, ReadStatus::Entry);
  EXPECT_EQ(d.read(1).status, ReadStatus::Closed);
}

SequencedOp random_op(std::mt19937& rng, int i) {
  const auto consumer = static_cast<std::uint32_t>(rng() % 4);
  switch (rng() % 6) {
    case 0: return SeqTryClaim{};
    case 1: return SeqClaim{};
    case 2: return SeqPublish{bytes_of(static_cast<std::uint8_t>(i), rng() % 10)};
    case 3:
      if (rng() % 40 == 0) return SeqClose{};
      return SeqTryRead{consumer};
    default: return SeqRead{consumer};
  }
}

// Random histories keep every invariant, equal states hash alike, and the refusals change nothing.
TEST(SequencedModel, RandomHistoriesKeepInvariants) {  // SS-11, SS-12
  const char* env = std::getenv("INDEXBUS_SEED");
  const auto seed = env != nullptr ? static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("seed %u; replay: INDEXBUS_SEED=%u spec_tests --gtest_filter=SequencedModel.RandomHistoriesKeepInvariants\n",
              seed, seed);
  std::mt19937 rng(seed);
  std::unordered_set<SequencedState> seen;
  for (int history = 0; history < 200; ++history) {
    const OnFull on_full = history % 2 == 0 ? OnFull::Block : OnFull::Drop;
    SequencedConfig config{1u << (rng() % 3), 8, on_full, {0, 0b1, 0b1, 0b110}};
    Driver d(config);
    for (int i = 0; i < 200; ++i) {
      const SequencedOp op = random_op(rng, i);
      if (!sequenced_op_allowed(d.state, op)) continue;
      const SequencedState before = d.state;
      const SequencedResult result = d.run(op);
      if (const auto* r = std::get_if<ReadOutcome>(&result); r != nullptr && r->status != ReadStatus::Entry &&
                                                              r->status != ReadStatus::Lost) {
        EXPECT_EQ(d.state, before) << describe(op);
      }
      if (on_full == OnFull::Block) {
        if (const auto* r = std::get_if<ReadOutcome>(&result)) {
          EXPECT_NE(r->status, ReadStatus::Lost);
        }
      }
      const SequencedState copy = d.state;
      EXPECT_EQ(hash_value(copy), hash_value(d.state));
      seen.insert(d.state);
    }
  }
  EXPECT_GT(seen.size(), 100u);
}

}  // namespace
}  // namespace indexbus::spec

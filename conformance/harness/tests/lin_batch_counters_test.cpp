// killed_reader_counters_match (lin_batch.cpp): the lane's counters of a consumer whose process
// was SIGKILLed with a read in flight, against the linearized model's. What that one read may
// legitimately leave passes; anything further apart fails.
#include <gtest/gtest.h>

#include "indexbus/harness/lin_batch.hpp"

namespace indexbus::harness {
namespace {

constexpr std::uint64_t kCapacity = 4;

bool match(std::uint64_t read, std::uint64_t lost, std::uint64_t model_read, std::uint64_t model_lost, OnFull on_full) {
  return killed_reader_counters_match(read, lost, model_read, model_lost, kCapacity, on_full);
}

TEST(KilledReaderCounters, EqualCountersMatch) {
  EXPECT_TRUE(match(86, 214, 86, 214, OnFull::Drop));
  EXPECT_TRUE(match(300, 0, 300, 0, OnFull::Block));
}

// Killed between its counter store and its cursor store: one operation counted twice.
TEST(KilledReaderCounters, OneOperationRepeatedMatches) {
  EXPECT_TRUE(match(87, 214, 86, 214, OnFull::Drop));  // an Entry
  EXPECT_TRUE(match(86, 219, 86, 214, OnFull::Drop));  // a Lost of 5
  EXPECT_TRUE(match(301, 0, 300, 0, OnFull::Block));
}

// Killed after its cursor store: the lane delivered the entry the linearization found lost (by
// a Lost of one), or lost the one the linearization delivered. Seen on
// Required.Fanout.BatchLinearizable.Drop.ConsumerKilled, seed 5: 87 / 213 against 86 / 214.
TEST(KilledReaderCounters, OneEntryDeliveredInsteadOfLostMatchesUnderDrop) {
  EXPECT_TRUE(match(87, 213, 86, 214, OnFull::Drop));
  EXPECT_TRUE(match(86, 214, 87, 213, OnFull::Drop));
}

TEST(KilledReaderCounters, FurtherApartFails) {
  // Under Block nothing is lost, so no entry can be counted either way.
  EXPECT_FALSE(match(87, 213, 86, 214, OnFull::Block));
  // Two entries swapped, or an Entry against a Lost of two: the cursors would differ.
  EXPECT_FALSE(match(88, 212, 86, 214, OnFull::Drop));
  EXPECT_FALSE(match(87, 212, 86, 214, OnFull::Drop));
  EXPECT_FALSE(match(86, 214, 87, 212, OnFull::Drop));
  // Two operations repeated, or one Entry and one Lost.
  EXPECT_FALSE(match(88, 214, 86, 214, OnFull::Drop));
  EXPECT_FALSE(match(87, 215, 86, 214, OnFull::Drop));
  EXPECT_FALSE(match(85, 216, 86, 214, OnFull::Drop));
}

}  // namespace
}  // namespace indexbus::harness

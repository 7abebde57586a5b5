// compare_step names the rule each mismatch breaks; execute and the generator do what they say.
#include "indexbus/conformance/differential.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace indexbus::conformance {
namespace {

using spec::Bytes;

std::set<std::string> failed_rules(const std::vector<Check>& checks) {
  std::set<std::string> out;
  for (const Check& c : checks) {
    if (!c.passed) out.insert(std::string(c.rule_id));
  }
  return out;
}

std::set<std::string> all_rules(const std::vector<Check>& checks) {
  std::set<std::string> out;
  for (const Check& c : checks) out.insert(std::string(c.rule_id));
  return out;
}

// The model's view of one step, and an observation that agrees with it; tests then spoil one field.
struct Step {
  spec::EventsState before;
  spec::EventsState after;
  spec::OpResult expected;
  Observation got;

  Step(spec::EventsState state, const spec::Op& op) : before(std::move(state)) {
    auto [next, result] = spec::step(before, op);
    after = std::move(next);
    expected = result;
    got.result = result;
    got.counters = counters_of(after);
    if (const auto* r = std::get_if<spec::ReadOutcome>(&result)) got.reported_payload_bytes = r->payload_bytes();
  }
  std::vector<Check> compare() const { return compare_step(before, after, expected, got); }
  spec::ReadOutcome& got_read() { return std::get<spec::ReadOutcome>(got.result); }
};

spec::EventsState with_entries(OnFull on_full, std::uint32_t capacity, int entries) {
  spec::EventsState s = spec::initial_state({capacity, 16, on_full});
  for (int i = 0; i < entries; ++i) s = spec::step(s, spec::TryWrite{recognisable_payload(i, 8)}).first;
  return s;
}

TEST(CompareStep, AgreementPassesEveryCheck) {
  Step step(with_entries(OnFull::Block, 4, 2), spec::TryRead{});
  const auto checks = step.compare();
  EXPECT_TRUE(failed_rules(checks).empty());
  EXPECT_EQ(all_rules(checks), (std::set<std::string>{"EV-3", "EV-4", "EV-5", "EV-7", "EV-9", "EV-11"}));
}

TEST(CompareStep, WrongSeqIsFifo) {  // EV-4; payloads of different entries are not compared
  Step step(with_entries(OnFull::Block, 4, 2), spec::TryRead{});
  step.got_read().seq = 1;
  EXPECT_EQ(failed_rules(step.compare()), (std::set<std::string>{"EV-4"}));
}

TEST(CompareStep, WrongLengthAndBytes) {  // EV-3, EV-9
  Step length(with_entries(OnFull::Drop, 4, 1), spec::TryRead{});
  length.got.reported_payload_bytes = 9;
  EXPECT_EQ(failed_rules(length.compare()), (std::set<std::string>{"EV-3"}));
  Step bytes(with_entries(OnFull::Drop, 4, 1), spec::Read{});
  bytes.got_read().payload[3] ^= std::byte{1};
  EXPECT_EQ(failed_rules(bytes.compare()), (std::set<std::string>{"EV-9"}));
}

TEST(CompareStep, MissingEntryIsVisibility) {  // EV-5
  Step step(with_entries(OnFull::Block, 4, 1), spec::TryRead{});
  step.got_read() = spec::ReadOutcome{ReadStatus::Empty, 0, {}, 0};
  EXPECT_TRUE(failed_rules(step.compare()).count("EV-5"));
}

TEST(CompareStep, LostRules) {  // EV-7 under Block, EV-8 under Drop
  Step block(with_entries(OnFull::Block, 4, 1), spec::TryRead{});
  block.got_read() = spec::ReadOutcome{ReadStatus::Lost, 0, {}, 1};
  EXPECT_TRUE(failed_rules(block.compare()).count("EV-7"));
  Step drop(with_entries(OnFull::Drop, 2, 5), spec::TryRead{});
  ASSERT_EQ(std::get<spec::ReadOutcome>(drop.expected).lost_count, 3u);
  drop.got_read().lost_count = 4;
  EXPECT_EQ(failed_rules(drop.compare()), (std::set<std::string>{"EV-8"}));
}

TEST(CompareStep, WriteStatusRules) {  // EV-2, EV-6, EV-10, EV-12
  Step too_large(with_entries(OnFull::Block, 4, 0), spec::TryWrite{Bytes(17)});
  too_large.got.result = spec::WriteOutcome{WriteStatus::Ok};
  EXPECT_TRUE(failed_rules(too_large.compare()).count("EV-2"));
  Step full(with_entries(OnFull::Block, 2, 2), spec::TryWrite{Bytes(1)});
  full.got.result = spec::WriteOutcome{WriteStatus::Ok};
  EXPECT_EQ(failed_rules(full.compare()), (std::set<std::string>{"EV-6"}));
  Step drop(with_entries(OnFull::Drop, 2, 2), spec::TryWrite{Bytes(1)});
  drop.got.result = spec::WriteOutcome{WriteStatus::Full};
  EXPECT_TRUE(failed_rules(drop.compare()).count("EV-12"));
  spec::EventsState closed = spec::step(with_entries(OnFull::Drop, 2, 0), spec::Close{}).first;
  Step after_close(closed, spec::Write{Bytes(1)});
  after_close.got.result = spec::WriteOutcome{WriteStatus::Ok};
  EXPECT_TRUE(failed_rules(after_close.compare()).count("EV-10"));
}

TEST(CompareStep, CountersOnRefusalAreEv14ElseEv11) {  // EV-11, EV-14
  Step refusal(with_entries(OnFull::Block, 1, 1), spec::TryWrite{Bytes(1)});
  refusal.got.counters.written += 1;
  EXPECT_EQ(failed_rules(refusal.compare()), (std::set<std::string>{"EV-14"}));
  Step accepted(with_entries(OnFull::Block, 2, 1), spec::TryWrite{Bytes(1)});
  accepted.got.counters.read_count += 1;
  EXPECT_EQ(failed_rules(accepted.compare()), (std::set<std::string>{"EV-11"}));
  Step lost(with_entries(OnFull::Block, 2, 1), spec::TryWrite{Bytes(1)});
  lost.got.counters.lost_count = 1;
  EXPECT_EQ(failed_rules(lost.compare()), (std::set<std::string>{"EV-7", "EV-11"}));
}

TEST(CompareStep, TimeoutMustWaitForItsDeadline) {  // EV-15
  Step step(with_entries(OnFull::Drop, 4, 0), spec::Read{});
  step.got.deadline_ns = 1'000'000;
  step.got.returned_at_ns = 1'000'100;
  EXPECT_TRUE(failed_rules(step.compare()).empty());
  step.got.returned_at_ns = 999'000;
  EXPECT_EQ(failed_rules(step.compare()), (std::set<std::string>{"EV-15"}));
  step.got.returned_at_ns = 1'000'000 + kDeadlineSlackNs + 1;
  EXPECT_EQ(failed_rules(step.compare()), (std::set<std::string>{"EV-15"}));
}

TEST(CompareStep, EveryRuleUsedIsReported) {
  const auto reported = checked_rule_ids();
  for (const char* id : {"EV-2", "EV-3", "EV-4", "EV-5", "EV-6", "EV-7", "EV-8", "EV-9", "EV-10", "EV-11",
                         "EV-12", "EV-13", "EV-14", "EV-15", "REG-10", "REG-11"}) {
    EXPECT_NE(std::find(reported.begin(), reported.end(), id), reported.end()) << id;
  }
}

TEST(RecognisablePayload, StartsWithItsTag) {
  const Bytes p = recognisable_payload(0x0102030405060708ull, 12);
  ASSERT_EQ(p.size(), 12u);
  EXPECT_EQ(p[0], std::byte{0x08});
  EXPECT_EQ(p[7], std::byte{0x01});
  EXPECT_NE(recognisable_payload(1, 16), recognisable_payload(2, 16));
  EXPECT_TRUE(recognisable_payload(1, 0).empty());
}

TEST(OpGenerator, DeterministicAndCoversEveryOperation) {
  const spec::EventsConfig config{4, 8, OnFull::Drop};
  OpGenerator a(config, 42);
  OpGenerator b(config, 42);
  std::set<std::size_t> kinds;
  bool too_large = false, empty = false, full_slot = false;
  for (int i = 0; i < 5000; ++i) {
    const spec::Op op = a.next();
    ASSERT_EQ(op, b.next());
    kinds.insert(op.index());
    const Bytes* payload = std::holds_alternative<spec::TryWrite>(op) ? &std::get<spec::TryWrite>(op).payload
                         : std::holds_alternative<spec::Write>(op)    ? &std::get<spec::Write>(op).payload
                                                                      : nullptr;
    if (payload == nullptr) continue;
    too_large = too_large || payload->size() > config.slot_payload_bytes;
    empty = empty || payload->empty();
    full_slot = full_slot || payload->size() == config.slot_payload_bytes;
  }
  // Every lane call; BeginWrite (a write's first step, EV-8) is the model's alone: no call makes
  // it, only the linearizability checker, from a recorded write.
  EXPECT_FALSE(kinds.contains(std::variant_size_v<spec::Op> - 1));
  static_assert(std::is_same_v<std::variant_alternative_t<std::variant_size_v<spec::Op> - 1, spec::Op>, spec::BeginWrite>);
  EXPECT_EQ(kinds.size(), std::variant_size_v<spec::Op> - 1);
  EXPECT_TRUE(too_large);
  EXPECT_TRUE(empty);
  EXPECT_TRUE(full_slot);
}

}  // namespace
}  // namespace indexbus::conformance

#include "indexbus/conformance/sequenced_slots_suite.hpp"
#include "indexbus/conformance/rule_tally.hpp"

#include <array>
#include <cassert>
#include <cstring>
#include <optional>
#include <random>

#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "indexbus/spec/rules.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"
#include "real_lane.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::array<std::uint32_t, 4> kCapacities{1, 2, 4, 8};
constexpr std::array<std::string_view, 12> kRuleIds{"SS-1", "SS-2", "SS-3", "SS-4",  "SS-5",  "SS-6",
                                                    "SS-7", "SS-8", "SS-9", "SS-10", "SS-11", "SS-12"};


std::vector<std::uint64_t> random_gating(std::mt19937_64& pick, std::uint32_t count, bool allow_cycles) {
  std::vector<std::uint64_t> gated_on(count, 0);
  if (allow_cycles) {
    for (std::uint32_t i = 0; i < count; ++i) gated_on[i] = pick() & ((std::uint64_t{1} << count) - 1) & pick();
    return gated_on;
  }
  std::vector<std::uint32_t> order(count);
  for (std::uint32_t i = 0; i < count; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), pick);
  for (std::uint32_t i = 1; i < count; ++i) {
    for (std::uint32_t j = 0; j < i; ++j) {
      if (pick() % 2 == 0) gated_on[order[i]] |= std::uint64_t{1} << order[j];
    }
  }
  return gated_on;
}

// Which rule a result mismatch breaks.
std::string_view rule_for(const spec::SequencedState& before, const spec::SequencedOp& op,
                          const spec::SequencedResult& expected, const spec::SequencedResult& got) {
  const bool block = before.config.on_full == OnFull::Block;
  if (const auto* e = std::get_if<spec::SeqClaimOutcome>(&expected)) {
    const auto* g = std::get_if<spec::SeqClaimOutcome>(&got);
    if (e->status == WriteStatus::Closed || (g != nullptr && g->status == WriteStatus::Closed)) return "SS-10";
    if (g != nullptr && g->status == e->status) return "SS-2";  // same status, other sequence
    return block ? "SS-6" : "SS-8";
  }
  if (const auto* e = std::get_if<spec::SeqPublishOutcome>(&expected)) {
    return e->status == WriteStatus::Closed ? "SS-10" : "SS-2";
  }
  if (const auto* e = std::get_if<spec::ReadOutcome>(&expected)) {
    const auto* g = std::get_if<spec::ReadOutcome>(&got);
    if (g == nullptr) return "SS-5";
    if (e->status == ReadStatus::Lost || g->status == ReadStatus::Lost) return block ? "SS-7" : "SS-8";
    if (e->status == ReadStatus::Closed || g->status == ReadStatus::Closed) return "SS-10";
    if (g->status == ReadStatus::Entry && e->status != ReadStatus::Entry) {
      const std::uint32_t i = std::holds_alternative<spec::SeqTryRead>(op) ? std::get<spec::SeqTryRead>(op).consumer
                                                                         : std::get<spec::SeqRead>(op).consumer;
      return before.consumers[i].next_seq < before.written ? "SS-4" : "SS-12";
    }
    if (e->status == ReadStatus::Entry && g->status == ReadStatus::Entry && e->seq == g->seq) return "SS-9";
    if (e->status == ReadStatus::Entry && g->status == ReadStatus::Entry) return "SS-5";
    return "SS-4";
  }
  return "SS-10";
}

// The rules a matching result exercises (each gets a passed check).
std::vector<std::string_view> rules_exercised(const spec::SequencedState& before, const spec::SequencedOp& op,
                                              const spec::SequencedResult& expected) {
  const bool block = before.config.on_full == OnFull::Block;
  if (const auto* c = std::get_if<spec::SeqClaimOutcome>(&expected)) {
    if (c->status == WriteStatus::Closed) return {"SS-10"};
    if (c->status == WriteStatus::Ok) return {"SS-2", block ? "SS-6" : "SS-8"};
    return {"SS-6"};
  }
  if (const auto* p = std::get_if<spec::SeqPublishOutcome>(&expected)) {
    return {p->status == WriteStatus::Closed ? "SS-10" : "SS-2"};
  }
  if (const auto* r = std::get_if<spec::ReadOutcome>(&expected)) {
    const std::uint32_t i = std::holds_alternative<spec::SeqTryRead>(op) ? std::get<spec::SeqTryRead>(op).consumer
                                                                       : std::get<spec::SeqRead>(op).consumer;
    const bool gated = before.config.gated_on[i] != 0;
    switch (r->status) {
      case ReadStatus::Lost: return {"SS-8"};
      case ReadStatus::Closed: return {"SS-10"};
      case ReadStatus::Entry: {
        std::vector<std::string_view> rules{"SS-5", "SS-9"};
        if (gated) rules.push_back("SS-4");
        if (block) rules.push_back("SS-7");
        return rules;
      }
      default: return {gated && before.consumers[i].next_seq < before.written ? "SS-4" : "SS-12"};
    }
  }
  return {"SS-10"};
}

bool is_refusal(const spec::SequencedResult& r) {
  if (const auto* c = std::get_if<spec::SeqClaimOutcome>(&r)) return c->status != WriteStatus::Ok;
  if (const auto* p = std::get_if<spec::SeqPublishOutcome>(&r)) return p->status != WriteStatus::Ok;
  if (const auto* o = std::get_if<spec::ReadOutcome>(&r)) return o->status != ReadStatus::Entry && o->status != ReadStatus::Lost;
  return false;
}

// One real lane in a scratch region, with its producer and every consumer.
class Lane {
 public:
  Lane(const spec::SequencedConfig& config, const std::string& region_dir, const SequencedLaneTweak& tweak)
      : path_(region_dir), platform_(WaitStrategy::Park) {
    const LaneSpec spec{LaneKind::SequencedSlots, config.on_full, config.capacity_slots, config.slot_payload_bytes,
                        config.consumer_count(), 0, config.gated_on};
    auto created = Region::create(path_.str(), std::span(&spec, 1));
    if (!created.ok()) throw SetupError("cannot create a region for " + spec::describe(config) + ": " + created.error().message);
    region_.emplace(std::move(created).value());
    path_.remove_now();
    ref_ = ring_lane_ref(region_->lane_block(0), region_->lane(0));
    RingLaneRef producer_ref = ref_;
    RingLaneRef consumer_ref = ref_;
    if (tweak.apply) tweak.apply(producer_ref, consumer_ref);
    auto producer = attach_sequenced_producer(platform_, producer_ref);
    if (!producer.ok()) throw SetupError(producer.error().message);
    producer_.emplace(std::move(producer).value());
    for (std::uint32_t i = 0; i < ref_.reader_count; ++i) {
      auto consumer = attach_sequenced_consumer(platform_, consumer_ref, i);
      if (!consumer.ok()) throw SetupError(consumer.error().message);
      consumers_.push_back(std::move(consumer).value());
    }
    out_.resize(config.slot_payload_bytes);
  }

  // Runs op; *early is set when a Timeout came before its deadline (SS-12).
  spec::SequencedResult execute(const spec::SequencedOp& op, std::uint64_t timeout_ns, bool* early) {
    *early = false;
    const auto claim_outcome = [&](const ClaimResult& c) {
      if (c.status == WriteStatus::Ok) span_ = c.payload;
      return spec::SeqClaimOutcome{c.status, c.status == WriteStatus::Ok ? c.seq : 0};
    };
    const auto read_outcome = [&](const ReadResult& r) {
      spec::ReadOutcome o{r.status, 0, {}, 0};
      if (r.status == ReadStatus::Entry) {
        o.seq = r.seq;
        o.payload.assign(out_.begin(), out_.begin() + r.payload_bytes);
      }
      if (r.status == ReadStatus::Lost) o.lost_count = r.lost_count;
      return o;
    };
    if (std::holds_alternative<spec::SeqTryClaim>(op)) return claim_outcome(producer_->try_claim());
    if (std::holds_alternative<spec::SeqClaim>(op)) {
      const std::uint64_t deadline = platform_.now_ns() + timeout_ns;
      const ClaimResult c = producer_->claim(deadline);
      *early = c.status == WriteStatus::Timeout && platform_.now_ns() < deadline;
      return claim_outcome(c);
    }
    if (const auto* p = std::get_if<spec::SeqPublish>(&op)) {
      if (producer_->claimed() && !p->payload.empty()) {
        std::memcpy(span_.data(), p->payload.data(), std::min(p->payload.size(), span_.size()));
      }
      return spec::SeqPublishOutcome{producer_->publish(static_cast<std::uint32_t>(p->payload.size()))};
    }
    if (std::holds_alternative<spec::SeqClose>(op)) {
      producer_->close();
      return spec::SeqCloseOutcome{};
    }
    if (const auto* r = std::get_if<spec::SeqTryRead>(&op)) return read_outcome(consumers_[r->consumer].try_read(out_));
    const std::uint32_t i = std::get<spec::SeqRead>(op).consumer;
    const std::uint64_t deadline = platform_.now_ns() + timeout_ns;
    const ReadResult r = consumers_[i].read(out_, deadline);
    *early = r.status == ReadStatus::Timeout && platform_.now_ns() < deadline;
    return read_outcome(r);
  }

  // Empty if the region's counters match the model's state.
  std::string counters_mismatch(const spec::SequencedState& s) const {
    if (ref_.header->write_seq != s.written) return "write_seq " + std::to_string(ref_.header->write_seq);
    for (std::uint32_t i = 0; i < s.consumers.size(); ++i) {
      const ReaderRecord& r = ref_.readers[i];
      const auto& k = s.consumers[i];
      if (r.cursor_seq != k.next_seq || r.read_count != k.read_count || r.lost_count != k.lost_count) {
        return "consumer " + std::to_string(i) + " cursor " + std::to_string(r.cursor_seq) + " read " +
               std::to_string(r.read_count) + " lost " + std::to_string(r.lost_count);
      }
    }
    return {};
  }

  bool attach_out_of_range_refused() {
    auto extra = attach_sequenced_consumer(platform_, ref_, ref_.reader_count);
    return !extra.ok() && extra.error().code == ErrorCode::BadReaderIndex;
  }

 private:
  detail::ScratchRegionPath path_;
  RealPlatform platform_;
  std::optional<Region> region_;
  RingLaneRef ref_;
  std::optional<SequencedProducer<RealPlatform>> producer_;
  std::vector<SequencedConsumer<RealPlatform>> consumers_;
  std::vector<std::byte> out_;
  std::span<std::byte> span_;
};

spec::SequencedOp random_op(std::mt19937_64& pick, const spec::SequencedState& s, std::uint32_t i) {
  const auto consumer = static_cast<std::uint32_t>(pick() % s.config.consumer_count());
  if (s.claimed && !s.closed && pick() % 4 != 0) {
    spec::Bytes payload(pick() % (s.config.slot_payload_bytes + 2));
    for (std::size_t k = 0; k < payload.size(); ++k) payload[k] = static_cast<std::byte>(i + k);
    return spec::SeqPublish{std::move(payload)};
  }
  switch (pick() % 8) {
    case 0: return spec::SeqClaim{};
    case 1:
    case 2: return spec::SeqTryClaim{};
    case 3: return spec::SeqRead{consumer};
    default:
      if (pick() % 150 == 0) return spec::SeqClose{};
      return spec::SeqTryRead{consumer};
  }
}

}  // namespace

std::vector<std::string_view> sequenced_slots_checked_rule_ids() { return {kRuleIds.begin(), kRuleIds.end()}; }

SuiteReport run_sequenced_slots_suite(const SuiteOptions& options, const SequencedLaneTweak& tweak) {
  SuiteReport report;
  report.seed = options.seed;
  report.runs = options.runs;
  report.replay_command = rule_suite_replay_command("sequenced_slots", options);
  RuleTally tally(kRuleIds);
  std::mt19937_64 run_seeds(options.seed);
  for (std::uint64_t run = 0; run < options.runs; ++run) {
    const std::uint64_t run_seed = run_seeds();
    std::mt19937_64 pick(run_seed);
    const auto count = static_cast<std::uint32_t>(1 + pick() % 4);
    spec::SequencedConfig config{kCapacities[pick() % kCapacities.size()], 16,
                                 run % 2 == 0 ? OnFull::Block : OnFull::Drop, random_gating(pick, count, false)};
    const std::string where = "run " + std::to_string(run) + " (" + tweak.name + " lane, " + spec::describe(config) +
                              ", run seed " + std::to_string(run_seed) + ")";

    {  // SS-3: core refuses a graph exactly when the model does.
      const auto offered = random_gating(pick, count, true);
      const LaneSpec spec{LaneKind::SequencedSlots, OnFull::Block, 4, 16, count, 0, offered};
      detail::ScratchRegionPath path(options.region_dir);
      auto created = Region::create(path.str(), std::span(&spec, 1));
      const bool model_refuses = spec::check_gating_graph(offered).has_value();
      const bool core_refuses = !created.ok() && created.error().code == ErrorCode::BadGating;
      tally.record("SS-3", model_refuses == core_refuses,
                   where + ": offered gating " + spec::describe(spec::SequencedConfig{4, 16, OnFull::Block, offered}) +
                       (core_refuses ? " refused" : " accepted") + " by core, model disagrees");
    }

    Lane lane(config, options.region_dir, tweak);
    tally.record("SS-1", lane.attach_out_of_range_refused(), where + ": consumer index reader_count was attached");
    spec::SequencedState state = spec::sequenced_initial_state(config);
    bool ok = true;
    std::uint64_t ops = 0;
    const auto step = [&](const spec::SequencedOp& op) {
      auto [after, expected] = spec::sequenced_step(state, op);
      bool early = false;
      const spec::SequencedResult got = lane.execute(op, options.blocking_timeout_ns, &early);
      const std::string at = where + " op " + std::to_string(ops++) + " " + spec::describe(op) + ": ";
      const bool same = got == expected;
      if (same) {
        for (const std::string_view rule : rules_exercised(state, op, expected)) tally.record(rule, true, "");
      } else {
        tally.record(rule_for(state, op, expected, got), false,
                     at + "lane " + spec::describe(got) + ", model " + spec::describe(expected));
      }
      tally.record("SS-12", !early, at + "Timeout before its deadline");
      const std::string counters = lane.counters_mismatch(after);
      tally.record(is_refusal(expected) ? "SS-12" : "SS-11", counters.empty(), at + "region has " + counters);
      state = std::move(after);
      ok = same && !early && counters.empty();
      return ok;
    };
    for (std::uint32_t i = 0; i < options.ops_per_run && ok; ++i) {
      const spec::SequencedOp op = random_op(pick, state, i);
      if (spec::sequenced_op_allowed(state, op)) step(op);
    }
    // Close, then drain every consumer; bounded: each pass lets at least the most upstream
    // unfinished consumer advance, and there are at most written + consumers such steps.
    if (ok) step(spec::SeqClose{});
    const std::uint64_t bound = (state.written + 2) * count + 8;
    for (std::uint64_t i = 0; i < bound && ok; ++i) {
      bool drained = true;
      for (std::uint32_t c = 0; c < count && ok; ++c) {
        if (state.consumers[c].next_seq != state.written) {
          drained = false;
          step(spec::SeqTryRead{c});
        }
      }
      if (drained) break;
    }
    if (ok) {
      for (std::uint32_t c = 0; c < count && ok; ++c) step(spec::SeqRead{c});  // Closed at once
      for (std::uint32_t c = 0; c < count; ++c) {
        const auto& k = state.consumers[c];
        tally.record("SS-11", k.read_count + k.lost_count == state.written,
                     where + ": consumer " + std::to_string(c) + " read + lost != written after drain");
      }
    }
    report.ops += ops;
    if (!ok) ++report.failed_runs;
  }
  report.rules = tally.take();
  report.passed = report.failed_runs == 0;
  for (const RuleOutcome& r : report.rules) report.passed = report.passed && r.failures == 0;
  return report;
}

}  // namespace indexbus::conformance

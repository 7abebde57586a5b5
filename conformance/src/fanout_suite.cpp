#include "indexbus/conformance/fanout_suite.hpp"
#include "indexbus/conformance/rule_tally.hpp"

#include <array>
#include <cassert>
#include <random>
#include <sstream>

#include "indexbus/spec/rules.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::array<std::uint32_t, 4> kCapacities{1, 2, 4, 8};
constexpr std::array<std::uint32_t, 3> kSlotBytes{8, 16, 64};

bool is_write(const spec::FanoutOp& op) {
  return std::holds_alternative<spec::FanoutTryWrite>(op) || std::holds_alternative<spec::FanoutWrite>(op);
}
bool is_read(const spec::FanoutOp& op) {
  return std::holds_alternative<spec::FanoutTryRead>(op) || std::holds_alternative<spec::FanoutRead>(op);
}


// The rule a mismatch of results breaks: the most specific one that explains it.
std::string_view rule_of_result_mismatch(const spec::FanoutConfig& config, const spec::FanoutOp& op,
                                         const spec::FanoutResult& expected, const spec::FanoutResult& got) {
  if (is_write(op)) {
    const auto e = std::get<spec::WriteOutcome>(expected).status;
    const auto g = std::holds_alternative<spec::WriteOutcome>(got) ? std::get<spec::WriteOutcome>(got).status
                                                                   : WriteStatus::Ok;
    if (e == WriteStatus::TooLarge || g == WriteStatus::TooLarge) return "FB-2";
    if (e == WriteStatus::Closed || g == WriteStatus::Closed) return "FB-9";
    return config.on_full == OnFull::Block ? "FB-4" : "FB-8";
  }
  if (is_read(op)) {
    const auto& e = std::get<spec::ReadOutcome>(expected);
    const spec::ReadOutcome g =
        std::holds_alternative<spec::ReadOutcome>(got) ? std::get<spec::ReadOutcome>(got) : spec::ReadOutcome{};
    if (e.status == ReadStatus::Lost || g.status == ReadStatus::Lost) {
      return config.on_full == OnFull::Block ? "FB-5" : "FB-7";
    }
    if (e.status == ReadStatus::Closed || g.status == ReadStatus::Closed) return "FB-9";
    if (e.status == ReadStatus::Entry && g.status == ReadStatus::Entry) return "FB-3";
    if (config.on_full == OnFull::Block && e.status == ReadStatus::Entry) return "FB-5";  // an entry went missing
    return "FB-10";
  }
  return "FB-9";  // close
}


spec::Bytes random_payload(std::mt19937_64& rng, std::uint32_t slot_bytes) {
  // Mostly fitting payloads, sometimes one byte to eight bytes too many (FB-2).
  const std::size_t size = rng() % 10 == 0 ? slot_bytes + 1 + rng() % 8 : rng() % (slot_bytes + 1);
  spec::Bytes out(size);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

spec::FanoutOp random_op(std::mt19937_64& rng, const spec::FanoutConfig& config) {
  const auto consumer = static_cast<std::uint32_t>(rng() % config.consumer_count);
  const std::uint64_t pick = rng() % 100;
  if (pick < 30) return spec::FanoutTryWrite{random_payload(rng, config.slot_payload_bytes)};
  if (pick < 42) return spec::FanoutWrite{random_payload(rng, config.slot_payload_bytes)};
  if (pick < 43) return spec::FanoutClose{};
  if (pick < 85) return spec::FanoutTryRead{consumer};
  return spec::FanoutRead{consumer};
}

}  // namespace

std::vector<std::string_view> fanout_checked_rule_ids() {
  return {"FB-2", "FB-3", "FB-4", "FB-5", "FB-7", "FB-8", "FB-9", "FB-10", "FB-11", "FB-12"};
}

SuiteReport run_fanout_suite(const SuiteOptions& options, FanoutDefect defect) {
  SuiteReport report;
  report.seed = options.seed;
  report.runs = options.runs;
  RuleTally tally(fanout_checked_rule_ids());
  for (std::uint64_t run = 0; run < options.runs; ++run) {
    std::mt19937_64 rng(options.seed * 0x9e3779b97f4a7c15ull + run);
    spec::FanoutConfig config;
    config.on_full = run % 2 == 0 ? OnFull::Block : OnFull::Drop;
    config.capacity_slots = kCapacities[rng() % kCapacities.size()];
    config.slot_payload_bytes = kSlotBytes[rng() % kSlotBytes.size()];
    config.consumer_count = 1 + static_cast<std::uint32_t>(rng() % 4);
    const auto strategy = static_cast<WaitStrategy>(rng() % 3);
    FanoutLane lane(config, options.region_dir, strategy, defect);
    spec::FanoutState model = spec::initial_state(config);
    // ops_per_run random operations, then close and drain every consumer (bounded: each drain
    // read either advances a cursor or returns Closed).
    bool diverged = false;
    for (std::uint64_t i = 0; !diverged; ++i) {
      spec::FanoutOp op;
      if (i < options.ops_per_run) {
        op = random_op(rng, config);
      } else {
        const std::uint64_t d = i - options.ops_per_run;
        if (d == 0) {
          op = spec::FanoutClose{};
        } else {
          // Consumer by consumer, until each reads Closed; at most written + 2 reads each.
          const std::uint64_t per_consumer = model.written + 2;
          const std::uint64_t k = (d - 1) / per_consumer;
          if (k >= config.consumer_count) break;
          op = spec::FanoutTryRead{static_cast<std::uint32_t>(k)};
        }
      }
      ++report.ops;
      auto [after, expected] = spec::step(model, op);
      const FanoutObservation got = lane.execute(op, options.blocking_timeout_ns);
      const auto where = [&] {
        std::ostringstream os;
        os << "run " << run << " (" << spec::describe(config) << ") op " << i << " " << spec::describe(op);
        return os.str();
      };
      // Which rules this step exercises.
      if (is_write(op)) {
        tally.check("FB-2");
        tally.check(config.on_full == OnFull::Block ? "FB-4" : "FB-8");
      }
      if (is_read(op)) {
        tally.check("FB-3");
        tally.check(config.on_full == OnFull::Block ? "FB-5" : "FB-7");
        tally.check("FB-10");
      }
      tally.check("FB-9");
      if (got.deadline_ns) tally.check("FB-12");
      if (spec::is_refusal(expected)) tally.check("FB-11");

      if (!(got.result == expected)) {
        tally.fail(rule_of_result_mismatch(config, op, expected, got.result),
                   where() + ": expected " + spec::describe(expected) + ", got " + spec::describe(got.result));
        diverged = true;
      } else if (got.deadline_ns && (std::holds_alternative<spec::WriteOutcome>(expected)
                                         ? std::get<spec::WriteOutcome>(expected).status == WriteStatus::Timeout
                                         : std::holds_alternative<spec::ReadOutcome>(expected) &&
                                               std::get<spec::ReadOutcome>(expected).status == ReadStatus::Timeout) &&
                 got.returned_at_ns < *got.deadline_ns) {
        tally.fail("FB-12", where() + ": Timeout before the deadline");
        diverged = true;
      } else if (const FanoutCounters counters = lane.counters(); !(counters == counters_of(after))) {
        tally.fail(spec::is_refusal(expected) ? "FB-11" : "FB-10",
                   where() + ": lane words " + describe(counters) + ", model " + describe(counters_of(after)));
        diverged = true;
      }
      model = std::move(after);
    }
    if (diverged) ++report.failed_runs;
  }
  report.rules = tally.take();
  report.passed = report.failed_runs == 0;
  report.replay_command = rule_suite_replay_command("fanout_broadcast", options);
  return report;
}

}  // namespace indexbus::conformance

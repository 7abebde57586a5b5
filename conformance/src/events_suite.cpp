#include "indexbus/conformance/events_suite.hpp"
#include "indexbus/conformance/rule_tally.hpp"

#include <array>
#include <cassert>
#include <random>
#include <sstream>

#include "indexbus/conformance/differential.hpp"
#include "indexbus/spec/rules.hpp"

namespace indexbus::conformance {
namespace {

constexpr std::array<std::uint32_t, 5> kCapacities{1, 2, 4, 8, 64};
constexpr std::array<std::uint32_t, 4> kSlotBytes{8, 16, 64, 1024};
// Balanced, writer-heavy (a Block lane is mostly full, a Drop lane loses), reader-heavy (the
// lane is mostly empty). Run i uses kMixes[(i / 2) % 3], so both policies meet every mix.
constexpr std::array<OpMix, 3> kMixes{{
    {3, 500, 330, 40},
    {2, 700, 330, 40},
    {6, 300, 330, 40},
}};
const SuiteOptions kDefaults{};


// One random sequence on one fresh lane, stepped in lockstep with the model.
class Run {
 public:
  Run(LaneUnderTest& lane, const spec::EventsConfig& config, std::string where, std::uint64_t timeout_ns,
      RuleTally& tally)
      : lane_(lane), state_(spec::initial_state(config)), where_(std::move(where)), timeout_ns_(timeout_ns),
        tally_(tally) {}

  // Returns false at the first mismatch: from then on lane and model have diverged.
  bool step(const spec::Op& op) {
    auto [after, expected] = spec::step(state_, op);
    const Observation got = execute(lane_, op, state_.config.slot_payload_bytes, timeout_ns_);
    bool ok = true;
    for (const Check& check : compare_step(state_, after, expected, got)) {
      ok = ok && check.passed;
      tally_.record(check.rule_id, check.passed, [&] {
        return where_ + " op " + std::to_string(ops_) + " " + spec::describe(op) + ": " + check.detail;
      });
    }
    ++ops_;
    state_ = std::move(after);
    return ok;
  }

  // Close, then read until the model says drained; one more read must be Closed at once.
  bool close_and_drain() {
    if (!step(spec::Close{})) return false;
    // Bounded: after close at most one Lost and capacity_slots entries remain.
    for (std::uint64_t i = 0; i < std::uint64_t{state_.config.capacity_slots} + 2 && !spec::is_drained(state_); ++i) {
      if (!step(spec::TryRead{})) return false;
    }
    assert(spec::is_drained(state_));
    if (!step(spec::Read{})) return false;
    // EV-11 at quiescence: every entry written was either read or reported lost.
    const LaneCounters c = lane_.counters();
    const bool balanced = c.read_count + c.lost_count == c.written;
    tally_.record("EV-11", balanced, [&] {
      return where_ + " after close and drain: read " + std::to_string(c.read_count) + " + lost " +
             std::to_string(c.lost_count) + " != written " + std::to_string(c.written);
    });
    return balanced;
  }

  // The region around the lane, whatever happened to the lane (REG-10, REG-11).
  bool check_region() {
    const auto image_error = lane_.check_region_image();
    tally_.record("REG-10", !image_error, [&] { return where_ + " at the end: " + *image_error; });
    const auto state_error = lane_.check_lane_state();
    tally_.record("REG-11", !state_error, [&] { return where_ + " at the end: " + *state_error; });
    return !image_error && !state_error;
  }

  std::uint64_t ops() const noexcept { return ops_; }

 private:
  LaneUnderTest& lane_;
  spec::EventsState state_;
  std::string where_;
  std::uint64_t timeout_ns_;
  RuleTally& tally_;
  std::uint64_t ops_ = 0;
};

}  // namespace

std::string rule_suite_replay_command(std::string_view lane, const SuiteOptions& options) {
  std::string command = "indexbus conform --rule-suite --lane " + std::string(lane) + " --seed " +
                        std::to_string(options.seed) + " --runs " + std::to_string(options.runs);
  if (options.ops_per_run != kDefaults.ops_per_run) command += " --ops " + std::to_string(options.ops_per_run);
  if (options.region_dir != kDefaults.region_dir) command += " --region-dir " + options.region_dir;
  return command;
}

SuiteReport run_events_suite(const SuiteOptions& options, const LaneFactory& factory) {
  SuiteReport report;
  report.seed = options.seed;
  report.runs = options.runs;
  report.replay_command = rule_suite_replay_command("events", options);
  RuleTally tally(checked_rule_ids());
  std::mt19937_64 run_seeds(options.seed);
  for (std::uint64_t run = 0; run < options.runs; ++run) {
    const std::uint64_t run_seed = run_seeds();
    std::mt19937_64 pick(run_seed);
    spec::EventsConfig config;
    config.on_full = run % 2 == 0 ? OnFull::Block : OnFull::Drop;
    config.capacity_slots = kCapacities[pick() % kCapacities.size()];
    config.slot_payload_bytes = kSlotBytes[pick() % kSlotBytes.size()];
    const OpMix& mix = kMixes[(run / 2) % kMixes.size()];

    const std::unique_ptr<LaneUnderTest> lane = factory(config, options.region_dir);
    const std::string where = "run " + std::to_string(run) + " (" + lane->name() + " lane, " +
                              spec::describe(config) + ", run seed " + std::to_string(run_seed) + ")";
    Run sequence(*lane, config, where, options.blocking_timeout_ns, tally);
    OpGenerator generator(config, pick(), mix);
    bool ok = true;
    for (std::uint32_t i = 0; i < options.ops_per_run && ok; ++i) ok = sequence.step(generator.next());
    if (ok) ok = sequence.close_and_drain();
    ok = sequence.check_region() && ok;
    report.ops += sequence.ops();
    if (!ok) ++report.failed_runs;
  }
  report.rules = tally.take();
  report.passed = report.failed_runs == 0;
  return report;
}

std::string format_report(const SuiteReport& report) {
  std::ostringstream os;
  for (const RuleOutcome& rule : report.rules) {
    os << (rule.failures == 0 ? "PASS " : "FAIL ") << rule.rule_id << "  " << rule.title << "  (" << rule.checks
       << " checks";
    if (rule.failures != 0) os << ", " << rule.failures << " failed";
    os << ")\n";
    if (rule.failures != 0) os << "     first: " << rule.first_failure << "\n";
  }
  os << (report.passed ? "passed" : "FAILED") << ": " << report.runs << " runs, " << report.ops << " ops, "
     << report.failed_runs << " failed runs; seed " << report.seed << "; replay: " << report.replay_command << "\n";
  return os.str();
}

}  // namespace indexbus::conformance

#include "indexbus/conformance/rule_suites.hpp"

#include "indexbus/conformance/differential.hpp"
#include "indexbus/conformance/fanout_suite.hpp"
#include "indexbus/conformance/journal_suite.hpp"
#include "indexbus/conformance/sequenced_slots_suite.hpp"

namespace indexbus::conformance {

std::span<const RuleSuite> rule_suites() {
  static const std::vector<RuleSuite> kSuites{
      {"events", "Required.Events.InProcess.RuleSuite",
       [](const SuiteOptions& options) { return run_events_suite(options); }, checked_rule_ids},
      {"journal", "Required.Journal.InProcess.RuleSuite",
       [](const SuiteOptions& options) { return run_journal_suite(options); }, journal_checked_rule_ids},
      {"sequenced_slots", "Required.SequencedSlots.InProcess.RuleSuite",
       [](const SuiteOptions& options) { return run_sequenced_slots_suite(options); },
       sequenced_slots_checked_rule_ids},
      {"fanout_broadcast", "Required.FanoutBroadcast.InProcess.RuleSuite",
       [](const SuiteOptions& options) { return run_fanout_suite(options); }, fanout_checked_rule_ids},
  };
  return kSuites;
}

const RuleSuite* find_rule_suite(std::string_view lane) {
  for (const RuleSuite& suite : rule_suites()) {
    if (suite.lane == lane) return &suite;
  }
  return nullptr;
}

}  // namespace indexbus::conformance

// Every lane kind's in-process per-rule suite behind one table, so that `indexbus conform
// --rule-suite --lane KIND` and the catalog's Required.<Kind>.InProcess.RuleSuite cases list the
// same suites. Adding a kind's suite is one row in rule_suites.cpp.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"

namespace indexbus::conformance {

struct RuleSuite {
  std::string_view lane;     // as in `--lane`: events, journal, sequenced_slots, fanout_broadcast
  std::string_view case_id;  // the catalog case that runs it
  std::function<SuiteReport(const SuiteOptions&)> run;  // the real lane; throws SetupError
  std::function<std::vector<std::string_view>()> rule_ids;  // rules it checks, in rule order
};

std::span<const RuleSuite> rule_suites();

// The suite for `lane`, or nullptr.
const RuleSuite* find_rule_suite(std::string_view lane);

}  // namespace indexbus::conformance

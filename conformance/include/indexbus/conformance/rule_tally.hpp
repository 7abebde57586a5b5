// Per-rule bookkeeping of a conformance suite: how often each rule was checked, how often it
// failed, and the first failure in full (later ones would only repeat it). Every lane kind's suite
// reports through it, so SuiteReport.rules means the same thing for all of them.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "indexbus/conformance/events_suite.hpp"  // RuleOutcome
#include "indexbus/spec/rules.hpp"

namespace indexbus::conformance {

class RuleTally {
 public:
  // rule_ids: the rules the suite checks, in report order; each must exist in spec/ (rules.cpp).
  template <typename Ids>
  explicit RuleTally(const Ids& rule_ids) {
    for (const std::string_view id : rule_ids) {
      const spec::Rule* rule = spec::find_rule(id);
      assert(rule != nullptr && "a suite names a rule that spec/ does not define");
      RuleOutcome outcome;
      outcome.rule_id = std::string(id);
      outcome.title = rule != nullptr ? std::string(rule->title) : std::string();
      outcomes_.push_back(std::move(outcome));
    }
  }

  void check(std::string_view rule_id) { ++at(rule_id).checks; }

  // A failure of a check already counted with check().
  void fail(std::string_view rule_id, const std::string& what) {
    RuleOutcome& outcome = at(rule_id);
    if (outcome.failures++ == 0) outcome.first_failure = what;
  }

  // check() and, unless passed, fail(). describe_failure is the text or a callable making it
  // (called only on a failure, so that passing checks build no strings).
  template <typename Describe>
  void record(std::string_view rule_id, bool passed, Describe&& describe_failure) {
    RuleOutcome& outcome = at(rule_id);
    ++outcome.checks;
    if (passed || outcome.failures++ != 0) return;
    if constexpr (std::is_invocable_v<Describe>) {
      outcome.first_failure = describe_failure();
    } else {
      outcome.first_failure = std::string(std::forward<Describe>(describe_failure));
    }
  }

  std::vector<RuleOutcome> take() { return std::move(outcomes_); }

 private:
  RuleOutcome& at(std::string_view rule_id) {
    for (RuleOutcome& outcome : outcomes_) {
      if (outcome.rule_id == rule_id) return outcome;
    }
    assert(false && "a check of a rule missing from the suite's rule list");
    return outcomes_.front();
  }

  std::vector<RuleOutcome> outcomes_;
};

}  // namespace indexbus::conformance

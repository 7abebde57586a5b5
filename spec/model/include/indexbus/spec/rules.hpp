// The rule IDs of spec/v1-semantics.md as data, so that checkers (conformance/, sim/) report the
// same IDs and titles as the document. spec/tests/rules_test.cpp keeps the two in step.
#pragma once

#include <span>
#include <string_view>

namespace indexbus::spec {

struct Rule {
  std::string_view id;     // "REG-1", "EV-8", ...
  std::string_view title;  // short, as in the heading of the rule in v1-semantics.md
};

// Every rule of v1-semantics.md, in document order: REG-*, EV-*, FB-*, SS-*, JR-*.
std::span<const Rule> all_rules() noexcept;

// The rule with this ID, or nullptr.
const Rule* find_rule(std::string_view id) noexcept;

}  // namespace indexbus::spec

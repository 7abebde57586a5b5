// The rule catalog (rules.cpp) and spec/v1-semantics.md say the same thing: same IDs, same
// titles, numbered without gaps, and every rule has a row in the traceability table.
#include "indexbus/spec/rules.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace indexbus::spec {
namespace {

struct Document {
  std::map<std::string, std::string> headings;  // id -> title
  std::vector<std::string> duplicate_headings;
  std::set<std::string> table_rows;             // ids that start a row of the rule -> test table
};

std::string id_of(const std::string& text) { return text.substr(0, text.find(' ')); }

bool is_rule_id(const std::string& id) {
  const auto dash = id.find('-');
  if (dash == std::string::npos || dash + 1 >= id.size()) return false;
  const std::string prefix = id.substr(0, dash);
  if (prefix != "REG" && prefix != "EV" && prefix != "JR" && prefix != "SS" && prefix != "FB" &&
      prefix != "RT" && prefix != "MG") return false;
  return id.find_first_not_of("0123456789", dash + 1) == std::string::npos;
}

Document read_document() {
  Document doc;
  std::ifstream in(INDEXBUS_SPEC_DOC);
  EXPECT_TRUE(in.good()) << "cannot read " << INDEXBUS_SPEC_DOC;
  const std::string dash = " \xE2\x80\x94 ";  // " — " between the ID and the title
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("### ", 0) == 0) {
      const std::string rest = line.substr(4);
      const std::string id = id_of(rest);
      if (!is_rule_id(id)) continue;
      const auto at = rest.find(dash);
      const std::string title = at == std::string::npos ? "" : rest.substr(at + dash.size());
      if (!doc.headings.emplace(id, title).second) doc.duplicate_headings.push_back(id);
    } else if (line.rfind("| ", 0) == 0) {
      const std::string id = id_of(line.substr(2));
      if (is_rule_id(id)) doc.table_rows.insert(id);
    }
  }
  return doc;
}

TEST(Rules, CatalogMatchesDocumentHeadings) {
  const Document doc = read_document();
  EXPECT_TRUE(doc.duplicate_headings.empty()) << doc.duplicate_headings.front();
  for (const Rule& rule : all_rules()) {
    const auto it = doc.headings.find(std::string(rule.id));
    ASSERT_NE(it, doc.headings.end()) << rule.id << " has no heading in v1-semantics.md";
    EXPECT_EQ(it->second, rule.title) << rule.id;
  }
  for (const auto& [id, title] : doc.headings) {
    EXPECT_NE(find_rule(id), nullptr) << id << " (" << title << ") is missing from rules.cpp";
  }
}

TEST(Rules, EveryRuleHasATableRow) {
  const Document doc = read_document();
  for (const Rule& rule : all_rules()) {
    EXPECT_TRUE(doc.table_rows.count(std::string(rule.id))) << rule.id << " has no row in the rule -> test table";
  }
}

TEST(Rules, IdsAreNumberedWithoutGaps) {
  std::map<std::string, int> next{{"REG", 1}, {"EV", 1}, {"SS", 1}};
  for (const Rule& rule : all_rules()) {
    const std::string id(rule.id);
    ASSERT_TRUE(is_rule_id(id)) << id;
    const std::string prefix = id.substr(0, id.find('-'));
    EXPECT_EQ(std::stoi(id.substr(id.find('-') + 1)), next.try_emplace(prefix, 1).first->second++) << id;
  }
  // The IDs core/tests already cite.
  for (const char* cited : {"REG-1", "REG-2", "REG-3", "REG-4", "REG-5", "REG-6", "EV-2", "EV-3",
                            "EV-4", "EV-5", "EV-6", "EV-7", "EV-8", "EV-9", "EV-10", "EV-11"}) {
    EXPECT_NE(find_rule(cited), nullptr) << cited;
  }
  EXPECT_EQ(find_rule("EV-99"), nullptr);
}

// The checker must reject a malformed ID, or the numbering test proves nothing.
TEST(Rules, IdCheckerRejectsMalformedIds) {
  EXPECT_FALSE(is_rule_id("EV-"));
  EXPECT_FALSE(is_rule_id("EV-8a"));
  EXPECT_FALSE(is_rule_id("LAYOUT-1"));
  EXPECT_TRUE(is_rule_id("REG-12"));
}

}  // namespace
}  // namespace indexbus::spec

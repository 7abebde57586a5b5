// The interop IDs of `indexbus certify`: they name the pair and parse back, the interop set is
// made of catalog cases with two or more processes, an expected-failures entry can name a pair's
// case, and a failing pair shows in the certificate and the matrix (and a passing one does not).
#include "indexbus/certify/interop.hpp"

#include <gtest/gtest.h>

#include <set>

#include "indexbus/certify/certify.hpp"

namespace indexbus::certify {
namespace {

using harness::CaseResult;
using harness::ConformReport;
using harness::Level;
using harness::Outcome;

CaseResult make_case(std::string id, Outcome outcome, std::string detail = "") {
  CaseResult r;
  r.id = std::move(id);
  r.level = Level::Required;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

constexpr const char* kFifo = "Required.Events.Block.FifoInOrder";

TEST(Interop, IdsNameThePairAndParseBack) {
  const std::string id = interop_case_id({"reference", "c"}, kFifo);
  EXPECT_EQ(id, "Interop[reference->c].Required.Events.Block.FifoInOrder");
  const auto parsed = parse_interop_id(id);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->pair, (InteropPair{"reference", "c"}));
  EXPECT_EQ(parsed->case_id, kFifo);
  EXPECT_EQ(lane_kind_of(id), "Events");
  for (const char* bad : {kFifo, "Interop[ab].X", "Interop[->c].X", "Interop[a->].X", "Interop[a->c]X"}) {
    EXPECT_FALSE(parse_interop_id(bad).has_value()) << bad;
  }
}

TEST(Interop, TheSetIsCatalogCasesWithSeveralProcessesPerKindAndPolicy) {
  std::vector<const harness::CaseDef*> all;
  for (const harness::CaseDef& def : harness::catalog()) all.push_back(&def);
  const auto chosen = interop_cases(all);
  ASSERT_EQ(chosen.size(), interop_catalog_ids().size()) << "an interop ID is not in the catalog any more";
  std::set<std::string> kind_policies;
  for (const harness::CaseDef* def : chosen) {
    EXPECT_FALSE(def->run_in_process) << def->id;
    kind_policies.insert(lane_kind_of(def->id) + "/" + policy_of(*def));
  }
  for (const char* kind : {"Events", "Fanout", "SequencedSlots", "Journal"}) {
    for (const char* policy : {"Block", "Drop"}) {
      EXPECT_EQ(kind_policies.count(std::string(kind) + "/" + policy), 1u) << kind << "/" << policy;
    }
  }
}

TEST(Interop, AFailingPairCountsNamesItsCasesAndShowsRed) {
  ConformReport report;
  report.cases.push_back(make_case(kFifo, Outcome::Pass));
  report.cases.push_back(make_case(interop_case_id({"reference", "c"}, kFifo), Outcome::Fail, "expected Entry(0), got Entry(1)"));
  report.cases.push_back(make_case(interop_case_id({"c", "reference"}, kFifo), Outcome::Pass));
  const std::vector<std::string> ids = {kFifo, interop_case_id({"reference", "c"}, kFifo), interop_case_id({"c", "reference"}, kFifo)};

  const Judgement plain = judge("c", report, {}, ids, false);
  EXPECT_FALSE(plain.certified);
  EXPECT_EQ(plain.unexpected_failures, 1u);
  const Json cert = certificate_json(plain, AgentInfo{"c", "./c", nullptr}, report);
  ASSERT_EQ(cert["interop"].size(), 2u);
  EXPECT_EQ(cert["interop"][0]["producer"], "c");  // sorted: c->reference first
  EXPECT_EQ(cert["interop"][0]["status"], "certified");
  EXPECT_EQ(cert["interop"][1]["producer"], "reference");
  EXPECT_EQ(cert["interop"][1]["status"], "failed");

  // An entry names the pair's case; it keeps the run green (never certifies).
  auto parsed = parse_expected_failures("c:Interop[reference->c].Required.Events.Block.FifoInOrder # expected Entry\n");
  ASSERT_TRUE(std::holds_alternative<std::vector<ExpectedFailure>>(parsed));
  const Judgement listed = judge("c", report, std::get<0>(parsed), ids, false);
  EXPECT_TRUE(listed.run_ok);
  EXPECT_FALSE(listed.certified);

  const auto matrix = interop_matrix({{"c", &report}});
  ASSERT_EQ(matrix.size(), 3u);  // c->c (its own run), c->reference, reference->c
  const std::string html = interop_matrix_html(matrix, {"c"});
  EXPECT_NE(html.find("<div class=\"cell failed\" data-kind-policy=\"Events/Block\">Events/Block 0/1"), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"c/report.html#Interop[reference-&gt;c].Required.Events.Block.FifoInOrder\">FifoInOrder</a>"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr><th>reference</th><td class=\"not-run\">not run</td>"), std::string::npos) << html;  // reference->reference
  EXPECT_NE(html.find("<div class=\"cell certified\" data-kind-policy=\"Events/Block\">Events/Block 1/1"), std::string::npos) << html;
}

}  // namespace
}  // namespace indexbus::certify

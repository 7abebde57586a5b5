// The judge of `indexbus certify` on hand-made reports: every verdict, the list's strictness
// (unexpected pass, stale entry, wrong message, unknown case), strict mode, and the certificate.
#include "indexbus/certify/certify.hpp"

#include <gtest/gtest.h>

#include <map>

namespace indexbus::certify {
namespace {

using harness::CaseResult;
using harness::ConformReport;
using harness::Level;
using harness::Outcome;

CaseResult make_case(std::string id, Level level, Outcome outcome, std::string detail = "") {
  CaseResult r;
  r.id = std::move(id);
  r.level = level;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

std::vector<ExpectedFailure> parse_ok(std::string_view text) {
  auto parsed = parse_expected_failures(text);
  EXPECT_TRUE(std::holds_alternative<std::vector<ExpectedFailure>>(parsed))
      << std::get<ParseError>(parsed).line << ": " << std::get<ParseError>(parsed).message;
  return std::holds_alternative<std::vector<ExpectedFailure>>(parsed) ? std::get<0>(parsed)
                                                                       : std::vector<ExpectedFailure>{};
}

const std::vector<std::string> kCatalog = {"Required.Events.Block.A", "Required.Events.Drop.B",
                                           "Recommended.Events.Read.C", "Informational.Events.D",
                                           "Required.Journal.Block.E"};

TEST(ExpectedFailures, ParsesEntriesCommentsAndAgentPrefixes) {
  const auto entries = parse_ok(
      "# comment\n\nRequired.Events.Block.A # step 3: expected Entry\n  c-agent:Required.Events.Drop.B #  \n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].case_id, "Required.Events.Block.A");
  EXPECT_EQ(entries[0].message_prefix, "step 3: expected Entry");
  EXPECT_EQ(entries[0].agent, "");
  EXPECT_EQ(entries[0].line, 3u);
  EXPECT_EQ(entries[1].agent, "c-agent");
  EXPECT_EQ(entries[1].message_prefix, "");
  EXPECT_EQ(entries[1].line, 4u);
}

TEST(ExpectedFailures, RejectsBadLinesNamingTheLine) {
  struct Bad {
    const char* text;
    std::size_t line;
    const char* says;
  };
  for (const Bad& bad : {Bad{"Required.Events.Block.A\n", 1, "no ' #'"},
                         Bad{"\nRequired.Events.Block.A # x\nRequired.Events.Block.A # y\n", 3, "listed twice"},
                         Bad{"two ids # x\n", 1, "one case ID"},
                         Bad{":Required.Events.Block.A # x\n", 1, "empty agent name"}}) {
    const auto parsed = parse_expected_failures(bad.text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(parsed)) << bad.text;
    EXPECT_EQ(std::get<ParseError>(parsed).line, bad.line) << bad.text;
    EXPECT_NE(std::get<ParseError>(parsed).message.find(bad.says), std::string::npos)
        << std::get<ParseError>(parsed).message;
  }
}

TEST(Judge, AllPassedIsCertifiedAndOk) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass),
                  make_case("Recommended.Events.Read.C", Level::Recommended, Outcome::Fail, "late by 5 ms"),
                  make_case("Required.Journal.Block.E", Level::Required, Outcome::Skip, "journal not supported")};
  const Judgement j = judge("ref", report, {}, kCatalog, false);
  EXPECT_TRUE(j.certified);
  EXPECT_TRUE(j.run_ok);
  EXPECT_EQ(j.cases[1].verdict, Verdict::NotCounted);
  EXPECT_EQ(j.cases[2].verdict, Verdict::Skip);
  // Strict: the RECOMMENDED failure counts.
  const Judgement strict = judge("ref", report, {}, kCatalog, true);
  EXPECT_FALSE(strict.certified);
  EXPECT_FALSE(strict.run_ok);
  EXPECT_EQ(strict.cases[1].verdict, Verdict::Fail);
}

TEST(Judge, NothingRunIsNotCertified) {
  ConformReport report;
  report.cases = {make_case("Required.Journal.Block.E", Level::Required, Outcome::Skip, "journal not supported")};
  EXPECT_FALSE(judge("ref", report, {}, kCatalog, false).certified);
}

TEST(Judge, ExpectedFailureKeepsTheRunOkButNeverCertifies) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Fail, "step 3 (agent 1 consumer TryRead): expected Entry, got Empty"),
                  make_case("Required.Events.Drop.B", Level::Required, Outcome::Pass)};
  const auto entries = parse_ok("Required.Events.Block.A # expected Entry\n");
  const Judgement j = judge("c", report, entries, kCatalog, false);
  EXPECT_EQ(j.cases[0].verdict, Verdict::ExpectedFail);
  EXPECT_TRUE(j.run_ok);
  EXPECT_FALSE(j.certified);
}

TEST(Judge, MessagesAreMatchedWithoutTheStepLocator) {
  EXPECT_EQ(failure_message("step 3 (agent 1 consumer TryRead): expected Entry, got Empty"), "expected Entry, got Empty");
  EXPECT_EQ(failure_message("agent died: signal 11"), "agent died: signal 11");
  EXPECT_EQ(failure_message("step 3 without locator"), "step 3 without locator");
}

TEST(Judge, UnexpectedFailureFailsTheRun) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Crash, "agent died: signal 11")};
  const Judgement j = judge("c", report, {}, kCatalog, false);
  EXPECT_EQ(j.cases[0].verdict, Verdict::Fail);
  EXPECT_EQ(j.unexpected_failures, 1u);
  EXPECT_FALSE(j.run_ok);
}

TEST(Judge, EveryKindOfStaleEntryFailsTheRun) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass),
                  make_case("Required.Events.Drop.B", Level::Required, Outcome::Fail, "torn entry at seq 4"),
                  make_case("Required.Journal.Block.E", Level::Required, Outcome::Skip, "journal not supported")};
  const auto entries = parse_ok(
      "Required.Events.Block.A # x\n"           // passed: unexpected pass
      "Required.Events.Drop.B # lost count\n"   // fails with another message
      "Required.Journal.Block.E # x\n"          // skipped
      "Required.Events.Gone # x\n"              // no such case
      "other:Required.Events.Block.A # x\n");   // another agent's: ignored
  const Judgement j = judge("c", report, entries, kCatalog, false);
  EXPECT_EQ(j.cases[0].verdict, Verdict::UnexpectedPass);
  EXPECT_EQ(j.cases[1].verdict, Verdict::Fail);
  ASSERT_EQ(j.stale.size(), 4u);
  EXPECT_NE(j.stale[0].reason.find("unexpected pass"), std::string::npos);
  EXPECT_NE(j.stale[1].reason.find("another message"), std::string::npos);
  EXPECT_NE(j.stale[2].reason.find("skipped"), std::string::npos);
  EXPECT_NE(j.stale[3].reason.find("no such case"), std::string::npos);
  EXPECT_FALSE(j.run_ok);
}

TEST(Judge, UpdatedListMakesTheSameRunOk) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Fail, "step 12 (agent 0 producer TryWrite(8 B 00)): expected Full, got Ok"),
                  make_case("Required.Events.Drop.B", Level::Required, Outcome::Pass),
                  make_case("Informational.Events.D", Level::Informational, Outcome::Fail, "slow")};
  const auto old_entries = parse_ok("Required.Events.Drop.B # x\nRequired.Journal.Block.E # not run: kept\n");
  const Judgement before = judge("c", report, old_entries, kCatalog, false);
  EXPECT_FALSE(before.run_ok);
  const std::string updated = updated_expected_failures({before}, old_entries);
  EXPECT_NE(updated.find("\nRequired.Events.Block.A # expected Full, got Ok\n"), std::string::npos) << updated;
  EXPECT_NE(updated.find("\nRequired.Journal.Block.E # not run: kept\n"), std::string::npos) << updated;
  EXPECT_EQ(updated.find("Required.Events.Drop.B"), std::string::npos) << updated;
  EXPECT_EQ(updated.find("Informational"), std::string::npos) << updated;
  EXPECT_TRUE(judge("c", report, parse_ok(updated), kCatalog, false).run_ok);
  // Two agents: entries name their agent, so that one agent's failures are not expected of the other.
  ConformReport clean;
  clean.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass)};
  const Judgement ref = judge("ref", clean, {}, kCatalog, false);
  const std::string both = updated_expected_failures({ref, before}, {});
  EXPECT_NE(both.find("\nc:Required.Events.Block.A # expected Full, got Ok\n"), std::string::npos) << both;
  EXPECT_TRUE(judge("ref", clean, parse_ok(both), kCatalog, false).run_ok);
  EXPECT_TRUE(judge("c", report, parse_ok(both), kCatalog, false).run_ok);
}

TEST(Certificate, CountsPerLevelScopeAndVerdict) {
  ConformReport report;
  report.seed = 42;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass),
                  make_case("Required.Events.Drop.B", Level::Required, Outcome::Fail, "x"),
                  make_case("Required.Journal.Block.E", Level::Required, Outcome::Skip, "journal not supported")};
  const Judgement j = judge("c", report, {}, kCatalog, false);
  AgentInfo agent{"c", "./c-agent --x", Json{{"type", "hello"}, {"implementation", {{"name", "c"}, {"version", "0.1"}}},
                                              {"lane_kinds", {"events"}}}};
  const Json cert = certificate_json(j, agent, report);
  EXPECT_EQ(cert["verdict"], "NOT CERTIFIED");
  EXPECT_EQ(cert["counts"]["REQUIRED"]["pass"], 1);
  EXPECT_EQ(cert["counts"]["REQUIRED"]["fail"], 1);
  EXPECT_EQ(cert["counts"]["REQUIRED"]["skip"], 1);
  EXPECT_EQ(cert["seed"], 42u);
  ASSERT_EQ(cert["scope"].size(), 2u);
  EXPECT_EQ(cert["scope"][0]["lane_kind"], "Events");
  EXPECT_EQ(cert["scope"][0]["status"], "failed");
  EXPECT_EQ(cert["scope"][1]["lane_kind"], "Journal");
  EXPECT_EQ(cert["scope"][1]["status"], "not supported or not run");
  EXPECT_EQ(cert["agent"]["declared"]["implementation"]["name"], "c");
  const std::string html = certificate_html(cert);
  EXPECT_NE(html.find("NOT CERTIFIED: c"), std::string::npos);
  EXPECT_NE(html.find("./c-agent --x"), std::string::npos);
  const std::string page = insert_after_body("<html><body class=\"x\"><p>cases</p></body></html>", "<b>C</b>");
  EXPECT_EQ(page, "<html><body class=\"x\">\n<b>C</b><p>cases</p></body></html>");
}

// INCONCLUSIVE (a linearizability check stopped at its bound) is neither a pass nor a failure: a
// counted one fails the run unless allowed, never certifies, cannot be excused by a list entry
// (an entry naming it is kept, neither matched nor stale), and is tallied as its own count.
TEST(Judge, InconclusiveFailsTheRunUnlessAllowedAndNeverCertifies) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass),
                  make_case("Required.Events.Drop.B", Level::Required, Outcome::Inconclusive,
                            "linearizability not decided: gave up after 10 configurations"),
                  make_case("Informational.Events.D", Level::Informational, Outcome::Inconclusive, "not decided")};
  const Judgement strict = judge("c", report, {}, kCatalog, false);
  EXPECT_EQ(strict.cases[1].verdict, Verdict::Inconclusive);
  EXPECT_EQ(strict.cases[2].verdict, Verdict::Inconclusive);
  EXPECT_EQ(strict.inconclusive, 1u);  // the INFORMATIONAL one does not count
  EXPECT_EQ(strict.unexpected_failures, 0u);
  EXPECT_TRUE(strict.list_matched);
  EXPECT_FALSE(strict.run_ok);
  EXPECT_FALSE(strict.certified);
  const Judgement allowed = judge("c", report, {}, kCatalog, false, true);
  EXPECT_TRUE(allowed.run_ok);
  EXPECT_FALSE(allowed.certified);
  // Only the INFORMATIONAL case inconclusive: the run is fine and certifies.
  ConformReport informational = report;
  informational.cases[1].outcome = Outcome::Pass;
  EXPECT_TRUE(judge("c", informational, {}, kCatalog, false).run_ok);
  EXPECT_TRUE(judge("c", informational, {}, kCatalog, false).certified);

  const auto entries = parse_ok("Required.Events.Drop.B # not linearizable\n");
  const Judgement listed = judge("c", report, entries, kCatalog, false);
  EXPECT_EQ(listed.cases[1].verdict, Verdict::Inconclusive);
  EXPECT_TRUE(listed.stale.empty());
  EXPECT_FALSE(listed.run_ok);
  const std::string updated = updated_expected_failures({listed}, entries);
  EXPECT_NE(updated.find("\nRequired.Events.Drop.B # not linearizable\n"), std::string::npos) << updated;
  EXPECT_EQ(updated.find("not decided"), std::string::npos) << updated;

  const Json cert = certificate_json(strict, AgentInfo{"c", "./c", Json()}, report);
  EXPECT_EQ(cert["verdict"], "NOT CERTIFIED");
  EXPECT_EQ(cert["counts"]["REQUIRED"]["inconclusive"], 1);
  EXPECT_EQ(cert["counts"]["REQUIRED"]["fail"], 0);
  EXPECT_EQ(cert["counts"]["INFORMATIONAL"]["inconclusive"], 1);
  EXPECT_EQ(cert["inconclusive"], 1u);
  EXPECT_FALSE(cert["run_ok"].get<bool>());
  ASSERT_EQ(cert["scope"].size(), 1u);
  EXPECT_EQ(cert["scope"][0]["status"], "inconclusive");
  EXPECT_EQ(cert["scope"][0]["counted_cases_inconclusive"], 1);
  EXPECT_NE(certificate_html(cert).find("<th>inconclusive</th>"), std::string::npos);
  EXPECT_EQ(to_string(Verdict::Inconclusive), "INCONCLUSIVE");
}

TEST(Certificate, EscapesWhatTheAgentSays) {
  ConformReport report;
  report.cases = {make_case("Required.Events.Block.A", Level::Required, Outcome::Pass)};
  const Judgement j = judge("<script>", report, {}, kCatalog, false);
  const Json cert = certificate_json(j, AgentInfo{"<script>", "a&b", Json()}, report);
  EXPECT_EQ(cert["verdict"], "CERTIFIED");
  const std::string html = certificate_html(cert);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&amp;b"), std::string::npos);
}

}  // namespace
}  // namespace indexbus::certify

namespace indexbus::certify {
namespace {

// The certificate lists each golden image the run covered, certified only when all its cases ran
// and passed; an image with a skipped case is "partly supported", one with a failure "failed".
TEST(Certificate, ListsTheGoldenImagesItCovers) {
  ConformReport report;
  report.cases = {make_case("Required.Layout.Golden.events_block_full.L0.consumer", Level::Required, Outcome::Pass),
                  make_case("Required.Layout.Golden.multi_lane.L0.consumer", Level::Required, Outcome::Pass),
                  make_case("Required.Layout.Golden.multi_lane.L2.reader.tail", Level::Required, Outcome::Skip, "no journal"),
                  make_case("Required.Layout.GoldenCreate.events_block_fresh", Level::Required, Outcome::Fail, "differs")};
  std::vector<std::string> ids;
  for (const CaseResult& c : report.cases) ids.push_back(c.id);
  const Judgement j = judge("c", report, {}, ids, false);
  const Json cert = certificate_json(j, AgentInfo{"c", "./c", Json::object()}, report);
  std::map<std::string, std::string> status;
  for (const Json& image : cert["golden_images"]) {
    EXPECT_EQ(image["sha256"].get<std::string>().size(), 64u);
    status[image["file"].get<std::string>()] = image["status"].get<std::string>();
  }
  EXPECT_EQ(status.size(), 3u);
  EXPECT_EQ(status["spec/golden/v1/events_block_full.bin"], "certified");
  EXPECT_EQ(status["spec/golden/v1/multi_lane.bin"], "partly supported");
  EXPECT_EQ(status["spec/golden/v1/events_block_fresh.bin"], "failed");
}

}  // namespace
}  // namespace indexbus::certify

#include "indexbus/certify/certify.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "golden_images.hpp"
#include "indexbus/certify/interop.hpp"
#include "indexbus/layout.hpp"

namespace indexbus::certify {
namespace {

using harness::CaseResult;
using harness::Level;
using harness::Outcome;

std::string trim(std::string_view text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

bool counted(Level level, bool strict) {
  return level == Level::Required || (strict && level == Level::Recommended);
}

bool applies_to(const ExpectedFailure& entry, const std::string& agent_name) {
  return entry.agent.empty() || entry.agent == agent_name;
}

// The message up to its first digit (numbers vary with the seed), at most 80 bytes.
std::string prefix_of(const std::string& message) {
  constexpr std::size_t kPrefixMax = 80;
  std::size_t end = 0;
  while (end < message.size() && end < kPrefixMax && !std::isdigit(static_cast<unsigned char>(message[end])) &&
         message[end] != '\n' && message[end] != '#') {
    ++end;
  }
  return trim(message.substr(0, end));
}

// The counted cases of one part of a certificate (a lane kind, a golden image, an interop pair).
struct Tally {
  int run = 0;           // counted cases that ran
  int passed = 0;        // of those, passed
  int inconclusive = 0;  // of those, INCONCLUSIVE
  int skipped = 0;       // counted or not

  void add(const CaseVerdict& v) {
    if (v.verdict == Verdict::Skip) {
      ++skipped;
      return;
    }
    if (!v.counted) return;
    ++run;
    passed += v.result->outcome == Outcome::Pass;
    inconclusive += v.result->outcome == Outcome::Inconclusive;
  }
  // Of a part whose counted cases ran: every one passed, the rest all INCONCLUSIVE, or some failed.
  const char* ran_status() const {
    return passed == run ? "certified" : passed + inconclusive == run ? "inconclusive" : "failed";
  }
  void to_json(Json& out) const {
    out["counted_cases_run"] = run;
    out["counted_cases_passed"] = passed;
    out["counted_cases_inconclusive"] = inconclusive;
    out["cases_skipped"] = skipped;
  }
};


}  // namespace

std::string failure_message(const std::string& detail) {
  if (!detail.starts_with("step ") && !detail.starts_with("region after step ")) return detail;
  const std::size_t end = detail.find("): ");
  return end == std::string::npos ? detail : detail.substr(end + 3);
}

std::variant<std::vector<ExpectedFailure>, ParseError> parse_expected_failures(std::string_view text) {
  std::vector<ExpectedFailure> entries;
  std::set<std::pair<std::string, std::string>> seen;  // (agent, case)
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t newline = text.find('\n', start);
    const std::string_view raw =
        text.substr(start, newline == std::string_view::npos ? std::string_view::npos : newline - start);
    ++line_number;
    start = newline == std::string_view::npos ? text.size() + 1 : newline + 1;
    const std::string line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t hash = line.find(" #");
    if (hash == std::string::npos) {
      return ParseError{line_number, "expected 'CASE-ID # MESSAGE-PREFIX', found '" + line + "' (no ' #')"};
    }
    ExpectedFailure entry;
    entry.line = line_number;
    std::string id = trim(std::string_view(line).substr(0, hash));
    entry.message_prefix = trim(std::string_view(line).substr(hash + 2));
    if (const std::size_t colon = id.find(':'); colon != std::string::npos) {
      entry.agent = id.substr(0, colon);
      id = id.substr(colon + 1);
      if (entry.agent.empty()) return ParseError{line_number, "empty agent name before ':' in '" + line + "'"};
    }
    if (id.empty() || id.find_first_of(" \t") != std::string::npos) {
      return ParseError{line_number, "expected one case ID before ' #', found '" + id + "'"};
    }
    entry.case_id = id;
    if (!seen.emplace(entry.agent, entry.case_id).second) {
      return ParseError{line_number, "case " + entry.case_id + " is listed twice" +
                                         (entry.agent.empty() ? "" : " for agent " + entry.agent)};
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass: return "PASS";
    case Verdict::Fail: return "FAIL";
    case Verdict::ExpectedFail: return "XFAIL";
    case Verdict::UnexpectedPass: return "XPASS";
    case Verdict::NotCounted: return "NOT-COUNTED";
    case Verdict::Skip: return "SKIP";
    case Verdict::Inconclusive: return "INCONCLUSIVE";
  }
  return "?";
}

Judgement judge(const std::string& agent_name, const harness::ConformReport& report,
                const std::vector<ExpectedFailure>& entries, const std::vector<std::string>& catalog_ids,
                bool strict, bool allow_inconclusive) {
  Judgement j;
  j.agent_name = agent_name;
  j.strict = strict;
  j.allow_inconclusive = allow_inconclusive;
  std::map<std::string, const ExpectedFailure*> listed;  // case -> the entry for this agent
  for (const ExpectedFailure& entry : entries) {
    if (!applies_to(entry, agent_name)) continue;
    // An agent-specific entry wins over a general one for the same case.
    auto [it, inserted] = listed.emplace(entry.case_id, &entry);
    if (!inserted && !entry.agent.empty()) it->second = &entry;
  }
  std::set<std::string> used;
  std::size_t counted_run = 0, counted_passed = 0;
  for (const CaseResult& result : report.cases) {
    CaseVerdict v;
    v.result = &result;
    v.counted = counted(result.level, strict);
    const auto entry_it = listed.find(result.id);
    const ExpectedFailure* entry = entry_it == listed.end() ? nullptr : entry_it->second;
    if (entry != nullptr) used.insert(result.id);
    if (result.outcome == Outcome::Skip) {
      v.verdict = Verdict::Skip;
      if (entry != nullptr) j.stale.push_back({*entry, "case skipped: " + result.detail});
    } else if (result.outcome == Outcome::Inconclusive) {
      // Neither passed nor failed: the run cannot tell whether an entry naming the case still holds.
      v.verdict = Verdict::Inconclusive;
      if (v.counted) ++j.inconclusive;
    } else if (result.outcome == Outcome::Pass) {
      v.verdict = entry != nullptr ? Verdict::UnexpectedPass : Verdict::Pass;
      if (entry != nullptr) j.stale.push_back({*entry, "case passed (unexpected pass)"});
      if (v.counted) ++counted_passed;
    } else if (entry != nullptr && failure_message(result.detail).starts_with(entry->message_prefix)) {
      v.verdict = Verdict::ExpectedFail;
    } else if (entry != nullptr) {
      v.verdict = v.counted ? Verdict::Fail : Verdict::NotCounted;
      j.stale.push_back({*entry, "fails with another message: '" + result.detail + "'"});
      if (v.counted) ++j.unexpected_failures;
    } else {
      v.verdict = v.counted ? Verdict::Fail : Verdict::NotCounted;
      if (v.counted) ++j.unexpected_failures;
    }
    if (v.counted && result.outcome != Outcome::Skip) ++counted_run;
    j.cases.push_back(v);
  }
  const std::set<std::string> known(catalog_ids.begin(), catalog_ids.end());
  for (const auto& [id, entry] : listed) {
    if (!known.contains(id)) j.stale.push_back({*entry, "no such case in the catalog"});
  }
  j.list_matched = j.unexpected_failures == 0 && j.stale.empty();
  j.run_ok = j.list_matched && (j.inconclusive == 0 || allow_inconclusive);
  j.certified = counted_run > 0 && counted_passed == counted_run &&
                std::none_of(j.cases.begin(), j.cases.end(), [](const CaseVerdict& v) {
                  return v.counted && v.verdict != Verdict::Pass && v.verdict != Verdict::Skip &&
                         v.verdict != Verdict::UnexpectedPass;
                });
  return j;
}

std::string updated_expected_failures(const std::vector<Judgement>& judgements,
                                      const std::vector<ExpectedFailure>& entries) {
  std::string out =
      "# Expected failures (indexbus certify): CASE-ID # MESSAGE-PREFIX, or AGENT:CASE-ID # MESSAGE-PREFIX.\n"
      "# Written by indexbus certify: the list that makes the run that wrote it match exactly.\n";
  auto ran = [&](const ExpectedFailure& entry) {
    for (const Judgement& j : judgements) {
      if (!applies_to(entry, j.agent_name)) continue;
      for (const CaseVerdict& v : j.cases) {
        if (v.result->id == entry.case_id) return v.verdict != Verdict::Inconclusive;
      }
    }
    return false;
  };
  for (const ExpectedFailure& entry : entries) {
    if (ran(entry)) continue;  // about a case this run did not select or could not decide: kept as it was
    out += (entry.agent.empty() ? "" : entry.agent + ":") + entry.case_id + " # " + entry.message_prefix + "\n";
  }
  for (const Judgement& j : judgements) {
    const std::string agent = judgements.size() > 1 ? j.agent_name + ":" : "";
    for (const CaseVerdict& v : j.cases) {
      if (!v.counted) continue;
      const Outcome outcome = v.result->outcome;
      if (outcome == Outcome::Pass || outcome == Outcome::Skip || outcome == Outcome::Inconclusive) continue;
      out += agent + v.result->id + " # " + prefix_of(failure_message(v.result->detail)) + "\n";
    }
  }
  return out;
}

Json certificate_json(const Judgement& judgement, const AgentInfo& agent, const harness::ConformReport& report) {
  Json counts = Json::object();
  for (const Level level : {Level::Required, Level::Recommended, Level::Informational}) {
    Json c = {{"total", 0}, {"pass", 0}, {"fail", 0}, {"expected_fail", 0}, {"unexpected_pass", 0}, {"skip", 0},
              {"inconclusive", 0}, {"counted", counted(level, judgement.strict)}};
    for (const CaseVerdict& v : judgement.cases) {
      if (v.result->level != level) continue;
      c["total"] = c["total"].get<int>() + 1;
      const char* key = "fail";
      switch (v.verdict) {
        case Verdict::Pass: key = "pass"; break;
        case Verdict::ExpectedFail: key = "expected_fail"; break;
        case Verdict::UnexpectedPass: key = "unexpected_pass"; break;
        case Verdict::Skip: key = "skip"; break;
        case Verdict::Inconclusive: key = "inconclusive"; break;
        case Verdict::Fail:
        case Verdict::NotCounted: key = "fail"; break;
      }
      c[key] = c[key].get<int>() + 1;
    }
    counts[harness::to_string(level)] = c;
  }
  // Scope: per lane kind (second part of the case ID), what this certificate covers.
  std::map<std::string, Tally> per_kind;
  for (const CaseVerdict& v : judgement.cases) per_kind[lane_kind_of(v.result->id)].add(v);
  Json scope = Json::array();
  for (const auto& [kind, k] : per_kind) {
    const char* status = k.run == 0 ? (k.skipped > 0 ? "not supported or not run" : "no counted case") : k.ran_status();
    Json entry{{"lane_kind", kind}, {"status", status}};
    k.to_json(entry);
    scope.push_back(std::move(entry));
  }
  // The golden images (spec/golden/v1) this run covered, each certified only when every counted
  // case on it (its reads, and for a fresh image its create case) ran and passed.
  Json golden_images = Json::array();
  for (const golden::GoldenImage& image : golden::golden_images()) {
    const std::string read_prefix = "Required.Layout.Golden." + image.name + ".";
    const std::string create_id = "Required.Layout.GoldenCreate." + image.name;
    Tally k;
    for (const CaseVerdict& v : judgement.cases) {
      if (v.result->id.rfind(read_prefix, 0) == 0 || v.result->id == create_id) k.add(v);
    }
    if (k.run + k.skipped == 0) continue;  // not selected
    const char* status = k.run == 0 ? "not supported or not run" : k.run == k.passed && k.skipped > 0 ? "partly supported" : k.ran_status();
    Json entry{{"file", "spec/golden/v1/" + image.name + ".bin"}, {"sha256", golden::sha256_hex(image.bytes)}, {"status", status}};
    k.to_json(entry);
    golden_images.push_back(std::move(entry));
  }
  // Interop: per pair of implementations (the Interop[P->C] cases), what this certificate covers.
  std::map<InteropPair, Tally> per_pair;
  for (const CaseVerdict& v : judgement.cases) {
    if (const auto parsed = parse_interop_id(v.result->id)) per_pair[parsed->pair].add(v);
  }
  Json interop = Json::array();
  for (const auto& [pair, k] : per_pair) {
    Json entry{{"producer", pair.producer}, {"consumer", pair.consumer}, {"status", k.run == 0 ? "not run" : k.ran_status()}};
    k.to_json(entry);
    interop.push_back(std::move(entry));
  }
  Json stale = Json::array();
  for (const StaleEntry& s : judgement.stale) {
    stale.push_back({{"line", s.entry.line}, {"case", s.entry.case_id}, {"reason", s.reason}});
  }
  Json declared = Json::object();
  if (agent.hello.is_object()) {
    for (const char* field : {"protocol", "implementation", "layout_versions", "lane_kinds", "policies", "batch"}) {
      if (agent.hello.contains(field)) declared[field] = agent.hello[field];
    }
  }
  const std::string layout = std::to_string(kLayoutVersionMajor) + "." + std::to_string(kLayoutVersionMinor);
  return Json{
      {"certificate_version", 1},
      {"verdict", judgement.certified ? "CERTIFIED" : "NOT CERTIFIED"},
      {"harness", {{"name", "indexbus"}, {"version", INDEXBUS_VERSION}}},
      {"layout_version", layout},
      {"agent", {{"name", agent.name}, {"command", agent.command}, {"declared", declared}}},
      {"seed", report.seed},
      {"strict", judgement.strict},
      {"counts", counts},
      {"scope", scope},
      {"golden_images", golden_images},
      {"interop", interop},
      {"unexpected_failures", judgement.unexpected_failures},
      {"inconclusive", judgement.inconclusive},
      {"allow_inconclusive", judgement.allow_inconclusive},
      {"stale_entries", stale},
      {"run_ok", judgement.run_ok},
  };
}

std::string certificate_html(const Json& c) {
  const bool certified = c.value("verdict", "") == "CERTIFIED";
  std::string h = "<section id=\"certificate\" class=\"certificate\">\n";
  h += std::string("<h1 class=\"verdict ") + (certified ? "certified" : "not-certified") + "\">" +
       harness::xml_escape(c.value("verdict", "?")) + ": " + harness::xml_escape(c["agent"].value("name", "?")) + "</h1>\n";
  const Json& declared = c["agent"]["declared"];
  std::string implementation = "?";
  if (declared.contains("implementation") && declared["implementation"].is_object()) {
    implementation = declared["implementation"].value("name", "?") + " " + declared["implementation"].value("version", "?");
  }
  h += "<p>Implementation " + harness::xml_escape(implementation) + ", command <code>" +
       harness::xml_escape(c["agent"].value("command", "")) + "</code>; harness " + harness::xml_escape(c["harness"].value("version", "?")) +
       ", layout " + harness::xml_escape(c.value("layout_version", "?")) + ", seed " + std::to_string(c.value("seed", 0ull)) +
       (c.value("strict", false) ? ", strict (RECOMMENDED counts)" : "") + ".</p>\n";
  h += "<table class=\"counts\"><tr><th>level</th><th>total</th><th>pass</th><th>fail</th><th>expected fail</th>"
       "<th>unexpected pass</th><th>skip</th><th>inconclusive</th><th>counts for the verdict</th></tr>\n";
  for (const auto& [level, n] : c["counts"].items()) {
    h += "<tr><td>" + harness::xml_escape(level) + "</td>";
    for (const char* key : {"total", "pass", "fail", "expected_fail", "unexpected_pass", "skip", "inconclusive"}) {
      h += "<td>" + std::to_string(n.value(key, 0)) + "</td>";
    }
    h += std::string("<td>") + (n.value("counted", false) ? "yes" : "no") + "</td></tr>\n";
  }
  h += "</table>\n<table class=\"scope\"><tr><th>lane kind</th><th>status</th><th>counted cases passed / run</th>"
       "<th>skipped</th></tr>\n";
  for (const Json& s : c["scope"]) {
    h += "<tr><td>" + harness::xml_escape(s.value("lane_kind", "?")) + "</td><td>" + harness::xml_escape(s.value("status", "?")) +
         "</td><td>" + std::to_string(s.value("counted_cases_passed", 0)) + " / " +
         std::to_string(s.value("counted_cases_run", 0)) + "</td><td>" + std::to_string(s.value("cases_skipped", 0)) +
         "</td></tr>\n";
  }
  h += "</table>\n";
  if (c.contains("interop") && !c["interop"].empty()) {
    h += "<table class=\"interop\"><tr><th>producer</th><th>consumer</th><th>status</th>"
         "<th>counted interop cases passed / run</th><th>skipped</th></tr>\n";
    for (const Json& p : c["interop"]) {
      h += "<tr><td>" + harness::xml_escape(p.value("producer", "?")) + "</td><td>" + harness::xml_escape(p.value("consumer", "?")) +
           "</td><td>" + harness::xml_escape(p.value("status", "?")) + "</td><td>" +
           std::to_string(p.value("counted_cases_passed", 0)) + " / " + std::to_string(p.value("counted_cases_run", 0)) +
           "</td><td>" + std::to_string(p.value("cases_skipped", 0)) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  if (!c["stale_entries"].empty()) {
    h += "<p>Expected-failures entries that did not hold:</p><ul>\n";
    for (const Json& s : c["stale_entries"]) {
      h += "<li>line " + std::to_string(s.value("line", 0)) + ": " + harness::xml_escape(s.value("case", "")) + ": " +
           harness::xml_escape(s.value("reason", "")) + "</li>\n";
    }
    h += "</ul>\n";
  }
  h += "</section>\n";
  return h;
}

std::string insert_after_body(const std::string& page, const std::string& html) {
  const std::size_t body = page.find("<body");
  if (body == std::string::npos) return html + page;
  const std::size_t close = page.find('>', body);
  if (close == std::string::npos) return html + page;
  return page.substr(0, close + 1) + "\n" + html + page.substr(close + 1);
}

}  // namespace indexbus::certify

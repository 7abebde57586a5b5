#include "indexbus/harness/conform.hpp"

#include <fnmatch.h>
#include <errno.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "indexbus/conformance/lane_under_test.hpp"  // SetupError
#include "indexbus/harness/batch.hpp"
#include "indexbus/harness/lin_batch.hpp"
#include "indexbus/harness/ring_step.hpp"
#include "indexbus/protocol/frame.hpp"

namespace indexbus::harness {
namespace {

// argv if given, else the executable called name in agent_argv[0]'s directory.
std::vector<std::string> beside_agent(const ConformOptions& options, const std::vector<std::string>& argv, const char* name) {
  if (!argv.empty() || options.agent_argv.empty()) return argv;
  const std::string& agent = options.agent_argv.front();
  const std::size_t slash = agent.rfind('/');
  return {(slash == std::string::npos ? std::string() : agent.substr(0, slash + 1)) + name};
}

CaseResult run_one(const CaseDef& def, const ConformOptions& options, const ScratchDir& dir) {
  const std::uint64_t seed = case_seed(options.seed, def.id);
  const AgentAssignment assignment{options.agent_argv, options.consumer_agent_argv};
  const auto start = std::chrono::steady_clock::now();
  CaseResult result;
  try {
    if (def.make_scenario) {
      std::mt19937_64 rng(seed);
      const Scenario scenario = def.make_scenario(rng);
      result = run_step_case(def, scenario, seed, assignment, dir, options.request_deadline_ms);
    } else if (def.make_ring) {
      std::mt19937_64 rng(seed);
      const RingScenario scenario = def.make_ring(rng);
      result = run_ring_case(def, scenario, seed, assignment, dir, options.request_deadline_ms);
    } else if (def.make_lin_batch) {
      std::mt19937_64 rng(seed);
      LinBatchScenario scenario = def.make_lin_batch(rng);
      if (options.lin_configurations_max != 0) scenario.check_configurations_max = options.lin_configurations_max;
      result = run_lin_batch_case(def, scenario, seed, assignment, dir, options.request_deadline_ms);
    } else if (def.make_batch) {
      std::mt19937_64 rng(seed);
      const BatchScenario scenario = def.make_batch(rng);
      result = run_batch_case(def, scenario, seed, assignment, dir, options.request_deadline_ms);
    } else if (def.run_with_agents) {
      result.id = def.id;
      result.level = def.level;
      result.rules = def.rules;
      result.seed = seed;
      def.run_with_agents(AgentCaseContext{seed, options.agent_argv, dir, options.request_deadline_ms}, result);
    } else {
      result.id = def.id;
      result.level = def.level;
      result.rules = def.rules;
      result.seed = seed;
      const InProcessOutcome outcome = def.run_in_process(CaseContext{seed, dir.path(), beside_agent(options, options.loop_argv, "indexbus"),
                                                                      beside_agent(options, options.reference_agent_argv, "indexbus-agent"),
                                                                      options.request_deadline_ms, options.sim_seconds,
                                                                      options.sim_plant});
      result.outcome = outcome.passed ? Outcome::Pass : outcome.inconclusive ? Outcome::Inconclusive : Outcome::Fail;
      result.detail = outcome.detail;
    }
  } catch (const conformance::SetupError& e) {
    result = CaseResult{};
    result.id = def.id;
    result.level = def.level;
    result.rules = def.rules;
    result.seed = seed;
    result.outcome = Outcome::Crash;
    result.detail = std::string("setup failed: ") + e.what();
  }
  result.timing_dependent = is_timing_dependent(def);
  result.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Json history_json(const std::vector<HistoryRecord>& history) {
  Json out = Json::array();
  for (const HistoryRecord& r : history) {
    out.push_back({{"step", r.step},
                   {"agent", r.agent},
                   {"action", r.action},
                   {"expected", r.expected},
                   {"actual", r.actual},
                   {"invoked_ns", r.invoked_ns},
                   {"returned_ns", r.returned_ns},
                   {"matched", r.matched}});
  }
  return out;
}

Json case_json(const CaseResult& c, const ConformOptions& options, bool with_history) {
  Json out{{"id", c.id},
           {"level", to_string(c.level)},
           {"rules", c.rules},
           {"outcome", to_string(c.outcome)},
           {"duration_s", c.duration_s},
           {"seed", c.seed},
           {"detail", c.detail},
           {"timing_dependent", c.timing_dependent}};
  if (c.outcome != Outcome::Pass && c.outcome != Outcome::Skip) {
    out["replay"] = replay_command(options, c);
    if (c.timing_dependent) out["replay_caveat"] = replay_caveat(c);
  }
  if (with_history) {
    out["history"] = history_json(c.history);
    out["scenario"] = c.scenario;
    if (!c.sim_scenario.empty()) out["sim"] = Json{{"lane", c.sim_lane}, {"scenario", c.sim_scenario}, {"omitted", c.sim_omitted}};
  }
  return out;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=:") ==
                           std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<const CaseDef*> select_cases(const std::vector<std::string>& globs) {
  std::vector<const CaseDef*> out;
  for (const CaseDef& def : catalog()) {
    bool selected = globs.empty();
    for (const std::string& glob : globs) selected = selected || ::fnmatch(glob.c_str(), def.id.c_str(), 0) == 0;
    if (selected) out.push_back(&def);
  }
  return out;
}

ConformReport run_conform(const ConformOptions& options, const std::vector<const CaseDef*>& cases,
                          const std::function<void(const CaseResult&, std::size_t, std::size_t)>& on_done) {
  const ScratchDir dir(options.region_dir);
  ConformReport report;
  report.seed = options.seed;
  report.agent_argv = options.agent_argv;
  report.consumer_agent_argv = options.consumer_agent_argv;
  report.allow_inconclusive = options.allow_inconclusive;
  report.cases.resize(cases.size());
  const std::uint64_t start_ns = protocol::monotonic_now_ns();
  const std::uint64_t budget_end_ns = start_ns + options.time_budget_ms * 1'000'000;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex done_mutex;
  auto worker = [&] {
    // Each pass takes one case: bounded by the number of cases.
    for (std::size_t i = next.fetch_add(1); i < cases.size(); i = next.fetch_add(1)) {
      CaseResult result;
      if (protocol::monotonic_now_ns() >= budget_end_ns) {
        result.id = cases[i]->id;
        result.level = cases[i]->level;
        result.rules = cases[i]->rules;
        result.seed = case_seed(options.seed, cases[i]->id);
        result.outcome = Outcome::Skip;
        result.detail = "time budget of " + std::to_string(options.time_budget_ms / 1000) + " s used up before this case";
      } else {
        result = run_one(*cases[i], options, dir);
      }
      const std::lock_guard lock(done_mutex);
      report.cases[i] = std::move(result);
      ++done;
      if (on_done) on_done(report.cases[i], done, cases.size());
    }
  };
  const std::uint32_t jobs = std::max<std::uint32_t>(1, std::min<std::uint32_t>(options.jobs, 64));
  std::vector<std::thread> threads;
  for (std::uint32_t j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  report.duration_s = static_cast<double>(protocol::monotonic_now_ns() - start_ns) / 1e9;
  return report;
}

std::string replay_command(const ConformOptions& options, const CaseResult& result) {
  return options.replay_prefix + " --cases " + shell_quote(result.id) + " --seed " + std::to_string(options.seed);
}

std::string replay_caveat(const CaseResult& result) {
  if (!result.timing_dependent) return "";
  return "timing-dependent: the seed fixes the scenario, the pauses and the perturbations, not the interleaving of "
         "real processes, so the same command may pass; `indexbus replay <report>/failures/" + result.id +
         ".json --sim` searches the interleaving in the simulator";
}

bool run_failed(const ConformReport& report) {
  for (const CaseResult& c : report.cases) {
    if (c.level != Level::Required || c.outcome == Outcome::Pass || c.outcome == Outcome::Skip) continue;
    if (c.outcome != Outcome::Inconclusive || !report.allow_inconclusive) return true;
  }
  return false;
}

std::array<std::size_t, kOutcomeCount> outcome_counts(const ConformReport& report) {
  std::array<std::size_t, kOutcomeCount> counts{};
  for (const CaseResult& c : report.cases) counts.at(static_cast<std::size_t>(c.outcome)) += 1;
  return counts;
}

std::string outcome_counts_text(const ConformReport& report) {
  const auto counts = outcome_counts(report);
  auto n = [&](Outcome outcome) { return std::to_string(counts[static_cast<std::size_t>(outcome)]); };
  return n(Outcome::Pass) + " passed, " + n(Outcome::Fail) + " failed, " + n(Outcome::Crash) + " crashed, " + n(Outcome::Timeout) +
         " timed out, " + n(Outcome::Inconclusive) + " inconclusive, " + n(Outcome::Skip) + " skipped";
}

std::size_t required_inconclusive(const ConformReport& report) {
  return static_cast<std::size_t>(std::count_if(report.cases.begin(), report.cases.end(), [](const CaseResult& c) {
    return c.level == Level::Required && c.outcome == Outcome::Inconclusive;
  }));
}

Json index_json(const ConformReport& report, const ConformOptions& options) {
  Json cases = Json::array();
  Json summary = Json::object();
  const auto counts = outcome_counts(report);
  for (std::size_t i = 0; i < kOutcomeCount; ++i) summary[to_string(static_cast<Outcome>(i))] = counts[i];
  // The same counts apart for the cases the seed replays exactly and the timing-dependent ones.
  Json by_replay = {{"deterministic", Json::object()}, {"timing_dependent", Json::object()}};
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    by_replay["deterministic"][to_string(static_cast<Outcome>(i))] = 0;
    by_replay["timing_dependent"][to_string(static_cast<Outcome>(i))] = 0;
  }
  for (const CaseResult& c : report.cases) {
    auto& n = by_replay[c.timing_dependent ? "timing_dependent" : "deterministic"][to_string(c.outcome)];
    n = n.get<std::size_t>() + 1;
  }
  for (const CaseResult& c : report.cases) {
    cases.push_back(case_json(c, options, c.outcome != Outcome::Pass && c.outcome != Outcome::Skip));
  }
  return Json{{"tool", "indexbus conform"},
              {"protocol", protocol::kProtocolVersion},
              {"seed", report.seed},
              {"agent", report.agent_argv},
              {"consumer_agent", report.consumer_agent_argv.empty() ? report.agent_argv : report.consumer_agent_argv},
              {"duration_s", report.duration_s},
              {"passed", !run_failed(report)},
              {"allow_inconclusive", report.allow_inconclusive},
              {"summary", summary},
              {"summary_by_replay", by_replay},
              {"cases", cases}};
}

std::string junit_xml(const ConformReport& report, const ConformOptions& options) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"indexbus conform\">\n";
  // Two suites: the cases the seed replays exactly, and the timing-dependent ones (replay_caveat).
  for (const bool timing : {false, true}) {
    std::size_t tests = 0;
    std::size_t failures = 0;
    std::size_t errors = 0;
    std::size_t skipped = 0;
    double seconds = 0;
    for (const CaseResult& c : report.cases) {
      if (c.timing_dependent != timing) continue;
      tests += 1;
      seconds += c.duration_s;
      failures += c.outcome == Outcome::Fail;
      errors += c.outcome == Outcome::Crash || c.outcome == Outcome::Timeout || c.outcome == Outcome::Inconclusive;
      skipped += c.outcome == Outcome::Skip;
    }
    if (tests == 0) continue;
    xml += std::string("  <testsuite name=\"indexbus-conform.") + (timing ? "timing-dependent" : "deterministic") + "\" tests=\"" +
           std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" + std::to_string(errors) +
           "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + std::to_string(seconds) + "\">\n";
    xml += "    <properties><property name=\"seed\" value=\"" + std::to_string(report.seed) + "\"/></properties>\n";
    for (const CaseResult& c : report.cases) {
      if (c.timing_dependent != timing) continue;
      const std::size_t dot = c.id.rfind('.');
      const std::string classname = dot == std::string::npos ? c.id : c.id.substr(0, dot);
      const std::string name = dot == std::string::npos ? c.id : c.id.substr(dot + 1);
      xml += "    <testcase classname=\"" + xml_escape(classname) + "\" name=\"" + xml_escape(name) + "\" time=\"" +
             std::to_string(c.duration_s) + "\">";
      const std::string body = xml_escape(to_string(c.level) + " " + c.id + " [" + [&] {
                                            std::string rules;
                                            for (const auto& r : c.rules) rules += (rules.empty() ? "" : " ") + r;
                                            return rules;
                                          }() + "]\n" + c.detail + "\nseed " + std::to_string(c.seed) + "\nreplay: " +
                                          replay_command(options, c) + (timing ? "\n" + replay_caveat(c) : ""));
      switch (c.outcome) {
        case Outcome::Pass: break;
        case Outcome::Skip: xml += "<skipped message=\"" + xml_escape(c.detail) + "\"/>"; break;
        case Outcome::Fail:
          xml += "\n      <failure type=\"FAIL\" message=\"" + xml_escape(c.detail) + "\">" + body + "</failure>\n    ";
          break;
        case Outcome::Crash:
        case Outcome::Timeout:
        case Outcome::Inconclusive:  // not a failure of the lane, but no pass either: an error of the run
          xml += "\n      <error type=\"" + to_string(c.outcome) + "\" message=\"" +
                 xml_escape((c.outcome == Outcome::Inconclusive ? "inconclusive: " : "") + c.detail) + "\">" + body + "</error>\n    ";
          break;
      }
      xml += "</testcase>\n";
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

std::string report_html(const ConformReport& report, const ConformOptions& options) {
  std::string agent;
  for (const std::string& arg : report.agent_argv) agent += (agent.empty() ? "" : " ") + arg;
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>indexbus conform report</title>\n";
  // Self-contained: inline style, no script, no external resource; readable as a file:// page.
  h += "<style>\n"
       "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
       "vertical-align:top;font-size:13px}\n"
       ".PASS{background:#dfd}.FAIL{background:#fcc}.CRASH{background:#f9a}.TIMEOUT{background:#fd9}.SKIP{background:#eee}.INCONCLUSIVE{background:#e6dcf5}\n"
       "tr.mismatch td{background:#fcc;font-weight:bold}code{background:#f4f4f4;padding:1px 4px}\n"
       ".lane{min-width:14em}.bar{display:inline-block;height:8px;background:#58c;margin-right:4px}\n"
       "section.case{border-top:2px solid #999;margin-top:1.5em}\n"
       "</style></head><body>\n";
  // A run that did not fail but has an INCONCLUSIVE case is not shown as a pass.
  const bool inconclusive = outcome_counts(report)[static_cast<std::size_t>(Outcome::Inconclusive)] > 0;
  const char* summary_class = run_failed(report) ? "FAIL" : inconclusive ? "INCONCLUSIVE" : "PASS";
  h += "<h1>indexbus conform</h1>\n<p id=\"summary\" class=\"" + std::string(summary_class) + "\">" +
       outcome_counts_text(report) + " in " + std::to_string(report.duration_s) + " s; seed " + std::to_string(report.seed) + "; agent <code>" +
       xml_escape(agent) + "</code></p>\n";
  // Apart: the cases the seed replays exactly, then the timing-dependent ones.
  for (const bool timing : {false, true}) {
  std::size_t shown = 0;
  for (const CaseResult& c : report.cases) shown += c.timing_dependent == timing;
  if (shown == 0) continue;
  h += timing ? "<h2 id=\"timing-dependent\">Timing-dependent cases</h2>\n<p>Real processes at full speed: the seed fixes the "
                "scenario, the pauses and the perturbations, not the interleaving, so a replay may pass.</p>\n"
              : "<h2 id=\"deterministic\">Deterministic cases</h2>\n<p>The seed replays each exactly.</p>\n";
  h += std::string("<table id=\"cases-") + (timing ? "timing-dependent" : "deterministic") +
       "\"><tr><th>Outcome</th><th>Level</th><th>Case</th><th>Rules</th><th>Seconds</th><th>Detail</th></tr>\n";
  for (const CaseResult& c : report.cases) {
    if (c.timing_dependent != timing) continue;
    std::string rules;
    for (const auto& r : c.rules) rules += (rules.empty() ? "" : " ") + r;
    const bool detailed = c.outcome != Outcome::Pass && c.outcome != Outcome::Skip;
    h += "<tr class=\"" + to_string(c.outcome) + "\"><td>" + to_string(c.outcome) + "</td><td>" + to_string(c.level) +
         "</td><td>" + (detailed ? "<a href=\"#" + xml_escape(c.id) + "\">" + xml_escape(c.id) + "</a>" : xml_escape(c.id)) +
         "</td><td>" + rules + "</td><td>" + std::to_string(c.duration_s) + "</td><td>" + xml_escape(c.detail) + "</td></tr>\n";
  }
  h += "</table>\n";
  }
  for (const CaseResult& c : report.cases) {
    if (c.outcome == Outcome::Pass || c.outcome == Outcome::Skip) continue;
    std::size_t agents = 1;
    for (const HistoryRecord& r : c.history) agents = std::max(agents, r.agent + 1);
    std::uint64_t longest_ns = 1;
    for (const HistoryRecord& r : c.history) longest_ns = std::max(longest_ns, r.returned_ns - r.invoked_ns);
    h += "<section class=\"case " + to_string(c.outcome) + "\" id=\"" + xml_escape(c.id) + "\">\n<h2>" +
         to_string(c.outcome) + " " + xml_escape(c.id) + "</h2>\n";
    h += "<p class=\"detail\">" + xml_escape(c.detail) + "</p>\n<p>Replay: <code class=\"replay\">" +
         xml_escape(replay_command(options, c)) + "</code> (case seed " + std::to_string(c.seed) + ")" +
         (c.timing_dependent ? "<br><span class=\"caveat\">" + xml_escape(replay_caveat(c)) + "</span>" : "") + "</p>\n";
    // The history as a timeline: one row per step, one column per agent process, the model's
    // expectation beside what the agent returned; the bar is the operation's duration.
    h += "<table class=\"timeline\"><tr><th>Step</th>";
    for (std::size_t a = 0; a < agents; ++a) h += "<th class=\"lane\">Agent " + std::to_string(a) + "</th>";
    h += "<th>Model expects</th><th>Agent returned</th><th>Duration</th></tr>\n";
    for (const HistoryRecord& r : c.history) {
      const std::uint64_t took_ns = r.returned_ns - r.invoked_ns;
      h += std::string("<tr") + (r.matched ? "" : " class=\"mismatch\"") + "><td>" + std::to_string(r.step) + "</td>";
      for (std::size_t a = 0; a < agents; ++a) h += "<td>" + (a == r.agent ? xml_escape(r.action) : std::string()) + "</td>";
      h += "<td>" + xml_escape(r.expected) + "</td><td>" + xml_escape(r.actual) + "</td><td><span class=\"bar\" style=\"width:" +
           std::to_string(1 + took_ns * 120 / longest_ns) + "px\"></span>" + std::to_string(took_ns / 1000) + " us</td></tr>\n";
    }
    h += "</table>\n";
    if (c.history.size() < c.scenario.size()) {
      h += "<details><summary>Scenario: " + std::to_string(c.scenario.size()) + " steps (" +
           std::to_string(c.scenario.size() - c.history.size()) + " not run)</summary><ol start=\"0\">";
      for (const std::string& step : c.scenario) h += "<li>" + xml_escape(step) + "</li>";
      h += "</ol></details>\n";
    }
    h += "</section>\n";
  }
  h += "</body></html>\n";
  return h;
}

std::optional<std::string> write_report(const ConformReport& report, const ConformOptions& options, const std::string& dir) {
  auto make_dir = [](const std::string& path) -> bool { return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; };
  if (!make_dir(dir)) return "cannot create report directory " + dir + ": " + std::strerror(errno);
  auto write_file = [](const std::string& path, const std::string& text) -> std::optional<std::string> {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return "cannot write " + path;
    return std::nullopt;
  };
  if (auto e = write_file(dir + "/index.json", index_json(report, options).dump(2) + "\n")) return e;
  if (auto e = write_file(dir + "/junit.xml", junit_xml(report, options))) return e;
  if (auto e = write_file(dir + "/report.html", report_html(report, options))) return e;
  for (const CaseResult& c : report.cases) {
    if (c.outcome == Outcome::Pass || c.outcome == Outcome::Skip) continue;
    if (!make_dir(dir + "/failures")) return "cannot create " + dir + "/failures";
    Json saved = case_json(c, options, true);
    saved["run_seed"] = report.seed;
    saved["agent"] = report.agent_argv;
    if (!report.consumer_agent_argv.empty()) saved["consumer_agent"] = report.consumer_agent_argv;
    // Topology cases run this loop executable: a failure of a broken loop replays with it.
    if (!options.loop_argv.empty()) saved["loop"] = options.loop_argv;
    // A case made INCONCLUSIVE by a smaller search bound replays with the same bound.
    if (options.lin_configurations_max != 0) saved["lin_configurations_max"] = options.lin_configurations_max;
    if (auto e = write_file(dir + "/failures/" + c.id + ".json", saved.dump(2) + "\n")) return e;
  }
  return std::nullopt;
}

}  // namespace indexbus::harness

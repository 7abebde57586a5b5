#include "certify_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <list>
#include <map>
#include <random>
#include <sstream>

#include "agent_path.hpp"
#include "exit_codes.hpp"
#include "indexbus/certify/certify.hpp"
#include "indexbus/certify/interop.hpp"
#include "indexbus/conformance/lane_under_test.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/region.hpp"

namespace indexbus::cli {
namespace {

namespace h = indexbus::harness;
namespace c = indexbus::certify;

struct AgentArg {
  std::string name;
  std::string command;
};

bool valid_agent_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos &&
         name != "." && name != "..";
}

// The agent runs under /bin/sh so that CMD may carry arguments and quoting; exec makes the shell
// become the agent, so signals and exit statuses are the agent's own.
std::vector<std::string> agent_argv(const std::string& command) { return {"/bin/sh", "-c", "exec " + command}; }

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The hello of the agent, from a process started only for that (null when it never says hello).
c::Json fetch_hello(const std::string& command, std::string& failure) {
  try {
    h::AgentProcess agent(agent_argv(command));
    if (auto error = agent.handshake()) {
      failure = error->message + (agent.stderr_tail().empty() ? "" : "; its stderr: " + agent.stderr_tail(300));
      return nullptr;
    }
    return agent.hello();
  } catch (const conformance::SetupError& e) {
    failure = e.what();
    return nullptr;
  }
}

// Every case would fail the same way when an agent never says hello: one Crash result per case.
h::ConformReport no_hello_report(const std::vector<const h::CaseDef*>& cases, std::uint64_t seed, const std::string& why) {
  h::ConformReport report;
  report.seed = seed;
  for (const h::CaseDef* def : cases) {
    h::CaseResult r;
    r.id = def->id;
    r.level = def->level;
    r.rules = def->rules;
    r.outcome = h::Outcome::Crash;
    r.seed = seed;
    r.detail = why;
    report.cases.push_back(std::move(r));
  }
  return report;
}

// write_report saved each failure for `indexbus replay` as T's own; an interop failure becomes its
// catalog case with the pair's producer and consumer command lines, so that replay runs the pair.
bool rewrite_interop_failures(const std::string& dir, const h::ConformReport& report,
                              const std::map<std::string, std::string>& commands) {
  for (const h::CaseResult& r : report.cases) {
    const auto parsed = c::parse_interop_id(r.id);
    if (!parsed || r.outcome == h::Outcome::Pass || r.outcome == h::Outcome::Skip) continue;
    const std::string path = dir + "/failures/" + r.id + ".json";
    const auto text = read_file(path);
    if (!text) return false;
    c::Json saved = c::Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!saved.is_object()) return false;
    saved["id"] = parsed->case_id;
    saved["interop_id"] = r.id;
    saved["agent"] = agent_argv(commands.at(parsed->pair.producer));
    saved["consumer_agent"] = agent_argv(commands.at(parsed->pair.consumer));
    if (!write_file(path, saved.dump(2) + "\n")) return false;
  }
  return true;
}

std::string matrix_html(const std::vector<std::pair<AgentArg, c::Json>>& certificates, const std::string& interop) {
  std::vector<std::string> kinds;
  for (const auto& [agent, cert] : certificates) {
    for (const auto& s : cert["scope"]) {
      const std::string kind = s.value("lane_kind", "?");
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    }
  }
  std::string page =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>indexbus certify</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
      "padding:4px 8px}.certified{background:#cfc}.failed,.not-certified{background:#fcc}.not-run{background:#eee}.inconclusive{background:#e6dcf5}"
      ".cell{padding:1px 4px;margin:1px}</style></head><body>\n"
      "<h1>indexbus certify: matrix</h1>\n" + interop + "<h2>Per agent</h2>\n<table id=\"matrix\"><tr><th>agent</th><th>verdict</th>";
  for (const auto& kind : kinds) page += "<th>" + kind + "</th>";
  page += "</tr>\n";
  for (const auto& [agent, cert] : certificates) {
    const bool certified = cert.value("verdict", "") == "CERTIFIED";
    page += "<tr><td><a href=\"" + agent.name + "/report.html\">" + agent.name + "</a></td><td class=\"" +
            (certified ? "certified" : "not-certified") + "\">" + cert.value("verdict", "?") + "</td>";
    for (const auto& kind : kinds) {
      std::string cell = "not run";
      std::string css;
      for (const auto& s : cert["scope"]) {
        if (s.value("lane_kind", "") != kind) continue;
        cell = s.value("status", "?") + " (" + std::to_string(s.value("counted_cases_passed", 0)) + "/" +
               std::to_string(s.value("counted_cases_run", 0)) + ")";
        const std::string status = s.value("status", "");
        css = status == "certified" || status == "failed" || status == "inconclusive" ? status : "";
      }
      page += "<td class=\"" + css + "\">" + cell + "</td>";
    }
    page += "</tr>\n";
  }
  return page + "</table>\n</body></html>\n";
}

}  // namespace

CertifyCommand::CertifyCommand(CLI::App& app) {
  command_ = app.add_subcommand("certify", "Run the case catalog against third-party agents and certify them");
  region_dir_ = kDefaultRegionDirectory;
  command_->add_option("--agent", agents_, "NAME=CMD: an agent to certify, started as /bin/sh -c 'exec CMD' (repeatable)")
      ->required();
  command_->add_option("--expected-failures", expected_failures_path_,
                       "File of lines 'CASE-ID # MESSAGE-PREFIX' (or 'NAME:CASE-ID # ...'): failures that keep the run "
                       "green; an unexpected pass or a stale entry fails it");
  command_->add_flag("--strict", strict_, "RECOMMENDED cases count like REQUIRED ones");
  command_->add_flag("--allow-inconclusive", allow_inconclusive_,
                     "A counted case ending INCONCLUSIVE (a linearizability check stopped at its bound) does not fail "
                     "the run; it still never certifies");
  command_->add_option("--report", report_dir_, "Report folder (one subfolder per agent, matrix in report.html)");
  command_->add_option("--cases", case_globs_, "Only cases whose ID matches this glob (repeatable)");
  seed_option_ = command_->add_option("--seed", seed_, "Seed (printed when chosen at random)");
  command_->add_option("--jobs", jobs_, "Cases run in parallel")->check(CLI::Range(1, 64));
  command_->add_option("--time-budget", time_budget_s_, "Seconds per agent; cases not started by then are SKIP")
      ->check(CLI::Range(1.0, 86400.0));
  command_->add_option("--region-dir", region_dir_, "Directory for scratch regions (tmpfs)");
}

int CertifyCommand::run() {
  std::vector<AgentArg> agents;
  for (const std::string& arg : agents_) {
    const std::size_t equals = arg.find('=');
    AgentArg agent{arg.substr(0, equals == std::string::npos ? 0 : equals),
                   equals == std::string::npos ? "" : arg.substr(equals + 1)};
    if (agent.name == c::kReferenceAgentName) {
      std::fprintf(stderr, "indexbus certify: --agent '%s': the name '%s' is the reference agent's in the interop pairs\n",
                   arg.c_str(), c::kReferenceAgentName);
      return kExitUsage;
    }
    if (equals == std::string::npos || !valid_agent_name(agent.name) || agent.command.empty()) {
      std::fprintf(stderr,
                   "indexbus certify: --agent '%s': expected NAME=CMD with NAME of letters, digits, '.', '_', '-' "
                   "(a folder name of the report) and a non-empty command\n",
                   arg.c_str());
      return kExitUsage;
    }
    for (const AgentArg& other : agents) {
      if (other.name == agent.name) {
        std::fprintf(stderr, "indexbus certify: --agent name '%s' given twice\n", agent.name.c_str());
        return kExitUsage;
      }
    }
    agents.push_back(agent);
  }
  std::vector<c::ExpectedFailure> entries;
  if (!expected_failures_path_.empty()) {
    const auto text = read_file(expected_failures_path_);
    if (!text) {
      std::fprintf(stderr, "indexbus certify: cannot read --expected-failures %s\n", expected_failures_path_.c_str());
      return kExitEnvironment;
    }
    auto parsed = c::parse_expected_failures(*text);
    if (const auto* error = std::get_if<c::ParseError>(&parsed)) {
      std::fprintf(stderr, "indexbus certify: %s:%zu: %s\n", expected_failures_path_.c_str(), error->line,
                   error->message.c_str());
      return kExitUsage;
    }
    entries = std::move(std::get<std::vector<c::ExpectedFailure>>(parsed));
    for (const c::ExpectedFailure& entry : entries) {
      const bool known = entry.agent.empty() || std::any_of(agents.begin(), agents.end(),
                                                            [&](const AgentArg& a) { return a.name == entry.agent; });
      if (!known) {
        std::fprintf(stderr, "indexbus certify: %s:%zu: agent '%s' is not one of the --agent names\n",
                     expected_failures_path_.c_str(), entry.line, entry.agent.c_str());
        return kExitUsage;
      }
    }
  }
  // In-process cases run the per-rule suites on the reference lanes inside the harness: they say
  // nothing about an agent, so they are no part of its certificate.
  std::vector<const h::CaseDef*> cases;
  for (const h::CaseDef* def : h::select_cases(case_globs_)) {
    if (!def->run_in_process) cases.push_back(def);
  }
  if (cases.empty()) {
    std::fprintf(stderr,
                 "indexbus certify: no agent case matches --cases (see indexbus conform --list; in-process cases "
                 "check the reference implementation, not an agent)\n");
    return kExitUsage;
  }
  // The interop runs (spec/certify.md, "Interoperability"): every agent with the reference agent
  // both ways, and with each other agent both ways; the pair T->T is T's own catalog run.
  const std::vector<const h::CaseDef*> interop = c::interop_cases(cases);
  const std::string reference_path = default_agent_path();
  if (!interop.empty() && ::access(reference_path.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "indexbus certify: the reference agent %s is not an executable file (it is built with indexbus)\n",
                 reference_path.c_str());
    return kExitEnvironment;
  }
  const AgentArg reference{c::kReferenceAgentName, h::shell_quote(reference_path)};
  std::vector<c::InteropPair> pairs_of_run;
  for (const AgentArg& agent : agents) {
    pairs_of_run.push_back({c::kReferenceAgentName, agent.name});
    pairs_of_run.push_back({agent.name, c::kReferenceAgentName});
    for (const AgentArg& other : agents) {
      if (other.name != agent.name) pairs_of_run.push_back({agent.name, other.name});
    }
  }
  std::vector<std::string> catalog_ids;
  for (const h::CaseDef& def : h::catalog()) catalog_ids.push_back(def.id);
  for (const c::InteropPair& pair : pairs_of_run) {
    for (const std::string& id : c::interop_catalog_ids()) catalog_ids.push_back(c::interop_case_id(pair, id));
  }
  if (seed_option_->count() == 0) seed_ = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  if (::mkdir(report_dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "indexbus certify: cannot make report folder %s: %s\n", report_dir_.c_str(), std::strerror(errno));
    return kExitEnvironment;
  }
  std::map<std::string, std::string> commands{{reference.name, reference.command}};  // agent name -> CMD
  for (const AgentArg& agent : agents) commands[agent.name] = agent.command;
  std::map<std::string, std::string> hello_failures;  // agent name -> why it said no hello
  std::map<std::string, c::Json> hellos;
  for (const AgentArg& agent : agents) {
    std::string failure;
    hellos[agent.name] = fetch_hello(agent.command, failure);
    if (hellos[agent.name].is_null()) hello_failures[agent.name] = failure;
  }
  auto base_options = [&](const AgentArg& agent) {
    h::ConformOptions options;
    options.case_globs = case_globs_;
    options.seed = seed_;
    options.jobs = jobs_;
    options.time_budget_ms = static_cast<std::uint64_t>(time_budget_s_ * 1000);
    options.region_dir = region_dir_;
    options.agent_argv = agent_argv(agent.command);
    options.replay_prefix = "indexbus certify --agent " + h::shell_quote(agent.name + "=" + agent.command);
    options.allow_inconclusive = allow_inconclusive_;
    return options;
  };
  // A pair runs once even when both of its agents are certified; its results, renamed
  // Interop[P->C].ID, join the report of each agent of the pair.
  std::map<c::InteropPair, std::vector<h::CaseResult>> pair_results;
  auto run_pair = [&](const AgentArg& producer, const AgentArg& consumer) -> const std::vector<h::CaseResult>& {
    const c::InteropPair pair{producer.name, consumer.name};
    if (auto it = pair_results.find(pair); it != pair_results.end()) return it->second;
    h::ConformReport report;
    const std::string* no_hello = hello_failures.contains(producer.name)   ? &hello_failures[producer.name]
                                  : hello_failures.contains(consumer.name) ? &hello_failures[consumer.name]
                                                                           : nullptr;
    if (no_hello != nullptr) {
      report = no_hello_report(interop, seed_, "no hello: " + *no_hello);
    } else {
      h::ConformOptions options = base_options(producer);
      options.consumer_agent_argv = agent_argv(consumer.command);
      report = h::run_conform(options, interop);  // SetupError: caught by the caller
    }
    for (h::CaseResult& r : report.cases) r.id = c::interop_case_id(pair, r.id);
    std::size_t passed = 0;
    for (const h::CaseResult& r : report.cases) passed += r.outcome == h::Outcome::Pass ? 1 : 0;
    std::printf("  interop %s -> %s: %zu/%zu passed in %.1f s\n", producer.name.c_str(), consumer.name.c_str(), passed,
                report.cases.size(), report.duration_s);
    return pair_results[pair] = std::move(report.cases);
  };

  bool all_ok = true;
  bool all_lists_matched = true;
  std::vector<std::pair<AgentArg, c::Json>> certificates;
  std::vector<c::Judgement> judgements;
  std::list<h::ConformReport> reports;  // stable addresses: a judgement points into its report
  for (const AgentArg& agent : agents) {
    std::printf("indexbus certify: agent %s (%s): %zu case(s) and %zu interop case(s) per pair, seed %llu\n",
                agent.name.c_str(), agent.command.c_str(), cases.size(), interop.size(),
                static_cast<unsigned long long>(seed_));
    std::fflush(stdout);
    const c::Json& hello = hellos[agent.name];
    const h::ConformOptions options = base_options(agent);
    h::ConformReport report;
    try {
      if (hello.is_null()) {
        std::printf("  the agent did not say hello: %s\n", hello_failures[agent.name].c_str());
        report = no_hello_report(cases, seed_, "no hello: " + hello_failures[agent.name]);
      } else {
        report = h::run_conform(options, cases);
      }
      std::vector<std::pair<AgentArg, AgentArg>> pairs{{reference, agent}, {agent, reference}};
      for (const AgentArg& other : agents) {
        if (other.name == agent.name) continue;
        pairs.emplace_back(agent, other);
        pairs.emplace_back(other, agent);
      }
      if (interop.empty()) pairs.clear();  // --cases selected no interop case
      for (const auto& [producer, consumer] : pairs) {
        const auto& results = run_pair(producer, consumer);
        const std::size_t first = report.cases.size();
        report.cases.insert(report.cases.end(), results.begin(), results.end());
        // Between two third-party agents a failure cannot be pinned on either side: shown in the
        // matrix and the report, but INFORMATIONAL, so it decides neither certificate. The pairs
        // with the reference agent, which the catalog has proven, are what certifies T's interop.
        if (producer.name != reference.name && consumer.name != reference.name) {
          for (std::size_t i = first; i < report.cases.size(); ++i) report.cases[i].level = h::Level::Informational;
        }
      }
    } catch (const conformance::SetupError& e) {
      std::fprintf(stderr, "indexbus certify: %s\n", e.what());
      return kExitEnvironment;
    }
    reports.push_back(std::move(report));
    const h::ConformReport& stored = reports.back();
    const c::Judgement judgement = c::judge(agent.name, stored, entries, catalog_ids, strict_, allow_inconclusive_);
    const c::Json certificate = c::certificate_json(judgement, c::AgentInfo{agent.name, agent.command, hello}, stored);
    const std::string dir = report_dir_ + "/" + agent.name;
    if (auto error = h::write_report(stored, options, dir)) {
      std::fprintf(stderr, "indexbus certify: %s\n", error->c_str());
      return kExitEnvironment;
    }
    if (!rewrite_interop_failures(dir, stored, commands)) {
      std::fprintf(stderr, "indexbus certify: cannot rewrite the interop failures under %s/failures\n", dir.c_str());
      return kExitEnvironment;
    }
    const auto page = read_file(dir + "/report.html");
    bool written = page && write_file(dir + "/report.html", c::insert_after_body(*page, c::certificate_html(certificate)));
    written = written && write_file(dir + "/certificate.json", certificate.dump(2) + "\n");
    if (!written) {
      std::fprintf(stderr, "indexbus certify: cannot write the report under %s\n", dir.c_str());
      return kExitEnvironment;
    }

    for (const c::CaseVerdict& v : judgement.cases) {
      if (v.verdict == c::Verdict::Pass) continue;
      std::printf("  %-11s %-13s %s\n", c::to_string(v.verdict).c_str(), h::to_string(v.result->level).c_str(),
                  v.result->id.c_str());
      if (v.verdict == c::Verdict::Fail || v.verdict == c::Verdict::ExpectedFail || v.verdict == c::Verdict::Inconclusive) {
        std::printf("              %s\n", v.result->detail.c_str());
        if (v.verdict != c::Verdict::ExpectedFail) {
          h::CaseResult replayed = *v.result;
          if (auto parsed = c::parse_interop_id(replayed.id)) replayed.id = parsed->case_id;
          std::printf("              replay: %s\n", h::replay_command(options, replayed).c_str());
        }
      }
    }
    for (const c::StaleEntry& s : judgement.stale) {
      std::printf("  STALE       %s:%zu: %s: %s\n", expected_failures_path_.c_str(), s.entry.line, s.entry.case_id.c_str(),
                  s.reason.c_str());
    }
    const auto& counts = certificate["counts"]["REQUIRED"];
    std::printf("  %s: REQUIRED %d passed, %d failed, %d inconclusive, %d expected failures, %d skipped; %s\n",
                certificate["verdict"].get<std::string>().c_str(), counts["pass"].get<int>(), counts["fail"].get<int>(),
                counts["inconclusive"].get<int>(), counts["expected_fail"].get<int>(), counts["skip"].get<int>(),
                judgement.list_matched ? "run matches the expected failures" : "run does NOT match the expected failures");
    if (judgement.inconclusive > 0) {
      std::printf(judgement.allow_inconclusive
                      ? "  %zu counted case(s) INCONCLUSIVE: allowed by --allow-inconclusive; they do not certify\n"
                      : "  %zu counted case(s) INCONCLUSIVE: the run fails; no expected-failures entry can excuse them "
                        "(--allow-inconclusive accepts them)\n",
                  judgement.inconclusive);
    }
    std::printf("  report: %s/report.html, certificate: %s/certificate.json\n", dir.c_str(), dir.c_str());
    all_ok = all_ok && judgement.run_ok;
    all_lists_matched = all_lists_matched && judgement.list_matched;
    certificates.emplace_back(agent, certificate);
    judgements.push_back(judgement);
  }
  const std::string updated_path = report_dir_ + "/expected-failures.updated.txt";
  if (!all_lists_matched) {
    if (!write_file(updated_path, c::updated_expected_failures(judgements, entries))) {
      std::fprintf(stderr, "indexbus certify: cannot write %s\n", updated_path.c_str());
      return kExitEnvironment;
    }
    std::printf("the run does not match the expected failures; the list that would: %s\n", updated_path.c_str());
  }
  std::vector<std::pair<std::string, const h::ConformReport*>> named_reports;
  std::vector<std::string> names;
  auto report_it = reports.begin();
  for (const AgentArg& agent : agents) {
    named_reports.emplace_back(agent.name, &*report_it++);
    names.push_back(agent.name);
  }
  const std::string interop_html = c::interop_matrix_html(c::interop_matrix(named_reports), names);
  if (!write_file(report_dir_ + "/report.html", matrix_html(certificates, interop_html))) {
    std::fprintf(stderr, "indexbus certify: cannot write %s/report.html\n", report_dir_.c_str());
    return kExitEnvironment;
  }
  std::printf("matrix: %s/report.html\n", report_dir_.c_str());
  return all_ok ? kExitOk : kExitConformance;
}

}  // namespace indexbus::cli

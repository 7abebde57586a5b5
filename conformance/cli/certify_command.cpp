#include "certify_command.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <list>
#include <map>
#include <random>
#include <sstream>

#include "exit_codes.hpp"
#include "indexbus/certify/certify.hpp"
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

std::string matrix_html(const std::vector<std::pair<AgentArg, c::Json>>& certificates) {
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
      "padding:4px 8px}.certified{background:#cfc}.failed,.not-certified{background:#fcc}</style></head><body>\n"
      "<h1>indexbus certify: matrix</h1>\n<table id=\"matrix\"><tr><th>agent</th><th>verdict</th>";
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
        css = s.value("status", "") == "certified" ? "certified" : s.value("status", "") == "failed" ? "failed" : "";
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
  std::vector<std::string> catalog_ids;
  for (const h::CaseDef& def : h::catalog()) catalog_ids.push_back(def.id);
  if (seed_option_->count() == 0) seed_ = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  if (::mkdir(report_dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "indexbus certify: cannot make report folder %s: %s\n", report_dir_.c_str(), std::strerror(errno));
    return kExitEnvironment;
  }

  bool all_ok = true;
  std::vector<std::pair<AgentArg, c::Json>> certificates;
  std::vector<c::Judgement> judgements;
  std::list<h::ConformReport> reports;  // stable addresses: a judgement points into its report
  for (const AgentArg& agent : agents) {
    std::printf("indexbus certify: agent %s (%s): %zu case(s), seed %llu\n", agent.name.c_str(), agent.command.c_str(),
                cases.size(), static_cast<unsigned long long>(seed_));
    std::fflush(stdout);
    std::string hello_failure;
    const c::Json hello = fetch_hello(agent.command, hello_failure);
    h::ConformOptions options;
    options.case_globs = case_globs_;
    options.seed = seed_;
    options.jobs = jobs_;
    options.time_budget_ms = static_cast<std::uint64_t>(time_budget_s_ * 1000);
    options.region_dir = region_dir_;
    options.agent_argv = agent_argv(agent.command);
    options.replay_prefix = "indexbus certify --agent " + h::shell_quote(agent.name + "=" + agent.command);
    h::ConformReport report;
    if (hello.is_null()) {
      // Every case would fail the same way: say it once, as the certificate's reason.
      std::printf("  the agent did not say hello: %s\n", hello_failure.c_str());
      report.seed = seed_;
      for (const h::CaseDef* def : cases) {
        h::CaseResult r;
        r.id = def->id;
        r.level = def->level;
        r.rules = def->rules;
        r.outcome = h::Outcome::Crash;
        r.seed = seed_;
        r.detail = "no hello: " + hello_failure;
        report.cases.push_back(std::move(r));
      }
    } else {
      try {
        report = h::run_conform(options, cases);
      } catch (const conformance::SetupError& e) {
        std::fprintf(stderr, "indexbus certify: %s\n", e.what());
        return kExitEnvironment;
      }
    }
    reports.push_back(std::move(report));
    const h::ConformReport& stored = reports.back();
    const c::Judgement judgement = c::judge(agent.name, stored, entries, catalog_ids, strict_);
    const c::Json certificate = c::certificate_json(judgement, c::AgentInfo{agent.name, agent.command, hello}, stored);
    const std::string dir = report_dir_ + "/" + agent.name;
    if (auto error = h::write_report(stored, options, dir)) {
      std::fprintf(stderr, "indexbus certify: %s\n", error->c_str());
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
      if (v.verdict == c::Verdict::Fail || v.verdict == c::Verdict::ExpectedFail) {
        std::printf("              %s\n", v.result->detail.c_str());
        if (v.verdict == c::Verdict::Fail) std::printf("              replay: %s\n", h::replay_command(options, *v.result).c_str());
      }
    }
    for (const c::StaleEntry& s : judgement.stale) {
      std::printf("  STALE       %s:%zu: %s: %s\n", expected_failures_path_.c_str(), s.entry.line, s.entry.case_id.c_str(),
                  s.reason.c_str());
    }
    const auto& counts = certificate["counts"]["REQUIRED"];
    std::printf("  %s: REQUIRED %d passed, %d failed, %d expected failures, %d skipped; %s\n",
                certificate["verdict"].get<std::string>().c_str(), counts["pass"].get<int>(), counts["fail"].get<int>(),
                counts["expected_fail"].get<int>(), counts["skip"].get<int>(),
                judgement.run_ok ? "run matches the expected failures" : "run does NOT match the expected failures");
    std::printf("  report: %s/report.html, certificate: %s/certificate.json\n", dir.c_str(), dir.c_str());
    all_ok = all_ok && judgement.run_ok;
    certificates.emplace_back(agent, certificate);
    judgements.push_back(judgement);
  }
  const std::string updated_path = report_dir_ + "/expected-failures.updated.txt";
  if (!all_ok) {
    if (!write_file(updated_path, c::updated_expected_failures(judgements, entries))) {
      std::fprintf(stderr, "indexbus certify: cannot write %s\n", updated_path.c_str());
      return kExitEnvironment;
    }
    std::printf("the run does not match the expected failures; the list that would: %s\n", updated_path.c_str());
  }
  if (!write_file(report_dir_ + "/report.html", matrix_html(certificates))) {
    std::fprintf(stderr, "indexbus certify: cannot write %s/report.html\n", report_dir_.c_str());
    return kExitEnvironment;
  }
  std::printf("matrix: %s/report.html\n", report_dir_.c_str());
  return all_ok ? kExitOk : kExitConformance;
}

}  // namespace indexbus::cli

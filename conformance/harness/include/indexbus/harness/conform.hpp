// `indexbus conform` without the command line: select cases by glob, run them (step-mode cases
// with agents, in-process cases here) on N workers within a time budget, and write the report
// folder (index.json, junit.xml, one scenario file per failure).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/step_runner.hpp"
#include "indexbus/protocol/frame.hpp"

namespace indexbus::harness {

using protocol::Json;

struct ConformOptions {
  std::vector<std::string> case_globs;  // fnmatch patterns on case IDs; empty: every case
  std::uint64_t seed = 0;
  std::uint32_t jobs = 1;
  std::uint64_t time_budget_ms = 110'000;  // cases not started by then are SKIP
  std::string region_dir = "/dev/shm";
  std::vector<std::string> agent_argv;  // the agent command line
  // Consumers' and readers' command line when it differs (AgentAssignment); empty: agent_argv.
  std::vector<std::string> consumer_agent_argv;
  // Topology cases: the executable whose `route`/`merge` run the loops, and the reference agent
  // for their producers and consumers. Empty: `indexbus` and `indexbus-agent` beside agent_argv[0].
  std::vector<std::string> loop_argv;
  std::vector<std::string> reference_agent_argv;
  std::uint32_t request_deadline_ms = kDefaultDeadlineMs;  // per request; then TIMEOUT
  // Prefix of every replay command, e.g. "indexbus conform --agent X"; --cases/--seed appended.
  std::string replay_prefix = "indexbus conform";
  // A REQUIRED case ending INCONCLUSIVE fails the run unless this is set (--allow-inconclusive).
  bool allow_inconclusive = false;
  // Diagnostic (--lin-configurations-max): each batch case's linearizability search stops after
  // this many configurations, and its case ends INCONCLUSIVE if undecided; 0: the checker's bound.
  std::uint64_t lin_configurations_max = 0;
  // Simulated cases: seconds each (0: the default) and a test-only planted ordering bug.
  double sim_seconds = 0;
  std::string sim_plant;
};

struct ConformReport {
  std::uint64_t seed = 0;
  std::vector<std::string> agent_argv;
  std::vector<std::string> consumer_agent_argv;  // empty: agent_argv ran every process
  std::vector<CaseResult> cases;  // in catalog order
  double duration_s = 0;
  bool allow_inconclusive = false;  // ConformOptions::allow_inconclusive of the run
};

// Cases whose ID matches any glob, in catalog order.
std::vector<const CaseDef*> select_cases(const std::vector<std::string>& globs);

// Runs the cases; on_done (if set) is called after each case, from a worker thread, serialized.
// Throws conformance::SetupError when the scratch directory cannot be made.
ConformReport run_conform(const ConformOptions& options, const std::vector<const CaseDef*>& cases,
                          const std::function<void(const CaseResult&, std::size_t done, std::size_t total)>& on_done = {});

// text made safe inside XML and HTML element content and quoted attributes: & < > " ' escaped,
// control characters other than tab, newline and carriage return replaced by '?'. The JUnit
// report and certify's HTML pages use it.
std::string xml_escape(const std::string& text);

// word as one word of a POSIX shell command line: as it is when that is safe, else single-quoted.
std::string shell_quote(const std::string& word);

// One-line command that runs this case again with the same seed.
std::string replay_command(const ConformOptions& options, const CaseResult& result);
// "" for a case its seed replays exactly; for a timing-dependent one, why the replay may pass.
std::string replay_caveat(const CaseResult& result);

// A REQUIRED case that did not pass (FAIL, CRASH, TIMEOUT, or INCONCLUSIVE unless the report
// allows it) fails the run; RECOMMENDED and INFORMATIONAL cases are reported but do not change the
// exit status.
bool run_failed(const ConformReport& report);

// Cases per outcome, indexed by the Outcome's value.
std::array<std::size_t, kOutcomeCount> outcome_counts(const ConformReport& report);
// "3 passed, 1 failed, 0 crashed, 0 timed out, 1 inconclusive, 0 skipped": the console's and
// report.html's summary.
std::string outcome_counts_text(const ConformReport& report);
// REQUIRED cases that ended INCONCLUSIVE.
std::size_t required_inconclusive(const ConformReport& report);

// Writes index.json, junit.xml, report.html and failures/<ID>.json under dir (created if missing). Returns an
// error description on I/O failure.
std::optional<std::string> write_report(const ConformReport& report, const ConformOptions& options, const std::string& dir);

// Self-contained HTML: a summary table, then per failing case its detail, replay command and
// history as a timeline (one column per agent) beside the model's expectation.
std::string report_html(const ConformReport& report, const ConformOptions& options);
std::string junit_xml(const ConformReport& report, const ConformOptions& options);
Json index_json(const ConformReport& report, const ConformOptions& options);

}  // namespace indexbus::harness

// `indexbus certify` without the command line: judge a conform run of one agent against an
// expected-failures list, and make its certificate.
//
// Which cases count: REQUIRED always; RECOMMENDED too under --strict; INFORMATIONAL never. A
// counted case that did not pass (FAIL, CRASH, TIMEOUT) is an unexpected failure unless the list
// names it with a message prefix its detail starts with (an expected failure). The list must be
// exact: an entry whose case passed (unexpected pass), was skipped, failed with another message,
// or is not in the catalog at all (stale) fails the run too, and the harness writes the list that
// would have matched beside the report. The verdict is CERTIFIED when every counted case passed;
// an expected failure keeps CI green but never certifies. A case that ended INCONCLUSIVE (a
// linearizability check stopped at its bound) neither passed nor failed: no list entry can
// excuse it (an entry naming it is kept, neither matched nor stale), a counted one fails the run
// unless --allow-inconclusive, and it never certifies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "indexbus/harness/conform.hpp"
#include "indexbus/protocol/frame.hpp"

namespace indexbus::certify {

using protocol::Json;

// One line `[AGENT:]CASE-ID # MESSAGE-PREFIX` of an expected-failures file. Without AGENT the
// entry applies to every agent certified in the run.
struct ExpectedFailure {
  std::string agent;  // empty: every agent
  std::string case_id;
  std::string message_prefix;  // may be empty: any failure message
  std::size_t line = 0;        // 1-based, for messages
};

struct ParseError {
  std::size_t line = 0;
  std::string message;  // names what was found and what was expected
};

// Blank lines and lines starting with '#' are comments. Each entry appears once per agent.
std::variant<std::vector<ExpectedFailure>, ParseError> parse_expected_failures(std::string_view text);

// The message of a failure, which a list entry's prefix is matched against: the case's detail
// without the locator a step-mode failure starts with ("step 12 (agent 0 producer ...): ", or
// "region after step 12 (...): " when the harness's region check failed), so
// that "expected Full, got Ok" stays the same whichever step and payload the seed chose.
std::string failure_message(const std::string& detail);

enum class Verdict {
  Pass,            // counted or not, it passed
  Fail,            // counted, did not pass, not on the list: fails the run
  ExpectedFail,    // counted or not, did not pass, on the list with a matching prefix
  UnexpectedPass,  // on the list but passed: fails the run
  NotCounted,      // did not pass, not on the list, but its level does not count (not strict)
  Skip,            // not run (unsupported kind or policy, time budget)
  Inconclusive,    // counted or not, INCONCLUSIVE: a counted one fails the run unless allowed
};
std::string to_string(Verdict verdict);

struct CaseVerdict {
  const harness::CaseResult* result = nullptr;  // into the judged report
  Verdict verdict = Verdict::Pass;
  bool counted = false;  // REQUIRED, or RECOMMENDED under strict
};

struct StaleEntry {
  ExpectedFailure entry;
  std::string reason;  // "case passed", "case skipped: ...", "fails with '...'", "no such case"
};

struct Judgement {
  std::string agent_name;
  bool strict = false;
  std::vector<CaseVerdict> cases;   // in report order
  std::vector<StaleEntry> stale;    // entries of this agent that did not match (unexpected passes too)
  std::size_t unexpected_failures = 0;
  std::size_t inconclusive = 0;    // counted cases that ended INCONCLUSIVE
  bool allow_inconclusive = false;
  bool list_matched = false;  // no unexpected failure, no unexpected pass, no stale entry
  bool run_ok = false;        // list_matched, and no counted INCONCLUSIVE case unless allowed
  bool certified = false;     // every counted case passed, and at least one ran
};

// entries: the whole list; those of other agents are ignored. catalog_ids: every case ID that
// exists (an entry naming another ID is stale even when the run selected few cases).
Judgement judge(const std::string& agent_name, const harness::ConformReport& report,
                const std::vector<ExpectedFailure>& entries, const std::vector<std::string>& catalog_ids,
                bool strict, bool allow_inconclusive = false);

// The list that would make the same run (these judgements, one per agent) match exactly: every
// counted failure, with its failure_message up to the first digit as the prefix (numbers vary
// with the seed), prefixed by the agent's name when the run certified several agents; entries
// about cases the run did not select or that ended INCONCLUSIVE are kept as they were.
std::string updated_expected_failures(const std::vector<Judgement>& judgements,
                                      const std::vector<ExpectedFailure>& entries);

// What certify knows of the agent beyond its report.
struct AgentInfo {
  std::string name;     // NAME of --agent NAME=CMD
  std::string command;  // CMD
  Json hello;           // its hello message (null if it never said hello)
};

// certificate.json: harness and layout versions, the agent, counts per level and verdict, the
// scope (per lane kind: what was certified, failed or not supported), and the list problems.
Json certificate_json(const Judgement& judgement, const AgentInfo& agent, const harness::ConformReport& report);

// The certificate as an HTML section (escaped), for the top of report.html.
std::string certificate_html(const Json& certificate);

// Inserts html right after <body ...> of page (or at the start if there is none).
std::string insert_after_body(const std::string& page, const std::string& html);

}  // namespace indexbus::certify

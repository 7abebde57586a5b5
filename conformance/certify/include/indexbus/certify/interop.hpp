// The interoperability runs of `indexbus certify` (spec/certify.md, "Interoperability"): the
// catalog's cross-process cases run again with the producer (and region creator) from one
// implementation and the consumers from another. Each pair's results join the target agent's
// report under stable IDs that name the pair, `Interop[PRODUCER->CONSUMER].CATALOG-ID`, so that
// they count for its certificate and an expected-failures list can name them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/conform.hpp"
#include "indexbus/protocol/frame.hpp"

namespace indexbus::certify {

using protocol::Json;

// The name of the reference agent (indexbus-agent) in pair IDs; no --agent may take it.
inline constexpr const char* kReferenceAgentName = "reference";

struct InteropPair {
  std::string producer;  // agent name: creates the region and produces
  std::string consumer;  // agent name: opens it and consumes (or reads)
  friend bool operator==(const InteropPair&, const InteropPair&) = default;
  friend auto operator<=>(const InteropPair&, const InteropPair&) = default;
};

// "Interop[p->c]." + case_id.
std::string interop_case_id(const InteropPair& pair, const std::string& case_id);

// The pair and catalog ID of an interop case ID; nullopt for any other ID.
struct ParsedInteropId {
  InteropPair pair;
  std::string case_id;
};
std::optional<ParsedInteropId> parse_interop_id(const std::string& id);

// The catalog IDs of the interop set: cases with two or more agent processes whose data crosses
// between them (FIFO, wraparound, drop/lost accounting, close, attach, process death, batch),
// per lane kind and policy. A fixed list: IDs are stable, and the run time stays small.
const std::vector<std::string>& interop_catalog_ids();

// Of `selected` (catalog order), those in the interop set.
std::vector<const harness::CaseDef*> interop_cases(const std::vector<const harness::CaseDef*>& selected);

// "Block" or "Drop": the policy of the lane a case's scenario makes ("?" for in-process cases).
std::string policy_of(const harness::CaseDef& def);

// "Required.Events.Block.X" -> "Events"; an interop ID's catalog part is used.
std::string lane_kind_of(const std::string& case_id);

// One cell of the matrix: the results of a pair, per lane kind and policy.
struct MatrixCell {
  std::string kind_policy;  // "Events/Block"
  int passed = 0;
  int failed = 0;        // FAIL, CRASH or TIMEOUT
  int inconclusive = 0;  // INCONCLUSIVE: neither passed nor failed
  int skipped = 0;
  std::vector<std::string> failures;  // links (report-relative) to the failing and INCONCLUSIVE cases
};
struct MatrixEntry {
  InteropPair pair;
  std::vector<MatrixCell> cells;
};

// Builds the matrix from the results of each certified agent (its report's cases: the catalog
// run, whose interop-set cases are the pair T->T, and its Interop[...] cases), given as (agent
// name, report); a failure links to NAME/report.html#ID. A pair in two reports is taken once.
std::vector<MatrixEntry> interop_matrix(const std::vector<std::pair<std::string, const harness::ConformReport*>>& reports);

// The matrix as HTML (table#interop-matrix): rows producer implementations, columns consumer
// implementations, each cell the passed/total per lane kind x policy, colored, failures linked.
std::string interop_matrix_html(const std::vector<MatrixEntry>& matrix, const std::vector<std::string>& agents);

}  // namespace indexbus::certify

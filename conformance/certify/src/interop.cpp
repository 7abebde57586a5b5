#include "indexbus/certify/interop.hpp"

#include <algorithm>
#include <cassert>
#include <map>
#include <random>
#include <set>

#include "indexbus/harness/conform.hpp"
#include "indexbus/harness/step_runner.hpp"

namespace indexbus::certify {
namespace {

using harness::Outcome;

constexpr std::string_view kInteropPrefix = "Interop[";


// A fragment link: '%' and '#' would end or change it; everything else may stay.
std::string fragment(const std::string& id) {
  std::string out;
  for (const char c : id) out += c == '#' ? std::string("%23") : c == '%' ? std::string("%25") : std::string(1, c);
  return out;
}

const char* policy_name(OnFull on_full) { return on_full == OnFull::Block ? "Block" : "Drop"; }

}  // namespace

std::string interop_case_id(const InteropPair& pair, const std::string& case_id) {
  return std::string(kInteropPrefix) + pair.producer + "->" + pair.consumer + "]." + case_id;
}

std::optional<ParsedInteropId> parse_interop_id(const std::string& id) {
  if (!id.starts_with(kInteropPrefix)) return std::nullopt;
  const std::size_t close = id.find("].", kInteropPrefix.size());
  if (close == std::string::npos) return std::nullopt;
  const std::string pair = id.substr(kInteropPrefix.size(), close - kInteropPrefix.size());
  const std::size_t arrow = pair.find("->");
  if (arrow == std::string::npos || arrow == 0 || arrow + 2 >= pair.size()) return std::nullopt;
  return ParsedInteropId{{pair.substr(0, arrow), pair.substr(arrow + 2)}, id.substr(close + 2)};
}

const std::vector<std::string>& interop_catalog_ids() {
  static const std::vector<std::string> ids = {
      "Required.Events.Block.FifoInOrder",
      "Required.Events.Block.Wraparound",
      "Required.Events.Drop.OverwritesOldest",
      "Required.Events.Drop.LossAfterPartialRead",
      "Required.Events.Close.BlockDrainThenClosed",
      "Required.Events.Close.DropLostThenEntriesThenClosed",
      "Required.Events.Attach.SecondConsumerRefused",
      "Required.Events.ProcessDeath.ConsumerKilledThenReattached",
      "Required.Events.Batch.Block.NothingLostUnderPauses",
      "Required.Events.Batch.Drop.AccountingUnderPauses",
      "Required.Fanout.Block.EveryConsumerGetsEveryEntry",
      "Required.Fanout.Drop.LappedConsumerExactLoss",
      "Required.Fanout.Close.EachConsumerDrainsThenClosed",
      "Required.SequencedSlots.Block.ClaimPublishInOrder",
      "Required.SequencedSlots.Drop.ClaimOverwritesExactLoss",
      "Required.Journal.Block.FreshReaderAtTailInOrder",
      "Required.Journal.Drop.LostThenOldestRetained",
      "Required.Journal.Close.DrainThenClosed",
  };
  return ids;
}

std::vector<const harness::CaseDef*> interop_cases(const std::vector<const harness::CaseDef*>& selected) {
  const std::set<std::string> wanted(interop_catalog_ids().begin(), interop_catalog_ids().end());
  std::vector<const harness::CaseDef*> out;
  for (const harness::CaseDef* def : selected) {
    if (wanted.contains(def->id)) out.push_back(def);
  }
  return out;
}

std::string policy_of(const harness::CaseDef& def) {
  // The scenario's generators are cheap and the policy does not depend on the seed.
  std::mt19937_64 rng(0);
  if (def.make_scenario) return policy_name(def.make_scenario(rng).config.on_full);
  if (def.make_batch) return policy_name(def.make_batch(rng).config.on_full);
  if (def.make_ring) {
    return std::visit([](const auto& s) { return std::string(policy_name(s.config.on_full)); }, def.make_ring(rng));
  }
  if (def.make_lin_batch) {
    return std::visit([](const auto& c) { return std::string(policy_name(c.on_full)); }, def.make_lin_batch(rng).config);
  }
  return "?";
}

std::string lane_kind_of(const std::string& case_id) {
  if (auto parsed = parse_interop_id(case_id)) return lane_kind_of(parsed->case_id);
  const std::size_t first = case_id.find('.');
  if (first == std::string::npos) return "?";
  const std::size_t second = case_id.find('.', first + 1);
  return case_id.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

std::vector<MatrixEntry> interop_matrix(const std::vector<std::pair<std::string, const harness::ConformReport*>>& reports) {
  std::map<std::string, std::string> policy;  // catalog ID -> policy
  for (const std::string& id : interop_catalog_ids()) {
    for (const harness::CaseDef& def : harness::catalog()) {
      if (def.id == id) policy[id] = policy_of(def);
    }
  }
  std::map<InteropPair, std::map<std::string, MatrixCell>> cells;
  std::set<InteropPair> seen_in_earlier_report;
  for (const auto& [agent, report] : reports) {
    assert(report != nullptr);
    std::set<InteropPair> here;
    for (const harness::CaseResult& result : report->cases) {
      InteropPair pair{agent, agent};
      std::string case_id = result.id;
      if (auto parsed = parse_interop_id(result.id)) {
        pair = parsed->pair;
        case_id = parsed->case_id;
      }
      if (!policy.contains(case_id) || seen_in_earlier_report.contains(pair)) continue;
      here.insert(pair);
      const std::string key = lane_kind_of(case_id) + "/" + policy[case_id];
      MatrixCell& cell = cells[pair][key];
      cell.kind_policy = key;
      if (result.outcome == Outcome::Pass) {
        ++cell.passed;
      } else if (result.outcome == Outcome::Skip) {
        ++cell.skipped;
      } else {
        ++(result.outcome == Outcome::Inconclusive ? cell.inconclusive : cell.failed);
        cell.failures.push_back(agent + "/report.html#" + fragment(result.id));
      }
    }
    seen_in_earlier_report.insert(here.begin(), here.end());
  }
  std::vector<MatrixEntry> out;
  for (auto& [pair, by_key] : cells) {
    MatrixEntry entry{pair, {}};
    for (auto& [key, cell] : by_key) entry.cells.push_back(std::move(cell));
    out.push_back(std::move(entry));
  }
  return out;
}

std::string interop_matrix_html(const std::vector<MatrixEntry>& matrix, const std::vector<std::string>& agents) {
  std::vector<std::string> names{kReferenceAgentName};
  for (const std::string& agent : agents) {
    if (std::find(names.begin(), names.end(), agent) == names.end()) names.push_back(agent);
  }
  std::string h =
      "<h2>Interoperability: producer (rows) x consumer (columns)</h2>\n"
      "<p>Each cell: the interop cases of that pair per lane kind/policy, passed/run. The producer's "
      "implementation also creates the region.</p>\n<table id=\"interop-matrix\"><tr><th>producer \\ consumer</th>";
  for (const std::string& name : names) h += "<th>" + harness::xml_escape(name) + "</th>";
  h += "</tr>\n";
  for (const std::string& producer : names) {
    h += "<tr><th>" + harness::xml_escape(producer) + "</th>";
    for (const std::string& consumer : names) {
      const auto it = std::find_if(matrix.begin(), matrix.end(), [&](const MatrixEntry& e) {
        return e.pair == InteropPair{producer, consumer};
      });
      if (it == matrix.end()) {
        h += "<td class=\"not-run\">not run</td>";
        continue;
      }
      h += "<td class=\"pair\" data-pair=\"" + harness::xml_escape(producer + "->" + consumer) + "\">";
      for (const MatrixCell& cell : it->cells) {
        const int run = cell.passed + cell.failed + cell.inconclusive;
        const char* css = cell.failed > 0 ? "failed" : cell.inconclusive > 0 ? "inconclusive" : run == 0 ? "not-run" : "certified";
        h += std::string("<div class=\"cell ") + css + "\" data-kind-policy=\"" + harness::xml_escape(cell.kind_policy) + "\">" +
             harness::xml_escape(cell.kind_policy) + " " + std::to_string(cell.passed) + "/" + std::to_string(run);
        if (cell.inconclusive > 0) h += " (" + std::to_string(cell.inconclusive) + " inconclusive)";
        if (cell.skipped > 0) h += " (" + std::to_string(cell.skipped) + " skipped)";
        for (const std::string& link : cell.failures) {  // shown by the case's last name, e.g. FifoInOrder
          h += " <a class=\"failure\" href=\"" + harness::xml_escape(link) + "\">" + harness::xml_escape(link.substr(link.rfind('.') + 1)) + "</a>";
        }
        h += "</div>";
      }
      h += "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

}  // namespace indexbus::certify

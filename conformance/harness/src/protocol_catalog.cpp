// Required.Protocol.Refusals.*: the refusals of spec/agent-protocol.md that an agent can get wrong
// while every lane result stays right. Each refusal must carry its error `kind` and its `code`
// (the core ErrorCode name): a role held by a live process (every kind and role), a reader index
// out of range (reader_count, the Journal handle range 0..63, and a value past 32 bits, which a
// careless agent truncates to a valid index), and a SequencedSlots `publish` of a sequence that is
// not the outstanding claim. Deterministic: one request at a time, no timing involved.
#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "case_support.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/step_runner.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, stop_on_lost_wakeups
namespace proto = protocol;
using Json = nlohmann::json;

struct LaneUnderTest {
  const char* kind;       // spec name
  const char* case_kind;  // in the case id
  const char* consumer_role;  // "" for Events (it has no index), "reader" or "consumer"
};

constexpr LaneUnderTest kLanes[] = {
    {"events", "Events", "consumer"},
    {"journal", "Journal", "reader"},
    {"sequenced_slots", "SequencedSlots", "consumer"},
    {"fanout_broadcast", "Fanout", "consumer"},
};
constexpr std::uint32_t kReaders = 2;

Json lane_spec(const std::string& kind) {
  Json lane{{"kind", kind}, {"on_full", "block"}, {"capacity_slots", 4}, {"slot_payload_bytes", 16}};
  if (kind != "events") lane["reader_count"] = kReaders;
  return lane;
}

// Agents for one case; every request is recorded in the case history.
class ProtocolRun {
 public:
  ProtocolRun(const AgentCaseContext& context, CaseResult& result) : context_(context), result_(result) {}

  void start(std::size_t agents, const std::string& kind) {
    for (std::size_t a = 0; a < agents; ++a) {
      agents_.push_back(std::make_unique<AgentProcess>(context_.agent_argv));
      if (auto failure = agents_.back()->handshake()) throw CaseStop{outcome_of(*failure), "hello: " + failure->message};
      const auto kinds = proto::get_string_array(agents_.back()->hello(), "lane_kinds");
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
        throw CaseStop{Outcome::Skip, "agent does not implement " + kind + " lanes"};
      }
    }
  }

  // Sends request to agent a; `expected` is "ok", "error <kind> <code>", or "error <kind>" where the
  // spec names no code (then any code passes).
  Reply expect(std::size_t a, Json request, const std::string& expected, const std::string& during) {
    HistoryRecord record;
    record.step = result_.history.size();
    record.agent = a;
    record.action = during;
    record.expected = expected;
    RequestOutcome outcome = agents_[a]->request(std::move(request), context_.request_deadline_ms);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) {
      throw CaseStop{outcome_of(*failure), "agent " + std::to_string(a) + " " + during + ": " + failure->message};
    }
    Reply reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(a, reply);
    if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, during + " unsupported: " + reply.message};
    record.actual = reply.type == "ok" ? "ok" : "error " + reply.error_kind + " " + reply.error_code;
    const bool kind_only = expected.rfind("error ", 0) == 0 && expected.find(' ', 6) == std::string::npos;
    record.matched = record.actual == expected || (kind_only && reply.type != "ok" && "error " + reply.error_kind == expected);
    result_.history.push_back(record);
    if (!record.matched) {
      throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + " " + during + ": expected " + expected + ", got " +
                                        (reply.type == "ok" ? "ok" : record.actual + " (" + reply.message + ")") +
                                        " (spec/agent-protocol.md, error kinds: every refusal names its kind and code)"};
    }
    return reply;
  }

  void create_and_open(const std::string& path, const std::string& kind) {
    expect(0, Json{{"type", "create_region"}, {"path", path}, {"lanes", Json::array({lane_spec(kind)})}}, "ok",
           "create_region (one " + kind + " lane, block, capacity 4)");
    for (std::size_t a = 1; a < agents_.size(); ++a) expect(a, Json{{"type", "open_region"}, {"path", path}}, "ok", "open_region");
  }

 private:
  const AgentCaseContext& context_;
  CaseResult& result_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
};

Json attach(const std::string& role, std::uint64_t reader) {
  return Json{{"type", "attach"}, {"lane", 0}, {"role", role}, {"reader", reader}};
}

// Agent 0 attaches the role, then agent 1, a live process of its own, asks for the same: refused
// with role_taken and code RoleTaken (EV-1, FB-1, SS-1, JR-1).
void run_role_taken(const std::string& kind, const std::string& role, const AgentCaseContext& context, CaseResult& result) {
  result.scenario.push_back("agent 0 attaches the " + role + " of a " + kind + " lane; agent 1 asks for the same");
  const RegionFile region(context.dir, result.id);
  ProtocolRun run(context, result);
  run.start(2, kind);
  run.create_and_open(region.path(), kind);
  run.expect(0, attach(role, 0), "ok", "attach " + role + " 0");
  run.expect(1, attach(role, 0), "error role_taken RoleTaken", "attach " + role + " 0 (held by agent 0)");
}

// Indexes the agent must refuse as bad_request BadReaderIndex, then a valid one it must accept.
void run_reader_index(const std::string& kind, const std::string& role, const AgentCaseContext& context, CaseResult& result) {
  const bool journal = kind == "journal";
  result.scenario.push_back(journal ? "reader handles 64 and 2^32 (the handle range is 0..63)"
                                    : "consumer indexes " + std::to_string(kReaders) + " (= reader_count), 64 and 2^32");
  const RegionFile region(context.dir, result.id);
  ProtocolRun run(context, result);
  run.start(1, kind);
  run.create_and_open(region.path(), kind);
  std::vector<std::uint64_t> refused = {64, std::uint64_t{1} << 32};
  if (!journal) refused.insert(refused.begin(), kReaders);
  for (const std::uint64_t index : refused) {
    run.expect(0, attach(role, index), "error bad_request BadReaderIndex", "attach " + role + " " + std::to_string(index));
  }
  run.expect(0, attach(role, journal ? 63 : kReaders - 1), "ok", "attach " + role + " " + std::to_string(journal ? 63 : kReaders - 1));
}

// A publish must name the outstanding claim: none yet, then a sequence other than the claim's,
// are bad_request; the claim itself is then published (SS-2).
void run_publish_not_the_claim(const AgentCaseContext& context, CaseResult& result) {
  result.scenario.push_back("sequenced_slots producer: publish with no claim, claim seq 0, publish seq 1, publish seq 0");
  const RegionFile region(context.dir, result.id);
  ProtocolRun run(context, result);
  run.start(1, "sequenced_slots");
  run.create_and_open(region.path(), "sequenced_slots");
  run.expect(0, attach("producer", 0), "ok", "attach producer");
  auto publish = [](std::uint64_t seq) {
    return Json{{"type", "op"}, {"lane", 0}, {"role", "producer"}, {"op", "publish"}, {"seq", seq}, {"payload_hex", "01"}};
  };
  run.expect(0, publish(0), "error bad_request", "publish seq 0 with no claim outstanding");
  const Reply claimed = run.expect(0, Json{{"type", "op"}, {"lane", 0}, {"role", "producer"}, {"op", "try_claim"}}, "ok", "try_claim");
  if (proto::get_string(claimed.result, "status") != "Ok" || proto::get_u64(claimed.result, "seq") != 0) {
    throw CaseStop{Outcome::Fail, "try_claim on an empty lane: expected Ok with seq 0, got " + claimed.result.dump()};
  }
  run.expect(0, publish(1), "error bad_request", "publish seq 1 (the claim is seq 0)");
  const Reply published = run.expect(0, publish(0), "ok", "publish seq 0 (the claim)");
  if (proto::get_string(published.result, "status") != "Ok") {
    throw CaseStop{Outcome::Fail, "publish of the outstanding claim: expected Ok, got " + published.result.dump()};
  }
}

}  // namespace

void add_protocol_cases(std::vector<CaseDef>& cases) {
  auto add = [&](std::string id, std::vector<std::string> rules, std::string summary,
                 std::function<void(const AgentCaseContext&, CaseResult&)> run) {
    CaseDef def;
    def.id = std::move(id);
    def.rules = std::move(rules);
    def.summary = std::move(summary);
    def.run_with_agents = [run = std::move(run)](const AgentCaseContext& context, CaseResult& result) {
      try {
        run(context, result);
        result.outcome = Outcome::Pass;
        result.detail = std::to_string(result.history.size()) + " requests, each answered as the protocol says";
      } catch (const CaseStop& stop) {
        result.outcome = stop.outcome;
        result.detail = stop.detail;
      }
    };
    cases.push_back(std::move(def));
  };
  const char* kRule[] = {"EV-1", "JR-1", "SS-1", "FB-1"};
  for (std::size_t k = 0; k < std::size(kLanes); ++k) {
    const LaneUnderTest& lane = kLanes[k];
    const std::string kind = lane.kind;
    const std::string producer = "producer";
    add(std::string("Required.Protocol.Refusals.RoleTaken.") + lane.case_kind + ".Producer", {kRule[k]},
        "a second live process asking for a held " + kind + " producer gets role_taken with code RoleTaken",
        [kind, producer](const AgentCaseContext& c, CaseResult& r) { run_role_taken(kind, producer, c, r); });
    if (kind == "journal") continue;  // two Journal readers take two records: nothing is held
    const std::string consumer = lane.consumer_role;
    add(std::string("Required.Protocol.Refusals.RoleTaken.") + lane.case_kind + ".Consumer", {kRule[k]},
        "a second live process asking for a held " + kind + " consumer gets role_taken with code RoleTaken",
        [kind, consumer](const AgentCaseContext& c, CaseResult& r) { run_role_taken(kind, consumer, c, r); });
  }
  for (std::size_t k = 1; k < std::size(kLanes); ++k) {
    const LaneUnderTest& lane = kLanes[k];
    const std::string kind = lane.kind;
    const std::string role = lane.consumer_role;
    add(std::string("Required.Protocol.Refusals.ReaderIndex.") + lane.case_kind, {kRule[k]},
        "a " + kind + " " + role + " index out of range (or past 32 bits) gets bad_request with code BadReaderIndex",
        [kind, role](const AgentCaseContext& c, CaseResult& r) { run_reader_index(kind, role, c, r); });
  }
  add("Required.Protocol.Refusals.PublishNotTheClaim", {"SS-2"},
      "a sequenced_slots publish with no claim outstanding, or of another sequence than the claim, gets bad_request",
      [](const AgentCaseContext& c, CaseResult& r) { run_publish_not_the_claim(c, r); });
}

}  // namespace indexbus::harness

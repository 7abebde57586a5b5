#include "indexbus/harness/step_runner.hpp"

#include <algorithm>
#include <cassert>
#include <memory>
#include <optional>

#include "case_support.hpp"
#include "region_watch.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/protocol/fields.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, sleep_us, the status tables

namespace proto = protocol;

std::string op_name(const spec::Op& op) {
  struct Visitor {
    std::string operator()(const spec::TryWrite&) const { return "try_write"; }
    std::string operator()(const spec::Write&) const { return "write"; }
    std::string operator()(const spec::Close&) const { return "close"; }
    std::string operator()(const spec::TryRead&) const { return "try_read"; }
    std::string operator()(const spec::Read&) const { return "read"; }
    std::string operator()(const spec::BeginWrite&) const { return "begin_write (model only)"; }
  };
  return std::visit(Visitor{}, op);
}

bool is_blocking(const spec::Op& op) { return std::holds_alternative<spec::Write>(op) || std::holds_alternative<spec::Read>(op); }

const spec::Bytes* payload_of(const spec::Op& op) {
  if (const auto* w = std::get_if<spec::TryWrite>(&op)) return &w->payload;
  if (const auto* w = std::get_if<spec::Write>(&op)) return &w->payload;
  return nullptr;
}

class StepRun {
 public:
  StepRun(const CaseDef& def, const Scenario& scenario, std::uint64_t seed, const AgentAssignment& assignment,
          const ScratchDir& dir, std::uint32_t request_deadline_ms)
      : scenario_(scenario), assignment_(assignment), request_deadline_ms_(request_deadline_ms), region_(dir, def.id), state_(spec::initial_state(scenario.config)) {
    result_.id = def.id;
    result_.level = def.level;
    result_.rules = def.rules;
    result_.seed = seed;
    for (const Step& step : scenario.steps) result_.scenario.push_back(describe(step));
  }

  CaseResult run() && {
    try {
      setup();
      for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
        run_step(i, scenario_.steps[i]);
        check_region(i);
      }
      check_final_counters();
      result_.outcome = Outcome::Pass;
      result_.detail = std::to_string(scenario_.steps.size()) + " steps matched the model";
    } catch (const CaseStop& stop) {
      result_.outcome = stop.outcome;
      result_.detail = stop.detail;
    }
    agents_.clear();  // shut the agents down before the region file goes
    return std::move(result_);
  }

 private:
  // ---- agents ----

  void start_agent(std::size_t index, bool create) {
    const auto& roles = scenario_.roles[index];
    const bool producer_side = create || std::find(roles.begin(), roles.end(), Role::Producer) != roles.end();
    agents_[index] = std::make_unique<AgentProcess>(assignment_.argv(producer_side));
    AgentProcess& agent = *agents_[index];
    if (auto failure = agent.handshake()) stop_on(*failure, "agent " + std::to_string(index) + " hello");
    check_capabilities(agent.hello());
    Json request;
    if (create) {
      const spec::EventsConfig& c = scenario_.config;
      request = {{"type", "create_region"},
                 {"path", region_.path()},
                 {"lanes",
                  {{{"kind", "events"},
                    {"on_full", c.on_full == OnFull::Block ? "block" : "drop"},
                    {"capacity_slots", c.capacity_slots},
                    {"slot_payload_bytes", c.slot_payload_bytes}}}}};
    } else {
      request = {{"type", "open_region"}, {"path", region_.path()}};
    }
    const Json lanes = create ? request["lanes"] : Json();
    expect_ok(index, std::move(request), create ? "create_region" : "open_region");
    if (create) {
      if (auto wrong = watch_.baseline(lanes)) throw CaseStop{Outcome::Fail, "agent 0 create_region: " + *wrong};
    }
    for (const Role role : scenario_.roles[index]) expect_ok(index, attach_request(role), "attach " + to_string(role));
  }

  void check_capabilities(const Json& hello) {
    if (hello["protocol"].get<std::uint64_t>() != static_cast<std::uint64_t>(proto::kProtocolVersion)) {
      throw CaseStop{Outcome::Skip, "agent speaks protocol " + hello["protocol"].dump() + ", the harness 1"};
    }
    const auto kinds = proto::get_string_array(hello, "lane_kinds");
    if (std::find(kinds.begin(), kinds.end(), "events") == kinds.end()) {
      throw CaseStop{Outcome::Skip, "agent does not implement events lanes"};
    }
    const auto policies = proto::get_string_array(hello, "policies");
    const std::string policy = scenario_.config.on_full == OnFull::Block ? "block" : "drop";
    if (std::find(policies.begin(), policies.end(), policy) == policies.end()) {
      throw CaseStop{Outcome::Skip, "agent does not implement the " + policy + " policy"};
    }
  }

  static Json attach_request(Role role) { return Json{{"type", "attach"}, {"lane", 0}, {"role", to_string(role)}}; }

  [[noreturn]] void stop_on(const AgentFailure& failure, const std::string& during) {
    throw CaseStop{outcome_of(failure), during + ": " + failure.message};
  }

  Reply call(std::size_t index, Json request, const std::string& during) {
    assert(index < agents_.size());
    if (!agents_[index] || !agents_[index]->running()) {
      throw CaseStop{Outcome::Fail, "scenario error: agent " + std::to_string(index) + " is not running for " + during};
    }
    RequestOutcome outcome = agents_[index]->request(std::move(request), request_deadline_ms_);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) stop_on(*failure, "agent " + std::to_string(index) + " " + during);
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(index, reply);
    if (reply.type == "unsupported") throw unsupported_stop(index, during, reply.message);
    return reply;
  }

  Json expect_ok(std::size_t index, Json request, const std::string& during) {
    Reply reply = call(index, std::move(request), during);
    if (reply.type != "ok") {
      throw CaseStop{Outcome::Fail, "agent " + std::to_string(index) + " " + during + ": error " + reply.error_kind + ": " + reply.message};
    }
    return reply.result;
  }

  void setup() {
    agents_.resize(scenario_.roles.size());
    for (std::size_t a = 0; a < agents_.size(); ++a) start_agent(a, a == 0);
  }

  // ---- steps ----

  void run_step(std::size_t index, const Step& step) {
    HistoryRecord record;
    record.step = index;
    record.action = describe(step);
    if (const auto* op = std::get_if<OpStep>(&step)) {
      run_op(index, *op);
      return;
    }
    if (const auto* kill = std::get_if<KillStep>(&step)) {
      record.agent = kill->agent;
      agents_.at(kill->agent)->kill_now();
      record.actual = "killed";
    } else if (const auto* restart = std::get_if<RestartStep>(&step)) {
      record.agent = restart->agent;
      start_agent(restart->agent, false);
      record.actual = "reattached";
    } else if (const auto* attach = std::get_if<AttachStep>(&step)) {
      record.agent = attach->agent;
      const Reply reply = call(attach->agent, attach_request(attach->role), "attach " + to_string(attach->role));
      record.expected = attach->expect_refused ? "error role_taken" : "ok";
      record.actual = reply.type == "ok" ? "ok" : "error " + reply.error_kind;
      record.matched = record.expected == record.actual;
      result_.history.push_back(record);
      if (!record.matched) {
        throw CaseStop{Outcome::Fail, "step " + std::to_string(index) + ": " + record.action + ": expected " +
                                          record.expected + ", got " + record.actual + " (EV-1)"};
      }
      return;
    }
    result_.history.push_back(record);
  }

  void run_op(std::size_t index, const OpStep& step) {
    const Role role = role_of(step.op);
    Json request{{"type", "op"}, {"lane", 0}, {"role", to_string(role)}, {"op", op_name(step.op)}};
    if (const spec::Bytes* payload = payload_of(step.op)) request["payload_hex"] = proto::to_hex(payload->data(), payload->size());
    if (is_blocking(step.op)) request["timeout_ns"] = scenario_.op_timeout_ns;

    auto [next_state, expected] = spec::step(state_, step.op);
    const Reply reply = call(step.agent, std::move(request), op_name(step.op));

    HistoryRecord record;
    record.step = index;
    record.agent = step.agent;
    record.action = to_string(role) + " " + spec::describe(step.op);
    record.expected = spec::describe(expected);
    auto mismatch = [&](const std::string& what) -> CaseStop {
      record.matched = false;
      result_.history.push_back(record);
      return CaseStop{Outcome::Fail, "step " + std::to_string(index) + " (agent " + std::to_string(step.agent) + " " +
                                         record.action + "): " + what};
    };
    if (reply.type != "ok") {
      record.actual = "error " + reply.error_kind + ": " + reply.message;
      throw mismatch("expected " + record.expected + ", got " + record.actual);
    }
    spec::OpResult actual;
    try {
      actual = parse_result(step.op, reply.result);
      record.invoked_ns = proto::get_u64(reply.result, "invoked_ns");
      record.returned_ns = proto::get_u64(reply.result, "returned_ns");
    } catch (const proto::ProtocolError& e) {
      record.actual = reply.result.dump();
      throw mismatch(std::string("malformed result: ") + e.what());
    }
    record.actual = spec::describe(actual);
    if (actual != expected) throw mismatch("expected " + record.expected + ", got " + record.actual);
    check_timeout_timing(step, actual, record, mismatch);
    result_.history.push_back(record);
    state_ = std::move(next_state);
    if (auto broken = spec::check_invariants(state_)) {
      throw CaseStop{Outcome::Fail, "model invariant broken after step " + std::to_string(index) + ": " + *broken};
    }
  }

  template <typename Mismatch>
  void check_timeout_timing(const OpStep& step, const spec::OpResult& actual, HistoryRecord& record, Mismatch& mismatch) {
    const bool timed_out = std::visit(
        [](const auto& r) {
          if constexpr (std::is_same_v<std::decay_t<decltype(r)>, spec::WriteOutcome>) return r.status == WriteStatus::Timeout;
          if constexpr (std::is_same_v<std::decay_t<decltype(r)>, spec::ReadOutcome>) return r.status == ReadStatus::Timeout;
          return false;
        },
        actual);
    if (!timed_out) return;
    if (record.returned_ns < record.invoked_ns) throw mismatch("returned_ns before invoked_ns");
    const std::uint64_t waited_ns = record.returned_ns - record.invoked_ns;
    if (waited_ns < scenario_.op_timeout_ns) {
      throw mismatch("Timeout after " + std::to_string(waited_ns) + " ns, before its deadline of " +
                     std::to_string(scenario_.op_timeout_ns) + " ns (EV-15)");
    }
    if (step.late_by_max_ns != 0 && waited_ns > scenario_.op_timeout_ns + step.late_by_max_ns) {
      throw mismatch("Timeout " + std::to_string(waited_ns - scenario_.op_timeout_ns) + " ns after its deadline, more than " +
                     std::to_string(step.late_by_max_ns) + " ns (EV-15)");
    }
  }

  static spec::OpResult parse_result(const spec::Op& op, const Json& result) {
    const std::string status = proto::get_string(result, "status");
    if (std::holds_alternative<spec::Close>(op)) {
      if (status != "Ok") throw proto::ProtocolError("close returned status '" + status + "'");
      return spec::CloseOutcome{};
    }
    if (role_of(op) == Role::Producer) return spec::WriteOutcome{status_named(status, kWriteStatuses)};
    spec::ReadOutcome read;
    read.status = status_named(status, kReadStatuses);
    if (read.status == ReadStatus::Entry) {
      read.seq = proto::get_u64(result, "seq");
      read.payload = proto::from_hex(proto::get_string(result, "payload_hex"), kSlotPayloadBytesMax);
    }
    if (read.status == ReadStatus::Lost) read.lost_count = proto::get_u64(result, "lost_count");
    return read;
  }

  // Between steps every agent is quiescent: the region must be intact and its lane consistent.
  void check_region(std::size_t index) {
    if (auto wrong = watch_.check(true)) {
      throw CaseStop{Outcome::Fail, "region after step " + std::to_string(index) + " (" + describe(scenario_.steps[index]) + "): " + *wrong};
    }
  }

  // EV-11: the lane's counters equal the model's; after close and a full drain, nothing is
  // unaccounted (Block: delivered = written; Drop: delivered + lost = written).
  void check_final_counters() {
    std::size_t index = 0;
    while (index < agents_.size() && !(agents_[index] && agents_[index]->running())) ++index;
    if (index == agents_.size()) return;
    const Json counters = expect_ok(index, Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state");
    try {
      const std::uint64_t write_seq = proto::get_u64(counters, "write_seq");
      const std::uint64_t read_seq = proto::get_u64(counters, "read_seq");
      const std::uint64_t read_count = proto::get_u64(counters, "read_count");
      const std::uint64_t lost_count = proto::get_u64(counters, "lost_count");
      const bool closed = proto::get_bool_or(counters, "closed", false);
      const bool match = write_seq == state_.written && read_seq == state_.read_seq && read_count == state_.read_count &&
                         lost_count == state_.lost_count && closed == state_.closed;
      if (!match) {
        throw CaseStop{Outcome::Fail, "lane counters " + counters.dump() + " differ from the model's: written " +
                                          std::to_string(state_.written) + ", read_seq " + std::to_string(state_.read_seq) +
                                          ", read " + std::to_string(state_.read_count) + ", lost " +
                                          std::to_string(state_.lost_count) + (state_.closed ? ", closed" : ", open") + " (EV-11)"};
      }
      if (spec::is_drained(state_) && read_count + lost_count != write_seq) {
        throw CaseStop{Outcome::Fail, "drained lane: delivered + lost != written (EV-11)"};
      }
    } catch (const proto::ProtocolError& e) {
      throw CaseStop{Outcome::Fail, std::string("malformed lane_state: ") + e.what()};
    }
  }

  const Scenario& scenario_;
  const AgentAssignment& assignment_;
  std::uint32_t request_deadline_ms_;
  RegionFile region_;
  RegionWatch watch_{region_.path()};
  spec::EventsState state_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
  CaseResult result_;
};

}  // namespace

std::string to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pass: return "PASS";
    case Outcome::Fail: return "FAIL";
    case Outcome::Crash: return "CRASH";
    case Outcome::Timeout: return "TIMEOUT";
    case Outcome::Skip: return "SKIP";
    case Outcome::Inconclusive: return "INCONCLUSIVE";
  }
  return "unknown";
}

CaseResult run_step_case(const CaseDef& def, const Scenario& scenario, std::uint64_t seed,
                         const AgentAssignment& agents, const ScratchDir& dir,
                         std::uint32_t request_deadline_ms) {
  return StepRun(def, scenario, seed, agents, dir, request_deadline_ms).run();
}

}  // namespace indexbus::harness

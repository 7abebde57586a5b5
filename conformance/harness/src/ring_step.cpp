#include "indexbus/harness/ring_step.hpp"

#include <stdexcept>
#include <algorithm>
#include <cassert>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "case_support.hpp"
#include "region_watch.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/protocol/fields.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, sleep_us, the status tables

namespace proto = protocol;

std::string policy_name(OnFull on_full) { return on_full == OnFull::Block ? "block" : "drop"; }

WriteStatus parse_write(const Json& result) { return status_named(proto::get_string(result, "status"), kWriteStatuses); }
void expect_close_ok(const Json& result) {
  const std::string status = proto::get_string(result, "status");
  if (status != "Ok") throw proto::ProtocolError("close returned status '" + status + "'");
}
Json hex(const spec::Bytes& bytes) { return proto::to_hex(bytes.data(), bytes.size()); }

// What a model operation becomes on the wire. kind: a request; sleep_ns: no request, the harness
// waits instead (the Journal model's clock); none of both: the model alone.
struct Wire {
  Json request;          // null: no request
  std::uint64_t sleep_ns = 0;
  bool blocking = false;  // carries timeout_ns; a Timeout must not come early
};

Json op_request(const std::string& role, std::uint32_t reader, const std::string& op) {
  return Json{{"type", "op"}, {"lane", 0}, {"role", role}, {"reader", reader}, {"op", op}};
}

// ---- Journal ----

struct JournalTraits {
  using Config = spec::JournalConfig;
  using State = spec::JournalState;
  using Op = spec::JournalOp;
  using Result = spec::JournalResult;
  static constexpr const char* kKind = "journal";
  static State initial(const Config& c) { return spec::initial_state(c); }
  static std::pair<State, Result> step(const State& s, const Op& op) { return spec::step(s, op); }
  static Json lane_spec(const Config& c) {
    return Json{{"kind", kKind},          {"on_full", policy_name(c.on_full)}, {"capacity_slots", c.capacity_slots},
                {"slot_payload_bytes", c.slot_payload_bytes}, {"reader_count", c.reader_count},
                {"reader_timeout_ns", c.reader_timeout_ns}};
  }
  static Wire wire([[maybe_unused]] const State& s, const Op& op) {
    struct V {
      Wire operator()(const spec::JournalTryWrite& o) const {
        Json r = op_request("producer", 0, "try_write");
        r["payload_hex"] = hex(o.payload);
        return {r, 0, false};
      }
      Wire operator()(const spec::JournalWrite& o) const {
        Json r = op_request("producer", 0, "write");
        r["payload_hex"] = hex(o.payload);
        return {r, 0, true};
      }
      Wire operator()(const spec::JournalClose&) const { return {op_request("producer", 0, "close"), 0, false}; }
      Wire operator()(const spec::JournalAttach& o) const {
        Json r{{"type", "attach"}, {"lane", 0}, {"role", "reader"}};
        if (!o.name.empty()) r["name"] = o.name;
        return {r, 0, false};  // the reader key is set by the runner
      }
      Wire operator()(const spec::JournalTryRead& o) const { return {op_request("reader", o.reader, "try_read"), 0, false}; }
      Wire operator()(const spec::JournalRead& o) const { return {op_request("reader", o.reader, "read"), 0, true}; }
      Wire operator()(const spec::JournalCommit& o) const { return {op_request("reader", o.reader, "commit"), 0, false}; }
      Wire operator()(const spec::JournalReadAt& o) const {
        Json r = op_request("reader", o.reader, "read_at");
        r["seq"] = o.seq;
        return {r, 0, false};
      }
      Wire operator()(const spec::JournalHeartbeat& o) const { return {op_request("reader", o.reader, "heartbeat"), 0, false}; }
      Wire operator()(const spec::JournalDetach& o) const {
        return {Json{{"type", "detach"}, {"lane", 0}, {"role", "reader"}, {"reader", o.reader}}, 0, false};
      }
      Wire operator()(const spec::JournalAdvanceTime& o) const { return {Json(nullptr), o.ns, false}; }
      Wire operator()(const spec::JournalBeginWrite&) const {
        throw std::logic_error("JournalBeginWrite is a model-only operation (two-step writes): no request performs it");
      }
      Wire operator()(const spec::JournalBeginCall&) const {
        throw std::logic_error("JournalBeginCall is a model-only operation (a reader call's heartbeat): no request performs it");
      }
      Wire operator()(const spec::JournalEvict&) const {
        throw std::logic_error("JournalEvict is a model-only operation (a write's eviction): no request performs it");
      }
      Wire operator()(const spec::JournalPublishCursor&) const {
        throw std::logic_error("JournalPublishCursor is a model-only operation (a commit's store): no request performs it");
      }
    };
    return std::visit(V{}, op);
  }
  // reply: the agent's reply (ok or error); returns the model result it means.
  static Result parse(const Op& op, const Reply& reply) {
    if (std::holds_alternative<spec::JournalAttach>(op)) {
      if (reply.type == "ok") return spec::JournalAttachOutcome{spec::JournalAttachError::None,
                                                                static_cast<std::uint32_t>(proto::get_u64(reply.result, "reader_id"))};
      // By the error's `code` (spec/agent-protocol.md); an agent that gives none is judged by its kind.
      const std::string& code = reply.error_code;
      if (code == "NoFreeReader") return spec::JournalAttachOutcome{spec::JournalAttachError::NoFreeReader, 0};
      if (code == "BadReaderName") return spec::JournalAttachOutcome{spec::JournalAttachError::BadReaderName, 0};
      if (code == "RoleTaken" || (code.empty() && reply.error_kind == "role_taken")) {
        return spec::JournalAttachOutcome{spec::JournalAttachError::RoleTaken, 0};
      }
      throw proto::ProtocolError("attach error " + reply.error_kind + ": " + reply.message);
    }
    if (reply.type != "ok") throw proto::ProtocolError("error " + reply.error_kind + ": " + reply.message);
    const Json& r = reply.result;
    struct V {
      const Json& r;
      Result operator()(const spec::JournalTryWrite&) const { return spec::WriteOutcome{parse_write(r)}; }
      Result operator()(const spec::JournalWrite&) const { return spec::WriteOutcome{parse_write(r)}; }
      Result operator()(const spec::JournalClose&) const {
        expect_close_ok(r);
        return spec::CloseOutcome{};
      }
      Result operator()(const spec::JournalAttach&) const { return spec::JournalAttachOutcome{}; }
      Result operator()(const spec::JournalTryRead&) const { return parse_read_outcome(r); }
      Result operator()(const spec::JournalRead&) const { return parse_read_outcome(r); }
      Result operator()(const spec::JournalReadAt&) const { return parse_read_outcome(r); }
      Result operator()(const spec::JournalCommit&) const { return call(); }
      Result operator()(const spec::JournalHeartbeat&) const { return call(); }
      Result operator()(const spec::JournalDetach&) const { return spec::JournalDoneOutcome{}; }
      Result operator()(const spec::JournalAdvanceTime&) const { return spec::JournalDoneOutcome{}; }
      Result operator()(const spec::JournalBeginWrite&) const { return spec::WriteOutcome{parse_write(r)}; }
      Result operator()(const spec::JournalBeginCall&) const { return spec::JournalCallOutcome{true}; }
      Result operator()(const spec::JournalEvict&) const { return spec::JournalCallOutcome{true}; }
      Result operator()(const spec::JournalPublishCursor&) const { return spec::JournalCallOutcome{true}; }
      Result call() const { return spec::JournalCallOutcome{proto::get_string(r, "status") == "Ok"}; }
    };
    return std::visit(V{r}, op);
  }
  static bool timed_out(const Result& r) {
    if (const auto* w = std::get_if<spec::WriteOutcome>(&r)) return w->status == WriteStatus::Timeout;
    if (const auto* rd = std::get_if<spec::ReadOutcome>(&r)) return rd->status == ReadStatus::Timeout;
    return false;
  }
  // An operation left in flight (RingStartStep): see journal_in_flight_split.
  static std::optional<std::pair<Op, Op>> split(const State& s, const Op& op) { return journal_in_flight_split(s, op); }
  static std::optional<std::uint32_t> attached_reader(const Result& r) {
    const auto* a = std::get_if<spec::JournalAttachOutcome>(&r);
    if (a == nullptr || a->error != spec::JournalAttachError::None) return std::nullopt;
    return a->reader;
  }
  // A killed agent's readers: detached in the model (their uncommitted reads are forgotten).
  static std::vector<Op> on_kill(const std::vector<std::uint32_t>& readers) {
    std::vector<Op> ops;
    // The record stays Attached by the dead process, holding the writer back (JR-4).
    for (const std::uint32_t r : readers) ops.emplace_back(std::in_place_type<spec::JournalDetach>, r, true);
    return ops;
  }
  static std::string check_counters(const State& s, const Json& c) {
    if (proto::get_u64(c, "write_seq") != s.written) return "write_seq";
    if (proto::get_bool_or(c, "closed", false) != s.closed) return "closed";
    const Json& readers = proto::get_array(c, "readers");
    for (std::size_t i = 0; i < s.readers.size() && i < readers.size(); ++i) {
      const auto& m = s.readers[i];
      if (m.state == spec::JournalReaderState::Free) continue;
      if (proto::get_u64(readers[i], "cursor_seq") != m.cursor_seq) return "reader " + std::to_string(i) + " cursor_seq";
    }
    return {};
  }
};

// ---- SequencedSlots ----

struct SequencedTraits {
  using Config = spec::SequencedConfig;
  using State = spec::SequencedState;
  using Op = spec::SequencedOp;
  using Result = spec::SequencedResult;
  static constexpr const char* kKind = "sequenced_slots";
  static State initial(const Config& c) { return spec::sequenced_initial_state(c); }
  static std::pair<State, Result> step(const State& s, const Op& op) {
    assert(spec::sequenced_op_allowed(s, op));
    return spec::sequenced_step(s, op);
  }
  static Json lane_spec(const Config& c) {
    return Json{{"kind", kKind},
                {"on_full", policy_name(c.on_full)},
                {"capacity_slots", c.capacity_slots},
                {"slot_payload_bytes", c.slot_payload_bytes},
                {"reader_count", c.consumer_count()},
                {"gated_on", c.gated_on}};
  }
  static Wire wire([[maybe_unused]] const State& s, const Op& op) {
    struct V {
      std::uint64_t claimed_seq;
      Wire operator()(const spec::SeqTryClaim&) const { return {op_request("producer", 0, "try_claim"), 0, false}; }
      Wire operator()(const spec::SeqClaim&) const { return {op_request("producer", 0, "claim"), 0, true}; }
      Wire operator()(const spec::SeqPublish& o) const {
        Json r = op_request("producer", 0, "publish");
        r["seq"] = claimed_seq;  // the outstanding claim (SS-2): the sequence `written`
        r["payload_hex"] = hex(o.payload);
        return {r, 0, false};
      }
      Wire operator()(const spec::SeqClose&) const { return {op_request("producer", 0, "close"), 0, false}; }
      Wire operator()(const spec::SeqTryRead& o) const { return {op_request("consumer", o.consumer, "try_read"), 0, false}; }
      Wire operator()(const spec::SeqRead& o) const { return {op_request("consumer", o.consumer, "read"), 0, true}; }
    };
    return std::visit(V{s.written}, op);
  }
  static Result parse(const Op& op, const Reply& reply) {
    if (reply.type != "ok") throw proto::ProtocolError("error " + reply.error_kind + ": " + reply.message);
    const Json& r = reply.result;
    if (std::holds_alternative<spec::SeqTryClaim>(op) || std::holds_alternative<spec::SeqClaim>(op)) {
      spec::SeqClaimOutcome out{parse_write(r), 0};
      if (out.status == WriteStatus::Ok) out.seq = proto::get_u64(r, "seq");
      return out;
    }
    if (std::holds_alternative<spec::SeqPublish>(op)) return spec::SeqPublishOutcome{parse_write(r)};
    if (std::holds_alternative<spec::SeqClose>(op)) {
      expect_close_ok(r);
      return spec::SeqCloseOutcome{};
    }
    return parse_read_outcome(r);
  }
  static bool timed_out(const Result& r) {
    if (const auto* c = std::get_if<spec::SeqClaimOutcome>(&r)) return c->status == WriteStatus::Timeout;
    if (const auto* rd = std::get_if<spec::ReadOutcome>(&r)) return rd->status == ReadStatus::Timeout;
    return false;
  }
  // No heartbeats: an operation left in flight is checked whole, at its await.
  static std::optional<std::pair<Op, Op>> split(const State&, const Op&) { return std::nullopt; }
  static std::optional<std::uint32_t> attached_reader(const Result&) { return std::nullopt; }
  static std::vector<Op> on_kill(const std::vector<std::uint32_t>&) { return {}; }
  static std::string check_counters(const State& s, const Json& c) {
    if (proto::get_u64(c, "write_seq") != s.written) return "write_seq";
    if (proto::get_bool_or(c, "closed", false) != s.closed) return "closed";
    const Json& readers = proto::get_array(c, "readers");
    if (readers.size() != s.consumers.size()) return "reader count";
    for (std::size_t i = 0; i < readers.size(); ++i) {
      const auto& m = s.consumers[i];
      if (proto::get_u64(readers[i], "cursor_seq") != m.next_seq) return "consumer " + std::to_string(i) + " cursor_seq";
      if (proto::get_u64(readers[i], "read_count") != m.read_count) return "consumer " + std::to_string(i) + " read_count";
      if (proto::get_u64(readers[i], "lost_count") != m.lost_count) return "consumer " + std::to_string(i) + " lost_count";
    }
    return {};
  }
};

// ---- FanoutBroadcast ----

struct FanoutTraits {
  using Config = spec::FanoutConfig;
  using State = spec::FanoutState;
  using Op = spec::FanoutOp;
  using Result = spec::FanoutResult;
  static constexpr const char* kKind = "fanout_broadcast";
  static State initial(const Config& c) { return spec::initial_state(c); }
  static std::pair<State, Result> step(const State& s, const Op& op) {
    assert(spec::is_valid_op(s, op));
    return spec::step(s, op);
  }
  static Json lane_spec(const Config& c) {
    return Json{{"kind", kKind},
                {"on_full", policy_name(c.on_full)},
                {"capacity_slots", c.capacity_slots},
                {"slot_payload_bytes", c.slot_payload_bytes},
                {"reader_count", c.consumer_count}};
  }
  static Wire wire([[maybe_unused]] const State& s, const Op& op) {
    struct V {
      Wire operator()(const spec::FanoutTryWrite& o) const {
        Json r = op_request("producer", 0, "try_write");
        r["payload_hex"] = hex(o.payload);
        return {r, 0, false};
      }
      Wire operator()(const spec::FanoutWrite& o) const {
        Json r = op_request("producer", 0, "write");
        r["payload_hex"] = hex(o.payload);
        return {r, 0, true};
      }
      Wire operator()(const spec::FanoutClose&) const { return {op_request("producer", 0, "close"), 0, false}; }
      Wire operator()(const spec::FanoutTryRead& o) const { return {op_request("consumer", o.consumer, "try_read"), 0, false}; }
      Wire operator()(const spec::FanoutRead& o) const { return {op_request("consumer", o.consumer, "read"), 0, true}; }
      Wire operator()(const spec::FanoutBeginWrite&) const {
        throw std::logic_error("FanoutBeginWrite is a model-only operation (two-step writes): no request performs it");
      }
    };
    return std::visit(V{}, op);
  }
  static Result parse(const Op& op, const Reply& reply) {
    if (reply.type != "ok") throw proto::ProtocolError("error " + reply.error_kind + ": " + reply.message);
    const Json& r = reply.result;
    if (std::holds_alternative<spec::FanoutClose>(op)) {
      expect_close_ok(r);
      return spec::CloseOutcome{};
    }
    if (std::holds_alternative<spec::FanoutTryWrite>(op) || std::holds_alternative<spec::FanoutWrite>(op)) {
      return spec::WriteOutcome{parse_write(r)};
    }
    return parse_read_outcome(r);
  }
  static bool timed_out(const Result& r) {
    if (const auto* w = std::get_if<spec::WriteOutcome>(&r)) return w->status == WriteStatus::Timeout;
    if (const auto* rd = std::get_if<spec::ReadOutcome>(&r)) return rd->status == ReadStatus::Timeout;
    return false;
  }
  // No heartbeats: an operation left in flight is checked whole, at its await.
  static std::optional<std::pair<Op, Op>> split(const State&, const Op&) { return std::nullopt; }
  static std::optional<std::uint32_t> attached_reader(const Result&) { return std::nullopt; }
  static std::vector<Op> on_kill(const std::vector<std::uint32_t>&) { return {}; }
  static std::string check_counters(const State& s, const Json& c) {
    if (proto::get_u64(c, "write_seq") != s.written) return "write_seq";
    if (proto::get_bool_or(c, "closed", false) != s.closed) return "closed";
    const Json& readers = proto::get_array(c, "readers");
    if (readers.size() != s.consumers.size()) return "reader count";
    for (std::size_t i = 0; i < readers.size(); ++i) {
      const auto& m = s.consumers[i];
      if (proto::get_u64(readers[i], "cursor_seq") != m.next_seq) return "consumer " + std::to_string(i) + " cursor_seq";
      if (proto::get_u64(readers[i], "read_count") != m.read_count) return "consumer " + std::to_string(i) + " read_count";
      if (proto::get_u64(readers[i], "lost_count") != m.lost_count) return "consumer " + std::to_string(i) + " lost_count";
    }
    return {};
  }
};

template <typename Scenario>
std::string describe_step(const typename std::decay_t<decltype(Scenario{}.steps)>::value_type& step) {
  using Op = std::decay_t<decltype(std::get<0>(step).op)>;
  if (const auto* op = std::get_if<RingOpStep<Op>>(&step)) return "agent " + std::to_string(op->agent) + ": " + spec::describe(op->op);
  if (const auto* kill = std::get_if<KillStep>(&step)) return "SIGKILL agent " + std::to_string(kill->agent);
  if (const auto* restart = std::get_if<RestartStep>(&step)) {
    return "restart agent " + std::to_string(restart->agent) + " (open the region, attach its roles again)";
  }
  if (const auto* start = std::get_if<RingStartStep<Op>>(&step)) {
    return "agent " + std::to_string(start->agent) + ": start " + spec::describe(start->op) +
           (start->timeout_ns != 0 ? " (timeout " + std::to_string(start->timeout_ns) + " ns)" : "") + ", left in flight";
  }
  if (const auto* await = std::get_if<RingAwaitStep>(&step)) {
    return "agent " + std::to_string(await->agent) + ": await the operation in flight";
  }
  const auto& attach = std::get<RingAttachStep>(step);
  return "agent " + std::to_string(attach.agent) + " attaches " + attach.role.role + " " + std::to_string(attach.role.reader) +
         (attach.expect_refused ? " (must be refused)" : "");
}

template <typename Traits>
class RingRun {
 public:
  using Scenario = KindScenario<typename Traits::Config, typename Traits::Op>;
  using Step = typename decltype(Scenario{}.steps)::value_type;

  RingRun(const CaseDef& def, const Scenario& scenario, std::uint64_t seed, const AgentAssignment& assignment,
          const ScratchDir& dir, std::uint32_t request_deadline_ms)
      : scenario_(scenario), assignment_(assignment), request_deadline_ms_(request_deadline_ms), region_(dir, def.id),
        state_(Traits::initial(scenario.config)) {
    result_.id = def.id;
    result_.level = def.level;
    result_.rules = def.rules;
    result_.seed = seed;
    for (const Step& step : scenario.steps) result_.scenario.push_back(describe_step<Scenario>(step));
  }

  CaseResult run() && {
    try {
      agents_.resize(scenario_.roles.size());
      readers_.resize(scenario_.roles.size());
      for (std::size_t a = 0; a < agents_.size(); ++a) start_agent(a, a == 0);
      for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
        if (reaches_agents(scenario_.steps[i])) {
          for (auto& [agent, flight] : in_flight_) {
            if (flight.next_step_ns != 0) continue;
            flight.next_step = i;
            flight.next_step_ns = proto::monotonic_now_ns();
          }
        }
        run_step(i, scenario_.steps[i]);
        // Between steps every agent is quiescent but one with an operation in flight (which may
        // still store its heartbeat or cursor): the region must be intact, and its lane
        // consistent when nothing is in flight.
        if (auto wrong = watch_.check(in_flight_.empty())) {
          throw CaseStop{Outcome::Fail, "region after step " + std::to_string(i) + " (" + result_.scenario[i] + "): " + *wrong};
        }
      }
      if (!in_flight_.empty()) {
        const auto& [agent, flight] = *in_flight_.begin();
        throw CaseStop{Outcome::Fail, "scenario error: agent " + std::to_string(agent) + "'s operation started at step " +
                                          std::to_string(flight.step) + " is never awaited"};
      }
      check_final_counters();
      result_.outcome = Outcome::Pass;
      result_.detail = std::to_string(scenario_.steps.size()) + " steps matched the " + Traits::kKind + " model";
    } catch (const CaseStop& stop) {
      result_.outcome = stop.outcome;
      result_.detail = stop.detail;
      if (stop.outcome == Outcome::Fail) settle_in_flight();
    }
    agents_.clear();
    return std::move(result_);
  }

 private:
  void start_agent(std::size_t index, bool create) {
    const auto& roles = scenario_.roles[index];
    const bool producer_side =
        create || std::any_of(roles.begin(), roles.end(), [](const RingRole& r) { return r.role == "producer"; });
    agents_[index] = std::make_unique<AgentProcess>(assignment_.argv(producer_side));
    AgentProcess& agent = *agents_[index];
    if (auto failure = agent.handshake()) stop_on(*failure, "agent " + std::to_string(index) + " hello");
    check_capabilities(agent.hello());
    Json request = create ? Json{{"type", "create_region"}, {"path", region_.path()}, {"lanes", Json::array({Traits::lane_spec(scenario_.config)})}}
                          : Json{{"type", "open_region"}, {"path", region_.path()}};
    const Json lanes = create ? request["lanes"] : Json();
    expect_ok(index, std::move(request), create ? "create_region" : "open_region");
    if (create) {
      if (auto wrong = watch_.baseline(lanes)) throw CaseStop{Outcome::Fail, "agent 0 create_region: " + *wrong};
    }
    for (const RingRole& role : scenario_.roles[index]) {
      expect_ok(index, attach_request(role), "attach " + role.role + " " + std::to_string(role.reader));
    }
  }

  void check_capabilities(const Json& hello) {
    if (hello["protocol"].get<std::uint64_t>() != static_cast<std::uint64_t>(proto::kProtocolVersion)) {
      throw CaseStop{Outcome::Skip, "agent speaks protocol " + hello["protocol"].dump() + ", the harness 1"};
    }
    const auto kinds = proto::get_string_array(hello, "lane_kinds");
    if (std::find(kinds.begin(), kinds.end(), Traits::kKind) == kinds.end()) {
      throw CaseStop{Outcome::Skip, std::string("agent does not implement ") + Traits::kKind + " lanes"};
    }
    const auto policies = proto::get_string_array(hello, "policies");
    const std::string policy = policy_name(scenario_.config.on_full);
    if (std::find(policies.begin(), policies.end(), policy) == policies.end()) {
      throw CaseStop{Outcome::Skip, "agent does not implement the " + policy + " policy"};
    }
  }

  static Json attach_request(const RingRole& role) {
    return Json{{"type", "attach"}, {"lane", 0}, {"role", role.role}, {"reader", role.reader}};
  }

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

  void run_step(std::size_t index, const Step& step) {
    HistoryRecord record;
    record.step = index;
    record.action = describe_step<Scenario>(step);
    if (const auto* await = std::get_if<RingAwaitStep>(&step)) {
      run_await(index, *await);
      return;
    }
    const std::size_t agent = std::visit([](const auto& s) { return s.agent; }, step);
    if (in_flight_.count(agent) != 0) {
      throw CaseStop{Outcome::Fail, "scenario error: step " + std::to_string(index) + " (" + record.action + ") goes to agent " +
                                        std::to_string(agent) + ", which has an operation in flight (step " +
                                        std::to_string(in_flight_.at(agent).step) + ")"};
    }
    if (const auto* op = std::get_if<RingOpStep<typename Traits::Op>>(&step)) {
      run_op(index, *op);
      return;
    }
    if (const auto* start = std::get_if<RingStartStep<typename Traits::Op>>(&step)) {
      run_start(index, *start);
      return;
    }
    if (const auto* kill = std::get_if<KillStep>(&step)) {
      record.agent = kill->agent;
      agents_.at(kill->agent)->kill_now();
      for (const typename Traits::Op& op : Traits::on_kill(readers_[kill->agent])) state_ = Traits::step(state_, op).first;
      readers_[kill->agent].clear();
      record.actual = "killed";
    } else if (const auto* restart = std::get_if<RestartStep>(&step)) {
      record.agent = restart->agent;
      start_agent(restart->agent, false);
      record.actual = "reattached";
    } else {
      const auto& attach = std::get<RingAttachStep>(step);
      record.agent = attach.agent;
      const Reply reply = call(attach.agent, attach_request(attach.role), "attach " + attach.role.role);
      record.expected = attach.expect_refused ? "error role_taken" : "ok";
      record.actual = reply.type == "ok" ? "ok" : "error " + reply.error_kind;
      record.matched = record.expected == record.actual;
      result_.history.push_back(record);
      if (!record.matched) {
        throw CaseStop{Outcome::Fail, "step " + std::to_string(index) + ": " + record.action + ": expected " + record.expected +
                                          ", got " + record.actual};
      }
      return;
    }
    result_.history.push_back(record);
  }

  void run_op(std::size_t index, const RingOpStep<typename Traits::Op>& step) {
    auto [next_state, expected] = Traits::step(state_, step.op);
    Wire wire = Traits::wire(state_, step.op);
    HistoryRecord record;
    record.step = index;
    record.agent = step.agent;
    record.action = spec::describe(step.op);
    record.expected = spec::describe(expected);
    if (wire.request.is_null()) {  // the model's clock: the harness waits as long
      std::this_thread::sleep_for(std::chrono::nanoseconds(wire.sleep_ns));
      record.actual = record.expected;
    } else {
      if (wire.request["type"] == "attach") {
        // The key this agent files the handle under: the reader id the model expects; for an
        // attach the model refuses, the last handle number (agent-protocol.md: 0..63), which no
        // attach that succeeds uses unless the lane has 64 readers.
        const auto reader = Traits::attached_reader(expected);
        wire.request["reader"] = reader ? *reader : kReaderCountMax - 1;
      }
      if (wire.blocking) wire.request["timeout_ns"] = scenario_.op_timeout_ns;
      const Reply reply = call(step.agent, wire.request, wire.request.value("op", wire.request["type"].get<std::string>()));
      const typename Traits::Result actual = check_reply(index, step.op, expected, reply, scenario_.op_timeout_ns, record);
      if (const auto reader = Traits::attached_reader(actual)) readers_[step.agent].push_back(*reader);
    }
    take_step(index, std::move(record), std::move(next_state));
  }

  // The agent's reply to op (the model's result: expected) must mean the same result; a Timeout
  // must not come before its deadline. Fills record's actual and times.
  typename Traits::Result check_reply(std::size_t index, const typename Traits::Op& op, const typename Traits::Result& expected,
                                      const Reply& reply, std::uint64_t timeout_ns, HistoryRecord& record) {
    typename Traits::Result actual;
    try {
      actual = Traits::parse(op, reply);
      if (reply.type == "ok" && reply.result.contains("invoked_ns")) {
        record.invoked_ns = proto::get_u64(reply.result, "invoked_ns");
        record.returned_ns = proto::get_u64(reply.result, "returned_ns");
      }
    } catch (const proto::ProtocolError& e) {
      record.actual = reply.type == "ok" ? reply.result.dump() : reply.type + " " + reply.error_kind + ": " + reply.message;
      throw mismatch(index, record, std::string("expected ") + record.expected + ", got " + record.actual + " (" + e.what() + ")");
    }
    record.actual = spec::describe(actual);
    if (!(actual == expected)) throw mismatch(index, record, "expected " + record.expected + ", got " + record.actual);
    if (Traits::timed_out(actual)) {
      const std::uint64_t waited_ns = record.returned_ns - std::min(record.invoked_ns, record.returned_ns);
      if (waited_ns < timeout_ns) {
        throw mismatch(index, record, "Timeout after " + std::to_string(waited_ns) + " ns, before its deadline of " +
                                          std::to_string(timeout_ns) + " ns");
      }
    }
    return actual;
  }

  CaseStop mismatch(std::size_t index, HistoryRecord& record, const std::string& what) {
    record.matched = false;
    result_.history.push_back(record);
    return CaseStop{Outcome::Fail, "step " + std::to_string(index) + " (agent " + std::to_string(record.agent) + " " +
                                       record.action + "): " + what};
  }

  void take_step(std::size_t index, HistoryRecord record, typename Traits::State next_state) {
    result_.history.push_back(std::move(record));
    state_ = std::move(next_state);
    if (auto broken = spec::check_invariants(state_)) {
      throw CaseStop{Outcome::Fail, "model invariant broken after step " + std::to_string(index) + ": " + *broken};
    }
  }

  // ---- Operations in flight (RingStartStep, RingAwaitStep) ----

  struct InFlight {
    std::size_t step = 0;              // its RingStartStep
    typename Traits::Op op;            // as started
    typename Traits::Op awaited;       // what the model takes at the await
    std::uint64_t timeout_ns = 0;
    std::uint64_t id = 0;              // the request's
    // The first step after the start that reaches an agent (not the model's clock alone), and
    // the harness's clock when it began (0: none yet).
    std::size_t next_step = 0;
    std::uint64_t next_step_ns = 0;
  };

  // Does the step send a request to an agent, or kill or start one? (Not: the model's clock, which
  // the harness only waits out; nor an await, which only takes a reply.)
  bool reaches_agents(const Step& step) const {
    if (std::holds_alternative<RingAwaitStep>(step)) return false;
    const auto* op = std::get_if<RingOpStep<typename Traits::Op>>(&step);
    return op == nullptr || !Traits::wire(state_, op->op).request.is_null();
  }

  void run_start(std::size_t index, const RingStartStep<typename Traits::Op>& step) {
    Wire wire = Traits::wire(state_, step.op);
    if (!wire.blocking) {
      throw CaseStop{Outcome::Fail, "scenario error: step " + std::to_string(index) + " leaves " + spec::describe(step.op) +
                                        " in flight, which does not block"};
    }
    InFlight flight{index, step.op, step.op, step.timeout_ns != 0 ? step.timeout_ns : scenario_.op_timeout_ns, 0, 0, 0};
    HistoryRecord record;
    record.step = index;
    record.agent = step.agent;
    record.action = "start " + spec::describe(step.op);
    record.expected = "in flight";
    auto next_state = state_;
    if (auto split = Traits::split(state_, step.op)) {  // the model's first step: now, as the agent's
      auto [after, first] = Traits::step(state_, split->first);
      record.action += " (model: " + spec::describe(split->first) + " " + spec::describe(first) + ")";
      next_state = std::move(after);
      flight.awaited = std::move(split->second);
    }
    wire.request["timeout_ns"] = flight.timeout_ns;
    if (!agents_[step.agent] || !agents_[step.agent]->running()) {
      throw CaseStop{Outcome::Fail, "scenario error: agent " + std::to_string(step.agent) + " is not running for " + record.action};
    }
    // The reply may come as late as the operation's own deadline, on top of the usual one.
    const auto timeout_ms = static_cast<std::uint32_t>(std::min<std::uint64_t>(flight.timeout_ns / 1'000'000 + 1, 60'000));
    const auto sent = agents_[step.agent]->send(wire.request, request_deadline_ms_ + timeout_ms);
    if (const auto* failure = std::get_if<AgentFailure>(&sent)) {
      stop_on(*failure, "agent " + std::to_string(step.agent) + " " + record.action);
    }
    flight.id = std::get<std::uint64_t>(sent);
    record.actual = "in flight";
    in_flight_.emplace(step.agent, std::move(flight));
    take_step(index, std::move(record), std::move(next_state));
  }

  void run_await(std::size_t index, const RingAwaitStep& step) {
    const auto it = in_flight_.find(step.agent);
    if (it == in_flight_.end()) {
      throw CaseStop{Outcome::Fail, "scenario error: step " + std::to_string(index) + " awaits agent " + std::to_string(step.agent) +
                                        ", which has no operation in flight"};
    }
    const InFlight flight = std::move(it->second);
    in_flight_.erase(it);
    auto [next_state, expected] = Traits::step(state_, flight.awaited);
    HistoryRecord record;
    record.step = index;
    record.agent = step.agent;
    record.action = "await " + spec::describe(flight.awaited) + " (started at step " + std::to_string(flight.step) + ")";
    record.expected = spec::describe(expected);
    const Reply reply = receive(step.agent, flight, record.action);
    // What the case checks needs the operation in flight across the steps between its start and
    // its await: begun (invoked_ns, the agent's clock, CLOCK_MONOTONIC as the harness's) before
    // the first of them that reaches an agent began. An agent that began it later (a loaded
    // machine) was not waiting in it then: those steps checked nothing of it. (Time the model's
    // clock alone moves may run partly before the agent begins: the scenario's margins.)
    if (flight.next_step_ns != 0) {
      if (const auto late = began_late(reply, flight)) {
        record.actual = "not checked";
        result_.history.push_back(record);
        throw CaseStop{Outcome::Inconclusive, "step " + std::to_string(index) + " (" + record.action + "): " + *late};
      }
    }
    check_reply(index, flight.awaited, expected, reply, flight.timeout_ns, record);
    take_step(index, std::move(record), std::move(next_state));
  }

  Reply receive(std::size_t index, const InFlight& flight, const std::string& during) {
    if (!agents_[index] || !agents_[index]->running()) {
      throw CaseStop{Outcome::Fail, "agent " + std::to_string(index) + " is not running for " + during};
    }
    RequestOutcome outcome = agents_[index]->receive(flight.id);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) stop_on(*failure, "agent " + std::to_string(index) + " " + during);
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(index, reply);
    if (reply.type == "unsupported") throw unsupported_stop(index, during, reply.message);
    return reply;
  }

  // Why the reply shows the operation was not in flight when the step after its start began
  // (nullopt: it was).
  static std::optional<std::string> began_late(const Reply& reply, const InFlight& flight) {
    if (reply.type != "ok" || !reply.result.contains("invoked_ns") || !reply.result["invoked_ns"].is_number_unsigned()) {
      return std::string("the reply carries no invoked_ns, so whether the operation was in flight during the steps after "
                         "its start cannot be told");
    }
    const std::uint64_t invoked_ns = reply.result["invoked_ns"].get<std::uint64_t>();
    if (invoked_ns < flight.next_step_ns) return std::nullopt;
    return "the agent began the operation (invoked_ns " + std::to_string(invoked_ns) + ") only after step " +
           std::to_string(flight.next_step) + " began (" + std::to_string(flight.next_step_ns) +
           " ns): it was not in flight across the steps between, so they checked nothing of it (a loaded machine?)";
  }

  // A case that failed with operations in flight: their replies, for the detail; and if one began
  // only after the steps that followed its start, the failure may be the scenario's timing (the
  // operation was not in flight as the model assumed), not the agent's: INCONCLUSIVE.
  void settle_in_flight() noexcept {
    try {
      for (const auto& [agent, flight] : in_flight_) {
        if (!agents_[agent] || !agents_[agent]->running()) continue;
        RequestOutcome outcome = agents_[agent]->receive(flight.id);
        const std::string who = "; agent " + std::to_string(agent) + "'s " + spec::describe(flight.op) + " in flight since step " +
                                std::to_string(flight.step);
        if (const auto* failure = std::get_if<AgentFailure>(&outcome)) {
          result_.detail += who + ": " + failure->message;
          continue;
        }
        const Reply& reply = std::get<Reply>(outcome);
        result_.detail += who + " returned " + (reply.type == "ok" ? reply.result.value("status", reply.result.dump()) : reply.type);
        if (flight.next_step_ns != 0) {
          if (const auto late = began_late(reply, flight)) {
            result_.outcome = Outcome::Inconclusive;
            result_.detail += ", but " + *late;
          }
        }
      }
    } catch (const std::exception& e) {
      result_.detail += std::string("; settling the operations in flight: ") + e.what();
    }
    in_flight_.clear();
  }

  // At the end the lane's shared counters equal the model's (REG-11 and each kind's accounting rule).
  void check_final_counters() {
    std::size_t index = 0;
    while (index < agents_.size() && !(agents_[index] && agents_[index]->running())) ++index;
    if (index == agents_.size()) return;
    const Json counters = expect_ok(index, Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state");
    try {
      const std::string differs = Traits::check_counters(state_, counters);
      if (!differs.empty()) {
        throw CaseStop{Outcome::Fail, "final lane counters differ in " + differs + ": expected the model's " +
                                          spec::describe(state_) + ", got " + counters.dump()};
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
  typename Traits::State state_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
  std::vector<std::vector<std::uint32_t>> readers_;  // per agent: Journal readers it attached
  std::map<std::size_t, InFlight> in_flight_;        // per agent: its operation in flight, if any
  CaseResult result_;
};

}  // namespace

CaseResult run_ring_case(const CaseDef& def, const RingScenario& scenario, std::uint64_t seed,
                         const AgentAssignment& agents, const ScratchDir& dir, std::uint32_t request_deadline_ms) {
  struct V {
    const CaseDef& def;
    std::uint64_t seed;
    const AgentAssignment& argv;
    const ScratchDir& dir;
    std::uint32_t deadline_ms;
    CaseResult operator()(const JournalScenario& s) const { return RingRun<JournalTraits>(def, s, seed, argv, dir, deadline_ms).run(); }
    CaseResult operator()(const SequencedScenario& s) const {
      return RingRun<SequencedTraits>(def, s, seed, argv, dir, deadline_ms).run();
    }
    CaseResult operator()(const FanoutScenario& s) const { return RingRun<FanoutTraits>(def, s, seed, argv, dir, deadline_ms).run(); }
  };
  return std::visit(V{def, seed, agents, dir, request_deadline_ms}, scenario);
}

std::optional<std::pair<spec::JournalOp, spec::JournalOp>> journal_in_flight_split(const spec::JournalState& state,
                                                                                  const spec::JournalOp& op) {
  const auto* read = std::get_if<spec::JournalRead>(&op);
  if (read == nullptr || read->second_step || read->heartbeat_ns || read->reader >= state.readers.size()) return std::nullopt;
  // The heartbeat a call beginning now stores (JR-10: max(clock, previous + 1)), as the model
  // computes it: the record's after the model's heartbeat call. Not attached, the read reports
  // Evicted at once, and is checked whole.
  const auto [probe, alive] = spec::step(state, spec::JournalHeartbeat{read->reader, std::nullopt, false, read->handle});
  if (!(alive == spec::JournalResult{spec::JournalCallOutcome{true}})) return std::nullopt;
  spec::JournalRead second = *read;
  second.second_step = true;
  return std::pair{spec::JournalOp{spec::JournalBeginCall{read->reader, probe.readers[read->reader].heartbeat_ns, read->handle}},
                   spec::JournalOp{second}};
}

std::vector<std::string> describe_steps(const RingScenario& scenario) {
  return std::visit(
      [](const auto& s) {
        std::vector<std::string> out;
        for (const auto& step : s.steps) out.push_back(describe_step<std::decay_t<decltype(s)>>(step));
        return out;
      },
      scenario);
}

}  // namespace indexbus::harness

#include "indexbus/harness/lin_batch.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <fstream>
#include <memory>
#include <random>

#include "case_support.hpp"
#include "region_watch.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/protocol/fields.hpp"
#include "indexbus/spec/fanout_model.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, sleep_us, the status tables

namespace proto = protocol;
namespace lin = linearizability;

constexpr std::size_t kHistoryShownMax = 400;
constexpr std::uint32_t kScriptDeadlineMs = 30'000;
constexpr std::uint32_t kExtraReads = 50;  // reads beyond entries + 1: room for Timeouts under pauses

spec::Bytes payload_of(std::uint64_t n, std::uint32_t size) {
  spec::Bytes out(size);
  for (std::uint32_t i = 0; i < size; ++i) {
    out[i] = i < 8 ? static_cast<std::byte>((n >> (8 * i)) & 0xff) : static_cast<std::byte>((n * 31 + i) & 0xff);
  }
  return out;
}

spec::OpResult parse_result(const Json& r, bool write, bool close) {
  if (close) return spec::CloseOutcome{};
  const std::string status = proto::get_string(r, "status");
  if (write) return spec::WriteOutcome{status_named(status, kWriteStatuses)};
  spec::ReadOutcome read{status_named(status, kReadStatuses), 0, {}, 0};
  if (read.status == ReadStatus::Entry) {
    read.seq = proto::get_u64(r, "seq");
    read.payload = proto::from_hex(proto::get_string(r, "payload_hex"), kSlotPayloadBytesMax);
  }
  if (read.status == ReadStatus::Lost) read.lost_count = proto::get_u64(r, "lost_count");
  return read;
}

// The two kinds, as the checker sees them: Events ops, or Fanout ops with a consumer index.
struct FanoutLinModel {
  using State = spec::FanoutState;
  using Op = spec::FanoutOp;
  using Result = spec::OpResult;
  static std::pair<State, Result> step(const State& s, const Op& op) { return spec::step(s, op); }
  static std::uint64_t hash(const State& s) noexcept { return spec::hash_value(s); }
  static bool same_result(const Result& a, const Result& b) { return a == b; }
};
static_assert(lin::SequentialModel<FanoutLinModel>);

// One operation of the merged history, kind-neutral until it is turned into a model op.
struct Recorded {
  std::uint32_t actor = 0;     // the process incarnation
  std::uint32_t consumer = 0;  // reads: which consumer
  enum class What { Write, TryWrite, Close, Read, TryRead } what = What::Read;
  spec::Bytes payload;
  std::optional<spec::OpResult> result;  // nullopt: indeterminate (its process was killed)
  std::uint64_t invoked_ns = 0;
  std::uint64_t returned_ns = lin::kPendingTime;
};

spec::Op events_op(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Write: return spec::Write{r.payload};
    case Recorded::What::TryWrite: return spec::TryWrite{r.payload};
    case Recorded::What::Close: return spec::Close{};
    case Recorded::What::Read: return spec::Read{};
    case Recorded::What::TryRead: return spec::TryRead{};
  }
  return spec::TryRead{};
}
spec::FanoutOp fanout_op(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Write: return spec::FanoutWrite{r.payload};
    case Recorded::What::TryWrite: return spec::FanoutTryWrite{r.payload};
    case Recorded::What::Close: return spec::FanoutClose{};
    case Recorded::What::Read: return spec::FanoutRead{r.consumer};
    case Recorded::What::TryRead: return spec::FanoutTryRead{r.consumer};
  }
  return spec::FanoutTryRead{r.consumer};
}

std::string describe_recorded(const Recorded& r) {
  static constexpr const char* kNames[] = {"write", "try_write", "close", "read", "try_read"};
  std::string out = std::string(r.what <= Recorded::What::Close ? "producer " : "consumer " + std::to_string(r.consumer) + " ") +
                    kNames[static_cast<int>(r.what)];
  if (!r.payload.empty()) out += " entry " + std::to_string(r.payload.size() >= 8 ? static_cast<std::uint64_t>(r.payload[0]) | (static_cast<std::uint64_t>(r.payload[1]) << 8) : 0);
  return out;
}

// Per consumer, the invariants that need no linearization order: entries in increasing sequence,
// each exactly the payload written with that sequence, never twice; Block: no Lost and no gap;
// after the drain (Closed), delivered + lost = written. skip_accounting: a consumer whose process
// was killed with a read in flight, which may have consumed an entry nobody saw.
std::optional<std::string> check_consumer(const std::vector<const Recorded*>& reads, std::uint32_t consumer, OnFull on_full,
                                          std::uint64_t written, std::uint32_t slot_bytes, bool skip_accounting) {
  std::uint64_t next = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  bool closed = false;
  const std::string who = "consumer " + std::to_string(consumer) + ": ";
  for (const Recorded* r : reads) {
    if (!r->result) continue;
    const auto& read = std::get<spec::ReadOutcome>(*r->result);
    if (read.status == ReadStatus::Lost) {
      if (on_full == OnFull::Block) return who + "Lost under Block (loses nothing)";
      lost += read.lost_count;
      next += read.lost_count;
    }
    if (read.status == ReadStatus::Closed) closed = true;
    if (read.status != ReadStatus::Entry) continue;
    if (read.seq < next) return who + "entry " + std::to_string(read.seq) + " again or out of order (expected >= " + std::to_string(next) + ")";
    if (read.seq >= written) return who + "entry " + std::to_string(read.seq) + " was never written";
    if (read.payload != payload_of(read.seq, slot_bytes)) return who + "entry " + std::to_string(read.seq) + " is torn or wrong";
    if (read.seq != next && !skip_accounting) return who + "entry " + std::to_string(read.seq) + " after " + std::to_string(next) + ": a gap without Lost";
    next = read.seq + 1;
    ++delivered;
  }
  if (!closed) return who + "never read Closed after the drain";
  if (!skip_accounting && delivered + lost != written) {
    return who + "delivered " + std::to_string(delivered) + " + lost " + std::to_string(lost) + " != written " + std::to_string(written);
  }
  return std::nullopt;
}

// A reader SIGKILLed mid-read: the lane stores a read's counter (read_count, or lost_count by k)
// before it publishes the cursor, so a kill between the two leaves the counters one operation
// ahead of the cursor, and the process that takes the role over repeats that operation. The
// cursor stays exact (checked by the caller); the counters may be the model's, or one Entry
// more, or one Lost of at most a capacity more.
bool killed_reader_counters_match(std::uint64_t read_count, std::uint64_t lost_count, std::uint64_t model_read_count,
                                  std::uint64_t model_lost_count, std::uint64_t capacity_slots) {
  if (read_count == model_read_count && lost_count == model_lost_count) return true;
  if (read_count == model_read_count + 1 && lost_count == model_lost_count) return true;
  return read_count == model_read_count && lost_count > model_lost_count && lost_count - model_lost_count <= capacity_slots;
}

class LinBatchRun {
 public:
  LinBatchRun(const CaseDef& def, const LinBatchScenario& scenario, std::uint64_t seed, const AgentAssignment& assignment,
              const ScratchDir& dir, std::uint32_t request_deadline_ms)
      : s_(scenario), assignment_(assignment), dir_(dir), deadline_ms_(request_deadline_ms), region_(dir, def.id) {
    result_.id = def.id;
    result_.level = def.level;
    result_.rules = def.rules;
    result_.seed = seed;
    fanout_ = std::holds_alternative<spec::FanoutConfig>(s_.config);
    if (fanout_) {
      const auto& c = std::get<spec::FanoutConfig>(s_.config);
      on_full_ = c.on_full;
      slot_bytes_ = c.slot_payload_bytes;
      consumers_ = c.consumer_count;
      lane_ = Json{{"kind", "fanout_broadcast"}, {"on_full", c.on_full == OnFull::Block ? "block" : "drop"},
                   {"capacity_slots", c.capacity_slots}, {"slot_payload_bytes", c.slot_payload_bytes}, {"reader_count", c.consumer_count}};
    } else {
      const auto& c = std::get<spec::EventsConfig>(s_.config);
      on_full_ = c.on_full;
      slot_bytes_ = c.slot_payload_bytes;
      consumers_ = 1;
      lane_ = Json{{"kind", "events"}, {"on_full", c.on_full == OnFull::Block ? "block" : "drop"},
                   {"capacity_slots", c.capacity_slots}, {"slot_payload_bytes", c.slot_payload_bytes}};
    }
    result_.scenario.push_back(std::string(fanout_ ? "fanout_broadcast" : "events") + ", " + (on_full_ == OnFull::Block ? "block" : "drop") +
                               ": producer writes " + std::to_string(s_.entries) + " entries and closes; " +
                               std::to_string(consumers_) + " consumer(s) read concurrently; perturbation seed " +
                               std::to_string(s_.perturb_seed) + ", period " + std::to_string(s_.perturb_period));
    for (const auto& p : s_.pauses) {
      result_.scenario.push_back("after " + std::to_string(p.delay_us) + " us: SIGSTOP agent " + std::to_string(p.agent) + " for " +
                                 std::to_string(p.stopped_us) + " us");
    }
    if (s_.kill_consumer_after_us) {
      result_.scenario.push_back("after " + std::to_string(*s_.kill_consumer_after_us) +
                                 " us: SIGKILL consumer 0's agent; a new process takes consumer 0 over and reads on");
    }
  }

  CaseResult run() && {
    try {
      run_agents();
      // Every agent is idle again (a killed one mid-operation may leave its lane's counters one
      // operation ahead, so only the immutable part is checked): the region must be intact.
      if (auto wrong = watch_.check(false)) throw CaseStop{Outcome::Fail, "region after the scripts: " + *wrong};
      check();
    } catch (const CaseStop& stop) {
      result_.outcome = stop.outcome;
      result_.detail = stop.detail;
    } catch (const proto::ProtocolError& e) {
      result_.outcome = Outcome::Fail;
      result_.detail = std::string("malformed history: ") + e.what();
    }
    for (auto& agent : agents_) {
      if (agent) agent->signal(SIGCONT);  // never leave a stopped process behind
    }
    agents_.clear();
    history_files_.clear();
    return std::move(result_);
  }

 private:
  Json call(std::size_t a, Json request, const std::string& during) {
    RequestOutcome outcome = agents_[a]->request(std::move(request), deadline_ms_);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) {
      throw CaseStop{outcome_of(*failure), "agent " + std::to_string(a) + " " + during + ": " + failure->message};
    }
    Reply& reply = std::get<Reply>(outcome);
    if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support " + during + ": " + reply.message};
    if (reply.type != "ok") {
      throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + " " + during + ": " + reply.error_kind + ": " + reply.message};
    }
    return reply.result;
  }

  // Agent 0: producer; agent 1 + c: consumer c. Started, region made or opened, role attached.
  void start(std::size_t a, std::size_t consumer = 0) {
    agents_[a] = std::make_unique<AgentProcess>(assignment_.argv(a == 0));
    if (auto failure = agents_[a]->handshake()) throw CaseStop{outcome_of(*failure), "agent hello: " + failure->message};
    if (!proto::get_bool_or(agents_[a]->hello(), "batch", false)) throw CaseStop{Outcome::Skip, "agent has no batch mode"};
    if (a == 0) {
      call(a, Json{{"type", "create_region"}, {"path", region_.path()}, {"lanes", Json::array({lane_})}}, "create_region");
      if (auto wrong = watch_.baseline(Json::array({lane_}))) throw CaseStop{Outcome::Fail, "agent 0 create_region: " + *wrong};
      call(a, Json{{"type", "attach"}, {"lane", 0}, {"role", "producer"}}, "attach producer");
    } else {
      call(a, Json{{"type", "open_region"}, {"path", region_.path()}}, "open_region");
      call(a, Json{{"type", "attach"}, {"lane", 0}, {"role", "consumer"}, {"reader", consumer}}, "attach consumer");
    }
  }

  Json script(std::size_t a, std::uint64_t start_at_ns, std::uint32_t incarnation) {
    Json ops = Json::array();
    if (a == 0) {
      for (std::uint32_t n = 0; n < s_.entries; ++n) {
        const spec::Bytes p = payload_of(n, slot_bytes_);
        Json op{{"lane", 0}, {"role", "producer"}, {"op", on_full_ == OnFull::Block ? "write" : "try_write"},
                {"payload_hex", proto::to_hex(p.data(), p.size())}};
        if (on_full_ == OnFull::Block) op["timeout_ns"] = s_.write_timeout_ns;
        ops.push_back(std::move(op));
      }
      ops.push_back(Json{{"lane", 0}, {"role", "producer"}, {"op", "close"}});
    } else {
      for (std::uint32_t n = 0; n < s_.entries + 1 + kExtraReads; ++n) {
        ops.push_back(Json{{"lane", 0}, {"role", "consumer"}, {"reader", a - 1}, {"op", "read"}, {"timeout_ns", s_.read_timeout_ns}});
      }
    }
    // A RegionFile: removed when the case ends, and by the signal handler on SIGINT/SIGTERM.
    history_files_.push_back(std::make_unique<RegionFile>(dir_, result_.id + ".history." + std::to_string(a) + "." + std::to_string(incarnation)));
    const std::string path = history_files_.back()->path();
    scripts_.push_back(ops);
    return Json{{"type", "run_script"}, {"ops", std::move(ops)}, {"start_at_ns", start_at_ns},
                {"perturb_seed", s_.perturb_seed ^ (a * 0x9e3779b97f4a7c15ull) ^ incarnation},
                {"perturb_period", s_.perturb_period}, {"history_path", path}};
  }

  void record_script(std::uint32_t actor, std::size_t a, const Json& ops, const Json& results, bool killed, std::uint64_t killed_at_ns) {
    const std::size_t done = results.size();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (i > done) break;
      if (i == done && !killed) break;
      Recorded r;
      r.actor = actor;
      r.consumer = a == 0 ? 0 : static_cast<std::uint32_t>(a - 1);
      const std::string op = proto::get_string(ops[i], "op");
      r.what = op == "write" ? Recorded::What::Write : op == "try_write" ? Recorded::What::TryWrite : op == "close" ? Recorded::What::Close
               : op == "read"  ? Recorded::What::Read : Recorded::What::TryRead;
      if (ops[i].contains("payload_hex")) r.payload = proto::from_hex(proto::get_string(ops[i], "payload_hex"), kSlotPayloadBytesMax);
      if (i < done) {
        r.result = parse_result(results[i], a == 0 && r.what != Recorded::What::Close, r.what == Recorded::What::Close);
        r.invoked_ns = proto::get_u64(results[i], "invoked_ns");
        r.returned_ns = proto::get_u64(results[i], "returned_ns");
      } else {  // the op in flight when the process died: indeterminate, invoked after the last return
        r.invoked_ns = done == 0 ? start_at_ns_ : proto::get_u64(results[done - 1], "returned_ns");
        r.returned_ns = lin::kPendingTime;
        (void)killed_at_ns;
      }
      history_.push_back(std::move(r));
    }
  }

  Json read_history_file(const std::string& path) {
    Json out = Json::array();
    std::ifstream in(path);
    std::string line;
    // Bounded by the script's length: one line per completed op.
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded()) break;  // a line cut by the kill: cannot happen with one write(2), but harmless
      out.push_back(std::move(j));
    }
    return out;
  }

  void run_agents() {
    agents_.resize(1 + consumers_ + 1);  // the last slot: consumer 0's replacement after a kill
    for (std::size_t a = 0; a < 1 + consumers_; ++a) start(a, a == 0 ? 0 : a - 1);
    start_at_ns_ = proto::monotonic_now_ns() + 30'000'000;
    std::vector<Json> scripts;
    std::vector<std::uint64_t> ids(1 + consumers_);
    for (std::size_t a = 0; a < 1 + consumers_; ++a) {
      scripts.push_back(script(a, start_at_ns_, 0));
      auto sent = agents_[a]->send(scripts.back(), std::max(deadline_ms_, kScriptDeadlineMs));
      if (auto* failure = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      ids[a] = std::get<std::uint64_t>(sent);
    }
    sleep_us(30'000);
    // Pauses and the kill, in time order; each step is bounded.
    std::uint64_t elapsed_us = 0;
    bool killed = false;
    std::uint64_t replacement_id = 0;
    auto do_kill = [&] {
      agents_[1]->kill_now();
      killed = true;
      killed_at_ns_ = proto::monotonic_now_ns();
      start(agents_.size() - 1, 0);  // takes consumer 0 over (its pid word names a dead process)
      Json again = script(1, 0, 1);
      auto sent = agents_.back()->send(again, std::max(deadline_ms_, kScriptDeadlineMs));
      if (auto* failure = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      replacement_id = std::get<std::uint64_t>(sent);
    };
    for (const auto& p : s_.pauses) {
      if (s_.kill_consumer_after_us && !killed && elapsed_us + p.delay_us >= *s_.kill_consumer_after_us) {
        if (*s_.kill_consumer_after_us > elapsed_us) sleep_us(*s_.kill_consumer_after_us - elapsed_us);
        elapsed_us = std::max<std::uint64_t>(elapsed_us, *s_.kill_consumer_after_us);
        do_kill();
      }
      sleep_us(p.delay_us);
      elapsed_us += p.delay_us + p.stopped_us;
      AgentProcess* target = agents_[p.agent].get();
      if (p.agent == 1 && killed) target = agents_.back().get();
      if (target == nullptr || !target->signal(SIGSTOP)) continue;
      sleep_us(p.stopped_us);
      target->signal(SIGCONT);
    }
    if (s_.kill_consumer_after_us && !killed) {
      if (*s_.kill_consumer_after_us > elapsed_us) sleep_us(*s_.kill_consumer_after_us - elapsed_us);
      do_kill();
    }
    auto receive = [&](AgentProcess& agent, std::uint64_t id) {
      RequestOutcome outcome = agent.receive(id);
      if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      const Reply& reply = std::get<Reply>(outcome);
      if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support run_script: " + reply.message};
      if (reply.type != "ok") throw CaseStop{Outcome::Fail, "run_script: " + reply.error_kind + ": " + reply.message};
      perturbations_ += proto::get_u64_or(reply.result, "perturbations", 0);
      return proto::get_array(reply.result, "history");
    };
    // Actors: 0 producer, 1 + c consumer c, then consumer 0's replacement.
    for (std::size_t a = 0; a < 1 + consumers_; ++a) {
      if (a == 1 && killed) {
        record_script(1, 1, scripts[1]["ops"], read_history_file(history_files_[1]->path()), true, killed_at_ns_);
        continue;
      }
      const Json results = receive(*agents_[a], ids[a]);
      if (results.size() != scripts[a]["ops"].size()) throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + ": short history"};
      record_script(static_cast<std::uint32_t>(a), a, scripts[a]["ops"], results, false, 0);
    }
    if (killed) {
      const Json results = receive(*agents_.back(), replacement_id);
      record_script(static_cast<std::uint32_t>(1 + consumers_), 1, scripts_.back(), results, false, 0);
    }
    // The drain: each live consumer try_reads until Closed (its blocking reads may have run out).
    for (std::size_t c = 0; c < consumers_; ++c) {
      const std::size_t a = (c == 0 && killed) ? agents_.size() - 1 : 1 + c;
      const std::uint32_t actor = (c == 0 && killed) ? static_cast<std::uint32_t>(1 + consumers_) : static_cast<std::uint32_t>(1 + c);
      for (std::uint32_t n = 0; n < s_.entries + 2; ++n) {  // one entry or Lost per read, then Closed
        const Json r = call(a, Json{{"type", "op"}, {"lane", 0}, {"role", "consumer"}, {"reader", c}, {"op", "try_read"}}, "drain");
        Recorded rec;
        rec.actor = actor;
        rec.consumer = static_cast<std::uint32_t>(c);
        rec.what = Recorded::What::TryRead;
        rec.result = parse_result(r, false, false);
        rec.invoked_ns = proto::get_u64(r, "invoked_ns");
        rec.returned_ns = proto::get_u64(r, "returned_ns");
        const bool closed = std::get<spec::ReadOutcome>(*rec.result).status == ReadStatus::Closed;
        history_.push_back(std::move(rec));
        if (closed) break;
      }
    }
    counters_ = call(0, Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state");
    consumer0_killed_ = killed;
  }

  void check() {
    // The report shows the first records in time order.
    std::vector<std::size_t> by_time(history_.size());
    for (std::size_t i = 0; i < by_time.size(); ++i) by_time[i] = i;
    std::stable_sort(by_time.begin(), by_time.end(), [&](std::size_t x, std::size_t y) { return history_[x].invoked_ns < history_[y].invoked_ns; });
    for (std::size_t k = 0; k < by_time.size() && result_.history.size() < kHistoryShownMax; ++k) {
      const Recorded& r = history_[by_time[k]];
      HistoryRecord h;
      h.step = k;
      h.agent = r.actor;
      h.action = describe_recorded(r);
      h.actual = r.result ? spec::describe(*r.result) : "indeterminate (process killed)";
      h.invoked_ns = r.invoked_ns;
      h.returned_ns = r.returned_ns == lin::kPendingTime ? 0 : r.returned_ns;
      result_.history.push_back(std::move(h));
    }
    std::uint64_t written = 0;
    for (const Recorded& r : history_) {
      if (r.actor == 0 && r.result && r.what != Recorded::What::Close) {
        const auto& w = std::get<spec::WriteOutcome>(*r.result);
        if (w.status == WriteStatus::Ok) ++written;
      }
    }
    for (std::uint32_t c = 0; c < consumers_; ++c) {
      std::vector<const Recorded*> reads;
      for (std::size_t k : by_time) {
        if (history_[k].actor != 0 && history_[k].consumer == c) reads.push_back(&history_[k]);
      }
      const bool skip = c == 0 && consumer0_killed_;
      if (auto broken = check_consumer(reads, c, on_full_, written, slot_bytes_, skip)) throw CaseStop{Outcome::Fail, *broken};
    }
    lin::Options options;
    options.time_limit_ns = s_.check_time_limit_ns;
    lin::CheckResult verdict;
    std::string final_state;
    if (fanout_) {
      std::vector<lin::Operation<spec::FanoutOp, spec::OpResult>> ops;
      for (const Recorded& r : history_) ops.push_back({r.actor, fanout_op(r), r.result, r.invoked_ns, r.returned_ns});
      const auto initial = spec::initial_state(std::get<spec::FanoutConfig>(s_.config));
      verdict = lin::check<FanoutLinModel>(initial, ops, options);
      if (verdict.verdict == lin::Verdict::Linearizable) {
        auto state = initial;
        for (std::size_t i : verdict.order) state = spec::step(state, ops[i].op).first;
        check_fanout_counters(state);
      }
    } else {
      lin::EventsHistory ops;
      for (const Recorded& r : history_) ops.push_back({r.actor, events_op(r), r.result, r.invoked_ns, r.returned_ns});
      const auto initial = spec::initial_state(std::get<spec::EventsConfig>(s_.config));
      verdict = lin::check<lin::EventsModel>(initial, ops, options);
      if (verdict.verdict == lin::Verdict::Linearizable) {
        auto state = initial;
        for (std::size_t i : verdict.order) state = spec::step(state, ops[i].op).first;
        const bool counters_match =
            consumer0_killed_ ? killed_reader_counters_match(proto::get_u64(counters_, "read_count"), proto::get_u64(counters_, "lost_count"),
                                                             state.read_count, state.lost_count, state.config.capacity_slots)
                              : proto::get_u64(counters_, "read_count") == state.read_count &&
                                    proto::get_u64(counters_, "lost_count") == state.lost_count;
        if (proto::get_u64(counters_, "write_seq") != state.written || proto::get_u64(counters_, "read_seq") != state.read_seq ||
            !counters_match) {
          throw CaseStop{Outcome::Fail, "lane counters " + counters_.dump() + " differ from the linearized model's " + spec::describe(state)};
        }
      }
    }
    const std::string summary = std::to_string(history_.size()) + " operations, " + std::to_string(written) + " written, " +
                                std::to_string(verdict.configurations) + " configurations searched, " +
                                std::to_string(perturbations_) + " perturbations";
    if (verdict.verdict == lin::Verdict::NotLinearizable) {
      std::string where;
      if (!verdict.order.empty()) where = "; the longest legal prefix ends after " + describe_recorded(history_[verdict.order.back()]);
      throw CaseStop{Outcome::Fail, "not linearizable against the model: " + summary + where + " (" +
                                        std::to_string(verdict.order.size()) + " of " + std::to_string(history_.size()) + " placed)"};
    }
    result_.outcome = Outcome::Pass;
    result_.detail = (verdict.verdict == lin::Verdict::Linearizable ? "linearizable, invariants hold: "
                                                                    : "invariants hold; linearizability Unknown (" + verdict.problem + "): ") +
                     summary;
  }

  void check_fanout_counters(const spec::FanoutState& state) {
    if (proto::get_u64(counters_, "write_seq") != state.written) {
      throw CaseStop{Outcome::Fail, "lane write_seq " + counters_.dump() + " differs from the linearized model's " + spec::describe(state)};
    }
    const Json& readers = proto::get_array(counters_, "readers");
    for (std::size_t i = 0; i < state.consumers.size() && i < readers.size(); ++i) {
      const std::uint64_t read_count = proto::get_u64(readers[i], "read_count");
      const std::uint64_t lost_count = proto::get_u64(readers[i], "lost_count");
      const spec::FanoutConsumerState& m = state.consumers[i];
      const bool counters_match =
          i == 0 && consumer0_killed_
              ? killed_reader_counters_match(read_count, lost_count, m.read_count, m.lost_count, state.config.capacity_slots)
              : read_count == m.read_count && lost_count == m.lost_count;
      if (proto::get_u64(readers[i], "cursor_seq") != m.next_seq || !counters_match) {
        throw CaseStop{Outcome::Fail, "consumer " + std::to_string(i) + " counters " + readers[i].dump() +
                                          " differ from the linearized model's " + spec::describe(state)};
      }
    }
  }

  const LinBatchScenario& s_;
  const AgentAssignment& assignment_;
  const ScratchDir& dir_;
  std::uint32_t deadline_ms_;
  RegionFile region_;
  RegionWatch watch_{region_.path()};
  bool fanout_ = false;
  OnFull on_full_ = OnFull::Block;
  std::uint32_t slot_bytes_ = 8;
  std::size_t consumers_ = 1;
  Json lane_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
  std::vector<std::unique_ptr<RegionFile>> history_files_;  // one per script
  std::vector<Json> scripts_;  // the ops of each script sent, in sending order
  std::vector<Recorded> history_;
  std::uint64_t start_at_ns_ = 0;
  std::uint64_t killed_at_ns_ = 0;
  bool consumer0_killed_ = false;  // with a read in flight: its accounting is not exact
  Json counters_;
  std::uint64_t perturbations_ = 0;  // delays the agents reported (0: the agent does not perturb)
  CaseResult result_;
};

}  // namespace

bool is_known_finding(const std::string& case_id) {
  (void)case_id;  // none open (lin_batch.hpp)
  return false;
}

CaseResult run_lin_batch_case(const CaseDef& def, const LinBatchScenario& scenario, std::uint64_t seed,
                              const AgentAssignment& agents, const ScratchDir& dir,
                              std::uint32_t request_deadline_ms) {
  return LinBatchRun(def, scenario, seed, agents, dir, request_deadline_ms).run();
}

void add_lin_batch_cases(std::vector<CaseDef>& cases) {
  auto add = [&](std::string id, std::vector<std::string> rules, std::string summary,
                 std::function<LinBatchScenario(std::mt19937_64&)> make) {
    const Level level = id.rfind("Informational.", 0) == 0 ? Level::Informational : Level::Required;
    cases.push_back(CaseDef{std::move(id), level, std::move(rules), std::move(summary), {}, {}, {}, {}, std::move(make)});
  };
  auto scenario = [](std::mt19937_64& rng, std::variant<spec::EventsConfig, spec::FanoutConfig> config, bool kill) {
    LinBatchScenario s;
    s.config = config;
    s.perturb_seed = rng();
    std::uniform_int_distribution<std::uint32_t> delay_us(200, 3000);
    std::uniform_int_distribution<std::uint32_t> stopped_us(500, 4000);
    const std::size_t agents = std::holds_alternative<spec::FanoutConfig>(config) ? 1 + std::get<spec::FanoutConfig>(config).consumer_count : 2;
    for (std::size_t i = 0; i < 4; ++i) s.pauses.push_back({i % agents, delay_us(rng), stopped_us(rng)});
    if (kill) s.kill_consumer_after_us = std::uniform_int_distribution<std::uint32_t>(500, 4000)(rng);
    return s;
  };
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const std::string policy = on_full == OnFull::Block ? "Block" : "Drop";
    add("Required.Events.BatchLinearizable." + policy + ".Perturbed",
        on_full == OnFull::Block ? std::vector<std::string>{"EV-4", "EV-5", "EV-7", "EV-9", "EV-10", "EV-11"}
                                 : std::vector<std::string>{"EV-4", "EV-5", "EV-8", "EV-9", "EV-10", "EV-11", "EV-12"},
        "300 entries at full speed, seeded delays inside the lane and pauses: the merged history linearizes against the model",
        [=](std::mt19937_64& rng) { return scenario(rng, spec::EventsConfig{4, 16, on_full}, false); });
    add("Required.Fanout.BatchLinearizable." + policy + ".Perturbed",
        on_full == OnFull::Block ? std::vector<std::string>{"FB-3", "FB-4", "FB-5", "FB-9", "FB-10"}
                                 : std::vector<std::string>{"FB-3", "FB-7", "FB-8", "FB-9", "FB-10"},
        "300 entries to two consumers at full speed, seeded delays and pauses: linearizable, each consumer exact",
        [=](std::mt19937_64& rng) { return scenario(rng, spec::FanoutConfig{4, 16, on_full, 2}, false); });
    add("Required.Fanout.BatchLinearizable." + policy + ".ConsumerKilled",
        {"FB-1", "FB-3", "FB-6", "FB-9", "FB-10"},
        "as Perturbed, and consumer 0's process is SIGKILLed mid-run and replaced: its read in flight is indeterminate",
        [=](std::mt19937_64& rng) { return scenario(rng, spec::FanoutConfig{4, 16, on_full, 2}, true); });
  }
  add("Required.Events.BatchLinearizable.Block.ConsumerKilled", {"EV-16", "EV-4", "EV-7", "EV-11"},
      "the consumer's process is SIGKILLed mid-run and replaced: the merged history, with its read in flight indeterminate, linearizes",
      [=](std::mt19937_64& rng) { return scenario(rng, spec::EventsConfig{4, 16, OnFull::Block}, true); });
}

}  // namespace indexbus::harness

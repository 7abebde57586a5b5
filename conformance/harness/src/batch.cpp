#include "indexbus/harness/batch.hpp"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cassert>
#include <memory>

#include "case_support.hpp"
#include "region_watch.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/protocol/fields.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, sleep_us, the status tables

namespace proto = protocol;

constexpr std::size_t kProducer = 0;
constexpr std::size_t kConsumer = 1;
constexpr std::size_t kHistoryShownMax = 400;  // history records kept for the report
// A whole script may take a while on a loaded machine or under a sanitizer; still bounded.
constexpr std::uint32_t kScriptDeadlineMs = 30'000;

// Entry n of a batch: its number in the first 8 bytes, then a pattern, so a torn copy shows.
spec::Bytes batch_payload(std::uint64_t n, std::uint32_t size) {
  spec::Bytes out(size);
  for (std::uint32_t i = 0; i < size; ++i) {
    out[i] = i < 8 ? static_cast<std::byte>((n >> (8 * i)) & 0xff) : static_cast<std::byte>((n * 31 + i) & 0xff);
  }
  return out;
}

BatchRead parse_read(const Json& result) {
  BatchRead read;
  read.status = status_named(proto::get_string(result, "status"), kReadStatuses);
  if (read.status == ReadStatus::Entry) {
    read.seq = proto::get_u64(result, "seq");
    read.payload = proto::from_hex(proto::get_string(result, "payload_hex"), kSlotPayloadBytesMax);
  }
  if (read.status == ReadStatus::Lost) read.lost_count = proto::get_u64(result, "lost_count");
  return read;
}

std::string describe_read(const BatchRead& r) {
  spec::ReadOutcome outcome{r.status, r.seq, r.payload, r.lost_count};
  return spec::describe(spec::OpResult{outcome});
}

}  // namespace

BatchVerdict check_batch_history(const BatchHistory& history, bool drained) {
  BatchVerdict verdict;
  auto violation = [&](std::string text) {
    verdict.violation = std::move(text);
    return verdict;
  };
  std::vector<const spec::Bytes*> accepted;
  for (std::size_t i = 0; i < history.writes.size(); ++i) {
    const BatchWrite& w = history.writes[i];
    if (w.status == WriteStatus::Ok) {
      accepted.push_back(&w.payload);
    } else if (history.on_full == OnFull::Drop) {
      return violation("write " + std::to_string(i) + " returned " + std::string(to_string(w.status)) +
                       ": Drop accepts every write (EV-12)");
    } else if (w.status != WriteStatus::Timeout) {
      return violation("blocking write " + std::to_string(i) + " returned " + std::string(to_string(w.status)) + " (EV-6)");
    }
  }
  verdict.tally.written = accepted.size();
  std::uint64_t next = 0;
  bool closed = false;
  for (std::size_t i = 0; i < history.reads.size(); ++i) {
    const BatchRead& r = history.reads[i];
    const std::string where = "read " + std::to_string(i) + " (" + describe_read(r) + "): ";
    if (closed && r.status != ReadStatus::Closed) return violation(where + "after Closed, every read is Closed (EV-10)");
    switch (r.status) {
      case ReadStatus::Entry:
        if (r.seq != next) {
          return violation(where + (r.seq < next ? "sequence already delivered or skipped by a Lost (EV-4)"
                                                 : "expected seq " + std::to_string(next) + ": an entry was skipped (EV-4)"));
        }
        if (r.seq >= accepted.size()) return violation(where + "no write was accepted with this sequence (EV-3)");
        if (r.payload != *accepted[r.seq]) return violation(where + "bytes differ from the write with this sequence (EV-9)");
        ++next;
        ++verdict.tally.delivered;
        break;
      case ReadStatus::Lost:
        if (history.on_full == OnFull::Block) return violation(where + "a Block lane never loses (EV-7)");
        if (r.lost_count == 0) return violation(where + "Lost of 0 (EV-8)");
        next += r.lost_count;
        verdict.tally.lost += r.lost_count;
        if (next > accepted.size()) return violation(where + "more lost than written (EV-8)");
        break;
      case ReadStatus::Closed:
        if (next != accepted.size()) {
          return violation(where + "Closed with " + std::to_string(accepted.size() - next) + " entries unread (EV-10)");
        }
        closed = true;
        break;
      case ReadStatus::Empty:
      case ReadStatus::Timeout:
        break;
      default:
        return violation(where + "not a status of an Events read");
    }
  }
  if (drained) {
    if (!closed) return violation("the drain never read Closed (EV-10)");
    if (verdict.tally.delivered + verdict.tally.lost != verdict.tally.written) {
      return violation("delivered " + std::to_string(verdict.tally.delivered) + " + lost " + std::to_string(verdict.tally.lost) +
                       " != written " + std::to_string(verdict.tally.written) + " (EV-11)");
    }
  }
  return verdict;
}

CaseResult run_batch_case(const CaseDef& def, const BatchScenario& scenario, std::uint64_t seed,
                          const AgentAssignment& assignment, const ScratchDir& dir,
                          std::uint32_t request_deadline_ms) {
  CaseResult result;
  result.id = def.id;
  result.level = def.level;
  result.rules = def.rules;
  result.seed = seed;
  result.scenario.push_back("producer: " + std::to_string(scenario.entries) + " writes, then close");
  result.scenario.push_back("consumer: " + std::to_string(scenario.reads) + " blocking reads, then a drain");
  for (const auto& p : scenario.pauses) {
    result.scenario.push_back("after " + std::to_string(p.delay_us) + " us: SIGSTOP agent " + std::to_string(p.agent) + " for " +
                              std::to_string(p.stopped_us) + " us");
  }
  const RegionFile region(dir, def.id);
  RegionWatch watch(region.path());
  std::vector<std::unique_ptr<AgentProcess>> agents(2);
  BatchHistory history;
  history.on_full = scenario.config.on_full;
  auto call = [&](std::size_t a, Json request, const std::string& during) -> Json {
    RequestOutcome outcome = agents[a]->request(std::move(request), request_deadline_ms);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), "agent " + std::to_string(a) + " " + during + ": " + failure->message};
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(a, reply);
    if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support " + during + ": " + reply.message};
    if (reply.type != "ok") throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + " " + during + ": " + reply.error_kind + ": " + reply.message};
    return reply.result;
  };
  try {
    const spec::EventsConfig& c = scenario.config;
    for (std::size_t a = 0; a < agents.size(); ++a) {
      agents[a] = std::make_unique<AgentProcess>(assignment.argv(a == kProducer));
      if (auto failure = agents[a]->handshake()) throw CaseStop{outcome_of(*failure), "agent hello: " + failure->message};
      if (!proto::get_bool_or(agents[a]->hello(), "batch", false)) throw CaseStop{Outcome::Skip, "agent has no batch mode"};
      if (a == kProducer) {
        const Json lanes = Json::array({Json{{"kind", "events"}, {"on_full", c.on_full == OnFull::Block ? "block" : "drop"},
                                             {"capacity_slots", c.capacity_slots}, {"slot_payload_bytes", c.slot_payload_bytes}}});
        call(a, Json{{"type", "create_region"}, {"path", region.path()}, {"lanes", lanes}}, "create_region");
        if (auto wrong = watch.baseline(lanes)) throw CaseStop{Outcome::Fail, "agent 0 create_region: " + *wrong};
      } else {
        call(a, Json{{"type", "open_region"}, {"path", region.path()}}, "open_region");
      }
      call(a, Json{{"type", "attach"}, {"lane", 0}, {"role", a == kProducer ? "producer" : "consumer"}}, "attach");
    }
    Json writes = Json::array();
    for (std::uint32_t n = 0; n < scenario.entries; ++n) {
      history.writes.push_back(BatchWrite{batch_payload(n, c.slot_payload_bytes), WriteStatus::Ok});
      Json op{{"lane", 0}, {"role", "producer"}, {"op", c.on_full == OnFull::Block ? "write" : "try_write"},
              {"payload_hex", proto::to_hex(history.writes.back().payload.data(), history.writes.back().payload.size())}};
      if (c.on_full == OnFull::Block) op["timeout_ns"] = scenario.write_timeout_ns;
      writes.push_back(std::move(op));
    }
    writes.push_back(Json{{"lane", 0}, {"role", "producer"}, {"op", "close"}});
    Json reads = Json::array();
    for (std::uint32_t n = 0; n < scenario.reads; ++n) {
      reads.push_back(Json{{"lane", 0}, {"role", "consumer"}, {"op", "read"}, {"timeout_ns", scenario.read_timeout_ns}});
    }
    // Both start together, 20 ms from now; the pauses run while they work.
    const std::uint64_t start_at_ns = proto::monotonic_now_ns() + 20'000'000;
    std::uint64_t ids[2] = {};
    const Json scripts[2] = {Json{{"type", "run_script"}, {"ops", writes}, {"start_at_ns", start_at_ns}},
                             Json{{"type", "run_script"}, {"ops", reads}, {"start_at_ns", start_at_ns}}};
    for (std::size_t a = 0; a < 2; ++a) {
      auto sent = agents[a]->send(scripts[a], std::max(request_deadline_ms, kScriptDeadlineMs));
      if (auto* failure = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      ids[a] = std::get<std::uint64_t>(sent);
    }
    sleep_us(20'000);
    for (const auto& p : scenario.pauses) {  // bounded: a fixed list, each pause ends with SIGCONT
      sleep_us(p.delay_us);
      if (!agents[p.agent]->signal(SIGSTOP)) continue;
      sleep_us(p.stopped_us);
      agents[p.agent]->signal(SIGCONT);
    }
    Json histories[2];
    for (std::size_t a = 0; a < 2; ++a) {
      RequestOutcome outcome = agents[a]->receive(ids[a]);
      if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      const Reply& reply = std::get<Reply>(outcome);
      stop_on_lost_wakeups(a, reply);
      if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support run_script: " + reply.message};
      if (reply.type != "ok") throw CaseStop{Outcome::Fail, "run_script: " + reply.error_kind + ": " + reply.message};
      histories[a] = proto::get_array(reply.result, "history");
      if (histories[a].size() != scripts[a]["ops"].size()) {
        throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + " returned " + std::to_string(histories[a].size()) +
                                          " results for " + std::to_string(scripts[a]["ops"].size()) + " ops"};
      }
    }
    for (std::uint32_t n = 0; n < scenario.entries; ++n) {
      history.writes[n].status = status_named(proto::get_string(histories[kProducer][n], "status"), kWriteStatuses);
    }
    auto record = [&](std::size_t agent, const std::string& action, const Json& r, const std::string& shown) {
      if (result.history.size() >= kHistoryShownMax) return;
      HistoryRecord h;
      h.step = result.history.size();
      h.agent = agent;
      h.action = action;
      h.actual = shown;
      h.invoked_ns = proto::get_u64_or(r, "invoked_ns", 0);
      h.returned_ns = proto::get_u64_or(r, "returned_ns", 0);
      result.history.push_back(std::move(h));
    };
    for (const Json& r : histories[kConsumer]) {
      history.reads.push_back(parse_read(r));
      record(kConsumer, "consumer Read", r, describe_read(history.reads.back()));
    }
    // Drain: try_read until Closed, bounded by what can be left plus the Closed itself.
    for (std::uint32_t n = 0; n < scenario.entries + 2; ++n) {
      const Json r = call(kConsumer, Json{{"type", "op"}, {"lane", 0}, {"role", "consumer"}, {"op", "try_read"}}, "drain");
      history.reads.push_back(parse_read(r));
      record(kConsumer, "consumer TryRead (drain)", r, describe_read(history.reads.back()));
      if (history.reads.back().status == ReadStatus::Closed) break;
    }
    // Every agent is idle again: the region must be intact (its lanes' words are the history's).
    if (auto wrong = watch.check(false)) throw CaseStop{Outcome::Fail, "region after the scripts: " + *wrong};
    const BatchVerdict verdict = check_batch_history(history, true);
    if (verdict.violation) throw CaseStop{Outcome::Fail, *verdict.violation};
    const Json counters = call(kProducer, Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state");
    const BatchTally& t = verdict.tally;
    if (proto::get_u64(counters, "write_seq") != t.written || proto::get_u64(counters, "read_count") != t.delivered ||
        proto::get_u64(counters, "lost_count") != t.lost) {
      throw CaseStop{Outcome::Fail, "lane counters " + counters.dump() + " differ from the history: written " +
                                        std::to_string(t.written) + ", delivered " + std::to_string(t.delivered) + ", lost " +
                                        std::to_string(t.lost) + " (EV-11)"};
    }
    result.outcome = Outcome::Pass;
    result.detail = std::to_string(t.written) + " written, " + std::to_string(t.delivered) + " delivered, " +
                    std::to_string(t.lost) + " lost, " + std::to_string(scenario.pauses.size()) + " pauses";
  } catch (const CaseStop& stop) {
    result.outcome = stop.outcome;
    result.detail = stop.detail;
  } catch (const proto::ProtocolError& e) {
    result.outcome = Outcome::Fail;
    result.detail = std::string("malformed history: ") + e.what();
  }
  for (auto& agent : agents) {
    if (agent) agent->signal(SIGCONT);  // never leave a stopped process behind
  }
  agents.clear();
  return result;
}

}  // namespace indexbus::harness

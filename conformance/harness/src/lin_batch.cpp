#include "indexbus/harness/lin_batch.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <fstream>
#include <memory>
#include <random>
#include <type_traits>

#include "case_support.hpp"
#include "region_watch.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/sim_handoff.hpp"
#include "indexbus/linearizability/checker.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/linearizability/rings.hpp"
#include "indexbus/protocol/fields.hpp"

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

// The lane kinds, as this runner tells them apart.
enum class Kind { Events, Fanout, Journal, Sequenced };

spec::ReadOutcome read_outcome(const Json& r) {
  spec::ReadOutcome read{status_named(proto::get_string(r, "status"), kReadStatuses), 0, {}, 0};
  if (read.status == ReadStatus::Entry) {
    read.seq = proto::get_u64(r, "seq");
    read.payload = proto::from_hex(proto::get_string(r, "payload_hex"), kSlotPayloadBytesMax);
  }
  if (read.status == ReadStatus::Lost) read.lost_count = proto::get_u64(r, "lost_count");
  return read;
}
WriteStatus write_status(const Json& r) { return status_named(proto::get_string(r, "status"), kWriteStatuses); }

// One operation of the merged history, kind-neutral until it is turned into a model op.
struct Recorded {
  std::uint32_t actor = 0;     // the process incarnation (or the harness, for a death)
  std::uint32_t consumer = 0;  // reader ops: which consumer / Journal reader (by the harness's index)
  // Attach (Journal readers, recorded by the harness around its attach request) and Detach (the
  // death of a Journal reader's process: the model has no processes, JR-4) are not script ops.
  enum class What { Write, TryWrite, Close, Read, TryRead, Commit, Claim, TryClaim, Publish, Attach, Detach } what = What::Read;
  spec::Bytes payload;
  std::string name;          // Attach
  std::optional<Json> reply;  // the agent's result; nullopt: indeterminate (its process was killed)
  std::uint64_t invoked_ns = 0;
  std::uint64_t returned_ns = lin::kPendingTime;

  bool by_producer() const {
    return what == What::Write || what == What::TryWrite || what == What::Close || what == What::Claim || what == What::TryClaim ||
           what == What::Publish;
  }
  bool is_read() const { return what == What::Read || what == What::TryRead; }
};

// Events and FanoutBroadcast results (spec::OpResult).
spec::OpResult ev_result(const Recorded& r) {
  if (r.what == Recorded::What::Close) return spec::CloseOutcome{};
  if (r.is_read()) return read_outcome(*r.reply);
  return spec::WriteOutcome{write_status(*r.reply)};
}

spec::Op events_op(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Write: return spec::Write{r.payload};
    case Recorded::What::TryWrite: return spec::TryWrite{r.payload};
    case Recorded::What::Close: return spec::Close{};
    case Recorded::What::Read: return spec::Read{};
    default: return spec::TryRead{};
  }
}
spec::FanoutOp fanout_op(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Write: return spec::FanoutWrite{r.payload};
    case Recorded::What::TryWrite: return spec::FanoutTryWrite{r.payload};
    case Recorded::What::Close: return spec::FanoutClose{};
    case Recorded::What::Read: return spec::FanoutRead{r.consumer};
    default: return spec::FanoutTryRead{r.consumer};
  }
}
// reader_id: the record the harness's reader index attached to (JR-2: the lane chooses it).
spec::JournalOp journal_op(const Recorded& r, std::uint32_t reader_id) {
  switch (r.what) {
    case Recorded::What::Write: return spec::JournalWrite{r.payload};
    case Recorded::What::TryWrite: return spec::JournalTryWrite{r.payload};
    case Recorded::What::Close: return spec::JournalClose{};
    case Recorded::What::Read: return spec::JournalRead{reader_id};
    case Recorded::What::Commit: return spec::JournalCommit{reader_id};
    case Recorded::What::Attach: return spec::JournalAttach{r.name};
    // Only a death is recorded as a detach: the record stays Attached by the dead process (JR-4).
    case Recorded::What::Detach: return spec::JournalDetach{reader_id, true};
    default: return spec::JournalTryRead{reader_id};
  }
}
spec::JournalResult journal_result(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Close: return spec::CloseOutcome{};
    case Recorded::What::Read:
    case Recorded::What::TryRead: return read_outcome(*r.reply);
    case Recorded::What::Commit: return spec::JournalCallOutcome{proto::get_string(*r.reply, "status") == "Ok"};
    case Recorded::What::Attach:
      return spec::JournalAttachOutcome{spec::JournalAttachError::None, static_cast<std::uint32_t>(proto::get_u64(*r.reply, "reader_id"))};
    case Recorded::What::Detach: return spec::JournalDoneOutcome{};
    default: return spec::WriteOutcome{write_status(*r.reply)};
  }
}
spec::SequencedOp sequenced_op(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Claim: return spec::SeqClaim{};
    case Recorded::What::TryClaim: return spec::SeqTryClaim{};
    case Recorded::What::Publish: return spec::SeqPublish{r.payload};
    case Recorded::What::Close: return spec::SeqClose{};
    case Recorded::What::Read: return spec::SeqRead{r.consumer};
    default: return spec::SeqTryRead{r.consumer};
  }
}
spec::SequencedResult sequenced_result(const Recorded& r) {
  switch (r.what) {
    case Recorded::What::Claim:
    case Recorded::What::TryClaim: {
      spec::SeqClaimOutcome claim{write_status(*r.reply), 0};
      if (claim.status == WriteStatus::Ok) claim.seq = proto::get_u64(*r.reply, "seq");
      return claim;
    }
    case Recorded::What::Publish: return spec::SeqPublishOutcome{write_status(*r.reply)};
    case Recorded::What::Close: return spec::SeqCloseOutcome{};
    default: return read_outcome(*r.reply);
  }
}

std::string describe_recorded(const Recorded& r) {
  static constexpr const char* kNames[] = {"write", "try_write", "close", "read", "try_read", "commit",
                                           "claim", "try_claim", "publish", "attach", "detach (process killed)"};
  std::string out = std::string(r.by_producer() ? "producer " : "consumer " + std::to_string(r.consumer) + " ") +
                    kNames[static_cast<int>(r.what)];
  if (r.payload.size() >= 8) out += " entry " + std::to_string(static_cast<std::uint64_t>(r.payload[0]) | (static_cast<std::uint64_t>(r.payload[1]) << 8));
  return out;
}

// Per consumer, the invariants that need no linearization order: entries in increasing sequence,
// each exactly the payload written with that sequence, never twice; Block: no Lost and no gap;
// after the drain (Closed), delivered + lost = written. skip_accounting: a consumer whose process
// was killed with a read in flight, which may have consumed an entry nobody saw. A Journal
// reader's successor resumes at the committed cursor (JR-4): from there, entries come again.
// A Journal reader's first attach races the first writes, so it starts at any sequence (JR-3):
// its first outcome fixes the start (the linearizability check judges whether that start fits
// its attach), and the accounting counts from there.
std::optional<std::string> check_consumer(const std::vector<const Recorded*>& ops, std::uint32_t consumer, OnFull on_full,
                                          std::uint64_t written, std::uint32_t slot_bytes, bool skip_accounting,
                                          bool resumes_at_commit) {
  std::uint64_t next = 0;
  std::uint64_t committed = 0;  // Journal: next at the last commit that answered Ok
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  bool closed = false;
  std::optional<std::uint32_t> actor;
  std::uint64_t start = 0;
  bool started = !resumes_at_commit;  // only a Journal reader (resumes_at_commit) starts anywhere
  const std::string who = "consumer " + std::to_string(consumer) + ": ";
  for (const Recorded* r : ops) {
    if (!r->reply) continue;
    if (!started && r->is_read()) {
      const spec::ReadOutcome first = read_outcome(*r->reply);
      if (first.status == ReadStatus::Entry || first.status == ReadStatus::Closed) {
        started = true;
        const std::uint64_t reached = first.status == ReadStatus::Entry ? first.seq : written;
        if (reached < lost) return who + "Lost " + std::to_string(lost) + " before entry " + std::to_string(reached);
        start = reached - lost;  // a Drop reader may meet Lost first
        next = committed = reached;
      }
    }
    if (resumes_at_commit && actor && *actor != r->actor && r->what != Recorded::What::Detach) next = committed;  // a successor
    if (r->what != Recorded::What::Detach) actor = r->actor;
    if (r->what == Recorded::What::Commit && proto::get_string(*r->reply, "status") == "Ok") committed = next;
    if (!r->is_read()) continue;
    const spec::ReadOutcome read = read_outcome(*r->reply);
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
  if (!skip_accounting && delivered + lost != written - start) {
    return who + "delivered " + std::to_string(delivered) + " + lost " + std::to_string(lost) + " != written " + std::to_string(written) +
           (start == 0 ? "" : " - start " + std::to_string(start));
  }
  return std::nullopt;
}

}  // namespace

// A reader SIGKILLed mid-read: the lane stores a read's counter (read_count, or lost_count by k)
// before it publishes the cursor, so a kill between the two leaves the counters one operation
// ahead of the cursor, and the process that takes the role over repeats that operation. The
// cursor stays exact (checked by the caller); the counters may be the model's, or one Entry
// more, or one Lost more (of any count: a lapped Drop reader's Lost covers everything
// overwritten since its cursor, so a repeated one counts that twice). The other way round too: the read in flight is
// indeterminate, and where nothing observed depends on it (a Journal reader's successor resumes
// at the committed cursor whatever the dead process read) the linearization found may apply it
// although the lane never finished it.
//
// Drop also has one entry counted the other way: read_count one above the model's and lost_count
// one below, or the reverse. The kill may come after the read stored its cursor (and before it
// answered): the lane finished it, moving the cursor by one, as an Entry (its copy validated) or
// as a Lost of one (a write destroying that entry). Nothing observed says which: every completed
// read's result fixes its own counter step, so the lane's counters and the model's can differ
// only by the read in flight, and since the cursors agree (checked), the linearization must have
// moved it by one too, as a Lost of one or an Entry. Both are legal while the entry is being
// overwritten during that read: the model lets a begun write destroy the oldest entry
// (two_step.hpp), so the linearization may place the read before the destroying write's first
// step (Entry) or after it and before the following write publishes (Lost 1, lost_jump); the
// producer runs on while the dead reader is reaped, so that window is usually inside the read's
// interval. The checker does not prefer the lane's choice: the counters are not in the state it
// memoizes (hash_observable), so of two orders reaching the same cursors it keeps the first
// found. Seen on Fanout Drop ConsumerKilled (about 1 run in 600), e.g. capacity 4, consumer 0 at
// 248 while the producer's write of 251 is slow: the read copies entry 248, stores cursor 249
// and dies before answering; write 252 (which destroys 248) begins before the kill; the
// successor resumes at 249 (its Lost 47, then Entry 296, say nothing of 248); the search places
// the dead read after write 252's first step, as Lost 1: lane 116 / 184, model 115 / 185.
// The sum stays the model's; a Lost of more than one is never interchangeable with an Entry
// (the cursors would differ), and Block neither loses nor counts a Lost.
bool killed_reader_counters_match(std::uint64_t read_count, std::uint64_t lost_count, std::uint64_t model_read_count,
                                  std::uint64_t model_lost_count, std::uint64_t capacity_slots, OnFull on_full) {
  auto one_apart = [&](std::uint64_t more_read, std::uint64_t more_lost, std::uint64_t less_read, std::uint64_t less_lost) {
    if (more_read == less_read + 1 && more_lost == less_lost) return true;
    return more_read == less_read && more_lost > less_lost && (on_full == OnFull::Drop || more_lost - less_lost <= capacity_slots);
  };
  // One entry an Entry in a and a Lost of one in b (Drop only).
  auto swapped = [&](std::uint64_t a_read, std::uint64_t a_lost, std::uint64_t b_read, std::uint64_t b_lost) {
    return on_full == OnFull::Drop && a_read == b_read + 1 && b_lost == a_lost + 1;
  };
  if (read_count == model_read_count && lost_count == model_lost_count) return true;
  return one_apart(read_count, lost_count, model_read_count, model_lost_count) ||
         one_apart(model_read_count, model_lost_count, read_count, lost_count) ||
         swapped(read_count, lost_count, model_read_count, model_lost_count) ||
         swapped(model_read_count, model_lost_count, read_count, lost_count);
}

namespace {

class LinBatchRun {
 public:
  LinBatchRun(const CaseDef& def, const LinBatchScenario& scenario, std::uint64_t seed, const AgentAssignment& assignment,
              const ScratchDir& dir, std::uint32_t request_deadline_ms)
      : s_(scenario), assignment_(assignment), dir_(dir), deadline_ms_(request_deadline_ms), region_(dir, def.id) {
    result_.id = def.id;
    result_.level = def.level;
    result_.rules = def.rules;
    result_.seed = seed;
    auto lane = [&](const char* kind, OnFull on_full, std::uint32_t capacity_slots, std::uint32_t slot_bytes, std::size_t consumers) {
      on_full_ = on_full;
      slot_bytes_ = slot_bytes;
      consumers_ = consumers;
      lane_ = Json{{"kind", kind}, {"on_full", on_full == OnFull::Block ? "block" : "drop"},
                   {"capacity_slots", capacity_slots}, {"slot_payload_bytes", slot_bytes}};
      if (kind_ != Kind::Events) lane_["reader_count"] = consumers;
    };
    kind_ = static_cast<Kind>(s_.config.index());
    if (const auto* c = std::get_if<spec::EventsConfig>(&s_.config)) lane("events", c->on_full, c->capacity_slots, c->slot_payload_bytes, 1);
    if (const auto* c = std::get_if<spec::FanoutConfig>(&s_.config)) {
      lane("fanout_broadcast", c->on_full, c->capacity_slots, c->slot_payload_bytes, c->consumer_count);
    }
    if (const auto* c = std::get_if<spec::JournalConfig>(&s_.config)) {
      lane("journal", c->on_full, c->capacity_slots, c->slot_payload_bytes, c->reader_count);
      lane_["reader_timeout_ns"] = c->reader_timeout_ns;
    }
    if (const auto* c = std::get_if<spec::SequencedConfig>(&s_.config)) {
      lane("sequenced_slots", c->on_full, c->capacity_slots, c->slot_payload_bytes, c->consumer_count());
      lane_["gated_on"] = c->gated_on;
    }
    reader_ids_.assign(consumers_, 0);
    static constexpr const char* kKindNames[] = {"events", "fanout_broadcast", "journal", "sequenced_slots"};
    result_.scenario.push_back(std::string(kKindNames[s_.config.index()]) + ", " + (on_full_ == OnFull::Block ? "block" : "drop") +
                               ": producer writes " + std::to_string(s_.entries) + " entries and closes; " +
                               std::to_string(consumers_) + " consumer(s) read concurrently" +
                               (kind_ == Kind::Journal ? " (named r0.., attaching together " + std::to_string(s_.attach_offset_us) +
                                                             " us after the writer's start, committing after every read)" : "") +
                               "; perturbation seed " + std::to_string(s_.perturb_seed) + ", period " + std::to_string(s_.perturb_period));
    for (const auto& p : s_.pauses) {
      result_.scenario.push_back("after " + std::to_string(p.delay_us) + " us: SIGSTOP agent " + std::to_string(p.agent) + " for " +
                                 std::to_string(p.stopped_us) + " us");
    }
    if (s_.kill_consumer_after_us) {
      result_.scenario.push_back("after " + std::to_string(*s_.kill_consumer_after_us) +
                                 " us: SIGKILL consumer 0's agent; a new process takes consumer 0 over and reads on");
    }
    if (s_.kill_producer_at_access != 0) {
      result_.scenario.push_back("the producer's agent SIGKILLs itself at its shared-memory access " +
                                 std::to_string(s_.kill_producer_at_access) +
                                 " (kill_at_access); " +
                                 (s_.producer_successor_delay_us == 0 ? std::string()
                                                                      : std::to_string(s_.producer_successor_delay_us) + " us after its death, ") +
                                 "a new process takes the producer role over, writes the rest from the lane's write_seq and closes");
    }
    if (auto handoff = sim_handoff_of(s_)) {
      result_.sim_lane = handoff->lane;
      result_.sim_scenario = handoff->scenario;
      result_.sim_omitted = handoff->omitted;
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
    return judge(a, agents_[a]->request(std::move(request), deadline_ms_), during);
  }

  // An agent's answer to a request: its result, or the case stops saying why.
  Json judge(std::size_t a, RequestOutcome outcome, const std::string& during) {
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) {
      throw CaseStop{outcome_of(*failure), "agent " + std::to_string(a) + " " + during + ": " + failure->message};
    }
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(a, reply, lost_wakeups_tolerated_);
    if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support " + during + ": " + reply.message};
    if (reply.type != "ok") {
      throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + " " + during + ": " + reply.error_kind + ": " + reply.message};
    }
    return reply.result;
  }

  std::string consumer_role() const { return kind_ == Kind::Journal ? "reader" : "consumer"; }

  // Agent 0: producer; agent 1 + c: consumer c. Started, region made or opened, role attached.
  // A Journal reader attaches by name ("r<c>"): an operation of the history (the model decides
  // the record, JR-3/JR-4), recorded for `actor`.
  void start(std::size_t a, std::size_t consumer, std::uint32_t actor, bool attach_now = true) {
    agents_[a] = std::make_unique<AgentProcess>(assignment_.argv(a == 0));
    if (auto failure = agents_[a]->handshake()) throw CaseStop{outcome_of(*failure), "agent hello: " + failure->message};
    if (!proto::get_bool_or(agents_[a]->hello(), "batch", false)) throw CaseStop{Outcome::Skip, "agent has no batch mode"};
    if (a == 0) {
      call(a, Json{{"type", "create_region"}, {"path", region_.path()}, {"lanes", Json::array({lane_})}}, "create_region");
      if (auto wrong = watch_.baseline(Json::array({lane_}))) throw CaseStop{Outcome::Fail, "agent 0 create_region: " + *wrong};
      call(a, Json{{"type", "attach"}, {"lane", 0}, {"role", "producer"}}, "attach producer");
      return;
    }
    call(a, Json{{"type", "open_region"}, {"path", region_.path()}}, "open_region");
    Json attach{{"type", "attach"}, {"lane", 0}, {"role", consumer_role()}, {"reader", consumer}};
    if (kind_ != Kind::Journal) {
      call(a, std::move(attach), "attach consumer");
      return;
    }
    if (!attach_now) return;  // attach_journal_readers, racing
    assert(consumer < reader_ids_.size());
    Recorded rec;
    rec.actor = actor;
    rec.consumer = static_cast<std::uint32_t>(consumer);
    rec.what = Recorded::What::Attach;
    rec.name = "r" + std::to_string(consumer);
    attach["name"] = rec.name;
    rec.invoked_ns = proto::monotonic_now_ns();
    rec.reply = call(a, std::move(attach), "attach reader");
    rec.returned_ns = proto::monotonic_now_ns();
    reader_ids_[consumer] = static_cast<std::uint32_t>(proto::get_u64(*rec.reply, "reader_id"));
    history_.push_back(std::move(rec));
  }

  // Journal: every reader's attach by name ("r<c>") goes out at once, at start_at_ns_ +
  // attach_offset_us, so the attaches race each other and the writer's first writes (JR-3: each
  // attach starts at a write_seq inside its interval; racing attaches take their records in
  // either order). Each is an operation of the history; its interval runs from just before the
  // request is sent to just after its reply is read.
  void attach_journal_readers() {
    const auto at_ns = static_cast<std::int64_t>(start_at_ns_) + std::int64_t{s_.attach_offset_us} * 1000;
    const auto now_ns = static_cast<std::int64_t>(proto::monotonic_now_ns());
    if (at_ns > now_ns) sleep_us(static_cast<std::uint64_t>(at_ns - now_ns) / 1000);
    std::vector<Recorded> records(consumers_);
    std::vector<std::uint64_t> ids(consumers_);
    for (std::size_t c = 0; c < consumers_; ++c) {
      Recorded& rec = records[c];
      rec.actor = static_cast<std::uint32_t>(1 + c);
      rec.consumer = static_cast<std::uint32_t>(c);
      rec.what = Recorded::What::Attach;
      rec.name = "r" + std::to_string(c);
      rec.invoked_ns = proto::monotonic_now_ns();
      auto sent = agents_[1 + c]->send(Json{{"type", "attach"}, {"lane", 0}, {"role", "reader"}, {"reader", c}, {"name", rec.name}},
                                       deadline_ms_);
      if (auto* failure = std::get_if<AgentFailure>(&sent)) {
        throw CaseStop{outcome_of(*failure), "agent " + std::to_string(1 + c) + " attach reader: " + failure->message};
      }
      ids[c] = std::get<std::uint64_t>(sent);
    }
    for (std::size_t c = 0; c < consumers_; ++c) {
      Recorded& rec = records[c];
      rec.reply = judge(1 + c, agents_[1 + c]->receive(ids[c]), "attach reader");
      rec.returned_ns = proto::monotonic_now_ns();
      reader_ids_[c] = static_cast<std::uint32_t>(proto::get_u64(*rec.reply, "reader_id"));
      history_.push_back(std::move(rec));
    }
  }

  // first_entry: a producer's first entry (its payload is payload_of(sequence)); a producer that
  // replaces a killed one starts at the lane's write_seq.
  Json script(std::size_t a, std::uint64_t start_at_ns, std::uint32_t incarnation, std::uint64_t first_entry = 0) {
    Json ops = Json::array();
    if (a == 0) {
      const bool block = on_full_ == OnFull::Block;
      for (std::uint64_t n = first_entry; n < s_.entries; ++n) {
        const spec::Bytes p = payload_of(n, slot_bytes_);
        if (kind_ == Kind::Sequenced) {  // claim, then publish the claimed sequence (SS-2)
          Json claim{{"lane", 0}, {"role", "producer"}, {"op", block ? "claim" : "try_claim"}};
          if (block) claim["timeout_ns"] = s_.write_timeout_ns;
          ops.push_back(std::move(claim));
          ops.push_back(Json{{"lane", 0}, {"role", "producer"}, {"op", "publish"}, {"seq", n}, {"payload_hex", proto::to_hex(p.data(), p.size())}});
          continue;
        }
        Json op{{"lane", 0}, {"role", "producer"}, {"op", block ? "write" : "try_write"}, {"payload_hex", proto::to_hex(p.data(), p.size())}};
        if (block) op["timeout_ns"] = s_.write_timeout_ns;
        ops.push_back(std::move(op));
      }
      ops.push_back(Json{{"lane", 0}, {"role", "producer"}, {"op", "close"}});
    } else {
      for (std::uint32_t n = 0; n < s_.entries + 1 + kExtraReads; ++n) {
        ops.push_back(Json{{"lane", 0}, {"role", consumer_role()}, {"reader", a - 1}, {"op", "read"}, {"timeout_ns", s_.read_timeout_ns}});
        if (kind_ == Kind::Journal) ops.push_back(Json{{"lane", 0}, {"role", "reader"}, {"reader", a - 1}, {"op", "commit"}});
      }
    }
    // A RegionFile: removed when the case ends, and by the signal handler on SIGINT/SIGTERM.
    history_files_.push_back(std::make_unique<RegionFile>(dir_, result_.id + ".history." + std::to_string(a) + "." + std::to_string(incarnation)));
    const std::string path = history_files_.back()->path();
    scripts_.push_back(ops);
    Json request{{"type", "run_script"}, {"ops", std::move(ops)}, {"start_at_ns", start_at_ns},
                 {"perturb_seed", s_.perturb_seed ^ (a * 0x9e3779b97f4a7c15ull) ^ incarnation},
                 {"perturb_period", s_.perturb_period}, {"history_path", path}};
    if (a == 0 && incarnation == 0 && s_.kill_producer_at_access != 0) request["kill_at_access"] = s_.kill_producer_at_access;
    return request;
  }

  // Completed producer operations that made an entry (write, try_write, publish answered Ok).
  static bool made_entry(const Recorded& r) {
    const bool writes = r.what == Recorded::What::Write || r.what == Recorded::What::TryWrite || r.what == Recorded::What::Publish;
    return writes && r.reply && write_status(*r.reply) == WriteStatus::Ok;
  }

  // The producer's script SIGKILLs its agent at kill_at_access (spec/agent-protocol.md): wait for
  // that death (bounded by the script's deadline), record the completed operations from the
  // history file and the one in flight as indeterminate, then start a new process that takes the
  // producer role over (EV-1: the role's pid word names a dead process) and send it the rest of
  // the entries, from the lane's write_seq, and the close. Returns the replacement's request id.
  std::uint64_t replace_killed_producer(std::uint64_t script_id) {
    const std::string where = "producer killed at access " + std::to_string(s_.kill_producer_at_access);
    RequestOutcome outcome = agents_[0]->receive(script_id);
    if (auto* reply = std::get_if<Reply>(&outcome)) {
      if (reply->type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support kill_at_access: " + reply->message};
      if (reply->type != "ok") throw CaseStop{Outcome::Fail, where + ": run_script: " + reply->error_kind + ": " + reply->message};
      throw CaseStop{Outcome::Fail, where + ": the kill never fired: the script of " + std::to_string(scripts_[0].size()) +
                                        " ops completed, so the agent ignored kill_at_access (expected SIGKILL at that access, "
                                        "which every script this long reaches)"};
    }
    const AgentFailure& failure = std::get<AgentFailure>(outcome);
    // Reaped by receive(): from here on the dead producer accesses nothing.
    killed_at_ns_ = proto::monotonic_now_ns();
    if (failure.kind != AgentFailureKind::Crash || failure.message.find("killed by signal 9 (") == std::string::npos) {
      throw CaseStop{outcome_of(failure), where + ": expected the agent to die of SIGKILL, got: " + failure.message};
    }
    // A waker killed between its publish and its wake loses that wake (as for a killed consumer).
    lost_wakeups_tolerated_ = 1;
    producer_killed_ = true;
    const Json done = read_history_file(history_files_[0]->path());
    if (done.size() >= scripts_[0].size()) {
      throw CaseStop{Outcome::Fail, where + ": the agent died after all " + std::to_string(done.size()) +
                                        " ops of its script had completed: the kill fired outside every operation"};
    }
    record_script(0, 0, scripts_[0], done, true);
    std::uint64_t entries_done = 0;
    for (const Recorded& r : history_) entries_done += made_entry(r) ? 1 : 0;
    // A late successor (a supervisor's restart time): the readers read on alone meanwhile.
    if (s_.producer_successor_delay_us != 0) sleep_us(s_.producer_successor_delay_us);
    const std::size_t a = producer_replacement_slot();
    agents_[a] = std::make_unique<AgentProcess>(assignment_.argv(true));
    if (auto failure2 = agents_[a]->handshake()) throw CaseStop{outcome_of(*failure2), "replacement producer hello: " + failure2->message};
    call(a, Json{{"type", "open_region"}, {"path", region_.path()}}, "open_region (replacement producer)");
    call(a, Json{{"type", "attach"}, {"lane", 0}, {"role", "producer"}}, "attach producer (replacement of the killed one)");
    // EV-16: an Events Block write killed between its write_seq and stamp stores takes effect at
    // this attach, which stamps it; so the dead operation is placed before the attach returned.
    resumed_at_ns_ = proto::monotonic_now_ns();
    // The dead producer's write in flight was published or not: write_seq is its completed
    // entries, or one more. Anything else is a lane (or an agent) that lost or invented entries.
    const std::uint64_t write_seq = proto::get_u64(call(a, Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state"), "write_seq");
    if (write_seq != entries_done && write_seq != entries_done + 1) {
      throw CaseStop{Outcome::Fail, where + ": after its death the lane's write_seq is " + std::to_string(write_seq) + ", expected " +
                                        std::to_string(entries_done) + " (its completed entries) or " + std::to_string(entries_done + 1) +
                                        " (and the one in flight)"};
    }
    pending_entry_published_ = write_seq == entries_done + 1;
    producer_death_ = "the producer died at access " + std::to_string(s_.kill_producer_at_access) + " inside operation " +
                      std::to_string(done.size()) + " (" + proto::get_string(scripts_[0][done.size()], "op") + ") after " +
                      std::to_string(entries_done) + " entries; write_seq then " + std::to_string(write_seq);
    result_.scenario.push_back(producer_death_ + ", so the replacement writes entries " + std::to_string(write_seq) + ".. and closes");
    auto sent = agents_[a]->send(script(0, 0, 1, write_seq), std::max(deadline_ms_, kScriptDeadlineMs));
    producer_replacement_script_ = scripts_.size() - 1;
    if (auto* failure3 = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure3), "run_script (replacement producer): " + failure3->message};
    return std::get<std::uint64_t>(sent);
  }

  // agents_: 0 producer, 1 + c consumer c, then consumer 0's replacement, then the producer's.
  std::size_t consumer_replacement_slot() const { return 1 + consumers_; }
  std::size_t producer_replacement_slot() const { return 2 + consumers_; }
  std::size_t producer_slot() const { return producer_killed_ ? producer_replacement_slot() : 0; }

  static Recorded::What what_of(const std::string& op) {
    static const std::pair<const char*, Recorded::What> kOps[] = {
        {"write", Recorded::What::Write},   {"try_write", Recorded::What::TryWrite}, {"close", Recorded::What::Close},
        {"read", Recorded::What::Read},     {"try_read", Recorded::What::TryRead},   {"commit", Recorded::What::Commit},
        {"claim", Recorded::What::Claim},   {"try_claim", Recorded::What::TryClaim}, {"publish", Recorded::What::Publish}};
    for (const auto& [name, what] : kOps) {
      if (op == name) return what;
    }
    throw proto::ProtocolError("unknown op '" + op + "' in a script");
  }

  void record_script(std::uint32_t actor, std::size_t a, const Json& ops, const Json& results, bool killed) {
    const std::size_t done = results.size();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (i > done) break;
      if (i == done && !killed) break;
      Recorded r;
      r.actor = actor;
      r.consumer = a == 0 ? 0 : static_cast<std::uint32_t>(a - 1);
      r.what = what_of(proto::get_string(ops[i], "op"));
      if (ops[i].contains("payload_hex")) r.payload = proto::from_hex(proto::get_string(ops[i], "payload_hex"), kSlotPayloadBytesMax);
      if (i < done) {
        r.reply = results[i];
        r.invoked_ns = proto::get_u64(results[i], "invoked_ns");
        r.returned_ns = proto::get_u64(results[i], "returned_ns");
      } else {  // the op in flight when the process died: indeterminate, invoked after the last return
        r.invoked_ns = done == 0 ? start_at_ns_ : proto::get_u64(results[done - 1], "returned_ns");
        r.returned_ns = lin::kPendingTime;
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
    agents_.resize(3 + consumers_);  // and the replacements: consumer 0's, the producer's
    const auto producer_replacement_actor = static_cast<std::uint32_t>(3 + consumers_);
    const bool journal = kind_ == Kind::Journal;
    for (std::size_t a = 0; a < 1 + consumers_; ++a) start(a, a == 0 ? 0 : a - 1, static_cast<std::uint32_t>(a), !journal);
    start_at_ns_ = proto::monotonic_now_ns() + 30'000'000;
    std::vector<Json> scripts;
    std::vector<std::uint64_t> ids(1 + consumers_);
    for (std::size_t a = 0; a < 1 + consumers_; ++a) {
      // A Journal reader's script follows its attach, which races the writer's first writes.
      if (journal && a == 1) attach_journal_readers();
      scripts.push_back(script(a, start_at_ns_, 0));
      auto sent = agents_[a]->send(scripts.back(), std::max(deadline_ms_, kScriptDeadlineMs));
      if (auto* failure = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure), "run_script: " + failure->message};
      ids[a] = std::get<std::uint64_t>(sent);
    }
    if (s_.kill_producer_at_access != 0 && !proto::get_bool_or(agents_[0]->hello(), "kill_at_access", false)) {
      throw CaseStop{Outcome::Skip, "agent does not declare kill_at_access in its hello (spec/agent-protocol.md, run_script)"};
    }
    sleep_us(30'000);
    // The producer dies inside its script, at a seeded access: replaced before the pauses start,
    // so that they stop the replacement, while the readers read on throughout.
    std::uint64_t producer_replacement_id = 0;
    if (s_.kill_producer_at_access != 0) producer_replacement_id = replace_killed_producer(ids[0]);
    // Pauses and the kill, in time order; each step is bounded.
    std::uint64_t elapsed_us = 0;
    bool killed = false;
    std::uint64_t replacement_id = 0;
    const auto replacement_actor = static_cast<std::uint32_t>(1 + consumers_);
    auto do_kill = [&] {
      agents_[1]->kill_now();
      killed = true;
      // The killed consumer may die between publishing its cursor and bumping the producer's
      // epoch: the parked producer then counts that one wake lost, rightly, and not a defect.
      lost_wakeups_tolerated_ = 1;
      killed_at_ns_ = proto::monotonic_now_ns();
      if (kind_ == Kind::Journal) {  // the model has no processes: the death detaches the record (JR-4)
        Recorded death;
        death.actor = replacement_actor + 1;
        death.consumer = 0;
        death.what = Recorded::What::Detach;
        death.reply = Json::object();
        death.invoked_ns = killed_at_ns_;
        death.returned_ns = killed_at_ns_ + 1;
        history_.push_back(std::move(death));
      }
      start(consumer_replacement_slot(), 0, replacement_actor);  // takes consumer 0 over (its pid word names a dead process)
      Json again = script(1, 0, 1);
      killed_consumer_script_ = scripts_.size() - 1;
      auto sent = agents_[consumer_replacement_slot()]->send(again, std::max(deadline_ms_, kScriptDeadlineMs));
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
      if (p.agent == 1 && killed) target = agents_[consumer_replacement_slot()].get();
      if (p.agent == 0) target = agents_[producer_slot()].get();
      if (target == nullptr || !target->signal(SIGSTOP)) continue;
      sleep_us(p.stopped_us);
      target->signal(SIGCONT);
    }
    if (s_.kill_consumer_after_us && !killed) {
      if (*s_.kill_consumer_after_us > elapsed_us) sleep_us(*s_.kill_consumer_after_us - elapsed_us);
      do_kill();
    }
    auto receive = [&](AgentProcess& agent, std::uint64_t id, const std::string& who) {
      RequestOutcome outcome = agent.receive(id);
      if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), who + " run_script: " + failure->message};
      const Reply& reply = std::get<Reply>(outcome);
      stop_on_lost_wakeups(who, reply, lost_wakeups_tolerated_);
      if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, "agent does not support run_script: " + reply.message};
      if (reply.type != "ok") throw CaseStop{Outcome::Fail, "run_script: " + reply.error_kind + ": " + reply.message};
      perturbations_ += proto::get_u64_or(reply.result, "perturbations", 0);
      return proto::get_array(reply.result, "history");
    };
    // Actors: 0 producer, 1 + c consumer c, then consumer 0's replacement (and its death).
    for (std::size_t a = 0; a < 1 + consumers_; ++a) {
      if (a == 0 && producer_killed_) continue;  // recorded by replace_killed_producer
      if (a == 1 && killed) {
        record_script(1, 1, scripts[1]["ops"], read_history_file(history_files_[1]->path()), true);
        continue;
      }
      const Json results = receive(*agents_[a], ids[a], "agent " + std::to_string(a));
      if (results.size() != scripts[a]["ops"].size()) throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + ": short history"};
      record_script(static_cast<std::uint32_t>(a), a, scripts[a]["ops"], results, false);
    }
    if (killed) {
      const Json results = receive(*agents_[consumer_replacement_slot()], replacement_id,
                                   "agent " + std::to_string(consumer_replacement_slot()) + " (consumer 0's replacement)");
      record_script(replacement_actor, 1, scripts_[killed_consumer_script_], results, false);
    }
    if (producer_killed_) {
      const std::size_t a = producer_replacement_slot();
      const Json& ops = scripts_[producer_replacement_script_];
      const Json results = receive(*agents_[a], producer_replacement_id, "agent " + std::to_string(a) + " (the producer's replacement)");
      if (results.size() != ops.size()) throw CaseStop{Outcome::Fail, "agent " + std::to_string(a) + ": short history"};
      record_script(producer_replacement_actor, 0, ops, results, false);
    }
    // The drain: each live consumer try_reads until Closed (its blocking reads may have run out);
    // a Journal reader commits after each read.
    for (std::size_t c = 0; c < consumers_; ++c) {
      const std::size_t a = (c == 0 && killed) ? consumer_replacement_slot() : 1 + c;
      const std::uint32_t actor = (c == 0 && killed) ? replacement_actor : static_cast<std::uint32_t>(1 + c);
      auto drain_op = [&](const char* op, Recorded::What what) {
        Recorded rec;
        rec.actor = actor;
        rec.consumer = static_cast<std::uint32_t>(c);
        rec.what = what;
        rec.reply = call(a, Json{{"type", "op"}, {"lane", 0}, {"role", consumer_role()}, {"reader", c}, {"op", op}}, "drain");
        rec.invoked_ns = proto::get_u64(*rec.reply, "invoked_ns");
        rec.returned_ns = proto::get_u64(*rec.reply, "returned_ns");
        const bool closed = rec.is_read() && proto::get_string(*rec.reply, "status") == "Closed";
        history_.push_back(std::move(rec));
        return closed;
      };
      for (std::uint32_t n = 0; n < s_.entries + 2; ++n) {  // one entry or Lost per read, then Closed
        const bool closed = drain_op("try_read", Recorded::What::TryRead);
        if (kind_ == Kind::Journal) drain_op("commit", Recorded::What::Commit);
        if (closed) break;
      }
    }
    counters_ = call(producer_slot(), Json{{"type", "lane_state"}, {"lane", 0}}, "lane_state");
    consumer0_killed_ = killed;
  }

  // Checks the merged history against Model; on Linearizable, the model state after the order found.
  template <typename Model, typename ToOp, typename ToResult>
  lin::CheckResult linearize(const typename Model::State& initial, ToOp to_op, ToResult to_result,
                             std::optional<typename Model::State>& final_state) const {
    std::vector<lin::Operation<typename Model::Op, typename Model::Result>> ops;
    ops.reserve(history_.size());
    for (const Recorded& r : history_) {
      ops.push_back({r.actor, to_op(r), r.reply ? std::optional<typename Model::Result>(to_result(r)) : std::nullopt, r.invoked_ns,
                     r.returned_ns});
      // The only operations left pending are the killed process's: it was dead (SIGKILLed and
      // reaped) at killed_at_ns_, so its operation in flight took effect before then or never;
      // an Events Block producer's write, before its successor's attach returned (EV-16).
      if (!r.reply && killed_at_ns_ != 0) {
        const bool completed_by_successor = producer_killed_ && kind_ == Kind::Events && on_full_ == OnFull::Block;
        ops.back().pending_deadline_time = completed_by_successor ? resumed_at_ns_ : killed_at_ns_;
      }
    }
    assert(ops.size() == history_.size());
    // Writes in their two steps where the model has them (linearizability/two_step.hpp); the
    // order handed back names recorded operations only.
    lin::TwoStepSplit split;
    split.recorded_count = ops.size();
    if constexpr (lin::TwoStepWrites<Model>) split = lin::split_two_step_writes<Model>(initial, ops);
    lin::CheckResult verdict = lin::check<Model>(initial, ops, check_options());
    if (verdict.verdict == lin::Verdict::Linearizable) {
      typename Model::State state = initial;
      for (std::size_t i : verdict.order) state = Model::step(state, ops[i].op).first;
      final_state = std::move(state);
    }
    verdict.order = split.recorded_order(verdict.order);
    return verdict;
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
      h.actual = r.reply ? r.reply->dump() : "indeterminate (process killed)";
      h.invoked_ns = r.invoked_ns;
      h.returned_ns = r.returned_ns == lin::kPendingTime ? 0 : r.returned_ns;
      result_.history.push_back(std::move(h));
    }
    // The killed producer's entry in flight counts if the lane published it (its write_seq said so).
    std::uint64_t written = pending_entry_published_ ? 1 : 0;
    for (const Recorded& r : history_) written += made_entry(r) ? 1 : 0;
    for (std::uint32_t c = 0; c < consumers_; ++c) {
      std::vector<const Recorded*> ops;
      for (std::size_t k : by_time) {
        if (!history_[k].by_producer() && history_[k].consumer == c) ops.push_back(&history_[k]);
      }
      const bool skip = c == 0 && consumer0_killed_;
      if (auto broken = check_consumer(ops, c, on_full_, written, slot_bytes_, skip, kind_ == Kind::Journal)) throw CaseStop{Outcome::Fail, *broken};
    }
    lin::CheckResult verdict;
    switch (kind_) {
      case Kind::Events: {
        std::optional<spec::EventsState> state;
        verdict = linearize<lin::EventsModel>(spec::initial_state(std::get<spec::EventsConfig>(s_.config)), events_op, ev_result, state);
        if (state) check_events_counters(*state);
        break;
      }
      case Kind::Fanout: {
        std::optional<spec::FanoutState> state;
        verdict = linearize<lin::FanoutModel>(spec::initial_state(std::get<spec::FanoutConfig>(s_.config)), fanout_op, ev_result, state);
        if (!state) break;
        std::vector<ModelReader> readers;
        for (const auto& m : state->consumers) readers.push_back({m.next_seq, m.read_count, m.lost_count});
        check_ring_counters(state->written, readers, 0, spec::describe(*state));
        break;
      }
      case Kind::Journal: {
        std::optional<spec::JournalState> state;
        verdict = linearize<lin::JournalModel>(
            spec::initial_state(std::get<spec::JournalConfig>(s_.config)),
            [&](const Recorded& r) { return journal_op(r, reader_ids_[r.consumer]); }, journal_result, state);
        if (!state) break;
        std::vector<ModelReader> readers;
        for (const auto& m : state->readers) readers.push_back({m.cursor_seq, m.read_count, m.lost_count});
        check_ring_counters(state->written, readers, reader_ids_[0], spec::describe(*state));
        break;
      }
      case Kind::Sequenced: {
        std::optional<spec::SequencedState> state;
        verdict = linearize<lin::SequencedModel>(spec::sequenced_initial_state(std::get<spec::SequencedConfig>(s_.config)), sequenced_op,
                                                 sequenced_result, state);
        if (!state) break;
        std::vector<ModelReader> readers;
        for (const auto& m : state->consumers) readers.push_back({m.next_seq, m.read_count, m.lost_count});
        check_ring_counters(state->written, readers, 0, spec::describe(*state));
        break;
      }
    }
    const std::string summary = std::to_string(history_.size()) + " operations, " + std::to_string(written) + " written, " +
                                std::to_string(verdict.configurations) + " configurations searched, " +
                                std::to_string(perturbations_) + " perturbations" + (producer_killed_ ? "; " + producer_death_ : "");
    if (verdict.verdict == lin::Verdict::NotLinearizable) {
      std::string where;
      if (!verdict.order.empty()) where = "; the longest legal prefix ends after " + describe_recorded(history_[verdict.order.back()]);
      throw CaseStop{Outcome::Fail, "not linearizable against the model: " + summary + where + " (" +
                                        std::to_string(verdict.order.size()) + " of " + std::to_string(history_.size()) + " placed)"};
    }
    if (verdict.verdict == lin::Verdict::Unknown) {
      // The search stopped at a bound (or the history could not be searched): the per-consumer
      // invariants held, but without a linearization the counters were not compared either.
      result_.outcome = Outcome::Inconclusive;
      result_.detail = "linearizability not decided: " + verdict.problem + " (bounds: " + limits_text() +
                       "); per-consumer invariants hold, lane counters not compared: " + summary;
      return;
    }
    assert(verdict.verdict == lin::Verdict::Linearizable);
    result_.outcome = Outcome::Pass;
    result_.detail = "linearizable, invariants hold: " + summary;
  }

  // The linearizability search's bounds (LinBatchScenario), and as a report says them.
  lin::Options check_options() const {
    lin::Options options;
    options.time_limit_ns = s_.check_time_limit_ns;
    if (s_.check_configurations_max != 0) options.configurations_max = s_.check_configurations_max;
    return options;
  }
  std::string limits_text() const {
    const lin::Options options = check_options();
    const std::uint64_t time_limit_ms = options.time_limit_ns / 1'000'000;
    return "time limit " + (options.time_limit_ns == 0 ? std::string("none") : std::to_string(time_limit_ms) + " ms") +
           ", at most " + std::to_string(options.configurations_max) + " configurations";
  }

  void check_events_counters(const spec::EventsState& state) {
    const bool counters_match =
        consumer0_killed_ ? killed_reader_counters_match(proto::get_u64(counters_, "read_count"), proto::get_u64(counters_, "lost_count"),
                                                         state.read_count, state.lost_count, state.config.capacity_slots, on_full_)
                          : proto::get_u64(counters_, "read_count") == state.read_count &&
                                proto::get_u64(counters_, "lost_count") == state.lost_count;
    if (proto::get_u64(counters_, "write_seq") != state.written || proto::get_u64(counters_, "read_seq") != state.read_seq ||
        !counters_match) {
      throw CaseStop{Outcome::Fail, "lane counters " + counters_.dump() + " differ from the linearized model's " + spec::describe(state)};
    }
  }

  // A ring reader record as the linearized model has it: cursor (Journal: committed), counters.
  struct ModelReader {
    std::uint64_t cursor_seq = 0;
    std::uint64_t read_count = 0;
    std::uint64_t lost_count = 0;
  };
  // killed_record: the record of consumer 0, whose counters may be one operation ahead if it was killed.
  void check_ring_counters(std::uint64_t written, const std::vector<ModelReader>& model, std::uint32_t killed_record,
                           const std::string& model_text) {
    if (proto::get_u64(counters_, "write_seq") != written) {
      throw CaseStop{Outcome::Fail, "lane write_seq " + counters_.dump() + " differs from the linearized model's " + model_text};
    }
    const Json& readers = proto::get_array(counters_, "readers");
    const std::uint64_t capacity = proto::get_u64(lane_, "capacity_slots");
    for (std::size_t i = 0; i < model.size() && i < readers.size(); ++i) {
      const std::uint64_t read_count = proto::get_u64(readers[i], "read_count");
      const std::uint64_t lost_count = proto::get_u64(readers[i], "lost_count");
      const ModelReader& m = model[i];
      const bool counters_match = i == killed_record && consumer0_killed_
                                      ? killed_reader_counters_match(read_count, lost_count, m.read_count, m.lost_count, capacity, on_full_)
                                      : read_count == m.read_count && lost_count == m.lost_count;
      if (proto::get_u64(readers[i], "cursor_seq") != m.cursor_seq || !counters_match) {
        throw CaseStop{Outcome::Fail, "reader record " + std::to_string(i) + " counters " + readers[i].dump() +
                                          " differ from the linearized model's " + model_text};
      }
    }
  }

  const LinBatchScenario& s_;
  const AgentAssignment& assignment_;
  const ScratchDir& dir_;
  std::uint32_t deadline_ms_;
  RegionFile region_;
  Kind kind_ = Kind::Events;
  RegionWatch watch_{region_.path()};
  OnFull on_full_ = OnFull::Block;
  std::uint32_t slot_bytes_ = 8;
  std::size_t consumers_ = 1;
  Json lane_;
  std::vector<std::uint32_t> reader_ids_;  // Journal: the record each reader index attached to
  std::vector<std::unique_ptr<AgentProcess>> agents_;
  std::vector<std::unique_ptr<RegionFile>> history_files_;  // one per script
  std::vector<Json> scripts_;  // the ops of each script sent, in sending order
  std::vector<Recorded> history_;
  std::uint64_t start_at_ns_ = 0;
  std::uint64_t killed_at_ns_ = 0;
  std::uint64_t resumed_at_ns_ = 0;  // the killed producer's successor's attach returned
  std::uint64_t lost_wakeups_tolerated_ = 0;  // 1 after the kill (do_kill)
  bool consumer0_killed_ = false;  // with a read in flight: its accounting is not exact
  bool producer_killed_ = false;   // the producer died inside its script and was replaced
  std::string producer_death_;     // where it died, for the report
  bool pending_entry_published_ = false;  // its operation in flight published an entry (write_seq)
  std::size_t killed_consumer_script_ = 0;  // scripts_ index of consumer 0's replacement
  std::size_t producer_replacement_script_ = 0;  // scripts_ index of the producer's replacement
  Json counters_;
  std::uint64_t perturbations_ = 0;  // delays the agents reported (0: the agent does not perturb)
  CaseResult result_;
};

}  // namespace


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
  auto scenario = [](std::mt19937_64& rng, decltype(LinBatchScenario::config) config, bool kill) {
    LinBatchScenario s;
    s.config = config;
    s.perturb_seed = rng();
    std::uniform_int_distribution<std::uint32_t> delay_us(200, 3000);
    std::uniform_int_distribution<std::uint32_t> stopped_us(500, 4000);
    const std::size_t consumers = std::visit(
        [](const auto& c) -> std::size_t {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, spec::EventsConfig>) return 1;
          else if constexpr (std::is_same_v<C, spec::FanoutConfig>) return c.consumer_count;
          else if constexpr (std::is_same_v<C, spec::JournalConfig>) return c.reader_count;
          else return c.consumer_count();
        },
        config);
    const std::size_t agents = 1 + consumers;
    for (std::size_t i = 0; i < 4; ++i) s.pauses.push_back({i % agents, delay_us(rng), stopped_us(rng)});
    if (kill) s.kill_consumer_after_us = std::uniform_int_distribution<std::uint32_t>(500, 4000)(rng);
    s.attach_offset_us = std::uniform_int_distribution<std::int32_t>(-300, 300)(rng);
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
  // Journal: a writer and two named readers whose attaches race each other and the writer's
  // first writes; Block writes have a deadline; readers commit after every read.
  // SequencedSlots: a producer claiming and publishing, consumer 1 gated on consumer 0.
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const bool block = on_full == OnFull::Block;
    const std::string policy = block ? "Block" : "Drop";
    add("Required.Journal.BatchLinearizable." + policy + ".Perturbed",
        block ? std::vector<std::string>{"JR-2", "JR-3", "JR-5", "JR-9", "JR-11", "JR-12"}
              : std::vector<std::string>{"JR-2", "JR-3", "JR-5", "JR-6", "JR-8", "JR-11", "JR-12"},
        "200 entries to two named readers committing after every read, seeded delays and pauses: linearizable, each reader exact",
        [=](std::mt19937_64& rng) {
          LinBatchScenario s = scenario(rng, spec::JournalConfig{4, 16, on_full, 2, 0}, false);
          s.entries = 200;
          return s;
        });
    add("Required.SequencedSlots.BatchLinearizable." + policy + ".Perturbed",
        block ? std::vector<std::string>{"SS-2", "SS-4", "SS-5", "SS-6", "SS-7", "SS-9", "SS-10", "SS-11"}
              : std::vector<std::string>{"SS-2", "SS-4", "SS-5", "SS-8", "SS-9", "SS-10", "SS-11"},
        "200 entries claimed and published to a pipeline of two consumers (1 gated on 0), seeded delays and pauses: linearizable",
        [=](std::mt19937_64& rng) {
          LinBatchScenario s = scenario(rng, spec::SequencedConfig{4, 16, on_full, {0, 1}}, false);
          s.entries = 200;
          return s;
        });
  }
  // Producer death mid-operation (EV-16, FB-1, JR-1, SS-1/SS-2): the producer's agent SIGKILLs
  // itself at a seeded shared-memory access (kill_at_access), so it dies inside a write, a claim,
  // a publish or the close; that operation is indeterminate (pending until the harness reaped the
  // process). A new process takes the role over, writes the rest from the lane's write_seq and
  // closes, while the readers read on with deadlines; the whole history must linearize, each
  // reader exact (nothing torn, lost under Block or delivered twice), the counters the model's.
  // The access is drawn between 1 and the script's op count: every producer op touches the lane
  // at least once, so the kill fires inside the script for any agent (a kill that does not fire
  // fails the case).
  // successor_delay_us: 0, or how long after the death the replacement starts (LateSuccessor).
  auto producer_killed = [=](std::mt19937_64& rng, decltype(LinBatchScenario::config) config, std::uint32_t entries,
                             bool claims, std::uint64_t successor_delay_us = 0) {
    LinBatchScenario s = scenario(rng, config, false);
    s.entries = entries;
    const std::uint64_t script_ops = std::uint64_t{entries} * (claims ? 2 : 1) + 1;  // + close
    s.kill_producer_at_access = std::uniform_int_distribution<std::uint64_t>(1, script_ops)(rng);
    s.producer_successor_delay_us = successor_delay_us;
    return s;
  };
  for (const OnFull on_full : {OnFull::Block, OnFull::Drop}) {
    const bool block = on_full == OnFull::Block;
    const std::string policy = block ? "Block" : "Drop";
    const char* summary = "the producer's process is SIGKILLed inside an operation (a seeded access of its script) and replaced: "
                          "its operation in flight is indeterminate, the readers read on, the history linearizes";
    add("Required.Events.BatchLinearizable." + policy + ".ProducerKilled",
        block ? std::vector<std::string>{"EV-1", "EV-7", "EV-9", "EV-11", "EV-15", "EV-16"}
              : std::vector<std::string>{"EV-1", "EV-8", "EV-9", "EV-11", "EV-15", "EV-16"},
        summary,
        [=](std::mt19937_64& rng) { return producer_killed(rng, spec::EventsConfig{4, 16, on_full}, 300, false); });
    add("Required.Fanout.BatchLinearizable." + policy + ".ProducerKilled",
        block ? std::vector<std::string>{"FB-1", "FB-5", "FB-9", "FB-10", "FB-12"}
              : std::vector<std::string>{"FB-1", "FB-7", "FB-9", "FB-10", "FB-12"},
        summary, [=](std::mt19937_64& rng) { return producer_killed(rng, spec::FanoutConfig{4, 16, on_full, 2}, 300, false); });
    add("Required.Journal.BatchLinearizable." + policy + ".ProducerKilled",
        block ? std::vector<std::string>{"JR-1", "JR-9", "JR-11", "JR-12"}
              : std::vector<std::string>{"JR-1", "JR-8", "JR-11", "JR-12"},
        summary, [=](std::mt19937_64& rng) { return producer_killed(rng, spec::JournalConfig{4, 16, on_full, 2, 0}, 200, false); });
    add("Required.SequencedSlots.BatchLinearizable." + policy + ".ProducerKilled",
        block ? std::vector<std::string>{"SS-1", "SS-2", "SS-7", "SS-9", "SS-11", "SS-12"}
              : std::vector<std::string>{"SS-1", "SS-2", "SS-8", "SS-9", "SS-11", "SS-12"},
        summary, [=](std::mt19937_64& rng) { return producer_killed(rng, spec::SequencedConfig{4, 16, on_full, {0, 1}}, 200, true); });
  }
  // The same under Drop with a late successor (250 ms after the death): a write killed between its
  // first step (the odd stamp, which destroys entry w - C) and its publish leaves the lane with one
  // entry fewer for a quarter of a second. The readers report that loss at once and never wait for
  // a publish (EV-8: a write takes effect in two steps), so the dead write's first step alone
  // explains what they see. (Before the two steps, readers waited up to 100 ms and then answered
  // a Lost no order explained: these three cases failed with the reference then.)
  constexpr std::uint64_t kLateSuccessorDelayUs = 250'000;
  auto late_successor = [=](std::mt19937_64& rng, decltype(LinBatchScenario::config) config, std::uint32_t entries, bool claims) {
    return producer_killed(rng, config, entries, claims, kLateSuccessorDelayUs);
  };
  const std::string late_summary = "as ProducerKilled under Drop, and the successor starts 250 ms after the death: a write killed "
                                   "after its first step destroyed the oldest entry without publishing its own (EV-8)";
  add("Required.Events.BatchLinearizable.Drop.ProducerKilledLateSuccessor", {"EV-16", "EV-8", "EV-9", "EV-11"}, late_summary,
      [=](std::mt19937_64& rng) { return late_successor(rng, spec::EventsConfig{4, 16, OnFull::Drop}, 300, false); });
  add("Required.Fanout.BatchLinearizable.Drop.ProducerKilledLateSuccessor", {"FB-1", "FB-7", "FB-9", "FB-10"}, late_summary,
      [=](std::mt19937_64& rng) { return late_successor(rng, spec::FanoutConfig{4, 16, OnFull::Drop, 2}, 300, false); });
  add("Required.Journal.BatchLinearizable.Drop.ProducerKilledLateSuccessor", {"JR-1", "JR-8", "JR-11", "JR-12"}, late_summary,
      [=](std::mt19937_64& rng) { return late_successor(rng, spec::JournalConfig{4, 16, OnFull::Drop, 2, 0}, 200, false); });
  add("Required.SequencedSlots.BatchLinearizable.Drop.ProducerKilledLateSuccessor", {"SS-1", "SS-2", "SS-8", "SS-9", "SS-11"}, late_summary,
      [=](std::mt19937_64& rng) { return late_successor(rng, spec::SequencedConfig{4, 16, OnFull::Drop, {0, 1}}, 200, true); });
  add("Required.Journal.BatchLinearizable.Block.ReaderKilled", {"JR-4", "JR-5", "JR-9", "JR-11"},
      "as Perturbed, and reader r0's process is SIGKILLed mid-run: a new process re-attaches r0 by name and resumes from its "
      "committed cursor; the op in flight is indeterminate, the death a detach",
      [=](std::mt19937_64& rng) {
        LinBatchScenario s = scenario(rng, spec::JournalConfig{4, 16, OnFull::Block, 2, 0}, true);
        s.entries = 200;
        return s;
      });
}

}  // namespace indexbus::harness

#include "indexbus/sim/ring_adapter.hpp"

#include <algorithm>

#include "indexbus/linearizability/rings.hpp"

namespace indexbus::sim::ring {
namespace {

spec::Bytes payload(const Record& r) { return events::payload_of(r.op_index, r.payload_bytes); }

spec::ReadOutcome read_outcome(const Record& r) {
  spec::ReadOutcome out{r.read.status, 0, {}, 0};
  if (r.read.status == ReadStatus::Entry) {
    out.seq = r.read.seq;
    const std::uint32_t length = std::min(r.read.payload_bytes, events::kSlotPayloadBytesMax);
    out.payload.assign(r.data.begin(), r.data.begin() + length);
  } else if (r.read.status == ReadStatus::Lost) {
    out.lost_count = r.read.lost_count;
  }
  return out;
}

// Per kind: its model (conformance/linearizability/rings.hpp), its configuration, and how a record
// maps to a model op and result.
struct FanoutKind {
  using Model = linearizability::FanoutModel;
  static spec::FanoutConfig config(const Scenario& s) {
    return {s.capacity_slots, s.slot_payload_bytes, s.on_full, s.reader_count()};
  }
  static Model::Op op(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite: return spec::FanoutTryWrite{payload(r)};
      case OpKind::Write: return spec::FanoutWrite{payload(r)};
      case OpKind::Close: return spec::FanoutClose{};
      case OpKind::TryRead: return spec::FanoutTryRead{r.reader};
      default: return spec::FanoutRead{r.reader};
    }
  }
  static Model::Result result(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite:
      case OpKind::Write: return spec::WriteOutcome{r.write_status};
      case OpKind::Close: return spec::CloseOutcome{};
      default: return read_outcome(r);
    }
  }
};

struct SequencedKind {
  using Model = linearizability::SequencedModel;
  static spec::SequencedConfig config(const Scenario& s) {
    return {s.capacity_slots, s.slot_payload_bytes, s.on_full, s.gates};
  }
  static Model::Op op(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite: return spec::SeqTryClaim{};
      case OpKind::Write: return spec::SeqClaim{};
      case OpKind::Publish: return spec::SeqPublish{payload(r)};
      case OpKind::Close: return spec::SeqClose{};
      case OpKind::TryRead: return spec::SeqTryRead{r.reader};
      default: return spec::SeqRead{r.reader};
    }
  }
  static Model::Result result(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite:
      case OpKind::Write: return spec::SeqClaimOutcome{r.write_status, r.claim_seq};
      case OpKind::Publish: return spec::SeqPublishOutcome{r.write_status};
      case OpKind::Close: return spec::SeqCloseOutcome{};
      default: return read_outcome(r);
    }
  }
};

struct JournalKind {
  using Model = linearizability::JournalModel;
  // The heartbeat a call or attach stored (Record::heartbeat_ns), if any.
  static std::optional<std::uint64_t> heartbeat(const Record& r) {
    return r.heartbeat_ns != kNoDeadline ? std::optional(r.heartbeat_ns) : std::nullopt;
  }
  // The handle a reader op came from (JournalReaderRecord::generation), with a reader timeout only:
  // without evictions a record is taken again only after its handle detached.
  static std::optional<std::uint32_t> handle(const Record& r) {
    return r.handle != 0 && r.evictions_possible ? std::optional(r.handle) : std::nullopt;
  }
  static spec::JournalConfig config(const Scenario& s) {
    return {s.capacity_slots, s.slot_payload_bytes, s.on_full, s.reader_count(), s.reader_timeout_ns};
  }
  static Model::Op op(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite: return spec::JournalTryWrite{payload(r), false, r.evictions_recorded};
      case OpKind::Write: return spec::JournalWrite{payload(r), false, r.evictions_recorded};
      case OpKind::Close: return spec::JournalClose{};
      // The record taken: attaches that race may take reusable records in either order (JR-3).
      case OpKind::Attach:
        return spec::JournalAttach{r.named ? "r" + std::to_string(r.actor - 1) : "",
                                   r.ok ? std::optional<std::uint32_t>(r.reader) : std::nullopt, heartbeat(r)};
      case OpKind::Detach: return spec::JournalDetach{r.reader, false, handle(r)};
      case OpKind::TryRead: return spec::JournalTryRead{r.reader, heartbeat(r), false, handle(r)};
      case OpKind::Commit: return spec::JournalCommit{r.reader, heartbeat(r), false, handle(r)};
      case OpKind::Heartbeat: return spec::JournalHeartbeat{r.reader, heartbeat(r), false, handle(r)};
      case OpKind::ReadAt: return spec::JournalReadAt{r.reader, r.seq, heartbeat(r), false, handle(r)};
      case OpKind::AdvanceTime: return spec::JournalAdvanceTime{r.seq};
      // A blocking read heartbeats when it begins, not when it takes effect (JR-10): the value its
      // CAS stored (checked as its first step), or, without one, the clock at its start.
      default:
        if (heartbeat(r)) return spec::JournalRead{r.reader, std::nullopt, heartbeat(r), false, handle(r)};
        return spec::JournalRead{r.reader, r.invoke_ns != kNoDeadline ? std::optional(r.invoke_ns) : std::nullopt,
                                 std::nullopt, false, handle(r)};
    }
  }
  static Model::Result result(const Record& r) {
    switch (r.kind) {
      case OpKind::TryWrite:
      case OpKind::Write: return spec::WriteOutcome{r.write_status};
      case OpKind::Close: return spec::CloseOutcome{};
      case OpKind::Attach: {
        if (r.ok) return spec::JournalAttachOutcome{spec::JournalAttachError::None, r.reader};
        const auto error = r.attach_error == ErrorCode::RoleTaken ? spec::JournalAttachError::RoleTaken
                           : r.attach_error == ErrorCode::BadReaderName ? spec::JournalAttachError::BadReaderName
                                                                         : spec::JournalAttachError::NoFreeReader;
        return spec::JournalAttachOutcome{error, 0};
      }
      case OpKind::Detach:
      case OpKind::AdvanceTime: return spec::JournalDoneOutcome{};
      case OpKind::Commit:
      case OpKind::Heartbeat: return spec::JournalCallOutcome{r.ok};
      default: return read_outcome(r);
    }
  }
};

// The recorded history as the checker's operations, writes split in their two steps where the
// model has them (linearizability/two_step.hpp): indices below history.size() are the records'.
template <typename K>
struct CheckerHistory {
  using M = typename K::Model;
  std::vector<linearizability::Operation<typename M::Op, typename M::Result>> ops;
  linearizability::TwoStepSplit split;
};

template <typename K>
CheckerHistory<K> checker_history(const Scenario& s, const std::vector<Record>& history) {
  using M = typename K::Model;
  CheckerHistory<K> out;
  out.ops.reserve(history.size() * 2);
  for (const Record& r : history) {
    std::optional<typename M::Result> result;
    if (r.done) result = K::result(r);
    out.ops.push_back({r.actor, K::op(r), std::move(result), r.invoke_time,
                       r.done ? r.response_time : linearizability::kPendingTime, r.hb});
  }
  // Journal: each eviction a write made, a step over the write's interval (JournalEvict), the k-th
  // of a write on an actor of its own (numbered after every actor of the history), as two_step.hpp
  // places first steps. They stand for no record: the first-step split below numbers after them.
  std::vector<std::size_t> eviction_of;  // per added eviction step: its write's record
  if constexpr (std::is_same_v<K, JournalKind>) {
    std::uint32_t actor_count = 0;
    for (const Record& r : history) actor_count = std::max(actor_count, r.actor + 1);
    std::vector<linearizability::Operation<typename M::Op, typename M::Result>> evictions;
    for (std::size_t i = 0; i < history.size(); ++i) {
      const Record& r = history[i];
      for (std::uint8_t k = 0; k < r.evicted_count; ++k) {
        eviction_of.push_back(i);
        evictions.push_back({actor_count + k, spec::JournalEvict{r.evicted[k]},
                             typename M::Result{spec::JournalCallOutcome{true}}, r.invoke_time,
                             r.done ? r.response_time : linearizability::kPendingTime, r.hb});
      }
      // The cursor store of a commit that answered Evicted (journal.hpp, "Commit vs eviction"): a
      // step over the commit's interval, on an actor of its own per reader.
      if (r.kind == OpKind::Commit && r.commit_stored) {
        eviction_of.push_back(i);
        evictions.push_back({actor_count + static_cast<std::uint32_t>(r.evicted.size()) + r.actor,
                             spec::JournalPublishCursor{r.reader, K::handle(r)},
                             typename M::Result{spec::JournalCallOutcome{true}}, r.invoke_time,
                             r.done ? r.response_time : linearizability::kPendingTime, r.hb});
      }
    }
    out.ops.insert(out.ops.end(), evictions.begin(), evictions.end());
  }
  if constexpr (linearizability::TwoStepWrites<M>) {
    out.split = linearizability::split_two_step_writes<M>(M::initial(K::config(s)), out.ops);
    // The eviction steps stand, like first steps, for the write that made them.
    out.split.recorded_count = history.size();
    out.split.write_of.insert(out.split.write_of.begin(), eviction_of.begin(), eviction_of.end());
  } else {
    out.split.recorded_count = history.size();
  }
  return out;
}

struct Checked {
  linearizability::CheckResult result;
  std::vector<std::size_t> recorded_order;  // result.order without first steps
};

template <typename K>
Checked check_linearizable(const Scenario& s, const std::vector<Record>& history) {
  using M = typename K::Model;
  const CheckerHistory<K> checked = checker_history<K>(s, history);
  Checked out{linearizability::check<M>(M::initial(K::config(s)), checked.ops), {}};
  out.recorded_order = checked.split.recorded_order(out.result.order);
  return out;
}

template <typename K>
std::vector<std::string> states_along(const Scenario& s, const std::vector<Record>& history,
                                      const std::vector<std::size_t>& order) {
  using M = typename K::Model;
  const CheckerHistory<K> checked = checker_history<K>(s, history);
  return adapter::states_along<M>(M::initial(K::config(s)), checked.ops, checked.split, order);
}

template <typename K>
std::string describe_result(const Record& r) {
  return spec::describe(K::result(r));
}

template <template <typename> class F, typename... Args>
auto by_kind(LaneKind kind, Args&&... args) {
  switch (kind) {
    case LaneKind::SequencedSlots: return F<SequencedKind>::run(std::forward<Args>(args)...);
    case LaneKind::Journal: return F<JournalKind>::run(std::forward<Args>(args)...);
    default: return F<FanoutKind>::run(std::forward<Args>(args)...);
  }
}
template <typename K> struct Check {
  static auto run(const Scenario& s, const std::vector<Record>& h) { return check_linearizable<K>(s, h); }
};
template <typename K> struct States {
  static auto run(const Scenario& s, const std::vector<Record>& h, const std::vector<std::size_t>& o) {
    return states_along<K>(s, h, o);
  }
};
template <typename K> struct Describe {
  static std::string run(const Record& r) { return describe_result<K>(r); }
};

const ReaderRecord& reader_at(const std::byte* block, std::uint32_t i) {
  return reinterpret_cast<const ReaderRecord*>(block + sizeof(RingLaneHeader))[i];
}

}  // namespace

std::string describe(const Scenario& scenario, const Record& r) {
  if (r.kind == OpKind::AdvanceTime) return "clock +" + std::to_string(r.seq) + " ns";
  std::string out = r.actor == 0 ? "P#" : "R" + std::to_string(r.actor - 1) + "#";
  out += std::to_string(r.op_index) + " ";
  const bool sequenced = scenario.kind == LaneKind::SequencedSlots;
  switch (r.kind) {
    case OpKind::TryWrite: out += sequenced ? "try_claim()" : "try_write(" + std::to_string(r.payload_bytes) + " B)"; break;
    case OpKind::Write: out += sequenced ? "claim()" : "write(" + std::to_string(r.payload_bytes) + " B)"; break;
    case OpKind::Publish: out += "publish(" + std::to_string(r.payload_bytes) + " B)"; break;
    case OpKind::Close: out += "close()"; break;
    case OpKind::Attach: out += r.named ? "attach(r" + std::to_string(r.actor - 1) + ")" : "attach()"; break;
    case OpKind::Detach: out += "detach()"; break;
    case OpKind::Reattach: out += "attach again()"; break;  // recorded as Attach; never reached
    case OpKind::ClaimClosePublish: out += "try_claim()"; break;  // recorded as its three parts; never reached
    case OpKind::AdvanceTime: break;  // returned above
    case OpKind::TryRead: out += "try_read()"; break;
    case OpKind::Commit: out += "commit()"; break;
    case OpKind::Heartbeat: out += "heartbeat()"; break;
    case OpKind::ReadAt: out += "read_at(" + std::to_string(r.seq) + ")"; break;
    case OpKind::Read:
    case OpKind::Drain: out += "read()"; break;
  }
  if ((r.kind == OpKind::Write || r.kind == OpKind::Read) && r.timeout_ns != kNoDeadline) {
    out += " timeout " + std::to_string(r.timeout_ns) + " ns";
  }
  if (!r.done) return out + " -> (pending)";
  return out + " -> " + by_kind<Describe>(scenario.kind, r);
}

std::vector<std::string> model_states(const Scenario& scenario, const std::vector<Record>& history,
                                      const std::vector<std::size_t>& order) {
  return by_kind<States>(scenario.kind, scenario, history, order);
}

CheckOutcome check_history(const Scenario& scenario, const std::vector<Record>& history) {
  CheckOutcome out;
  const Checked checked = by_kind<Check>(scenario.kind, scenario, history);
  const linearizability::CheckResult& result = checked.result;
  out.order = result.order;
  if (result.verdict == linearizability::Verdict::Linearizable) return out;
  // Torn entries first: clearer than "not linearizable". Successful writes (SequencedSlots:
  // publishes) take consecutive sequence numbers; a pending one takes the next if it published.
  const OpKind write_kinds[2] = {scenario.kind == LaneKind::SequencedSlots ? OpKind::Publish : OpKind::TryWrite,
                                 scenario.kind == LaneKind::SequencedSlots ? OpKind::Publish : OpKind::Write};
  std::vector<adapter::WrittenEntry> by_seq;
  for (const Record& r : history) {
    if (r.actor != 0 || (r.kind != write_kinds[0] && r.kind != write_kinds[1])) continue;
    if (!r.done || r.write_status == WriteStatus::Ok) by_seq.push_back({r.op_index, r.payload_bytes});
  }
  for (const Record& r : history) {
    if (r.actor == 0 || r.kind == OpKind::AdvanceTime || !r.done || r.read.status != ReadStatus::Entry) continue;
    if (auto torn = adapter::torn_entry(by_seq, r.read.seq, r.read.payload_bytes, r.data.data())) {
      out.kind = FailureKind::TornEntry;
      out.message = describe(scenario, r) + ": " + *torn;
      return out;
    }
  }
  if (result.verdict == linearizability::Verdict::NotLinearizable) {
    out.kind = FailureKind::NotLinearizable;
    out.message = adapter::not_linearizable_message(history.size(), checked.recorded_order,
                                                    [&](std::size_t i) { return describe(scenario, history[i]); });
  } else {
    out.kind = FailureKind::CheckGaveUp;
    out.message = result.problem;
  }
  return out;
}

std::string name_word(const std::byte* block, const Scenario& s, const void* address) {
  if (address == nullptr) return "";
  const auto offset = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(address) -
                                                 reinterpret_cast<std::uintptr_t>(block));
  switch (offset) {
    case offsetof(RingLaneHeader, write_seq): return "write_seq";
    case offsetof(RingLaneHeader, closed): return "closed";
    case offsetof(RingLaneHeader, reader_wake_epoch): return "reader_wake_epoch";
    case offsetof(RingLaneHeader, eviction_count): return "eviction_count";
    case offsetof(RingLaneHeader, producer_waiting): return "producer_waiting";
    case offsetof(RingLaneHeader, readers_waiting): return "readers_waiting";
    case offsetof(RingLaneHeader, producer_wake_epoch): return "producer_wake_epoch";
    case offsetof(RingLaneHeader, producer_pid): return "producer_pid";
    case offsetof(RingLaneHeader, attach_epoch): return "attach_epoch";
    case offsetof(RingLaneHeader, attach_lock): return "attach_lock";
    default: break;
  }
  if (offset < sizeof(RingLaneHeader)) return "header+" + std::to_string(offset);
  const std::uint64_t slots = ring_slots_offset(s.reader_count());
  if (offset < slots) {
    const std::uint64_t i = (offset - sizeof(RingLaneHeader)) / sizeof(ReaderRecord);
    const std::uint64_t within = (offset - sizeof(RingLaneHeader)) % sizeof(ReaderRecord);
    const std::string base = "reader[" + std::to_string(i) + "].";
    switch (within) {
      case offsetof(ReaderRecord, cursor_seq): return base + "cursor_seq";
      case offsetof(ReaderRecord, read_count): return base + "read_count";
      case offsetof(ReaderRecord, lost_count): return base + "lost_count";
      case offsetof(ReaderRecord, heartbeat_ns): return base + "heartbeat_ns";
      case offsetof(ReaderRecord, pid): return base + "pid";
      case offsetof(ReaderRecord, state): return base + "state";
      case offsetof(ReaderRecord, gated_on_mask): return base + "gated_on_mask";
      default: return base + (within >= offsetof(ReaderRecord, name) ? "name" : "+" + std::to_string(within));
    }
  }
  const std::string slot = adapter::slot_word_name(offset - slots, s.capacity_slots, s.slot_payload_bytes);
  return slot.empty() ? "beyond+" + std::to_string(offset) : slot;
}

void tally(const Scenario& s, const std::vector<Record>& history, std::uint64_t reader_timeout_ns,
           std::uint64_t eviction_count, reach::Counts& counts) {
  using reach::Point;
  reach::count_options(counts, s.on_full, s.parking, s.capacity_slots);
  if (s.reader_count() > 1) counts.add(Point::ReadersMany);
  if (std::any_of(s.gates.begin(), s.gates.end(), [](std::uint64_t mask) { return mask != 0; })) counts.add(Point::Gated);
  if (s.named) counts.add(Point::Named);
  if (reader_timeout_ns != 0) counts.add(Point::ReaderTimeout);
  if (eviction_count != 0) counts.add(Point::WriterEvicts);
  // Per Journal reader: its attaches so far, and whether it has resumed by name and not read since.
  std::array<std::uint32_t, kReadersMax> attaches{};
  std::array<bool, kReadersMax> resumed{};
  const bool sequenced = s.kind == LaneKind::SequencedSlots;
  for (const Record& r : history) {
    const bool deadline = r.timeout_ns != kNoDeadline;
    if (r.actor == 0 && sequenced && r.kind != OpKind::Close) {
      if (r.kind == OpKind::Publish) {
        counts.add(Point::Publish);
        if (r.done && r.write_status == WriteStatus::TooLarge) counts.add(Point::PublishTooLarge);
        if (r.done && r.write_status == WriteStatus::Closed) counts.add(Point::PublishClosed);
        continue;
      }
      counts.add(r.kind == OpKind::TryWrite ? Point::TryClaim : deadline ? Point::ClaimDeadline : Point::Claim);
      if (!r.done) continue;
      if (r.write_status == WriteStatus::Full) counts.add(Point::TryClaimFull);
      if (r.write_status == WriteStatus::Timeout) counts.add(Point::ClaimTimeout);
      if (r.write_status == WriteStatus::Closed) counts.add(Point::ClaimClosed);
      continue;
    }
    if (r.kind == OpKind::AdvanceTime) continue;
    const std::uint32_t reader = r.actor == 0 ? 0 : r.actor - 1;
    switch (r.kind) {
      case OpKind::Close: counts.add(Point::Close); break;
      case OpKind::TryWrite:
      case OpKind::Write: reach::count_write(counts, r.kind == OpKind::TryWrite, deadline, r.done, r.write_status); break;
      case OpKind::Attach:
        if (attaches[reader]++ == 0) {
          counts.add(r.named ? Point::AttachNamed : Point::AttachFresh);
        } else {
          counts.add(r.named ? Point::Resume : Point::ReattachFresh);
          resumed[reader] = r.named && r.done && r.ok;
        }
        break;
      case OpKind::Detach: counts.add(Point::Detach); break;
      case OpKind::Commit:
      case OpKind::Heartbeat: {
        const bool commit = r.kind == OpKind::Commit;
        counts.add(commit ? Point::Commit : Point::Heartbeat);
        if (r.done && !r.ok) counts.add(commit ? Point::CommitEvicted : Point::HeartbeatEvicted);
        break;
      }
      case OpKind::ReadAt:
        counts.add(Point::ReadAt);
        if (r.done && r.read.status == ReadStatus::Entry) counts.add(Point::ReadAtEntry);
        if (r.done && r.read.status == ReadStatus::Evicted) counts.add(Point::ReadAtEvicted);
        if (r.done && r.read.status == ReadStatus::NotYet) counts.add(Point::ReadAtNotYet);
        break;
      default:
        reach::count_read(counts, r.kind == OpKind::TryRead, deadline, r.done, r.read.status);
        // JR-4: a resume behind the window reports what it skipped at its first read.
        if (resumed[reader] && r.done && r.read.status == ReadStatus::Lost) counts.add(Point::ResumeLost);
        resumed[reader] = false;
        break;
    }
  }
}

bool check_ring_words(const std::byte* block, const Scenario& s, std::string& message) {
  // Plain reads: the simulator's own look, not a step of any actor.
  const auto& h = *reinterpret_cast<const RingLaneHeader*>(block);
  const bool block_policy = s.on_full == OnFull::Block;
  for (std::uint32_t i = 0; i < s.reader_count(); ++i) {
    const ReaderRecord& r = reader_at(block, i);
    const std::string who = "reader[" + std::to_string(i) + "]";
    // A Journal attach in progress tags its cursor (layout.md, "Attach ordering"): the value
    // under the tag is a write_seq loaded earlier, and the record does not gate yet.
    std::uint64_t cursor = r.cursor_seq;
    const bool attaching = s.kind == LaneKind::Journal && is_attach_tagged(cursor);
    if (attaching) cursor = tagged_value(cursor);
    if (cursor > h.write_seq) {
      message = who + ".cursor_seq " + std::to_string(r.cursor_seq) + " is ahead of write_seq " +
                std::to_string(h.write_seq);
      return false;
    }
    // Block: the producer waits for every cursor that gates it (Journal: attached readers only;
    // a Fanout or SequencedSlots cursor gates from creation), so none falls a ring behind.
    // A tagged heartbeat: evicted or detached, its state not settled yet (journal.hpp, "Eviction").
    const bool gates = s.kind != LaneKind::Journal ||
                       (r.state == kReaderAttached && !attaching && !is_heartbeat_tagged(r.heartbeat_ns));
    if (block_policy && gates && h.write_seq - cursor > s.capacity_slots) {
      message = who + " is " + std::to_string(h.write_seq - cursor) + " entries behind write_seq " +
                std::to_string(h.write_seq) + ", above capacity " + std::to_string(s.capacity_slots);
      return false;
    }
    // A Journal resume by name behind the window counts what it skipped as lost, under Block too
    // (JR-4); so does an evicted reader's record, resumed.
    if (block_policy && r.lost_count != 0 && !(s.kind == LaneKind::Journal && s.named)) {
      message = who + ".lost_count " + std::to_string(r.lost_count) + " under block";
      return false;
    }
    // Counters are stored just before the cursor: the sum may run ahead, never fall behind.
    if (s.kind != LaneKind::Journal && r.read_count + r.lost_count < r.cursor_seq) {
      message = who + " read_count " + std::to_string(r.read_count) + " + lost_count " +
                std::to_string(r.lost_count) + " is behind cursor_seq " + std::to_string(r.cursor_seq);
      return false;
    }
    // SS-4 (Block): a consumer never passes one it is gated on.
    if (s.kind == LaneKind::SequencedSlots && block_policy) {
      for (std::uint32_t j = 0; j < s.reader_count(); ++j) {
        if (((s.gates[i] >> j) & 1) != 0 && r.cursor_seq > reader_at(block, j).cursor_seq) {
          message = who + ".cursor_seq " + std::to_string(r.cursor_seq) + " passed reader[" + std::to_string(j) +
                    "], which it is gated on, at " + std::to_string(reader_at(block, j).cursor_seq);
          return false;
        }
      }
    }
  }
  // A stamp is at most that of entry write_seq complete (written, write_seq not yet moved).
  return adapter::check_slots(block + ring_slots_offset(s.reader_count()), s.capacity_slots, s.slot_payload_bytes,
                              2 * h.write_seq + 2, h.write_seq, message);
}

bool check_reader_counters(const std::byte* block, [[maybe_unused]] const Scenario& s, std::uint32_t reader,
                           std::string& message) {
  assert(reader < s.reader_count());
  const ReaderRecord& r = reader_at(block, reader);
  if (r.read_count + r.lost_count == r.cursor_seq) return true;
  message = "between reads, reader[" + std::to_string(reader) + "] read_count " + std::to_string(r.read_count) +
            " + lost_count " + std::to_string(r.lost_count) + " != cursor_seq " + std::to_string(r.cursor_seq);
  return false;
}

}  // namespace indexbus::sim::ring

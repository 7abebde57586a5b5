#include "indexbus/sim/events_adapter.hpp"

#include <algorithm>

namespace indexbus::sim::events {
spec::Op model_op(const Record& r) {
  switch (r.kind) {
    case OpKind::TryWrite: return spec::TryWrite{payload_of(r.op_index, r.payload_bytes)};
    case OpKind::Write:
      // A write with a deadline that cannot wait (Drop) is the model's blocking write all the same.
      return spec::Write{payload_of(r.op_index, r.payload_bytes)};
    case OpKind::Close: return spec::Close{};
    case OpKind::TryRead: return spec::TryRead{};
    case OpKind::Read:
    case OpKind::Drain: return spec::Read{};
  }
  return spec::TryRead{};
}

std::optional<spec::OpResult> model_result(const Record& r) {
  if (!r.done) return std::nullopt;
  switch (r.kind) {
    case OpKind::TryWrite:
    case OpKind::Write: return spec::WriteOutcome{r.write_status};
    case OpKind::Close: return spec::CloseOutcome{};
    default: break;
  }
  spec::ReadOutcome out{r.read.status, 0, {}, 0};
  if (r.read.status == ReadStatus::Entry) {
    out.seq = r.read.seq;
    const std::uint32_t length = std::min(r.read.payload_bytes, kSlotPayloadBytesMax);
    out.payload.assign(r.data.begin(), r.data.begin() + length);
  } else if (r.read.status == ReadStatus::Lost) {
    out.lost_count = r.read.lost_count;
  }
  return out;
}

std::string describe(const Record& r) {
  std::string out = std::string(r.actor == 0 ? "P" : "C") + "#" + std::to_string(r.op_index) + " ";
  switch (r.kind) {
    case OpKind::TryWrite: out += "try_write(" + std::to_string(r.payload_bytes) + " B)"; break;
    case OpKind::Write: out += "write(" + std::to_string(r.payload_bytes) + " B)"; break;
    case OpKind::Close: out += "close()"; break;
    case OpKind::TryRead: out += "try_read()"; break;
    case OpKind::Read:
    case OpKind::Drain: out += "read()"; break;
  }
  if ((r.kind == OpKind::Write || r.kind == OpKind::Read) && r.timeout_ns != kNoDeadline) {
    out += " timeout " + std::to_string(r.timeout_ns) + " ns";
  }
  if (!r.done) return out + " -> (pending)";
  const auto result = model_result(r);
  return out + " -> " + spec::describe(*result);
}

namespace {

// The recorded history as the checker's operations, Drop writes split in their two steps
// (linearizability/two_step.hpp): indices below history.size() are the records'.
struct CheckerHistory {
  linearizability::EventsHistory ops;
  linearizability::TwoStepSplit split;
};

CheckerHistory checker_history(const Scenario& scenario, const std::vector<Record>& history) {
  CheckerHistory out;
  out.ops.reserve(history.size() * 2);
  for (const Record& r : history) {
    out.ops.push_back(linearizability::EventsOperation{r.actor, model_op(r), model_result(r), r.invoke_time,
                                                       r.response_time, r.hb});
  }
  out.split = linearizability::split_two_step_writes<linearizability::EventsModel>(
      spec::initial_state(scenario.config), out.ops);
  return out;
}

}  // namespace

std::vector<std::string> model_states(const Scenario& scenario, const std::vector<Record>& history,
                                      const std::vector<std::size_t>& order) {
  const CheckerHistory checked = checker_history(scenario, history);
  return adapter::states_along<linearizability::EventsModel>(spec::initial_state(scenario.config), checked.ops,
                                                             checked.split, order);
}

CheckOutcome check_history(const Scenario& scenario, const std::vector<Record>& history) {
  CheckOutcome out;
  // The linearizability search runs in every case: its order (or longest legal prefix) annotates
  // the report's model-state column even when a torn entry is the clearer message.
  const CheckerHistory checked = checker_history(scenario, history);
  const auto result = linearizability::check_events(scenario.config, checked.ops);
  out.order = result.order;
  if (result.verdict == linearizability::Verdict::Linearizable) return out;

  // Torn or corrupt entries first: clearer than "not linearizable". Successful writes take
  // consecutive sequence numbers; a pending write takes the next one if it published.
  std::vector<adapter::WrittenEntry> by_seq;
  for (const Record& r : history) {
    if (r.actor != 0 || (r.kind != OpKind::TryWrite && r.kind != OpKind::Write)) continue;
    if (!r.done || r.write_status == WriteStatus::Ok) by_seq.push_back({r.op_index, r.payload_bytes});
  }
  for (const Record& r : history) {
    if (r.actor != 1 || !r.done || r.read.status != ReadStatus::Entry) continue;
    if (auto torn = adapter::torn_entry(by_seq, r.read.seq, r.read.payload_bytes, r.data.data())) {
      out.kind = FailureKind::TornEntry;
      out.message = std::move(*torn);
      return out;
    }
  }
  if (result.verdict == linearizability::Verdict::NotLinearizable) {
    out.kind = FailureKind::NotLinearizable;
    out.message = adapter::not_linearizable_message(history.size(), checked.split.recorded_order(result.order),
                                                    [&](std::size_t i) { return describe(history[i]); });
  } else {
    out.kind = FailureKind::CheckGaveUp;
    out.message = result.problem;
  }
  return out;
}

std::string name_word(const std::byte* block, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                      const void* address) {
  if (address == nullptr) return "";
  const auto offset = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(address) -
                                                 reinterpret_cast<std::uintptr_t>(block));
  switch (offset) {
    case offsetof(EventsLaneHeader, write_seq): return "write_seq";
    case offsetof(EventsLaneHeader, closed): return "closed";
    case offsetof(EventsLaneHeader, consumer_wake_epoch): return "consumer_wake_epoch";
    case offsetof(EventsLaneHeader, read_seq): return "read_seq";
    case offsetof(EventsLaneHeader, read_count): return "read_count";
    case offsetof(EventsLaneHeader, lost_count): return "lost_count";
    case offsetof(EventsLaneHeader, producer_wake_epoch): return "producer_wake_epoch";
    case offsetof(EventsLaneHeader, producer_waiting): return "producer_waiting";
    case offsetof(EventsLaneHeader, consumer_waiting): return "consumer_waiting";
    case offsetof(EventsLaneHeader, producer_pid): return "producer_pid";
    case offsetof(EventsLaneHeader, consumer_pid): return "consumer_pid";
    default: break;
  }
  if (offset < sizeof(EventsLaneHeader)) return "header+" + std::to_string(offset);
  const std::string slot = adapter::slot_word_name(offset - sizeof(EventsLaneHeader), capacity_slots,
                                                  slot_payload_bytes);
  return slot.empty() ? "beyond+" + std::to_string(offset) : slot;
}

std::optional<std::string> counters_between_reads(const EventsLaneHeader& h) {
  if (h.read_count + h.lost_count == h.read_seq) return std::nullopt;
  return "between reads, read_count " + std::to_string(h.read_count) + " + lost_count " +
         std::to_string(h.lost_count) + " != read_seq " + std::to_string(h.read_seq);
}

bool check_lane_words(const std::byte* block, const spec::EventsConfig& c, std::string& message) {
  // Plain reads: the simulator's own look, not a step of any actor.
  const auto& h = *reinterpret_cast<const EventsLaneHeader*>(block);
  if (h.read_seq > h.write_seq) {
    message = "read_seq " + std::to_string(h.read_seq) + " is ahead of write_seq " + std::to_string(h.write_seq);
    return false;
  }
  if (c.on_full == OnFull::Block && h.write_seq - h.read_seq > c.capacity_slots) {
    message = "occupancy " + std::to_string(h.write_seq - h.read_seq) + " is above capacity " +
              std::to_string(c.capacity_slots);
    return false;
  }
  // The consumer stores read_count or lost_count just before read_seq, so between those two
  // stores the sum runs ahead; it may never fall behind.
  if (h.read_count + h.lost_count < h.read_seq) {
    message = "read_count " + std::to_string(h.read_count) + " + lost_count " + std::to_string(h.lost_count) +
              " is behind read_seq " + std::to_string(h.read_seq);
    return false;
  }
  if (c.on_full == OnFull::Block && h.lost_count != 0) {
    message = "lost_count " + std::to_string(h.lost_count) + " under block";
    return false;
  }
  // A stamp never runs ahead of write_seq (Block stores write_seq first; Drop may hold the
  // entry write_seq in progress or complete just before write_seq moves).
  const std::uint64_t stamp_max = c.on_full == OnFull::Block ? 2 * h.write_seq : 2 * h.write_seq + 2;
  return adapter::check_slots(block + sizeof(EventsLaneHeader), c.capacity_slots, c.slot_payload_bytes, stamp_max,
                              h.write_seq, message);
}

void tally(const Scenario& scenario, const std::vector<Record>& history, reach::Counts& counts) {
  reach::count_options(counts, scenario.config.on_full, scenario.parking, scenario.config.capacity_slots);
  for (const Record& r : history) {
    const bool deadline = r.timeout_ns != kNoDeadline;
    switch (r.kind) {
      case OpKind::Close: counts.add(reach::Point::Close); break;
      case OpKind::TryWrite:
      case OpKind::Write: reach::count_write(counts, r.kind == OpKind::TryWrite, deadline, r.done, r.write_status); break;
      default: reach::count_read(counts, r.kind == OpKind::TryRead, deadline, r.done, r.read.status); break;
    }
  }
}

}  // namespace indexbus::sim::events

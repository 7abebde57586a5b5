#include "indexbus/sim/loop_adapter.hpp"

#include <algorithm>

namespace indexbus::sim::loops {
namespace {

// A write of the scenario: producer `input`'s op `op_index`.
struct WriteId {
  std::uint32_t input = 0;
  std::uint32_t op_index = 0;
  friend bool operator==(const WriteId&, const WriteId&) = default;
};

std::string name_of(const WriteId& w) { return "P" + std::to_string(w.input) + "#" + std::to_string(w.op_index); }

std::string list(const std::vector<WriteId>& ids) {
  std::string out = "[";
  for (std::size_t k = 0; k < ids.size(); ++k) out += (k == 0 ? "" : " ") + name_of(ids[k]);
  return out + "]";
}

bool is_subsequence(const std::vector<WriteId>& part, const std::vector<WriteId>& whole) {
  std::size_t k = 0;
  for (const WriteId& w : whole) {
    if (k < part.size() && part[k] == w) ++k;
  }
  return k == part.size();
}

std::uint64_t key_of(const Scenario& s, const WriteId& w) { return s.producers[w.input][w.op_index].key; }

spec::Bytes bytes_of(const Scenario& s, const WriteId& w) {
  const auto entry = entry_of(w.input, w.op_index, key_of(s, w));
  return spec::Bytes(entry.begin(), entry.end());
}

// What the run observed, decoded from the history.
struct Observed {
  std::vector<std::vector<WriteId>> written;    // per input: the writes that returned Ok, in order
  std::vector<std::vector<std::uint64_t>> published_at_emit;  // per written entry (MG-6)
  std::vector<std::vector<WriteId>> delivered;  // per output: the entries read, in order
  std::vector<std::uint64_t> lost;              // per output: Lost counts read
};

// The emit count from which MG-6 bounds write w's wait. Under sc, the emits made when the write
// returned (never fewer than at its publication, so never stricter than the rule). Under the weak
// model a published entry may stay invisible to a loop that does not synchronize with its
// producer: C++ only promises that a store becomes visible in finite time, and the model makes it
// visible at the loop's next pause or wait (visibility progress, weak_memory.hpp). A busy merge
// may therefore emit from other inputs for any number of steps before it sees w, and the bound
// starts at the first loop step whose flush covers the write (or never, within the run).
std::uint64_t ready_at_emit(const std::vector<Record>& history, const Record& w) {
  std::uint64_t last_emitted = 0;
  for (const Record& step : history) {
    if (step.kind != RecordKind::Step) continue;
    if (!step.weak) return w.emitted_at_response;
    last_emitted = std::max(last_emitted, step.emitted_before);
    if (step.flush_step >= w.response_step) return std::max(w.emitted_at_response, step.emitted_before);
  }
  // No step of the loop saw the write for sure: no bound within the run (one past every emit).
  return std::max(w.emitted_at_response, last_emitted) + kLoopStepsMax;
}

// Decodes every delivered entry into the write it names; a torn-entry message if one is not whole.
std::optional<std::string> observe(const Scenario& s, const std::vector<Record>& history, Observed& o) {
  o.written.assign(s.input_count(), {});
  o.published_at_emit.assign(s.input_count(), {});
  o.delivered.assign(s.output_count(), {});
  o.lost.assign(s.output_count(), 0);
  for (const Record& r : history) {
    if ((r.kind == RecordKind::Write || r.kind == RecordKind::TryWrite) && r.done && r.write_status == WriteStatus::Ok) {
      o.written[r.lane].push_back(WriteId{r.lane, r.op_index});
      o.published_at_emit[r.lane].push_back(ready_at_emit(history, r));
    }
  }
  for (const Record& r : history) {
    if (r.kind != RecordKind::Read || !r.done) continue;
    if (r.read.status == ReadStatus::Lost) o.lost[r.lane] += r.read.lost_count;
    if (r.read.status != ReadStatus::Entry) continue;
    const std::string where = "output " + std::to_string(r.lane) + " read seq " + std::to_string(r.read.seq);
    if (r.read.payload_bytes != kLoopSlotBytes) {
      return where + ": " + std::to_string(r.read.payload_bytes) + " bytes, every write has " +
             std::to_string(kLoopSlotBytes);
    }
    std::uint64_t tag = 0;
    for (std::uint32_t b = 0; b < 8; ++b) tag |= std::uint64_t{std::to_integer<std::uint8_t>(r.data[8 + b])} << (8 * b);
    const WriteId w{static_cast<std::uint32_t>(tag >> 32), static_cast<std::uint32_t>(tag)};
    const bool was_written = w.input < o.written.size() &&
                             std::find(o.written[w.input].begin(), o.written[w.input].end(), w) != o.written[w.input].end();
    if (!was_written || entry_of(w.input, w.op_index, key_of(s, w)) != r.data) {
      return where + ": its bytes are not those of any successful write (tag " + std::to_string(tag) + ")";
    }
    o.delivered[r.lane].push_back(w);
  }
  return std::nullopt;
}

CheckOutcome wrong(std::string message) { return CheckOutcome{FailureKind::WrongOutput, std::move(message), {}}; }

// Output o against the model's prediction `want` for it: exact under Block; under Drop a
// subsequence, with every missing entry reported Lost.
std::optional<std::string> compare(const Scenario& s, std::uint32_t o, const std::vector<WriteId>& got,
                                   std::uint64_t lost, const std::vector<WriteId>& want, const char* model) {
  const std::string head = "output " + std::to_string(o) + " delivered " + list(got);
  if (s.outputs[o].on_full == OnFull::Block) {
    if (got != want) return head + ", " + model + " gives " + list(want);
  } else if (!is_subsequence(got, want) || got.size() + lost != want.size()) {
    return head + " and Lost " + std::to_string(lost) + ", not " + model + "'s " + list(want) + " less what was lost";
  }
  return std::nullopt;
}

CheckOutcome check_router(const Scenario& s, const Observed& o, const LoopCounters& c) {
  const std::vector<WriteId>& written = o.written[0];
  if (c.moved_count + c.input_lost_count != written.size()) {
    return wrong("RT-9: routed_count " + std::to_string(c.moved_count) + " + input_lost_count " +
                 std::to_string(c.input_lost_count) + " != " + std::to_string(written.size()) + " entries written");
  }
  if (c.short_key_count != 0) return wrong("RT-4: short_key_count " + std::to_string(c.short_key_count) + " of whole keys");
  const bool outputs_block = std::all_of(s.outputs.begin(), s.outputs.end(),
                                         [](const LaneSpec& l) { return l.on_full == OnFull::Block; });
  // The entries the router read: all of them from a Block input; from a Drop input, as the Block
  // outputs show them (every entry read reaches one of them).
  std::optional<std::vector<WriteId>> read;
  if (s.inputs[0].on_full == OnFull::Block) {
    read = written;
  } else if (outputs_block) {
    std::vector<WriteId> seen;
    for (const auto& d : o.delivered) seen.insert(seen.end(), d.begin(), d.end());
    std::sort(seen.begin(), seen.end(), [](const WriteId& a, const WriteId& b) { return a.op_index < b.op_index; });
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    if (!is_subsequence(seen, written)) return wrong("outputs delivered " + list(seen) + ", not entries of " + list(written));
    read = std::move(seen);
  }
  const std::uint32_t n = s.output_count();
  const spec::RouterModelConfig config{s.router_policy(), n, 0};
  if (read) {
    if (c.moved_count != read->size()) {
      return wrong("routed_count " + std::to_string(c.moved_count) + ", the outputs show " +
                   std::to_string(read->size()) + " entries read");
    }
    std::vector<spec::Bytes> entries;
    for (const WriteId& w : *read) entries.push_back(bytes_of(s, w));
    const auto routes = spec::route(config, entries);
    for (std::uint32_t out = 0; out < n; ++out) {
      std::vector<WriteId> want;
      for (std::uint64_t index : routes[out]) want.push_back((*read)[index]);
      if (auto problem = compare(s, out, o.delivered[out], o.lost[out], want, "spec::route")) return wrong(*problem);
    }
    return {};
  }
  // Drop in and out: which entries the router read is not observable. Each output keeps input
  // order, holds only entries routed to it (KeyHash), and accounts for its share of the reads.
  for (std::uint32_t out = 0; out < n; ++out) {
    const auto& got = o.delivered[out];
    if (!is_subsequence(got, written)) return wrong("output " + std::to_string(out) + " delivered " + list(got) + " out of input order");
    std::uint64_t share = c.moved_count;
    if (s.router_policy() == spec::RouterPolicy::RoundRobin) share = c.moved_count / n + (out < c.moved_count % n ? 1 : 0);
    for (const WriteId& w : got) {
      const auto targets = spec::route_targets(config, bytes_of(s, w), 0);
      if (s.router_policy() == spec::RouterPolicy::KeyHash && targets[0] != out) {
        return wrong("RT-3: output " + std::to_string(out) + " delivered " + name_of(w) + " (key " +
                     std::to_string(key_of(s, w)) + "), which goes to output " + std::to_string(targets[0]));
      }
    }
    if (s.router_policy() != spec::RouterPolicy::KeyHash && got.size() + o.lost[out] != share) {
      return wrong("output " + std::to_string(out) + " delivered " + std::to_string(got.size()) + " and Lost " +
                   std::to_string(o.lost[out]) + ", its share of " + std::to_string(c.moved_count) + " routed is " +
                   std::to_string(share));
    }
  }
  return {};
}

CheckOutcome check_merge(const Scenario& s, const Observed& o, const LoopCounters& c) {
  std::size_t written_count = 0;
  for (const auto& w : o.written) written_count += w.size();
  if (c.moved_count + c.input_lost_count != written_count) {
    return wrong("MG-8: emitted_count " + std::to_string(c.moved_count) + " + input_lost_count " +
                 std::to_string(c.input_lost_count) + " != " + std::to_string(written_count) + " entries written");
  }
  const auto& got = o.delivered[0];
  const std::uint64_t lost = o.lost[0];
  if (got.size() + lost != c.moved_count) {
    return wrong("output delivered " + std::to_string(got.size()) + " and Lost " + std::to_string(lost) + " of " +
                 std::to_string(c.moved_count) + " emitted");
  }
  const bool output_block = s.outputs[0].on_full == OnFull::Block;
  // Per input, the entries the merge read: all of them from a Block input; from a Drop input, as
  // a Block output shows them.
  std::vector<std::vector<WriteId>> read(s.input_count());
  std::vector<std::vector<std::uint64_t>> published(s.input_count());
  bool known = true;
  for (std::uint32_t i = 0; i < s.input_count(); ++i) {
    std::vector<WriteId> from_i;
    for (const WriteId& w : got) {
      if (w.input == i) from_i.push_back(w);
    }
    if (!is_subsequence(from_i, o.written[i])) {
      return wrong("MG-6: output entries of input " + std::to_string(i) + " " + list(from_i) + " out of input order " +
                   list(o.written[i]));
    }
    if (s.inputs[i].on_full == OnFull::Block) {
      read[i] = o.written[i];
    } else if (output_block) {
      read[i] = std::move(from_i);
    } else {
      known = false;
    }
    for (const WriteId& w : read[i]) {
      const auto position = std::find(o.written[i].begin(), o.written[i].end(), w) - o.written[i].begin();
      // MG-6 counts from when an entry is published *and next in its input*. Behind entries a Drop
      // overwrote, it is next only once the merge has read their Lost (MG-8: a step without a
      // head), which the run does not observe: no bound for Drop inputs (got.size() never bites).
      published[i].push_back(s.inputs[i].on_full == OnFull::Drop
                                 ? got.size()
                                 : o.published_at_emit[i][static_cast<std::size_t>(position)]);
    }
  }
  if (!known) return {};  // Drop in and out: input order (above) and the counts are all that is observable
  std::vector<std::vector<spec::Bytes>> inputs(s.input_count());
  for (std::uint32_t i = 0; i < s.input_count(); ++i) {
    for (const WriteId& w : read[i]) inputs[i].push_back(bytes_of(s, w));
  }
  if (s.merge_policy() == spec::MergePolicy::Arrival) {
    if (!output_block) return {};  // losses on the output hide the emit order MG-6 bounds
    std::vector<spec::Bytes> output;
    std::vector<std::uint32_t> sources;
    for (const WriteId& w : got) {
      output.push_back(bytes_of(s, w));
      sources.push_back(w.input);
    }
    if (auto violation = spec::check_arrival(inputs, output, sources, published, true)) {
      return wrong("spec::check_arrival (MG-6): " + *violation + "; output " + list(got));
    }
    return {};
  }
  const auto order = spec::merge_order(spec::MergeModelConfig{s.merge_policy(), s.input_count(), 0}, inputs);
  std::vector<WriteId> want;
  for (const spec::MergeSource& source : order) want.push_back(read[source.input][source.index]);
  if (auto problem = compare(s, 0, got, lost, want, "spec::merge_order")) return wrong(*problem);
  return {};
}

}  // namespace

std::string actor_name(const Scenario& s, std::uint32_t actor) {
  if (actor < s.input_count()) return "producer" + std::to_string(actor);
  if (actor == s.input_count()) return to_string(s.kind);
  return "consumer" + std::to_string(actor - s.input_count() - 1);
}

std::string describe(const Scenario& s, const Record& r) {
  std::string out;
  switch (r.kind) {
    case RecordKind::TryWrite:
    case RecordKind::Write:
      out = "P" + std::to_string(r.lane) + "#" + std::to_string(r.op_index) +
            (r.kind == RecordKind::Write ? " write(key " : " try_write(key ") + std::to_string(r.key) + ")";
      return r.done ? out + " -> " + std::string(to_string(r.write_status)) : out + " -> (pending)";
    case RecordKind::Close: return "P" + std::to_string(r.lane) + "#" + std::to_string(r.op_index) + " close()";
    case RecordKind::Step:
      out = std::string(to_string(s.kind)) + " step " + std::to_string(r.op_index);
      if (!r.done) return out + " -> (pending)";
      return out + (r.step_status == LoopStatus::Progress ? " -> Progress"
                    : r.step_status == LoopStatus::Idle   ? " -> Idle"
                                                          : " -> Closed");
    case RecordKind::Read: break;
  }
  out = "C" + std::to_string(r.lane) + " read()";
  if (!r.done) return out + " -> (pending)";
  switch (r.read.status) {
    case ReadStatus::Entry: {
      std::uint64_t tag = 0;
      for (std::uint32_t b = 0; b < 8; ++b) tag |= std::uint64_t{std::to_integer<std::uint8_t>(r.data[8 + b])} << (8 * b);
      return out + " -> Entry{seq " + std::to_string(r.read.seq) + ", " +
             name_of(WriteId{static_cast<std::uint32_t>(tag >> 32), static_cast<std::uint32_t>(tag)}) + "}";
    }
    case ReadStatus::Lost: return out + " -> Lost{" + std::to_string(r.read.lost_count) + "}";
    default: return out + " -> " + std::string(to_string(r.read.status));
  }
}

std::size_t lane_offset_bytes(const Scenario& s, std::uint32_t lane) {
  std::size_t offset = 0;
  for (std::uint32_t l = 0; l < lane; ++l) {
    const LaneSpec& spec = l < s.input_count() ? s.inputs[l] : s.outputs[l - s.input_count()];
    const std::size_t bytes = lane_block_bytes(LaneKind::Events, spec.capacity_slots, kLoopSlotBytes, 1);
    offset += (bytes + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
  }
  return offset;
}

std::string name_word(const Scenario& s, const std::byte* region, const void* address) {
  if (address == nullptr) return "";
  const auto* at = static_cast<const std::byte*>(address);
  const std::uint32_t lanes = s.input_count() + s.output_count();
  for (std::uint32_t l = 0; l < lanes; ++l) {
    const std::byte* block = region + lane_offset_bytes(s, l);
    if (at < block || at >= region + lane_offset_bytes(s, l + 1)) continue;
    const bool input = l < s.input_count();
    const LaneSpec& spec = input ? s.inputs[l] : s.outputs[l - s.input_count()];
    return (input ? "in" + std::to_string(l) : "out" + std::to_string(l - s.input_count())) + "." +
           events::name_word(block, spec.capacity_slots, kLoopSlotBytes, address);
  }
  return "";
}

bool check_lanes(const Scenario& s, const std::byte* region, std::string& message) {
  const std::uint32_t lanes = s.input_count() + s.output_count();
  for (std::uint32_t l = 0; l < lanes; ++l) {
    const bool input = l < s.input_count();
    const LaneSpec& spec = input ? s.inputs[l] : s.outputs[l - s.input_count()];
    if (!events::check_lane_words(region + lane_offset_bytes(s, l),
                                  spec::EventsConfig{spec.capacity_slots, kLoopSlotBytes, spec.on_full}, message)) {
      message = (input ? "input " + std::to_string(l) : "output " + std::to_string(l - s.input_count())) + ": " + message;
      return false;
    }
  }
  return true;
}

CheckOutcome check_outputs(const Scenario& s, const std::vector<Record>& history, const LoopCounters& counters) {
  Observed observed;
  if (auto torn = observe(s, history, observed)) return CheckOutcome{FailureKind::TornEntry, std::move(*torn), {}};
  if (!counters.constructed) return wrong("the loop never ran");
  return s.kind == LoopKind::Router ? check_router(s, observed, counters) : check_merge(s, observed, counters);
}

void tally(const Scenario& s, const std::vector<Record>& history, const LoopCounters& counters,
           reach::Counts& counts) {
  using reach::Point;
  static constexpr Point kRouterPolicies[] = {Point::RoundRobin, Point::KeyHash, Point::Broadcast};
  static constexpr Point kMergePolicies[] = {Point::RoundRobin, Point::Sequence, Point::Arrival};
  // Policies count from 1 (loop_scenario.hpp; spec::RouterPolicy, spec::MergePolicy).
  if (s.policy >= 1 && s.policy <= 3) {
    counts.add((s.kind == LoopKind::Router ? kRouterPolicies : kMergePolicies)[s.policy - 1]);
  }
  counts.add(s.parking ? Point::Park : Point::Poll);
  for (const LaneSpec& lane : s.inputs) counts.add(lane.on_full == OnFull::Block ? Point::InputBlock : Point::InputDrop);
  for (const LaneSpec& lane : s.outputs) counts.add(lane.on_full == OnFull::Block ? Point::OutputBlock : Point::OutputDrop);
  if ((s.kind == LoopKind::Router ? s.output_count() : s.input_count()) > 1) counts.add(Point::LanesMany);
  if (counters.input_lost_count != 0) counts.add(Point::InputLost);
  for (const Record& r : history) {
    switch (r.kind) {
      case RecordKind::Close: counts.add(Point::Close); break;
      case RecordKind::TryWrite:
      case RecordKind::Write:
        reach::count_write(counts, r.kind == RecordKind::TryWrite, false, r.done, r.write_status);
        break;
      case RecordKind::Step:
        counts.add(Point::Step);
        if (!r.done) break;
        counts.add(r.step_status == LoopStatus::Progress ? Point::StepProgress
                   : r.step_status == LoopStatus::Idle   ? Point::StepIdle
                                                         : Point::StepClosed);
        break;
      case RecordKind::Read: reach::count_read(counts, false, false, r.done, r.read.status); break;
    }
  }
}

}  // namespace indexbus::sim::loops

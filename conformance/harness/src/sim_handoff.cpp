#include "indexbus/harness/sim_handoff.hpp"

#include <algorithm>
#include <cassert>

namespace indexbus::harness {
namespace {

std::string policy(OnFull on_full) { return on_full == OnFull::Block ? "block" : "drop"; }

// Producer: the first writes of the script (enough to wrap the ring: capacity + 2, at most
// kSimWritesMax), then close. Block writes lose their deadline (see the
// header); SequencedSlots `W`/`w` are claim / try_claim followed by publish, as in the batch script.
std::string producer_ops(const LinBatchScenario& s, OnFull on_full, std::uint32_t capacity_slots, std::uint32_t slot_bytes) {
  std::string out;
  const std::uint32_t writes = std::min({s.entries, capacity_slots + 2, kSimWritesMax});
  for (std::uint32_t n = 0; n < writes; ++n) out += (on_full == OnFull::Block ? "W" : "w") + std::to_string(slot_bytes) + ",";
  return out + "C";
}

// A consumer: the first timed reads (Journal: each followed by a commit), then a drain.
std::string reader_ops(const LinBatchScenario& s, bool journal) {
  std::string out;
  const std::uint32_t reads = std::min(s.entries, kSimReadsMax);
  for (std::uint32_t n = 0; n < reads; ++n) out += "R@" + std::to_string(s.read_timeout_ns) + (journal ? ",c," : ",");
  return out + "D";
}

std::string ring_head(const char* kind, OnFull on_full, std::uint32_t capacity_slots, std::uint32_t slot_bytes) {
  return std::string(kind) + "," + policy(on_full) + ",cap=" + std::to_string(capacity_slots) + ",slot=" + std::to_string(slot_bytes) +
         ",park";
}

std::string ring_readers(const LinBatchScenario& s, std::uint32_t readers, bool journal) {
  std::string out;
  for (std::uint32_t r = 0; r < readers; ++r) out += ";r" + std::to_string(r) + ":" + reader_ops(s, journal);
  return out;
}

}  // namespace

std::optional<SimHandoff> sim_handoff_of(const LinBatchScenario& s) {
  SimHandoff out;
  std::uint32_t readers = 1;
  if (const auto* c = std::get_if<spec::EventsConfig>(&s.config)) {
    out.lane = "events";
    out.scenario = policy(c->on_full) + ",cap=" + std::to_string(c->capacity_slots) + ",slot=" + std::to_string(c->slot_payload_bytes) +
                   ",park;p:" + producer_ops(s, c->on_full, c->capacity_slots, c->slot_payload_bytes) + ";c:" + reader_ops(s, false);
  } else if (const auto* f = std::get_if<spec::FanoutConfig>(&s.config)) {
    readers = f->consumer_count;
    out.lane = "fanout_broadcast";
    out.scenario = ring_head("fanout_broadcast", f->on_full, f->capacity_slots, f->slot_payload_bytes) + ";p:" +
                   producer_ops(s, f->on_full, f->capacity_slots, f->slot_payload_bytes) + ring_readers(s, readers, false);
  } else if (const auto* j = std::get_if<spec::JournalConfig>(&s.config)) {
    readers = j->reader_count;
    out.lane = "journal";
    out.scenario = ring_head("journal", j->on_full, j->capacity_slots, j->slot_payload_bytes) + ";p:" +
                   producer_ops(s, j->on_full, j->capacity_slots, j->slot_payload_bytes) + ring_readers(s, readers, true);
  } else {
    const auto& q = std::get<spec::SequencedConfig>(s.config);
    readers = q.consumer_count();
    out.lane = "sequenced_slots";
    std::string gates;
    for (std::uint32_t i = 0; i < readers; ++i) gates += (i == 0 ? ",gates=" : ".") + std::to_string(q.gated_on[i]);
    out.scenario = ring_head("sequenced_slots", q.on_full, q.capacity_slots, q.slot_payload_bytes) + gates + ";p:" +
                   producer_ops(s, q.on_full, q.capacity_slots, q.slot_payload_bytes) + ring_readers(s, readers, false);
  }
  assert(readers >= 1);
  if (readers > 3) return std::nullopt;  // the simulator's ring scenarios have at most 3 readers
  if (s.entries > kSimReadsMax) out.omitted = "all but the first few writes and reads";
  if (!s.pauses.empty()) out.omitted += std::string(out.omitted.empty() ? "" : "; ") + "the pauses (any schedule may stop any actor)";
  if (s.kill_consumer_after_us) out.omitted += std::string(out.omitted.empty() ? "" : "; ") + "the SIGKILL of consumer 0 and its successor";
  if (s.kill_producer_at_access != 0) {
    out.omitted += std::string(out.omitted.empty() ? "" : "; ") + "the SIGKILL of the producer mid-operation and its successor";
  }
  assert(!out.lane.empty());
  return out;
}

}  // namespace indexbus::harness

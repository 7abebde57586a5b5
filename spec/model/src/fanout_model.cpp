#include "indexbus/spec/fanout_model.hpp"
#include "indexbus/spec/ring_window.hpp"
#include "model_support.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <ostream>
#include <sstream>

namespace indexbus::spec {
namespace {

using model_support::describe_payload;
using model_support::hash_bytes;
using model_support::hash_combine;
using model_support::hash_retained;

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// The lowest sequence a Drop ring still holds: older entries have been overwritten, and so has
// written - C once the next write has begun (FB-7, FB-8).
std::uint64_t oldest_in_ring(const FanoutState& s) noexcept {
  if (s.config.on_full == OnFull::Block) return 0;
  return ring_window::oldest_held(s.written, s.write_begun, s.config.capacity_slots);
}

std::uint64_t first_retained(const FanoutState& s) noexcept {
  return std::max(min_next_seq(s), oldest_in_ring(s));
}

// Forgets entries that no consumer can read any more (read by all, or overwritten): canonical form.
void trim(FanoutState& s) {
  const std::uint64_t first = first_retained(s);
  while (!s.retained.empty() && s.retained.front().seq < first) s.retained.pop_front();
}

// A write's first step (events_model.cpp, begin_write): the checks, and under Drop the loss of
// the entry its slot held.
WriteStatus begin_write(FanoutState& s, std::uint32_t payload_bytes) {
  if (s.closed) return WriteStatus::Closed;                                       // FB-9
  if (payload_bytes > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // FB-2
  if (s.write_begun) return WriteStatus::Ok;
  if (is_full(s)) return WriteStatus::Full;                                       // FB-4
  s.write_begun = true;
  trim(s);  // Drop: entry written - C is gone now (FB-8)
  return WriteStatus::Ok;
}

WriteStatus write_into(FanoutState& s, const Bytes& payload, bool blocking, bool second_step) {
  if (second_step && !s.write_begun) {
    // A second step without its first (the checker trying the write before its BeginWrite): refused,
    // changing nothing. Full is no answer an accepted or pending write was recorded with.
    return WriteStatus::Full;
  }
  if (second_step) {
    // The second step of a split write: its checks were made by its first, its entry appears.
    assert(payload.size() <= s.config.slot_payload_bytes);
    s.write_begun = false;
    s.retained.push_back(RetainedEntry{s.written, payload});  // FB-3
    ++s.written;
    trim(s);
    return WriteStatus::Ok;
  }
  if (s.closed) return WriteStatus::Closed;                                        // FB-9
  if (payload.size() > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // FB-2
  if (is_full(s)) return blocking ? WriteStatus::Timeout : WriteStatus::Full;      // FB-4
  // A write begun by a producer that died before publishing: this one writes the same slot again.
  s.write_begun = false;
  s.retained.push_back(RetainedEntry{s.written, payload});                        // FB-3
  ++s.written;
  trim(s);  // Drop: the oldest entry may have been overwritten (FB-8)
  return WriteStatus::Ok;
}

ReadOutcome read_from(FanoutState& s, std::uint32_t index, bool blocking) {
  assert(index < s.consumers.size());
  FanoutConsumerState& c = s.consumers[index];
  if (would_report_lost(s, index)) {
    // FB-7: the exact count; the cursor jumps to the oldest entry a published write left,
    // written - C, or past the one entry a begun write is destroying.
    const std::uint64_t lost = ring_window::lost_jump(c.next_seq, s.written, s.config.capacity_slots);
    c.next_seq += lost;
    c.lost_count += lost;
    trim(s);
    return ReadOutcome{ReadStatus::Lost, 0, {}, lost};
  }
  if (c.next_seq == s.written) {  // FB-9, FB-10
    if (s.closed) return ReadOutcome{ReadStatus::Closed, 0, {}, 0};
    return ReadOutcome{blocking ? ReadStatus::Timeout : ReadStatus::Empty, 0, {}, 0};
  }
  assert(!s.retained.empty());
  assert(s.retained.front().seq <= c.next_seq);
  const RetainedEntry& entry = s.retained[c.next_seq - s.retained.front().seq];
  assert(entry.seq == c.next_seq);
  ReadOutcome out{ReadStatus::Entry, entry.seq, entry.payload, 0};  // FB-1, FB-3
  ++c.next_seq;
  ++c.read_count;
  trim(s);
  return out;
}




}  // namespace

FanoutState initial_state(const FanoutConfig& config) {
  assert(config.consumer_count >= 1);
  assert(config.consumer_count <= kReaderCountMax);
  FanoutState state;
  state.config = config;
  state.consumers.resize(config.consumer_count);
  return state;
}

bool is_valid_op(const FanoutState& state, const FanoutOp& op) noexcept {
  if (const auto* r = std::get_if<FanoutTryRead>(&op)) return r->consumer < state.consumers.size();
  if (const auto* r = std::get_if<FanoutRead>(&op)) return r->consumer < state.consumers.size();
  return true;
}

std::pair<FanoutState, FanoutResult> step(const FanoutState& state, const FanoutOp& op) {
  assert(is_valid_op(state, op));
  FanoutState next = state;
  FanoutResult result = std::visit(
      Overloaded{
          [&](const FanoutTryWrite& w) -> FanoutResult { return WriteOutcome{write_into(next, w.payload, false, w.second_step)}; },
          [&](const FanoutWrite& w) -> FanoutResult { return WriteOutcome{write_into(next, w.payload, true, w.second_step)}; },
          [&](const FanoutClose&) -> FanoutResult {
            next.closed = true;  // idempotent (FB-9)
            return CloseOutcome{};
          },
          [&](const FanoutTryRead& r) -> FanoutResult { return read_from(next, r.consumer, false); },
          [&](const FanoutRead& r) -> FanoutResult { return read_from(next, r.consumer, true); },
          [&](const FanoutBeginWrite& b) -> FanoutResult { return WriteOutcome{begin_write(next, b.payload_bytes)}; },
      },
      op);
  return {std::move(next), std::move(result)};
}

std::uint64_t unread_count(const FanoutState& state, std::uint32_t consumer) noexcept {
  assert(consumer < state.consumers.size());
  return state.written - state.consumers[consumer].next_seq;
}

std::uint64_t min_next_seq(const FanoutState& state) noexcept {
  std::uint64_t lowest = state.written;
  for (const FanoutConsumerState& c : state.consumers) lowest = std::min(lowest, c.next_seq);
  return lowest;
}

bool is_full(const FanoutState& state) noexcept {
  return state.config.on_full == OnFull::Block &&
         ring_window::block_full(state.written, min_next_seq(state), state.config.capacity_slots);
}

bool would_report_lost(const FanoutState& state, std::uint32_t consumer) noexcept {
  assert(consumer < state.consumers.size());
  return state.config.on_full == OnFull::Drop && state.consumers[consumer].next_seq < oldest_in_ring(state);
}

bool is_drained(const FanoutState& state, std::uint32_t consumer) noexcept {
  return state.closed && unread_count(state, consumer) == 0;
}

std::optional<std::string> check_invariants(const FanoutState& s) {
  const auto& c = s.config;
  if (!is_power_of_two(c.capacity_slots) || c.capacity_slots > kCapacitySlotsMax) {
    return "capacity_slots " + std::to_string(c.capacity_slots) + " is not a power of two in [1, 2^24]";
  }
  if (c.slot_payload_bytes < kSlotPayloadBytesMin || c.slot_payload_bytes > kSlotPayloadBytesMax ||
      c.slot_payload_bytes % kSlotPayloadBytesAlign != 0) {
    return "slot_payload_bytes " + std::to_string(c.slot_payload_bytes) + " is not a multiple of 8 in [8, 2^20]";
  }
  if (c.on_full != OnFull::Block && c.on_full != OnFull::Drop) return std::string("on_full is not block or drop");
  if (c.consumer_count < 1 || c.consumer_count > kReaderCountMax) {
    return "consumer_count " + std::to_string(c.consumer_count) + " is not in [1, 64]";
  }
  if (s.consumers.size() != c.consumer_count) {
    return "state has " + std::to_string(s.consumers.size()) + " consumers, config " +
           std::to_string(c.consumer_count);
  }
  for (std::size_t i = 0; i < s.consumers.size(); ++i) {
    const FanoutConsumerState& k = s.consumers[i];
    const std::string who = "consumer " + std::to_string(i) + ": ";
    if (k.next_seq > s.written) {
      return who + "next_seq " + std::to_string(k.next_seq) + " is ahead of written " + std::to_string(s.written);
    }
    if (k.read_count + k.lost_count != k.next_seq) {
      return who + "read_count + lost_count " + std::to_string(k.read_count + k.lost_count) +
             " is not next_seq " + std::to_string(k.next_seq);
    }
    if (c.on_full == OnFull::Block && k.lost_count != 0) return who + "lost_count is not 0 under block";
    if (c.on_full == OnFull::Block && s.written - k.next_seq > c.capacity_slots) {
      return who + "unread " + std::to_string(s.written - k.next_seq) + " exceeds capacity under block";
    }
  }
  const std::uint64_t first = first_retained(s);
  if (s.retained.size() != s.written - first) {
    return "retained holds " + std::to_string(s.retained.size()) + " entries, expected " +
           std::to_string(s.written - first);
  }
  for (std::size_t i = 0; i < s.retained.size(); ++i) {
    if (s.retained[i].seq != first + i) {
      return "retained entry " + std::to_string(i) + " has seq " + std::to_string(s.retained[i].seq) +
             ", expected " + std::to_string(first + i);
    }
    if (s.retained[i].payload.size() > c.slot_payload_bytes) {
      return "retained entry " + std::to_string(s.retained[i].seq) + " is longer than a slot";
    }
  }
  return std::nullopt;
}

std::string describe(const FanoutConfig& c) {
  return std::string(to_string(c.on_full)) + " capacity " + std::to_string(c.capacity_slots) + " slot " +
         std::to_string(c.slot_payload_bytes) + " B, " + std::to_string(c.consumer_count) + " consumers";
}

std::string describe(const FanoutOp& op) {
  return std::visit(
      Overloaded{
          [](const FanoutTryWrite& w) { return "TryWrite(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
          [](const FanoutWrite& w) { return "Write(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
          [](const FanoutClose&) { return std::string("Close"); },
          [](const FanoutTryRead& r) { return "TryRead[" + std::to_string(r.consumer) + "]"; },
          [](const FanoutRead& r) { return "Read[" + std::to_string(r.consumer) + "]"; },
          [](const FanoutBeginWrite& b) { return "BeginWrite(" + std::to_string(b.payload_bytes) + " B)"; },
      },
      op);
}

std::string describe(const FanoutState& s) {
  std::ostringstream os;
  os << describe(s.config) << ": written " << s.written << (s.closed ? ", closed" : "")
     << (s.write_begun ? ", write " + std::to_string(s.written) + " begun" : "") << ", next";
  for (const FanoutConsumerState& c : s.consumers) {
    os << " " << c.next_seq << "(" << c.read_count << "+" << c.lost_count << ")";
  }
  os << ", retained " << s.retained.size();
  if (!s.retained.empty()) os << " [" << s.retained.front().seq << ".." << s.retained.back().seq << "]";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const FanoutConfig& config) { return os << describe(config); }
std::ostream& operator<<(std::ostream& os, const FanoutOp& op) { return os << describe(op); }
std::ostream& operator<<(std::ostream& os, const FanoutState& state) { return os << describe(state); }

std::size_t hash_value(const FanoutConfig& c) noexcept {
  std::size_t seed = 0;
  hash_combine(seed, c.capacity_slots);
  hash_combine(seed, c.slot_payload_bytes);
  hash_combine(seed, static_cast<std::uint64_t>(c.on_full));
  hash_combine(seed, c.consumer_count);
  return seed;
}

std::size_t hash_observable(const FanoutState& s) noexcept {
  // Every field but the consumers' read_count and lost_count, which no result reveals and no step
  // reads (events_model.hpp, hash_observable).
  std::size_t seed = hash_value(s.config);
  hash_combine(seed, s.written);
  hash_combine(seed, s.closed ? 1 : 0);
  hash_combine(seed, s.write_begun ? 1 : 0);
  for (const FanoutConsumerState& c : s.consumers) hash_combine(seed, c.next_seq);
  hash_retained(seed, s.retained);
  return seed;
}

std::size_t hash_value(const FanoutState& s) noexcept {
  std::size_t seed = hash_observable(s);
  for (const FanoutConsumerState& c : s.consumers) {
    hash_combine(seed, c.read_count);
    hash_combine(seed, c.lost_count);
  }
  return seed;
}

}  // namespace indexbus::spec

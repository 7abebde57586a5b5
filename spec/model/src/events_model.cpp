#include "indexbus/spec/events_model.hpp"
#include "indexbus/spec/ring_window.hpp"
#include "model_support.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <ostream>
#include <sstream>
#include <type_traits>

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

// The lowest sequence a Drop lane still holds: older entries have been overwritten, and so has
// written - C once the next write has begun (EV-8, EV-12).
std::uint64_t oldest_retained_seq(const EventsState& s) noexcept {
  return ring_window::oldest_held(s.written, s.write_begun, s.config.capacity_slots);
}

// A write's first step (EV-8, "A write takes effect in two steps"): its checks, and under Drop
// the loss of the entry its slot held. Again after a begun write (a producer that died between
// the steps, then its successor) it changes nothing more.
WriteStatus begin_write(EventsState& s, std::uint32_t payload_bytes) {
  if (s.closed) return WriteStatus::Closed;                                       // EV-10
  if (payload_bytes > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // EV-2
  if (s.write_begun) return WriteStatus::Ok;
  if (is_full(s)) return WriteStatus::Full;                                       // EV-6
  s.write_begun = true;
  // Drop: entry written - C is gone now, if the consumer had not passed it (EV-12). Block (not
  // full) never holds it.
  while (!s.retained.empty() && s.retained.front().seq < oldest_retained_seq(s)) s.retained.pop_front();
  return WriteStatus::Ok;
}

WriteStatus write_into(EventsState& s, const Bytes& payload, bool blocking, bool second_step) {
  if (second_step && !s.write_begun) {
    // A second step without its first (the checker trying the write before its BeginWrite): refused,
    // changing nothing. Full is no answer an accepted or pending write was recorded with.
    return WriteStatus::Full;
  }
  if (second_step) {
    // The second step of a split write: its checks were made by its first, its entry appears.
    assert(payload.size() <= s.config.slot_payload_bytes);
    s.write_begun = false;
    s.retained.push_back(RetainedEntry{s.written, payload});  // EV-3
    ++s.written;
    return WriteStatus::Ok;
  }
  if (s.closed) return WriteStatus::Closed;                                    // EV-10
  if (payload.size() > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // EV-2
  if (is_full(s)) return blocking ? WriteStatus::Timeout : WriteStatus::Full;  // EV-6
  // A write begun by a producer that died before publishing: this one writes the same slot again.
  s.write_begun = false;
  s.retained.push_back(RetainedEntry{s.written, payload});                    // EV-3
  ++s.written;
  if (s.retained.size() > s.config.capacity_slots) {
    // Only Drop gets here (Block was Full): the oldest entry is overwritten (EV-12).
    assert(s.config.on_full == OnFull::Drop);
    s.retained.pop_front();
  }
  return WriteStatus::Ok;
}

ReadOutcome read_from(EventsState& s, bool blocking) {
  if (would_report_lost(s)) {
    // EV-8: the exact count; the cursor jumps to the oldest entry a published write left,
    // written - C, or past the one entry a begun write is destroying.
    const std::uint64_t lost = ring_window::lost_jump(s.read_seq, s.written, s.config.capacity_slots);
    s.read_seq += lost;
    s.lost_count += lost;
    return ReadOutcome{ReadStatus::Lost, 0, {}, lost};
  }
  if (s.read_seq == s.written) {  // EV-10, EV-13
    if (s.closed) return ReadOutcome{ReadStatus::Closed, 0, {}, 0};
    return ReadOutcome{blocking ? ReadStatus::Timeout : ReadStatus::Empty, 0, {}, 0};
  }
  assert(!s.retained.empty() && s.retained.front().seq == s.read_seq);
  ReadOutcome out{ReadStatus::Entry, s.read_seq, std::move(s.retained.front().payload), 0};  // EV-4
  s.retained.pop_front();
  ++s.read_seq;
  ++s.read_count;
  return out;
}

}  // namespace

EventsState initial_state(const EventsConfig& config) {
  EventsState state;
  state.config = config;
  return state;
}

std::pair<EventsState, OpResult> step(const EventsState& state, const Op& op) {
  EventsState next = state;
  OpResult result = std::visit(
      Overloaded{
          [&](const TryWrite& w) -> OpResult { return WriteOutcome{write_into(next, w.payload, false, w.second_step)}; },
          [&](const Write& w) -> OpResult { return WriteOutcome{write_into(next, w.payload, true, w.second_step)}; },
          [&](const Close&) -> OpResult {
            next.closed = true;  // idempotent (EV-10)
            return CloseOutcome{};
          },
          [&](const TryRead&) -> OpResult { return read_from(next, false); },
          [&](const Read&) -> OpResult { return read_from(next, true); },
          [&](const BeginWrite& b) -> OpResult { return WriteOutcome{begin_write(next, b.payload_bytes)}; },
      },
      op);
  return {std::move(next), std::move(result)};
}

std::uint64_t unread_count(const EventsState& state) noexcept { return state.written - state.read_seq; }

bool is_full(const EventsState& state) noexcept {
  return state.config.on_full == OnFull::Block &&
         ring_window::block_full(state.written, state.read_seq, state.config.capacity_slots);
}

bool would_report_lost(const EventsState& state) noexcept {
  return state.config.on_full == OnFull::Drop && state.read_seq < oldest_retained_seq(state);
}

bool is_drained(const EventsState& state) noexcept {
  return state.closed && state.read_seq == state.written;
}

bool is_refusal(const OpResult& result) noexcept {
  return std::visit(Overloaded{
                        [](const WriteOutcome& w) { return w.status != WriteStatus::Ok; },
                        [](const CloseOutcome&) { return false; },
                        [](const ReadOutcome& r) {
                          return r.status == ReadStatus::Empty || r.status == ReadStatus::Timeout ||
                                 r.status == ReadStatus::Closed;
                        },
                    },
                    result);
}

std::optional<std::string> check_invariants(const EventsState& s) {
  const auto& c = s.config;
  if (!is_power_of_two(c.capacity_slots) || c.capacity_slots > kCapacitySlotsMax) {
    return "capacity_slots " + std::to_string(c.capacity_slots) + " is not a power of two in [1, 2^24]";
  }
  if (c.slot_payload_bytes < kSlotPayloadBytesMin || c.slot_payload_bytes > kSlotPayloadBytesMax ||
      c.slot_payload_bytes % kSlotPayloadBytesAlign != 0) {
    return "slot_payload_bytes " + std::to_string(c.slot_payload_bytes) +
           " is not a multiple of 8 in [8, 2^20]";
  }
  if (c.on_full != OnFull::Block && c.on_full != OnFull::Drop) return std::string("on_full is not block or drop");
  if (s.read_seq > s.written) {
    return "read_seq " + std::to_string(s.read_seq) + " is ahead of written " + std::to_string(s.written);
  }
  if (s.read_count + s.lost_count != s.read_seq) {
    return "read_count + lost_count " + std::to_string(s.read_count + s.lost_count) +
           " is not read_seq " + std::to_string(s.read_seq);
  }
  if (c.on_full == OnFull::Block && s.lost_count != 0) {
    return "lost_count " + std::to_string(s.lost_count) + " is not 0 under block";
  }
  if (c.on_full == OnFull::Block && unread_count(s) > c.capacity_slots) {
    return "unread " + std::to_string(unread_count(s)) + " exceeds capacity under block";
  }
  if (c.on_full == OnFull::Block && s.write_begun && unread_count(s) >= c.capacity_slots) {
    return "a write is begun on a full lane under block";
  }
  const std::uint64_t first = std::max(s.read_seq, std::min(oldest_retained_seq(s), s.written));
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

std::string describe(const EventsConfig& c) {
  return std::string(to_string(c.on_full)) + " capacity " + std::to_string(c.capacity_slots) +
         " slot " + std::to_string(c.slot_payload_bytes) + " B";
}

std::string describe(const Op& op) {
  return std::visit(Overloaded{
                        [](const TryWrite& w) { return "TryWrite(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
                        [](const Write& w) { return "Write(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
                        [](const Close&) { return std::string("Close"); },
                        [](const TryRead&) { return std::string("TryRead"); },
                        [](const Read&) { return std::string("Read"); },
                        [](const BeginWrite& b) {
                          return "BeginWrite(" + std::to_string(b.payload_bytes) + " B)";
                        },
                    },
                    op);
}

std::string describe(const OpResult& result) {
  return std::visit(
      Overloaded{
          [](const WriteOutcome& w) { return std::string(to_string(w.status)); },
          [](const CloseOutcome&) { return std::string("closed"); },
          [](const ReadOutcome& r) {
            std::string out(to_string(r.status));
            if (r.status == ReadStatus::Entry) {
              out += "{seq " + std::to_string(r.seq) + ", " + describe_payload(r.payload) + "}";
            } else if (r.status == ReadStatus::Lost) {
              out += "{" + std::to_string(r.lost_count) + "}";
            }
            return out;
          },
      },
      result);
}

std::string describe(const EventsState& s) {
  std::ostringstream os;
  os << describe(s.config) << ": written " << s.written << ", read_seq " << s.read_seq << " (read "
     << s.read_count << " + lost " << s.lost_count << ")" << (s.closed ? ", closed" : "")
     << (s.write_begun ? ", write " + std::to_string(s.written) + " begun" : "")
     << ", retained " << s.retained.size();
  if (!s.retained.empty()) os << " [" << s.retained.front().seq << ".." << s.retained.back().seq << "]";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const EventsConfig& config) { return os << describe(config); }
std::ostream& operator<<(std::ostream& os, const Op& op) { return os << describe(op); }
std::ostream& operator<<(std::ostream& os, const OpResult& result) { return os << describe(result); }
std::ostream& operator<<(std::ostream& os, const EventsState& state) { return os << describe(state); }

std::size_t hash_value(const EventsConfig& c) noexcept {
  std::size_t seed = 0;
  hash_combine(seed, c.capacity_slots);
  hash_combine(seed, c.slot_payload_bytes);
  hash_combine(seed, static_cast<std::uint64_t>(c.on_full));
  return seed;
}

std::size_t hash_observable(const EventsState& s) noexcept {
  // Every field but read_count and lost_count (events_model.hpp says why).
  std::size_t seed = hash_value(s.config);
  hash_combine(seed, s.written);
  hash_combine(seed, s.read_seq);
  hash_combine(seed, s.closed ? 1 : 0);
  hash_combine(seed, s.write_begun ? 1 : 0);
  hash_retained(seed, s.retained);
  return seed;
}

std::size_t hash_value(const EventsState& s) noexcept {
  std::size_t seed = hash_observable(s);
  hash_combine(seed, s.read_count);
  hash_combine(seed, s.lost_count);
  return seed;
}

bool is_consumer_op(const Op& op) noexcept {
  return std::holds_alternative<TryRead>(op) || std::holds_alternative<Read>(op);
}

bool needs_consumer_first(const EventsState& s, const Op& op, const OpResult& observed) {
  const auto* read = std::get_if<ReadOutcome>(&observed);
  if (!is_consumer_op(op) || read == nullptr) return false;
  const bool blocking = std::holds_alternative<Read>(op);
  switch (read->status) {
    case ReadStatus::Entry:
      if (s.read_seq != read->seq) return true;
      // Entry read_seq is held: its payload is fixed until it is overwritten (then a loss).
      if (s.read_seq < s.written && !would_report_lost(s)) {
        assert(!s.retained.empty() && s.retained.front().seq == s.read_seq);
        return s.retained.front().payload != read->payload;
      }
      return false;
    case ReadStatus::Lost: {
      if (s.config.on_full != OnFull::Drop) return true;  // Block never loses (EV-6)
      return ring_window::oldest_published(s.written, s.config.capacity_slots) > s.read_seq + read->lost_count;
    }
    case ReadStatus::Empty:
    case ReadStatus::Timeout:
      if ((read->status == ReadStatus::Timeout) != blocking) return true;  // the other call's answer
      return s.read_seq < s.written || s.closed;
    case ReadStatus::Closed:
      return s.read_seq < s.written;
    case ReadStatus::Evicted:
    case ReadStatus::NotYet:
      return false;  // never an Events answer; nothing claimed
  }
  return false;
}

std::uint64_t producer_ops_needed(const EventsState& s, const Op& op, const OpResult& observed) {
  const auto* read = std::get_if<ReadOutcome>(&observed);
  if (!is_consumer_op(op) || read == nullptr) return 0;
  const std::uint64_t reach = s.written + (s.write_begun ? 1 : 0);
  std::uint64_t needed = 0;
  if (read->status == ReadStatus::Entry) {
    needed = read->seq + 1;  // written > seq
  } else if (read->status == ReadStatus::Lost && s.config.on_full == OnFull::Drop) {
    needed = s.read_seq + std::max<std::uint64_t>(read->lost_count, 1) + s.config.capacity_slots;
  }
  const std::uint64_t have = read->status == ReadStatus::Entry ? s.written : reach;
  return needed > have ? needed - have : 0;
}

}  // namespace indexbus::spec

#include "indexbus/spec/journal_model.hpp"
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
using model_support::hash_retained;
using model_support::hash_combine;

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

using RS = JournalReaderState;

bool attached(const JournalReaderRecord& r) noexcept { return r.state == RS::Attached; }

// The writer evicts every attached reader that holds it back and has been silent for longer than
// the timeout (JR-10).
bool silent_holder(const JournalState& s, const JournalReaderRecord& r) {
  return s.config.reader_timeout_ns != 0 && attached(r) &&
         ring_window::block_full(s.written, r.cursor_seq, s.config.capacity_slots) && s.now_ns > r.heartbeat_ns &&
         s.now_ns - r.heartbeat_ns > s.config.reader_timeout_ns;
}

void evict_silent_holders(JournalState& s) {
  for (JournalReaderRecord& r : s.readers) {
    if (!silent_holder(s, r)) continue;
    r.state = RS::Evicted;
    ++s.eviction_count;
  }
}

bool any_silent_holder(const JournalState& s) {
  return std::any_of(s.readers.begin(), s.readers.end(), [&](const JournalReaderRecord& r) { return silent_holder(s, r); });
}

// JournalEvict: one recorded eviction.
JournalCallOutcome evict_one(JournalState& s, std::uint32_t reader) {
  if (reader >= s.readers.size() || !silent_holder(s, s.readers[reader])) return JournalCallOutcome{false};
  s.readers[reader].state = RS::Evicted;
  ++s.eviction_count;
  return JournalCallOutcome{true};
}

// A write's first step (events_model.cpp, begin_write): the checks, the room (evicting silent
// holders first, unless the history records the evictions), and the loss of entry written - C.
WriteStatus begin_write(JournalState& s, std::uint32_t payload_bytes, bool evictions_recorded) {
  if (s.closed) return WriteStatus::Closed;                                       // JR-11
  if (payload_bytes > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // JR-1
  if (s.write_begun) return WriteStatus::Ok;
  if (is_full(s)) {                                                               // JR-9
    if (!evictions_recorded) evict_silent_holders(s);                             // JR-10
    if (is_full(s)) return WriteStatus::Full;
  }
  s.write_begun = true;
  if (!s.retained.empty() && s.retained.front().seq < oldest_retained_seq(s)) s.retained.pop_front();  // JR-6
  return WriteStatus::Ok;
}

WriteStatus write_into(JournalState& s, const Bytes& payload, bool blocking, bool second_step,
                       bool evictions_recorded) {
  if (second_step && !s.write_begun) {
    // A second step without its first (the checker trying the write before its BeginWrite): refused,
    // changing nothing. Full is no answer an accepted or pending write was recorded with.
    return WriteStatus::Full;
  }
  if (second_step) {
    // The second step of a split write: its checks were made by its first, its entry appears.
    assert(payload.size() <= s.config.slot_payload_bytes);
    s.write_begun = false;
    s.retained.push_back(RetainedEntry{s.written, payload});  // JR-1
    ++s.written;
    return WriteStatus::Ok;
  }
  if (s.closed) return WriteStatus::Closed;                                        // JR-11
  if (payload.size() > s.config.slot_payload_bytes) return WriteStatus::TooLarge;  // JR-1
  if (is_full(s)) {                                                                // JR-9
    if (!evictions_recorded) evict_silent_holders(s);                              // JR-10
    if (is_full(s)) return blocking ? WriteStatus::Timeout : WriteStatus::Full;
  }
  // A write begun by a producer that died before publishing: this one writes the same slot again.
  s.write_begun = false;
  s.retained.push_back(RetainedEntry{s.written, payload});  // JR-1
  ++s.written;
  if (s.retained.size() > s.config.capacity_slots) s.retained.pop_front();  // JR-6
  return WriteStatus::Ok;
}

// How a reader call takes its heartbeat (JR-10): the clock at the step, or when a read that waited
// began (started_ns), or the value a concurrent history recorded (heartbeat_ns), or, for a call's
// second step, none (its first step, JournalBeginCall, took it).
struct CallHeartbeat {
  std::optional<std::uint64_t> started_ns;
  std::optional<std::uint64_t> heartbeat_ns;
  bool second_step = false;
  std::optional<std::uint32_t> handle;
};

// Does the op's handle (if it names one) hold record r? (JournalReaderRecord::generation)
bool own_handle(const JournalReaderRecord& r, std::optional<std::uint32_t> handle) {
  return r.has_handle && (!handle || *handle == r.generation);
}

// Every reader call starts with the state check and the heartbeat (JR-10).
JournalReaderRecord* begin_call(JournalState& s, std::uint32_t reader, const CallHeartbeat& how = {}) {
  if (reader >= s.readers.size()) return nullptr;
  JournalReaderRecord& r = s.readers[reader];
  if (how.second_step && own_handle(r, how.handle)) {
    assert(r.call_begun);  // step() refuses a second step without its first
    r.call_begun = false;
  }
  if (!own_handle(r, how.handle) || !attached(r)) return nullptr;
  if (how.second_step) return &r;
  if (how.heartbeat_ns) {
    r.heartbeat_ns = *how.heartbeat_ns;
  } else {
    // Above the previous one even at the same clock reading (the lane's CAS must change the
    // value: a writer's eviction CAS on the previous one must fail), so possibly ahead of the clock.
    r.heartbeat_ns = std::max(r.heartbeat_ns + 1, how.started_ns ? std::min(*how.started_ns, s.now_ns) : s.now_ns);
  }
  return &r;
}

JournalCallOutcome begin_call_step(JournalState& s, const JournalBeginCall& b) {
  if (b.reader >= s.readers.size()) return JournalCallOutcome{false};
  JournalReaderRecord& r = s.readers[b.reader];
  if (!own_handle(r, b.handle) || !attached(r) || r.call_begun) return JournalCallOutcome{false};
  r.heartbeat_ns = b.heartbeat_ns;
  r.call_begun = true;
  return JournalCallOutcome{true};
}

ReadOutcome read_from(JournalState& s, std::uint32_t reader, bool blocking, const CallHeartbeat& how) {
  JournalReaderRecord* r = begin_call(s, reader, how);
  if (r == nullptr) return ReadOutcome{ReadStatus::Evicted, 0, {}, 0};
  if (r->pending_lost != 0) {  // JR-4: skipped at the resume, already in lost_count
    const std::uint64_t lost = r->pending_lost;
    r->pending_lost = 0;
    return ReadOutcome{ReadStatus::Lost, 0, {}, lost};
  }
  const std::uint64_t oldest = oldest_retained_seq(s);
  if (r->next_seq < oldest) {
    // JR-8: the exact count; the position jumps to the oldest entry a published write left,
    // written - C, or past the one entry a begun write is destroying.
    const std::uint64_t lost = ring_window::lost_jump(r->next_seq, s.written, s.config.capacity_slots);
    r->next_seq += lost;
    r->lost_count += lost;
    return ReadOutcome{ReadStatus::Lost, 0, {}, lost};
  }
  if (r->next_seq == s.written) {  // JR-11
    if (s.closed) return ReadOutcome{ReadStatus::Closed, 0, {}, 0};
    return ReadOutcome{blocking ? ReadStatus::Timeout : ReadStatus::Empty, 0, {}, 0};
  }
  assert(!s.retained.empty() && s.retained.front().seq <= r->next_seq);
  const RetainedEntry& e = s.retained[r->next_seq - s.retained.front().seq];
  assert(e.seq == r->next_seq);
  ++r->next_seq;
  ++r->read_count;
  return ReadOutcome{ReadStatus::Entry, e.seq, e.payload, 0};  // JR-5
}

ReadOutcome read_at(JournalState& s, std::uint32_t reader, std::uint64_t seq, const CallHeartbeat& how) {
  if (begin_call(s, reader, how) == nullptr) return ReadOutcome{ReadStatus::Evicted, 0, {}, 0};
  if (seq >= s.written) return ReadOutcome{ReadStatus::NotYet, 0, {}, 0};  // JR-7
  const std::uint64_t oldest = oldest_retained_seq(s);
  if (seq < oldest) return ReadOutcome{ReadStatus::Evicted, 0, {}, 0};
  assert(!s.retained.empty() && s.retained.front().seq == oldest);
  const RetainedEntry& e = s.retained[seq - oldest];
  return ReadOutcome{ReadStatus::Entry, e.seq, e.payload, 0};
}

std::uint64_t attach_heartbeat(const JournalState& s, const JournalReaderRecord& r) {
  return r.heartbeat_ns == 0 ? s.now_ns : std::max(s.now_ns, r.heartbeat_ns + 1);
}

// An attach's heartbeat is later than every one the record held (JR-10): max(clock, previous + 1)
// (the clock on a record whose heartbeat was never set),
// so a writer's eviction of the previous holder, judged on its heartbeat, never applies to the new
// one. A concurrent history carries the value the lane stored (heartbeat_ns).
JournalAttachOutcome attach(JournalState& s, const std::string& name, std::optional<std::uint32_t> record,
                            std::optional<std::uint64_t> heartbeat_ns) {
  if (name.size() > kReaderNameBytes || name.find('\0') != std::string::npos) {  // JR-2
    return JournalAttachOutcome{JournalAttachError::BadReaderName, 0};
  }
  if (!name.empty()) {  // JR-4: the record with this name, if any
    for (std::uint32_t i = 0; i < s.readers.size(); ++i) {
      JournalReaderRecord& r = s.readers[i];
      if (r.state == RS::Free || r.name != name) continue;
      if (attached(r) && r.has_handle) return JournalAttachOutcome{JournalAttachError::RoleTaken, 0};
      // A Detached or Evicted cursor behind the window resumes at the oldest entry that the next
      // write keeps (never at the entry the next write overwrites); a record attached by a dead
      // process held the writer back all along, and resumes at its cursor or the oldest entry.
      // The skipped entries are lost now and reported by the next read (JR-4, JR-8).
      // A record still Attached (its holder died) resumes at write_seq - C, as the lane computes it
      // from published writes; a begun write's victim there is then reported as a Lost of its own.
      const std::uint64_t floor =
          attached(r) ? ring_window::oldest_published(s.written, s.config.capacity_slots) : resume_floor_seq(s);
      r.state = RS::Attached;
      r.heartbeat_ns = heartbeat_ns.value_or(attach_heartbeat(s, r));
      r.call_begun = false;
      ++r.generation;
      r.pending_lost = r.cursor_seq < floor ? floor - r.cursor_seq : 0;
      r.lost_count += r.pending_lost;
      r.cursor_seq += r.pending_lost;
      r.next_seq = r.cursor_seq;
      r.has_handle = true;
      return JournalAttachOutcome{JournalAttachError::None, i};
    }
  }
  auto reusable = [&](std::uint32_t i) {
    const JournalReaderRecord& r = s.readers[i];
    return r.state == RS::Free || (r.name.empty() && (r.state == RS::Detached || r.state == RS::Evicted ||
                                                      (attached(r) && !r.has_handle)));
  };
  auto take = [&](std::uint32_t i) {
    const std::uint64_t fresh_ns = heartbeat_ns.value_or(attach_heartbeat(s, s.readers[i]));
    const std::uint32_t generation = s.readers[i].generation + 1;
    s.readers[i] = JournalReaderRecord{RS::Attached, name, s.written, s.written, 0, 0, fresh_ns, true, false, generation, 0};
    return JournalAttachOutcome{JournalAttachError::None, i};
  };
  // JR-3: in a concurrent history, the record the attach took, if reusable here.
  if (record && *record < s.readers.size() && reusable(*record)) return take(*record);
  for (std::uint32_t i = 0; i < s.readers.size(); ++i) {  // JR-3: the first reusable record
    if (reusable(i)) return take(i);
  }
  return JournalAttachOutcome{JournalAttachError::NoFreeReader, 0};
}



const char* state_name(RS state) {
  switch (state) {
    case RS::Free: return "free";
    case RS::Attached: return "attached";
    case RS::Evicted: return "evicted";
    case RS::Detached: return "detached";
  }
  return "?";
}



}  // namespace

JournalState initial_state(const JournalConfig& config) {
  JournalState state;
  state.config = config;
  state.readers.resize(config.reader_count);
  return state;
}

std::uint64_t oldest_retained_seq(const JournalState& s) noexcept {
  return ring_window::oldest_held(s.written, s.write_begun, s.config.capacity_slots);
}

std::uint64_t resume_floor_seq(const JournalState& s) noexcept {
  return ring_window::oldest_kept_by_next_write(s.written, s.config.capacity_slots);
}

bool is_full(const JournalState& s) noexcept {
  if (s.config.on_full != OnFull::Block) return false;
  for (const JournalReaderRecord& r : s.readers) {
    if (attached(r) && ring_window::block_full(s.written, r.cursor_seq, s.config.capacity_slots)) return true;
  }
  return false;
}

std::pair<JournalState, JournalResult> step(const JournalState& state, const JournalOp& op) {
  // A call's second step without its first: refused, changing nothing (JournalBeginCall).
  const bool refused = std::visit(
      [&](const auto& o) {
        if constexpr (requires { o.second_step; o.reader; o.heartbeat_ns; }) {
          if (!o.second_step) return false;
          if (o.reader >= state.readers.size()) return true;
          const JournalReaderRecord& r = state.readers[o.reader];
          return own_handle(r, o.handle) && !r.call_begun;
        } else {
          return false;
        }
      },
      op);
  if (refused) return {state, JournalDoneOutcome{}};
  // A write whose evictions are recorded answers Full (Timeout) only where no holder is silent
  // (JournalEvict): elsewhere, refused.
  const bool unevicted = std::visit(
      [&](const auto& o) {
        if constexpr (requires { o.evictions_recorded; o.second_step; }) {
          return o.evictions_recorded && !o.second_step && !state.closed &&
                 o.payload.size() <= state.config.slot_payload_bytes && is_full(state) && any_silent_holder(state);
        } else {
          return false;
        }
      },
      op);
  if (unevicted) return {state, JournalDoneOutcome{}};
  JournalState next = state;
  const auto how = [](const auto& call) {
    return CallHeartbeat{std::nullopt, call.heartbeat_ns, call.second_step, call.handle};
  };
  JournalResult result = std::visit(
      Overloaded{
          [&](const JournalTryWrite& w) -> JournalResult {
            return WriteOutcome{write_into(next, w.payload, false, w.second_step, w.evictions_recorded)};
          },
          [&](const JournalWrite& w) -> JournalResult {
            return WriteOutcome{write_into(next, w.payload, true, w.second_step, w.evictions_recorded)};
          },
          [&](const JournalClose&) -> JournalResult {
            next.closed = true;
            return CloseOutcome{};
          },
          [&](const JournalAttach& a) -> JournalResult { return attach(next, a.name, a.record, a.heartbeat_ns); },
          [&](const JournalTryRead& r) -> JournalResult { return read_from(next, r.reader, false, how(r)); },
          [&](const JournalRead& r) -> JournalResult {
            return read_from(next, r.reader, true, CallHeartbeat{r.started_ns, r.heartbeat_ns, r.second_step, r.handle});
          },
          [&](const JournalCommit& c) -> JournalResult {
            JournalReaderRecord* r = begin_call(next, c.reader, how(c));
            if (r == nullptr) return JournalCallOutcome{false};
            r->cursor_seq = r->next_seq;  // JR-5
            return JournalCallOutcome{true};
          },
          [&](const JournalReadAt& r) -> JournalResult { return read_at(next, r.reader, r.seq, how(r)); },
          [&](const JournalHeartbeat& h) -> JournalResult {
            return JournalCallOutcome{begin_call(next, h.reader, how(h)) != nullptr};
          },
          [&](const JournalBeginCall& b) -> JournalResult { return begin_call_step(next, b); },
          [&](const JournalDetach& d) -> JournalResult {
            if (d.reader < next.readers.size()) {  // JR-4
              JournalReaderRecord& r = next.readers[d.reader];
              if (!own_handle(r, d.handle)) return JournalDoneOutcome{};  // a stale handle's
              if (r.has_handle && attached(r) && !d.died) r.state = RS::Detached;
              r.has_handle = false;
              r.pending_lost = 0;
            }
            return JournalDoneOutcome{};
          },
          [&](const JournalAdvanceTime& t) -> JournalResult {
            next.now_ns += t.ns;
            return JournalDoneOutcome{};
          },
          [&](const JournalBeginWrite& b) -> JournalResult {
            return WriteOutcome{begin_write(next, b.payload_bytes, b.evictions_recorded)};
          },
          [&](const JournalEvict& e) -> JournalResult { return evict_one(next, e.reader); },
          [&](const JournalPublishCursor& p) -> JournalResult {
            if (p.reader >= next.readers.size()) return JournalCallOutcome{false};
            JournalReaderRecord& r = next.readers[p.reader];
            if (!own_handle(r, p.handle) || (r.state != RS::Attached && r.state != RS::Evicted)) {
              return JournalCallOutcome{false};
            }
            r.cursor_seq = r.next_seq;  // JR-5: possibly after the eviction
            return JournalCallOutcome{true};
          },
      },
      op);
  return {std::move(next), std::move(result)};
}

std::optional<std::string> check_invariants(const JournalState& s) {
  const auto& c = s.config;
  if (!is_power_of_two(c.capacity_slots) || c.capacity_slots > kCapacitySlotsMax) {
    return "capacity_slots " + std::to_string(c.capacity_slots) + " is not a power of two in [1, 2^24]";
  }
  if (c.reader_count < 1 || c.reader_count > kReaderCountMax) {
    return "reader_count " + std::to_string(c.reader_count) + " is not in [1, 64]";
  }
  if (s.readers.size() != c.reader_count) return std::string("reader records != reader_count");
  const std::uint64_t first = oldest_retained_seq(s);
  if (s.retained.size() != s.written - first) {
    return "retained holds " + std::to_string(s.retained.size()) + " entries, expected " +
           std::to_string(s.written - first);
  }
  for (std::size_t i = 0; i < s.retained.size(); ++i) {
    if (s.retained[i].seq != first + i) return "retained entry " + std::to_string(i) + " out of order";
    if (s.retained[i].payload.size() > c.slot_payload_bytes) return std::string("retained entry too long");
  }
  for (std::size_t i = 0; i < s.readers.size(); ++i) {
    const JournalReaderRecord& r = s.readers[i];
    const std::string who = "reader " + std::to_string(i);
    if (r.state == RS::Free && !(r == JournalReaderRecord{})) return who + " is free but not blank";
    if (!r.has_handle && r.pending_lost != 0) return who + " has a pending loss but no handle";
    if (attached(r) && r.has_handle && s.config.on_full == OnFull::Block &&
        s.written - r.cursor_seq > c.capacity_slots) {
      return who + " is attached more than capacity behind under block";
    }
    if (r.has_handle && r.state != RS::Attached && r.state != RS::Evicted) {
      return who + " has a live handle but is " + state_name(r.state);
    }
    if (r.cursor_seq > s.written) return who + " cursor is ahead of written";
    if (attached(r) && r.next_seq < r.cursor_seq) return who + " reads behind its committed cursor";
    if (attached(r) && r.next_seq > s.written) return who + " reads ahead of written";
    // No "heartbeat in the future" check: an attach stores one above the record's previous value
    // (JR-10), ahead of the clock when the clock has not moved since.
    if (r.call_begun && !r.has_handle) return who + " has a call begun but no handle";
    if (r.name.empty()) continue;
    for (std::size_t j = i + 1; j < s.readers.size(); ++j) {
      if (s.readers[j].state != RS::Free && s.readers[j].name == r.name) {
        return "readers " + std::to_string(i) + " and " + std::to_string(j) + " share name " + r.name;
      }
    }
  }
  return std::nullopt;
}

std::string describe(const JournalConfig& c) {
  return "journal " + std::string(to_string(c.on_full)) + " capacity " + std::to_string(c.capacity_slots) +
         " slot " + std::to_string(c.slot_payload_bytes) + " B readers " + std::to_string(c.reader_count) +
         " timeout " + std::to_string(c.reader_timeout_ns) + " ns";
}

std::string describe(const JournalOp& op) {
  const auto step_note = [](const auto& call) -> std::string {
    if (call.second_step) return ", 2nd step";
    return call.heartbeat_ns ? " heartbeat " + std::to_string(*call.heartbeat_ns) + " ns" : "";
  };
  const auto r = [](const char* what, std::uint32_t reader) {
    return std::string(what) + "(r" + std::to_string(reader) + ")";
  };
  return std::visit(
      Overloaded{
          [](const JournalTryWrite& w) { return "TryWrite(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
          [](const JournalWrite& w) { return "Write(" + describe_payload(w.payload) + (w.second_step ? ", 2nd step" : "") + ")"; },
          [](const JournalClose&) { return std::string("Close"); },
          [](const JournalAttach& a) { return "Attach('" + a.name + "')"; },
          [&](const JournalTryRead& o) { return r("TryRead", o.reader) + step_note(o); },
          [&](const JournalRead& o) {
            return r("Read", o.reader) + (o.started_ns ? " started " + std::to_string(*o.started_ns) + " ns" : "") +
                   step_note(o);
          },
          [&](const JournalCommit& o) { return r("Commit", o.reader) + step_note(o); },
          [&](const JournalReadAt& o) {
            return "ReadAt(r" + std::to_string(o.reader) + ", " + std::to_string(o.seq) + ")" + step_note(o);
          },
          [&](const JournalHeartbeat& o) { return r("Heartbeat", o.reader) + step_note(o); },
          [](const JournalBeginCall& b) {
            return "BeginCall(r" + std::to_string(b.reader) + ", heartbeat " + std::to_string(b.heartbeat_ns) + " ns)";
          },
          [&](const JournalDetach& o) { return r(o.died ? "Died" : "Detach", o.reader); },
          [](const JournalAdvanceTime& t) { return "AdvanceTime(" + std::to_string(t.ns) + " ns)"; },
          [](const JournalBeginWrite& b) { return "BeginWrite(" + std::to_string(b.payload_bytes) + " B)"; },
          [&](const JournalEvict& e) { return r("Evict", e.reader); },
          [&](const JournalPublishCursor& p) { return r("PublishCursor", p.reader); },
      },
      op);
}

std::string describe(const JournalResult& result) {
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
          [](const JournalAttachOutcome& a) {
            switch (a.error) {
              case JournalAttachError::None: return "attached r" + std::to_string(a.reader);
              case JournalAttachError::BadReaderName: return std::string("BadReaderName");
              case JournalAttachError::RoleTaken: return std::string("RoleTaken");
              case JournalAttachError::NoFreeReader: return std::string("NoFreeReader");
            }
            return std::string("?");
          },
          [](const JournalCallOutcome& c) { return std::string(c.ok ? "ok" : "evicted"); },
          [](const JournalDoneOutcome&) { return std::string("done"); },
      },
      result);
}

std::string describe(const JournalState& s) {
  std::ostringstream os;
  os << describe(s.config) << ": now " << s.now_ns << " ns, written " << s.written
     << (s.write_begun ? ", write " + std::to_string(s.written) + " begun" : "") << (s.closed ? ", closed" : "") << ", evictions " << s.eviction_count << ", retained "
     << s.retained.size();
  for (std::size_t i = 0; i < s.readers.size(); ++i) {
    const JournalReaderRecord& r = s.readers[i];
    os << "; r" << i << " " << state_name(r.state);
    if (r.state == RS::Free) continue;
    os << " '" << r.name << "' cursor " << r.cursor_seq << " next " << r.next_seq << " read "
       << r.read_count << " lost " << r.lost_count << " hb " << r.heartbeat_ns
       << (r.has_handle ? " handle" : "") << (r.pending_lost != 0 ? " pending_lost " + std::to_string(r.pending_lost) : "");
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const JournalConfig& c) { return os << describe(c); }
std::ostream& operator<<(std::ostream& os, const JournalOp& op) { return os << describe(op); }
std::ostream& operator<<(std::ostream& os, const JournalResult& r) { return os << describe(r); }
std::ostream& operator<<(std::ostream& os, const JournalState& s) { return os << describe(s); }

std::size_t hash_value(const JournalConfig& c) noexcept {
  std::size_t seed = 0;
  hash_combine(seed, c.capacity_slots);
  hash_combine(seed, c.slot_payload_bytes);
  hash_combine(seed, static_cast<std::uint64_t>(c.on_full));
  hash_combine(seed, c.reader_count);
  hash_combine(seed, c.reader_timeout_ns);
  return seed;
}

std::size_t hash_value(const JournalState& s) noexcept {
  std::size_t seed = hash_value(s.config);
  hash_combine(seed, s.now_ns);
  hash_combine(seed, s.written);
  hash_combine(seed, s.closed ? 1 : 0);
  hash_combine(seed, s.eviction_count);
  hash_combine(seed, s.write_begun ? 1 : 0);
  hash_retained(seed, s.retained);
  for (const JournalReaderRecord& r : s.readers) {
    hash_combine(seed, static_cast<std::uint64_t>(r.state));
    hash_bytes(seed, std::as_bytes(std::span(r.name.data(), r.name.size())));
    hash_combine(seed, r.cursor_seq);
    hash_combine(seed, r.next_seq);
    hash_combine(seed, r.read_count);
    hash_combine(seed, r.lost_count);
    hash_combine(seed, r.heartbeat_ns);
    hash_combine(seed, r.has_handle ? 1 : 0);
    hash_combine(seed, r.call_begun ? 1 : 0);
    hash_combine(seed, r.generation);
    hash_combine(seed, r.pending_lost);
  }
  return seed;
}

}  // namespace indexbus::spec

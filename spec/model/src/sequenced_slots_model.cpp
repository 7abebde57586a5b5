#include "indexbus/spec/sequenced_slots_model.hpp"
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

bool bit(std::uint64_t mask, std::uint32_t i) noexcept { return ((mask >> i) & 1) != 0; }

std::uint64_t min_next(const SequencedState& s, std::uint64_t mask, std::uint64_t none) noexcept {
  std::uint64_t lowest = none;
  for (std::uint32_t i = 0; i < s.consumers.size(); ++i) {
    if (bit(mask, i)) lowest = std::min(lowest, s.consumers[i].next_seq);
  }
  return lowest;
}

std::uint64_t all_consumers(std::uint32_t count) noexcept {
  return count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
}

// The first sequence anyone can still observe: unread by someone and not overwritten.
std::uint64_t first_retained_seq(const SequencedState& s) noexcept {
  const std::uint64_t slowest = min_next(s, all_consumers(s.config.consumer_count()), s.written);
  return std::max(slowest, oldest_held_seq(s));
}

void trim(SequencedState& s) {
  const std::uint64_t first = first_retained_seq(s);
  while (!s.retained.empty() && s.retained.front().seq < first) s.retained.pop_front();
}

SeqClaimOutcome claim(SequencedState& s, bool blocking) {
  if (s.closed) return SeqClaimOutcome{WriteStatus::Closed, 0};                      // SS-10
  if (s.claimed) return SeqClaimOutcome{WriteStatus::Ok, s.written};                 // SS-2
  if (sequenced_is_full(s)) {                                                        // SS-6
    return SeqClaimOutcome{blocking ? WriteStatus::Timeout : WriteStatus::Full, 0};
  }
  s.claimed = true;
  trim(s);  // SS-8: under Drop the claim already destroys the oldest entry of a full ring
  return SeqClaimOutcome{WriteStatus::Ok, s.written};
}

SeqPublishOutcome publish(SequencedState& s, const Bytes& payload) {
  if (s.closed) return SeqPublishOutcome{WriteStatus::Closed};                       // SS-10
  assert(s.claimed);
  if (payload.size() > s.config.slot_payload_bytes) return SeqPublishOutcome{WriteStatus::TooLarge};  // SS-2
  s.retained.push_back(RetainedEntry{s.written, payload});
  ++s.written;
  s.claimed = false;
  trim(s);
  return SeqPublishOutcome{WriteStatus::Ok};
}

ReadOutcome read(SequencedState& s, std::uint32_t i, bool blocking) {
  assert(i < s.consumers.size());
  SequencedConsumerState& c = s.consumers[i];
  const std::uint64_t oldest = oldest_held_seq(s);
  if (c.next_seq < oldest) {  // SS-8: exact count, no gating, jump to the oldest held
    const std::uint64_t lost = oldest - c.next_seq;
    c.next_seq = oldest;
    c.lost_count += lost;
    trim(s);
    return ReadOutcome{ReadStatus::Lost, 0, {}, lost};
  }
  if (c.next_seq == s.written) {  // SS-10, SS-12
    if (s.closed) return ReadOutcome{ReadStatus::Closed, 0, {}, 0};
    return ReadOutcome{blocking ? ReadStatus::Timeout : ReadStatus::Empty, 0, {}, 0};
  }
  if (!may_read(s, i)) return ReadOutcome{blocking ? ReadStatus::Timeout : ReadStatus::Empty, 0, {}, 0};  // SS-4
  assert(!s.retained.empty());
  assert(s.retained.front().seq <= c.next_seq);
  const RetainedEntry& entry = s.retained[c.next_seq - s.retained.front().seq];
  assert(entry.seq == c.next_seq);
  ReadOutcome out{ReadStatus::Entry, entry.seq, entry.payload, 0};  // SS-5, SS-9
  ++c.next_seq;
  ++c.read_count;
  trim(s);
  return out;
}




}  // namespace

std::optional<std::string> check_gating_graph(const std::vector<std::uint64_t>& gated_on) {
  const auto count = static_cast<std::uint32_t>(gated_on.size());
  if (count == 0 || count > kReaderCountMax) return "consumer count " + std::to_string(count) + " is not in [1, 64]";
  for (std::uint32_t i = 0; i < count; ++i) {
    if ((gated_on[i] & ~all_consumers(count)) != 0) {
      return "consumer " + std::to_string(i) + " is gated on a consumer >= " + std::to_string(count);
    }
    if (bit(gated_on[i], i)) return "consumer " + std::to_string(i) + " is gated on itself";
  }
  // Depth-first search with colours, independent of core's Kahn pass: a back edge is a cycle.
  enum Colour : std::uint8_t { kWhite, kGrey, kBlack };
  std::vector<Colour> colour(count, kWhite);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;  // (consumer, next edge to try)
  for (std::uint32_t root = 0; root < count; ++root) {
    if (colour[root] != kWhite) continue;
    stack.push_back({root, 0});
    colour[root] = kGrey;
    while (!stack.empty()) {
      auto& [node, edge] = stack.back();
      if (edge == count) {
        colour[node] = kBlack;
        stack.pop_back();
        continue;
      }
      const std::uint32_t to = edge++;
      if (!bit(gated_on[node], to)) continue;
      if (colour[to] == kGrey) return "consumer " + std::to_string(to) + " is on a gating cycle";
      if (colour[to] == kWhite) {
        colour[to] = kGrey;
        stack.push_back({to, 0});
      }
    }
  }
  return std::nullopt;
}

std::uint64_t leaf_consumers(const SequencedConfig& config) noexcept {
  std::uint64_t upstream = 0;
  for (const std::uint64_t mask : config.gated_on) upstream |= mask;
  return all_consumers(config.consumer_count()) & ~upstream;
}

SequencedState sequenced_initial_state(const SequencedConfig& config) {
  SequencedState state;
  state.config = config;
  state.consumers.resize(config.consumer_count());
  return state;
}

bool sequenced_op_allowed(const SequencedState& s, const SequencedOp& op) noexcept {
  return std::visit(Overloaded{
                        [&](const SeqPublish&) { return s.closed || s.claimed; },
                        [&](const SeqTryRead& r) { return r.consumer < s.consumers.size(); },
                        [&](const SeqRead& r) { return r.consumer < s.consumers.size(); },
                        [](const auto&) { return true; },
                    },
                    op);
}

std::pair<SequencedState, SequencedResult> sequenced_step(const SequencedState& state, const SequencedOp& op) {
  assert(sequenced_op_allowed(state, op));
  SequencedState next = state;
  SequencedResult result = std::visit(
      Overloaded{
          [&](const SeqTryClaim&) -> SequencedResult { return claim(next, false); },
          [&](const SeqClaim&) -> SequencedResult { return claim(next, true); },
          [&](const SeqPublish& p) -> SequencedResult { return publish(next, p.payload); },
          [&](const SeqClose&) -> SequencedResult {
            next.closed = true;  // idempotent; an outstanding claim stays abandoned (SS-10)
            return SeqCloseOutcome{};
          },
          [&](const SeqTryRead& r) -> SequencedResult { return read(next, r.consumer, false); },
          [&](const SeqRead& r) -> SequencedResult { return read(next, r.consumer, true); },
      },
      op);
  return {std::move(next), std::move(result)};
}

std::uint64_t oldest_held_seq(const SequencedState& s) noexcept {
  if (s.config.on_full != OnFull::Drop) return 0;
  // SS-8: a claim destroys the oldest entry at once, as a begun write does.
  return ring_window::oldest_held(s.written, s.claimed, s.config.capacity_slots);
}

bool sequenced_is_full(const SequencedState& s) noexcept {
  if (s.config.on_full != OnFull::Block) return false;
  return ring_window::block_full(s.written, min_next(s, leaf_consumers(s.config), s.written), s.config.capacity_slots);
}

bool may_read(const SequencedState& s, std::uint32_t consumer) noexcept {
  const std::uint64_t seq = s.consumers[consumer].next_seq;
  if (seq >= s.written) return false;
  return min_next(s, s.config.gated_on[consumer], ~std::uint64_t{0}) > seq;
}

std::optional<std::string> check_invariants(const SequencedState& s) {
  const auto& c = s.config;
  if (!is_power_of_two(c.capacity_slots) || c.capacity_slots > kCapacitySlotsMax) {
    return "capacity_slots " + std::to_string(c.capacity_slots) + " is not a power of two in [1, 2^24]";
  }
  if (c.slot_payload_bytes < kSlotPayloadBytesMin || c.slot_payload_bytes > kSlotPayloadBytesMax ||
      c.slot_payload_bytes % kSlotPayloadBytesAlign != 0) {
    return "slot_payload_bytes " + std::to_string(c.slot_payload_bytes) + " is not a multiple of 8 in [8, 2^20]";
  }
  if (auto gating = check_gating_graph(c.gated_on)) return gating;
  if (s.consumers.size() != c.consumer_count()) return std::string("one consumer state per consumer");
  for (std::uint32_t i = 0; i < s.consumers.size(); ++i) {
    const auto& k = s.consumers[i];
    const std::string who = "consumer " + std::to_string(i);
    if (k.next_seq > s.written) return who + " next_seq " + std::to_string(k.next_seq) + " is ahead of written";
    if (k.read_count + k.lost_count != k.next_seq) return who + ": read_count + lost_count is not next_seq";
    if (c.on_full == OnFull::Block) {
      if (k.lost_count != 0) return who + " lost entries under block";
      if (s.written - k.next_seq > c.capacity_slots) return who + " is more than capacity behind under block";
      for (std::uint32_t j = 0; j < s.consumers.size(); ++j) {
        if (bit(c.gated_on[i], j) && k.next_seq > s.consumers[j].next_seq) {
          return who + " is ahead of consumer " + std::to_string(j) + " it is gated on";
        }
      }
    }
  }
  if (s.claimed && c.on_full == OnFull::Block &&
      s.written - min_next(s, all_consumers(c.consumer_count()), s.written) >= c.capacity_slots) {
    return std::string("a claim is outstanding on a full block lane");
  }
  const std::uint64_t first = first_retained_seq(s);
  if (s.retained.size() != s.written - first) {
    return "retained holds " + std::to_string(s.retained.size()) + " entries, expected " +
           std::to_string(s.written - first);
  }
  for (std::size_t i = 0; i < s.retained.size(); ++i) {
    if (s.retained[i].seq != first + i) return "retained entry " + std::to_string(i) + " has the wrong seq";
    if (s.retained[i].payload.size() > c.slot_payload_bytes) return "retained entry longer than a slot";
  }
  return std::nullopt;
}

std::string describe(const SequencedConfig& c) {
  std::string out = std::string(to_string(c.on_full)) + " capacity " + std::to_string(c.capacity_slots) + " slot " +
                    std::to_string(c.slot_payload_bytes) + " B, gating [";
  for (std::size_t i = 0; i < c.gated_on.size(); ++i) {
    if (i != 0) out += ' ';
    std::ostringstream hex;
    hex << std::hex << c.gated_on[i];
    out += hex.str();
  }
  return out + "]";
}

std::string describe(const SequencedOp& op) {
  return std::visit(Overloaded{
                        [](const SeqTryClaim&) { return std::string("TryClaim"); },
                        [](const SeqClaim&) { return std::string("Claim"); },
                        [](const SeqPublish& p) { return "Publish(" + describe_payload(p.payload) + ")"; },
                        [](const SeqClose&) { return std::string("Close"); },
                        [](const SeqTryRead& r) { return "TryRead(" + std::to_string(r.consumer) + ")"; },
                        [](const SeqRead& r) { return "Read(" + std::to_string(r.consumer) + ")"; },
                    },
                    op);
}

std::string describe(const SequencedResult& result) {
  return std::visit(Overloaded{
                        [](const SeqClaimOutcome& c) {
                          std::string out(to_string(c.status));
                          if (c.status == WriteStatus::Ok) out += "{seq " + std::to_string(c.seq) + "}";
                          return out;
                        },
                        [](const SeqPublishOutcome& p) { return std::string(to_string(p.status)); },
                        [](const SeqCloseOutcome&) { return std::string("closed"); },
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

std::string describe(const SequencedState& s) {
  std::ostringstream os;
  os << describe(s.config) << ": written " << s.written << (s.claimed ? " (+claim)" : "")
     << (s.closed ? ", closed" : "") << ", consumers";
  for (const auto& k : s.consumers) os << " " << k.next_seq << "=" << k.read_count << "+" << k.lost_count;
  os << ", retained " << s.retained.size();
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const SequencedConfig& v) { return os << describe(v); }
std::ostream& operator<<(std::ostream& os, const SequencedOp& v) { return os << describe(v); }
std::ostream& operator<<(std::ostream& os, const SequencedResult& v) { return os << describe(v); }
std::ostream& operator<<(std::ostream& os, const SequencedState& v) { return os << describe(v); }

std::size_t hash_value(const SequencedConfig& c) noexcept {
  std::size_t seed = 0;
  hash_combine(seed, c.capacity_slots);
  hash_combine(seed, c.slot_payload_bytes);
  hash_combine(seed, static_cast<std::uint64_t>(c.on_full));
  for (const std::uint64_t mask : c.gated_on) hash_combine(seed, mask);
  return seed;
}

std::size_t hash_observable(const SequencedState& s) noexcept {
  // Every field but the consumers' read_count and lost_count, which no result reveals and no step
  // reads (events_model.hpp, hash_observable).
  std::size_t seed = hash_value(s.config);
  hash_combine(seed, s.written);
  hash_combine(seed, (s.claimed ? 1u : 0u) | (s.closed ? 2u : 0u));
  for (const auto& k : s.consumers) hash_combine(seed, k.next_seq);
  hash_retained(seed, s.retained);
  return seed;
}

std::size_t hash_value(const SequencedState& s) noexcept {
  std::size_t seed = hash_observable(s);
  for (const auto& k : s.consumers) {
    hash_combine(seed, k.read_count);
    hash_combine(seed, k.lost_count);
  }
  return seed;
}

}  // namespace indexbus::spec

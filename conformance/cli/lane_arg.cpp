#include "lane_arg.hpp"

#include <charconv>
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace indexbus::cli {
namespace {

Error usage(std::string_view text, const std::string& what) {
  return Error{ErrorCode::BadLaneKind, "--lane '" + std::string(text) + "': " + what};
}

bool parse_u64(std::string_view digits, std::uint64_t& out) {
  if (digits.empty()) return false;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

bool parse_u32(std::string_view digits, std::uint32_t& out) {
  std::uint64_t value = 0;
  if (!parse_u64(digits, value) || value > std::numeric_limits<std::uint32_t>::max()) return false;
  out = static_cast<std::uint32_t>(value);
  return true;
}

// "1<0/2<0+1": consumer 1 is gated on 0; consumer 2 on 0 and 1. Consumers not named are not
// gated. Ranges and cycles are checked afterwards by check_lane_spec, with its messages.
std::optional<std::string> parse_gates(std::string_view text, std::vector<std::uint64_t>& masks) {
  masks.assign(kReaderCountMax, 0);
  // Every pass consumes at least one character.
  while (!text.empty()) {
    const auto slash = text.find('/');
    const std::string_view item = text.substr(0, slash);
    text = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
    const auto less = item.find('<');
    std::uint32_t consumer = 0;
    if (less == std::string_view::npos || !parse_u32(item.substr(0, less), consumer) ||
        consumer >= kReaderCountMax) {
      return "gate '" + std::string(item) + "' is not <consumer><<upstream>[+<upstream>...] with consumers below 64";
    }
    std::string_view ups = item.substr(less + 1);
    do {
      const auto plus = ups.find('+');
      std::uint32_t upstream = 0;
      if (!parse_u32(ups.substr(0, plus), upstream) || upstream >= kReaderCountMax) {
        return "gate '" + std::string(item) + "' names upstream '" + std::string(ups.substr(0, plus)) +
               "', not a consumer index below 64";
      }
      masks[consumer] |= std::uint64_t{1} << upstream;
      ups = plus == std::string_view::npos ? std::string_view{} : ups.substr(plus + 1);
    } while (!ups.empty());
  }
  return std::nullopt;
}

}  // namespace

Result<LaneSpec> parse_lane_arg(std::string_view text, std::uint32_t lane_index) {
  LaneSpec spec;
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  if (kind == "events") {
    spec.kind = LaneKind::Events;
  } else if (kind == "journal") {
    spec.kind = LaneKind::Journal;
  } else if (kind == "sequenced_slots") {
    spec.kind = LaneKind::SequencedSlots;
  } else if (kind == "fanout_broadcast") {
    spec.kind = LaneKind::FanoutBroadcast;
  } else {
    return usage(text, "kind '" + std::string(kind) +
                           "' is not one of events, journal, sequenced_slots, fanout_broadcast");
  }
  std::string_view rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  // At most one pass per character: every iteration consumes at least one.
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      return usage(text, "'" + std::string(item) + "' is not key=value");
    }
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "on_full") {
      if (value == "block") {
        spec.on_full = OnFull::Block;
      } else if (value == "drop") {
        spec.on_full = OnFull::Drop;
      } else {
        return usage(text, "on_full '" + std::string(value) + "' is not block or drop");
      }
      continue;
    }
    if (key == "timeout_ns") {
      if (!parse_u64(value, spec.reader_timeout_ns)) {
        return usage(text, "timeout_ns '" + std::string(value) + "' is not an unsigned 64-bit integer");
      }
      continue;
    }
    if (key == "gates") {
      if (auto problem = parse_gates(value, spec.gated_on)) return usage(text, *problem);
      continue;
    }
    std::uint32_t* target = nullptr;
    if (key == "capacity") target = &spec.capacity_slots;
    if (key == "slot") target = &spec.slot_payload_bytes;
    if (key == "readers") target = &spec.reader_count;
    if (target == nullptr) {
      return usage(text, "unknown key '" + std::string(key) +
                             "' (expected capacity, slot, on_full, readers, timeout_ns or gates)");
    }
    if (!parse_u32(value, *target)) {
      return usage(text, std::string(key) + " '" + std::string(value) +
                             "' is not an unsigned 32-bit integer");
    }
  }
  if (!spec.gated_on.empty()) {
    // parse_gates filled 64 masks; a bit at or above reader_count is reported by check_gating.
    for (std::uint32_t i = spec.reader_count; i < spec.gated_on.size(); ++i) {
      if (spec.gated_on[i] != 0) {
        return usage(text, "gates names consumer " + std::to_string(i) + " but readers is " +
                               std::to_string(spec.reader_count));
      }
    }
    spec.gated_on.resize(std::min<std::size_t>(spec.reader_count, kReaderCountMax));
  }
  if (auto error = check_lane_spec(lane_index, spec)) {
    return Error{error->code, "--lane '" + std::string(text) + "': " + error->message};
  }
  return spec;
}

}  // namespace indexbus::cli

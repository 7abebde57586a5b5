#include "lane_arg.hpp"

#include <charconv>
#include <limits>

namespace indexbus::cli {
namespace {

Error usage(std::string_view text, const std::string& what) {
  return Error{ErrorCode::BadLaneKind, "--lane '" + std::string(text) + "': " + what};
}

bool parse_u32(std::string_view digits, std::uint32_t& out) {
  if (digits.empty()) return false;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return false;
  if (value > std::numeric_limits<std::uint32_t>::max()) return false;
  out = static_cast<std::uint32_t>(value);
  return true;
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
    std::uint32_t* target = nullptr;
    if (key == "capacity") target = &spec.capacity_slots;
    if (key == "slot") target = &spec.slot_payload_bytes;
    if (key == "readers") target = &spec.reader_count;
    if (target == nullptr) {
      return usage(text, "unknown key '" + std::string(key) +
                             "' (expected capacity, slot, on_full or readers)");
    }
    if (!parse_u32(value, *target)) {
      return usage(text, std::string(key) + " '" + std::string(value) +
                             "' is not an unsigned 32-bit integer");
    }
  }
  if (auto error = check_lane_spec(lane_index, spec)) {
    return Error{error->code, "--lane '" + std::string(text) + "': " + error->message};
  }
  return spec;
}

}  // namespace indexbus::cli

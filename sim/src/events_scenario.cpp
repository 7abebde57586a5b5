#include "indexbus/sim/events_scenario.hpp"

#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "indexbus/sim/scenario_text.hpp"

namespace indexbus::sim::events {
namespace {

using text::parse_u64;
using text::set_error;
using text::split;

std::optional<OpSpec> parse_op(std::string_view token, bool producer) {
  if (token.empty()) return std::nullopt;
  OpSpec op;
  const char head = token[0];
  std::string_view rest = token.substr(1);
  std::uint64_t timeout = kNoDeadline;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    if (!parse_u64(rest.substr(at + 1), timeout)) return std::nullopt;
    rest = rest.substr(0, at);
  }
  std::uint64_t bytes = 0;
  if (producer) {
    switch (head) {
      case 'w': op.kind = OpKind::TryWrite; break;
      case 'W': op.kind = OpKind::Write; break;
      case 'C': op.kind = OpKind::Close; return rest.empty() ? std::optional(op) : std::nullopt;
      default: return std::nullopt;
    }
    if (!parse_u64(rest, bytes) || bytes > kSlotPayloadBytesMax + 8) return std::nullopt;
    op.payload_bytes = static_cast<std::uint32_t>(bytes);
    if (op.kind == OpKind::Write) op.timeout_ns = timeout;
    return op;
  }
  if (!rest.empty()) return std::nullopt;
  switch (head) {
    case 'r': op.kind = OpKind::TryRead; break;
    case 'R': op.kind = OpKind::Read; op.timeout_ns = timeout; break;
    case 'D': op.kind = OpKind::Drain; break;
    default: return std::nullopt;
  }
  return op;
}

std::string join_ops(const std::vector<OpSpec>& ops) {
  std::string out;
  for (const OpSpec& op : ops) {
    if (!out.empty()) out += ',';
    switch (op.kind) {
      case OpKind::TryWrite: out += "w" + std::to_string(op.payload_bytes); break;
      case OpKind::Write: out += "W" + std::to_string(op.payload_bytes); break;
      case OpKind::Close: out += "C"; break;
      case OpKind::TryRead: out += "r"; break;
      case OpKind::Read: out += "R"; break;
      case OpKind::Drain: out += "D"; break;
    }
    if ((op.kind == OpKind::Write || op.kind == OpKind::Read) && op.timeout_ns != kNoDeadline) {
      out += "@" + std::to_string(op.timeout_ns);
    }
  }
  return out;
}

bool valid(const Scenario& s, std::string* error) {
  if (!is_power_of_two(s.config.capacity_slots) || s.config.capacity_slots > 64) {
    return set_error(error, "cap must be a power of two in [1, 64]");
  }
  if (s.config.slot_payload_bytes < 8 || s.config.slot_payload_bytes > kSlotPayloadBytesMax ||
      s.config.slot_payload_bytes % 8 != 0) {
    return set_error(error, "slot must be a multiple of 8 in [8, " + std::to_string(kSlotPayloadBytesMax) + "]");
  }
  if (s.producer.size() > kOpsPerActorMax || s.consumer.size() > kOpsPerActorMax) {
    return set_error(error, "at most " + std::to_string(kOpsPerActorMax) + " ops per actor");
  }
  return true;
}

}  // namespace

std::string describe(const OpSpec& op) { return join_ops({op}); }

std::string to_string(const Scenario& s) {
  return std::string(indexbus::to_string(s.config.on_full)) + ",cap=" + std::to_string(s.config.capacity_slots) +
         ",slot=" + std::to_string(s.config.slot_payload_bytes) + (s.parking ? ",park" : ",poll") +
         ";p:" + join_ops(s.producer) + ";c:" + join_ops(s.consumer);
}

std::optional<Scenario> parse_scenario(std::string_view text, std::string* error) {
  const auto parts = split(text, ';');
  if (parts.size() != 3) {
    set_error(error, "expected '<config>;p:<ops>;c:<ops>'");
    return std::nullopt;
  }
  Scenario s;
  s.producer.clear();
  s.consumer.clear();
  for (std::string_view field : split(parts[0], ',')) {
    std::uint64_t value = 0;
    if (field == "block") {
      s.config.on_full = OnFull::Block;
    } else if (field == "drop") {
      s.config.on_full = OnFull::Drop;
    } else if (field == "park") {
      s.parking = true;
    } else if (field == "poll") {
      s.parking = false;
    } else if (field.starts_with("cap=") && parse_u64(field.substr(4), value) && value <= 1u << 24) {
      s.config.capacity_slots = static_cast<std::uint32_t>(value);
    } else if (field.starts_with("slot=") && parse_u64(field.substr(5), value) && value <= 1u << 20) {
      s.config.slot_payload_bytes = static_cast<std::uint32_t>(value);
    } else {
      set_error(error, "unknown config field '" + std::string(field) + "'");
      return std::nullopt;
    }
  }
  for (int side = 0; side < 2; ++side) {
    std::string_view list = parts[1 + side];
    const std::string_view prefix = side == 0 ? "p:" : "c:";
    if (!list.starts_with(prefix)) {
      set_error(error, "expected '" + std::string(prefix) + "'");
      return std::nullopt;
    }
    list.remove_prefix(2);
    if (list.empty()) continue;
    for (std::string_view token : split(list, ',')) {
      auto op = parse_op(token, side == 0);
      if (!op) {
        set_error(error, "bad op '" + std::string(token) + "'");
        return std::nullopt;
      }
      (side == 0 ? s.producer : s.consumer).push_back(*op);
    }
  }
  if (!valid(s, error)) return std::nullopt;
  return s;
}

void to_json(nlohmann::json& out, const Scenario& s) {
  out = nlohmann::json{{"lane", "events"},
                       {"on_full", std::string(indexbus::to_string(s.config.on_full))},
                       {"capacity_slots", s.config.capacity_slots},
                       {"slot_payload_bytes", s.config.slot_payload_bytes},
                       {"waiting", s.parking ? "park" : "poll"},
                       {"producer", join_ops(s.producer)},
                       {"consumer", join_ops(s.consumer)},
                       {"compact", to_string(s)}};
}

std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error) {
  try {
    if (in.contains("compact")) return parse_scenario(in.at("compact").get<std::string>(), error);
    const std::string text = in.at("on_full").get<std::string>() +
                             ",cap=" + std::to_string(in.at("capacity_slots").get<std::uint32_t>()) +
                             ",slot=" + std::to_string(in.at("slot_payload_bytes").get<std::uint32_t>()) +
                             "," + in.value("waiting", std::string("park")) +
                             ";p:" + in.at("producer").get<std::string>() +
                             ";c:" + in.at("consumer").get<std::string>();
    return parse_scenario(text, error);
  } catch (const nlohmann::json::exception& e) {
    set_error(error, e.what());
    return std::nullopt;
  }
}

spec::Bytes payload_of(std::size_t op_index, std::uint32_t bytes) {
  spec::Bytes out(bytes);
  for (std::size_t j = 0; j < bytes; ++j) out[j] = payload_byte(op_index, j);
  return out;
}

rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params) {
  using namespace rc;
  // Timeouts short enough to expire while the other actor is mid-operation (one step is 1 ns).
  const auto timeout = gen::oneOf(gen::just(kNoDeadline), gen::inRange<std::uint64_t>(0, 60));
  // Element generators at full size (inRange scales its range with size); the lists at ops_max.
  const auto writes = gen::container<std::vector<OpSpec>>(gen::resize(kNominalSize,
      gen::map(gen::tuple(gen::inRange(0, 8), gen::inRange<std::uint32_t>(0, 3), timeout),
               [](const std::tuple<int, std::uint32_t, std::uint64_t>& t) {
                 const auto [kind, words, timeout_ns] = t;
                 OpSpec op;
                 // Mostly writes; a payload one byte too large now and then (TooLarge).
                 op.kind = kind == 0 ? OpKind::TryWrite : OpKind::Write;
                 op.payload_bytes = words * 8 + (kind == 7 ? 1 : 0);
                 op.timeout_ns = op.kind == OpKind::Write ? timeout_ns : kNoDeadline;
                 return op;
               })));
  const auto reads = gen::container<std::vector<OpSpec>>(gen::resize(kNominalSize,
      gen::map(gen::tuple(gen::inRange(0, 3), timeout), [blocking = params.blocking_reads_only](
                                                             const std::tuple<int, std::uint64_t>& t) {
        OpSpec op;
        op.kind = std::get<0>(t) == 0 && !blocking ? OpKind::TryRead : OpKind::Read;
        op.timeout_ns = op.kind == OpKind::Read && !blocking ? std::get<1>(t) : kNoDeadline;
        return op;
      })));
  const std::uint32_t ops_max = params.ops_max;
  const auto on_full = params.on_full ? gen::just(*params.on_full) : gen::element(OnFull::Block, OnFull::Drop);
  const auto capacity = params.capacity_slots ? gen::just(*params.capacity_slots)
                                              : gen::element<std::uint32_t>(1u, 2u, 4u);
  const auto parking = params.parking ? gen::just(*params.parking) : gen::element(true, false);
  const auto scenario = gen::map(
      gen::tuple(on_full, capacity, parking, gen::resize(static_cast<int>(ops_max), writes),
                 gen::resize(static_cast<int>(ops_max), reads), gen::inRange(0, 3)),
      [ops_max](const std::tuple<OnFull, std::uint32_t, bool, std::vector<OpSpec>, std::vector<OpSpec>, int>& t) {
        Scenario s;
        s.config = spec::EventsConfig{std::get<1>(t), 16, std::get<0>(t)};
        s.parking = std::get<2>(t);
        s.producer = std::get<3>(t);
        s.consumer = std::get<4>(t);
        if (s.producer.size() > ops_max) s.producer.resize(ops_max);
        if (s.consumer.size() > ops_max) s.consumer.resize(ops_max);
        s.producer.push_back(OpSpec{OpKind::Close, 0, kNoDeadline});
        // Now and then a write after the close, which must answer Closed (EV-10).
        if (const int after = std::get<5>(t); after != 0) {
          s.producer.push_back(OpSpec{after == 1 ? OpKind::TryWrite : OpKind::Write, 8, kNoDeadline});
        }
        s.consumer.push_back(OpSpec{OpKind::Drain, 0, kNoDeadline});
        return s;
      });
  return scenario(Random(seed), kNominalSize);
}

std::vector<Scenario> simple_shrinks(const Scenario& s) {
  std::vector<Scenario> out;
  for (int side = 0; side < 2; ++side) {
    const auto& ops = side == 0 ? s.producer : s.consumer;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == OpKind::Close || ops[i].kind == OpKind::Drain) continue;
      Scenario smaller = s;
      auto& list = side == 0 ? smaller.producer : smaller.consumer;
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(smaller));
    }
  }
  if (s.config.capacity_slots > 1) {
    Scenario smaller = s;
    smaller.config.capacity_slots /= 2;
    out.push_back(std::move(smaller));
  }
  return out;
}

Scenario writes_then_reads(OnFull on_full, std::uint32_t capacity_slots, std::uint32_t count, bool parking) {
  Scenario s;
  s.config = spec::EventsConfig{capacity_slots, 16, on_full};
  s.parking = parking;
  s.producer.assign(count, OpSpec{OpKind::Write, 16, kNoDeadline});
  s.consumer.assign(count, OpSpec{OpKind::Read, 0, kNoDeadline});
  if (on_full == OnFull::Drop) {
    // Under Drop reads may see Lost, so the consumer could wait for entries that were dropped:
    // close and drain instead of a fixed count.
    s.producer.push_back(OpSpec{OpKind::Close, 0, kNoDeadline});
    s.consumer.back() = OpSpec{OpKind::Drain, 0, kNoDeadline};
  }
  return s;
}

}  // namespace indexbus::sim::events

#include "indexbus/sim/loop_scenario.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "indexbus/sim/scenario_text.hpp"

namespace indexbus::sim::loops {
namespace {

using text::parse_u64;
using text::set_error;
using text::split;

constexpr const char* kRouterPolicies[] = {"round_robin", "key_hash", "broadcast"};
constexpr const char* kMergePolicies[] = {"round_robin", "sequence", "arrival"};

std::optional<OpSpec> parse_op(std::string_view token) {
  if (token.empty()) return std::nullopt;
  OpSpec op;
  switch (token[0]) {
    case 'w': op.kind = OpKind::TryWrite; break;
    case 'W': op.kind = OpKind::Write; break;
    case 'C':
      op.kind = OpKind::Close;
      return token.size() == 1 ? std::optional(op) : std::nullopt;
    default: return std::nullopt;
  }
  if (!parse_u64(token.substr(1), op.key)) return std::nullopt;
  return op;
}

std::string join_ops(const std::vector<OpSpec>& ops) {
  std::string out;
  for (const OpSpec& op : ops) {
    if (!out.empty()) out += ',';
    switch (op.kind) {
      case OpKind::TryWrite: out += "w" + std::to_string(op.key); break;
      case OpKind::Write: out += "W" + std::to_string(op.key); break;
      case OpKind::Close: out += "C"; break;
    }
  }
  return out;
}

std::string join_lanes(const std::vector<LaneSpec>& lanes) {
  std::string out;
  for (const LaneSpec& lane : lanes) {
    if (!out.empty()) out += ',';
    out += std::string(to_string(lane.on_full)) + std::to_string(lane.capacity_slots);
  }
  return out;
}

bool parse_lanes(std::string_view text, std::vector<LaneSpec>& out, std::string* error) {
  for (std::string_view token : split(text, ',')) {
    LaneSpec lane;
    std::string_view digits;
    if (token.starts_with("block")) {
      lane.on_full = OnFull::Block;
      digits = token.substr(5);
    } else if (token.starts_with("drop")) {
      lane.on_full = OnFull::Drop;
      digits = token.substr(4);
    } else {
      return set_error(error, "lane '" + std::string(token) + "': expected block<capacity> or drop<capacity>");
    }
    std::uint64_t capacity = 0;
    if (!parse_u64(digits, capacity) || capacity == 0 || capacity > kCapacitySlotsMax ||
        !is_power_of_two(static_cast<std::uint32_t>(capacity))) {
      return set_error(error, "lane '" + std::string(token) + "': capacity must be a power of two in [1, " +
                                  std::to_string(kCapacitySlotsMax) + "]");
    }
    lane.capacity_slots = static_cast<std::uint32_t>(capacity);
    out.push_back(lane);
  }
  return true;
}

bool valid(const Scenario& s, std::string* error) {
  const bool router = s.kind == LoopKind::Router;
  const std::size_t fan = router ? s.outputs.size() : s.inputs.size();
  const std::size_t single = router ? s.inputs.size() : s.outputs.size();
  if (single != 1) {
    return set_error(error, std::string(router ? "in" : "out") + ": expected exactly 1 lane, found " +
                                std::to_string(single));
  }
  if (fan < 1 || fan > kLoopLanesMax) {
    return set_error(error, std::string(router ? "out" : "in") + ": expected 1 to " + std::to_string(kLoopLanesMax) +
                                " lanes, found " + std::to_string(fan));
  }
  if (s.producers.size() != s.inputs.size()) {
    return set_error(error, "expected one producer (p0:..) per input lane (" + std::to_string(s.inputs.size()) +
                                "), found " + std::to_string(s.producers.size()));
  }
  for (const auto& ops : s.producers) {
    if (ops.size() > kWritesPerProducerMax + 1) return set_error(error, "too many producer ops");
  }
  return true;
}

}  // namespace

std::array<std::byte, kLoopSlotBytes> entry_of(std::uint32_t input, std::uint32_t op_index, std::uint64_t key) noexcept {
  std::array<std::byte, kLoopSlotBytes> out{};
  const std::uint64_t tag = (std::uint64_t{input} << 32) | op_index;
  // Little-endian by construction (RT-4 reads the key byte by byte), whatever the host.
  for (std::uint32_t b = 0; b < 8; ++b) {
    out[b] = static_cast<std::byte>(key >> (8 * b));
    out[8 + b] = static_cast<std::byte>(tag >> (8 * b));
  }
  return out;
}

std::optional<LoopKind> parse_loop_kind(std::string_view text) noexcept {
  if (text == "router") return LoopKind::Router;
  if (text == "merge") return LoopKind::Merge;
  return std::nullopt;
}

const char* to_string(LoopKind kind) noexcept { return kind == LoopKind::Router ? "router" : "merge"; }

std::optional<std::uint8_t> parse_policy(LoopKind kind, std::string_view text) noexcept {
  const auto& names = kind == LoopKind::Router ? kRouterPolicies : kMergePolicies;
  for (std::uint8_t i = 0; i < 3; ++i) {
    if (text == names[i]) return static_cast<std::uint8_t>(i + 1);
  }
  return std::nullopt;
}

std::string policy_name(LoopKind kind, std::uint8_t policy) {
  if (policy < 1 || policy > 3) return "policy" + std::to_string(policy);
  return (kind == LoopKind::Router ? kRouterPolicies : kMergePolicies)[policy - 1];
}

std::string describe(const OpSpec& op) { return join_ops({op}); }

std::string to_string(const Scenario& s) {
  std::string out = std::string(to_string(s.kind)) + "," + policy_name(s.kind, s.policy) +
                    (s.parking ? ",park" : ",poll") + ";in:" + join_lanes(s.inputs) + ";out:" + join_lanes(s.outputs);
  for (std::size_t i = 0; i < s.producers.size(); ++i) out += ";p" + std::to_string(i) + ":" + join_ops(s.producers[i]);
  return out;
}

std::optional<Scenario> parse_scenario(std::string_view text, std::string* error) {
  const auto parts = split(text, ';');
  if (parts.size() < 4) {
    set_error(error, "expected '<router|merge>,<policy>,<park|poll>;in:<lanes>;out:<lanes>;p0:<ops>[;p1:<ops>..]'");
    return std::nullopt;
  }
  Scenario s;
  const auto fields = split(parts[0], ',');
  const auto kind = parse_loop_kind(fields[0]);
  if (!kind) {
    set_error(error, "loop kind '" + std::string(fields[0]) + "': expected router or merge");
    return std::nullopt;
  }
  s.kind = *kind;
  if (fields.size() != 3) {
    set_error(error, "expected '<router|merge>,<policy>,<park|poll>' before the first ';', found '" +
                         std::string(parts[0]) + "'");
    return std::nullopt;
  }
  const auto policy = parse_policy(s.kind, fields[1]);
  if (!policy) {
    set_error(error, "policy '" + std::string(fields[1]) + "': expected " +
                         (s.kind == LoopKind::Router ? "round_robin, key_hash or broadcast"
                                                     : "round_robin, sequence or arrival"));
    return std::nullopt;
  }
  s.policy = *policy;
  if (fields[2] != "park" && fields[2] != "poll") {
    set_error(error, "waiting '" + std::string(fields[2]) + "': expected park or poll");
    return std::nullopt;
  }
  s.parking = fields[2] == "park";
  if (!parts[1].starts_with("in:") || !parse_lanes(parts[1].substr(3), s.inputs, error)) {
    if (!parts[1].starts_with("in:")) set_error(error, "expected 'in:<lanes>' after the configuration");
    return std::nullopt;
  }
  if (!parts[2].starts_with("out:") || !parse_lanes(parts[2].substr(4), s.outputs, error)) {
    if (!parts[2].starts_with("out:")) set_error(error, "expected 'out:<lanes>' after 'in:'");
    return std::nullopt;
  }
  for (std::size_t i = 3; i < parts.size(); ++i) {
    const std::string prefix = "p" + std::to_string(i - 3) + ":";
    if (!parts[i].starts_with(prefix)) {
      set_error(error, "expected '" + prefix + "<ops>', found '" + std::string(parts[i]) + "'");
      return std::nullopt;
    }
    auto& ops = s.producers.emplace_back();
    const std::string_view body = parts[i].substr(prefix.size());
    if (body.empty()) continue;
    for (std::string_view token : split(body, ',')) {
      const auto op = parse_op(token);
      if (!op) {
        set_error(error, "producer op '" + std::string(token) + "': expected W<key>, w<key> or C");
        return std::nullopt;
      }
      ops.push_back(*op);
    }
  }
  if (!valid(s, error)) return std::nullopt;
  return s;
}

void to_json(nlohmann::json& out, const Scenario& s) {
  out = nlohmann::json{{"compact", to_string(s)},
                       {"loop", to_string(s.kind)},
                       {"policy", policy_name(s.kind, s.policy)},
                       {"waiting", s.parking ? "park" : "poll"},
                       {"inputs", join_lanes(s.inputs)},
                       {"outputs", join_lanes(s.outputs)}};
  auto& producers = out["producers"] = nlohmann::json::array();
  for (const auto& ops : s.producers) producers.push_back(join_ops(ops));
}

std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error) {
  try {
    if (in.contains("compact")) return parse_scenario(in.at("compact").get<std::string>(), error);
    std::string text = in.at("loop").get<std::string>() + "," + in.at("policy").get<std::string>() + "," +
                       in.value("waiting", std::string("park")) + ";in:" + in.at("inputs").get<std::string>() +
                       ";out:" + in.at("outputs").get<std::string>();
    const auto& producers = in.at("producers");
    for (std::size_t i = 0; i < producers.size(); ++i) {
      text += ";p" + std::to_string(i) + ":" + producers.at(i).get<std::string>();
    }
    return parse_scenario(text, error);
  } catch (const nlohmann::json::exception& e) {
    set_error(error, e.what());
    return std::nullopt;
  }
}

rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params) {
  using namespace rc;
  // Keys 0..3: Sequence sees ties and KeyHash uses few outputs more than once.
  const auto write = gen::map(gen::tuple(gen::inRange(0, 4), gen::inRange<std::uint64_t>(0, 4)),
                              [](const std::tuple<int, std::uint64_t>& t) {
                                return OpSpec{std::get<0>(t) == 0 ? OpKind::TryWrite : OpKind::Write, std::get<1>(t)};
                              });
  const auto writes =
      gen::resize(static_cast<int>(params.ops_max), gen::container<std::vector<OpSpec>>(gen::resize(kNominalSize, write)));
  const auto on_full = params.on_full ? gen::just(*params.on_full) : gen::element(OnFull::Block, OnFull::Block, OnFull::Drop);
  const auto capacity = params.capacity_slots ? gen::just(*params.capacity_slots) : gen::element<std::uint32_t>(1u, 2u, 4u);
  const auto lane = gen::map(gen::tuple(on_full, capacity), [](const std::tuple<OnFull, std::uint32_t>& t) {
    return LaneSpec{std::get<0>(t), std::get<1>(t)};
  });
  const auto lanes = gen::container<std::vector<LaneSpec>>(kLoopLanesMax + 1, lane);
  const auto producers = gen::container<std::vector<std::vector<OpSpec>>>(kLoopLanesMax, writes);
  const auto fan = params.lanes ? gen::just(*params.lanes) : gen::inRange<std::uint32_t>(1, kLoopLanesMax + 1);
  const auto policy = params.policy ? gen::just(*params.policy) : gen::inRange<std::uint8_t>(1, 4);
  const auto parking = params.parking ? gen::just(*params.parking) : gen::element(true, false);
  const LoopKind kind = params.kind;
  const std::uint32_t ops_max = params.ops_max;
  const auto scenario = gen::map(
      gen::tuple(policy, parking, fan, lanes, producers),
      [kind, ops_max](const std::tuple<std::uint8_t, bool, std::uint32_t, std::vector<LaneSpec>,
                                       std::vector<std::vector<OpSpec>>>& t) {
        const auto& [policy_value, parking_value, fan_count, lane_specs, producer_ops] = t;
        Scenario s;
        s.kind = kind;
        s.policy = policy_value;
        s.parking = parking_value;
        const std::uint32_t n = std::min(fan_count, kLoopLanesMax);
        const std::uint32_t input_count = kind == LoopKind::Router ? 1 : n;
        for (std::uint32_t i = 0; i < input_count; ++i) s.inputs.push_back(lane_specs[i]);
        for (std::uint32_t o = 0; o < (kind == LoopKind::Router ? n : 1); ++o) s.outputs.push_back(lane_specs[input_count + o]);
        for (std::uint32_t i = 0; i < input_count; ++i) {
          auto ops = producer_ops[i];
          if (ops.size() > ops_max) ops.resize(ops_max);
          ops.push_back(OpSpec{OpKind::Close, 0});
          s.producers.push_back(std::move(ops));
        }
        return s;
      });
  return scenario(Random(seed), kNominalSize);
}

std::vector<Scenario> simple_shrinks(const Scenario& s) {
  std::vector<Scenario> out;
  for (std::size_t p = 0; p < s.producers.size(); ++p) {
    for (std::size_t i = 0; i < s.producers[p].size(); ++i) {
      if (s.producers[p][i].kind == OpKind::Close) continue;
      Scenario smaller = s;
      smaller.producers[p].erase(smaller.producers[p].begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(smaller));
    }
  }
  for (auto lanes : {&Scenario::inputs, &Scenario::outputs}) {
    for (std::size_t l = 0; l < (s.*lanes).size(); ++l) {
      if ((s.*lanes)[l].capacity_slots == 1) continue;
      Scenario smaller = s;
      (smaller.*lanes)[l].capacity_slots /= 2;
      out.push_back(std::move(smaller));
    }
  }
  if (s.kind == LoopKind::Router && s.outputs.size() > 1) {
    Scenario smaller = s;
    smaller.outputs.pop_back();
    out.push_back(std::move(smaller));
  }
  if (s.kind == LoopKind::Merge && s.inputs.size() > 1) {
    Scenario smaller = s;
    smaller.inputs.pop_back();
    smaller.producers.pop_back();
    out.push_back(std::move(smaller));
  }
  return out;
}

}  // namespace indexbus::sim::loops

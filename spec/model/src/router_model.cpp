#include "indexbus/spec/router_model.hpp"

#include <cassert>

namespace indexbus::spec {

std::uint64_t key_mix64(std::uint64_t x) noexcept {
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t entry_key(const Bytes& payload, std::uint32_t key_offset_bytes) noexcept {
  std::uint64_t key = 0;
  for (std::uint32_t b = 0; b < 8; ++b) {
    const std::uint64_t at = std::uint64_t{key_offset_bytes} + b;
    if (at >= payload.size()) break;  // RT-4: bytes past the payload read as zero
    key |= std::uint64_t{std::to_integer<std::uint8_t>(payload[at])} << (8 * b);
  }
  return key;
}

bool key_is_short(const Bytes& payload, std::uint32_t key_offset_bytes) noexcept {
  return payload.size() < std::uint64_t{key_offset_bytes} + 8;
}

std::vector<std::uint32_t> route_targets(const RouterModelConfig& config, const Bytes& payload,
                                         std::uint64_t entry_index) {
  assert(config.outputs >= 1);
  assert(config.outputs <= kLoopLanesMax);
  switch (config.policy) {
    case RouterPolicy::RoundRobin:
      return {static_cast<std::uint32_t>(entry_index % config.outputs)};
    case RouterPolicy::KeyHash:
      return {static_cast<std::uint32_t>(key_mix64(entry_key(payload, config.key_offset_bytes)) %
                                         config.outputs)};
    case RouterPolicy::Broadcast: {
      std::vector<std::uint32_t> all(config.outputs);
      for (std::uint32_t o = 0; o < config.outputs; ++o) all[o] = o;
      return all;
    }
  }
  assert(false);
  return {};
}

std::vector<std::vector<std::uint64_t>> route(const RouterModelConfig& config,
                                              const std::vector<Bytes>& entries) {
  std::vector<std::vector<std::uint64_t>> per_output(config.outputs);
  for (std::uint64_t j = 0; j < entries.size(); ++j) {
    for (const std::uint32_t o : route_targets(config, entries[j], j)) per_output[o].push_back(j);
  }
  return per_output;
}

RouterSystem initial_router_system(const RouterModelConfig& config, const EventsConfig& input,
                                   const std::vector<EventsConfig>& outputs) {
  assert(outputs.size() == config.outputs);
  RouterSystem system;
  system.config = config;
  system.input = initial_state(input);
  for (const EventsConfig& output : outputs) {
    assert(output.slot_payload_bytes >= input.slot_payload_bytes);  // RT-1
    system.outputs.push_back(initial_state(output));
  }
  system.pending.assign(config.outputs, false);
  return system;
}

std::pair<RouterSystem, LoopStatus> router_step(const RouterSystem& before) {
  RouterSystem s = before;
  if (s.closed) return {s, LoopStatus::Closed};
  bool progress = false;
  if (!s.held) {
    auto [input, result] = step(s.input, TryRead{});
    s.input = std::move(input);
    const auto& read = std::get<ReadOutcome>(result);
    switch (read.status) {
      case ReadStatus::Entry: {
        s.held = read.payload;
        for (const std::uint32_t o : route_targets(s.config, read.payload, s.routed_count)) s.pending[o] = true;
        if (s.config.policy == RouterPolicy::KeyHash && key_is_short(read.payload, s.config.key_offset_bytes)) {
          ++s.short_key_count;
        }
        ++s.routed_count;
        progress = true;
        break;
      }
      case ReadStatus::Lost:  // RT-9
        s.input_lost_count += read.lost_count;
        return {s, LoopStatus::Progress};
      case ReadStatus::Closed:  // RT-10
        for (EventsState& output : s.outputs) output = step(output, Close{}).first;
        s.closed = true;
        return {s, LoopStatus::Closed};
      default:
        return {s, LoopStatus::Idle};
    }
  }
  bool all_accepted = true;
  for (std::uint32_t o = 0; o < s.config.outputs; ++o) {
    if (!s.pending[o]) continue;
    auto [output, result] = step(s.outputs[o], TryWrite{*s.held});
    s.outputs[o] = std::move(output);
    const WriteStatus status = std::get<WriteOutcome>(result).status;
    assert(status == WriteStatus::Ok || status == WriteStatus::Full);  // RT-1: never TooLarge
    if (status == WriteStatus::Ok) {
      s.pending[o] = false;
      progress = true;
    } else {
      all_accepted = false;
    }
  }
  if (all_accepted) s.held.reset();
  return {s, progress ? LoopStatus::Progress : LoopStatus::Idle};
}

std::string describe(LoopStatus status) {
  switch (status) {
    case LoopStatus::Progress: return "Progress";
    case LoopStatus::Idle: return "Idle";
    case LoopStatus::Closed: return "Closed";
  }
  return "unknown";
}

std::string describe(RouterPolicy policy) {
  switch (policy) {
    case RouterPolicy::RoundRobin: return "round_robin";
    case RouterPolicy::KeyHash: return "key_hash";
    case RouterPolicy::Broadcast: return "broadcast";
  }
  return "unknown";
}

}  // namespace indexbus::spec

// The executable model of a router (spec/v1-semantics.md, RT-*): one Events input lane, N Events
// output lanes, and the router's step between them.
//
// Two layers. route() is the pure answer to "which input entries does each output receive" when
// nothing is lost (Block outputs, every entry eventually delivered): the exact per-output
// prediction RT-2..RT-6 make. RouterSystem and router_step() compose the Events model (the input
// lane, the output lanes) with one router step, so that every lane operation the step makes
// (RT-7..RT-10) is predicted exactly; producers and consumers act on the lanes with spec::step.
// Includes nothing of core but the vocabulary, like every model here: an independent restatement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "indexbus/spec/events_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

inline constexpr std::uint32_t kLoopLanesMax = 16;  // RT-1, MG-1: outputs of a router, inputs of a merge
inline constexpr std::uint32_t kKeyOffsetBytesMax = 1u << 20;

enum class RouterPolicy : std::uint8_t { RoundRobin = 1, KeyHash = 2, Broadcast = 3 };
enum class LoopStatus : std::uint8_t { Progress = 0, Idle = 1, Closed = 2 };

// RT-3: the SplitMix64 finalizer.
std::uint64_t key_mix64(std::uint64_t x) noexcept;
// RT-4: little-endian bytes [offset, offset + 8) of the payload; bytes past its end read as zero.
std::uint64_t entry_key(const Bytes& payload, std::uint32_t key_offset_bytes) noexcept;
// True when the payload does not hold all eight key bytes (RT-4's short_key_count).
bool key_is_short(const Bytes& payload, std::uint32_t key_offset_bytes) noexcept;

struct RouterModelConfig {
  RouterPolicy policy = RouterPolicy::RoundRobin;
  std::uint32_t outputs = 2;  // [1, kLoopLanesMax]
  std::uint32_t key_offset_bytes = 0;

  friend bool operator==(const RouterModelConfig&, const RouterModelConfig&) = default;
};

// The outputs the entry_index-th input entry goes to, in index order (RT-2, RT-3, RT-5).
std::vector<std::uint32_t> route_targets(const RouterModelConfig& config, const Bytes& payload,
                                         std::uint64_t entry_index);
// For each output, the indexes (into `entries`) of the input entries it receives, in order (RT-6).
std::vector<std::vector<std::uint64_t>> route(const RouterModelConfig& config,
                                              const std::vector<Bytes>& entries);

// The input lane, the router and its output lanes.
struct RouterSystem {
  RouterModelConfig config;
  EventsState input;
  std::vector<EventsState> outputs;
  std::optional<Bytes> held;         // RT-7: at most one entry
  std::vector<bool> pending;         // per output: the held entry is still to be written there
  std::uint64_t routed_count = 0;    // entries read from the input (RT-2's j)
  std::uint64_t input_lost_count = 0;  // RT-9
  std::uint64_t short_key_count = 0;   // RT-4 (KeyHash only)
  bool closed = false;                 // RT-10: the outputs are closed

  friend bool operator==(const RouterSystem&, const RouterSystem&) = default;
};

RouterSystem initial_router_system(const RouterModelConfig& config, const EventsConfig& input,
                                   const std::vector<EventsConfig>& outputs);

// One router step (RT-7): pure; the input state is never changed.
std::pair<RouterSystem, LoopStatus> router_step(const RouterSystem& system);

std::string describe(LoopStatus status);
std::string describe(RouterPolicy policy);

}  // namespace indexbus::spec

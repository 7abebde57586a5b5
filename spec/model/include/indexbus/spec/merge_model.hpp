// The executable model of a merge (spec/v1-semantics.md, MG-*): N Events input lanes, one Events
// output lane, and the merge's step between them.
//
// merge_order() is the exact output of the deterministic policies (RoundRobin, Sequence) once every
// input is closed: a function of the inputs alone (MG-3..MG-5). MergeSystem and merge_step()
// compose the Events model with one merge step, predicting every lane operation (MG-2..MG-9).
// check_arrival() is the weaker check MG-6 allows for Arrival, where an implementation may pick
// any ready head: the output is an interleaving keeping each input's order, within the starvation
// bound when the caller knows when each entry became ready.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "indexbus/spec/events_model.hpp"
#include "indexbus/spec/router_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::spec {

enum class MergePolicy : std::uint8_t { RoundRobin = 1, Sequence = 2, Arrival = 3 };

struct MergeModelConfig {
  MergePolicy policy = MergePolicy::RoundRobin;
  std::uint32_t inputs = 2;  // [1, kLoopLanesMax]
  std::uint32_t key_offset_bytes = 0;

  friend bool operator==(const MergeModelConfig&, const MergeModelConfig&) = default;
};

struct MergeSource {
  std::uint32_t input = 0;
  std::uint64_t index = 0;  // position in that input
  friend bool operator==(const MergeSource&, const MergeSource&) = default;
};

// RoundRobin or Sequence: the whole output once every input is closed and drained (Block).
std::vector<MergeSource> merge_order(const MergeModelConfig& config,
                                     const std::vector<std::vector<Bytes>>& inputs);

struct MergeSystem {
  MergeModelConfig config;
  std::vector<EventsState> inputs;
  EventsState output;
  std::vector<std::optional<Bytes>> heads;  // MG-2
  std::vector<bool> input_closed;           // read Closed
  std::uint32_t next = 0;                   // RoundRobin: whose turn; Arrival: where the scan starts
  std::uint64_t emitted_count = 0;
  std::uint64_t input_lost_count = 0;  // MG-8
  bool closed = false;                 // MG-9: the output is closed

  friend bool operator==(const MergeSystem&, const MergeSystem&) = default;
};

MergeSystem initial_merge_system(const MergeModelConfig& config, const std::vector<EventsConfig>& inputs,
                                 const EventsConfig& output);

// One merge step (MG-2): pure.
std::pair<MergeSystem, LoopStatus> merge_step(const MergeSystem& system);

// MG-6. `output[k]` came from input `sources[k]`; it must be that input's next entry. If
// `published_at_emit` is not empty, published_at_emit[i][j] is the number of emits made before entry j of input
// i was published; the entry is ready once it is published and the input's previous entry has
// been emitted, and must be emitted no later than emit (ready + N - 1), 0-based. With
// `complete`, every input entry must have been emitted. Returns the first violation.
std::optional<std::string> check_arrival(const std::vector<std::vector<Bytes>>& inputs,
                                         const std::vector<Bytes>& output,
                                         const std::vector<std::uint32_t>& sources,
                                         const std::vector<std::vector<std::uint64_t>>& published_at_emit,
                                         bool complete);

std::string describe(MergePolicy policy);

}  // namespace indexbus::spec

// Topology cases of the catalog (issue 7): a small deployment of Events lanes in one region, with
// producers and consumers as reference-agent processes in batch mode (run_script) and each router
// and merge as a real `indexbus route` / `indexbus merge` process over a topology file the harness
// writes (spec/topology.md). The harness pauses any of these processes (SIGSTOP/SIGCONT) on a
// seeded schedule, then compares every consumer's stream with the models' prediction
// (spec::route, spec::merge_order: exact; spec::check_arrival for Arrival; per-source order and
// the loops' loss counters when a loop reads a Drop lane). Every process has a deadline; the
// region and topology files are removed whatever happens (cleanup.hpp).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "indexbus/harness/catalog.hpp"
#include "indexbus/spec/merge_model.hpp"
#include "indexbus/spec/router_model.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::harness {

struct TopologyScenario {
  struct Lane {  // lane index = position; every lane is an Events lane
    OnFull on_full = OnFull::Block;
    std::uint32_t capacity_slots = 8;
    std::uint32_t slot_payload_bytes = 32;
  };
  struct Router {
    std::uint32_t input = 0;
    std::vector<std::uint32_t> outputs;
    spec::RouterPolicy policy = spec::RouterPolicy::RoundRobin;
    std::uint32_t key_offset_bytes = 8;
  };
  struct Merge {
    std::vector<std::uint32_t> inputs;
    std::uint32_t output = 0;
    spec::MergePolicy policy = spec::MergePolicy::RoundRobin;
    std::uint32_t key_offset_bytes = 8;
  };
  struct Producer {  // writes entries to lane (Block: write, Drop: try_write), then closes it
    std::uint32_t lane = 0;
    std::vector<spec::Bytes> entries;
  };
  enum class Who : std::uint8_t { Producer, Merge, Router, Consumer };
  struct Pause {  // after delay_us (from the previous pause's end), SIGSTOP for stopped_us
    Who who = Who::Consumer;
    std::uint32_t index = 0;
    std::uint32_t delay_us = 0;
    std::uint32_t stopped_us = 0;
  };

  std::vector<Lane> lanes;
  std::vector<Producer> producers;
  std::vector<Merge> merges;
  std::vector<Router> routers;
  std::vector<std::uint32_t> consumers;  // the lane each consumer process reads
  // By agent (producers, then consumers; missing: 0): its script starts this much later than the
  // others'. Unlike a pause, this holds whatever the machine's load: the agent waits for its own
  // clock (run_script's start_at_ns).
  std::vector<std::uint32_t> start_late_us;
  std::vector<Pause> pauses;
};

// Entry `index` of producer `producer`: bytes [0, 8) its tag ((producer + 1) << 40 | index), bytes
// [8, 16) the key (little-endian, cut short with the payload), then a seeded pattern; length bytes.
spec::Bytes topology_entry(std::uint32_t producer, std::uint32_t index, std::uint64_t key, std::uint32_t length_bytes,
                           std::uint64_t pattern_seed);

InProcessOutcome run_topology_case(const std::string& case_id, const TopologyScenario& scenario,
                                   const CaseContext& context);

// The topology cases (Required.Topology.*), in a stable order; called once by the catalog.
void add_topology_cases(std::vector<CaseDef>& cases);

}  // namespace indexbus::harness

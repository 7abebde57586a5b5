// The plant catalog: named, test-only broken variants of the lanes, the parking handshake and the
// loops, each exactly one memory order too weak (issue 14, "Proof that it finds bugs").
//
// A plant changes no lane code. It is a function that, given the lane(s) an adapter has laid
// out (a PlantSite: header words, slot stamps, payloads, reader cursors), fills a Weakening
// (sim_platform.hpp): order rules that make SimOs run the chosen accesses with a weaker order, or
// one of RealPlatform's barriers planted away. The adapters plant Scheduler::Options::plant at
// every reset; `indexbus sim run|replay --plant NAME` sets it, and a failure's replay line names
// it, so a planted failure replays identically.
//
// Each plant must
//   - pass under --memory sc (SC ignores orders, so the planted lane is the correct lane there:
//     the plant is an ordering bug and nothing else);
//   - fail under --memory weak, within `indexbus sim run`'s default budget (random walk, 10 000
//     runs), on its witness scenario (below) and on generated scenarios restricted as the plant
//     says (on_full, parking, barrier);
//   - replay to the same failure.
// sim/tests/plants_test.cpp checks all three for every entry and witness, and that the correct
// lane passes each witness under weak memory (so the failure is the plant's, not a bug of the
// lane). One entry is in the catalog although the weak model does not catch it, because
// the lanes have a stronger order elsewhere: its `redundant` says why (a finding, not a plant to
// fake).
//
// Orders that are weaker than written but that the weak model cannot tell apart (a redundant
// stronger order elsewhere covers them, or only load buffering would show them) are not plants;
// plants.cpp lists them and why, as findings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "indexbus/events.hpp"
#include "indexbus/ring.hpp"
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/sim/sim_platform.hpp"
#include "indexbus/vocabulary.hpp"

namespace indexbus::sim {

// The --lane values, as a mask of the lanes a plant applies to.
enum class PlantLane : std::uint8_t { Events, Journal, SequencedSlots, FanoutBroadcast, Router, Merge };
inline constexpr std::uint32_t kPlantLaneCount = 6;
constexpr std::uint32_t lane_bit(PlantLane lane) noexcept { return 1u << static_cast<std::uint32_t>(lane); }
inline constexpr std::uint32_t kAllPlantLanes = (1u << kPlantLaneCount) - 1;
const char* to_string(PlantLane lane) noexcept;
std::optional<PlantLane> parse_plant_lane(std::string_view text) noexcept;

// What an adapter has laid out, for a plant to find its words in. Exactly one part is set: the
// Events lane, the ring lane, or a loop's input and output lanes (all Events lanes).
struct PlantSite {
  const EventsLaneRef* events = nullptr;
  const RingLaneRef* ring = nullptr;
  std::span<const EventsLaneRef> loop_inputs;
  std::span<const EventsLaneRef> loop_outputs;
};

// A small fixed scenario of one lane kind, in compact form: the correct lane passes it under weak
// memory within the default budget, and the planted lane fails it.
struct Witness {
  std::string_view lane;      // --lane
  std::string_view scenario;  // --scenario
};

struct Plant {
  std::string_view name;
  std::uint32_t lanes = 0;        // lane_bit mask
  std::string_view description;   // the order weakened, and why it matters (one line)
  // The conditions under which the weakened order matters: generated scenarios of a planted run
  // take them, and a --barrier, --on-full or --waiting that contradicts them is a usage error.
  std::optional<OnFull> on_full;
  std::optional<bool> parking;
  std::optional<Barrier> barrier;
  // Where it is shown to be caught: one witness, or one per lane kind for the handshake plants.
  std::span<const Witness> witnesses;
  // Fills out for site; plants nothing on a site of a lane kind it does not apply to.
  void (*apply)(const PlantSite& site, Weakening& out) = nullptr;
  // Empty for a plant the weak model catches. Otherwise why it is not caught (a redundant
  // stronger order elsewhere): a finding, kept so that the day the lanes change it is caught
  // (plants_test.cpp expects such a plant to pass, and says so).
  std::string_view redundant;
};

std::span<const Plant> plant_catalog() noexcept;
// nullptr if there is no plant of that name.
const Plant* find_plant(std::string_view name) noexcept;
bool applies_to(const Plant& plant, std::string_view lane) noexcept;
// "a, b or c": every plant name, or those that apply to lane (for usage errors).
std::string plant_names(std::string_view lane = {});
// The catalog as `indexbus sim plants` prints it: per plant its name, lanes, conditions and
// description.
std::string describe_catalog();
// Resets out and plants plant (if any) into it for site: what every adapter calls at reset.
void plant_into(const Plant* plant, const PlantSite& site, Weakening& out) noexcept;

}  // namespace indexbus::sim

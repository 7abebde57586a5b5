// Deliberately broken routers and merges, built through loop.hpp's customization points (test
// only): each plants one policy bug into the unchanged core loops. The RapidCheck properties
// (conformance/tests/router_property_test.cpp) and the simulator (sim/tests/loop_sim_test.cpp)
// must each reject every one of them, and so must the catalog's topology cases, which run them as
// processes through the test-only `indexbus-loop-broken` (conformance/cli/loop_broken_main.cpp,
// conformance/harness/tests/topology_case_test.cpp; `arrival-favours-input-zero` excepted, as a
// process cannot see when an entry was published).
//
//   RoundRobinSkipsAnOutput  RT-2: the turn after output 0 skips output 1 (with 2 outputs, every
//                            entry goes to output 0).
//   RouterDiscardsOnFull     RT-7: a Full output loses the held entry instead of keeping it.
//   RouterNeverCloses        RT-10: Closed on the input is not propagated to the outputs.
//   SequenceEmitsEarly       MG-4: Sequence emits the smallest head present without waiting for a
//                            head from every open input.
//   ArrivalFavoursInputZero  MG-6: Arrival scans from input 0 every time, so a busy input 0
//                            starves the others past the bound of N emits.
#pragma once

#include <cstdint>

#include "indexbus/loop.hpp"

namespace indexbus::testing {

struct RoundRobinSkipsAnOutput : DefaultLoopHooks {
  static constexpr std::uint32_t next_round_robin(std::uint32_t current, std::uint32_t outputs) noexcept {
    const std::uint32_t next = (current + 1) % outputs;
    return next == 1 ? 2 % outputs : next;
  }
};
struct RouterDiscardsOnFull : DefaultLoopHooks {
  static constexpr bool kRouterWaitsOnFull = false;
};
struct RouterNeverCloses : DefaultLoopHooks {
  static constexpr bool kPropagatesClose = false;
};
struct SequenceEmitsEarly : DefaultLoopHooks {
  static constexpr bool kSequenceNeedsEveryHead = false;
};
struct ArrivalFavoursInputZero : DefaultLoopHooks {
  static constexpr bool kArrivalRotates = false;
};

}  // namespace indexbus::testing

// Deliberately broken router and merge policies: DefaultLoopHooks with one decision wrong each.
// A checker that passes the real loops must reject every one of these. Shared by the RapidCheck
// property test (conformance/tests/router_property_test.cpp) and the test-only process
// `indexbus-loop-broken` (conformance/cli/loop_broken_main.cpp), which the topology cases of the
// catalog must catch (conformance/harness/tests/topology_case_test.cpp). Never used in production.
#pragma once

#include <cstdint>

#include "indexbus/loop.hpp"

namespace indexbus::conformance {

// RT-2: output 1 never gets its turn.
struct RoundRobinSkipsAnOutput : DefaultLoopHooks {
  static constexpr std::uint32_t next_round_robin(std::uint32_t current, std::uint32_t outputs) noexcept {
    const std::uint32_t next = (current + 1) % outputs;
    return next == 1 ? 2 % outputs : next;
  }
};
// RT-7: a full Block output is skipped instead of waited for: the entry is lost there.
struct RouterDiscardsOnFull : DefaultLoopHooks {
  static constexpr bool kRouterWaitsOnFull = false;
};
// RT-10 (and MG-9): the loop stops without closing its output(s).
struct RouterNeverCloses : DefaultLoopHooks {
  static constexpr bool kPropagatesClose = false;
};
// MG-4: Sequence emits the smallest head present without waiting for every open input.
struct SequenceEmitsEarly : DefaultLoopHooks {
  static constexpr bool kSequenceNeedsEveryHead = false;
};
// MG-6: Arrival always scans from input 0.
struct ArrivalFavoursInputZero : DefaultLoopHooks {
  static constexpr bool kArrivalRotates = false;
};

}  // namespace indexbus::conformance

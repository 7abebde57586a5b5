// Deliberately broken Events lanes: the real lane with one defect each. A checker that passes
// the real lane must fail every one of these and name the rule the defect breaks; otherwise the
// checker proves nothing (conformance/tests/events_suite_test.cpp).
#pragma once

#include <span>
#include <string_view>

#include "indexbus/conformance/lane_under_test.hpp"

namespace indexbus::conformance {

enum class Defect {
  SkipEntryOnRead,      // every entry with seq % 4 == 1 is consumed but not returned
  LostCountOffByOne,    // Lost reports one more than was lost
  OkInsteadOfFull,      // try_write reports Ok instead of Full, without writing
  TruncateTooLarge,     // a too-long payload is cut to the slot size and written
  CorruptPayloadByte,   // the last byte of every non-empty entry is flipped
  HideClosed,           // a closed, drained lane reads Empty / Timeout instead of Closed
  CounterDrift,         // counters() shows read_count one too high once anything was read
  DropRefusesWhenFull,  // under Drop, a write to a full lane is refused instead of overwriting
  TimeoutEarly,         // blocking calls give up at once instead of waiting for the deadline
  ScribbleHeader,       // writes to the region header after it is Ready
};

std::span<const Defect> all_defects() noexcept;
std::string_view to_string(Defect defect) noexcept;

// The real lane (make_real_lane) with `defect` built in.
LaneFactory broken_lane_factory(Defect defect, WaitStrategy strategy = WaitStrategy::Park);

}  // namespace indexbus::conformance

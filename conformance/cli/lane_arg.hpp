// Parsing of `--lane KIND:key=value,...` arguments of `indexbus create`.
#pragma once

#include <string>
#include <string_view>

#include "indexbus/error.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::cli {

// "events:capacity=1024,slot=64,on_full=block" -> LaneSpec. Ring kinds also take readers=N;
// journal timeout_ns=T; sequenced_slots gates=1<0/2<0+1 (consumer 2 gated on 0 and 1). Unknown kinds or keys, malformed
// numbers and out-of-range values are errors whose message says what was expected.
Result<LaneSpec> parse_lane_arg(std::string_view text, std::uint32_t lane_index);

}  // namespace indexbus::cli

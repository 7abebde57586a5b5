// Parsing of `--lane KIND:key=value,...` arguments of `indexbus create`.
#pragma once

#include <string>
#include <string_view>

#include "indexbus/error.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::cli {

// "events:capacity=1024,slot=64,on_full=block" -> LaneSpec. Unknown kinds or keys, malformed
// numbers and out-of-range values are errors whose message says what was expected.
Result<LaneSpec> parse_lane_arg(std::string_view text, std::uint32_t lane_index);

}  // namespace indexbus::cli

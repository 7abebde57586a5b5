// `indexbus inspect`: a region's header and, per lane, its configuration, occupancy, counters,
// cursors and attached processes, as JSON; the text form is rendered from the same JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "indexbus/region.hpp"

namespace indexbus::cli {

nlohmann::json inspect_region(const Region& region);
nlohmann::json inspect_error(const std::string& path, const Error& error);
std::string render_text(const nlohmann::json& report);

}  // namespace indexbus::cli

// `indexbus doctor`, `indexbus clean`, `indexbus create --topology` and the liveness line of
// `indexbus inspect`; the checks themselves live in conformance/topology (indexbus_topology).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace indexbus::cli {

struct Command {
  CLI::App* sub;
  std::function<int()> run;
};
// Adds `doctor` and `clean` to `app`; main runs the one that was parsed.
std::vector<Command> register_doctor(CLI::App& app);

// Creates every region of a topology file, exclusively; on any error removes the regions it made.
int create_from_topology(const std::string& file, bool prefault);

// Adds "liveness": {state, stale, detail, stale_roles} to an inspect report.
void add_liveness(nlohmann::json& report, const std::string& path);
std::string render_liveness(const nlohmann::json& report);

}  // namespace indexbus::cli

// `indexbus route --topology FILE --name ROUTER` and `indexbus merge --topology FILE --name MERGE`:
// a router or merge of a topology file (spec/topology.md) run as its own process over the core
// loops (core/include/indexbus/router.hpp, merge.hpp) until its input closes (route) or all its
// inputs close (merge), a SIGINT/SIGTERM, or --seconds.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "doctor_cmd.hpp"  // Command

namespace indexbus::cli {

// Adds `route` and `merge` to app; main runs the one that was parsed.
std::vector<Command> register_loops(CLI::App& app);

#ifdef INDEXBUS_LOOP_DEFECTS
// Test-only (indexbus-loop-broken): the broken policy the loops run, named by its --defect.
extern std::string g_loop_defect;
inline constexpr const char* kLoopDefects[] = {"round-robin-skips-an-output", "router-discards-on-full", "never-closes",
                                               "sequence-emits-early", "arrival-favours-input-zero"};
#endif

}  // namespace indexbus::cli

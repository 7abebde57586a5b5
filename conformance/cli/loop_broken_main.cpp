// indexbus-loop-broken: `indexbus route` and `indexbus merge` (loop_cmd.cpp, built again with
// INDEXBUS_LOOP_DEFECTS) running a deliberately broken loop policy chosen by --defect
// (core/tests/support/broken_loop_hooks.hpp). Test-only, never installed: the
// topology cases of `indexbus conform` must fail with it (harness/tests/topology_case_test.cpp).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "exit_codes.hpp"
#include "loop_cmd.hpp"

int main(int argc, char** argv) {
  CLI::App app{"indexbus route/merge with a deliberately broken loop (tests only)"};
  std::string defect;
  app.add_option("--defect", defect, "The broken policy")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(indexbus::cli::kLoopDefects), std::end(indexbus::cli::kLoopDefects))));
  const auto commands = indexbus::cli::register_loops(app);
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  indexbus::cli::g_loop_defect = defect;
  for (const auto& command : commands) {
    if (command.sub->parsed()) return command.run();
  }
  return indexbus::cli::kExitUsage;
}

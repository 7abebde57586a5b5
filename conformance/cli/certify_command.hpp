// `indexbus certify --agent NAME=CMD [--agent NAME=CMD ...] [--expected-failures FILE] [--strict]
// [--allow-inconclusive] [--report DIR] [--cases GLOB] [--seed S] [--jobs N] [--time-budget T] [--region-dir D]`:
// runs the case catalog against each agent, judges each run against the expected-failures list
// (conformance/certify), and writes per agent DIR/NAME/{index.json, junit.xml, report.html with
// the certificate on top, certificate.json, expected-failures.updated.txt when the list did not
// hold}, plus DIR/report.html: the interop matrix (producer x consumer implementation, per lane
// kind and policy; spec/certify.md section 4), then the matrix of agents by lane kind.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace indexbus::cli {

class CertifyCommand {
 public:
  // Adds the `certify` subcommand to app; options bind to this object, which must outlive parsing.
  explicit CertifyCommand(CLI::App& app);
  bool parsed() const { return command_->parsed(); }
  // Exit code: 0 when every agent's run matched the list exactly (without a list: no counted case
  // failed) and no counted case ended INCONCLUSIVE unless --allow-inconclusive; 1 otherwise; 2
  // usage (a bad --agent or list line); 3 environment.
  int run();

 private:
  CLI::App* command_ = nullptr;
  CLI::Option* seed_option_ = nullptr;
  std::vector<std::string> agents_;  // NAME=CMD
  std::string expected_failures_path_;
  bool strict_ = false;
  bool allow_inconclusive_ = false;
  std::string report_dir_ = "indexbus-certify-report";
  std::vector<std::string> case_globs_;
  std::uint64_t seed_ = 0;
  std::uint32_t jobs_ = 2;
  double time_budget_s_ = 600;
  std::string region_dir_;
};

}  // namespace indexbus::cli

#include "doctor_cmd.hpp"

#include "exit_codes.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "indexbus/region.hpp"
#include "indexbus/topology/doctor.hpp"
#include "indexbus/topology/topology.hpp"

namespace indexbus::cli {
namespace {

constexpr int kExitFail = kExitConformance;  // doctor: a requirement fails

struct DoctorArgs {
  std::string topology_file;
  std::vector<std::string> dirs;
  bool json = false;
  double grace_s = 10;
};

struct CleanArgs {
  std::string dir = kDefaultRegionDirectory;
  bool dry_run = false;
  double grace_s = 10;
};

int topology_error(const char* command, const Error& error) {
  std::fprintf(stderr, "indexbus %s: %s\n", command, error.message.c_str());
  return error.code == ErrorCode::BadTopology ? kExitUsage : kExitEnvironment;
}

int run_doctor(const DoctorArgs& args) {
  doctor::DoctorRequest request;
  std::unique_ptr<topology::Topology> topo;
  if (!args.topology_file.empty()) {
    auto parsed = topology::parse_topology_file(args.topology_file);
    if (!parsed) return topology_error("doctor", parsed.error());
    topo = std::make_unique<topology::Topology>(std::move(parsed.value()));
    request.topology = topo.get();
  }
  request.dirs = args.dirs;
  if (request.dirs.empty() && topo == nullptr) request.dirs.push_back(kDefaultRegionDirectory);
  request.grace_ns = static_cast<std::uint64_t>(args.grace_s * 1e9);
  const doctor::Facts facts = doctor::probe_facts(request);
  const auto findings = doctor::run_doctor(request, facts);
  const bool failed = doctor::any_failed(findings);
  if (args.json) {
    nlohmann::json out;
    out["passed"] = !failed;
    out["findings"] = nlohmann::json::array();
    for (const auto& f : findings) {
      out["findings"].push_back({{"check", f.check}, {"status", doctor::to_string(f.status)}, {"subject", f.subject},
                                 {"detail", f.detail}, {"advice", f.advice}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::size_t counts[3] = {};
    for (const auto& f : findings) {
      counts[static_cast<int>(f.status)] += 1;
      const char* label = f.status == doctor::Status::Pass ? "PASS" : f.status == doctor::Status::Warn ? "WARN" : "FAIL";
      std::printf("%s  %-11s %s: %s\n", label, f.check.c_str(), f.subject.c_str(), f.detail.c_str());
      if (!f.advice.empty()) std::printf("      -> %s\n", f.advice.c_str());
    }
    std::printf("%zu passed, %zu warnings, %zu failed\n", counts[0], counts[1], counts[2]);
  }
  return failed ? kExitFail : kExitOk;
}

int run_clean(const CleanArgs& args) {
  struct stat st {};
  if (::stat(args.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "indexbus clean: --dir %s is not a directory\n", args.dir.c_str());
    return kExitEnvironment;
  }
  const auto actions = doctor::clean_dir(args.dir, args.dry_run, static_cast<std::uint64_t>(args.grace_s * 1e9));
  std::size_t removed = 0;
  for (const auto& action : actions) {
    const char* verb = args.dry_run ? "would remove" : action.removed ? "removed" : "kept";
    std::printf("%s %s (%s)\n", verb, action.path.c_str(), action.reason.c_str());
    removed += action.removed ? 1 : 0;
  }
  std::printf("%zu stale region(s) %s in %s\n", args.dry_run ? actions.size() : removed,
              args.dry_run ? "found (dry run: nothing removed)" : "removed", args.dir.c_str());
  return kExitOk;
}

}  // namespace

std::vector<Command> register_doctor(CLI::App& app) {
  auto doctor_args = std::make_shared<DoctorArgs>();
  auto* doc = app.add_subcommand(
      "doctor",
      "Check a machine before starting a topology: tmpfs/hugetlbfs, space and cgroup memory against the "
      "regions' sizes (with the formula), stale region files, permissions, routers/merges and producers. "
      "Exit 0 all pass, 1 a requirement fails, 2 usage error (bad topology file)");
  doc->add_option("--topology", doctor_args->topology_file, "Topology file (TOML, spec/topology.md)");
  doc->add_option("--dir", doctor_args->dirs, "Region directory to check (repeatable; default /dev/shm without --topology)");
  doc->add_flag("--json", doctor_args->json, "One JSON entry per finding: check, status, subject, detail, advice");
  doc->add_option("--grace", doctor_args->grace_s, "Seconds a region may stay not-Ready before it counts as stale")
      ->check(CLI::Range(0.0, 86400.0));
  auto clean_args = std::make_shared<CleanArgs>();
  auto* clean = app.add_subcommand(
      "clean", "Remove stale regions only (creator and every attached process dead, or never Ready); never a live one");
  clean->add_option("--dir", clean_args->dir, "Region directory (default /dev/shm)");
  clean->add_flag("--dry-run", clean_args->dry_run, "Print what would be removed; remove nothing");
  clean->add_option("--grace", clean_args->grace_s, "Seconds a region may stay not-Ready before it counts as stale")
      ->check(CLI::Range(0.0, 86400.0));
  return {{doc, [doctor_args] { return run_doctor(*doctor_args); }},
          {clean, [clean_args] { return run_clean(*clean_args); }}};
}

int create_from_topology(const std::string& file, bool prefault) {
  auto parsed = topology::parse_topology_file(file);
  if (!parsed) return topology_error("create", parsed.error());
  std::vector<std::string> created;
  auto undo = [&] {
    for (auto it = created.rbegin(); it != created.rend(); ++it) (void)Region::remove(*it);
  };
  // Huge pages first, before anything is created: "require" never falls back to tmpfs.
  for (const auto& region : parsed->regions) {
    if (region.hugepages == topology::HugePages::No) continue;
    const bool huge = doctor::probe_dir(region.dir).fs_magic == doctor::kHugetlbfsMagic;
    if (!huge && region.hugepages == topology::HugePages::Require) {
      std::fprintf(stderr,
                   "indexbus create: region %s (%s): hugepages = \"require\" but %s is not hugetlbfs; mount "
                   "hugetlbfs there or set hugepages = \"prefer\" (run indexbus doctor --topology)\n",
                   region.name.c_str(), region.where.str().c_str(), region.dir.c_str());
      return kExitEnvironment;
    }
    if (!huge) {
      std::printf("note: region %s: hugepages = \"prefer\" but %s is not hugetlbfs; using normal pages\n",
                  region.name.c_str(), region.dir.c_str());
    }
  }
  for (const auto& region : parsed->regions) {
    std::vector<LaneSpec> lanes;
    for (const auto& lane : region.lanes) lanes.push_back(lane.spec);
    CreateOptions options;
    options.mode = region.mode;
    options.prefault = prefault || region.prefault;
    auto made = Region::create(region.path(), lanes, options);
    if (!made) {
      std::fprintf(stderr, "indexbus create: region %s (%s): %s (%s)\n", region.name.c_str(), region.where.str().c_str(),
                   made.error().message.c_str(), std::string(to_string(made.error().code)).c_str());
      undo();
      const ErrorCode code = made.error().code;
      return code == ErrorCode::Io || code == ErrorCode::AlreadyExists || code == ErrorCode::NotFound ? kExitEnvironment
                                                                                                      : kExitUsage;
    }
    created.push_back(region.path());
    std::printf("created %s: %zu lane(s), %llu bytes%s\n", region.path().c_str(), lanes.size(),
                static_cast<unsigned long long>(made->size_bytes()), options.prefault ? ", pre-faulted" : "");
  }
  return kExitOk;
}

void add_liveness(nlohmann::json& report, const std::string& path) {
  const auto info = doctor::classify_region_file(path, 10'000'000'000ull);
  const bool stale = is_removable(info.state) || info.state == doctor::RegionState::VersionMismatch ||
                     info.state == doctor::RegionState::StuckCreating;
  report["liveness"] = {{"state", doctor::to_string(info.state)}, {"stale", stale}, {"detail", info.detail},
                        {"stale_roles", info.stale_roles}};
}

std::string render_liveness(const nlohmann::json& report) {
  if (!report.contains("liveness")) return "";
  const auto& l = report["liveness"];
  std::string text = std::string(l["stale"].get<bool>() ? "STALE" : "liveness") + ": " + l["state"].get<std::string>() +
                     " (" + l["detail"].get<std::string>() + ")\n";
  for (const auto& role : l["stale_roles"]) text += "stale role: " + role.get<std::string>() + "\n";
  return text;
}

}  // namespace indexbus::cli

// The `indexbus` binary as a user runs it: exit codes, one-line errors, text and JSON output.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "indexbus/region.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.hpp"
#include "region_images.hpp"
#include "temp_region_path.hpp"

namespace {

using indexbus::cli_test::run;
using indexbus::cli_test::Run;
using indexbus::cli_test::TempDir;

TEST(Cli, CreateInspectRemove) {
  indexbus::testing::TempRegionPath path("cli");
  auto created = run("create " + path.str() +
                     " --lane events:capacity=1024,slot=64,on_full=block --lane events:capacity=1,slot=8,on_full=drop");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto text = run("inspect " + path.str());
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("lane 0: events, on_full=block, capacity 1024 slots x 64 B"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("lane 1: events, on_full=drop, capacity 1 slots x 8 B"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("occupancy 0/1024"), std::string::npos) << text.output;
  auto json = run("inspect --json " + path.str());
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto report = nlohmann::json::parse(json.output);
  EXPECT_TRUE(report["valid"].get<bool>());
  EXPECT_EQ(report["lanes"].size(), 2u);
  EXPECT_EQ(report["lanes"][1]["on_full"], "drop");
  EXPECT_EQ(report["lanes"][0]["counters"]["written"], 0);
  EXPECT_EQ(report["lanes"][0]["state"]["consistent"], true);
  EXPECT_EQ(run("remove " + path.str()).exit_code, 0);
  EXPECT_EQ(run("remove " + path.str()).exit_code, 3);
}

TEST(Cli, EveryLaneKindIsCreatedAndInspected) {
  indexbus::testing::TempRegionPath path("cli");
  auto created = run("create " + path.str() +
                     " --lane events --lane journal:readers=2,timeout_ns=1000000,on_full=drop"
                     " --lane 'sequenced_slots:readers=3,gates=1<0/2<0+1,capacity=8' --lane fanout_broadcast:readers=4");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto text = run("inspect " + path.str());
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("lane 1: journal, on_full=drop"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("reader timeout 1000000 ns, evicted 0"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("reader 1: free, cursor 0, lag 0, read 0, lost 0, pid none, heartbeat age never (not live)"),
            std::string::npos) << text.output;
  EXPECT_NE(text.output.find("reader 2: free, cursor 0, lag 0, read 0, lost 0, pid none, gated on [0,1]"),
            std::string::npos) << text.output;
  EXPECT_NE(text.output.find("lane 3: fanout_broadcast"), std::string::npos) << text.output;
  const auto report = nlohmann::json::parse(run("inspect --json " + path.str()).output);
  ASSERT_EQ(report["lanes"].size(), 4u);
  EXPECT_EQ(report["lanes"][1]["reader_timeout_ns"], 1000000);
  EXPECT_EQ(report["lanes"][2]["readers"][1]["gated_on"], nlohmann::json::array({0}));
  EXPECT_EQ(report["lanes"][3]["readers"].size(), 4u);
  EXPECT_EQ(report["lanes"][3]["state"]["consistent"], true);
}

TEST(Cli, InspectFlagsACorruptRingReader) {  // REG-11 on a ring lane: exit 1, the field named
  indexbus::testing::TempRegionPath path("cli");
  ASSERT_EQ(run("create " + path.str() + " --lane fanout_broadcast:readers=2,capacity=4").exit_code, 0);
  {
    auto region = indexbus::Region::open(path.str());
    ASSERT_TRUE(region.ok()) << region.error().message;
    auto* record = reinterpret_cast<indexbus::ReaderRecord*>(region->lane_block(0) + sizeof(indexbus::RingLaneHeader));
    record[1].cursor_seq = 9;  // ahead of write_seq 0
  }
  auto text = run("inspect " + path.str());
  EXPECT_EQ(text.exit_code, 1) << text.output;
  EXPECT_NE(text.output.find("state INCONSISTENT LaneStateCorrupt: lane 0: reader 1 cursor_seq 9 is ahead of write_seq 0"),
            std::string::npos) << text.output;
}

// A Journal reader name is 32 bytes an attacher chose, not necessarily UTF-8 (spec/layout.md,
// "Journal reader names"). inspect --json aborted on one (nlohmann::json refuses to serialize
// invalid UTF-8); now every tool shows it escaped, and the JSON also carries the exact bytes.
TEST(Cli, InspectShowsAReaderNameThatIsNotUtf8Escaped) {
  indexbus::testing::TempRegionPath path("cli");
  ASSERT_EQ(run("create " + path.str() + " --lane journal:readers=2,capacity=4").exit_code, 0);
  {
    auto region = indexbus::Region::open(path.str());
    ASSERT_TRUE(region.ok()) << region.error().message;
    auto* record = reinterpret_cast<indexbus::ReaderRecord*>(region->lane_block(0) + sizeof(indexbus::RingLaneHeader));
    // 32 bytes, no terminator: invalid UTF-8, a backslash, a control byte, a valid "é", a C1 control.
    const char name[32] = {'\xff', '\xfe', 'a', '\\', '\x01', '\xc3', '\xa9', '\xc2', '\x85', 'z', 'z', 'z', 'z', 'z', 'z', 'z',
                           'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z', 'q'};
    std::memcpy(record[0].name, name, sizeof name);
  }
  const std::string shown = "\\xff\\xfea\\\\\\x01\xc3\xa9\\xc2\\x85zzzzzzzzzzzzzzzzzzzzzzq";
  const auto json = run("inspect --json " + path.str());
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto report = nlohmann::json::parse(json.output);
  EXPECT_EQ(report["lanes"][0]["readers"][0]["name"], shown);
  EXPECT_EQ(report["lanes"][0]["readers"][0]["name_hex"],
            "fffe615c01c3a9c2857a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a71");
  const auto text = run("inspect " + path.str());
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("reader 0 '" + shown + "': free"), std::string::npos) << text.output;
}

TEST(Cli, ExistingRegionIsNeverReused) {
  indexbus::testing::TempRegionPath path("cli");
  ASSERT_EQ(run("create " + path.str() + " --lane events").exit_code, 0);
  const auto again = run("create " + path.str() + " --lane events");
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
}

TEST(Cli, BadLaneArgumentsAreUsageErrors) {
  indexbus::testing::TempRegionPath path("cli");
  const struct {
    const char* lane;
    const char* message;
  } cases[] = {
      {"events:capacity=3", "capacity_slots 3 is not a power of two in [1, 16777216]"},
      {"events:slot=12", "slot_payload_bytes 12 is not a multiple of 8"},
      {"events:on_full=sometimes", "on_full 'sometimes' is not block or drop"},
      {"events:colour=red", "unknown key 'colour'"},
      {"events:capacity=lots", "capacity 'lots' is not an unsigned 32-bit integer"},
      {"queue", "kind 'queue' is not one of"},
      {"journal:readers=65", "reader_count 65 is not in [1, 64]"},
      {"fanout_broadcast:readers=2,timeout_ns=5", "reader_timeout_ns 5 is not 0"},
      {"sequenced_slots:readers=2,gates=0<1/1<0", "gating cycle"},
      {"sequenced_slots:readers=2,gates=1<1", "gates consumer 1 on itself"},
      {"sequenced_slots:readers=2,gates=3<0", "gates names consumer 3 but readers is 2"},
      {"sequenced_slots:readers=2,gates=1-0", "is not <consumer><<upstream>"},
      {"journal:timeout_ns=soon", "timeout_ns 'soon' is not an unsigned 64-bit integer"},
  };
  for (const auto& c : cases) {
    const auto result = run("create " + path.str() + " --lane '" + c.lane + "'");
    EXPECT_EQ(result.exit_code, 2) << c.lane << ": " << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.lane << ": " << result.output;
    EXPECT_NE(::access(path.str().c_str(), F_OK), 0) << "file left behind by " << c.lane;
  }
  EXPECT_EQ(run("create " + path.str() + " --lane events --mode 0777").exit_code, 2);
  EXPECT_EQ(run("create").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("").exit_code, 2);
}

TEST(Cli, InspectReportsEnvironmentAndValidationErrors) {
  const auto missing = run("inspect /dev/shm/indexbus-cli-definitely-missing");
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("no such region file"), std::string::npos) << missing.output;
  EXPECT_EQ(run("create /nonexistent-dir/region --lane events").exit_code, 3);

  indexbus::testing::TempRegionPath path("cli");
  ASSERT_TRUE(indexbus::testing::write_region_file(
      path.str(), indexbus::testing::corrupt_region_image("lane0_capacity_3")));
  const auto invalid = run("inspect " + path.str());
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
  EXPECT_NE(invalid.output.find("lane 0: capacity_slots 3 is not a power of two in [1, 16777216]"),
            std::string::npos)
      << invalid.output;
  const auto json = nlohmann::json::parse(run("inspect --json " + path.str()).output);
  EXPECT_FALSE(json["valid"].get<bool>());
  EXPECT_EQ(json["error"]["code"], "BadCapacity");
}

TEST(Cli, HelpOnEveryVerb) {
  for (const char* verb : {"", "create ", "inspect ", "remove ", "conform ", "replay ", "sim run ", "sim replay "}) {
    const auto help = run(std::string(verb) + "--help");
    EXPECT_EQ(help.exit_code, 0) << verb << help.output;
    EXPECT_NE(help.output.find("Exit codes"), std::string::npos) << verb << help.output;
  }
}

TEST(Cli, ConformRuleSuitePrintsRulesSeedAndReplay) {
  const auto result = run("conform --rule-suite --seed 7 --runs 20");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("PASS"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("EV-8"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("seed 7; replay: "), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("FAIL"), std::string::npos) << result.output;
  EXPECT_EQ(run("conform --rule-suite --region-dir /nonexistent-dir").exit_code, 3);
}

TEST(Cli, ConformRuleSuiteRunsEveryRingKind) {
  for (const std::string lane : {"journal", "sequenced_slots", "fanout_broadcast"}) {
    const auto result = run("conform --rule-suite --lane " + lane + " --seed 3 --runs 6");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find(lane + " per-rule suite, seed 3"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("replay: indexbus conform --rule-suite --lane " + lane + " --seed 3 --runs 6"),
              std::string::npos) << result.output;
  }
  const auto unknown = run("conform --rule-suite --lane queue");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("--lane queue has no per-rule suite"), std::string::npos) << unknown.output;
}

TEST(Cli, ConformRunsTheCatalogAndWritesTheReport) {
  char report_dir[] = "/tmp/indexbus-cli-report-XXXXXX";
  ASSERT_NE(::mkdtemp(report_dir), nullptr);
  const auto result = run(std::string("conform --seed 7 --cases 'Required.Events.Drop.*' --cases "
                                      "'Required.Events.ProcessDeath.*' --report ") + report_dir);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("PASS    REQUIRED      Required.Events.Drop.OverwritesOldest"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("0 failed"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("seed 7"), std::string::npos) << result.output;
  std::FILE* file = std::fopen((std::string(report_dir) + "/index.json").c_str(), "r");
  ASSERT_NE(file, nullptr);
  const auto index = nlohmann::json::parse(file);
  std::fclose(file);
  EXPECT_EQ(index["seed"], 7);
  EXPECT_EQ(index["summary"]["PASS"], 9);
  EXPECT_EQ(index["cases"].size(), 9u);
  EXPECT_EQ(::access((std::string(report_dir) + "/junit.xml").c_str(), R_OK), 0);
  (void)std::system((std::string("rm -rf ") + report_dir).c_str());
}

TEST(Cli, ConformFailurePrintsAOneLineReplay) {
  char report_dir[] = "/tmp/indexbus-cli-report-XXXXXX";
  ASSERT_NE(::mkdtemp(report_dir), nullptr);
  const auto result = run(std::string("conform --seed 3 --agent ") + INDEXBUS_AGENT_BROKEN +
                          " --agent-arg --defect --agent-arg ok-instead-of-full --cases "
                          "Required.Events.Block.CapacityOne --report " + report_dir);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("expected Full, got Ok"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(std::string("replay: indexbus conform --agent ") + INDEXBUS_AGENT_BROKEN +
                               " --agent-arg --defect --agent-arg ok-instead-of-full --cases "
                               "Required.Events.Block.CapacityOne --seed 3"),
            std::string::npos)
      << result.output;
  // The saved scenario replays the same failure.
  const auto replayed = run(std::string("replay ") + report_dir + "/failures/Required.Events.Block.CapacityOne.json --report " +
                            report_dir + "/replay");
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_NE(replayed.output.find("seed 3"), std::string::npos) << replayed.output;
  EXPECT_NE(replayed.output.find("expected Full, got Ok"), std::string::npos) << replayed.output;
  EXPECT_EQ(run(std::string("replay ") + report_dir + "/index.json").exit_code, 2);
  (void)std::system((std::string("rm -rf ") + report_dir).c_str());
}

// A REQUIRED batch case whose linearizability search is bounded below what its history needs
// (--lin-configurations-max) ends INCONCLUSIVE: exit status 1, and 0 with --allow-inconclusive;
// the console, index.json and junit.xml say inconclusive, and the saved case replays with the same
// bound, inconclusive again.
TEST(Cli, RequiredInconclusiveCaseFailsTheRunUnlessAllowed) {
  const TempDir dir("/tmp", "indexbus-cli-inconclusive");
  const std::string id = "Required.Events.BatchLinearizable.Block.Perturbed";
  auto conform = [&](const std::string& report, const std::string& extra) {
    return run("conform --seed 2 --jobs 1 --cases " + id + " --lin-configurations-max 10 --report " + dir.file(report) + extra);
  };
  auto read_text = [&](const std::string& name) {
    std::ifstream in(dir.file(name));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto strict = conform("strict", "");
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("INCONCLUSIVE REQUIRED"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("gave up after 10 configurations"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("0 passed, 0 failed, 0 crashed, 0 timed out, 1 inconclusive, 0 skipped"), std::string::npos)
      << strict.output;
  EXPECT_NE(strict.output.find("1 REQUIRED case(s) INCONCLUSIVE: the run fails"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("replay: indexbus conform --lin-configurations-max 10 --cases " + id + " --seed 2"), std::string::npos)
      << strict.output;
  const auto index = nlohmann::json::parse(read_text("strict/index.json"), nullptr, false);
  ASSERT_FALSE(index.is_discarded()) << strict.output;
  EXPECT_FALSE(index["passed"].get<bool>());
  EXPECT_EQ(index["summary"]["INCONCLUSIVE"], 1);
  EXPECT_EQ(index["summary"]["PASS"], 0);
  EXPECT_EQ(index["cases"][0]["outcome"], "INCONCLUSIVE");
  const std::string junit = read_text("strict/junit.xml");
  EXPECT_NE(junit.find("<error type=\"INCONCLUSIVE\" message=\"inconclusive: linearizability not decided: gave up after 10 configurations"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("at most 10 configurations"), std::string::npos) << junit;

  const auto allowed = conform("allowed", " --allow-inconclusive");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("allowed by --allow-inconclusive, but not passed"), std::string::npos) << allowed.output;
  const auto allowed_index = nlohmann::json::parse(read_text("allowed/index.json"), nullptr, false);
  ASSERT_FALSE(allowed_index.is_discarded()) << allowed.output;
  EXPECT_TRUE(allowed_index["passed"].get<bool>());
  EXPECT_EQ(allowed_index["cases"][0]["outcome"], "INCONCLUSIVE");

  const auto replayed = run("replay " + dir.file("strict/failures/" + id + ".json") + " --report " + dir.file("replay"));
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_NE(replayed.output.find("INCONCLUSIVE REQUIRED"), std::string::npos) << replayed.output;

  // The same case with the checker's own bound decides: linearizable.
  const auto decided = run("conform --seed 2 --jobs 1 --cases " + id + " --report " + dir.file("decided"));
  EXPECT_EQ(decided.exit_code, 0) << decided.output;
  EXPECT_EQ(decided.output.find("INCONCLUSIVE"), std::string::npos) << decided.output;
}

// A topology case's failure records the loop executable it ran: replaying the saved file runs the
// same broken loop and fails the same way (with the real loop it would pass).
TEST(Cli, ReplayOfATopologyFailureRunsTheSameLoop) {
  char report_dir[] = "/tmp/indexbus-cli-report-XXXXXX";
  ASSERT_NE(::mkdtemp(report_dir), nullptr);
  const std::string id = "Required.Topology.Router.RoundRobin.ThreeConsumers";
  const auto result = run(std::string("conform --seed 5 --loop ") + INDEXBUS_LOOP_BROKEN +
                          " --loop-arg=--defect --loop-arg=round-robin-skips-an-output --cases " + id + " --report " +
                          report_dir);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  std::ifstream saved_file(std::string(report_dir) + "/failures/" + id + ".json");
  const nlohmann::json saved = nlohmann::json::parse(saved_file, nullptr, false);
  ASSERT_FALSE(saved.is_discarded()) << result.output;
  EXPECT_EQ(saved.value("loop", nlohmann::json::array()),
            (nlohmann::json{INDEXBUS_LOOP_BROKEN, "--defect", "round-robin-skips-an-output"}));
  const auto replayed = run(std::string("replay ") + report_dir + "/failures/" + id + ".json --report " + report_dir +
                            "/replay");
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_NE(replayed.output.find("seed 5"), std::string::npos) << replayed.output;
  EXPECT_NE(replayed.output.find(std::string("--loop ") + INDEXBUS_LOOP_BROKEN), std::string::npos) << replayed.output;
  EXPECT_NE(replayed.output.find("expected producer"), std::string::npos) << replayed.output;
  (void)std::system((std::string("rm -rf ") + report_dir).c_str());
}

// A batch case's failure carries its scenario in the simulator's form; `replay FILE --sim` searches
// it on the reference lane code: the broken agent's lie is not in the lane, so the search reports
// "not reproduced"; a lane with a planted ordering bug (--sim-plant, test only) fails, with its
// replay line.
TEST(Cli, ReplaySimHandsABatchFailureToTheSimulator) {
  const TempDir dir("/tmp", "indexbus-cli-handoff");
  const std::string id = "Required.SequencedSlots.BatchLinearizable.Block.Perturbed";
  const auto failed = run(std::string("conform --seed 1 --agent ") + INDEXBUS_AGENT_BROKEN +
                          " --agent-arg --defect --agent-arg sequenced-claim-seq-off-by-one --cases " + id + " --report " + dir.str());
  ASSERT_EQ(failed.exit_code, 1) << failed.output;
  const std::string saved = dir.file("failures/" + id + ".json");
  EXPECT_NE(failed.output.find("indexbus replay " + saved + " --sim"), std::string::npos) << failed.output;
  std::ifstream in(saved);
  const nlohmann::json failure = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(failure.contains("sim")) << failure.dump();
  EXPECT_EQ(failure["sim"]["lane"], "sequenced_slots");
  EXPECT_NE(failure["sim"]["omitted"].get<std::string>().find("pauses"), std::string::npos);
  const auto handed = run("replay " + saved + " --sim --sim-runs 300");
  EXPECT_EQ(handed.exit_code, 0) << handed.output;
  EXPECT_NE(handed.output.find("--scenario 'sequenced_slots,block,cap=4,slot=16,park,gates=0.1;p:W16,"), std::string::npos)
      << handed.output;
  EXPECT_NE(handed.output.find("not reproduced in 600 schedules"), std::string::npos) << handed.output;

  const std::string finding = dir.file("finding.json");
  std::ofstream(finding) << R"({"id": "a Journal close seen without its entries",
                               "sim": {"lane": "journal", "scenario": "journal,block,cap=2,slot=16,poll;p:W8,C;r0:r,r,D"}})";
  const auto passes = run("replay " + finding + " --sim --sim-runs 2000");
  EXPECT_EQ(passes.exit_code, 0) << passes.output;
  const auto found = run("replay " + finding + " --sim --sim-runs 2000 --sim-plant journal.close-store-relaxed");
  EXPECT_EQ(found.exit_code, 1) << found.output;
  EXPECT_NE(found.output.find("replay: indexbus sim replay --lane journal"), std::string::npos) << found.output;

  const std::string step_mode = dir.file("step.json");
  std::ofstream(step_mode) << R"({"id": "Required.Events.Block.CapacityOne"})";
  const auto refused = run("replay " + step_mode + " --sim");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("field \"sim\" is missing"), std::string::npos) << refused.output;
}

TEST(Cli, ConformListAndUsageErrors) {
  const auto list = run("conform --list");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("Required.Events.Block.WriteWaitsWhenFull"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("EV-6,EV-15"), std::string::npos) << list.output;
  const auto filtered = run("conform --list --cases 'Required.Events.ProcessDeath.*'");
  EXPECT_NE(filtered.output.find("4 case(s)"), std::string::npos) << filtered.output;
  EXPECT_EQ(run("conform --cases 'No.Such.*'").exit_code, 2);
  EXPECT_EQ(run("conform --jobs 0").exit_code, 2);
  EXPECT_EQ(run("conform --region-dir /nonexistent-dir").exit_code, 3);
  EXPECT_EQ(run("conform --agent /nonexistent/agent").exit_code, 3);
  const auto plant = run("conform --sim-plant events.no-such-plant");
  EXPECT_EQ(plant.exit_code, 2) << plant.output;
  EXPECT_NE(plant.output.find("--sim-plant 'events.no-such-plant': no such plant"), std::string::npos) << plant.output;
  const auto simulated = run("conform --list --cases 'Required.*.Simulated.*'");
  EXPECT_NE(simulated.output.find("22 case(s)"), std::string::npos) << simulated.output;
}

// `indexbus sim`: the real Block lane passes, the real Drop lane's try_read finding is reported
// with a replay command that reproduces it, and bad arguments are usage errors.
TEST(Cli, SimRunPassesBothPoliciesAndReplaysTheOldDropFinding) {
  const auto block = run("sim run --lane events --on-full block --strategy pct --depth 3 --runs 2000 --seed 5");
  EXPECT_EQ(block.exit_code, 0) << block.output;
  EXPECT_NE(block.output.find("no failure found"), std::string::npos) << block.output;
  EXPECT_NE(block.output.find("schedules/s"), std::string::npos) << block.output;

  // This run found "Lost, then Empty" (not linearizable) before the Drop consumer waited for the
  // overwrite's publish (events.hpp, report_overwritten); it must pass now.
  const auto drop = run("sim run --lane events --on-full drop --strategy random --runs 20000 --seed 7");
  EXPECT_EQ(drop.exit_code, 0) << drop.output;
  EXPECT_NE(drop.output.find("no failure found"), std::string::npos) << drop.output;
  // The schedule that showed it, replayed on today's lane: the same scenario passes every check.
  const auto replayed = run("sim replay --lane events --scenario 'drop,cap=1,slot=16,poll;p:w0,w0,C;c:r,r,D' "
                            "--schedule 'a10b16a5'");
  EXPECT_EQ(replayed.exit_code, 0) << replayed.output;
  EXPECT_NE(replayed.output.find("no failure: the run passed every check"), std::string::npos) << replayed.output;
  // A failing replay (a planted bug) is covered by sim_tests' Replay.IsBitIdenticalAndShrinkingKeepsTheFailure.
}

// The ring lanes: a run passes, and the schedule of the SequencedSlots finding (a gated consumer
// that missed its wake-up) replays clean since ring.hpp's fix.
TEST(Cli, SimRunsTheRingLanes) {
  const auto fanout = run("sim run --lane fanout_broadcast --strategy pct --runs 500 --seed 5");
  EXPECT_EQ(fanout.exit_code, 0) << fanout.output;
  EXPECT_NE(fanout.output.find("no failure found"), std::string::npos) << fanout.output;
  const auto replayed =
      run("sim replay --lane sequenced_slots --scenario "
          "'sequenced_slots,block,cap=1,slot=16,park,gates=0.1;p:W16,W8,C;r0:D;r1:D' --schedule 'a17b25a7c9ac5a4c3'");
  EXPECT_EQ(replayed.exit_code, 0) << replayed.output;
  EXPECT_NE(replayed.output.find("no failure: the run passed every check"), std::string::npos) << replayed.output;
}

// Routers and merges as simulator actors: a run of each passes, a replay prints the loop's steps,
// and --policy is checked against the loop kind.
TEST(Cli, SimRunsRoutersAndMerges) {
  for (const char* lane : {"router", "merge"}) {
    const auto result = run(std::string("sim run --lane ") + lane + " --strategy pct --runs 300 --seed 5");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("no failure found"), std::string::npos) << result.output;
  }
  const auto replayed = run("sim replay --lane merge --scenario "
                            "'merge,sequence,park;in:block1,block1;out:block1;p0:W3,C;p1:W1,C' --schedule 'a11b7c31b4c18'");
  EXPECT_EQ(replayed.exit_code, 0) << replayed.output;
  EXPECT_NE(replayed.output.find("merge step"), std::string::npos) << replayed.output;
  EXPECT_EQ(run("sim run --lane router --policy sequence --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim run --lane events --policy arrival --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim replay --lane router --scenario 'merge,arrival,park;in:block1;out:block1;p0:C' --schedule 'a1'").exit_code, 2);
}

TEST(Cli, SimExhaustiveSaysWhenTheBoundedSpaceIsCovered) {
  const auto result = run("sim run --lane events --strategy exhaustive --preemptions 2 --runs 100000 "
                          "--scenario 'block,cap=1,slot=16,park;p:W16,W8,C;c:R,r,D'");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("bounded space exhausted"), std::string::npos) << result.output;
}

// A planted ordering bug (sim/include/indexbus/sim/plants.hpp): caught under weak memory with a
// replay line that names it, and that line reproduces the failure; it passes under sc; plant names
// are checked against the catalog and the lane.
TEST(Cli, SimRunCatchesAPlantAndItsReplayLineNamesIt) {
  const std::string scenario = " --scenario 'block,cap=2,slot=16,poll;p:W8,W16,C;c:D' --seed 5";
  const auto caught = run("sim run --lane events --memory weak --plant events.publish-stamp-relaxed" + scenario);
  EXPECT_EQ(caught.exit_code, 1) << caught.output;
  EXPECT_NE(caught.output.find("FAILURE"), std::string::npos) << caught.output;
  const auto line_at = caught.output.find("replay: indexbus sim replay ");
  ASSERT_NE(line_at, std::string::npos) << caught.output;
  const std::string line = caught.output.substr(line_at, caught.output.find('\n', line_at) - line_at);
  EXPECT_NE(line.find(" --plant events.publish-stamp-relaxed"), std::string::npos) << line;
  EXPECT_NE(line.find(" --memory weak"), std::string::npos) << line;
  const auto replayed = run(line.substr(std::string("replay: indexbus ").size()) + " --quiet");
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_NE(replayed.output.find("FAILURE: data race"), std::string::npos) << replayed.output;

  const auto sc = run("sim run --lane events --memory sc --plant events.publish-stamp-relaxed" + scenario);
  EXPECT_EQ(sc.exit_code, 0) << sc.output;
  // A plant that lives in the seq_cst fallback takes that barrier, and its replay line names both.
  const auto fallback = run("sim run --lane events --memory weak --plant handshake.flag-load-acquire"
                            " --scenario 'block,cap=1,slot=16,park;p:W8,W8,C;c:D' --seed 5");
  EXPECT_EQ(fallback.exit_code, 1) << fallback.output;
  EXPECT_NE(fallback.output.find("--barrier seq_cst --plant handshake.flag-load-acquire"), std::string::npos)
      << fallback.output;

  const auto listed = run("sim plants");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("handshake.no-membarrier"), std::string::npos) << listed.output;
  EXPECT_EQ(run("sim run --plant list").output, listed.output);
  const auto unknown = run("sim run --lane events --plant events.no-such-plant --runs 1");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("--plant 'events.no-such-plant': expected handshake.no-membarrier"), std::string::npos)
      << unknown.output;
  const auto wrong_lane = run("sim replay --lane journal --plant events.publish-stamp-relaxed"
                              " --scenario 'journal,block,cap=1,slot=16,poll;p:C;r0:D' --schedule 'a'");
  EXPECT_EQ(wrong_lane.exit_code, 2) << wrong_lane.output;
  EXPECT_NE(wrong_lane.output.find("does not apply to --lane journal: expected"), std::string::npos) << wrong_lane.output;
  EXPECT_EQ(run("sim run --lane events --plant handshake.flag-load-acquire --barrier membarrier --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim run --lane events --plant events.publish-stamp-relaxed --on-full drop --runs 1").exit_code, 2);
}

TEST(Cli, SimUsageAndEnvironmentErrors) {
  EXPECT_EQ(run("sim run --lane nonsense --runs 1").exit_code, 2);
  // The scenario's lane kind must be the one --lane names.
  EXPECT_EQ(run("sim replay --lane journal --scenario 'fanout_broadcast,block;p:C;r0:D' --schedule 'a1'").exit_code, 2);
  EXPECT_EQ(run("sim run --strategy dfs --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim run --time-budget 5 parsecs --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim run --scenario 'block;p:R;c:' --runs 1").exit_code, 2);
  EXPECT_EQ(run("sim replay --scenario 'block,cap=1;p:W8,C;c:D' --schedule 'a1'").exit_code, 2);
  EXPECT_EQ(run("sim run --scenario-file /nonexistent/scenario.json --runs 1").exit_code, 3);
  const auto passing = run("sim replay --scenario 'block,cap=1,slot=16,park;p:W8,C;c:D' --schedule 'ab2'");
  EXPECT_EQ(passing.exit_code, 0) << passing.output;
  EXPECT_NE(passing.output.find("no failure"), std::string::npos) << passing.output;
}

}  // namespace

// ---- indexbus certify ----------------------------------------------------------------------------

class CertifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/indexbus-certify-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  static std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Block cases only: the broken agent's defect (Ok instead of Full) shows there, quickly.
  std::string certify(const std::string& report, const std::string& extra) const {
    return "certify --agent ref=" + std::string(INDEXBUS_AGENT) + " --agent 'broken=" + INDEXBUS_AGENT_BROKEN +
           " --defect ok-instead-of-full' --cases 'Required.Events.Block.*' --seed 7 --report " + dir_ + "/" + report +
           " " + extra;
  }
  std::string dir_;
};

TEST_F(CertifyCli, ReferenceIsCertifiedBrokenIsNotAndTheMatrixSaysSo) {
  const auto r = run(certify("a", ""));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("CERTIFIED: REQUIRED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("expected Full, got Ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("replay: indexbus certify --agent 'broken="), std::string::npos) << r.output;
  const auto ref = read_json(dir_ + "/a/ref/certificate.json");
  const auto broken = read_json(dir_ + "/a/broken/certificate.json");
  EXPECT_EQ(ref["verdict"], "CERTIFIED") << ref.dump(2);
  EXPECT_EQ(ref["agent"]["declared"]["implementation"]["name"], "indexbus-reference") << ref.dump(2);
  EXPECT_EQ(broken["verdict"], "NOT CERTIFIED") << broken.dump(2);
  EXPECT_GT(broken["counts"]["REQUIRED"]["fail"].get<int>(), 0) << broken.dump(2);
  EXPECT_EQ(broken["scope"][0]["status"], "failed") << broken.dump(2);
  const std::string page = read_text(dir_ + "/a/broken/report.html");
  const std::size_t certificate_at = page.find("NOT CERTIFIED: broken");
  EXPECT_NE(certificate_at, std::string::npos);
  EXPECT_LT(certificate_at, page.find("Required.Events.Block."));  // on top of the cases
  const std::string matrix = read_text(dir_ + "/a/report.html");
  EXPECT_NE(matrix.find("<a href=\"ref/report.html\">ref</a>"), std::string::npos) << matrix;
  EXPECT_NE(matrix.find("NOT CERTIFIED"), std::string::npos) << matrix;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/a/expected-failures.updated.txt"));
}

TEST_F(CertifyCli, TheUpdatedListMakesTheRunGreenButNeverCertifies) {
  ASSERT_EQ(run(certify("a", "")).exit_code, 1);
  const std::string list = dir_ + "/a/expected-failures.updated.txt";
  EXPECT_NE(read_text(list).find("broken:Required.Events.Block.TryWriteFullWhenFull # expected Full, got Ok"),
            std::string::npos)
      << read_text(list);
  const auto again = run(certify("b", "--expected-failures " + list));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("XFAIL"), std::string::npos) << again.output;
  EXPECT_EQ(read_json(dir_ + "/b/broken/certificate.json")["verdict"], "NOT CERTIFIED");
}

TEST_F(CertifyCli, StaleEntriesAndUnexpectedPassesFailTheRun) {
  std::ofstream(dir_ + "/list.txt") << "# passes for the reference: an unexpected pass\n"
                                       "ref:Required.Events.Block.Wraparound # anything\n"
                                       "Required.Events.NoSuchCase # anything\n";
  const auto r = run("certify --agent ref=" + std::string(INDEXBUS_AGENT) +
                    " --cases 'Required.Events.Block.Wraparound' --seed 7 --report " + dir_ + "/s --expected-failures " +
                    dir_ + "/list.txt");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("list.txt:2: Required.Events.Block.Wraparound: case passed (unexpected pass)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("list.txt:3: Required.Events.NoSuchCase: no such case in the catalog"), std::string::npos)
      << r.output;
  // The reference passed everything: still CERTIFIED; the list is what failed.
  EXPECT_EQ(read_json(dir_ + "/s/ref/certificate.json")["verdict"], "CERTIFIED");
}

TEST_F(CertifyCli, BadArgumentsAndListsAreUsageErrorsNamingTheLine) {
  std::ofstream(dir_ + "/bad.txt") << "\nRequired.Events.Block.Wraparound without a hash\n";
  const auto bad_list = run("certify --agent ref=" + std::string(INDEXBUS_AGENT) + " --expected-failures " + dir_ +
                           "/bad.txt --report " + dir_ + "/r");
  EXPECT_EQ(bad_list.exit_code, 2) << bad_list.output;
  EXPECT_NE(bad_list.output.find("bad.txt:2: expected 'CASE-ID # MESSAGE-PREFIX'"), std::string::npos) << bad_list.output;
  const auto bad_agent = run("certify --agent 'no name' --report " + dir_ + "/r");
  EXPECT_EQ(bad_agent.exit_code, 2) << bad_agent.output;
  EXPECT_NE(bad_agent.output.find("expected NAME=CMD"), std::string::npos) << bad_agent.output;
  std::ofstream(dir_ + "/other.txt") << "nobody:Required.Events.Block.Wraparound # x\n";
  const auto unknown_agent = run("certify --agent ref=" + std::string(INDEXBUS_AGENT) + " --expected-failures " + dir_ +
                                "/other.txt --report " + dir_ + "/r");
  EXPECT_EQ(unknown_agent.exit_code, 2) << unknown_agent.output;
  EXPECT_NE(unknown_agent.output.find("other.txt:1: agent 'nobody'"), std::string::npos) << unknown_agent.output;
  const auto in_process = run("certify --agent ref=" + std::string(INDEXBUS_AGENT) +
                              " --cases '*.InProcess.*' --report " + dir_ + "/r");
  EXPECT_EQ(in_process.exit_code, 2) << in_process.output;
  EXPECT_NE(in_process.output.find("not an agent"), std::string::npos) << in_process.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/r/ref"));  // nothing ran
}

TEST_F(CertifyCli, AnAgentThatNeverSaysHelloIsNotCertified) {
  const auto r = run("certify --agent mute=/bin/true --cases 'Required.Events.Block.*' --seed 7 --report " + dir_ + "/m");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the agent did not say hello"), std::string::npos) << r.output;
  const auto cert = read_json(dir_ + "/m/mute/certificate.json");
  EXPECT_EQ(cert["verdict"], "NOT CERTIFIED");
  EXPECT_TRUE(cert["agent"]["declared"].empty());
}

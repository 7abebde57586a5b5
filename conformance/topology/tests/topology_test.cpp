// The topology parser: the shipped example parses into the LaneSpecs core accepts, and every kind
// of mistake is an error naming file:line:column, the field, the value found and what was expected.
#include "indexbus/topology/topology.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

namespace indexbus::topology {
namespace {

const std::string kExample = std::string(INDEXBUS_TOPOLOGY_EXAMPLES) + "/pipeline.toml";

TEST(Topology, ExampleParses) {
  auto topo = parse_topology_file(kExample);
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  ASSERT_EQ(topo->regions.size(), 2u);
  EXPECT_EQ(topo->regions[0].name, "ingest");
  EXPECT_EQ(topo->regions[0].path(), "/dev/shm/ingest");
  EXPECT_EQ(topo->regions[1].dir, "/dev/shm");  // the default
  EXPECT_EQ(topo->regions[1].hugepages, HugePages::Prefer);
  const LaneSpec& raw = topo->regions[0].lanes[0].spec;
  EXPECT_EQ(raw.kind, LaneKind::FanoutBroadcast);
  EXPECT_EQ(raw.capacity_slots, 1024u);
  EXPECT_EQ(raw.reader_count, 2u);
  EXPECT_EQ(topo->regions[1].lanes[0].spec.gated_on, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(topo->regions[1].lanes[2].spec.reader_timeout_ns, 5'000'000'000u);
  ASSERT_EQ(topo->routers.size(), 1u);
  EXPECT_EQ(topo->routers[0].policy, RouterPolicy::KeyHash);
  EXPECT_EQ(topo->lane(topo->routers[0].outputs[1]).name, "shard1");
  ASSERT_EQ(topo->merges.size(), 1u);
  EXPECT_EQ(topo->lane(topo->merges[0].output).name, "merged");
  EXPECT_EQ(topo->merges[0].max_skip_turns, 16u);
  EXPECT_EQ(topo->regions[0].lanes[1].where.line, 20u);  // its first key
}

struct BadCase {
  std::string text;
  const char* expect_where;   // "f.toml:L:C"
  const char* expect_field;
};

std::string region(const std::string& lane_body, const std::string& region_extra = "") {
  return "[[region]]\nname = \"r\"\n" + region_extra + "[[region.lane]]\nname = \"a\"\nkind = \"events\"\n" + lane_body;
}

TEST(Topology, ErrorsNameLineColumnFieldValueAndExpectation) {
  const std::string ok_lane = "capacity_slots = 8\nslot_payload_bytes = 64\n";
  const std::vector<BadCase> cases = {
      {"[[region]\n", "f.toml:1:", "TOML syntax"},
      {"", "f.toml:", "region: missing"},
      {region("capacity_slots = 1000\nslot_payload_bytes = 64\n"), "f.toml:6:18", "capacity_slots (lane a): lane 0: capacity_slots 1000 is not a power of two"},
      {region("capacity_slots = 8\nslot_payload_bytes = \"big\"\n"), "f.toml:7:22", "slot_payload_bytes: found \"big\""},
      {region(ok_lane + "readers = 0\n"), "f.toml:8:11", "readers: found 0"},
      {region(ok_lane + "on_full = \"spill\"\n"), "f.toml:8:11", "on_full"},
      {region(ok_lane + "colour = 1\n"), "f.toml:8:10", "colour: unknown key"},
      {region(ok_lane, "hugepages = \"maybe\"\n"), "f.toml:3:13", "hugepages: found \"maybe\""},
      {region(ok_lane, "mode = \"0666\"\n"), "f.toml:3:8", "mode"},
      {region(ok_lane) + "[[router]]\nname = \"x\"\ninput = \"r/zz\"\noutputs = [\"r/a\"]\n", "f.toml:10:9",
       "region r has no lane zz"},
      {region(ok_lane) + "[[merge]]\nname = \"m\"\ninputs = [\"q/a\"]\noutput = \"r/a\"\n", "f.toml:10:", "no region q"},
      {region(ok_lane) + "[[region]]\nname = \"r\"\n[[region.lane]]\nname=\"b\"\nkind=\"events\"\ncapacity_slots=8\nslot_payload_bytes=8\n",
       "f.toml:", "\"r\" again"},
      {region(ok_lane + "gates = [\"1<0\"]\n"), "f.toml:8:10", "gates"},
  };
  for (const auto& c : cases) {
    auto topo = parse_topology_text(c.text, "f.toml");
    ASSERT_FALSE(topo.ok()) << c.text;
    EXPECT_EQ(topo.error().code, ErrorCode::BadTopology);
    std::printf("%s\n", topo.error().message.c_str());
    EXPECT_NE(topo.error().message.find(c.expect_where), std::string::npos) << topo.error().message;
    EXPECT_NE(topo.error().message.find(c.expect_field), std::string::npos) << topo.error().message;
  }
}

TEST(Topology, MissingFileIsNotFound) {
  auto topo = parse_topology_file("/nonexistent/indexbus.toml");
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.error().code, ErrorCode::NotFound);
}

// Hostile input: truncations and byte flips of the example never crash the parser; each is either
// a valid topology or one BadTopology error naming file:line. Seeded; the seed is printed and
// INDEXBUS_TOPOLOGY_SEED=<seed> replays it.
TEST(Topology, MutatedFilesNeverCrash) {
  std::ifstream in(kExample);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  const char* env = std::getenv("INDEXBUS_TOPOLOGY_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("seed %llu; replay: INDEXBUS_TOPOLOGY_SEED=%llu topology_test --gtest_filter=Topology.MutatedFilesNeverCrash\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string alphabet = "[]=\"'#.,{}\n 0123456789abcdefxyz-_/<\\";
  for (int run = 0; run < 300; ++run) {
    std::string mutated = text;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % mutated.size();
      switch (rng() % 3) {
        case 0: mutated[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: mutated.erase(at, 1 + rng() % 8); break;
        default: mutated.resize(std::max<std::size_t>(at, 1)); break;
      }
      if (mutated.empty()) mutated = "x";
    }
    auto topo = parse_topology_text(mutated, "m.toml");
    if (!topo.ok()) {
      EXPECT_EQ(topo.error().code, ErrorCode::BadTopology) << "seed " << seed << " run " << run;
      EXPECT_EQ(topo.error().message.rfind("m.toml:", 0), 0u) << topo.error().message;
    }
  }
}

}  // namespace
}  // namespace indexbus::topology

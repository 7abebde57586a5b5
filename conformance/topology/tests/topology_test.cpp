// The topology parser: the shipped example parses into the LaneSpecs core accepts, and every kind
// of mistake is an error naming file:line:column, the field, the value found and what was expected.
#include "indexbus/topology/topology.hpp"

#include <gtest/gtest.h>

#include <cstdio>

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

}  // namespace
}  // namespace indexbus::topology

#include "indexbus/harness/golden_catalog.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>
#include <memory>

#include "case_support.hpp"
#include "golden_images.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/step_runner.hpp"
#include "indexbus/validate.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, parse_read_outcome
namespace proto = protocol;
using golden::GoldenImage;
using golden::GoldenLaneConfig;
using golden::GoldenRole;

// Offsets of the header words a creator fills with values of its own (spec/layout.md).
constexpr std::size_t kCreatorPidOffset = 36;
constexpr std::size_t kCreationIdOffset = 40;
constexpr std::size_t kChecksumOffset = 60;

Json lane_spec(const GoldenLaneConfig& c) {
  return Json{{"kind", golden::lane_kind_name(c.kind)},   {"on_full", golden::on_full_name(c.on_full)},
              {"capacity_slots", c.capacity_slots},       {"slot_payload_bytes", c.slot_payload_bytes},
              {"reader_count", c.reader_count},           {"reader_timeout_ns", c.reader_timeout_ns},
              {"gated_on", c.gated_on}};
}

// One agent for one golden case, and the checks every request gets.
class GoldenRun {
 public:
  GoldenRun(const AgentCaseContext& context, CaseResult& result) : context_(context), result_(result) {}

  void start(const std::vector<GoldenLaneConfig>& lanes) {
    agent_ = std::make_unique<AgentProcess>(context_.agent_argv);
    if (auto failure = agent_->handshake()) throw CaseStop{outcome_of(*failure), "hello: " + failure->message};
    const Json& hello = agent_->hello();
    const auto kinds = proto::get_string_array(hello, "lane_kinds");
    const auto policies = proto::get_string_array(hello, "policies");
    for (const GoldenLaneConfig& c : lanes) {
      if (std::find(kinds.begin(), kinds.end(), golden::lane_kind_name(c.kind)) == kinds.end()) {
        throw CaseStop{Outcome::Skip, "agent does not implement " + golden::lane_kind_name(c.kind) + " lanes"};
      }
      if (std::find(policies.begin(), policies.end(), golden::on_full_name(c.on_full)) == policies.end()) {
        throw CaseStop{Outcome::Skip, "agent does not implement the " + golden::on_full_name(c.on_full) + " policy"};
      }
    }
  }

  Json expect_ok(Json request, const std::string& during) {
    HistoryRecord record;
    record.step = result_.history.size();
    record.action = during;
    record.expected = "ok";
    RequestOutcome outcome = agent_->request(std::move(request), context_.request_deadline_ms);
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), during + ": " + failure->message};
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups("the agent", reply);
    if (reply.type == "unsupported") throw CaseStop{Outcome::Skip, during + " unsupported: " + reply.message};
    record.actual = reply.type == "ok" ? "ok" : "error " + reply.error_kind + " " + reply.error_code + ": " + reply.message;
    record.matched = reply.type == "ok";
    result_.history.push_back(record);
    if (!record.matched) throw CaseStop{Outcome::Fail, during + ": " + record.actual};
    return reply.result;
  }

  HistoryRecord& last() { return result_.history.back(); }

 private:
  const AgentCaseContext& context_;
  CaseResult& result_;
  std::unique_ptr<AgentProcess> agent_;
};

void run_read_case(const GoldenImage& image, std::uint32_t lane, const GoldenRole& role, const AgentCaseContext& context,
                   CaseResult& result) {
  for (const auto& read : role.reads) result.scenario.push_back("try_read -> " + golden::describe_read(read));
  try {
    const RegionFile region(context.dir, result.id);
    write_image(region.path(), image.bytes);
    GoldenRun run(context, result);
    run.start({image.lanes[lane].config});
    run.expect_ok(Json{{"type", "open_region"}, {"path", region.path()}}, "open_region " + image.name + ".bin");
    const bool journal = image.lanes[lane].config.kind == LaneKind::Journal;
    // A Journal reader is filed under handle 0; the record it gets must be the manifest's (JR-3, JR-4).
    const std::uint32_t handle = journal ? 0 : role.reader;
    Json attach{{"type", "attach"}, {"lane", lane}, {"role", role.role}, {"reader", handle}};
    if (!role.name.empty()) attach["name"] = role.name;
    const Json attached = run.expect_ok(attach, "attach " + role.key);
    if (journal) {
      const std::uint64_t record = proto::get_u64(attached, "reader_id");
      run.last().expected = "ok, reader_id " + std::to_string(role.reader);
      run.last().actual = "ok, reader_id " + std::to_string(record);
      run.last().matched = record == role.reader;
      if (record != role.reader) {
        throw CaseStop{Outcome::Fail, "attach " + role.key + ": " + run.last().actual + ", expected record " +
                                          std::to_string(role.reader) + " (JR-3, JR-4)"};
      }
    }
    for (std::size_t k = 0; k < role.reads.size(); ++k) {
      const Json reply = run.expect_ok(Json{{"type", "op"}, {"lane", lane}, {"role", role.role}, {"reader", handle}, {"op", "try_read"}},
                                       "try_read " + std::to_string(k));
      HistoryRecord& record = run.last();
      record.expected = golden::describe_read(role.reads[k]);
      spec::ReadOutcome got;
      try {
        got = parse_read_outcome(reply);
      } catch (const proto::ProtocolError& e) {
        record.actual = reply.dump();
        record.matched = false;
        throw CaseStop{Outcome::Fail, "read " + std::to_string(k) + ": malformed result " + reply.dump() + " (" + e.what() + ")"};
      }
      record.actual = golden::describe_read(got);
      record.matched = got == role.reads[k];
      if (!record.matched) {
        throw CaseStop{Outcome::Fail, "read " + std::to_string(k) + " of " + image.name + ".bin lane " + std::to_string(lane) + " " +
                                          role.key + ": expected " + record.expected + ", got " + record.actual};
      }
    }
    result.outcome = Outcome::Pass;
    result.detail = std::to_string(role.reads.size()) + " reads matched spec/golden/v1/manifest.json";
  } catch (const CaseStop& stop) {
    result.outcome = stop.outcome;
    result.detail = stop.detail;
  }
}

// Where byte `offset` of a region laid out like `image` is, in the words of spec/layout.md.
std::string where(const golden::Bytes& image, std::size_t offset) {
  static constexpr struct {
    std::size_t end;
    const char* field;
  } kHeader[] = {{8, "magic"},        {10, "version_major"},  {12, "version_minor"},          {16, "header_bytes"},
                 {24, "region_bytes"}, {28, "lane_count"},     {32, "lane_table_offset"},      {36, "lane_descriptor_bytes"},
                 {40, "creator_pid"},  {48, "creation_id"},    {56, "reserved0"},              {60, "flags"},
                 {64, "checksum"},     {68, "init_state"},     {128, "reserved1"}};
  for (const auto& field : kHeader) {
    if (offset < field.end) return "header " + std::string(field.field) + " (byte " + std::to_string(offset) + ")";
  }
  std::uint32_t lane_count = 0;
  std::memcpy(&lane_count, image.data() + 24, 4);
  if (offset < 128 + 64 * std::size_t{lane_count}) {
    return "lane table: descriptor " + std::to_string((offset - 128) / 64) + " byte " + std::to_string((offset - 128) % 64);
  }
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    std::uint64_t block = 0;
    std::uint64_t bytes = 0;
    std::memcpy(&block, image.data() + 128 + 64 * std::size_t{i} + 24, 8);
    std::memcpy(&bytes, image.data() + 128 + 64 * std::size_t{i} + 32, 8);
    if (offset >= block && offset < block + bytes) {
      return "lane " + std::to_string(i) + " block byte " + std::to_string(offset - block);
    }
  }
  return "byte " + std::to_string(offset) + " (outside every block)";
}

}  // namespace

std::optional<std::string> check_created_region(golden::Bytes created, const GoldenImage& image) {
  // The reference validator first: every field, then the checksum (REG-4, REG-5, REG-6, REG-12).
  if (auto error = validate_region_image(created)) return "the created file fails the reference validator: " + error->message;
  // Then the bytes, with what a creator chooses itself normalized to the golden values.
  if (created.size() != image.bytes.size()) {
    return "the created file has " + std::to_string(created.size()) + " bytes, the golden " + image.name + ".bin " +
           std::to_string(image.bytes.size());
  }
  const std::uint32_t zero_pid = 0;
  std::memcpy(created.data() + kCreatorPidOffset, &zero_pid, 4);
  std::memcpy(created.data() + kCreationIdOffset, &golden::kGoldenCreationId, 8);
  // The validator checked the checksum; with every byte it covers equal, it equals the golden one.
  // Taking the golden value here makes a differing field, not the checksum, the first difference.
  std::memcpy(created.data() + kChecksumOffset, image.bytes.data() + kChecksumOffset, 4);
  const auto [got, want] = std::mismatch(created.begin(), created.end(), image.bytes.begin());
  if (got == created.end()) return std::nullopt;
  const auto offset = static_cast<std::size_t>(got - created.begin());
  return "the created file differs from " + image.name + ".bin at " + where(image.bytes, offset) + ": byte " +
         std::to_string(static_cast<unsigned>(*got)) + ", expected " + std::to_string(static_cast<unsigned>(*want));
}

namespace {

void run_create_case(const GoldenImage& image, const AgentCaseContext& context, CaseResult& result) {
  std::vector<GoldenLaneConfig> configs;
  Json lanes = Json::array();
  for (const auto& lane : image.lanes) {
    configs.push_back(lane.config);
    lanes.push_back(lane_spec(lane.config));
  }
  result.scenario.push_back("create_region " + lanes.dump());
  try {
    const RegionFile region(context.dir, result.id);
    GoldenRun run(context, result);
    run.start(configs);
    run.expect_ok(Json{{"type", "create_region"}, {"path", region.path()}, {"lanes", lanes}}, "create_region");
    if (auto difference = check_created_region(read_file(region.path()), image)) throw CaseStop{Outcome::Fail, *difference};
    result.outcome = Outcome::Pass;
    result.detail = "valid, and equal to " + image.name + ".bin with creator_pid, creation_id and checksum normalized";
  } catch (const CaseStop& stop) {
    result.outcome = stop.outcome;
    result.detail = stop.detail;
  }
}

// The rules a role's reads exercise: the kind's order and exactness rules always, the Lost,
// Closed, gating and resume rules when the reads or the lane show them.
std::vector<std::string> read_rules(const GoldenLaneConfig& c, const GoldenRole& role) {
  const bool lost = std::any_of(role.reads.begin(), role.reads.end(), [](const auto& r) { return r.status == ReadStatus::Lost; });
  const bool closed = role.reads.back().status == ReadStatus::Closed;
  std::vector<std::string> rules{"REG-4", "REG-6"};
  auto add = [&](bool when, const char* rule) {
    if (when) rules.emplace_back(rule);
  };
  switch (c.kind) {
    case LaneKind::Events:
      rules.insert(rules.end(), {"EV-4", "EV-9", "EV-16"});
      add(lost, "EV-8");
      add(closed, "EV-10");
      break;
    case LaneKind::FanoutBroadcast:
      rules.insert(rules.end(), {"FB-1", "FB-3"});
      add(lost, "FB-7");
      add(closed, "FB-9");
      break;
    case LaneKind::SequencedSlots:
      rules.insert(rules.end(), {"SS-5", "SS-9"});
      add(!c.gated_on.empty() && c.gated_on.at(role.reader) != 0, "SS-4");
      add(lost, "SS-8");
      add(closed, "SS-10");
      break;
    case LaneKind::Journal:
      rules.emplace_back(role.name.empty() ? "JR-3" : "JR-4");
      rules.insert(rules.end(), {"JR-5", "JR-12"});
      add(lost, "JR-8");
      add(closed, "JR-11");
      break;
  }
  return rules;
}

}  // namespace

void add_golden_cases(std::vector<CaseDef>& cases) {
  for (const GoldenImage& image : golden::golden_images()) {
    for (std::uint32_t lane = 0; lane < image.lanes.size(); ++lane) {
      for (const GoldenRole& role : image.lanes[lane].roles) {
        CaseDef def;
        def.id = "Required.Layout.Golden." + image.name + ".L" + std::to_string(lane) + "." + role.key;
        def.rules = read_rules(image.lanes[lane].config, role);
        def.summary = "spec/golden/v1/" + image.name + ".bin lane " + std::to_string(lane) + ", " + role.key +
                      ": the reads of the manifest (" + image.summary + ")";
        def.run_with_agents = [&image, lane, &role](const AgentCaseContext& context, CaseResult& result) {
          run_read_case(image, lane, role, context, result);
        };
        cases.push_back(std::move(def));
      }
    }
    if (!image.fresh) continue;
    CaseDef def;
    def.id = "Required.Layout.GoldenCreate." + image.name;
    def.rules = {"REG-1", "REG-4", "REG-5", "REG-6", "REG-12"};
    const bool gated = std::any_of(image.lanes.begin(), image.lanes.end(),
                                   [](const auto& l) { return l.config.kind == LaneKind::SequencedSlots; });
    if (gated) def.rules.emplace_back("SS-3");
    def.summary = "the agent creates the lanes of " + image.name + ".bin: valid, and the golden bytes up to pid, id and checksum";
    def.run_with_agents = [&image](const AgentCaseContext& context, CaseResult& result) { run_create_case(image, context, result); };
    cases.push_back(std::move(def));
  }
}

}  // namespace indexbus::harness

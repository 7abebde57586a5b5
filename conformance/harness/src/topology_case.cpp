#include "indexbus/harness/topology_case.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>

#include "case_support.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/protocol/fields.hpp"

extern char** environ;

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, sleep_us, the status tables
namespace proto = protocol;
using spec::Bytes;
using Who = TopologyScenario::Who;

// Blocking writes outlast every pause. A consumer's script reads as many entries as its stream
// can hold, plus Closed; even if every read times out (a loop that stalls or never closes) the
// script ends within kScriptReadsNs, and the drain after it reads whatever came late.
constexpr std::uint64_t kWriteTimeoutNs = 2'000'000'000;
constexpr std::uint64_t kReadTimeoutNs = 1'000'000'000;
constexpr std::uint64_t kScriptReadsNs = 2'000'000'000;
constexpr std::uint32_t kScriptDeadlineMs = 30'000;
constexpr std::uint64_t kStartDelayNs = 40'000'000;  // the scripts are sent and parsed by then
constexpr std::uint64_t kStopEarlyNs = 10'000'000;
constexpr std::uint64_t kStartLateMaxNs = 1'000'000'000;
constexpr std::uint64_t kLoopReadyTimeoutNs = 5'000'000'000;  // a loop attaches its lanes by then
constexpr std::uint64_t kLoopExitTimeoutNs = 2'000'000'000;   // after its consumers read Closed
constexpr std::uint64_t kDrainTimeoutNs = 3'000'000'000;      // every consumer's drain reads Closed by then
constexpr double kLoopSeconds = 60;                           // the loop's own deadline, a backstop

// ---- A router or merge process -------------------------------------------------------------

// `indexbus route|merge ...` with stdout and stderr in one anonymous file, registered for cleanup.
class LoopProcess {
 public:
  explicit LoopProcess(const std::vector<std::string>& argv) {
    assert(!argv.empty());
    install_cleanup_handlers();
    output_fd_ = ::memfd_create("indexbus-loop-output", MFD_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (output_fd_ >= 0) {
      posix_spawn_file_actions_adddup2(&actions, output_fd_, STDOUT_FILENO);
      posix_spawn_file_actions_adddup2(&actions, output_fd_, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int spawned = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      pid_ = -1;
      throw CaseStop{Outcome::Crash, "cannot start " + argv[0] + ": " + std::strerror(spawned)};
    }
    slot_ = register_child(pid_);
  }
  ~LoopProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    unregister_child(slot_);
    if (output_fd_ >= 0) ::close(output_fd_);
  }
  LoopProcess(const LoopProcess&) = delete;
  LoopProcess& operator=(const LoopProcess&) = delete;

  void signal(int signal_number) const noexcept {
    if (pid_ > 0) ::kill(pid_, signal_number);
  }
  // Reaps the process if it has exited; true once it has.
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    status_ = status;
    return true;
  }
  // Waits (polling every millisecond) until the process exits or deadline_ns passes.
  bool wait_exit(std::uint64_t deadline_ns) {
    while (!exited()) {
      if (proto::monotonic_now_ns() >= deadline_ns) return false;
      sleep_us(1000);
    }
    return true;
  }
  std::string output() const {
    std::string out;
    if (output_fd_ < 0) return out;
    char buffer[4096];
    // Bounded: at most 64 KiB of a loop's few lines.
    for (off_t offset = 0; offset < 65536;) {
      const ssize_t got = ::pread(output_fd_, buffer, sizeof buffer, offset);
      if (got <= 0) break;
      out.append(buffer, static_cast<std::size_t>(got));
      offset += got;
    }
    return out;
  }
  std::string status_text() const {
    if (!status_) return "still running";
    if (WIFEXITED(*status_)) return "exit status " + std::to_string(WEXITSTATUS(*status_));
    if (WIFSIGNALED(*status_)) return "killed by signal " + std::to_string(WTERMSIG(*status_));
    return "status " + std::to_string(*status_);
  }
  bool exited_ok() const { return status_ && WIFEXITED(*status_) && WEXITSTATUS(*status_) == 0; }

 private:
  pid_t pid_ = -1;
  int slot_ = -1;
  int output_fd_ = -1;
  std::optional<int> status_;
};

// The number after `label` in a loop's final line ("routed 12, input lost 3"), if present.
std::optional<std::uint64_t> stat_after(const std::string& output, const std::string& label) {
  const std::size_t at = output.rfind(label + " ");
  if (at == std::string::npos) return std::nullopt;
  std::uint64_t value = 0;
  std::size_t i = at + label.size() + 1;
  if (i >= output.size() || output[i] < '0' || output[i] > '9') return std::nullopt;
  for (; i < output.size() && output[i] >= '0' && output[i] <= '9'; ++i) value = value * 10 + static_cast<std::uint64_t>(output[i] - '0');
  return value;
}

// ---- Entries and their description --------------------------------------------------------

std::uint64_t le64(const Bytes& payload, std::size_t offset) {
  std::uint64_t value = 0;
  for (std::size_t b = 0; b < 8 && offset + b < payload.size(); ++b) {
    value |= std::uint64_t{std::to_integer<std::uint8_t>(payload[offset + b])} << (8 * b);
  }
  return value;
}

std::string describe_entry(const Bytes& payload) {
  const std::uint64_t tag = le64(payload, 0);
  return "producer " + std::to_string((tag >> 40) - 1) + " entry " + std::to_string(tag & ((1ull << 40) - 1)) + " (key " +
         std::to_string(le64(payload, 8)) + ", " + std::to_string(payload.size()) + " B)";
}

// ---- What the models predict for each lane --------------------------------------------------

struct Expected {
  enum class Kind { Exact, Arrival, Lossy } kind = Kind::Exact;
  std::vector<Bytes> stream;                // Exact: the whole stream, in order
  std::vector<std::vector<Bytes>> sources;  // Arrival: the merge's inputs; Lossy: each source's stream, any entry may be missing
};

std::vector<std::vector<Bytes>> sources_of(const Expected& e) {
  return e.kind == Expected::Kind::Exact ? std::vector<std::vector<Bytes>>{e.stream} : e.sources;
}

// In dependency order: a loop's outputs once all its inputs are known. Bounded by the loop count.
std::vector<Expected> predict(const TopologyScenario& s) {
  std::vector<std::optional<Expected>> lanes(s.lanes.size());
  for (const auto& p : s.producers) lanes.at(p.lane) = Expected{Expected::Kind::Exact, p.entries, {}};
  auto exact_block = [&](std::uint32_t lane) {
    return lanes[lane]->kind == Expected::Kind::Exact && s.lanes[lane].on_full == OnFull::Block;
  };
  const std::size_t loops = s.merges.size() + s.routers.size();
  for (std::size_t round = 0; round <= loops; ++round) {
    for (const auto& m : s.merges) {
      if (lanes[m.output]) continue;
      if (!std::all_of(m.inputs.begin(), m.inputs.end(), [&](std::uint32_t l) { return lanes[l].has_value(); })) continue;
      Expected out;
      const bool all_exact = std::all_of(m.inputs.begin(), m.inputs.end(), exact_block);
      if (all_exact && m.policy != spec::MergePolicy::Arrival) {
        std::vector<std::vector<Bytes>> inputs;
        for (const std::uint32_t l : m.inputs) inputs.push_back(lanes[l]->stream);
        const spec::MergeModelConfig config{m.policy, static_cast<std::uint32_t>(m.inputs.size()), m.key_offset_bytes};
        for (const spec::MergeSource& source : spec::merge_order(config, inputs)) {
          out.stream.push_back(inputs.at(source.input).at(source.index));
        }
      } else {
        out.kind = all_exact ? Expected::Kind::Arrival : Expected::Kind::Lossy;
        for (const std::uint32_t l : m.inputs) {
          for (auto& source : sources_of(*lanes[l])) out.sources.push_back(std::move(source));
        }
      }
      lanes[m.output] = std::move(out);
    }
    for (const auto& r : s.routers) {
      if (!lanes[r.input] || lanes[r.outputs.front()]) continue;
      const spec::RouterModelConfig config{r.policy, static_cast<std::uint32_t>(r.outputs.size()), r.key_offset_bytes};
      if (exact_block(r.input)) {
        const auto routed = spec::route(config, lanes[r.input]->stream);
        for (std::size_t o = 0; o < r.outputs.size(); ++o) {
          Expected out;
          for (const std::uint64_t index : routed.at(o)) out.stream.push_back(lanes[r.input]->stream.at(index));
          lanes[r.outputs[o]] = std::move(out);
        }
      } else {
        for (const std::uint32_t o : r.outputs) lanes[o] = Expected{Expected::Kind::Lossy, {}, sources_of(*lanes[r.input])};
      }
    }
  }
  std::vector<Expected> out;
  for (auto& lane : lanes) out.push_back(lane.value_or(Expected{}));
  for ([[maybe_unused]] const std::uint32_t lane : s.consumers) assert(lanes.at(lane).has_value());  // every consumer is fed
  return out;
}

// ---- Checking one consumer's reads ------------------------------------------------------------

struct Read {
  ReadStatus status = ReadStatus::Empty;
  Bytes payload;
  std::uint64_t lost_count = 0;
};

Read parse_read(const Json& result) {
  Read read;
  read.status = status_named(proto::get_string(result, "status"), kReadStatuses);
  if (read.status == ReadStatus::Entry) read.payload = proto::from_hex(proto::get_string(result, "payload_hex"), kSlotPayloadBytesMax);
  if (read.status == ReadStatus::Lost) read.lost_count = proto::get_u64(result, "lost_count");
  return read;
}

// The first way consumer `who` (reading a lane with on_full) departs from the prediction, or
// nothing; delivered counts its entries.
std::optional<std::string> check_consumer(const std::string& who, const std::vector<Read>& reads, const Expected& expected,
                                          OnFull on_full, std::uint64_t& delivered) {
  std::vector<Bytes> entries;
  delivered = 0;
  for (const Read& r : reads) delivered += r.status == ReadStatus::Entry ? 1 : 0;
  std::uint64_t position = 0;  // Exact: stream position, Lost included
  bool closed = false;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const Read& r = reads[i];
    const std::string at = who + " read " + std::to_string(i) + ": ";
    if (closed && r.status != ReadStatus::Closed) return at + std::string(to_string(r.status)) + " after Closed (EV-10)";
    if (r.status == ReadStatus::Closed) {
      closed = true;
    } else if (r.status == ReadStatus::Lost) {
      if (on_full == OnFull::Block) return at + "Lost " + std::to_string(r.lost_count) + " on a Block lane: nothing may be lost (RT-7, MG-7)";
      position += r.lost_count;
      if (expected.kind == Expected::Kind::Exact && position > expected.stream.size()) {
        return at + "Lost " + std::to_string(r.lost_count) + " reaches stream position " + std::to_string(position) +
               ", but the model predicts " + std::to_string(expected.stream.size()) + " entries (EV-8, RT-8)";
      }
    } else if (r.status == ReadStatus::Entry) {
      if (expected.kind == Expected::Kind::Exact) {
        if (position >= expected.stream.size()) {
          return at + "observed " + describe_entry(r.payload) + " at stream position " + std::to_string(position) +
                 ", expected Closed after " + std::to_string(expected.stream.size()) + " entries";
        }
        if (r.payload != expected.stream[position]) {
          return at + "at stream position " + std::to_string(position) + " expected " + describe_entry(expected.stream[position]) +
                 ", observed " + describe_entry(r.payload);
        }
        ++position;
      }
      entries.push_back(r.payload);
    }
  }
  if (!closed) {
    return who + " never read Closed after " + std::to_string(entries.size()) + " entries (close propagation, RT-10, MG-9)";
  }
  switch (expected.kind) {
    case Expected::Kind::Exact:
      if (position != expected.stream.size()) {
        return who + ": Closed at stream position " + std::to_string(position) + ", expected " + describe_entry(expected.stream[position]) +
               " there (" + std::to_string(expected.stream.size()) + " entries predicted)";
      }
      return std::nullopt;
    case Expected::Kind::Arrival: {
      std::map<std::uint64_t, std::uint32_t> source_of_tag;
      for (std::uint32_t s = 0; s < expected.sources.size(); ++s) {
        for (const Bytes& e : expected.sources[s]) source_of_tag[le64(e, 0)] = s;
      }
      std::vector<std::uint32_t> sources;
      for (const Bytes& e : entries) {
        const auto found = source_of_tag.find(le64(e, 0));
        if (found == source_of_tag.end()) return who + ": observed " + describe_entry(e) + ", which no producer wrote";
        sources.push_back(found->second);
      }
      if (auto why = spec::check_arrival(expected.sources, entries, sources, {}, true)) return who + ": " + *why + " (MG-6)";
      return std::nullopt;
    }
    case Expected::Kind::Lossy: {
      // Each source's entries appear in its order, each at most once, exact (RT-9, MG-8).
      std::map<std::uint64_t, std::pair<std::uint32_t, std::uint64_t>> where;  // tag -> (source, index)
      for (std::uint32_t s = 0; s < expected.sources.size(); ++s) {
        for (std::uint64_t j = 0; j < expected.sources[s].size(); ++j) where[le64(expected.sources[s][j], 0)] = {s, j};
      }
      std::vector<std::int64_t> last(expected.sources.size(), -1);
      for (std::size_t k = 0; k < entries.size(); ++k) {
        const auto found = where.find(le64(entries[k], 0));
        if (found == where.end()) return who + " entry " + std::to_string(k) + ": " + describe_entry(entries[k]) + ", which no producer wrote";
        const auto [s, j] = found->second;
        if (entries[k] != expected.sources[s][j]) {
          return who + " entry " + std::to_string(k) + ": bytes differ from the write, expected " + describe_entry(expected.sources[s][j]);
        }
        if (static_cast<std::int64_t>(j) <= last[s]) {
          return who + " entry " + std::to_string(k) + ": " + describe_entry(entries[k]) + " after entry " + std::to_string(last[s]) +
                 " of the same producer: input order broken or entry repeated (RT-6)";
        }
        last[s] = static_cast<std::int64_t>(j);
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// ---- The topology file ------------------------------------------------------------------------

std::string toml_string(const std::string& text) { return "\"" + text + "\""; }  // names and paths of ours: no quotes

std::string topology_toml(const TopologyScenario& s, const std::string& region_name, const std::string& dir) {
  auto lane = [&](std::uint32_t l) { return toml_string(region_name + "/l" + std::to_string(l)); };
  std::string out = "# written by indexbus conform (topology case)\n[[region]]\nname = " + toml_string(region_name) +
                    "\ndir = " + toml_string(dir) + "\n";
  for (std::size_t l = 0; l < s.lanes.size(); ++l) {
    out += "  [[region.lane]]\n  name = \"l" + std::to_string(l) + "\"\n  kind = \"events\"\n  on_full = \"" +
           (s.lanes[l].on_full == OnFull::Block ? "block" : "drop") + "\"\n  capacity_slots = " +
           std::to_string(s.lanes[l].capacity_slots) + "\n  slot_payload_bytes = " + std::to_string(s.lanes[l].slot_payload_bytes) + "\n";
  }
  for (std::size_t r = 0; r < s.routers.size(); ++r) {
    const auto& router = s.routers[r];
    std::string outputs;
    for (const std::uint32_t o : router.outputs) outputs += (outputs.empty() ? "" : ", ") + lane(o);
    const char* policy = router.policy == spec::RouterPolicy::RoundRobin ? "round_robin"
                         : router.policy == spec::RouterPolicy::KeyHash  ? "key_hash"
                                                                         : "broadcast";
    out += "[[router]]\nname = \"r" + std::to_string(r) + "\"\ninput = " + lane(router.input) + "\noutputs = [" + outputs +
           "]\npolicy = \"" + policy + "\"\nkey_offset_bytes = " + std::to_string(router.key_offset_bytes) + "\n";
  }
  for (std::size_t m = 0; m < s.merges.size(); ++m) {
    const auto& merge = s.merges[m];
    std::string inputs;
    for (const std::uint32_t i : merge.inputs) inputs += (inputs.empty() ? "" : ", ") + lane(i);
    const char* policy = merge.policy == spec::MergePolicy::RoundRobin ? "round_robin"
                         : merge.policy == spec::MergePolicy::Sequence ? "sequence"
                                                                       : "arrival";
    out += "[[merge]]\nname = \"m" + std::to_string(m) + "\"\ninputs = [" + inputs + "]\noutput = " + lane(merge.output) +
           "\npolicy = \"" + policy + "\"\nkey_offset_bytes = " + std::to_string(merge.key_offset_bytes) + "\n";
  }
  return out;
}

std::string who_name(Who who, std::uint32_t index) {
  switch (who) {
    case Who::Producer: return "producer " + std::to_string(index);
    case Who::Merge: return "merge m" + std::to_string(index);
    case Who::Router: return "router r" + std::to_string(index);
    case Who::Consumer: return "consumer " + std::to_string(index);
  }
  return "?";
}

// ---- The run --------------------------------------------------------------------------------

void run(const std::string& case_id, const TopologyScenario& s, const CaseContext& context, std::string& detail) {
  if (context.loop_argv.empty() || context.reference_agent_argv.empty()) {
    throw CaseStop{Outcome::Fail, "no loop executable or reference agent configured (ConformOptions.loop_argv)"};
  }
  // A private directory of its own: the topology file names it as the region's dir.
  const ScratchDir dir(context.region_dir);
  const RegionFile region(dir, case_id);
  const RegionFile topology_file(dir, case_id + ".toml");
  {
    std::ofstream out(topology_file.path());
    out << topology_toml(s, case_id, dir.path());
    if (!out) throw CaseStop{Outcome::Crash, "cannot write " + topology_file.path()};
  }
  const std::vector<Expected> expected = predict(s);
  assert(!s.producers.empty());
  assert(s.pauses.size() <= 64);  // each pause is at most 1 s (sleep_us): the schedule is bounded

  // Agents: producers first (producer 0 creates the region), then consumers.
  const std::size_t agent_count = s.producers.size() + s.consumers.size();
  std::vector<std::unique_ptr<AgentProcess>> agents(agent_count);
  auto agent_name = [&](std::size_t a) {
    return a < s.producers.size() ? who_name(Who::Producer, static_cast<std::uint32_t>(a))
                                  : who_name(Who::Consumer, static_cast<std::uint32_t>(a - s.producers.size()));
  };
  auto ok_result = [&](std::size_t a, RequestOutcome outcome, const std::string& during) -> Json {
    if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), agent_name(a) + " " + during + ": " + failure->message};
    Reply& reply = std::get<Reply>(outcome);
    stop_on_lost_wakeups(agent_name(a), reply);
    if (reply.type != "ok") throw CaseStop{Outcome::Fail, agent_name(a) + " " + during + ": " + reply.type + " " + reply.error_kind + ": " + reply.message};
    return reply.result;
  };
  auto call = [&](std::size_t a, Json request, const std::string& during) {
    return ok_result(a, agents[a]->request(std::move(request), context.request_deadline_ms), during);
  };
  struct Stopper {  // never leave a stopped process behind, whatever ends the case
    std::vector<std::unique_ptr<AgentProcess>>& agents;
    ~Stopper() {
      for (auto& agent : agents) {
        if (agent) agent->signal(SIGCONT);
      }
    }
  } stopper{agents};
  Json lanes = Json::array();
  for (const auto& lane : s.lanes) {
    lanes.push_back({{"kind", "events"}, {"on_full", lane.on_full == OnFull::Block ? "block" : "drop"},
                     {"capacity_slots", lane.capacity_slots}, {"slot_payload_bytes", lane.slot_payload_bytes}});
  }
  for (std::size_t a = 0; a < agent_count; ++a) {
    agents[a] = std::make_unique<AgentProcess>(context.reference_agent_argv);
    if (auto failure = agents[a]->handshake()) throw CaseStop{outcome_of(*failure), agent_name(a) + " hello: " + failure->message};
    if (!proto::get_bool_or(agents[a]->hello(), "batch", false)) throw CaseStop{Outcome::Fail, "the reference agent has no batch mode"};
    if (a == 0) {
      call(a, Json{{"type", "create_region"}, {"path", region.path()}, {"lanes", lanes}}, "create_region");
    } else {
      call(a, Json{{"type", "open_region"}, {"path", region.path()}}, "open_region");
    }
    const bool producer = a < s.producers.size();
    const std::uint32_t lane = producer ? s.producers[a].lane : s.consumers[a - s.producers.size()];
    call(a, Json{{"type", "attach"}, {"lane", lane}, {"role", producer ? "producer" : "consumer"}}, "attach");
  }

  // Loops: merges, then routers; each is ready once it printed its first line, "... -> ...", after
  // attaching its lanes (an error line has no arrow). A stopped loop dies by SIGKILL all the same.
  std::vector<std::unique_ptr<LoopProcess>> loops;
  std::vector<std::string> loop_names;
  auto start_loop = [&](const char* verb, const std::string& name) {
    std::vector<std::string> argv = context.loop_argv;
    for (const std::string& word : {std::string(verb), std::string("--topology"), topology_file.path(), std::string("--name"), name,
                                   std::string("--seconds"), std::to_string(static_cast<int>(kLoopSeconds))}) {
      argv.push_back(word);
    }
    loops.push_back(std::make_unique<LoopProcess>(argv));
    loop_names.push_back(std::string(verb) + " " + name);
  };
  for (std::size_t m = 0; m < s.merges.size(); ++m) start_loop("merge", "m" + std::to_string(m));
  for (std::size_t r = 0; r < s.routers.size(); ++r) start_loop("route", "r" + std::to_string(r));
  const std::uint64_t ready_deadline_ns = proto::monotonic_now_ns() + kLoopReadyTimeoutNs;
  for (std::size_t l = 0; l < loops.size(); ++l) {
    while (loops[l]->output().find(" -> ") == std::string::npos) {
      if (loops[l]->exited() || proto::monotonic_now_ns() >= ready_deadline_ns) {
        throw CaseStop{Outcome::Fail, "indexbus " + loop_names[l] + " did not start (" + loops[l]->status_text() + "): " + loops[l]->output()};
      }
      sleep_us(1000);
    }
  }

  // Scripts: every producer writes then closes; every consumer makes as many blocking reads as
  // its stream can hold, plus one for Closed. All start together.
  std::vector<Json> scripts(agent_count);
  for (std::size_t a = 0; a < agent_count; ++a) {
    Json& ops = scripts[a] = Json::array();
    if (a < s.producers.size()) {
      const auto& p = s.producers[a];
      const bool block = s.lanes[p.lane].on_full == OnFull::Block;
      for (const Bytes& entry : p.entries) {
        Json op{{"lane", p.lane}, {"role", "producer"}, {"op", block ? "write" : "try_write"}, {"payload_hex", proto::to_hex(entry.data(), entry.size())}};
        if (block) op["timeout_ns"] = kWriteTimeoutNs;
        ops.push_back(std::move(op));
      }
      ops.push_back(Json{{"lane", p.lane}, {"role", "producer"}, {"op", "close"}});
    } else {
      const std::uint32_t lane = s.consumers[a - s.producers.size()];
      std::size_t read_count = 1;
      for (const auto& source : sources_of(expected[lane])) read_count += source.size();
      const std::uint64_t timeout_ns = std::min<std::uint64_t>(kReadTimeoutNs, kScriptReadsNs / read_count);
      for (std::size_t n = 0; n < read_count; ++n) {
        ops.push_back(Json{{"lane", lane}, {"role", "consumer"}, {"op", "read"}, {"timeout_ns", timeout_ns}});
      }
    }
  }
  // Built first, then sent: the start time is not eaten by building them.
  std::vector<std::uint64_t> ids(agent_count);
  const std::uint64_t start_at_ns = proto::monotonic_now_ns() + kStartDelayNs;
  for (std::size_t a = 0; a < agent_count; ++a) {
    const std::uint64_t late_ns = a < s.start_late_us.size() ? std::uint64_t{s.start_late_us[a]} * 1000 : 0;
    assert(late_ns <= kStartLateMaxNs);
    auto sent = agents[a]->send(Json{{"type", "run_script"}, {"ops", std::move(scripts[a])}, {"start_at_ns", start_at_ns + late_ns}},
                                std::max(context.request_deadline_ms, kScriptDeadlineMs));
    if (auto* failure = std::get_if<AgentFailure>(&sent)) throw CaseStop{outcome_of(*failure), agent_name(a) + " run_script: " + failure->message};
    ids[a] = std::get<std::uint64_t>(sent);
  }
  // The first pause begins kStopEarlyNs before the scripts start, so that a process a case stops
  // at once is stopped before anyone moves: the same race every time.
  const std::uint64_t now_ns = proto::monotonic_now_ns();
  if (now_ns + kStopEarlyNs < start_at_ns) sleep_us((start_at_ns - kStopEarlyNs - now_ns) / 1000);
  for (const auto& pause : s.pauses) {  // bounded: a fixed list, each pause ends with SIGCONT
    sleep_us(pause.delay_us);
    auto send_signal = [&](int sig) {
      switch (pause.who) {
        case Who::Producer: agents.at(pause.index)->signal(sig); break;
        case Who::Consumer: agents.at(s.producers.size() + pause.index)->signal(sig); break;
        case Who::Merge: loops.at(pause.index)->signal(sig); break;
        case Who::Router: loops.at(s.merges.size() + pause.index)->signal(sig); break;
      }
    };
    send_signal(SIGSTOP);
    sleep_us(pause.stopped_us);
    send_signal(SIGCONT);
  }

  // Consumers first: their scripts end (every read has a timeout), and then their drains keep the
  // loops moving, so that a producer blocked behind a loop that sent a consumer more than the
  // model predicts still finishes.
  std::vector<Json> histories(agent_count);
  std::vector<std::vector<Read>> reads(s.consumers.size());
  for (std::size_t c = 0; c < s.consumers.size(); ++c) {
    const std::size_t a = s.producers.size() + c;
    histories[a] = proto::get_array(ok_result(a, agents[a]->receive(ids[a]), "run_script"), "history");
    for (const Json& r : histories[a]) reads[c].push_back(parse_read(r));
  }
  // Drain: one try_read per consumer per round until every one read Closed. Bounded by a deadline,
  // and ended early once every loop has exited and a whole round found nothing: no entry and no
  // Closed can come any more.
  const std::uint64_t drain_deadline_ns = proto::monotonic_now_ns() + kDrainTimeoutNs;
  bool drained = false;
  while (!drained && proto::monotonic_now_ns() < drain_deadline_ns) {
    const bool loops_gone = std::all_of(loops.begin(), loops.end(), [](auto& loop) { return loop->exited(); });
    bool all_closed = true;
    bool progress = false;
    for (std::size_t c = 0; c < s.consumers.size(); ++c) {
      if (!reads[c].empty() && reads[c].back().status == ReadStatus::Closed) continue;
      all_closed = false;
      const Json request{{"type", "op"}, {"lane", s.consumers[c]}, {"role", "consumer"}, {"op", "try_read"}};
      reads[c].push_back(parse_read(call(s.producers.size() + c, request, "drain")));
      progress = progress || reads[c].back().status != ReadStatus::Empty;
    }
    drained = all_closed || (loops_gone && !progress);
    if (!drained && !progress) sleep_us(1000);
  }
  for (std::size_t l = 0; l < loops.size(); ++l) {  // a crashed loop leaves its producers blocked: say so now
    if (loops[l]->exited() && !loops[l]->exited_ok()) {
      throw CaseStop{Outcome::Fail, "indexbus " + loop_names[l] + ": " + loops[l]->status_text() + ": " + loops[l]->output()};
    }
  }
  std::vector<std::string> producer_failures;  // reported after the streams: usually a consequence
  for (std::size_t p = 0; p < s.producers.size(); ++p) {
    histories[p] = proto::get_array(ok_result(p, agents[p]->receive(ids[p]), "run_script"), "history");
    const std::size_t writes = s.producers[p].entries.size();
    if (histories[p].size() != writes + 1) throw CaseStop{Outcome::Fail, agent_name(p) + " returned " + std::to_string(histories[p].size()) + " results"};
    for (std::size_t n = 0; n < writes; ++n) {
      const WriteStatus status = status_named(proto::get_string(histories[p][n], "status"), kWriteStatuses);
      if (status != WriteStatus::Ok) {
        producer_failures.push_back(agent_name(p) + " write " + std::to_string(n) + " returned " + std::string(to_string(status)) +
                                    ": backpressure must release while the loops run (RT-7, MG-7)");
        break;
      }
    }
  }

  std::uint64_t delivered_total = 0;
  std::vector<std::uint64_t> delivered(s.consumers.size());
  std::vector<std::string> failures;
  for (std::size_t c = 0; c < s.consumers.size(); ++c) {
    const std::uint32_t lane = s.consumers[c];
    const std::string who = agent_name(s.producers.size() + c) + " (lane l" + std::to_string(lane) + ")";
    if (auto why = check_consumer(who, reads[c], expected[lane], s.lanes[lane].on_full, delivered[c])) failures.push_back(*why);
    delivered_total += delivered[c];
  }
  failures.insert(failures.end(), producer_failures.begin(), producer_failures.end());

  // The loops exit once closed; their counters account for what a Drop input lost.
  // A loop that outlived the whole drain deadline has had its time already.
  const std::uint64_t exit_deadline_ns = proto::monotonic_now_ns() + (drained ? kLoopExitTimeoutNs : kLoopExitTimeoutNs / 20);
  for (std::size_t l = 0; l < loops.size(); ++l) {
    if (!loops[l]->wait_exit(exit_deadline_ns)) {
      failures.push_back("indexbus " + loop_names[l] + " still running after its inputs closed (RT-10, MG-9)");
      continue;
    }
    if (!loops[l]->exited_ok()) failures.push_back("indexbus " + loop_names[l] + ": " + loops[l]->status_text() + ": " + loops[l]->output());
  }
  auto loop_accounting = [&](std::size_t l, const std::vector<std::uint32_t>& inputs, const char* done_label, const std::string& rule) {
    if (!loops[l]->exited_ok()) return;
    bool lossy_input = false;
    std::uint64_t written = 0;
    for (const std::uint32_t i : inputs) {
      lossy_input = lossy_input || s.lanes[i].on_full == OnFull::Drop;
      for (const auto& source : sources_of(expected[i])) written += source.size();
    }
    if (!lossy_input) return;
    const std::string out = loops[l]->output();
    const auto done = stat_after(out, done_label);
    const auto lost = stat_after(out, "input lost");
    if (!done || !lost) {
      failures.push_back("indexbus " + loop_names[l] + " printed no counters: " + out);
    } else if (*done + *lost != written) {
      failures.push_back("indexbus " + loop_names[l] + ": " + done_label + " " + std::to_string(*done) + " + input lost " +
                         std::to_string(*lost) + " != " + std::to_string(written) + " written to its inputs (" + rule + ")");
    }
  };
  // A consumer of a Block lane gets everything its loop wrote there: all a merge emitted, all a
  // Broadcast router routed.
  auto consumer_gets_all = [&](std::size_t l, std::uint32_t lane, const char* done_label) {
    if (!loops[l]->exited_ok() || s.lanes[lane].on_full != OnFull::Block) return;
    const auto done = stat_after(loops[l]->output(), done_label);
    for (std::size_t c = 0; c < s.consumers.size(); ++c) {
      if (s.consumers[c] != lane || !done || *done == delivered[c]) continue;
      failures.push_back(who_name(Who::Consumer, static_cast<std::uint32_t>(c)) + " got " + std::to_string(delivered[c]) +
                         " entries; indexbus " + loop_names[l] + " " + done_label + " " + std::to_string(*done));
    }
  };
  for (std::size_t m = 0; m < s.merges.size(); ++m) consumer_gets_all(m, s.merges[m].output, "emitted");
  for (std::size_t r = 0; r < s.routers.size(); ++r) {
    if (s.routers[r].policy != spec::RouterPolicy::Broadcast) continue;
    for (const std::uint32_t o : s.routers[r].outputs) consumer_gets_all(s.merges.size() + r, o, "routed");
  }
  for (std::size_t m = 0; m < s.merges.size(); ++m) loop_accounting(m, s.merges[m].inputs, "emitted", "MG-8");
  for (std::size_t r = 0; r < s.routers.size(); ++r) loop_accounting(s.merges.size() + r, {s.routers[r].input}, "routed", "RT-9");
  if (!failures.empty()) {
    std::string text;
    for (const std::string& f : failures) text += (text.empty() ? "" : "; ") + f;
    throw CaseStop{Outcome::Fail, text};
  }
  detail = std::to_string(s.producers.size()) + " producer(s), " + std::to_string(s.merges.size()) + " merge(s), " +
           std::to_string(s.routers.size()) + " router(s), " + std::to_string(s.consumers.size()) + " consumer(s): " +
           std::to_string(delivered_total) + " entries delivered as the model predicts, " + std::to_string(s.pauses.size()) + " pauses";
}

// ---- The cases ------------------------------------------------------------------------------

constexpr std::uint32_t kEntriesPerProducer = 400;
constexpr std::uint32_t kSeededPauses = 6;

enum class Keys { Random, Ascending };

// count entries of producer p; Ascending keys grow by 0..2, so two producers share some keys
// (MG-5's tie to the lower input). short_lengths: lengths in [8, 32], so some keys are cut (RT-4).
std::vector<Bytes> producer_entries(std::mt19937_64& rng, std::uint32_t p, std::uint32_t count, Keys keys, bool short_lengths) {
  std::vector<Bytes> out;
  std::uint64_t key = 0;
  const std::uint64_t pattern_seed = rng();
  for (std::uint32_t n = 0; n < count; ++n) {
    key = keys == Keys::Random ? rng() : key + rng() % 3;
    const std::uint32_t length = short_lengths ? 8 + static_cast<std::uint32_t>(rng() % 25) : 32;
    out.push_back(topology_entry(p, n, key, length, pattern_seed));
  }
  return out;
}

// kSeededPauses pauses of processes chosen by the seed, after the case's fixed ones.
void add_seeded_pauses(std::mt19937_64& rng, TopologyScenario& s) {
  const std::uint32_t counts[] = {static_cast<std::uint32_t>(s.producers.size()), static_cast<std::uint32_t>(s.merges.size()),
                                  static_cast<std::uint32_t>(s.routers.size()), static_cast<std::uint32_t>(s.consumers.size())};
  const std::uint32_t total = counts[0] + counts[1] + counts[2] + counts[3];
  for (std::uint32_t k = 0; k < kSeededPauses; ++k) {
    std::uint32_t pick = static_cast<std::uint32_t>(rng() % total);
    std::uint32_t kind = 0;
    while (pick >= counts[kind]) pick -= counts[kind++];  // bounded: 4 kinds
    s.pauses.push_back(TopologyScenario::Pause{static_cast<Who>(kind), pick, static_cast<std::uint32_t>(rng() % 2000),
                                               1000 + static_cast<std::uint32_t>(rng() % 9000)});
  }
}

// One producer into lane 0 -> router -> lanes 1..3, one consumer each.
TopologyScenario router_case(std::mt19937_64& rng, spec::RouterPolicy policy, OnFull in, OnFull out, bool short_lengths) {
  TopologyScenario s;
  s.lanes = {{in, in == OnFull::Drop ? 4u : 8u, 32}, {out, 4, 32}, {out, 4, 32}, {out, 4, 32}};
  s.producers = {{0, producer_entries(rng, 0, kEntriesPerProducer, Keys::Random, short_lengths)}};
  s.routers = {{0, {1, 2, 3}, policy, 8}};
  s.consumers = {1, 2, 3};
  // The first consumer starts late: its output fills, the router holds (RT-7) or overwrites
  // (RT-8). A Drop input: the router is stopped before the start, so its input overflows (RT-9).
  s.start_late_us = {0, 40'000, 0, 0};
  if (in == OnFull::Drop) s.pauses.push_back({Who::Router, 0, 0, 30'000});
  add_seeded_pauses(rng, s);
  return s;
}

// Producers into lanes 0..n-1 -> merge -> lane n, one consumer.
TopologyScenario merge_case(std::mt19937_64& rng, spec::MergePolicy policy, std::uint32_t producers, OnFull in, Keys keys) {
  TopologyScenario s;
  std::vector<std::uint32_t> inputs;
  for (std::uint32_t p = 0; p < producers; ++p) {
    s.lanes.push_back({in, in == OnFull::Drop ? 4u : 8u, 32});
    // Uneven counts: the shorter input closes first and loses its turns (MG-3).
    s.producers.push_back({p, producer_entries(rng, p, kEntriesPerProducer - 100 * p, keys, false)});
    inputs.push_back(p);
  }
  s.lanes.push_back({OnFull::Block, 4, 32});
  s.merges = {{inputs, producers, policy, 8}};
  s.consumers = {producers};
  // Producer 1 starts late: a merge that emits before every input has a head shows (MG-4). A
  // Drop input: the merge is stopped before the start, so its inputs overflow (MG-8).
  s.start_late_us = {0, 40'000};
  if (in == OnFull::Drop) s.pauses.push_back({Who::Merge, 0, 0, 30'000});
  s.pauses.push_back({Who::Consumer, 0, 0, 10'000});
  add_seeded_pauses(rng, s);
  return s;
}

// The example: two producers -> merge -> router -> three consumers.
TopologyScenario merge_then_router(std::mt19937_64& rng, spec::MergePolicy merge, spec::RouterPolicy router) {
  TopologyScenario s;
  s.lanes = {{OnFull::Block, 8, 32}, {OnFull::Block, 8, 32}, {OnFull::Block, 4, 32},
             {OnFull::Block, 4, 32}, {OnFull::Block, 4, 32}, {OnFull::Block, 4, 32}};
  s.producers = {{0, producer_entries(rng, 0, kEntriesPerProducer, Keys::Ascending, false)},
                 {1, producer_entries(rng, 1, kEntriesPerProducer - 100, Keys::Ascending, false)}};
  s.merges = {{{0, 1}, 2, merge, 8}};
  s.routers = {{2, {3, 4, 5}, router, 8}};
  s.consumers = {3, 4, 5};
  // Producer 1 starts late (MG-4); consumer 0 starts later still, so its output fills while the
  // entries flow (RT-7).
  s.start_late_us = {0, 40'000, 80'000, 0, 0};
  add_seeded_pauses(rng, s);
  return s;
}

}  // namespace

void add_topology_cases(std::vector<CaseDef>& cases) {
  using RP = spec::RouterPolicy;
  using MP = spec::MergePolicy;
  const auto B = OnFull::Block;
  const auto D = OnFull::Drop;
  auto topology_case = [&](std::string id, std::vector<std::string> rules, std::string summary,
                           std::function<TopologyScenario(std::mt19937_64&)> make) {
    CaseDef def;
    def.id = id;
    def.level = Level::Required;
    def.rules = std::move(rules);
    def.summary = std::move(summary);
    def.timing_dependent = true;  // real loop and agent processes at full speed
    def.run_in_process = [id, maker = std::move(make)](const CaseContext& context) {
      std::mt19937_64 rng(context.seed);
      return run_topology_case(id, maker(rng), context);
    };
    cases.push_back(std::move(def));
  };
  topology_case("Required.Topology.Router.RoundRobin.ThreeConsumers", {"RT-2", "RT-6", "RT-7", "RT-10"},
                "producer -> RoundRobin router process -> 3 Block lanes, paused: each consumer gets exactly spec::route's share",
                [=](std::mt19937_64& rng) { return router_case(rng, RP::RoundRobin, B, B, false); });
  topology_case("Required.Topology.Router.KeyHash.ShortKeys", {"RT-3", "RT-4", "RT-6", "RT-7", "RT-10"},
                "producer -> KeyHash router (key at byte 8, payloads of 8..32 B) -> 3 Block lanes: exact per consumer",
                [=](std::mt19937_64& rng) { return router_case(rng, RP::KeyHash, B, B, true); });
  topology_case("Required.Topology.Router.Broadcast.ThreeConsumers", {"RT-5", "RT-6", "RT-7", "RT-10"},
                "producer -> Broadcast router -> 3 Block lanes, one consumer stopped: every consumer gets every entry",
                [=](std::mt19937_64& rng) { return router_case(rng, RP::Broadcast, B, B, false); });
  topology_case("Required.Topology.Router.DropOutputs.Accounting", {"RT-8", "RT-10"},
                "producer -> Broadcast router -> 3 Drop lanes of 4, consumers paused: entries and Lost counts add up exactly",
                [=](std::mt19937_64& rng) { return router_case(rng, RP::Broadcast, B, D, false); });
  topology_case("Required.Topology.Router.DropInput.LostCounted", {"RT-9", "RT-10"},
                "Drop input of 4, router paused -> Broadcast to 3 Block lanes: routed + input lost = written, order kept",
                [=](std::mt19937_64& rng) { return router_case(rng, RP::Broadcast, D, B, false); });
  topology_case("Required.Topology.Merge.RoundRobin.TwoProducers", {"MG-3", "MG-7", "MG-9"},
                "2 producers (400, 300 entries) -> RoundRobin merge process -> consumer: exactly spec::merge_order",
                [=](std::mt19937_64& rng) { return merge_case(rng, MP::RoundRobin, 2, B, Keys::Random); });
  topology_case("Required.Topology.Merge.Sequence.TwoProducers", {"MG-4", "MG-5", "MG-7", "MG-9"},
                "2 producers of ascending keys with ties, one late -> Sequence merge -> consumer: exactly spec::merge_order",
                [=](std::mt19937_64& rng) { return merge_case(rng, MP::Sequence, 2, B, Keys::Ascending); });
  topology_case("Required.Topology.Merge.Arrival.ThreeProducers", {"MG-6", "MG-9"},
                "3 producers -> Arrival merge -> consumer: an interleaving keeping each input's order (spec::check_arrival)",
                [=](std::mt19937_64& rng) { return merge_case(rng, MP::Arrival, 3, B, Keys::Random); });
  topology_case("Required.Topology.Merge.DropInputs.LostCounted", {"MG-8", "MG-9"},
                "2 Drop inputs of 4, merge paused -> Arrival merge -> consumer: emitted + input lost = written, order kept",
                [=](std::mt19937_64& rng) { return merge_case(rng, MP::Arrival, 2, D, Keys::Random); });
  topology_case("Required.Topology.MergeThenRouter.SequenceKeyHash", {"MG-4", "MG-5", "RT-3", "RT-6", "RT-10", "MG-9"},
                "issue 7: 2 producers -> Sequence merge -> KeyHash router -> 3 consumers, each exactly as the models compose",
                [=](std::mt19937_64& rng) { return merge_then_router(rng, MP::Sequence, RP::KeyHash); });
  topology_case("Required.Topology.MergeThenRouter.RoundRobinRoundRobin", {"MG-3", "RT-2", "RT-6", "RT-7", "RT-10", "MG-9"},
                "2 producers -> RoundRobin merge -> RoundRobin router -> 3 consumers, each exactly as the models compose",
                [=](std::mt19937_64& rng) { return merge_then_router(rng, MP::RoundRobin, RP::RoundRobin); });
}

Bytes topology_entry(std::uint32_t producer, std::uint32_t index, std::uint64_t key, std::uint32_t length_bytes,
                     std::uint64_t pattern_seed) {
  assert(index < (1ull << 40));
  const std::uint64_t tag = ((std::uint64_t{producer} + 1) << 40) | index;
  Bytes out(length_bytes);
  for (std::uint32_t i = 0; i < length_bytes; ++i) {
    const std::uint64_t word = i < 8 ? tag : i < 16 ? key : pattern_seed * 0x9e3779b97f4a7c15ull + tag;
    out[i] = static_cast<std::byte>((word >> (8 * (i % 8))) & 0xff);
  }
  return out;
}

InProcessOutcome run_topology_case(const std::string& case_id, const TopologyScenario& scenario, const CaseContext& context) {
  InProcessOutcome outcome;
  try {
    run(case_id, scenario, context, outcome.detail);
    outcome.passed = true;
  } catch (const CaseStop& stop) {
    outcome.detail = to_string(stop.outcome) + ": " + stop.detail;
  } catch (const proto::ProtocolError& e) {
    outcome.detail = std::string("malformed agent reply: ") + e.what();
  }
  outcome.detail += " (case seed " + std::to_string(context.seed) + ")";
  return outcome;
}

}  // namespace indexbus::harness

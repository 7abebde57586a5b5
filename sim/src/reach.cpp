#include "indexbus/sim/reach.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace indexbus::sim::reach {

std::string_view name(Point point) noexcept {
  switch (point) {
    case Point::Block: return "option block";
    case Point::Drop: return "option drop";
    case Point::Park: return "option park";
    case Point::Poll: return "option poll";
    case Point::CapacityOne: return "option capacity 1";
    case Point::CapacityMany: return "option capacity > 1";
    case Point::ReadersMany: return "option readers > 1";
    case Point::Gated: return "option gated consumer";
    case Point::Named: return "option named readers";
    case Point::ReaderTimeout: return "option reader timeout";
    case Point::TryWrite: return "try_write";
    case Point::Write: return "write (no deadline)";
    case Point::WriteDeadline: return "write (deadline)";
    case Point::Close: return "close";
    case Point::TryWriteFull: return "try_write -> Full";
    case Point::WriteTimeout: return "write -> Timeout";
    case Point::WriteTooLarge: return "write -> TooLarge";
    case Point::WriteClosed: return "write -> Closed";
    case Point::TryClaim: return "try_claim";
    case Point::Claim: return "claim (no deadline)";
    case Point::ClaimDeadline: return "claim (deadline)";
    case Point::Publish: return "publish";
    case Point::TryClaimFull: return "try_claim -> Full";
    case Point::ClaimTimeout: return "claim -> Timeout";
    case Point::ClaimClosed: return "claim -> Closed";
    case Point::PublishTooLarge: return "publish -> TooLarge";
    case Point::PublishClosed: return "publish after close -> Closed";
    case Point::TryRead: return "try_read";
    case Point::Read: return "read (no deadline)";
    case Point::ReadDeadline: return "read (deadline)";
    case Point::ReadEntry: return "read -> Entry";
    case Point::TryReadEmpty: return "try_read -> Empty";
    case Point::ReadTimeout: return "read -> Timeout";
    case Point::ReadLost: return "read -> Lost";
    case Point::ReadClosed: return "read -> Closed";
    case Point::ReadEvicted: return "read -> Evicted";
    case Point::AttachFresh: return "attach (anonymous)";
    case Point::AttachNamed: return "attach (by name, fresh)";
    case Point::Detach: return "detach";
    case Point::ReattachFresh: return "attach again (anonymous)";
    case Point::Resume: return "attach again (by name: resume)";
    case Point::ResumeLost: return "resume behind the window -> Lost";
    case Point::ReadAt: return "read_at";
    case Point::ReadAtEntry: return "read_at -> Entry";
    case Point::ReadAtEvicted: return "read_at -> Evicted";
    case Point::ReadAtNotYet: return "read_at -> NotYet";
    case Point::Commit: return "commit";
    case Point::CommitEvicted: return "commit -> false (evicted)";
    case Point::Heartbeat: return "heartbeat";
    case Point::HeartbeatEvicted: return "heartbeat -> false (evicted)";
    case Point::WriterEvicts: return "writer evicts a reader";
    case Point::RoundRobin: return "policy round_robin";
    case Point::KeyHash: return "policy key_hash";
    case Point::Broadcast: return "policy broadcast";
    case Point::Sequence: return "policy sequence";
    case Point::Arrival: return "policy arrival";
    case Point::InputBlock: return "option block input";
    case Point::InputDrop: return "option drop input";
    case Point::OutputBlock: return "option block output";
    case Point::OutputDrop: return "option drop output";
    case Point::LanesMany: return "option lanes > 1";
    case Point::Step: return "step";
    case Point::StepProgress: return "step -> Progress";
    case Point::StepIdle: return "step -> Idle";
    case Point::StepClosed: return "step -> Closed";
    case Point::InputLost: return "input Lost counted";
    case Point::Count_: break;
  }
  return "?";
}

void count_write(Counts& counts, bool try_call, bool deadline, bool done, WriteStatus status) noexcept {
  counts.add(try_call ? Point::TryWrite : deadline ? Point::WriteDeadline : Point::Write);
  if (!done) return;
  switch (status) {
    case WriteStatus::Full: counts.add(Point::TryWriteFull); break;
    case WriteStatus::Timeout: counts.add(Point::WriteTimeout); break;
    case WriteStatus::TooLarge: counts.add(Point::WriteTooLarge); break;
    case WriteStatus::Closed: counts.add(Point::WriteClosed); break;
    default: break;
  }
}

void count_read(Counts& counts, bool try_call, bool deadline, bool done, ReadStatus status) noexcept {
  counts.add(try_call ? Point::TryRead : deadline ? Point::ReadDeadline : Point::Read);
  if (!done) return;
  switch (status) {
    case ReadStatus::Entry: counts.add(Point::ReadEntry); break;
    case ReadStatus::Empty: counts.add(Point::TryReadEmpty); break;
    case ReadStatus::Timeout: counts.add(Point::ReadTimeout); break;
    case ReadStatus::Lost: counts.add(Point::ReadLost); break;
    case ReadStatus::Closed: counts.add(Point::ReadClosed); break;
    case ReadStatus::Evicted: counts.add(Point::ReadEvicted); break;
    default: break;
  }
}

void count_options(Counts& counts, OnFull on_full, bool parking, std::uint32_t capacity_slots) noexcept {
  counts.add(on_full == OnFull::Block ? Point::Block : Point::Drop);
  counts.add(parking ? Point::Park : Point::Poll);
  counts.add(capacity_slots == 1 ? Point::CapacityOne : Point::CapacityMany);
}

namespace {

using P = Point;

// The catalogues. Rule IDs are those of spec/v1-semantics.md: each item carries the rules whose
// behaviour that call, option or outcome makes the lane code show (and the adapter's checks then
// judge). A rule no simulated scenario can exercise is in no item, and each list says why.

// Events (spec "Events lane"). Not here: EV-1 (role claims by pid: the adapter constructs each
// role once in one process) and EV-16 (re-attaching a role: never done in a run; core's tests
// check it).
const std::vector<Item> kEvents = {
    {P::Block, "EV-7"},
    {P::Drop, "EV-12"},
    {P::Park, "EV-5"},
    {P::Poll, "EV-5"},
    {P::CapacityOne, "EV-6"},
    {P::CapacityMany, "EV-6"},
    {P::TryWrite, "EV-3"},
    {P::Write, "EV-6"},
    {P::WriteDeadline, "EV-15"},
    {P::Close, "EV-10"},
    {P::TryWriteFull, "EV-6 EV-14"},
    {P::WriteTimeout, "EV-6 EV-15"},
    {P::WriteTooLarge, "EV-2 EV-14"},
    {P::WriteClosed, "EV-10 EV-14"},
    {P::TryRead, "EV-4"},
    {P::Read, "EV-5"},
    {P::ReadDeadline, "EV-15"},
    {P::ReadEntry, "EV-3 EV-4 EV-9 EV-11"},
    {P::TryReadEmpty, "EV-13 EV-14"},
    {P::ReadTimeout, "EV-13"},
    {P::ReadLost, "EV-8 EV-11"},
    {P::ReadClosed, "EV-10"},
};

// FanoutBroadcast (spec "FanoutBroadcast lane"). Not here: FB-1 (attach by index and pid, its
// errors: the adapter constructs every consumer once, by a valid index).
const std::vector<Item> kFanout = {
    {P::Block, "FB-5"},
    {P::Drop, "FB-8"},
    {P::Park, "FB-12"},
    {P::Poll, "FB-12"},
    {P::CapacityOne, "FB-4"},
    {P::CapacityMany, "FB-4"},
    {P::ReadersMany, "FB-3 FB-6"},
    {P::TryWrite, "FB-3"},
    {P::Write, "FB-4"},
    {P::WriteDeadline, "FB-12"},
    {P::Close, "FB-9"},
    {P::TryWriteFull, "FB-4 FB-6 FB-11"},
    {P::WriteTimeout, "FB-4 FB-12"},
    {P::WriteTooLarge, "FB-2 FB-11"},
    {P::WriteClosed, "FB-9 FB-11"},
    {P::TryRead, "FB-3"},
    {P::Read, "FB-3"},
    {P::ReadDeadline, "FB-12"},
    {P::ReadEntry, "FB-3 FB-10"},
    {P::TryReadEmpty, "FB-10 FB-11"},
    {P::ReadTimeout, "FB-10 FB-12"},
    {P::ReadLost, "FB-7"},
    {P::ReadClosed, "FB-9"},
};

// SequencedSlots (spec "SequencedSlots lane"). Not here: SS-1 (attach by index and pid, its
// errors), SS-3 (refusing a bad gating graph is creation and region validation; the simulator
// only builds valid graphs, the "gated" option below), and SS-2's second claim before a publish
// (the adapter publishes right after every Ok claim, or, with K<bytes>, closes in between).
// "publish after close" comes from K<bytes> (try_claim, close, publish: SS-10's abandoned claim).
const std::vector<Item> kSequenced = {
    {P::Block, "SS-7"},
    {P::Drop, "SS-8"},
    {P::Park, "SS-12"},
    {P::Poll, "SS-12"},
    {P::CapacityOne, "SS-6"},
    {P::CapacityMany, "SS-6"},
    {P::ReadersMany, "SS-5"},
    {P::Gated, "SS-4"},
    {P::TryClaim, "SS-2"},
    {P::Claim, "SS-2 SS-6"},
    {P::ClaimDeadline, "SS-12"},
    {P::Publish, "SS-2 SS-11"},
    {P::Close, "SS-10"},
    {P::TryClaimFull, "SS-6 SS-12"},
    {P::ClaimTimeout, "SS-6 SS-12"},
    {P::ClaimClosed, "SS-10 SS-12"},
    {P::PublishTooLarge, "SS-2 SS-12"},
    {P::PublishClosed, "SS-10 SS-12"},
    {P::TryRead, "SS-5"},
    {P::Read, "SS-4 SS-5"},
    {P::ReadDeadline, "SS-12"},
    {P::ReadEntry, "SS-5 SS-9 SS-11"},
    {P::TryReadEmpty, "SS-4 SS-12"},
    {P::ReadTimeout, "SS-12"},
    {P::ReadLost, "SS-8 SS-11"},
    {P::ReadClosed, "SS-10"},
};

// Journal (spec "Journal lane"). Not here: JR-2's refusals (BadReaderName, NoFreeReader,
// RoleTaken: the simulator names reader i "r<i>" and has a record per reader, so no attach can be
// refused), and the writer role's claim of JR-1 (one writer, constructed once).
const std::vector<Item> kJournal = {
    {P::Block, "JR-9"},
    {P::Drop, "JR-6 JR-9"},
    {P::Park, "JR-11"},
    {P::Poll, "JR-11"},
    {P::CapacityOne, "JR-6 JR-9"},
    {P::CapacityMany, "JR-6 JR-9"},
    {P::ReadersMany, "JR-2 JR-3"},
    {P::Named, "JR-2"},
    {P::ReaderTimeout, "JR-10"},
    {P::TryWrite, "JR-1"},
    {P::Write, "JR-9"},
    {P::WriteDeadline, "JR-9"},
    {P::Close, "JR-11"},
    {P::TryWriteFull, "JR-9"},
    {P::WriteTimeout, "JR-9"},
    {P::WriteTooLarge, "JR-1"},
    {P::WriteClosed, "JR-1 JR-11"},
    {P::AttachFresh, "JR-3"},
    {P::AttachNamed, "JR-2 JR-3"},
    {P::Detach, "JR-4"},
    {P::ReattachFresh, "JR-3"},
    {P::Resume, "JR-4"},
    {P::ResumeLost, "JR-4 JR-8"},
    {P::TryRead, "JR-5"},
    {P::Read, "JR-5"},
    {P::ReadDeadline, "JR-5 JR-11"},
    {P::ReadEntry, "JR-5 JR-12"},
    {P::TryReadEmpty, "JR-11"},
    {P::ReadTimeout, "JR-11"},
    {P::ReadLost, "JR-8"},
    {P::ReadClosed, "JR-11"},
    {P::ReadEvicted, "JR-10"},
    {P::ReadAt, "JR-7"},
    {P::ReadAtEntry, "JR-6 JR-7 JR-12"},
    {P::ReadAtEvicted, "JR-6 JR-7"},
    {P::ReadAtNotYet, "JR-7"},
    {P::Commit, "JR-5"},
    {P::CommitEvicted, "JR-10"},
    {P::Heartbeat, "JR-10"},
    {P::HeartbeatEvicted, "JR-10"},
    {P::WriterEvicts, "JR-10"},
};

// Routers (spec "Routers and merges"). The step is the entry point; the loop's own lane calls
// happen inside it and show in its outcomes and in what the producers and consumers see. Not
// here: RT-4 (a key short of its 8 bytes: every generated entry is kLoopSlotBytes long with the key
// at offset 0, so no entry is short), RT-1's refusals at creation.
const std::vector<Item> kRouter = {
    {P::RoundRobin, "RT-2"},
    {P::KeyHash, "RT-3"},
    {P::Broadcast, "RT-5"},
    {P::Park, "RT-11"},
    {P::Poll, "RT-11"},
    {P::InputBlock, "RT-7"},
    {P::InputDrop, "RT-9"},
    {P::OutputBlock, "RT-7"},
    {P::OutputDrop, "RT-8"},
    {P::LanesMany, "RT-1"},
    {P::TryWrite, "RT-6"},
    {P::Write, "RT-6"},
    {P::Close, "RT-10"},
    {P::TryWriteFull, "RT-7"},
    {P::Step, "RT-11"},
    {P::StepProgress, "RT-6"},
    {P::StepIdle, "RT-11"},
    {P::StepClosed, "RT-10"},
    {P::InputLost, "RT-9"},
    {P::ReadEntry, "RT-6"},
    {P::ReadLost, "RT-8"},
    {P::ReadClosed, "RT-10"},
};

// Merges. Not here: MG-1's refusals at creation.
const std::vector<Item> kMerge = {
    {P::RoundRobin, "MG-3"},
    {P::Sequence, "MG-4 MG-5"},
    {P::Arrival, "MG-6"},
    {P::Park, "MG-10"},
    {P::Poll, "MG-10"},
    {P::InputBlock, "MG-2"},
    {P::InputDrop, "MG-8"},
    {P::OutputBlock, "MG-7"},
    {P::OutputDrop, "MG-7"},
    {P::LanesMany, "MG-1"},
    {P::TryWrite, "MG-2"},
    {P::Write, "MG-2"},
    {P::Close, "MG-9"},
    {P::TryWriteFull, "MG-7"},
    {P::Step, "MG-10"},
    {P::StepProgress, "MG-2"},
    {P::StepIdle, "MG-10"},
    {P::StepClosed, "MG-9"},
    {P::InputLost, "MG-8"},
    {P::ReadEntry, "MG-2"},
    {P::ReadLost, "MG-7"},
    {P::ReadClosed, "MG-9"},
};

// "EV-6 EV-14" -> {"EV-6", "EV-14"}.
std::vector<std::string> split_rules(std::string_view rules) {
  std::vector<std::string> out;
  while (!rules.empty()) {
    const std::size_t space = rules.find(' ');
    if (space != 0) out.emplace_back(rules.substr(0, space));
    if (space == std::string_view::npos) break;
    rules.remove_prefix(space + 1);
  }
  return out;
}

// Rule IDs sort by prefix, then by number (EV-2 before EV-10).
bool rule_less(const std::string& a, const std::string& b) {
  const std::size_t da = a.find('-');
  const std::size_t db = b.find('-');
  if (a.compare(0, da, b, 0, db) != 0) return a.compare(0, da, b, 0, db) < 0;
  return std::stoul(a.substr(da + 1)) < std::stoul(b.substr(db + 1));
}

}  // namespace

const std::vector<Item>& catalogue(std::string_view lane) {
  static const std::vector<Item> kNone;
  if (lane == "events") return kEvents;
  if (lane == "fanout_broadcast") return kFanout;
  if (lane == "sequenced_slots") return kSequenced;
  if (lane == "journal") return kJournal;
  if (lane == "router") return kRouter;
  if (lane == "merge") return kMerge;
  return kNone;
}

std::vector<RuleCount> rule_counts(std::string_view lane, const Counts& counts) {
  std::vector<RuleCount> out;
  for (const Item& item : catalogue(lane)) {
    for (const std::string& rule : split_rules(item.rules)) {
      auto it = std::find_if(out.begin(), out.end(), [&](const RuleCount& r) { return r.rule == rule; });
      if (it == out.end()) it = out.insert(out.end(), RuleCount{rule, 0});
      it->count += counts[item.point];
    }
  }
  std::sort(out.begin(), out.end(), [](const RuleCount& a, const RuleCount& b) { return rule_less(a.rule, b.rule); });
  return out;
}

std::vector<std::string> never_reached(std::string_view lane, const Counts& counts) {
  std::vector<std::string> out;
  for (const Item& item : catalogue(lane)) {
    if (counts[item.point] == 0) out.emplace_back(name(item.point));
  }
  for (const RuleCount& r : rule_counts(lane, counts)) {
    if (r.count == 0) out.push_back(r.rule);
  }
  return out;
}

std::string describe(std::string_view lane, const Counts& counts) {
  std::string out = "reached (entry point, option or outcome: runs' count, rules):\n";
  char line[160];
  for (const Item& item : catalogue(lane)) {
    std::snprintf(line, sizeof line, "  %-34s %10llu  %s\n", std::string(name(item.point)).c_str(),
                  static_cast<unsigned long long>(counts[item.point]), std::string(item.rules).c_str());
    out += line;
  }
  out += "rules:";
  for (const RuleCount& r : rule_counts(lane, counts)) out += " " + r.rule + " " + std::to_string(r.count);
  out += "\n";
  const std::vector<std::string> missing = never_reached(lane, counts);
  if (missing.empty()) return out + "every entry point and rule reached\n";
  out += "never reached:";
  for (std::size_t i = 0; i < missing.size(); ++i) out += (i == 0 ? " " : ", ") + missing[i];
  return out + "\n";
}

nlohmann::json to_json(std::string_view lane, const Counts& counts) {
  nlohmann::json points = nlohmann::json::array();
  for (const Item& item : catalogue(lane)) {
    points.push_back({{"point", name(item.point)}, {"count", counts[item.point]}, {"rules", split_rules(item.rules)}});
  }
  nlohmann::json rules = nlohmann::json::object();
  for (const RuleCount& r : rule_counts(lane, counts)) rules[r.rule] = r.count;
  return {{"points", points}, {"rules", rules}, {"never_reached", never_reached(lane, counts)}};
}

}  // namespace indexbus::sim::reach

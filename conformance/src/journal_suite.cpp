#include "indexbus/conformance/journal_suite.hpp"
#include "indexbus/conformance/rule_tally.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <random>
#include <sstream>
#include <stdexcept>

#include "indexbus/spec/rules.hpp"

namespace indexbus::conformance {
namespace {

using RS = spec::JournalReaderState;

constexpr std::array<std::uint32_t, 4> kCapacities{1, 2, 4, 8};
constexpr std::array<std::uint32_t, 2> kSlotBytes{8, 16};
constexpr std::uint64_t kTimeoutNs = 100;  // reader timeout of the runs with eviction on
// Clock steps around the timeout, so that "silent for exactly the timeout" (not evicted) and one
// nanosecond more (evicted) both happen (JR-10).
constexpr std::array<std::uint64_t, 4> kClockSteps{1, kTimeoutNs / 2, kTimeoutNs, kTimeoutNs + 1};


bool is_write(const spec::JournalOp& op) {
  return std::holds_alternative<spec::JournalTryWrite>(op) || std::holds_alternative<spec::JournalWrite>(op);
}
bool is_read(const spec::JournalOp& op) {
  return std::holds_alternative<spec::JournalTryRead>(op) || std::holds_alternative<spec::JournalRead>(op);
}

bool valid_name(const std::string& name) {
  return name.size() <= kReaderNameBytes && name.find('\0') == std::string::npos;
}

// An attach by a name some non-Free record carries resumes that record (JR-4); any other valid
// attach takes a fresh one (JR-3).
bool resumes(const spec::JournalState& s, const spec::JournalOp& op) {
  const auto* a = std::get_if<spec::JournalAttach>(&op);
  if (a == nullptr || a->name.empty() || !valid_name(a->name)) return false;
  return std::any_of(s.readers.begin(), s.readers.end(),
                     [&](const spec::JournalReaderRecord& r) { return r.state != RS::Free && r.name == a->name; });
}

// The rules a step exercises: each gets a check whether the step matched or not.
std::vector<std::string_view> rules_exercised(const spec::JournalState& s, const spec::JournalOp& op,
                                              const spec::JournalResult& expected) {
  const bool block = s.config.on_full == OnFull::Block;
  const bool eviction_on = s.config.reader_timeout_ns != 0;
  const auto* read = std::get_if<spec::ReadOutcome>(&expected);
  if (is_write(op)) {
    const auto status = std::get<spec::WriteOutcome>(expected).status;
    if (status == WriteStatus::Closed) return {"JR-1", "JR-11"};
    if (status == WriteStatus::TooLarge) return {"JR-1"};
    if (!block) return {"JR-1", "JR-6", "JR-9"};
    if (eviction_on && spec::is_full(s)) return {"JR-1", "JR-9", "JR-10"};
    return {"JR-1", "JR-9"};
  }
  if (std::holds_alternative<spec::JournalClose>(op)) return {"JR-11"};
  if (const auto* a = std::get_if<spec::JournalAttach>(&op)) {
    if (!valid_name(a->name)) return {"JR-2"};
    return {"JR-2", resumes(s, op) ? "JR-4" : "JR-3"};
  }
  if (is_read(op)) {
    std::vector<std::string_view> rules{"JR-5", "JR-8"};
    if (read->status == ReadStatus::Entry) rules.push_back("JR-12");
    if (read->status == ReadStatus::Closed || s.closed) rules.push_back("JR-11");
    if (read->status == ReadStatus::Evicted || eviction_on) rules.push_back("JR-10");
    return rules;
  }
  if (std::holds_alternative<spec::JournalReadAt>(op)) {
    std::vector<std::string_view> rules{"JR-6", "JR-7", "JR-10"};
    if (read->status == ReadStatus::Entry) rules.push_back("JR-12");
    return rules;
  }
  if (std::holds_alternative<spec::JournalCommit>(op)) return {"JR-5", "JR-10"};
  if (std::holds_alternative<spec::JournalDetach>(op)) return {"JR-4"};
  return {"JR-10"};  // heartbeat, clock advance
}

// The rule a mismatch of results breaks: the most specific one that explains it.
std::string_view rule_of_result_mismatch(const spec::JournalState& s, const spec::JournalOp& op,
                                         const spec::JournalResult& expected, const spec::JournalResult& got,
                                         const JournalWords& lane_words, const spec::JournalState& after) {
  if (is_write(op)) {
    const auto e = std::get<spec::WriteOutcome>(expected).status;
    const auto* g = std::get_if<spec::WriteOutcome>(&got);
    if (e == WriteStatus::TooLarge || (g != nullptr && g->status == WriteStatus::TooLarge)) return "JR-1";
    if (e == WriteStatus::Closed || (g != nullptr && g->status == WriteStatus::Closed)) return "JR-11";
    // The writer evicted other readers than the model did: the room it found follows from that.
    if (lane_words.eviction_count != after.eviction_count) return "JR-10";
    return "JR-9";
  }
  if (const auto* a = std::get_if<spec::JournalAttach>(&op)) {
    const auto e = std::get<spec::JournalAttachOutcome>(expected);
    const auto* g = std::get_if<spec::JournalAttachOutcome>(&got);
    if (e.error == spec::JournalAttachError::BadReaderName || e.error == spec::JournalAttachError::NoFreeReader) {
      return "JR-2";
    }
    if (g != nullptr && (g->error == spec::JournalAttachError::BadReaderName ||
                         g->error == spec::JournalAttachError::NoFreeReader)) {
      return "JR-2";
    }
    if (!valid_name(a->name)) return "JR-2";
    return resumes(s, op) ? "JR-4" : "JR-3";
  }
  const auto* e = std::get_if<spec::ReadOutcome>(&expected);
  const auto* g = std::get_if<spec::ReadOutcome>(&got);
  if (is_read(op)) {
    assert(e != nullptr);
    if (g == nullptr) return "JR-5";
    if (e->status == ReadStatus::Lost || g->status == ReadStatus::Lost) return "JR-8";
    if (e->status == ReadStatus::Evicted || g->status == ReadStatus::Evicted) return "JR-10";
    if (e->status == ReadStatus::Closed || g->status == ReadStatus::Closed) return "JR-11";
    if (e->status == ReadStatus::Entry && g->status == ReadStatus::Entry && e->seq == g->seq) return "JR-12";
    return "JR-5";
  }
  if (const auto* ra = std::get_if<spec::JournalReadAt>(&op)) {
    assert(e != nullptr);
    if (g == nullptr) return "JR-7";
    // Evicted because the reader is no longer attached (not because seq left the window).
    const bool reader_gone = s.readers[ra->reader].state != RS::Attached ||
                             after.readers[ra->reader].state != RS::Attached;
    if (reader_gone && (e->status == ReadStatus::Evicted || g->status == ReadStatus::Evicted)) return "JR-10";
    if (e->status == ReadStatus::Entry && g->status == ReadStatus::Entry && e->seq == g->seq) return "JR-12";
    return "JR-7";
  }
  if (std::holds_alternative<spec::JournalDetach>(op)) return "JR-4";
  if (std::holds_alternative<spec::JournalClose>(op)) return "JR-11";
  return "JR-10";  // commit, heartbeat (false = evicted), clock advance
}

// The rule a mismatch of the lane's words breaks, by the first word that differs.
std::string_view rule_of_words_mismatch(const spec::JournalState& s, const spec::JournalOp& op,
                                        const JournalWords& want, const JournalWords& got) {
  if (got.written != want.written) return "JR-1";
  if (got.closed != want.closed) return "JR-11";
  if (got.eviction_count != want.eviction_count) return "JR-10";
  const bool attach = std::holds_alternative<spec::JournalAttach>(op);
  const std::string_view attach_rule = resumes(s, op) ? "JR-4" : "JR-3";
  const std::size_t count = std::min(got.readers.size(), want.readers.size());
  for (std::size_t i = 0; i < count; ++i) {
    const JournalReaderWords& w = want.readers[i];
    const JournalReaderWords& g = got.readers[i];
    if (g.state != w.state) {
      if (g.state == RS::Evicted || w.state == RS::Evicted) return "JR-10";
      if (attach) return attach_rule;
      if (std::holds_alternative<spec::JournalDetach>(op)) return "JR-4";
      return "JR-2";
    }
    if (g.name != w.name) return "JR-2";
    if (g.has_handle != w.has_handle) return "JR-4";
    if (g.cursor_seq != w.cursor_seq) return attach ? attach_rule : "JR-5";
    if (g.lost_count != w.lost_count) return "JR-8";
    if (g.read_count != w.read_count) return "JR-5";
    if (g.heartbeat_ns != w.heartbeat_ns) return "JR-10";
    if (g.next_seq != w.next_seq) return attach ? attach_rule : "JR-5";
  }
  return "JR-2";  // a different number of records
}

spec::Bytes random_payload(std::mt19937_64& rng, std::uint32_t slot_bytes) {
  // Mostly fitting payloads, sometimes one to eight bytes too many (JR-1).
  const std::size_t size = rng() % 9 == 0 ? slot_bytes + 1 + rng() % 8 : rng() % (slot_bytes + 1);
  spec::Bytes out(size);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

std::string random_name(std::mt19937_64& rng) {
  const std::uint64_t pick = rng() % 11;
  if (pick < 4) return {};  // anonymous
  if (pick < 10) {
    const std::array<std::string, 4> names{"a", "b", "c", std::string(kReaderNameBytes, 'z')};
    return names[(pick - 4) % names.size()];
  }
  // Refused (JR-2): one byte too long, or with a NUL inside.
  return rng() % 2 == 0 ? std::string(kReaderNameBytes + 1, 'z') : std::string("n\0ul", 4);
}

spec::JournalOp random_op(std::mt19937_64& rng, const spec::JournalState& s) {
  std::vector<std::uint32_t> live;
  for (std::uint32_t i = 0; i < s.readers.size(); ++i) {
    if (s.readers[i].has_handle) live.push_back(i);
  }
  // In thousandths. Close is rare, so that most runs stay open until the drain.
  const std::uint64_t pick = rng() % 1000;
  const std::uint32_t slot_bytes = s.config.slot_payload_bytes;
  if (pick < 220) return spec::JournalTryWrite{random_payload(rng, slot_bytes)};
  if (pick < 300) return spec::JournalWrite{random_payload(rng, slot_bytes)};
  if (pick < 303) return spec::JournalClose{};
  if (pick >= 900) return spec::JournalAdvanceTime{kClockSteps[rng() % kClockSteps.size()]};
  if (pick >= 390 && !live.empty()) {
    const std::uint32_t r = live[rng() % live.size()];
    if (pick < 540) return spec::JournalTryRead{r};
    if (pick < 590) return spec::JournalRead{r};
    if (pick < 680) return spec::JournalCommit{r};
    if (pick < 770) return spec::JournalReadAt{r, rng() % (s.written + 2)};
    if (pick < 800) return spec::JournalHeartbeat{r};
    if (pick < 830) return spec::JournalDetach{r};
    return spec::JournalAdvanceTime{kClockSteps[rng() % kClockSteps.size()]};
  }
  return spec::JournalAttach{random_name(rng)};  // also when no handle is live
}

// After the random part: close, then every live handle reads until Closed or Evicted (JR-11),
// handle by handle. A handle needs at most capacity + 2 reads (one Lost, the retained entries,
// Closed): the bound turns a lane that never says Closed into a mismatch instead of a hang.
class Drain {
 public:
  explicit Drain(const spec::JournalState& s) : reads_max_(s.config.capacity_slots + 2) {
    for (std::uint32_t i = 0; i < s.readers.size(); ++i) {
      if (s.readers[i].has_handle) handles_.push_back(i);
    }
  }
  std::optional<spec::JournalOp> next() {
    if (!closed_) {
      closed_ = true;
      return spec::JournalClose{};
    }
    if (current_ >= handles_.size()) return std::nullopt;
    ++reads_;
    assert(reads_ <= reads_max_ + 1);
    return spec::JournalTryRead{handles_[current_]};
  }
  // The model's result of the last read: the handle is done at Closed, Evicted or its bound.
  void saw(const spec::JournalResult& expected) {
    const auto* r = std::get_if<spec::ReadOutcome>(&expected);
    if (r == nullptr) return;  // the close
    if (r->status == ReadStatus::Closed || r->status == ReadStatus::Evicted || reads_ > reads_max_) {
      ++current_;
      reads_ = 0;
    }
  }

 private:
  std::vector<std::uint32_t> handles_;
  std::uint64_t reads_max_;
  std::size_t current_ = 0;
  std::uint64_t reads_ = 0;
  bool closed_ = false;
};

}  // namespace

std::vector<std::string_view> journal_checked_rule_ids() {
  return {"JR-1", "JR-2", "JR-3", "JR-4", "JR-5", "JR-6", "JR-7", "JR-8", "JR-9", "JR-10", "JR-11", "JR-12"};
}

SuiteReport run_journal_suite(const SuiteOptions& options, JournalDefect defect) {
  SuiteReport report;
  report.seed = options.seed;
  report.runs = options.runs;
  RuleTally tally(journal_checked_rule_ids());
  for (std::uint64_t run = 0; run < options.runs; ++run) {
    std::mt19937_64 rng(options.seed * 0x9e3779b97f4a7c15ull + run);
    spec::JournalConfig config;
    config.on_full = run % 2 == 0 ? OnFull::Block : OnFull::Drop;
    config.capacity_slots = kCapacities[rng() % kCapacities.size()];
    config.slot_payload_bytes = kSlotBytes[rng() % kSlotBytes.size()];
    config.reader_count = 1 + static_cast<std::uint32_t>(rng() % 4);
    config.reader_timeout_ns = rng() % 4 == 0 ? 0 : kTimeoutNs;
    JournalLane lane(config, options.region_dir, defect);
    spec::JournalState model = spec::initial_state(config);
    std::optional<Drain> drain;  // from op ops_per_run on
    bool diverged = false;
    // Bounded: ops_per_run random steps, then the drain (bounded itself).
    for (std::uint64_t i = 0; !diverged; ++i) {
      spec::JournalOp op;
      if (i < options.ops_per_run) {
        op = random_op(rng, model);
      } else {
        if (!drain) drain.emplace(model);
        const auto next = drain->next();
        if (!next) break;
        op = *next;
      }
      ++report.ops;
      auto [after, expected] = spec::step(model, op);
      const auto where = [&] {
        std::ostringstream os;
        os << "run " << run << " (" << spec::describe(config) << ") op " << i << " " << spec::describe(op);
        return os.str();
      };
      std::vector<std::string_view> rules = rules_exercised(model, op, expected);
      std::optional<std::pair<std::string_view, std::string>> failure;
      try {
        const spec::JournalResult got = lane.execute(op);
        const JournalWords lane_words = lane.words();
        const JournalWords model_words = words_of(after);
        if (!(got == expected)) {
          failure.emplace(rule_of_result_mismatch(model, op, expected, got, lane_words, after),
                          where() + ": expected " + spec::describe(expected) + ", got " + spec::describe(got));
        } else if (!(lane_words == model_words)) {
          failure.emplace(rule_of_words_mismatch(model, op, model_words, lane_words),
                          where() + ": lane words " + describe(lane_words) + "; model " + describe(model_words));
        }
      } catch (const std::runtime_error& e) {  // an attach error the model has no word for
        failure.emplace("JR-2", where() + ": " + e.what());
      }
      if (failure && std::find(rules.begin(), rules.end(), failure->first) == rules.end()) {
        rules.push_back(failure->first);
      }
      for (const std::string_view id : rules) tally.check(id);
      if (failure) {
        tally.fail(failure->first, failure->second);
        diverged = true;
      }
      if (drain) drain->saw(expected);
      model = std::move(after);
    }
    if (diverged) ++report.failed_runs;
  }
  report.rules = tally.take();
  report.passed = report.failed_runs == 0;
  report.replay_command = rule_suite_replay_command("journal", options);
  return report;
}

}  // namespace indexbus::conformance

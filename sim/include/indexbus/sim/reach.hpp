// What an exploration reached: per simulated lane kind, the catalogue of lane entry points (as the
// adapters call them), the options a scenario can take and the notable outcomes, each with the
// rule IDs of spec/v1-semantics.md it exercises; and counters of what runs actually reached.
//
// A generator that never produces an operation or option leaves the lane code behind it
// unexplored, and bugs there pass `indexbus sim run`. So `sim run` prints what was reached and what
// never was, and sim/tests/reach_test.cpp fails while anything of a lane's catalogue is never
// reached. The catalogue (which points a lane has, and their rules) lives in reach.cpp only; the
// adapters only count (their `tally`, from the run's history, after each run).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "indexbus/vocabulary.hpp"

namespace indexbus::sim::reach {

// Every point any lane can reach. Names (reach.cpp) say which call and which outcome; a lane's
// catalogue picks the points that apply to it.
enum class Point : std::uint8_t {
  // Options of the scenario (one count per run).
  Block, Drop, Park, Poll, CapacityOne, CapacityMany, ReadersMany, Gated, Named, ReaderTimeout,
  // Producer calls and outcomes (Events, FanoutBroadcast, Journal, the loops' producers).
  TryWrite, Write, WriteDeadline, Close, TryWriteFull, WriteTimeout, WriteTooLarge, WriteClosed,
  // SequencedSlots producer.
  TryClaim, Claim, ClaimDeadline, Publish, TryClaimFull, ClaimTimeout, ClaimClosed, PublishTooLarge, PublishClosed,
  // Reader calls and outcomes (Events consumer, ring readers, loop consumers).
  TryRead, Read, ReadDeadline, ReadEntry, TryReadEmpty, ReadTimeout, ReadLost, ReadClosed, ReadEvicted,
  // Journal only.
  AttachFresh, AttachNamed, Detach, ReattachFresh, Resume, ResumeLost, ReadAt, ReadAtEntry, ReadAtEvicted,
  ReadAtNotYet, Commit, CommitEvicted, Heartbeat, HeartbeatEvicted, WriterEvicts,
  // Routers and merges.
  RoundRobin, KeyHash, Broadcast, Sequence, Arrival, InputBlock, InputDrop, OutputBlock, OutputDrop, LanesMany,
  Step, StepProgress, StepIdle, StepClosed, InputLost,
  Count_  // not a point
};
inline constexpr std::size_t kPointCount = static_cast<std::size_t>(Point::Count_);

std::string_view name(Point point) noexcept;

// Counts per point: cheap to bump once per history record and to merge.
struct Counts {
  std::array<std::uint64_t, kPointCount> by_point{};

  void add(Point point, std::uint64_t n = 1) noexcept { by_point[static_cast<std::size_t>(point)] += n; }
  std::uint64_t operator[](Point point) const noexcept { return by_point[static_cast<std::size_t>(point)]; }
  Counts& operator+=(const Counts& other) noexcept {
    for (std::size_t i = 0; i < kPointCount; ++i) by_point[i] += other.by_point[i];
    return *this;
  }
};

// What the adapters share when they count a run: a producer's write (try_write, or write with or
// without a deadline) and its outcome, a reader's read likewise, the lane options. An operation
// still pending when the run ended counts as a call with no outcome.
void count_write(Counts& counts, bool try_call, bool deadline, bool done, WriteStatus status) noexcept;
void count_read(Counts& counts, bool try_call, bool deadline, bool done, ReadStatus status) noexcept;
void count_options(Counts& counts, OnFull on_full, bool parking, std::uint32_t capacity_slots) noexcept;

// One line of a lane's catalogue: a point and the rule IDs it exercises ("EV-6 EV-14").
struct Item {
  Point point;
  std::string_view rules;
};

// The catalogue of lane kind `lane` as `--lane` names it (events, journal, sequenced_slots,
// fanout_broadcast, router, merge); empty for an unknown kind.
const std::vector<Item>& catalogue(std::string_view lane);

// A rule ID and the runs' count of every item that carries it.
struct RuleCount {
  std::string rule;
  std::uint64_t count = 0;
};
std::vector<RuleCount> rule_counts(std::string_view lane, const Counts& counts);

// The lane's items then its rule IDs with a count of 0: "try_read -> Empty", ..., "EV-13".
std::vector<std::string> never_reached(std::string_view lane, const Counts& counts);

// For `sim run`: one line per item ("  try_write -> Full  1234  EV-6 EV-14"), one of rules, then
// "never reached: ..." or "every entry point and rule reached".
std::string describe(std::string_view lane, const Counts& counts);
nlohmann::json to_json(std::string_view lane, const Counts& counts);

}  // namespace indexbus::sim::reach

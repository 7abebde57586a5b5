// A Journal lane under test, driven from one thread: a real region with one journal lane, its
// writer and up to reader_count reader handles, on a platform whose clock is the model's clock,
// so that the RapidCheck property test and the per-rule suite run model operations on the same
// adapter and read back the lane's words. JournalDefect swaps in a deliberately broken lane
// (test-only use) that both checkers must reject.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/journal.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/spec/journal_model.hpp"

namespace indexbus::conformance {

enum class JournalDefect : std::uint8_t {
  None,
  ReadAtWithoutRevalidation,  // read_at copies the slot without checking the window or the stamp (JR-7)
  CommitNotPublished,         // commit refreshes the heartbeat but never stores the cursor (JR-5)
  HeartbeatNotStored,         // heartbeat returns true without touching the record (JR-10)
};
std::string_view to_string(JournalDefect defect) noexcept;

// RealPlatform (Spin) with the model's clock: time moves only by JournalAdvanceTime, so a
// blocking call with deadline "now" returns at once, as the sequential model says.
class ManualClockPlatform : public RealPlatform {
 public:
  explicit ManualClockPlatform(const std::uint64_t* clock_ns) noexcept
      : RealPlatform(WaitStrategy::Spin), clock_ns_(clock_ns) {}
  std::uint64_t now_ns() const noexcept { return *clock_ns_; }
  bool deadline_passed(std::uint64_t deadline_ns, std::uint32_t) const noexcept { return *clock_ns_ >= deadline_ns; }

 private:
  const std::uint64_t* clock_ns_;
};
static_assert(Platform<ManualClockPlatform>);

// One reader record as the model predicts it, plus what the handle knows (JR-2 .. JR-5, JR-10).
struct JournalReaderWords {
  spec::JournalReaderState state = spec::JournalReaderState::Free;
  std::string name;
  std::uint64_t cursor_seq = 0;
  std::uint64_t read_count = 0;
  std::uint64_t lost_count = 0;
  std::uint64_t heartbeat_ns = 0;
  bool has_handle = false;
  std::optional<std::uint64_t> next_seq;  // only for a live handle on an Attached record

  friend bool operator==(const JournalReaderWords&, const JournalReaderWords&) = default;
};

// The lane's shared words the model predicts: write_seq, closed, eviction_count, every record.
struct JournalWords {
  std::uint64_t written = 0;
  bool closed = false;
  std::uint64_t eviction_count = 0;
  std::vector<JournalReaderWords> readers;

  friend bool operator==(const JournalWords&, const JournalWords&) = default;
};
JournalWords words_of(const spec::JournalState& state);
std::string describe(const JournalWords& words);

class JournalLane {
 public:
  using Reader = JournalReader<ManualClockPlatform>;

  // Creates the region file in region_dir and unlinks it at once (the mapping stays). The clock
  // starts at 0. Throws std::runtime_error when the region cannot be made.
  JournalLane(const spec::JournalConfig& config, const std::string& region_dir,
              JournalDefect defect = JournalDefect::None);
  JournalLane(const JournalLane&) = delete;
  JournalLane& operator=(const JournalLane&) = delete;

  // Runs op on the real lane and returns its result in the model's vocabulary. Blocking calls
  // get the deadline "now" (they cannot wait: the clock is manual). An op on a reader must name
  // a record with a live handle (the model's has_handle); else std::logic_error. An attach error
  // the model has no word for throws std::runtime_error.
  spec::JournalResult execute(const spec::JournalOp& op);
  JournalWords words() const;
  std::uint64_t now_ns() const noexcept { return clock_ns_; }

 private:
  Reader& handle(std::uint32_t reader);

  std::uint64_t clock_ns_ = 0;  // before platform_, which points at it
  ManualClockPlatform platform_;
  JournalDefect defect_;
  std::optional<Region> region_;
  RingLaneRef lane_;
  std::optional<JournalWriter<ManualClockPlatform>> writer_;
  std::array<std::optional<Reader>, kReaderCountMax> readers_;
  std::vector<std::byte> buffer_;
};

}  // namespace indexbus::conformance

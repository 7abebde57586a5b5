#include "golden_images.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <variant>

#include "indexbus/spec/fanout_model.hpp"
#include "indexbus/spec/journal_model.hpp"
#include "indexbus/spec/sequenced_slots_model.hpp"

namespace indexbus::golden {
namespace {

using Json = nlohmann::ordered_json;

// ---- Layout constants, restated from spec/layout.md (the encoder is written from the document) ----

constexpr std::uint64_t kMagic = 0x5355425845444E49ull;  // "INDEXBUS"
constexpr std::uint32_t kHeaderBytes = 128;
constexpr std::uint32_t kDescriptorBytes = 64;
constexpr std::uint32_t kLaneHeaderBytes = 256;  // EventsLaneHeader and RingLaneHeader
constexpr std::uint32_t kReaderRecordBytes = 128;
constexpr std::uint32_t kSlotHeaderBytes = 16;
constexpr std::uint64_t kRegionGranuleBytes = 4096;
constexpr std::uint32_t kReaderAttached = 1;  // ReaderRecord.state of a Fanout/SequencedSlots consumer once attached

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t align) { return (value + align - 1) / align * align; }

bool is_ring(LaneKind kind) { return kind != LaneKind::Events; }

std::uint64_t block_bytes_of(const GoldenLaneConfig& c) {
  const std::uint64_t slots = std::uint64_t{c.capacity_slots} * (kSlotHeaderBytes + c.slot_payload_bytes);
  const std::uint64_t records = is_ring(c.kind) ? std::uint64_t{c.reader_count} * kReaderRecordBytes : 0;
  return round_up(kLaneHeaderBytes + records + slots, 64);
}

void put32(Bytes& image, std::uint64_t offset, std::uint32_t value) {
  assert(offset + 4 <= image.size());
  std::memcpy(image.data() + offset, &value, 4);  // little-endian host (layout.hpp asserts it)
}
void put64(Bytes& image, std::uint64_t offset, std::uint64_t value) {
  assert(offset + 8 <= image.size());
  std::memcpy(image.data() + offset, &value, 8);
}

// ---- The lanes as the models see them, plus what the models forget ----

// The model keeps only what can still be read; the slots of a real ring keep the last C entries
// whatever was read. So the run records every payload written, by sequence.
struct LaneRun {
  GoldenLaneConfig config;
  std::variant<spec::EventsState, spec::JournalState, spec::SequencedState, spec::FanoutState> state;
  std::vector<Bytes> written;
  std::uint32_t attach_epoch = 0;  // Journal: one per successful attach (RingLaneHeader @80)
  bool touched = false;            // an operation ran: every consumer has attached once
};

LaneRun make_run(const GoldenLaneConfig& c) {
  LaneRun run;
  run.config = c;
  switch (c.kind) {
    case LaneKind::Events:
      run.state = spec::initial_state(spec::EventsConfig{c.capacity_slots, c.slot_payload_bytes, c.on_full});
      break;
    case LaneKind::Journal:
      run.state = spec::initial_state(
          spec::JournalConfig{c.capacity_slots, c.slot_payload_bytes, c.on_full, c.reader_count, c.reader_timeout_ns});
      break;
    case LaneKind::SequencedSlots: {
      std::vector<std::uint64_t> gated = c.gated_on;
      gated.resize(c.reader_count, 0);
      run.state = spec::sequenced_initial_state(spec::SequencedConfig{c.capacity_slots, c.slot_payload_bytes, c.on_full, gated});
      break;
    }
    case LaneKind::FanoutBroadcast:
      run.state = spec::initial_state(spec::FanoutConfig{c.capacity_slots, c.slot_payload_bytes, c.on_full, c.reader_count});
      break;
  }
  return run;
}

[[noreturn]] void scenario_error(const std::string& what) { throw std::logic_error("golden scenario: " + what); }

// A distinct payload per lane, entry and byte position, so a shifted, torn or swapped entry shows.
// Lengths cycle through 5, 0, S (full), 1, 8, 13, 3, 7 (clamped to S).
Bytes entry_payload(std::uint32_t lane, std::uint64_t seq, std::uint32_t slot_payload_bytes) {
  static constexpr std::array<std::uint32_t, 8> kLengths{5, 0, 1u << 20, 1, 8, 13, 3, 7};
  const std::uint32_t length = std::min(kLengths[seq % kLengths.size()], slot_payload_bytes);
  Bytes out(length);
  for (std::uint32_t i = 0; i < length; ++i) {
    out[i] = static_cast<std::byte>((0x11 * (lane + 1) + 0x1f * seq + 7 * i) & 0xff);
  }
  return out;
}

// Builds one image: the lanes, then operations on them, each checked against what the scenario
// expects of the model (a scenario that does not do what it says is a bug here, not a golden state).
class Builder {
 public:
  Builder(std::string name, std::string summary, std::vector<GoldenLaneConfig> lanes) {
    image_.name = std::move(name);
    image_.summary = std::move(summary);
    for (const auto& c : lanes) runs_.push_back(make_run(c));
  }

  // Producer: n entries, each must be accepted.
  Builder& write(std::uint32_t lane, std::uint32_t n = 1) {
    LaneRun& run = runs_.at(lane);
    for (std::uint32_t k = 0; k < n; ++k) {
      const Bytes payload = entry_payload(lane, run.written.size(), run.config.slot_payload_bytes);
      run.touched = true;
      if (auto* s = std::get_if<spec::EventsState>(&run.state)) {
        expect_ok(lane, spec::describe(spec::Op{spec::TryWrite{payload}}), step_to(*s, spec::Op{spec::TryWrite{payload}}));
      } else if (auto* j = std::get_if<spec::JournalState>(&run.state)) {
        const spec::JournalOp op = spec::JournalTryWrite{payload};
        auto [next, result] = spec::step(*j, op);
        *j = std::move(next);
        expect_ok(lane, spec::describe(op), std::get<spec::WriteOutcome>(result).status);
      } else if (auto* q = std::get_if<spec::SequencedState>(&run.state)) {
        const spec::SequencedOp claim = spec::SeqTryClaim{};
        auto [claimed, claim_result] = spec::sequenced_step(*q, claim);
        expect_ok(lane, spec::describe(claim), std::get<spec::SeqClaimOutcome>(claim_result).status);
        const spec::SequencedOp publish = spec::SeqPublish{payload};
        auto [published, publish_result] = spec::sequenced_step(claimed, publish);
        *q = std::move(published);
        expect_ok(lane, spec::describe(publish), std::get<spec::SeqPublishOutcome>(publish_result).status);
      } else {
        auto& f = std::get<spec::FanoutState>(run.state);
        const spec::FanoutOp op = spec::FanoutTryWrite{payload};
        auto [next, result] = spec::step(f, op);
        f = std::move(next);
        expect_ok(lane, spec::describe(op), std::get<spec::WriteOutcome>(result).status);
      }
      image_.history.push_back("lane " + std::to_string(lane) + ": write seq " + std::to_string(run.written.size()) + ", " +
                               std::to_string(payload.size()) + " B");
      run.written.push_back(payload);
    }
    return *this;
  }

  Builder& close(std::uint32_t lane) {
    LaneRun& run = runs_.at(lane);
    run.touched = true;
    std::visit(
        [&](auto& s) {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, spec::EventsState>) {
            s = spec::step(s, spec::Op{spec::Close{}}).first;
          } else if constexpr (std::is_same_v<S, spec::JournalState>) {
            s = spec::step(s, spec::JournalOp{spec::JournalClose{}}).first;
          } else if constexpr (std::is_same_v<S, spec::SequencedState>) {
            s = spec::sequenced_step(s, spec::SequencedOp{spec::SeqClose{}}).first;
          } else {
            s = spec::step(s, spec::FanoutOp{spec::FanoutClose{}}).first;
          }
        },
        run.state);
    image_.history.push_back("lane " + std::to_string(lane) + ": close");
    return *this;
  }

  // Consumer `consumer` (Events: 0) reads n times; every read must be an entry or a Lost.
  Builder& read(std::uint32_t lane, std::uint32_t consumer, std::uint32_t n = 1) {
    LaneRun& run = runs_.at(lane);
    run.touched = true;
    for (std::uint32_t k = 0; k < n; ++k) {
      spec::ReadOutcome got;
      std::string what;
      if (auto* s = std::get_if<spec::EventsState>(&run.state)) {
        const spec::Op op = spec::TryRead{};
        what = spec::describe(op);
        auto [next, result] = spec::step(*s, op);
        *s = std::move(next);
        got = std::get<spec::ReadOutcome>(result);
      } else if (auto* j = std::get_if<spec::JournalState>(&run.state)) {
        const spec::JournalOp op = spec::JournalTryRead{consumer};
        what = spec::describe(op);
        auto [next, result] = spec::step(*j, op);
        *j = std::move(next);
        got = std::get<spec::ReadOutcome>(result);
      } else if (auto* q = std::get_if<spec::SequencedState>(&run.state)) {
        const spec::SequencedOp op = spec::SeqTryRead{consumer};
        what = spec::describe(op);
        auto [next, result] = spec::sequenced_step(*q, op);
        *q = std::move(next);
        got = std::get<spec::ReadOutcome>(result);
      } else {
        auto& f = std::get<spec::FanoutState>(run.state);
        const spec::FanoutOp op = spec::FanoutTryRead{consumer};
        what = spec::describe(op);
        auto [next, result] = spec::step(f, op);
        f = std::move(next);
        got = std::get<spec::ReadOutcome>(result);
      }
      if (got.status != ReadStatus::Entry && got.status != ReadStatus::Lost) {
        scenario_error(image_.name + " lane " + std::to_string(lane) + ": " + what + " gave " + describe_read(got));
      }
      image_.history.push_back("lane " + std::to_string(lane) + ": " + what + " -> " + describe_read(got));
    }
    return *this;
  }

  // Journal only. Returns the reader id (record index) the model gives.
  std::uint32_t attach(std::uint32_t lane, const std::string& name) {
    auto& j = journal(lane);
    runs_.at(lane).touched = true;
    const spec::JournalOp op = spec::JournalAttach{name};
    auto [next, result] = spec::step(j, op);
    j = std::move(next);
    const auto& outcome = std::get<spec::JournalAttachOutcome>(result);
    if (outcome.error != spec::JournalAttachError::None) scenario_error(image_.name + ": attach '" + name + "' refused");
    ++runs_.at(lane).attach_epoch;
    image_.history.push_back("lane " + std::to_string(lane) + ": " + spec::describe(op) + " -> reader " +
                             std::to_string(outcome.reader));
    return outcome.reader;
  }
  Builder& journal_op(std::uint32_t lane, const spec::JournalOp& op) {
    auto& j = journal(lane);
    auto [next, result] = spec::step(j, op);
    j = std::move(next);
    image_.history.push_back("lane " + std::to_string(lane) + ": " + spec::describe(op) + " -> " + spec::describe(result));
    return *this;
  }

  GoldenImage finish();

 private:
  spec::JournalState& journal(std::uint32_t lane) {
    auto* j = std::get_if<spec::JournalState>(&runs_.at(lane).state);
    if (j == nullptr) scenario_error(image_.name + ": lane " + std::to_string(lane) + " is not a Journal");
    return *j;
  }
  WriteStatus step_to(spec::EventsState& s, const spec::Op& op) {
    auto [next, result] = spec::step(s, op);
    s = std::move(next);
    return std::get<spec::WriteOutcome>(result).status;
  }
  void expect_ok(std::uint32_t lane, const std::string& what, WriteStatus status) {
    if (status != WriteStatus::Ok) {
      scenario_error(image_.name + " lane " + std::to_string(lane) + ": " + what + " gave " + std::string(to_string(status)));
    }
  }

  GoldenImage image_;
  std::vector<LaneRun> runs_;
};

// ---- Expected reads: each role alone on a fresh copy of the final state ----

constexpr std::uint32_t kReadsBeyondCapacity = 3;  // a Lost, then at most C entries, then Empty/Closed

template <typename State, typename StepFn>
std::vector<spec::ReadOutcome> reads_until_done(State state, std::uint32_t capacity_slots, StepFn step_read) {
  std::vector<spec::ReadOutcome> reads;
  for (std::uint32_t k = 0; k < capacity_slots + kReadsBeyondCapacity; ++k) {
    spec::ReadOutcome r = step_read(state);
    reads.push_back(r);
    if (r.status == ReadStatus::Empty || r.status == ReadStatus::Closed) return reads;
  }
  scenario_error("a role read more than capacity + 2 times without Empty or Closed");
}

std::string counters(std::uint64_t cursor, std::uint64_t read_count, std::uint64_t lost_count) {
  return "at " + std::to_string(cursor) + " (read " + std::to_string(read_count) + ", lost " + std::to_string(lost_count) + ")";
}

const char* journal_state_name(spec::JournalReaderState s) {
  switch (s) {
    case spec::JournalReaderState::Free: return "free";
    case spec::JournalReaderState::Attached: return "attached";
    case spec::JournalReaderState::Evicted: return "evicted";
    case spec::JournalReaderState::Detached: return "detached";
  }
  return "?";
}

GoldenLane golden_lane(const LaneRun& run) {
  GoldenLane lane;
  lane.config = run.config;
  const std::uint32_t cap = run.config.capacity_slots;
  std::string& text = lane.state;
  if (const auto* s = std::get_if<spec::EventsState>(&run.state)) {
    text = "write_seq " + std::to_string(s->written) + (s->closed ? ", closed" : ", open") + "; consumer " +
           counters(s->read_seq, s->read_count, s->lost_count);
    GoldenRole role{"consumer", "consumer", 0, "", {}};
    role.reads = reads_until_done(*s, cap, [](spec::EventsState& st) {
      auto [next, result] = spec::step(st, spec::Op{spec::TryRead{}});
      st = std::move(next);
      return std::get<spec::ReadOutcome>(result);
    });
    lane.roles.push_back(std::move(role));
  } else if (const auto* f = std::get_if<spec::FanoutState>(&run.state)) {
    text = "write_seq " + std::to_string(f->written) + (f->closed ? ", closed" : ", open");
    for (std::uint32_t i = 0; i < f->consumers.size(); ++i) {
      const auto& c = f->consumers[i];
      text += "; consumer " + std::to_string(i) + " " + counters(c.next_seq, c.read_count, c.lost_count);
      GoldenRole role{"consumer" + std::to_string(i), "consumer", i, "", {}};
      role.reads = reads_until_done(*f, cap, [i](spec::FanoutState& st) {
        auto [next, result] = spec::step(st, spec::FanoutOp{spec::FanoutTryRead{i}});
        st = std::move(next);
        return std::get<spec::ReadOutcome>(result);
      });
      lane.roles.push_back(std::move(role));
    }
  } else if (const auto* q = std::get_if<spec::SequencedState>(&run.state)) {
    text = "write_seq " + std::to_string(q->written) + (q->closed ? ", closed" : ", open");
    for (std::uint32_t i = 0; i < q->consumers.size(); ++i) {
      const auto& c = q->consumers[i];
      text += "; consumer " + std::to_string(i) + " " + counters(c.next_seq, c.read_count, c.lost_count);
      if (q->config.gated_on[i] != 0) text += " gated on mask " + std::to_string(q->config.gated_on[i]);
      GoldenRole role{"consumer" + std::to_string(i), "consumer", i, "", {}};
      role.reads = reads_until_done(*q, cap, [i](spec::SequencedState& st) {
        auto [next, result] = spec::sequenced_step(st, spec::SequencedOp{spec::SeqTryRead{i}});
        st = std::move(next);
        return std::get<spec::ReadOutcome>(result);
      });
      lane.roles.push_back(std::move(role));
    }
  } else {
    const auto& j = std::get<spec::JournalState>(run.state);
    text = "write_seq " + std::to_string(j.written) + (j.closed ? ", closed" : ", open") + ", evictions " +
           std::to_string(j.eviction_count);
    // Named records resume by name (JR-4); a fresh anonymous reader starts at the tail (JR-3).
    std::vector<std::string> names;
    for (std::uint32_t i = 0; i < j.readers.size(); ++i) {
      const auto& r = j.readers[i];
      if (r.state == spec::JournalReaderState::Attached) scenario_error("a Journal reader is still attached at the end");
      if (r.state == spec::JournalReaderState::Free) continue;
      text += "; record " + std::to_string(i) + " '" + r.name + "' " + journal_state_name(r.state) + " " +
              counters(r.cursor_seq, r.read_count, r.lost_count);
      if (!r.name.empty()) names.push_back(r.name);
    }
    names.push_back("");
    for (const std::string& name : names) {
      auto [attached, result] = spec::step(j, spec::JournalOp{spec::JournalAttach{name}});
      const auto& outcome = std::get<spec::JournalAttachOutcome>(result);
      if (outcome.error != spec::JournalAttachError::None) continue;  // no record for a fresh reader
      const std::uint32_t id = outcome.reader;
      GoldenRole role{"reader." + (name.empty() ? std::string("anonymous") : name), "reader", id, name, {}};
      role.reads = reads_until_done(attached, cap, [id](spec::JournalState& st) {
        auto [next, r] = spec::step(st, spec::JournalOp{spec::JournalTryRead{id}});
        st = std::move(next);
        return std::get<spec::ReadOutcome>(r);
      });
      lane.roles.push_back(std::move(role));
    }
  }
  return lane;
}

// ---- Bytes: the final model states written field by field (spec/layout.md) ----

void encode_slots(Bytes& image, std::uint64_t slots_offset, const LaneRun& run) {
  const std::uint32_t cap = run.config.capacity_slots;
  const std::uint64_t stride = kSlotHeaderBytes + run.config.slot_payload_bytes;
  const std::uint64_t written = run.written.size();
  // The ring holds the last C entries, whatever was read: entry s in slot s mod C, stamp 2s+2.
  for (std::uint64_t s = written > cap ? written - cap : 0; s < written; ++s) {
    const std::uint64_t slot = slots_offset + (s % cap) * stride;
    put64(image, slot, 2 * s + 2);
    put32(image, slot + 8, static_cast<std::uint32_t>(run.written[s].size()));
    std::memset(image.data() + slot + kSlotHeaderBytes, 0, run.config.slot_payload_bytes);
    if (!run.written[s].empty()) {  // a 0-byte entry's data() may be null
      std::memcpy(image.data() + slot + kSlotHeaderBytes, run.written[s].data(), run.written[s].size());
    }
  }
}

void encode_lane(Bytes& image, std::uint64_t block, const LaneRun& run) {
  if (const auto* s = std::get_if<spec::EventsState>(&run.state)) {
    put64(image, block + 0, s->written);
    put32(image, block + 8, s->closed ? 1 : 0);
    put64(image, block + 64, s->read_seq);
    put64(image, block + 72, s->read_count);
    put64(image, block + 80, s->lost_count);
    encode_slots(image, block + kLaneHeaderBytes, run);
    return;
  }
  const std::uint64_t records = block + kLaneHeaderBytes;
  const std::uint64_t slots = records + std::uint64_t{run.config.reader_count} * kReaderRecordBytes;
  auto record = [&](std::uint32_t i) { return records + std::uint64_t{i} * kReaderRecordBytes; };
  auto consumer_record = [&](std::uint32_t i, std::uint64_t cursor, std::uint64_t read, std::uint64_t lost) {
    put64(image, record(i) + 0, cursor);
    put64(image, record(i) + 8, read);
    put64(image, record(i) + 16, lost);
    put32(image, record(i) + 36, run.touched ? kReaderAttached : 0);
  };
  if (const auto* f = std::get_if<spec::FanoutState>(&run.state)) {
    put64(image, block + 0, f->written);
    put32(image, block + 8, f->closed ? 1 : 0);
    for (std::uint32_t i = 0; i < f->consumers.size(); ++i) {
      consumer_record(i, f->consumers[i].next_seq, f->consumers[i].read_count, f->consumers[i].lost_count);
    }
  } else if (const auto* q = std::get_if<spec::SequencedState>(&run.state)) {
    put64(image, block + 0, q->written);
    put32(image, block + 8, q->closed ? 1 : 0);
    for (std::uint32_t i = 0; i < q->consumers.size(); ++i) {
      consumer_record(i, q->consumers[i].next_seq, q->consumers[i].read_count, q->consumers[i].lost_count);
      put64(image, record(i) + 64, q->config.gated_on[i]);  // written by the creator (SS-3)
    }
  } else {
    const auto& j = std::get<spec::JournalState>(run.state);
    put64(image, block + 0, j.written);
    put32(image, block + 8, j.closed ? 1 : 0);
    put64(image, block + 16, j.eviction_count);
    put32(image, block + 80, run.attach_epoch);
    for (std::uint32_t i = 0; i < j.readers.size(); ++i) {
      const auto& r = j.readers[i];
      put64(image, record(i) + 0, r.cursor_seq);
      put64(image, record(i) + 8, r.read_count);
      put64(image, record(i) + 16, r.lost_count);
      // layout.md, "Journal use of ReaderRecord": an evicted or detached record's heartbeat carries
      // its tag (bit 63 evicted, bit 62 detached) over the last value.
      const std::uint64_t tag = r.state == spec::JournalReaderState::Evicted    ? std::uint64_t{1} << 63
                                : r.state == spec::JournalReaderState::Detached ? std::uint64_t{1} << 62
                                                                                : 0;
      put64(image, record(i) + 24, r.heartbeat_ns | tag);
      put32(image, record(i) + 36, static_cast<std::uint32_t>(r.state));
      assert(r.name.size() <= kReaderNameBytes);
      std::memcpy(image.data() + record(i) + 72, r.name.data(), r.name.size());
    }
  }
  encode_slots(image, slots, run);
}

// Canonical placement, header, table, checksum, init_state 1; then every lane block.
Bytes encode_region(const std::vector<LaneRun>& runs) {
  const auto lane_count = static_cast<std::uint32_t>(runs.size());
  std::vector<std::uint64_t> offsets;
  std::uint64_t end = kHeaderBytes + std::uint64_t{kDescriptorBytes} * lane_count;
  for (const LaneRun& run : runs) {
    offsets.push_back(end);
    end += block_bytes_of(run.config);
  }
  Bytes image(round_up(end, kRegionGranuleBytes), std::byte{0});
  put64(image, 0, kMagic);
  put32(image, 8, kLayoutVersionMajor | (std::uint32_t{kLayoutVersionMinor} << 16));
  put32(image, 12, kHeaderBytes);
  put64(image, 16, image.size());
  put32(image, 24, lane_count);
  put32(image, 28, kHeaderBytes);  // lane_table_offset
  put32(image, 32, kDescriptorBytes);
  put32(image, 36, 0);  // creator_pid: normalized
  put64(image, 40, kGoldenCreationId);
  for (std::uint32_t i = 0; i < lane_count; ++i) {
    const GoldenLaneConfig& c = runs[i].config;
    const std::uint64_t d = kHeaderBytes + std::uint64_t{kDescriptorBytes} * i;
    put32(image, d + 0, static_cast<std::uint32_t>(c.kind));
    put32(image, d + 4, static_cast<std::uint32_t>(c.on_full));
    put32(image, d + 8, c.capacity_slots);
    put32(image, d + 12, c.slot_payload_bytes);
    put32(image, d + 16, c.reader_count);
    put64(image, d + 24, offsets[i]);
    put64(image, d + 32, block_bytes_of(c));
    put64(image, d + 40, c.reader_timeout_ns);
  }
  const std::span<const std::byte> all(image);
  const std::uint32_t crc =
      crc32c(all.subspan(kHeaderBytes, std::uint64_t{kDescriptorBytes} * lane_count), crc32c(all.first(60))) ^ 0xFFFFFFFFu;
  put32(image, 60, crc);
  put32(image, 64, 1);  // init_state Ready
  for (std::uint32_t i = 0; i < lane_count; ++i) encode_lane(image, offsets[i], runs[i]);
  return image;
}

GoldenImage Builder::finish() {
  image_.fresh = true;
  for (const LaneRun& run : runs_) {
    image_.lanes.push_back(golden_lane(run));
    image_.fresh = image_.fresh && !run.touched;
  }
  image_.bytes = encode_region(runs_);
  return std::move(image_);
}

// ---- The image set ----

GoldenLaneConfig events(OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes) {
  return GoldenLaneConfig{LaneKind::Events, on_full, capacity, slot_bytes, 1, 0, {}};
}
GoldenLaneConfig journal(OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes, std::uint32_t readers,
                         std::uint64_t timeout_ns) {
  return GoldenLaneConfig{LaneKind::Journal, on_full, capacity, slot_bytes, readers, timeout_ns, {}};
}
GoldenLaneConfig sequenced(OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes, std::vector<std::uint64_t> gated) {
  const auto readers = static_cast<std::uint32_t>(gated.size());
  return GoldenLaneConfig{LaneKind::SequencedSlots, on_full, capacity, slot_bytes, readers, 0, std::move(gated)};
}
GoldenLaneConfig fanout(OnFull on_full, std::uint32_t capacity, std::uint32_t slot_bytes, std::uint32_t consumers) {
  return GoldenLaneConfig{LaneKind::FanoutBroadcast, on_full, capacity, slot_bytes, consumers, 0, {}};
}

constexpr std::uint64_t kTimeoutNs = 1'000'000;  // Journal reader_timeout_ns of the eviction image

std::vector<GoldenImage> build_images() {
  std::vector<GoldenImage> out;
  const auto ev_block = events(OnFull::Block, 4, 16);
  const auto ev_drop = events(OnFull::Drop, 4, 16);
  const auto pipeline = sequenced(OnFull::Block, 4, 16, {0, 1, 2});  // 0 -> 1 -> 2
  const auto multi = std::vector<GoldenLaneConfig>{events(OnFull::Drop, 2, 8), fanout(OnFull::Block, 2, 8, 2),
                                                   journal(OnFull::Drop, 2, 8, 2, 0), sequenced(OnFull::Drop, 2, 8, {0, 1})};

  // Fresh regions: what a creator writes (the create cases compare agents' files with these).
  out.push_back(Builder("events_block_fresh", "Events Block C=4 S=16 as created", {ev_block}).finish());
  out.push_back(Builder("journal_block_fresh", "Journal Block C=4 S=16, 3 readers, reader_timeout_ns 1 ms, as created",
                        {journal(OnFull::Block, 4, 16, 3, kTimeoutNs)})
                    .finish());
  out.push_back(Builder("sequenced_block_fresh", "SequencedSlots Block C=4 S=16, pipeline 0 -> 1 -> 2, as created", {pipeline})
                    .finish());
  out.push_back(Builder("fanout_drop_fresh", "FanoutBroadcast Drop C=4 S=16, 3 consumers, as created",
                        {fanout(OnFull::Drop, 4, 16, 3)})
                    .finish());
  out.push_back(Builder("multi_lane_fresh", "four lanes, one of each kind, as created", multi).finish());

  // Events.
  out.push_back(Builder("events_block_partial", "Events Block: 3 written, 1 read; 2 entries left, one of them empty",
                        {ev_block})
                    .write(0, 3)
                    .read(0, 0, 1)
                    .finish());
  out.push_back(Builder("events_block_full", "Events Block: full, 4 unread entries", {ev_block}).write(0, 4).finish());
  out.push_back(Builder("events_block_wrapped_closed",
                        "Events Block: write_seq 7 > capacity 4 (wrapped), closed with 4 entries left", {ev_block})
                    .write(0, 4)
                    .read(0, 0, 3)
                    .write(0, 3)
                    .close(0)
                    .finish());
  out.push_back(Builder("events_drop_lost", "Events Drop: 10 written, consumer at 2: Lost 4, then entries 6..9", {ev_drop})
                    .write(0, 2)
                    .read(0, 0, 2)
                    .write(0, 8)
                    .finish());

  // Journal: named readers at different committed cursors, an uncommitted read, a detached
  // record that fell behind the window, and an evicted one.
  {
    Builder b("journal_block_readers",
              "Journal Block: alpha committed at 1 (behind the window: Lost 3 on resume), beta at 5, "
              "gamma at 3 with one uncommitted read (Lost 1 on resume: entry 3 is the one the next write overwrites), a free record",
              {journal(OnFull::Block, 4, 16, 4, 0)});
    const std::uint32_t alpha = b.attach(0, "alpha");
    const std::uint32_t beta = b.attach(0, "beta");
    b.write(0, 3).read(0, alpha, 1).journal_op(0, spec::JournalCommit{alpha}).journal_op(0, spec::JournalDetach{alpha});
    b.read(0, beta, 3).journal_op(0, spec::JournalCommit{beta});
    const std::uint32_t gamma = b.attach(0, "gamma");
    b.write(0, 1).read(0, gamma, 1).journal_op(0, spec::JournalDetach{gamma});
    b.write(0, 3).read(0, beta, 2).journal_op(0, spec::JournalCommit{beta}).journal_op(0, spec::JournalDetach{beta});
    out.push_back(b.finish());
  }
  {
    Builder b("journal_block_evicted",
              "Journal Block, reader_timeout_ns 1 ms: slow evicted at 0 (Lost 5 on resume), fast detached at 6; closed",
              {journal(OnFull::Block, 4, 8, 2, kTimeoutNs)});
    const std::uint32_t slow = b.attach(0, "slow");
    const std::uint32_t fast = b.attach(0, "fast");
    b.write(0, 4).read(0, fast, 4).journal_op(0, spec::JournalCommit{fast});
    b.journal_op(0, spec::JournalAdvanceTime{2 * kTimeoutNs});
    b.journal_op(0, spec::JournalHeartbeat{fast});
    b.write(0, 4).read(0, fast, 2).journal_op(0, spec::JournalCommit{fast});
    b.journal_op(0, spec::JournalDetach{slow}).journal_op(0, spec::JournalDetach{fast}).close(0);
    out.push_back(b.finish());
  }

  // SequencedSlots.
  out.push_back(Builder("sequenced_block_gated",
                        "SequencedSlots Block, pipeline 0 -> 1 -> 2: consumer 0 at 5, 1 at 2 (gated by 0), 2 at 1 (gated by 1)",
                        {pipeline})
                    .write(0, 4)
                    .read(0, 0, 4)
                    .read(0, 1, 2)
                    .read(0, 2, 1)
                    .write(0, 1)
                    .read(0, 0, 1)
                    .finish());
  out.push_back(Builder("sequenced_drop_lost", "SequencedSlots Drop, 2 consumers: 9 written, closed; consumer 0 at 3, 1 at 0",
                        {sequenced(OnFull::Drop, 4, 8, {0, 0})})
                    .write(0, 3)
                    .read(0, 0, 3)
                    .write(0, 6)
                    .close(0)
                    .finish());

  // FanoutBroadcast.
  out.push_back(Builder("fanout_block_cursors", "FanoutBroadcast Block, 3 consumers at 4, 1 and 0: full",
                        {fanout(OnFull::Block, 4, 16, 3)})
                    .write(0, 4)
                    .read(0, 0, 4)
                    .read(0, 1, 1)
                    .finish());
  out.push_back(Builder("fanout_drop_lost", "FanoutBroadcast Drop, 2 consumers: 10 written, closed; consumer 0 at 3, 1 at 0",
                        {fanout(OnFull::Drop, 4, 8, 2)})
                    .write(0, 3)
                    .read(0, 0, 3)
                    .write(0, 7)
                    .close(0)
                    .finish());

  // Several lanes in one region, each in its own state.
  {
    Builder b("multi_lane", "four lanes: Events Drop wrapped, Fanout Block, Journal Drop with a named reader, SequencedSlots Drop gated",
              multi);
    b.write(0, 5).read(0, 0, 1);
    b.write(1, 2).read(1, 0, 2).read(1, 1, 1).close(1);
    const std::uint32_t reader = b.attach(2, "tail");
    b.write(2, 3).read(2, reader, 1).journal_op(2, spec::JournalCommit{reader}).journal_op(2, spec::JournalDetach{reader});
    b.write(2, 1);
    b.write(3, 2).read(3, 0, 2).read(3, 1, 1);
    out.push_back(b.finish());
  }
  return out;
}

Json read_json(const spec::ReadOutcome& r) {
  Json out{{"status", std::string(to_string(r.status))}};
  if (r.status == ReadStatus::Entry) {
    out["seq"] = r.seq;
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (const std::byte b : r.payload) {
      hex += kDigits[static_cast<unsigned>(b) >> 4];
      hex += kDigits[static_cast<unsigned>(b) & 0xf];
    }
    out["payload_hex"] = hex;
  }
  if (r.status == ReadStatus::Lost) out["lost_count"] = r.lost_count;
  return out;
}

}  // namespace

std::string lane_kind_name(LaneKind kind) { return std::string(to_string(kind)); }
std::string on_full_name(OnFull on_full) { return std::string(to_string(on_full)); }

std::string describe_read(const spec::ReadOutcome& r) {
  const Json j = read_json(r);
  std::string out = j["status"].get<std::string>();
  if (r.status == ReadStatus::Entry) out += " seq " + std::to_string(r.seq) + " payload " + j["payload_hex"].get<std::string>();
  if (r.status == ReadStatus::Lost) out += " " + std::to_string(r.lost_count);
  return out;
}

const std::vector<GoldenImage>& golden_images() {
  static const std::vector<GoldenImage> images = build_images();
  return images;
}

std::string golden_manifest(const std::vector<GoldenImage>& images) {
  Json list = Json::array();
  for (const GoldenImage& image : images) {
    Json lanes = Json::array();
    for (std::size_t i = 0; i < image.lanes.size(); ++i) {
      const GoldenLane& lane = image.lanes[i];
      const GoldenLaneConfig& c = lane.config;
      Json roles = Json::array();
      for (const GoldenRole& role : lane.roles) {
        Json reads = Json::array();
        for (const auto& r : role.reads) reads.push_back(read_json(r));
        Json entry{{"key", role.key}, {"role", role.role}};
        if (c.kind == LaneKind::Journal) {
          entry["attach_name"] = role.name;
          entry["reader_id"] = role.reader;
        } else {
          entry["reader"] = role.reader;
        }
        entry["reads"] = std::move(reads);
        roles.push_back(std::move(entry));
      }
      Json spec_json{{"kind", lane_kind_name(c.kind)},
                     {"on_full", on_full_name(c.on_full)},
                     {"capacity_slots", c.capacity_slots},
                     {"slot_payload_bytes", c.slot_payload_bytes},
                     {"reader_count", c.reader_count},
                     {"reader_timeout_ns", c.reader_timeout_ns},
                     {"gated_on", c.gated_on}};
      lanes.push_back(Json{{"lane", i}, {"spec", std::move(spec_json)}, {"state", lane.state}, {"roles", std::move(roles)}});
    }
    list.push_back(Json{{"file", image.name + ".bin"},
                        {"sha256", sha256_hex(image.bytes)},
                        {"bytes", image.bytes.size()},
                        {"layout_version", std::to_string(kLayoutVersionMajor) + "." + std::to_string(kLayoutVersionMinor)},
                        {"summary", image.summary},
                        {"fresh", image.fresh},
                        {"lanes", std::move(lanes)},
                        {"history", image.history}});
  }
  const Json manifest{
      {"format", "indexbus golden images, layout v1 (spec/layout.md, Golden images)"},
      {"generator", "spec/golden/make_golden_images (cmake --build <dir> --target golden_images)"},
      {"normalized", "creator_pid 0, creation_id 0x31764E45444C4F47, every pid word 0, Journal heartbeat_ns on the model clock"},
      {"reads", "per role: attach it on a fresh copy of the file, alone, then try_read until Empty or Closed"},
      {"images", std::move(list)}};
  return manifest.dump(1) + "\n";
}

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) {
  for (const std::byte b : bytes) {
    crc ^= static_cast<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

std::string sha256_hex(std::span<const std::byte> bytes) {
  static constexpr std::array<std::uint32_t, 64> k{
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
      0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
      0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
      0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
      0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
      0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::array<std::uint32_t, 8> h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  // The message, padded: 0x80, zeros, then the length in bits as a big-endian u64.
  std::vector<std::uint8_t> m(bytes.size());
  if (!bytes.empty()) std::memcpy(m.data(), bytes.data(), bytes.size());  // an empty span's data() may be null
  const std::uint64_t bit_length = std::uint64_t{bytes.size()} * 8;
  m.push_back(0x80);
  while (m.size() % 64 != 56) m.push_back(0);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(bit_length >> (8 * i)));
  for (std::size_t chunk = 0; chunk < m.size(); chunk += 64) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
      const std::uint8_t* p = m.data() + chunk + 4 * i;
      w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = h;
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const std::uint32_t t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint32_t word : h) {
    for (int shift = 28; shift >= 0; shift -= 4) out += kDigits[(word >> shift) & 0xf];
  }
  return out;
}

}  // namespace indexbus::golden

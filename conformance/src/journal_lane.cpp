#include "indexbus/conformance/journal_lane.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace indexbus::conformance {
namespace {

spec::ReadOutcome outcome_of(const ReadResult& r, std::span<const std::byte> buffer) {
  spec::ReadOutcome out{r.status, 0, {}, 0};
  if (r.status == ReadStatus::Entry) {
    assert(r.payload_bytes <= buffer.size());
    out.seq = r.seq;
    out.payload.assign(buffer.begin(), buffer.begin() + r.payload_bytes);
  } else if (r.status == ReadStatus::Lost) {
    out.lost_count = r.lost_count;
  }
  return out;
}

spec::JournalAttachError attach_error_of(const Error& error) {
  switch (error.code) {
    case ErrorCode::BadReaderName: return spec::JournalAttachError::BadReaderName;
    case ErrorCode::RoleTaken: return spec::JournalAttachError::RoleTaken;
    case ErrorCode::NoFreeReader: return spec::JournalAttachError::NoFreeReader;
    default: throw std::runtime_error("journal attach: unexpected error " + std::string(to_string(error.code)) +
                                      ": " + error.message);
  }
}

// The broken read_at: the reader's liveness check and heartbeat (JR-10) as the real one, but
// then it copies whatever the slot holds for seq without checking that seq is still in the window
// or that the slot's stamp says seq (JR-6, JR-7): an overwritten entry comes back as seq's.
template <Platform P>
ReadResult read_at_without_revalidation(JournalReader<P>& reader, const RingLaneRef& lane, std::uint64_t seq,
                                        std::span<std::byte> out) {
  if (!reader.heartbeat()) return ReadResult{ReadStatus::Evicted, 0, 0, 0};
  const std::uint64_t written = lane.header->write_seq;
  if (seq >= written) return ReadResult{ReadStatus::NotYet, 0, 0, 0};
  SlotHeader& slot = ring_detail::slot_at(lane, seq);
  const std::uint32_t length = std::min(slot.payload_bytes, lane.slot_payload_bytes);
  std::memcpy(out.data(), ring_detail::payload_of(slot), length);
  return ReadResult{ReadStatus::Entry, seq, length, 0};
}

}  // namespace

std::string_view to_string(JournalDefect defect) noexcept {
  switch (defect) {
    case JournalDefect::None: return "none";
    case JournalDefect::ReadAtWithoutRevalidation: return "read-at-without-revalidation";
    case JournalDefect::CommitNotPublished: return "commit-not-published";
    case JournalDefect::HeartbeatNotStored: return "heartbeat-not-stored";
  }
  return "?";
}

JournalWords words_of(const spec::JournalState& state) {
  JournalWords w{state.written, state.closed, state.eviction_count, {}};
  for (const spec::JournalReaderRecord& r : state.readers) {
    JournalReaderWords rw{r.state, r.name, r.cursor_seq, r.read_count, r.lost_count, r.heartbeat_ns, r.has_handle, {}};
    if (r.has_handle && r.state == spec::JournalReaderState::Attached) rw.next_seq = r.next_seq;
    w.readers.push_back(std::move(rw));
  }
  return w;
}

std::string describe(const JournalWords& w) {
  std::ostringstream os;
  os << "written " << w.written << (w.closed ? " closed" : "") << " evictions " << w.eviction_count << ", readers";
  for (const JournalReaderWords& r : w.readers) {
    os << " [" << static_cast<std::uint32_t>(r.state) << " '" << r.name << "' cursor " << r.cursor_seq << " read "
       << r.read_count << " lost " << r.lost_count << " hb " << r.heartbeat_ns << (r.has_handle ? " handle" : "");
    if (r.next_seq) os << " next " << *r.next_seq;
    os << "]";
  }
  return os.str();
}

JournalLane::JournalLane(const spec::JournalConfig& config, const std::string& region_dir, JournalDefect defect)
    : platform_(&clock_ns_), defect_(defect) {
  static std::atomic<unsigned> counter{0};
  const std::string path = region_dir + "/indexbus-journal-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1));
  const LaneSpec spec{LaneKind::Journal, config.on_full,     config.capacity_slots, config.slot_payload_bytes,
                      config.reader_count, config.reader_timeout_ns, {}};
  auto created = Region::create(path, std::span(&spec, 1));
  if (!created.ok()) throw std::runtime_error("journal lane: " + created.error().message);
  region_.emplace(std::move(created).value());
  ::unlink(path.c_str());  // the mapping outlives the name; nothing to clean up later
  lane_ = ring_lane_ref(region_->lane_block(0), region_->lane(0));
  assert(lane_.reader_count == config.reader_count);
  writer_.emplace(platform_, lane_);
  buffer_.resize(config.slot_payload_bytes);
}

JournalLane::Reader& JournalLane::handle(std::uint32_t reader) {
  if (reader >= lane_.reader_count || !readers_[reader].has_value()) {
    throw std::logic_error("journal lane: reader " + std::to_string(reader) + " has no live handle");
  }
  return *readers_[reader];
}

spec::JournalResult JournalLane::execute(const spec::JournalOp& op) {
  const std::uint64_t now = clock_ns_;
  std::span<std::byte> out(buffer_);
  return std::visit(
      [&](const auto& o) -> spec::JournalResult {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, spec::JournalTryWrite>) {
          return spec::WriteOutcome{writer_->try_write(o.payload)};
        } else if constexpr (std::is_same_v<T, spec::JournalWrite>) {
          return spec::WriteOutcome{writer_->write(o.payload, now)};
        } else if constexpr (std::is_same_v<T, spec::JournalClose>) {
          writer_->close();
          return spec::CloseOutcome{};
        } else if constexpr (std::is_same_v<T, spec::JournalAttach>) {
          auto attached = Reader::attach(platform_, lane_, o.name);
          if (!attached.ok()) return spec::JournalAttachOutcome{attach_error_of(attached.error()), 0};
          const std::uint32_t id = attached.value().reader_id();
          assert(id < lane_.reader_count);
          readers_[id].emplace(std::move(attached).value());  // replaces a stale (evicted) handle
          return spec::JournalAttachOutcome{spec::JournalAttachError::None, id};
        } else if constexpr (std::is_same_v<T, spec::JournalTryRead>) {
          return outcome_of(handle(o.reader).try_read(out), out);
        } else if constexpr (std::is_same_v<T, spec::JournalRead>) {
          return outcome_of(handle(o.reader).read(out, now), out);
        } else if constexpr (std::is_same_v<T, spec::JournalCommit>) {
          if (defect_ == JournalDefect::CommitNotPublished) return spec::JournalCallOutcome{handle(o.reader).heartbeat()};
          return spec::JournalCallOutcome{handle(o.reader).commit()};
        } else if constexpr (std::is_same_v<T, spec::JournalReadAt>) {
          Reader& reader = handle(o.reader);
          if (defect_ == JournalDefect::ReadAtWithoutRevalidation) {
            return outcome_of(read_at_without_revalidation(reader, lane_, o.seq, out), out);
          }
          return outcome_of(reader.read_at(o.seq, out), out);
        } else if constexpr (std::is_same_v<T, spec::JournalHeartbeat>) {
          Reader& reader = handle(o.reader);
          // The broken one neither checks liveness nor refreshes heartbeat_ns: a live reader
          // that only heartbeats gets evicted, an evicted one is told it is fine.
          if (defect_ == JournalDefect::HeartbeatNotStored) return spec::JournalCallOutcome{true};
          return spec::JournalCallOutcome{reader.heartbeat()};
        } else if constexpr (std::is_same_v<T, spec::JournalDetach>) {
          handle(o.reader).detach();
          readers_[o.reader].reset();
          return spec::JournalDoneOutcome{};
        } else if constexpr (std::is_same_v<T, spec::JournalBeginWrite>) {
          // The model's first step of a write (two-step writes, EV-8) is no call of the lane: only
          // the linearizability checker makes it, from a recorded write.
          throw std::logic_error("JournalBeginWrite is a model-only operation: no lane call performs it");
        } else if constexpr (std::is_same_v<T, spec::JournalBeginCall>) {
          // Likewise a reader call's first step (its heartbeat CAS), split off by the checker.
          throw std::logic_error("JournalBeginCall is a model-only operation: no lane call performs it");
        } else if constexpr (std::is_same_v<T, spec::JournalEvict>) {
          // And a recorded eviction, which a write makes.
          throw std::logic_error("JournalEvict is a model-only operation: no lane call performs it");
        } else if constexpr (std::is_same_v<T, spec::JournalPublishCursor>) {
          // And a commit's cursor store, which a commit that answered Evicted made.
          throw std::logic_error("JournalPublishCursor is a model-only operation: no lane call performs it");
        } else {
          static_assert(std::is_same_v<T, spec::JournalAdvanceTime>);
          clock_ns_ += o.ns;
          return spec::JournalDoneOutcome{};
        }
      },
      op);
}

JournalWords JournalLane::words() const {
  RingLaneHeader& h = *lane_.header;
  JournalWords w;
  w.written = platform_.load(h.write_seq, std::memory_order_acquire);
  w.closed = platform_.load(h.closed, std::memory_order_acquire) != 0;
  w.eviction_count = platform_.load(h.eviction_count, std::memory_order_acquire);
  for (std::uint32_t i = 0; i < lane_.reader_count; ++i) {
    ReaderRecord& r = lane_.readers[i];
    JournalReaderWords rw;
    rw.state = static_cast<spec::JournalReaderState>(platform_.load(r.state, std::memory_order_acquire));
    rw.name = std::string(r.name, strnlen(r.name, kReaderNameBytes));
    rw.cursor_seq = platform_.load(r.cursor_seq, std::memory_order_acquire);
    rw.read_count = platform_.load(r.read_count, std::memory_order_relaxed);
    rw.lost_count = platform_.load(r.lost_count, std::memory_order_relaxed);
    // The value under any tag: the tag itself is what state says (settled at once here, where
    // the attach lock is always free: journal.hpp, "Eviction").
    rw.heartbeat_ns = heartbeat_value(platform_.load(r.heartbeat_ns, std::memory_order_relaxed));
    rw.has_handle = readers_[i].has_value();
    if (rw.has_handle && rw.state == spec::JournalReaderState::Attached) rw.next_seq = readers_[i]->next_seq();
    w.readers.push_back(std::move(rw));
  }
  return w;
}

}  // namespace indexbus::conformance

// TEST ONLY: copies of the Events lane algorithm (core/include/indexbus/events.hpp) with planted
// bugs, one per Bug value, to prove that the simulator finds each within a fixed budget. Each
// planted change is marked "PLANTED BUG". Everything else is the lane as in core/, so the
// variants must be kept close to it when events.hpp changes.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "indexbus/events.hpp"

namespace indexbus::sim::broken {

enum class Bug {
  PublishBeforePayload,  // Block: write_seq and the stamp before the payload
  OffByOneCapacity,      // Block: the producer's full check admits capacity + 1 entries
  DropNoRevalidate,      // Drop: the consumer does not re-read the stamp after copying
  MissedWake,            // Block, parking: the producer sleeps without re-checking after announcing
  ClosedBeforeDrained,   // Block: the consumer reports Closed with entries still unread
  DropReaderWaits,       // Drop: the consumer waits for an overwrite's publish (the lane before 2026-12-07)
};

using indexbus::ReadResult;
using indexbus::EventsLaneRef;
using indexbus::kWaiterParked;

namespace detail {

inline EventsSlotHeader& slot_at(const EventsLaneRef& lane, std::uint64_t seq) noexcept {
  const std::uint64_t index = seq & (lane.capacity_slots - 1);
  return *reinterpret_cast<EventsSlotHeader*>(
      lane.slots + index * events_slot_stride_bytes(lane.slot_payload_bytes));
}

inline std::byte* payload_of(EventsSlotHeader& slot) noexcept {
  return reinterpret_cast<std::byte*>(&slot) + sizeof(EventsSlotHeader);
}

// The peer's side of the waiting protocol: publish our cursor (or closed) and wake a parked peer.
template <Platform P, typename Word>
inline void publish_and_wake(const P& platform, Word& cursor, Word value, std::uint32_t& waiting,
                             std::uint32_t& epoch) noexcept {
  const std::uint32_t flag = platform.publish_then_load_flag(cursor, value, waiting);
  if (flag == 0) [[likely]] return;
  platform.fetch_add(epoch, std::uint32_t{1}, std::memory_order_release);
  platform.wake_all(epoch);
}

inline constexpr std::uint32_t kFullCheckRounds = 64;

// The waiter's side: wait until ready(full) or the deadline; ready() loads the peer's cursor with
// (at least) acquire. A polling waiter passes full = false on most rounds, so that a check that
// would pull a line the peer writes on every publish (the consumer's closed/write_seq) is made
// only every kFullCheckRounds rounds. Returns ready(true)'s answer after the deadline. Bounded by deadline_ns: each pass either returns or pauses or sleeps until a change.
// Not marked cold: a latency-sensitive consumer spends its life here.
template <bool kSkipRecheck = false, Platform P, typename Ready>
bool wait_until(const P& platform, std::uint32_t& waiting, std::uint32_t& epoch,
                              std::uint64_t deadline_ns, Ready ready) {
  if (!platform.waiter_needs_wake()) {
    for (std::uint32_t round = 0;; ++round) {
      if (ready(round % kFullCheckRounds == kFullCheckRounds - 1)) return true;
      if (platform.deadline_passed(deadline_ns, round)) return ready(true);
      platform.pause(round, deadline_ns);
    }
  }
  for (;;) {
    if (ready(true)) return true;
    if (platform.now_ns() >= deadline_ns) return false;
    platform.announce_waiter(waiting, kWaiterParked);
    const std::uint32_t seen_epoch = platform.load(epoch, std::memory_order_acquire);
    // PLANTED BUG (MissedWake, producer only): no re-check between announcing and sleeping, so
    // space freed in between is never noticed and its wake was skipped (the flag was not yet set).
    if (!kSkipRecheck && ready(true)) {
      platform.store(waiting, std::uint32_t{0}, std::memory_order_relaxed);
      return true;
    }
    platform.wait(epoch, seen_epoch, deadline_ns);
    platform.store(waiting, std::uint32_t{0}, std::memory_order_relaxed);
  }
}

}  // namespace detail

// The producer side. Only one producer may be attached to a lane; all calls from one thread.
template <Platform P, Bug B>
class EventsProducer {
 public:
  EventsProducer(const P& platform, EventsLaneRef lane) noexcept
      : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(is_power_of_two(lane_.capacity_slots));
    write_seq_ = platform_->load(lane_.header->write_seq, std::memory_order_relaxed);
    cached_read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_acquire);
    closed_ = platform_->load(lane_.header->closed, std::memory_order_relaxed) != 0;
  }

  // Producer. Never waits. Block: Ok or Full. Drop: overwrites the oldest entry when full, Ok.
  [[nodiscard]] WriteStatus try_write(std::span<const std::byte> payload) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) return WriteStatus::Full;
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Block: waits for space until deadline_ns (platform clock), then Timeout.
  // Drop: never waits; same as try_write.
  [[nodiscard]] WriteStatus write(std::span<const std::byte> payload,
                                  std::uint64_t deadline_ns) noexcept {
    if (auto rejected = precheck(payload)) return *rejected;
    if (!has_space()) {
      auto& h = *lane_.header;
      if (!detail::wait_until<B == Bug::MissedWake>(*platform_, h.producer_waiting, h.producer_wake_epoch,
                                     deadline_ns, [this](bool) { return has_space(); })) {
        return WriteStatus::Timeout;
      }
    }
    publish(payload);
    return WriteStatus::Ok;
  }

  // Producer. Later writes return Closed; the consumer drains, then reads Closed. Idempotent.
  void close() noexcept {
    closed_ = true;
    auto& h = *lane_.header;
    detail::publish_and_wake(*platform_, h.closed, std::uint32_t{1}, h.consumer_waiting,
                                    h.consumer_wake_epoch);
  }

  std::uint64_t written() const noexcept { return write_seq_; }

 private:
  std::optional<WriteStatus> precheck(std::span<const std::byte> payload) const noexcept {
    if (closed_) return WriteStatus::Closed;
    if (payload.size() > lane_.slot_payload_bytes) return WriteStatus::TooLarge;
    return std::nullopt;
  }

  bool has_space() noexcept {
    if (lane_.on_full == OnFull::Drop) return true;
    if (write_seq_ - cached_read_seq_ < lane_.capacity_slots) return true;
    if constexpr (B == Bug::OffByOneCapacity) {
      if (write_seq_ - cached_read_seq_ == lane_.capacity_slots) return true;
    }
    cached_read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_seq_cst);
    assert(cached_read_seq_ <= write_seq_);
    // PLANTED BUG (OffByOneCapacity): one entry more than the lane holds.
    if constexpr (B == Bug::OffByOneCapacity) return write_seq_ - cached_read_seq_ <= lane_.capacity_slots;
    return write_seq_ - cached_read_seq_ < lane_.capacity_slots;
  }

  void publish(std::span<const std::byte> payload) noexcept {
    auto& slot = detail::slot_at(lane_, write_seq_);
    std::byte* bytes = detail::payload_of(slot);
    const auto length = static_cast<std::uint32_t>(payload.size());
    assert(length <= lane_.slot_payload_bytes);
    const std::uint64_t seq = write_seq_;
    ++write_seq_;
    auto& h = *lane_.header;
    if (lane_.on_full == OnFull::Drop) {
      platform_->store(slot.stamp, events_stamp_writing(seq), std::memory_order_release);
      platform_->copy_to_shared_racy(bytes, payload.data(), length);
      platform_->store(slot.payload_bytes, length, std::memory_order_release);
      platform_->store(slot.stamp, events_stamp_complete(seq), std::memory_order_release);
      detail::publish_and_wake(*platform_, h.write_seq, write_seq_, h.consumer_waiting,
                                      h.consumer_wake_epoch);
    } else {
      if constexpr (B == Bug::PublishBeforePayload) {
        // PLANTED BUG: the entry is published before its payload and length are written.
        platform_->store(h.write_seq, write_seq_, std::memory_order_release);
        detail::publish_and_wake(*platform_, slot.stamp, events_stamp_complete(seq),
                                 h.consumer_waiting, h.consumer_wake_epoch);
        platform_->copy_to_shared(bytes, payload.data(), length);
        platform_->store(slot.payload_bytes, length, std::memory_order_relaxed);
        return;
      }
      // Block: write_seq first, then the stamp the consumer polls (see "Publish" above).
      platform_->copy_to_shared(bytes, payload.data(), length);
      platform_->store(slot.payload_bytes, length, std::memory_order_relaxed);
      platform_->store(h.write_seq, write_seq_, std::memory_order_release);
      detail::publish_and_wake(*platform_, slot.stamp, events_stamp_complete(seq),
                                      h.consumer_waiting, h.consumer_wake_epoch);
    }
  }

  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t write_seq_ = 0;
  std::uint64_t cached_read_seq_ = 0;
  bool closed_ = false;
};

// The consumer side. Only one consumer may be attached to a lane; all calls from one thread.
// `out` must hold at least slot_payload_bytes.
template <Platform P, Bug B>
class EventsConsumer {
 public:
  EventsConsumer(const P& platform, EventsLaneRef lane) noexcept
      : platform_(&platform), lane_(lane) {
    assert(lane_.header != nullptr);
    assert(is_power_of_two(lane_.capacity_slots));
    read_seq_ = platform_->load(lane_.header->read_seq, std::memory_order_relaxed);
    cached_write_seq_ = read_seq_;
  }

  // Consumer. Never waits: Entry, Empty, Lost{count} or Closed (after draining).
  [[nodiscard]] ReadResult try_read(std::span<std::byte> out) noexcept { return poll(out, true); }

  // Consumer. Waits until there is something to report or deadline_ns passes (then Timeout).
  [[nodiscard]] ReadResult read(std::span<std::byte> out, std::uint64_t deadline_ns) noexcept {
    ReadResult result = poll(out, true);
    if (result.status != ReadStatus::Empty) return result;
    auto& h = *lane_.header;
    const bool ready = detail::wait_until(
        *platform_, h.consumer_waiting, h.consumer_wake_epoch, deadline_ns, [&](bool full) {
          result = poll(out, full);
          return result.status != ReadStatus::Empty;
        });
    if (!ready) return ReadResult{ReadStatus::Timeout, 0, 0, 0};
    return result;
  }

  std::uint64_t next_seq() const noexcept { return read_seq_; }

 private:
  // try_read's contract when full; without full, a Block lane may answer Empty instead of Closed
  // (read() re-checks in full before it gives up).
  ReadResult poll(std::span<std::byte> out, bool full) noexcept {
    assert(out.size() >= lane_.slot_payload_bytes);
    if (lane_.on_full == OnFull::Block) return read_block(out, full);
    if (read_seq_ == cached_write_seq_) {
      auto& h = *lane_.header;
      // closed before write_seq: see "Close" at the top of this file.
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
      if (read_seq_ == cached_write_seq_) {
        return ReadResult{closed ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
      }
    }
    return read_drop(out);
  }

  ReadResult read_block(std::span<std::byte> out, bool full) noexcept {
    auto& slot = detail::slot_at(lane_, read_seq_);
    if (platform_->load(slot.stamp, std::memory_order_seq_cst) !=
        events_stamp_complete(read_seq_)) {
      // closed and write_seq share the producer's line, which every publish writes: a polling
      // consumer reads them only on full checks, so that it does not steal that line each round.
      if (!full) return ReadResult{ReadStatus::Empty, 0, 0, 0};
      // Not published yet, or a publish whose stamp is not stored yet. closed before write_seq:
      // see "Close" above; Closed only when everything written has been read.
      auto& h = *lane_.header;
      const bool closed = platform_->load(h.closed, std::memory_order_seq_cst) != 0;
      const std::uint64_t written = platform_->load(h.write_seq, std::memory_order_seq_cst);
      // PLANTED BUG (ClosedBeforeDrained): Closed as soon as closed is seen.
      const bool drained = B == Bug::ClosedBeforeDrained || written == read_seq_;
      return ReadResult{closed && drained ? ReadStatus::Closed : ReadStatus::Empty, 0, 0, 0};
    }
    const std::uint32_t length = std::min(
        platform_->load(slot.payload_bytes, std::memory_order_relaxed), lane_.slot_payload_bytes);
    platform_->copy_from_shared(out.data(), detail::payload_of(slot), length);
    return deliver(length);
  }

  ReadResult read_drop(std::span<std::byte> out) noexcept {
    if (cached_write_seq_ - read_seq_ > lane_.capacity_slots) return report_lost();
    auto& slot = detail::slot_at(lane_, read_seq_);
    const std::uint64_t expected = events_stamp_complete(read_seq_);
    const std::uint64_t before = platform_->load(slot.stamp, std::memory_order_acquire);
    if (before != expected) {
      // A smaller stamp cannot happen once write_seq said the entry is published; treat a
      // region that says so as an overwrite rather than trusting the slot.
      return report_overwritten(before);
    }
    const std::uint32_t length = std::min(
        platform_->load(slot.payload_bytes, std::memory_order_acquire), lane_.slot_payload_bytes);
    platform_->copy_from_shared_racy(out.data(), detail::payload_of(slot), length);
    // PLANTED BUG (DropNoRevalidate): the copy is trusted without re-reading the stamp.
    if constexpr (B != Bug::DropNoRevalidate) {
      const std::uint64_t after = platform_->load(slot.stamp, std::memory_order_relaxed);
      if (after != before) return report_overwritten(after);
    }
    return deliver(length);
  }

  ReadResult deliver(std::uint32_t length) noexcept {
    auto& h = *lane_.header;
    const std::uint64_t seq = read_seq_;
    ++read_seq_;
    platform_->store(h.read_count, platform_->load(h.read_count, std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
    if (lane_.on_full == OnFull::Block) {
      detail::publish_and_wake(*platform_, h.read_seq, read_seq_, h.producer_waiting,
                                      h.producer_wake_epoch);
    } else {
      // Drop: the producer never waits for the consumer, so there is nobody to wake.
      platform_->store(h.read_seq, read_seq_, std::memory_order_release);
    }
    return ReadResult{ReadStatus::Entry, seq, length, 0};
  }

  // As EventsConsumer::report_overwritten (events.hpp): acquire the overwriting stamp, then Lost
  // at once.
  [[gnu::cold]] ReadResult report_overwritten(std::uint64_t stamp) noexcept {
    if (stamp > events_stamp_complete(read_seq_)) {
      auto& slot = detail::slot_at(lane_, read_seq_);
      static_cast<void>(platform_->load(slot.stamp, std::memory_order_acquire));
      // PLANTED BUG (DropReaderWaits): wait, polling and bounded, for the overwriting write's
      // publish, as the lane did before writes took effect in two steps (EV-8). Linearizable,
      // but not wait-free: a stopped producer stalls the consumer.
      if constexpr (B == Bug::DropReaderWaits) {
        const std::uint64_t writer_seq = (stamp - 1) / 2;
        auto& h = *lane_.header;
        const std::uint64_t deadline_ns = platform_->now_ns() + 10'000'000;
        for (std::uint32_t round = 0;; ++round) {
          if (platform_->load(h.write_seq, std::memory_order_seq_cst) > writer_seq) break;
          if (platform_->deadline_passed(deadline_ns, round)) break;
          platform_->pause(round, deadline_ns);
        }
      }
    }
    return report_lost();
  }

  [[gnu::cold]] ReadResult report_lost() noexcept {
    auto& h = *lane_.header;
    cached_write_seq_ = platform_->load(h.write_seq, std::memory_order_seq_cst);
    const std::uint64_t oldest_retained =
        cached_write_seq_ > lane_.capacity_slots ? cached_write_seq_ - lane_.capacity_slots : 0;
    const std::uint64_t next = std::max(read_seq_ + 1, oldest_retained);
    const std::uint64_t lost = next - read_seq_;
    read_seq_ = next;
    platform_->store(h.lost_count, platform_->load(h.lost_count, std::memory_order_relaxed) + lost,
                     std::memory_order_relaxed);
    platform_->store(h.read_seq, read_seq_, std::memory_order_release);
    return ReadResult{ReadStatus::Lost, 0, 0, lost};
  }

  const P* platform_;
  EventsLaneRef lane_;
  std::uint64_t read_seq_ = 0;
  std::uint64_t cached_write_seq_ = 0;
};


template <Bug B>
struct Lane {
  template <typename P>
  using Producer = EventsProducer<P, B>;
  template <typename P>
  using Consumer = EventsConsumer<P, B>;
};

}  // namespace indexbus::sim::broken

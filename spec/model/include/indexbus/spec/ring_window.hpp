// The arithmetic of a ring of C slots that every lane model shares (v1-semantics.md: EV-8, EV-12,
// FB-7, FB-8, JR-4, JR-6, JR-8, SS-8): which sequence numbers a ring still holds, how far a reader
// behind it jumps and how many entries it reports Lost, and when Block is full. One copy, so that
// the four models cannot disagree on an off-by-one; ring_window_test.cpp checks it from first
// principles (a ring simulated slot by slot) and rejects a broken copy of it.
//
// Sequence numbers: entries 0 .. written - 1 are published; a write that has begun (its first
// step: EV-8 "A write takes effect in two steps"; a SequencedSlots claim) is writing entry
// `written` into the slot of entry written - C, which it has destroyed.
#pragma once

#include <algorithm>
#include <cstdint>

namespace indexbus::spec::ring_window {

// The oldest of the last `capacity_slots` sequence numbers below `end_seq` (0 while fewer exist):
// the oldest entry a ring holds once entries below end_seq have taken their slots.
constexpr std::uint64_t oldest_below(std::uint64_t end_seq, std::uint32_t capacity_slots) noexcept {
  return end_seq > capacity_slots ? end_seq - capacity_slots : 0;
}

// The oldest entry still in the ring: a begun write has already destroyed entry written - C.
constexpr std::uint64_t oldest_held(std::uint64_t written, bool write_begun, std::uint32_t capacity_slots) noexcept {
  return oldest_below(written + (write_begun ? 1 : 0), capacity_slots);
}

// The oldest entry the published writes left (written - C): where a reader that lost entries
// resumes, as the lanes compute it from write_seq.
constexpr std::uint64_t oldest_published(std::uint64_t written, std::uint32_t capacity_slots) noexcept {
  return oldest_below(written, capacity_slots);
}

// The oldest entry the next write (entry `written`) keeps: where a resume from behind the window
// starts (JR-4), never at the entry that write overwrites.
constexpr std::uint64_t oldest_kept_by_next_write(std::uint64_t written, std::uint32_t capacity_slots) noexcept {
  return oldest_below(written + 1, capacity_slots);
}

// A reader at `cursor_seq` whose entry is gone (cursor_seq < oldest_held): how many entries its
// read reports Lost (EV-8, FB-7, JR-8). It jumps to the oldest entry the published writes left,
// or, when that is not past it (the one entry a begun write is destroying), just past its entry.
constexpr std::uint64_t lost_jump(std::uint64_t cursor_seq, std::uint64_t written, std::uint32_t capacity_slots) noexcept {
  return std::max(cursor_seq + 1, oldest_published(written, capacity_slots)) - cursor_seq;
}

// Block: a ring whose slowest gating cursor is `capacity_slots` behind has no free slot.
constexpr bool block_full(std::uint64_t written, std::uint64_t slowest_cursor_seq, std::uint32_t capacity_slots) noexcept {
  return written - slowest_cursor_seq >= capacity_slots;
}

}  // namespace indexbus::spec::ring_window

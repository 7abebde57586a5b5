// What routers and merges share (spec/v1-semantics.md, "Routers and merges"): the step result, the
// entry key and its hash, the run loop's pacing, and the customization points that let tests build
// deliberately broken loops.
//
// A loop is an ordinary lane user: it is the only consumer of each lane it reads and the only
// producer of each lane it writes, and it touches shared memory only through those lane objects.
// Its unit of work is step(): one bounded pass that never waits, so that a deterministic scheduler
// (sim/) can drive it like any other actor. run() repeats step() and paces idle passes with the
// Platform's pause(), bounded by a deadline and a stop flag.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "indexbus/platform.hpp"

namespace indexbus {

// RT-1, MG-1: outputs of a router, inputs of a merge. The pending and closed sets are bit masks.
inline constexpr std::uint32_t kLoopLanesMax = 16;
static_assert(kLoopLanesMax <= 32);
inline constexpr std::uint32_t kKeyOffsetBytesMax = 1u << 20;

enum class LoopStatus : std::uint8_t {
  Progress = 0,  // the step read, wrote or closed something
  Idle = 1,      // nothing to do now (nothing to read, or every needed output is full)
  Closed = 2,    // the loop has closed its output(s); every later step says so too
};

enum class RunEnd : std::uint8_t { Closed, Stopped, DeadlinePassed };

// RT-3: the SplitMix64 finalizer.
constexpr std::uint64_t key_mix64(std::uint64_t x) noexcept {
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// RT-4: the little-endian 64-bit word at key_offset_bytes; bytes past the payload read as zero.
inline std::uint64_t entry_key(std::span<const std::byte> payload, std::uint32_t key_offset_bytes) noexcept {
  std::uint64_t key = 0;
  if (key_offset_bytes >= payload.size()) return 0;
  const std::size_t present = std::min<std::size_t>(8, payload.size() - key_offset_bytes);
  for (std::size_t b = 0; b < present; ++b) {
    key |= std::uint64_t{std::to_integer<std::uint8_t>(payload[key_offset_bytes + b])} << (8 * b);
  }
  return key;
}

// The policy decisions a test may break, one at a time, to show that a check can fail. Production
// code uses DefaultLoopHooks; every member is a compile-time constant, so it costs nothing.
struct DefaultLoopHooks {
  // RT-2: the output after `current`.
  static constexpr std::uint32_t next_round_robin(std::uint32_t current, std::uint32_t outputs) noexcept {
    return (current + 1) % outputs;
  }
  static constexpr bool kRouterWaitsOnFull = true;        // RT-7: keep the held entry on Full
  static constexpr bool kPropagatesClose = true;          // RT-10, MG-9
  static constexpr bool kSequenceNeedsEveryHead = true;   // MG-4
  static constexpr bool kArrivalRotates = true;           // MG-6: scan from after the last emit
};

namespace loop_detail {

// Progress steps between two clock reads in run(): a loop that always has work still notices its
// deadline and stop flag.
inline constexpr std::uint32_t kProgressStepsPerCheck = 1024;

// Repeats step() until Closed, *stop or deadline_ns (platform clock). Idle steps are paced by
// Platform::pause, which never sleeps past the deadline.
template <Platform P, typename Step>
RunEnd run(const P& platform, std::uint64_t deadline_ns, const std::atomic<bool>* stop, Step step) {
  std::uint32_t idle_rounds = 0;
  std::uint32_t progress_steps = 0;
  for (;;) {
    const LoopStatus status = step();
    if (status == LoopStatus::Closed) return RunEnd::Closed;
    if (status == LoopStatus::Progress) {
      idle_rounds = 0;
      if (++progress_steps % kProgressStepsPerCheck != 0) continue;
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) return RunEnd::Stopped;
      if (platform.now_ns() >= deadline_ns) return RunEnd::DeadlinePassed;
      continue;
    }
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return RunEnd::Stopped;
    // Every idle round reads the clock: an idle step already costs several shared loads, and a
    // sleeping round would otherwise overshoot the deadline by many sleeps.
    if (platform.now_ns() >= deadline_ns) return RunEnd::DeadlinePassed;
    platform.pause(idle_rounds, deadline_ns);
    if (idle_rounds < UINT32_MAX) ++idle_rounds;
  }
}

}  // namespace loop_detail
}  // namespace indexbus

// The Platform a lane runs on: every access a lane makes to shared memory, every wait and every
// wake goes through it, so the same lane algorithm runs on real shared memory (RealPlatform) and
// under a deterministic simulator that makes each access a scheduling point (sim/).
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace indexbus {

// A Platform supplies atomics on shared words, payload copies, a monotonic clock and
// wait/wake on a 32-bit word.
//
// Payload copies come in two flavours. copy_*_shared is used where no other party can touch the
// bytes (Block: the slot belongs to one side until it is published or released). copy_*_racy is
// the seqlock copy under Drop: the producer may overwrite a slot while the consumer copies it, so
// both sides move whole 8-byte words atomically (release stores, acquire loads: see the seqlock
// argument in events.hpp) and the consumer detects the overwrite through the slot stamp; the race
// is then benign instead of undefined behaviour.
//
// Waiting comes in two forms. A polling waiter (waiter_needs_wake() false) re-checks its condition
// between pause(round, deadline_ns) calls and asks deadline_passed(deadline_ns, round), which may
// read the clock only every few rounds. A sleeping waiter announces itself with
// announce_waiter(flag, value) and sleeps in wait(word, expected, deadline_ns), which returns once
// the word may differ from expected or the clock reaches deadline_ns (spurious returns allowed;
// callers re-check); its peer publishes with publish_then_load_flag(word, value, flag) and wakes it
// with wake_all if the flag was set. announce_waiter and publish_then_load_flag are the two halves
// of a Dekker pair: each orders its store before its load (the re-check of the cursor for
// announce_waiter), so at least one side sees the other's store.
//
// note_unwoken_ready(word, seen) is the sleeping waiter's audit of that pair, on a cold path: the
// waiter calls it when wait(word, seen, ...) has returned, its announcement is still up, its
// condition now holds and word still equals seen, so no peer has woken it (yet). The peer is either
// between its publish and its wake (a few instructions) or the wake was lost; the platform tells
// the two apart (RealPlatform: a bounded grace for the word to change) and counts a lost one. It
// never changes what the waiter returns; it must return within a bounded time.
//
// store_load_fence() is a seq_cst fence. A lane calls it only on a slow path, before it reloads
// the peer's cursor to answer Full or Empty: the producer published its cursor and then reads the
// consumer's, the consumer the other way round, and without a store-load barrier on both sides
// both reloads may miss the other's latest store (store buffering; x86's store buffer does it),
// giving a Full and an Empty that no sequential order explains. The hot path never pays for it.
//
// heavy_fence() is the heavy half of an asymmetric fence, for a cold side that must order its
// store before its load against a hot side that pays nothing but program order between its own
// store and load (the Journal resume by name against the writer's fast path: journal.hpp). Where
// the platform has membarrier (RealPlatform's asymmetric mode), it runs a full barrier in every
// thread of every registered process, between two in the caller; otherwise it is a seq_cst fence,
// and the hot side must then make its store and its load seq_cst (as publish_then_load_flag's
// fallback does). Cold: a system call.
template <typename P>
concept Platform = requires(P& p, const P& cp, std::uint64_t& u64, std::uint32_t& u32,
                            std::byte* bytes, const std::byte* cbytes, std::size_t n) {
  { cp.load(u64, std::memory_order_acquire) } -> std::same_as<std::uint64_t>;
  { cp.load(u32, std::memory_order_acquire) } -> std::same_as<std::uint32_t>;
  cp.store(u64, std::uint64_t{0}, std::memory_order_release);
  cp.store(u32, std::uint32_t{0}, std::memory_order_release);
  { cp.fetch_add(u32, std::uint32_t{1}, std::memory_order_acq_rel) } -> std::same_as<std::uint32_t>;
  { cp.compare_exchange(u32, u32, std::uint32_t{0}, std::memory_order_acq_rel) } -> std::same_as<bool>;
  cp.copy_to_shared(bytes, cbytes, n);
  cp.copy_from_shared(bytes, cbytes, n);
  cp.copy_to_shared_racy(bytes, cbytes, n);
  cp.copy_from_shared_racy(bytes, cbytes, n);
  { cp.now_ns() } -> std::same_as<std::uint64_t>;
  { cp.waiter_needs_wake() } -> std::same_as<bool>;
  { cp.deadline_passed(std::uint64_t{0}, std::uint32_t{0}) } -> std::same_as<bool>;
  cp.pause(std::uint32_t{0}, std::uint64_t{0});
  { cp.publish_then_load_flag(u64, std::uint64_t{0}, u32) } -> std::same_as<std::uint32_t>;
  { cp.publish_then_load_flag(u32, std::uint32_t{0}, u32) } -> std::same_as<std::uint32_t>;
  cp.announce_waiter(u32, std::uint32_t{1});
  cp.store_load_fence();
  cp.heavy_fence();
  cp.wait(u32, std::uint32_t{0}, std::uint64_t{0});
  cp.note_unwoken_ready(u32, std::uint32_t{0});
  cp.wake_all(u32);
  { cp.process_alive(std::uint32_t{1}) } -> std::same_as<bool>;
  { cp.current_pid() } -> std::same_as<std::uint32_t>;
};

}  // namespace indexbus

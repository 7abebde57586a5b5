#include "indexbus/sim/sim_platform.hpp"

namespace indexbus::sim {

void SimOs::futex_wait(std::uint32_t& word, std::uint32_t expected, std::uint64_t timeout_ns,
                       std::uint64_t caller_deadline_ns, Site where) const {
  Scheduler& s = *scheduler_;
  s.point();
  const std::uint32_t me = s.current();
  std::uint32_t value = word;
  if (s.weak()) {
    // The kernel's smp_mb before it reads the word (futex_q_lock), then the read.
    s.weak_memory().fence(std::memory_order_seq_cst, me);
    ReadFrom from;
    const auto read = s.weak_memory().load(&word, sizeof(word), word, std::memory_order_seq_cst, me, &choose, &s, &from);
    if (!read) s.fail_memory();
    value = static_cast<std::uint32_t>(*read);
    s.set_read_from(from);
  }
  s.record(AccessKind::Wait, &word, sizeof(word), value, where);
  if (value != expected) return;
  if (timeout_ns == 0) return;
  const std::uint64_t sleep_step = s.step();
  const std::uint64_t deadline_ns = s.now_ns() + timeout_ns;
  const bool slice_only = timeout_ns >= real_platform_detail::kParkSliceMaxNs;
  if (s.block_on(&word, deadline_ns, caller_deadline_ns)) return;
  const Scheduler::MissedWake& missed = s.missed_wake(me);
  if (!missed.pending) return;
  s.fail(RunStatus::InvariantBroken,
         "lost wake-up: actor " + std::to_string(me) + " announced itself on " + s.name_of(missed.flag) +
             " at step " + std::to_string(missed.announce_step) + " and slept on " + s.name_of(&word) +
             " at step " + std::to_string(sleep_step) + "; actor " + std::to_string(missed.publisher) +
             " published at step " + std::to_string(missed.step) +
             " but its flag load read an older value than that announcement, so it woke nobody; actor " +
             std::to_string(me) + " was released by its " + (slice_only ? "park slice" : "deadline") +
             " at step " + std::to_string(s.step()) + " instead");
}

void SimOs::futex_wake_all(std::uint32_t& word, Site where) const {
  Scheduler& s = *scheduler_;
  s.point();
  // The kernel's smp_mb before it looks for waiters.
  if (s.weak()) s.weak_memory().fence(std::memory_order_seq_cst, s.current());
  s.wake_all(&word);
  s.record(AccessKind::Wake, &word, sizeof(word), 0, where);
}

void SimOs::note_flag_read(const std::uint32_t& flag, std::uint32_t value_read) const {
  Scheduler& s = *scheduler_;
  if (!s.weak() || value_read != 0) return;
  const ReadFrom& read = s.last_read();
  if (!read.valid || read.behind == 0) return;
  std::array<WeakMemory::StoreInfo, kStoreHistoryMax> newer{};
  const std::uint32_t n = s.weak_memory().newer_stores(&flag, read.behind, newer.data(), kStoreHistoryMax);
  // Every waiter whose announcement (a nonzero flag store) this load did not see; the newest one
  // of each waiter counts.
  std::uint32_t done_mask = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const WeakMemory::StoreInfo& store = newer[i];
    if (store.actor >= s.actor_count() || store.actor == s.current()) continue;
    if ((done_mask >> store.actor & 1u) != 0) continue;
    done_mask |= 1u << store.actor;
    if (store.value == 0) continue;
    s.note_missed_wake(store.actor, Scheduler::MissedWake{true, s.current(), s.step(), store.step, &flag});
  }
}

void SimOs::note_announce() const {
  Scheduler& s = *scheduler_;
  if (s.current() < s.actor_count()) s.clear_missed_wake(s.current());
}

}  // namespace indexbus::sim

#include "indexbus/sim/weak_memory.hpp"

#include <cassert>

namespace indexbus::sim {
namespace {

bool is_acquire(std::memory_order order) noexcept {
  return order == std::memory_order_acquire || order == std::memory_order_acq_rel ||
         order == std::memory_order_seq_cst || order == std::memory_order_consume;
}
bool is_release(std::memory_order order) noexcept {
  return order == std::memory_order_release || order == std::memory_order_acq_rel ||
         order == std::memory_order_seq_cst;
}

std::string actor_text(std::uint32_t actor) {
  return actor == kNoActor ? std::string("the initial state") : "actor " + std::to_string(actor);
}

}  // namespace

const char* to_string(MemoryModel model) noexcept {
  switch (model) {
    case MemoryModel::Sequential: return "sc";
    case MemoryModel::Weak: return "weak";
  }
  return "?";
}

std::optional<MemoryModel> parse_memory_model(std::string_view text) noexcept {
  if (text == "sc") return MemoryModel::Sequential;
  if (text == "weak") return MemoryModel::Weak;
  return std::nullopt;
}

WeakMemory::WeakMemory() : table_(std::make_unique<Location[]>(kLocationSlots)) {
  used_.reserve(kLocationsUsedMax);
}

void WeakMemory::reset(std::uint32_t actor_count) {
  assert(actor_count <= kActorsMax);
  actor_count_ = actor_count;
  used_.clear();
  if (++generation_ == 0) {
    // Wrapped after 4 billion runs: clear the table once so no stale generation matches.
    for (std::uint32_t i = 0; i < kLocationSlots; ++i) table_[i].generation = 0;
    generation_ = 1;
  }
  for (Actor& a : actors_) a = Actor{};
  // Own components start at 1: epoch 0 is "before the run" (the initial values).
  for (std::uint32_t i = 0; i < kActorsMax; ++i) actors_[i].clock.at[i] = 1;
  error_.clear();
  error_address_ = nullptr;
}

WeakMemory::Location* WeakMemory::find(const void* address, std::uint8_t bytes, bool plain,
                                       std::uint64_t memory_value) {
  const auto key = reinterpret_cast<std::uintptr_t>(address);
  std::uint32_t slot = static_cast<std::uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 52) & (kLocationSlots - 1);
  // Bounded: the table is never more than half full, so a free slot is found within it.
  for (std::uint32_t probe = 0; probe < kLocationSlots; ++probe, slot = (slot + 1) & (kLocationSlots - 1)) {
    Location& loc = table_[slot];
    if (loc.generation == generation_ && loc.address == address) {
      if (loc.plain != plain || (!plain && loc.bytes != bytes)) {
        error_ = "weak memory: mixed access to one location (" + std::string(loc.plain ? "plain" : "atomic") + " " +
                 std::to_string(loc.bytes) + " B, then " + (plain ? "plain" : "atomic") + " " +
                 std::to_string(bytes) + " B): the model keeps one kind and width per word";
        error_address_ = address;
        return nullptr;
      }
      return &loc;
    }
    if (loc.generation != generation_) {
      if (used_.size() >= kLocationsUsedMax) {
        error_ = "weak memory: more than " + std::to_string(kLocationsUsedMax) +
                 " locations touched in one run (kLocationsUsedMax)";
        return nullptr;
      }
      loc = Location{};
      loc.address = address;
      loc.generation = generation_;
      loc.bytes = bytes;
      loc.plain = plain;
      loc.mo_count = 1;
      loc.history[0].value = memory_value;  // the value the run started with: hb-before everything
      used_.push_back(slot);
      return &loc;
    }
  }
  assert(false);
  return nullptr;
}

const WeakMemory::Location* WeakMemory::lookup(const void* address) const noexcept {
  const auto key = reinterpret_cast<std::uintptr_t>(address);
  std::uint32_t slot = static_cast<std::uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 52) & (kLocationSlots - 1);
  for (std::uint32_t probe = 0; probe < kLocationSlots; ++probe, slot = (slot + 1) & (kLocationSlots - 1)) {
    const Location& loc = table_[slot];
    if (loc.generation != generation_) return nullptr;
    if (loc.address == address) return &loc;
  }
  return nullptr;
}

std::uint32_t WeakMemory::newer_stores(const void* address, std::uint32_t behind, StoreInfo* out,
                                       std::uint32_t max) const {
  const Location* loc = lookup(address);
  if (loc == nullptr) return 0;
  std::uint32_t n = 0;
  for (std::uint32_t k = 0; k < behind && k < max && k < loc->mo_count && k < kStoreHistoryMax; ++k) {
    const Store& s = loc->history[(loc->mo_count - 1 - k) % kStoreHistoryMax];
    out[n++] = StoreInfo{s.value, s.actor, s.step};
  }
  return n;
}

bool WeakMemory::visible(const Store& s, std::uint32_t actor) const noexcept {
  return s.actor == kNoActor || actors_[actor].clock.at[s.actor] >= s.epoch;
}

// The mo index of the newest store that happens before actor's current point (or was made before
// its last flush); older stores are hidden from it.
std::uint32_t WeakMemory::newest_visible(const Location& loc, std::uint32_t actor) const noexcept {
  const std::uint32_t oldest = loc.mo_count > kStoreHistoryMax ? loc.mo_count - kStoreHistoryMax : 0;
  const std::uint64_t flush_step = actors_[actor].flush_step;
  for (std::uint32_t i = loc.mo_count; i-- > oldest;) {
    const Store& s = loc.history[i % kStoreHistoryMax];
    if (visible(s, actor) || s.step <= flush_step) return i;
  }
  return oldest;
}

void WeakMemory::tick(std::uint32_t actor) noexcept { ++actors_[actor].clock.at[actor]; }

// What a load (or an RMW's read) of a store with this sync clock gives its actor: the clock at once
// if it acquires, otherwise for its next acquire fence.
void WeakMemory::take(std::uint32_t actor, const VectorClock& sync, std::memory_order order) noexcept {
  Actor& a = actors_[actor];
  if (is_acquire(order)) {
    a.clock.join(sync);
  } else {
    a.acquire_pending.join(sync);
  }
}

std::optional<std::uint64_t> WeakMemory::load(const void* address, std::uint8_t bytes, std::uint64_t memory_value,
                                              std::memory_order order, std::uint32_t actor, Chooser choose,
                                              void* context, ReadFrom* from) {
  assert(actor < actor_count_);
  Location* loc = find(address, bytes, false, memory_value);
  if (loc == nullptr) return std::nullopt;
  const std::uint32_t oldest = loc->mo_count > kStoreHistoryMax ? loc->mo_count - kStoreHistoryMax : 0;
  std::uint32_t floor = loc->seen[actor];
  if (order == std::memory_order_seq_cst && loc->sc_floor > floor) floor = loc->sc_floor;
  const std::uint32_t hb = newest_visible(*loc, actor);
  if (hb > floor) floor = hb;
  if (floor < oldest) floor = oldest;
  assert(floor < loc->mo_count);
  const std::uint32_t candidates = loc->mo_count - floor;
  std::uint32_t behind = 0;
  if (candidates > 1) {
    behind = choose(context, candidates);
    assert(behind < candidates);
  }
  const std::uint32_t index = loc->mo_count - 1 - behind;
  const Store& s = loc->history[index % kStoreHistoryMax];
  loc->seen[actor] = index;
  take(actor, s.sync, order);
  if (from != nullptr) {
    const Store& newest = loc->history[(loc->mo_count - 1) % kStoreHistoryMax];
    *from = ReadFrom{true, s.actor, s.step, behind, newest.actor, newest.step};
  }
  return s.value;
}

void WeakMemory::append(Location& loc, std::uint64_t value, std::memory_order order, std::uint32_t actor,
                        std::uint64_t step, const VectorClock* carried) {
  Actor& a = actors_[actor];
  const std::uint32_t index = loc.mo_count++;
  Store& s = loc.history[index % kStoreHistoryMax];
  s.value = value;
  s.step = step;
  s.epoch = a.clock.at[actor];
  s.actor = actor;
  s.seq_cst = order == std::memory_order_seq_cst;
  if (is_release(order)) {
    s.sync = a.clock;
  } else if (a.has_release_fence) {
    s.sync = a.release_fence;
  } else {
    s.sync = VectorClock{};
  }
  if (carried != nullptr) s.sync.join(*carried);  // a release sequence continues through an RMW
  loc.seen[actor] = index;
  if (s.seq_cst) loc.sc_floor = index;
  tick(actor);
}

bool WeakMemory::store(const void* address, std::uint8_t bytes, std::uint64_t memory_value, std::uint64_t value,
                       std::memory_order order, std::uint32_t actor, std::uint64_t step) {
  assert(actor < actor_count_);
  Location* loc = find(address, bytes, false, memory_value);
  if (loc == nullptr) return false;
  append(*loc, value, order, actor, step, nullptr);
  return true;
}

bool WeakMemory::rmw(const void* address, std::uint8_t bytes, std::uint64_t memory_value, std::memory_order order,
                     std::uint32_t actor, std::uint64_t step, std::optional<std::uint64_t> written, ReadFrom* from) {
  assert(actor < actor_count_);
  Location* loc = find(address, bytes, false, memory_value);
  if (loc == nullptr) return false;
  const std::uint32_t index = loc->mo_count - 1;
  const Store read = loc->history[index % kStoreHistoryMax];
  assert(read.value == memory_value);
  loc->seen[actor] = index;
  take(actor, read.sync, order);
  if (from != nullptr) *from = ReadFrom{true, read.actor, read.step, 0, read.actor, read.step};
  if (written) append(*loc, *written, order, actor, step, &read.sync);
  return true;
}

void WeakMemory::fence(std::memory_order order, std::uint32_t actor) {
  assert(actor < actor_count_);
  Actor& a = actors_[actor];
  if (is_acquire(order)) a.clock.join(a.acquire_pending);
  if (order == std::memory_order_seq_cst) {
    // p4.3 and p4.4: everything published to S so far bounds this actor's later reads; then this
    // fence publishes what happens before it.
    for (const std::uint32_t slot : used_) {
      Location& loc = table_[slot];
      if (loc.plain) continue;
      if (loc.sc_floor > loc.seen[actor]) loc.seen[actor] = loc.sc_floor;
      const std::uint32_t hb = newest_visible(loc, actor);
      if (hb > loc.sc_floor) loc.sc_floor = hb;
    }
  }
  if (is_release(order)) {
    a.release_fence = a.clock;
    a.has_release_fence = true;
  }
  tick(actor);
}

void WeakMemory::synchronize(std::uint32_t from_actor, std::uint32_t to_actor) {
  assert(from_actor < actor_count_);
  assert(to_actor < actor_count_);
  actors_[to_actor].clock.join(actors_[from_actor].clock);
  tick(from_actor);
}

void WeakMemory::flush(std::uint32_t actor, std::uint64_t step) noexcept {
  assert(actor < actor_count_);
  actors_[actor].flush_step = step;
}

bool WeakMemory::race(const char* what, const Location& loc, std::uint32_t actor, std::uint64_t step,
                      std::uint32_t other, std::uint64_t other_step) {
  error_ = std::string("data race on a plain (non-atomic) word: ") + what + " by actor " + std::to_string(actor) +
           " at step " + std::to_string(step) + " and by " + actor_text(other) + " at step " +
           std::to_string(other_step) + ", with no happens-before between them (a release/acquire pair is missing)";
  error_address_ = loc.address;
  return false;
}

bool WeakMemory::write_unordered(const Location& loc, std::uint32_t actor) const noexcept {
  return loc.write_actor != kNoActor && loc.write_actor != actor &&
         actors_[actor].clock.at[loc.write_actor] < loc.write_epoch;
}

template <typename PerWord>
bool WeakMemory::each_plain_word(const void* address, std::size_t bytes, std::uint32_t actor, PerWord per_word) {
  assert(actor < actor_count_);
  const auto first = reinterpret_cast<std::uintptr_t>(address) & ~std::uintptr_t{7};
  const auto end = reinterpret_cast<std::uintptr_t>(address) + bytes;
  for (std::uintptr_t word = first; word < end; word += 8) {
    Location* loc = find(reinterpret_cast<const void*>(word), 8, true, 0);
    if (loc == nullptr || !per_word(*loc)) return false;
  }
  tick(actor);
  return true;
}

bool WeakMemory::plain_write(const void* address, std::size_t bytes, std::uint32_t actor, std::uint64_t step) {
  const VectorClock& clock = actors_[actor].clock;
  return each_plain_word(address, bytes, actor, [&](Location& loc) {
    if (write_unordered(loc, actor)) {
      return race("a write after a write", loc, actor, step, loc.write_actor, loc.write_step);
    }
    for (std::uint32_t r = 0; r < actor_count_; ++r) {
      if (r == actor || loc.read_epoch[r] == 0) continue;
      if (clock.at[r] < loc.read_epoch[r]) return race("a write after a read", loc, actor, step, r, loc.read_step[r]);
    }
    loc.write_actor = actor;
    loc.write_epoch = clock.at[actor];
    loc.write_step = step;
    loc.read_epoch.fill(0);
    return true;
  });
}

bool WeakMemory::plain_read(const void* address, std::size_t bytes, std::uint32_t actor, std::uint64_t step) {
  const VectorClock& clock = actors_[actor].clock;
  return each_plain_word(address, bytes, actor, [&](Location& loc) {
    if (write_unordered(loc, actor)) {
      return race("a read after a write", loc, actor, step, loc.write_actor, loc.write_step);
    }
    loc.read_epoch[actor] = clock.at[actor];
    loc.read_step[actor] = step;
    return true;
  });
}

}  // namespace indexbus::sim

// ring_window.hpp against a ring simulated slot by slot: for every small capacity, count of
// published writes, begun write and reader cursor, the helpers must say what the slots say. The
// same checks must reject a broken copy of the helpers (one off-by-one each), or they prove nothing.
#include "indexbus/spec/ring_window.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace indexbus::spec {
namespace {

// The helpers under test, as values, so a broken set can go through the same checks.
struct Helpers {
  std::uint64_t (*oldest_held)(std::uint64_t written, bool begun, std::uint32_t capacity);
  std::uint64_t (*oldest_published)(std::uint64_t written, std::uint32_t capacity);
  std::uint64_t (*oldest_kept_by_next_write)(std::uint64_t written, std::uint32_t capacity);
  std::uint64_t (*lost_jump)(std::uint64_t cursor, std::uint64_t written, std::uint32_t capacity);
  bool (*block_full)(std::uint64_t written, std::uint64_t slowest, std::uint32_t capacity);
};

constexpr Helpers kReal{
    [](std::uint64_t w, bool b, std::uint32_t c) { return ring_window::oldest_held(w, b, c); },
    [](std::uint64_t w, std::uint32_t c) { return ring_window::oldest_published(w, c); },
    [](std::uint64_t w, std::uint32_t c) { return ring_window::oldest_kept_by_next_write(w, c); },
    [](std::uint64_t r, std::uint64_t w, std::uint32_t c) { return ring_window::lost_jump(r, w, c); },
    [](std::uint64_t w, std::uint64_t s, std::uint32_t c) { return ring_window::block_full(w, s, c); },
};

// A ring of `capacity` slots after entries 0 .. written - 1 took their slots (entry s goes to slot
// s mod capacity), and, if a write has begun, after it destroyed what its slot held.
struct SimulatedRing {
  std::vector<std::optional<std::uint64_t>> slots;
  std::uint64_t written = 0;

  SimulatedRing(std::uint32_t capacity, std::uint64_t written_entries, bool begun) : slots(capacity), written(written_entries) {
    for (std::uint64_t s = 0; s < written; ++s) slots[s % capacity] = s;
    if (begun) slots[written % capacity].reset();
  }
  bool holds(std::uint64_t seq) const {
    const auto& slot = slots[seq % slots.size()];
    return slot.has_value() && *slot == seq;
  }
  // The smallest s from which every entry up to written is still in the ring.
  std::uint64_t oldest_held() const {
    std::uint64_t s = written;
    while (s > 0 && holds(s - 1)) --s;
    return s;
  }
};

// Every disagreement between the helpers and the simulated ring, in words.
std::vector<std::string> disagreements(const Helpers& h) {
  std::vector<std::string> out;
  auto note = [&](const std::string& what, std::uint32_t c, std::uint64_t w, std::uint64_t got, std::uint64_t want) {
    if (got != want) {
      out.push_back(what + " (capacity " + std::to_string(c) + ", written " + std::to_string(w) + "): " +
                    std::to_string(got) + ", the ring says " + std::to_string(want));
    }
  };
  for (std::uint32_t c = 1; c <= 8; c *= 2) {
    for (std::uint64_t w = 0; w <= 3 * c + 2; ++w) {
      const SimulatedRing published(c, w, false);
      const SimulatedRing begun(c, w, true);
      note("oldest_held, no write begun", c, w, h.oldest_held(w, false, c), published.oldest_held());
      note("oldest_held, a write begun", c, w, h.oldest_held(w, true, c), begun.oldest_held());
      note("oldest_published", c, w, h.oldest_published(w, c), published.oldest_held());
      note("oldest_kept_by_next_write", c, w, h.oldest_kept_by_next_write(w, c), begun.oldest_held());
      // A reader whose entry is gone (with or without a begun write) jumps to the oldest entry the
      // published writes left, or just past its own entry when that one is what a begun write
      // destroyed: never onto an entry it could still read, never backwards.
      for (std::uint64_t r = 0; r < w; ++r) {
        if (begun.holds(r)) continue;
        const std::uint64_t want = std::max(r + 1, published.oldest_held()) - r;
        note("lost_jump from " + std::to_string(r), c, w, h.lost_jump(r, w, c), want);
      }
      // Block: the next write (entry w, slot w mod c) would overwrite an entry the slowest cursor
      // has not passed.
      for (std::uint64_t slowest = w >= c ? w - c : 0; slowest <= w; ++slowest) {
        const auto& victim = published.slots[w % c];
        const bool want = victim.has_value() && *victim >= slowest;
        note("block_full at slowest " + std::to_string(slowest), c, w, h.block_full(w, slowest, c) ? 1 : 0, want ? 1 : 0);
      }
    }
  }
  return out;
}

TEST(RingWindow, AgreesWithARingSimulatedSlotBySlot) {
  const auto wrong = disagreements(kReal);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " disagreements, first: " << wrong.front();
}

TEST(RingWindow, RejectsEachBrokenHelper) {
  // One off-by-one per helper: each must be caught.
  Helpers held = kReal;
  held.oldest_held = [](std::uint64_t w, bool, std::uint32_t c) { return ring_window::oldest_below(w, c); };
  Helpers published = kReal;
  published.oldest_published = [](std::uint64_t w, std::uint32_t c) { return w >= c ? w - c + 1 : 0; };
  Helpers kept = kReal;
  kept.oldest_kept_by_next_write = [](std::uint64_t w, std::uint32_t c) { return ring_window::oldest_below(w, c); };
  Helpers jump = kReal;
  jump.lost_jump = [](std::uint64_t r, std::uint64_t w, std::uint32_t c) { return ring_window::oldest_published(w, c) - r; };
  Helpers full = kReal;
  full.block_full = [](std::uint64_t w, std::uint64_t s, std::uint32_t c) { return w - s > c; };
  for (const auto& [name, broken] : std::vector<std::pair<std::string, Helpers>>{
           {"oldest_held ignores a begun write", held},
           {"oldest_published one too far", published},
           {"oldest_kept_by_next_write ignores the next write", kept},
           {"lost_jump without its + 1", jump},
           {"block_full one slot late", full}}) {
    EXPECT_FALSE(disagreements(broken).empty()) << name << " passed";
  }
}

}  // namespace
}  // namespace indexbus::spec

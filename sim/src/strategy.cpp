#include "indexbus/sim/strategy.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <charconv>

namespace indexbus::sim {
namespace {

std::uint32_t nth_set_bit(std::uint32_t mask, std::uint64_t n) noexcept {
  for (std::uint64_t i = 0; i < n; ++i) mask &= mask - 1;
  return static_cast<std::uint32_t>(std::countr_zero(mask));
}

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  Rng rng(seed ^ (index * 0xd1b54a32d192ed03ull));
  return rng.next();
}

std::uint32_t random_read_choice(Rng& rng, const Decision& d, std::uint32_t one_in) noexcept {
  assert(d.kind == DecisionKind::Read);
  assert(d.candidates >= 2);
  if (rng.below(one_in) != 0) return 0;
  return 1 + static_cast<std::uint32_t>(rng.below(d.candidates - 1));
}

std::uint32_t RandomStrategy::choose(const Decision& d) {
  if (d.kind == DecisionKind::Read) return random_read_choice(rng_, d, kStaleOneIn);
  if (d.jumps_left != 0 && rng_.below(clock_one_in_) == 0) return kClockChoice;
  const auto runnable = static_cast<std::uint64_t>(std::popcount(d.runnable_mask));
  return nth_set_bit(d.runnable_mask, rng_.below(runnable));
}

PctStrategy::PctStrategy(std::uint64_t seed, std::uint32_t actor_count, std::uint32_t depth,
                         std::uint64_t steps_estimate, std::uint64_t jump_steps_estimate) {
  assert(actor_count <= kActorsMax);
  assert(depth >= 1);
  Rng rng(seed);
  read_rng_ = Rng(seed ^ 0x5bd1e9955bd1e995ull);
  // Initial priorities depth .. depth + n - 1 in random order; change points lower to 1 .. depth-1.
  std::uint32_t order[kActorsMax];
  for (std::uint32_t i = 0; i < actor_count; ++i) order[i] = i;
  for (std::uint32_t i = actor_count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  for (std::uint32_t i = 0; i < actor_count; ++i) priority_[order[i]] = depth + i;
  const std::uint64_t k = std::max<std::uint64_t>(steps_estimate, 1);
  for (std::uint32_t i = 0; i + 1 < depth; ++i) change_steps_.push_back(1 + rng.below(k));
  std::sort(change_steps_.begin(), change_steps_.end());
  lowered_ = depth;
  Rng clock_rng(seed ^ 0x2545f4914f6cdd1dull);
  const std::uint64_t jump_k = jump_steps_estimate == 0 ? k : jump_steps_estimate;
  for (std::uint32_t i = 0; i < kClockPoints; ++i) jump_steps_.push_back(1 + clock_rng.below(jump_k));
  std::sort(jump_steps_.begin(), jump_steps_.end());
}

std::uint32_t PctStrategy::choose(const Decision& d) {
  if (d.kind == DecisionKind::Read) return random_read_choice(read_rng_, d, kStaleOneIn);
  if (d.jumps_left != 0 && next_jump_ < jump_steps_.size() && jump_steps_[next_jump_] <= d.step) {
    ++next_jump_;
    return kClockChoice;
  }
  auto highest = [&] {
    std::uint32_t best = kNoActor;
    for (std::uint32_t mask = d.runnable_mask; mask != 0; mask &= mask - 1) {
      const auto i = static_cast<std::uint32_t>(std::countr_zero(mask));
      if (best == kNoActor || priority_[i] > priority_[best]) best = i;
    }
    return best;
  };
  std::uint32_t chosen = highest();
  // A change point passed: the actor about to run drops below every initial priority.
  while (next_change_ < change_steps_.size() && change_steps_[next_change_] <= d.step) {
    ++next_change_;
    priority_[chosen] = --lowered_;
    chosen = highest();
  }
  return chosen;
}

std::uint32_t ReplayStrategy::choose(const Decision& d) {
  if (d.kind == DecisionKind::Read) {
    // An actor letter (or the end) here: an SC-recorded schedule; read the newest, consume nothing.
    if (index_ >= choices_.size() || !is_read_choice(choices_[index_])) return 0;
    const std::uint32_t behind = choices_[index_++] - kReadChoice;
    if (behind < d.candidates) return behind;
    if (strict_ && !diverged_at_) diverged_at_ = index_ - 1;
    return 0;
  }
  // Read letters left where an actor is chosen: the run no longer makes those reads. A clock jump
  // where none is offered: skipped too.
  while (index_ < choices_.size() &&
         (is_read_choice(choices_[index_]) || (choices_[index_] == kClockChoice && d.jumps_left == 0))) {
    if (strict_ && !diverged_at_) diverged_at_ = index_;
    ++index_;
  }
  if (index_ < choices_.size() && choices_[index_] == kClockChoice) {
    ++index_;
    return kClockChoice;
  }
  if (index_ < choices_.size()) {
    const std::uint32_t wanted = choices_[index_++];
    if (wanted < kActorsMax && (d.runnable_mask >> wanted & 1u) != 0) return wanted;
    if (strict_ && !diverged_at_) diverged_at_ = index_ - 1;
  }
  return non_preemptive_choice(d);
}

std::uint32_t ExhaustiveStrategy::choose(const Decision& d) {
  const bool read = d.kind == DecisionKind::Read;
  const std::uint32_t mask = read ? d.candidates : d.runnable_mask;
  if (depth_ < path_.size()) {
    Node& node = path_[depth_++];
    if (node.kind != d.kind || node.mask != mask || node.current != d.current ||
        node.jumps_left != (read ? 0 : d.jumps_left)) {
      // The prefix did not reproduce: the run is not a function of its decisions.
      nondeterministic_ = true;
      return read ? 0 : non_preemptive_choice(d);
    }
    return node.chosen;
  }
  Node node;
  node.kind = d.kind;
  node.mask = mask;
  node.jumps_left = read ? 0 : d.jumps_left;
  node.current = d.current;
  node.chosen = read ? 0 : non_preemptive_choice(d);
  node.tried = 1u << node.chosen;
  if (!path_.empty()) {
    const Node& parent = path_.back();
    // A clock jump costs one preemption, as a switch away from a runnable actor does.
    const bool parent_preempted = parent.kind == DecisionKind::Actor &&
                                  (parent.chosen == kClockChoice ||
                                   (parent.current != kNoActor && (parent.mask >> parent.current & 1u) != 0 &&
                                    parent.chosen != parent.current));
    const bool parent_stale = parent.kind == DecisionKind::Read && parent.chosen != 0;
    node.preemptions_before = parent.preemptions_before + (parent_preempted ? 1 : 0);
    node.stale_before = parent.stale_before + (parent_stale ? 1 : 0);
  }
  path_.push_back(node);
  ++depth_;
  return node.chosen;
}

bool ExhaustiveStrategy::advance() {
  // Bounded by the path length: each iteration pops a node or returns.
  while (!path_.empty()) {
    Node& node = path_.back();
    if (node.kind == DecisionKind::Read) {
      // Older stores, one at a time, while the stale bound allows one more.
      if (node.stale_before + 1 <= stale_bound_) {
        for (std::uint32_t behind = 1; behind < node.mask; ++behind) {
          if ((node.tried >> behind & 1u) != 0) continue;
          node.tried |= 1u << behind;
          node.chosen = behind;
          return true;
        }
      }
      path_.pop_back();
      continue;
    }
    const bool current_runnable = node.current != kNoActor && (node.mask >> node.current & 1u) != 0;
    for (std::uint32_t mask = node.mask & ~node.tried; mask != 0; mask &= mask - 1) {
      const auto alternative = static_cast<std::uint32_t>(std::countr_zero(mask));
      const std::uint32_t cost = current_runnable && alternative != node.current ? 1 : 0;
      node.tried |= 1u << alternative;
      if (node.preemptions_before + cost <= bound_) {
        node.chosen = alternative;
        return true;
      }
    }
    // Then the clock, where a jump is offered (bit 31 of tried: actors use bits 0-7).
    constexpr std::uint32_t kClockTried = 1u << 31;
    if (node.jumps_left != 0 && (node.tried & kClockTried) == 0) {
      node.tried |= kClockTried;
      if (node.preemptions_before + 1 <= bound_) {
        node.chosen = kClockChoice;
        return true;
      }
    }
    path_.pop_back();
  }
  return false;
}

std::string encode_schedule(const std::vector<std::uint8_t>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size();) {
    std::size_t run = 1;
    while (i + run < choices.size() && choices[i + run] == choices[i]) ++run;
    out += is_read_choice(choices[i])   ? static_cast<char>('A' + (choices[i] - kReadChoice))
           : choices[i] == kClockChoice ? 't'
                                        : static_cast<char>('a' + choices[i]);
    if (run > 1) out += std::to_string(run);
    i += run;
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> decode_schedule(std::string_view text) {
  std::vector<std::uint8_t> out;
  constexpr std::size_t kChoicesMax = 100'000'000;
  std::size_t i = 0;
  while (i < text.size()) {
    const char letter = text[i++];
    std::uint8_t choice = 0;
    if (letter >= 'a' && letter < 'a' + static_cast<char>(kActorsMax)) {
      choice = static_cast<std::uint8_t>(letter - 'a');
    } else if (letter == 't') {
      choice = kClockChoice;
    } else if (letter >= 'A' && letter < 'A' + static_cast<char>(kReadChoicesMax)) {
      choice = static_cast<std::uint8_t>(kReadChoice + (letter - 'A'));
    } else {
      return std::nullopt;
    }
    std::size_t run = 1;
    if (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      const auto [end, error] = std::from_chars(text.data() + i, text.data() + text.size(), run);
      if (error != std::errc{} || run < 2) return std::nullopt;
      i = static_cast<std::size_t>(end - text.data());
    }
    if (out.size() + run > kChoicesMax) return std::nullopt;
    out.insert(out.end(), run, choice);
  }
  return out;
}

}  // namespace indexbus::sim

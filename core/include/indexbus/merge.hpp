// Merge: 1..16 Events input lanes to one Events output lane (spec/v1-semantics.md, MG-*).
//
// step() is exactly MG-2: one try_read on each input that has no head and has not read Closed (in
// index order), then the policy picks at most one head and the merge makes one try_write of it;
// Ok releases it. RoundRobin emits only the head of the input whose turn it is (closed inputs lose
// their turns); Sequence emits only when every open input has a head, the smallest key first and
// ties to the lowest index, so its output depends on the inputs and not on timing; Arrival emits the
// first head scanning from the input after the last one emitted, so any ready input is served
// within N emits. The only buffers are the heads, one input slot each, allocated at creation.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "indexbus/events.hpp"
#include "indexbus/loop.hpp"
#include "indexbus/platform.hpp"

namespace indexbus {

enum class MergePolicy : std::uint8_t { RoundRobin = 1, Sequence = 2, Arrival = 3 };

struct MergeStats {
  std::uint64_t emitted_count = 0;
  std::uint64_t input_lost_count = 0;  // MG-8
};

// MG-1: why these lanes cannot be merged, or nothing.
inline std::optional<std::string> check_merge_lanes(std::span<const EventsLaneRef> inputs,
                                                    const EventsLaneRef& output,
                                                    std::uint32_t key_offset_bytes) {
  if (inputs.empty() || inputs.size() > kLoopLanesMax) {
    return "merge: inputs " + std::to_string(inputs.size()) + ", expected 1 to " + std::to_string(kLoopLanesMax);
  }
  if (key_offset_bytes > kKeyOffsetBytesMax) {
    return "merge: key_offset_bytes " + std::to_string(key_offset_bytes) + ", expected at most " +
           std::to_string(kKeyOffsetBytesMax);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].header == output.header) return "merge: input " + std::to_string(i) + " is the output lane";
    for (std::size_t p = 0; p < i; ++p) {
      if (inputs[p].header == inputs[i].header) {
        return "merge: input " + std::to_string(i) + " is the same lane as input " + std::to_string(p);
      }
    }
    if (inputs[i].slot_payload_bytes > output.slot_payload_bytes) {
      return "merge: input " + std::to_string(i) + " slot_payload_bytes " +
             std::to_string(inputs[i].slot_payload_bytes) + ", expected at most the output's " +
             std::to_string(output.slot_payload_bytes);
    }
  }
  return std::nullopt;
}

// The merge's side of every lane: consumer of each input, producer of the output. One thread.
template <Platform P, typename Hooks = DefaultLoopHooks>
class Merge {
 public:
  Merge(const P& platform, std::span<const EventsLaneRef> inputs, EventsLaneRef output, MergePolicy policy,
        std::uint32_t key_offset_bytes = 0)
      : platform_(&platform),
        output_(platform, output),
        policy_(policy),
        key_offset_bytes_(key_offset_bytes),
        input_count_(static_cast<std::uint32_t>(inputs.size())),
        head_stride_bytes_(output.slot_payload_bytes),
        heads_(std::make_unique<std::byte[]>(std::size_t{head_stride_bytes_} * inputs.size())) {
    assert(!check_merge_lanes(inputs, output, key_offset_bytes).has_value());
    inputs_.reserve(inputs.size());  // the only growth, at creation (MG-10)
    for (const EventsLaneRef& input : inputs) {
      inputs_.emplace_back(platform, input);
      input_slot_bytes_[inputs_.size() - 1] = input.slot_payload_bytes;
    }
  }

  // One bounded unit of work (MG-2, MG-10); never waits.
  [[nodiscard]] LoopStatus step() noexcept {
    if (closed_) return LoopStatus::Closed;
    bool progress = false;
    for (std::uint32_t i = 0; i < input_count_; ++i) {
      const std::uint32_t bit = 1u << i;
      if (((head_mask_ | closed_mask_) & bit) != 0) continue;
      const ReadResult read = inputs_[i].try_read(std::span(head(i), input_slot_bytes_[i]));
      if (read.status == ReadStatus::Entry) {
        head_mask_ |= bit;
        head_length_bytes_[i] = read.payload_bytes;
        head_key_[i] = entry_key(std::span<const std::byte>(head(i), read.payload_bytes), key_offset_bytes_);
        progress = true;
      } else if (read.status == ReadStatus::Lost) {
        stats_.input_lost_count += read.lost_count;  // MG-8: no head, no turn
        progress = true;
      } else if (read.status == ReadStatus::Closed) {
        closed_mask_ |= bit;
        progress = true;
      }
    }
    assert((head_mask_ & closed_mask_) == 0);
    if (const std::optional<std::uint32_t> chosen = choose()) {
      const std::uint32_t c = *chosen;
      assert((head_mask_ & (1u << c)) != 0);
      const WriteStatus status = output_.try_write(std::span<const std::byte>(head(c), head_length_bytes_[c]));
      assert(status == WriteStatus::Ok || status == WriteStatus::Full);  // MG-1: never TooLarge
      if (status == WriteStatus::Ok) {
        head_mask_ &= ~(1u << c);
        ++stats_.emitted_count;
        next_ = (c + 1) % input_count_;
        progress = true;
      }
    }
    if (closed_mask_ == all_mask()) return close_output();
    return progress ? LoopStatus::Progress : LoopStatus::Idle;
  }

  RunEnd run(std::uint64_t deadline_ns, const std::atomic<bool>* stop = nullptr) {
    return loop_detail::run(*platform_, deadline_ns, stop, [this] { return step(); });
  }

  const MergeStats& stats() const noexcept { return stats_; }

 private:
  std::byte* head(std::uint32_t i) const noexcept { return heads_.get() + std::size_t{head_stride_bytes_} * i; }
  std::uint32_t all_mask() const noexcept { return (1u << input_count_) - 1; }

  std::optional<std::uint32_t> choose() noexcept {
    switch (policy_) {
      case MergePolicy::RoundRobin:
        // MG-3: closed inputs lose their turns; an open one keeps it until it has a head.
        for (std::uint32_t skipped = 0; skipped < input_count_; ++skipped) {
          if ((closed_mask_ & (1u << next_)) == 0) {
            if ((head_mask_ & (1u << next_)) != 0) return next_;
            return std::nullopt;
          }
          next_ = (next_ + 1) % input_count_;
        }
        return std::nullopt;
      case MergePolicy::Sequence: {
        // MG-4: every open input must have a head (a closed one never has).
        if (Hooks::kSequenceNeedsEveryHead && (head_mask_ | closed_mask_) != all_mask()) return std::nullopt;
        std::optional<std::uint32_t> best;
        for (std::uint32_t i = 0; i < input_count_; ++i) {
          if ((head_mask_ & (1u << i)) == 0) continue;
          if (!best || head_key_[i] < head_key_[*best]) best = i;  // MG-5: ties keep the lower index
        }
        return best;
      }
      case MergePolicy::Arrival: {
        const std::uint32_t start = Hooks::kArrivalRotates ? next_ : 0;
        for (std::uint32_t k = 0; k < input_count_; ++k) {
          const std::uint32_t i = (start + k) % input_count_;
          if ((head_mask_ & (1u << i)) != 0) return i;
        }
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  [[gnu::cold]] LoopStatus close_output() noexcept {
    assert(head_mask_ == 0);
    if (Hooks::kPropagatesClose) output_.close();  // MG-9
    closed_ = true;
    return LoopStatus::Closed;
  }

  const P* platform_;
  std::vector<EventsConsumer<P>> inputs_;
  EventsProducer<P> output_;
  MergePolicy policy_;
  std::uint32_t key_offset_bytes_;
  std::uint32_t input_count_;
  // MG-10: one head per input, each the output's slot size, allocated at creation.
  std::uint32_t head_stride_bytes_;
  std::unique_ptr<std::byte[]> heads_;
  std::uint32_t input_slot_bytes_[kLoopLanesMax] = {};
  std::uint32_t head_length_bytes_[kLoopLanesMax] = {};
  std::uint64_t head_key_[kLoopLanesMax] = {};
  std::uint32_t head_mask_ = 0;    // inputs holding a head
  std::uint32_t closed_mask_ = 0;  // inputs that have read Closed
  std::uint32_t next_ = 0;         // RoundRobin: whose turn; Arrival: where the scan starts
  bool closed_ = false;
  MergeStats stats_;
};

}  // namespace indexbus

// Router: one Events input lane to 1..16 Events output lanes (spec/v1-semantics.md, RT-*).
//
// step() is exactly RT-7: with no entry held, one try_read of the input; an entry becomes the held
// entry with its target outputs (RoundRobin: one by turn, KeyHash: mix64(key) mod N, Broadcast:
// all); then one try_write on each target that has not accepted it yet, in index order. The entry
// is released when every target has it. While it is held nothing more is read, so a full Block
// output fills the input and its producer sees Full: backpressure, and no loss. A Drop output
// accepts every write, so it never holds the router back. The only buffer is the held entry.
#pragma once

#include <algorithm>
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

enum class RouterPolicy : std::uint8_t { RoundRobin = 1, KeyHash = 2, Broadcast = 3 };

struct RouterStats {
  std::uint64_t routed_count = 0;      // entries read from the input (RT-2's j)
  std::uint64_t input_lost_count = 0;  // RT-9
  std::uint64_t short_key_count = 0;   // RT-4 (KeyHash only)
};

// RT-1: why these lanes cannot be routed, or nothing. Names the field, the value and the bound.
inline std::optional<std::string> check_router_lanes(const EventsLaneRef& input,
                                                     std::span<const EventsLaneRef> outputs,
                                                     std::uint32_t key_offset_bytes) {
  if (outputs.empty() || outputs.size() > kLoopLanesMax) {
    return "router: outputs " + std::to_string(outputs.size()) + ", expected 1 to " +
           std::to_string(kLoopLanesMax);
  }
  if (key_offset_bytes > kKeyOffsetBytesMax) {
    return "router: key_offset_bytes " + std::to_string(key_offset_bytes) + ", expected at most " +
           std::to_string(kKeyOffsetBytesMax);
  }
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    if (outputs[o].header == input.header) return "router: output " + std::to_string(o) + " is the input lane";
    for (std::size_t p = 0; p < o; ++p) {
      if (outputs[p].header == outputs[o].header) {
        return "router: output " + std::to_string(o) + " is the same lane as output " + std::to_string(p);
      }
    }
    if (outputs[o].slot_payload_bytes < input.slot_payload_bytes) {
      return "router: output " + std::to_string(o) + " slot_payload_bytes " +
             std::to_string(outputs[o].slot_payload_bytes) + ", expected at least the input's " +
             std::to_string(input.slot_payload_bytes);
    }
  }
  return std::nullopt;
}

// The router's side of every lane: consumer of the input, producer of each output. One thread.
// Construct only lanes check_router_lanes accepts (asserted).
template <Platform P, typename Hooks = DefaultLoopHooks>
class Router {
 public:
  Router(const P& platform, EventsLaneRef input, std::span<const EventsLaneRef> outputs, RouterPolicy policy,
         std::uint32_t key_offset_bytes = 0)
      : platform_(&platform),
        input_(platform, input),
        policy_(policy),
        key_offset_bytes_(key_offset_bytes),
        output_count_(static_cast<std::uint32_t>(outputs.size())),
        held_bytes_(std::make_unique<std::byte[]>(input.slot_payload_bytes)),
        held_capacity_bytes_(input.slot_payload_bytes) {
    assert(!check_router_lanes(input, outputs, key_offset_bytes).has_value());
    outputs_.reserve(outputs.size());  // the only growth, at creation (RT-11)
    for (const EventsLaneRef& output : outputs) outputs_.emplace_back(platform, output);
  }

  // One bounded unit of work (RT-7, RT-11); never waits.
  [[nodiscard]] LoopStatus step() noexcept {
    if (closed_) return LoopStatus::Closed;
    bool progress = false;
    if (pending_mask_ == 0) {
      const ReadResult read = input_.try_read(std::span(held_bytes_.get(), held_capacity_bytes_));
      switch (read.status) {
        case ReadStatus::Entry:
          hold(read.payload_bytes);
          progress = true;
          break;
        case ReadStatus::Lost:
          stats_.input_lost_count += read.lost_count;  // RT-9
          return LoopStatus::Progress;
        case ReadStatus::Closed:
          return close_outputs();
        default:
          return LoopStatus::Idle;
      }
    }
    assert(pending_mask_ != 0);
    const std::span<const std::byte> held(held_bytes_.get(), held_length_bytes_);
    for (std::uint32_t o = 0; o < output_count_; ++o) {
      const std::uint32_t bit = 1u << o;
      if ((pending_mask_ & bit) == 0) continue;
      const WriteStatus status = outputs_[o].try_write(held);
      assert(status == WriteStatus::Ok || status == WriteStatus::Full);  // RT-1: never TooLarge
      if (status == WriteStatus::Ok || !Hooks::kRouterWaitsOnFull) {
        pending_mask_ &= ~bit;
        progress = progress || status == WriteStatus::Ok;
      }
    }
    return progress ? LoopStatus::Progress : LoopStatus::Idle;
  }

  // Repeats step() until the outputs are closed, *stop becomes true or deadline_ns passes.
  RunEnd run(std::uint64_t deadline_ns, const std::atomic<bool>* stop = nullptr) {
    return loop_detail::run(*platform_, deadline_ns, stop, [this] { return step(); });
  }

  const RouterStats& stats() const noexcept { return stats_; }
  bool holding() const noexcept { return pending_mask_ != 0; }

 private:
  void hold(std::uint32_t length_bytes) noexcept {
    assert(length_bytes <= held_capacity_bytes_);
    held_length_bytes_ = length_bytes;
    ++stats_.routed_count;
    switch (policy_) {
      case RouterPolicy::RoundRobin:
        assert(round_robin_next_ < output_count_);
        pending_mask_ = 1u << round_robin_next_;
        round_robin_next_ = Hooks::next_round_robin(round_robin_next_, output_count_);
        break;
      case RouterPolicy::KeyHash: {
        const std::span<const std::byte> held(held_bytes_.get(), length_bytes);
        if (length_bytes < std::uint64_t{key_offset_bytes_} + 8) ++stats_.short_key_count;
        pending_mask_ = 1u << (key_mix64(entry_key(held, key_offset_bytes_)) % output_count_);
        break;
      }
      case RouterPolicy::Broadcast:
        pending_mask_ = output_count_ == 32 ? ~0u : (1u << output_count_) - 1;
        break;
    }
    assert(pending_mask_ != 0);
    assert(pending_mask_ < (1ull << output_count_));
  }

  [[gnu::cold]] LoopStatus close_outputs() noexcept {
    assert(pending_mask_ == 0);
    if (Hooks::kPropagatesClose) {
      for (EventsProducer<P>& output : outputs_) output.close();  // RT-10
    }
    closed_ = true;
    return LoopStatus::Closed;
  }

  const P* platform_;
  EventsConsumer<P> input_;
  std::vector<EventsProducer<P>> outputs_;
  RouterPolicy policy_;
  std::uint32_t key_offset_bytes_;
  std::uint32_t output_count_;
  // RT-11: the one held entry, sized to the input's slot at creation.
  std::unique_ptr<std::byte[]> held_bytes_;
  std::uint32_t held_capacity_bytes_;
  std::uint32_t held_length_bytes_ = 0;
  std::uint32_t pending_mask_ = 0;  // outputs still to accept the held entry; 0: nothing held
  std::uint32_t round_robin_next_ = 0;
  bool closed_ = false;
  RouterStats stats_;
};

}  // namespace indexbus

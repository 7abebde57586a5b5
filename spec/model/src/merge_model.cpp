#include "indexbus/spec/merge_model.hpp"

#include <algorithm>
#include <cassert>

namespace indexbus::spec {
namespace {

// MG-3..MG-6: the input whose head the policy emits now, if any. `next` may move past closed
// inputs (RoundRobin).
std::optional<std::uint32_t> choose(const MergeModelConfig& config,
                                    const std::vector<std::optional<Bytes>>& heads,
                                    const std::vector<bool>& input_closed, std::uint32_t& next) {
  const std::uint32_t n = config.inputs;
  switch (config.policy) {
    case MergePolicy::RoundRobin:
      for (std::uint32_t skipped = 0; skipped < n; ++skipped) {
        if (!input_closed[next]) return heads[next] ? std::optional(next) : std::nullopt;
        next = (next + 1) % n;
      }
      return std::nullopt;
    case MergePolicy::Sequence: {
      std::optional<std::uint32_t> best;
      for (std::uint32_t i = 0; i < n; ++i) {
        if (!heads[i]) {
          if (!input_closed[i]) return std::nullopt;  // MG-4
          continue;
        }
        if (!best || entry_key(*heads[i], config.key_offset_bytes) <
                         entry_key(*heads[*best], config.key_offset_bytes)) {
          best = i;  // strictly smaller only: ties keep the lower index (MG-5)
        }
      }
      return best;
    }
    case MergePolicy::Arrival:
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t i = (next + k) % n;
        if (heads[i]) return i;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<MergeSource> merge_order(const MergeModelConfig& config,
                                     const std::vector<std::vector<Bytes>>& inputs) {
  assert(config.policy != MergePolicy::Arrival);
  assert(inputs.size() == config.inputs);
  std::vector<std::optional<Bytes>> heads(config.inputs);
  std::vector<bool> exhausted(config.inputs, false);
  std::vector<std::uint64_t> position(config.inputs, 0);
  std::vector<MergeSource> out;
  std::uint32_t next = 0;
  std::uint64_t total = 0;
  for (const auto& input : inputs) total += input.size();
  for (std::uint64_t emitted = 0; emitted < total; ++emitted) {
    for (std::uint32_t i = 0; i < config.inputs; ++i) {
      heads[i].reset();
      if (position[i] < inputs[i].size()) heads[i] = inputs[i][position[i]];
      exhausted[i] = position[i] >= inputs[i].size();
    }
    const auto chosen = choose(config, heads, exhausted, next);
    assert(chosen.has_value());
    out.push_back({*chosen, position[*chosen]++});
    next = (*chosen + 1) % config.inputs;
  }
  return out;
}

MergeSystem initial_merge_system(const MergeModelConfig& config, const std::vector<EventsConfig>& inputs,
                                 const EventsConfig& output) {
  assert(inputs.size() == config.inputs);
  MergeSystem system;
  system.config = config;
  for (const EventsConfig& input : inputs) {
    assert(output.slot_payload_bytes >= input.slot_payload_bytes);  // MG-1
    system.inputs.push_back(initial_state(input));
  }
  system.output = initial_state(output);
  system.heads.assign(config.inputs, std::nullopt);
  system.input_closed.assign(config.inputs, false);
  return system;
}

std::pair<MergeSystem, LoopStatus> merge_step(const MergeSystem& before) {
  MergeSystem s = before;
  if (s.closed) return {s, LoopStatus::Closed};
  bool progress = false;
  for (std::uint32_t i = 0; i < s.config.inputs; ++i) {
    if (s.heads[i] || s.input_closed[i]) continue;
    auto [input, result] = step(s.inputs[i], TryRead{});
    s.inputs[i] = std::move(input);
    const auto& read = std::get<ReadOutcome>(result);
    if (read.status == ReadStatus::Entry) {
      s.heads[i] = read.payload;
      progress = true;
    } else if (read.status == ReadStatus::Lost) {
      s.input_lost_count += read.lost_count;  // MG-8
      progress = true;
    } else if (read.status == ReadStatus::Closed) {
      s.input_closed[i] = true;
      progress = true;
    }
  }
  if (const auto chosen = choose(s.config, s.heads, s.input_closed, s.next)) {
    auto [output, result] = step(s.output, TryWrite{*s.heads[*chosen]});
    s.output = std::move(output);
    const WriteStatus status = std::get<WriteOutcome>(result).status;
    assert(status == WriteStatus::Ok || status == WriteStatus::Full);
    if (status == WriteStatus::Ok) {
      s.heads[*chosen].reset();
      ++s.emitted_count;
      s.next = (*chosen + 1) % s.config.inputs;
      progress = true;
    }
  }
  bool all_closed = true;
  for (std::uint32_t i = 0; i < s.config.inputs; ++i) all_closed = all_closed && s.input_closed[i];
  if (all_closed) {  // MG-9
    s.output = step(s.output, Close{}).first;
    s.closed = true;
    return {s, LoopStatus::Closed};
  }
  return {s, progress ? LoopStatus::Progress : LoopStatus::Idle};
}

std::optional<std::string> check_arrival(const std::vector<std::vector<Bytes>>& inputs,
                                         const std::vector<Bytes>& output,
                                         const std::vector<std::uint32_t>& sources,
                                         const std::vector<std::vector<std::uint64_t>>& published_at_emit,
                                         bool complete) {
  if (sources.size() != output.size()) return "sources and output differ in length";
  const auto n = static_cast<std::uint64_t>(inputs.size());
  std::vector<std::uint64_t> position(inputs.size(), 0);
  std::vector<std::uint64_t> previous_emit(inputs.size(), 0);  // emit index of the last one + 1
  for (std::uint64_t k = 0; k < output.size(); ++k) {
    const std::uint32_t i = sources[k];
    const std::string where = "output entry " + std::to_string(k);
    if (i >= inputs.size()) return where + ": source input " + std::to_string(i) + " does not exist";
    const std::uint64_t j = position[i];
    if (j >= inputs[i].size()) return where + ": input " + std::to_string(i) + " has no entry left";
    if (inputs[i][j] != output[k]) {
      return where + ": not the next entry (" + std::to_string(j) + ") of input " + std::to_string(i) +
             ": order or content broken";
    }
    if (!published_at_emit.empty()) {
      const std::uint64_t ready = std::max(published_at_emit[i][j], previous_emit[i]);
      if (k > ready + n - 1) {
        return where + ": entry " + std::to_string(j) + " of input " + std::to_string(i) + " ready at emit " +
               std::to_string(ready) + " waited past the bound of " + std::to_string(n) + " emits";
      }
    }
    previous_emit[i] = k + 1;
    ++position[i];
  }
  if (complete) {
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      if (position[i] != inputs[i].size()) {
        return "input " + std::to_string(i) + ": " + std::to_string(inputs[i].size() - position[i]) +
               " entries never emitted";
      }
    }
  }
  return std::nullopt;
}

std::string describe(MergePolicy policy) {
  switch (policy) {
    case MergePolicy::RoundRobin: return "round_robin";
    case MergePolicy::Sequence: return "sequence";
    case MergePolicy::Arrival: return "arrival";
  }
  return "unknown";
}

}  // namespace indexbus::spec

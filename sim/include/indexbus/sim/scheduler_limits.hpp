// The scheduler's fixed bounds, shared with the weak memory model (weak_memory.hpp).
#pragma once

#include <cstdint>
#include <limits>

namespace indexbus::sim {

inline constexpr std::uint32_t kActorsMax = 8;
inline constexpr std::uint32_t kNoActor = kActorsMax;
inline constexpr std::uint64_t kNoDeadline = std::numeric_limits<std::uint64_t>::max();
inline constexpr std::uint64_t kSpinStepsMax = 4096;

}  // namespace indexbus::sim

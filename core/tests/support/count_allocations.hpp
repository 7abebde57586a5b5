// Counts every allocation of a test executable, by replacing the global operator new (malloc
// underneath). Include it in exactly one source file of an executable of its own: the replacement
// applies to the whole program. The allocation tests read g_allocations around a hot loop and
// require that it did not move.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace indexbus::testing {
inline std::atomic<std::uint64_t> g_allocations{0};
}  // namespace indexbus::testing

// The replacement pair below is malloc/free on purpose; g++ cannot see that both halves are ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  indexbus::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using indexbus::testing::g_allocations;

// events_microbench: in-process, single-thread costs behind events_bench's figures (Google
// Benchmark). One thread writes and reads back, so every line stays in its own cache: this is
// the instruction and fence cost of a write + read pair, without any cross-CPU transfer.
//
//   BM_StoreFenceLoad/<kind>   a store, a seq_cst fence (mfence, lock-or, none), a load: the
//                              pattern of events_detail::wake_peer
//   BM_EventsPair/<variant>/N  try_write + try_read of an N-byte payload on a Block lane
//   BM_RingPair/N              try_push + try_pop on the minimal ring of the same slot size

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "events_variants.hpp"
#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "minimal_ring.hpp"

namespace indexbus::bench {
namespace {

constexpr std::uint32_t kCapacitySlots = 1024;

template <FenceKind kKind>
void BM_StoreFenceLoad(benchmark::State& state) {
  const FencePlatform<kKind> platform;
  alignas(64) std::uint64_t cursor = 0;
  alignas(64) std::uint32_t flag = 0;
  for (auto _ : state) {
    platform.store(cursor, cursor + 1, std::memory_order_release);
    platform.fence(std::memory_order_seq_cst);
    benchmark::DoNotOptimize(platform.load(flag, std::memory_order_relaxed));
  }
}
BENCHMARK(BM_StoreFenceLoad<FenceKind::Mfence>)->Name("BM_StoreFenceLoad/mfence");
BENCHMARK(BM_StoreFenceLoad<FenceKind::LockOr>)->Name("BM_StoreFenceLoad/lock_or");
BENCHMARK(BM_StoreFenceLoad<FenceKind::None>)->Name("BM_StoreFenceLoad/none");

// A Ready region image for one Block lane in a heap buffer (no file: single process).
class LaneImage {
 public:
  explicit LaneImage(std::uint32_t payload_bytes) {
    const std::vector<LaneSpec> specs{LaneSpec{LaneKind::Events, OnFull::Block, kCapacitySlots, payload_bytes, 1}};
    auto plan = plan_region(specs);
    if (!plan) throw std::runtime_error(plan.error().message);
    storage_.resize(plan->region_bytes + kLineBytes);
    std::byte* base = storage_.data();
    base += (kLineBytes - reinterpret_cast<std::uintptr_t>(base) % kLineBytes) % kLineBytes;
    write_region_image({base, plan->region_bytes}, *plan, specs, 1, 1);
    LaneDescriptor descriptor;
    std::memcpy(&descriptor, base + plan->lane_table_offset, sizeof(descriptor));
    lane_ = events_lane_ref(base + plan->block_offsets[0], descriptor);
  }
  EventsLaneRef lane() const noexcept { return lane_; }

 private:
  std::vector<std::byte> storage_;
  EventsLaneRef lane_;
};

template <typename P, typename Consumer>
void BM_EventsPair(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::uint32_t>(state.range(0));
  LaneImage image(payload_bytes);
  P platform = [] {
    if constexpr (std::is_same_v<P, RealPlatform>) {
      return RealPlatform(WaitStrategy::Spin);
    } else {
      return P{};
    }
  }();
  EventsProducer<P> producer(platform, image.lane());
  Consumer consumer(platform, image.lane());
  std::vector<std::byte> in(payload_bytes), out(payload_bytes);
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::memcpy(in.data(), &i, sizeof(i));
    if (producer.try_write(in) != WriteStatus::Ok) state.SkipWithError("write failed");
    const ReadResult r = consumer.try_read(out);
    if (r.status != ReadStatus::Entry) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(out.data());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

using Real = RealPlatform;
using LockOr = FencePlatform<FenceKind::LockOr>;
using NoFence = FencePlatform<FenceKind::None>;
BENCHMARK(BM_EventsPair<Real, EventsConsumer<Real>>)->Name("BM_EventsPair/mfence")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<LockOr, EventsConsumer<LockOr>>)->Name("BM_EventsPair/lock_or")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<NoFence, EventsConsumer<NoFence>>)->Name("BM_EventsPair/no_fence")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<NoFence, StampPollingConsumer<NoFence>>)->Name("BM_EventsPair/stamp_no_fence")->Arg(8)->Arg(64)->Arg(1024);

void BM_RingPair(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::uint32_t>(state.range(0));
  std::vector<std::byte> storage(MinimalRingShared::bytes_for(kCapacitySlots, payload_bytes) + kLineBytes);
  std::byte* base = storage.data();
  base += (kLineBytes - reinterpret_cast<std::uintptr_t>(base) % kLineBytes) % kLineBytes;
  auto* ring = new (base) MinimalRingShared;
  MinimalRingProducer producer(*ring, kCapacitySlots, payload_bytes);
  MinimalRingConsumer consumer(*ring, kCapacitySlots, payload_bytes);
  std::vector<std::byte> in(payload_bytes), out(payload_bytes);
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::memcpy(in.data(), &i, sizeof(i));
    if (!producer.try_push(in)) state.SkipWithError("push failed");
    if (!consumer.try_pop(out)) state.SkipWithError("pop failed");
    benchmark::DoNotOptimize(out.data());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingPair)->Arg(8)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace indexbus::bench

BENCHMARK_MAIN();

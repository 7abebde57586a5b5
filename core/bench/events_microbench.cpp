// events_microbench: in-process, single-thread costs behind events_bench's figures (Google
// Benchmark). One thread writes and reads back, so every line stays in its own cache: this is
// the instruction and barrier cost of a write + read pair, without any cross-CPU transfer.
//
//   BM_CursorStoreFlagLoad/<k> a seq_cst cursor store (xchg, mov+mfence, or a plain release
//                              store) and a seq_cst flag load: publish + events_detail::wake_peer
//   BM_EventsPair/<variant>/N  try_write + try_read of an N-byte payload on a Block lane
//   BM_RingPair/<variant>/N    try_push + try_pop on the minimal ring of the same slot size (and
//                              on the ring with Events' slot header, or with seq_cst index stores)

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

template <StoreKind kKind>
void BM_CursorStoreFlagLoad(benchmark::State& state) {
  const StorePlatform<kKind> platform;
  alignas(64) std::uint64_t cursor = 0;
  alignas(64) std::uint32_t flag = 0;
  std::uint64_t value = 0;
  for (auto _ : state) {
    platform.store(cursor, ++value, std::memory_order_seq_cst);
    benchmark::DoNotOptimize(platform.load(flag, std::memory_order_seq_cst));
  }
}
BENCHMARK(BM_CursorStoreFlagLoad<StoreKind::Xchg>)->Name("BM_CursorStoreFlagLoad/xchg");
BENCHMARK(BM_CursorStoreFlagLoad<StoreKind::MovMfence>)->Name("BM_CursorStoreFlagLoad/mov_mfence");
BENCHMARK(BM_CursorStoreFlagLoad<StoreKind::Release>)->Name("BM_CursorStoreFlagLoad/release");

// A Ready region image for one Block lane in a heap buffer (no file: single process).
class LaneImage {
 public:
  explicit LaneImage(std::uint32_t payload_bytes) {
    const std::vector<LaneSpec> specs{LaneSpec{LaneKind::Events, OnFull::Block, kCapacitySlots, payload_bytes, 1, 0, {}}};
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
using MovMfence = StorePlatform<StoreKind::MovMfence>;
using ReleaseOnly = StorePlatform<StoreKind::Release>;
BENCHMARK(BM_EventsPair<Real, EventsConsumer<Real>>)->Name("BM_EventsPair/xchg")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<MovMfence, EventsConsumer<MovMfence>>)->Name("BM_EventsPair/mov_mfence")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<ReleaseOnly, EventsConsumer<ReleaseOnly>>)->Name("BM_EventsPair/release")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<Real, StampPollingConsumer<Real>>)->Name("BM_EventsPair/stamp_xchg")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_EventsPair<ReleaseOnly, StampPollingConsumer<ReleaseOnly>>)->Name("BM_EventsPair/stamp_release")->Arg(8)->Arg(64)->Arg(1024);

template <typename Ring, std::uint32_t kHeaderBytes>
void BM_RingPair(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::uint32_t>(state.range(0));
  std::vector<std::byte> storage(MinimalRingShared::bytes_for(kCapacitySlots, kHeaderBytes + payload_bytes) +
                                 kLineBytes);
  std::byte* base = storage.data();
  base += (kLineBytes - reinterpret_cast<std::uintptr_t>(base) % kLineBytes) % kLineBytes;
  auto* ring = new (base) MinimalRingShared;
  typename Ring::Producer producer(*ring, kCapacitySlots, payload_bytes);
  typename Ring::Consumer consumer(*ring, kCapacitySlots, payload_bytes);
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
BENCHMARK(BM_RingPair<MinimalRing<>, 0>)->Name("BM_RingPair/minimal")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_RingPair<MinimalRing<16, false>, 16>)->Name("BM_RingPair/events_slot_header")->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_RingPair<MinimalRing<0, true>, 0>)->Name("BM_RingPair/seq_cst_index")->Arg(8)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace indexbus::bench

BENCHMARK_MAIN();

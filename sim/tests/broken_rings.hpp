// Test-only broken variants of the ring lanes, each of which the simulator must catch
// (ring_sim_test.cpp). They copy no lane code: each is a thin subclass or a platform policy that
// plants one bug into the unchanged core/ lanes.
//
//   IgnoreOneConsumer   a FanoutBroadcast producer that ignores the last consumer's cursor
//                       (it sees one reader less), so under Block it overwrites entries that
//                       consumer has not read.
//   NoRevalidate, IgnoreGate, PublishBeforePayload, IgnoresEvictionTag, WriterTagsByStore,
//   ReaderStoresHeartbeat
//                       platform policies (broken_platform.hpp, shared with the Events lane).
#pragma once

#include "broken_platform.hpp"
#include "indexbus/sim/ring_adapter.hpp"

namespace indexbus::sim::broken {

template <Platform P>
class IgnoreOneConsumerProducer : public FanoutProducer<P> {
 public:
  IgnoreOneConsumerProducer(const P& platform, RingLaneRef lane) noexcept
      : FanoutProducer<P>(platform, one_reader_less(lane)) {}

 private:
  static RingLaneRef one_reader_less(RingLaneRef lane) noexcept {
    if (lane.reader_count > 1) --lane.reader_count;
    return lane;
  }
};

struct IgnoreOneConsumerLanes : ring::RealLanes {
  template <typename P> using Fanout = IgnoreOneConsumerProducer<P>;
};

template <PlatformBug B>
struct BrokenPlatformLanes : ring::RealLanes {
  using Platform = BrokenPlatform<B>;
};

using IgnoreOneConsumer = ring::Adapter<IgnoreOneConsumerLanes>;
using NoRevalidate = ring::Adapter<BrokenPlatformLanes<PlatformBug::NoRevalidate>>;
using IgnoreGate = ring::Adapter<BrokenPlatformLanes<PlatformBug::IgnoreGate>>;
using PublishBeforePayload = ring::Adapter<BrokenPlatformLanes<PlatformBug::PublishBeforePayload>>;
using IgnoresEvictionTag = ring::Adapter<BrokenPlatformLanes<PlatformBug::IgnoresEvictionTag>>;
using WriterTagsByStore = ring::Adapter<BrokenPlatformLanes<PlatformBug::WriterTagsByStore>>;
using ReaderStoresHeartbeat = ring::Adapter<BrokenPlatformLanes<PlatformBug::ReaderStoresHeartbeat>>;

}  // namespace indexbus::sim::broken

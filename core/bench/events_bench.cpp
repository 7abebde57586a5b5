// events_bench: the Events lane between two processes, against two baselines measured in the
// same run, the same way.
//
// Throughput: a producer and a consumer process over a region on /dev/shm (Region::create, Block,
// Spin), payloads of 8, 64 and 1024 bytes; baseline: MinimalRing (minimal_ring.hpp) with slots of
// the same payload size in shared memory.
// Latency: ping-pong over two lanes (A->B, B->A); one-way = half the round trip; baselines: the
// same ping-pong over two MinimalRings, and one shared cache line each way.
//
// Every trial forks two fresh processes (pinned to two CPUs when available), and the parent only
// sleeps until they exit. Trials of all implementations are interleaved within each repeat, so
// drift from other load on the machine hits them alike; figures are the best of the repeats, and
// ratios are the median of the per-repeat (paired) ratios, which is robust against the machine
// changing under the run (on a VM the host may move the two vCPUs closer or apart, changing
// every cross-CPU figure by 2-3x); the ratio of the best figures is shown too.
//
// Each side checks every entry it receives (sequence number and payload), so a broken lane fails
// the run instead of producing a fast figure.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_harness.hpp"
#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"
#include "events_variants.hpp"
#include "minimal_ring.hpp"

namespace indexbus::bench {
namespace {

constexpr std::uint64_t kGateTimeoutNs = 5'000'000'000;
// Grace for an operation after the trial's duration: the consumer still drains, the ping side
// still gets its last answer. Lane deadlines fire first, so a stuck lane reports itself before
// the harness has to kill anything.
constexpr std::uint64_t kOpGraceNs = 5'000'000'000;
constexpr std::uint64_t kHarnessSlackNs = 10'000'000'000;
constexpr std::uint64_t kStopMarker = ~std::uint64_t{0};
constexpr std::uint32_t kClockCheckMask = 1023;  // read the clock every 1024 spins or entries

struct Options {
  std::uint64_t entries = 100'000'000;
  double seconds = 0.5;
  int repeats = 5;
  std::uint32_t capacity_slots = 1024;
  std::vector<std::uint32_t> payloads = {8, 64, 1024};
  std::uint32_t latency_payload_bytes = 8;
  bool quick = false;
  bool verbose = false;
  bool variants = false;
  bool pin = true;
  std::string json_path;
};

// What one trial asks of its two sides.
struct TrialPlan {
  std::uint32_t capacity_slots = 0;
  std::uint32_t payload_bytes = 0;
  std::uint64_t max_entries = 0;  // throughput: entries; latency: measured round trips
  std::uint64_t duration_ns = 0;  // the trial stops at whichever limit comes first
  std::uint64_t warmup = 0;       // entries / round trips not measured
  std::uint64_t window_entries = 1;  // throughput: entries per window

  std::uint64_t op_deadline_from_now() const noexcept {
    return now_ns() + kGateTimeoutNs + duration_ns + kOpGraceNs;
  }
  std::uint64_t harness_timeout_ns() const noexcept {
    return kGateTimeoutNs + duration_ns + kOpGraceNs + kHarnessSlackNs;
  }
};

// Throughput is also sampled in windows of entries, so that a trial in which the other load on
// a shared machine preempted one side for a while still yields undisturbed windows.
constexpr std::size_t kMaxWindows = 4096;

// Written by the children, read by the parent after both exited.
struct TrialShared {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t measured_entries = 0;
  std::uint64_t measured_ns = 0;
  std::uint64_t window_entries = 0;
  std::uint64_t window_count = 0;
  std::uint64_t window_ns[kMaxWindows] = {};
  LatencyStats latency{};
};

enum class Role { Producer, Consumer, Ping, Pong };
enum class RxStatus { Got, Done, Fail };

template <typename Status>
std::string status_text(Status status) {
  return std::string(to_string(status));
}

// ---------------------------------------------------------------------------------------------
// Endpoints: one sender (Tx) and one receiver (Rx) per implementation, all with the same shape,
// so the loops below are shared and every implementation does the same work per entry: the
// sender writes the value into the first 8 bytes of a payload_bytes buffer and sends the whole
// buffer; the receiver copies the whole payload out and reads the value back.

template <typename P, bool kBlocking>
class EventsTx {
 public:
  EventsTx(const P& platform, EventsLaneRef lane, std::uint32_t payload_bytes,
           std::uint64_t deadline_ns)
      : producer_(platform, lane), payload_(payload_bytes), deadline_ns_(deadline_ns) {}

  bool send(std::uint64_t value) noexcept {
    std::memcpy(payload_.data(), &value, sizeof(value));
    WriteStatus status;
    if constexpr (kBlocking) {
      status = producer_.write(payload_, deadline_ns_);
    } else {
      for (std::uint32_t spins = 0;; ++spins) {
        status = producer_.try_write(payload_);
        if (status != WriteStatus::Full) break;
        cpu_relax();
        if ((spins & kClockCheckMask) == kClockCheckMask && now_ns() >= deadline_ns_) {
          status = WriteStatus::Timeout;
          break;
        }
      }
    }
    if (status == WriteStatus::Ok) [[likely]] return true;
    error_ = "events write of entry " + std::to_string(producer_.written()) + ": " + status_text(status);
    return false;
  }
  bool finish() noexcept {
    producer_.close();
    return true;
  }
  const std::string& error() const noexcept { return error_; }

 private:
  EventsProducer<P> producer_;
  std::vector<std::byte> payload_;
  std::uint64_t deadline_ns_;
  std::string error_;
};

// Consumer: EventsConsumer<P>, or the StampPollingConsumer<P> prototype (try_read only).
template <typename P, typename Consumer, bool kBlocking>
class EventsRx {
 public:
  EventsRx(const P& platform, EventsLaneRef lane, std::uint32_t payload_bytes,
           std::uint64_t deadline_ns)
      : consumer_(platform, lane), out_(lane.slot_payload_bytes), payload_bytes_(payload_bytes),
        deadline_ns_(deadline_ns) {}

  RxStatus receive(std::uint64_t& value) noexcept {
    ReadResult result;
    if constexpr (kBlocking) {
      result = consumer_.read(out_, deadline_ns_);
    } else {
      for (std::uint32_t spins = 0;; ++spins) {
        result = consumer_.try_read(out_);
        if (result.status != ReadStatus::Empty) break;
        cpu_relax();
        if ((spins & kClockCheckMask) == kClockCheckMask && now_ns() >= deadline_ns_) {
          result.status = ReadStatus::Timeout;
          break;
        }
      }
    }
    if (result.status == ReadStatus::Closed) return RxStatus::Done;
    if (result.status != ReadStatus::Entry) [[unlikely]] {
      error_ = "events read at seq " + std::to_string(next_seq_) + ": " + status_text(result.status);
      return RxStatus::Fail;
    }
    if (result.seq != next_seq_ || result.payload_bytes != payload_bytes_) [[unlikely]] {
      error_ = "events read: expected seq " + std::to_string(next_seq_) + " of " +
               std::to_string(payload_bytes_) + " bytes, got seq " + std::to_string(result.seq) +
               " of " + std::to_string(result.payload_bytes);
      return RxStatus::Fail;
    }
    ++next_seq_;
    std::memcpy(&value, out_.data(), sizeof(value));
    return RxStatus::Got;
  }
  const std::string& error() const noexcept { return error_; }

 private:
  Consumer consumer_;
  std::vector<std::byte> out_;
  std::uint32_t payload_bytes_;
  std::uint64_t deadline_ns_;
  std::uint64_t next_seq_ = 0;
  std::string error_;
};

template <typename Ring>
class RingTx {
 public:
  RingTx(MinimalRingShared& ring, std::uint32_t capacity_slots, std::uint32_t payload_bytes,
         std::uint64_t deadline_ns)
      : producer_(ring, capacity_slots, payload_bytes), payload_(payload_bytes),
        deadline_ns_(deadline_ns) {}

  bool send(std::uint64_t value) noexcept {
    std::memcpy(payload_.data(), &value, sizeof(value));
    for (std::uint32_t spins = 0;; ++spins) {
      if (producer_.try_push(payload_)) [[likely]] return true;
      cpu_relax();
      if ((spins & kClockCheckMask) == kClockCheckMask && now_ns() >= deadline_ns_) {
        error_ = "ring push: timeout (ring full)";
        return false;
      }
    }
  }
  bool finish() noexcept {
    producer_.finish();
    return true;
  }
  const std::string& error() const noexcept { return error_; }

 private:
  typename Ring::Producer producer_;
  std::vector<std::byte> payload_;
  std::uint64_t deadline_ns_;
  std::string error_;
};

template <typename Ring>
class RingRx {
 public:
  RingRx(MinimalRingShared& ring, std::uint32_t capacity_slots, std::uint32_t payload_bytes,
         std::uint64_t deadline_ns)
      : consumer_(ring, capacity_slots, payload_bytes), out_(payload_bytes),
        deadline_ns_(deadline_ns) {}

  RxStatus receive(std::uint64_t& value) noexcept {
    for (std::uint32_t spins = 0;; ++spins) {
      if (consumer_.try_pop(out_)) [[likely]] {
        std::memcpy(&value, out_.data(), sizeof(value));
        return RxStatus::Got;
      }
      if (consumer_.drained()) return RxStatus::Done;
      cpu_relax();
      if ((spins & kClockCheckMask) == kClockCheckMask && now_ns() >= deadline_ns_) {
        error_ = "ring pop: timeout (ring empty) after " + std::to_string(consumer_.popped());
        return RxStatus::Fail;
      }
    }
  }
  const std::string& error() const noexcept { return error_; }

 private:
  typename Ring::Consumer consumer_;
  std::vector<std::byte> out_;
  std::uint64_t deadline_ns_;
  std::string error_;
};

// One cache line carrying value + 1 (0 = nothing sent yet); kStopMarker ends the exchange.
class LineTx {
 public:
  explicit LineTx(std::atomic<std::uint64_t>& line) noexcept : line_(&line) {}
  bool send(std::uint64_t value) noexcept {
    line_->store(value + 1, std::memory_order_release);
    return true;
  }
  bool finish() noexcept {
    line_->store(kStopMarker, std::memory_order_release);
    return true;
  }
  const std::string& error() const noexcept { return error_; }

 private:
  std::atomic<std::uint64_t>* line_;
  std::string error_;
};

class LineRx {
 public:
  LineRx(std::atomic<std::uint64_t>& line, std::uint64_t deadline_ns) noexcept
      : line_(&line), deadline_ns_(deadline_ns) {}
  RxStatus receive(std::uint64_t& value) noexcept {
    for (std::uint32_t spins = 0;; ++spins) {
      const std::uint64_t seen = line_->load(std::memory_order_acquire);
      if (seen != last_) [[likely]] {
        last_ = seen;
        if (seen == kStopMarker) return RxStatus::Done;
        value = seen - 1;
        return RxStatus::Got;
      }
      cpu_relax();
      if ((spins & kClockCheckMask) == kClockCheckMask && now_ns() >= deadline_ns_) {
        error_ = "ping-pong line: timeout";
        return RxStatus::Fail;
      }
    }
  }
  const std::string& error() const noexcept { return error_; }

 private:
  std::atomic<std::uint64_t>* line_;
  std::uint64_t deadline_ns_;
  std::uint64_t last_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// The four loops, shared by every implementation.

template <typename Tx>
std::string producer_loop(Tx& tx, StartGate& gate, const TrialPlan& plan, TrialShared& shared) {
  if (!gate.arrive_and_wait(kGateTimeoutNs)) return "consumer never arrived at the start gate";
  const std::uint64_t stop_at = now_ns() + plan.duration_ns;
  const std::uint64_t total = plan.warmup + plan.max_entries;
  std::uint64_t i = 0;
  for (; i < total; ++i) {
    if ((i & kClockCheckMask) == kClockCheckMask && i > plan.warmup && now_ns() >= stop_at) break;
    if (!tx.send(i)) [[unlikely]] return tx.error();
  }
  tx.finish();
  shared.sent = i;
  return {};
}

// Times the entries after the warmup, from the receipt of entry `warmup` to the end of the
// stream: both stamps on the consumer's clock.
template <typename Rx>
std::string consumer_loop(Rx& rx, StartGate& gate, const TrialPlan& plan, TrialShared& shared) {
  if (!gate.arrive_and_wait(kGateTimeoutNs)) return "producer never arrived at the start gate";
  std::uint64_t expected = 0;
  std::uint64_t start_ns = 0;
  std::uint64_t window_start_ns = 0;
  shared.window_entries = plan.window_entries;
  for (;;) {
    std::uint64_t value = 0;
    const RxStatus status = rx.receive(value);
    if (status == RxStatus::Done) break;
    if (status == RxStatus::Fail) [[unlikely]] return rx.error();
    if (value != expected) [[unlikely]] {
      return "consumer: entry " + std::to_string(expected) + " carried value " + std::to_string(value);
    }
    if (expected >= plan.warmup) [[likely]] {
      const std::uint64_t measured = expected - plan.warmup;
      if (measured % plan.window_entries == 0) [[unlikely]] {
        const std::uint64_t t = now_ns();
        if (measured == 0) {
          start_ns = t;
        } else if (shared.window_count < kMaxWindows) {
          shared.window_ns[shared.window_count++] = t - window_start_ns;
        }
        window_start_ns = t;
      }
    }
    ++expected;
  }
  const std::uint64_t end_ns = now_ns();
  shared.received = expected;
  if (expected <= plan.warmup) return "consumer: stream ended inside the warmup";
  shared.measured_entries = expected - plan.warmup - 1;
  shared.measured_ns = end_ns - start_ns;
  return {};
}

template <typename Tx, typename Rx>
std::string ping_loop(Tx& tx, Rx& rx, StartGate& gate, const TrialPlan& plan, TrialShared& shared) {
  std::vector<std::uint64_t> samples;
  samples.reserve(plan.max_entries);
  if (!gate.arrive_and_wait(kGateTimeoutNs)) return "pong never arrived at the start gate";
  auto round_trip = [&](std::uint64_t i) -> std::string {
    if (!tx.send(i)) [[unlikely]] return tx.error();
    std::uint64_t value = 0;
    const RxStatus status = rx.receive(value);
    if (status != RxStatus::Got) [[unlikely]] {
      return status == RxStatus::Done ? "ping: pong closed early" : rx.error();
    }
    if (value != i) [[unlikely]] {
      return "ping: sent " + std::to_string(i) + ", got back " + std::to_string(value);
    }
    return {};
  };
  std::uint64_t i = 0;
  for (; i < plan.warmup; ++i) {
    if (auto error = round_trip(i); !error.empty()) return error;
  }
  const std::uint64_t start_ns = now_ns();
  const std::uint64_t start_ticks = ticks();
  const std::uint64_t stop_at = start_ns + plan.duration_ns;
  std::uint64_t previous = start_ticks;
  for (std::uint64_t n = 0; n < plan.max_entries; ++n) {
    if (auto error = round_trip(i); !error.empty()) [[unlikely]] return error;
    ++i;
    const std::uint64_t t = ticks();
    samples.push_back(t - previous);
    previous = t;
    if ((n & 255) == 255) {
      if (now_ns() >= stop_at) break;
      previous = ticks();  // the clock read is not part of the next sample
    }
  }
  const std::uint64_t end_ticks = ticks();
  const std::uint64_t end_ns = now_ns();
  tx.finish();
  shared.sent = i;
  const double ns_per_tick = end_ticks > start_ticks
                                 ? static_cast<double>(end_ns - start_ns) /
                                       static_cast<double>(end_ticks - start_ticks)
                                 : 1.0;
  shared.latency = one_way_stats(samples, ns_per_tick);
  return {};
}

template <typename Tx, typename Rx>
std::string pong_loop(Tx& tx, Rx& rx, StartGate& gate, TrialShared& shared) {
  if (!gate.arrive_and_wait(kGateTimeoutNs)) return "ping never arrived at the start gate";
  std::uint64_t expected = 0;
  for (;;) {
    std::uint64_t value = 0;
    const RxStatus status = rx.receive(value);
    if (status == RxStatus::Done) break;
    if (status == RxStatus::Fail) [[unlikely]] return rx.error();
    if (value != expected) [[unlikely]] {
      return "pong: expected " + std::to_string(expected) + ", got " + std::to_string(value);
    }
    ++expected;
    if (!tx.send(value)) [[unlikely]] return tx.error();
  }
  shared.received = expected;
  return {};
}

// ---------------------------------------------------------------------------------------------
// Bodies of the child processes, one per implementation.

template <typename P>
P make_platform() {
  if constexpr (std::is_same_v<P, RealPlatform>) {
    return RealPlatform(WaitStrategy::Spin);
  } else {
    return P{};
  }
}

template <typename P, typename Consumer, bool kBlocking>
std::string events_body(const std::string& path, Role role, const TrialPlan& plan,
                        TrialShared& shared, StartGate& gate) {
  auto region = Region::open(path);
  if (!region) return "Region::open: " + region.error().message;
  const P platform = make_platform<P>();
  const std::uint64_t deadline = plan.op_deadline_from_now();
  auto lane = [&](std::uint32_t index) {
    return events_lane_ref(region->lane_block(index), region->lane(index));
  };
  auto claim = [&](std::uint32_t index, bool producer) {
    EventsLaneHeader& header = *lane(index).header;
    return claim_role(platform, producer ? header.producer_pid : header.consumer_pid);
  };
  using Tx = EventsTx<P, kBlocking>;
  using Rx = EventsRx<P, Consumer, kBlocking>;
  switch (role) {
    case Role::Producer: {
      if (!claim(0, true)) return "producer role of lane 0 is taken";
      Tx tx(platform, lane(0), plan.payload_bytes, deadline);
      return producer_loop(tx, gate, plan, shared);
    }
    case Role::Consumer: {
      if (!claim(0, false)) return "consumer role of lane 0 is taken";
      Rx rx(platform, lane(0), plan.payload_bytes, deadline);
      return consumer_loop(rx, gate, plan, shared);
    }
    case Role::Ping: {
      if (!claim(0, true) || !claim(1, false)) return "a role of the ping side is taken";
      Tx tx(platform, lane(0), plan.payload_bytes, deadline);
      Rx rx(platform, lane(1), plan.payload_bytes, deadline);
      return ping_loop(tx, rx, gate, plan, shared);
    }
    case Role::Pong: {
      if (!claim(0, false) || !claim(1, true)) return "a role of the pong side is taken";
      Rx rx(platform, lane(0), plan.payload_bytes, deadline);
      Tx tx(platform, lane(1), plan.payload_bytes, deadline);
      return pong_loop(tx, rx, gate, shared);
    }
  }
  return "unknown role";
}

template <typename Ring>
std::string ring_body(MinimalRingShared* const* rings, Role role, const TrialPlan& plan,
                      TrialShared& shared, StartGate& gate) {
  using RingTx = bench::RingTx<Ring>;
  using RingRx = bench::RingRx<Ring>;
  const std::uint64_t deadline = plan.op_deadline_from_now();
  const std::uint32_t cap = plan.capacity_slots;
  const std::uint32_t bytes = plan.payload_bytes;
  switch (role) {
    case Role::Producer: {
      RingTx tx(*rings[0], cap, bytes, deadline);
      return producer_loop(tx, gate, plan, shared);
    }
    case Role::Consumer: {
      RingRx rx(*rings[0], cap, bytes, deadline);
      return consumer_loop(rx, gate, plan, shared);
    }
    case Role::Ping: {
      RingTx tx(*rings[0], cap, bytes, deadline);
      RingRx rx(*rings[1], cap, bytes, deadline);
      return ping_loop(tx, rx, gate, plan, shared);
    }
    case Role::Pong: {
      RingRx rx(*rings[0], cap, bytes, deadline);
      RingTx tx(*rings[1], cap, bytes, deadline);
      return pong_loop(tx, rx, gate, shared);
    }
  }
  return "unknown role";
}

std::string line_body(PingPongLines& lines, Role role, const TrialPlan& plan, TrialShared& shared,
                      StartGate& gate) {
  const std::uint64_t deadline = plan.op_deadline_from_now();
  switch (role) {
    case Role::Ping: {
      LineTx tx(lines.a_to_b);
      LineRx rx(lines.b_to_a, deadline);
      return ping_loop(tx, rx, gate, plan, shared);
    }
    case Role::Pong: {
      LineRx rx(lines.a_to_b, deadline);
      LineTx tx(lines.b_to_a);
      return pong_loop(tx, rx, gate, shared);
    }
    default:
      return "the cache-line baseline has no throughput roles";
  }
}

// ---------------------------------------------------------------------------------------------
// Trials, run from the parent.

// A region file for one trial, removed when the trial ends (and by the signal handler if the
// bench is interrupted).
class BenchRegion {
 public:
  explicit BenchRegion(std::span<const LaneSpec> lanes) : path_(new_bench_region_path()) {
    register_region_path(path_);
    auto created = Region::create(path_, lanes);
    if (!created) {
      unregister_region_path();
      throw BenchError("Region::create: " + created.error().message);
    }
    region_.emplace(std::move(created.value()));
  }
  ~BenchRegion() {
    region_.reset();
    (void)Region::remove(path_);
    unregister_region_path();
  }
  BenchRegion(const BenchRegion&) = delete;
  BenchRegion& operator=(const BenchRegion&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::optional<Region> region_;
};

enum class Impl {
  Events,     // write/read: the lane as an application uses it (Spin wait strategy)
  EventsTry,  // try_write/try_read in a spin loop: no waiting protocol on the waiter's side
  Ring,
  Line,
  // --variants (events_variants.hpp, minimal_ring.hpp): experiments on the cost of the cursor
  // publish (seq_cst fallbacks vs the membarrier-backed release store), of the slot header, and a
  // prototype consumer that polls the slot stamp.
  EventsMovMfence,
  EventsXchg,
  EventsStampTry,
  EventsStampTryRelease,
  RingEventsSlots,  // the minimal ring with Events' 16-byte slot header and stride
  RingSeqCst,       // the minimal ring with seq_cst index stores + a seq_cst flag load, like Events
  RingEventsSlotsAligned,  // ... with Events' slot header, slots rounded up to whole cache lines
};

using EventsBody = std::string (*)(const std::string&, Role, const TrialPlan&, TrialShared&, StartGate&);
using RingBody = std::string (*)(MinimalRingShared* const*, Role, const TrialPlan&, TrialShared&, StartGate&);

struct ImplInfo {
  Impl impl;
  const char* name;
  const char* key;
  EventsBody run_events;  // set for the Events rows
  RingBody run_ring;      // set for the ring rows
  std::uint32_t ring_header_bytes = 0;
};

using Real = RealPlatform;
using Xchg = StorePlatform<StoreKind::Xchg>;
using MovMfence = StorePlatform<StoreKind::MovMfence>;
using ReleaseOnly = StorePlatform<StoreKind::Release>;

const ImplInfo kImpls[] = {
    {Impl::Events, "events write/read", "events", &events_body<Real, EventsConsumer<Real>, true>, nullptr, 0},
    {Impl::EventsTry, "events try_* spin", "events_try", &events_body<Real, EventsConsumer<Real>, false>,
     nullptr, 0},
    {Impl::Ring, "minimal ring", "minimal_ring", nullptr, &ring_body<MinimalRing<>>, 0},
    {Impl::Line, "cache-line ping-pong", "pingpong_line", nullptr, nullptr, 0},
    {Impl::EventsMovMfence, "events w/r, mov+mfence stores", "events_mov_mfence",
     &events_body<MovMfence, EventsConsumer<MovMfence>, true>, nullptr, 0},
    {Impl::EventsXchg, "events w/r, seq_cst (xchg) stores", "events_xchg",
     &events_body<Xchg, EventsConsumer<Xchg>, true>, nullptr, 0},
    {Impl::EventsStampTry, "events try, stamp-poll", "events_stamp_try",
     &events_body<Real, StampPollingConsumer<Real>, false>, nullptr, 0},
    {Impl::EventsStampTryRelease, "events try, stamp, release", "events_stamp_try_release",
     &events_body<ReleaseOnly, StampPollingConsumer<ReleaseOnly>, false>, nullptr, 0},
    {Impl::RingEventsSlots, "ring + events slot header", "ring_events_slots", nullptr,
     &ring_body<MinimalRing<16, false>>, 16},
    {Impl::RingSeqCst, "ring + seq_cst index stores", "ring_seq_cst", nullptr,
     &ring_body<MinimalRing<0, true>>, 0},
    {Impl::RingEventsSlotsAligned, "ring + header, 64B-aligned slots", "ring_events_slots_aligned",
     nullptr, &ring_body<MinimalRing<16, false, true>>, 16},
};

const ImplInfo& info(Impl impl) {
  for (const ImplInfo& i : kImpls) {
    if (i.impl == impl) return i;
  }
  throw BenchError("unknown implementation");
}

std::string impl_name(Impl impl) { return info(impl).name; }
std::string impl_key(Impl impl) { return info(impl).key; }

// Runs one trial of `impl` with the two roles given; returns the shared results.
TrialShared run_trial(Impl impl, Role role_a, Role role_b, const TrialPlan& plan,
                      const std::vector<int>& cpus, std::uint32_t lane_count) {
  SharedMemory result_memory(sizeof(TrialShared));
  auto* shared = new (result_memory.data()) TrialShared{};
  const std::string what = impl_name(impl) + " (" + std::to_string(plan.payload_bytes) + " B)";

  std::optional<BenchRegion> region;
  std::optional<SharedMemory> ring_memory;
  MinimalRingShared* rings[2] = {nullptr, nullptr};
  PingPongLines* lines = nullptr;

  std::function<std::string(Role, StartGate&)> body;
  switch (impl) {
    case Impl::Line:
      break;
    default: {
      if (info(impl).run_events == nullptr) break;
      std::vector<LaneSpec> specs(lane_count, LaneSpec{LaneKind::Events, OnFull::Block,
                                                       plan.capacity_slots, plan.payload_bytes, 1, 0, {}});
      region.emplace(specs);
      const std::string path = region->path();
      const EventsBody events = info(impl).run_events;
      body = [path, events, &plan, shared](Role role, StartGate& gate) {
        return events(path, role, plan, *shared, gate);
      };
      break;
    }
  }
  switch (impl) {
    case Impl::Ring:
    case Impl::RingEventsSlots:
    case Impl::RingSeqCst:
    case Impl::RingEventsSlotsAligned: {
      // Room for the widest stride of any ring variant (header + payload, rounded to a line).
      const std::size_t ring_bytes = round_up(
          MinimalRingShared::bytes_for(
              plan.capacity_slots,
              static_cast<std::uint32_t>(round_up(info(impl).ring_header_bytes + plan.payload_bytes, kLineBytes))),
          kLineBytes);
      ring_memory.emplace(ring_bytes * lane_count);
      for (std::uint32_t i = 0; i < lane_count; ++i) {
        rings[i] = new (ring_memory->data() + i * ring_bytes) MinimalRingShared;
      }
      const RingBody ring = info(impl).run_ring;
      body = [&rings, ring, &plan, shared](Role role, StartGate& gate) {
        return ring(rings, role, plan, *shared, gate);
      };
      break;
    }
    case Impl::Line: {
      ring_memory.emplace(sizeof(PingPongLines));
      lines = new (ring_memory->data()) PingPongLines;
      body = [lines, &plan, shared](Role role, StartGate& gate) {
        return line_body(*lines, role, plan, *shared, gate);
      };
      break;
    }
    default:
      break;
  }

  auto role_name = [](Role role) {
    switch (role) {
      case Role::Producer: return "producer";
      case Role::Consumer: return "consumer";
      case Role::Ping: return "ping";
      case Role::Pong: return "pong";
    }
    return "?";
  };
  Side a{what + " " + role_name(role_a), cpus[0],
         [&body, role_a](StartGate& gate) { return body(role_a, gate); }};
  Side b{what + " " + role_name(role_b), cpus[1],
         [&body, role_b](StartGate& gate) { return body(role_b, gate); }};
  run_two_processes(a, b, plan.harness_timeout_ns());
  return *shared;
}

struct ThroughputSample {
  double entries_per_s = 0;          // the trial's figure: its p90 window (else overall)
  double overall_entries_per_s = 0;  // all measured entries over the whole measured time
  double peak_window_entries_per_s = 0;
  std::uint64_t entries = 0;
  std::uint64_t elapsed_ns = 0;
  std::vector<double> window_entries_per_s;
};

ThroughputSample throughput_trial(Impl impl, const TrialPlan& plan, const std::vector<int>& cpus) {
  const TrialShared r = run_trial(impl, Role::Producer, Role::Consumer, plan, cpus, 1);
  if (r.received != r.sent) {
    throw BenchError(impl_name(impl) + ": producer sent " + std::to_string(r.sent) +
                     " entries, consumer received " + std::to_string(r.received));
  }
  ThroughputSample sample;
  sample.entries = r.measured_entries;
  sample.elapsed_ns = std::max<std::uint64_t>(r.measured_ns, 1);
  sample.overall_entries_per_s =
      static_cast<double>(sample.entries) * 1e9 / static_cast<double>(sample.elapsed_ns);
  for (std::uint64_t w = 0; w < r.window_count; ++w) {
    const double rate = static_cast<double>(r.window_entries) * 1e9 /
                        static_cast<double>(std::max<std::uint64_t>(r.window_ns[w], 1));
    sample.window_entries_per_s.push_back(rate);
    sample.peak_window_entries_per_s = std::max(sample.peak_window_entries_per_s, rate);
  }
  // The trial's figure is its fast windows (90th percentile): on a shared machine, windows in
  // which other load preempted a side are slow, never fast (buffering can lift a window by at
  // most one capacity's worth of entries, <= 1/16). A short (--quick) trial has too few windows
  // and uses the overall figure.
  if (sample.window_entries_per_s.size() >= 5) {
    std::vector<double> sorted = sample.window_entries_per_s;
    std::sort(sorted.begin(), sorted.end());
    sample.entries_per_s = sorted[(sorted.size() - 1) * 9 / 10];
  } else {
    sample.entries_per_s = sample.overall_entries_per_s;
  }
  return sample;
}

LatencyStats latency_trial(Impl impl, const TrialPlan& plan, const std::vector<int>& cpus) {
  const TrialShared r = run_trial(impl, Role::Ping, Role::Pong, plan, cpus, 2);
  if (r.received != r.sent) {
    throw BenchError(impl_name(impl) + ": ping sent " + std::to_string(r.sent) +
                     " round trips, pong answered " + std::to_string(r.received));
  }
  if (r.latency.samples == 0) throw BenchError(impl_name(impl) + ": no latency samples");
  return r.latency;
}

// ---------------------------------------------------------------------------------------------
// Aggregation and report.

struct ThroughputSeries {
  std::vector<ThroughputSample> samples;
  double best() const {
    double b = 0;
    for (const auto& s : samples) b = std::max(b, s.entries_per_s);
    return b;
  }
  double median() const {
    std::vector<double> v;
    for (const auto& s : samples) v.push_back(s.entries_per_s);
    return median_of(v);
  }
};

struct LatencySeries {
  std::vector<LatencyStats> samples;
  // Best of the repeats, statistic by statistic: the least disturbed estimate of each.
  LatencyStats best() const {
    LatencyStats b = samples.front();
    for (const auto& s : samples) {
      b.median_ns = std::min(b.median_ns, s.median_ns);
      b.p99_ns = std::min(b.p99_ns, s.p99_ns);
      b.p999_ns = std::min(b.p999_ns, s.p999_ns);
      b.mean_ns = std::min(b.mean_ns, s.mean_ns);
      b.min_ns = std::min(b.min_ns, s.min_ns);
    }
    return b;
  }
  double median_of_medians() const {
    std::vector<double> v;
    for (const auto& s : samples) v.push_back(s.median_ns);
    return median_of(v);
  }
};

double paired_median_ratio(const std::vector<double>& numerators,
                           const std::vector<double>& denominators) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < numerators.size() && i < denominators.size(); ++i) {
    if (denominators[i] > 0) ratios.push_back(numerators[i] / denominators[i]);
  }
  return median_of(ratios);
}

// Windows long against the ring, so entries buffered at a window's start (at most one capacity)
// lift a window by at most 1/16; short enough that a slow implementation still has windows
// that fit between two preemptions on a shared machine.
std::uint64_t window_entries_for(std::uint32_t capacity_slots) {
  return std::max<std::uint64_t>(16384, 16ull * capacity_slots);
}

// The 1-minute load average, to tell a reader how busy the machine was (0 if unknown).
double load_average() {
  double loads[1] = {0};
  return getloadavg(loads, 1) == 1 ? loads[0] : 0.0;
}

constexpr double kThroughputTarget = 0.7;
constexpr std::uint32_t kThroughputTargetPayload = 64;
constexpr double kLatencyTarget = 1.3;

int run(const Options& options) {
  install_cleanup_handlers();
  remove_stale_bench_regions();
  const std::vector<int> cpus = pick_cpus(options.pin);

  const std::uint64_t duration_ns = static_cast<std::uint64_t>(options.seconds * 1e9);
  std::printf("events_bench: Events lane (Block, Spin) vs baselines, two processes, %s\n",
              cpus[0] >= 0 ? ("pinned to CPUs " + std::to_string(cpus[0]) + " and " +
                              std::to_string(cpus[1])).c_str()
                           : "not pinned");
  std::printf("  capacity %u slots; %d repeat(s), each trial <= %.2f s and <= %llu entries/round trips\n",
              options.capacity_slots, options.repeats, options.seconds,
              static_cast<unsigned long long>(options.entries));
  const double load_at_start = load_average();
  std::printf("  load average at start %.2f on %ld online CPUs\n", load_at_start, sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);

  std::vector<Impl> throughput_impls = {Impl::Events, Impl::EventsTry, Impl::Ring};
  std::vector<Impl> latency_impls = {Impl::Events, Impl::EventsTry, Impl::Ring, Impl::Line};
  const std::vector<Impl> variant_impls = {Impl::EventsMovMfence,  Impl::EventsXchg,
                                           Impl::EventsStampTry,   Impl::EventsStampTryRelease,
                                           Impl::RingEventsSlots,  Impl::RingSeqCst,
                                           Impl::RingEventsSlotsAligned};
  if (options.variants) {
    throughput_impls.insert(throughput_impls.end(), variant_impls.begin(), variant_impls.end());
    latency_impls.insert(latency_impls.end(), variant_impls.begin(), variant_impls.end());
  }
  std::map<std::pair<Impl, std::uint32_t>, ThroughputSeries> throughput;
  std::map<Impl, LatencySeries> latency;

  for (int repeat = 0; repeat < options.repeats; ++repeat) {
    // Rotate the order each repeat so no implementation always runs first (or after another).
    for (std::uint32_t payload : options.payloads) {
      TrialPlan plan;
      plan.capacity_slots = options.capacity_slots;
      plan.payload_bytes = payload;
      plan.max_entries = options.entries;
      plan.duration_ns = duration_ns;
      plan.warmup = std::min<std::uint64_t>(4ull * options.capacity_slots, options.entries / 4);
      plan.window_entries = window_entries_for(options.capacity_slots);
      for (std::size_t k = 0; k < throughput_impls.size(); ++k) {
        const Impl impl = throughput_impls[(k + static_cast<std::size_t>(repeat)) % throughput_impls.size()];
        ThroughputSample sample = throughput_trial(impl, plan, cpus);
        if (options.verbose) {
          std::vector<double> w = sample.window_entries_per_s;
          std::sort(w.begin(), w.end());
          auto q = [&](double f) { return w.empty() ? 0.0 : w[static_cast<std::size_t>(f * static_cast<double>(w.size() - 1))] / 1e6; };
          std::printf("    %-28s %5u B: overall %7.2f, windows %3zu: min %7.2f p25 %7.2f median %7.2f p75 %7.2f max %7.2f Mentries/s\n",
                      impl_name(impl).c_str(), payload, sample.overall_entries_per_s / 1e6, w.size(),
                      q(0), q(0.25), q(0.5), q(0.75), q(1));
        }
        throughput[{impl, payload}].samples.push_back(std::move(sample));
      }
    }
    TrialPlan plan;
    plan.capacity_slots = options.capacity_slots;
    plan.payload_bytes = options.latency_payload_bytes;
    plan.max_entries = options.quick ? std::min<std::uint64_t>(options.entries, 2000)
                                     : std::min<std::uint64_t>(options.entries, 1'000'000);
    plan.duration_ns = duration_ns;
    plan.warmup = options.quick ? 100 : 10'000;
    for (std::size_t k = 0; k < latency_impls.size(); ++k) {
      const Impl impl = latency_impls[(k + static_cast<std::size_t>(repeat)) % latency_impls.size()];
      const LatencyStats stats = latency_trial(impl, plan, cpus);
      if (options.verbose) {
        std::printf("    %-28s latency: median %7.1f p99 %7.1f p99.9 %8.1f mean %7.1f ns (%llu samples)\n",
                    impl_name(impl).c_str(), stats.median_ns, stats.p99_ns, stats.p999_ns,
                    stats.mean_ns, static_cast<unsigned long long>(stats.samples));
      }
      latency[impl].samples.push_back(stats);
    }
    std::printf("  repeat %d/%d done\n", repeat + 1, options.repeats);
    std::fflush(stdout);
  }

  const double load_at_end = load_average();
  nlohmann::json json;
  json["load_average_start"] = load_at_start;
  json["load_average_end"] = load_at_end;
  json["cpus"] = cpus;
  json["capacity_slots"] = options.capacity_slots;
  json["repeats"] = options.repeats;
  json["seconds_per_trial"] = options.seconds;
  json["max_entries_per_trial"] = options.entries;

  std::printf("\nThroughput, Mentries/s: per trial the p90 of %llu-entry windows; best of %d trials (median\n"
              "in brackets); MB/s of payload at the best\n",
              static_cast<unsigned long long>(window_entries_for(options.capacity_slots)),
              options.repeats);
  std::printf("%8s | %-29s | %-29s | %-29s | %-25s | %s\n", "payload", "events write/read", "minimal ring",
              "events try_* spin", "events/ring paired (best)", "target");
  bool throughput_met = true;
  bool throughput_checked = false;
  double throughput_paired_ratio = 0;
  for (std::uint32_t payload : options.payloads) {
    const auto& ev = throughput[{Impl::Events, payload}];
    const auto& ring = throughput[{Impl::Ring, payload}];
    const auto& evt = throughput[{Impl::EventsTry, payload}];
    auto cell = [&](const ThroughputSeries& s) {
      char text[64];
      std::snprintf(text, sizeof(text), "%7.2f (%6.2f) %7.0f MB/s", s.best() / 1e6, s.median() / 1e6,
                    s.best() * payload / 1e6);
      return std::string(text);
    };
    std::vector<double> ev_rates, ring_rates;
    for (const auto& s : ev.samples) ev_rates.push_back(s.entries_per_s);
    for (const auto& s : ring.samples) ring_rates.push_back(s.entries_per_s);
    const double ratio = ring.best() > 0 ? ev.best() / ring.best() : 0;
    const double paired = paired_median_ratio(ev_rates, ring_rates);
    std::string target = "-";
    if (payload == kThroughputTargetPayload) {
      throughput_checked = true;
      throughput_paired_ratio = paired;
      const bool met = paired >= kThroughputTarget;
      throughput_met = met;
      char text[64];
      std::snprintf(text, sizeof(text), ">= %.2f %s", kThroughputTarget, met ? "MET" : "MISSED");
      target = text;
    }
    char ratio_text[64];
    std::snprintf(ratio_text, sizeof(ratio_text), "%.3f (%.3f)", paired, ratio);
    std::printf("%6u B | %s | %s | %s | %-25s | %s\n", payload, cell(ev).c_str(), cell(ring).c_str(),
                cell(evt).c_str(), ratio_text, target.c_str());

    nlohmann::json row;
    row["payload_bytes"] = payload;
    for (Impl impl : throughput_impls) {
      const auto& series = throughput[{impl, payload}];
      nlohmann::json trials = nlohmann::json::array();
      for (const auto& s : series.samples) {
        trials.push_back({{"p90_window_entries_per_s", s.entries_per_s},
                          {"overall_entries_per_s", s.overall_entries_per_s},
                          {"peak_window_entries_per_s", s.peak_window_entries_per_s},
                          {"windows", s.window_entries_per_s.size()},
                          {"entries", s.entries},
                          {"elapsed_ns", s.elapsed_ns}});
      }
      row[impl_key(impl)] = {{"best_entries_per_s", series.best()},
                             {"median_entries_per_s", series.median()},
                             {"best_mb_per_s", series.best() * payload / 1e6},
                             {"trials", trials}};
    }
    row["ratio_events_over_ring_best"] = ratio;
    row["ratio_events_over_ring_paired_median"] = paired;
    json["throughput"].push_back(row);
  }

  std::printf("\nOne-way latency, payload %u B, ns (best of %d per statistic; half the round trip)\n",
              options.latency_payload_bytes, options.repeats);
  std::printf("%-32s %9s %9s %9s %9s %9s %16s\n", "", "median", "p99", "p99.9", "mean", "min", "median of medians");
  for (Impl impl : latency_impls) {
    const LatencyStats b = latency[impl].best();
    std::printf("%-32s %9.1f %9.1f %9.1f %9.1f %9.1f %16.1f\n", impl_name(impl).c_str(), b.median_ns,
                b.p99_ns, b.p999_ns, b.mean_ns, b.min_ns, latency[impl].median_of_medians());
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& s : latency[impl].samples) {
      trials.push_back({{"median_ns", s.median_ns}, {"p99_ns", s.p99_ns}, {"p999_ns", s.p999_ns},
                        {"mean_ns", s.mean_ns}, {"min_ns", s.min_ns}, {"samples", s.samples}});
    }
    json["latency"][impl_key(impl)] = {{"best_median_ns", b.median_ns}, {"best_p99_ns", b.p99_ns},
                                       {"best_p999_ns", b.p999_ns}, {"trials", trials}};
  }
  const double ev_median = latency[Impl::Events].best().median_ns;
  const double line_median = latency[Impl::Line].best().median_ns;
  const double latency_ratio = line_median > 0 ? ev_median / line_median : 0;
  std::vector<double> ev_medians, line_medians;
  for (const auto& s : latency[Impl::Events].samples) ev_medians.push_back(s.median_ns);
  for (const auto& s : latency[Impl::Line].samples) line_medians.push_back(s.median_ns);
  const double latency_paired = paired_median_ratio(ev_medians, line_medians);
  const bool latency_met = latency_paired <= kLatencyTarget;
  json["latency"]["payload_bytes"] = options.latency_payload_bytes;
  json["latency"]["ratio_events_over_pingpong_median_best"] = latency_ratio;
  json["latency"]["ratio_events_over_pingpong_median_paired"] = latency_paired;

  if (options.variants) {
    std::printf("\nVariants (experiments, see README.md): throughput Mentries/s (median of trials) and\n"
                "paired ratio to the minimal ring; one-way latency median (median of trials) and paired\n"
                "ratio to the cache-line ping-pong\n");
    std::printf("%-32s", "");
    for (std::uint32_t payload : options.payloads) std::printf(" %9u B (ring) ", payload);
    std::printf(" | latency ns (line)\n");
    std::vector<Impl> rows = {Impl::Events, Impl::EventsTry};
    rows.insert(rows.end(), variant_impls.begin(), variant_impls.end());
    rows.push_back(Impl::Ring);
    auto rates = [&](Impl impl, std::uint32_t payload) {
      std::vector<double> v;
      for (const auto& s : throughput[{impl, payload}].samples) v.push_back(s.entries_per_s);
      return v;
    };
    auto medians = [&](Impl impl) {
      std::vector<double> v;
      for (const auto& s : latency[impl].samples) v.push_back(s.median_ns);
      return v;
    };
    for (Impl impl : rows) {
      std::printf("%-32s", impl_name(impl).c_str());
      for (std::uint32_t payload : options.payloads) {
        std::printf(" %8.2f (%5.3f) ", throughput[{impl, payload}].median() / 1e6,
                    paired_median_ratio(rates(impl, payload), rates(Impl::Ring, payload)));
      }
      std::printf(" | %7.1f (%5.3f)\n", latency[impl].median_of_medians(),
                  paired_median_ratio(medians(impl), medians(Impl::Line)));
    }
  }

  std::printf("\nTargets (load average %.2f at start, %.2f at end%s)\n", load_at_start, load_at_end,
              std::max(load_at_start, load_at_end) > 1.0
                  ? "; other processes competed for the CPUs: figures are noisy, rerun when "
                    "the machine is quiet"
                  : "");
  if (throughput_checked) {
    std::printf("  throughput events/minimal ring at %u B, paired: %.3f (target >= %.2f): %s\n",
                kThroughputTargetPayload, throughput_paired_ratio, kThroughputTarget,
                throughput_met ? "MET" : "MISSED");
    json["targets"]["throughput_ratio_64B_paired"] = throughput_paired_ratio;
    json["targets"]["throughput_met"] = throughput_met;
  } else {
    std::printf("  throughput target (at %u B): not measured (payload not selected)\n", kThroughputTargetPayload);
  }
  std::printf("  one-way latency events/cache-line ping-pong, medians paired: %.3f, of the best: %.3f "
              "(target <= %.2f): %s\n",
              latency_paired, latency_ratio, kLatencyTarget, latency_met ? "MET" : "MISSED");
  json["targets"]["latency_ratio_median_paired"] = latency_paired;
  json["targets"]["latency_met"] = latency_met;

  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << json.dump(2) << "\n";
    if (!out) throw BenchError("cannot write " + options.json_path);
    std::printf("\nwrote %s\n", options.json_path.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace indexbus::bench

int main(int argc, char** argv) {
  using indexbus::bench::Options;
  Options options;
  CLI::App app{"events_bench: the Events lane between two processes vs a minimal SPSC ring and a "
               "cache-line ping-pong, measured in the same run"};
  bool no_pin = false;
  app.add_option("--entries", options.entries,
                 "per trial: at most N entries (throughput) / N round trips (latency, capped at 1e6)")
      ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1} << 40));
  app.add_option("--seconds", options.seconds, "per trial: at most this long (default 0.5)")
      ->check(CLI::Range(0.001, 60.0));
  app.add_option("--repeats", options.repeats, "repeats of every trial (default 5; best and median reported)")
      ->check(CLI::Range(1, 100));
  app.add_option("--capacity", options.capacity_slots, "slots per lane / ring (power of two)")
      ->check(CLI::Range(2u, 1u << 20));
  app.add_option("--payloads", options.payloads, "throughput payload sizes in bytes (multiples of 8)")
      ->delimiter(',');
  app.add_option("--latency-payload", options.latency_payload_bytes, "ping-pong payload bytes")
      ->check(CLI::Range(8u, 1u << 20));
  app.add_flag("--quick", options.quick, "a tiny run for the smoke test (figures meaningless)");
  app.add_flag("--variants", options.variants,
               "also run the experiments of events_variants.hpp and minimal_ring.hpp (seq_cst store cost, slot header, stamp polling)");
  app.add_flag("--verbose", options.verbose, "print every trial (window distribution, latency)");
  app.add_flag("--no-pin", no_pin, "do not pin the two processes to two CPUs");
  app.add_option("--json", options.json_path, "also write all figures and trials as JSON to FILE");
  CLI11_PARSE(app, argc, argv);

  options.pin = !no_pin;
  // --quick only changes what was not given explicitly.
  if (options.quick) {
    if (app.count("--entries") == 0) options.entries = 20'000;
    if (app.count("--seconds") == 0) options.seconds = 0.05;
    if (app.count("--repeats") == 0) options.repeats = 1;
  }
  if ((options.capacity_slots & (options.capacity_slots - 1)) != 0) {
    std::fprintf(stderr, "events_bench: --capacity must be a power of two\n");
    return 2;
  }
  for (std::uint32_t p : options.payloads) {
    if (p < 8 || p % 8 != 0 || p > (1u << 20)) {
      std::fprintf(stderr, "events_bench: payload %u is not a multiple of 8 in [8, 1048576]\n", p);
      return 2;
    }
  }
  if (options.latency_payload_bytes % 8 != 0) {
    std::fprintf(stderr, "events_bench: --latency-payload must be a multiple of 8\n");
    return 2;
  }
  try {
    return indexbus::bench::run(options);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "events_bench: FAILED: %s\n", e.what());
    return 1;
  }
}

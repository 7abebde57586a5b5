// The scenario adapter of the Events lane: it maps each scenario op to a lane call (on
// SimPlatform), records the history, checks the lane's invariants after every step and the history
// against the spec model after every run, and names shared words for reports.
//
// Adding a lane kind is writing one such adapter: a Scenario type (events_scenario.hpp shows the
// shape), a World with reset/body/invariant/check/name_word/describe_op, and a SequentialModel for
// the checker (conformance/linearizability). The Explorer, strategies, shrinking, replay and the
// CLI are generic over it.
//
// The adapter is a template over the platform only: the lane classes are always core/'s
// EventsProducer and EventsConsumer. sim/tests/broken_platform.hpp plants bugs into them through
// platform policies (SimPlatform with particular loads and stores perturbed) and runs them
// through exactly the same pipeline; a platform with configure(const EventsLaneRef&) is told
// where the lane lies once it is laid out.
#pragma once

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "indexbus/events.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/linearizability/events.hpp"
#include "indexbus/sim/adapter_common.hpp"
#include "indexbus/sim/events_scenario.hpp"
#include "indexbus/sim/outcome.hpp"
#include "indexbus/sim/plants.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/sim/sim_platform.hpp"

namespace indexbus::sim::events {

struct Record {
  std::uint32_t actor = 0;
  OpKind kind = OpKind::TryRead;  // Drain is recorded as Read
  std::uint32_t op_index = 0;     // index in the actor's list (the payload id for writes)
  std::uint32_t payload_bytes = 0;
  std::uint64_t timeout_ns = kNoDeadline;
  std::uint64_t invoke_time = 0;
  std::uint64_t response_time = linearizability::kPendingTime;
  bool done = false;
  linearizability::HappensBefore hb{};  // weak memory: precedence is happens-before
  WriteStatus write_status = WriteStatus::Ok;
  ReadResult read;
  std::array<std::byte, kSlotPayloadBytesMax> data{};
};

std::string describe(const Record& record);
// Per history index, the model state after that operation in the given order, or "" where the
// operation left the state unchanged (or is not in the order).
std::vector<std::string> model_states(const Scenario& scenario, const std::vector<Record>& history,
                                      const std::vector<std::size_t>& order);
spec::Op model_op(const Record& record);
std::optional<spec::OpResult> model_result(const Record& record);
// The post-run checks shared by every Events adapter instance: torn entries, then linearizability.
CheckOutcome check_history(const Scenario& scenario, const std::vector<Record>& history);
// What one run reached (reach.hpp): the scenario's options, every call and its outcome.
void tally(const Scenario& scenario, const std::vector<Record>& history, reach::Counts& counts);
// "write_seq", "slot[1].stamp", "slot[0].payload+8", ...
std::string name_word(const std::byte* block, std::uint32_t capacity_slots,
                      std::uint32_t slot_payload_bytes, const void* address);
// The lane invariants that hold after every step; false and a message if one is broken.
bool check_lane_words(const std::byte* block, const spec::EventsConfig& config, std::string& message);
inline bool check_lane_words(const std::byte* block, const Scenario& scenario, std::string& message) {
  return check_lane_words(block, scenario.config, message);
}
// The consumer's counters between its reads: read_count + lost_count == read_seq; nullopt if so.
std::optional<std::string> counters_between_reads(const EventsLaneHeader& header);

template <typename Platform = SimPlatform>
class Adapter {
 public:
  using ScenarioType = Scenario;
  static constexpr const char* kLaneName = "events";
  static std::uint32_t actor_count(const Scenario&) noexcept { return 2; }
  static const char* actor_name(std::uint32_t actor) noexcept { return actor == 0 ? "producer" : "consumer"; }
  static std::string to_string(const Scenario& s) { return events::to_string(s); }
  static std::optional<Scenario> parse(std::string_view text, std::string* error) {
    return parse_scenario(text, error);
  }
  static std::vector<Scenario> shrinks(const Scenario& s) { return simple_shrinks(s); }

  class World {
   public:
    World() = default;
    World(const World&) = delete;
    World& operator=(const World&) = delete;
    ~World() { std::free(block_); }

    // Fresh lane memory and history for one run. Allocates only when the scenario grew.
    void reset(const Scenario& scenario, Scheduler& scheduler) {
      scenario_ = &scenario;
      scheduler_ = &scheduler;
      platform_.emplace(scheduler, scenario.parking, scheduler.options().barrier);
      const auto& c = scenario.config;
      assert(c.slot_payload_bytes <= kSlotPayloadBytesMax);
      const std::size_t bytes = lane_block_bytes(LaneKind::Events, c.capacity_slots, c.slot_payload_bytes, 1);
      if (bytes > block_bytes_) {
        std::free(block_);
        block_ = static_cast<std::byte*>(std::aligned_alloc(kCacheLineBytes, bytes));
        assert(block_ != nullptr);
        block_bytes_ = bytes;
      }
      std::memset(block_, 0, bytes);
      lane_ = EventsLaneRef{reinterpret_cast<EventsLaneHeader*>(block_), block_ + sizeof(EventsLaneHeader),
                            c.capacity_slots, c.slot_payload_bytes, c.on_full};
      if constexpr (requires(Platform& p) { p.configure(lane_); }) platform_->configure(lane_);
      plant_into(scheduler.options().plant, PlantSite{.events = &lane_}, weakening_);
      platform_->plant(&weakening_);
      scheduler.set_hash_base(block_);
      std::size_t writes = 0;
      for (const OpSpec& op : scenario.producer) writes += op.kind != OpKind::Close ? 1 : 0;
      drain_reads_max_ = writes + 1;
      history_.clear();
      // Never reallocated during a run: actors hold references into it across scheduling points.
      history_.reserve(scenario.producer.size() + scenario.consumer.size() + drain_reads_max_);
      payloads_.resize(scenario.producer.size());
      for (std::size_t i = 0; i < scenario.producer.size(); ++i) {
        for (std::size_t j = 0; j < kSlotPayloadBytesMax + 8; ++j) payloads_[i][j] = payload_byte(i, j);
      }
      last_delivered_.reset();
    }

    static void body(void* context, std::uint32_t actor) {
      auto& world = *static_cast<World*>(context);
      if (actor == 0) {
        world.run_producer();
      } else {
        world.run_consumer();
      }
    }

    static bool invariant(void* context, std::string& message) {
      const auto& world = *static_cast<const World*>(context);
      return check_lane_words(world.block_, *world.scenario_, message);
    }

    CheckOutcome check() const { return check_history(*scenario_, history_); }
    void tally(reach::Counts& counts) const { events::tally(*scenario_, history_, counts); }
    const std::vector<Record>& history() const noexcept { return history_; }
    std::string describe_op(std::size_t index) const { return describe(history_[index]); }
    std::vector<std::string> model_states(const std::vector<std::size_t>& order) const {
      return events::model_states(*scenario_, history_, order);
    }
    std::string name(const void* address) const {
      const auto& c = scenario_->config;
      return name_word(block_, c.capacity_slots, c.slot_payload_bytes, address);
    }

   private:
    Record& begin(std::uint32_t actor, std::uint32_t op_index, OpKind kind, std::uint32_t payload_bytes,
                  std::uint64_t timeout_ns) {
      Record& r = adapter::begin_record(*scheduler_, history_);
      r.actor = actor;
      r.kind = kind;
      r.op_index = op_index;
      r.payload_bytes = payload_bytes;
      r.timeout_ns = timeout_ns;
      return r;
    }
    void end(Record& r) { adapter::end_record(*scheduler_, history_, r); }
    std::uint64_t deadline(std::uint64_t timeout_ns) const noexcept {
      return adapter::deadline_after(*scheduler_, timeout_ns);
    }

    void run_producer() {
      EventsProducer<Platform> producer(*platform_, lane_);
      const auto& ops = scenario_->producer;
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        Record& r = begin(0, i, op.kind, op.payload_bytes, op.timeout_ns);
        const std::span<const std::byte> payload(payloads_[i].data(), op.payload_bytes);
        switch (op.kind) {
          case OpKind::TryWrite: r.write_status = producer.try_write(payload); break;
          case OpKind::Write: r.write_status = producer.write(payload, deadline(op.timeout_ns)); break;
          case OpKind::Close: producer.close(); break;
          default: assert(false);
        }
        end(r);
      }
    }

    void run_consumer() {
      EventsConsumer<Platform> consumer(*platform_, lane_);
      const auto& ops = scenario_->consumer;
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        if (op.kind == OpKind::Drain) {
          std::size_t reads = 0;
          for (;;) {
            if (reads++ == drain_reads_max_) {
              scheduler_->fail(RunStatus::InvariantBroken, "drain read more than every write plus Closed");
            }
            Record& r = begin(1, i, OpKind::Read, 0, kNoDeadline);
            r.read = consumer.read(std::span<std::byte>(out_), kNoDeadline);
            delivered(r);
            if (r.read.status == ReadStatus::Closed) break;
          }
          continue;
        }
        Record& r = begin(1, i, op.kind, 0, op.timeout_ns);
        if (op.kind == OpKind::TryRead) {
          const adapter::NonBlockingCall call(*scheduler_);
          r.read = consumer.try_read(std::span<std::byte>(out_));
          if (auto waited = call.violation("C#" + std::to_string(i) + " try_read()")) {
            scheduler_->fail(RunStatus::InvariantBroken, std::move(*waited));
          }
        } else {
          assert(op.kind == OpKind::Read);
          r.read = consumer.read(std::span<std::byte>(out_), deadline(op.timeout_ns));
        }
        delivered(r);
      }
    }

    // Per-op checks at the consumer's response: no entry twice, counters consistent between ops.
    void delivered(Record& r) {
      if (r.read.status == ReadStatus::Entry) {
        const std::uint32_t length = std::min(r.read.payload_bytes, kSlotPayloadBytesMax);
        std::memcpy(r.data.data(), out_.data(), length);
        if (last_delivered_ && r.read.seq <= *last_delivered_) {
          scheduler_->fail(RunStatus::InvariantBroken, adapter::duplicate_message(r.read.seq, *last_delivered_));
        }
        last_delivered_ = r.read.seq;
      }
      end(r);
      if (auto broken = counters_between_reads(*lane_.header)) {
        scheduler_->fail(RunStatus::InvariantBroken, std::move(*broken));
      }
    }

    const Scenario* scenario_ = nullptr;
    Scheduler* scheduler_ = nullptr;
    std::optional<Platform> platform_;
    Weakening weakening_;  // the planted ordering bug, if any (plants.hpp)
    std::byte* block_ = nullptr;
    std::size_t block_bytes_ = 0;
    EventsLaneRef lane_;
    std::vector<Record> history_;
    std::vector<std::array<std::byte, kSlotPayloadBytesMax + 8>> payloads_;
    std::array<std::byte, kSlotPayloadBytesMax> out_{};
    std::optional<std::uint64_t> last_delivered_;
    std::size_t drain_reads_max_ = 0;
  };
};

using RealAdapter = Adapter<SimPlatform>;

}  // namespace indexbus::sim::events

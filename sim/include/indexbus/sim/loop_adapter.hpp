// The scenario adapter of routers and merges (loop_scenario.hpp): the real core loop
// (core/include/indexbus/router.hpp, merge.hpp) runs as one actor among the producers of its input
// lanes and the consumers of its output lanes, all on SimPlatform in one simulated region.
//
// Actors: producers 0..I-1 (producer i writes input i, then closes), the loop actor I (step()
// until Closed, pausing on Idle exactly as loop_detail::run paces it, within kLoopStepsMax steps),
// consumers I+1..I+O (consumer o drains output o to Closed with reads without a deadline).
//
// Checks: after every step, every lane's invariants (events_adapter.hpp check_lane_words); after
// each consumer read, no entry twice and the counters; after the run, the outputs against spec/'s
// models: spec::route (RT-2..RT-6) and spec::merge_order (MG-3..MG-5) exactly, spec::check_arrival
// (MG-6) for Arrival, with the loop's counters (RT-9, MG-8). Where a Drop lane loses entries the
// check is as exact as the observations allow (check_outputs in loop_adapter.cpp). A loop that
// does not propagate Closed (RT-10, MG-9) leaves its consumers parked: a deadlock.
//
// Templated over the loop's Hooks (loop.hpp), so that sim/tests can run the deliberately broken
// loops of core/tests/support/broken_loop_hooks.hpp through the same pipeline.
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
#include "indexbus/loop.hpp"
#include "indexbus/merge.hpp"
#include "indexbus/router.hpp"
#include "indexbus/sim/adapter_common.hpp"
#include "indexbus/sim/events_adapter.hpp"
#include "indexbus/sim/loop_scenario.hpp"
#include "indexbus/sim/outcome.hpp"
#include "indexbus/sim/plants.hpp"
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/sim_platform.hpp"

namespace indexbus::sim::loops {

// Loop steps per run: idle steps pause until another actor stores, so a correct loop needs a few
// per lane operation of the others; a loop past this is spinning.
inline constexpr std::uint32_t kLoopStepsMax = 4096;

enum class RecordKind : std::uint8_t { TryWrite, Write, Close, Step, Read };

struct Record {
  std::uint32_t actor = 0;
  RecordKind kind = RecordKind::Step;
  std::uint32_t lane = 0;      // producers: the input; consumers: the output
  std::uint32_t op_index = 0;  // producers: the op; the loop: the step; consumers: the read
  std::uint64_t key = 0;       // writes
  std::uint64_t invoke_time = 0;
  std::uint64_t response_time = 0;
  bool done = false;
  WriteStatus write_status = WriteStatus::Ok;
  LoopStatus step_status = LoopStatus::Idle;
  ReadResult read;
  std::uint64_t emitted_at_response = 0;  // merges: emits made when the write returned (MG-6)
  std::uint64_t response_step = 0;        // writes: the scheduler step at the response (MG-6)
  // Loop steps: emits made before the step, and the step of the loop's last visibility flush
  // under the weak model (every store up to it is visible to the loop; sc: unused). MG-6 counts a
  // write's bound from the first step whose flush covers the write (loop_adapter.cpp).
  std::uint64_t emitted_before = 0;
  std::uint64_t flush_step = 0;
  bool weak = false;  // the run is under the weak model
  std::array<std::byte, kLoopSlotBytes> data{};
};

// What the loop reported when the run ended (its counters).
struct LoopCounters {
  bool constructed = false;
  std::uint64_t moved_count = 0;       // router: routed_count; merge: emitted_count
  std::uint64_t input_lost_count = 0;  // RT-9, MG-8
  std::uint64_t short_key_count = 0;   // RT-4 (router)
};

std::string describe(const Scenario& scenario, const Record& record);
std::string actor_name(const Scenario& scenario, std::uint32_t actor);
// The post-run checks: delivered entries are whole writes, then outputs and counters against the
// models. Defined in loop_adapter.cpp, shared by every Hooks instance.
CheckOutcome check_outputs(const Scenario& scenario, const std::vector<Record>& history, const LoopCounters& counters);
// What one run reached (reach.hpp): the scenario's policy and lanes, the producers' calls, the
// loop's steps, the consumers' reads, and whether the loop counted a Lost on an input.
void tally(const Scenario& scenario, const std::vector<Record>& history, const LoopCounters& counters,
           reach::Counts& counts);
// Lane i's block inside the region (inputs first, then outputs), and the region's size.
std::size_t lane_offset_bytes(const Scenario& scenario, std::uint32_t lane);
// "in0.write_seq", "out1.slot[0].stamp", ... for an address in the region; "" if outside.
std::string name_word(const Scenario& scenario, const std::byte* region, const void* address);
bool check_lanes(const Scenario& scenario, const std::byte* region, std::string& message);

template <typename Hooks = DefaultLoopHooks>
class Adapter {
 public:
  using ScenarioType = Scenario;
  static constexpr const char* kLaneName = "router|merge";
  static std::uint32_t actor_count(const Scenario& s) noexcept { return s.input_count() + 1 + s.output_count(); }
  // The table asks the world (actor roles depend on the scenario); this is the fallback.
  static const char* actor_name(std::uint32_t) noexcept { return "actor"; }
  static std::string to_string(const Scenario& s) { return loops::to_string(s); }
  static std::optional<Scenario> parse(std::string_view text, std::string* error) { return parse_scenario(text, error); }
  static std::vector<Scenario> shrinks(const Scenario& s) { return simple_shrinks(s); }

  class World {
   public:
    World() = default;
    World(const World&) = delete;
    World& operator=(const World&) = delete;
    ~World() {
      router_.reset();
      merge_.reset();
      std::free(region_);
    }

    // Fresh lanes, loop and history for one run. Allocates only when the scenario grew. A loop
    // left half-constructed by an aborted run (its constructor makes scheduling points) is
    // abandoned with its fiber; the checks that abort runs (lane invariants, duplicates) do not
    // fire before a loop has run, so in practice none is.
    void reset(const Scenario& scenario, Scheduler& scheduler) {
      assert(scenario.input_count() + 1 + scenario.output_count() <= kActorsMax);
      router_.reset();
      merge_.reset();
      scenario_ = &scenario;
      scheduler_ = &scheduler;
      platform_.emplace(scheduler, scenario.parking, scheduler.options().barrier);
      const std::uint32_t lane_count = scenario.input_count() + scenario.output_count();
      const std::size_t bytes = lane_offset_bytes(scenario, lane_count);
      if (bytes > region_bytes_) {
        std::free(region_);
        region_ = static_cast<std::byte*>(std::aligned_alloc(kCacheLineBytes, bytes));
        assert(region_ != nullptr);
        region_bytes_ = bytes;
      }
      std::memset(region_, 0, bytes);
      lanes_.clear();
      for (std::uint32_t l = 0; l < lane_count; ++l) {
        const LaneSpec& spec = l < scenario.input_count() ? scenario.inputs[l] : scenario.outputs[l - scenario.input_count()];
        std::byte* block = region_ + lane_offset_bytes(scenario, l);
        lanes_.push_back(EventsLaneRef{reinterpret_cast<EventsLaneHeader*>(block), block + sizeof(EventsLaneHeader),
                                       spec.capacity_slots, kLoopSlotBytes, spec.on_full});
      }
      const std::span<const EventsLaneRef> lanes(lanes_);
      plant_into(scheduler.options().plant,
                 PlantSite{.loop_inputs = lanes.first(scenario.input_count()),
                           .loop_outputs = lanes.subspan(scenario.input_count())},
                 weakening_);
      platform_->plant(&weakening_);
      scheduler.set_hash_base(region_);
      std::size_t writes = 0;
      for (const auto& ops : scenario.producers) writes += ops.size();
      // Each read is an entry, a Lost report (at most one per entry) or the final Closed.
      drain_reads_max_ = 2 * writes + 1;
      history_.clear();
      // Never reallocated during a run: actors hold references into it across scheduling points.
      history_.reserve(writes + kLoopStepsMax + scenario.output_count() * drain_reads_max_);
      last_delivered_.fill(std::nullopt);
    }

    static void body(void* context, std::uint32_t actor) {
      auto& world = *static_cast<World*>(context);
      const std::uint32_t inputs = world.scenario_->input_count();
      if (actor < inputs) {
        world.run_producer(actor);
      } else if (actor == inputs) {
        world.run_loop();
      } else {
        world.run_consumer(actor - inputs - 1);
      }
    }

    static bool invariant(void* context, std::string& message) {
      const auto& world = *static_cast<const World*>(context);
      return check_lanes(*world.scenario_, world.region_, message);
    }

    CheckOutcome check() const { return check_outputs(*scenario_, history_, counters()); }
    void tally(reach::Counts& counts) const { loops::tally(*scenario_, history_, counters(), counts); }
    const std::vector<Record>& history() const noexcept { return history_; }
    std::string describe_op(std::size_t index) const { return describe(*scenario_, history_[index]); }
    std::vector<std::string> model_states(const std::vector<std::size_t>&) const {
      return std::vector<std::string>(history_.size());
    }
    std::string name(const void* address) const { return name_word(*scenario_, region_, address); }
    std::string actor_name(std::uint32_t actor) const { return loops::actor_name(*scenario_, actor); }

   private:
    LoopCounters counters() const {
      LoopCounters c;
      if (router_) {
        c = LoopCounters{true, router_->stats().routed_count, router_->stats().input_lost_count,
                         router_->stats().short_key_count};
      } else if (merge_) {
        c = LoopCounters{true, merge_->stats().emitted_count, merge_->stats().input_lost_count, 0};
      }
      return c;
    }

    Record& begin(std::uint32_t actor, RecordKind kind, std::uint32_t lane, std::uint32_t op_index) {
      Record& r = adapter::begin_record(*scheduler_, history_);
      r.actor = actor;
      r.kind = kind;
      r.lane = lane;
      r.op_index = op_index;
      return r;
    }
    void end(Record& r) { adapter::end_record(*scheduler_, history_, r); }

    void run_producer(std::uint32_t input) {
      EventsProducer<SimPlatform> producer(*platform_, lanes_[input]);
      const auto& ops = scenario_->producers[input];
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        const RecordKind kind = op.kind == OpKind::TryWrite ? RecordKind::TryWrite
                                : op.kind == OpKind::Write  ? RecordKind::Write
                                                            : RecordKind::Close;
        Record& r = begin(input, kind, input, i);
        r.key = op.key;
        r.data = entry_of(input, i, op.key);
        const std::span<const std::byte> payload(r.data);
        switch (op.kind) {
          case OpKind::TryWrite: r.write_status = producer.try_write(payload); break;
          case OpKind::Write: r.write_status = producer.write(payload, kNoDeadline); break;
          case OpKind::Close: producer.close(); break;
        }
        // At the response, not the publication: never fewer emits than there were at publication,
        // so the MG-6 bound computed from it is never stricter than the rule.
        if (merge_) r.emitted_at_response = merge_->stats().emitted_count;
        r.response_step = scheduler_->step();
        end(r);
      }
    }

    void run_loop() {
      const std::uint32_t inputs = scenario_->input_count();
      const std::span<const EventsLaneRef> in(lanes_.data(), inputs);
      const std::span<const EventsLaneRef> out(lanes_.data() + inputs, scenario_->output_count());
      if (scenario_->kind == LoopKind::Router) {
        router_.emplace(*platform_, in[0], out, static_cast<RouterPolicy>(scenario_->policy), 0);
      } else {
        merge_.emplace(*platform_, in, out[0], static_cast<MergePolicy>(scenario_->policy), 0);
      }
      std::uint32_t idle_rounds = 0;
      for (std::uint32_t s = 0;; ++s) {
        if (s == kLoopStepsMax) {
          scheduler_->fail(RunStatus::StepBudget,
                           "the loop made " + std::to_string(kLoopStepsMax) + " steps without Closed");
        }
        Record& r = begin(inputs, RecordKind::Step, 0, s);
        if (merge_) r.emitted_before = merge_->stats().emitted_count;
        if (scheduler_->weak()) {
          r.weak = true;
          r.flush_step = scheduler_->weak_memory().flush_step(inputs);
        }
        r.step_status = router_ ? router_->step() : merge_->step();
        end(r);
        if (r.step_status == LoopStatus::Closed) return;
        if (r.step_status == LoopStatus::Progress) {
          idle_rounds = 0;
          continue;
        }
        // As loop_detail::run paces idle steps (no deadline: the step budget bounds the run).
        platform_->pause(idle_rounds, kNoDeadline);
        if (idle_rounds < UINT32_MAX) ++idle_rounds;
      }
    }

    void run_consumer(std::uint32_t output) {
      const std::uint32_t actor = scenario_->input_count() + 1 + output;
      const EventsLaneRef& lane = lanes_[scenario_->input_count() + output];
      EventsConsumer<SimPlatform> consumer(*platform_, lane);
      for (std::uint32_t reads = 0;; ++reads) {
        if (reads == drain_reads_max_) {
          scheduler_->fail(RunStatus::InvariantBroken,
                           "consumer " + std::to_string(output) + " read more than every write, a Lost each and Closed");
        }
        Record& r = begin(actor, RecordKind::Read, output, reads);
        r.read = consumer.read(std::span<std::byte>(out_[output]), kNoDeadline);
        if (r.read.status == ReadStatus::Entry) {
          std::memcpy(r.data.data(), out_[output].data(), std::min<std::size_t>(r.read.payload_bytes, kLoopSlotBytes));
          auto& last = last_delivered_[output];
          if (last && r.read.seq <= *last) {
            scheduler_->fail(RunStatus::InvariantBroken,
                             "output " + std::to_string(output) + ": " + adapter::duplicate_message(r.read.seq, *last));
          }
          last = r.read.seq;
        }
        end(r);
        if (auto broken = events::counters_between_reads(*lane.header)) {
          scheduler_->fail(RunStatus::InvariantBroken, "output " + std::to_string(output) + ": " + *broken);
        }
        if (r.read.status == ReadStatus::Closed) return;
      }
    }

    const Scenario* scenario_ = nullptr;
    Scheduler* scheduler_ = nullptr;
    std::optional<SimPlatform> platform_;
    Weakening weakening_;  // the planted ordering bug, if any (plants.hpp)
    std::byte* region_ = nullptr;
    std::size_t region_bytes_ = 0;
    std::vector<EventsLaneRef> lanes_;  // inputs, then outputs
    std::optional<Router<SimPlatform, Hooks>> router_;
    std::optional<Merge<SimPlatform, Hooks>> merge_;
    std::vector<Record> history_;
    std::array<std::array<std::byte, kLoopSlotBytes>, kLoopLanesMax> out_{};
    std::array<std::optional<std::uint64_t>, kLoopLanesMax> last_delivered_{};
    std::size_t drain_reads_max_ = 0;
  };
};

using RealAdapter = Adapter<DefaultLoopHooks>;

}  // namespace indexbus::sim::loops

// The scenario adapter of the three ring lanes (Journal, SequencedSlots, FanoutBroadcast): it maps
// each scenario op to a lane call on the platform, records the history, checks the lane's
// invariants after every step (ring_adapter.cpp, check_ring_words) and the history against the
// kind's spec model after every run (through conformance/linearizability/rings.hpp), and names
// shared words for reports. What it shares with the Events adapter is in adapter_common.hpp.
//
// The adapter is a template over a Lanes policy: the platform type and the lane classes. The
// real lanes are RealLanes; sim/tests/broken_rings.hpp swaps in test-only broken variants (a
// producer that ignores a consumer, a platform that drops the seqlock re-check, ...) and runs them
// through exactly the same pipeline.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "indexbus/fanout.hpp"
#include "indexbus/journal.hpp"
#include "indexbus/layout.hpp"
#include "indexbus/ring.hpp"
#include "indexbus/sequenced_slots.hpp"
#include "indexbus/sim/adapter_common.hpp"
#include "indexbus/sim/outcome.hpp"
#include "indexbus/sim/plants.hpp"
#include "indexbus/sim/reach.hpp"
#include "indexbus/sim/ring_scenario.hpp"
#include "indexbus/sim/scheduler.hpp"
#include "indexbus/sim/sim_platform.hpp"

namespace indexbus::sim::ring {

struct Record {
  std::uint32_t actor = 0;           // 0 producer, 1 + i reader i
  OpKind kind = OpKind::TryRead;     // Drain is recorded as Read (and Commit, for Journal)
  std::uint32_t op_index = 0;        // index in the actor's list (the payload id for writes)
  std::uint32_t payload_bytes = 0;
  std::uint64_t timeout_ns = kNoDeadline;
  std::uint64_t seq = 0;             // ReadAt: the sequence asked for; AdvanceTime: the ns
  // Journal with a reader timeout: the clock at the invocation (a blocking read's heartbeat, JR-10);
  // kNoDeadline otherwise.
  std::uint64_t invoke_ns = kNoDeadline;
  // Journal with a reader timeout: the heartbeat the call (or attach) stored, kNoDeadline if it
  // stored none (its CAS failed). The model takes it as the call's first step (JournalBeginCall).
  std::uint64_t heartbeat_ns = kNoDeadline;
  // Journal with a reader timeout, a write: the records it evicted, in order (JournalEvict steps).
  bool evictions_recorded = false;
  std::uint32_t handle = 0;          // Journal reader ops: the handle's generation (0: none)
  bool evictions_possible = false;   // Journal with a reader timeout
  std::uint8_t evicted_count = 0;
  std::array<std::uint8_t, 8> evicted{};
  // Journal, a commit that answered Evicted: it stored its cursor (JournalPublishCursor step).
  bool commit_stored = false;
  std::uint32_t reader = 0;          // the model's reader / consumer index (Journal: from attach)
  std::uint64_t invoke_time = 0;
  std::uint64_t response_time = kNoDeadline;  // linearizability::kPendingTime
  bool done = false;
  linearizability::HappensBefore hb{};  // weak memory: precedence is happens-before
  bool ok = true;                    // Commit, Heartbeat, Attach
  bool named = false;                // Attach: by the name "r<actor - 1>"
  ErrorCode attach_error = ErrorCode::NoFreeReader;  // Attach, when !ok
  WriteStatus write_status = WriteStatus::Ok;  // writes, claims, publishes
  std::uint64_t claim_seq = 0;       // SequencedSlots claim: Ok only
  ReadResult read;
  std::array<std::byte, events::kSlotPayloadBytesMax> data{};
};

std::string describe(const Scenario& scenario, const Record& record);
std::vector<std::string> model_states(const Scenario& scenario, const std::vector<Record>& history,
                                      const std::vector<std::size_t>& order);
// Post-run: torn entries, then linearizability against the kind's spec model.
CheckOutcome check_history(const Scenario& scenario, const std::vector<Record>& history);
std::string name_word(const std::byte* block, const Scenario& scenario, const void* address);
// What one run reached (reach.hpp): the scenario's options, every call and its outcome, and
// (Journal) the lane's reader timeout and whether the writer evicted anyone (eviction_count).
void tally(const Scenario& scenario, const std::vector<Record>& history, std::uint64_t reader_timeout_ns,
           std::uint64_t eviction_count, reach::Counts& counts);
// The lane invariants that hold after every step; false and a message if one is broken.
// A Journal record whose fresh attach is under way carries an attach tag on its cursor and does
// not gate yet (layout.md, "Attach ordering"); every untagged attached cursor gates, even before
// its attach returns.
bool check_ring_words(const std::byte* block, const Scenario& scenario, std::string& message);
// Per reader op, at its response (Fanout/SequencedSlots): read_count + lost_count == cursor.
bool check_reader_counters(const std::byte* block, const Scenario& scenario, std::uint32_t reader,
                           std::string& message);

struct RealLanes {
  using Platform = SimPlatform;
  template <typename P> using Fanout = FanoutProducer<P>;
  template <typename P> using FanoutReader = FanoutConsumer<P>;
  template <typename P> using Sequenced = SequencedProducer<P>;
  template <typename P> using SequencedReader = SequencedConsumer<P>;
  template <typename P> using Journal = JournalWriter<P>;
  template <typename P> using JournalRd = JournalReader<P>;
};

template <typename Lanes = RealLanes>
class Adapter {
 public:
  using ScenarioType = Scenario;
  using Platform = typename Lanes::Platform;
  static std::uint32_t actor_count(const Scenario& s) noexcept { return 1 + s.reader_count(); }
  static const char* actor_name(std::uint32_t actor) noexcept {
    static constexpr const char* kNames[] = {"producer", "reader0", "reader1", "reader2", "clock"};
    return actor <= kClockActor ? kNames[actor] : "?";
  }
  static std::string to_string(const Scenario& s) { return ring::to_string(s); }
  static std::optional<Scenario> parse(std::string_view text, std::string* error) { return parse_scenario(text, error); }
  static std::vector<Scenario> shrinks(const Scenario& s) { return simple_shrinks(s); }

  class World {
   public:
    World() = default;
    World(const World&) = delete;
    World& operator=(const World&) = delete;
    ~World() { std::free(block_); }

    void reset(const Scenario& scenario, Scheduler& scheduler) {
      scenario_ = &scenario;
      scheduler_ = &scheduler;
      platform_.emplace(scheduler, scenario.parking, scheduler.options().barrier);
      const std::uint32_t readers = scenario.reader_count();
      assert(readers >= 1 && readers <= kReadersMax);
      assert(scenario.slot_payload_bytes <= events::kSlotPayloadBytesMax);
      const std::size_t bytes =
          lane_block_bytes(scenario.kind, scenario.capacity_slots, scenario.slot_payload_bytes, readers);
      if (bytes > block_bytes_) {
        std::free(block_);
        block_ = static_cast<std::byte*>(std::aligned_alloc(kCacheLineBytes, bytes));
        assert(block_ != nullptr);
        block_bytes_ = bytes;
      }
      std::memset(block_, 0, bytes);
      lane_ = RingLaneRef{reinterpret_cast<RingLaneHeader*>(block_),
                          reinterpret_cast<ReaderRecord*>(block_ + sizeof(RingLaneHeader)),
                          block_ + ring_slots_offset(readers),
                          scenario.kind,
                          scenario.on_full,
                          scenario.capacity_slots,
                          scenario.slot_payload_bytes,
                          readers,
                          scenario.reader_timeout_ns};
      // With a reader timeout the clock moves only at jumps, each recorded as an AdvanceTime
      // operation (note_clock), so the model's clock equals the lane's at every step.
      scheduler.set_clock_moves_only_when_idle(scenario.reader_timeout_ns != 0);
      clock_ns_ = 0;
      for (std::uint32_t i = 0; i < scenario.gates.size(); ++i) lane_.readers[i].gated_on_mask = scenario.gates[i];
      if constexpr (requires(Platform& p) { p.configure(lane_); }) platform_->configure(lane_);
      plant_into(scheduler.options().plant, PlantSite{.ring = &lane_}, weakening_);
      platform_->plant(&weakening_);
      scheduler.set_hash_base(block_);
      std::size_t writes = 0;
      for (const OpSpec& op : scenario.producer) writes += op.kind != OpKind::Close ? 1 : 0;
      // Drain: at most every write, Lost reports (one per gap) and Closed; each with a commit.
      drain_reads_max_ = 2 * writes + 2;
      history_.clear();
      record_generation_ = {};
      handle_ = {};
      std::size_t records = 2 * scenario.producer.size();
      for (const auto& ops : scenario.readers) records += 2 + 2 * ops.size() + 2 * drain_reads_max_;
      // Clock jumps (scenario `jumps=<n>`; off for every other scenario: the scheduler is shared
      // by the scenarios of an exploration), each recorded at once (clock_jumped). A jump must
      // leave every heartbeat taken before it silent after it, and a heartbeat runs ahead of the
      // clock by up to one per reader call or attach since the clock last moved (journal.hpp:
      // max(now, last + 1)): so timeout + 1 + an upper bound on the run's operations (records).
      const bool jumps = scenario.reader_timeout_ns != 0 && scenario.clock_jumps != 0;
      scheduler.set_clock_jumps(jumps ? scenario.reader_timeout_ns + 1 + records : 0, jumps ? scenario.clock_jumps : 0,
                                jumps ? &World::clock_jumped : nullptr);
      // At most one clock record before each invocation and each response, and two per jump
      // (clock_jumped). Reserved: actors hold references to their records across steps.
      if (scenario.reader_timeout_ns != 0) records = 2 * records + 2 * scenario.clock_jumps;
      history_.reserve(records);
      payloads_.resize(scenario.producer.size());
      for (std::size_t i = 0; i < scenario.producer.size(); ++i) {
        for (std::size_t j = 0; j < payloads_[i].size(); ++j) payloads_[i][j] = events::payload_byte(i, j);
      }
      last_delivered_.fill(kNone);
      reader_id_.fill(0);
    }

    static void body(void* context, std::uint32_t actor) {
      auto& world = *static_cast<World*>(context);
      const auto& platform = *world.platform_;
      switch (world.scenario_->kind) {
        case LaneKind::FanoutBroadcast:
          if (actor == 0) {
            typename Lanes::template Fanout<Platform> producer(platform, world.lane_);
            world.run_writer(producer);
          } else {
            typename Lanes::template FanoutReader<Platform> consumer(platform, world.lane_, actor - 1);
            world.run_reader(consumer, actor);
          }
          break;
        case LaneKind::SequencedSlots:
          if (actor == 0) {
            typename Lanes::template Sequenced<Platform> producer(platform, world.lane_);
            world.run_claimer(producer);
          } else {
            typename Lanes::template SequencedReader<Platform> consumer(platform, world.lane_, actor - 1);
            world.run_reader(consumer, actor);
          }
          break;
        case LaneKind::Journal:
          if (actor == 0) {
            typename Lanes::template Journal<Platform> writer(platform, world.lane_);
            world.run_writer(writer);
          } else {
            world.run_journal_reader(actor);
          }
          break;
        case LaneKind::Events: assert(false); break;
      }
    }

    static bool invariant(void* context, std::string& message) {
      const auto& world = *static_cast<const World*>(context);
      return check_ring_words(world.block_, *world.scenario_, message);
    }

    CheckOutcome check() const { return check_history(*scenario_, history_); }
    void tally(reach::Counts& counts) const {
      ring::tally(*scenario_, history_, lane_.reader_timeout_ns, lane_.header->eviction_count, counts);
    }
    const std::vector<Record>& history() const noexcept { return history_; }
    std::string describe_op(std::size_t index) const { return describe(*scenario_, history_[index]); }
    std::vector<std::string> model_states(const std::vector<std::size_t>& order) const {
      return ring::model_states(*scenario_, history_, order);
    }
    std::string name(const void* address) const { return name_word(block_, *scenario_, address); }

   private:
    static constexpr std::uint64_t kNone = ~std::uint64_t{0};

    // A Journal scenario with a reader timeout: records a move of the clock since the last
    // invocation or response as an operation of its own actor, stamped in real time (no
    // happens-before stamp) between them. The clock moves only when every actor waits, so each
    // operation that ran an access after the move is in flight at the move and overlaps the
    // record: the checker may place the move before it, and must place it before every operation
    // invoked later and after every one that returned earlier.
    void note_clock() {
      if (scenario_->reader_timeout_ns == 0) return;
      record_clock(scheduler_->now_ns());
    }

    // A clock jump (scheduler.hpp, "Clock jumps"), called by the scheduler at the jump, before any
    // actor runs again. Unlike an idle move, a jump lands while actors are in the middle of calls,
    // between two of their accesses: each access before it read the old clock, each after it the
    // new one. Recorded here, the move gets the event times between the last invocation or
    // response before the jump and the first after it, which is the real-time order the lane
    // showed: an operation that returned before the jump saw only the old clock and is ordered
    // before the move; one invoked after saw only the new clock and is ordered after it; one in
    // flight overlaps the move, and the checker places each of its steps (JournalBeginCall, the
    // call's effect, a write's JournalEvict steps) on the side the model admits, as the
    // preemption allowed the lane to. Noting lazily, at the next invocation or response, would
    // give the same order only because every begin() and end() notes first; recording at once
    // does not rest on that. A move made while everyone waited and not noted yet (no invocation
    // or response since) is recorded first, as its own operation.
    static void clock_jumped(void* context, std::uint64_t jump_ns) {
      auto& world = *static_cast<World*>(context);
      assert(world.scheduler_->now_ns() >= world.clock_ns_ + jump_ns);
      world.record_clock(world.scheduler_->now_ns() - jump_ns);
      world.record_clock(world.scheduler_->now_ns());
    }

    void record_clock(std::uint64_t now_ns) {
      if (now_ns == clock_ns_) return;
      assert(now_ns > clock_ns_);
      assert(history_.size() < history_.capacity());
      Record& r = history_.emplace_back();
      r.actor = kClockActor;
      r.kind = OpKind::AdvanceTime;
      r.seq = now_ns - clock_ns_;
      r.invoke_time = scheduler_->next_event_time();
      r.response_time = scheduler_->next_event_time();
      r.done = true;
      clock_ns_ = now_ns;
    }

    Record& begin(std::uint32_t actor, std::uint32_t op_index, OpKind kind, const OpSpec& op) {
      note_clock();
      Record& r = adapter::begin_record(*scheduler_, history_);
      if (scenario_->reader_timeout_ns != 0) r.invoke_ns = scheduler_->now_ns();
      r.actor = actor;
      r.kind = kind;
      r.op_index = op_index;
      r.payload_bytes = op.payload_bytes;
      r.timeout_ns = op.timeout_ns;
      r.seq = op.seq;
      r.reader = actor == 0 ? 0 : reader_id_[actor - 1];
      r.handle = actor == 0 ? 0 : handle_[actor - 1];
      r.evictions_possible = scenario_->reader_timeout_ns != 0;
      return r;
    }
    void end(Record& r) {
      note_clock();
      adapter::end_record(*scheduler_, history_, r);
    }
    // "R0#3": the actor and its op, as describe() names them.
    static std::string actor_op(const Record& r) {
      return (r.actor == 0 ? std::string("P") : "R" + std::to_string(r.actor - 1)) + "#" + std::to_string(r.op_index);
    }
    std::uint64_t deadline(std::uint64_t timeout_ns) const noexcept {
      return adapter::deadline_after(*scheduler_, timeout_ns);
    }
    std::span<const std::byte> payload(std::uint32_t op_index, std::uint32_t bytes) const noexcept {
      return {payloads_[op_index].data(), bytes};
    }

    // FanoutBroadcast and Journal producers: try_write, write, close.
    template <typename Writer>
    void run_writer(Writer& writer) {
      const auto& ops = scenario_->producer;
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        Record& r = begin(0, i, op.kind, op);
        switch (op.kind) {
          case OpKind::TryWrite: r.write_status = writer.try_write(payload(i, op.payload_bytes)); break;
          case OpKind::Write: r.write_status = writer.write(payload(i, op.payload_bytes), deadline(op.timeout_ns)); break;
          case OpKind::Close: writer.close(); break;
          default: assert(false);
        }
        if constexpr (requires { writer.last_call_evictions(); }) note_evictions(writer, r);
        end(r);
      }
    }

    // SequencedSlots producer: a write is a claim, the payload written in place (a racy word copy:
    // every word a step, as lapped consumers may be copying it), then publish.
    template <typename Producer>
    void run_claimer(Producer& producer) {
      const auto& ops = scenario_->producer;
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        const bool close_claimed = op.kind == OpKind::ClaimClosePublish;  // SS-10: try_claim, close, publish
        Record& r = begin(0, i, close_claimed ? OpKind::TryWrite : op.kind, op);
        if (op.kind == OpKind::Close) {
          producer.close();
          end(r);
          continue;
        }
        const ClaimResult claim = op.kind == OpKind::Write ? producer.claim(deadline(op.timeout_ns)) : producer.try_claim();
        r.write_status = claim.status;
        r.claim_seq = claim.status == WriteStatus::Ok ? claim.seq : 0;
        end(r);
        if (close_claimed) {
          Record& c = begin(0, i, OpKind::Close, op);
          producer.close();
          end(c);
        }
        if (claim.status != WriteStatus::Ok) continue;
        Record& p = begin(0, i, OpKind::Publish, op);
        const std::size_t bytes = std::min<std::size_t>(op.payload_bytes, claim.payload.size());
        // Whole words: the slot holds whole words, and the platform copies 8 bytes at a time.
        platform_->copy_to_shared_racy(claim.payload.data(), payloads_[i].data(), (bytes + 7) / 8 * 8);
        p.write_status = producer.publish(op.payload_bytes);
        end(p);
      }
    }

    template <typename Reader>
    void read_once(Reader& reader, Record& r, bool blocking, std::uint64_t timeout_ns) {
      const std::span<std::byte> out(out_[r.actor - 1]);
      if (blocking) {
        r.read = reader.read(out, deadline(timeout_ns));
      } else {
        const adapter::NonBlockingCall call(*scheduler_);
        r.read = reader.try_read(out);
        if (auto waited = call.violation(actor_op(r) + " try_read()")) {
          scheduler_->fail(RunStatus::InvariantBroken, std::move(*waited));
        }
      }
      delivered(r, true);
    }

    // FanoutBroadcast and SequencedSlots consumers.
    template <typename Reader>
    void run_reader(Reader& reader, std::uint32_t actor) {
      reader_id_[actor - 1] = actor - 1;
      const auto& ops = scenario_->readers[actor - 1];
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        if (op.kind == OpKind::Drain) {
          for (std::size_t reads = 0;; ++reads) {
            if (reads == drain_reads_max_) {
              scheduler_->fail(RunStatus::InvariantBroken, "drain read more than every write, loss and Closed");
            }
            Record& r = begin(actor, i, OpKind::Read, op);
            read_once(reader, r, true, kNoDeadline);
            if (r.read.status == ReadStatus::Closed) break;
          }
          continue;
        }
        Record& r = begin(actor, i, op.kind, op);
        read_once(reader, r, op.kind == OpKind::Read, op.timeout_ns);
      }
    }

    void run_journal_reader(std::uint32_t actor) {
      using Reader = typename Lanes::template JournalRd<Platform>;
      // Readers attach at once, racing each other and the writer (JR-3: racing attaches take
      // reusable records in either order; the model takes the record each attach took).
      std::optional<Reader> reader;
      const std::string name = scenario_->named ? "r" + std::to_string(actor - 1) : "";
      auto attach = [&](std::uint32_t op_index) {
        const OpSpec attach_op{OpKind::Attach, 0, kNoDeadline, 0};
        Record& a = begin(actor, op_index, OpKind::Attach, attach_op);
        a.named = !name.empty();
        auto attached = Reader::attach(*platform_, lane_, name);
        if (attached.ok()) {
          reader.emplace(std::move(attached.value()));
        } else {
          a.attach_error = attached.error().code;
        }
        a.ok = reader.has_value();
        a.reader = reader ? reader->reader_id() : 0;
        if (reader && scenario_->reader_timeout_ns != 0) a.heartbeat_ns = reader->last_heartbeat_ns();
        // Attaches of one record follow each other (the next needs this holder gone): their
        // order of return is the order of the record's generations.
        if (reader) handle_[actor - 1] = ++record_generation_[a.reader];
        reader_id_[actor - 1] = a.reader;
        end(a);
        last_delivered_[actor - 1] = kNone;  // a resume reads again from the committed cursor
      };
      attach(0);
      if (!reader) return;
      const auto& ops = scenario_->readers[actor - 1];
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const OpSpec& op = ops[i];
        // Only X before A has a meaning; a shrunk scenario may hold a lone one: skipped.
        if (op.kind == OpKind::Reattach) {
          if (!reader) attach(i);
          continue;
        }
        if (!reader) continue;
        switch (op.kind) {
          case OpKind::Detach: {
            Record& r = begin(actor, i, OpKind::Detach, op);
            reader->detach();
            reader.reset();
            end(r);
            break;
          }
          case OpKind::Drain: {
            // Commit first: reads before the drain may hold a Block writer back, and the drain's
            // first read may wait for that writer.
            Record& first = begin(actor, i, OpKind::Commit, op);
            const HeartbeatNote first_note(*this, *reader, first);
            commit(*reader, first);
            end(first);
            for (std::size_t reads = 0;; ++reads) {
              if (reads == drain_reads_max_) {
                scheduler_->fail(RunStatus::InvariantBroken, "drain read more than every write, loss and Closed");
              }
              Record& r = begin(actor, i, OpKind::Read, op);
              {
                const HeartbeatNote note(*this, *reader, r);
                read_once(*reader, r, true, kNoDeadline);
              }
              const ReadStatus status = r.read.status;
              Record& c = begin(actor, i, OpKind::Commit, op);
              const HeartbeatNote commit_note(*this, *reader, c);
              commit(*reader, c);
              end(c);
              if (status == ReadStatus::Closed || status == ReadStatus::Evicted) break;
            }
            break;
          }
          case OpKind::Commit:
          case OpKind::Heartbeat: {
            Record& r = begin(actor, i, op.kind, op);
            const HeartbeatNote note(*this, *reader, r);
            if (op.kind == OpKind::Commit) {
              commit(*reader, r);
            } else {
              r.ok = reader->heartbeat();
            }
            end(r);
            break;
          }
          case OpKind::ReadAt: {
            Record& r = begin(actor, i, op.kind, op);
            const HeartbeatNote note(*this, *reader, r);
            const adapter::NonBlockingCall call(*scheduler_);
            r.read = reader->read_at(op.seq, std::span<std::byte>(out_[actor - 1]));
            if (auto waited = call.violation(actor_op(r) + " read_at(" + std::to_string(op.seq) + ")")) {
              scheduler_->fail(RunStatus::InvariantBroken, std::move(*waited));
            }
            delivered(r, false);
            break;
          }
          default: {
            Record& r = begin(actor, i, op.kind, op);
            const HeartbeatNote note(*this, *reader, r);
            read_once(*reader, r, op.kind == OpKind::Read, op.timeout_ns);
          }
        }
      }
    }

    // Journal with a reader timeout: a write's evictions, each checked as a step of its own.
    template <typename Writer>
    void note_evictions(const Writer& writer, Record& r) {
      if (scenario_->reader_timeout_ns == 0 || r.kind == OpKind::Close) return;
      r.evictions_recorded = true;
      if (writer.last_call_eviction_count() > r.evicted.size()) {
        scheduler_->fail(RunStatus::InvariantBroken, "a write evicted more than " + std::to_string(r.evicted.size()) +
                                                         " readers: raise Record::evicted");
        return;
      }
      for (const std::uint32_t reader : writer.last_call_evictions()) r.evicted[r.evicted_count++] = static_cast<std::uint8_t>(reader);
    }

    // A commit; Journal: one that answered Evicted notes whether it stored its cursor (journal.hpp,
    // "Commit vs eviction"), checked as a JournalPublishCursor step.
    template <typename Reader>
    static void commit(Reader& reader, Record& r) {
      r.ok = reader.commit();
      if constexpr (requires { reader.last_commit_stored(); }) r.commit_stored = !r.ok && reader.last_commit_stored();
    }

    // Journal with a reader timeout: notes on a call's record the heartbeat the call stored, if it
    // stored one (the handle counts them), when the call returns. A call that never returns (the
    // run ended) keeps none: the model then takes its heartbeat at its step.
    template <typename Reader>
    class HeartbeatNote {
     public:
      HeartbeatNote(const World& world, const Reader& reader, Record& record) noexcept
          : reader_(&reader), record_(&record), before_(reader.heartbeat_count()),
            on_(world.scenario_->reader_timeout_ns != 0) {}
      ~HeartbeatNote() {
        if (on_ && reader_->heartbeat_count() != before_) record_->heartbeat_ns = reader_->last_heartbeat_ns();
      }
      HeartbeatNote(const HeartbeatNote&) = delete;
      HeartbeatNote& operator=(const HeartbeatNote&) = delete;

     private:
      const Reader* reader_;
      Record* record_;
      std::uint64_t before_;
      bool on_;
    };

    // Per-op checks at a reader's response: no entry twice (in-order reads), counters consistent.
    void delivered(Record& r, bool in_order) {
      const std::uint32_t reader = r.actor - 1;
      if (r.read.status == ReadStatus::Entry) {
        const std::uint32_t length = std::min(r.read.payload_bytes, events::kSlotPayloadBytesMax);
        std::memcpy(r.data.data(), out_[reader].data(), length);
        if (in_order) {
          const std::uint64_t last = last_delivered_[reader];
          if (last != kNone && r.read.seq <= last) {
            scheduler_->fail(RunStatus::InvariantBroken, adapter::duplicate_message(r.read.seq, last));
          }
          last_delivered_[reader] = r.read.seq;
        }
      }
      end(r);
      std::string message;
      if (scenario_->kind != LaneKind::Journal && !check_reader_counters(block_, *scenario_, reader, message)) {
        scheduler_->fail(RunStatus::InvariantBroken, message);
      }
    }

    const Scenario* scenario_ = nullptr;
    Scheduler* scheduler_ = nullptr;
    std::optional<Platform> platform_;
    Weakening weakening_;  // the planted ordering bug, if any (plants.hpp)
    std::byte* block_ = nullptr;
    std::size_t block_bytes_ = 0;
    RingLaneRef lane_;
    std::vector<Record> history_;
    std::vector<std::array<std::byte, events::kSlotPayloadBytesMax + 8>> payloads_;
    // One copy-out buffer per reader: readers interleave.
    std::array<std::array<std::byte, events::kSlotPayloadBytesMax>, kReadersMax> out_{};
    std::array<std::uint64_t, kReadersMax> last_delivered_{};
    std::array<std::uint32_t, kReadersMax> reader_id_{};
    // Journal: attaches of each record so far, and the generation each reader's handle got from its
    // attach (Record::handle): a handle's ops after its record was evicted and taken again.
    std::array<std::uint32_t, kReadersMax> record_generation_{};
    std::array<std::uint32_t, kReadersMax> handle_{};
    std::size_t drain_reads_max_ = 0;
    std::uint64_t clock_ns_ = 0;  // the clock as of the last AdvanceTime record (note_clock)
  };
};

using RealAdapter = Adapter<RealLanes>;

}  // namespace indexbus::sim::ring

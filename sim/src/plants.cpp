#include "indexbus/sim/plants.hpp"

#include <array>
#include <cassert>
#include <cstddef>

#include "indexbus/layout.hpp"
#include "indexbus/sim/loop_scenario.hpp"

namespace indexbus::sim {
namespace {

using Access = OrderRule::Access;
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;

// A plant adds at most two rules per lane it touches, and a site has at most 1 + kLoopLanesMax
// lanes (a loop's input and outputs).
static_assert(kOrderRulesMax >= 2 * (1 + loops::kLoopLanesMax));

void add(Weakening& out, const OrderRule& rule) noexcept {
  [[maybe_unused]] const bool added = out.add(rule);
  assert(added);
}

// ---- Words ----

OrderRule word(const void* address, std::uint32_t bytes, std::uint8_t accesses, std::memory_order order) noexcept {
  return OrderRule{accesses, static_cast<const std::byte*>(address), bytes, 0, 1, order};
}

// Every slot's stamp, or its payload bytes, of a lane whose slots are EventsSlotHeader + payload
// (Events and the ring kinds share the slot format, layout.hpp).
OrderRule stamps(std::byte* slots, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                 std::uint8_t accesses, std::memory_order order) noexcept {
  return OrderRule{accesses, slots + offsetof(EventsSlotHeader, stamp), sizeof(std::uint64_t),
                   static_cast<std::uint32_t>(events_slot_stride_bytes(slot_payload_bytes)), capacity_slots, order};
}
OrderRule payloads(std::byte* slots, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                   std::uint8_t accesses, std::memory_order order) noexcept {
  return OrderRule{accesses, slots + sizeof(EventsSlotHeader), slot_payload_bytes,
                   static_cast<std::uint32_t>(events_slot_stride_bytes(slot_payload_bytes)), capacity_slots, order};
}

// What one Events lane contributes to a plant: one rule.
using EventsRule = OrderRule (*)(const EventsLaneRef& lane);
// What one ring lane contributes.
using RingRule = OrderRule (*)(const RingLaneRef& lane);

enum class LoopSide : std::uint8_t { Inputs, Outputs, Both };

void on_events(const PlantSite& site, EventsRule rule, Weakening& out) {
  if (site.events != nullptr) add(out, rule(*site.events));
}
void on_loop(const PlantSite& site, LoopSide side, EventsRule rule, Weakening& out) {
  if (side != LoopSide::Outputs) {
    for (const EventsLaneRef& lane : site.loop_inputs) add(out, rule(lane));
  }
  if (side != LoopSide::Inputs) {
    for (const EventsLaneRef& lane : site.loop_outputs) add(out, rule(lane));
  }
}
void on_ring(const PlantSite& site, LaneKind kind, RingRule rule, Weakening& out) {
  if (site.ring != nullptr && site.ring->kind == kind) add(out, rule(*site.ring));
}

// Events lane words.
OrderRule events_stamp_stores(const EventsLaneRef& l) {
  return stamps(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kStore, kRelaxed);
}
OrderRule events_stamp_loads(const EventsLaneRef& l) {
  return stamps(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kLoad, kRelaxed);
}
OrderRule events_payload_stores(const EventsLaneRef& l) {
  return payloads(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kStore, kRelaxed);
}
OrderRule events_payload_loads(const EventsLaneRef& l) {
  return payloads(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kLoad, kRelaxed);
}
OrderRule events_read_seq_stores(const EventsLaneRef& l) {
  return word(&l.header->read_seq, sizeof(std::uint64_t), Access::kStore, kRelaxed);
}
OrderRule events_closed_stores(const EventsLaneRef& l) {
  return word(&l.header->closed, sizeof(std::uint32_t), Access::kStore, kRelaxed);
}
OrderRule events_closed_loads(const EventsLaneRef& l) {
  return word(&l.header->closed, sizeof(std::uint32_t), Access::kLoad, kRelaxed);
}
// producer_waiting and consumer_waiting are adjacent (layout.hpp): one rule.
static_assert(offsetof(EventsLaneHeader, consumer_waiting) ==
              offsetof(EventsLaneHeader, producer_waiting) + sizeof(std::uint32_t));
OrderRule events_flag_loads(const EventsLaneRef& l) {
  return word(&l.header->producer_waiting, 2 * sizeof(std::uint32_t), Access::kLoad, kAcquire);
}
OrderRule events_write_seq_stores(const EventsLaneRef& l) {
  return word(&l.header->write_seq, sizeof(std::uint64_t), Access::kStore, kRelaxed);
}
// The words a side publishes with publish_then_load_flag: write_seq, closed (line 0) and read_seq
// (line 1), and the slot stamps (Block's producer publishes the stamp). Their seq_cst stores (the
// fallback's hot side) become release; release and relaxed stores stay as they are.
OrderRule events_cursor_stores(const EventsLaneRef& l) {
  return word(l.header, offsetof(EventsLaneHeader, producer_waiting), Access::kStore, kRelease);
}
OrderRule events_stamp_stores_release(const EventsLaneRef& l) {
  return stamps(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kStore, kRelease);
}

// Ring lane words.
OrderRule ring_payload_stores(const RingLaneRef& l) {
  return payloads(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kStore, kRelaxed);
}
OrderRule ring_payload_loads(const RingLaneRef& l) {
  return payloads(l.slots, l.capacity_slots, l.slot_payload_bytes, Access::kLoad, kRelaxed);
}
OrderRule ring_closed_stores(const RingLaneRef& l) {
  return word(&l.header->closed, sizeof(std::uint32_t), Access::kStore, kRelaxed);
}
OrderRule ring_closed_loads(const RingLaneRef& l) {
  return word(&l.header->closed, sizeof(std::uint32_t), Access::kLoad, kRelaxed);
}
// The producer's publishes with publish_then_load_flag: write_seq and closed (line 0).
OrderRule ring_producer_stores_release(const RingLaneRef& l) {
  return word(l.header, offsetof(RingLaneHeader, eviction_count), Access::kStore, kRelease);
}
static_assert(offsetof(RingLaneHeader, readers_waiting) ==
              offsetof(RingLaneHeader, producer_waiting) + sizeof(std::uint32_t));
OrderRule ring_flag_loads(const RingLaneRef& l) {
  return word(&l.header->producer_waiting, 2 * sizeof(std::uint32_t), Access::kLoad, kAcquire);
}

// ---- The handshake: every lane kind ----

void handshake_no_membarrier(const PlantSite&, Weakening& out) { out.no_membarrier = true; }
void handshake_no_fallback_fence(const PlantSite&, Weakening& out) { out.no_fallback_fence = true; }
void handshake_flag_load_acquire(const PlantSite& site, Weakening& out) {
  on_events(site, &events_flag_loads, out);
  on_loop(site, LoopSide::Both, &events_flag_loads, out);
  if (site.ring != nullptr) add(out, ring_flag_loads(*site.ring));
}
void handshake_publish_store_release(const PlantSite& site, Weakening& out) {
  on_events(site, &events_cursor_stores, out);
  on_events(site, &events_stamp_stores_release, out);
  on_loop(site, LoopSide::Both, &events_cursor_stores, out);
  on_loop(site, LoopSide::Both, &events_stamp_stores_release, out);
  if (site.ring != nullptr) add(out, ring_producer_stores_release(*site.ring));
}

// ---- Events ----

template <EventsRule R>
void on_events_lane(const PlantSite& site, Weakening& out) { on_events(site, R, out); }

// ---- Ring kinds ----

// Journal, a resume by name against the writer's fast path (journal.hpp, "Resume by name vs a
// writer in flight"): the resume's heavy_fence, and (symmetric barrier) the writer's epoch load.
void journal_no_heavy_fence(const PlantSite& site, Weakening& out) {
  if (site.ring != nullptr && site.ring->kind == LaneKind::Journal) out.no_heavy_fence = true;
}
OrderRule journal_epoch_loads_acquire(const RingLaneRef& l) {
  return word(&l.header->attach_epoch, sizeof(std::uint32_t), Access::kLoad, kAcquire);
}

template <LaneKind K, RingRule R>
void on_ring_lane(const PlantSite& site, Weakening& out) { on_ring(site, K, R, out); }

// ---- Loops: a weakened order in a lane the loop drives ----

template <LoopSide S, EventsRule R>
void on_loop_lanes(const PlantSite& site, Weakening& out) { on_loop(site, S, R, out); }

constexpr std::uint32_t kEvents = lane_bit(PlantLane::Events);
constexpr std::uint32_t kJournal = lane_bit(PlantLane::Journal);
constexpr std::uint32_t kSequenced = lane_bit(PlantLane::SequencedSlots);
constexpr std::uint32_t kFanout = lane_bit(PlantLane::FanoutBroadcast);
constexpr std::uint32_t kRouter = lane_bit(PlantLane::Router);
constexpr std::uint32_t kMerge = lane_bit(PlantLane::Merge);

constexpr auto kBlock = OnFull::Block;
constexpr auto kDrop = OnFull::Drop;
constexpr std::optional<OnFull> kAnyPolicy = std::nullopt;
constexpr std::optional<bool> kAnyWaiting = std::nullopt;
constexpr std::optional<Barrier> kAnyBarrier = std::nullopt;

// Witnesses. Each is small (two or three actors, a few ops) and uses only operations whose answers
// the open weak-memory findings of the correct lanes (sim/README.md) cannot make wrong: blocking
// writes without a deadline (no Full or Timeout), and reads that are blocking, or try_reads where
// the producer never answers Full. plants_test.cpp checks that the correct lane passes each.
//
// The handshake: a parking lane per kind, where a side parks and the other's publish must wake it.
constexpr std::array kParkedWitnesses = {
    Witness{"events", "block,cap=1,slot=16,park;p:W8,W8,C;c:D"},
    Witness{"journal", "journal,block,cap=1,slot=16,park;p:W8,W8,C;r0:D"},
    Witness{"sequenced_slots", "sequenced_slots,block,cap=1,slot=16,park;p:W8,W8,C;r0:D"},
    Witness{"fanout_broadcast", "fanout_broadcast,block,cap=1,slot=16,park;p:W8,W8,C;r0:D"},
    Witness{"router", "router,round_robin,park;in:block1;out:block1;p0:W1,W2,C"},
    Witness{"merge", "merge,round_robin,park;in:block1;out:block1;p0:W1,W2,C"},
};
// Block payloads handed over (a copy after the publish) and slots handed back (cap 1: every write
// after the first reuses the slot the consumer copied).
constexpr std::array kEventsBlockCopy = {Witness{"events", "block,cap=2,slot=16,poll;p:W8,W16,C;c:D"}};
constexpr std::array kEventsBlockReuse = {Witness{"events", "block,cap=1,slot=16,poll;p:W8,W8,W8,C;c:D"}};
// Close: the parking consumer's first full check comes at once (a polling one checks closed only
// after pauses, which make every earlier store visible, so it cannot read a stale write_seq).
constexpr std::array kEventsClose = {Witness{"events", "block,cap=2,slot=16,park;p:W8,C;c:D"}};
// Drop: an overwrite racing the consumer's copy (cap 1, two-word payloads).
constexpr std::array kEventsDrop = {Witness{"events", "drop,cap=1,slot=16,poll;p:W16,W16,W16,C;c:R,R,D"}};
// One entry: a Lost is legal while a later write may have begun (EV-8, two-step writes), and
// without a channel from the consumer to a Drop producer the checker cannot rule that out for any
// entry but the last. So the witness writes one entry, whose Lost nothing can explain.
constexpr std::array kEventsDropOneEntry = {Witness{"events", "drop,cap=1,slot=16,poll;p:W16,C;c:R,R,D"}};
constexpr std::array kJournalDrop = {Witness{"journal", "journal,drop,cap=1,slot=16,poll;p:W16,W16,W16,C;r0:R,R,D"}};
constexpr std::array kSequencedDrop = {
    Witness{"sequenced_slots", "sequenced_slots,drop,cap=1,slot=16,poll;p:W16,W16,W16,C;r0:R,R,D"}};
constexpr std::array kFanoutDrop = {
    Witness{"fanout_broadcast", "fanout_broadcast,drop,cap=1,slot=16,poll;p:W16,W16,W16,C;r0:R,R,D"}};
// Ring close: a try_read makes its full check at once (see kEventsClose).
constexpr std::array kJournalClose = {Witness{"journal", "journal,block,cap=2,slot=16,poll;p:W8,C;r0:r,r,D"}};
// A resume by name racing back-to-back writes, behind the window (capacity 2: with the + 1 of
// JR-4, two writes must pass their check unseen to reach the start;
// RingFindings.JournalResumeRacingAWriteIsLinearizable).
constexpr std::array kJournalResume = {
    Witness{"journal", "journal,block,cap=2,slot=16,poll,named;p:w0,w0,w0,w0,w0,w0,C;r0:X,A,D"}};
constexpr std::array kSequencedClose = {
    Witness{"sequenced_slots", "sequenced_slots,block,cap=2,slot=16,poll;p:W8,C;r0:r,r,D"}};
constexpr std::array kFanoutClose = {
    Witness{"fanout_broadcast", "fanout_broadcast,block,cap=2,slot=16,poll;p:W8,C;r0:r,r,D"}};
// Loops: the router's Block output handed over, its Block input handed back; the same for a merge.
constexpr std::array kRouterOutput = {Witness{"router", "router,round_robin,poll;in:block1;out:block1;p0:W1,W2,C"}};
constexpr std::array kRouterInput = {Witness{"router", "router,round_robin,poll;in:block1;out:block2;p0:W1,W2,W3,C"}};
constexpr std::array kMergeOutput = {Witness{"merge", "merge,round_robin,poll;in:block1;out:block1;p0:W1,W2,C"}};
constexpr std::array kMergeInput = {Witness{"merge", "merge,round_robin,poll;in:block1;out:block2;p0:W1,W2,W3,C"}};

// Descriptions shared by the three ring kinds.
constexpr std::string_view kRingDropStore =
    "Drop: the producer's release stores of payload words (ring.hpp's seqlock) are relaxed: a reader's copy may read "
    "a word of an overwrite and still find the old stamp on its re-check, and deliver a torn entry";
constexpr std::string_view kRingDropLoad =
    "Drop: a reader's acquire loads of payload words are relaxed: reading a word of an overwrite no longer makes the "
    "overwrite's odd stamp visible to the re-check, so a torn entry is delivered";
constexpr std::string_view kRingCloseStore =
    "the producer's release store of closed is relaxed: a reader that sees closed may still read an old write_seq "
    "and answer Closed with entries unread";
constexpr std::string_view kRingCloseLoad =
    "a reader's (seq_cst) load of closed is relaxed: seeing closed no longer makes the final write_seq visible, so "
    "it may answer Closed with entries unread";

const std::array kCatalog = {
    // The parking handshake: RealPlatform's composition (real_platform.hpp), on every lane kind.
    Plant{"handshake.no-membarrier", kAllPlantLanes,
          "announce_waiter's membarrier(2) does nothing: the parking side's flag store is no longer ordered before its "
          "re-check, so both halves of the Dekker pair may miss each other (store buffering): a lost wake-up",
          kAnyPolicy, true, Barrier::Membarrier, kParkedWitnesses, &handshake_no_membarrier, {}},
    Plant{"handshake.no-fallback-fence", kAllPlantLanes,
          "the seq_cst fallback's fence after the flag store does nothing: a seq_cst store alone does not order a "
          "later non-seq_cst re-check load after it",
          kAnyPolicy, true, Barrier::SeqCst, kParkedWitnesses, &handshake_no_fallback_fence,
          "before a waiter's re-check concludes 'not ready' it makes a store_load_fence of its own (Events, the "
          "ring lanes: the Full and Empty slow paths) or loads with seq_cst after the seq_cst flag store, either of "
          "which already forbids store buffering; the fence matters only to a re-check with bare acquire loads, "
          "which real_platform.hpp's argument assumes and no lane has"},
    Plant{"handshake.flag-load-acquire", kAllPlantLanes,
          "the seq_cst fallback's hot-side flag load (publish_then_load_flag) is acquire: it no longer follows the "
          "waiter's seq_cst flag store in S, so it may read the old flag while the waiter re-checks a stale cursor",
          kAnyPolicy, true, Barrier::SeqCst, kParkedWitnesses, &handshake_flag_load_acquire, {}},
    Plant{"handshake.publish-store-release", kAllPlantLanes,
          "the seq_cst fallback's hot-side cursor store (publish_then_load_flag of write_seq, closed, read_seq or a "
          "stamp) is release: the waiter's seq_cst fence and re-check no longer see it, so both sides may miss",
          kAnyPolicy, true, Barrier::SeqCst, kParkedWitnesses, &handshake_publish_store_release, {}},

    // Events.
    Plant{"events.publish-stamp-relaxed", kEvents,
          "Block: the producer's release store of the slot stamp, which the consumer polls, is relaxed: the "
          "consumer's copy of the payload no longer happens after the producer's (a data race)",
          kBlock, kAnyWaiting, kAnyBarrier, kEventsBlockCopy, &on_events_lane<&events_stamp_stores>, {}},
    Plant{"events.consume-stamp-relaxed", kEvents,
          "Block: the consumer's (seq_cst) load of the slot stamp is relaxed: it acquires nothing, so its payload "
          "copy races with the producer's",
          kBlock, kAnyWaiting, kAnyBarrier, kEventsBlockCopy, &on_events_lane<&events_stamp_loads>, {}},
    Plant{"events.release-read-seq-relaxed", kEvents,
          "Block: the consumer's release store of read_seq is relaxed: the producer may reuse the slot while the "
          "consumer's copy of it is not ordered before the producer's (a data race)",
          kBlock, kAnyWaiting, kAnyBarrier, kEventsBlockReuse, &on_events_lane<&events_read_seq_stores>, {}},
    Plant{"events.close-store-relaxed", kEvents,
          "the producer's release store of closed is relaxed: a consumer that sees closed may still read an old "
          "write_seq and answer Closed with entries unread",
          kAnyPolicy, kAnyWaiting, kAnyBarrier, kEventsClose, &on_events_lane<&events_closed_stores>, {}},
    Plant{"events.close-load-relaxed", kEvents,
          "the consumer's (seq_cst) load of closed is relaxed: seeing closed no longer makes the final write_seq "
          "visible, so it may answer Closed with entries unread",
          kAnyPolicy, kAnyWaiting, kAnyBarrier, kEventsClose, &on_events_lane<&events_closed_loads>, {}},
    Plant{"events.drop-publish-write-seq-relaxed", kEvents,
          "Drop: the producer's release store of write_seq is relaxed: a consumer that loads the new write_seq may "
          "still read the slot's odd stamp, take it for an overwrite and report Lost for an entry it could read",
          kDrop, kAnyWaiting, kAnyBarrier, kEventsDropOneEntry, &on_events_lane<&events_write_seq_stores>, {}},
    Plant{"events.drop-payload-store-relaxed", kEvents,
          "Drop: the producer's release stores of payload words are relaxed: a consumer whose copy reads a word of "
          "an overwrite no longer sees its odd stamp on the re-check, and delivers a torn entry",
          kDrop, kAnyWaiting, kAnyBarrier, kEventsDrop, &on_events_lane<&events_payload_stores>, {}},
    Plant{"events.drop-payload-load-relaxed", kEvents,
          "Drop: the consumer's acquire loads of payload words are relaxed: reading a word of an overwrite no "
          "longer makes its odd stamp visible to the re-check, so a torn entry is delivered",
          kDrop, kAnyWaiting, kAnyBarrier, kEventsDrop, &on_events_lane<&events_payload_loads>, {}},

    // Journal.
    Plant{"journal.drop-payload-store-relaxed", kJournal, kRingDropStore, kDrop, kAnyWaiting, kAnyBarrier,
          kJournalDrop, &on_ring_lane<LaneKind::Journal, &ring_payload_stores>, {}},
    Plant{"journal.drop-payload-load-relaxed", kJournal, kRingDropLoad, kDrop, kAnyWaiting, kAnyBarrier,
          kJournalDrop, &on_ring_lane<LaneKind::Journal, &ring_payload_loads>, {}},
    Plant{"journal.close-store-relaxed", kJournal, kRingCloseStore, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kJournalClose, &on_ring_lane<LaneKind::Journal, &ring_closed_stores>, {}},
    Plant{"journal.close-load-relaxed", kJournal, kRingCloseLoad, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kJournalClose, &on_ring_lane<LaneKind::Journal, &ring_closed_loads>, {}},
    Plant{"journal.resume-no-heavy-fence", kJournal,
          "a resume by name's heavy_fence (membarrier) does nothing: its load of write_seq may miss the write_seq "
          "stores of writes whose epoch loads missed its bump (store buffering), so a write passes its check for "
          "room and overwrites the entry the resume starts at",
          kBlock, kAnyWaiting, Barrier::Membarrier, kJournalResume, &journal_no_heavy_fence, {}},
    Plant{"journal.resume-epoch-load-acquire", kJournal,
          "symmetric barrier: the writer's seq_cst load of attach_epoch before each write is acquire: no longer "
          "ordered after its seq_cst write_seq store in S, it may miss a resume's bump while the resume misses that "
          "store, and a write overwrites the entry the resume starts at",
          kBlock, kAnyWaiting, Barrier::SeqCst, kJournalResume,
          &on_ring_lane<LaneKind::Journal, &journal_epoch_loads_acquire>, {}},

    // SequencedSlots.
    Plant{"sequenced_slots.drop-payload-store-relaxed", kSequenced, kRingDropStore, kDrop, kAnyWaiting, kAnyBarrier,
          kSequencedDrop, &on_ring_lane<LaneKind::SequencedSlots, &ring_payload_stores>, {}},
    Plant{"sequenced_slots.drop-payload-load-relaxed", kSequenced, kRingDropLoad, kDrop, kAnyWaiting, kAnyBarrier,
          kSequencedDrop, &on_ring_lane<LaneKind::SequencedSlots, &ring_payload_loads>, {}},
    Plant{"sequenced_slots.close-store-relaxed", kSequenced, kRingCloseStore, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kSequencedClose, &on_ring_lane<LaneKind::SequencedSlots, &ring_closed_stores>, {}},
    Plant{"sequenced_slots.close-load-relaxed", kSequenced, kRingCloseLoad, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kSequencedClose, &on_ring_lane<LaneKind::SequencedSlots, &ring_closed_loads>, {}},

    // FanoutBroadcast.
    Plant{"fanout_broadcast.drop-payload-store-relaxed", kFanout, kRingDropStore, kDrop, kAnyWaiting, kAnyBarrier,
          kFanoutDrop, &on_ring_lane<LaneKind::FanoutBroadcast, &ring_payload_stores>, {}},
    Plant{"fanout_broadcast.drop-payload-load-relaxed", kFanout, kRingDropLoad, kDrop, kAnyWaiting, kAnyBarrier,
          kFanoutDrop, &on_ring_lane<LaneKind::FanoutBroadcast, &ring_payload_loads>, {}},
    Plant{"fanout_broadcast.close-store-relaxed", kFanout, kRingCloseStore, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kFanoutClose, &on_ring_lane<LaneKind::FanoutBroadcast, &ring_closed_stores>, {}},
    Plant{"fanout_broadcast.close-load-relaxed", kFanout, kRingCloseLoad, kAnyPolicy, kAnyWaiting, kAnyBarrier,
          kFanoutClose, &on_ring_lane<LaneKind::FanoutBroadcast, &ring_closed_loads>, {}},

    // Loops.
    Plant{"router.output-stamp-relaxed", kRouter,
          "Block outputs: the router's release store of an output slot's stamp (its publish) is relaxed: the output "
          "consumer's copy races with the router's",
          kBlock, kAnyWaiting, kAnyBarrier, kRouterOutput, &on_loop_lanes<LoopSide::Outputs, &events_stamp_stores>, {}},
    Plant{"router.input-read-seq-relaxed", kRouter,
          "Block input: the router's release store of the input's read_seq is relaxed: the input's producer may "
          "reuse the slot while the router's copy of it is not ordered before (a data race)",
          kBlock, kAnyWaiting, kAnyBarrier, kRouterInput, &on_loop_lanes<LoopSide::Inputs, &events_read_seq_stores>,
          {}},
    Plant{"merge.output-stamp-relaxed", kMerge,
          "Block output: the merge's release store of an output slot's stamp (its publish) is relaxed: the output "
          "consumer's copy races with the merge's",
          kBlock, kAnyWaiting, kAnyBarrier, kMergeOutput, &on_loop_lanes<LoopSide::Outputs, &events_stamp_stores>, {}},
    Plant{"merge.input-read-seq-relaxed", kMerge,
          "Block inputs: the merge's release store of an input's read_seq is relaxed: the input's producer may reuse "
          "the slot while the merge's copy of it is not ordered before (a data race)",
          kBlock, kAnyWaiting, kAnyBarrier, kMergeInput, &on_loop_lanes<LoopSide::Inputs, &events_read_seq_stores>, {}},
};

// Findings: orders that are written stronger than the weak model can tell apart, so no plant of
// them is caught (each was tried on its kind's witnesses and on generated scenarios, 10 000 random
// runs under --memory weak; none failed):
//   - Ring lanes (all three kinds), Block and Drop: the producer's release store of a slot's final
//     stamp (complete_slot), or of write_seq, made relaxed alone. A reader loads write_seq (acquire
//     or seq_cst) before it copies a slot and loads the stamp with acquire, so either release
//     still carries the entry; with write_seq relaxed a reader may find the stamp not yet complete,
//     but it then answers Empty (NotYet), which is linearizable without happens-before.
//   - Events Drop: the consumer's acquire load of the slot stamp made relaxed: it loaded write_seq
//     (seq_cst) before, which synchronizes with the publish that followed the stamp.
//   - Ring lanes: a reader's release of cursor_seq made relaxed (and, in SequencedSlots, a gated
//     consumer's dependence on its upstream cursor). The slot copies are atomic word copies, so an
//     overwrite that is not ordered after the reader's copy could only show if the copy read the
//     overwrite's later stores: load buffering, which the model does not produce (weak_memory.hpp,
//     "Not covered"). Events Block is different: its payload copies are plain, so the same
//     weakening is a data race there (events.release-read-seq-relaxed).
//   - A loop's release of closed on its outputs (RT-10, MG-9) made relaxed: the output consumers
//     drain with read(), which polls and makes its full check after pauses (every earlier store
//     visible) or, parking, only in a narrow window; PCT finds it within about 100 runs
//     (`--strategy pct`), random walk not within 100 000. events.close-store-relaxed is the same
//     order in a lane whose consumer checks at once.
//   - handshake.no-fallback-fence: in the catalog, with the reason (Plant::redundant).
// Also: SequencedSlots' claim orders its odd stamp before the caller's in-place payload stores with
// std::atomic_thread_fence directly (sequenced_detail::order_stamp_before_payload), not through
// the Platform, so the simulator does not see that fence and no plant can weaken it (the
// simulated payload copy is the platform's release word copy).

constexpr std::array<const char*, kPlantLaneCount> kLaneNames = {"events", "journal", "sequenced_slots",
                                                                 "fanout_broadcast", "router", "merge"};

}  // namespace

const char* to_string(PlantLane lane) noexcept { return kLaneNames[static_cast<std::uint32_t>(lane)]; }

std::optional<PlantLane> parse_plant_lane(std::string_view text) noexcept {
  for (std::uint32_t i = 0; i < kPlantLaneCount; ++i) {
    if (text == kLaneNames[i]) return static_cast<PlantLane>(i);
  }
  return std::nullopt;
}

std::span<const Plant> plant_catalog() noexcept { return kCatalog; }

const Plant* find_plant(std::string_view name) noexcept {
  for (const Plant& plant : kCatalog) {
    if (plant.name == name) return &plant;
  }
  return nullptr;
}

bool applies_to(const Plant& plant, std::string_view lane) noexcept {
  const auto kind = parse_plant_lane(lane);
  return kind && (plant.lanes & lane_bit(*kind)) != 0;
}

std::string plant_names(std::string_view lane) {
  std::size_t total = 0;
  for (const Plant& plant : kCatalog) total += lane.empty() || applies_to(plant, lane) ? 1 : 0;
  std::string out;
  std::size_t listed = 0;
  for (const Plant& plant : kCatalog) {
    if (!lane.empty() && !applies_to(plant, lane)) continue;
    if (listed > 0) out += listed + 1 == total ? " or " : ", ";
    out += plant.name;
    ++listed;
  }
  return out;
}

std::string describe_catalog() {
  std::string out;
  for (const Plant& plant : kCatalog) {
    out += std::string(plant.name) + "\n  lanes:";
    for (std::uint32_t i = 0; i < kPlantLaneCount; ++i) {
      if ((plant.lanes >> i & 1u) != 0) out += std::string(" ") + kLaneNames[i];
    }
    if (plant.on_full) out += "; --on-full " + std::string(to_string(*plant.on_full));
    if (plant.parking) out += *plant.parking ? "; --waiting park" : "; --waiting poll";
    if (plant.barrier) out += std::string("; --barrier ") + to_string(*plant.barrier);
    out += "\n  " + std::string(plant.description) + "\n";
    if (!plant.redundant.empty()) out += "  NOT CAUGHT (redundant): " + std::string(plant.redundant) + "\n";
    for (const Witness& w : plant.witnesses) {
      out += "  witness: --lane " + std::string(w.lane) + " --scenario '" + std::string(w.scenario) + "'\n";
    }
  }
  return out;
}

void plant_into(const Plant* plant, const PlantSite& site, Weakening& out) noexcept {
  out = Weakening{};
  if (plant != nullptr) plant->apply(site, out);
}

}  // namespace indexbus::sim

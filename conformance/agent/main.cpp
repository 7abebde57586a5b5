// indexbus-agent: the reference agent of the conformance harness (spec/agent-protocol.md).
//
// It speaks the protocol on stdin/stdout over core/ and nothing else: every `op` request becomes
// exactly one lane call. Third-party agents imitate it, so it stays small: a request loop, a
// region, and a table of lane kinds (kKinds) where each kind knows how to attach its roles. Adding
// a kind is one attach function and one table row. Logs go to stderr.
//
// Built twice: `indexbus-agent` (the reference) and, for tests only, `indexbus-agent-broken`
// (INDEXBUS_AGENT_DEFECTS), which accepts --defect NAME to misbehave on purpose so that tests can
// show the harness catches it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <span>
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "indexbus/events.hpp"
#include "indexbus/fanout.hpp"
#include "indexbus/journal.hpp"
#include "indexbus/protocol/fields.hpp"
#include "indexbus/protocol/frame.hpp"
#include "indexbus/real_platform.hpp"
#include "perturbing_platform.hpp"
#include "indexbus/region.hpp"
#include "indexbus/sequenced_slots.hpp"

namespace {

using indexbus::protocol::Json;
using indexbus::protocol::ProtocolError;
namespace proto = indexbus::protocol;

constexpr const char* kImplementationName = "indexbus-reference";
constexpr const char* kImplementationVersion = "1.0.0";
constexpr std::size_t kScriptOpsMax = 1'000'000;
constexpr std::uint64_t kStartDelayMaxNs = 10'000'000'000;

// A request the agent answers with `error` (kind, message and, for a core error, its ErrorCode
// name as `code`) rather than `ok`.
struct AgentError {
  std::string kind;
  std::string message;
  std::string code;
};
// A well-formed request this agent does not implement.
struct Unsupported {
  std::string reason;
};

// Test-only misbehaviour (indexbus-agent-broken). Lane defects make results wrong; process
// defects make the agent crash, hang or send garbage on its first read.
// One defect per ring kind too: JournalCommitIgnored (commit says Ok but commits nothing),
// FanoutLostOffByOne (a Lost count one too high), SequencedClaimSeqOffByOne (a claim reports the
// next sequence), JournalEntrySeqOffByOne (a Journal read reports an entry under the next
// sequence; commits, and so Block gating, stay correct, so a batch run ends in time),
// JournalReadHeartbeatsWhileWaiting (a blocking Journal read is try_read in a loop, a heartbeat
// every round, so a reader waiting in it is never silent and never evicted: JR-10 says its
// heartbeat is the one of its start; the C agent's read once did this).
enum class Defect {
  None,
  SkipEvery5thEntry,
  OkInsteadOfFull,
  CrashOnRead,
  HangOnRead,
  GarbageOnRead,
  JournalCommitIgnored,
  FanoutLostOffByOne,
  SequencedClaimSeqOffByOne,
  JournalEntrySeqOffByOne,
  JournalReadHeartbeatsWhileWaiting,
  // Liars and vandals (spec/certify.md, "Bad input"): the harness must fail the case with a reason
  // naming the field, and come to no harm itself.
  HelloLiesDrop,        // hello declares the drop policy; create_region/attach on a drop lane: unsupported
  BadHeaderVersion,     // create_region writes version_major 2 into the header it made
  CorruptRegionHeader,  // after its 3rd op: header reserved0 (immutable line 0) set to 0xdead
  CorruptLaneHeader,    // after its 3rd op: lane 0's `closed` word (Events) set to 7
  WritePastLane,        // after its 3rd op: the byte right after lane 0's block (or the lane table) written
  TruncateRegion,       // after its 3rd op: the region file cut to half its size
  // A protocol defect (Required.Protocol.Refusals.*): refusals without their `code`, a reader
  // index narrowed to 32 bits and not checked against 64, a publish not checked against the claim.
  SloppyRefusals,
  // An opener with gaps in its validation (Required.Layout.Corrupt.*): it skips the bounds checks
  // (a region core refuses with BadLaneTableOffset or BlockOutOfBounds "opens", holding nothing),
  // lumps every reserved word in with flags (ReservedNotZero answered as BadFlags), reports an
  // overlap on lane i, the earlier block, instead of lane j, and "repairs" the checksum of a file
  // it refuses with ChecksumMismatch.
  LenientOpen,
  // A waking defect (spec/agent-protocol.md, "Lost wake-ups"): results stay right, only a parked
  // peer sleeps a whole park slice too long, which the agent's lost_wakeups count must expose.
  LoseWakes,  // for kLoseWakesWindowNs from the first publish that finds a peer parked, no wake
  // Producer death (the *.ProducerKilled cases): IgnoreKill accepts run_script's kill_at_access
  // and never dies, which the harness must report as a kill that never fired; ProducerResumesBehind
  // attaches a producer two entries behind the lane's write_seq (it moves write_seq back first),
  // as an implementation resuming from a stale cached sequence would, so that the replacement
  // after a producer's death rewrites entries its readers may already have seen. Two, not one:
  // one behind is what a dead write that published and was never read looks like when it did
  // not happen, so a check could rightly miss it (the harness accepts write_seq = the completed
  // entries or one more).
  IgnoreKill,
  ProducerResumesBehind,
};
inline constexpr std::uint64_t kVandalOp = 3;  // the op after which the vandal defects strike
// A park slice (50 ms) plus the waiter's grace (100 ms) and some room: long enough for a waiter
// to count the lost wake, short enough that the batch script still ends well within its deadline.
inline constexpr std::uint64_t kLoseWakesWindowNs = 200'000'000;
static_assert(kLoseWakesWindowNs > indexbus::real_platform_detail::kParkSliceMaxNs +
                                       indexbus::real_platform_detail::kLostWakeGraceNs);

// The lanes run on PerturbingPlatform: RealPlatform exactly, until a batch script enables seeded
// delays at the shared-memory accesses (perturbing_platform.hpp).
using AgentPlatform = indexbus::agent::PerturbingPlatform;

struct Context {
  AgentPlatform platform{indexbus::WaitStrategy::Park};
  Defect defect = Defect::None;
};

// One attached role; releasing it (destructor) frees its pid word in shared memory.
class RoleHandle {
 public:
  virtual ~RoleHandle() = default;
  // Runs request["op"]; returns the operation result without timestamps.
  virtual Json run(const std::string& op, const Json& request) = 0;
};

std::uint64_t deadline_from(const Context& ctx, const Json& request) {
  return ctx.platform.now_ns() + proto::get_u64(request, "timeout_ns");
}

Json write_result(indexbus::WriteStatus status) { return Json{{"status", indexbus::to_string(status)}}; }

void misbehave_on_read(Defect defect) {
  if (defect == Defect::CrashOnRead) std::abort();
  if (defect == Defect::HangOnRead) {
    for (;;) ::pause();  // until the harness kills us
  }
  if (defect == Defect::GarbageOnRead) {
    static constexpr char kGarbage[] = "\x05\x00\x00\x00hello";
    (void)!::write(STDOUT_FILENO, kGarbage, sizeof kGarbage - 1);
  }
}

// ---- Events -----------------------------------------------------------------------------------

class EventsProducerHandle final : public RoleHandle {
 public:
  EventsProducerHandle(Context& ctx, indexbus::EventsLaneRef lane) : ctx_(ctx), lane_(lane), producer_(ctx.platform, lane) {}
  ~EventsProducerHandle() override { indexbus::release_role(ctx_.platform, lane_.header->producer_pid); }

  Json run(const std::string& op, const Json& request) override {
    if (op == "close") {
      producer_.close();
      return Json{{"status", "Ok"}};
    }
    if (op != "try_write" && op != "write") throw Unsupported{"op " + op + " is not an events producer op"};
    const auto payload = proto::from_hex(proto::get_string(request, "payload_hex"), indexbus::kSlotPayloadBytesMax);
    if (op == "write") return write_result(producer_.write(payload, deadline_from(ctx_, request)));
    indexbus::WriteStatus status = producer_.try_write(payload);
    if (ctx_.defect == Defect::OkInsteadOfFull && status == indexbus::WriteStatus::Full) status = indexbus::WriteStatus::Ok;
    return write_result(status);
  }

 private:
  Context& ctx_;
  indexbus::EventsLaneRef lane_;
  indexbus::EventsProducer<AgentPlatform> producer_;
};

class EventsConsumerHandle final : public RoleHandle {
 public:
  EventsConsumerHandle(Context& ctx, indexbus::EventsLaneRef lane)
      : ctx_(ctx), lane_(lane), consumer_(ctx.platform, lane), buffer_(lane.slot_payload_bytes) {}
  ~EventsConsumerHandle() override { indexbus::release_role(ctx_.platform, lane_.header->consumer_pid); }

  Json run(const std::string& op, const Json& request) override {
    if (op != "try_read" && op != "read") throw Unsupported{"op " + op + " is not an events consumer op"};
    misbehave_on_read(ctx_.defect);
    const bool blocking = op == "read";
    const std::uint64_t deadline_ns = blocking ? deadline_from(ctx_, request) : 0;
    auto call = [&] { return blocking ? consumer_.read(buffer_, deadline_ns) : consumer_.try_read(buffer_); };
    indexbus::ReadResult result = call();
    if (ctx_.defect == Defect::SkipEvery5thEntry && result.status == indexbus::ReadStatus::Entry &&
        ++entries_ % 5 == 0) {
      result = call();  // the 5th entry is silently swallowed
    }
    Json out{{"status", indexbus::to_string(result.status)}};
    if (result.status == indexbus::ReadStatus::Entry) {
      out["seq"] = result.seq;
      out["payload_hex"] = proto::to_hex(buffer_.data(), result.payload_bytes);
    }
    if (result.status == indexbus::ReadStatus::Lost) out["lost_count"] = result.lost_count;
    return out;
  }

 private:
  Context& ctx_;
  indexbus::EventsLaneRef lane_;
  indexbus::EventsConsumer<AgentPlatform> consumer_;
  std::vector<std::byte> buffer_;
  std::uint64_t entries_ = 0;
};

std::unique_ptr<RoleHandle> attach_events(Context& ctx, std::byte* block, const indexbus::LaneDescriptor& lane,
                                          const std::string& role, const Json& /*request*/, Json& /*out*/) {
  const indexbus::EventsLaneRef ref = indexbus::events_lane_ref(block, lane);
  std::uint32_t* pid_word = role == "producer"   ? &ref.header->producer_pid
                            : role == "consumer" ? &ref.header->consumer_pid
                                                 : nullptr;
  if (pid_word == nullptr) throw AgentError{"bad_request", "events lanes have no role '" + role + "'"};
  if (!indexbus::claim_role(ctx.platform, *pid_word)) {
    throw AgentError{"role_taken",
                     role + " held by live pid " + std::to_string(ctx.platform.load(*pid_word, std::memory_order_acquire)),
                     "RoleTaken"};
  }
  if (role == "producer") return std::make_unique<EventsProducerHandle>(ctx, ref);
  return std::make_unique<EventsConsumerHandle>(ctx, ref);
}

Json events_state(std::byte* block) {
  auto& h = *reinterpret_cast<indexbus::EventsLaneHeader*>(block);
  const indexbus::RealPlatform platform;
  auto load = [&](auto& word) { return platform.load(word, std::memory_order_acquire); };
  return Json{{"write_seq", load(h.write_seq)},   {"read_seq", load(h.read_seq)}, {"read_count", load(h.read_count)},
              {"lost_count", load(h.lost_count)}, {"closed", load(h.closed) != 0}};
}


// ---- Ring kinds (Journal, SequencedSlots, FanoutBroadcast) -------------------------------------

Json read_result(const indexbus::ReadResult& result, const std::vector<std::byte>& buffer) {
  Json out{{"status", indexbus::to_string(result.status)}};
  if (result.status == indexbus::ReadStatus::Entry) {
    out["seq"] = result.seq;
    out["payload_hex"] = proto::to_hex(buffer.data(), result.payload_bytes);
  }
  if (result.status == indexbus::ReadStatus::Lost) out["lost_count"] = result.lost_count;
  return out;
}

std::span<const std::byte> payload_of(const Json& request, std::vector<std::byte>& storage) {
  storage = proto::from_hex(proto::get_string(request, "payload_hex"), indexbus::kSlotPayloadBytesMax);
  return storage;
}

// The error kinds of spec/agent-protocol.md: a role held by a live process and a Journal with no
// free record are role_taken; a bad reader name or index is the request's fault.
[[noreturn]] void throw_attach_error(const indexbus::Error& error) {
  using indexbus::ErrorCode;
  const char* kind = "region";
  if (error.code == ErrorCode::RoleTaken || error.code == ErrorCode::NoFreeReader) kind = "role_taken";
  if (error.code == ErrorCode::BadReaderName || error.code == ErrorCode::BadReaderIndex) kind = "bad_request";
  const std::string code(indexbus::to_string(error.code));
  throw AgentError{kind, code + ": " + error.message, code};
}

std::uint32_t reader_index(const Json& request) {
  return static_cast<std::uint32_t>(proto::get_u64_or(request, "reader", 0));
}

// The producer of any ring kind except SequencedSlots: try_write, write, close.
template <typename Producer>
class RingWriterHandle final : public RoleHandle {
 public:
  RingWriterHandle(Context& ctx, indexbus::RingLaneRef lane, Producer producer)
      : ctx_(ctx), lane_(lane), producer_(std::move(producer)) {}
  ~RingWriterHandle() override { indexbus::release_role(ctx_.platform, lane_.header->producer_pid); }

  Json run(const std::string& op, const Json& request) override {
    if (op == "close") {
      producer_.close();
      return Json{{"status", "Ok"}};
    }
    if (op != "try_write" && op != "write") throw Unsupported{"op " + op + " is not a producer op of this kind"};
    const auto payload = payload_of(request, storage_);
    if (op == "write") return write_result(producer_.write(payload, deadline_from(ctx_, request)));
    return write_result(producer_.try_write(payload));
  }

 private:
  Context& ctx_;
  indexbus::RingLaneRef lane_;
  Producer producer_;
  std::vector<std::byte> storage_;
};

// ---- Journal

class JournalReaderHandle final : public RoleHandle {
 public:
  JournalReaderHandle(Context& ctx, indexbus::RingLaneRef lane, indexbus::JournalReader<AgentPlatform> reader)
      : ctx_(ctx), reader_(std::move(reader)), buffer_(lane.slot_payload_bytes) {}
  // Process death keeps the record (JR-4); an orderly release is the detach request.
  ~JournalReaderHandle() override { reader_.detach(); }

  Json run(const std::string& op, const Json& request) override {
    if (op == "try_read" || op == "read") {
      indexbus::ReadResult result = op == "try_read" ? reader_.try_read(buffer_)
                                    : ctx_.defect == Defect::JournalReadHeartbeatsWhileWaiting
                                        ? read_heartbeating(deadline_from(ctx_, request))
                                        : reader_.read(buffer_, deadline_from(ctx_, request));
      if (ctx_.defect == Defect::JournalEntrySeqOffByOne && result.status == indexbus::ReadStatus::Entry) ++result.seq;
      return read_result(result, buffer_);
    }
    if (op == "read_at") return read_result(reader_.read_at(proto::get_u64(request, "seq"), buffer_), buffer_);
    if (op == "heartbeat") return call_result(reader_.heartbeat());
    if (op == "commit") {
      if (ctx_.defect == Defect::JournalCommitIgnored) return call_result(reader_.heartbeat());
      return call_result(reader_.commit());
    }
    throw Unsupported{"op " + op + " is not a journal reader op"};
  }

 private:
  static Json call_result(bool ok) { return Json{{"status", ok ? "Ok" : "Evicted"}}; }
  // JournalReadHeartbeatsWhileWaiting: polls with try_read, whose heartbeat each round refreshes.
  indexbus::ReadResult read_heartbeating(std::uint64_t deadline_ns) {
    for (;;) {  // bounded by deadline_ns
      const indexbus::ReadResult result = reader_.try_read(buffer_);
      if (result.status != indexbus::ReadStatus::Empty) return result;
      if (ctx_.platform.now_ns() >= deadline_ns) return indexbus::ReadResult{indexbus::ReadStatus::Timeout, 0, 0, 0};
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  Context& ctx_;
  indexbus::JournalReader<AgentPlatform> reader_;
  std::vector<std::byte> buffer_;
};

std::unique_ptr<RoleHandle> attach_journal(Context& ctx, std::byte* block, const indexbus::LaneDescriptor& lane,
                                           const std::string& role, const Json& request, Json& out) {
  const indexbus::RingLaneRef ref = indexbus::ring_lane_ref(block, lane);
  if (role == "producer") {
    if (!indexbus::claim_role(ctx.platform, ref.header->producer_pid)) {
      throw AgentError{"role_taken", "journal writer held by a live process", "RoleTaken"};
    }
    return std::make_unique<RingWriterHandle<indexbus::JournalWriter<AgentPlatform>>>(
        ctx, ref, indexbus::JournalWriter<AgentPlatform>(ctx.platform, ref));
  }
  if (role != "reader") throw AgentError{"bad_request", "journal lanes have no role '" + role + "'"};
  auto attached = indexbus::JournalReader<AgentPlatform>::attach(ctx.platform, ref,
                                                                          request.contains("name") ? proto::get_string(request, "name") : std::string());
  if (!attached.ok()) throw_attach_error(attached.error());
  out["reader_id"] = attached.value().reader_id();
  return std::make_unique<JournalReaderHandle>(ctx, ref, std::move(attached).value());
}

// ---- FanoutBroadcast

class FanoutConsumerHandle final : public RoleHandle {
 public:
  FanoutConsumerHandle(Context& ctx, indexbus::RingLaneRef lane, std::uint32_t index,
                       indexbus::FanoutConsumer<AgentPlatform> consumer)
      : ctx_(ctx), lane_(lane), index_(index), consumer_(std::move(consumer)), buffer_(lane.slot_payload_bytes) {}
  ~FanoutConsumerHandle() override { indexbus::detach_fanout_consumer(ctx_.platform, lane_, index_); }

  Json run(const std::string& op, const Json& request) override {
    if (op != "try_read" && op != "read") throw Unsupported{"op " + op + " is not a fanout consumer op"};
    indexbus::ReadResult result =
        op == "read" ? consumer_.read(buffer_, deadline_from(ctx_, request)) : consumer_.try_read(buffer_);
    if (ctx_.defect == Defect::FanoutLostOffByOne && result.status == indexbus::ReadStatus::Lost) ++result.lost_count;
    return read_result(result, buffer_);
  }

 private:
  Context& ctx_;
  indexbus::RingLaneRef lane_;
  std::uint32_t index_;
  indexbus::FanoutConsumer<AgentPlatform> consumer_;
  std::vector<std::byte> buffer_;
};

std::unique_ptr<RoleHandle> attach_fanout(Context& ctx, std::byte* block, const indexbus::LaneDescriptor& lane,
                                          const std::string& role, const Json& request, Json& /*out*/) {
  const indexbus::RingLaneRef ref = indexbus::ring_lane_ref(block, lane);
  if (role == "producer") {
    auto attached = indexbus::attach_fanout_producer(ctx.platform, ref);
    if (!attached.ok()) throw_attach_error(attached.error());
    return std::make_unique<RingWriterHandle<indexbus::FanoutProducer<AgentPlatform>>>(ctx, ref,
                                                                                               std::move(attached).value());
  }
  if (role != "consumer") throw AgentError{"bad_request", "fanout_broadcast lanes have no role '" + role + "'"};
  const std::uint32_t index = reader_index(request);
  auto attached = indexbus::attach_fanout_consumer(ctx.platform, ref, index);
  if (!attached.ok()) throw_attach_error(attached.error());
  return std::make_unique<FanoutConsumerHandle>(ctx, ref, index, std::move(attached).value());
}

// ---- SequencedSlots

class SequencedProducerHandle final : public RoleHandle {
 public:
  SequencedProducerHandle(Context& ctx, indexbus::RingLaneRef lane, indexbus::SequencedProducer<AgentPlatform> producer)
      : ctx_(ctx), lane_(lane), producer_(std::move(producer)) {}
  ~SequencedProducerHandle() override { indexbus::detach_sequenced_producer(ctx_.platform, lane_); }

  Json run(const std::string& op, const Json& request) override {
    if (op == "close") {
      producer_.close();
      claim_ = {};  // the claim is abandoned (SS-2); its seq stays, so that publishing it answers Closed
      return Json{{"status", "Ok"}};
    }
    if (op == "try_claim" || op == "claim") {
      const indexbus::ClaimResult claim =
          op == "claim" ? producer_.claim(deadline_from(ctx_, request)) : producer_.try_claim();
      Json out = write_result(claim.status);
      if (claim.status == indexbus::WriteStatus::Ok) {
        claim_ = claim.payload;
        claim_seq_ = claim.seq;  // the lane's; the defect below lies only in what it reports
        out["seq"] = claim.seq + (ctx_.defect == Defect::SequencedClaimSeqOffByOne ? 1 : 0);
      }
      return out;
    }
    if (op == "publish") {
      // agent-protocol.md: a publish names the outstanding claim (the seq its claim returned).
      const std::uint64_t seq = proto::get_u64(request, "seq");
      if (ctx_.defect == Defect::SloppyRefusals) claim_seq_ = seq;
      if (!claim_seq_) throw AgentError{"bad_request", "publish of seq " + std::to_string(seq) + " with no claim outstanding"};
      if (seq != *claim_seq_) {
        throw AgentError{"bad_request", "publish of seq " + std::to_string(seq) + ", but the outstanding claim is seq " +
                                            std::to_string(*claim_seq_)};
      }
      std::vector<std::byte> payload = proto::from_hex(proto::get_string(request, "payload_hex"), indexbus::kSlotPayloadBytesMax);
      // The lane API takes a length; bytes beyond the claimed span cannot be written (TooLarge).
      if (!claim_.empty()) std::copy_n(payload.begin(), std::min(payload.size(), claim_.size()), claim_.begin());
      const indexbus::WriteStatus status = producer_.publish(static_cast<std::uint32_t>(payload.size()));
      if (status == indexbus::WriteStatus::Ok || status == indexbus::WriteStatus::Closed) {
        claim_ = {};
        claim_seq_.reset();
      }
      return write_result(status);
    }
    throw Unsupported{"op " + op + " is not a sequenced_slots producer op"};
  }

 private:
  Context& ctx_;
  indexbus::RingLaneRef lane_;
  indexbus::SequencedProducer<AgentPlatform> producer_;
  std::span<std::byte> claim_;  // the claimed slot's payload, until publish
  std::optional<std::uint64_t> claim_seq_;  // the seq the claim answered, until publish
};

class SequencedConsumerHandle final : public RoleHandle {
 public:
  SequencedConsumerHandle(Context& ctx, indexbus::RingLaneRef lane, std::uint32_t index,
                          indexbus::SequencedConsumer<AgentPlatform> consumer)
      : ctx_(ctx), lane_(lane), index_(index), consumer_(std::move(consumer)), buffer_(lane.slot_payload_bytes) {}
  ~SequencedConsumerHandle() override { indexbus::detach_sequenced_consumer(ctx_.platform, lane_, index_); }

  Json run(const std::string& op, const Json& request) override {
    if (op == "try_read") return read_result(consumer_.try_read(buffer_), buffer_);
    if (op == "read") return read_result(consumer_.read(buffer_, deadline_from(ctx_, request)), buffer_);
    throw Unsupported{"op " + op + " is not a sequenced_slots consumer op"};
  }

 private:
  Context& ctx_;
  indexbus::RingLaneRef lane_;
  std::uint32_t index_;
  indexbus::SequencedConsumer<AgentPlatform> consumer_;
  std::vector<std::byte> buffer_;
};

std::unique_ptr<RoleHandle> attach_sequenced(Context& ctx, std::byte* block, const indexbus::LaneDescriptor& lane,
                                             const std::string& role, const Json& request, Json& /*out*/) {
  const indexbus::RingLaneRef ref = indexbus::ring_lane_ref(block, lane);
  if (role == "producer") {
    auto attached = indexbus::attach_sequenced_producer(ctx.platform, ref);
    if (!attached.ok()) throw_attach_error(attached.error());
    return std::make_unique<SequencedProducerHandle>(ctx, ref, std::move(attached).value());
  }
  if (role != "consumer") throw AgentError{"bad_request", "sequenced_slots lanes have no role '" + role + "'"};
  const std::uint32_t index = reader_index(request);
  auto attached = indexbus::attach_sequenced_consumer(ctx.platform, ref, index);
  if (!attached.ok()) throw_attach_error(attached.error());
  return std::make_unique<SequencedConsumerHandle>(ctx, ref, index, std::move(attached).value());
}

Json ring_state(std::byte* block, const indexbus::LaneDescriptor& lane) {
  const indexbus::RingLaneRef ref = indexbus::ring_lane_ref(block, lane);
  const indexbus::RealPlatform platform;
  auto load = [&](auto& word) { return platform.load(word, std::memory_order_acquire); };
  static constexpr const char* kStates[] = {"free", "attached", "evicted", "detached"};
  Json readers = Json::array();
  for (std::uint32_t i = 0; i < ref.reader_count; ++i) {
    indexbus::ReaderRecord& r = ref.readers[i];
    const std::uint32_t state = load(r.state);
    readers.push_back(Json{{"cursor_seq", load(r.cursor_seq)},
                           {"read_count", load(r.read_count)},
                           {"lost_count", load(r.lost_count)},
                           {"state", state < 4 ? kStates[state] : "invalid"}});
  }
  return Json{{"write_seq", load(ref.header->write_seq)},
              {"closed", load(ref.header->closed) != 0},
              {"eviction_count", load(ref.header->eviction_count)},
              {"readers", std::move(readers)}};
}

Json events_lane_state(std::byte* block, const indexbus::LaneDescriptor&) { return events_state(block); }

// ---- The kind table: one row per lane kind this agent implements --------------------------------

struct KindEntry {
  indexbus::LaneKind kind;
  // Attaches role (request: the attach request); may add fields to the reply (out).
  std::unique_ptr<RoleHandle> (*attach)(Context&, std::byte* block, const indexbus::LaneDescriptor&, const std::string& role,
                                        const Json& request, Json& out);
  Json (*state)(std::byte* block, const indexbus::LaneDescriptor&);
};
const KindEntry kKinds[] = {
    {indexbus::LaneKind::Events, attach_events, events_lane_state},
    {indexbus::LaneKind::Journal, attach_journal, ring_state},
    {indexbus::LaneKind::SequencedSlots, attach_sequenced, ring_state},
    {indexbus::LaneKind::FanoutBroadcast, attach_fanout, ring_state},
};

const KindEntry* find_kind(std::uint32_t kind) {
  for (const KindEntry& entry : kKinds) {
    if (static_cast<std::uint32_t>(entry.kind) == kind) return &entry;
  }
  return nullptr;
}

std::optional<indexbus::LaneKind> parse_kind(const std::string& name) {
  for (auto kind : {indexbus::LaneKind::Events, indexbus::LaneKind::Journal, indexbus::LaneKind::SequencedSlots,
                    indexbus::LaneKind::FanoutBroadcast}) {
    if (indexbus::to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

// ---- The agent --------------------------------------------------------------------------------

class Agent {
 public:
  explicit Agent(Defect defect) {
    ctx_.defect = defect;
    if (defect == Defect::LoseWakes) ctx_.platform.lose_wakes_for(kLoseWakesWindowNs);
  }

  Json hello() const {
    Json kinds = Json::array();
    for (const KindEntry& entry : kKinds) kinds.push_back(indexbus::to_string(entry.kind));
    return Json{{"type", "hello"},
                {"protocol", proto::kProtocolVersion},
                {"implementation", {{"name", kImplementationName}, {"version", kImplementationVersion}}},
                {"layout_versions", {std::to_string(indexbus::kLayoutVersionMajor) + "." +
                                     std::to_string(indexbus::kLayoutVersionMinor)}},
                {"lane_kinds", kinds},
                {"policies", {"block", "drop"}},
                {"batch", true},
                {"kill_at_access", true}};
  }

  // Returns the reply to one request; sets done on shutdown.
  Json handle(const Json& request, bool& done) {
    Json reply{{"id", request.contains("id") ? request["id"] : Json(nullptr)}};
    try {
      (void)proto::get_u64(request, "id");
      reply["result"] = dispatch(proto::get_string(request, "type"), request, done);
      reply["type"] = "ok";
    } catch (const ProtocolError& e) {
      reply["type"] = "error";
      reply["error"] = {{"kind", "bad_request"}, {"message", e.what()}};
    } catch (const AgentError& e) {
      reply["type"] = "error";
      reply["error"] = {{"kind", e.kind}, {"message", e.message}};
      if (!e.code.empty() && ctx_.defect != Defect::SloppyRefusals) reply["error"]["code"] = e.code;
    } catch (const Unsupported& e) {
      reply["type"] = "unsupported";
      reply["reason"] = e.reason;
    } catch (const std::exception& e) {  // a bug of ours: say so rather than die mid-session
      std::fprintf(stderr, "indexbus-agent: internal error: %s\n", e.what());
      reply["type"] = "error";
      reply["error"] = {{"kind", "internal"}, {"message", e.what()}};
    }
    // Every reply, whatever its type: the harness fails the case on a count above 0.
    reply["lost_wakeups"] = AgentPlatform::lost_wakeup_count();
    return reply;
  }

 private:
  using RoleKey = std::tuple<std::uint32_t, std::string, std::uint64_t>;  // lane, role, reader

  Json dispatch(const std::string& type, const Json& request, bool& done) {
    if (type == "create_region") return create_region(request);
    if (type == "open_region") return open_region(request);
    if (type == "attach") return attach(request);
    if (type == "detach") {
      if (roles_.erase(role_key(request)) == 0) throw AgentError{"not_attached", "role is not attached"};
      return Json::object();
    }
    if (type == "op") return run_op(request);
    if (type == "run_script") return run_script(request);
    if (type == "lane_state") {
      const std::uint32_t lane = lane_index(request);
      return find_kind(region_->lane(lane).kind)->state(region_->lane_block(lane), region_->lane(lane));
    }
    if (type == "shutdown") {
      done = true;
      return Json::object();
    }
    throw Unsupported{"request type '" + type + "' is not implemented"};
  }

  Json create_region(const Json& request) {
    std::vector<indexbus::LaneSpec> lanes;
    for (const Json& lane : proto::get_array(request, "lanes")) {
      indexbus::LaneSpec spec;
      const auto kind = parse_kind(proto::get_string(lane, "kind"));
      if (!kind) throw AgentError{"bad_request", "unknown lane kind '" + proto::get_string(lane, "kind") + "'"};
      spec.kind = *kind;
      const std::string on_full = proto::get_string(lane, "on_full");
      if (on_full != "block" && on_full != "drop") throw AgentError{"bad_request", "on_full must be block or drop"};
      spec.on_full = on_full == "block" ? indexbus::OnFull::Block : indexbus::OnFull::Drop;
      spec.capacity_slots = static_cast<std::uint32_t>(proto::get_u64(lane, "capacity_slots"));
      spec.slot_payload_bytes = static_cast<std::uint32_t>(proto::get_u64(lane, "slot_payload_bytes"));
      spec.reader_count = static_cast<std::uint32_t>(proto::get_u64_or(lane, "reader_count", 1));
      spec.reader_timeout_ns = proto::get_u64_or(lane, "reader_timeout_ns", 0);
      if (lane.contains("gated_on")) {
        for (const Json& mask : proto::get_array(lane, "gated_on")) {
          if (!mask.is_number_unsigned()) throw ProtocolError("field 'gated_on': expected unsigned integers");
          spec.gated_on.push_back(mask.get<std::uint64_t>());
        }
      }
      lanes.push_back(std::move(spec));
    }
    release_region();
    refuse_drop_if_lying(lanes);
    auto created = indexbus::Region::create(proto::get_string(request, "path"), lanes);
    if (!created.ok()) throw region_error(created.error());
    region_.emplace(std::move(created).value());
    if (ctx_.defect == Defect::BadHeaderVersion) {
      auto* header = reinterpret_cast<indexbus::RegionHeader*>(region_->base());
      header->version_major = 2;
    }
    return Json{{"bytes", region_->size_bytes()}};
  }

  Json open_region(const Json& request) {
    release_region();
    const std::string path = proto::get_string(request, "path");
    auto opened = indexbus::Region::open(path);
    if (!opened.ok()) {
      indexbus::Error error = opened.error();
      if (ctx_.defect == Defect::LenientOpen) {
        if (auto lenient = lenient_open(path, error)) return *lenient;
      }
      throw region_error(error);
    }
    region_.emplace(std::move(opened).value());
    return Json{{"lane_count", region_->lane_count()}};
  }

  Json attach(const Json& request) {
    const std::uint32_t lane = lane_index(request);
    const RoleKey key = role_key(request);
    if (roles_.count(key) != 0) throw AgentError{"role_taken", "this agent already holds the role", "RoleTaken"};
    // A reader index (a Journal handle) is below 64, the most readers a lane has; checked on the
    // full 64-bit value, before anything narrows it (2^32 must not become reader 0).
    if (ctx_.defect != Defect::SloppyRefusals && request.contains("reader") &&
        proto::get_u64(request, "reader") >= indexbus::kReaderCountMax) {
      throw AgentError{"bad_request",
                       "reader " + std::to_string(proto::get_u64(request, "reader")) + " is not below " +
                           std::to_string(indexbus::kReaderCountMax) + " (no lane has more readers)",
                       "BadReaderIndex"};
    }
    if (ctx_.defect == Defect::ProducerResumesBehind && std::get<1>(key) == "producer") move_write_seq_back(lane);
    if (ctx_.defect == Defect::HelloLiesDrop && region_->lane(lane).on_full == static_cast<std::uint32_t>(indexbus::OnFull::Drop)) {
      throw Unsupported{"the drop policy is not implemented (a lie: the hello declares it)"};
    }
    const KindEntry* kind = find_kind(region_->lane(lane).kind);
    if (kind == nullptr) throw Unsupported{"lane kind " + std::to_string(region_->lane(lane).kind) + " is not implemented"};
    Json out = Json::object();
    roles_[key] = kind->attach(ctx_, region_->lane_block(lane), region_->lane(lane), std::get<1>(key), request, out);
    return out;
  }

  // Defect::ProducerResumesBehind: write_seq (the lane header's, Events and ring kinds alike) two
  // lower (at least 0), before the producer handle loads it. A fresh lane (write_seq 0) is left alone.
  void move_write_seq_back(std::uint32_t lane) {
    std::byte* block = region_->lane_block(lane);
    std::uint64_t* write_seq = region_->lane(lane).kind == static_cast<std::uint32_t>(indexbus::LaneKind::Events)
                                   ? &reinterpret_cast<indexbus::EventsLaneHeader*>(block)->write_seq
                                   : &reinterpret_cast<indexbus::RingLaneHeader*>(block)->write_seq;
    const std::uint64_t seen = ctx_.platform.load(*write_seq, std::memory_order_acquire);
    if (seen > 0) ctx_.platform.store(*write_seq, seen > 2 ? seen - 2 : 0, std::memory_order_release);
  }

  // Batch mode: the ops in order at full speed, after waiting for start_at_ns (so that every
  // agent of a case starts together). Each result is an op result plus its index.
  //
  // perturb_seed (optional): seeded delays at the lanes' shared-memory accesses during the script,
  // about one access in perturb_period (default 64). history_path (optional): each result is also
  // appended to that file as one JSON line as soon as its op returns (write(2), no buffering), so
  // that the operations completed before a SIGKILL survive it; the harness reads the file.
  // kill_at_access (optional, >= 1): the Nth shared-memory access of the lanes during the script
  // raises SIGKILL on this process (PerturbingPlatform::kill_at_access), so that it dies inside
  // an operation; the harness then treats that operation as indeterminate.
  Json run_script(const Json& request) {
    const Json& ops = proto::get_array(request, "ops");
    if (ops.size() > kScriptOpsMax) throw AgentError{"bad_request", "script longer than " + std::to_string(kScriptOpsMax) + " ops"};
    const std::uint64_t start_at_ns = proto::get_u64_or(request, "start_at_ns", 0);
    if (start_at_ns > ctx_.platform.now_ns() + kStartDelayMaxNs) throw AgentError{"bad_request", "start_at_ns is too far ahead"};
    // Bounded by kStartDelayMaxNs.
    while (ctx_.platform.now_ns() < start_at_ns) ::usleep(50);
    int history_fd = -1;
    if (request.contains("history_path")) {
      history_fd = ::open(proto::get_string(request, "history_path").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (history_fd < 0) throw AgentError{"internal", "cannot open history_path: " + std::string(std::strerror(errno))};
    }
    if (request.contains("perturb_seed")) {
      ctx_.platform.enable(proto::get_u64(request, "perturb_seed"),
                           static_cast<std::uint32_t>(proto::get_u64_or(request, "perturb_period", 64)));
    }
    std::uint64_t kill_at_access = 0;
    if (request.contains("kill_at_access")) {
      kill_at_access = proto::get_u64(request, "kill_at_access");
      if (kill_at_access == 0) throw AgentError{"bad_request", "field kill_at_access is 0, expected at least 1 (the 1st access kills)"};
    }
    // Armed last, after everything that can refuse the request, so that only lane accesses count.
    if (ctx_.defect != Defect::IgnoreKill) ctx_.platform.kill_at_access(kill_at_access);
    struct ScriptEnd {  // also when an op throws: perturbation off, kill disarmed, file closed
      Context& ctx;
      int fd;
      ~ScriptEnd() {
        ctx.platform.kill_at_access(0);
        ctx.platform.disable();
        if (fd >= 0) ::close(fd);
      }
    } script_end{ctx_, history_fd};
    Json history = Json::array();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      Json result = run_op(ops[i]);
      result["index"] = i;
      if (history_fd >= 0) {
        const std::string line = result.dump() + "\n";
        (void)!::write(history_fd, line.data(), line.size());  // one write per line: whole or nothing
      }
      history.push_back(std::move(result));
    }
    return Json{{"history", std::move(history)}, {"perturbations", ctx_.platform.perturbations()}};
  }

  Json run_op(const Json& request) {
    (void)lane_index(request);
    const auto it = roles_.find(role_key(request));
    if (it == roles_.end()) {
      throw AgentError{"not_attached", proto::get_string(request, "role") + " of lane " +
                                           std::to_string(proto::get_u64(request, "lane")) + " is not attached"};
    }
    const std::string op = proto::get_string(request, "op");
    const std::uint64_t invoked_ns = ctx_.platform.now_ns();
    Json result = it->second->run(op, request);
    result["returned_ns"] = ctx_.platform.now_ns();
    result["invoked_ns"] = invoked_ns;
    if (++ops_run_ == kVandalOp) vandalize();
    return result;
  }

  void refuse_drop_if_lying(const std::vector<indexbus::LaneSpec>& lanes) const {
    if (ctx_.defect != Defect::HelloLiesDrop) return;
    for (const indexbus::LaneSpec& lane : lanes) {
      if (lane.on_full == indexbus::OnFull::Drop) throw Unsupported{"the drop policy is not implemented (a lie: the hello declares it)"};
    }
  }

  // The vandal defects: shared memory written where no implementation may write.
  void vandalize() {
    std::byte* base = region_->base();
    const indexbus::LaneDescriptor& lane = region_->lane(0);
    switch (ctx_.defect) {
      case Defect::CorruptRegionHeader:
        reinterpret_cast<indexbus::RegionHeader*>(base)->reserved0 = 0xdead;
        break;
      case Defect::CorruptLaneHeader:
        if (lane.kind == static_cast<std::uint32_t>(indexbus::LaneKind::Events)) {
          reinterpret_cast<indexbus::EventsLaneHeader*>(region_->lane_block(0))->closed = 7;
        }
        break;
      case Defect::WritePastLane: {
        const std::uint64_t past = lane.block_offset + lane.block_bytes;
        const std::uint64_t target = past < region_->size_bytes() ? past : region_->header().lane_table_offset + 63;
        base[target] = std::byte{0xab};
        break;
      }
      case Defect::TruncateRegion:
        if (::truncate(region_->path().c_str(), static_cast<off_t>(region_->size_bytes() / 2)) != 0) std::perror("truncate");
        break;
      default:
        break;
    }
  }

  std::uint32_t lane_index(const Json& request) const {
    if (!region_) throw AgentError{"no_region", "no region created or opened yet"};
    const std::uint64_t lane = proto::get_u64(request, "lane");
    if (lane >= region_->lane_count()) {
      throw AgentError{"bad_lane", "lane " + std::to_string(lane) + " of " + std::to_string(region_->lane_count())};
    }
    return static_cast<std::uint32_t>(lane);
  }

  static RoleKey role_key(const Json& request) {
    return {static_cast<std::uint32_t>(proto::get_u64(request, "lane")), proto::get_string(request, "role"),
            proto::get_u64_or(request, "reader", 0)};
  }

  // --defect lenient-open: what an opener with gaps in its validation answers instead of error.
  // Returns the `ok` result of a region it "opens" (holding none), or nullopt after bending error.
  static std::optional<Json> lenient_open(const std::string& path, indexbus::Error& error) {
    using indexbus::ErrorCode;
    switch (error.code) {
      case ErrorCode::BadLaneTableOffset:
      case ErrorCode::BlockOutOfBounds: return Json{{"lane_count", 0}};
      case ErrorCode::ReservedNotZero: error.code = ErrorCode::BadFlags; return std::nullopt;
      case ErrorCode::BlocksOverlap: {  // "lane j: block_offset ... overlaps the block of lane i ..." -> "lane i: ..."
        const std::string marker = "overlaps the block of lane ";
        const std::size_t named = error.message.find(marker);
        const std::size_t field = error.message.find(": block_offset");
        const std::size_t lane = field == std::string::npos ? field : error.message.rfind("lane ", field);
        if (named == std::string::npos || lane == std::string::npos) return std::nullopt;
        const std::size_t i = named + marker.size();
        error.message.replace(lane + 5, field - lane - 5, error.message.substr(i, error.message.find(' ', i) - i));
        return std::nullopt;
      }
      case ErrorCode::ChecksumMismatch: reseal_file(path); return std::nullopt;
      default: return std::nullopt;
    }
  }

  // Writes the right checksum into a region file whose other checks all passed.
  static void reseal_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    std::vector<std::byte> image(sizeof(indexbus::RegionHeader));
    if (::pread(fd, image.data(), image.size(), 0) == static_cast<ssize_t>(image.size())) {
      indexbus::RegionHeader header;
      std::memcpy(&header, image.data(), sizeof header);
      image.resize(header.lane_table_offset + std::size_t{header.lane_count} * sizeof(indexbus::LaneDescriptor));
      if (::pread(fd, image.data(), image.size(), 0) == static_cast<ssize_t>(image.size())) {
        const std::uint32_t checksum = indexbus::region_checksum(image, header.lane_table_offset, header.lane_count);
        (void)!::pwrite(fd, &checksum, sizeof checksum, offsetof(indexbus::RegionHeader, checksum));
      }
    }
    ::close(fd);
  }

  static AgentError region_error(const indexbus::Error& error) {
    const std::string code(indexbus::to_string(error.code));
    return AgentError{"region", code + ": " + error.message, code};
  }

  void release_region() {
    roles_.clear();  // roles point into the mapping: release them first
    region_.reset();
  }

  Context ctx_;
  std::optional<indexbus::Region> region_;
  std::map<RoleKey, std::unique_ptr<RoleHandle>> roles_;
  std::uint64_t ops_run_ = 0;  // step-mode ops and script ops, for the vandal defects
};

Defect parse_defect(int argc, char** argv) {
#ifdef INDEXBUS_AGENT_DEFECTS
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag != "--defect") continue;
    if (value == "skip-every-5th-entry") return Defect::SkipEvery5thEntry;
    if (value == "ok-instead-of-full") return Defect::OkInsteadOfFull;
    if (value == "crash-on-read") return Defect::CrashOnRead;
    if (value == "hang-on-read") return Defect::HangOnRead;
    if (value == "garbage-on-read") return Defect::GarbageOnRead;
    if (value == "journal-commit-ignored") return Defect::JournalCommitIgnored;
    if (value == "fanout-lost-off-by-one") return Defect::FanoutLostOffByOne;
    if (value == "sequenced-claim-seq-off-by-one") return Defect::SequencedClaimSeqOffByOne;
    if (value == "journal-entry-seq-off-by-one") return Defect::JournalEntrySeqOffByOne;
    if (value == "journal-read-heartbeats-while-waiting") return Defect::JournalReadHeartbeatsWhileWaiting;
    if (value == "hello-lies-drop") return Defect::HelloLiesDrop;
    if (value == "bad-header-version") return Defect::BadHeaderVersion;
    if (value == "corrupt-region-header") return Defect::CorruptRegionHeader;
    if (value == "corrupt-lane-header") return Defect::CorruptLaneHeader;
    if (value == "write-past-lane") return Defect::WritePastLane;
    if (value == "truncate-region") return Defect::TruncateRegion;
    if (value == "sloppy-refusals") return Defect::SloppyRefusals;
    if (value == "lenient-open") return Defect::LenientOpen;
    if (value == "lose-wakes") return Defect::LoseWakes;
    if (value == "ignore-kill") return Defect::IgnoreKill;
    if (value == "producer-resumes-behind") return Defect::ProducerResumesBehind;
    std::fprintf(stderr, "indexbus-agent-broken: unknown defect %s\n", value.c_str());
    std::exit(2);
  }
#else
  (void)argc;
  (void)argv;
#endif
  return Defect::None;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a vanished harness shows up as a write error, not a signal
  Agent agent(parse_defect(argc, argv));
  if (auto error = proto::write_frame(STDOUT_FILENO, agent.hello(), proto::kNoDeadline)) {
    std::fprintf(stderr, "indexbus-agent: cannot send hello: %s\n", error->c_str());
    return 3;
  }
  // One request at a time until shutdown or end of stdin; the harness bounds our time, not us.
  for (bool done = false; !done;) {
    const proto::FrameResult frame = proto::read_frame(STDIN_FILENO, proto::kNoDeadline);
    if (frame.status == proto::FrameStatus::Eof) return 0;
    if (frame.status != proto::FrameStatus::Ok) {
      std::fprintf(stderr, "indexbus-agent: bad frame from the harness: %s\n", frame.error.c_str());
      return 1;
    }
    const Json reply = agent.handle(frame.value, done);
    if (auto error = proto::write_frame(STDOUT_FILENO, reply, proto::kNoDeadline)) {
      std::fprintf(stderr, "indexbus-agent: cannot reply: %s\n", error->c_str());
      return 1;
    }
  }
  return 0;
}

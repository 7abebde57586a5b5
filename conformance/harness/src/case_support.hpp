// What every runner of a case (step_runner, ring_step, batch, lin_batch) shares: how a case ends
// early, what an agent failure makes of it, the statuses a result may name, and the one bounded
// sleep. Private to the harness library.
#pragma once

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/step_runner.hpp"
#include "indexbus/protocol/fields.hpp"
#include "indexbus/spec/events_model.hpp"  // ReadOutcome
#include "indexbus/vocabulary.hpp"

namespace indexbus::harness::case_support {

// Ends a case early with its outcome; thrown by a runner's helpers, caught once where it runs.
struct CaseStop {
  Outcome outcome;
  std::string detail;
};

inline Outcome outcome_of(const AgentFailure& failure) {
  return failure.kind == AgentFailureKind::Crash     ? Outcome::Crash
         : failure.kind == AgentFailureKind::Timeout ? Outcome::Timeout
                                                     : Outcome::Fail;
}

// Every sleep of a case is short: clamped to 1 s, so that no arithmetic slip can hang the harness.
inline void sleep_us(std::uint64_t us) {
  us = std::min<std::uint64_t>(us, 1'000'000);
  timespec ts{static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000) * 1000};
  ::nanosleep(&ts, nullptr);
}

// `unsupported` from an agent (spec/agent-protocol.md) makes a case SKIP, except where it
// contradicts the agent's hello: once the hello declared the case's lane kind and policy (the
// runner checked it), create_region, open_region and attach must work; `unsupported` there is a
// lie, and a FAIL (spec/certify.md, "Bad input").
inline CaseStop unsupported_stop(std::size_t agent, const std::string& during, const std::string& reason) {
  const bool declared = during.starts_with("create_region") || during.starts_with("open_region") || during.starts_with("attach");
  const std::string who = "agent " + std::to_string(agent) + " ";
  if (!declared) return CaseStop{Outcome::Skip, who + "does not support " + during + ": " + reason};
  return CaseStop{Outcome::Fail, who + during + ": unsupported (" + reason +
                                     "), although its hello declares the case's lane kind and policy: a hello declares only what works"};
}

// A reply's lost_wakeups (spec/agent-protocol.md, "Lost wake-ups") above 0 fails the case, whatever
// the results say: a waiter of that agent's lanes was released by its deadline or a park slice
// although its condition already held, because no peer woke it. Results hide that (the slice only
// delays them), so every runner checks every reply it reads. `who` names the agent in the detail.
// `tolerated`: how many the case's own doing explains. Only a case that SIGKILLs an agent mid-run
// passes more than 0: a waker killed between its publish and its bump loses that wake, which the
// park slice exists for (spec/layout.md, "Waking"); one kill loses at most one wake per waiter.
inline void stop_on_lost_wakeups(const std::string& who, const Reply& reply, std::uint64_t tolerated = 0) {
  if (reply.lost_wakeups <= tolerated) return;
  throw CaseStop{Outcome::Fail,
                 who + " reported " + std::to_string(reply.lost_wakeups) + " lost wake-up" + (reply.lost_wakeups == 1 ? "" : "s") +
                     ": a parked waiter of its lanes found its condition true after a sleep that ended by deadline or park slice, "
                     "with the wake epoch unchanged after the grace; the peer published without waking it (the waiting "
                     "protocol's Dekker pair failed, or the peer skipped its wake)"};
}
inline void stop_on_lost_wakeups(std::size_t agent, const Reply& reply, std::uint64_t tolerated = 0) {
  stop_on_lost_wakeups("agent " + std::to_string(agent), reply, tolerated);
}

// An image as a new region file: exclusive, mode 0600, owned by us (what Region::open requires).
// The golden and the corrupt-region cases hand agents their images this way.
inline void write_image(const std::string& path, const spec::Bytes& bytes) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) throw CaseStop{Outcome::Crash, "setup: cannot create " + path + ": " + std::strerror(errno)};
  std::size_t done = 0;
  // Each pass writes at least one byte or ends the loop: bounded by the image size.
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != bytes.size()) throw CaseStop{Outcome::Crash, "setup: cannot write " + path};
}

// The bytes of a regular file (empty when it cannot be read).
inline spec::Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  spec::Bytes out(text.size());
  if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());  // an empty vector's data() may be null
  return out;
}

// The statuses an agent's result may name (spec/agent-protocol.md).
inline constexpr WriteStatus kWriteStatuses[] = {WriteStatus::Ok, WriteStatus::Full, WriteStatus::Timeout,
                                                 WriteStatus::Closed, WriteStatus::TooLarge};
inline constexpr ReadStatus kReadStatuses[] = {ReadStatus::Entry,   ReadStatus::Empty,   ReadStatus::Lost,  ReadStatus::Closed,
                                               ReadStatus::Timeout, ReadStatus::Evicted, ReadStatus::NotYet};

// The status of table called name; a name outside the table breaks the protocol.
template <typename Status, std::size_t N>
Status status_named(const std::string& name, const Status (&table)[N]) {
  for (const Status status : table) {
    if (to_string(status) == name) return status;
  }
  throw protocol::ProtocolError("unknown status '" + name + "'");
}

// A read result of the agent protocol (status; seq and payload_hex for Entry; lost_count for Lost)
// as the model's ReadOutcome. Throws protocol::ProtocolError on a malformed result.
inline spec::ReadOutcome parse_read_outcome(const protocol::Json& result) {
  spec::ReadOutcome read;
  read.status = status_named(protocol::get_string(result, "status"), kReadStatuses);
  if (read.status == ReadStatus::Entry) {
    read.seq = protocol::get_u64(result, "seq");
    read.payload = protocol::from_hex(protocol::get_string(result, "payload_hex"), kSlotPayloadBytesMax);
  }
  if (read.status == ReadStatus::Lost) read.lost_count = protocol::get_u64(result, "lost_count");
  return read;
}

}  // namespace indexbus::harness::case_support

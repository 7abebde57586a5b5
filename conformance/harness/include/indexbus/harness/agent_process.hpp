// One agent process seen from the harness: spawned with pipes on stdin/stdout and its stderr in
// an anonymous memory file, spoken to with bounded requests (spec/agent-protocol.md). Whatever
// the agent does (crash, hang, garbage), a call returns by its deadline with a description.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "indexbus/protocol/frame.hpp"

namespace indexbus::harness {

using protocol::Json;

enum class AgentFailureKind {
  Crash,    // the agent exited or died
  Timeout,  // no reply by the deadline; the agent was killed
  Garbage,  // the agent broke the protocol; it was killed
};

struct AgentFailure {
  AgentFailureKind kind = AgentFailureKind::Crash;
  std::string message;  // one line: what happened, with the exit status or the protocol error
};

struct Reply {
  std::string type;  // "ok", "error" or "unsupported"
  Json result;       // ok: the result object
  std::string error_kind;
  std::string error_code;  // error: the core ErrorCode name, when the agent gave one
  std::string message;  // error: the message; unsupported: the reason
  // The agent's lost wake-ups so far (the optional top-level `lost_wakeups` of every reply,
  // spec/agent-protocol.md; absent: 0). More than 0 fails the case (case_support::stop_on_lost_wakeups).
  std::uint64_t lost_wakeups = 0;
};

using RequestOutcome = std::variant<Reply, AgentFailure>;

// Grace added to a request's deadline_ms before the harness gives up on the agent.
inline constexpr std::uint64_t kReplyGraceNs = 1'000'000'000;
inline constexpr std::uint64_t kHelloTimeoutNs = 5'000'000'000;
inline constexpr std::uint32_t kDefaultDeadlineMs = 5'000;

// Which implementation runs each agent process of a case (the interoperability runs of
// `indexbus certify`): the process that creates the region and every process holding a producer
// role run `producer`; the others (consumers, readers) run `consumer`, so that a region made and
// written by one implementation is opened and read by another. The default is one command line
// for every slot.
struct AgentAssignment {
  std::vector<std::string> producer;
  std::vector<std::string> consumer;  // empty: producer's
  const std::vector<std::string>& argv(bool producer_side) const noexcept {
    return producer_side || consumer.empty() ? producer : consumer;
  }
};

class AgentProcess {
 public:
  // Spawns argv (argv[0] is the executable path). Throws conformance::SetupError when it cannot
  // be started at all (missing executable, no fds): an environment problem.
  explicit AgentProcess(const std::vector<std::string>& argv);
  ~AgentProcess();  // asks politely (closes stdin), waits a little, then SIGKILL; always reaps
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Reads and checks hello (a JSON object of type hello with the fields of the spec).
  std::optional<AgentFailure> handshake();
  const Json& hello() const noexcept { return hello_; }

  // Sends request (its id and deadline_ms are filled in) and waits for the reply with that id.
  RequestOutcome request(Json request, std::uint32_t deadline_ms = kDefaultDeadlineMs);
  // The two halves of request(), for batch mode: send to several agents, then collect. send()
  // returns the id to wait for, or the failure; receive() waits until deadline_ms after send.
  std::variant<std::uint64_t, AgentFailure> send(Json request, std::uint32_t deadline_ms);
  RequestOutcome receive(std::uint64_t id);
  bool signal(int signal_number) noexcept;  // SIGSTOP/SIGCONT pauses; false if not running

  void kill_now() noexcept;  // SIGKILL and reap: a process-death step, or an agent given up on
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  std::string stderr_tail(std::size_t bytes_max = 2048) const;

 private:
  AgentFailure fail(AgentFailureKind kind, std::string message);
  std::string reap_description();  // waits (bounded) for the exit and describes it

  pid_t pid_ = -1;
  int child_slot_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;  // memfd the agent writes its log to
  std::uint64_t next_id_ = 1;
  std::uint64_t pending_deadline_ns_ = 0;  // of the request sent last
  std::string pending_type_;
  Json hello_;
};

}  // namespace indexbus::harness

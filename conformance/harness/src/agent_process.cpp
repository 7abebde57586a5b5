#include "indexbus/harness/agent_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "indexbus/conformance/lane_under_test.hpp"  // SetupError
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/protocol/fields.hpp"

extern char** environ;

namespace indexbus::harness {
namespace {

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "agent exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "agent killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "agent stopped (status " + std::to_string(status) + ")";
}

void sleep_ms(long ms) {
  timespec ts{0, ms * 1'000'000};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

AgentProcess::AgentProcess(const std::vector<std::string>& argv) {
  assert(!argv.empty());
  install_cleanup_handlers();
  int to_agent[2];
  int from_agent[2];
  if (::pipe2(to_agent, O_CLOEXEC) != 0) throw conformance::SetupError(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(from_agent, O_CLOEXEC) != 0) {
    ::close(to_agent[0]);
    ::close(to_agent[1]);
    throw conformance::SetupError(std::string("pipe: ") + std::strerror(errno));
  }
  stdin_fd_ = to_agent[1];
  stdout_fd_ = from_agent[0];
  // An anonymous file: nothing to remove afterwards, and the log survives the agent's death.
  stderr_fd_ = ::memfd_create("indexbus-agent-stderr", MFD_CLOEXEC);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_agent[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_agent[1], STDOUT_FILENO);
  if (stderr_fd_ >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd_, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int spawned = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_agent[0]);
  ::close(from_agent[1]);
  if (spawned != 0) {
    pid_ = -1;
    close_fd(stdin_fd_);
    close_fd(stdout_fd_);
    close_fd(stderr_fd_);
    throw conformance::SetupError("cannot start agent " + argv[0] + ": " + std::strerror(spawned));
  }
  child_slot_ = register_child(pid_);
  // Writes never block without bound: a full pipe is polled until the request's deadline.
  ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
}

AgentProcess::~AgentProcess() {
  close_fd(stdin_fd_);  // end of stdin: a well-behaved agent exits 0
  if (pid_ > 0) {
    // Bounded: about 500 ms for a clean exit, then SIGKILL.
    for (int round = 0; round < 100 && pid_ > 0; ++round) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      sleep_ms(5);
    }
    kill_now();
  }
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

void AgentProcess::kill_now() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  unregister_child(child_slot_);
  child_slot_ = -1;
  close_fd(stdin_fd_);
}

std::string AgentProcess::reap_description() {
  if (pid_ <= 0) return "agent already gone";
  // EOF on stdout comes just before the exit: give it up to 1 s to become reapable.
  for (int round = 0; round < 200; ++round) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      unregister_child(child_slot_);
      child_slot_ = -1;
      return describe_status(status);
    }
    sleep_ms(5);
  }
  kill_now();
  return "agent closed its stdout but did not exit; killed";
}

AgentFailure AgentProcess::fail(AgentFailureKind kind, std::string message) {
  if (kind != AgentFailureKind::Crash) kill_now();
  const std::string tail = stderr_tail(600);
  if (!tail.empty()) message += "; agent stderr: " + tail;
  return AgentFailure{kind, std::move(message)};
}

std::string AgentProcess::stderr_tail(std::size_t bytes_max) const {
  if (stderr_fd_ < 0) return {};
  struct stat st {};
  if (::fstat(stderr_fd_, &st) != 0 || st.st_size <= 0) return {};
  const auto size = static_cast<std::size_t>(st.st_size);
  const std::size_t from = size > bytes_max ? size - bytes_max : 0;
  std::string text(size - from, '\0');
  const ssize_t got = ::pread(stderr_fd_, text.data(), text.size(), static_cast<off_t>(from));
  text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::optional<AgentFailure> AgentProcess::handshake() {
  const protocol::FrameResult frame = protocol::read_frame(stdout_fd_, protocol::monotonic_now_ns() + kHelloTimeoutNs);
  switch (frame.status) {
    case protocol::FrameStatus::Ok: break;
    case protocol::FrameStatus::Eof:
    case protocol::FrameStatus::Truncated:
    case protocol::FrameStatus::Io:
      return fail(AgentFailureKind::Crash, "no hello: " + frame.error + "; " + reap_description());
    case protocol::FrameStatus::Timeout:
      return fail(AgentFailureKind::Timeout, "no hello within 5 s");
    default:
      return fail(AgentFailureKind::Garbage, "hello is not a frame: " + frame.error);
  }
  try {
    if (protocol::get_string(frame.value, "type") != "hello") {
      throw protocol::ProtocolError("first message has type '" + protocol::get_string(frame.value, "type") +
                                    "', expected 'hello'");
    }
    (void)protocol::get_u64(frame.value, "protocol");
    (void)protocol::get_string(protocol::get_object(frame.value, "implementation"), "name");
    (void)protocol::get_string(protocol::get_object(frame.value, "implementation"), "version");
    (void)protocol::get_string_array(frame.value, "layout_versions");
    (void)protocol::get_string_array(frame.value, "lane_kinds");
    (void)protocol::get_string_array(frame.value, "policies");
  } catch (const protocol::ProtocolError& e) {
    return fail(AgentFailureKind::Garbage, std::string("bad hello: ") + e.what());
  }
  hello_ = frame.value;
  return std::nullopt;
}

RequestOutcome AgentProcess::request(Json request, std::uint32_t deadline_ms) {
  auto sent = send(std::move(request), deadline_ms);
  if (auto* failure = std::get_if<AgentFailure>(&sent)) return *failure;
  return receive(std::get<std::uint64_t>(sent));
}

bool AgentProcess::signal(int signal_number) noexcept { return pid_ > 0 && ::kill(pid_, signal_number) == 0; }

std::variant<std::uint64_t, AgentFailure> AgentProcess::send(Json request, std::uint32_t deadline_ms) {
  if (pid_ <= 0) return AgentFailure{AgentFailureKind::Crash, "agent is not running"};
  const std::uint64_t id = next_id_++;
  request["id"] = id;
  request["deadline_ms"] = deadline_ms;
  pending_type_ = request.value("type", "");
  const std::uint64_t deadline_ns = protocol::monotonic_now_ns() + std::uint64_t{deadline_ms} * 1'000'000 + kReplyGraceNs;
  pending_deadline_ns_ = deadline_ns;
  if (auto error = protocol::write_frame(stdin_fd_, request, deadline_ns)) {
    // Past the deadline the agent stopped reading (hung); otherwise the pipe broke (it died).
    if (protocol::monotonic_now_ns() >= deadline_ns) {
      return fail(AgentFailureKind::Timeout, "cannot send request " + std::to_string(id) + ": " + *error);
    }
    return fail(AgentFailureKind::Crash, "cannot send request " + std::to_string(id) + " (" + *error + "); " +
                                             reap_description());
  }
  return id;
}

RequestOutcome AgentProcess::receive(std::uint64_t id) {
  if (pid_ <= 0) return AgentFailure{AgentFailureKind::Crash, "agent is not running"};
  const std::uint64_t deadline_ns = pending_deadline_ns_;
  const protocol::FrameResult frame = protocol::read_frame(stdout_fd_, deadline_ns);
  switch (frame.status) {
    case protocol::FrameStatus::Ok: break;
    case protocol::FrameStatus::Eof:
    case protocol::FrameStatus::Truncated:
    case protocol::FrameStatus::Io:
      return fail(AgentFailureKind::Crash, "no reply to request " + std::to_string(id) + " (" + pending_type_ +
                                               "): " + reap_description());
    case protocol::FrameStatus::Timeout:
      return fail(AgentFailureKind::Timeout, "no reply to request " + std::to_string(id) + " (" + pending_type_ +
                                                 ") by its deadline (deadline_ms + 1 s grace); agent killed");
    default:
      return fail(AgentFailureKind::Garbage, "reply to request " + std::to_string(id) + ": " + frame.error);
  }
  try {
    const Json& message = frame.value;
    const std::uint64_t reply_id = protocol::get_u64(message, "id");
    if (reply_id != id) {
      throw protocol::ProtocolError("reply has id " + std::to_string(reply_id) + ", expected " + std::to_string(id));
    }
    Reply reply;
    reply.type = protocol::get_string(message, "type");
    reply.lost_wakeups = protocol::get_u64_or(message, "lost_wakeups", 0);
    if (reply.type == "ok") {
      reply.result = protocol::get_object(message, "result");
    } else if (reply.type == "error") {
      const Json& error = protocol::get_object(message, "error");
      reply.error_kind = protocol::get_string(error, "kind");
      reply.message = protocol::get_string(error, "message");
      if (error.contains("code") && error["code"].is_string()) reply.error_code = error["code"].get<std::string>();
    } else if (reply.type == "unsupported") {
      reply.message = protocol::get_string(message, "reason");
    } else {
      throw protocol::ProtocolError("reply type '" + reply.type + "' is not ok, error or unsupported");
    }
    return reply;
  } catch (const protocol::ProtocolError& e) {
    return fail(AgentFailureKind::Garbage, "reply to request " + std::to_string(id) + ": " + e.what());
  }
}

}  // namespace indexbus::harness

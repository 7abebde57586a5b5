#include "indexbus/protocol/frame.hpp"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace indexbus::protocol {
namespace {

FrameResult failure(FrameStatus status, std::string error) {
  assert(status != FrameStatus::Ok);
  FrameResult result;
  result.status = status;
  result.error = std::move(error);
  return result;
}

// nlohmann's parser recurses once per level: a body of 16 MiB of '[' would exhaust the stack.
// Count the nesting outside strings before parsing; the scan is linear and bounded by the body.
bool nesting_within(std::string_view body, std::uint32_t depth_max) {
  std::uint32_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > depth_max) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// Milliseconds poll() may wait for deadline_ns: -1 for kNoDeadline, at least 0.
int poll_timeout_ms(std::uint64_t deadline_ns) {
  if (deadline_ns == kNoDeadline) return -1;
  const std::uint64_t now = monotonic_now_ns();
  if (now >= deadline_ns) return 0;
  const std::uint64_t remaining_ms = (deadline_ns - now + 999'999) / 1'000'000;
  return remaining_ms > 60'000 ? 60'000 : static_cast<int>(remaining_ms);
}

// Reads exactly size bytes. at_start: EOF before the first byte is Eof rather than Truncated.
FrameResult read_exact(int fd, char* out, std::size_t size, std::uint64_t deadline_ns, bool at_start) {
  std::size_t done = 0;
  // Each pass reads at least one byte or waits in poll(); the deadline bounds the waiting.
  while (done < size) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, poll_timeout_ms(deadline_ns));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return failure(FrameStatus::Io, std::string("poll: ") + std::strerror(errno));
    }
    if (ready == 0) {
      if (monotonic_now_ns() < deadline_ns) continue;  // poll's millisecond rounding
      return failure(FrameStatus::Timeout, "no complete frame before the deadline (" +
                                               std::to_string(done) + " of " + std::to_string(size) +
                                               " bytes of this part received)");
    }
    const ssize_t got = ::read(fd, out + done, size - done);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return failure(FrameStatus::Io, std::string("read: ") + std::strerror(errno));
    }
    if (got == 0) {
      if (at_start && done == 0) return failure(FrameStatus::Eof, "end of stream");
      return failure(FrameStatus::Truncated, "stream ended inside a frame (" + std::to_string(done) + " of " +
                                                 std::to_string(size) + " bytes)");
    }
    done += static_cast<std::size_t>(got);
  }
  return FrameResult{};
}

std::uint32_t load_le32(const char* bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

}  // namespace

std::string_view to_string(FrameStatus status) noexcept {
  switch (status) {
    case FrameStatus::Ok: return "ok";
    case FrameStatus::Eof: return "end of stream";
    case FrameStatus::Truncated: return "truncated frame";
    case FrameStatus::TooLarge: return "frame length out of range";
    case FrameStatus::BadJson: return "not a JSON object";
    case FrameStatus::Timeout: return "timeout";
    case FrameStatus::Io: return "I/O error";
  }
  return "unknown";
}

std::uint64_t monotonic_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string encode_frame(const Json& value) {
  assert(value.is_object());
  const std::string body = value.dump(-1, ' ', false, Json::error_handler_t::strict);
  assert(body.size() <= kFrameBytesMax);
  std::string frame(kFrameHeaderBytes, '\0');
  const auto length = static_cast<std::uint32_t>(body.size());
  for (std::uint32_t i = 0; i < kFrameHeaderBytes; ++i) frame[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  frame += body;
  return frame;
}

FrameResult check_frame_length(std::uint32_t body_bytes, std::uint32_t max_bytes) {
  if (body_bytes > max_bytes) {
    return failure(FrameStatus::TooLarge, "frame announces " + std::to_string(body_bytes) +
                                              " bytes, limit " + std::to_string(max_bytes));
  }
  if (body_bytes < kFrameBytesMin) {
    return failure(FrameStatus::TooLarge, "frame announces " + std::to_string(body_bytes) +
                                              " bytes, a JSON object needs at least " +
                                              std::to_string(kFrameBytesMin));
  }
  return FrameResult{};
}

FrameResult parse_frame_body(std::string_view body) {
  if (!nesting_within(body, kJsonDepthMax)) {
    return failure(FrameStatus::BadJson, "JSON nested deeper than " + std::to_string(kJsonDepthMax) + " levels");
  }
  Json value = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    const std::string_view shown = body.substr(0, 60);
    std::string printable;
    for (const char c : shown) printable += (c >= 0x20 && c < 0x7f) ? c : '?';
    return failure(FrameStatus::BadJson, "not valid UTF-8 JSON: \"" + printable + (body.size() > 60 ? "...\"" : "\""));
  }
  if (!value.is_object()) {
    return failure(FrameStatus::BadJson, std::string("a frame must hold a JSON object, got ") + value.type_name());
  }
  FrameResult result;
  result.value = std::move(value);
  return result;
}

FrameResult decode_frame(std::string_view bytes, std::uint32_t max_bytes) {
  if (bytes.empty()) return failure(FrameStatus::Eof, "end of stream");
  if (bytes.size() < kFrameHeaderBytes) return failure(FrameStatus::Truncated, "stream ended inside a frame header");
  const std::uint32_t length = load_le32(bytes.data());
  FrameResult checked = check_frame_length(length, max_bytes);
  if (checked.status != FrameStatus::Ok) return checked;
  if (bytes.size() - kFrameHeaderBytes < length) {
    return failure(FrameStatus::Truncated, "stream ended inside a frame (" +
                                               std::to_string(bytes.size() - kFrameHeaderBytes) + " of " +
                                               std::to_string(length) + " bytes)");
  }
  return parse_frame_body(bytes.substr(kFrameHeaderBytes, length));
}

FrameResult read_frame(int fd, std::uint64_t deadline_ns, std::uint32_t max_bytes) {
  char header[kFrameHeaderBytes];
  FrameResult got = read_exact(fd, header, sizeof header, deadline_ns, true);
  if (got.status != FrameStatus::Ok) return got;
  const std::uint32_t length = load_le32(header);
  FrameResult checked = check_frame_length(length, max_bytes);
  if (checked.status != FrameStatus::Ok) return checked;
  std::string body(length, '\0');
  got = read_exact(fd, body.data(), body.size(), deadline_ns, false);
  if (got.status != FrameStatus::Ok) return got;
  return parse_frame_body(body);
}

std::optional<std::string> write_frame(int fd, const Json& value, std::uint64_t deadline_ns) {
  std::string frame;
  try {
    frame = encode_frame(value);
  } catch (const Json::exception& e) {
    return std::string("cannot encode a frame: ") + e.what();
  }
  std::size_t done = 0;
  // Each pass writes at least one byte or waits in poll(); the deadline bounds the waiting.
  while (done < frame.size()) {
    const ssize_t put = ::write(fd, frame.data() + done, frame.size() - done);
    if (put > 0) {
      done += static_cast<std::size_t>(put);
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno != EAGAIN) return std::string("write: ") + std::strerror(errno);
    if (deadline_ns != kNoDeadline && monotonic_now_ns() >= deadline_ns) {
      return std::string("peer did not take the frame before the deadline");
    }
    pollfd pfd{fd, POLLOUT, 0};
    (void)::poll(&pfd, 1, poll_timeout_ms(deadline_ns));
  }
  return std::nullopt;
}

}  // namespace indexbus::protocol

// Framing of the agent protocol (spec/agent-protocol.md): a 4-byte little-endian length, then
// that many bytes of UTF-8 JSON holding one object. Both sides use this code; every read is
// bounded in bytes (kFrameBytesMax, kJsonDepthMax) and, on the harness side, in time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace indexbus::protocol {

using Json = nlohmann::json;

inline constexpr int kProtocolVersion = 1;
inline constexpr std::uint32_t kFrameHeaderBytes = 4;
inline constexpr std::uint32_t kFrameBytesMax = 16u << 20;  // body only
inline constexpr std::uint32_t kFrameBytesMin = 2;          // "{}"
inline constexpr std::uint32_t kJsonDepthMax = 64;
// Deadline meaning "wait as long as it takes": only the agent uses it, on its own stdin.
inline constexpr std::uint64_t kNoDeadline = std::numeric_limits<std::uint64_t>::max();

enum class FrameStatus {
  Ok,
  Eof,        // the peer closed before the first header byte: a clean end of the stream
  Truncated,  // the peer closed inside a frame
  TooLarge,   // the announced length is above the limit (or below kFrameBytesMin)
  BadJson,    // not UTF-8 JSON, not one object, or nested too deep
  Timeout,    // the deadline passed before the whole frame arrived
  Io,         // read/write failed (errno in the message)
};
std::string_view to_string(FrameStatus status) noexcept;

struct FrameResult {
  FrameStatus status = FrameStatus::Ok;
  Json value;         // Ok only: a JSON object
  std::string error;  // otherwise: what was wrong, for reports
};

// CLOCK_MONOTONIC in nanoseconds: deadlines and the timestamps of operation results.
std::uint64_t monotonic_now_ns() noexcept;

// The 4 header bytes for a body of body_bytes.
std::string encode_frame(const Json& value);

// Length from a header, or an error when it is outside [kFrameBytesMin, max_bytes].
FrameResult check_frame_length(std::uint32_t body_bytes, std::uint32_t max_bytes);
// Parses a complete body strictly (UTF-8, one object, depth limit), never throwing.
FrameResult parse_frame_body(std::string_view body);
// Decodes one frame from a complete buffer (tests, fuzzing): Truncated if it ends early.
FrameResult decode_frame(std::string_view bytes, std::uint32_t max_bytes = kFrameBytesMax);

// Reads one frame from fd, waiting no later than deadline_ns (monotonic; kNoDeadline = forever).
// Never reads past the frame, never allocates more than max_bytes for it.
FrameResult read_frame(int fd, std::uint64_t deadline_ns, std::uint32_t max_bytes = kFrameBytesMax);
// Writes one frame; a non-blocking fd is polled until deadline_ns. Returns an error description.
std::optional<std::string> write_frame(int fd, const Json& value, std::uint64_t deadline_ns);

}  // namespace indexbus::protocol

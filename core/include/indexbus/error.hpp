// Errors of region creation, opening and validation. Each failure has its own code, and its
// message names the field, the value found and what was allowed, for example
// "lane 2: capacity_slots 3 is not a power of two in [1, 16777216]".
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace indexbus {

enum class ErrorCode : std::uint16_t {
  // Environment (CLI exit code 3).
  Io = 1,
  NotFound,
  AlreadyExists,
  SymlinkRefused,
  NotRegularFile,
  WrongOwner,
  WritableByOthers,
  BadPermissions,
  // Region validation (REG-*): one code per field.
  TooSmall = 20,
  BadMagic,
  VersionMismatch,
  BadHeaderBytes,
  RegionSizeMismatch,
  BadLaneCount,
  BadLaneTableOffset,
  BadDescriptorBytes,
  ReservedNotZero,
  BadFlags,
  NotReady,
  Stale,
  ChecksumMismatch,
  BadLaneKind,
  UnsupportedLaneKind,
  BadOnFull,
  BadCapacity,
  BadSlotBytes,
  BadReaderCount,
  BlockMisaligned,
  BlockOutOfBounds,
  BadBlockBytes,
  BlocksOverlap,
  LaneStateCorrupt,
  BadReaderTimeout,
  BadGating,
  // Use of an open region.
  LaneIndexOutOfRange = 60,
  WrongLaneKind,
  RoleTaken,
  NoFreeReader,      // Journal: every reader record is attached
  BadReaderName,     // Journal: attach name too long or containing NUL
  BadReaderIndex,    // SequencedSlots/FanoutBroadcast: consumer index >= reader_count
  // Configuration files (the topology file, spec/topology.md): CLI exit code 2.
  BadTopology = 80,
};

std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code;
  std::string message;  // complete, one line: "<where>: <field> <value> <what was expected>"

  friend bool operator==(const Error&, const Error&) = default;
};

// A value or an Error. Small on purpose: C++20 has no std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}        // NOLINT: implicit by design
  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  const Error& error() const { assert(!ok()); return std::get<1>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { assert(ok()); return &std::get<0>(state_); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace indexbus

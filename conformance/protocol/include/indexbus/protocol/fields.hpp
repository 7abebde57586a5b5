// Strict access to fields of protocol messages: a missing field or one of the wrong JSON type
// throws ProtocolError naming the field and what was found, so that a bad message becomes one
// clear line in a report instead of a crash or a silent default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "indexbus/protocol/frame.hpp"

namespace indexbus::protocol {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const Json& require(const Json& object, std::string_view key);
std::uint64_t get_u64(const Json& object, std::string_view key);
std::optional<std::uint64_t> find_u64(const Json& object, std::string_view key);
std::uint64_t get_u64_or(const Json& object, std::string_view key, std::uint64_t fallback);
std::string get_string(const Json& object, std::string_view key);
bool get_bool_or(const Json& object, std::string_view key, bool fallback);
const Json& get_object(const Json& object, std::string_view key);
const Json& get_array(const Json& object, std::string_view key);
std::vector<std::string> get_string_array(const Json& object, std::string_view key);

// Payloads travel as lowercase hex. from_hex throws ProtocolError on odd length or a non-hex
// character; max_bytes bounds the decoded size.
std::string to_hex(const std::byte* data, std::size_t size);
std::vector<std::byte> from_hex(std::string_view hex, std::size_t max_bytes);

}  // namespace indexbus::protocol

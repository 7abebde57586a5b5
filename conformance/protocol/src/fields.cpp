#include "indexbus/protocol/fields.hpp"

namespace indexbus::protocol {
namespace {

[[noreturn]] void wrong_type(std::string_view key, std::string_view expected, const Json& found) {
  throw ProtocolError("field '" + std::string(key) + "': expected " + std::string(expected) + ", got " +
                      found.type_name());
}

}  // namespace

const Json& require(const Json& object, std::string_view key) {
  if (!object.is_object()) throw ProtocolError("expected a JSON object holding '" + std::string(key) + "'");
  const auto it = object.find(key);
  if (it == object.end()) throw ProtocolError("missing field '" + std::string(key) + "'");
  return *it;
}

std::uint64_t get_u64(const Json& object, std::string_view key) {
  const Json& value = require(object, key);
  if (!value.is_number_unsigned()) wrong_type(key, "an unsigned integer", value);
  return value.get<std::uint64_t>();
}

std::optional<std::uint64_t> find_u64(const Json& object, std::string_view key) {
  if (!object.is_object() || !object.contains(key)) return std::nullopt;
  return get_u64(object, key);
}

std::uint64_t get_u64_or(const Json& object, std::string_view key, std::uint64_t fallback) {
  return find_u64(object, key).value_or(fallback);
}

std::string get_string(const Json& object, std::string_view key) {
  const Json& value = require(object, key);
  if (!value.is_string()) wrong_type(key, "a string", value);
  return value.get<std::string>();
}

bool get_bool_or(const Json& object, std::string_view key, bool fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  const Json& value = object.at(key);
  if (!value.is_boolean()) wrong_type(key, "a boolean", value);
  return value.get<bool>();
}

const Json& get_object(const Json& object, std::string_view key) {
  const Json& value = require(object, key);
  if (!value.is_object()) wrong_type(key, "an object", value);
  return value;
}

const Json& get_array(const Json& object, std::string_view key) {
  const Json& value = require(object, key);
  if (!value.is_array()) wrong_type(key, "an array", value);
  return value;
}

std::vector<std::string> get_string_array(const Json& object, std::string_view key) {
  std::vector<std::string> out;
  for (const Json& item : get_array(object, key)) {
    if (!item.is_string()) wrong_type(key, "an array of strings", item);
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string to_hex(const std::byte* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    const auto b = static_cast<std::uint8_t>(data[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

std::vector<std::byte> from_hex(std::string_view hex, std::size_t max_bytes) {
  if (hex.size() % 2 != 0) throw ProtocolError("hex payload has an odd number of digits");
  if (hex.size() / 2 > max_bytes) {
    throw ProtocolError("hex payload of " + std::to_string(hex.size() / 2) + " bytes exceeds " +
                        std::to_string(max_bytes));
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw ProtocolError(std::string("hex payload holds a non-hex character '") + c + "'");
  };
  std::vector<std::byte> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((digit(hex[2 * i]) << 4) | digit(hex[2 * i + 1]));
  }
  return out;
}

}  // namespace indexbus::protocol

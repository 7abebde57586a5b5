// Small helpers every sequential model shares: how a payload is shown in a description, and the
// hash that memoizes model states (the linearizability checker keys on (linearized set, state)).
// Private to spec/model: the models' public headers do not expose it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "indexbus/spec/events_model.hpp"  // Bytes

namespace indexbus::spec::model_support {

// The first bytes in hex, ".." when there are more: enough to tell entries apart in a trace.
inline std::string hex_prefix(const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  constexpr std::size_t kShownBytes = 12;
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < kShownBytes; ++i) {
    const auto b = static_cast<unsigned>(bytes[i]);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  if (bytes.size() > kShownBytes) out += "..";
  return out;
}

// "3 B 0a0b0c", "0 B".
inline std::string describe_payload(const Bytes& bytes) {
  return std::to_string(bytes.size()) + " B" + (bytes.empty() ? "" : " " + hex_prefix(bytes));
}

// splitmix64 finaliser: cheap and well mixed, so similar states land far apart.
inline void hash_combine(std::size_t& seed, std::uint64_t value) noexcept {
  value += 0x9e3779b97f4a7c15ull + seed;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  seed = static_cast<std::size_t>(value ^ (value >> 31));
}

// The length, then the bytes in little 8-byte words (the last one zero-padded).
inline void hash_bytes(std::size_t& seed, std::span<const std::byte> bytes) noexcept {
  hash_combine(seed, bytes.size());
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, std::min<std::size_t>(8, bytes.size() - i));
    hash_combine(seed, word);
  }
}

// A ring model's retained entries: each sequence number and payload, in order.
template <typename Entries>
void hash_retained(std::size_t& seed, const Entries& retained) noexcept {
  for (const auto& entry : retained) {
    hash_combine(seed, entry.seq);
    hash_bytes(seed, entry.payload);  // a word at a time: payloads reach 1 MiB
  }
}

}  // namespace indexbus::spec::model_support

// The golden region images of layout v1 (spec/golden/v1/, spec/layout.md "Golden images").
//
// Each image is a byte-exact region file in an interesting state, made by driving operations
// through spec/'s sequential models (never through core's lanes) and writing the models' final
// states as bytes, field by field, from spec/layout.md. The manifest says, for every lane and
// reader role, exactly which reads an implementation must produce from the file (also computed by
// the models). make_golden_images writes the files; golden_images_test checks that the committed
// files are exactly what this code makes, and conformance/harness (golden_catalog.cpp) hands the
// images to agents. Everything that varies in a real region is normalized: creator_pid 0,
// creation_id kGoldenCreationId, every pid word 0, Journal heartbeats on the model's clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "indexbus/spec/events_model.hpp"  // Bytes, ReadOutcome
#include "indexbus/vocabulary.hpp"

namespace indexbus::golden {

using spec::Bytes;

// "GOLDENv1" as a little-endian u64: recognizable in a hex dump, and not 0 (a creator never writes 0).
inline constexpr std::uint64_t kGoldenCreationId = 0x31764E45444C4F47ull;

struct GoldenLaneConfig {
  LaneKind kind = LaneKind::Events;
  OnFull on_full = OnFull::Block;
  std::uint32_t capacity_slots = 4;
  std::uint32_t slot_payload_bytes = 16;
  std::uint32_t reader_count = 1;
  std::uint64_t reader_timeout_ns = 0;
  std::vector<std::uint64_t> gated_on;  // SequencedSlots: one mask per consumer (or empty)
};

// One reader role of one lane and what it must read from a fresh copy of the image, alone.
struct GoldenRole {
  std::string key;   // case-ID part: "consumer", "consumer1", "reader.alpha", "reader.anonymous"
  std::string role;  // protocol role: "consumer" or "reader"
  std::uint32_t reader = 0;  // consumer index; Journal: the record the attach must take
  std::string name;          // Journal: the attach name ("" = a fresh anonymous reader)
  // try_read results until (and including) the first Empty or Closed.
  std::vector<spec::ReadOutcome> reads;
};

struct GoldenLane {
  GoldenLaneConfig config;
  std::string state;  // human-readable: write_seq, closed, each reader's cursor and counters
  std::vector<GoldenRole> roles;
};

struct GoldenImage {
  std::string name;     // file stem: <name>.bin
  std::string summary;  // what the image is for
  bool fresh = false;   // no operation ran: exactly what a creator writes (modulo pid and id)
  std::vector<GoldenLane> lanes;
  std::vector<std::string> history;  // the model operations that made it, "lane 0: try_write 5 B ..."
  Bytes bytes;
};

// Every golden image, in a stable order. Deterministic: the same bytes on every run.
const std::vector<GoldenImage>& golden_images();

// The manifest (spec/golden/v1/manifest.json) of these images, as text, deterministic.
std::string golden_manifest(const std::vector<GoldenImage>& images);

// The lane spec of the agent protocol's create_region for one lane (spec/agent-protocol.md).
std::string lane_kind_name(LaneKind kind);
std::string on_full_name(OnFull on_full);

// SHA-256 of bytes as 64 lowercase hex digits (FIPS 180-4; no dependency).
std::string sha256_hex(std::span<const std::byte> bytes);

// CRC32C as in spec/layout.md "Checksum" (written from the document, not taken from core).
std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc = 0xFFFFFFFFu);

// One read in the manifest's words: "Entry seq 3 payload 0a0b", "Lost 4", "Empty".
std::string describe_read(const spec::ReadOutcome& read);

}  // namespace indexbus::golden

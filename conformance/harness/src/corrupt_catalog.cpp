// Required.Layout.Corrupt.*: every check of spec/layout.md's "Validation order", and the checks an
// opener makes before it ("Opening a region can also fail before validation"), put to an agent's
// `open_region`. Each case takes a fresh golden image (spec/golden: written from the document by
// the models, never by core), changes the field the check is about (an Order case changes two, and
// the spec says which one is reported), recomputes the checksum with spec/golden's CRC32C, so that
// the check under test is the first failure, and writes the image to a fresh file (0600, ours).
// The agent must refuse it as error kind `region` with the check's ErrorCode name as `code` and a
// message naming the field as the table does (`region header: magic`, `lane 1: block_offset`),
// must leave the file exactly as it was (bad input loses nothing), and must hold no region
// afterwards (spec/agent-protocol.md: lane requests get `no_region`). A control case, a valid
// image in a layout no creator writes, must open: the edits that make the other images are sound.
//
// Not here: check 14 (UnsupportedLaneKind) cannot fail for an agent that declares the kind, and
// WrongOwner needs a file owned by another user, which only root can make (core's
// Region.RefusesOtherOwner test covers it). Deterministic: one agent, at most two requests; the one
// wait is the opener's bounded wait for Ready in Header.InitStateCreating (2 s by default).
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "case_support.hpp"
#include "golden_images.hpp"
#include "indexbus/harness/agent_process.hpp"
#include "indexbus/harness/catalog.hpp"
#include "indexbus/harness/cleanup.hpp"
#include "indexbus/harness/step_runner.hpp"

namespace indexbus::harness {
namespace {

using namespace case_support;  // CaseStop, outcome_of, write_image, read_file, unsupported_stop
namespace proto = protocol;
using golden::Bytes;

// ---- Offsets, restated from spec/layout.md (RegionHeader, LaneDescriptor, ReaderRecord) ----

namespace hdr {
constexpr std::uint64_t kMagic = 0;             // u64
constexpr std::uint64_t kVersionMajor = 8;      // u16
constexpr std::uint64_t kVersionMinor = 10;     // u16
constexpr std::uint64_t kHeaderBytes = 12;      // u32
constexpr std::uint64_t kRegionBytes = 16;      // u64
constexpr std::uint64_t kLaneCount = 24;        // u32
constexpr std::uint64_t kLaneTableOffset = 28;  // u32
constexpr std::uint64_t kDescriptorBytes = 32;  // u32
constexpr std::uint64_t kCreatorPid = 36;       // u32
constexpr std::uint64_t kCreationId = 40;       // u64
constexpr std::uint64_t kReserved0 = 48;        // u64
constexpr std::uint64_t kFlags = 56;            // u32
constexpr std::uint64_t kChecksum = 60;         // u32
constexpr std::uint64_t kInitState = 64;        // u32
constexpr std::uint64_t kReserved1Last = 127;   // the last byte of reserved1 (68..127)
constexpr std::uint64_t kSize = 128;
constexpr std::uint64_t kChecksummedBytes = 60;
}  // namespace hdr

namespace desc {  // offsets inside descriptor i, at lane_table_offset + 64 i
constexpr std::uint64_t kKind = 0;             // u32
constexpr std::uint64_t kOnFull = 4;           // u32
constexpr std::uint64_t kCapacitySlots = 8;    // u32
constexpr std::uint64_t kSlotPayloadBytes = 12;  // u32
constexpr std::uint64_t kReaderCount = 16;     // u32
constexpr std::uint64_t kReserved0 = 20;       // u32
constexpr std::uint64_t kBlockOffset = 24;     // u64
constexpr std::uint64_t kBlockBytes = 32;      // u64
constexpr std::uint64_t kReaderTimeoutNs = 40;  // u64
constexpr std::uint64_t kReserved1Last = 63;   // the last byte of reserved1 (48..63)
constexpr std::uint64_t kSize = 64;
}  // namespace desc

// A ring lane block: RingLaneHeader (256 bytes), then reader record r at 256 + 128 r, whose
// gated_on_mask (u64) is at record offset 64.
constexpr std::uint64_t kRingHeaderBytes = 256;
constexpr std::uint64_t kReaderRecordBytes = 128;
constexpr std::uint64_t kGatedOnMaskOffset = 64;

constexpr std::uint64_t kRegionMagic = 0x5355425845444E49ull;  // "INDEXBUS"
constexpr std::uint32_t kLaneCountMax = 64;
constexpr std::uint32_t kPidMaxLimit = 1u << 22;  // a creator_pid above it names no process

// A region image being corrupted. Field access is little-endian (the host is, as layout.hpp
// asserts); an access outside the image is a bug of the case table, reported as such.
class Image {
 public:
  explicit Image(Bytes bytes) : bytes_(std::move(bytes)) {}

  template <typename T>
  T get(std::uint64_t offset) const {
    check(offset, sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  template <typename T>
  void put(std::uint64_t offset, T value) {
    check(offset, sizeof(T));
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
  }

  // Descriptor i where the header now says the table is.
  std::uint64_t lane(std::uint32_t i) const { return get<std::uint32_t>(hdr::kLaneTableOffset) + desc::kSize * i; }
  std::uint64_t block_offset(std::uint32_t i) const { return get<std::uint64_t>(lane(i) + desc::kBlockOffset); }
  std::uint64_t block_bytes(std::uint32_t i) const { return get<std::uint64_t>(lane(i) + desc::kBlockBytes); }
  void set_block_offset(std::uint32_t i, std::uint64_t offset) { put<std::uint64_t>(lane(i) + desc::kBlockOffset, offset); }
  // Reader record r's gated_on_mask in lane i's block (a ring lane).
  std::uint64_t gating_mask(std::uint32_t i, std::uint32_t reader) const {
    return block_offset(i) + kRingHeaderBytes + kReaderRecordBytes * reader + kGatedOnMaskOffset;
  }

  // checksum = CRC32C of header [0, 60) followed by the lane_count x 64 table bytes at
  // lane_table_offset (spec/layout.md, "Checksum"). Left as it is when the header puts the table
  // outside the image: a check before the checksum (1, 7 or 9) refuses such an image anyway.
  void reseal() {
    if (bytes_.size() < hdr::kSize) return;
    const std::uint64_t count = get<std::uint32_t>(hdr::kLaneCount);
    const std::uint64_t table = get<std::uint32_t>(hdr::kLaneTableOffset);
    if (count > kLaneCountMax || table + desc::kSize * count > bytes_.size()) return;
    const std::span<const std::byte> all(bytes_);
    const std::uint32_t crc =
        golden::crc32c(all.subspan(table, desc::kSize * count), golden::crc32c(all.first(hdr::kChecksummedBytes))) ^ 0xFFFFFFFFu;
    put<std::uint32_t>(hdr::kChecksum, crc);
  }

  std::uint64_t size() const { return bytes_.size(); }
  Bytes& bytes() { return bytes_; }
  const Bytes& bytes() const { return bytes_; }

 private:
  void check(std::uint64_t offset, std::uint64_t size) const {
    if (offset > bytes_.size() || size > bytes_.size() - offset) {
      throw std::logic_error("corrupt case: byte " + std::to_string(offset) + " is outside the " +
                             std::to_string(bytes_.size()) + "-byte image");
    }
  }

  Bytes bytes_;
};

// What the case puts at its path.
enum class Setup {
  Image,          // the image, mode 0600
  Missing,        // nothing
  Symlink,        // a symbolic link to the image (written beside it)
  Fifo,           // a named pipe: opens read-write on Linux, is not a regular file
  Directory,      // an empty directory
  WorldWritable,  // the image, mode 0666
};

struct Corruption {
  std::string name;                  // after Required.Layout.Corrupt.
  std::vector<std::string> rules;
  std::string check;                 // the row of spec/layout.md, for the summary and the detail
  std::string what;                  // what is wrong with the file
  std::string base;                  // the golden image it starts from
  std::function<void(Image&)> edit;  // the corruption
  std::string code;                  // the ErrorCode name the agent must answer; empty: it must open
  std::string names;                 // what the message must name; empty: not checked
  bool reseal = true;                // recompute the checksum after the edit
  Setup setup = Setup::Image;
};

const golden::GoldenImage& golden_image(const std::string& name) {
  for (const golden::GoldenImage& image : golden::golden_images()) {
    if (image.name == name) return image;
  }
  throw std::logic_error("corrupt case: no golden image " + name);
}

constexpr const char* kEvents = "events_block_fresh";        // lane 0: Events Block C=4 S=16
constexpr const char* kJournal = "journal_block_fresh";      // lane 0: Journal, 3 readers, reader_timeout_ns 1 ms
constexpr const char* kSequenced = "sequenced_block_fresh";  // lane 0: SequencedSlots, pipeline 0 -> 1 -> 2
constexpr const char* kFanout = "fanout_drop_fresh";         // lane 0: FanoutBroadcast Drop, 3 consumers
constexpr const char* kMulti = "multi_lane_fresh";           // Events, FanoutBroadcast, Journal, SequencedSlots

// Sets a u32 / u64 descriptor field of lane i.
std::function<void(Image&)> lane32(std::uint32_t i, std::uint64_t field, std::uint32_t value) {
  return [=](Image& m) { m.put<std::uint32_t>(m.lane(i) + field, value); };
}
std::function<void(Image&)> lane64(std::uint32_t i, std::uint64_t field, std::uint64_t value) {
  return [=](Image& m) { m.put<std::uint64_t>(m.lane(i) + field, value); };
}
std::function<void(Image&)> both(std::function<void(Image&)> a, std::function<void(Image&)> b) {
  return [=](Image& m) {
    a(m);
    b(m);
  };
}

// The control image: multi_lane_fresh laid out as no creator would, yet valid (spec/layout.md,
// "Region map": the table anywhere 64-aligned at or after 128, blocks in any order with gaps,
// touching blocks, any region_bytes equal to the file size; bytes outside header, table and
// blocks, version_minor, creator_pid and creation_id are not checked).
void non_canonical_layout(Image& m) {
  const Image canonical = m;
  const std::uint32_t lanes = canonical.get<std::uint32_t>(hdr::kLaneCount);
  constexpr std::uint64_t kTable = 192;
  constexpr std::uint64_t kRegionBytes = 6000;  // not a multiple of 64, let alone 4096
  Bytes& out = m.bytes();
  out.assign(kRegionBytes, std::byte{0xCD});                                     // unchecked filler
  std::copy_n(canonical.bytes().begin(), hdr::kSize, out.begin());               // the header
  std::fill(out.begin() + hdr::kSize, out.begin() + kTable, std::byte{0xAB});    // the gap before the table
  m.put<std::uint32_t>(hdr::kLaneTableOffset, kTable);
  m.put<std::uint64_t>(hdr::kRegionBytes, kRegionBytes);
  m.put<std::uint16_t>(hdr::kVersionMinor, 7);
  m.put<std::uint32_t>(hdr::kCreatorPid, 4242);
  m.put<std::uint64_t>(hdr::kCreationId, 0x0123456789ABCDEFull);
  // Blocks in reverse lane order after a gap; gaps of 64 and 128 bytes, then two touching blocks.
  const std::uint64_t gaps[] = {64, 128, 0};
  std::uint64_t at = kTable + desc::kSize * lanes + 64;
  for (std::uint32_t k = 0; k < lanes; ++k) {
    const std::uint32_t i = lanes - 1 - k;
    std::copy_n(canonical.bytes().begin() + static_cast<std::ptrdiff_t>(canonical.lane(i)), desc::kSize,
                out.begin() + static_cast<std::ptrdiff_t>(m.lane(i)));
    std::copy_n(canonical.bytes().begin() + static_cast<std::ptrdiff_t>(canonical.block_offset(i)), canonical.block_bytes(i),
                out.begin() + static_cast<std::ptrdiff_t>(at));
    m.set_block_offset(i, at);
    at += canonical.block_bytes(i) + (k < std::size(gaps) ? gaps[k] : 0);
  }
  if (at > kRegionBytes) throw std::logic_error("corrupt case: the control layout does not fit");
}

std::vector<Corruption> corruptions() {
  std::vector<Corruption> c;
  const std::vector<std::string> header_rules{"REG-4", "REG-9"};
  const std::vector<std::string> lane_rules{"REG-5", "REG-9"};
  const std::vector<std::string> block_rules{"REG-12", "REG-9"};
  const std::vector<std::string> gating_rules{"REG-5", "REG-9"};
  const std::vector<std::string> gating_ss_rules{"REG-5", "SS-3", "REG-9"};
  const std::vector<std::string> checksum_rules{"REG-6", "REG-9"};
  auto add = [&](std::string name, std::vector<std::string> rules, std::string check, std::string what, std::string base,
                 std::function<void(Image&)> edit, std::string code, std::string names) {
    if (!check.starts_with("Init protocol")) check = "validation order, " + check;
    c.push_back(Corruption{std::move(name), std::move(rules), std::move(check), std::move(what), std::move(base),
                           std::move(edit), std::move(code), std::move(names)});
  };
  // ---- Before validation: the open and fstat checks (layout.md "Init protocol", opener steps 1-2) ----
  auto add_open = [&](std::string name, std::vector<std::string> rules, std::string what, Setup setup, std::string code,
                      std::function<void(Image&)> edit = {}) {
    const std::string step = edit ? "Init protocol, opener step 4" : "Init protocol, opener steps 1-2";
    add(std::move(name), std::move(rules), step, std::move(what), kEvents, std::move(edit), std::move(code), "");
    c.back().setup = setup;
  };
  add_open("Open.NotFound", {"REG-2"}, "no file at the path (the agent must not create one)", Setup::Missing, "NotFound");
  add_open("Open.SymlinkRefused", {"REG-2"}, "a symbolic link to a valid region", Setup::Symlink, "SymlinkRefused");
  add_open("Open.DirectoryIsIo", {"REG-2"}, "a directory (open read-write fails with EISDIR: Io)", Setup::Directory, "Io");
  add_open("Open.FifoIsNotARegularFile", {"REG-2"}, "a named pipe", Setup::Fifo, "NotRegularFile");
  add_open("Open.WritableByOthers", {"REG-2"}, "a valid region with mode 0666", Setup::WorldWritable, "WritableByOthers");
  add_open("Open.StaleCreator", {"REG-3"},
           "init_state 0 (creating) and creator_pid 2^22 + 1, which names no process: Stale at once", Setup::Image, "Stale",
           [](Image& m) {
             m.put<std::uint32_t>(hdr::kInitState, 0);
             m.put<std::uint32_t>(hdr::kCreatorPid, kPidMaxLimit + 1);
           });

  // ---- Header, checks 1-12 ----
  add("Header.TooSmall", {"REG-2", "REG-4", "REG-9"}, "check 1", "a file of 127 bytes, one short of the header", kEvents,
      [](Image& m) { m.bytes().resize(hdr::kSize - 1); }, "TooSmall", "region header: file size");
  add("Header.TooSmallEmptyFile", {"REG-2", "REG-4", "REG-9"}, "check 1", "an empty file (nothing to map)", kEvents,
      [](Image& m) { m.bytes().clear(); }, "TooSmall", "region header: file size");
  add("Header.BadMagic", header_rules, "check 2", "magic \"INDEXBUX\"", kEvents,
      [](Image& m) { m.put<std::uint64_t>(hdr::kMagic, 0x5855425845444E49ull); }, "BadMagic", "region header: magic");
  add("Header.VersionMajor2", {"REG-4", "REG-8", "REG-9"}, "check 3", "version_major 2", kEvents,
      [](Image& m) { m.put<std::uint16_t>(hdr::kVersionMajor, 2); }, "VersionMismatch", "region header: version_major");
  add("Header.InitStateNeither0Nor1", {"REG-3", "REG-4", "REG-9"}, "check 4", "init_state 7 (not 0 or 1: no wait)", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kInitState, 7); }, "NotReady", "region header: init_state");
  add("Header.InitStateCreating", {"REG-3", "REG-4", "REG-9"}, "check 4",
      "init_state 0 (creating) with creator_pid 0: the opener waits out its ready timeout (2 s)", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kInitState, 0); }, "NotReady", "region header: init_state");
  add("Header.HeaderBytes", header_rules, "check 5", "header_bytes 64", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kHeaderBytes, 64); }, "BadHeaderBytes", "region header: header_bytes");
  add("Header.RegionBytesNotTheFileSize", header_rules, "check 6", "region_bytes one page more than the file", kEvents,
      [](Image& m) { m.put<std::uint64_t>(hdr::kRegionBytes, m.size() + 4096); }, "RegionSizeMismatch", "region header: region_bytes");
  add("Header.LaneCountZero", header_rules, "check 7", "lane_count 0", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneCount, 0); }, "BadLaneCount", "region header: lane_count");
  add("Header.LaneCountAbove64", header_rules, "check 7", "lane_count 65", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneCount, kLaneCountMax + 1); }, "BadLaneCount", "region header: lane_count");
  add("Header.DescriptorBytes", header_rules, "check 8", "lane_descriptor_bytes 128", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kDescriptorBytes, 128); }, "BadDescriptorBytes", "region header: lane_descriptor_bytes");
  add("Header.TableOffsetInsideTheHeader", header_rules, "check 9", "lane_table_offset 64 (< 128)", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneTableOffset, 64); }, "BadLaneTableOffset", "region header: lane_table_offset");
  add("Header.TableOffsetMisaligned", header_rules, "check 9", "lane_table_offset 160 (not a multiple of 64)", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneTableOffset, 160); }, "BadLaneTableOffset", "region header: lane_table_offset");
  add("Header.TableEndPastTheFile", header_rules, "check 9", "lane_table_offset = the file size: table_end past it", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneTableOffset, static_cast<std::uint32_t>(m.size())); }, "BadLaneTableOffset",
      "region header: lane_table_offset");
  add("Header.TableEndWrapsIn32Bits", header_rules, "check 9",
      "lane_table_offset 0xFFFFFFC0: table_end is 2^32, 0 if computed in 32 bits", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kLaneTableOffset, 0xFFFFFFC0u); }, "BadLaneTableOffset",
      "region header: lane_table_offset");
  add("Header.Reserved0", {"REG-4", "REG-8", "REG-9"}, "check 10", "header reserved0 1", kEvents,
      [](Image& m) { m.put<std::uint64_t>(hdr::kReserved0, 1); }, "ReservedNotZero", "region header: reserved0");
  add("Header.Reserved1LastByte", {"REG-4", "REG-8", "REG-9"}, "check 11", "header byte 127 (the last of reserved1) 1", kEvents,
      [](Image& m) { m.put<std::uint8_t>(hdr::kReserved1Last, 1); }, "ReservedNotZero", "region header: reserved1");
  add("Header.Flags", {"REG-4", "REG-8", "REG-9"}, "check 12", "flags 1", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kFlags, 1); }, "BadFlags", "region header: flags");

  // ---- Lane 0, checks 13-23 (check 14 cannot fail for an agent that declares the kind) ----
  add("Lane.KindUnknown", lane_rules, "check 13", "lane 0 kind 5", kEvents, lane32(0, desc::kKind, 5), "BadLaneKind", "lane 0: kind");
  add("Lane.KindZero", lane_rules, "check 13", "lane 0 kind 0", kEvents, lane32(0, desc::kKind, 0), "BadLaneKind", "lane 0: kind");
  add("Lane.OnFull", lane_rules, "check 15", "lane 0 on_full 3", kEvents, lane32(0, desc::kOnFull, 3), "BadOnFull", "lane 0: on_full");
  add("Lane.CapacityNotAPowerOfTwo", lane_rules, "check 16", "lane 0 capacity_slots 3", kEvents, lane32(0, desc::kCapacitySlots, 3),
      "BadCapacity", "lane 0: capacity_slots");
  add("Lane.CapacityZero", lane_rules, "check 16", "lane 0 capacity_slots 0 (not a power of two)", kEvents,
      lane32(0, desc::kCapacitySlots, 0), "BadCapacity", "lane 0: capacity_slots");
  add("Lane.CapacityAboveMax", lane_rules, "check 16", "lane 0 capacity_slots 2^25 (a power of two above 2^24)", kEvents,
      lane32(0, desc::kCapacitySlots, 1u << 25), "BadCapacity", "lane 0: capacity_slots");
  add("Lane.SlotBytesNotAMultipleOf8", lane_rules, "check 17", "lane 0 slot_payload_bytes 12", kEvents,
      lane32(0, desc::kSlotPayloadBytes, 12), "BadSlotBytes", "lane 0: slot_payload_bytes");
  add("Lane.SlotBytesZero", lane_rules, "check 17", "lane 0 slot_payload_bytes 0", kEvents, lane32(0, desc::kSlotPayloadBytes, 0),
      "BadSlotBytes", "lane 0: slot_payload_bytes");
  add("Lane.SlotBytesAboveMax", lane_rules, "check 17", "lane 0 slot_payload_bytes 2^20 + 8", kEvents,
      lane32(0, desc::kSlotPayloadBytes, (1u << 20) + 8), "BadSlotBytes", "lane 0: slot_payload_bytes");
  add("Lane.EventsReaderCount2", lane_rules, "check 18", "Events lane 0 reader_count 2", kEvents, lane32(0, desc::kReaderCount, 2),
      "BadReaderCount", "lane 0: reader_count");
  add("Lane.RingReaderCountZero", lane_rules, "check 18", "FanoutBroadcast lane 0 reader_count 0", kFanout,
      lane32(0, desc::kReaderCount, 0), "BadReaderCount", "lane 0: reader_count");
  add("Lane.RingReaderCountAbove64", lane_rules, "check 18", "FanoutBroadcast lane 0 reader_count 65", kFanout,
      lane32(0, desc::kReaderCount, 65), "BadReaderCount", "lane 0: reader_count");
  add("Lane.ReaderTimeoutOnEvents", lane_rules, "check 18b", "Events lane 0 reader_timeout_ns 1000000", kEvents,
      lane64(0, desc::kReaderTimeoutNs, 1'000'000), "BadReaderTimeout", "lane 0: reader_timeout_ns");
  add("Lane.ReaderTimeoutOnFanout", lane_rules, "check 18b", "FanoutBroadcast lane 0 reader_timeout_ns 1000000", kFanout,
      lane64(0, desc::kReaderTimeoutNs, 1'000'000), "BadReaderTimeout", "lane 0: reader_timeout_ns");
  add("Lane.Reserved0", lane_rules, "check 19", "lane 0 descriptor reserved0 1", kEvents, lane32(0, desc::kReserved0, 1),
      "ReservedNotZero", "lane 0: reserved0");
  add("Lane.Reserved1LastByte", lane_rules, "check 20", "lane 0 descriptor byte 63 (the last of reserved1) 1", kEvents,
      [](Image& m) { m.put<std::uint8_t>(m.lane(0) + desc::kReserved1Last, 1); }, "ReservedNotZero", "lane 0: reserved1");
  add("Lane.BlockMisaligned", block_rules, "check 21", "lane 0 block_offset 8 bytes past its place", kEvents,
      [](Image& m) { m.set_block_offset(0, m.block_offset(0) + 8); }, "BlockMisaligned", "lane 0: block_offset");
  add("Lane.BlockBytes", block_rules, "check 22", "lane 0 block_bytes 64 more than kind, capacity and slot size need", kEvents,
      [](Image& m) { m.put<std::uint64_t>(m.lane(0) + desc::kBlockBytes, m.block_bytes(0) + 64); }, "BadBlockBytes",
      "lane 0: block_bytes");
  add("Lane.BlockOverTheTable", block_rules, "check 23", "lane 0 block_offset 128, inside the lane table", kEvents,
      [](Image& m) { m.set_block_offset(0, hdr::kSize); }, "BlockOutOfBounds", "lane 0: block_offset");
  add("Lane.BlockPastTheFile", block_rules, "check 23", "lane 0 block_offset 64 bytes past the end of the file", kEvents,
      [](Image& m) { m.set_block_offset(0, m.size() + 64); }, "BlockOutOfBounds", "lane 0: block_offset");
  add("Lane.BlockEndPastTheFile", block_rules, "check 23", "lane 0 block in the last 64 bytes of the file, longer than that",
      kEvents, [](Image& m) { m.set_block_offset(0, m.size() - 64); }, "BlockOutOfBounds", "lane 0: block_offset");
  add("Lane.BlockEndWrapsIn64Bits", block_rules, "check 23",
      "lane 0 block_offset 2^64 - 192: block_offset + block_bytes wraps to 192", kEvents,
      [](Image& m) { m.set_block_offset(0, std::uint64_t{0} - 192); }, "BlockOutOfBounds", "lane 0: block_offset");

  // ---- A lane after lane 0: the message names it ----
  add("Lane.OnLane1KindUnknown", lane_rules, "check 13", "multi_lane lane 1 kind 9 (lane 0 valid)", kMulti,
      lane32(1, desc::kKind, 9), "BadLaneKind", "lane 1: kind");
  add("Lane.OnLane2Capacity", lane_rules, "check 16", "multi_lane lane 2 capacity_slots 3 (lanes 0 and 1 valid)", kMulti,
      lane32(2, desc::kCapacitySlots, 3), "BadCapacity", "lane 2: capacity_slots");
  add("Lane.OnLane3BlockEndPastTheFile", block_rules, "check 23", "multi_lane lane 3 block in the last 64 bytes of the file",
      kMulti, [](Image& m) { m.set_block_offset(3, m.size() - 64); }, "BlockOutOfBounds", "lane 3: block_offset");

  // ---- Check 24: overlapping blocks, reported on lane j (the later lane of the pair) ----
  add("Overlap.Lane1InsideLane0", block_rules, "check 24", "multi_lane lane 1 block starting 64 bytes into lane 0's", kMulti,
      [](Image& m) { m.set_block_offset(1, m.block_offset(0) + 64); }, "BlocksOverlap", "lane 1: block_offset");
  add("Overlap.Lane3OnLane1", block_rules, "check 24", "multi_lane lane 3 block at lane 1's offset", kMulti,
      [](Image& m) { m.set_block_offset(3, m.block_offset(1)); }, "BlocksOverlap", "lane 3: block_offset");

  // ---- Check 24b: gating masks ----
  add("Gating.OnJournal", gating_rules, "check 24b", "Journal lane 0 reader 1 gated_on_mask 1", kJournal,
      [](Image& m) { m.put<std::uint64_t>(m.gating_mask(0, 1), 1); }, "BadGating", "lane 0: reader 1 gated_on_mask");
  add("Gating.OnFanout", gating_rules, "check 24b", "FanoutBroadcast lane 0 reader 0 gated_on_mask 2", kFanout,
      [](Image& m) { m.put<std::uint64_t>(m.gating_mask(0, 0), 2); }, "BadGating", "lane 0: reader 0 gated_on_mask");
  add("Gating.NamesNoConsumer", gating_ss_rules, "check 24b", "SequencedSlots (3 consumers) reader 0 gated_on_mask 8 (consumer 3)",
      kSequenced, [](Image& m) { m.put<std::uint64_t>(m.gating_mask(0, 0), 8); }, "BadGating", "lane 0: reader 0 gated_on_mask");
  add("Gating.NamesItself", gating_ss_rules, "check 24b", "SequencedSlots reader 1 gated_on_mask 3 (consumers 0 and 1)",
      kSequenced, [](Image& m) { m.put<std::uint64_t>(m.gating_mask(0, 1), 3); }, "BadGating", "lane 0: reader 1 gated_on_mask");
  add("Gating.Cycle", gating_ss_rules, "check 24b", "SequencedSlots reader 1 gated on 2, reader 2 on 1", kSequenced,
      [](Image& m) { m.put<std::uint64_t>(m.gating_mask(0, 1), 4); }, "BadGating", "lane 0: reader 1 gated_on_mask");
  add("Gating.BehindACycle", gating_ss_rules, "check 24b",
      "SequencedSlots reader 0 gated on 1, on the cycle 1 <-> 2: reader 0 is the first left", kSequenced,
      [](Image& m) {
        m.put<std::uint64_t>(m.gating_mask(0, 0), 2);
        m.put<std::uint64_t>(m.gating_mask(0, 1), 4);
      },
      "BadGating", "lane 0: reader 0 gated_on_mask");
  add("Gating.OnLane2Journal", gating_rules, "check 24b", "multi_lane lane 2 (Journal) reader 1 gated_on_mask 1", kMulti,
      [](Image& m) { m.put<std::uint64_t>(m.gating_mask(2, 1), 1); }, "BadGating", "lane 2: reader 1 gated_on_mask");

  // ---- Check 25: the checksum (not recomputed) ----
  add("Checksum.Flipped", checksum_rules, "check 25", "checksum with its lowest bit flipped", kEvents,
      [](Image& m) { m.put<std::uint32_t>(hdr::kChecksum, m.get<std::uint32_t>(hdr::kChecksum) ^ 1u); }, "ChecksumMismatch",
      "region header: checksum");
  c.back().reseal = false;
  add("Checksum.CoversTheHeader", checksum_rules, "check 25", "creation_id changed, checksum not recomputed", kEvents,
      [](Image& m) { m.put<std::uint64_t>(hdr::kCreationId, m.get<std::uint64_t>(hdr::kCreationId) ^ 1u); }, "ChecksumMismatch",
      "region header: checksum");
  c.back().reseal = false;
  add("Checksum.CoversTheTable", checksum_rules, "check 25", "Journal lane 0 reader_timeout_ns 2 ms, checksum not recomputed",
      kJournal, lane64(0, desc::kReaderTimeoutNs, 2'000'000), "ChecksumMismatch", "region header: checksum");
  c.back().reseal = false;

  // ---- First failure only: two corruptions, the spec's order says which is reported ----
  add("Order.MagicBeforeLaneKind", header_rules, "checks 2 < 13", "magic \"INDEXBUX\" and lane 0 kind 5", kEvents,
      both([](Image& m) { m.put<std::uint64_t>(hdr::kMagic, 0x5855425845444E49ull); }, lane32(0, desc::kKind, 5)), "BadMagic",
      "region header: magic");
  add("Order.VersionBeforeInitState", header_rules, "checks 3 < 4", "version_major 2 and init_state 7", kEvents,
      [](Image& m) {
        m.put<std::uint16_t>(hdr::kVersionMajor, 2);
        m.put<std::uint32_t>(hdr::kInitState, 7);
      },
      "VersionMismatch", "region header: version_major");
  add("Order.InitStateBeforeHeaderBytes", header_rules, "checks 4 < 5", "init_state 7 and header_bytes 64", kEvents,
      [](Image& m) {
        m.put<std::uint32_t>(hdr::kInitState, 7);
        m.put<std::uint32_t>(hdr::kHeaderBytes, 64);
      },
      "NotReady", "region header: init_state");
  add("Order.RegionBytesBeforeLaneCount", header_rules, "checks 6 < 7", "region_bytes wrong and lane_count 0", kEvents,
      [](Image& m) {
        m.put<std::uint64_t>(hdr::kRegionBytes, m.size() + 4096);
        m.put<std::uint32_t>(hdr::kLaneCount, 0);
      },
      "RegionSizeMismatch", "region header: region_bytes");
  add("Order.LaneCountBeforeTableOffset", header_rules, "checks 7 < 9", "lane_count 65 and lane_table_offset 160", kEvents,
      [](Image& m) {
        m.put<std::uint32_t>(hdr::kLaneCount, kLaneCountMax + 1);
        m.put<std::uint32_t>(hdr::kLaneTableOffset, 160);
      },
      "BadLaneCount", "region header: lane_count");
  add("Order.TableOffsetBeforeReserved", header_rules, "checks 9 < 10", "lane_table_offset 160 and reserved0 1", kEvents,
      [](Image& m) {
        m.put<std::uint32_t>(hdr::kLaneTableOffset, 160);
        m.put<std::uint64_t>(hdr::kReserved0, 1);
      },
      "BadLaneTableOffset", "region header: lane_table_offset");
  add("Order.ReservedBeforeFlags", header_rules, "checks 11 < 12", "header byte 127 1 and flags 1", kEvents,
      [](Image& m) {
        m.put<std::uint8_t>(hdr::kReserved1Last, 1);
        m.put<std::uint32_t>(hdr::kFlags, 1);
      },
      "ReservedNotZero", "region header: reserved1");
  add("Order.HeaderBeforeLanes", header_rules, "checks 12 < 13", "flags 1 and lane 0 kind 5", kEvents,
      both([](Image& m) { m.put<std::uint32_t>(hdr::kFlags, 1); }, lane32(0, desc::kKind, 5)), "BadFlags", "region header: flags");
  add("Order.KindBeforeCapacity", lane_rules, "checks 13 < 16", "lane 0 kind 5 and capacity_slots 3", kEvents,
      both(lane32(0, desc::kKind, 5), lane32(0, desc::kCapacitySlots, 3)), "BadLaneKind", "lane 0: kind");
  add("Order.ReaderTimeoutBeforeReserved", lane_rules, "checks 18b < 19", "Events lane 0 reader_timeout_ns 1 and reserved0 1",
      kEvents, both(lane64(0, desc::kReaderTimeoutNs, 1), lane32(0, desc::kReserved0, 1)), "BadReaderTimeout",
      "lane 0: reader_timeout_ns");
  add("Order.MisalignedBeforeBlockBytes", block_rules, "checks 21 < 22", "lane 0 block_offset + 8 and block_bytes + 64", kEvents,
      [](Image& m) {
        m.set_block_offset(0, m.block_offset(0) + 8);
        m.put<std::uint64_t>(m.lane(0) + desc::kBlockBytes, m.block_bytes(0) + 64);
      },
      "BlockMisaligned", "lane 0: block_offset");
  add("Order.BlockBytesBeforeBounds", block_rules, "checks 22 < 23", "lane 0 block_bytes + 64 and its block past the file end",
      kEvents,
      [](Image& m) {
        m.put<std::uint64_t>(m.lane(0) + desc::kBlockBytes, m.block_bytes(0) + 64);
        m.set_block_offset(0, m.size() - 64);
      },
      "BadBlockBytes", "lane 0: block_bytes");
  add("Order.LaneByLane", block_rules, "lane 0's check 23 < lane 1's check 13",
      "multi_lane lane 0 block past the file end and lane 1 kind 9", kMulti,
      both([](Image& m) { m.set_block_offset(0, m.size() - 64); }, lane32(1, desc::kKind, 9)), "BlockOutOfBounds",
      "lane 0: block_offset");
  add("Order.LaneChecksBeforeOverlap", lane_rules, "checks 13-23 of every lane < 24",
      "multi_lane lane 1 block inside lane 0's and lane 3 on_full 3", kMulti,
      both([](Image& m) { m.set_block_offset(1, m.block_offset(0) + 64); }, lane32(3, desc::kOnFull, 3)), "BadOnFull",
      "lane 3: on_full");
  add("Order.OverlapPairsIOuterJInner", block_rules, "check 24, pairs (i, j) with i outer",
      "multi_lane lane 3 block at lane 0's, lane 2 block 64 bytes into lane 1's: the pair (0, 3) comes before (1, 2)", kMulti,
      [](Image& m) {
        m.set_block_offset(3, m.block_offset(0));
        m.set_block_offset(2, m.block_offset(1) + 64);
      },
      "BlocksOverlap", "lane 3: block_offset");
  add("Order.OverlapBeforeGating", block_rules, "checks 24 < 24b",
      "multi_lane lane 1 block inside lane 0's and lane 2 (Journal) reader 1 gated_on_mask 1", kMulti,
      [](Image& m) {
        m.put<std::uint64_t>(m.gating_mask(2, 1), 1);
        m.set_block_offset(1, m.block_offset(0) + 64);
      },
      "BlocksOverlap", "lane 1: block_offset");
  add("Order.GatingBeforeChecksum", gating_ss_rules, "checks 24b < 25",
      "SequencedSlots reader 1 gated on itself and creation_id changed, checksum not recomputed", kSequenced,
      [](Image& m) {
        m.put<std::uint64_t>(m.gating_mask(0, 1), 3);
        m.put<std::uint64_t>(hdr::kCreationId, m.get<std::uint64_t>(hdr::kCreationId) ^ 1u);
      },
      "BadGating", "lane 0: reader 1 gated_on_mask");
  c.back().reseal = false;
  add("Order.HeaderFieldBeforeChecksum", {"REG-4", "REG-6", "REG-9"}, "checks 12 < 25", "flags 1, checksum not recomputed",
      kEvents, [](Image& m) { m.put<std::uint32_t>(hdr::kFlags, 1); }, "BadFlags", "region header: flags");
  c.back().reseal = false;
  add("Order.LaneFieldBeforeChecksum", {"REG-5", "REG-6", "REG-9"}, "checks 16 < 25",
      "lane 0 capacity_slots 3, checksum not recomputed", kEvents, lane32(0, desc::kCapacitySlots, 3), "BadCapacity",
      "lane 0: capacity_slots");
  c.back().reseal = false;

  // ---- The control: valid, though no creator lays a region out like this ----
  add("Control.NonCanonicalLayoutOpens", {"REG-4", "REG-5", "REG-6", "REG-8", "REG-12"}, "the whole validation order",
      "multi_lane with the table at 192 after a filled gap, blocks in reverse order with gaps, two touching, 6000 bytes, "
      "version_minor 7, other creator_pid and creation_id, filler outside the blocks",
      kMulti, non_canonical_layout, "", "");
  return c;
}

// ---- The file at the case's path, before and after the agent saw it ----

// What lstat and, for a regular file, its bytes (and, for a symbolic link, its target) say.
struct PathState {
  bool exists = false;
  mode_t mode = 0;  // type and permission bits
  uid_t owner = 0;
  std::string link;  // a symbolic link's target
  Bytes bytes;       // a regular file's contents
};

PathState observe(const std::string& path) {
  PathState s;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.mode = st.st_mode;
  s.owner = st.st_uid;
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n > 0) s.link.assign(target, static_cast<std::size_t>(n));
  }
  if (S_ISREG(st.st_mode)) s.bytes = read_file(path);  // never a named pipe: reading it would block
  return s;
}

// The first way `after` differs from `before`, in words; nullopt when it does not.
std::optional<std::string> difference(const std::string& what, const PathState& before, const PathState& after) {
  if (before.exists != after.exists) return what + (after.exists ? " exists now; it did not" : " is gone");
  if (!after.exists) return std::nullopt;
  char modes[64];
  std::snprintf(modes, sizeof modes, "mode 0%o, was 0%o", static_cast<unsigned>(after.mode), static_cast<unsigned>(before.mode));
  if (before.mode != after.mode) return what + " has " + modes;
  if (before.owner != after.owner) return what + " has owner " + std::to_string(after.owner) + ", was " + std::to_string(before.owner);
  if (before.link != after.link) return what + " points to " + after.link + ", was " + before.link;
  if (before.bytes.size() != after.bytes.size()) {
    return what + " has " + std::to_string(after.bytes.size()) + " bytes, had " + std::to_string(before.bytes.size());
  }
  const auto [a, b] = std::mismatch(after.bytes.begin(), after.bytes.end(), before.bytes.begin());
  if (a == after.bytes.end()) return std::nullopt;
  return what + " byte " + std::to_string(a - after.bytes.begin()) + " is " + std::to_string(static_cast<unsigned>(*a)) + ", was " +
         std::to_string(static_cast<unsigned>(*b));
}

// Puts what the case needs at `path` (and the image at `target` for a symbolic link).
void place(const Corruption& k, const Image& image, const std::string& path, const std::string& target) {
  auto setup_error = [&](const std::string& what) {
    return CaseStop{Outcome::Crash, "setup: cannot " + what + " " + path + ": " + std::strerror(errno)};
  };
  switch (k.setup) {
    case Setup::Missing: return;
    case Setup::Image: write_image(path, image.bytes()); return;
    case Setup::WorldWritable:
      write_image(path, image.bytes());
      if (::chmod(path.c_str(), 0666) != 0) throw setup_error("chmod");  // chmod: independent of the umask
      return;
    case Setup::Symlink:
      write_image(target, image.bytes());
      if (::symlink(target.c_str(), path.c_str()) != 0) throw setup_error("symlink");
      return;
    case Setup::Fifo:
      if (::mkfifo(path.c_str(), 0600) != 0) throw setup_error("mkfifo");
      return;
    case Setup::Directory:
      if (::mkdir(path.c_str(), 0700) != 0) throw setup_error("mkdir");
      return;
  }
}

std::string describe_reply(const Reply& reply) {
  if (reply.type == "ok") return "ok " + reply.result.dump();
  return "error " + reply.error_kind + (reply.error_code.empty() ? " (no code)" : " " + reply.error_code) + ": " + reply.message;
}

void run_corruption(const Corruption& k, const AgentCaseContext& context, CaseResult& result) {
  const golden::GoldenImage& base = golden_image(k.base);
  Image image(base.bytes);
  if (k.edit) k.edit(image);
  if (k.reseal) image.reseal();
  const bool refuse = !k.code.empty();
  const std::string expected =
      refuse ? "error region " + k.code + (k.names.empty() ? "" : " naming '" + k.names + "'") : "ok, lane_count " + std::to_string(base.lanes.size());
  result.scenario.push_back("spec/golden/v1/" + base.name + ".bin, then: " + k.what +
                            (k.reseal ? "" : " (the checksum left as it was)"));
  result.scenario.push_back("open_region -> " + expected + " (spec/layout.md, " + k.check + ")");

  // Goes away with the case, whatever the case or the agent put there.
  const RegionFile path(context.dir, result.id, k.setup == Setup::Directory);
  std::optional<RegionFile> target;
  if (k.setup == Setup::Symlink) target.emplace(context.dir, result.id + ".target", false);

  AgentProcess agent(context.agent_argv);
  if (auto failure = agent.handshake()) throw CaseStop{outcome_of(*failure), "hello: " + failure->message};
  // An agent that lacks a kind or policy of the image may refuse it for that reason first (check 14).
  const auto kinds = proto::get_string_array(agent.hello(), "lane_kinds");
  const auto policies = proto::get_string_array(agent.hello(), "policies");
  for (const golden::GoldenLane& lane : base.lanes) {
    const std::string kind = golden::lane_kind_name(lane.config.kind);
    const std::string policy = golden::on_full_name(lane.config.on_full);
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) throw CaseStop{Outcome::Skip, "agent does not implement " + kind + " lanes"};
    if (std::find(policies.begin(), policies.end(), policy) == policies.end()) {
      throw CaseStop{Outcome::Skip, "agent does not implement the " + policy + " policy"};
    }
  }

  place(k, image, path.path(), target ? target->path() : std::string());
  const PathState before = observe(path.path());
  const PathState target_before = target ? observe(target->path()) : PathState{};

  HistoryRecord record;
  record.step = result.history.size();
  record.action = "open_region (" + k.what + ")";
  record.expected = expected;
  const RequestOutcome opened = agent.request(Json{{"type", "open_region"}, {"path", path.path()}}, context.request_deadline_ms);
  if (auto* failure = std::get_if<AgentFailure>(&opened)) throw CaseStop{outcome_of(*failure), "open_region: " + failure->message};
  const Reply& reply = std::get<Reply>(opened);
  stop_on_lost_wakeups("the agent", reply);
  if (reply.type == "unsupported") throw unsupported_stop(0, "open_region", reply.message);
  record.actual = describe_reply(reply);
  if (refuse) {
    record.matched = reply.type == "error" && reply.error_kind == "region" && reply.error_code == k.code &&
                     reply.message.find(k.names) != std::string::npos;
  } else {
    record.matched = reply.type == "ok" && reply.result.contains("lane_count") &&
                     reply.result["lane_count"] == Json(base.lanes.size());
  }
  result.history.push_back(record);
  if (!record.matched) {
    throw CaseStop{Outcome::Fail, "open_region of a file with " + k.what + ": expected " + expected + ", got " + record.actual +
                                      " (spec/layout.md, " + k.check +
                                      (refuse ? "; the first failing check is reported, by its code and field)" : ")")};
  }

  // Bad input loses nothing: the agent leaves what it was given as it was.
  if (auto changed = difference("the file", before, observe(path.path()))) {
    throw CaseStop{Outcome::Fail, "open_region changed what it was given: " + *changed + " (an opener only reads)"};
  }
  if (target) {
    if (auto changed = difference("the symbolic link's target", target_before, observe(target->path()))) {
      throw CaseStop{Outcome::Fail, "open_region changed what it was given: " + *changed + " (an opener only reads)"};
    }
  }
  if (!refuse) return;

  // After a refused open_region the agent holds no region (spec/agent-protocol.md).
  HistoryRecord after;
  after.step = result.history.size();
  after.action = "attach producer of lane 0 (no region is held)";
  after.expected = "error no_region";
  const RequestOutcome outcome = agent.request(Json{{"type", "attach"}, {"lane", 0}, {"role", "producer"}}, context.request_deadline_ms);
  if (auto* failure = std::get_if<AgentFailure>(&outcome)) throw CaseStop{outcome_of(*failure), "attach: " + failure->message};
  const Reply& attached = std::get<Reply>(outcome);
  stop_on_lost_wakeups("the agent", attached);
  after.actual = describe_reply(attached);
  after.matched = attached.type == "error" && attached.error_kind == "no_region";
  result.history.push_back(after);
  if (!after.matched) {
    throw CaseStop{Outcome::Fail, "attach after the refused open_region: expected error no_region, got " + after.actual +
                                      " (spec/agent-protocol.md: after a failed open_region the agent holds no region)"};
  }
}

}  // namespace

void add_corrupt_cases(std::vector<CaseDef>& cases) {
  for (Corruption& k : corruptions()) {
    CaseDef def;
    def.id = "Required.Layout.Corrupt." + k.name;
    def.rules = k.rules;
    def.summary = k.code.empty() ? "open_region of a valid image in a layout no creator writes (" + k.what + ") succeeds"
                                 : "open_region of a file with " + k.what + " is refused with " + k.code +
                                       (k.names.empty() ? "" : " naming '" + k.names + "'") + " (spec/layout.md, " + k.check + ")";
    def.run_with_agents = [k = std::move(k)](const AgentCaseContext& context, CaseResult& result) {
      try {
        run_corruption(k, context, result);
        result.outcome = Outcome::Pass;
        result.detail = k.code.empty() ? "opened, and the file unchanged"
                                       : "refused with " + k.code + (k.names.empty() ? "" : " naming '" + k.names + "'") +
                                             "; the file unchanged, no region held";
      } catch (const CaseStop& stop) {
        result.outcome = stop.outcome;
        result.detail = stop.detail;
      }
    };
    cases.push_back(std::move(def));
  }
}

}  // namespace indexbus::harness

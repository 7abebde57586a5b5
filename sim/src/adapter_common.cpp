#include "indexbus/sim/adapter_common.hpp"

#include <algorithm>

#include "indexbus/sim/events_scenario.hpp"

namespace indexbus::sim::adapter {

std::optional<std::string> torn_entry(const std::vector<WrittenEntry>& by_seq, std::uint64_t seq,
                                      std::uint32_t payload_bytes, const std::byte* data) {
  if (seq >= by_seq.size()) {
    return "entry seq " + std::to_string(seq) + " delivered but only " + std::to_string(by_seq.size()) +
           " writes succeeded";
  }
  const WrittenEntry& w = by_seq[seq];
  const spec::Bytes expected = events::payload_of(w.op_index, w.payload_bytes);
  if (payload_bytes != w.payload_bytes || !std::equal(expected.begin(), expected.end(), data)) {
    return "entry seq " + std::to_string(seq) + " (" + std::to_string(payload_bytes) +
           " B) is not what producer op #" + std::to_string(w.op_index) + " wrote (" +
           std::to_string(w.payload_bytes) + " B)";
  }
  return std::nullopt;
}

std::string duplicate_message(std::uint64_t seq, std::uint64_t last) {
  return "entry seq " + std::to_string(seq) + " delivered after seq " + std::to_string(last) +
         " (duplicated or out of order)";
}

bool check_slots(const std::byte* slots, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes,
                 std::uint64_t stamp_max, std::uint64_t write_seq, std::string& message) {
  const std::uint64_t stride = events_slot_stride_bytes(slot_payload_bytes);
  for (std::uint32_t i = 0; i < capacity_slots; ++i) {
    const auto& slot = *reinterpret_cast<const SlotHeader*>(slots + i * stride);
    if (slot.stamp == 0) continue;
    const std::uint64_t seq = (slot.stamp - 1) / 2;
    if (seq % capacity_slots != i || slot.stamp > stamp_max) {
      message = "slot[" + std::to_string(i) + "].stamp " + std::to_string(slot.stamp) + " names seq " +
                std::to_string(seq) + " with write_seq " + std::to_string(write_seq);
      return false;
    }
    if (slot.payload_bytes > slot_payload_bytes) {
      message = "slot[" + std::to_string(i) + "].payload_bytes " + std::to_string(slot.payload_bytes) +
                " is longer than a slot";
      return false;
    }
  }
  return true;
}

std::string slot_word_name(std::uint64_t offset, std::uint32_t capacity_slots, std::uint32_t slot_payload_bytes) {
  const std::uint64_t stride = events_slot_stride_bytes(slot_payload_bytes);
  const std::uint64_t slot = offset / stride;
  const std::uint64_t within = offset % stride;
  if (slot >= capacity_slots) return "";
  const std::string base = "slot[" + std::to_string(slot) + "].";
  if (within == offsetof(SlotHeader, stamp)) return base + "stamp";
  if (within == offsetof(SlotHeader, payload_bytes)) return base + "payload_bytes";
  if (within < sizeof(SlotHeader)) return base + "reserved";
  return base + "payload+" + std::to_string(within - sizeof(SlotHeader));
}

}  // namespace indexbus::sim::adapter

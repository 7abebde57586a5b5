#include "indexbus/conformance/differential.hpp"

#include <stdexcept>
#include <algorithm>
#include <variant>

namespace indexbus::conformance {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

spec::ReadOutcome outcome_of(const ReadResult& r, std::span<const std::byte> buffer, Observation& obs) {
  spec::ReadOutcome out{r.status, r.seq, {}, r.lost_count};
  if (r.status == ReadStatus::Entry) {
    obs.reported_payload_bytes = r.payload_bytes;
    const std::size_t shown = std::min<std::size_t>(r.payload_bytes, buffer.size());
    out.payload.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(shown));
  }
  return out;
}

std::string expected_got(const std::string& what, const std::string& expected, const std::string& got) {
  return what + ": expected " + expected + ", got " + got;
}

// The rule a write status comparison checks: the one that decides between the two statuses.
std::string_view write_rule(WriteStatus expected, WriteStatus got, OnFull on_full) {
  auto either = [&](WriteStatus s) { return expected == s || got == s; };
  if (either(WriteStatus::TooLarge)) return "EV-2";
  if (either(WriteStatus::Closed)) return "EV-10";
  return on_full == OnFull::Block ? "EV-6" : "EV-12";
}

std::string_view read_rule(ReadStatus expected, ReadStatus got, OnFull on_full) {
  auto either = [&](ReadStatus s) { return expected == s || got == s; };
  if (either(ReadStatus::Lost)) return on_full == OnFull::Block ? "EV-7" : "EV-8";
  if (either(ReadStatus::Closed)) return "EV-10";
  if (expected == ReadStatus::Entry) return "EV-5";  // a published entry must be readable
  if (got == ReadStatus::Entry) return "EV-4";       // an entry that does not exist (or again)
  return "EV-13";                                    // Empty / Timeout
}

bool is_timeout(const spec::OpResult& result) {
  if (const auto* w = std::get_if<spec::WriteOutcome>(&result)) return w->status == WriteStatus::Timeout;
  if (const auto* r = std::get_if<spec::ReadOutcome>(&result)) return r->status == ReadStatus::Timeout;
  return false;
}

}  // namespace

Observation execute(LaneUnderTest& lane, const spec::Op& op, std::uint32_t slot_payload_bytes,
                    std::uint64_t blocking_timeout_ns) {
  Observation obs;
  std::vector<std::byte> buffer;
  auto read_buffer = [&]() -> std::span<std::byte> {
    buffer.assign(slot_payload_bytes, std::byte{0});
    return buffer;
  };
  auto deadline = [&] {
    obs.deadline_ns = lane.now_ns() + blocking_timeout_ns;
    return *obs.deadline_ns;
  };
  obs.result = std::visit(
      Overloaded{
          [&](const spec::TryWrite& w) -> spec::OpResult { return spec::WriteOutcome{lane.try_write(w.payload)}; },
          [&](const spec::Write& w) -> spec::OpResult {
            return spec::WriteOutcome{lane.write(w.payload, deadline())};
          },
          [&](const spec::Close&) -> spec::OpResult {
            lane.close();
            return spec::CloseOutcome{};
          },
          [&](const spec::TryRead&) -> spec::OpResult {
            const auto out = read_buffer();
            return outcome_of(lane.try_read(out), out, obs);
          },
          [&](const spec::Read&) -> spec::OpResult {
            const auto out = read_buffer();
            const std::uint64_t d = deadline();
            return outcome_of(lane.read(out, d), out, obs);
          },
          [&](const spec::BeginWrite&) -> spec::OpResult {
            // The model's first step of a write (EV-8) is no call of the lane: only the
            // linearizability checker makes it, from a recorded write.
            throw std::logic_error("BeginWrite is a model-only operation: no lane call performs it");
          },
      },
      op);
  obs.returned_at_ns = lane.now_ns();
  obs.counters = lane.counters();
  return obs;
}

LaneCounters counters_of(const spec::EventsState& state) noexcept {
  return LaneCounters{state.written, state.read_count, state.lost_count};
}

std::vector<Check> compare_step(const spec::EventsState& before, const spec::EventsState& after,
                                const spec::OpResult& expected, const Observation& got) {
  std::vector<Check> checks;
  const OnFull on_full = before.config.on_full;
  auto add = [&](std::string_view rule, bool passed, auto&& detail) {
    checks.push_back(Check{rule, passed, passed ? std::string() : detail()});
  };
  auto result_detail = [&] { return expected_got("result", spec::describe(expected), spec::describe(got.result)); };

  if (expected.index() != got.result.index()) {
    // Cannot happen through execute(); guards hand-made observations.
    add("EV-11", false, result_detail);
    return checks;
  }
  if (const auto* w = std::get_if<spec::WriteOutcome>(&expected)) {
    const auto& g = std::get<spec::WriteOutcome>(got.result);
    add(write_rule(w->status, g.status, on_full), w->status == g.status, result_detail);
  } else if (const auto* e = std::get_if<spec::ReadOutcome>(&expected)) {
    const auto& g = std::get<spec::ReadOutcome>(got.result);
    add(read_rule(e->status, g.status, on_full), e->status == g.status, result_detail);
    if (e->status == ReadStatus::Entry && g.status == ReadStatus::Entry) {
      add("EV-4", e->seq == g.seq, result_detail);
      if (e->seq == g.seq) {  // otherwise they are different entries: nothing more to compare
        add("EV-3", e->payload_bytes() == got.reported_payload_bytes, [&] {
          return expected_got("payload_bytes of entry " + std::to_string(e->seq), std::to_string(e->payload_bytes()),
                              std::to_string(got.reported_payload_bytes));
        });
        if (e->payload_bytes() == got.reported_payload_bytes) add("EV-9", e->payload == g.payload, result_detail);
      }
    }
    if (e->status == ReadStatus::Lost && g.status == ReadStatus::Lost) {
      add("EV-8", e->lost_count == g.lost_count, result_detail);
    }
  }

  if (is_timeout(got.result) && got.deadline_ns) {
    const std::uint64_t deadline = *got.deadline_ns;
    const bool in_time = got.returned_at_ns >= deadline && got.returned_at_ns - deadline <= kDeadlineSlackNs;
    add("EV-15", in_time, [&] {
      if (got.returned_at_ns < deadline) {
        return "Timeout returned " + std::to_string(deadline - got.returned_at_ns) + " ns before its deadline";
      }
      return "Timeout returned " + std::to_string(got.returned_at_ns - deadline) + " ns after its deadline";
    });
  }

  const LaneCounters want = counters_of(after);
  add(spec::is_refusal(expected) ? "EV-14" : "EV-11", got.counters == want,
      [&] { return expected_got("counters", describe(want), describe(got.counters)); });
  if (on_full == OnFull::Block) {
    add("EV-7", got.counters.lost_count == 0, [&] {
      return "lost_count " + std::to_string(got.counters.lost_count) + " under block, expected 0";
    });
  }
  return checks;
}

std::vector<std::string_view> checked_rule_ids() {
  return {"REG-10", "REG-11", "EV-2",  "EV-3",  "EV-4",  "EV-5",  "EV-6",  "EV-7",
          "EV-8",   "EV-9",   "EV-10", "EV-11", "EV-12", "EV-13", "EV-14", "EV-15"};
}

spec::Bytes recognisable_payload(std::uint64_t tag, std::size_t size) {
  spec::Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint64_t value = i < 8 ? tag >> (8 * i) : (tag * 31 + i * 7) ^ 0xa5;
    out[i] = static_cast<std::byte>(value & 0xff);
  }
  return out;
}

OpGenerator::OpGenerator(const spec::EventsConfig& config, std::uint64_t seed, const OpMix& mix)
    : config_(config), rng_(seed), mix_(mix), tag_base_((seed & 0xffff) << 40) {}

spec::Op OpGenerator::next() {
  if (chance(mix_.close_permille)) return spec::Close{};
  const bool blocking = chance(mix_.blocking_permille);
  if (chance(mix_.write_permille)) {
    spec::Bytes payload = next_payload();
    if (blocking) return spec::Write{std::move(payload)};
    return spec::TryWrite{std::move(payload)};
  }
  if (blocking) return spec::Read{};
  return spec::TryRead{};
}

spec::Bytes OpGenerator::next_payload() {
  const std::uint32_t slot = config_.slot_payload_bytes;
  std::size_t size = 0;
  if (chance(mix_.too_large_permille)) {
    size = slot + 1 + rng_() % 8;
  } else {
    switch (rng_() % 8) {
      case 0: size = 0; break;      // zero-length entries are entries (EV-2)
      case 1: size = slot; break;   // the largest that fits
      default: size = rng_() % (std::uint64_t{slot} + 1); break;
    }
  }
  return recognisable_payload(tag_base_ | writes_++, size);
}

}  // namespace indexbus::conformance

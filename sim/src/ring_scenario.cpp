#include "indexbus/sim/ring_scenario.hpp"

#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "indexbus/sim/scenario_text.hpp"

namespace indexbus::sim::ring {
namespace {

using text::parse_u64;
using text::set_error;
using text::split;

std::optional<OpSpec> parse_op(std::string_view token, bool producer, LaneKind kind) {
  if (token.empty()) return std::nullopt;
  OpSpec op;
  const char head = token[0];
  std::string_view rest = token.substr(1);
  std::uint64_t timeout = kNoDeadline;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    if (!parse_u64(rest.substr(at + 1), timeout)) return std::nullopt;
    rest = rest.substr(0, at);
  }
  std::uint64_t number = 0;
  if (producer) {
    switch (head) {
      case 'w': op.kind = OpKind::TryWrite; break;
      case 'W': op.kind = OpKind::Write; op.timeout_ns = timeout; break;
      case 'C': op.kind = OpKind::Close; return rest.empty() ? std::optional(op) : std::nullopt;
      case 'K':
        if (kind != LaneKind::SequencedSlots) return std::nullopt;
        op.kind = OpKind::ClaimClosePublish;
        break;
      default: return std::nullopt;
    }
    if (!parse_u64(rest, number) || number > events::kSlotPayloadBytesMax + 8) return std::nullopt;
    op.payload_bytes = static_cast<std::uint32_t>(number);
    return op;
  }
  const bool journal = kind == LaneKind::Journal;
  switch (head) {
    case 'r': op.kind = OpKind::TryRead; break;
    case 'R': op.kind = OpKind::Read; op.timeout_ns = timeout; break;
    case 'D': op.kind = OpKind::Drain; break;
    case 'c': op.kind = OpKind::Commit; break;
    case 'h': op.kind = OpKind::Heartbeat; break;
    case 'X': op.kind = OpKind::Detach; break;
    case 'A': op.kind = OpKind::Reattach; break;
    case 'a':
      if (!journal || !parse_u64(rest, number)) return std::nullopt;
      op.kind = OpKind::ReadAt;
      op.seq = number;
      return op;
    default: return std::nullopt;
  }
  if (!rest.empty()) return std::nullopt;
  const bool journal_only = op.kind == OpKind::Commit || op.kind == OpKind::Heartbeat || op.kind == OpKind::Detach ||
                            op.kind == OpKind::Reattach;
  if (journal_only && !journal) return std::nullopt;
  return op;
}

std::string join_ops(const std::vector<OpSpec>& ops) {
  std::string out;
  for (const OpSpec& op : ops) {
    if (!out.empty()) out += ',';
    switch (op.kind) {
      case OpKind::TryWrite: out += "w" + std::to_string(op.payload_bytes); break;
      case OpKind::Write: out += "W" + std::to_string(op.payload_bytes); break;
      case OpKind::Close: out += "C"; break;
      case OpKind::ClaimClosePublish: out += "K" + std::to_string(op.payload_bytes); break;
      case OpKind::TryRead: out += "r"; break;
      case OpKind::Read: out += "R"; break;
      case OpKind::Drain: out += "D"; break;
      case OpKind::ReadAt: out += "a" + std::to_string(op.seq); break;
      case OpKind::Commit: out += "c"; break;
      case OpKind::Heartbeat: out += "h"; break;
      case OpKind::Attach: out += "attach"; break;
      case OpKind::Publish: out += "publish"; break;
      case OpKind::Detach: out += "X"; break;
      case OpKind::Reattach: out += "A"; break;
      case OpKind::AdvanceTime: out += "time"; break;  // recorded only, never in a scenario
    }
    if ((op.kind == OpKind::Write || op.kind == OpKind::Read) && op.timeout_ns != kNoDeadline) {
      out += "@" + std::to_string(op.timeout_ns);
    }
  }
  return out;
}

// SS-3 for the simulator: masks name existing consumers only, never their own, and (being
// checked in index order, each mask naming lower indexes only) cannot form a cycle.
bool valid_gates(const Scenario& s, std::string* error) {
  if (s.kind != LaneKind::SequencedSlots) {
    return s.gates.empty() || set_error(error, "gates apply to sequenced_slots only");
  }
  if (s.gates.size() != s.readers.size()) {
    return set_error(error, "gates needs one mask per reader (" + std::to_string(s.readers.size()) + "), found " +
                                std::to_string(s.gates.size()));
  }
  for (std::size_t i = 0; i < s.gates.size(); ++i) {
    if (s.gates[i] >> i != 0) {
      return set_error(error, "gates: consumer " + std::to_string(i) + " mask " + std::to_string(s.gates[i]) +
                                  " must name lower-numbered consumers only (acyclic)");
    }
  }
  return true;
}

bool valid(const Scenario& s, std::string* error) {
  if (s.named && s.kind != LaneKind::Journal) return set_error(error, "named applies to journal only");
  if (s.reader_timeout_ns != 0 && s.kind != LaneKind::Journal) return set_error(error, "timeout applies to journal only");
  if (s.clock_jumps != 0 && s.kind != LaneKind::Journal) return set_error(error, "jumps applies to journal only");
  if (s.clock_jumps != 0 && s.reader_timeout_ns == 0) {
    return set_error(error, "jumps needs a reader timeout (timeout=<ns>): a jump silences every reader for it");
  }
  if (s.clock_jumps > kClockJumpsMax) {
    return set_error(error, "jumps must be in [1, " + std::to_string(kClockJumpsMax) + "], found " +
                                std::to_string(s.clock_jumps));
  }
  if (!is_power_of_two(s.capacity_slots) || s.capacity_slots > 64) {
    return set_error(error, "cap must be a power of two in [1, 64], found " + std::to_string(s.capacity_slots));
  }
  if (s.slot_payload_bytes < 8 || s.slot_payload_bytes > events::kSlotPayloadBytesMax ||
      s.slot_payload_bytes % 8 != 0) {
    return set_error(error, "slot must be a multiple of 8 in [8, " + std::to_string(events::kSlotPayloadBytesMax) +
                                "], found " + std::to_string(s.slot_payload_bytes));
  }
  if (s.readers.empty() || s.readers.size() > kReadersMax) {
    return set_error(error, "expected 1 to " + std::to_string(kReadersMax) + " readers (r0:..), found " +
                                std::to_string(s.readers.size()));
  }
  if (s.producer.size() > kOpsPerActorMax) return set_error(error, "too many producer ops");
  for (const auto& ops : s.readers) {
    if (ops.size() > kOpsPerActorMax) return set_error(error, "too many reader ops");
  }
  return valid_gates(s, error);
}

}  // namespace

std::optional<LaneKind> parse_ring_kind(std::string_view text) noexcept {
  for (LaneKind kind : {LaneKind::Journal, LaneKind::SequencedSlots, LaneKind::FanoutBroadcast}) {
    if (text == indexbus::to_string(kind)) return kind;
  }
  return std::nullopt;
}

std::string describe(const OpSpec& op) { return join_ops({op}); }

std::string to_string(const Scenario& s) {
  std::string out = std::string(indexbus::to_string(s.kind)) + "," + std::string(indexbus::to_string(s.on_full)) +
                    ",cap=" + std::to_string(s.capacity_slots) + ",slot=" + std::to_string(s.slot_payload_bytes) +
                    (s.parking ? ",park" : ",poll");
  if (!s.gates.empty()) {
    out += ",gates=";
    for (std::size_t i = 0; i < s.gates.size(); ++i) out += (i == 0 ? "" : ".") + std::to_string(s.gates[i]);
  }
  if (s.named) out += ",named";
  if (s.reader_timeout_ns != 0) out += ",timeout=" + std::to_string(s.reader_timeout_ns);
  if (s.clock_jumps != 0) out += ",jumps=" + std::to_string(s.clock_jumps);
  out += ";p:" + join_ops(s.producer);
  for (std::size_t i = 0; i < s.readers.size(); ++i) out += ";r" + std::to_string(i) + ":" + join_ops(s.readers[i]);
  return out;
}

std::optional<Scenario> parse_scenario(std::string_view text, std::string* error) {
  const auto parts = split(text, ';');
  if (parts.size() < 3) {
    set_error(error, "expected '<kind>,<config>;p:<ops>;r0:<ops>[;r1:<ops>..]'");
    return std::nullopt;
  }
  Scenario s;
  const auto fields = split(parts[0], ',');
  const auto kind = parse_ring_kind(fields[0]);
  if (!kind) {
    set_error(error, "lane kind '" + std::string(fields[0]) + "': expected journal, sequenced_slots or fanout_broadcast");
    return std::nullopt;
  }
  s.kind = *kind;
  for (std::size_t f = 1; f < fields.size(); ++f) {
    const std::string_view field = fields[f];
    std::uint64_t value = 0;
    if (field == "block" || field == "drop") {
      s.on_full = field == "block" ? OnFull::Block : OnFull::Drop;
    } else if (field == "named") {
      s.named = true;
    } else if (field.starts_with("timeout=") && parse_u64(field.substr(8), value)) {
      s.reader_timeout_ns = value;
    } else if (field.starts_with("jumps=")) {
      if (!parse_u64(field.substr(6), value) || value == 0 || value > kClockJumpsMax) {
        set_error(error, "jumps: expected a number in [1, " + std::to_string(kClockJumpsMax) + "], found '" +
                             std::string(field.substr(6)) + "'");
        return std::nullopt;
      }
      s.clock_jumps = static_cast<std::uint32_t>(value);
    } else if (field == "park" || field == "poll") {
      s.parking = field == "park";
    } else if (field.starts_with("cap=") && parse_u64(field.substr(4), value) && value <= 1u << 24) {
      s.capacity_slots = static_cast<std::uint32_t>(value);
    } else if (field.starts_with("slot=") && parse_u64(field.substr(5), value) && value <= 1u << 20) {
      s.slot_payload_bytes = static_cast<std::uint32_t>(value);
    } else if (field.starts_with("gates=")) {
      for (std::string_view mask : split(field.substr(6), '.')) {
        if (!parse_u64(mask, value)) {
          set_error(error, "gates: mask '" + std::string(mask) + "' is not a number");
          return std::nullopt;
        }
        s.gates.push_back(value);
      }
    } else {
      set_error(error, "unknown config field '" + std::string(field) + "'");
      return std::nullopt;
    }
  }
  if (s.kind == LaneKind::SequencedSlots && s.gates.empty()) s.gates.assign(parts.size() - 2, 0);
  for (std::size_t part = 1; part < parts.size(); ++part) {
    std::string_view list = parts[part];
    const std::string prefix = part == 1 ? "p:" : "r" + std::to_string(part - 2) + ":";
    if (!list.starts_with(prefix)) {
      set_error(error, "expected '" + prefix + "' at '" + std::string(list) + "'");
      return std::nullopt;
    }
    list.remove_prefix(prefix.size());
    std::vector<OpSpec>& ops = part == 1 ? s.producer : s.readers.emplace_back();
    if (list.empty()) continue;
    for (std::string_view token : split(list, ',')) {
      auto op = parse_op(token, part == 1, s.kind);
      if (!op) {
        set_error(error, "bad " + std::string(part == 1 ? "producer" : "reader") + " op '" + std::string(token) + "'");
        return std::nullopt;
      }
      ops.push_back(*op);
    }
  }
  if (!valid(s, error)) return std::nullopt;
  return s;
}

void to_json(nlohmann::json& out, const Scenario& s) {
  out = nlohmann::json{{"lane", std::string(indexbus::to_string(s.kind))},
                       {"on_full", std::string(indexbus::to_string(s.on_full))},
                       {"capacity_slots", s.capacity_slots},
                       {"slot_payload_bytes", s.slot_payload_bytes},
                       {"waiting", s.parking ? "park" : "poll"},
                       {"gates", s.gates},
                       {"named", s.named},
                       {"reader_timeout_ns", s.reader_timeout_ns},
                       {"clock_jumps", s.clock_jumps},
                       {"producer", join_ops(s.producer)},
                       {"compact", to_string(s)}};
  auto& readers = out["readers"] = nlohmann::json::array();
  for (const auto& ops : s.readers) readers.push_back(join_ops(ops));
}

std::optional<Scenario> scenario_from_json(const nlohmann::json& in, std::string* error) {
  try {
    if (in.contains("compact")) return parse_scenario(in.at("compact").get<std::string>(), error);
    std::string text = in.at("lane").get<std::string>() + "," + in.at("on_full").get<std::string>() +
                       ",cap=" + std::to_string(in.at("capacity_slots").get<std::uint32_t>()) +
                       ",slot=" + std::to_string(in.at("slot_payload_bytes").get<std::uint32_t>()) + "," +
                       in.value("waiting", std::string("park"));
    const auto gates = in.value("gates", std::vector<std::uint64_t>{});
    for (std::size_t i = 0; i < gates.size(); ++i) text += (i == 0 ? ",gates=" : ".") + std::to_string(gates[i]);
    if (in.value("named", false)) text += ",named";
    if (const auto t = in.value("reader_timeout_ns", std::uint64_t{0}); t != 0) text += ",timeout=" + std::to_string(t);
    if (const auto j = in.value("clock_jumps", std::uint32_t{0}); j != 0) text += ",jumps=" + std::to_string(j);
    text += ";p:" + in.at("producer").get<std::string>();
    const auto readers = in.at("readers").get<std::vector<std::string>>();
    for (std::size_t i = 0; i < readers.size(); ++i) text += ";r" + std::to_string(i) + ":" + readers[i];
    return parse_scenario(text, error);
  } catch (const nlohmann::json::exception& e) {
    set_error(error, std::string("scenario JSON: ") + e.what());
    return std::nullopt;
  }
}

rc::Shrinkable<Scenario> generate(std::uint64_t seed, const GenParams& params) {
  using namespace rc;
  const bool journal = params.kind == LaneKind::Journal;
  const auto timeout = gen::oneOf(gen::just(kNoDeadline), gen::inRange<std::uint64_t>(0, 60));
  const auto writes = gen::container<std::vector<OpSpec>>(gen::resize(kNominalSize,
      gen::map(gen::tuple(gen::inRange(0, 8), gen::inRange<std::uint32_t>(0, 3), timeout),
               [](const std::tuple<int, std::uint32_t, std::uint64_t>& t) {
                 const auto [kind, words, timeout_ns] = t;
                 OpSpec op;
                 op.kind = kind == 0 ? OpKind::TryWrite : OpKind::Write;
                 op.payload_bytes = words * 8 + (kind == 7 ? 1 : 0);  // now and then TooLarge
                 op.timeout_ns = op.kind == OpKind::Write ? timeout_ns : kNoDeadline;
                 return op;
               })));
  const bool blocking = params.blocking_reads_only && !journal;
  const auto read = gen::map(gen::tuple(gen::inRange(0, journal ? 8 : 3), gen::inRange<std::uint64_t>(0, 60),
                                        gen::inRange<std::uint64_t>(0, 8)),
                             [journal, blocking](const std::tuple<int, std::uint64_t, std::uint64_t>& t) {
                               const auto [kind, timeout_ns, seq] = t;
                               OpSpec op;
                               switch (kind) {
                                 case 0: op.kind = blocking ? OpKind::Read : OpKind::TryRead; break;
                                 case 3: op.kind = OpKind::Commit; break;
                                 case 4: op.kind = OpKind::Commit; break;
                                 case 5: op.kind = OpKind::Heartbeat; break;
                                 case 6: op.kind = OpKind::ReadAt; op.seq = seq; break;
                                 case 7: op.kind = OpKind::Detach; break;  // then attach again (below)
                                 default: op.kind = OpKind::Read; break;
                               }
                               // Journal: always a deadline (see the header); others: half of them.
                               if (op.kind == OpKind::Read && !blocking && (journal || kind == 2)) {
                                 op.timeout_ns = timeout_ns;
                               }
                               return op;
                             });
  const auto reads = gen::container<std::vector<OpSpec>>(gen::resize(kNominalSize, read));
  const std::uint32_t ops_max = params.ops_max;
  const auto sized_reads = gen::resize(static_cast<int>(ops_max), reads);
  const auto on_full = params.on_full ? gen::just(*params.on_full) : gen::element(OnFull::Block, OnFull::Drop);
  const auto capacity = params.capacity_slots ? gen::just(*params.capacity_slots)
                                              : gen::element<std::uint32_t>(1u, 2u, 4u);
  const auto parking = params.parking ? gen::just(*params.parking) : gen::element(true, false);
  const auto readers = params.readers ? gen::just(*params.readers) : gen::inRange<std::uint32_t>(1, kReadersMax + 1);
  // Gating graphs (SequencedSlots): each consumer may be gated on any set of lower-numbered ones.
  const auto gates = gen::container<std::vector<std::uint64_t>>(kReadersMax, gen::inRange<std::uint64_t>(0, 4));
  const LaneKind kind = params.kind;
  const auto scenario = gen::map(
      gen::tuple(on_full, capacity, parking, readers, gates, gen::resize(static_cast<int>(ops_max), writes),
                 gen::container<std::vector<std::vector<OpSpec>>>(kReadersMax, sized_reads), gen::inRange(0, 4),
                 gen::inRange(0, 6), gen::inRange<std::uint64_t>(1, 61)),
      [kind, ops_max](const std::tuple<OnFull, std::uint32_t, bool, std::uint32_t, std::vector<std::uint64_t>,
                                       std::vector<OpSpec>, std::vector<std::vector<OpSpec>>, int, int,
                                       std::uint64_t>& t) {
        Scenario s;
        s.kind = kind;
        s.on_full = std::get<0>(t);
        s.capacity_slots = std::get<1>(t);
        s.parking = std::get<2>(t);
        const std::uint32_t count = std::get<3>(t);
        s.producer = std::get<5>(t);
        if (s.producer.size() > ops_max) s.producer.resize(ops_max);
        s.producer.push_back(OpSpec{OpKind::Close, 0, kNoDeadline, 0});
        // Now and then a write (SequencedSlots: a claim) after the close: it must answer Closed.
        // SequencedSlots also closes with a claim outstanding, whose publish must answer Closed.
        if (kind == LaneKind::SequencedSlots && std::get<7>(t) == 3) {
          s.producer.back() = OpSpec{OpKind::ClaimClosePublish, 8, kNoDeadline, 0};
        } else if (const int after = std::get<7>(t); after == 1 || after == 2) {
          s.producer.push_back(OpSpec{after == 1 ? OpKind::TryWrite : OpKind::Write, 8, kNoDeadline, 0});
        }
        s.readers.assign(std::get<6>(t).begin(), std::get<6>(t).begin() + count);
        // Journal: half the scenarios name their readers (an A after X then resumes by name, JR-4),
        // and two thirds set a reader timeout of 1..60 ns (JR-10), of the order of the deadlines
        // above: the clock moves only when every actor waits, so a reader that waits or stays
        // behind with uncommitted reads is evicted, racing its own calls, detaches and attaches.
        // Half of those with a timeout (std::get<8>(t) / 2 == 2) also let the clock jump 1-3 times
        // in the middle of calls (scheduler.hpp, "Clock jumps"); derived from the values drawn
        // already, so every lane's scenario for a seed stays what it was apart from the jumps.
        if (kind == LaneKind::Journal) {
          s.named = std::get<8>(t) % 2 == 1;
          if (std::get<8>(t) / 2 != 0) s.reader_timeout_ns = std::get<9>(t);
          if (std::get<8>(t) / 2 == 2) s.clock_jumps = 1 + static_cast<std::uint32_t>(std::get<9>(t) % 3);
        }
        for (auto& ops : s.readers) {
          if (ops.size() > ops_max) ops.resize(ops_max);
          // A Journal detach is followed by an attach again (anonymous: a fresh start, JR-3).
          for (std::size_t i = 0; i < ops.size(); ++i) {
            if (ops[i].kind == OpKind::Detach) ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(++i), OpSpec{OpKind::Reattach, 0, kNoDeadline, 0});
          }
          ops.push_back(OpSpec{OpKind::Drain, 0, kNoDeadline, 0});
        }
        if (kind == LaneKind::SequencedSlots) {
          for (std::uint32_t i = 0; i < count; ++i) {
            s.gates.push_back(std::get<4>(t)[i] & ((std::uint64_t{1} << i) - 1));
          }
        }
        return s;
      });
  return scenario(Random(seed), kNominalSize);
}

std::vector<Scenario> simple_shrinks(const Scenario& s) {
  std::vector<Scenario> out;
  auto drop_ops = [&](std::size_t reader, bool producer) {
    const auto& ops = producer ? s.producer : s.readers[reader];
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == OpKind::Close || ops[i].kind == OpKind::ClaimClosePublish || ops[i].kind == OpKind::Drain ||
          ops[i].kind == OpKind::Reattach) {
        continue;
      }
      Scenario smaller = s;
      auto& list = producer ? smaller.producer : smaller.readers[reader];
      // A detach goes with the attach that follows it.
      const bool pair = ops[i].kind == OpKind::Detach && i + 1 < ops.size() && ops[i + 1].kind == OpKind::Reattach;
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(i), list.begin() + static_cast<std::ptrdiff_t>(i + (pair ? 2 : 1)));
      out.push_back(std::move(smaller));
    }
  };
  if (s.named) {
    Scenario smaller = s;
    smaller.named = false;
    out.push_back(std::move(smaller));
  }
  drop_ops(0, true);
  for (std::size_t r = 0; r < s.readers.size(); ++r) drop_ops(r, false);
  // One reader less: the last, unless someone is gated on it (masks name lower readers only).
  if (s.readers.size() > 1) {
    Scenario smaller = s;
    smaller.readers.pop_back();
    if (!smaller.gates.empty()) smaller.gates.pop_back();
    out.push_back(std::move(smaller));
  }
  if (s.capacity_slots > 1) {
    Scenario smaller = s;
    smaller.capacity_slots /= 2;
    out.push_back(std::move(smaller));
  }
  return out;
}

Scenario writes_then_drains(LaneKind kind, OnFull on_full, std::uint32_t capacity_slots, std::uint32_t count,
                            std::uint32_t readers, bool parking) {
  Scenario s;
  s.kind = kind;
  s.on_full = on_full;
  s.capacity_slots = capacity_slots;
  s.parking = parking;
  s.producer.assign(count, OpSpec{OpKind::Write, 16, kNoDeadline, 0});
  s.producer.push_back(OpSpec{OpKind::Close, 0, kNoDeadline, 0});
  s.readers.assign(readers, std::vector<OpSpec>{OpSpec{OpKind::Drain, 0, kNoDeadline, 0}});
  if (kind == LaneKind::SequencedSlots) s.gates.assign(readers, 0);
  return s;
}

}  // namespace indexbus::sim::ring

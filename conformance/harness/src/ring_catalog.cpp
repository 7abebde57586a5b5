// The ring-kind part of the catalog: Journal (JR-*), SequencedSlots (SS-*) and FanoutBroadcast
// (FB-*) cases in step mode, each a fixed scenario that reads like the rule it checks, plus seeded
// random interleavings per kind and policy. Every scenario ends with close and a full drain by
// every reader (derived from the model), so the final counters cover the accounting rules.
#include <cassert>
#include <map>
#include <random>

#include "indexbus/harness/ring_step.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside std::variant's move constructor when a step holding
// a model operation is pushed (a known false positive of its inliner with variants of vectors);
// clang and the sanitizers see nothing. Silenced for this file of data only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace indexbus::harness {
namespace {

using spec::Bytes;
using L = Level;
constexpr OnFull B = OnFull::Block;
constexpr OnFull D = OnFull::Drop;

Bytes entry_bytes(std::uint64_t n, std::uint32_t size) {
  Bytes out(size);
  for (std::uint32_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((n * 131 + i * 7 + 3) & 0xff);
  return out;
}

// A script of one kind: steps in order, with the entry counter for distinct payloads.
template <typename Scenario>
struct Script {
  using Op = std::decay_t<decltype(std::get<0>(Scenario{}.steps[0]).op)>;
  Scenario s;
  std::uint64_t written = 0;
  Script& op(std::size_t agent, Op o) {
    s.steps.push_back(RingOpStep<Op>{agent, std::move(o)});
    return *this;
  }
  template <typename Make>
  Script& repeat(std::uint32_t n, Make make) {
    for (std::uint32_t i = 0; i < n; ++i) make(*this);
    return *this;
  }
  Script& kill(std::size_t agent) {
    s.steps.push_back(KillStep{agent});
    return *this;
  }
  Script& restart(std::size_t agent) {
    s.steps.push_back(RestartStep{agent});
    return *this;
  }
  Script& refused_attach(std::size_t agent, RingRole role) {
    s.steps.push_back(RingAttachStep{agent, std::move(role), true});
    return *this;
  }
  // A blocking operation left in flight while the next steps run, until await(agent).
  Script& start(std::size_t agent, Op o, std::uint64_t timeout_ns) {
    s.steps.push_back(RingStartStep<Op>{agent, std::move(o), timeout_ns});
    return *this;
  }
  Script& await(std::size_t agent) {
    s.steps.push_back(RingAwaitStep{agent});
    return *this;
  }
  Bytes next(std::uint32_t size = 8) { return entry_bytes(written++, size); }
};

// ---- FanoutBroadcast: agent 0 producer, agent 1 + i consumer i ----

using FScript = Script<FanoutScenario>;
FScript fanout(OnFull on_full, std::uint32_t capacity, std::uint32_t consumers = 2) {
  FScript f;
  f.s.config = spec::FanoutConfig{capacity, 8, on_full, consumers};
  f.s.roles.push_back({{"producer", 0}});
  for (std::uint32_t i = 0; i < consumers; ++i) f.s.roles.push_back({{"consumer", i}});
  return f;
}
FScript& fw(FScript& f, std::uint32_t n = 1, std::uint32_t size = 8) {
  for (std::uint32_t i = 0; i < n; ++i) f.op(0, spec::FanoutTryWrite{f.next(size)});
  return f;
}
FScript& fr(FScript& f, std::uint32_t consumer, std::uint32_t n = 1) {
  for (std::uint32_t i = 0; i < n; ++i) f.op(1 + consumer, spec::FanoutTryRead{consumer});
  return f;
}
FanoutScenario drained(FScript f) {
  spec::FanoutState state = spec::initial_state(f.s.config);
  for (const auto& step : f.s.steps) {
    if (const auto* o = std::get_if<RingOpStep<spec::FanoutOp>>(&step)) state = spec::step(state, o->op).first;
  }
  f.op(0, spec::FanoutClose{});
  state = spec::step(state, spec::FanoutClose{}).first;
  for (std::uint32_t c = 0; c < f.s.config.consumer_count; ++c) {
    for (std::uint64_t i = 0; i < state.written + 2; ++i) {  // bounded: one entry or Lost per read
      auto [next, result] = spec::step(state, spec::FanoutTryRead{c});
      f.op(1 + c, spec::FanoutTryRead{c});
      state = std::move(next);
      if (std::get<spec::ReadOutcome>(result).status == ReadStatus::Closed) break;
    }
    f.op(1 + c, spec::FanoutRead{c});  // Closed at once, not Timeout
  }
  return std::move(f.s);
}

// ---- SequencedSlots: agent 0 producer, agent 1 + i consumer i ----

using SScript = Script<SequencedScenario>;
SScript sequenced(OnFull on_full, std::uint32_t capacity, std::vector<std::uint64_t> gated_on) {
  SScript f;
  f.s.config = spec::SequencedConfig{capacity, 8, on_full, gated_on};
  f.s.roles.push_back({{"producer", 0}});
  for (std::uint32_t i = 0; i < gated_on.size(); ++i) f.s.roles.push_back({{"consumer", i}});
  return f;
}
SScript& sw(SScript& f, std::uint32_t n = 1) {  // claim, then publish
  for (std::uint32_t i = 0; i < n; ++i) f.op(0, spec::SeqTryClaim{}).op(0, spec::SeqPublish{f.next()});
  return f;
}
SScript& sr(SScript& f, std::uint32_t consumer, std::uint32_t n = 1) {
  for (std::uint32_t i = 0; i < n; ++i) f.op(1 + consumer, spec::SeqTryRead{consumer});
  return f;
}
SequencedScenario drained(SScript f) {
  spec::SequencedState state = spec::sequenced_initial_state(f.s.config);
  for (const auto& step : f.s.steps) {
    if (const auto* o = std::get_if<RingOpStep<spec::SequencedOp>>(&step)) state = spec::sequenced_step(state, o->op).first;
  }
  f.op(0, spec::SeqClose{});
  state = spec::sequenced_step(state, spec::SeqClose{}).first;
  // Consumers in index order drain fully only if none is gated on a later one: take rounds.
  const std::uint32_t n = f.s.config.consumer_count();
  std::vector<bool> done(n, false);
  for (std::uint64_t round = 0; round < (state.written + 2) * n; ++round) {
    bool progress = false;
    for (std::uint32_t c = 0; c < n; ++c) {
      if (done[c]) continue;
      auto [next, result] = spec::sequenced_step(state, spec::SeqTryRead{c});
      const ReadStatus status = std::get<spec::ReadOutcome>(result).status;
      if (status == ReadStatus::Empty) continue;
      f.op(1 + c, spec::SeqTryRead{c});
      state = std::move(next);
      progress = true;
      if (status == ReadStatus::Closed) {
        done[c] = true;
        f.op(1 + c, spec::SeqRead{c});
      }
    }
    if (!progress) break;
  }
  return std::move(f.s);
}

// ---- Journal: agent 0 writer, agents 1.. attach readers with JournalAttach ----

using JScript = Script<JournalScenario>;
JScript journal(OnFull on_full, std::uint32_t capacity, std::uint32_t readers = 2, std::size_t reader_agents = 1,
                std::uint64_t reader_timeout_ns = 0) {
  JScript f;
  f.s.config = spec::JournalConfig{capacity, 8, on_full, readers, reader_timeout_ns};
  f.s.roles.push_back({{"producer", 0}});
  for (std::size_t a = 0; a < reader_agents; ++a) f.s.roles.push_back({});
  return f;
}
JScript& jw(JScript& f, std::uint32_t n = 1, std::uint32_t size = 8) {
  for (std::uint32_t i = 0; i < n; ++i) f.op(0, spec::JournalTryWrite{f.next(size)});
  return f;
}
JScript& jr(JScript& f, std::size_t agent, std::uint32_t reader, std::uint32_t n = 1) {
  for (std::uint32_t i = 0; i < n; ++i) f.op(agent, spec::JournalTryRead{reader});
  return f;
}
// Close, then every reader with a live handle drains to Closed and commits.
JournalScenario drained(JScript f, std::size_t reader_agent = 1) {
  spec::JournalState state = spec::initial_state(f.s.config);
  std::map<std::size_t, spec::JournalOp> awaited;  // per agent: what its await takes, as the runner steps it
  for (const auto& step : f.s.steps) {
    if (const auto* o = std::get_if<RingOpStep<spec::JournalOp>>(&step)) state = spec::step(state, o->op).first;
    if (const auto* start = std::get_if<RingStartStep<spec::JournalOp>>(&step)) {
      awaited.insert_or_assign(start->agent, start->op);
      if (auto split = journal_in_flight_split(state, start->op)) {
        state = spec::step(state, split->first).first;
        awaited.insert_or_assign(start->agent, split->second);
      }
    }
    if (const auto* await = std::get_if<RingAwaitStep>(&step)) state = spec::step(state, awaited.at(await->agent)).first;
  }
  f.op(0, spec::JournalClose{});
  state = spec::step(state, spec::JournalClose{}).first;
  for (std::uint32_t r = 0; r < state.readers.size(); ++r) {
    if (!state.readers[r].has_handle || state.readers[r].state != spec::JournalReaderState::Attached) continue;
    for (std::uint64_t i = 0; i < state.written + 2; ++i) {
      auto [next, result] = spec::step(state, spec::JournalTryRead{r});
      f.op(reader_agent, spec::JournalTryRead{r});
      state = std::move(next);
      if (std::get<spec::ReadOutcome>(result).status == ReadStatus::Closed) break;
    }
    f.op(reader_agent, spec::JournalRead{r});
    f.op(reader_agent, spec::JournalCommit{r});
    state = spec::step(state, spec::JournalCommit{r}).first;
  }
  return std::move(f.s);
}

// ---- Random interleavings: per-agent scripts merged by the seeded scheduler ----

template <typename Step>
std::vector<Step> merge(std::vector<std::vector<Step>> scripts, std::mt19937_64& rng) {
  std::vector<std::size_t> next(scripts.size(), 0);
  std::size_t remaining = 0;
  for (const auto& script : scripts) remaining += script.size();
  std::vector<Step> merged;
  while (remaining > 0) {  // one step per pass: bounded by the total
    std::vector<std::size_t> ready;
    for (std::size_t a = 0; a < scripts.size(); ++a) {
      if (next[a] < scripts[a].size()) ready.push_back(a);
    }
    const std::size_t a = ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng)];
    merged.push_back(scripts[a][next[a]++]);
    --remaining;
  }
  return merged;
}

FanoutScenario random_fanout(std::mt19937_64& rng, OnFull on_full, std::uint32_t capacity, std::uint32_t ops) {
  FScript f = fanout(on_full, capacity, 2);
  using S = FanoutScenario;
  std::vector<std::vector<decltype(S{}.steps)::value_type>> scripts(3);
  std::uniform_int_distribution<std::uint32_t> pct(0, 99);
  for (std::uint32_t i = 0; i < ops; ++i) {
    const std::uint32_t p = pct(rng);
    if (p < 50) {
      scripts[0].push_back(RingOpStep<spec::FanoutOp>{0, p < 40 ? spec::FanoutOp{spec::FanoutTryWrite{f.next(pct(rng) % 9)}}
                                                                 : spec::FanoutOp{spec::FanoutWrite{f.next(pct(rng) % 9)}}});
    } else {
      const std::uint32_t c = p < 75 ? 0 : 1;
      scripts[1 + c].push_back(RingOpStep<spec::FanoutOp>{1 + c, p % 10 == 0 ? spec::FanoutOp{spec::FanoutRead{c}}
                                                                             : spec::FanoutOp{spec::FanoutTryRead{c}}});
    }
  }
  f.s.steps = merge(std::move(scripts), rng);
  return drained(std::move(f));
}

SequencedScenario random_sequenced(std::mt19937_64& rng, OnFull on_full, std::uint32_t capacity, std::uint32_t ops) {
  // A diamond: consumers 1 and 2 after 0, consumer 3 after both (SS-4).
  SScript f = sequenced(on_full, capacity, {0, 1, 1, 6});
  using S = SequencedScenario;
  std::vector<std::vector<decltype(S{}.steps)::value_type>> scripts(5);
  std::uniform_int_distribution<std::uint32_t> pct(0, 99);
  for (std::uint32_t i = 0; i < ops; ++i) {
    const std::uint32_t p = pct(rng);
    if (p < 40) {
      scripts[0].push_back(RingOpStep<spec::SequencedOp>{0, p < 35 ? spec::SequencedOp{spec::SeqTryClaim{}} : spec::SequencedOp{spec::SeqClaim{}}});
      scripts[0].push_back(RingOpStep<spec::SequencedOp>{0, spec::SeqPublish{f.next(pct(rng) % 9)}});
    } else {
      const std::uint32_t c = p % 4;
      scripts[1 + c].push_back(RingOpStep<spec::SequencedOp>{1 + c, spec::SeqTryRead{c}});
    }
  }
  f.s.steps = merge(std::move(scripts), rng);
  // A claim that finds no room (Full/Timeout) leaves publish without a claim: drop such publishes.
  spec::SequencedState state = spec::sequenced_initial_state(f.s.config);
  decltype(f.s.steps) kept;
  for (auto& step : f.s.steps) {
    const auto& o = std::get<RingOpStep<spec::SequencedOp>>(step);
    if (!spec::sequenced_op_allowed(state, o.op)) continue;
    state = spec::sequenced_step(state, o.op).first;
    kept.push_back(step);
  }
  f.s.steps = std::move(kept);
  return drained(std::move(f));
}

JournalScenario random_journal(std::mt19937_64& rng, OnFull on_full, std::uint32_t capacity, std::uint32_t ops) {
  JScript f = journal(on_full, capacity, 2, 1);
  using S = JournalScenario;
  std::vector<std::vector<decltype(S{}.steps)::value_type>> scripts(2);
  scripts[1].push_back(RingOpStep<spec::JournalOp>{1, spec::JournalAttach{"a"}});
  scripts[1].push_back(RingOpStep<spec::JournalOp>{1, spec::JournalAttach{}});
  std::uniform_int_distribution<std::uint32_t> pct(0, 99);
  for (std::uint32_t i = 0; i < ops; ++i) {
    const std::uint32_t p = pct(rng);
    if (p < 45) {
      scripts[0].push_back(RingOpStep<spec::JournalOp>{0, spec::JournalTryWrite{f.next(pct(rng) % 9)}});
    } else {
      const std::uint32_t r = p % 2;
      spec::JournalOp op = p < 80 ? spec::JournalOp{spec::JournalTryRead{r}}
                           : p < 92 ? spec::JournalOp{spec::JournalCommit{r}}
                                    : spec::JournalOp{spec::JournalReadAt{r, f.written > 3 ? f.written - 3 + p % 5 : p % 5}};
      scripts[1].push_back(RingOpStep<spec::JournalOp>{1, std::move(op)});
    }
  }
  f.s.steps = merge(std::move(scripts), rng);
  return drained(std::move(f));
}

}  // namespace

void add_ring_cases(std::vector<CaseDef>& cases) {
  auto add = [&](std::string id, L level, std::vector<std::string> rules, std::string summary,
                 std::function<RingScenario(std::mt19937_64&)> make) {
    CaseDef def{std::move(id), level, std::move(rules), std::move(summary), {}, {}, {}, std::move(make), {}};
    cases.push_back(std::move(def));
  };

  // ---- FanoutBroadcast ----
  add("Required.Fanout.Block.EveryConsumerGetsEveryEntry", L::Required, {"FB-3", "FB-5", "FB-10"},
      "three entries, two consumers reading at their own pace: each gets all three in order", [](std::mt19937_64&) {
        FScript f = fanout(B, 4);
        fw(f, 2);
        fr(f, 0, 3);
        fw(f);
        fr(f, 1, 4);
        fr(f, 0);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.Block.SlowestConsumerGatesCapacityOne", L::Required, {"FB-4", "FB-6", "FB-11", "FB-12"},
      "capacity 1: Full and a write Timeout until the slowest consumer has read", [](std::mt19937_64&) {
        FScript f = fanout(B, 1);
        fw(f, 2);
        f.op(0, spec::FanoutWrite{f.next()});
        fr(f, 0);
        fw(f);
        fr(f, 1);
        fw(f);
        f.op(1, spec::FanoutRead{0});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.Drop.LappedConsumerExactLoss", L::Required, {"FB-7", "FB-8", "FB-10"},
      "Drop, capacity 2: consumer 0 keeps up, consumer 1 is lapped and gets Lost 3, then the oldest retained",
      [](std::mt19937_64&) {
        FScript f = fanout(D, 2);
        for (int i = 0; i < 5; ++i) fr(fw(f), 0);
        fr(f, 1, 3);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.Payload.TooLargeChangesNothing", L::Required, {"FB-2", "FB-11"},
      "a payload one byte over the slot is TooLarge; an empty one is an entry", [](std::mt19937_64&) {
        FScript f = fanout(B, 2);
        fw(f, 1, 9);
        fw(f, 1, 0);
        fw(f, 1, 8);
        fr(f, 0, 2);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.Close.EachConsumerDrainsThenClosed", L::Required, {"FB-9", "FB-10"},
      "closed with entries pending: writes Closed, each consumer drains, then Closed at once", [](std::mt19937_64&) {
        FScript f = fanout(B, 4);
        fw(f, 3);
        f.op(0, spec::FanoutClose{});
        fw(f);
        fr(f, 0, 1);
        f.op(1, spec::FanoutRead{0});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.Attach.SecondConsumerRefused", L::Required, {"FB-1"},
      "a fourth process cannot attach consumer 1 (nor the producer) while live processes hold them", [](std::mt19937_64&) {
        FScript f = fanout(B, 2);
        f.s.roles.push_back({});
        fw(f);
        f.refused_attach(3, {"consumer", 1}).refused_attach(3, {"producer", 0});
        fr(f, 1);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Fanout.ProcessDeath.ConsumerKilledThenReattached", L::Required, {"FB-1", "FB-6", "FB-10"},
      "SIGKILL of consumer 1: its cursor keeps gating; a new process takes it over and resumes", [](std::mt19937_64&) {
        FScript f = fanout(B, 2);
        fw(f, 2);
        fr(f, 1);
        f.kill(2);
        fr(f, 0, 2);
        fw(f, 2);  // Ok, then Full: dead consumer 1 still gates (FB-6)
        f.restart(2);
        fr(f, 1, 2);
        return RingScenario{drained(std::move(f))};
      });
  for (const std::uint32_t capacity : {1u, 4u}) {
    for (const OnFull on_full : {B, D}) {
      const std::string policy = on_full == B ? "Block" : "Drop";
      add("Required.Fanout.Interleaving." + policy + ".Capacity" + std::to_string(capacity), L::Required,
          {"FB-3", "FB-4", "FB-5", "FB-7", "FB-8", "FB-9", "FB-10", "FB-11", "FB-12"},
          "seeded random interleaving of a producer and two consumers, then close and drain",
          [=](std::mt19937_64& rng) { return RingScenario{random_fanout(rng, on_full, capacity, 120)}; });
    }
  }

  // ---- SequencedSlots ----
  add("Required.SequencedSlots.Block.ClaimPublishInOrder", L::Required, {"SS-2", "SS-5", "SS-9", "SS-11"},
      "claim then publish, three times; the consumer reads them exactly, in order", [](std::mt19937_64&) {
        SScript f = sequenced(B, 4, {0});
        sw(f, 3);
        sr(f, 0, 4);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Claim.TwiceSameSlotTooLargeKeepsClaim", L::Required, {"SS-2", "SS-12"},
      "a second claim returns the same sequence; a too-large publish keeps the claim", [](std::mt19937_64&) {
        SScript f = sequenced(B, 2, {0});
        f.op(0, spec::SeqTryClaim{}).op(0, spec::SeqTryClaim{}).op(0, spec::SeqPublish{entry_bytes(99, 9)});
        f.op(0, spec::SeqPublish{f.next()});
        sr(f, 0, 2);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Gating.PipelineOrder", L::Required, {"SS-3", "SS-4", "SS-5", "SS-6"},
      "consumer 1 gated on consumer 0: Empty until 0 has read; the producer waits only for the leaf",
      [](std::mt19937_64&) {
        SScript f = sequenced(B, 2, {0, 1});
        sw(f, 2);
        sr(f, 1);     // Empty: gated
        sr(f, 0, 2);  // both
        f.op(0, spec::SeqTryClaim{});  // Full: the leaf (1) has read nothing
        sr(f, 1);
        sw(f);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Block.CapacityOneFullAndTimeout", L::Required, {"SS-6", "SS-7", "SS-12"},
      "capacity 1: try_claim Full and claim Timeout until the entry is read; nothing lost", [](std::mt19937_64&) {
        SScript f = sequenced(B, 1, {0});
        sw(f);
        f.op(0, spec::SeqTryClaim{}).op(0, spec::SeqClaim{});
        sr(f, 0);
        f.op(0, spec::SeqClaim{}).op(0, spec::SeqPublish{f.next()});
        sr(f, 0);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Drop.ClaimOverwritesExactLoss", L::Required, {"SS-8", "SS-11"},
      "Drop, capacity 2: five entries unread; the consumer gets Lost 3, then entries 3 and 4", [](std::mt19937_64&) {
        SScript f = sequenced(D, 2, {0, 1});
        sw(f, 5);
        sr(f, 0, 3);
        sr(f, 1, 3);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Close.AbandonsClaimAndDrains", L::Required, {"SS-10"},
      "close with a claim outstanding: the claim is abandoned, publish Closed, every stage drains",
      [](std::mt19937_64&) {
        SScript f = sequenced(B, 4, {0, 1});
        sw(f, 2);
        f.op(0, spec::SeqTryClaim{}).op(0, spec::SeqClose{}).op(0, spec::SeqPublish{f.next()}).op(0, spec::SeqTryClaim{});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.Attach.SecondConsumerRefused", L::Required, {"SS-1"},
      "another process cannot attach consumer 0 or the producer while live processes hold them", [](std::mt19937_64&) {
        SScript f = sequenced(B, 2, {0});
        f.s.roles.push_back({});
        sw(f);
        f.refused_attach(2, {"consumer", 0}).refused_attach(2, {"producer", 0});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.SequencedSlots.ProcessDeath.ConsumerKilledThenReattached", L::Required, {"SS-1", "SS-6", "SS-11"},
      "SIGKILL of the consumer; its cursor keeps gating; a new process resumes at it", [](std::mt19937_64&) {
        SScript f = sequenced(B, 2, {0});
        sw(f, 2);
        sr(f, 0);
        f.kill(1);
        sw(f);
        f.op(0, spec::SeqTryClaim{});  // Full
        f.restart(1);
        sr(f, 0, 2);
        f.op(0, spec::SeqTryClaim{}).op(0, spec::SeqPublish{f.next()});
        return RingScenario{drained(std::move(f))};
      });
  for (const std::uint32_t capacity : {1u, 4u}) {
    for (const OnFull on_full : {B, D}) {
      const std::string policy = on_full == B ? "Block" : "Drop";
      add("Required.SequencedSlots.Interleaving." + policy + ".Capacity" + std::to_string(capacity), L::Required,
          {"SS-2", "SS-4", "SS-5", "SS-6", "SS-7", "SS-8", "SS-9", "SS-10", "SS-11", "SS-12"},
          "seeded random interleaving of a producer and a diamond of four consumers, then close and drain",
          [=](std::mt19937_64& rng) { return RingScenario{random_sequenced(rng, on_full, capacity, 120)}; });
    }
  }

  // ---- Journal ----
  add("Required.Journal.Block.FreshReaderAtTailInOrder", L::Required, {"JR-1", "JR-3", "JR-5", "JR-12"},
      "entries written before the attach are not seen; later ones are, in order, exactly", [](std::mt19937_64&) {
        JScript f = journal(B, 4);
        jw(f, 2);
        f.op(1, spec::JournalAttach{});
        jr(f, 1, 0);
        jw(f, 1, 0);
        jw(f, 1, 9);
        jw(f, 2);
        jr(f, 1, 0, 3);
        f.op(1, spec::JournalCommit{0});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Block.WriterWaitsForCommit", L::Required, {"JR-5", "JR-9"},
      "capacity 2: the writer is Full until the reader commits, not merely reads", [](std::mt19937_64&) {
        JScript f = journal(B, 2);
        f.op(1, spec::JournalAttach{});
        jw(f, 3);
        f.op(0, spec::JournalWrite{f.next()});
        jr(f, 1, 0, 2);
        jw(f);
        f.op(1, spec::JournalCommit{0});
        jw(f, 2);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Drop.LostThenOldestRetained", L::Required, {"JR-6", "JR-8"},
      "Drop, capacity 2: five entries unread; Lost 3, then entries 3 and 4", [](std::mt19937_64&) {
        JScript f = journal(D, 2);
        f.op(1, spec::JournalAttach{});
        jw(f, 5);
        jr(f, 1, 0, 3);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.ReadAt.ReplayRetainedWindow", L::Required, {"JR-6", "JR-7"},
      "read_at: overwritten Evicted, retained Entry, not yet written NotYet; the read position stays",
      [](std::mt19937_64&) {
        JScript f = journal(D, 2);
        f.op(1, spec::JournalAttach{});
        jw(f, 3);
        for (std::uint64_t seq = 0; seq < 4; ++seq) f.op(1, spec::JournalReadAt{0, seq});
        jr(f, 1, 0, 2);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Named.DetachThenResumeAtCommit", L::Required, {"JR-2", "JR-4", "JR-5"},
      "a named reader commits 2 of 3, detaches, re-attaches by name and resumes at 2; the name is exclusive",
      [](std::mt19937_64&) {
        JScript f = journal(B, 4, 2, 2);
        f.op(1, spec::JournalAttach{"audit"});
        f.op(2, spec::JournalAttach{"audit"});  // RoleTaken
        jw(f, 3);
        jr(f, 1, 0, 2);
        f.op(1, spec::JournalCommit{0});
        jr(f, 1, 0);
        f.op(1, spec::JournalDetach{0});
        f.op(1, spec::JournalAttach{"audit"});
        jr(f, 1, 0, 2);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Attach.NoFreeReaderAndBadName", L::Required, {"JR-2"},
      "one reader record: a second attach gets NoFreeReader; a 33-byte name BadReaderName", [](std::mt19937_64&) {
        JScript f = journal(B, 2, 1, 1);
        f.op(1, spec::JournalAttach{});
        f.op(1, spec::JournalAttach{std::string(33, 'n')});
        f.op(1, spec::JournalAttach{"x"});
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Eviction.SilentReaderEvicted", L::Required, {"JR-10", "JR-9"},
      "reader timeout 250 ms: after 600 ms of silence the blocked writer evicts the silent reader", [](std::mt19937_64&) {
        // Real time runs on between steps: the margins (250 ms timeout, 600 ms of silence) are
        // far above a step's round trip, even on a loaded machine.
        JScript f = journal(B, 2, 2, 1, 250'000'000);
        f.op(1, spec::JournalAttach{}).op(1, spec::JournalAttach{});
        jw(f, 2);
        jr(f, 1, 0, 2);
        f.op(1, spec::JournalCommit{0});
        f.op(1, spec::JournalAdvanceTime{600'000'000});
        f.op(1, spec::JournalHeartbeat{0});
        jw(f);                                    // reader 1 holds it back, silent: evicted, Ok
        jr(f, 1, 1);                              // Evicted
        f.op(1, spec::JournalHeartbeat{1});       // false
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Eviction.BlockingReadHeartbeatsAtItsStart", L::Required, {"JR-10", "JR-9"},
      "capacity 1, reader timeout 250 ms: a reader waits in a blocking read with entry 0 read, not committed; "
      "600 ms on, the blocked writer evicts it and writes, and the read reports Evicted",
      [](std::mt19937_64&) {
        // JR-10: a read's heartbeat is the one of its start, not refreshed while it waits. The
        // read is left in flight (2 s deadline) across 600 ms of the model's clock and the
        // writer's blocking write (500 ms deadline): the waiting reader is silent and holds the
        // writer back, so the write evicts it and succeeds. A reader that heartbeats while it
        // waits is never evicted: that write times out. Margins as SilentReaderEvicted's, far
        // above a step's round trip; the runner makes the case INCONCLUSIVE if the agent began
        // the read only after the steps that follow its start.
        JScript f = journal(B, 1, 1, 1, 250'000'000);
        f.s.op_timeout_ns = 500'000'000;  // the write's (the drain's blocking reads find Closed at once)
        f.op(1, spec::JournalAttach{});
        jw(f);
        jr(f, 1, 0);                                      // Entry 0, not committed
        f.start(1, spec::JournalRead{0}, 2'000'000'000);  // waits: nothing to read
        f.op(0, spec::JournalAdvanceTime{600'000'000});
        f.op(0, spec::JournalWrite{f.next()});            // the reader holds it back, silent: evicted, Ok
        f.await(1);                                       // Evicted
        f.op(1, spec::JournalHeartbeat{0});               // false
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.Close.DrainThenClosed", L::Required, {"JR-11"},
      "closed with entries pending: writes Closed, the reader drains, then Closed at once", [](std::mt19937_64&) {
        JScript f = journal(B, 4);
        f.op(1, spec::JournalAttach{});
        jw(f, 2);
        f.op(0, spec::JournalClose{});
        jw(f);
        return RingScenario{drained(std::move(f))};
      });
  add("Required.Journal.ProcessDeath.NamedReaderKilledThenResumes", L::Required, {"JR-4", "JR-8"},
      "Drop: a named reader commits, dies with reads uncommitted; a new process attaches by name and resumes at the commit",
      [](std::mt19937_64&) {
        JScript f = journal(D, 4, 2, 1);
        f.op(1, spec::JournalAttach{"svc"});
        jw(f, 3);
        jr(f, 1, 0, 1);
        f.op(1, spec::JournalCommit{0});
        jr(f, 1, 0, 1);
        f.kill(1);
        jw(f, 1);
        f.restart(1);
        f.op(1, spec::JournalAttach{"svc"});
        jr(f, 1, 0, 3);
        return RingScenario{drained(std::move(f))};
      });
  for (const std::uint32_t capacity : {1u, 4u}) {
    for (const OnFull on_full : {B, D}) {
      const std::string policy = on_full == B ? "Block" : "Drop";
      add("Required.Journal.Interleaving." + policy + ".Capacity" + std::to_string(capacity), L::Required,
          {"JR-1", "JR-3", "JR-5", "JR-6", "JR-7", "JR-8", "JR-9", "JR-11", "JR-12"},
          "seeded random interleaving of a writer and two readers (one named), then close and drain",
          [=](std::mt19937_64& rng) { return RingScenario{random_journal(rng, on_full, capacity, 120)}; });
    }
  }
}

}  // namespace indexbus::harness

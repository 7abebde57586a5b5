#include "indexbus/spec/rules.hpp"


namespace indexbus::spec {
namespace {

// Titles are the headings of spec/v1-semantics.md (rules_test.cpp compares them).
// A plain array: its size follows the list, so adding a rule is one line.
constexpr Rule kRules[] = {
    {"REG-1", "Exclusive creation"},
    {"REG-2", "Open checks the file before mapping it"},
    {"REG-3", "Ready last, bounded wait, stale creator"},
    {"REG-4", "Header validated field by field"},
    {"REG-5", "Lane descriptor limits"},
    {"REG-6", "Checksum"},
    {"REG-7", "Creation permissions"},
    {"REG-8", "Version compatibility"},
    {"REG-9", "One error per field"},
    {"REG-10", "Immutable once Ready"},
    {"REG-11", "Lane state consistent at quiescence"},
    {"REG-12", "Lane block placement"},
    {"EV-1", "One producer, one consumer"},
    {"EV-2", "Payload size and TooLarge"},
    {"EV-3", "Sequence numbers and entry length"},
    {"EV-4", "FIFO order, each entry at most once"},
    {"EV-5", "Visibility of published entries"},
    {"EV-6", "Block: Full and Timeout"},
    {"EV-7", "Block never loses or overwrites unread entries"},
    {"EV-8", "Drop: exact Lost count, then oldest retained entry"},
    {"EV-9", "Entries are exact and untorn"},
    {"EV-10", "Close, drain, Closed"},
    {"EV-11", "Counters and accounting"},
    {"EV-12", "Drop never refuses; it overwrites the oldest"},
    {"EV-13", "Empty and read Timeout"},
    {"EV-14", "Refusals change nothing"},
    {"EV-15", "Bounded waits"},
    {"EV-16", "Reattach resumes the cursors"},
    {"FB-1", "One producer, N consumers by index"},
    {"FB-2", "Payload size and TooLarge"},
    {"FB-3", "Every consumer receives every entry, in order"},
    {"FB-4", "Block: the slowest consumer gates the producer"},
    {"FB-5", "Block never loses an entry"},
    {"FB-6", "Every consumer gates from creation"},
    {"FB-7", "Drop: exact Lost count per consumer, then oldest retained entry"},
    {"FB-8", "Drop: a slow consumer never slows anyone"},
    {"FB-9", "Close, drain, Closed, per consumer"},
    {"FB-10", "Counters, Empty and read Timeout"},
    {"FB-11", "Refusals change nothing"},
    {"FB-12", "Bounded waits"},
    {"SS-1", "One producer, consumers by index"},
    {"SS-2", "Claim, then publish, written once"},
    {"SS-3", "Gating graph fixed and acyclic"},
    {"SS-4", "Gated reads"},
    {"SS-5", "Each consumer in order, each entry at most once"},
    {"SS-6", "Block: the producer waits for the leaves"},
    {"SS-7", "Block never loses or overwrites unfinished entries"},
    {"SS-8", "Drop: a claim overwrites the oldest, exact Lost"},
    {"SS-9", "Entries are exact and untorn"},
    {"SS-10", "Close, drain, Closed"},
    {"SS-11", "Counters and accounting"},
    {"SS-12", "Refusals and bounded waits"},
    {"JR-1", "Entries, sequence numbers and TooLarge"},
    {"JR-2", "Reader records and names"},
    {"JR-3", "A fresh reader starts at the tail"},
    {"JR-4", "Attach by name resumes; detach keeps the record"},
    {"JR-5", "In-order reads and commit"},
    {"JR-6", "The retained window"},
    {"JR-7", "Replay with read_at"},
    {"JR-8", "Lost: exact count, then the oldest retained entry"},
    {"JR-9", "Block: the writer waits for the slowest attached reader"},
    {"JR-10", "Liveness: heartbeats and eviction"},
    {"JR-11", "Close, drain, Closed"},
    {"JR-12", "Entries are exact and untorn"},
    {"RT-1", "One input, 1 to 16 outputs"},
    {"RT-2", "RoundRobin"},
    {"RT-3", "KeyHash: the key and its hash"},
    {"RT-4", "Key bytes past the payload read as zero"},
    {"RT-5", "Broadcast"},
    {"RT-6", "Input order on every output, each entry once"},
    {"RT-7", "Block outputs: the router holds one entry and waits"},
    {"RT-8", "Drop outputs: the router never waits"},
    {"RT-9", "A Lost on the input is counted, not forwarded"},
    {"RT-10", "Close propagates to every output"},
    {"RT-11", "One step, bounded work, bounded memory"},
    {"MG-1", "1 to 16 inputs, one output"},
    {"MG-2", "One head per input"},
    {"MG-3", "RoundRobin: strict cyclic order"},
    {"MG-4", "Sequence: emit only when every open input has a head"},
    {"MG-5", "Sequence: smallest key, ties by input index"},
    {"MG-6", "Arrival: any ready head, input order kept, starvation bounded by N"},
    {"MG-7", "Output backpressure and Drop output"},
    {"MG-8", "A Lost on an input is counted, not a turn"},
    {"MG-9", "Close propagates when every input is closed"},
    {"MG-10", "One step, bounded work, bounded memory"},
};

}  // namespace

std::span<const Rule> all_rules() noexcept { return kRules; }

const Rule* find_rule(std::string_view id) noexcept {
  for (const Rule& rule : kRules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

}  // namespace indexbus::spec

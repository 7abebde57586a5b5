#include "indexbus/sim/explorer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace indexbus::sim {

const char* to_string(StrategyKind kind) noexcept {
  switch (kind) {
    case StrategyKind::Random: return "random";
    case StrategyKind::Pct: return "pct";
    case StrategyKind::Exhaustive: return "exhaustive";
  }
  return "?";
}

std::optional<StrategyKind> parse_strategy(std::string_view text) noexcept {
  if (text == "random") return StrategyKind::Random;
  if (text == "pct") return StrategyKind::Pct;
  if (text == "exhaustive") return StrategyKind::Exhaustive;
  return std::nullopt;
}

std::string source_of(const Where& where) {
  const char* file = where.file;
  if (file == nullptr || *file == '\0') return "";
  const char* slash = std::strrchr(file, '/');
  return std::string(slash != nullptr ? slash + 1 : file) + ":" + std::to_string(where.line);
}

std::string render_table(const std::vector<TableRow>& rows) {
  constexpr std::size_t kColumns = 10;
  const std::array<std::string, kColumns> headers{"step", "ns",          "actor",  "operation",
                                                  "access", "word",     "value",  "read from (weak memory)",
                                                  "source", "model state (where it changed)"};
  auto cells = [](const TableRow& r) {
    return std::array<std::string, kColumns>{std::to_string(r.step), std::to_string(r.now_ns), r.actor, r.op, r.access,
                                             r.word, r.value, r.read_from, r.source, r.model};
  };
  // The read-from column only where some load has one (not under --memory sc).
  bool any_read_from = false;
  for (const TableRow& r : rows) any_read_from = any_read_from || !r.read_from.empty();
  std::array<std::size_t, kColumns> width{};
  for (std::size_t c = 0; c < kColumns; ++c) width[c] = headers[c].size();
  for (const TableRow& r : rows) {
    const auto row = cells(r);
    for (std::size_t c = 0; c + 1 < kColumns; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::array<std::string, kColumns>& row) {
    for (std::size_t c = 0; c < kColumns; ++c) {
      if (c == 7 && !any_read_from) continue;
      out += row[c];
      if (c + 1 < kColumns) out += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  line(headers);
  for (const TableRow& r : rows) line(cells(r));
  return out;
}

std::string describe_read_from(const ReadFrom& from, const std::string& writer, const std::string& newest_writer) {
  if (!from.valid) return "";
  const std::string store = from.actor == kNoActor ? std::string("initial value")
                                                   : writer + " @" + std::to_string(from.step);
  if (from.behind == 0) return store + " (latest)";
  return store + " (stale: " + std::to_string(from.behind) + (from.behind == 1 ? " store" : " stores") +
         " behind; allowed: no happens-before from " + newest_writer + " @" + std::to_string(from.newest_step) + ")";
}

bool stderr_is_tty() noexcept { return ::isatty(STDERR_FILENO) == 1; }

void draw_progress(std::uint64_t done, std::uint64_t total, double seconds, double budget_s) {
  constexpr int kWidth = 30;
  double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  if (budget_s > 0) fraction = std::max(fraction, seconds / budget_s);
  fraction = std::min(fraction, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  std::fprintf(stderr, "\r[%s] %llu/%llu schedules, %.0f/s, %.1f s", bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate, seconds);
  std::fflush(stderr);
}

}  // namespace indexbus::sim

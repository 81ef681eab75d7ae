#include "broker/config/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace passerelle::config {

namespace {

struct unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Largest first; "ms" must be tried before "m" when matching a suffix.
constexpr std::array<unit, 4> units = {{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // index of the smallest unit still allowed (enforces largest-first, once each)
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      const int d = text[i] - '0';
      if (n > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;
      n = n * 10 + d;
      ++i;
    }
    if (i == digits_start) return std::nullopt;  // a unit with no number, or a stray character
    const std::string_view rest = text.substr(i);
    std::size_t matched = units.size();
    if (rest.starts_with("ms")) {
      matched = 3;
    } else if (!rest.empty()) {
      for (std::size_t u = 0; u < 3; ++u) {
        if (rest.front() == units[u].suffix.front()) matched = u;
      }
    }
    if (matched == units.size() || matched < next_unit) return std::nullopt;
    if (n > (std::numeric_limits<std::int64_t>::max() - total) / units[matched].ms) return std::nullopt;
    total += n * units[matched].ms;
    i += units[matched].suffix.size();
    next_unit = matched + 1;
  }
  return std::chrono::milliseconds{total};
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t left = d.count();
  if (left == 0) return "0s";
  if (left < 0) return std::to_string(left) + "ms";  // never produced by parse_duration; shown as-is
  std::string out;
  for (const unit& u : units) {
    if (left >= u.ms) {
      out += std::to_string(left / u.ms);
      out += u.suffix;
      left %= u.ms;
    }
  }
  return out;
}

}  // namespace passerelle::config

#include "connectors/shopify/shopify_time.h"

#include <string>

namespace passerelle::connectors::shopify {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

class cursor {
 public:
  explicit cursor(std::string_view s) : s_(s) {}
  bool digits(std::size_t n, unsigned& out) {
    if (pos_ + n > s_.size()) return false;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += n;
    out = v;
    return true;
  }
  bool literal(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void advance() noexcept { ++pos_; }
  bool done() const noexcept { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// The start of a bad value, for the error message: ASCII only (a timestamp is ASCII), so that a cut never splits
// a UTF-8 sequence and the message stays valid UTF-8 in the dead letter.
std::string ascii_excerpt(std::string_view s) {
  std::string out(s.substr(0, 64));
  for (auto& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

result<unix_time> parse_rfc3339(std::string_view text, std::string_view field) {
  const auto bad = [&](std::string_view why) {
    return error::reject("bad_timestamp", std::string(field) + ": expected an RFC 3339 timestamp, got \"" +
                                              ascii_excerpt(text) + "\" (" + std::string(why) + ")");
  };
  cursor c(text);
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!c.digits(4, year) || !c.literal('-') || !c.digits(2, month) || !c.literal('-') || !c.digits(2, day)) {
    return bad("bad date");
  }
  if (!(c.literal('T') || c.literal('t') || c.literal(' '))) return bad("missing 'T'");
  if (!c.digits(2, hour) || !c.literal(':') || !c.digits(2, minute) || !c.literal(':') || !c.digits(2, second)) {
    return bad("bad time");
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return bad("no such date");
  // 60 is allowed for a leap second and folded into the next second, as most systems do.
  if (hour > 23 || minute > 59 || second > 60) return bad("no such time");
  std::int32_t nanos = 0;
  if (c.literal('.')) {
    int count = 0;
    while (c.peek() >= '0' && c.peek() <= '9') {
      if (count < 9) nanos = nanos * 10 + (c.peek() - '0');
      ++count;
      c.advance();
    }
    if (count == 0) return bad("empty fraction");
    for (int k = count; k < 9; ++k) nanos *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (c.literal('Z') || c.literal('z')) {
    // UTC
  } else if (c.peek() == '+' || c.peek() == '-') {
    const bool negative = c.peek() == '-';
    c.advance();
    unsigned oh = 0, om = 0;
    if (!c.digits(2, oh) || !c.literal(':') || !c.digits(2, om) || oh > 23 || om > 59) return bad("bad offset");
    offset_seconds = (static_cast<std::int64_t>(oh) * 3600 + static_cast<std::int64_t>(om) * 60) * (negative ? -1 : 1);
  } else {
    return bad("missing time zone");
  }
  if (!c.done()) return bad("trailing characters");
  const std::int64_t days = days_from_civil(year, month, day);
  unix_time t;
  t.seconds = days * 86400 + static_cast<std::int64_t>(hour) * 3600 + static_cast<std::int64_t>(minute) * 60 + second -
              offset_seconds;
  t.nanos = nanos;
  return t;
}

}  // namespace passerelle::connectors::shopify

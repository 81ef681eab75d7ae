#pragma once
// RFC 3339 / ISO 8601 timestamps as Shopify writes them ("2022-01-01T00:00:00.000Z",
// "2021-12-31T19:00:00-05:00", X-Shopify-Triggered-At with nanoseconds), turned into Unix time without going
// through the C library's locale- and timezone-dependent functions.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string_view>

#include "broker/core/result.h"

namespace passerelle::connectors::shopify {

struct unix_time {
  std::int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  std::int32_t nanos = 0;    // 0..999'999'999

  std::int64_t millis() const noexcept { return seconds * 1000 + nanos / 1'000'000; }
};

// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` ('t', 'z' and a space instead of 'T' are accepted;
// fractions longer than 9 digits are truncated). `field` names the JSON path for the error message.
// Errors: reject/"bad_timestamp".
result<unix_time> parse_rfc3339(std::string_view text, std::string_view field);

}  // namespace passerelle::connectors::shopify

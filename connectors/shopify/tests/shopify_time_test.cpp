#include "connectors/shopify/shopify_time.h"

#include <catch2/catch.hpp>

using passerelle::connectors::shopify::parse_rfc3339;

TEST_CASE("parse_rfc3339 reads the timestamps Shopify writes", "[shopify][time]") {
  struct row {
    const char* text;
    std::int64_t seconds;
    std::int32_t nanos;
  };
  const row rows[] = {
      {"1970-01-01T00:00:00Z", 0, 0},
      {"2022-01-01T00:00:00.000Z", 1'640'995'200, 0},
      {"2021-12-31T19:00:00-05:00", 1'640'995'200, 0},  // same instant, offset form
      {"2026-11-20T15:31:02+01:00", 1'795'185'062, 0},
      {"2026-11-20T14:03:11.602731845Z", 1'795'183'391, 602'731'845},      // X-Shopify-Triggered-At precision
      {"2026-11-20T14:03:11.4821234567891Z", 1'795'183'391, 482'123'456},  // > 9 digits: truncated
      {"2024-02-29T12:00:00+01:00", 1'709'204'400, 0},                     // leap day
      {"1969-12-31T23:59:59Z", -1, 0},
      {"2022-01-01 00:00:00z", 1'640'995'200, 0},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    const auto t = parse_rfc3339(r.text, "updated_at");
    REQUIRE(t);
    CHECK(t->seconds == r.seconds);
    CHECK(t->nanos == r.nanos);
  }
  CHECK(parse_rfc3339("2022-01-01T00:00:00.123Z", "x")->millis() == 1'640'995'200'123);
}

TEST_CASE("parse_rfc3339 refuses what is not a complete timestamp", "[shopify][time]") {
  const char* bad[] = {
      "",
      "yesterday",
      "2022-01-01",                // no time
      "2022-01-01T00:00:00",       // no zone: ambiguous
      "2022-01-01T00:00:00+0100",  // offset without colon
      "2023-02-29T00:00:00Z",      // not a leap year
      "2022-13-01T00:00:00Z",
      "2022-01-01T24:00:00Z",
      "2022-01-01T00:00:00.Z",  // empty fraction
      "2022-01-01T00:00:00Z trailing",
      "2022-1-01T00:00:00Z",
  };
  for (const auto* text : bad) {
    INFO(text);
    const auto t = parse_rfc3339(text, "line_items[0].updated_at");
    REQUIRE_FALSE(t);
    CHECK(t.err().code == "bad_timestamp");
    CHECK(t.err().message.rfind("line_items[0].updated_at: ", 0) == 0);
  }
}

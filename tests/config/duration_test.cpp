#include <catch2/catch.hpp>

#include "broker/config/duration.h"

using passerelle::config::format_duration;
using passerelle::config::parse_duration;
using namespace std::chrono_literals;

TEST_CASE("durations of the configuration parse", "[config]") {
  CHECK(parse_duration("24h") == std::chrono::milliseconds{24h});
  CHECK(parse_duration("90m") == std::chrono::milliseconds{90min});
  CHECK(parse_duration("30s") == std::chrono::milliseconds{30s});
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("2h30m") == std::chrono::milliseconds{150min});
  CHECK(parse_duration("1m30s500ms") == 90500ms);
  CHECK(parse_duration("720h") == std::chrono::milliseconds{720h});
  CHECK(parse_duration("0s") == 0ms);
}

TEST_CASE("malformed durations are refused", "[config]") {
  for (const char* bad : {"", "30", "h", "1.5h", "-1h", "+1h", "1 h", "1h ", "30m2h", "1h1h", "1d", "1hm", "5mss", "1H",
                          "ms", "99999999999999999999ms", "9223372036854775807h"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("durations format back to their shortest spelling", "[config]") {
  CHECK(format_duration(150min) == "2h30m");
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(90500ms) == "1m30s500ms");
  CHECK(format_duration(720h) == "720h");
  for (const char* text : {"24h", "90m", "30s", "500ms", "2h30m"}) {
    const auto d = parse_duration(text);
    REQUIRE(d.has_value());
    CHECK(parse_duration(format_duration(*d)) == d);
  }
}

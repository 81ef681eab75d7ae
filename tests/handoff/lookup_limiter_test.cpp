#include "broker/handoff/lookup_limiter.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using passerelle::core::manual_clock;
using passerelle::handoff::lookup_limiter;
using passerelle::handoff::lookup_limits;

TEST_CASE("failed lookups drain a caller's bucket; time refills it", "[handoff]") {
  manual_clock clock;
  lookup_limiter limiter(lookup_limits{3, 1000ms, 100}, clock);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.allowed("paris-01"));
    limiter.record_failure("paris-01");
  }
  CHECK_FALSE(limiter.allowed("paris-01"));
  CHECK(limiter.retry_after("paris-01") == 1000ms);
  CHECK(limiter.allowed("lyon-02"));  // other callers are not affected

  clock.advance(400ms);
  CHECK_FALSE(limiter.allowed("paris-01"));
  CHECK(limiter.retry_after("paris-01") == 600ms);
  clock.advance(600ms);
  CHECK(limiter.allowed("paris-01"));
  CHECK(limiter.retry_after("paris-01") == 0ms);
  limiter.record_failure("paris-01");
  CHECK_FALSE(limiter.allowed("paris-01"));

  clock.advance(10s);  // refills up to the burst, never beyond
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.allowed("paris-01"));
    limiter.record_failure("paris-01");
  }
  CHECK_FALSE(limiter.allowed("paris-01"));
}

TEST_CASE("successful lookups cost nothing", "[handoff]") {
  manual_clock clock;
  lookup_limiter limiter(lookup_limits{1, 60s, 10}, clock);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.allowed("till"));
}

TEST_CASE("memory is bounded: the least recently used caller is forgotten first", "[handoff]") {
  manual_clock clock;
  lookup_limiter limiter(lookup_limits{1, 60s, 3}, clock);
  limiter.record_failure("a");
  limiter.record_failure("b");
  limiter.record_failure("c");
  CHECK_FALSE(limiter.allowed("a"));  // "a" becomes the most recently used
  limiter.record_failure("d");        // evicts "b", the least recently used
  CHECK(limiter.tracked_keys() == 3);
  CHECK_FALSE(limiter.allowed("a"));
  CHECK_FALSE(limiter.allowed("c"));
  CHECK_FALSE(limiter.allowed("d"));
  CHECK(limiter.allowed("b"));  // forgotten, so it starts again with a full bucket (and evicts "a")
  CHECK(limiter.tracked_keys() == 3);
}

TEST_CASE("a zero burst is raised to one rather than refusing everyone", "[handoff]") {
  manual_clock clock;
  lookup_limiter limiter(lookup_limits{0, 1000ms, 0}, clock);
  CHECK(limiter.allowed("x"));
  limiter.record_failure("x");
  CHECK_FALSE(limiter.allowed("x"));
}

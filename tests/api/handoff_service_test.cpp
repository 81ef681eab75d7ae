// Web -> store handoffs end to end on the embedded backend: request, fold, peek by code, accept, expiry, limits.
#include "broker/api/handoff_service.h"

#include <catch2/catch.hpp>

#include "broker/handoff/handoff_code.h"
#include "tests/engine/engine_node.h"

using namespace passerelle::engine::testing;
using passerelle::api::handoff_caller;
using passerelle::api::handoff_options;
using passerelle::api::handoff_service;
using passerelle::api::read_service;

namespace {

handoff_options options_for_tests() {
  handoff_options o;
  o.topic_prefix = prefix;
  o.ttl = std::chrono::hours(2);
  o.stores = {"paris-01", "lyon-02"};
  o.limits = {3, std::chrono::milliseconds(60'000), 1000};
  return o;
}

}  // namespace

TEST_CASE("a handoff code recalls the basket at the target store's till once, then is used", "[api][handoff]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  n.produce(snapshot("bsk_H", "h1", 10, {lc::test::line("1", 2, 1500)}));
  const read_service reads(*n.store);
  REQUIRE(n.eventually([&] { return static_cast<bool>(reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_H")); }));
  handoff_service svc(*n.log, reads, clock, options_for_tests());

  auto created = svc.request("bsk_H", "paris-01", "key:test");
  REQUIRE(created);
  CHECK(created->code.size() == 10);
  CHECK(created->expires_at_ms == lc::test::t0 + std::int64_t{2} * 3600 * 1000);
  CHECK(created->handoff_id.rfind("hof_", 0) == 0);

  const handoff_caller paris{"paris-01", "store:paris-01"};
  // Readable once the engine folded the request (eventual consistency, like every read).
  REQUIRE(n.eventually([&] { return static_cast<bool>(svc.peek(created->code, paris)); }));
  auto peek = svc.peek(passerelle::handoff::display_handoff_code(created->code), paris);  // as typed at a till
  REQUIRE(peek);
  CHECK(peek->basket.common.id == "bsk_H");
  CHECK(peek->handoff.handoff_id == created->handoff_id);
  CHECK(lc::status_name(peek->basket) == "handed_off");
  // The code itself is never stored: only its digest is in the state.
  CHECK(peek->handoff.code_sha256.size() == 64);

  auto other_store = svc.peek(created->code, handoff_caller{"lyon-02", "store:lyon-02"});
  REQUIRE_FALSE(other_store);
  CHECK(other_store.err().code == "wrong_store");

  auto accepted = svc.accept(created->code, paris, "till-3");
  REQUIRE(accepted);
  CHECK(accepted->handoff.accepted_till == "till-3");
  auto again = svc.peek(created->code, paris);
  REQUIRE_FALSE(again);
  CHECK(again.err().code == "handoff_used");
  REQUIRE(n.eventually([&] {
    auto s = reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_H");
    return s && lc::status_name(*s) == "recalled";
  }));
  // Each step is in the basket's history.
  std::vector<std::string> types;
  for (const auto& e : n.history_of("bsk_H")) types.push_back(lc::payload_type_name(e));
  CHECK(std::count(types.begin(), types.end(), "passerelle.v1.BasketHandoffRequested") == 1);
  CHECK(std::count(types.begin(), types.end(), "passerelle.v1.BasketHandoffAccepted") == 1);
}

TEST_CASE("an expired code is gone; unknown and malformed codes spend the caller's lookup budget", "[api][handoff]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  n.produce(snapshot("bsk_E", "e1", 10, {lc::test::line("1", 1, 100)}));
  const read_service reads(*n.store);
  REQUIRE(n.eventually([&] { return static_cast<bool>(reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_E")); }));
  handoff_service svc(*n.log, reads, clock, options_for_tests());

  auto created = svc.request("bsk_E", "paris-01", "key:test");
  REQUIRE(created);
  const handoff_caller paris{"paris-01", "store:paris-01"};
  REQUIRE(n.eventually([&] { return static_cast<bool>(svc.peek(created->code, paris)); }));
  clock.advance(std::chrono::hours(3));
  auto expired = svc.peek(created->code, paris);
  REQUIRE_FALSE(expired);
  CHECK(expired.err().code == "handoff_expired");

  const handoff_caller guesser{"lyon-02", "store:lyon-02"};
  auto malformed = svc.peek("HELLO", guesser);
  REQUIRE_FALSE(malformed);
  CHECK(malformed.err().code == "malformed_code");
  const std::string data = "ABCDEFGHJ";
  const std::string unknown = data + passerelle::handoff::handoff_check_character(data);
  for (int i = 0; i < 2; ++i) {
    auto miss = svc.peek(unknown, guesser);
    REQUIRE_FALSE(miss);
    CHECK(miss.err().code == "handoff_not_found");
  }
  auto limited = svc.peek(created->code, guesser);  // 3 failures: even a real code waits now
  REQUIRE_FALSE(limited);
  CHECK(limited.err().code == "rate_limited");

  auto unknown_store = svc.request("bsk_E", "nowhere", "key:test");
  REQUIRE_FALSE(unknown_store);
  CHECK(unknown_store.err().code == "unknown_store");
  CHECK(svc.request("bsk_missing", "paris-01", "key:test").err().code == "basket_not_found");
}

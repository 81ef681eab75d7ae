// The read side over a store filled by a running engine: subjects by id and reference, history pages, customers
// across subjects and channels.
#include "broker/api/read_service.h"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "broker/api/read_routes.h"
#include "broker/api/subject_view.h"
#include "broker/lifecycle/customer_directory.h"
#include "broker/lifecycle/derived_ids.h"
#include "tests/engine/engine_node.h"

using namespace passerelle::engine::testing;
using passerelle::api::read_service;

namespace {

v1::Event with_refs(v1::Event e, std::initializer_list<std::string> refs,
                    std::initializer_list<std::pair<v1::CustomerRefType, std::string>> customers) {
  for (const auto& r : refs) e.add_references(r);
  for (const auto& [type, value] : customers) {
    auto* c = e.add_customers();
    c->set_type(type);
    c->set_value(value);
    if (type == v1::CUSTOMER_REF_TYPE_LOYALTY_ID) c->set_scope("club");
  }
  return e;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

}  // namespace

TEST_CASE("subjects are read by id and by any attached reference, in the contract's JSON", "[api]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  using lc::test::line;
  n.produce(with_refs(snapshot("bsk_R", "r1", 10, {line("1", 2, 1999), line("2", 1, 500)}),
                      {"shopify:shop.example.com:cart-token-1"}, {}));
  const read_service reads(*n.store);
  REQUIRE(n.eventually([&] { return static_cast<bool>(reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_R")); }));

  auto by_ref = reads.subject_by_ref(v1::SUBJECT_KIND_BASKET, "shopify:shop.example.com:cart-token-1");
  REQUIRE(by_ref);
  CHECK(by_ref->common.id == "bsk_R");

  const auto doc = parse(passerelle::api::subject_json(*by_ref));
  CHECK(std::string(doc["id"].GetString()) == "bsk_R");
  CHECK(std::string(doc["status"].GetString()) == "active");
  CHECK(std::string(doc["channel"].GetString()) == "web");
  CHECK(doc["version"].GetUint64() == 1);
  CHECK(std::string(doc["created_at"].GetString()) == "2023-11-14T22:13:20.010Z");
  REQUIRE(doc["lines"].Size() == 2);
  CHECK(doc["lines"][0]["quantity"].GetInt64() == 2);
  CHECK(doc["lines"][0]["unit_price"]["amount_minor"].GetInt64() == 1999);
  CHECK(std::string(doc["lines"][0]["unit_price"]["currency"].GetString()) == "EUR");
  CHECK(doc["lines"][0]["line_total"]["amount_minor"].GetInt64() == 3998);
  CHECK(std::string(doc["refs"][0].GetString()) == "shopify:shop.example.com:cart-token-1");
  CHECK(doc["handoffs"].IsArray());

  SECTION("unknown ids and references, and ids of another kind, are not found") {
    auto missing = reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.err().code == "basket_not_found");
    auto wrong_kind = reads.subject(v1::SUBJECT_KIND_QUOTE, "bsk_R");
    REQUIRE_FALSE(wrong_kind);
    CHECK(wrong_kind.err().kind == passerelle::error_kind::not_found);
    CHECK_FALSE(reads.subject_by_ref(v1::SUBJECT_KIND_BASKET, "shopify:shop.example.com:other"));
    CHECK_FALSE(reads.subject_by_ref(v1::SUBJECT_KIND_WISHLIST, "shopify:shop.example.com:cart-token-1"));
  }
}

TEST_CASE("history pages walk the whole life in log order with opaque cursors", "[api]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  using lc::test::line;
  for (int i = 1; i <= 6; ++i)
    n.produce(snapshot("bsk_H", "h" + std::to_string(i), std::int64_t{10} * i, {line("1", i, 100)}));
  const read_service reads(*n.store);
  // 6 snapshots, BasketCreated + 1 line added, then 5 line changes.
  REQUIRE(n.eventually([&] { return n.history_of("bsk_H").size() == 13; }));

  std::vector<std::string> ids;
  std::string cursor;
  int pages = 0;
  do {
    auto page = reads.history(v1::SUBJECT_KIND_BASKET, "bsk_H", 5, cursor);
    REQUIRE(page);
    for (const auto& e : page->events) ids.push_back(e.event_id());
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty());
  CHECK(pages == 3);
  std::vector<std::string> all;
  for (const auto& e : n.history_of("bsk_H")) all.push_back(e.event_id());
  CHECK(ids == all);
  CHECK(ids.front() == "h1");

  const std::string json = passerelle::http::build_json(
      [&](auto& w) { passerelle::api::write_history_event(w, n.history_of("bsk_H").front()); });
  const auto doc = parse(json);
  CHECK(std::string(doc["type"].GetString()) == "passerelle.v1.BasketSnapshot");
  CHECK(std::string(doc["source"]["connector"].GetString()) == "shopify");
  CHECK(doc["payload"]["lines"][0]["quantity"].GetInt64() == 1);

  auto bad = reads.history(v1::SUBJECT_KIND_BASKET, "bsk_H", 5, "not-a-cursor");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().code == "bad_cursor");
  CHECK_FALSE(reads.history(v1::SUBJECT_KIND_BASKET, "bsk_unknown", 5, ""));
}

TEST_CASE("a customer is everything linked to any of their references, whatever the channel", "[api]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  using lc::test::line;
  const std::string email = std::string(64, 'a');
  // A web basket known by the shop's customer id and a hashed email...
  n.produce(with_refs(
      snapshot("bsk_W", "w1", 10, {line("1", 1, 100)}), {},
      {{v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID, "cust-42"}, {v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, email}}));
  // ...and a store basket tied to a loyalty card and the same email: one customer across channels.
  auto store = with_refs(snapshot("bsk_S", "s1", 10, {line("9", 1, 900)}), {},
                         {{v1::CUSTOMER_REF_TYPE_LOYALTY_ID, "L-7"}, {v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, email}});
  store.set_channel(v1::CHANNEL_STORE);
  store.set_store_id("paris-01");
  n.produce(store);
  // Someone else.
  n.produce(
      with_refs(snapshot("bsk_X", "x1", 10, {line("1", 1, 100)}), {}, {{v1::CUSTOMER_REF_TYPE_LOYALTY_ID, "L-8"}}));

  const read_service reads(*n.store);
  REQUIRE(n.eventually([&] {
    return reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_S") && reads.subject(v1::SUBJECT_KIND_BASKET, "bsk_X");
  }));
  auto by_loyalty = reads.customer_by_ref("loyalty_id:club:L-7");
  REQUIRE(by_loyalty);
  REQUIRE(by_loyalty->subjects.size() == 2);
  CHECK(by_loyalty->refs.size() == 3);
  auto by_platform = reads.customer_by_ref("platform_customer_id::cust-42");
  REQUIRE(by_platform);
  CHECK(by_platform->id == by_loyalty->id);  // the same customer, whichever reference finds them

  auto by_id = reads.customer_by_id(by_loyalty->id);
  REQUIRE(by_id);
  CHECK(by_id->subjects.size() == 2);
  // Every reference's own id resolves to the merged customer.
  for (const auto& ref : by_loyalty->refs) {
    auto again = reads.customer_by_id(passerelle::lifecycle::customer_id_for(passerelle::lifecycle::ref_key(ref)));
    REQUIRE(again);
    CHECK(again->id == by_loyalty->id);
  }
  const auto doc = parse(passerelle::api::customer_json(*by_id));
  CHECK(doc["subjects"].Size() == 2);

  auto other = reads.customer_by_ref("loyalty_id:club:L-8");
  REQUIRE(other);
  CHECK(other->id != by_loyalty->id);
  CHECK_FALSE(reads.customer_by_ref("loyalty_id:club:nobody"));
  CHECK_FALSE(reads.customer_by_id("cus_UNKNOWN"));
}

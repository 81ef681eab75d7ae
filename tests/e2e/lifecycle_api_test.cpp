// Issue 4 end to end on the embedded backend: signed generic webhooks in, the daemon's lifecycle engine folds
// them, and the read and handoff APIs answer over HTTP with the contract's statuses and shapes.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <ctime>

#include "connectors/generic/generic_connector.h"
#include "tests/e2e/e2e_support.h"

namespace passerelle::e2e {

namespace {

rapidjson::Document json_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

answer post_generic(std::uint16_t port, const std::string& delivery, const std::string& body) {
  header_list h = {{"Content-Type", "application/json"},
                   {"X-Passerelle-Account", "boutique-lyon"},
                   {"X-Passerelle-Delivery", delivery}};
  set_header(h, "X-Passerelle-Signature",
             connectors::generic::sign("gen-current", static_cast<std::int64_t>(std::time(nullptr)), body));
  return post(port, "/v1/webhooks/generic", body, h);
}

// Now, as RFC 3339 UTC: a basket dated in the past would be abandoned by the engine's timer (lifecycle.abandon_after)
// as soon as it is folded, and the test would depend on the day it runs.
std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string snapshot_body(std::int64_t version, std::int64_t quantity) {
  return R"({"subject_kind": "SUBJECT_KIND_BASKET", "occurred_at": ")" + now_rfc3339() + R"(", "channel": "CHANNEL_WEB",
    "source": {"native_id": "panier-1"}, "source_version": ")" +
         std::to_string(version) + R"(", "references": ["generic:boutique-lyon:panier-1"],
    "customers": [{"type": "CUSTOMER_REF_TYPE_LOYALTY_ID", "scope": "club", "value": "L-1"}],
    "basket_snapshot": {"currency": "EUR", "lines": [{"line_id": "1", "sku": "CHEM-42", "title": "Chemise",
      "quantity": ")" +
         std::to_string(quantity) +
         R"(", "unit_price": {"amount_minor": 6900, "currency": "EUR"},
      "line_total": {"amount_minor": )" +
         std::to_string(6900 * quantity) + R"(, "currency": "EUR"}}]}})";
}

}  // namespace

TEST_CASE("webhooks become readable baskets with history; a handoff code recalls the basket at the till",
          "[e2e][lifecycle]") {
  e2e_daemon d(
      "api_keys: [ { key: \"reader-key\", roles: [read] }, { key: \"web-key\", roles: [read, handoff] } ]\n"
      "stores: [ { id: \"paris-01\", tokens: [\"till-paris\"] }, { id: \"lyon-02\", tokens: [\"till-lyon\"] } ]\n"
      "connectors:\n"
      "  generic: { accounts: { \"boutique-lyon\": { secrets: [\"gen-current\"] } } }\n");
  const header_list reader = {{"Authorization", "Bearer reader-key"}};
  const header_list web = {{"Authorization", "Bearer web-key"}, {"Content-Type", "application/json"}};
  const header_list paris = {{"Authorization", "Bearer till-paris"}, {"Content-Type", "application/json"}};
  const header_list lyon = {{"Authorization", "Bearer till-lyon"}};

  auto first = post_generic(d.port(), "d-1", snapshot_body(100, 1));
  REQUIRE(first.status == 200);
  REQUIRE(first.subject_ids.size() == 1);
  const std::string basket = first.subject_ids.front();
  REQUIRE(post_generic(d.port(), "d-2", snapshot_body(200, 3)).status == 200);

  http::test::client c(d.port());
  // Reads are eventually consistent: wait until both snapshots are folded.
  REQUIRE(http::test::wait_until(
      [&] {
        auto r = c.request(bh::verb::get, "/v1/baskets/" + basket, "", reader);
        return r.result() == bh::status::ok && json_of(r.body())["version"].GetUint64() == 2;
      },
      30s));
  auto doc = json_of(c.request(bh::verb::get, "/v1/baskets/" + basket, "", reader).body());
  CHECK(std::string(doc["status"].GetString()) == "active");
  CHECK(doc["lines"][0]["quantity"].GetInt64() == 3);
  CHECK(doc["lines"][0]["line_total"]["amount_minor"].GetInt64() == 20700);

  auto by_ref = c.request(bh::verb::get, "/v1/baskets?ref=generic%3Aboutique-lyon%3Apanier-1", "", reader);
  CHECK(by_ref.result() == bh::status::ok);
  CHECK(std::string(json_of(by_ref.body())["id"].GetString()) == basket);
  CHECK(c.request(bh::verb::get, "/v1/baskets?ref=generic%3Aboutique-lyon%3Anope", "", reader).result() ==
        bh::status::not_found);
  CHECK(c.request(bh::verb::get, "/v1/baskets/bsk_UNKNOWN", "", reader).result() == bh::status::not_found);
  CHECK(c.request(bh::verb::get, "/v1/baskets/" + basket).result() == bh::status::unauthorized);
  CHECK(c.request(bh::verb::get, "/v1/baskets", "", reader).result() == bh::status::bad_request);

  auto history = json_of(c.request(bh::verb::get, "/v1/baskets/" + basket + "/history?limit=2", "", reader).body());
  CHECK(history["events"].Size() == 2);
  CHECK(std::string(history["events"][0]["type"].GetString()) == "passerelle.v1.BasketSnapshot");
  CHECK(history["next_cursor"].IsString());
  CHECK(c.request(bh::verb::get, "/v1/baskets/" + basket + "/history?limit=0", "", reader).result() ==
        bh::status::bad_request);

  auto customer = c.request(bh::verb::get, "/v1/customers?ref=loyalty_id%3Aclub%3AL-1", "", reader);
  REQUIRE(customer.result() == bh::status::ok);
  CHECK(json_of(customer.body())["subjects"].Size() == 1);

  // Web -> store handoff.
  {
    // The read role cannot hand off (the server closes a connection whose request it refused unread: own client).
    http::test::client refused(d.port());
    CHECK(
        refused
            .request(bh::verb::post, "/v1/baskets/" + basket + "/handoffs", R"({"to": {"store": "paris-01"}})", reader)
            .result() == bh::status::forbidden);
  }
  CHECK(c.request(bh::verb::post, "/v1/baskets/" + basket + "/handoffs", R"({"to": {"store": "nowhere"}})", web)
            .result() == bh::status::bad_request);
  auto created =
      c.request(bh::verb::post, "/v1/baskets/" + basket + "/handoffs", R"({"to": {"store": "paris-01"}})", web);
  REQUIRE(created.result() == bh::status::created);
  const auto handoff = json_of(created.body());
  const std::string code = handoff["code"].GetString();
  CHECK(code.size() == 10);
  CHECK(std::string(handoff["qr_url"].GetString()) == "/v1/handoffs/" + code + "/qr.svg");

  auto qr = c.request(bh::verb::get, "/v1/handoffs/" + code + "/qr.svg");
  CHECK(qr.result() == bh::status::ok);
  CHECK(qr.body().find("<svg") != std::string::npos);

  REQUIRE(http::test::wait_until(
      [&] { return c.request(bh::verb::get, "/v1/handoffs/" + code, "", paris).result() == bh::status::ok; }, 30s));
  auto peek = json_of(c.request(bh::verb::get, "/v1/handoffs/" + code, "", paris).body());
  CHECK(std::string(peek["basket"]["id"].GetString()) == basket);
  CHECK(c.request(bh::verb::get, "/v1/handoffs/" + code, "", lyon).result() == bh::status::forbidden);
  CHECK(c.request(bh::verb::get, "/v1/handoffs/HELLO", "", paris).result() == bh::status::bad_request);

  auto accepted = c.request(bh::verb::post, "/v1/handoffs/" + code + "/accept", R"({"till_id": "till-3"})", paris);
  CHECK(accepted.result() == bh::status::ok);
  CHECK(c.request(bh::verb::get, "/v1/handoffs/" + code, "", paris).result() == bh::status::gone);
  REQUIRE(http::test::wait_until(
      [&] {
        auto r = c.request(bh::verb::get, "/v1/baskets/" + basket, "", reader);
        return std::string(json_of(r.body())["status"].GetString()) == "recalled";
      },
      30s));
  auto final_doc = json_of(c.request(bh::verb::get, "/v1/baskets/" + basket, "", reader).body());
  REQUIRE(final_doc["handoffs"].Size() == 1);
  CHECK(std::string(final_doc["handoffs"][0]["status"].GetString()) == "accepted");
  CHECK(std::string(final_doc["handoffs"][0]["accepted_till"].GetString()) == "till-3");
}

}  // namespace passerelle::e2e

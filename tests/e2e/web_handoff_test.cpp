// Store -> web handoffs end to end on the embedded backend: a basket posted through the generic webhook is handed
// off to a Shopify shop whose Admin API is a local stand-in (the account's api_base_url); the web handoff worker
// creates the draft order and the basket's handoffs show its checkout link, or the failure.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <ctime>

#include "connectors/generic/generic_connector.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/stand_in_http_server.h"

namespace passerelle::e2e {

namespace {

constexpr const char* shop = "maison-exemple.myshopify.com";
constexpr const char* invoice_url =
    "https://maison-exemple.myshopify.com/548380009/invoices/c9a2a2e2bd3b1c4bd8f3a3b2e5a0c6d1";

rapidjson::Document json_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string config_for(const stand_in_http_server& shopify_admin) {
  return "api_keys: [ { key: \"reader-key\", roles: [read] }, { key: \"web-key\", roles: [read, handoff] } ]\n"
         "connectors:\n"
         "  generic: { accounts: { \"boutique-lyon\": { secrets: [\"gen-current\"] } } }\n"
         "  shopify:\n"
         "    accounts:\n"
         "      \"" +
         std::string(shop) + "\": { secrets: [\"shpss_e2e\"], access_token: \"shpat_e2e_token\", api_base_url: \"" +
         shopify_admin.base_url() +
         "/admin/api\" }\n"
         "      \"sans-token.myshopify.com\": { secrets: [\"shpss_other\"] }\n";
}

// A till-made basket (generic connector): one line, 3 x 69.00 EUR.
std::string post_basket(std::uint16_t port, const std::string& native_id) {
  // Now, so that the basket is active (not abandoned) whatever day the test runs.
  std::array<char, 32> now{};
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::strftime(now.data(), now.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  const std::string body = R"({"subject_kind": "SUBJECT_KIND_BASKET", "occurred_at": ")" + std::string(now.data()) +
                           R"(", "channel": "CHANNEL_STORE",
    "source": {"native_id": ")" +
                           native_id + R"("}, "source_version": "100", "references": ["generic:boutique-lyon:)" +
                           native_id + R"("],
    "basket_snapshot": {"currency": "EUR", "lines": [{"line_id": "1", "sku": "CHEM-42", "title": "Chemise",
      "quantity": "3", "unit_price": {"amount_minor": 6900, "currency": "EUR"},
      "line_total": {"amount_minor": 20700, "currency": "EUR"}}]}})";
  header_list h = {{"Content-Type", "application/json"},
                   {"X-Passerelle-Account", "boutique-lyon"},
                   {"X-Passerelle-Delivery", "d-" + native_id}};
  set_header(h, "X-Passerelle-Signature",
             connectors::generic::sign("gen-current", static_cast<std::int64_t>(std::time(nullptr)), body));
  const auto a = post(port, "/v1/webhooks/generic", body, h);
  REQUIRE(a.status == 200);
  REQUIRE(a.subject_ids.size() == 1);
  return a.subject_ids.front();
}

const http::test::client_response get_basket(std::uint16_t port, const std::string& id) {
  http::test::client c(port);
  return c.request(bh::verb::get, "/v1/baskets/" + id, "", {{"Authorization", "Bearer reader-key"}});
}

void wait_readable(std::uint16_t port, const std::string& id) {
  REQUIRE(http::test::wait_until([&] { return get_basket(port, id).result() == bh::status::ok; }, 30s));
}

answer request_web(std::uint16_t port, const std::string& id, const std::string& target) {
  return post(port, "/v1/baskets/" + id + "/handoffs", R"({"to": {"web": ")" + target + R"("}})",
              {{"Authorization", "Bearer web-key"}, {"Content-Type", "application/json"}});
}

// Waits until the basket's first handoff is no longer pending and returns the basket.
rapidjson::Document wait_settled(std::uint16_t port, const std::string& id) {
  rapidjson::Document doc;
  std::string last;
  const bool settled = http::test::wait_until(
      [&] {
        auto r = get_basket(port, id);
        if (r.result() != bh::status::ok) return false;
        last = r.body();
        doc = json_of(r.body());
        return doc["handoffs"].Size() == 1 && std::string(doc["handoffs"][0]["status"].GetString()) != "pending";
      },
      30s);
  INFO("last basket: " << last);
  REQUIRE(settled);
  return doc;
}

}  // namespace

TEST_CASE("a web handoff creates a Shopify draft order and publishes its checkout link", "[e2e][handoff][shopify]") {
  std::atomic<int> calls{0};
  stand_in_http_server admin([&](const stand_in_http_server::recorded&) {
    // The first call is throttled (Retry-After honoured), the second creates the draft order.
    if (calls.fetch_add(1) == 0) {
      return stand_in_http_server::reply{429, {{"Retry-After", "0.05"}}, R"({"errors":"Exceeded 2 calls per second"})"};
    }
    return stand_in_http_server::reply{
        201,
        {},
        R"({"draft_order":{"id":1069920475,"status":"open","invoice_url":")" + std::string(invoice_url) + "\"}}"};
  });
  e2e_daemon d(config_for(admin));
  const std::string basket = post_basket(d.port(), "panier-web-1");
  wait_readable(d.port(), basket);

  const auto accepted = request_web(d.port(), basket, std::string("shopify:") + shop);
  REQUIRE(accepted.status == 202);
  const auto body = json_of(accepted.body);
  CHECK(std::string(body["status"].GetString()) == "pending");
  const std::string handoff_id = body["handoff_id"].GetString();
  CHECK(handoff_id.starts_with("hof_"));

  const auto doc = wait_settled(d.port(), basket);
  const auto& h = doc["handoffs"][0];
  CHECK(std::string(h["handoff_id"].GetString()) == handoff_id);
  CHECK(std::string(h["status"].GetString()) == "accepted");
  CHECK(std::string(h["to"]["web"].GetString()) == std::string("shopify:") + shop);
  CHECK(std::string(h["checkout_url"].GetString()) == invoice_url);
  const std::string reference = std::string("shopify:") + shop + ":draft_order:1069920475";
  CHECK(std::string(h["target_reference"].GetString()) == reference);
  CHECK(std::string(doc["status"].GetString()) == "recalled");

  // The draft order's reference resolves to the basket.
  http::test::client c(d.port());
  auto by_ref =
      c.request(bh::verb::get, "/v1/baskets?ref=shopify%3A" + std::string(shop) + "%3Adraft_order%3A1069920475", "",
                {{"Authorization", "Bearer reader-key"}});
  CHECK(by_ref.result() == bh::status::ok);

  // What the stand-in Admin API received: the same request twice (throttled, then created).
  const auto got = admin.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[0].body == got[1].body);
  CHECK(got[1].method == "POST");
  CHECK(got[1].target == "/admin/api/2024-01/draft_orders.json");
  CHECK(got[1].header("X-Shopify-Access-Token") == "shpat_e2e_token");
  const auto sent = json_of(got[1].body);
  const auto& line = sent["draft_order"]["line_items"][0];
  CHECK(std::string(line["title"].GetString()) == "Chemise");
  CHECK(std::string(line["price"].GetString()) == "69.00");
  CHECK(line["quantity"].GetInt64() == 3);
  CHECK(std::string(sent["draft_order"]["note_attributes"][0]["value"].GetString()) == basket);
}

TEST_CASE("a web handoff that Shopify refuses fails and the basket is active again", "[e2e][handoff][shopify]") {
  stand_in_http_server admin([](const stand_in_http_server::recorded&) {
    return stand_in_http_server::reply{422, {}, R"({"errors":{"line_items":["is invalid"]}})"};
  });
  e2e_daemon d(config_for(admin));
  const std::string basket = post_basket(d.port(), "panier-web-2");
  wait_readable(d.port(), basket);

  REQUIRE(request_web(d.port(), basket, std::string("shopify:") + shop).status == 202);
  const auto doc = wait_settled(d.port(), basket);
  CHECK(std::string(doc["handoffs"][0]["status"].GetString()) == "failed");
  CHECK_FALSE(doc["handoffs"][0].HasMember("checkout_url"));
  CHECK(std::string(doc["status"].GetString()) == "active");
  CHECK(admin.requests().size() == 1);  // a refusal is final: no retry

  // The reason is in the basket's history.
  http::test::client c(d.port());
  const auto history =
      c.request(bh::verb::get, "/v1/baskets/" + basket + "/history", "", {{"Authorization", "Bearer reader-key"}});
  CHECK(history.body().find("target_rejected") != std::string::npos);
  CHECK(history.body().find("line_items: is invalid") != std::string::npos);
}

TEST_CASE("a web handoff to an unknown or unusable target is refused at once", "[e2e][handoff]") {
  stand_in_http_server admin([](const stand_in_http_server::recorded&) {
    return stand_in_http_server::reply{500, {}, ""};
  });
  e2e_daemon d(config_for(admin));
  const std::string basket = post_basket(d.port(), "panier-web-3");
  wait_readable(d.port(), basket);

  const auto unknown_connector = request_web(d.port(), basket, "bigcommerce:stores/abc");
  CHECK(unknown_connector.status == 400);
  CHECK(unknown_connector.code == "unknown_connector");
  const auto unknown_account = request_web(d.port(), basket, "shopify:ailleurs.myshopify.com");
  CHECK(unknown_account.status == 400);
  CHECK(unknown_account.code == "unknown_account");
  const auto no_token = request_web(d.port(), basket, "shopify:sans-token.myshopify.com");
  CHECK(no_token.status == 400);
  CHECK(no_token.code == "checkout_not_configured");
  const auto no_checkouts = request_web(d.port(), basket, "generic:boutique-lyon");
  CHECK(no_checkouts.status == 400);
  CHECK(no_checkouts.code == "checkout_unsupported");
  const auto malformed = request_web(d.port(), basket, "shopify");
  CHECK(malformed.status == 400);
  CHECK(malformed.code == "bad_web_target");
  const auto no_basket = request_web(d.port(), "bsk_UNKNOWN", std::string("shopify:") + shop);
  CHECK(no_basket.status == 404);

  // Nothing was requested: the basket has no handoff and the stand-in got no call.
  auto doc = json_of(get_basket(d.port(), basket).body());
  CHECK(doc["handoffs"].Size() == 0);
  CHECK(admin.requests().empty());
}

}  // namespace passerelle::e2e

#include "connectors/shopify/shopify_connector.h"

#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "connectors/sdk/crypto.h"
#include "connectors/sdk/testing/golden.h"
#include "connectors/shopify/shopify_signature.h"
#include "passerelle/v1/event.pb.h"

namespace shopify = passerelle::connectors::shopify;
namespace sdk = passerelle::connector;
namespace v1 = passerelle::v1;
using sdk::config_node;
using sdk::testing::golden_request;

namespace {

constexpr const char* shop = "maison-exemple.myshopify.com";
constexpr const char* current_secret = "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";
constexpr const char* previous_secret = "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";
constexpr std::int64_t received_at_ms = 1'795'190'000'000;  // 2026-11-20T15:53:20Z
constexpr std::int64_t four_hours_ms = 14'400'000;          // Shopify's retry horizon

config_node account(std::vector<std::string> secrets, std::map<std::string, config_node> extra = {}) {
  extra.emplace("secrets", config_node::make_list(std::move(secrets)));
  return config_node::make_map(std::move(extra));
}

config_node section(std::map<std::string, config_node> accounts) {
  return config_node::make_map({{"accounts", config_node::make_map(std::move(accounts))}});
}

std::shared_ptr<const sdk::connector> make(const config_node& s) {
  auto factory = shopify::make_shopify_factory();
  auto created = factory->create(s);
  if (!created) FAIL("create failed: " << created.err().message);
  return *created;
}

// The shop of the fixtures, with the current and the previous secret (mid-rotation), EUR as fallback currency.
std::shared_ptr<const sdk::connector> fixture_connector() {
  return make(
      section({{shop, account({current_secret, previous_secret}, {{"currency", config_node::make_scalar("EUR")}})}}));
}

void sign_with(golden_request& req, const std::string& secret) {
  req.headers.push_back({"X-Shopify-Hmac-Sha256", shopify::shopify_signature(secret, req.body)});
}

void set_header(golden_request& req, const std::string& name, const std::string& value) {
  for (auto& h : req.headers) {
    if (h.name == name) {
      h.value = value;
      return;
    }
  }
  req.headers.push_back({name, value});
}

void remove_header(golden_request& req, const std::string& name) {
  std::erase_if(req.headers, [&](const sdk::http_header& h) { return h.name == name; });
}

golden_request request(const std::string& topic, std::string body) {
  golden_request req;
  req.body = std::move(body);
  req.headers = {{"Content-Type", "application/json"},
                 {"X-Shopify-Topic", topic},
                 {"X-Shopify-Shop-Domain", shop},
                 {"X-Shopify-API-Version", "2025-01"},
                 {"X-Shopify-Webhook-Id", "b54557e4-8a5f-4f7d-a70b-cd043a1e9999"},
                 {"X-Shopify-Triggered-At", "2026-11-20T15:53:19.001Z"}};
  return req;
}

golden_request fixture(const std::string& name) {
  return sdk::testing::load_golden_request(SHOPIFY_FIXTURES_DIR, name);
}

// A small carts/update body with one line; `line` replaces the line object when given.
std::string cart_body(const std::string& line) {
  return R"({"id":"c1-77aa","token":"c1-77aa","line_items":[)" + line +
         R"(],"note":null,"updated_at":"2026-11-20T15:50:00.250Z","created_at":"2026-11-20T15:49:00.000Z"})";
}

std::string money_bag(const std::string& amount, const std::string& currency) {
  return R"({"shop_money":{"amount":")" + amount + R"(","currency_code":")" + currency +
         R"("},"presentment_money":{"amount":")" + amount + R"(","currency_code":")" + currency + R"("}})";
}

std::string cart_line(const std::string& price_set, const std::string& quantity = "1") {
  return R"({"id":1,"key":"1:abc","quantity":)" + quantity +
         R"(,"variant_id":1,"product_id":2,"sku":"S","title":"T","price":"10.00","line_price":"10.00",)"
         R"("total_discount":"0.00","price_set":)" +
         price_set + "}";
}

}  // namespace

TEST_CASE("golden: every Shopify fixture produces exactly its expected events", "[shopify][golden]") {
  const auto c = fixture_connector();
  const auto results = sdk::testing::run_golden_dir(
      *c, SHOPIFY_FIXTURES_DIR, [](golden_request& r) { sign_with(r, current_secret); }, received_at_ms);
  REQUIRE(results.size() >= 12);
  for (const auto& r : results) {
    INFO(r.name << "\n" << r.diff);
    CHECK(r.passed);
  }
}

TEST_CASE("golden fixtures tell one basket's story: every event carries the cart's origin reference",
          "[shopify][golden]") {
  const auto c = fixture_connector();
  const std::string origin = std::string("shopify:") + shop + ":eeafa272cebfd4b22385bc4b645e762c";
  for (const char* name : {"carts_create", "carts_update", "checkouts_create", "checkouts_update", "orders_create"}) {
    INFO(name);
    auto req = fixture(name);
    sign_with(req, current_secret);
    const auto events = sdk::testing::run_request(*c, req, received_at_ms);
    REQUIRE(events);
    REQUIRE(events->size() == 1);
    const auto& e = events->front();
    REQUIRE(e.references_size() >= 1);
    CHECK(e.references(0) == origin);
    CHECK(e.subject_kind() == v1::SUBJECT_KIND_BASKET);
    CHECK(e.source().connector() == "shopify");
    CHECK(e.source().account() == shop);
    CHECK(e.event_id().empty());    // the host's job
    CHECK(e.subject_id().empty());  // the host's job
  }
}

TEST_CASE("carts: money is exact, in the presentment currency, and lines keep Shopify's keys", "[shopify]") {
  const auto c = fixture_connector();
  auto req = fixture("carts_update");
  sign_with(req, current_secret);
  auto events = sdk::testing::run_request(*c, req, received_at_ms);
  REQUIRE(events);
  const auto& snap = events->front().basket_snapshot();
  REQUIRE(snap.lines_size() == 3);
  CHECK(snap.currency() == "EUR");
  CHECK(snap.lines(1).line_id() == "44812349784210:9c1de0f6b7d0e1a2c3b4a5968778695a");
  CHECK(snap.lines(1).unit_price().amount_minor() == 1450);
  CHECK(snap.lines(1).line_total().amount_minor() == 3915);  // 3 x 14.50 - 4.35
  CHECK(snap.lines(1).discount_total().amount_minor() == 435);
  CHECK(snap.totals().subtotal().amount_minor() == 7980 + 3915 + 2400);
  REQUIRE(snap.promotions_size() == 1);
  CHECK(snap.promotions(0).amount().amount_minor() == 435);
  CHECK(events->front().source_version() == 1'795'183'787'118);  // updated_at 2026-11-20T14:09:47.118Z

  auto chf = fixture("carts_update_presentment");
  sign_with(chf, current_secret);
  events = sdk::testing::run_request(*c, chf, received_at_ms);
  REQUIRE(events);
  const auto& s2 = events->front().basket_snapshot();
  CHECK(s2.currency() == "CHF");
  CHECK(s2.lines(0).unit_price().amount_minor() == 3890);
  CHECK(s2.lines(0).unit_price().currency() == "CHF");
  // The discount's plain amount is in the shop's currency (EUR) and Shopify gives no CHF figure: left unset
  // rather than guessed; the line's discount_total (from total_discount_set) is exact.
  REQUIRE(s2.promotions_size() == 1);
  CHECK_FALSE(s2.promotions(0).has_amount());
  CHECK(s2.lines(1).discount_total().amount_minor() == 284);
}

TEST_CASE("checkouts and orders: customers only as ids and hashes, never clear e-mail addresses", "[shopify]") {
  const auto c = fixture_connector();
  auto req = fixture("checkouts_update");
  sign_with(req, current_secret);
  const auto events = sdk::testing::run_request(*c, req, received_at_ms);
  REQUIRE(events);
  const auto& e = events->front();
  REQUIRE(e.has_basket_customer_attached());
  const auto& refs = e.basket_customer_attached().customers();
  REQUIRE(refs.size() == 3);
  CHECK(refs[0].type() == v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
  CHECK(refs[0].value() == "7301654528226");
  CHECK(refs[0].scope() == std::string("shopify:") + shop);
  CHECK(refs[1].type() == v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
  CHECK(refs[1].value() == sdk::email_sha256("camille.martin@example.fr"));
  CHECK(refs[2].type() == v1::CUSTOMER_REF_TYPE_PHONE_SHA256);
  CHECK(e.customers_size() == 3);
  CHECK(e.source_version() == 0);  // the checkout's clock must not make the engine drop it against the cart's
  const std::string serialized = e.SerializeAsString();
  CHECK(serialized.find("camille.martin@example.fr") == std::string::npos);
  CHECK(serialized.find("+33612345678") == std::string::npos);

  // checkouts_create's e-mail is "Camille.Martin@Example.fr " (mixed case, trailing space): same hash.
  auto create = fixture("checkouts_create");
  sign_with(create, current_secret);
  const auto created = sdk::testing::run_request(*c, create, received_at_ms);
  REQUIRE(created);
  REQUIRE(created->front().basket_customer_attached().customers_size() == 1);
  CHECK(created->front().basket_customer_attached().customers(0).value() == refs[1].value());
}

TEST_CASE("factory: configuration is validated and errors name the key", "[shopify][config]") {
  auto factory = shopify::make_shopify_factory();
  CHECK(factory->metadata().name == "shopify");
  CHECK(factory->metadata().account_fields.size() == 4);

  SECTION("valid, with defaults and normalised keys") {
    auto created = factory->create(section(
        {{"Maison-Exemple.MyShopify.com",
          account({"s1", "s0"}, {{"access_token", config_node::make_scalar("shpat_x")},
                                 {"api_base_url", config_node::make_scalar("http://127.0.0.1:8089/admin/api/")}})},
         {"other.myshopify.com", account({"s2"})}}));
    REQUIRE(created);
    const auto* c = dynamic_cast<const shopify::shopify_connector*>(created->get());
    REQUIRE(c != nullptr);
    const auto* a = c->find_account(shop);
    REQUIRE(a != nullptr);
    CHECK(a->secrets == std::vector<std::string>{"s1", "s0"});
    CHECK(a->access_token == "shpat_x");
    CHECK(a->api_base_url == "http://127.0.0.1:8089/admin/api");
    const auto* b = c->find_account("other.myshopify.com");
    REQUIRE(b != nullptr);
    CHECK(b->api_base_url == "https://other.myshopify.com/admin/api");
    CHECK(b->access_token.empty());
    CHECK(c->find_account("Maison-Exemple.MyShopify.com") == nullptr);  // lookups take normalised keys
  }

  struct bad_case {
    const char* what;
    config_node config;
    const char* message;
  };
  const bad_case cases[] = {
      {"no accounts", config_node::make_map({}), "accounts: expected a non-empty map of account -> settings"},
      {"missing secrets", section({{shop, config_node::make_map({})}}),
       "accounts.maison-exemple.myshopify.com.secrets: required"},
      {"empty secrets", section({{shop, account({})}}),
       "accounts.maison-exemple.myshopify.com.secrets: expected a non-empty list of strings"},
      {"unknown key", section({{shop, account({"s"}, {{"secret", config_node::make_scalar("x")}})}}),
       "accounts.maison-exemple.myshopify.com.secret: unknown key"},
      {"not a domain", section({{"my shop", account({"s"})}}),
       "accounts.my shop: not a shop domain (expected e.g. example.myshopify.com)"},
      {"duplicate after lower-casing",
       section({{"EXAMPLE.myshopify.com", account({"s"})}, {"example.myshopify.com", account({"t"})}}),
       "accounts.example.myshopify.com: same shop as accounts.EXAMPLE.myshopify.com (shop domains ignore case)"},
      {"bad currency", section({{shop, account({"s"}, {{"currency", config_node::make_scalar("euro")}})}}),
       "accounts.maison-exemple.myshopify.com.currency: expected an ISO 4217 code in upper case, e.g. EUR"},
      {"bad url", section({{shop, account({"s"}, {{"api_base_url", config_node::make_scalar("ftp://x")}})}}),
       "accounts.maison-exemple.myshopify.com.api_base_url: expected an http:// or https:// URL"},
  };
  for (const auto& bc : cases) {
    INFO(bc.what);
    auto created = factory->create(bc.config);
    REQUIRE_FALSE(created);
    CHECK(created.err().kind == passerelle::error_kind::reject);
    CHECK(created.err().code == "bad_config");
    CHECK(created.err().message == bc.message);
  }
}

TEST_CASE("normalisation of shop domains and tokens", "[shopify]") {
  CHECK(shopify::normalize_shop_domain(" Maison-Exemple.MyShopify.com\t") == shop);
  CHECK(shopify::normalize_shop_domain("shop").empty());
  CHECK(shopify::normalize_shop_domain("https://shop.myshopify.com").empty());
  CHECK(shopify::normalize_shop_domain("shop..myshopify.com").empty());
  CHECK(shopify::normalize_shop_domain("-shop.myshopify.com").empty());
  CHECK(shopify::normalize_shop_domain("shop.myshopify.com.").empty());
  CHECK(shopify::normalize_shop_domain(std::string(254, 'a') + ".com").empty());
  CHECK(shopify::normalize_token("c1-7a2abe82733a34e84aa472d57fb5c3c1?key=4f0e1d2c") ==
        "c1-7a2abe82733a34e84aa472d57fb5c3c1");
  CHECK(shopify::normalize_token("gid://shopify/Cart/c1-abc?key=k") == "c1-abc");
  CHECK(shopify::normalize_token(" eeafa272 ") == "eeafa272");
}

// Each row: a request built from a valid signed one, and what must happen to it. Unauthorized outcomes are
// answered 401 and never kept; reject outcomes are dead-lettered (202); "events" rows are accepted (200).
TEST_CASE("bad inputs table", "[shopify][bad_input]") {
  const auto rotating = fixture_connector();                                // current + previous secret
  const auto rotated = make(section({{shop, account({current_secret})}}));  // previous one removed
  const auto no_currency = make(section({{shop, account({current_secret})}}));

  struct outcome {
    int events = -1;                // >= 0: success with that many events
    passerelle::error_kind kind{};  // otherwise this error
    std::string code;
    std::string message_part;  // a substring the message must contain (names the field)
  };
  const auto ok = [](int n) { return outcome{n, {}, {}, {}}; };
  const auto unauthorized = [](std::string code) {
    return outcome{-1, passerelle::error_kind::unauthorized, std::move(code), {}};
  };
  const auto reject = [](std::string code, std::string part) {
    return outcome{-1, passerelle::error_kind::reject, std::move(code), std::move(part)};
  };
  using build = std::function<golden_request()>;
  const auto signed_fixture = [](const char* name, const char* secret) {
    return [=] {
      auto r = fixture(name);
      sign_with(r, secret);
      return r;
    };
  };
  const auto signed_body = [](const std::string& topic, const std::string& body) {
    return [=] {
      auto r = request(topic, body);
      sign_with(r, current_secret);
      return r;
    };
  };
  const std::string nested = std::string(200, '[') + std::string(200, ']');

  struct row {
    const char* name;
    const sdk::connector* c;
    build make_request;
    outcome expected;
  };
  const std::vector<row> rows = {
      {"signed with the current secret", rotating.get(), signed_fixture("carts_update", current_secret), ok(1)},
      {"signed with the previous secret while it is configured", rotating.get(),
       signed_fixture("carts_update", previous_secret), ok(1)},
      {"signed with a secret removed by rotation", rotated.get(), signed_fixture("carts_update", previous_secret),
       unauthorized("bad_signature")},
      {"signed with a wrong secret", rotating.get(), signed_fixture("carts_update", "shpss_wrong"),
       unauthorized("bad_signature")},
      {"hex instead of base64 signature", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "X-Shopify-Hmac-Sha256", sdk::to_hex(sdk::hmac_sha256(current_secret, r.body)));
         return r;
       },
       unauthorized("bad_signature")},
      {"signature not base64 at all", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "X-Shopify-Hmac-Sha256", "not base64 !!");
         return r;
       },
       unauthorized("bad_signature")},
      {"missing signature", rotating.get(), [] { return fixture("carts_update"); }, unauthorized("missing_signature")},
      {"empty signature", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "X-Shopify-Hmac-Sha256", "  ");
         return r;
       },
       unauthorized("missing_signature")},
      {"body truncated after signing", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         sign_with(r, current_secret);
         r.body.resize(r.body.size() / 2);
         return r;
       },
       unauthorized("bad_signature")},
      {"signed truncated body", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         r.body.resize(r.body.size() / 2);
         sign_with(r, current_secret);
         return r;
       },
       reject("invalid_json", "not valid JSON")},
      {"unknown shop", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "X-Shopify-Shop-Domain", "someone-else.myshopify.com");
         sign_with(r, current_secret);
         return r;
       },
       unauthorized("unknown_account")},
      {"missing shop header", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         remove_header(r, "X-Shopify-Shop-Domain");
         sign_with(r, current_secret);
         return r;
       },
       unauthorized("unknown_account")},
      {"shop header in another case, with spaces", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "X-Shopify-Shop-Domain", " MAISON-EXEMPLE.myshopify.com ");
         sign_with(r, current_secret);
         return r;
       },
       ok(1)},
      {"invalid UTF-8", rotating.get(), signed_body("carts/update", cart_body("").insert(40, "\xC3\x28")),
       reject("invalid_utf8", "UTF-8")},
      {"deeply nested JSON", rotating.get(), signed_body("carts/update", R"({"token":"t","x":)" + nested + "}"),
       reject("too_deep", "deeper")},
      {"JSON that is not an object", rotating.get(), signed_body("carts/update", "[1,2]"),
       reject("invalid_json", "object")},
      {"XML subscription (REST format=xml)", rotating.get(),
       [] {
         auto r = request("carts/update", R"(<?xml version="1.0" encoding="UTF-8"?><cart><token>t</token></cart>)");
         set_header(r, "Content-Type", "application/xml");
         sign_with(r, current_secret);
         return r;
       },
       reject("unsupported_content_type", "application/xml")},
      {"JSON with a charset parameter", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         set_header(r, "Content-Type", "Application/JSON; charset=utf-8");
         sign_with(r, current_secret);
         return r;
       },
       ok(1)},
      {"no Content-Type", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         remove_header(r, "Content-Type");
         sign_with(r, current_secret);
         return r;
       },
       ok(1)},
      {"unknown topic", rotating.get(), signed_body("app/uninstalled", R"({"id":1})"), ok(0)},
      {"unknown topic with a body that is not JSON", rotating.get(), signed_body("shop/redact", "\x01\x02"), ok(0)},
      {"missing topic", rotating.get(),
       [] {
         auto r = fixture("carts_update");
         remove_header(r, "X-Shopify-Topic");
         sign_with(r, current_secret);
         return r;
       },
       reject("missing_topic", "X-Shopify-Topic")},
      {"cart without token", rotating.get(),
       signed_body("carts/update", R"({"line_items":[],"updated_at":"2026-11-20T15:50:00Z"})"),
       reject("missing_field", "token: required")},
      {"cart with a bad updated_at", rotating.get(),
       signed_body("carts/update", R"({"token":"t","line_items":[],"updated_at":"yesterday"})"),
       reject("bad_timestamp", "updated_at")},
      {"cart without line_items", rotating.get(),
       signed_body("carts/update", R"({"token":"t","updated_at":"2026-11-20T15:50:00Z"})"),
       reject("missing_field", "line_items: required")},
      {"line without quantity", rotating.get(),
       signed_body("carts/update", cart_body(R"({"key":"1:a","price_set":)" + money_bag("1.00", "EUR") + "}")),
       reject("missing_field", "line_items[0].quantity: required")},
      {"line with a negative quantity", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("1.00", "EUR"), "-2"))),
       reject("bad_quantity", "line_items[0].quantity")},
      {"line with a fractional quantity", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("1.00", "EUR"), "1.5"))),
       reject("bad_integer", "line_items[0].quantity")},
      {"line without any price", rotating.get(),
       signed_body("carts/update", cart_body(R"({"key":"1:a","quantity":1})")),
       reject("missing_field", "line_items[0].price_set")},
      {"amount with a comma", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("19,99", "EUR")))),
       reject("bad_amount", "line_items[0].price_set.presentment_money")},
      {"amount in exponent notation", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("1e3", "EUR")))), reject("bad_amount", "1e3")},
      {"amount with too many decimals", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("19.999", "EUR")))),
       reject("bad_amount", "fractional")},
      {"amount as a JSON number is read exactly", rotating.get(),
       signed_body("carts/update",
                   cart_body(cart_line(R"({"presentment_money":{"amount":19.99,"currency_code":"EUR"}})"))),
       ok(1)},
      {"malformed currency code", rotating.get(),
       signed_body("carts/update", cart_body(cart_line(money_bag("1.00", "EURO")))), reject("bad_amount", "EURO")},
      {"two currencies in one cart", rotating.get(),
       signed_body("carts/update", R"({"token":"t","updated_at":"2026-11-20T15:50:00Z","line_items":[)" +
                                       cart_line(money_bag("1.00", "EUR")) + "," + cart_line(money_bag("1.00", "USD")) +
                                       "]}"),
       reject("mixed_currency", "line_items[1].price_set")},
      {"plain prices and no currency known", no_currency.get(),
       signed_body("carts/update", cart_body(R"({"key":"1:a","quantity":2,"price":"3.10"})")),
       reject("missing_currency", "line_items[0].price_set")},
      {"plain prices with the shop's configured currency", rotating.get(),
       signed_body("carts/update", cart_body(R"({"key":"1:a","quantity":2,"price":"3.10"})")), ok(1)},
      {"checkout without token", rotating.get(),
       signed_body("checkouts/update", R"({"cart_token":"c","updated_at":"2026-11-20T15:50:00Z"})"),
       reject("missing_field", "token: required")},
      {"order without total_price", rotating.get(),
       signed_body("orders/create",
                   R"({"id":1,"cart_token":"c","created_at":"2026-11-20T15:50:00Z","currency":"EUR","line_items":[]})"),
       reject("missing_field", "total_price")},
      {"order without created_at", rotating.get(),
       signed_body("orders/create", R"({"id":1,"cart_token":"c","total_price":"1.00","currency":"EUR"})"),
       reject("missing_field", "created_at: required")},
      {"order without id", rotating.get(),
       signed_body("orders/create", R"({"cart_token":"c","created_at":"2026-11-20T15:50:00Z"})"),
       reject("missing_field", "id: required")},
  };

  for (const auto& r : rows) {
    INFO(r.name);
    const auto req = r.make_request();
    const auto got = sdk::testing::run_request(*r.c, req, received_at_ms);
    if (r.expected.events >= 0) {
      if (!got)
        FAIL_CHECK("unexpected error " << got.err().code << ": " << got.err().message);
      else
        CHECK(static_cast<int>(got->size()) == r.expected.events);
    } else {
      REQUIRE_FALSE(got);
      INFO(got.err().message);
      CHECK(got.err().kind == r.expected.kind);
      CHECK(got.err().code == r.expected.code);
      CHECK(got.err().message.find(r.expected.message_part) != std::string::npos);
    }
  }
}

TEST_CASE("a replayed delivery is recognisable and translates identically", "[shopify][dedup]") {
  const auto c = fixture_connector();
  auto first = fixture("carts_update");
  sign_with(first, current_secret);
  // Shopify's retry of the same delivery: same body, same X-Shopify-Webhook-Id, hours later. No timestamp is
  // signed, so there is no replay window to refuse it: the host dedups on the delivery id.
  auto retry = first;
  set_header(retry, "X-Shopify-Triggered-At", "2026-11-20T18:09:47.231009114Z");

  const auto verify = [&](const golden_request& r, std::int64_t at) {
    sdk::inbound_request in;
    in.method = r.method;
    in.headers = &r.headers;
    in.body = r.body;
    in.received_at_ms = at;
    return c->verify(in);
  };
  const auto d1 = verify(first, received_at_ms);
  const auto d2 = verify(retry, received_at_ms + four_hours_ms);
  REQUIRE(d1);
  REQUIRE(d2);
  CHECK(d1->delivery_id == "b54557e4-8a5f-4f7d-a70b-cd043a1e0002");
  CHECK(d1->delivery_id == d2->delivery_id);
  CHECK(d1->topic == "carts/update");
  CHECK(d1->account == shop);
  CHECK_FALSE(d1->ping);

  const auto e1 = sdk::testing::run_request(*c, first, received_at_ms);
  const auto e2 = sdk::testing::run_request(*c, retry, received_at_ms + four_hours_ms);
  REQUIRE(e1);
  REQUIRE(e2);
  REQUIRE(e1->size() == e2->size());
  for (std::size_t i = 0; i < e1->size(); ++i) {
    CHECK(google::protobuf::util::MessageDifferencer::Equals((*e1)[i], (*e2)[i]));
  }

  // Without X-Shopify-Webhook-Id (a proxy dropped it), X-Shopify-Event-Id stands in.
  remove_header(first, "X-Shopify-Webhook-Id");
  const auto d3 = verify(first, received_at_ms);
  REQUIRE(d3);
  CHECK(d3->delivery_id == "c1f0e6a2-5b1e-4b7e-9b0e-6a9e6f3f0002");

  // Headers are not signed: a forged id is made ASCII and bounded (deterministically) before it becomes a key.
  set_header(first, "X-Shopify-Webhook-Id", "id\xff\n" + std::string(400, 'x'));
  const auto d4 = verify(first, received_at_ms);
  REQUIRE(d4);
  CHECK(d4->delivery_id == "id??" + std::string(252, 'x'));
}

TEST_CASE("orders without a cart token fall back to the checkout's origin", "[shopify]") {
  const auto c = fixture_connector();
  auto req = request("orders/create", R"({"id":6012345670001,"cart_token":null,"checkout_token":"ck-9","name":"#1043",)"
                                      R"("created_at":"2026-11-20T16:00:00+01:00","currency":"EUR",)"
                                      R"("total_price_set":)" +
                                          money_bag("12.00", "EUR") + "}");
  sign_with(req, current_secret);
  const auto events = sdk::testing::run_request(*c, req, received_at_ms);
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  const auto& e = events->front();
  REQUIRE(e.references_size() == 2);
  CHECK(e.references(0) == std::string("shopify:") + shop + ":checkout:ck-9");
  CHECK(e.references(1) == std::string("shopify:") + shop + ":order:6012345670001");
  CHECK(e.basket_converted().order_number() == "#1043");
  CHECK(e.basket_converted().totals().total().amount_minor() == 1200);
}

TEST_CASE("the signature header is redacted before dead-lettering", "[shopify]") {
  const auto c = fixture_connector();
  CHECK(c->sensitive_headers() == std::vector<std::string>{"X-Shopify-Hmac-Sha256"});
  CHECK(c->name() == "shopify");
}

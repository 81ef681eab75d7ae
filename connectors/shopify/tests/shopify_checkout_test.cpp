// The Shopify checkout builder (web handoffs -> draft orders): request golden file, response parsing, errors.
#include "connectors/shopify/shopify_checkout.h"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "connectors/sdk/json.h"
#include "connectors/shopify/shopify_connector.h"

namespace shopify = passerelle::connectors::shopify;
namespace sdk = passerelle::connector;
namespace v1 = passerelle::v1;
using sdk::config_node;

namespace {

constexpr const char* shop = "maison-exemple.myshopify.com";

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SHOPIFY_FIXTURES_DIR) + "/draft_orders/" + name, std::ios::binary);
  if (!in) FAIL("cannot read fixture " << name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const sdk::connector> make(std::map<std::string, config_node> account_fields) {
  account_fields.emplace("secrets", config_node::make_list({"shpss_secret"}));
  auto section = config_node::make_map(
      {{"accounts", config_node::make_map({{shop, config_node::make_map(std::move(account_fields))},
                                           {"sans-token.myshopify.com",
                                            config_node::make_map({{"secrets", config_node::make_list({"x"})}})}})}});
  auto created = shopify::make_shopify_factory()->create(section);
  if (!created) FAIL("create: " << created.err().message);
  return *created;
}

std::shared_ptr<const sdk::connector> with_token() {
  return make({{"access_token", config_node::make_scalar("shpat_test_token")},
               {"api_base_url", config_node::make_scalar("http://127.0.0.1:9/admin/api/")}});
}

v1::Money money(std::int64_t minor, const std::string& currency) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency(currency);
  return m;
}

sdk::checkout_basket mixed_basket() {
  sdk::checkout_basket b;
  b.basket_id = "bsk_7W5B0Q2N3M4K5J6H7G8F9E0D1C";
  b.handoff_id = "hof_0A1B2C3D4E5F6G7H8J9K0M1N2P";
  b.currency = "EUR";
  b.note = "Livrer en boutique si possible";
  {
    // From the shop's own cart: its variant id is meaningful there.
    sdk::checkout_line l;
    l.source = std::string("shopify:") + shop;
    l.line.set_line_id("39072856:abc");
    l.line.set_variant_id("39072856");
    l.line.set_title("IPod Nano - 8GB");
    l.line.set_quantity(2);
    *l.line.mutable_unit_price() = money(19900, "EUR");
    b.lines.push_back(l);
  }
  {
    // From a till: a custom line item.
    sdk::checkout_line l;
    l.source = "poslog:paris-01";
    l.line.set_line_id("1");
    l.line.set_sku("CHEM-LIN-42");
    l.line.set_variant_id("999");  // the POS's own id: not a Shopify variant
    l.line.set_title("Chemise lin bleu ciel - 42");
    l.line.set_quantity(1);
    *l.line.mutable_unit_price() = money(6900, "EUR");
    b.lines.push_back(l);
  }
  {
    sdk::checkout_line l;  // no title: the SKU stands in
    l.source = "generic:boutique-lyon";
    l.line.set_line_id("2");
    l.line.set_sku("GIFT-BOX");
    l.line.set_quantity(3);
    *l.line.mutable_unit_price() = money(450, "EUR");
    b.lines.push_back(l);
  }
  {
    sdk::checkout_line l;  // removed to zero: left out
    l.source = "generic:boutique-lyon";
    l.line.set_line_id("3");
    l.line.set_sku("NOPE");
    l.line.set_quantity(0);
    b.lines.push_back(l);
  }
  v1::CustomerRef c;
  c.set_type(v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
  c.set_scope(std::string("shopify:") + shop);
  c.set_value("207119551");
  b.customers.push_back(c);
  v1::CustomerRef other;
  other.set_type(v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
  other.set_value("ab12");
  b.customers.push_back(other);
  return b;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

sdk::outbound_response answer(unsigned status, const std::string& body) {
  sdk::outbound_response r;
  r.status = status;
  r.body = body;
  return r;
}

}  // namespace

TEST_CASE("shopify exposes a checkout builder", "[shopify][checkout]") {
  auto c = with_token();
  REQUIRE(c->checkout() != nullptr);
  CHECK(c->checkout()->check_account(shop));
  const auto unknown = c->checkout()->check_account("other.myshopify.com");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().kind == passerelle::error_kind::not_found);
  const auto no_token = c->checkout()->check_account("sans-token.myshopify.com");
  REQUIRE_FALSE(no_token);
  CHECK(no_token.err().code == "checkout_not_configured");
}

TEST_CASE("a mixed basket becomes the draft order of the golden file", "[shopify][checkout][golden]") {
  auto c = with_token();
  auto req = c->checkout()->build_checkout_request(shop, mixed_basket());
  REQUIRE(req);
  CHECK(req->method == "POST");
  // api_base_url's trailing '/' is dropped by the factory.
  CHECK(req->url == "http://127.0.0.1:9/admin/api/2024-01/draft_orders.json");
  bool token = false;
  for (const auto& h : req->headers)
    token = token || (h.name == "X-Shopify-Access-Token" && h.value == "shpat_test_token");
  CHECK(token);
  CHECK(parse(req->body) == parse(fixture("mixed_basket.request.json")));
}

TEST_CASE("the default API base is the shop's own admin API", "[shopify][checkout]") {
  auto c = make({{"access_token", config_node::make_scalar("shpat_x")}});
  auto req = c->checkout()->build_checkout_request(shop, mixed_basket());
  REQUIRE(req);
  CHECK(req->url == std::string("https://") + shop + "/admin/api/2024-01/draft_orders.json");
}

TEST_CASE("baskets that cannot become a draft order are refused", "[shopify][checkout]") {
  auto c = with_token();
  const auto* b = c->checkout();

  auto empty = mixed_basket();
  empty.lines.clear();
  CHECK(b->build_checkout_request(shop, empty).err().code == "empty_basket");

  auto no_price = mixed_basket();
  no_price.lines[1].line.clear_unit_price();
  auto r = b->build_checkout_request(shop, no_price);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == "missing_price");
  CHECK(r.err().message.find("CHEM") == std::string::npos);  // names the line by its id
  CHECK(r.err().message.find("line 1 (1)") != std::string::npos);

  auto other_currency = mixed_basket();
  *other_currency.lines[2].line.mutable_unit_price() = money(450, "CHF");
  CHECK(b->build_checkout_request(shop, other_currency).err().code == "currency_mismatch");

  auto negative = mixed_basket();
  negative.lines[0].line.set_quantity(-1);
  CHECK(b->build_checkout_request(shop, negative).err().code == "bad_quantity");

  CHECK(b->build_checkout_request("sans-token.myshopify.com", mixed_basket()).err().code == "checkout_not_configured");

  auto eur_shop =
      make({{"access_token", config_node::make_scalar("t")}, {"currency", config_node::make_scalar("CHF")}});
  CHECK(eur_shop->checkout()->build_checkout_request(shop, mixed_basket()).err().code == "currency_mismatch");
}

TEST_CASE("Shopify's answers become a checkout or a retry or a refusal", "[shopify][checkout]") {
  auto c = with_token();
  const auto* b = c->checkout();

  auto created = b->parse_checkout_response(shop, answer(201, fixture("created.response.json")));
  REQUIRE(created);
  CHECK(created->checkout_url ==
        "https://maison-exemple.myshopify.com/548380009/invoices/c9a2a2e2bd3b1c4bd8f3a3b2e5a0c6d1");
  CHECK(created->native_id == "draft_order:1069920475");

  auto unprocessable = b->parse_checkout_response(shop, answer(422, fixture("unprocessable.response.json")));
  REQUIRE_FALSE(unprocessable);
  CHECK(unprocessable.err().kind == passerelle::error_kind::reject);
  CHECK(unprocessable.err().code == "unprocessable");
  CHECK(unprocessable.err().message.find("line_items: must have at least one line item") != std::string::npos);
  CHECK(unprocessable.err().message.find("customer: is invalid") != std::string::npos);

  auto throttled = b->parse_checkout_response(shop, answer(429, fixture("throttled.response.json")));
  REQUIRE_FALSE(throttled);
  CHECK(throttled.err().kind == passerelle::error_kind::retry);
  CHECK(throttled.err().code == "rate_limited");

  auto unauthorized = b->parse_checkout_response(shop, answer(401, fixture("unauthorized.response.json")));
  CHECK(unauthorized.err().code == "unauthorized");
  CHECK(unauthorized.err().message.find("shpat") == std::string::npos);

  for (unsigned s : {500U, 502U, 503U, 504U}) {
    auto down = b->parse_checkout_response(shop, answer(s, "<html>oops</html>"));
    CHECK(down.err().kind == passerelle::error_kind::retry);
    CHECK(down.err().message.find("non-JSON body of 17 bytes") != std::string::npos);
  }
  CHECK(b->parse_checkout_response(shop, answer(423, "{\"errors\":\"Locked\"}")).err().code == "shop_locked");
  CHECK(b->parse_checkout_response(shop, answer(302, "")).err().code == "http_302");
  CHECK(b->parse_checkout_response(shop, answer(201, R"({"draft_order": {"id": 5}})")).err().code == "bad_response");
  CHECK(b->parse_checkout_response(shop, answer(201, "not json")).err().code == "bad_response");

  // A long error text is bounded.
  const std::string long_error = R"({"errors": ")" + std::string(5000, 'x') + R"("})";
  CHECK(b->parse_checkout_response(shop, answer(422, long_error)).err().message.size() < 400);
}

TEST_CASE("minor units print as exact decimal strings", "[sdk][money]") {
  CHECK(*sdk::minor_to_decimal(1999, "EUR") == "19.99");
  CHECK(*sdk::minor_to_decimal(5, "EUR") == "0.05");
  CHECK(*sdk::minor_to_decimal(-5, "EUR") == "-0.05");
  CHECK(*sdk::minor_to_decimal(500, "JPY") == "500");
  CHECK(*sdk::minor_to_decimal(1234, "KWD") == "1.234");
  CHECK(*sdk::minor_to_decimal(0, "EUR") == "0.00");
  CHECK(*sdk::minor_to_decimal(std::numeric_limits<std::int64_t>::min(), "EUR") == "-92233720368547758.08");
  CHECK_FALSE(sdk::minor_to_decimal(1, "eur"));
  for (std::int64_t v : {0, 1, 99, 100, 12345, -12345})
    CHECK(*sdk::decimal_to_minor(*sdk::minor_to_decimal(v, "EUR"), "EUR") == v);
}

// Tests of the WooCommerce connector: golden fixtures (fixtures/), configuration, and a table of bad inputs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connectors/sdk/crypto.h"
#include "connectors/sdk/testing/golden.h"
#include "connectors/woocommerce/woocommerce_connector.h"
#include "passerelle/v1/event.pb.h"

namespace {

namespace sdk = passerelle::connector;
namespace golden = passerelle::connector::testing;
using passerelle::connectors::woocommerce::make_woocommerce_factory;
using passerelle::connectors::woocommerce::normalise_account;

constexpr std::int64_t received_at_ms = 1'795'356'000'000;  // 2026-11-22T14:00:00Z
const std::string current_secret = "wc-test-secret-current";
const std::string previous_secret = "wc-test-secret-previous";
const std::string fixtures = WOOCOMMERCE_FIXTURES_DIR;

sdk::config_node section_with(std::map<std::string, sdk::config_node> account) {
  return sdk::config_node::make_map(
      {{"accounts",
        sdk::config_node::make_map({{"shop.example.fr", sdk::config_node::make_map(std::move(account))}})}});
}

sdk::config_node default_section() {
  return section_with({{"secrets", sdk::config_node::make_list({current_secret, previous_secret})}});
}

std::shared_ptr<const sdk::connector> make_connector(const sdk::config_node& section = default_section()) {
  auto created = make_woocommerce_factory()->create(section);
  REQUIRE(created.ok());
  return *created;
}

void set_header(golden::golden_request& req, const std::string& name, const std::string& value) {
  for (auto& h : req.headers) {
    if (h.name == name) {
      h.value = value;
      return;
    }
  }
  req.headers.push_back({name, value});
}

void remove_header(golden::golden_request& req, const std::string& name) {
  std::erase_if(req.headers, [&](const sdk::http_header& h) { return h.name == name; });
}

void sign(golden::golden_request& req, const std::string& secret) {
  set_header(req, "X-WC-Webhook-Signature", sdk::base64_encode(sdk::hmac_sha256(secret, req.body)));
}

// Signs every fixture like WooCommerce does, except the creation ping (which WooCommerce sends unsigned and
// without any X-WC-* header).
void woo_signer(golden::golden_request& req) {
  const bool has_topic = std::any_of(req.headers.begin(), req.headers.end(),
                                     [](const sdk::http_header& h) { return h.name == "X-WC-Webhook-Topic"; });
  if (has_topic) sign(req, current_secret);
}

golden::golden_request signed_order() {
  auto req = golden::load_golden_request(fixtures, "order_created_processing_with_cart_key");
  sign(req, current_secret);
  return req;
}

}  // namespace

TEST_CASE("woocommerce: golden fixtures translate to the expected events", "[woocommerce][golden]") {
  const auto connector = make_connector();
  const auto results = golden::run_golden_dir(*connector, fixtures, woo_signer, received_at_ms);
  REQUIRE(results.size() >= 20);
  for (const auto& r : results) {
    INFO(r.name << ": " << r.diff);
    CHECK(r.passed);
  }
}

TEST_CASE("woocommerce: account keys are the lowercased host of X-WC-Webhook-Source", "[woocommerce]") {
  CHECK(normalise_account("https://Shop.Example.fr/") == "shop.example.fr");
  CHECK(normalise_account("http://shop.example.fr:8080/boutique/?lang=fr") == "shop.example.fr");
  CHECK(normalise_account("https://user:pw@shop.example.fr./") == "shop.example.fr");
  CHECK(normalise_account("shop.example.fr") == "shop.example.fr");
  CHECK(normalise_account("https://[2001:db8::1]:443/") == "[2001:db8::1]");
  CHECK(normalise_account("https://sh\x01op/").empty());
  CHECK(normalise_account("").empty());
}

TEST_CASE("woocommerce: the factory validates its section and names the key path", "[woocommerce][config]") {
  const auto factory = make_woocommerce_factory();
  CHECK(factory->metadata().name == "woocommerce");

  SECTION("a valid section, account keys normalised") {
    auto section = sdk::config_node::make_map(
        {{"accounts", sdk::config_node::make_map(
                          {{"https://Shop.Example.fr/",
                            sdk::config_node::make_map(
                                {{"secrets", sdk::config_node::make_list({"s"})},
                                 {"api_base_url", sdk::config_node::make_scalar("http://127.0.0.1:9/wp-json/wc/v3")},
                                 {"consumer_key", sdk::config_node::make_scalar("ck_test")},
                                 {"consumer_secret", sdk::config_node::make_scalar("cs_test")}})}})}});
    auto created = factory->create(section);
    REQUIRE(created.ok());
    golden::golden_request req = signed_order();
    set_header(req, "X-WC-Webhook-Signature", sdk::base64_encode(sdk::hmac_sha256("s", req.body)));
    auto delivery = (*created)->verify([&] {
      sdk::inbound_request in;
      in.method = "POST";
      in.headers = &req.headers;
      in.body = req.body;
      return in;
    }());
    REQUIRE(delivery.ok());
    CHECK(delivery->account == "shop.example.fr");
  }
  SECTION("secrets are required") {
    auto r = factory->create(section_with({{"api_base_url", sdk::config_node::make_scalar("https://x/")}}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("accounts.shop.example.fr.secrets") != std::string::npos);
  }
  SECTION("unknown keys are refused") {
    auto r = factory->create(section_with(
        {{"secrets", sdk::config_node::make_list({"s"})}, {"secret", sdk::config_node::make_scalar("s")}}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("accounts.shop.example.fr.secret") != std::string::npos);
  }
  SECTION("a bad api_base_url is refused") {
    auto r = factory->create(section_with(
        {{"secrets", sdk::config_node::make_list({"s"})}, {"api_base_url", sdk::config_node::make_scalar("ftp://x")}}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("api_base_url") != std::string::npos);
  }
  SECTION("two keys for the same site are refused") {
    auto settings = sdk::config_node::make_map({{"secrets", sdk::config_node::make_list({"s"})}});
    auto r = factory->create(sdk::config_node::make_map(
        {{"accounts",
          sdk::config_node::make_map({{"shop.example.fr", settings}, {"https://SHOP.example.fr/", settings}})}}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("the same site as another account") != std::string::npos);
  }
}

namespace {

// What a bad-input case must end in: verify() refusing (401), translate() refusing (202, dead letter), a ping,
// or events (possibly none).
enum class outcome { unauthorized, rejected, ping, events, no_events };

struct bad_input_case {
  std::string name;
  std::function<void(golden::golden_request&)> mutate;
  outcome expected;
  std::string code;  // the error code for unauthorized / rejected
};

}  // namespace

TEST_CASE("woocommerce: bad inputs end in the documented outcome", "[woocommerce][bad_input]") {
  const auto connector = make_connector();
  const std::vector<bad_input_case> cases = {
      {"valid, current secret", [](auto&) {}, outcome::events, ""},
      {"valid, previous secret (rotation)", [](auto& r) { sign(r, previous_secret); }, outcome::events, ""},
      {"signed with a removed secret", [](auto& r) { sign(r, "wc-test-secret-removed"); }, outcome::unauthorized,
       "bad_signature"},
      {"wrong signature",
       [](auto& r) { set_header(r, "X-WC-Webhook-Signature", sdk::base64_encode(std::string(32, 'x'))); },
       outcome::unauthorized, "bad_signature"},
      {"signature not base64", [](auto& r) { set_header(r, "X-WC-Webhook-Signature", "not base64!"); },
       outcome::unauthorized, "bad_signature"},
      {"signature of the wrong length",
       [](auto& r) { set_header(r, "X-WC-Webhook-Signature", sdk::base64_encode("short")); }, outcome::unauthorized,
       "bad_signature"},
      {"missing signature", [](auto& r) { remove_header(r, "X-WC-Webhook-Signature"); }, outcome::unauthorized,
       "missing_signature"},
      {"empty signature", [](auto& r) { set_header(r, "X-WC-Webhook-Signature", ""); }, outcome::unauthorized,
       "missing_signature"},
      {"unknown account", [](auto& r) { set_header(r, "X-WC-Webhook-Source", "https://other.example.com/"); },
       outcome::unauthorized, "unknown_account"},
      {"missing source header", [](auto& r) { remove_header(r, "X-WC-Webhook-Source"); }, outcome::unauthorized,
       "unknown_account"},
      {"path account differs from the source", [](auto& r) { r.path_account = "other.example.com"; },
       outcome::unauthorized, "unknown_account"},
      {"body re-serialised without WooCommerce's \\/ escapes after signing",
       [](auto& r) {
         std::string unescaped;
         for (std::size_t i = 0; i < r.body.size(); ++i) {
           if (r.body[i] == '\\' && i + 1 < r.body.size() && r.body[i + 1] == '/') continue;
           unescaped.push_back(r.body[i]);
         }
         r.body = unescaped;  // same JSON value, different bytes: the signature no longer matches
       },
       outcome::unauthorized, "bad_signature"},
      {"body tampered after signing", [](auto& r) { r.body.replace(r.body.find("55.20"), 5, "05.20"); },
       outcome::unauthorized, "bad_signature"},
      {"truncated body",
       [](auto& r) {
         r.body.resize(r.body.size() / 2);
         sign(r, current_secret);
       },
       outcome::rejected, "invalid_json"},
      {"invalid UTF-8",
       [](auto& r) {
         r.body.replace(r.body.find("Marie"), 1, "\xC3\x28");
         sign(r, current_secret);
       },
       outcome::rejected, "invalid_utf8"},
      {"deeply nested JSON",
       [](auto& r) {
         r.body = "{\"id\":1,\"x\":" + std::string(100, '[') + std::string(100, ']') + "}";
         sign(r, current_secret);
       },
       outcome::rejected, "too_deep"},
      {"not an object",
       [](auto& r) {
         r.body = "[1,2,3]";
         sign(r, current_secret);
       },
       outcome::rejected, "invalid_payload"},
      {"topic Passerelle does not use", [](auto& r) { set_header(r, "X-WC-Webhook-Topic", "coupon.updated"); },
       outcome::no_events, ""},
      {"action topic", [](auto& r) { set_header(r, "X-WC-Webhook-Topic", "action.woocommerce_add_to_cart"); },
       outcome::no_events, ""},
      {"unknown companion topic", [](auto& r) { set_header(r, "X-WC-Webhook-Topic", "passerelle.basket.exploded"); },
       outcome::rejected, "unknown_topic"},
      {"missing topic", [](auto& r) { remove_header(r, "X-WC-Webhook-Topic"); }, outcome::rejected, "missing_topic"},
      {"order without id",
       [](auto& r) {
         r.body.replace(0, r.body.find(",\"parent_id\""), "{\"idx\":727");
         sign(r, current_secret);
       },
       outcome::rejected, "missing_field"},
      {"order id not an integer",
       [](auto& r) {
         r.body.replace(0, r.body.find(",\"parent_id\""), "{\"id\":\"seven\"");
         sign(r, current_secret);
       },
       outcome::rejected, "bad_integer"},
      {"bad money",
       [](auto& r) {
         r.body.replace(r.body.find("\"55.20\""), 7, "\"55.2.0\"");
         sign(r, current_secret);
       },
       outcome::rejected, "bad_amount"},
      {"money with more decimals than the currency",
       [](auto& r) {
         r.body.replace(r.body.find("\"55.20\""), 7, "\"55.205\"");
         sign(r, current_secret);
       },
       outcome::rejected, "bad_amount"},
      {"bad currency",
       [](auto& r) {
         r.body.replace(r.body.find("\"EUR\""), 5, "\"euro\"");
         sign(r, current_secret);
       },
       outcome::rejected, "bad_currency"},
      {"bad modification date",
       [](auto& r) {
         r.body.replace(r.body.find("\"2026-11-22T14:02:14\""), 21, "\"yesterday\"");
         sign(r, current_secret);
       },
       outcome::rejected, "bad_timestamp"},
      {"unsigned ping",
       [](auto& r) {
         r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
         r.body = "webhook_id=12";
       },
       outcome::ping, ""},
      {"unsigned ping-like body with more fields",
       [](auto& r) {
         r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
         r.body = "webhook_id=12&topic=order.created";
       },
       outcome::unauthorized, "unknown_account"},
      {"unsigned ping-like body with a JSON content type",
       [](auto& r) {
         r.headers = {{"Content-Type", "application/json"}};
         r.body = "webhook_id=12";
       },
       outcome::unauthorized, "unknown_account"},
      {"unsigned JSON from a known site",
       [](auto& r) {
         remove_header(r, "X-WC-Webhook-Signature");
         r.body = "webhook_id=";
       },
       outcome::unauthorized, "missing_signature"},
      {"GET ping",
       [](auto& r) {
         r.headers.clear();
         r.method = "GET";
         r.body = "webhook_id=12";
       },
       outcome::unauthorized, "unknown_account"},
  };
  for (const auto& c : cases) {
    auto req = signed_order();
    c.mutate(req);
    sdk::inbound_request in;
    in.method = req.method;
    in.path_account = req.path_account;
    in.headers = &req.headers;
    in.body = req.body;
    in.received_at_ms = received_at_ms;
    INFO("case: " << c.name);
    auto delivery = connector->verify(in);
    if (c.expected == outcome::unauthorized) {
      REQUIRE_FALSE(delivery.ok());
      CHECK(delivery.err().kind == passerelle::error_kind::unauthorized);
      CHECK(delivery.err().code == c.code);
      continue;
    }
    REQUIRE(delivery.ok());
    if (c.expected == outcome::ping) {
      CHECK(delivery->ping);
      continue;
    }
    CHECK_FALSE(delivery->ping);
    auto events = connector->translate(in, *delivery);
    if (c.expected == outcome::rejected) {
      REQUIRE_FALSE(events.ok());
      CHECK(events.err().kind == passerelle::error_kind::reject);
      CHECK(events.err().code == c.code);
      CHECK_FALSE(events.err().message.empty());
      continue;
    }
    REQUIRE(events.ok());
    if (c.expected == outcome::no_events)
      CHECK(events->empty());
    else
      CHECK_FALSE(events->empty());
  }
}

TEST_CASE("woocommerce: error messages name the bad field", "[woocommerce][bad_input]") {
  const auto connector = make_connector();
  auto req = golden::load_golden_request(fixtures, "order_bad_money");
  woo_signer(req);
  auto r = golden::run_request(*connector, req, received_at_ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("line_items[1].total") != std::string::npos);

  req = golden::load_golden_request(fixtures, "companion_cart_missing_key");
  woo_signer(req);
  r = golden::run_request(*connector, req, received_at_ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("cart_key") != std::string::npos);
}

TEST_CASE("woocommerce: a removed secret stops verifying once the configuration drops it", "[woocommerce][rotation]") {
  auto req = signed_order();
  sign(req, previous_secret);
  sdk::inbound_request in;
  in.method = "POST";
  in.headers = &req.headers;
  in.body = req.body;
  CHECK(make_connector()->verify(in).ok());
  const auto rotated = make_connector(section_with({{"secrets", sdk::config_node::make_list({current_secret})}}));
  auto refused = rotated->verify(in);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == "bad_signature");
}

TEST_CASE("woocommerce: delivery ids deduplicate redeliveries but not distinct notices", "[woocommerce][dedup]") {
  const auto connector = make_connector();
  const auto delivery_of = [&](golden::golden_request& req) {
    sdk::inbound_request in;
    in.method = "POST";
    in.headers = &req.headers;
    in.body = req.body;
    auto d = connector->verify(in);
    REQUIRE(d.ok());
    return d->delivery_id;
  };
  auto first = signed_order();
  auto replay = signed_order();
  CHECK(delivery_of(first) == delivery_of(replay));
  CHECK(delivery_of(first).starts_with("5b7f2c1e9d8a4f60b3c2a1d0e9f8a7b6-"));
  // WooCommerce reuses a delivery id for two deliveries of one hook within the same second.
  auto other = golden::load_golden_request(fixtures, "order_updated_completed");
  set_header(other, "X-WC-Webhook-Delivery-ID", "5b7f2c1e9d8a4f60b3c2a1d0e9f8a7b6");
  sign(other, current_secret);
  CHECK(delivery_of(first) != delivery_of(other));
  // Without the header the body alone identifies the delivery.
  remove_header(other, "X-WC-Webhook-Delivery-ID");
  CHECK(delivery_of(other).starts_with("body-"));
}

TEST_CASE("woocommerce: orders and the companion's cart land on the same basket", "[woocommerce]") {
  const auto connector = make_connector();
  auto cart = golden::load_golden_request(fixtures, "companion_cart_updated");
  auto order = golden::load_golden_request(fixtures, "order_created_processing_with_cart_key");
  woo_signer(cart);
  woo_signer(order);
  auto cart_events = golden::run_request(*connector, cart, received_at_ms);
  auto order_events = golden::run_request(*connector, order, received_at_ms);
  REQUIRE(cart_events.ok());
  REQUIRE(order_events.ok());
  REQUIRE(cart_events->size() == 1);
  REQUIRE(order_events->size() == 1);
  CHECK((*cart_events)[0].references(0) == (*order_events)[0].references(0));
  CHECK((*order_events)[0].references(1) == "woocommerce:shop.example.fr:order:727");
  CHECK((*order_events)[0].has_basket_converted());
  // Emails never leave the connector in clear.
  for (const auto& e : {(*cart_events)[0], (*order_events)[0]}) {
    CHECK(e.DebugString().find("Dupont") == std::string::npos);
    CHECK(e.DebugString().find("dupont") == std::string::npos);
  }
}

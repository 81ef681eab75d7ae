// The configuration loader checks the shape of connector sections; the connector factories check their fields.
// These tests load YAML with the real loader and hand each section, converted as the daemon converts it
// (broker/app/connector_sections.h), to the real built-in factories, so the two halves are proven to agree.
#include <catch2/catch.hpp>

#include <string>

#include "broker/app/connector_sections.h"
#include "broker/config/config.h"
#include "connectors/register_builtin.h"
#include "connectors/sdk/registry.h"

using namespace passerelle;

namespace {

const connector::registry& builtin() {
  static const connector::registry r = [] {
    connector::registry out;
    REQUIRE(connectors::register_builtin_connectors(out).ok());
    return out;
  }();
  return r;
}

// Loads `yaml` (which must load) and creates connector `name` from its section: ok, or the factory's message.
std::string create(const std::string& yaml, const std::string& name) {
  const result<config::config> cfg = config::load_config_string(yaml);
  if (!cfg.ok()) FAIL(cfg.err().message);
  const connector::connector_factory* factory = builtin().find(name);
  REQUIRE(factory != nullptr);
  const auto created = factory->create(app::to_sdk_node(cfg->connectors.at(name).raw));
  if (created.ok()) return "ok";
  CHECK(created.err().code == "bad_config");
  return created.err().message;
}

}  // namespace

TEST_CASE("fields the generic factory takes load and create a connector", "[config][connectors]") {
  // The old schema in broker/config refused these two, which the factory has always accepted.
  CHECK(create(R"(
connectors:
  generic: { accounts: { acct: { secrets: ["${HOME}"], api_base_url: "http://127.0.0.1:1", max_events_per_request: 5 } } }
)",
               "generic") == "ok");
  CHECK(create("connectors: { generic: { accounts: { acct: { secrets: [s], max_events_per_request: lots } } } }",
               "generic") == "accounts.acct.max_events_per_request: expected an integer from 1 to 100000");
}

TEST_CASE("the factories refuse what the loader lets through, naming the key", "[config][connectors]") {
  CHECK(create("connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [s], colour: blue } } } }",
               "shopify") == "accounts.a.myshopify.com.colour: unknown key");
  CHECK(create("connectors: { shopify: { accounts: { a.myshopify.com: { access_token: t } } } }", "shopify") ==
        "accounts.a.myshopify.com.secrets: required");
  CHECK(create("connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [s], api_base_url: ftp://x } } } }",
               "shopify") == "accounts.a.myshopify.com.api_base_url: expected an http:// or https:// URL");
  CHECK(create("connectors: { shopify: { webhooks: { x: y } } }", "shopify") ==
        "webhooks: unknown key (expected `accounts`)");
  CHECK(create("connectors: { woocommerce: { accounts: { shop.example.fr: { secrets: [] } } } }", "woocommerce") ==
        "accounts.shop.example.fr.secrets: expected a non-empty list of strings");
}

TEST_CASE("account keys are normalised by their connector", "[config][connectors]") {
  // Kept as written by the loader; the Shopify factory lowercases shop domains and sees the duplicate.
  CHECK(create("connectors: { shopify: { accounts: { A.myshopify.com: { secrets: [s] }, a.myshopify.com: { secrets: "
               "[t] } } } }",
               "shopify")
            .find("same shop as accounts.") != std::string::npos);
  CHECK(create("connectors: { shopify: { accounts: { Example.MyShopify.com: { secrets: [s] } } } }", "shopify") ==
        "ok");
}

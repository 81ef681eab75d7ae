#include "connectors/sdk/connector.h"
#include "connectors/sdk/registry.h"

#include <catch2/catch.hpp>

using namespace passerelle::connector;

namespace {

connector_metadata sample_metadata() {
  connector_metadata m;
  m.name = "sample";
  m.account_fields = {{"secrets", field_type::secret_list, true, "HMAC secrets, current first"},
                      {"api_base_url", field_type::url, false, "platform API"}};
  return m;
}

config_node section_with(std::map<std::string, config_node> account) {
  return config_node::make_map(
      {{"accounts", config_node::make_map({{"shop.example", config_node::make_map(std::move(account))}})}});
}

}  // namespace

TEST_CASE("validate_accounts_section names the offending key", "[sdk][config]") {
  const auto m = sample_metadata();
  CHECK(validate_accounts_section(m, section_with({{"secrets", config_node::make_list({"s1", "s2"})}})));

  auto missing = validate_accounts_section(m, section_with({}));
  REQUIRE_FALSE(missing);
  CHECK(missing.err().message == "accounts.shop.example.secrets: required");

  auto unknown = validate_accounts_section(
      m, section_with({{"secrets", config_node::make_list({"s"})}, {"secret", config_node::make_scalar("x")}}));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().message == "accounts.shop.example.secret: unknown key");

  auto bad_url = validate_accounts_section(m, section_with({{"secrets", config_node::make_list({"s"})},
                                                            {"api_base_url", config_node::make_scalar("ftp://x")}}));
  REQUIRE_FALSE(bad_url);
  CHECK(bad_url.err().message == "accounts.shop.example.api_base_url: expected an http:// or https:// URL");

  auto empty_list = validate_accounts_section(m, section_with({{"secrets", config_node::make_list({})}}));
  REQUIRE_FALSE(empty_list);

  auto no_accounts = validate_accounts_section(m, config_node::make_map({}));
  REQUIRE_FALSE(no_accounts);
  CHECK(no_accounts.err().message == "accounts: expected a non-empty map of account -> settings");
}

TEST_CASE("inbound_request header lookup is case-insensitive", "[sdk]") {
  std::vector<http_header> headers = {{"X-Shopify-Hmac-Sha256", "abc"}, {"Content-Type", "application/json"}};
  inbound_request req;
  req.headers = &headers;
  CHECK(req.header("x-shopify-hmac-sha256") == "abc");
  CHECK(req.has_header("CONTENT-TYPE"));
  CHECK(req.header("missing").empty());
  CHECK_FALSE(req.has_header("missing"));
}

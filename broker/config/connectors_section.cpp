#include "broker/config/connectors_schema.h"

namespace passerelle::config {

namespace {

field_schema string_field(std::string_view name, bool required, bool secret) {
  return {name, field_type::string, required, secret, {}};
}
field_schema url_field(std::string_view name, bool required = false) {
  return {name, field_type::url, required, false, {}};
}
field_schema secrets_field() { return {"secrets", field_type::string_list, true, true, {}}; }

// Every account takes `api_base_url` (CONTRACT.md), so sandboxes and local test servers can stand in for the
// platform; it defaults, in each connector, to the platform's real endpoint.
std::vector<connector_schema> make_schemas() {
  std::vector<connector_schema> s;
  s.push_back({"bigcommerce",
               account_key_rule::bigcommerce_store,
               {string_field("shared_token", true, true), string_field("access_token", false, true),
                url_field("api_base_url")}});
  s.push_back({"commercetools",
               account_key_rule::opaque,
               {string_field("client_id", true, true),
                string_field("client_secret", true, true),
                url_field("auth_url"),
                url_field("api_base_url"),
                {"notices",
                 field_type::mapping,
                 false,
                 false,
                 {string_field("bootstrap_servers", true, false), string_field("topic", true, false)}}}});
  s.push_back({"generic", account_key_rule::opaque, {secrets_field()}});
  s.push_back({"shopify",
               account_key_rule::lowercase_host,
               {secrets_field(), string_field("access_token", false, true), url_field("api_base_url")}});
  s.push_back({"square",
               account_key_rule::opaque,
               {string_field("signature_key", true, true), url_field("notification_url", true),
                string_field("access_token", false, true), url_field("api_base_url")}});
  // WooCommerce's REST API authenticates with a consumer key/secret pair (for call-backs such as fetching an order).
  s.push_back({"woocommerce",
               account_key_rule::lowercase_host,
               {secrets_field(), string_field("consumer_key", false, true),
                string_field("consumer_secret", false, true), url_field("api_base_url")}});
  return s;
}

}  // namespace

std::span<const connector_schema> builtin_connectors() {
  static const std::vector<connector_schema> schemas = make_schemas();
  return schemas;
}

const connector_schema* find_builtin_connector(std::string_view name) {
  for (const connector_schema& c : builtin_connectors()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace passerelle::config

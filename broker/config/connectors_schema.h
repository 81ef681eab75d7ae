#pragma once
// The built-in connectors' configuration schemas: which fields an account of each connector takes, their types,
// which are required and which are secrets. The loader checks `connectors.<name>.accounts.<account>` against
// these; `passerelle connectors` can print them. Plugin connectors are not described here: their sections are
// kept as raw trees for the plugin to read.
//
// Thread-safety: immutable static data, built on first use (thread-safe static initialisation).

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace passerelle::config {

enum class field_type {
  string,       // a non-empty scalar
  string_list,  // a non-empty list of non-empty scalars (e.g. current and previous webhook secrets)
  url,          // an absolute http:// or https:// URL
  mapping,      // a nested mapping with its own fields (`children`)
};

struct field_schema {
  std::string_view name;
  field_type type = field_type::string;
  bool required = false;
  bool secret = false;                 // never echoed in errors; the only fields reload_secrets() may change
  std::vector<field_schema> children;  // for field_type::mapping
};

// How an account key is checked and normalised (CONTRACT.md: "Account keys are normalised per connector").
enum class account_key_rule {
  lowercase_host,     // shopify (shop domain), woocommerce (host of X-WC-Webhook-Source): lowercased, no '/'
  bigcommerce_store,  // "stores/{hash}", as in BigCommerce's `producer`
  opaque,             // as written (square merchant_id, commercetools project key, generic account)
};

struct connector_schema {
  std::string_view name;
  account_key_rule account_rule = account_key_rule::opaque;
  std::vector<field_schema> fields;
};

// The built-in connectors, in alphabetical order.
std::span<const connector_schema> builtin_connectors();

// The schema of built-in connector `name`, or nullptr when no built-in connector has that name.
const connector_schema* find_builtin_connector(std::string_view name);

}  // namespace passerelle::config

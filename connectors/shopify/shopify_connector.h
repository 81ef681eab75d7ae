#pragma once
// The Shopify connector: verifies Shopify webhooks (X-Shopify-Hmac-Sha256 over the raw body) and translates
// carts/create|update into BasketSnapshot, checkouts/create|update into BasketCustomerAttached (or SubjectLinked
// when the checkout names no customer yet) and orders/create into BasketConverted. Mapping, money and identity
// rules, and what Shopify does on failures: connectors/shopify/README.md.
//
// Lifecycle: make_shopify_factory() is called once by connectors/register_builtin (explicit registration); the
// host calls the factory's create() at start-up and on every reload (SIGHUP re-reads secrets and tokens) and owns
// the resulting connector through a shared_ptr. Threads: the connector is immutable after construction; verify()
// and translate() are const, lock-free and called concurrently from the host's I/O threads.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sdk/connector.h"
#include "connectors/shopify/shopify_checkout.h"

namespace passerelle::connectors::shopify {

namespace sdk = passerelle::connector;

inline constexpr std::string_view connector_name = "shopify";

// One configured shop (connectors.shopify.accounts.<shop domain>). Value type.
struct account_settings {
  std::string shop;                  // normalised shop domain, e.g. "example.myshopify.com"
  std::vector<std::string> secrets;  // app client secrets, current first; any of them authenticates a request
  std::string access_token;          // Admin API token for call-backs; empty when not configured
  std::string api_base_url;          // Admin API base, no trailing '/'; defaults to "https://{shop}/admin/api"
  std::string currency;              // ISO 4217 code used only for amounts that come without a *_set money bag
};

// Lower-cases and trims a shop domain; returns an empty string when the result is not a plausible host name
// (letters, digits, '-' and '.', at least one '.', no empty label, at most 253 characters).
std::string normalize_shop_domain(std::string_view raw);

// Removes what is not part of a cart/checkout token's identity: a "gid://shopify/Cart/" prefix and a "?key=..."
// suffix (the key is an access credential for the cart and must never end up in a reference). Trims spaces.
std::string normalize_token(std::string_view raw);

class shopify_connector final : public sdk::connector {
 public:
  // `accounts` is keyed by normalised shop domain (see normalize_shop_domain); built by the factory.
  explicit shopify_connector(std::map<std::string, account_settings, std::less<>> accounts);
  // The checkout builder refers to accounts_: not copyable, not movable.
  shopify_connector(const shopify_connector&) = delete;
  shopify_connector& operator=(const shopify_connector&) = delete;

  std::string_view name() const noexcept override { return connector_name; }

  // Account from X-Shopify-Shop-Domain (normalised), then the HMAC against every secret of that account.
  // delivery_id is X-Shopify-Webhook-Id (X-Shopify-Event-Id when absent); topic is X-Shopify-Topic.
  // Errors: unauthorized/"unknown_account" (header missing or shop not configured), unauthorized/
  // "missing_signature", unauthorized/"bad_signature". No replay window: Shopify signs no timestamp (README.md).
  result<sdk::verified_delivery> verify(const sdk::inbound_request& request) const override;

  // Errors (reject, dead-lettered by the host): missing_topic, unsupported_content_type, invalid_json, invalid_utf8,
  // too_deep, missing_field, bad_timestamp, bad_amount, bad_quantity, bad_integer, missing_currency, mixed_currency,
  // unknown_account. Topics other than carts/create|update, checkouts/create|update and orders/create: no event.
  result<std::vector<v1::Event>> translate(const sdk::inbound_request& request,
                                           const sdk::verified_delivery& delivery) const override;

  std::vector<std::string> sensitive_headers() const override { return {"X-Shopify-Hmac-Sha256"}; }

  // Web handoffs to this shop create draft orders (shopify_checkout.h).
  const sdk::checkout_builder* checkout() const noexcept override { return &checkout_; }

  // The settings of a configured shop (normalised domain), or nullptr. For call-back services (API base, token).
  const account_settings* find_account(std::string_view shop) const;

 private:
  std::map<std::string, account_settings, std::less<>> accounts_;
  shopify_checkout_builder checkout_{accounts_};  // after accounts_ (initialisation order)
};

// The connector's metadata (what `passerelle connectors` lists): fields secrets (required), access_token,
// api_base_url, currency.
const sdk::connector_metadata& shopify_metadata();

// The factory registered under "shopify". create() validates connectors.shopify (validate_accounts_section plus:
// account keys must be shop domains, unique once lower-cased; currency must be an ISO 4217 code) and returns
// reject/"bad_config" naming the key path otherwise.
std::unique_ptr<sdk::connector_factory> make_shopify_factory();

}  // namespace passerelle::connectors::shopify

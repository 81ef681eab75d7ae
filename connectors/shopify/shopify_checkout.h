#pragma once
// Shopify as a web handoff target: creates a draft order through the Admin REST API and publishes its invoice URL
// as the basket's checkout link (connectors/sdk/checkout_builder.h; mapping in connectors/shopify/README.md
// "Web handoff: draft orders").
//
//   request   POST {api_base_url}/2024-01/draft_orders.json, X-Shopify-Access-Token: <account access_token>,
//             {"draft_order": {"line_items": [...], "note", "note_attributes", "tags", "customer"}}
//   answer    201 {"draft_order": {"id": 1069920475, "invoice_url": "https://.../invoices/..."}} ->
//             checkout_url = invoice_url, native_id = "draft_order:1069920475"
//             (target reference shopify:{shop}:draft_order:{id}).
//
// Lifecycle and threads: owned by its shopify_connector (which it references for the accounts); immutable; every
// method is const and may be called concurrently from any thread.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "connectors/sdk/checkout_builder.h"

namespace passerelle::connectors::shopify {

namespace sdk = passerelle::connector;

struct account_settings;

// The Admin API version the draft order calls are written against (REST resources are versioned by date).
inline constexpr std::string_view admin_api_version = "2024-01";

class shopify_checkout_builder final : public sdk::checkout_builder {
 public:
  using account_map = std::map<std::string, account_settings, std::less<>>;
  // `accounts` must outlive the builder (it is the owning connector's member).
  explicit shopify_checkout_builder(const account_map& accounts) : accounts_(accounts) {}

  // not_found/"unknown_account"; reject/"checkout_not_configured" when the shop has no access_token.
  result<void> check_account(std::string_view account) const override;

  // Lines written by this shop's own events with a variant id become {"variant_id", "quantity"} (Shopify prices
  // them from the catalogue); every other line (till, other platform, no variant) becomes a custom line item
  // {"title", "price" (decimal string of unit_price), "quantity", "sku"}. Lines of quantity 0 are left out.
  // Errors: those of check_account(), reject/"empty_basket", reject/"missing_price" (a custom line without
  // unit_price), reject/"currency_mismatch" (a custom line priced in another currency than the basket, or a basket
  // in another currency than the shop's configured `currency`), reject/"bad_quantity".
  result<sdk::outbound_request> build_checkout_request(std::string_view account,
                                                       const sdk::checkout_basket& basket) const override;

  // 200/201 with draft_order.id and draft_order.invoice_url -> created. retry/"rate_limited" (429),
  // retry/"shopify_unavailable" (500, 502, 503, 504); reject/"unauthorized" (401), reject/"payment_required"
  // (402: shop frozen), reject/"forbidden" (403: missing write_draft_orders scope), reject/"not_found" (404),
  // reject/"unprocessable" (422, with Shopify's field errors), reject/"shop_locked" (423), reject/"http_<status>"
  // (any other status), reject/"bad_response" (2xx without id or invoice_url).
  result<sdk::checkout_created> parse_checkout_response(std::string_view account,
                                                        const sdk::outbound_response& response) const override;

 private:
  const account_map& accounts_;
};

}  // namespace passerelle::connectors::shopify

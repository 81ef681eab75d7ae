#pragma once
// WooCommerce connector: order.* webhooks of WooCommerce itself, plus the `passerelle.*` topics of the companion
// WordPress plugin (cart, wishlist, quote and demo requests), all signed the WooCommerce way:
// X-WC-Webhook-Signature = base64(HMAC-SHA256(secret, raw body)). See connectors/woocommerce/README.md.
//
// Lifecycle: the factory is registered once at start-up (connectors/register_builtin); create() builds one
// immutable connector per configuration (start-up and each reload), owned by the host through a shared_ptr and
// called concurrently from the host's I/O threads (all methods const, no locks, no I/O).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/sdk/connector.h"

namespace passerelle::connectors::woocommerce {

// Account key of a WooCommerce site: the host of X-WC-Webhook-Source (WordPress `home_url('/')`), lowercased,
// without scheme, user info, port, path or trailing dot ("https://Shop.Example.fr:443/boutique/" ->
// "shop.example.fr"). Also accepts a bare host. Returns an empty string when no host can be found.
std::string normalise_account(std::string_view source);

// Bounds of one request, per connector instance.
inline constexpr std::size_t max_lines_per_request = 2000;  // order line_items / companion lines
inline constexpr std::size_t max_delivery_id_bytes = 128;   // X-WC-Webhook-Delivery-ID

std::unique_ptr<passerelle::connector::connector_factory> make_woocommerce_factory();

}  // namespace passerelle::connectors::woocommerce

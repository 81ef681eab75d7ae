#pragma once
// Shopify's webhook signature: X-Shopify-Hmac-Sha256 is the base64 of HMAC-SHA256(app client secret, raw body).
// Nothing else is signed (not the topic, the shop domain, the webhook id or the timestamp headers), which is why
// the connector treats those headers as hints that authenticity does not cover (see README.md).
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"

namespace passerelle::connectors::shopify {

// The header value Shopify would send for `body` under `secret` (base64 of the raw 32-byte MAC).
// Used by tests, the fuzz target and tools that replay fixtures.
std::string shopify_signature(std::string_view secret, std::string_view body);

// Checks `header_value` (the X-Shopify-Hmac-Sha256 value, surrounding whitespace ignored) against `body` under
// EVERY secret in `secrets` (rotation: current and previous ones). The decoded MAC is compared in constant time
// with each computed one, and all secrets are always tried, so timing reveals neither where the MAC differs nor
// which secret matched.
// Errors: unauthorized/"missing_signature" when the value is empty; unauthorized/"bad_signature" when it is not
// base64 of 32 bytes or matches no secret.
result<void> check_shopify_signature(std::string_view header_value, std::string_view body,
                                     const std::vector<std::string>& secrets);

}  // namespace passerelle::connectors::shopify

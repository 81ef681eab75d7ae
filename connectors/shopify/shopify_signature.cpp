#include "connectors/shopify/shopify_signature.h"

#include "connectors/sdk/crypto.h"

namespace passerelle::connectors::shopify {

namespace {

constexpr std::size_t mac_bytes = 32;

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

error unauthorized(std::string code, std::string message) {
  return error{error_kind::unauthorized, std::move(code), std::move(message)};
}

}  // namespace

std::string shopify_signature(std::string_view secret, std::string_view body) {
  return connector::base64_encode(connector::hmac_sha256(secret, body));
}

result<void> check_shopify_signature(std::string_view header_value, std::string_view body,
                                     const std::vector<std::string>& secrets) {
  const auto value = trim(header_value);
  if (value.empty()) return unauthorized("missing_signature", "X-Shopify-Hmac-Sha256 header missing or empty");
  std::string received;
  if (!connector::base64_decode(value, received) || received.size() != mac_bytes) {
    return unauthorized("bad_signature", "X-Shopify-Hmac-Sha256 is not the base64 of a 32-byte HMAC-SHA256");
  }
  bool matched = false;
  for (const auto& secret : secrets) {
    // No early exit: every configured secret costs the same whether or not an earlier one matched.
    matched = connector::constant_time_equal(connector::hmac_sha256(secret, body), received) || matched;
  }
  if (!matched) return unauthorized("bad_signature", "X-Shopify-Hmac-Sha256 matches none of the shop's secrets");
  return ok();
}

}  // namespace passerelle::connectors::shopify

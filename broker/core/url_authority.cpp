#include "broker/core/url_authority.h"

#include <charconv>

namespace passerelle::core {

std::variant<url_authority, std::string> parse_url_authority(std::string_view authority) {
  if (authority.find('@') != std::string_view::npos) return std::string("no user information in the URL");
  url_authority out;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("unclosed '[' in the host");
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return std::string("unexpected text after the IPv6 host");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::string("no host");
  if (!port.empty() || authority.ends_with(':')) {
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || v == 0 || v > 65535) {
      return std::string("the port must be 1..65535");
    }
    out.port = std::to_string(v);
  }
  return out;
}

}  // namespace passerelle::core

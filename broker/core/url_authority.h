#pragma once
// The authority part of an http(s) URL ("host", "host:port", "[v6]:port"), split and checked: used by every HTTP
// client Passerelle has (the CLI's broker/app/http_client and the outbound calls of broker/handoff). Pure function.

#include <string>
#include <string_view>
#include <variant>

namespace passerelle::core {

struct url_authority {
  std::string host;  // without the brackets of an IPv6 literal
  std::string port;  // "" when the URL gives none (the caller applies the scheme's default)
};

// The authority, or the reason it is not one (no user information, an unclosed '[', text after an IPv6 host, no
// host, a port that is not 1..65535), as a short phrase for the caller's error message.
std::variant<url_authority, std::string> parse_url_authority(std::string_view authority);

}  // namespace passerelle::core

#pragma once
// The generic signed JSON connector (`generic`, CONTRACT.md "Generic signed JSON webhook"): custom shops and
// platforms without webhooks of their own post canonical passerelle.v1.Event messages in protobuf's JSON mapping,
// one per request or {"events": [...]}, signed with
//   X-Passerelle-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<raw body>">[,v1=...]
// It is also the REFERENCE connector: README.md walks through how a connector is built.
//
// Lifecycle: the factory is registered once at start-up; create() builds one immutable connector per
// configuration (start-up and each reload), owned by the host through a shared_ptr and called concurrently from
// the host's I/O threads (const methods, no locks, no I/O).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sdk/connector.h"

namespace passerelle::connectors::generic {

// How far the signature's timestamp may be from the time of receipt, in both directions (CONTRACT.md: 5 minutes).
inline constexpr std::int64_t signature_tolerance_ms = std::int64_t{5} * 60 * 1000;
// Events one request may carry unless the account sets `max_events_per_request`.
inline constexpr std::size_t default_max_events_per_request = 1000;
// Upper bound of `max_events_per_request`.
inline constexpr std::size_t max_max_events_per_request = 100000;
// X-Passerelle-Signature: header length and number of v1= entries accepted.
inline constexpr std::size_t max_signature_header_bytes = 1024;
inline constexpr std::size_t max_signatures = 8;
// X-Passerelle-Delivery: at most this many printable ASCII characters.
inline constexpr std::size_t max_delivery_id_bytes = 200;

// A parsed X-Passerelle-Signature header.
struct signature_header {
  std::int64_t timestamp_s = 0;
  std::vector<std::string> v1;  // lowercase hex digests
};

// Parses `t=<digits>,v1=<64 lowercase hex>[,v1=...]` (spaces around items allowed; items with other keys, such
// as a future scheme, are ignored). nullopt when malformed: no or several t, no v1, a bad value, too long.
std::optional<signature_header> parse_signature_header(std::string_view value);

// The X-Passerelle-Signature value for `body` at `timestamp_s` under `secret`: what a sender computes.
std::string sign(std::string_view secret, std::int64_t timestamp_s, std::string_view body);

std::unique_ptr<passerelle::connector::connector_factory> make_generic_factory();

}  // namespace passerelle::connectors::generic

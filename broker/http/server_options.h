#pragma once
// Options of the HTTP server. Field names follow the YAML config (`http:` and `limits:` sections of the contract);
// the config module fills this struct. Every bound has a default and a documented behaviour when hit
// (broker/http/README.md).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "broker/core/result.h"
#include "broker/http/idempotency.h"

namespace passerelle::http {

struct tls_options {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
};

struct limits_options {
  std::size_t body_bytes = 1'048'576;      // default per-route body limit → 413 when exceeded
  std::size_t header_bytes = 16'384;       // request line + headers → 431 when exceeded
  std::uint32_t read_timeout_ms = 10'000;  // each header read and each body read (and the TLS handshake) → close
  std::size_t max_connections = 10'000;    // open connections on the main listener → 503 + close
};

struct server_options {
  std::string listen = "127.0.0.1:8080";  // "host:port"; port 0 picks a free port (see server::port())
  std::optional<tls_options> tls;         // main listener only
  // Optional separate listener (plain TCP) for the admin router (ops routes); empty: none.
  std::string admin_listen;
  std::size_t admin_max_connections = 64;
  std::size_t io_threads = 2;             // threads running the one io_context
  std::size_t blocking_threads = 2;       // blocking_pool workers (readiness probes, admin calls)
  std::size_t blocking_max_pending = 64;  // queued + running blocking jobs before "blocking_pool_full"
  limits_options limits;
  std::uint32_t write_timeout_ms = 10'000;   // writing one response; on expiry the connection is closed
  std::uint32_t shutdown_grace_ms = 10'000;  // stop(): how long in-flight requests may take to finish
  std::uint32_t reject_linger_ms = 1'000;    // over max_connections: how long the 503 waits for the client
  std::size_t max_rejecting = 256;           // concurrent 503-and-close answers; beyond: close at once
  idempotency_options idempotency;
};

// "host:port" → (host, port). Host: an IPv4 address, a bracketed IPv6 address ("[::1]:8080"), "localhost" or
// "*" / "0.0.0.0" (all interfaces). Errors (reject "bad_listen_address") name the offending value.
struct listen_address {
  std::string host;  // an IP literal
  std::uint16_t port = 0;
};
result<listen_address> parse_listen_address(std::string_view s);

}  // namespace passerelle::http

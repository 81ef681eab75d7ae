#pragma once
// outbound_http_client: the host's HTTP(S) client for platform call-backs (a connector's checkout_builder describes
// the request; this performs it). One request per connection (no pooling: call-backs are rare), every step under
// one deadline, TLS with certificate and host-name verification (system trust store, or a CA file), SNI; http://
// is allowed for local stand-ins (sandboxes, tests) configured through an account's api_base_url. Redirects are
// not followed. The response body is bounded.
//
// Lifecycle and threads: owned by its user (the web handoff worker) and used from the thread that runs the
// io_context the coroutines run on; the TLS context is built once by the constructor. Never used on an HTTP I/O
// thread's io_context (it resolves host names, which may block in getaddrinfo).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "broker/core/result.h"
#include "connectors/sdk/checkout_builder.h"

namespace passerelle::handoff {

struct outbound_http_options {
  std::chrono::milliseconds timeout{10'000};              // the whole exchange: resolve, connect, TLS, write, read
  std::size_t max_response_bytes = std::size_t{1} << 20;  // larger answers fail with fatal/"http"
  std::optional<std::string> ca_file;                     // trust only this PEM file instead of the system store
  std::string user_agent = "passerelle";
};

// A parsed absolute URL.
struct outbound_url {
  bool tls = false;
  std::string host;    // without brackets for IPv6
  std::string port;    // "443" / "80" by default
  std::string target;  // path and query, "/" at least
};

// Errors: reject/"bad_url" (scheme other than http/https, no host, bad port, user information, fragment).
result<outbound_url> parse_outbound_url(std::string_view url);

class outbound_http_client {
 public:
  // Errors are reported by exchange(); a CA file that cannot be loaded makes every TLS exchange fail with fatal/"tls".
  explicit outbound_http_client(outbound_http_options options);

  // Performs `request` and returns the platform's answer (any status). Errors: reject/"bad_url",
  // retry/"unreachable" (resolve or connect failed), retry/"timed_out", retry/"connection_lost" (the connection
  // broke while writing or reading: the platform may or may not have acted), fatal/"tls" (handshake or
  // certificate verification failed), fatal/"http" (malformed or too large answer).
  boost::asio::awaitable<result<connector::outbound_response>> exchange(const connector::outbound_request& request);

 private:
  outbound_http_options options_;
  boost::asio::ssl::context tls_;
  std::string tls_error_;  // set when the trust store could not be loaded
};

}  // namespace passerelle::handoff

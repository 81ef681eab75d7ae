#pragma once
// A small synchronous HTTP(S) client for the operator commands (`passerelle dlq ...`) that talk to a running
// daemon: one request per connection, every step bounded by one deadline, TLS with certificate and host-name
// verification (system trust store, or the CA/certificate file given).
//
// Lifecycle and threads: plain functions; each call creates and destroys its own io_context and socket, on the
// calling thread (the CLI's main thread). Blocking by design: never call it from an I/O thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/core/result.h"

namespace passerelle::app {

// A parsed base URL: "http://127.0.0.1:8080", "https://passerelle.example.com" (default ports 80/443). A path
// after the authority (a reverse proxy's prefix) is kept and prepended to every request target.
struct base_url {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string path_prefix;  // "" or "/prefix" (no trailing '/')
  std::string to_string() const;
};

// Errors: reject/"bad_url" naming what is wrong (scheme other than http/https, no host, bad port, query part).
result<base_url> parse_base_url(std::string_view url);

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
};

struct http_call {
  std::string method = "GET";  // GET | POST
  std::string target;          // "/v1/ops/dead-letters?limit=20", appended to the URL's path prefix
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{30'000};  // the whole exchange: resolve, connect, handshake, write, read
  std::optional<std::string> ca_file;         // trust only this PEM file (e.g. a self-signed daemon certificate)
  std::size_t max_response_bytes = std::size_t{64} * 1024 * 1024;
};

// Performs one exchange. Errors: retry/"unreachable" (resolve or connect failed: the message names the URL),
// retry/"timed_out", fatal/"tls" (handshake or verification failed, with OpenSSL's reason), fatal/"http" (a
// malformed or too large answer). Any HTTP status is a successful exchange: the caller interprets it.
result<http_reply> http_exchange(const base_url& url, const http_call& call);

}  // namespace passerelle::app

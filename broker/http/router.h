#pragma once
// Routes and the per-request context handed to handlers.
//
// A route is (method, path pattern, handler, auth requirement, body limit, operation id). Patterns are literal
// segments and whole-segment parameters: "/v1/baskets/{id}/history". Matching works on the raw (still
// percent-encoded) path split on '/', so an encoded "%2F" stays inside its segment; parameter values are then
// percent-decoded. When several patterns match, the most literal one wins (segment by segment, a literal beats a
// parameter). A path no pattern matches → 404; a path matched only under other methods → 405 with `Allow`.
//
// Lifecycle and ownership: the daemon builds a router at start-up (add() from one thread), then hands it to the
// server as shared_ptr<const router>; from then on it is immutable and read concurrently by every I/O thread.
// Handlers are std::function objects owned by their route; whatever they capture must outlive the server.
//
// Handler contract: `asio::awaitable<response>(request_context&)`, run on the connection's I/O strand. Handlers
// must not block (use ctx.blocking->run(...) for blocking work). An exception escaping a handler becomes a 500
// (logged). The context lives until the handler's coroutine completes.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/core/result.h"
#include "broker/http/auth.h"
#include "broker/http/blocking_pool.h"
#include "broker/http/json.h"

namespace passerelle::http {

using verb = beast_http::verb;
using params = std::vector<std::pair<std::string, std::string>>;

struct route;

// Everything a handler may know about its request.
struct request_context {
  // Start line, headers and the raw body bytes exactly as received (after de-chunking); webhook signatures are
  // computed over `request.body()`.
  beast_http::request<beast_http::string_body> request;
  std::string path;            // the path part of the target, still percent-encoded
  params path_params;          // decoded values of the route's {params}
  params query_params;         // decoded (application/x-www-form-urlencoded rules: '+' is a space), in order
  principal who;               // the authenticated caller (anonymous on open routes without credentials)
  std::string remote_address;  // "ip:port" of the peer
  std::string traceparent;     // the W3C traceparent header when present and well-formed, else empty
  const route* matched = nullptr;
  blocking_pool* blocking = nullptr;  // for blocking work; never null inside a handler run by the server

  verb method() const { return request.method(); }
  std::string_view target() const { return request.target(); }
  std::string_view body() const { return request.body(); }
  // The decoded path parameter `name`, if the route has it.
  std::optional<std::string_view> param(std::string_view name) const;
  // The first query parameter `name`, if present.
  std::optional<std::string_view> query(std::string_view name) const;
  // The first header field `name` (case-insensitive), if present.
  std::optional<std::string_view> header(std::string_view name) const;
};

using handler = std::function<boost::asio::awaitable<response>(request_context&)>;

// Why the server refused a request matched to a route before running its handler (route::on_refused).
enum class refusal {
  body_too_large,    // 413: Content-Length, or the body read so far, over the route's limit
  header_too_large,  // 431: the header over limits.header_bytes (known only when the request line was read whole)
  read_timeout,      // the header or the body not read within limits.read_timeout_ms: the connection is closed
};
// "body_too_large", "header_too_large", "read_timeout".
std::string_view to_string(refusal r) noexcept;

struct route {
  verb method = verb::get;
  std::string pattern;  // "/v1/baskets/{id}"
  http::handler handler;
  auth_requirement auth;                  // default: open
  std::optional<std::size_t> body_limit;  // bytes; nullopt: the server's limits.body_bytes
  std::string operation_id;               // unique; must match the OpenAPI document's operationId
  // Optional hooks, last and default-initialised so that positional initialisers of the fields above still work.
  // A per-request body limit from the decoded path parameters (e.g. one per connector), checked like body_limit
  // before the body is read; empty, or answering nullopt: body_limit. Runs on an I/O thread: must not block.
  std::function<std::optional<std::size_t>(const params&)> body_limit_of = nullptr;
  // Told when the server refuses a request matched to this route before its handler runs (see `refusal`), with
  // the decoded path parameters. Runs on an I/O thread: must be quick, must not block or throw. May be empty.
  std::function<void(const params&, refusal)> on_refused = nullptr;
};

class router {
 public:
  // Errors (reject): pattern not starting with '/', empty segment, malformed or duplicate {param}, braces inside
  // a literal, duplicate (method, pattern), empty or duplicate operation id, no handler.
  result<void> add(route r);

  struct match_result {
    enum class kind { found, not_found, method_not_allowed, bad_path };
    kind k = kind::not_found;
    const route* r = nullptr;
    params path_params;   // when found
    std::string allow;    // when method_not_allowed: "GET, POST"
    std::string message;  // when bad_path
  };
  // `path` is the raw path (no query string).
  match_result match(verb method, std::string_view path) const;

  // Routes in insertion order (addresses are stable).
  const std::vector<std::unique_ptr<route>>& routes() const noexcept { return routes_; }

 private:
  struct compiled {
    const route* r;
    std::vector<std::string> segments;  // literal text, or the param name
    std::vector<bool> is_param;
  };
  std::vector<std::unique_ptr<route>> routes_;
  std::vector<compiled> compiled_;
};

// Percent-decodes `s`; nullopt on a malformed escape. With `plus_is_space`, '+' decodes to ' ' (query strings).
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);
// Splits "a=1&b=x%20y" into decoded pairs; nullopt on a malformed escape.
std::optional<params> parse_query(std::string_view query);
// The W3C trace-context `traceparent` if well-formed (version 00..fe, non-zero ids, lowercase hex), else nullopt.
std::optional<std::string> valid_traceparent(std::string_view v);

}  // namespace passerelle::http

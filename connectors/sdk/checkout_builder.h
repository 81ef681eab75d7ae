#pragma once
// checkout_builder: the OPTIONAL capability of a connector to create a checkout on its platform for a basket that
// is handed off to the web (CONTRACT.md "Handoffs": POST /v1/baskets/{id}/handoffs {"to": {"web":
// "<connector>:<account>"}}).
//
// The connector translates; the host decides and does the I/O. A checkout_builder is PURE: it never opens a socket,
// reads a clock, a file or the environment. The host's web handoff worker (broker/handoff/web_handoff_worker.h):
//   1. reads the basket's folded state and hands it over as a `checkout_basket`;
//   2. calls build_checkout_request() and performs the returned `outbound_request` itself (HTTPS, timeouts,
//      redirects refused, bounded response size);
//   3. calls parse_checkout_response() with the platform's answer; on a retry error it waits (honouring the
//      answer's Retry-After header, bounded) and performs the SAME request again, up to its retry bound;
//   4. publishes BasketHandoffAccepted{checkout_url, target_reference = "{connector}:{account}:{native_id}"} or
//      BasketHandoffFailed{reason_code, message} on the basket's topic.
// No Asio, Beast or librdkafka type crosses this interface (STYLE.md).
//
// Ownership and lifetime: a connector that supports checkouts owns its checkout_builder and returns it from
// connector::checkout() (which returns nullptr by default: no checkout support). The pointer is valid as long as
// the connector instance is; the host holds the connector's shared_ptr while it uses the builder, so a reload
// (SIGHUP) that replaces the connector never pulls the builder from under a call in flight.
//
// Threads: every method is const, lock-free and may be called concurrently from any host thread (the HTTP I/O
// threads call check_account() to validate a request; the worker thread builds and parses). Implementations are
// immutable after construction.
//
// Errors are values (broker/core/result.h). Which kind the host acts on:
//   retry/<code>      transient (platform overloaded, rate-limited, 5xx): the host may perform the same request again.
//   reject/<code>     the platform refused or cannot express this basket: final, no retry; the handoff fails with
//                     reason_code "target_rejected" (or "checkout_invalid" from build_checkout_request()).
//   not_found/<code>  the account is not configured (any more).
// Messages must never contain credentials (access tokens, signatures): they end up in events and logs.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "connectors/sdk/connector.h"
#include "passerelle/v1/common.pb.h"

namespace passerelle::connector {

// One line of the basket being handed off.
struct checkout_line {
  v1::Line line;       // as folded by the lifecycle engine (sku, title, quantity, unit_price, variant_id, ...)
  std::string source;  // "{connector}:{account}" whose event last wrote this line: platform ids (variant_id,
                       // product_id) are meaningful only on that platform and account. Empty when unknown.
};

// What the host knows of the basket at the moment it carries out the handoff. Value type.
struct checkout_basket {
  std::string basket_id;   // Passerelle's subject id ("bsk_...")
  std::string handoff_id;  // the handoff being carried out ("hof_...")
  std::string currency;    // ISO 4217 code of the basket; empty when the basket never named one
  std::vector<checkout_line> lines;
  std::vector<v1::CustomerRef> customers;  // the basket's customer references (never clear e-mail addresses)
  std::vector<std::string> references;     // the basket's references "{connector}:{account}:{native_id}"
  std::string note;                        // the customer's note, when any
};

// An HTTP request for the host to perform. Value type.
struct outbound_request {
  std::string method = "POST";  // an HTTP method token
  // Absolute URL, "https://host[:port]/path?query" (or "http://" for local stand-ins configured through the
  // account's api_base_url). Built from the account's configuration only, never from request input.
  std::string url;
  // Headers to send, including the platform's credentials. The host adds Host, Content-Length and User-Agent,
  // and never logs header values.
  std::vector<http_header> headers;
  std::string body;
};

// What the platform answered. The host follows no redirect: a 3xx reaches parse_checkout_response() as is.
struct outbound_response {
  unsigned status = 0;
  std::vector<http_header> headers;  // as received
  std::string body;                  // at most the host's response bound (1 MiB by default)
};

// A checkout created on the platform.
struct checkout_created {
  std::string checkout_url;  // where the customer completes the purchase (published as checkout_url)
  // The id of the object created, typed when the platform's ids could collide ("draft_order:1069920475"). The host
  // publishes "{connector}:{account}:{native_id}" as BasketHandoffAccepted.target_reference and in
  // Event.references, so a later webhook about that object can resolve to the basket.
  std::string native_id;
};

class checkout_builder {
 public:
  virtual ~checkout_builder() = default;

  // Whether checkouts can be created for `account` (the normalised account key, as in references). Called on an
  // HTTP I/O thread when a handoff is requested, so that a misdirected request is refused at once (400) instead of
  // failing later. Must be cheap. Errors: not_found/"unknown_account" (not configured), reject/<code> (configured
  // but missing what checkouts need, e.g. "checkout_not_configured" without an access token).
  virtual result<void> check_account(std::string_view account) const = 0;

  // The request that creates a checkout for `basket` on `account`. Errors: not_found/"unknown_account",
  // reject/"checkout_not_configured", reject/<code> when the basket cannot be expressed on the platform
  // ("empty_basket", "missing_price", "currency_mismatch", ...) with a message naming the line.
  virtual result<outbound_request> build_checkout_request(std::string_view account,
                                                          const checkout_basket& basket) const = 0;

  // Interprets the platform's answer to a request built above. Errors: retry/<code> (the host may send the same
  // request again later; it reads Retry-After itself), reject/<code> (final), each with a message summarising the
  // platform's own error text (bounded, without credentials).
  virtual result<checkout_created> parse_checkout_response(std::string_view account,
                                                           const outbound_response& response) const = 0;
};

}  // namespace passerelle::connector

#pragma once
// Binds webhook_ingest to the HTTP router: POST /v1/webhooks/{connector} and /v1/webhooks/{connector}/{account}.
// The ONE place an ingest_outcome becomes an HTTP answer (CONTRACT.md "HTTP API"):
//   accepted      200 {"event_ids": [...], "subjects": [{"kind", "id"}]}
//   ping          200 {"event_ids": [], "subjects": []}
//   dead_lettered 202 {"dead_lettered": true, "reason": {"code", "message"}}
//   unauthorized  401 (body never stored), unknown_connector 404, retry_later 503 + Retry-After
//   (replays of dead letters) still_unusable 422 {"error": {new reason}}, not_configured 409
// 413 body too large (limit per connector), 431 header too large, read timeouts (the connection is closed) and the
// connection limit are the HTTP server's, before this runs; the first three are counted per connector in
// passerelle_webhooks_rejected_total (webhook_ingest::count_refused).

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "broker/http/router.h"
#include "broker/ingest/webhook_ingest.h"

namespace passerelle::ingest {

struct webhook_route_options {
  std::optional<std::size_t> body_limit;  // nullopt: the server's limits.body_bytes
  // Per connector (`connectors.<name>.body_bytes`), applied to its webhooks before the body is read; a connector
  // not listed gets body_limit.
  std::map<std::string, std::size_t, std::less<>> connector_body_limits;
  unsigned retry_after_seconds = 1;
};

// `ingest` must outlive the router. Errors: a route clash (programming error).
result<void> add_webhook_routes(http::router& router, webhook_ingest& ingest, const core::clock& clock,
                                const webhook_route_options& options);

// The HTTP answer for an outcome (exposed for tests).
http::response to_http(const ingest_outcome& outcome, unsigned version, unsigned retry_after_seconds);

}  // namespace passerelle::ingest

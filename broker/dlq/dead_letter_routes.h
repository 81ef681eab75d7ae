#pragma once
// The dead-letter admin routes (role admin; docs/operations.md, docs/openapi.json):
//   GET  /v1/ops/dead-letters?limit=&cursor=   200 {"items": [{"id", "received_at", "connector", "account",
//                                              "reason": {"code", "message"}, "body_bytes"}], "next_cursor"}
//                                              newest first; 400 bad_limit / bad_cursor
//   GET  /v1/ops/dead-letters/{id}             200 everything kept (redacted headers, body as base64 and as text
//                                              when it is valid UTF-8, reason, delivery id, traceparent, ...); 404
//   POST /v1/ops/dead-letters/{id}/replay      the stored request through the connector's CURRENT translate():
//                                              200 the webhook's body, 422 still unusable (the new reason; no new
//                                              dead letter), 404 unknown id, 409 connector/account no longer
//                                              configured, 503 + Retry-After when the log cannot take the events.
// Reads run on the server's blocking pool (they poll the event log), never on an I/O thread; replay's produce is
// awaited like a webhook's. Idempotency-Key on the POST is handled by the server like on every POST route.
//
// Ownership: `reader` and `ingest` must outlive the router (the daemon owns all three).

#include "broker/core/result.h"
#include "broker/dlq/dead_letter_reader.h"
#include "broker/http/router.h"
#include "broker/ingest/webhook_ingest.h"

namespace passerelle::dlq {

struct route_options {
  unsigned retry_after_seconds = 1;
};

// Errors: a route clash (programming error).
result<void> add_dead_letter_routes(http::router& router, const dead_letter_reader& reader,
                                    ingest::webhook_ingest& ingest, route_options options = {});

// The JSON bodies (exposed for tests).
std::string page_json(const dead_letter_page& page);
std::string entry_json(const dead_letter_entry& entry);

// RFC 3339 UTC with milliseconds ("2026-11-22T19:30:00.123Z").
std::string rfc3339_ms(std::int64_t ms);

}  // namespace passerelle::dlq

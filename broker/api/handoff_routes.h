#pragma once
// The handoff routes (CONTRACT.md "Handoffs"):
//   POST /v1/baskets/{id}/handoffs     role handoff; {"to": {"store": "paris-01"}} -> 201 {"handoff_id", "code",
//                                      "expires_at", "qr_url"}. {"to": {"web": "<connector>:<account>"}} (store ->
//                                      web) -> 202 {"handoff_id", "status": "pending", "expires_at"}: the checkout is
//                                      created later by the web handoff worker and its checkout_url appears in the
//                                      basket's `handoffs`. A bad target (malformed, connector not configured or
//                                      without checkouts, unknown account) is 400 with the reason's code.
//   GET  /v1/handoffs/{code}           store token of the target store (or admin): the basket; idempotent peek
//   POST /v1/handoffs/{code}/accept    store token: the till recalled the basket; the code is consumed
//   GET  /v1/handoffs/{code}/qr.svg    open: the QR image of a well-formed code (it reveals nothing beyond the code
//                                      its caller already holds)
// Statuses: malformed code or body 400, unknown code 404, another store's code 403, expired or used code 410,
// too many failed lookups 429 with Retry-After.
//
// Lifecycle: added to the daemon's router at start; `service` must outlive the server.

#include "broker/api/handoff_service.h"
#include "broker/http/router.h"

namespace passerelle::api {

result<void> add_handoff_routes(http::router& r, handoff_service& service);

}  // namespace passerelle::api

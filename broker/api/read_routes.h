#pragma once
// The read API (CONTRACT.md "HTTP API"): subjects, their history and customers, all with role `read`.
//   GET /v1/{baskets|wishlists|quotes|demo-requests}/{id}           the subject
//   GET /v1/{baskets|wishlists|quotes|demo-requests}?ref=<reference> the subject a reference is attached to
//   GET /v1/{...}/{id}/history?limit=&cursor=                        its history, in log order, paginated
//   GET /v1/customers/{id}   GET /v1/customers?ref=<type>:<scope>:<value>
// Errors in the contract's shape: unknown id or reference 404, malformed query 400.
//
// Lifecycle: added to the daemon's router at start; `reads` must outlive the server.

#include "broker/api/read_service.h"
#include "broker/core/result.h"
#include "broker/http/router.h"

namespace passerelle::api {

inline constexpr std::size_t default_history_limit = 100;
inline constexpr std::size_t max_history_limit = 1000;

result<void> add_read_routes(http::router& r, const read_service& reads);

// The customer JSON document (exposed for tests).
std::string customer_json(const customer_view& view);

}  // namespace passerelle::api

#pragma once
// THE mapping from passerelle::error_kind (broker/core/result.h) to HTTP. Every handler that turns an `error` into
// a response goes through `error_response`, so the contract's statuses live in exactly one place:
//
//   retry        -> 503 Service Unavailable, with `Retry-After: <seconds>` (transient: backpressure, outage)
//   reject       -> 400 Bad Request (the input is unusable as sent). 400 rather than 422: a reject covers
//                   malformed syntax as well as unusable content, and clients treat both the same way (do not
//                   retry unchanged). 422 is reserved for an Idempotency-Key reused with a different body.
//   not_found    -> 404 Not Found
//   unauthorized -> 401 Unauthorized, with `WWW-Authenticate: Bearer`
//   conflict     -> 409 Conflict
//   fatal        -> 500 Internal Server Error (the message is replaced by a generic one: internals never leak)
//
// Body: {"error": {"code": err.code, "message": err.message}} (json.h).
// Threading: pure functions.

#include <string_view>

#include "broker/core/result.h"
#include "broker/http/json.h"

namespace passerelle::http {

// Default Retry-After for `retry` errors, in seconds.
inline constexpr unsigned default_retry_after_seconds = 1;

beast_http::status status_for(error_kind kind) noexcept;

// The response for `err`.
response error_response(const error& err, unsigned version = 11,
                        unsigned retry_after_seconds = default_retry_after_seconds);

}  // namespace passerelle::http

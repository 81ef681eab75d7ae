#pragma once
// The built-in operations routes:
//   GET /healthz          200 {"status": "ok"} while the process runs (liveness).
//   GET /readyz           200 {"status": "ready"} when the readiness callback succeeds; 503 with Retry-After and
//                         {"error": {...}} (the callback's code and message) when it fails.
//   GET /metrics          the metrics registry in Prometheus text format 0.0.4.
//   GET /v1/openapi.json  the embedded OpenAPI document.
// All are open (no auth). To keep them off the public listener, register them on the admin router and set
// server_options::admin_listen (see server.h).
//
// The readiness callback may block (it probes the event log): it runs on the server's blocking pool, never on an
// I/O thread, and must bound its own duration.
//
// Ownership: the registry must outlive the server; the callback is copied into the route.

#include <functional>

#include "broker/core/result.h"
#include "broker/http/router.h"
#include "broker/obs/metrics.h"

namespace passerelle::http {

struct ops_options {
  const obs::registry* metrics = nullptr;   // required
  std::function<result<void>()> readiness;  // empty: always ready
  unsigned retry_after_seconds = 5;         // Retry-After on a 503 from /readyz
};

// Adds the four routes. Errors: missing registry, or a clash with routes already in `r`.
result<void> add_ops_routes(router& r, ops_options opts);

}  // namespace passerelle::http

#pragma once
// The OpenAPI 3.0 document of the HTTP API (docs/openapi.json), embedded in the binary at build time and served
// at GET /v1/openapi.json, plus the check that keeps it true: every route has a path+method entry carrying its
// operationId, and every documented operation has a route. A test runs the check on the daemon's route table.
//
// Threading: pure functions over immutable data.

#include <string>
#include <string_view>
#include <vector>

#include "broker/http/router.h"

namespace passerelle::http {

// The embedded docs/openapi.json (static storage, valid for the process lifetime).
std::string_view openapi_document();

// Differences between the routes of `routers` (together) and `document`, one human-readable line each; empty
// when they agree. A document that does not parse, or has no "paths" object, is one difference.
std::vector<std::string> check_openapi(const std::vector<const router*>& routers, std::string_view document);

}  // namespace passerelle::http

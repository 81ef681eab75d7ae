#pragma once
// The read API's JSON of a subject (CONTRACT.md "GET /v1/baskets/{id}"), from its folded state:
//   {"id", "status", "channel", "store_id", "refs": [...], "customer": {"refs": [...]}, "lines": [...],
//    "totals": {...}, "currency", "version", "created_at", "updated_at", "handoffs": [...], ...kind fields}
// Wishlists, quotes and demo requests share the shape; each adds its own fields (a demo request its "kind":
// demonstration, information or appointment; the path already names the subject kind).
//
// Pure functions; thread-safe.

#include <string>

#include "broker/http/json.h"
#include "broker/lifecycle/subject_state.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::api {

// The subject's JSON document.
std::string subject_json(const lifecycle::subject_state& state);

// One history entry: {"event_id", "type", "occurred_at", "received_at", "channel", "source": {...}, "payload": {...}}.
void write_history_event(http::json_writer& w, const v1::Event& event);

// "basket", "wishlist", "quote", "demo_request".
std::string kind_name(v1::SubjectKind kind);

}  // namespace passerelle::api

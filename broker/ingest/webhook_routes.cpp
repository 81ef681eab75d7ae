#include "broker/ingest/webhook_routes.h"

#include "broker/http/error_mapping.h"

namespace passerelle::ingest {

namespace {

namespace bh = boost::beast::http;

http::handler make_handler(webhook_ingest& ingest, const core::clock& clock, const webhook_route_options& options) {
  return [&ingest, &clock, options](http::request_context& ctx) -> boost::asio::awaitable<http::response> {
    const std::int64_t received_at = clock.now_ms();
    std::vector<connector::http_header> headers;
    headers.reserve(16);
    for (const auto& field : ctx.request.base()) {
      headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    connector::inbound_request in;
    in.method = ctx.request.method_string();
    in.target = ctx.target();
    in.headers = &headers;
    in.body = ctx.body();
    in.received_at_ms = received_at;
    const auto connector_name = ctx.param("connector").value_or("");
    const auto account = ctx.param("account");
    if (account) in.path_account = *account;
    const auto outcome = co_await ingest.handle(connector_name, in, ctx.traceparent);
    co_return to_http(outcome, ctx.request.version(), options.retry_after_seconds);
  };
}

}  // namespace

http::response to_http(const ingest_outcome& outcome, unsigned version, unsigned retry_after_seconds) {
  switch (outcome.kind) {
    case outcome_kind::accepted:
    case outcome_kind::ping: {
      auto body = http::build_json([&](http::json_writer& w) {
        w.StartObject();
        http::write_key(w, "event_ids");
        w.StartArray();
        for (const auto& id : outcome.event_ids) http::write_string(w, id);
        w.EndArray();
        http::write_key(w, "subjects");
        w.StartArray();
        for (const auto& s : outcome.subjects) {
          w.StartObject();
          http::write_key(w, "kind");
          http::write_string(w, s.kind);
          http::write_key(w, "id");
          http::write_string(w, s.id);
          w.EndObject();
        }
        w.EndArray();
        if (outcome.replayed) {
          http::write_key(w, "replayed");
          w.Bool(true);
        }
        w.EndObject();
      });
      return http::json_response(bh::status::ok, std::move(body), version);
    }
    case outcome_kind::dead_lettered: {
      auto body = http::build_json([&](http::json_writer& w) {
        w.StartObject();
        http::write_key(w, "dead_lettered");
        w.Bool(true);
        http::write_key(w, "reason");
        w.StartObject();
        http::write_key(w, "code");
        http::write_string(w, outcome.reason_code);
        http::write_key(w, "message");
        http::write_string(w, outcome.reason_message);
        w.EndObject();
        w.EndObject();
      });
      return http::json_response(bh::status::accepted, std::move(body), version);
    }
    case outcome_kind::unauthorized:
      return http::error_response({error_kind::unauthorized, outcome.reason_code, outcome.reason_message}, version);
    case outcome_kind::unknown_connector:
      return http::error_response(error::not_found(outcome.reason_code, outcome.reason_message), version);
    case outcome_kind::retry_later:
      return http::error_response(error::retry(outcome.reason_code, outcome.reason_message), version,
                                  retry_after_seconds);
    case outcome_kind::still_unusable:
      // 422, not the mapping's 400 for `reject`: the replay request itself is well-formed; the stored request it
      // names is what the connector still refuses.
      return http::json_error(bh::status::unprocessable_entity, outcome.reason_code, outcome.reason_message, version);
    case outcome_kind::not_configured:
      return http::error_response({error_kind::conflict, outcome.reason_code, outcome.reason_message}, version);
  }
  return http::error_response(error::fatal("internal", "unexpected ingest outcome"), version);
}

result<void> add_webhook_routes(http::router& router, webhook_ingest& ingest, const core::clock& clock,
                                const webhook_route_options& options) {
  for (const auto& [pattern, op] :
       {std::pair<const char*, const char*>{"/v1/webhooks/{connector}", "post_webhook"},
        std::pair<const char*, const char*>{"/v1/webhooks/{connector}/{account}", "post_webhook_for_account"}}) {
    http::route r;
    r.method = bh::verb::post;
    r.pattern = pattern;
    r.handler = make_handler(ingest, clock, options);
    r.body_limit = options.body_limit;
    r.operation_id = op;
    if (!options.connector_body_limits.empty()) {
      r.body_limit_of = [limits = options.connector_body_limits](const http::params& p) -> std::optional<std::size_t> {
        for (const auto& [k, v] : p) {
          if (k != "connector") continue;
          if (const auto it = limits.find(v); it != limits.end()) return it->second;
        }
        return std::nullopt;
      };
    }
    r.on_refused = [&ingest](const http::params& p, http::refusal why) {
      std::string_view connector_name;
      for (const auto& [k, v] : p) {
        if (k == "connector") connector_name = v;
      }
      ingest.count_refused(connector_name, http::to_string(why));
    };
    if (auto added = router.add(std::move(r)); !added) return added;
  }
  return ok();
}

}  // namespace passerelle::ingest

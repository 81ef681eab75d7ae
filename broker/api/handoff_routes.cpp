#include "broker/api/handoff_routes.h"

#include <rapidjson/document.h>

#include "broker/api/proto_json.h"
#include "broker/api/subject_view.h"
#include "broker/handoff/handoff_code.h"
#include "broker/handoff/qr_svg.h"
#include "broker/http/error_mapping.h"

namespace passerelle::api {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using http::request_context;
using http::response;

namespace {

// The handoff-specific statuses, then the common mapping.
response handoff_error(const error& err, request_context& ctx, std::chrono::milliseconds retry_after = {}) {
  const unsigned v = ctx.request.version();
  if (err.code == "handoff_used" || err.code == "handoff_expired") {
    return http::json_error(beast_http::status::gone, err.code, err.message, v);
  }
  if (err.code == "wrong_store") return http::json_error(beast_http::status::forbidden, err.code, err.message, v);
  if (err.code == "rate_limited") {
    response res = http::json_error(beast_http::status::too_many_requests, err.code, err.message, v);
    res.set(beast_http::field::retry_after,
            std::to_string(std::max<std::int64_t>(1, (retry_after.count() + 999) / 1000)));
    return res;
  }
  return http::error_response(err, v);
}

handoff_caller caller_of(const request_context& ctx) {
  handoff_caller c;
  if (ctx.who.k == http::principal::kind::store_token) c.store_id = ctx.who.store_id;
  c.limiter_key = ctx.who.k == http::principal::kind::anonymous ? ctx.remote_address : ctx.who.id;
  return c;
}

std::string peek_json(const handoff_peek& p) {
  return http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "handoff_id");
    http::write_string(w, p.handoff.handoff_id);
    http::write_key(w, "status");
    http::write_string(w, p.handoff.status == lifecycle::handoff_status::accepted ? "accepted" : "pending");
    http::write_key(w, "store");
    http::write_string(w, p.handoff.target_store);
    http::write_key(w, "expires_at");
    http::write_string(w, rfc3339_ms(p.handoff.expires_at_ms));
    http::write_key(w, "basket");
    const std::string basket = subject_json(p.basket);
    w.RawValue(basket.data(), basket.size(), rapidjson::kObjectType);
    w.EndObject();
  });
}

}  // namespace

result<void> add_handoff_routes(http::router& r, handoff_service& service) {
  handoff_service* svc = &service;
  auto rv = r.add(
      {http::verb::post, "/v1/baskets/{id}/handoffs",
       [svc](request_context& ctx) -> asio::awaitable<response> {
         rapidjson::Document body;
         body.Parse(ctx.body().data(), ctx.body().size());
         if (body.HasParseError() || !body.IsObject() || !body.HasMember("to") || !body["to"].IsObject()) {
           co_return http::json_error(
               beast_http::status::bad_request, "bad_body",
               R"(expected {"to": {"store": "<store id>"}} or {"to": {"web": "<connector>:<account>"}})",
               ctx.request.version());
         }
         const auto& to = body["to"];
         if (to.HasMember("web")) {
           if (to.HasMember("store") || !to["web"].IsString()) {
             co_return http::json_error(beast_http::status::bad_request, "bad_body",
                                        R"(expected {"to": {"web": "<connector>:<account>"}})", ctx.request.version());
           }
           const std::string target(to["web"].GetString(), to["web"].GetStringLength());
           const std::string id(*ctx.param("id"));
           const std::string who = ctx.who.id;
           std::function<result<web_handoff_created>()> job = [svc, id, target, who] {
             return svc->request_web(id, target, who);
           };
           auto created = co_await ctx.blocking->run<web_handoff_created>(std::move(job));
           if (!created) co_return handoff_error(created.err(), ctx);
           co_return http::json_response(beast_http::status::accepted, http::build_json([&](http::json_writer& w) {
                                           w.StartObject();
                                           http::write_key(w, "handoff_id");
                                           http::write_string(w, created->handoff_id);
                                           http::write_key(w, "status");
                                           http::write_string(w, "pending");
                                           http::write_key(w, "expires_at");
                                           http::write_string(w, rfc3339_ms(created->expires_at_ms));
                                           w.EndObject();
                                         }),
                                         ctx.request.version());
         }
         if (!to.HasMember("store") || !to["store"].IsString() || to["store"].GetStringLength() == 0) {
           co_return http::json_error(beast_http::status::bad_request, "bad_body",
                                      R"(expected {"to": {"store": "<store id>"}})", ctx.request.version());
         }
         const std::string store(to["store"].GetString(), to["store"].GetStringLength());
         const std::string id(*ctx.param("id"));
         const std::string who = ctx.who.id;
         std::function<result<handoff_created>()> job = [svc, id, store, who] { return svc->request(id, store, who); };
         auto created = co_await ctx.blocking->run<handoff_created>(std::move(job));
         if (!created) co_return handoff_error(created.err(), ctx);
         co_return http::json_response(beast_http::status::created, http::build_json([&](http::json_writer& w) {
                                         w.StartObject();
                                         http::write_key(w, "handoff_id");
                                         http::write_string(w, created->handoff_id);
                                         http::write_key(w, "code");
                                         http::write_string(w, created->code);
                                         http::write_key(w, "expires_at");
                                         http::write_string(w, rfc3339_ms(created->expires_at_ms));
                                         http::write_key(w, "qr_url");
                                         http::write_string(w, "/v1/handoffs/" + created->code + "/qr.svg");
                                         w.EndObject();
                                       }),
                                       ctx.request.version());
       },
       http::auth_requirement::of_role(http::role::handoff), std::size_t{4096}, "create_handoff"});
  if (!rv) return rv;

  rv = r.add({http::verb::get, "/v1/handoffs/{code}",
              [svc](request_context& ctx) -> asio::awaitable<response> {
                const std::string code(*ctx.param("code"));
                const handoff_caller caller = caller_of(ctx);
                std::function<result<handoff_peek>()> job = [svc, code, caller] { return svc->peek(code, caller); };
                auto found = co_await ctx.blocking->run<handoff_peek>(std::move(job));
                if (!found) co_return handoff_error(found.err(), ctx, std::chrono::milliseconds(60'000));
                co_return http::json_response(beast_http::status::ok, peek_json(*found), ctx.request.version());
              },
              http::auth_requirement::any_store(), std::size_t{0}, "get_handoff"});
  if (!rv) return rv;

  rv = r.add(
      {http::verb::post, "/v1/handoffs/{code}/accept",
       [svc](request_context& ctx) -> asio::awaitable<response> {
         std::string till;
         if (!ctx.body().empty()) {
           rapidjson::Document body;
           body.Parse(ctx.body().data(), ctx.body().size());
           if (body.HasParseError() || !body.IsObject() || (body.HasMember("till_id") && !body["till_id"].IsString())) {
             co_return http::json_error(beast_http::status::bad_request, "bad_body",
                                        R"(expected {"till_id": "<till>"} or an empty body)", ctx.request.version());
           }
           if (body.HasMember("till_id")) till.assign(body["till_id"].GetString(), body["till_id"].GetStringLength());
         }
         const std::string code(*ctx.param("code"));
         const handoff_caller caller = caller_of(ctx);
         std::function<result<handoff_peek>()> job = [svc, code, caller, till] {
           return svc->accept(code, caller, till);
         };
         auto accepted = co_await ctx.blocking->run<handoff_peek>(std::move(job));
         if (!accepted) co_return handoff_error(accepted.err(), ctx, std::chrono::milliseconds(60'000));
         co_return http::json_response(beast_http::status::ok, peek_json(*accepted), ctx.request.version());
       },
       http::auth_requirement::any_store(), std::size_t{4096}, "accept_handoff"});
  if (!rv) return rv;

  return r.add({http::verb::get, "/v1/handoffs/{code}/qr.svg",
                [](request_context& ctx) -> asio::awaitable<response> {
                  const auto code = handoff::normalize_handoff_code(*ctx.param("code"));
                  if (!code) {
                    co_return http::json_error(beast_http::status::bad_request, "malformed_code",
                                               "a handoff code is 10 characters of Crockford base32",
                                               ctx.request.version());
                  }
                  auto svg = handoff::qr_svg(*code);
                  if (!svg) co_return http::error_response(svg.err(), ctx.request.version());
                  response res = http::typed_response(beast_http::status::ok, "image/svg+xml", std::move(*svg),
                                                      ctx.request.version());
                  res.set(beast_http::field::cache_control, "private, max-age=3600");
                  co_return res;
                },
                http::auth_requirement::none(), std::size_t{0}, "get_handoff_qr"});
}

}  // namespace passerelle::api

// [http] unit tests of the pieces that need no socket: router, auth, idempotency store, error mapping, JSON
// helpers and the OpenAPI consistency check.
#include <algorithm>
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "broker/core/clock.h"
#include "broker/http/auth.h"
#include "broker/http/error_mapping.h"
#include "broker/http/idempotency.h"
#include "broker/http/json.h"
#include "broker/http/openapi.h"
#include "broker/http/ops_routes.h"
#include "broker/http/router.h"

using namespace passerelle;
using namespace passerelle::http;
namespace asio = boost::asio;

namespace {

handler ok_handler() {
  return [](request_context&) -> asio::awaitable<response> { co_return json_response(beast_http::status::ok, "{}"); };
}

route make_route(verb m, std::string pattern, std::string op) {
  route r;
  r.method = m;
  r.pattern = std::move(pattern);
  r.handler = ok_handler();
  r.operation_id = std::move(op);
  return r;
}

}  // namespace

TEST_CASE("router matches params, prefers literals, and answers 404/405", "[http]") {
  router r;
  REQUIRE(r.add(make_route(verb::get, "/v1/baskets/{id}", "get_basket")).ok());
  REQUIRE(r.add(make_route(verb::get, "/v1/baskets/{id}/history", "get_history")).ok());
  REQUIRE(r.add(make_route(verb::post, "/v1/baskets/{id}/handoffs", "post_handoff")).ok());
  REQUIRE(r.add(make_route(verb::get, "/v1/baskets/search", "search")).ok());

  auto m = r.match(verb::get, "/v1/baskets/shopify%3Aex.myshopify.com%3Aabc%2Fdef/history");
  REQUIRE(m.k == router::match_result::kind::found);
  CHECK(m.r->operation_id == "get_history");
  REQUIRE(m.path_params.size() == 1);
  CHECK(m.path_params[0].first == "id");
  CHECK(m.path_params[0].second == "shopify:ex.myshopify.com:abc/def");

  CHECK(r.match(verb::get, "/v1/baskets/search").r->operation_id == "search");
  CHECK(r.match(verb::get, "/v1/baskets/other").r->operation_id == "get_basket");

  auto nf = r.match(verb::get, "/v1/nothing");
  CHECK(nf.k == router::match_result::kind::not_found);
  CHECK(r.match(verb::get, "/v1/baskets/").k == router::match_result::kind::not_found);  // empty param
  CHECK(r.match(verb::get, "/v1/baskets/x/history/").k == router::match_result::kind::not_found);

  auto na = r.match(verb::delete_, "/v1/baskets/x/handoffs");
  REQUIRE(na.k == router::match_result::kind::method_not_allowed);
  CHECK(na.allow == "POST");

  auto bad = r.match(verb::get, "/v1/baskets/%zz");
  CHECK(bad.k == router::match_result::kind::bad_path);
}

TEST_CASE("router rejects malformed and clashing routes", "[http]") {
  router r;
  REQUIRE(r.add(make_route(verb::get, "/v1/x/{id}", "x")).ok());
  CHECK_FALSE(r.add(make_route(verb::get, "v1/x", "a")).ok());
  CHECK_FALSE(r.add(make_route(verb::get, "/v1//x", "b")).ok());
  CHECK_FALSE(r.add(make_route(verb::get, "/v1/{a}/{a}", "c")).ok());
  CHECK_FALSE(r.add(make_route(verb::get, "/v1/x{id}", "d")).ok());
  CHECK_FALSE(r.add(make_route(verb::get, "/v1/x/{other}", "e")).ok());  // same shape as /v1/x/{id}
  CHECK_FALSE(r.add(make_route(verb::get, "/v1/y", "x")).ok());          // duplicate operation id
  CHECK_FALSE(r.add(make_route(verb::get, "/v1/y", "")).ok());
  route no_handler = make_route(verb::get, "/v1/z", "z");
  no_handler.handler = nullptr;
  const bool added_without_handler = r.add(std::move(no_handler)).ok();  // outside CHECK: the macro names it twice
  CHECK_FALSE(added_without_handler);
  CHECK(r.add(make_route(verb::post, "/v1/x/{id}", "post_x")).ok());  // same shape, other method
}

TEST_CASE("query strings, percent-decoding and traceparent", "[http]") {
  auto q = parse_query("ref=shopify%3Aa%3Ab&limit=10&flag&sp=a+b");
  REQUIRE(q);
  REQUIRE(q->size() == 4);
  CHECK((*q)[0] == std::pair<std::string, std::string>{"ref", "shopify:a:b"});
  CHECK((*q)[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK((*q)[3].second == "a b");
  CHECK_FALSE(parse_query("a=%4"));
  CHECK(percent_decode("a+b", false).value() == "a+b");
  CHECK_FALSE(percent_decode("%", false));

  CHECK(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("garbage"));
}

TEST_CASE("credentials: plain and sha256 secrets, roles, store tokens", "[http]") {
  credentials c;
  REQUIRE(c.add_api_key("reader", {role::read}).ok());
  const auto d = sha256("boss");
  REQUIRE(c.add_api_key("sha256:" + to_hex(d.data(), d.size()), {role::admin}).ok());
  REQUIRE(c.add_store_token("paris-01", "till-paris").ok());

  CHECK_FALSE(c.add_api_key("", {role::read}).ok());
  CHECK_FALSE(c.add_api_key("k", {}).ok());
  CHECK_FALSE(c.add_api_key("sha256:abc", {role::read}).ok());
  CHECK_FALSE(c.add_api_key("sha256:" + std::string(64, 'g'), {role::read}).ok());
  CHECK_FALSE(c.add_store_token("", "t").ok());
  CHECK_FALSE(parse_role("owner").ok());

  auto boss = c.find("boss");
  REQUIRE(boss);
  CHECK(boss->has_role(role::read));
  CHECK(boss->has_role(role::handoff));
  CHECK(boss->id.starts_with("key:"));
  CHECK(boss->id.find("boss") == std::string::npos);
  auto till = c.find("till-paris");
  REQUIRE(till);
  CHECK(till->k == principal::kind::store_token);
  CHECK(till->store_id == "paris-01");
  CHECK_FALSE(c.find("nobody"));

  using v = auth_outcome::verdict;
  CHECK(check_auth(c, auth_requirement::of_role(role::read), std::nullopt, {}).v == v::unauthenticated);
  CHECK(check_auth(c, auth_requirement::of_role(role::read), "Basic abc", {}).v == v::unauthenticated);
  CHECK(check_auth(c, auth_requirement::of_role(role::read), "Bearer wrong", {}).v == v::unauthenticated);
  CHECK(check_auth(c, auth_requirement::of_role(role::read), "bearer reader", {}).v == v::allowed);
  CHECK(check_auth(c, auth_requirement::of_role(role::handoff), "Bearer reader", {}).v == v::forbidden);
  CHECK(check_auth(c, auth_requirement::of_role(role::handoff), "Bearer boss", {}).v == v::allowed);
  CHECK(check_auth(c, auth_requirement::of_role(role::read), "Bearer till-paris", {}).v == v::forbidden);
  CHECK(check_auth(c, auth_requirement::store(), "Bearer till-paris", "paris-01").v == v::allowed);
  CHECK(check_auth(c, auth_requirement::store(), "Bearer till-paris", "lyon-01").v == v::forbidden);
  CHECK(check_auth(c, auth_requirement::store(), "Bearer reader", "paris-01").v == v::forbidden);
  CHECK(check_auth(c, auth_requirement::store(), "Bearer boss", "paris-01").v == v::allowed);
  CHECK(check_auth(c, auth_requirement::any_store(), "Bearer till-paris", {}).v == v::allowed);
  auto open = check_auth(c, auth_requirement::none(), "Bearer reader", {});
  CHECK(open.v == v::allowed);
  CHECK(open.who.k == principal::kind::api_key);
  CHECK(check_auth(c, auth_requirement::none(), "Bearer wrong", {}).who.k == principal::kind::anonymous);
}

TEST_CASE("credentials_store swaps atomically", "[http]") {
  auto first = std::make_shared<credentials>();
  REQUIRE(first->add_api_key("old", {role::read}).ok());
  credentials_store store(first);
  auto snap = store.snapshot();
  auto second = std::make_shared<credentials>();
  REQUIRE(second->add_api_key("new", {role::read}).ok());
  store.replace(second);
  CHECK(snap->find("old"));  // a request's snapshot stays valid
  CHECK_FALSE(store.snapshot()->find("old"));
  CHECK(store.snapshot()->find("new"));
}

TEST_CASE("idempotency store: proceed, in flight, replay, mismatch, 5xx release", "[http]") {
  core::manual_clock clk;
  idempotency_store s({10, 60'000}, clk);
  const auto body = sha256("body");
  const auto other = sha256("other");
  const std::string k = idempotency_store::scope("key:1", "post_x", "abc");
  CHECK(s.begin(k, body).k == idempotency_store::outcome::proceed);
  CHECK(s.begin(k, body).k == idempotency_store::outcome::in_flight);
  CHECK(s.begin(k, other).k == idempotency_store::outcome::mismatch);
  s.complete(k, json_response(beast_http::status::created, R"({"id":1})"));
  auto r = s.begin(k, body);
  REQUIRE(r.k == idempotency_store::outcome::replay);
  CHECK(r.stored->result() == beast_http::status::created);
  CHECK(r.stored->body() == R"({"id":1})");
  // Another principal's same key is independent.
  CHECK(s.begin(idempotency_store::scope("key:2", "post_x", "abc"), other).k == idempotency_store::outcome::proceed);

  const std::string k5 = idempotency_store::scope("key:1", "post_x", "five");
  CHECK(s.begin(k5, body).k == idempotency_store::outcome::proceed);
  s.complete(k5, json_response(beast_http::status::service_unavailable, "{}"));
  CHECK(s.begin(k5, body).k == idempotency_store::outcome::proceed);  // not stored: runs again

  clk.advance(std::chrono::milliseconds(60'001));
  CHECK(s.begin(k, other).k == idempotency_store::outcome::proceed);  // expired: new request

  CHECK(validate_idempotency_key("abc-123").ok());
  CHECK_FALSE(validate_idempotency_key("").ok());
  CHECK_FALSE(validate_idempotency_key("has space").ok());
  CHECK_FALSE(validate_idempotency_key(std::string(256, 'a')).ok());
}

TEST_CASE("idempotency store is bounded", "[http]") {
  core::manual_clock clk;
  idempotency_store s({2, 60'000}, clk);
  const auto d = sha256("b");
  CHECK(s.begin("a", d).k == idempotency_store::outcome::proceed);
  CHECK(s.begin("b", d).k == idempotency_store::outcome::proceed);
  CHECK(s.begin("c", d).k == idempotency_store::outcome::full);  // both in flight
  s.complete("a", json_response(beast_http::status::ok, "{}"));
  CHECK(s.begin("c", d).k == idempotency_store::outcome::proceed);  // evicts completed "a"
  CHECK(s.size() == 2);
  CHECK(s.begin("a", d).k == idempotency_store::outcome::full);
  s.release("b");
  CHECK(s.size() == 1);
}

TEST_CASE("error kinds map to HTTP statuses in one place", "[http]") {
  auto r = error_response(error::retry("queue_full", "spool is full"));
  CHECK(r.result() == beast_http::status::service_unavailable);
  CHECK(r[beast_http::field::retry_after] == "1");
  CHECK(error_response(error::reject("bad", "x")).result() == beast_http::status::bad_request);
  CHECK(error_response(error::not_found("nf", "x")).result() == beast_http::status::not_found);
  auto u = error_response(error{error_kind::unauthorized, "bad_sig", "x"});
  CHECK(u.result() == beast_http::status::unauthorized);
  CHECK(u.find(beast_http::field::www_authenticate) != u.end());
  CHECK(error_response(error{error_kind::conflict, "c", "x"}).result() == beast_http::status::conflict);
  auto f = error_response(error::fatal("db_corrupt", "rocksdb says /var/secret is broken"));
  CHECK(f.result() == beast_http::status::internal_server_error);
  CHECK(f.body().find("/var/secret") == std::string::npos);

  rapidjson::Document d;
  d.Parse(error_response(error::reject("bad_json", "quote \" and \\ here")).body().c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["error"]["code"].GetString()) == "bad_json");
  CHECK(std::string(d["error"]["message"].GetString()) == "quote \" and \\ here");
}

TEST_CASE("money is written as integer minor units", "[http]") {
  const std::string s = build_json([](json_writer& w) { write_money(w, 1999, "EUR"); });
  CHECK(s == R"({"amount_minor":1999,"currency":"EUR"})");
}

TEST_CASE("the OpenAPI document matches the route table, and the check fails either way", "[http]") {
  obs::registry metrics;
  router r;
  REQUIRE(add_ops_routes(r, {&metrics, {}, 5}).ok());
  // The ops routes are all documented; the only problems here are documented operations the daemon adds (webhooks,
  // dead letters, reads, handoffs), checked against the daemon's full route table in tests/app/daemon_test.cpp.
  const auto problems = check_openapi({&r}, openapi_document());
  for (const auto& p : problems) {
    INFO(p);
    CHECK(p.rfind("documented operation ", 0) == 0);
    CHECK(p.find(" has no route") != std::string::npos);
  }

  // A route the document does not describe.
  router extra;
  REQUIRE(add_ops_routes(extra, {&metrics, {}, 5}).ok());
  REQUIRE(extra.add(make_route(verb::get, "/v1/undocumented", "get_undocumented")).ok());
  auto p1 = check_openapi({&extra}, openapi_document());
  REQUIRE(p1.size() == problems.size() + 1);
  CHECK(std::count_if(p1.begin(), p1.end(),
                      [](const std::string& p) { return p.find("/v1/undocumented") != std::string::npos; }) == 1);

  // A documented operation without a route.
  router fewer;
  REQUIRE(fewer.add(make_route(verb::get, "/healthz", "get_healthz")).ok());
  auto p2 = check_openapi({&fewer}, openapi_document());
  CHECK(p2.size() == problems.size() + 3);

  // Same path and method, other operation id.
  router renamed;
  REQUIRE(renamed.add(make_route(verb::get, "/healthz", "health")).ok());
  auto p3 = check_openapi({&renamed}, R"({"paths": {"/healthz": {"get": {"operationId": "get_healthz"}}}})");
  REQUIRE(p3.size() == 1);
  CHECK(p3[0].find("operation id") != std::string::npos);

  CHECK(check_openapi({&r}, "{not json").size() == 1);

  rapidjson::Document d;
  d.Parse(openapi_document().data(), openapi_document().size());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["openapi"].GetString()).starts_with("3.0"));
  CHECK(d["components"]["schemas"].HasMember("Error"));
  CHECK(d["components"]["schemas"].HasMember("Money"));
}

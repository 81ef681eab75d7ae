// [http] real-server tests: a passerelle::http::server on 127.0.0.1:0 driven by a real Beast client (and raw
// bytes where the point is a misbehaving client).
#include <algorithm>
#include <catch2/catch.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/http/error_mapping.h"
#include "broker/http/openapi.h"
#include "broker/http/ops_routes.h"
#include "broker/http/server.h"
#include "tests/http/test_client.h"

using namespace passerelle;
using namespace passerelle::http;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::client;
using test::wait_until;

namespace {

// Holds a handler until the test releases it (no sleeping: the handler waits on a timer that release() cancels).
struct gate {
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool released = false;
  std::vector<asio::steady_timer*> timers;

  asio::awaitable<void> wait() {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(1h);
    {
      std::lock_guard lock(mu);
      ++entered;
      cv.notify_all();
      if (released) co_return;
      timers.push_back(&t);
    }
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  bool wait_entered(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard lock(mu);
    released = true;
    for (auto* t : timers) asio::post(t->get_executor(), [t] { t->cancel(); });
    timers.clear();
  }
};

struct captured_log {
  std::mutex mu;
  std::vector<std::string> lines;
  obs::logger::sink sink() {
    return [this](std::string_view l) {
      std::lock_guard lock(mu);
      lines.emplace_back(l);
    };
  }
  bool any_contains(std::string_view s) {
    std::lock_guard lock(mu);
    for (const auto& l : lines) {
      if (l.find(s) != std::string::npos) return true;
    }
    return false;
  }
};

// A server with a representative route table, built per test with adjustable options.
struct fixture {
  obs::registry metrics;
  captured_log logs;
  obs::logger log{obs::log_level::info, obs::log_format::text, logs.sink()};
  credentials_store creds;
  std::shared_ptr<gate> slow = std::make_shared<gate>();
  std::shared_ptr<std::atomic<int>> echo_calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> ready = std::make_shared<std::atomic<bool>>(true);
  std::unique_ptr<server> srv;

  explicit fixture(const std::function<void(server_options&)>& tweak = {}) {
    auto c = std::make_shared<credentials>();
    REQUIRE(c->add_api_key("read-key", {role::read}).ok());
    REQUIRE(c->add_api_key("handoff-key", {role::handoff}).ok());
    const auto d = sha256("admin-key");
    REQUIRE(c->add_api_key("sha256:" + to_hex(d.data(), d.size()), {role::admin}).ok());
    REQUIRE(c->add_store_token("paris-01", "till-paris").ok());
    REQUIRE(c->add_store_token("lyon-01", "till-lyon").ok());
    creds.replace(c);

    auto r = std::make_shared<router>();
    REQUIRE(add_ops_routes(*r, {&metrics,
                                [ready = ready]() -> result<void> {
                                  if (*ready) return ok();
                                  return error::retry("log_unreachable", "the event log does not answer");
                                },
                                7})
                .ok());
    REQUIRE(r->add({verb::get, "/v1/echo/{id}/items/{item}",
                    [](request_context& ctx) -> asio::awaitable<response> {
                      co_return json_response(beast_http::status::ok, build_json([&](json_writer& w) {
                                                w.StartObject();
                                                write_key(w, "id");
                                                write_string(w, *ctx.param("id"));
                                                write_key(w, "item");
                                                write_string(w, *ctx.param("item"));
                                                write_key(w, "q");
                                                write_string(w, ctx.query("q").value_or(""));
                                                write_key(w, "principal");
                                                write_string(w, ctx.who.id);
                                                write_key(w, "traceparent");
                                                write_string(w, ctx.traceparent);
                                                write_key(w, "remote");
                                                write_string(w, ctx.remote_address);
                                                w.EndObject();
                                              }));
                    },
                    auth_requirement::of_role(role::read), std::nullopt, "echo_params"})
                .ok());
    REQUIRE(r->add({verb::get, "/v1/echo/fixed/items/{item}",
                    [](request_context&) -> asio::awaitable<response> {
                      co_return json_response(beast_http::status::ok, R"({"fixed":true})");
                    },
                    auth_requirement::of_role(role::read), std::nullopt, "echo_fixed"})
                .ok());
    REQUIRE(r->add({verb::post, "/v1/echo",
                    [calls = echo_calls](request_context& ctx) -> asio::awaitable<response> {
                      ++*calls;
                      co_return typed_response(beast_http::status::created, "application/octet-stream",
                                               std::string(ctx.body()) + "#" + std::to_string(calls->load()));
                    },
                    auth_requirement::of_role(role::handoff), std::size_t{16}, "post_echo"})
                .ok());
    REQUIRE(r->add({verb::post, "/v1/big",
                    [](request_context& ctx) -> asio::awaitable<response> {
                      co_return json_response(beast_http::status::ok,
                                              "{\"size\":" + std::to_string(ctx.body().size()) + "}");
                    },
                    auth_requirement::none(), std::nullopt, "post_big"})
                .ok());
    REQUIRE(r->add({verb::get, "/v1/pos/stores/{store}/thing",
                    [](request_context& ctx) -> asio::awaitable<response> {
                      co_return json_response(beast_http::status::ok,
                                              "{\"store\":\"" + std::string(*ctx.param("store")) + "\"}");
                    },
                    auth_requirement::store(), std::nullopt, "store_thing"})
                .ok());
    REQUIRE(r->add({verb::post, "/v1/slow",
                    [g = slow](request_context& ctx) -> asio::awaitable<response> {
                      co_await g->wait();
                      co_return json_response(beast_http::status::ok, "{\"body\":\"" + std::string(ctx.body()) + "\"}");
                    },
                    auth_requirement::none(), std::nullopt, "post_slow"})
                .ok());
    REQUIRE(r->add({verb::get, "/v1/fail",
                    [](request_context&) -> asio::awaitable<response> {
                      throw std::runtime_error("boom");
                      co_return response{};
                    },
                    auth_requirement::none(), std::nullopt, "get_fail"})
                .ok());
    REQUIRE(r->add({verb::get, "/v1/busy",
                    [](request_context& ctx) -> asio::awaitable<response> {
                      co_return error_response(error::retry("queue_full", "spool is full"), ctx.request.version());
                    },
                    auth_requirement::none(), std::nullopt, "get_busy"})
                .ok());

    server_options o;
    o.listen = "127.0.0.1:0";
    o.limits.header_bytes = 2048;
    o.shutdown_grace_ms = 10'000;
    if (tweak) tweak(o);
    srv = std::make_unique<server>(o, server_deps{r, nullptr, &creds, &metrics, &log});
    auto started = srv->start();
    INFO((started.ok() ? "" : started.err().message));
    REQUIRE(started.ok());
  }
  std::uint16_t port() const { return srv->port(); }
};

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string error_code(const test::client_response& r) {
  auto d = parse(r.body());
  REQUIRE(d.HasMember("error"));
  return d["error"]["code"].GetString();
}

}  // namespace

TEST_CASE("ops routes: healthz, readyz, metrics, openapi", "[http]") {
  fixture f;
  client c(f.port());
  auto h = c.request(verb::get, "/healthz");
  CHECK(h.result() == beast_http::status::ok);
  CHECK(parse(h.body())["status"].GetString() == std::string("ok"));

  auto r = c.request(verb::get, "/readyz");
  CHECK(r.result() == beast_http::status::ok);
  *f.ready = false;
  auto nr = c.request(verb::get, "/readyz");
  CHECK(nr.result() == beast_http::status::service_unavailable);
  CHECK(nr[beast_http::field::retry_after] == "7");
  CHECK(error_code(nr) == "log_unreachable");

  auto o = c.request(verb::get, "/v1/openapi.json");
  CHECK(o.result() == beast_http::status::ok);
  CHECK(o.body() == std::string(openapi_document()));

  auto m = c.request(verb::get, "/metrics");
  CHECK(m.result() == beast_http::status::ok);
  CHECK(m[beast_http::field::content_type].starts_with("text/plain; version=0.0.4"));
  CHECK(m.body().find("# TYPE http_requests_total counter") != std::string::npos);
  CHECK(m.body().find("http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1") != std::string::npos);
  CHECK(m.body().find("http_requests_total{route=\"/readyz\",method=\"GET\",status=\"503\"} 1") != std::string::npos);
  CHECK(m.body().find("http_request_duration_seconds_count{route=\"/healthz\"} 1") != std::string::npos);
}

TEST_CASE("routing: params, query, literal precedence, 404, 405, traceparent", "[http]") {
  fixture f;
  client c(f.port());
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto r = c.request(verb::get, "/v1/echo/shopify%3Aex.myshopify.com%3Aa%2Fb/items/42?q=red+shoes&x=1", {},
                     {{"Authorization", "Bearer read-key"}, {"traceparent", tp}});
  REQUIRE(r.result() == beast_http::status::ok);
  auto d = parse(r.body());
  CHECK(d["id"].GetString() == std::string("shopify:ex.myshopify.com:a/b"));
  CHECK(d["item"].GetString() == std::string("42"));
  CHECK(d["q"].GetString() == std::string("red shoes"));
  CHECK(std::string(d["principal"].GetString()).starts_with("key:"));
  CHECK(d["traceparent"].GetString() == tp);
  CHECK(std::string(d["remote"].GetString()).starts_with("127.0.0.1:"));

  auto fixed = c.request(verb::get, "/v1/echo/fixed/items/1", {}, {{"Authorization", "Bearer read-key"}});
  CHECK(parse(fixed.body()).HasMember("fixed"));

  auto bad_tp =
      c.request(verb::get, "/v1/echo/a/items/b", {}, {{"Authorization", "Bearer read-key"}, {"traceparent", "nope"}});
  CHECK(parse(bad_tp.body())["traceparent"].GetString() == std::string());

  auto nf = c.request(verb::get, "/v1/nowhere");
  CHECK(nf.result() == beast_http::status::not_found);
  CHECK(error_code(nf) == "route_not_found");

  auto na = c.request(verb::delete_, "/v1/echo");
  CHECK(na.result() == beast_http::status::method_not_allowed);
  CHECK(na[beast_http::field::allow] == "POST");
  CHECK(error_code(na) == "method_not_allowed");

  auto bad = c.request(verb::get, "/v1/echo/%zz/items/1", {}, {{"Authorization", "Bearer read-key"}});
  CHECK(bad.result() == beast_http::status::bad_request);

  // The connection survived every answer above (keep-alive).
  CHECK(c.request(verb::get, "/healthz").result() == beast_http::status::ok);
}

TEST_CASE("handler exceptions become 500 and retry errors 503 with Retry-After", "[http]") {
  fixture f;
  client c(f.port());
  auto r = c.request(verb::get, "/v1/fail");
  CHECK(r.result() == beast_http::status::internal_server_error);
  CHECK(r.body().find("boom") == std::string::npos);
  CHECK(f.logs.any_contains("boom"));
  auto b = c.request(verb::get, "/v1/busy");
  CHECK(b.result() == beast_http::status::service_unavailable);
  CHECK(b[beast_http::field::retry_after] == "1");
}

TEST_CASE("auth: 401 with WWW-Authenticate, 403 on wrong role, admin implies roles", "[http]") {
  fixture f;
  client c(f.port());
  auto none = c.request(verb::get, "/v1/echo/a/items/b");
  CHECK(none.result() == beast_http::status::unauthorized);
  CHECK(none[beast_http::field::www_authenticate].starts_with("Bearer"));
  CHECK(error_code(none) == "unauthorized");

  auto wrong = c.request(verb::get, "/v1/echo/a/items/b", {}, {{"Authorization", "Bearer nope"}});
  CHECK(wrong.result() == beast_http::status::unauthorized);
  CHECK(wrong.body().find("nope") == std::string::npos);

  auto basic = c.request(verb::get, "/v1/echo/a/items/b", {}, {{"Authorization", "Basic cmVhZDprZXk="}});
  CHECK(basic.result() == beast_http::status::unauthorized);

  auto reader_posts = c.request(verb::post, "/v1/echo", "x", {{"Authorization", "Bearer read-key"}});
  CHECK(reader_posts.result() == beast_http::status::forbidden);
  CHECK(error_code(reader_posts) == "forbidden");
  CHECK_FALSE(reader_posts.keep_alive());  // its body was never read: the connection closes
  CHECK(*f.echo_calls == 0);
  client c2(f.port());

  CHECK(c2.request(verb::post, "/v1/echo", "x", {{"Authorization", "Bearer handoff-key"}}).result() ==
        beast_http::status::created);
  CHECK(c2.request(verb::get, "/v1/echo/a/items/b", {}, {{"Authorization", "Bearer admin-key"}}).result() ==
        beast_http::status::ok);
  CHECK(c2.request(verb::post, "/v1/echo", "y", {{"Authorization", "Bearer admin-key"}}).result() ==
        beast_http::status::created);
  // A store token is not an API key.
  CHECK(c2.request(verb::get, "/v1/echo/a/items/b", {}, {{"Authorization", "Bearer till-paris"}}).result() ==
        beast_http::status::forbidden);
}

TEST_CASE("store tokens grant their own store only; keys reload at runtime", "[http]") {
  fixture f;
  client c(f.port());
  CHECK(c.request(verb::get, "/v1/pos/stores/paris-01/thing", {}, {{"Authorization", "Bearer till-paris"}}).result() ==
        beast_http::status::ok);
  CHECK(c.request(verb::get, "/v1/pos/stores/paris-01/thing", {}, {{"Authorization", "Bearer till-lyon"}}).result() ==
        beast_http::status::forbidden);
  CHECK(c.request(verb::get, "/v1/pos/stores/paris-01/thing", {}, {{"Authorization", "Bearer read-key"}}).result() ==
        beast_http::status::forbidden);
  CHECK(c.request(verb::get, "/v1/pos/stores/lyon-01/thing", {}, {{"Authorization", "Bearer admin-key"}}).result() ==
        beast_http::status::ok);

  // SIGHUP-style reload: the old token stops working on the very next request.
  auto next = std::make_shared<credentials>();
  REQUIRE(next->add_store_token("paris-01", "till-paris-v2").ok());
  f.creds.replace(next);
  CHECK(c.request(verb::get, "/v1/pos/stores/paris-01/thing", {}, {{"Authorization", "Bearer till-paris"}}).result() ==
        beast_http::status::unauthorized);
  CHECK(
      c.request(verb::get, "/v1/pos/stores/paris-01/thing", {}, {{"Authorization", "Bearer till-paris-v2"}}).result() ==
      beast_http::status::ok);
}

TEST_CASE("idempotency: replay, 409 while in flight, 422 on another body", "[http]") {
  fixture f;
  const std::vector<std::pair<std::string, std::string>> h = {{"Authorization", "Bearer handoff-key"},
                                                              {"Idempotency-Key", "k-1"}};
  client c(f.port());
  auto first = c.request(verb::post, "/v1/echo", "hello", h);
  REQUIRE(first.result() == beast_http::status::created);
  CHECK(first.body() == "hello#1");
  CHECK(first.find("Idempotency-Replayed") == first.end());

  auto again = c.request(verb::post, "/v1/echo", "hello", h);
  CHECK(again.result() == beast_http::status::created);
  CHECK(again.body() == "hello#1");
  CHECK(again["Idempotency-Replayed"] == "true");
  CHECK(*f.echo_calls == 1);

  auto other = c.request(verb::post, "/v1/echo", "bye", h);
  CHECK(other.result() == beast_http::status::unprocessable_entity);
  CHECK(error_code(other) == "idempotency_key_reused");

  // Another caller's identical key is another scope.
  auto admin =
      c.request(verb::post, "/v1/echo", "bye", {{"Authorization", "Bearer admin-key"}, {"Idempotency-Key", "k-1"}});
  CHECK(admin.result() == beast_http::status::created);
  CHECK(*f.echo_calls == 2);

  auto bad_key = c.request(verb::post, "/v1/echo", "x",
                           {{"Authorization", "Bearer handoff-key"}, {"Idempotency-Key", std::string(300, 'k')}});
  CHECK(bad_key.result() == beast_http::status::bad_request);
  CHECK(error_code(bad_key) == "bad_idempotency_key");

  // Concurrent repeat while the first is still in its handler.
  client a(f.port());
  client b(f.port());
  beast_http::request<beast_http::string_body> slow{verb::post, "/v1/slow", 11};
  slow.set(beast_http::field::host, "127.0.0.1");
  slow.set("Idempotency-Key", "slow-1");
  slow.body() = "s";
  a.write(slow);
  REQUIRE(f.slow->wait_entered(1));
  auto conflict = b.request(verb::post, "/v1/slow", "s", {{"Idempotency-Key", "slow-1"}});
  CHECK(conflict.result() == beast_http::status::conflict);
  CHECK(error_code(conflict) == "idempotency_in_flight");
  f.slow->release();
  auto done = a.read();
  CHECK(done.result() == beast_http::status::ok);
  auto replay = b.request(verb::post, "/v1/slow", "s", {{"Idempotency-Key", "slow-1"}});
  CHECK(replay.result() == beast_http::status::ok);
  CHECK(replay["Idempotency-Replayed"] == "true");
  CHECK(replay.body() == done.body());
}

TEST_CASE("body limits: per route and default, 413 and close, chunked too", "[http]") {
  fixture f([](server_options& o) { o.limits.body_bytes = 1000; });
  const std::vector<std::pair<std::string, std::string>> h = {{"Authorization", "Bearer handoff-key"}};
  {
    client c(f.port());
    auto at_limit = c.request(verb::post, "/v1/echo", std::string(16, 'a'), h);
    INFO(at_limit.body());
    CHECK(at_limit.result() == beast_http::status::created);
    auto over = c.request(verb::post, "/v1/echo", std::string(17, 'a'), h);
    CHECK(over.result() == beast_http::status::payload_too_large);
    CHECK(error_code(over) == "body_too_large");
    CHECK_FALSE(over.keep_alive());
  }
  {
    client c(f.port());
    CHECK(c.request(verb::post, "/v1/big", std::string(1000, 'b')).result() == beast_http::status::ok);
    CHECK(c.request(verb::post, "/v1/big", std::string(1001, 'b')).result() == beast_http::status::payload_too_large);
  }
  {
    // No Content-Length: the limit is enforced while the chunks arrive.
    client c(f.port());
    c.write_raw(
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer handoff-key\r\n"
        "Transfer-Encoding: chunked\r\n\r\n10\r\naaaaaaaaaaaaaaaa\r\n10\r\nbbbbbbbbbbbbbbbb\r\n0\r\n\r\n");
    auto r = c.read();
    CHECK(r.result() == beast_http::status::payload_too_large);
  }
  CHECK(*f.echo_calls == 1);
}

TEST_CASE("header limit: 431", "[http]") {
  fixture f;
  client c(f.port());
  auto r = c.request(verb::get, "/healthz", {}, {{"X-Big", std::string(4000, 'h')}});
  CHECK(r.result() == beast_http::status::request_header_fields_too_large);
  CHECK(error_code(r) == "header_too_large");
}

TEST_CASE("read timeout cuts slow senders and idle connections", "[http]") {
  fixture f([](server_options& o) { o.limits.read_timeout_ms = 300; });
  {
    client c(f.port());
    c.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // the header never ends
    bool closed = false;
    const std::string got = c.read_until_close(closed);
    CHECK(closed);  // the socket is closed at the deadline (tcp_stream timeouts close it: no 408 possible)
    CHECK(got.empty());
  }
  {
    client c(f.port());
    c.write_raw("POST /v1/big HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");  // the body never ends
    bool closed = false;
    const std::string got = c.read_until_close(closed);
    CHECK(closed);
    CHECK(got.empty());
  }
  {
    client c(f.port());
    CHECK(c.request(verb::get, "/healthz").result() == beast_http::status::ok);
    bool closed = false;
    const std::string got = c.read_until_close(closed);  // idle keep-alive: closed without a word
    CHECK(closed);
    CHECK(got.empty());
  }
  CHECK(wait_until([&] { return f.srv->active_connections() == 0; }));
}

TEST_CASE("max connections: over the cap the server answers 503 and closes", "[http]") {
  fixture f([](server_options& o) { o.limits.max_connections = 1; });
  auto a = std::make_unique<client>(f.port());
  CHECK(a->request(verb::get, "/healthz").result() == beast_http::status::ok);
  REQUIRE(f.srv->active_connections() == 1);
  {
    client b(f.port());
    b.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = b.read();
    CHECK(r.result() == beast_http::status::service_unavailable);
    CHECK(error_code(r) == "too_many_connections");
    CHECK_FALSE(r.keep_alive());
  }
  a.reset();
  REQUIRE(wait_until([&] { return f.srv->active_connections() == 0; }));
  client c(f.port());
  CHECK(c.request(verb::get, "/healthz").result() == beast_http::status::ok);
  CHECK(f.metrics.render().find("http_connections_rejected_total{listener=\"main\"} 1") != std::string::npos);
}

TEST_CASE("graceful stop: in-flight request completes, idle connections close, no new connections", "[http]") {
  fixture f;
  const auto port = f.port();
  client idle(port);
  CHECK(idle.request(verb::get, "/healthz").result() == beast_http::status::ok);
  client busy(port);
  beast_http::request<beast_http::string_body> req{verb::post, "/v1/slow", 11};
  req.set(beast_http::field::host, "127.0.0.1");
  req.body() = "inflight";
  busy.write(req);
  REQUIRE(f.slow->wait_entered(1));

  std::thread stopper([&] { f.srv->stop(); });
  bool closed = false;
  CHECK(idle.read_until_close(closed).empty());
  CHECK(closed);
  CHECK(wait_until([&] { return test::connect_refused(port); }));

  f.slow->release();
  auto r = busy.read();
  CHECK(r.result() == beast_http::status::ok);
  CHECK(parse(r.body())["body"].GetString() == std::string("inflight"));
  CHECK_FALSE(r.keep_alive());
  stopper.join();
  CHECK(f.srv->active_connections() == 0);
}

TEST_CASE("access log: one line per request, never the body", "[http]") {
  fixture f;
  {
    client c(f.port());
    CHECK(c.request(verb::post, "/v1/echo", "supersecretbody", {{"Authorization", "Bearer handoff-key"}}).result() ==
          beast_http::status::created);
  }
  REQUIRE(wait_until([&] { return f.logs.any_contains("route=/v1/echo"); }));
  CHECK(f.logs.any_contains("status=201"));
  CHECK_FALSE(f.logs.any_contains("supersecretbody"));
  CHECK_FALSE(f.logs.any_contains("handoff-key"));
}

TEST_CASE("a separate admin listener serves the admin router", "[http]") {
  obs::registry metrics;
  obs::logger log(obs::log_level::warn, obs::log_format::text, [](std::string_view) {});
  credentials_store creds;
  auto main_routes = std::make_shared<router>();
  REQUIRE(main_routes
              ->add({verb::get, "/v1/thing",
                     [](request_context&) -> asio::awaitable<response> {
                       co_return json_response(beast_http::status::ok, "{}");
                     },
                     auth_requirement::none(), std::nullopt, "get_thing"})
              .ok());
  auto admin_routes = std::make_shared<router>();
  REQUIRE(add_ops_routes(*admin_routes, {&metrics, {}, 5}).ok());
  server_options o;
  o.listen = "127.0.0.1:0";
  o.admin_listen = "127.0.0.1:0";
  server srv(o, {main_routes, admin_routes, &creds, &metrics, &log});
  REQUIRE(srv.start().ok());
  REQUIRE(srv.admin_port() != 0);
  REQUIRE(srv.admin_port() != srv.port());
  client admin(srv.admin_port());
  CHECK(admin.request(verb::get, "/healthz").result() == beast_http::status::ok);
  client pub(srv.port());
  CHECK(pub.request(verb::get, "/healthz").result() == beast_http::status::not_found);
  CHECK(pub.request(verb::get, "/v1/thing").result() == beast_http::status::ok);
  // Both routers are checked together: the only problems are the undocumented test route and the documented
  // operations the daemon adds (tests/app/daemon_test.cpp checks the daemon's full table).
  const auto problems = check_openapi({main_routes.get(), admin_routes.get()}, openapi_document());
  for (const auto& p : problems) {
    INFO(p);
    CHECK((p.find("/v1/thing") != std::string::npos || p.rfind("documented operation ", 0) == 0));
  }
  CHECK(std::count_if(problems.begin(), problems.end(),
                      [](const std::string& p) { return p.find("/v1/thing") != std::string::npos; }) == 1);
}

TEST_CASE("start errors are values", "[http]") {
  obs::registry metrics;
  obs::logger log(obs::log_level::off, obs::log_format::text, [](std::string_view) {});
  credentials_store creds;
  auto routes = std::make_shared<router>();
  {
    server_options o;
    o.listen = "nonsense";
    server srv(o, {routes, nullptr, &creds, &metrics, &log});
    auto r = srv.start();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == "bad_listen_address");
  }
  {
    server_options o;
    o.listen = "127.0.0.1:0";
    server first(o, {routes, nullptr, &creds, &metrics, &log});
    REQUIRE(first.start().ok());
    o.listen = "127.0.0.1:" + std::to_string(first.port());
    server second(o, {routes, nullptr, &creds, &metrics, &log});
    auto r = second.start();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().kind == error_kind::retry);
  }
  {
    server_options o;
    o.listen = "127.0.0.1:0";
    o.tls = tls_options{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
    server srv(o, {routes, nullptr, &creds, &metrics, &log});
    auto r = srv.start();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == "bad_tls_cert");
  }
  CHECK(parse_listen_address("[::1]:8080").value().host == "::1");
  CHECK(parse_listen_address("localhost:0").value().host == "127.0.0.1");
  CHECK_FALSE(parse_listen_address("127.0.0.1:70000").ok());
}

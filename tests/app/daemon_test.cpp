// The assembled daemon, in-process, on the embedded backend: what `passerelle serve` runs, over real HTTP.

#include "broker/app/daemon.h"

#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>

#include "broker/config/config.h"
#include "broker/http/openapi.h"
#include "connectors/generic/generic_connector.h"
#include "tests/http/test_client.h"
#include "tests/log/temp_dir.h"

using namespace passerelle;
namespace bh = boost::beast::http;

namespace {

// `more_connectors`: further lines under `connectors:`; `more`: further top-level sections.
std::string config_text(const std::string& data_dir, const std::string& secret, const std::string& more_connectors,
                        const std::string& more) {
  return "http: { listen: \"127.0.0.1:0\" }\n"
         "data_dir: \"" +
         data_dir +
         "\"\n"
         "kafka: { partitions: 4 }\n"
         "connectors:\n"
         "  generic: { accounts: { acme: { secrets: [\"" +
         secret + "\"] } } }\n" + more_connectors + "log: { level: warn }\n" + more;
}

const std::string body =
    R"({"subject_kind":"SUBJECT_KIND_BASKET","references":["generic:acme:cart-1"],"basket_created":{}})";

http::test::client_response post_signed(std::uint16_t port, const std::string& secret, const std::string& delivery,
                                        const std::string& connector = "generic", const std::string& payload = body) {
  http::test::client c(port);
  const auto sig = connectors::generic::sign(secret, static_cast<std::int64_t>(std::time(nullptr)), payload);
  return c.request(bh::verb::post, "/v1/webhooks/" + connector, payload,
                   {{"Content-Type", "application/json"},
                    {"X-Passerelle-Account", "acme"},
                    {"X-Passerelle-Delivery", delivery},
                    {"X-Passerelle-Signature", sig}});
}

struct running_daemon {
  log::testing::temp_dir dir;
  std::string config_path = (dir.path() / "passerelle.yaml").string();
  obs::logger logger{obs::log_level::warn};
  std::unique_ptr<app::daemon> d;

  std::string more_connectors;
  std::string more;

  explicit running_daemon(const std::string& secret = "secret-1", std::string connectors_lines = {},
                          std::string top_level = {})
      : more_connectors(std::move(connectors_lines)), more(std::move(top_level)) {
    write_config(secret);
    auto cfg = config::load_config_file(config_path);
    REQUIRE(cfg);
    auto started = app::daemon::start(*cfg, config_path, logger);
    REQUIRE(started);
    d = std::move(started).value();
    REQUIRE(http::test::wait_until([&] {
      http::test::client c(d->port());
      return c.request(bh::verb::get, "/readyz").result() == bh::status::ok;
    }));
  }
  void write_config(const std::string& secret) {
    std::ofstream(config_path, std::ios::trunc)
        << config_text((dir.path() / "data").string(), secret, more_connectors, more);
  }
};

std::string scrape(std::uint16_t port) {
  http::test::client c(port);
  const auto res = c.request(bh::verb::get, "/metrics");
  REQUIRE(res.result() == bh::status::ok);
  return res.body();
}

// The value of the sample `line_prefix` ("name{labels} ") in a scrape, or -1 when absent.
double sample(const std::string& metrics, const std::string& line_prefix) {
  const auto at = metrics.find("\n" + line_prefix);
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + 1 + line_prefix.size()));
}

}  // namespace

TEST_CASE("serve answers health, readiness, metrics and its OpenAPI document", "[daemon]") {
  running_daemon r;
  http::test::client c(r.d->port());
  CHECK(c.request(bh::verb::get, "/healthz").result() == bh::status::ok);
  CHECK(c.request(bh::verb::get, "/readyz").result() == bh::status::ok);
  const auto metrics = c.request(bh::verb::get, "/metrics");
  CHECK(metrics.result() == bh::status::ok);
  const auto openapi = c.request(bh::verb::get, "/v1/openapi.json");
  CHECK(openapi.result() == bh::status::ok);
  CHECK(openapi.body().find("\"openapi\"") != std::string::npos);
}

TEST_CASE("a signed webhook is acknowledged once durable; a retry gets the same answer", "[daemon]") {
  running_daemon r;
  const auto first = post_signed(r.d->port(), "secret-1", "delivery-1");
  REQUIRE(first.result() == bh::status::ok);
  CHECK(first.body().find("\"event_ids\":[\"evt_") != std::string::npos);
  CHECK(first.body().find("\"kind\":\"basket\"") != std::string::npos);
  const auto retry = post_signed(r.d->port(), "secret-1", "delivery-1");
  REQUIRE(retry.result() == bh::status::ok);
  const auto ids = [](const std::string& b) { return b.substr(0, b.find("\"subjects\"")); };
  CHECK(ids(retry.body()) == ids(first.body()));
}

TEST_CASE("bad signatures get 401 and unknown connectors 404, in the contract's error shape", "[daemon]") {
  running_daemon r;
  const auto bad = post_signed(r.d->port(), "not-the-secret", "delivery-2");
  CHECK(bad.result() == bh::status::unauthorized);
  CHECK(bad.body().find("{\"error\":{\"code\":") == 0);
  const auto unknown = post_signed(r.d->port(), "secret-1", "delivery-3", "bigcommerce");
  CHECK(unknown.result() == bh::status::not_found);
}

TEST_CASE("SIGHUP's reload swaps connector secrets without a restart", "[daemon]") {
  running_daemon r("old-secret");
  CHECK(post_signed(r.d->port(), "old-secret", "d-1").result() == bh::status::ok);
  r.write_config("new-secret");
  REQUIRE(r.d->reload());
  CHECK(post_signed(r.d->port(), "old-secret", "d-2").result() == bh::status::unauthorized);
  CHECK(post_signed(r.d->port(), "new-secret", "d-3").result() == bh::status::ok);
}

TEST_CASE("stop drains and closes the listener", "[daemon]") {
  running_daemon r;
  const auto port = r.d->port();
  r.d->stop();
  CHECK(http::test::connect_refused(port));
}

TEST_CASE("the OpenAPI document describes exactly the routes the daemon serves", "[daemon][openapi]") {
  running_daemon r;
  const auto problems = http::check_openapi({&r.d->routes()}, http::openapi_document());
  for (const auto& p : problems) INFO(p);
  CHECK(problems.empty());
  if (!problems.empty()) FAIL(problems.front());
}

TEST_CASE("the engine's and the materializer's progress is on /metrics, read at scrape time", "[daemon][metrics]") {
  running_daemon r;
  const std::string before = scrape(r.d->port());
  CHECK(before.find("# TYPE passerelle_engine_events_total counter\n") != std::string::npos);
  CHECK(before.find("# HELP passerelle_engine_running ") != std::string::npos);
  CHECK(sample(before, "passerelle_engine_failed ") == 0);
  CHECK(sample(before, "passerelle_materializer_failed ") == 0);
  CHECK(sample(before, "passerelle_engine_aborts_total ") == 0);
  CHECK(sample(before, "passerelle_engine_timers_fired_total ") >= 0);
  CHECK(sample(before, "passerelle_engine_restored_records_total ") >= 0);
  for (const char* outcome : {"applied", "duplicate", "stale", "rejected", "invalid", "echo"}) {
    INFO(outcome);
    CHECK(sample(before, std::string("passerelle_engine_events_total{outcome=\"") + outcome + "\"} ") >= 0);
  }

  REQUIRE(post_signed(r.d->port(), "secret-1", "delivery-m1").result() == bh::status::ok);
  // Folded, committed and materialised: each step shows, once it happened.
  std::string after;
  CHECK(http::test::wait_until([&] {
    after = scrape(r.d->port());
    return sample(after, "passerelle_engine_events_total{outcome=\"applied\"} ") >= 1 &&
           sample(after, "passerelle_engine_transactions_total ") >= 1 &&
           sample(after, "passerelle_materializer_applied_total ") >= 1;
  }));
  INFO(after);
  CHECK(sample(after, "passerelle_engine_running ") == 1);
  CHECK(sample(after, "passerelle_materializer_running ") == 1);
  CHECK(sample(after, "passerelle_engine_failed ") == 0);
  CHECK(sample(after, "passerelle_engine_events_total{outcome=\"invalid\"} ") == 0);
}

TEST_CASE("lifecycle.engine: false runs an ingest and read instance: ready, webhooks durable, nothing folded",
          "[daemon][engine]") {
  running_daemon r("secret-1", "", "lifecycle: { engine: false }\n");  // ready, or the constructor fails
  REQUIRE(post_signed(r.d->port(), "secret-1", "delivery-off-1").result() == bh::status::ok);
  std::string m;
  CHECK(http::test::wait_until([&] {
    m = scrape(r.d->port());
    return sample(m, "passerelle_events_produced_total{connector=\"generic\",account=\"acme\"} ") >= 1;
  }));
  INFO(m);
  CHECK(sample(m, "passerelle_engine_running ") == 0);
  CHECK(sample(m, "passerelle_engine_failed ") == 0);
  CHECK(sample(m, "passerelle_materializer_running ") == 1);
  CHECK(sample(m, "passerelle_engine_events_total{outcome=\"applied\"} ") == 0);
}

TEST_CASE("connectors.<name>.body_bytes bounds that connector's webhooks only; refusals are counted per connector",
          "[daemon][limits]") {
  running_daemon r("secret-1",
                   "  woocommerce: { body_bytes: 1024, accounts: { shop.example.fr: { secrets: [\"wc\"] } } }\n",
                   "limits: { body_bytes: 4096 }\n");
  // A 2 KiB body (valid JSON: trailing whitespace), signed for the generic connector, which keeps the default.
  const std::string big = body + std::string(2048 - body.size(), ' ');
  REQUIRE(big.size() == 2048);
  CHECK(post_signed(r.d->port(), "secret-1", "delivery-big", "generic", big).result() == bh::status::ok);

  http::test::client c(r.d->port());
  const auto refused =
      c.request(bh::verb::post, "/v1/webhooks/woocommerce", big,
                {{"Content-Type", "application/json"}, {"X-WC-Webhook-Source", "https://shop.example.fr/"}});
  CHECK(refused.result() == bh::status::payload_too_large);
  CHECK(refused.body().find("\"body_too_large\"") != std::string::npos);
  // The same connector's limit on the /{account} route; a body within it goes on to verification (401: unsigned).
  http::test::client c2(r.d->port());
  CHECK(c2.request(bh::verb::post, "/v1/webhooks/woocommerce/shop.example.fr", big).result() ==
        bh::status::payload_too_large);
  http::test::client c3(r.d->port());
  CHECK(c3.request(bh::verb::post, "/v1/webhooks/woocommerce", std::string(1000, ' '),
                   {{"X-WC-Webhook-Source", "https://shop.example.fr/"}})
            .result() == bh::status::unauthorized);
  // A connector nobody configured: refused by limits.body_bytes, counted under connector "unknown".
  http::test::client c4(r.d->port());
  CHECK(c4.request(bh::verb::post, "/v1/webhooks/acme-" + std::to_string(std::time(nullptr)), std::string(5000, ' '))
            .result() == bh::status::payload_too_large);

  const std::string m = scrape(r.d->port());
  INFO(m);
  CHECK(
      sample(
          m,
          R"(passerelle_webhooks_rejected_total{connector="woocommerce",account="unknown",reason="body_too_large"} )") ==
      2);
  CHECK(
      sample(m,
             R"(passerelle_webhooks_rejected_total{connector="unknown",account="unknown",reason="body_too_large"} )") ==
      1);
  CHECK(
      sample(m,
             R"(passerelle_webhooks_rejected_total{connector="generic",account="unknown",reason="body_too_large"} )") ==
      -1);
  CHECK(m.find("acme-") == std::string::npos);  // a claimed name is never a label
}

TEST_CASE("webhooks refused for their header size or a slow sender are counted per connector", "[daemon][limits]") {
  running_daemon r("secret-1", "", "limits: { header_bytes: 1024, read_timeout_ms: 300 }\n");

  http::test::client big_header(r.d->port());
  const auto res =
      big_header.request(bh::verb::post, "/v1/webhooks/generic", body, {{"X-Padding", std::string(2000, 'p')}});
  CHECK(res.result() == bh::status::request_header_fields_too_large);

  // A slow sender: the header, then only part of the announced body; the server closes the connection.
  http::test::client slow(r.d->port());
  slow.write_raw("POST /v1/webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"events\":");
  bool closed = false;
  (void)slow.read_until_close(closed);
  CHECK(closed);
  // The same with a header that never ends.
  http::test::client slower(r.d->port());
  slower.write_raw("POST /v1/webhooks/generic HTTP/1.1\r\nHost: x\r\nX-Partial: ");
  closed = false;
  (void)slower.read_until_close(closed);
  CHECK(closed);
  // An idle connection closed at the deadline is not a refused webhook.
  http::test::client idle(r.d->port());
  closed = false;
  (void)idle.read_until_close(closed);
  CHECK(closed);

  std::string m;
  CHECK(http::test::wait_until([&] {
    m = scrape(r.d->port());
    return sample(
               m,
               R"(passerelle_webhooks_rejected_total{connector="generic",account="unknown",reason="read_timeout"} )") ==
           2;
  }));
  INFO(m);
  CHECK(
      sample(
          m,
          R"(passerelle_webhooks_rejected_total{connector="generic",account="unknown",reason="header_too_large"} )") ==
      1);
}

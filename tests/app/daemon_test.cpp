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

std::string config_text(const std::string& data_dir, const std::string& secret) {
  return "http: { listen: \"127.0.0.1:0\" }\n"
         "data_dir: \"" +
         data_dir +
         "\"\n"
         "kafka: { partitions: 4 }\n"
         "connectors:\n"
         "  generic: { accounts: { acme: { secrets: [\"" +
         secret +
         "\"] } } }\n"
         "log: { level: warn }\n";
}

const std::string body =
    R"({"subject_kind":"SUBJECT_KIND_BASKET","references":["generic:acme:cart-1"],"basket_created":{}})";

http::test::client_response post_signed(std::uint16_t port, const std::string& secret, const std::string& delivery,
                                        const std::string& connector = "generic") {
  http::test::client c(port);
  const auto sig = connectors::generic::sign(secret, static_cast<std::int64_t>(std::time(nullptr)), body);
  return c.request(bh::verb::post, "/v1/webhooks/" + connector, body,
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

  explicit running_daemon(const std::string& secret = "secret-1") {
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
    std::ofstream(config_path, std::ios::trunc) << config_text((dir.path() / "data").string(), secret);
  }
};

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

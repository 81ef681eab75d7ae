// Dead-letter operations through a real in-process daemon on the embedded backend, over real HTTP: a signed but
// unusable webhook is dead-lettered (202), listed and shown by the admin API and by `passerelle dlq` (run
// in-process), refused on replay while still unusable (422, no new dead letter), replayed once the configuration
// is fixed (200, the webhook's deterministic event ids, events in the log), replayed again without writing
// anything, and refused once its account is no longer configured (409). Auth: 401 without a key, 403 without the
// admin role.

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "broker/app/cli.h"
#include "broker/app/daemon.h"
#include "broker/app/dlq_command.h"
#include "broker/config/config.h"
#include "broker/ingest/identity.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/topics.h"
#include "connectors/generic/generic_connector.h"
#include "connectors/sdk/crypto.h"
#include "passerelle/v1/dead_letter.pb.h"
#include "passerelle/v1/event.pb.h"
#include "tests/http/test_client.h"
#include "tests/log/temp_dir.h"

using namespace passerelle;
namespace bh = boost::beast::http;

namespace {

constexpr const char* secret = "whsec-dlq-1";
constexpr const char* admin_key = "admin-key-for-tests";
constexpr const char* read_key = "read-key-for-tests";

std::string config_text(const std::string& data_dir, const std::string& account, const std::string& max_events) {
  return "http: { listen: \"127.0.0.1:0\" }\n"
         "data_dir: \"" +
         data_dir +
         "\"\n"
         "kafka: { partitions: 3 }\n"
         "api_keys:\n"
         "  - { key: \"" +
         std::string(admin_key) +
         "\", roles: [admin] }\n"
         "  - { key: \"" +
         std::string(read_key) +
         "\", roles: [read] }\n"
         "connectors:\n"
         "  generic: { accounts: { " +
         account + ": { secrets: [\"" + secret + "\"], max_events_per_request: \"" + max_events +
         "\" } } }\n"
         "log: { level: error }\n";
}

// Two basket events in one delivery: unusable while the account allows one event per request.
const std::string two_events = R"({"events": [
  {"subject_kind": "SUBJECT_KIND_BASKET", "references": ["generic:acme:cart-1"], "basket_created": {}},
  {"subject_kind": "SUBJECT_KIND_BASKET", "references": ["generic:acme:cart-2"], "basket_created": {}}
]})";

struct daemon_under_test {
  log::testing::temp_dir dir;
  std::string config_path = (dir.path() / "passerelle.yaml").string();
  std::string data_dir = (dir.path() / "data").string();
  obs::logger logger{obs::log_level::error};
  std::unique_ptr<app::daemon> d;

  void write_config(const std::string& account, const std::string& max_events) {
    std::ofstream(config_path, std::ios::trunc) << config_text(data_dir, account, max_events);
  }
  void start() {
    auto cfg = config::load_config_file(config_path);
    REQUIRE(cfg);
    auto started = app::daemon::start(*cfg, config_path, logger);
    if (!started) FAIL(started.err().message);
    d = std::move(started).value();
    REQUIRE(http::test::wait_until([&] {
      http::test::client c(d->port());
      return c.request(bh::verb::get, "/readyz").result() == bh::status::ok;
    }));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(d->port()); }

  http::test::client_response get(const std::string& target, const char* key = admin_key) const {
    http::test::client c(d->port());
    std::vector<std::pair<std::string, std::string>> headers;
    if (key != nullptr) headers.emplace_back("Authorization", std::string("Bearer ") + key);
    return c.request(bh::verb::get, target, {}, headers);
  }
  http::test::client_response post(const std::string& target, const char* key = admin_key,
                                   const std::string& idempotency_key = {}) const {
    http::test::client c(d->port());
    std::vector<std::pair<std::string, std::string>> headers;
    if (key != nullptr) headers.emplace_back("Authorization", std::string("Bearer ") + key);
    if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
    return c.request(bh::verb::post, target, {}, headers);
  }
  http::test::client_response post_webhook(const std::string& body, const std::string& delivery) const {
    http::test::client c(d->port());
    const auto sig = connectors::generic::sign(secret, static_cast<std::int64_t>(std::time(nullptr)), body);
    return c.request(bh::verb::post, "/v1/webhooks/generic", body,
                     {{"Content-Type", "application/json"},
                      {"X-Passerelle-Account", "acme"},
                      {"X-Passerelle-Delivery", delivery},
                      {"X-Passerelle-Signature", sig},
                      {"Authorization", "Bearer not-a-real-key"},
                      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
  }

  // Every record of `topic`, read after the daemon stopped (the embedded store is locked while it runs).
  std::vector<log::record> read_topic(std::string_view topic) const {
    log::embedded_options opts;
    opts.data_dir = data_dir;
    opts.default_partitions = 3;
    auto opened = log::open_embedded_log(opts);
    REQUIRE(opened);
    std::vector<log::topic_partition_offset> start;
    for (int p = 0; p < 3; ++p) start.push_back({log::topics::full_name("passerelle.", topic), p, 0});
    auto reader = (*opened)->open_reader(start);
    REQUIRE(reader);
    std::vector<log::record> out;
    for (;;) {
      auto batch = (*reader)->poll(std::chrono::milliseconds(100), 1000);
      REQUIRE(batch);
      if (batch->empty()) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }
};

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

std::string error_code(const std::string& body) {
  const auto d = parse(body);
  REQUIRE(d.HasMember("error"));
  return d["error"]["code"].GetString();
}

std::vector<std::string> event_ids(const std::string& body) {
  const auto d = parse(body);
  std::vector<std::string> ids;
  for (const auto& id : d["event_ids"].GetArray()) ids.emplace_back(id.GetString());
  return ids;
}

struct cli_outcome {
  int code = -1;
  std::string out;
  std::string err;
};

// `passerelle dlq ...` in-process, with the admin key as if from PASSERELLE_API_KEY.
cli_outcome run_dlq(std::vector<std::string> args, const std::optional<std::string>& key = admin_key) {
  const std::vector<app::command> commands = {app::dlq_command([key] { return key; })};
  args.insert(args.begin(), "dlq");
  std::ostringstream out;
  std::ostringstream err;
  cli_outcome o;
  o.code = app::run_cli(args, commands, app::cli_io{out, err});
  o.out = out.str();
  o.err = err.str();
  return o;
}

}  // namespace

TEST_CASE("a dead letter is listed, shown, refused while unusable, replayed once fixed, and only once",
          "[dlq][daemon][embedded]") {
  daemon_under_test t;
  t.write_config("acme", "1");
  t.start();

  const auto accepted = t.post_webhook(two_events, "delivery-dlq-1");
  REQUIRE(accepted.result() == bh::status::accepted);
  CHECK(parse(accepted.body())["reason"]["code"] == "too_many_events");

  // Listed by the API ...
  const auto list = t.get("/v1/ops/dead-letters");
  REQUIRE(list.result() == bh::status::ok);
  const auto page = parse(list.body());
  REQUIRE(page["items"].Size() == 1);
  const std::string id = page["items"][0]["id"].GetString();
  CHECK(page["items"][0]["connector"] == "generic");
  CHECK(page["items"][0]["account"] == "acme");
  CHECK(page["items"][0]["reason"]["code"] == "too_many_events");
  CHECK(page["items"][0]["body_bytes"].GetUint64() == two_events.size());
  CHECK(page["next_cursor"].IsNull());

  // ... and by the CLI.
  const auto cli_list = run_dlq({"list", "--url", t.url()});
  CHECK(cli_list.code == 0);
  CHECK(cli_list.err.empty());
  CHECK(cli_list.out.find(id) != std::string::npos);
  CHECK(cli_list.out.find("too_many_events") != std::string::npos);
  CHECK(cli_list.out.find("acme") != std::string::npos);

  // Shown whole: raw body, redacted credentials, delivery id, traceparent.
  const auto shown = t.get("/v1/ops/dead-letters/" + id);
  REQUIRE(shown.result() == bh::status::ok);
  const auto entry = parse(shown.body());
  CHECK(entry["body_text"] == two_events.c_str());
  CHECK(entry["body_base64"] == connector::base64_encode(two_events).c_str());
  CHECK(entry["delivery_id"] == "delivery-dlq-1");
  CHECK(entry["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  CHECK(entry["http_path"] == "/v1/webhooks/generic");
  int redacted = 0;
  for (const auto& h : entry["headers"].GetArray()) {
    const std::string name = h["name"].GetString();
    if (name == "X-Passerelle-Signature" || name == "Authorization") {
      CHECK(h["value"] == "[redacted]");
      ++redacted;
    }
  }
  CHECK(redacted == 2);
  CHECK(shown.body().find("not-a-real-key") == std::string::npos);
  const auto cli_show = run_dlq({"show", id, "--url", t.url()});
  CHECK(cli_show.code == 0);
  CHECK(cli_show.out.find("delivery-dlq-1") != std::string::npos);
  CHECK(cli_show.out.find("[redacted]") != std::string::npos);
  CHECK(cli_show.out.find("cart-2") != std::string::npos);

  // Still unusable: 422 with the reason, and no second dead letter.
  const auto refused = t.post("/v1/ops/dead-letters/" + id + "/replay");
  CHECK(refused.result() == bh::status::unprocessable_entity);
  CHECK(error_code(refused.body()) == "too_many_events");
  const auto cli_refused = run_dlq({"replay", id, "--url", t.url()});
  CHECK(cli_refused.code == 1);
  CHECK(cli_refused.err.find("too_many_events") != std::string::npos);
  CHECK(parse(t.get("/v1/ops/dead-letters").body())["items"].Size() == 1);

  // The operator fixes the account's configuration (SIGHUP) and replays.
  t.write_config("acme", "5");
  REQUIRE(t.d->reload());
  const std::vector<std::string> expected = {ingest::event_id_for("generic", "acme", "delivery-dlq-1", 0),
                                             ingest::event_id_for("generic", "acme", "delivery-dlq-1", 1)};
  const auto replayed = t.post("/v1/ops/dead-letters/" + id + "/replay", admin_key, "replay-key-1");
  REQUIRE(replayed.result() == bh::status::ok);
  CHECK(event_ids(replayed.body()) == expected);
  CHECK(parse(replayed.body())["subjects"].Size() == 2);

  // Again, by the API and the CLI: the same ids, nothing written again.
  const auto again = t.post("/v1/ops/dead-letters/" + id + "/replay");
  REQUIRE(again.result() == bh::status::ok);
  CHECK(event_ids(again.body()) == expected);
  const auto same_key = t.post("/v1/ops/dead-letters/" + id + "/replay", admin_key, "replay-key-1");
  REQUIRE(same_key.result() == bh::status::ok);
  CHECK(same_key.body() == replayed.body());
  CHECK(same_key[std::string("Idempotency-Replayed")] == "true");
  const auto cli_replay = run_dlq({"replay", id, "--url", t.url()});
  CHECK(cli_replay.code == 0);
  CHECK(cli_replay.out.find(expected[0]) != std::string::npos);
  CHECK(cli_replay.out.find(expected[1]) != std::string::npos);

  // Replay metrics, per connector and account.
  const auto metrics = t.get("/metrics", nullptr).body();
  CHECK(
      metrics.find(R"(passerelle_dead_letter_replays_total{connector="generic",account="acme",outcome="accepted"})") !=
      std::string::npos);
  CHECK(
      metrics.find(R"(passerelle_dead_letters_total{connector="generic",account="acme",reason="too_many_events"} 1)") !=
      std::string::npos);
  CHECK(metrics.find(R"(passerelle_events_produced_total{connector="generic",account="acme"} 2)") != std::string::npos);

  t.d->stop();
  const auto events = t.read_topic(log::topics::basket_events);
  REQUIRE(events.size() == 2);
  std::vector<std::string> written;
  for (const auto& r : events) {
    v1::Event e;
    REQUIRE(e.ParseFromString(r.value));
    CHECK(e.source().delivery_id() == "delivery-dlq-1");
    CHECK(e.traceparent() == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    written.push_back(e.event_id());
  }
  std::sort(written.begin(), written.end());
  auto sorted_expected = expected;
  std::sort(sorted_expected.begin(), sorted_expected.end());
  CHECK(written == sorted_expected);
  CHECK(t.read_topic(log::topics::dlq).size() == 1);
}

TEST_CASE("a dead letter whose account is no longer configured is refused with 409", "[dlq][daemon][embedded]") {
  daemon_under_test t;
  t.write_config("acme", "1");
  t.start();
  REQUIRE(t.post_webhook(two_events, "delivery-gone").result() == bh::status::accepted);
  const std::string id = parse(t.get("/v1/ops/dead-letters").body())["items"][0]["id"].GetString();
  t.d->stop();

  // Removing an account needs a restart; the dead letter survives it.
  t.write_config("other", "5");
  t.start();
  const auto listed = parse(t.get("/v1/ops/dead-letters").body());
  REQUIRE(listed["items"].Size() == 1);
  CHECK(listed["items"][0]["id"] == id.c_str());
  const auto replay = t.post("/v1/ops/dead-letters/" + id + "/replay");
  CHECK(replay.result() == bh::status::conflict);
  CHECK(error_code(replay.body()) == "account_not_configured");
}

TEST_CASE("dead-letter routes need an admin key and answer 404 for unknown ids", "[dlq][daemon][embedded]") {
  daemon_under_test t;
  t.write_config("acme", "1");
  t.start();
  CHECK(t.get("/v1/ops/dead-letters", nullptr).result() == bh::status::unauthorized);
  CHECK(t.get("/v1/ops/dead-letters", "wrong-key").result() == bh::status::unauthorized);
  CHECK(t.get("/v1/ops/dead-letters", read_key).result() == bh::status::forbidden);
  CHECK(t.post("/v1/ops/dead-letters/0-0/replay", read_key).result() == bh::status::forbidden);
  CHECK(t.get("/v1/ops/dead-letters/0-0", nullptr).result() == bh::status::unauthorized);

  for (const std::string id : {"0-0", "2-41", "99-0", "garbage", "-1-0", "01-0"}) {
    INFO(id);
    const auto shown = t.get("/v1/ops/dead-letters/" + id);
    CHECK(shown.result() == bh::status::not_found);
    CHECK(error_code(shown.body()) == "dead_letter_not_found");
    CHECK(t.post("/v1/ops/dead-letters/" + id + "/replay").result() == bh::status::not_found);
  }
  const auto empty = parse(t.get("/v1/ops/dead-letters").body());
  CHECK(empty["items"].Empty());
  CHECK(t.get("/v1/ops/dead-letters?limit=0").result() == bh::status::bad_request);
  CHECK(t.get("/v1/ops/dead-letters?limit=101").result() == bh::status::bad_request);
  CHECK(error_code(t.get("/v1/ops/dead-letters?cursor=nope").body()) == "bad_cursor");

  const auto cli_unknown = run_dlq({"show", "0-0", "--url", t.url()});
  CHECK(cli_unknown.code == 1);
  CHECK(cli_unknown.err.find("dead_letter_not_found") != std::string::npos);
  const auto cli_forbidden = run_dlq({"list", "--url", t.url()}, std::string(read_key));
  CHECK(cli_forbidden.code == 1);
  CHECK(cli_forbidden.err.find("403") != std::string::npos);
}

TEST_CASE("listing pages newest first across partitions with an opaque cursor", "[dlq][daemon][embedded]") {
  daemon_under_test t;
  t.write_config("acme", "1");
  t.start();
  // Five dead letters from distinct deliveries (their record keys spread over the partitions).
  for (int i = 0; i < 5; ++i) {
    REQUIRE(t.post_webhook(two_events, "delivery-page-" + std::to_string(i)).result() == bh::status::accepted);
  }
  std::vector<std::string> delivery_order;
  std::string cursor;
  for (int page_no = 0; page_no < 5; ++page_no) {
    const auto res = t.get("/v1/ops/dead-letters?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(res.result() == bh::status::ok);
    const auto page = parse(res.body());
    CHECK(page["items"].Size() <= 2);
    for (const auto& item : page["items"].GetArray()) {
      const auto shown = parse(t.get("/v1/ops/dead-letters/" + std::string(item["id"].GetString())).body());
      delivery_order.emplace_back(shown["delivery_id"].GetString());
    }
    if (page["next_cursor"].IsNull()) break;
    cursor = page["next_cursor"].GetString();
  }
  CHECK(delivery_order == std::vector<std::string>{"delivery-page-4", "delivery-page-3", "delivery-page-2",
                                                   "delivery-page-1", "delivery-page-0"});
}

TEST_CASE("dlq usage and configuration errors exit 2 with one line", "[dlq][cli]") {
  const auto check_usage = [](std::vector<std::string> args, const std::string& needle,
                              const std::optional<std::string>& key = std::string(admin_key)) {
    INFO(needle);
    const auto o = run_dlq(std::move(args), key);
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find(needle) != std::string::npos);
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  };
  check_usage({}, "missing action");
  check_usage({"purge"}, "unknown action");
  check_usage({"show"}, "missing the dead letter's ID");
  check_usage({"replay"}, "missing the dead letter's ID");
  check_usage({"list", "extra"}, "unexpected argument");
  check_usage({"list", "--limit", "x"}, "--limit");
  check_usage({"list", "--limit", "0"}, "--limit");
  check_usage({"show", "0-1", "--limit", "3"}, "unknown option");
  check_usage({"list", "--url"}, "--url needs a URL");
  check_usage({"list", "--url", "ftp://x"}, "scheme");
  check_usage({"list", "--url", "http://:80"}, "no host");
  check_usage({"list", "--url", "http://127.0.0.1:99999"}, "port");
  check_usage({"list", "--config", "/nonexistent/passerelle.yaml"}, "config");
  check_usage({"list", "--url", "http://127.0.0.1:8080"}, "PASSERELLE_API_KEY", std::nullopt);

  log::testing::temp_dir dir;
  const auto path = (dir.path() / "p.yaml").string();
  std::ofstream(path) << "http: { listen: \"127.0.0.1:0\" }\n";
  check_usage({"list", "--config", path}, "http.listen");
}

TEST_CASE("dlq reports an unreachable daemon as a runtime failure", "[dlq][cli]") {
  // A port that was just free: nothing listens there.
  std::uint16_t port = 0;
  {
    log::testing::temp_dir dir;
    const auto path = (dir.path() / "p.yaml").string();
    std::ofstream(path) << "http: { listen: \"127.0.0.1:0\" }\ndata_dir: \"" << (dir.path() / "d").string()
                        << "\"\nlog: { level: error }\n";
    auto cfg = config::load_config_file(path);
    REQUIRE(cfg);
    obs::logger logger{obs::log_level::error};
    auto d = app::daemon::start(*cfg, path, logger);
    REQUIRE(d);
    port = (*d)->port();
    (*d)->stop();
  }
  REQUIRE(http::test::connect_refused(port));
  const auto o = run_dlq({"list", "--url", "http://127.0.0.1:" + std::to_string(port)});
  CHECK(o.code == 1);
  CHECK(o.err.find("cannot reach the daemon") != std::string::npos);
}

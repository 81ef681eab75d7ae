// The webhook pipeline end to end on the embedded backend with the generic connector: verification, id
// assignment, durable produce with the contract's headers, retries, dead letters and failure answers.

#include "broker/ingest/webhook_ingest.h"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <map>

#include "broker/core/clock.h"
#include "broker/ingest/identity.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/topics.h"
#include "connectors/generic/generic_connector.h"
#include "passerelle/v1/dead_letter.pb.h"
#include "passerelle/v1/event.pb.h"
#include "tests/log/temp_dir.h"

using namespace passerelle;
using namespace passerelle::ingest;

namespace {

constexpr const char* secret = "whsec-test-1";
constexpr const char* account = "acme";

struct fixture {
  log::testing::temp_dir dir;
  core::manual_clock clock{1'763'800'000'000};
  obs::registry metrics;
  std::unique_ptr<log::event_log> log;
  std::unique_ptr<webhook_ingest> ingest;
  boost::asio::io_context io;

  explicit fixture(bool create_topics = true) {
    log::embedded_options opts;
    opts.data_dir = dir.str();
    opts.default_partitions = 4;
    auto opened = log::open_embedded_log(opts);
    REQUIRE(opened);
    log = std::move(opened).value();
    if (create_topics) {
      std::vector<log::topic_spec> specs;
      for (auto t : log::topics::contract_topics) specs.push_back({log::topics::full_name("passerelle.", t), 4, 1, {}});
      REQUIRE(log->create_topics(specs));
    }
    ingest = std::make_unique<webhook_ingest>(*log, metrics, clock, ingest_options{}, 1000, 72LL * 3600 * 1000);
    auto factory = connectors::generic::make_generic_factory();
    auto section = connector::config_node::make_map(
        {{"accounts", connector::config_node::make_map(
                          {{account, connector::config_node::make_map(
                                         {{"secrets", connector::config_node::make_list({secret})}})}})}});
    auto c = factory->create(section);
    REQUIRE(c);
    ingest->set_connectors({{"generic", *c}});
  }

  ingest_outcome post(std::string_view connector_name, const std::string& body, const std::string& delivery,
                      std::string signature = {}) {
    if (signature.empty()) signature = connectors::generic::sign(secret, clock.now_ms() / 1000, body);
    std::vector<connector::http_header> headers = {{"Content-Type", "application/json"},
                                                   {"X-Passerelle-Account", account},
                                                   {"X-Passerelle-Delivery", delivery},
                                                   {"X-Passerelle-Signature", signature}};
    connector::inbound_request req;
    req.method = "POST";
    req.target = "/v1/webhooks/generic";
    req.headers = &headers;
    req.body = body;
    req.received_at_ms = clock.now_ms();
    auto fut = boost::asio::co_spawn(
        io, ingest->handle(connector_name, req, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        boost::asio::use_future);
    io.restart();
    io.run();
    return fut.get();
  }

  ingest_outcome replay(const dead_letter_input& input) {
    auto fut = boost::asio::co_spawn(io, ingest->replay(input), boost::asio::use_future);
    io.restart();
    io.run();
    return fut.get();
  }

  std::vector<log::record> read_all(std::string_view topic) {
    std::vector<log::topic_partition_offset> start;
    for (int p = 0; p < 4; ++p) start.push_back({log::topics::full_name("passerelle.", topic), p, 0});
    auto reader = log->open_reader(start);
    REQUIRE(reader);
    std::vector<log::record> out;
    for (;;) {
      auto batch = (*reader)->poll(std::chrono::milliseconds(50), 1000);
      REQUIRE(batch);
      if (batch->empty()) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }
};

const std::string basket_event = R"({
  "subject_kind": "SUBJECT_KIND_BASKET",
  "channel": "CHANNEL_WEB",
  "source": {"native_id": "cart-42"},
  "references": ["generic:acme:cart-42"],
  "occurred_at": "2025-11-22T10:00:00Z",
  "basket_created": {}
})";

std::string header_value(const log::record& r, std::string_view key) {
  for (const auto& h : r.hdrs)
    if (h.key == key) return h.value;
  return {};
}

}  // namespace

TEST_CASE("a signed event is made durable with ids and the contract's headers", "[ingest]") {
  fixture f;
  const auto o = f.post("generic", basket_event, "delivery-1");
  REQUIRE(o.kind == outcome_kind::accepted);
  REQUIRE(o.event_ids.size() == 1);
  CHECK(o.event_ids[0] == event_id_for("generic", account, "delivery-1", 0));
  REQUIRE(o.subjects.size() == 1);
  CHECK(o.subjects[0].kind == "basket");
  CHECK(o.subjects[0].id == subject_id_for(v1::SUBJECT_KIND_BASKET, "generic:acme:cart-42"));

  const auto records = f.read_all(log::topics::basket_events);
  REQUIRE(records.size() == 1);
  const auto& r = records[0];
  CHECK(r.key == o.subjects[0].id);
  CHECK(header_value(r, "event-id") == o.event_ids[0]);
  CHECK(header_value(r, "event-type") == "passerelle.v1.BasketCreated");
  CHECK(header_value(r, "source") == "generic:acme");
  CHECK(header_value(r, "content-type") == "application/x-protobuf");
  CHECK(header_value(r, "traceparent") == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  v1::Event e;
  REQUIRE(e.ParseFromString(r.value));
  CHECK(e.event_id() == o.event_ids[0]);
  CHECK(e.subject_id() == o.subjects[0].id);
  CHECK(e.source().connector() == "generic");
  CHECK(e.source().account() == account);
  CHECK(e.source().delivery_id() == "delivery-1");
  CHECK(e.received_at().seconds() == f.clock.now_ms() / 1000);
  CHECK(e.has_basket_created());
}

TEST_CASE("a retried delivery gets the first answer and writes nothing more", "[ingest]") {
  fixture f;
  const auto first = f.post("generic", basket_event, "delivery-7");
  REQUIRE(first.kind == outcome_kind::accepted);
  f.clock.advance(std::chrono::seconds(30));
  const auto again = f.post("generic", basket_event, "delivery-7");
  REQUIRE(again.kind == outcome_kind::accepted);
  CHECK(again.replayed);
  CHECK(again.event_ids == first.event_ids);
  CHECK(f.read_all(log::topics::basket_events).size() == 1);
  // A new delivery id is a new event.
  const auto other = f.post("generic", basket_event, "delivery-8");
  REQUIRE(other.kind == outcome_kind::accepted);
  CHECK(other.event_ids != first.event_ids);
  CHECK(f.read_all(log::topics::basket_events).size() == 2);
}

TEST_CASE("unauthenticated input is refused and never stored", "[ingest]") {
  fixture f;
  SECTION("wrong signature") {
    const auto o = f.post("generic", basket_event, "d1",
                          connectors::generic::sign("not-the-secret", f.clock.now_ms() / 1000, basket_event));
    CHECK(o.kind == outcome_kind::unauthorized);
  }
  SECTION("signature over other bytes") {
    const auto o = f.post("generic", basket_event, "d1",
                          connectors::generic::sign(secret, f.clock.now_ms() / 1000, basket_event + " "));
    CHECK(o.kind == outcome_kind::unauthorized);
  }
  SECTION("stale timestamp") {
    const auto o = f.post("generic", basket_event, "d1",
                          connectors::generic::sign(secret, f.clock.now_ms() / 1000 - 301, basket_event));
    CHECK(o.kind == outcome_kind::unauthorized);
  }
  CHECK(f.read_all(log::topics::basket_events).empty());
  CHECK(f.read_all(log::topics::dlq).empty());
  CHECK(f.metrics.render().find("passerelle_webhooks_rejected_total{connector=\"generic\"") != std::string::npos);
}

TEST_CASE("an unknown connector is answered as such", "[ingest]") {
  fixture f;
  const auto o = f.post("shopify", basket_event, "d1");
  CHECK(o.kind == outcome_kind::unknown_connector);
}

TEST_CASE("authenticated but unusable input is dead-lettered with its bytes and without credentials", "[ingest]") {
  fixture f;
  const std::string body =
      R"({"subject_kind": "SUBJECT_KIND_BASKET", "references": ["generic:acme:x"], "basket_created": {)";
  const auto o = f.post("generic", body, "delivery-bad");
  REQUIRE(o.kind == outcome_kind::dead_lettered);
  CHECK_FALSE(o.reason_code.empty());
  CHECK(f.read_all(log::topics::basket_events).empty());
  const auto dlq = f.read_all(log::topics::dlq);
  REQUIRE(dlq.size() == 1);
  v1::DeadLetter dl;
  REQUIRE(dl.ParseFromString(dlq[0].value));
  CHECK(dl.connector() == "generic");
  CHECK(dl.account() == account);
  CHECK(dl.reason_code() == o.reason_code);
  CHECK(dl.body() == body);
  CHECK(dl.delivery_id() == "delivery-bad");
  bool saw_signature = false;
  for (const auto& h : dl.headers()) {
    if (h.key() == "X-Passerelle-Signature") {
      saw_signature = true;
      CHECK(h.value() == "[redacted]");
    }
  }
  CHECK(saw_signature);
  // The retry of a dead-lettered delivery is answered the same, and not dead-lettered twice.
  const auto again = f.post("generic", body, "delivery-bad");
  CHECK(again.kind == outcome_kind::dead_lettered);
  CHECK(f.read_all(log::topics::dlq).size() == 1);
}

TEST_CASE("a source claiming another account is refused into the dead-letter topic", "[ingest]") {
  fixture f;
  const std::string body =
      R"({"subject_kind": "SUBJECT_KIND_BASKET", "source": {"connector": "generic", "account": "other"},
    "references": ["generic:other:cart-1"], "basket_created": {}})";
  const auto o = f.post("generic", body, "delivery-spoof");
  CHECK(o.kind == outcome_kind::dead_lettered);
  CHECK(f.read_all(log::topics::basket_events).empty());
}

TEST_CASE("a log that cannot take the events answers retry, never accepted", "[ingest]") {
  fixture f(/*create_topics=*/false);
  const auto o = f.post("generic", basket_event, "delivery-x");
  CHECK(o.kind == outcome_kind::retry_later);
  CHECK_FALSE(o.reason_code.empty());
}

TEST_CASE("metrics are per connector and configured account; unauthenticated requests count as unknown", "[ingest]") {
  fixture f;
  REQUIRE(f.post("generic", basket_event, "m-1").kind == outcome_kind::accepted);
  REQUIRE(f.post("generic", basket_event, "m-2",
                 connectors::generic::sign("not-the-secret", f.clock.now_ms() / 1000, basket_event))
              .kind == outcome_kind::unauthorized);
  REQUIRE(f.post("generic", "{", "m-3").kind == outcome_kind::dead_lettered);
  REQUIRE(f.post("no_such_connector", basket_event, "m-4").kind == outcome_kind::unknown_connector);
  const auto m = f.metrics.render();
  for (const char* line : {
           R"(passerelle_webhooks_received_total{connector="generic",account="acme"} 2)",
           R"(passerelle_webhooks_received_total{connector="generic",account="unknown"} 1)",
           R"(passerelle_webhooks_received_total{connector="unknown",account="unknown"} 1)",
           R"(passerelle_webhooks_verified_total{connector="generic",account="acme"} 2)",
           R"(passerelle_webhooks_rejected_total{connector="generic",account="unknown",reason="bad_signature"} 1)",
           R"(passerelle_webhooks_rejected_total{connector="unknown",account="unknown",reason="unknown_connector"} 1)",
           R"(passerelle_events_produced_total{connector="generic",account="acme"} 1)",
           R"(passerelle_webhook_duration_seconds_count{connector="generic",account="acme"} 2)",
           R"(passerelle_webhook_duration_seconds_count{connector="generic",account="unknown"} 1)",
       }) {
    INFO(line);
    CHECK(m.find(line) != std::string::npos);
  }
  // The name a request claims never becomes a label value.
  CHECK(m.find("no_such_connector") == std::string::npos);
}

TEST_CASE("replay runs a dead letter through the current connector without writing another one", "[ingest]") {
  fixture f;
  const std::string bad = R"({"subject_kind": "SUBJECT_KIND_BASKET", "references": ["generic:acme:x"]})";
  REQUIRE(f.post("generic", bad, "delivery-r").kind == outcome_kind::dead_lettered);
  const auto dlq = f.read_all(log::topics::dlq);
  REQUIRE(dlq.size() == 1);
  dead_letter_input input;
  REQUIRE(input.letter.ParseFromString(dlq[0].value));
  input.platform_topic = header_value(dlq[0], "platform-topic");
  CHECK(input.platform_topic == "events");  // the generic connector's topic, kept for replays

  const auto still = f.replay(input);
  CHECK(still.kind == outcome_kind::still_unusable);
  CHECK(still.reason_code == input.letter.reason_code());
  CHECK(f.read_all(log::topics::dlq).size() == 1);
  CHECK(f.read_all(log::topics::basket_events).empty());

  // The stored body fixed by hand stands for "the connector now accepts it": the ids come from the delivery id.
  input.letter.set_body(basket_event);
  const auto done = f.replay(input);
  REQUIRE(done.kind == outcome_kind::accepted);
  CHECK(done.event_ids == std::vector<std::string>{event_id_for("generic", account, "delivery-r", 0)});
  CHECK(f.read_all(log::topics::basket_events).size() == 1);
  const auto again = f.replay(input);
  CHECK(again.kind == outcome_kind::accepted);
  CHECK(again.replayed);
  CHECK(again.event_ids == done.event_ids);
  CHECK(f.read_all(log::topics::basket_events).size() == 1);

  input.letter.set_account("gone");
  input.letter.set_delivery_id("delivery-r2");
  CHECK(f.replay(input).kind == outcome_kind::not_configured);
  input.letter.set_connector("shopify");
  const auto no_connector = f.replay(input);
  CHECK(no_connector.kind == outcome_kind::not_configured);
  CHECK(no_connector.reason_code == "connector_not_configured");
  CHECK(f.metrics.render().find(
            R"(passerelle_dead_letter_replays_total{connector="generic",account="acme",outcome="accepted"} 2)") !=
        std::string::npos);
}

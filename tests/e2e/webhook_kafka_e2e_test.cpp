// End to end on a real Kafka: a `passerelle serve` daemon on the kafka backend (PASSERELLE_KAFKA_BOOTSTRAP; the
// test FAILS when it is unset or unreachable), signed webhooks of shopify, woocommerce and generic in over HTTP,
// then the topics read back through the event_log API (a group-less reader: librdkafka stays behind broker/log/kafka)
// and every record checked against the contract: key = subject id, partition = murmur2(key), headers (event-id,
// event-type, source, content-type, traceparent when sent), value = a passerelle.v1.Event whose id is one the 200
// answer listed; a retried delivery adds no record; a dead letter reaches `dlq` with its credentials redacted.
// Each run uses its own topic prefix, so runs never see each other's records.

#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "broker/core/murmur2.h"
#include "connectors/generic/generic_connector.h"
#include "connectors/sdk/crypto.h"
#include "connectors/shopify/shopify_signature.h"
#include "passerelle/v1/dead_letter.pb.h"
#include "passerelle/v1/event.pb.h"
#include "tests/e2e/e2e_support.h"

namespace passerelle::e2e {
namespace {

std::string kafka_bootstrap() {
  const char* v = std::getenv("PASSERELLE_KAFKA_BOOTSTRAP");
  if (v == nullptr || *v == '\0') FAIL("PASSERELLE_KAFKA_BOOTSTRAP is not set: this test needs a real Kafka");
  return v;
}

// The full name of the payload message an event carries (what the event-type header must say).
std::string payload_type(const v1::Event& e) {
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("payload");
  const auto* field = v1::Event::GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return field != nullptr && field->message_type() != nullptr ? field->message_type()->full_name() : std::string();
}

struct sent {
  std::string source;       // "{connector}:{account}"
  std::string traceparent;  // "" when the request had none
  answer got;
};

}  // namespace

TEST_CASE("kafka e2e: signed webhooks of every connector become contract records on the topics", "[e2e][kafka]") {
  const std::string bootstrap = kafka_bootstrap();
  const std::string prefix = "e2e." + std::to_string(::getpid()) + "." +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count()) +
                             ".";
  constexpr int partitions = 3;
  e2e_daemon d(
      "backend: kafka\n"
      "kafka: { bootstrap_servers: \"" +
      bootstrap + "\", topic_prefix: \"" + prefix + "\", partitions: " + std::to_string(partitions) +
      ", replication_factor: 1 }\n"
      "connectors:\n"
      "  shopify: { accounts: { \"maison-exemple.myshopify.com\": { secrets: [\"shp-current\"] } } }\n"
      "  woocommerce: { accounts: { \"shop.example.fr\": { secrets: [\"wc-current\"] } } }\n"
      "  generic: { accounts: { \"boutique-lyon\": { secrets: [\"gen-current\"] } } }\n");

  std::vector<sent> accepted;
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  // Shopify carts/update, with a W3C traceparent.
  const auto shopify = load_fixture("shopify", "carts_update");
  auto shopify_headers = shopify.headers;
  set_header(shopify_headers, "X-Shopify-Hmac-Sha256",
             connectors::shopify::shopify_signature("shp-current", shopify.body));
  set_header(shopify_headers, "traceparent", traceparent);
  accepted.push_back({"shopify:maison-exemple.myshopify.com", traceparent,
                      post(d.port(), "/v1/webhooks/shopify", shopify.body, shopify_headers)});

  // WooCommerce order.created.
  const auto woo = load_fixture("woocommerce", "order_created_processing_with_cart_key");
  auto woo_headers = woo.headers;
  set_header(woo_headers, "X-WC-Webhook-Signature",
             connector::base64_encode(connector::hmac_sha256("wc-current", woo.body)));
  accepted.push_back(
      {"woocommerce:shop.example.fr", "", post(d.port(), "/v1/webhooks/woocommerce", woo.body, woo_headers)});

  // Generic: one event, then a batch of three kinds (several topics in one delivery).
  for (const std::string name : {"basket_snapshot_single", "batch_three_kinds"}) {
    const auto generic = load_fixture("generic", name);
    auto h = generic.headers;
    set_header(h, "X-Passerelle-Signature",
               connectors::generic::sign("gen-current", static_cast<std::int64_t>(std::time(nullptr)), generic.body));
    accepted.push_back({"generic:boutique-lyon", "", post(d.port(), "/v1/webhooks/generic", generic.body, h)});
  }

  std::set<std::string> expected_ids;
  std::size_t expected_events = 0;
  for (const auto& s : accepted) {
    INFO(s.source << ": " << s.got.body);
    REQUIRE(s.got.status == 200);
    REQUIRE_FALSE(s.got.event_ids.empty());
    expected_events += s.got.event_ids.size();
    expected_ids.insert(s.got.event_ids.begin(), s.got.event_ids.end());
  }
  REQUIRE(expected_ids.size() == expected_events);  // ids are unique across deliveries

  // Shopify retries the same delivery: same answer, no new record.
  const auto retried = post(d.port(), "/v1/webhooks/shopify", shopify.body, shopify_headers);
  CHECK(retried.status == 200);
  CHECK(retried.replayed);
  CHECK(retried.event_ids == accepted.front().got.event_ids);

  // Authenticated but unusable: dead-lettered with the signature redacted.
  const std::string truncated = shopify.body.substr(0, shopify.body.size() / 3);
  auto dead_headers = shopify.headers;
  set_header(dead_headers, "X-Shopify-Webhook-Id", "e2e-kafka-dead-1");
  set_header(dead_headers, "X-Shopify-Hmac-Sha256", connectors::shopify::shopify_signature("shp-current", truncated));
  const auto dead = post(d.port(), "/v1/webhooks/shopify", truncated, dead_headers);
  CHECK(dead.status == 202);
  CHECK(dead.code == "invalid_json");

  d.stop();  // drains HTTP and flushes the log: everything answered is in Kafka
  auto log = d.open_log();
  const auto topics = read_contract_topics(*log, prefix, partitions);

  std::multiset<std::string> seen;
  for (const auto& [name, records] : topics) {
    if (name == log::topics::dlq) continue;
    for (const auto& rec : records) {
      v1::Event e;
      REQUIRE(e.ParseFromString(rec.value));
      INFO(name << " " << e.event_id());
      CHECK(rec.key == e.subject_id());
      CHECK(rec.partition == core::kafka_partition_for_key(rec.key, partitions));
      CHECK(header_of(rec.hdrs, "event-id") == e.event_id());
      CHECK(header_of(rec.hdrs, "event-type") == payload_type(e));
      CHECK(header_of(rec.hdrs, "content-type") == "application/x-protobuf");
      const std::string source = header_of(rec.hdrs, "source");
      CHECK(source == e.source().connector() + ":" + e.source().account());
      const auto from = std::find_if(accepted.begin(), accepted.end(), [&](const sent& s) {
        return std::find(s.got.event_ids.begin(), s.got.event_ids.end(), e.event_id()) != s.got.event_ids.end();
      });
      REQUIRE(from != accepted.end());
      CHECK(source == from->source);
      CHECK(std::find(from->got.subject_ids.begin(), from->got.subject_ids.end(), e.subject_id()) !=
            from->got.subject_ids.end());
      CHECK(header_of(rec.hdrs, "traceparent") == from->traceparent);
      CHECK(e.traceparent() == from->traceparent);
      seen.insert(e.event_id());
    }
  }
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == expected_ids);
  CHECK(seen.size() == expected_events);  // each once: the retry added nothing

  const auto& dlq = topics.at(std::string(log::topics::dlq));
  REQUIRE(dlq.size() == 1);
  v1::DeadLetter dl;
  REQUIRE(dl.ParseFromString(dlq.front().value));
  CHECK(dl.connector() == "shopify");
  CHECK(dl.account() == "maison-exemple.myshopify.com");
  CHECK(dl.reason_code() == "invalid_json");
  CHECK(dl.body() == truncated);
  CHECK(header_of(dlq.front().hdrs, "reason") == "invalid_json");
  bool redacted = false;
  for (const auto& h : dl.headers()) {
    if (h.key() == "X-Shopify-Hmac-Sha256") {
      redacted = true;
      CHECK(h.value() == "[redacted]");
    }
    CHECK(h.value().find(connectors::shopify::shopify_signature("shp-current", truncated)) == std::string::npos);
  }
  CHECK(redacted);
}

}  // namespace passerelle::e2e

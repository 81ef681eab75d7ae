// DeadLetter (the `dlq` topic's value) keeps the raw body byte for byte, through binary and JSON.

#include <catch2/catch.hpp>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "passerelle/v1/dead_letter.pb.h"

namespace {

namespace pb = google::protobuf;
namespace v1 = passerelle::v1;

v1::DeadLetter sample() {
  v1::DeadLetter d;
  d.set_dead_letter_id("dlq_01HZXB");
  d.set_connector("woocommerce");
  d.set_account("shop.example.fr");
  d.set_reason_code("invalid_json");
  d.set_reason_message("body is not JSON: unexpected end of input at byte 17");
  d.mutable_received_at()->set_seconds(1717400000);
  auto* h = d.add_headers();
  h->set_key("X-WC-Webhook-Signature");
  h->set_value("[redacted]");
  h = d.add_headers();
  h->set_key("X-WC-Webhook-Topic");
  h->set_value("order.updated");
  // Not UTF-8 and with a NUL: the body is kept as bytes, never as text.
  d.set_body(std::string("{\"id\": 42, \x00\xff\xfe", 14));
  d.set_http_method("POST");
  d.set_http_path("/v1/webhooks/woocommerce");
  d.set_attempt_count(2);
  d.set_original_event_id("evt_01HZX8Q4S8N9");
  d.set_delivery_id("wc-delivery-77");
  return d;
}

}  // namespace

TEST_CASE("a dead letter round-trips through binary with its raw body intact", "[proto]") {
  const v1::DeadLetter d = sample();
  std::string wire;
  REQUIRE(d.SerializeToString(&wire));
  v1::DeadLetter parsed;
  REQUIRE(parsed.ParseFromString(wire));
  CHECK(pb::util::MessageDifferencer::Equals(d, parsed));
  CHECK(parsed.body().size() == 14);
  CHECK(parsed.body() == d.body());
}

TEST_CASE("a dead letter round-trips through JSON, its body as base64", "[proto]") {
  const v1::DeadLetter d = sample();
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string json;
  REQUIRE(pb::util::MessageToJsonString(d, &json, print).ok());
  INFO(json);
  CHECK(json.find("\"body\":\"eyJpZCI6IDQyLCAA//4=\"") != std::string::npos);
  CHECK(json.find("\"attempt_count\":2") != std::string::npos);
  v1::DeadLetter parsed;
  REQUIRE(pb::util::JsonStringToMessage(json, &parsed).ok());
  CHECK(pb::util::MessageDifferencer::Equals(d, parsed));
}

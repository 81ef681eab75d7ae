#include "broker/api/proto_json.h"

#include <catch2/catch.hpp>

#include "passerelle/v1/event.pb.h"

using passerelle::api::enum_json_name;
using passerelle::api::rfc3339_ms;

TEST_CASE("payloads follow the contract's JSON: integers, lowercase enums, RFC 3339, money", "[api]") {
  passerelle::v1::BasketLineAdded added;
  auto* line = added.mutable_line();
  line->set_line_id("1");
  line->set_sku("SKU-1");
  line->set_quantity(3);
  line->mutable_unit_price()->set_amount_minor(1999);
  line->mutable_unit_price()->set_currency("EUR");
  line->mutable_discount_total()->set_currency("EUR");  // zero amount: still written inside Money
  (*line->mutable_properties())["engraving"] = "A \"quoted\" name";
  const std::string json = passerelle::http::build_json([&](auto& w) { passerelle::api::write_message(w, added); });
  CHECK(json ==
        R"({"line":{"line_id":"1","sku":"SKU-1","quantity":3,"unit_price":{"amount_minor":1999,"currency":"EUR"},)"
        R"("discount_total":{"amount_minor":0,"currency":"EUR"},"properties":{"engraving":"A \"quoted\" name"}}})");
}

TEST_CASE("enum names lose their type prefix and their case", "[api]") {
  CHECK(enum_json_name("Channel", "CHANNEL_WEB") == "web");
  CHECK(enum_json_name("Channel", "CHANNEL_CALL_CENTRE") == "call_centre");
  CHECK(enum_json_name("DemoRequestKind", "DEMO_REQUEST_KIND_APPOINTMENT") == "appointment");
  CHECK(enum_json_name("Channel", "OTHER") == "other");
}

TEST_CASE("times are RFC 3339 UTC with milliseconds only when present", "[api]") {
  CHECK(rfc3339_ms(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_ms(1'700'000'000'000) == "2023-11-14T22:13:20Z");
  CHECK(rfc3339_ms(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
  CHECK(rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
}

#include "connectors/sdk/json.h"

#include <catch2/catch.hpp>

#include <string>

using namespace passerelle::connector;
using passerelle::error_kind;

TEST_CASE("parse_json accepts documents and keeps numbers exact", "[sdk][json]") {
  rapidjson::Document doc;
  REQUIRE(parse_json(R"({"price": 19.99, "id": 12345678901234567, "name": "caf\u00e9"} )", doc));
  CHECK(*member_text(doc, "price") == "19.99");
  CHECK(*member_text(doc, "id") == "12345678901234567");
  auto id = member_int(doc, "id");
  REQUIRE(id);
  CHECK(**id == 12345678901234567LL);
  CHECK_FALSE(member_text(doc, "absent").has_value());
  auto absent = member_int(doc, "absent");
  REQUIRE(absent);
  CHECK_FALSE(absent->has_value());
  auto not_int = member_int(doc, "name");
  REQUIRE_FALSE(not_int);
  CHECK(not_int.err().code == "bad_integer");
}

TEST_CASE("parse_json refuses what a hostile sender could send", "[sdk][json]") {
  rapidjson::Document doc;
  SECTION("deep nesting is refused before parsing") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto r = parse_json(deep, doc);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "too_deep");
    CHECK(r.err().kind == error_kind::reject);
  }
  SECTION("brackets inside strings do not count") {
    CHECK(parse_json(R"({"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]"})",
                     doc, 3));
  }
  SECTION("invalid UTF-8") {
    const std::string bad = "{\"a\": \"\xC3\x28\"}";
    auto r = parse_json(bad, doc);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "invalid_utf8");
  }
  SECTION("truncated") {
    auto r = parse_json(R"({"a": [1, 2)", doc);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "invalid_json");
  }
  SECTION("trailing garbage") {
    auto r = parse_json(R"({"a": 1} x)", doc);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "invalid_json");
  }
}

TEST_CASE("decimal_to_minor converts exactly per currency exponent", "[sdk][money]") {
  CHECK(*decimal_to_minor("19.99", "EUR") == 1999);
  CHECK(*decimal_to_minor("19.9", "EUR") == 1990);
  CHECK(*decimal_to_minor("19", "EUR") == 1900);
  CHECK(*decimal_to_minor("19.990", "EUR") == 1999);
  CHECK(*decimal_to_minor("-5.00", "USD") == -500);
  CHECK(*decimal_to_minor("1500", "JPY") == 1500);
  CHECK(*decimal_to_minor("1.234", "KWD") == 1234);
  CHECK(*decimal_to_minor("0.1", "EUR") == 10);  // the float trap: 0.1 is exact here
  for (const char* bad : {"19.999", "1e2", "", "-", "1.2.3", "abc", "99999999999999999999"}) {
    INFO(bad);
    auto r = decimal_to_minor(bad, "EUR");
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "bad_amount");
  }
  CHECK_FALSE(decimal_to_minor("1.00", "eur"));
  CHECK(*currency_exponent("JPY") == 0);
  CHECK(*currency_exponent("EUR") == 2);
  CHECK_FALSE(currency_exponent("EURO"));
}

#include "broker/ingest/identity.h"

#include <catch2/catch.hpp>

#include <set>

using namespace passerelle;
using namespace passerelle::ingest;

TEST_CASE("subject ids are deterministic, prefixed per kind, and distinct per reference", "[ingest][identity]") {
  const auto a = subject_id_for(v1::SUBJECT_KIND_BASKET, "shopify:example.myshopify.com:tok-1");
  CHECK(a == subject_id_for(v1::SUBJECT_KIND_BASKET, "shopify:example.myshopify.com:tok-1"));
  CHECK(a.rfind("bsk_", 0) == 0);
  CHECK(a.size() == 4 + 26);
  CHECK(a != subject_id_for(v1::SUBJECT_KIND_BASKET, "shopify:example.myshopify.com:tok-2"));
  // Same reference, other kind: another subject.
  CHECK(subject_id_for(v1::SUBJECT_KIND_QUOTE, "shopify:example.myshopify.com:tok-1").rfind("quo_", 0) == 0);
  for (const char c : a.substr(4)) {
    CHECK(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c) != std::string::npos);
  }
}

TEST_CASE("event ids follow the delivery id and the index", "[ingest][identity]") {
  std::set<std::string> ids;
  for (std::size_t i = 0; i < 100; ++i) ids.insert(event_id_for("shopify", "shop", "delivery", i));
  CHECK(ids.size() == 100);
  CHECK(event_id_for("shopify", "shop", "delivery", 3) == event_id_for("shopify", "shop", "delivery", 3));
  // Field boundaries matter: ("ab","c") and ("a","bc") differ.
  CHECK(event_id_for("shopify", "ab", "c", 0) != event_id_for("shopify", "a", "bc", 0));
}

TEST_CASE("crockford base32 encodes most significant bits first", "[ingest][identity]") {
  CHECK(crockford_base32(std::string("\x00\x00", 2), 3) == "000");
  CHECK(crockford_base32(std::string("\xff\xff", 2), 3) == "ZZZ");
  CHECK(crockford_base32(std::string("\x08", 1), 2) == "10");  // 00001 000..
}

TEST_CASE("references split on the first two colons", "[ingest][identity]") {
  reference_parts p;
  REQUIRE(split_reference("poslog:paris-01:POS1-2025-11-22-42", p));
  CHECK(p.connector == "poslog");
  CHECK(p.account == "paris-01");
  CHECK(p.native_id == "POS1-2025-11-22-42");
  REQUIRE(split_reference("generic:acme:a:b:c", p));
  CHECK(p.native_id == "a:b:c");
  CHECK_FALSE(split_reference("generic:acme", p));
  CHECK_FALSE(split_reference(":acme:x", p));
  CHECK_FALSE(split_reference("generic::x", p));
}

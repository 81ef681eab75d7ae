#include "connectors/sdk/crypto.h"

#include <catch2/catch.hpp>

using namespace passerelle::connector;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[sdk][crypto]") {
  CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("base64 round-trips and refuses bad input", "[sdk][crypto]") {
  CHECK(base64_encode("").empty());
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  std::string out;
  REQUIRE(base64_decode("Zm9vYmE=", out));
  CHECK(out == "fooba");
  REQUIRE(base64_decode("Zm9vYmE", out));  // padding optional
  CHECK(out == "fooba");
  CHECK_FALSE(base64_decode("Zm9v!mE=", out));
  CHECK_FALSE(base64_decode("Zm==9v", out));  // data after padding
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  REQUIRE(base64_decode(base64_encode(all), out));
  CHECK(out == all);
}

TEST_CASE("constant_time_equal compares exactly", "[sdk][crypto]") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK(constant_time_equal("", ""));
}

TEST_CASE("email_sha256 trims and lowercases before hashing", "[sdk][crypto]") {
  // python3 -c "import hashlib;print(hashlib.sha256(b'jane.doe@example.com').hexdigest())"
  const std::string expected = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d";
  CHECK(email_sha256("jane.doe@example.com") == expected);
  CHECK(email_sha256("  Jane.Doe@EXAMPLE.com\n") == expected);
}

#include <catch2/catch.hpp>

#include "broker/config/secret_digest.h"

using namespace passerelle::config;

TEST_CASE("SHA-256 digests of keys and tokens", "[config]") {
  // FIPS 180-2 test vectors.
  CHECK(to_hex(sha256_of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256_of("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  const auto parsed = digest_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  REQUIRE(parsed.has_value());
  CHECK(digest_equal(*parsed, sha256_of("abc")));
  CHECK_FALSE(digest_equal(*parsed, sha256_of("abd")));

  CHECK_FALSE(digest_from_hex("ba7816bf").has_value());  // short
  CHECK_FALSE(digest_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag").has_value());
  CHECK_FALSE(digest_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00").has_value());
}

TEST_CASE("wipe clears a plain secret", "[config]") {
  std::string s = "plain-key";
  wipe(s);
  CHECK(s.empty());
}

#include "broker/core/crypto.h"

#include <catch2/catch.hpp>

#include <string>

namespace core = passerelle::core;

TEST_CASE("sha256 matches the FIPS 180-2 vectors", "[core][crypto]") {
  CHECK(core::to_hex(core::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(core::to_hex(core::sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(core::to_hex(core::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Bytes that are not text (NUL, high bit) are hashed as they are.
  const std::string binary("\x00\xff\x80", 3);
  CHECK(core::sha256(binary) != core::sha256(std::string("\x00\xff", 2)));
}

TEST_CASE("hmac_sha256 matches RFC 4231", "[core][crypto]") {
  // Test case 1: 20 bytes of 0x0b.
  CHECK(core::to_hex(core::hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  CHECK(core::to_hex(core::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  CHECK(core::to_hex(
            core::hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The empty key and the empty message are valid inputs (python3: hmac.new(b'', b'', 'sha256').hexdigest()).
  CHECK(core::to_hex(core::hmac_sha256("", "")) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("hex: lowercase out, either case in, exact length", "[core][crypto]") {
  CHECK(core::to_hex(std::string_view("\x00\x0f\xf0\xff", 4)) == "000ff0ff");
  CHECK(core::to_hex(std::string_view()).empty());
  const core::sha256_digest d = core::sha256("abc");
  CHECK(core::to_hex(std::span<const std::uint8_t>(d).first(4)) == "ba7816bf");
  CHECK(core::to_hex(core::as_bytes(d)) == core::to_hex(d));
  CHECK(core::as_bytes(d).size() == 32);

  const auto parsed = core::sha256_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  REQUIRE(parsed.has_value());
  CHECK(*parsed == d);
  CHECK_FALSE(core::sha256_from_hex("ba7816bf").has_value());  // short
  CHECK_FALSE(core::sha256_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag").has_value());
  CHECK_FALSE(core::sha256_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00").has_value());
  CHECK_FALSE(core::sha256_from_hex("").has_value());
}

TEST_CASE("base64 matches RFC 4648 and refuses bad input", "[core][crypto]") {
  CHECK(core::base64_encode("").empty());
  CHECK(core::base64_encode("f") == "Zg==");
  CHECK(core::base64_encode("fo") == "Zm8=");
  CHECK(core::base64_encode("foo") == "Zm9v");
  CHECK(core::base64_encode("foob") == "Zm9vYg==");
  CHECK(core::base64_encode("fooba") == "Zm9vYmE=");
  CHECK(core::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(core::base64_encode(std::string_view("\xfb\xff", 2)) == "+/8=");

  std::string out;
  REQUIRE(core::base64_decode("Zm9vYmE=", out));
  CHECK(out == "fooba");
  REQUIRE(core::base64_decode("Zm9vYmE", out));  // padding optional
  CHECK(out == "fooba");
  REQUIRE(core::base64_decode("+/8=", out));
  CHECK(out == std::string("\xfb\xff", 2));
  CHECK_FALSE(core::base64_decode("Zm9v!mE=", out));  // outside the alphabet
  CHECK_FALSE(core::base64_decode("Zm==9v", out));    // data after padding
  CHECK_FALSE(core::base64_decode("Zg===", out));     // too much padding
  CHECK_FALSE(core::base64_decode("Zm9v-_", out));    // the URL-safe alphabet is not base64

  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  REQUIRE(core::base64_decode(core::base64_encode(all), out));
  CHECK(out == all);
}

TEST_CASE("constant_time_equal compares exactly", "[core][crypto]") {
  CHECK(core::constant_time_equal("abc", "abc"));
  CHECK_FALSE(core::constant_time_equal("abc", "abd"));
  CHECK_FALSE(core::constant_time_equal("abc", "abcd"));
  CHECK_FALSE(core::constant_time_equal("", "a"));
  CHECK(core::constant_time_equal("", ""));
  CHECK(core::constant_time_equal(core::sha256("k"), core::sha256("k")));
  CHECK_FALSE(core::constant_time_equal(core::sha256("k"), core::sha256("l")));
}

TEST_CASE("wipe clears a plain secret", "[core][crypto]") {
  std::string s = "plain-key";
  core::wipe(s);
  CHECK(s.empty());
  std::string empty;
  core::wipe(empty);
  CHECK(empty.empty());
}

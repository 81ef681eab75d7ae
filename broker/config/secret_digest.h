#pragma once
// SHA-256 digests of API keys and store tokens. The configuration keeps only digests ("sha256:<hex>" as written,
// or a plain key hashed at load), so a memory dump or a log line never shows a usable key; the HTTP layer hashes
// the presented bearer token and compares digests in constant time.
//
// Thread-safety: pure functions on values.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace passerelle::config {

using sha256_digest = std::array<std::uint8_t, 32>;

// SHA-256 of `secret` (OpenSSL EVP). Never fails in practice; an OpenSSL failure aborts (impossible state).
sha256_digest sha256_of(std::string_view secret);

// Parses exactly 64 hex digits (either case). nullopt on any other length or a non-hex character.
std::optional<sha256_digest> digest_from_hex(std::string_view hex);

// Lowercase hex, 64 characters.
std::string to_hex(const sha256_digest& digest);

// Constant-time equality (CRYPTO_memcmp), so comparing a presented key leaks no timing about a stored digest.
bool digest_equal(const sha256_digest& a, const sha256_digest& b) noexcept;

// Overwrites the bytes of `s` (OPENSSL_cleanse, which the compiler cannot elide) and clears it. Used on the
// plain copies of keys and tokens once they are hashed.
void wipe(std::string& s) noexcept;

}  // namespace passerelle::config

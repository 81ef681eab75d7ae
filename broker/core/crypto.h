#pragma once
// The one place Passerelle hashes, signs, encodes and compares secrets (OpenSSL underneath). Every module that
// needs SHA-256, HMAC-SHA256, hex, base64 or a constant-time comparison uses these: API key and store token
// digests (broker/config, broker/http/auth.h), webhook signatures (connectors/sdk/crypto.h re-exports them for
// connectors), deterministic ids (broker/ingest/identity.h).
//
// Thread-safety: pure functions on values; safe from any thread. No function blocks.
// Errors: none reach the caller. Hashing cannot fail short of OpenSSL itself breaking (an impossible state: the
// process aborts); decoders report bad input by their return value.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace passerelle::core {

// A SHA-256 (or HMAC-SHA256) value: 32 raw bytes.
using sha256_digest = std::array<std::uint8_t, 32>;

// SHA-256 of `data`.
sha256_digest sha256(std::string_view data);

// HMAC-SHA256 of `message` under `key` (RFC 2104; any key length, the empty key included).
sha256_digest hmac_sha256(std::string_view key, std::string_view message);

// The digest's 32 raw bytes as a view (valid while `digest` lives), for APIs that take bytes as a string.
std::string_view as_bytes(const sha256_digest& digest) noexcept;

// Lowercase hex of raw bytes: two characters per byte.
std::string to_hex(std::string_view bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);

// Exactly 64 hex digits (either case) -> the digest; nullopt on any other length or a non-hex character.
std::optional<sha256_digest> sha256_from_hex(std::string_view hex);

// Standard base64 alphabet (RFC 4648 section 4), padded.
std::string base64_encode(std::string_view bytes);
// Decodes standard base64 into `out` (cleared first). Padding is optional; returns false on a character outside
// the alphabet, data after padding, or more than two '=' (then `out` holds garbage).
bool base64_decode(std::string_view text, std::string& out);

// Constant-time equality for secrets, digests and signatures: the time depends on the lengths only, never on where
// the inputs differ (CRYPTO_memcmp). Different lengths compare unequal at once (lengths are not secret here).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;
bool constant_time_equal(const sha256_digest& a, const sha256_digest& b) noexcept;

// Overwrites the bytes of `s` in a way the compiler cannot elide (OPENSSL_cleanse), then clears it: for plain
// copies of keys and tokens once they are hashed.
void wipe(std::string& s) noexcept;

}  // namespace passerelle::core

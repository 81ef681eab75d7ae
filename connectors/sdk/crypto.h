#pragma once
// Signature primitives every webhook scheme needs, for connectors. They are thin wrappers over Passerelle's one
// crypto library (broker/core/crypto.h, OpenSSL underneath) that keep the SDK's byte-string convention: digests
// and MACs are returned as std::string of raw bytes, ready for base64/hex encoding or a constant-time comparison.
// Pure functions; thread-safe; nothing here blocks or fails (hashing can only fail if OpenSSL itself breaks, and
// then the process aborts).

#include <string>
#include <string_view>

namespace passerelle::connector {

// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view message);
// Raw 32-byte SHA-256.
std::string sha256(std::string_view data);

std::string to_hex(std::string_view bytes);         // lowercase
std::string base64_encode(std::string_view bytes);  // standard alphabet, padded
// Decodes standard base64 (padding optional); returns false on any invalid character or data after padding.
bool base64_decode(std::string_view text, std::string& out);

// Constant-time equality for secrets and signatures: the time depends on the lengths only, never on where the
// inputs differ. Always use it to compare a computed signature with a received one.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// Lowercase hex SHA-256 of the trimmed, lowercased e-mail address: the contract's EMAIL_SHA256 customer reference.
// Emails are never stored in clear.
std::string email_sha256(std::string_view email);

}  // namespace passerelle::connector

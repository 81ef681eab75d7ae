#include "broker/core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstdlib>

namespace passerelle::core {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const unsigned char* bytes_of(std::string_view s) noexcept {
  // OpenSSL takes unsigned bytes; a string_view's data may be null when empty, which OpenSSL accepts for length 0
  // in the digest functions but HMAC() treats a null key as "reuse the previous key": never pass null.
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

sha256_digest sha256(std::string_view data) {
  sha256_digest out{};
  unsigned int len = 0;
  // EVP_Digest is OpenSSL 3's one-shot interface; SHA-256 cannot fail short of memory exhaustion.
  if (EVP_Digest(bytes_of(data), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

sha256_digest hmac_sha256(std::string_view key, std::string_view message) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) std::abort();  // HMAC() takes an int key length
  sha256_digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()), bytes_of(message), message.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

std::string_view as_bytes(const sha256_digest& digest) noexcept {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0x0f]);
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::optional<sha256_digest> sha256_from_hex(std::string_view hex) {
  sha256_digest out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto at = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (at(i) << 16U) | (at(i + 1) << 8U) | at(i + 2);
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.push_back(alphabet[(v >> 6U) & 63U]);
    out.push_back(alphabet[v & 63U]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned v = at(i) << 16U;
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.append("==");
  } else if (rest == 2) {
    const unsigned v = (at(i) << 16U) | (at(i + 1) << 8U);
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.push_back(alphabet[(v >> 6U) & 63U]);
    out.push_back('=');
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      ++padding;
      continue;
    }
    if (v < 0 || padding > 0) return false;  // bad character, or data after padding
    acc = (acc << 6U) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xffU));
    }
  }
  return padding <= 2;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(const sha256_digest& a, const sha256_digest& b) noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace passerelle::core

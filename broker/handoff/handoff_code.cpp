#include "broker/handoff/handoff_code.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>

namespace passerelle::handoff {

namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int base = 32;
constexpr std::size_t data_length = handoff_code_length - 1;

// Value of a canonical character, or -1.
int value_of(char c) noexcept {
  const auto pos = alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Crockford decoding of one typed character to its canonical character, or '\0' when it is not a symbol.
char canonical_char(char c) noexcept {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return '0';
  if (c == 'I' || c == 'L') return '1';
  return value_of(c) >= 0 ? c : '\0';
}

}  // namespace

// Luhn mod N (N = 32): from the rightmost data character leftwards, every second value is doubled and its
// base-32 digits summed; the check value makes the total a multiple of 32.
char handoff_check_character(std::string_view data) {
  int sum = 0;
  bool doubled = true;  // the rightmost data character is doubled, since the check character will follow it
  for (std::size_t i = data.size(); i-- > 0;) {
    int v = value_of(data[i]);
    if (doubled) {
      v *= 2;
      v = v / base + v % base;
    }
    sum += v;
    doubled = !doubled;
  }
  return alphabet[static_cast<std::size_t>((base - sum % base) % base)];
}

result<std::string> generate_handoff_code() {
  // 9 characters x 5 bits: take 5 bits from each of 9 random bytes (unbiased, since 256 is a multiple of 32).
  std::array<unsigned char, data_length> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return error::fatal("rng_failed", "the system's random generator did not deliver bytes for a handoff code");
  }
  std::string code;
  code.reserve(handoff_code_length);
  for (const unsigned char b : random) code += alphabet[b & 0x1fU];
  code += handoff_check_character(code);
  return code;
}

std::optional<std::string> normalize_handoff_code(std::string_view typed) {
  std::string out;
  out.reserve(handoff_code_length);
  for (const char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char canonical = canonical_char(c);
    if (canonical == '\0' || out.size() == handoff_code_length) return std::nullopt;
    out += canonical;
  }
  if (out.size() != handoff_code_length) return std::nullopt;
  if (handoff_check_character(std::string_view(out).substr(0, data_length)) != out.back()) return std::nullopt;
  return out;
}

std::string display_handoff_code(std::string_view canonical) {
  if (canonical.size() != handoff_code_length) return std::string(canonical);
  return std::string(canonical.substr(0, 5)) + "-" + std::string(canonical.substr(5));
}

}  // namespace passerelle::handoff

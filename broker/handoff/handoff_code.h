#pragma once
// Handoff codes: what a customer reads aloud, or a till scans, to recall a basket in a store
// (CONTRACT.md "Handoffs").
//
// A code is 10 Crockford base32 characters: 9 random ones (45 bits from the OS CSPRNG) and a Luhn mod 32 check
// character. Why this shape:
//   - short enough to read aloud or type at a till, shown as two groups of five ("7KQ2M-XD4RB");
//   - Crockford's alphabet has no I, L, O or U, and decoding maps the look-alikes (O -> 0, I and L -> 1), so a
//     misread letter still resolves;
//   - the check character catches every single-character typo and most swaps of neighbours at the till, before
//     the lookup spends the caller's rate-limit budget;
//   - 45 random bits: with 100,000 live codes and the lookup rate limit (handoff_lookup_limiter), a guesser
//     needs about 3.5e8 tries per hit, i.e. centuries at 10 failed lookups a minute per store.
//
// Pure functions; thread-safe (generate_handoff_code draws from OpenSSL's thread-safe RAND_bytes).

#include <optional>
#include <string>
#include <string_view>

#include "broker/core/result.h"

namespace passerelle::handoff {

inline constexpr std::size_t handoff_code_length = 10;  // characters, check character included

// A fresh random code in canonical form (10 upper-case characters, no separator).
// Errors: fatal/"rng_failed" when the CSPRNG cannot deliver (never expected on a seeded system).
result<std::string> generate_handoff_code();

// The canonical form of what a person or a scanner typed: separators (space, '-') dropped, case folded,
// O -> 0, I and L -> 1. nullopt when the length is wrong, a character is not in the alphabet, or the check
// character does not match: such input is answered 400 without a lookup.
std::optional<std::string> normalize_handoff_code(std::string_view typed);

// "7KQ2MXD4RB" -> "7KQ2M-XD4RB", for people (screens, receipts); the API answers the canonical form.
std::string display_handoff_code(std::string_view canonical);

// The Luhn mod 32 check character of canonical data characters (exposed for tests).
char handoff_check_character(std::string_view data);

}  // namespace passerelle::handoff

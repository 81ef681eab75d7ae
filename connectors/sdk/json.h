#pragma once
// Strict, bounded JSON parsing for connectors (RapidJSON underneath), and exact decimal money.
//
// parse_json() refuses what a hostile sender could use against us: nesting deeper than a bound (checked while
// parsing, in one pass, before a level is opened; the parser is iterative, never recursive), invalid UTF-8, trailing
// garbage. Numbers are kept as their source text
// (kParseNumbersAsStringsFlag) so "19.99" never passes through a binary float: money is exact.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "broker/core/result.h"

namespace passerelle::connector {

inline constexpr int default_max_json_depth = 64;

// Parses `text` into `doc`. Errors: reject/"invalid_json" (message gives the byte offset and RapidJSON's reason),
// reject/"too_deep", reject/"invalid_utf8".
result<void> parse_json(std::string_view text, rapidjson::Document& doc, int max_depth = default_max_json_depth);

// Member access that tolerates absence and type variations seen in real payloads (ids as numbers or strings).
// Numbers come back as their source text because of kParseNumbersAsStringsFlag.
const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) noexcept;
// A string or number member as text; nullopt when absent or null or of another type.
std::optional<std::string> member_text(const rapidjson::Value& object, std::string_view name);
// An integer member (number or numeric string); nullopt when absent/null; reject when not an integer.
result<std::optional<std::int64_t>> member_int(const rapidjson::Value& object, std::string_view name);

// Digits after the decimal point of an ISO 4217 currency (EUR 2, JPY 0, KWD 3, ...); 2 for unknown codes
// that are three uppercase letters; nullopt for malformed codes.
std::optional<int> currency_exponent(std::string_view currency) noexcept;

// Exact conversion of a decimal amount ("19.99", "-5", "1e2" is refused) to integer minor units of `currency`.
// More fractional digits than the currency has are accepted only when they are zeros ("19.990" EUR = 1999).
// Errors: reject/"bad_amount" naming the text and the currency.
result<std::int64_t> decimal_to_minor(std::string_view amount, std::string_view currency);

// The exact inverse: integer minor units of `currency` as a plain decimal string with the currency's digits
// (1999 EUR -> "19.99", -5 EUR -> "-0.05", 500 JPY -> "500"), for platforms that take decimal strings.
// Errors: reject/"bad_amount" for a malformed currency code.
result<std::string> minor_to_decimal(std::int64_t minor, std::string_view currency);

}  // namespace passerelle::connector

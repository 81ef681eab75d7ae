#pragma once
// Durations as written in the configuration: one or more <integer><unit> groups, units h, m, s, ms, largest
// first, each unit at most once: "24h", "90m", "30s", "500ms", "2h30m", "1m30s500ms". No sign, no spaces, no
// fractions, no bare numbers (a bare "30" is ambiguous, so it is refused).
//
// Thread-safety: pure functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace passerelle::config {

// The duration `text` denotes, or nullopt when it is not of the form above or overflows 64-bit milliseconds.
// "0s" is a valid duration; callers that need a positive one check it.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest canonical spelling, parse_duration's inverse: 9000000ms -> "2h30m", 0 -> "0s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace passerelle::config

#pragma once
// Compact, versioned binary encoding of subject states: the value of the runner's state store and of its changelog
// topic records (key: subject id). Hand-written varint format (layout in docs/lifecycle.md "State encoding"):
//
//   byte 0  format version (state_format_version; decoders refuse versions they do not know)
//   byte 1  scope: 0 = full (with the dedup window and counters), 1 = view (without them)
//   then    the common part, then the kind's part; integers as LEB128 varints (signed ones zigzag), strings and
//           lists length-prefixed.
//
// `view` is what happened to the subject, independent of how it was delivered: two states are the same subject
// state iff their view encodings are equal (the order-tolerance property tests compare exactly this).
//
// Pure functions; thread-safe. decode() never trusts its input: every length is checked against what remains.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/core/result.h"
#include "broker/lifecycle/subject_state.h"

namespace passerelle::lifecycle {

inline constexpr std::uint8_t state_format_version = 1;

enum class encode_scope : std::uint8_t { full = 0, view = 1 };

std::string encode(const subject_state& state, encode_scope scope = encode_scope::full);

// Errors (kind reject): "state_truncated", "state_version_unknown", "state_malformed".
result<subject_state> decode(std::string_view bytes);

}  // namespace passerelle::lifecycle

#pragma once
// The on-disk form of a spooled record and the spool's RocksDB keys. Private to broker/log/spool/.
//
// Keys: 's' + 8-byte big-endian sequence number (spooled records; RocksDB's bytewise order is spool order),
//       'd' + 8-byte big-endian sequence number (dead records: refused for good by the inner log, kept for an
//       operator). Values: version byte 1, then little-endian fixed-width fields:
//       i64 timestamp_ms, u32 len + topic, u32 len + key, u32 len + value, u32 header count,
//       per header u32 len + key, u32 len + value.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/log/event_log.h"

namespace passerelle::log::spool {

inline constexpr char spooled_prefix = 's';
inline constexpr char dead_prefix = 'd';

std::string make_key(char prefix, std::uint64_t seq);
// The sequence number of a key of the given prefix; nullopt for any other key.
std::optional<std::uint64_t> parse_key(char prefix, std::string_view key) noexcept;

// `request.timestamp_ms` must be set (the spool fixes it at acceptance time).
std::string encode_record(const produce_request& request);
// nullopt when the bytes are not a record of this version (truncated, trailing bytes, unknown version).
std::optional<produce_request> decode_record(std::string_view bytes);
// The timestamp_ms of an encoded record without decoding the rest (the spool's age metric after a restart);
// nullopt when the bytes are too short or of another version.
std::optional<std::int64_t> peek_timestamp(std::string_view bytes) noexcept;

}  // namespace passerelle::log::spool

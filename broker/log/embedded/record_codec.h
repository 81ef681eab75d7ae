#pragma once
// The embedded backend's on-disk encoding: RocksDB keys and values, in one place so the layout is easy to audit.
//
// Keys are big-endian so that RocksDB's bytewise comparator iterates a partition in offset order:
//   records CF : u16 topic length | topic | u32 partition | u64 offset   ->  record value (below)
//   topics  CF : topic                                                  ->  u32 partition count
//   offsets CF : u16 group length | group | u16 topic length | topic | u32 partition  ->  u64 next offset
// Record value (version 1):
//   u8 version=1 | i64 timestamp_ms | u32 key length | key | u32 value length | value
//   | u32 header count | (u32 length | header key | u32 length | header value)*
//
// Thread-safety: pure functions over values; no shared state.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/core/result.h"
#include "broker/log/event_log.h"

namespace passerelle::log::embedded {

inline constexpr std::size_t max_topic_name_bytes = 249;  // Kafka's limit, so names work on both backends
inline constexpr std::size_t max_group_name_bytes = 1024;

// Records CF key of (topic, partition, offset).
std::string record_key(std::string_view topic, std::int32_t partition, std::int64_t offset);
// The common prefix of every record key of (topic, partition).
std::string partition_prefix(std::string_view topic, std::int32_t partition);
// Offset stored in a records CF key, or an error if `key` is not a key of (topic, partition).
result<std::int64_t> offset_of_record_key(std::string_view key, std::string_view topic, std::int32_t partition);

// Offsets CF key of (group, topic, partition).
std::string committed_offset_key(std::string_view group, std::string_view topic, std::int32_t partition);

std::string encode_u32(std::uint32_t v);
std::string encode_u64(std::uint64_t v);
// Decodes a value written by encode_u32/encode_u64; fatal/"corrupt_store" if the size is wrong.
result<std::uint32_t> decode_u32(std::string_view bytes);
result<std::uint64_t> decode_u64(std::string_view bytes);

// The stored part of a record (topic, partition and offset are in the key).
struct stored_record {
  std::int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
  headers hdrs;
};

std::string encode_record_value(std::int64_t timestamp_ms, std::string_view key, std::string_view value,
                                const headers& hdrs);
// Decodes a record value; fatal/"corrupt_record" when the bytes are truncated, overlong or of an unknown version.
result<stored_record> decode_record_value(std::string_view bytes);
// Only the timestamp of a record value (for offset_for_time's binary search).
result<std::int64_t> decode_record_timestamp(std::string_view bytes);

}  // namespace passerelle::log::embedded

#pragma once
// Protobuf messages as the contract's JSON (CONTRACT.md "JSON conventions"), for payloads in history reads:
// snake_case field names, 64-bit integers as JSON numbers (not the strings of protobuf's own JSON mapping, so
// money is {"amount_minor": 1999, "currency": "EUR"}), enums as lowercase names without their type prefix
// (CHANNEL_WEB -> "web"), google.protobuf.Timestamp as RFC 3339 UTC, bytes as base64, maps as objects. Fields at
// their default value are left out, except inside Money where both fields are always written.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "broker/http/json.h"

namespace passerelle::api {

void write_message(http::json_writer& w, const google::protobuf::Message& m);

// "CHANNEL_WEB" of enum "Channel" -> "web"; names without the expected prefix are lowercased whole.
std::string enum_json_name(std::string_view enum_type_name, std::string_view value_name);

// Milliseconds since the epoch -> "2026-11-22T19:55:00.123Z" (milliseconds only when not zero).
std::string rfc3339_ms(std::int64_t ms);

}  // namespace passerelle::api

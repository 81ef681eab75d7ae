#pragma once
// Deterministic protobuf serialization (map fields in key order), so that equal messages give equal bytes and
// folded states compare and encode identically whatever the arrival order. Internal to passerelle_lifecycle.

#include <google/protobuf/message_lite.h>

#include <string>

namespace passerelle::lifecycle {

// Serializes `message` deterministically; an empty message gives "".
std::string deterministic_bytes(const google::protobuf::MessageLite& message);

}  // namespace passerelle::lifecycle

#pragma once
// Deterministic identities, computed at ingest without any lookup (CONTRACT.md "Identity and references").
//
//   subject id = <kind prefix> "_" + 26 Crockford base32 characters of SHA-256("<kind>\n<origin reference>")
//                e.g. "bsk_5Z3K..." — the origin reference is refs[0] of the event that created the subject;
//                later references are attached by link events and resolved by the lifecycle engine.
//   event id   = "evt_" + 26 Crockford base32 characters of
//                SHA-256("<connector>\n<account>\n<delivery id>\n<index of the event in the delivery>")
//                so a platform's redelivery of the same delivery id yields the same event ids: dedup by event id
//                downstream makes retries change nothing.
// 26 base32 characters carry 130 bits (the first 16.25 bytes of the digest): collisions are not a concern.
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "passerelle/v1/common.pb.h"

namespace passerelle::ingest {

// "basket", "wishlist", "quote", "demo_request", "interest", "customer" (the contract's JSON spelling).
std::string_view subject_kind_name(v1::SubjectKind kind) noexcept;
// Short prefix of subject ids of that kind: "bsk", "wsh", "quo", "dmo", "int", "cus".
std::string_view subject_id_prefix(v1::SubjectKind kind) noexcept;

std::string subject_id_for(v1::SubjectKind kind, std::string_view origin_reference);
std::string event_id_for(std::string_view connector, std::string_view account, std::string_view delivery_id,
                         std::size_t index);

// Crockford base32 (0-9, A-Z without I, L, O, U) of `bytes`, most significant bits first, `chars` characters.
std::string crockford_base32(std::string_view bytes, std::size_t chars);

// A reference is "{connector}:{account}:{native_id}", split on the first two ':'; the native id may contain
// anything. Returns false when there are fewer than two ':' or the connector or account part is empty.
struct reference_parts {
  std::string_view connector;
  std::string_view account;
  std::string_view native_id;
};
bool split_reference(std::string_view reference, reference_parts& out) noexcept;

}  // namespace passerelle::ingest

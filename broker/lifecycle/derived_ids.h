#pragma once
// Deterministic ids of the events the lifecycle engine emits, so that re-processing the same input (after a crash,
// a rebalance, a changelog restore) emits the same ids and every downstream dedup by event id holds.
//
//   derived from an input event: "evt_" + base32(SHA-256("lifecycle\n<input event id>\n<index>"))[26]
//   fired by a timer:            "evt_" + base32(SHA-256("timer\n<subject id>\n<timer kind>\n<due ms>\n<handoff>"))
//   customer id:                 "cus_" + base32(SHA-256("customer\n<type>:<scope>:<value>"))
// 26 Crockford base32 characters (130 bits), the same alphabet and length as broker/ingest/identity.h.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace passerelle::lifecycle {

std::string derived_event_id(std::string_view input_event_id, std::size_t index);
std::string timer_event_id(std::string_view subject_id, std::string_view timer_kind, std::int64_t due_ms,
                           std::string_view handoff_id);
std::string customer_id_for(std::string_view ref_key);

// 64-bit hash of an event id for the per-subject dedup window (first 8 bytes of its SHA-256).
std::uint64_t event_id_hash(std::string_view event_id);

}  // namespace passerelle::lifecycle

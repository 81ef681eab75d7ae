#pragma once
// The folded state of one subject (basket, wishlist, quote, demo request): what the lifecycle engine keeps per
// subject id in its state store, and what the read API serves.
//
// Designed to be small (>= 1M active baskets in <= 1 GiB, see docs/lifecycle.md "Memory layout"): money is held as
// integer minor units with a packed currency code, rarely-used line fields stay as one opaque deterministic
// protobuf blob (`line_state::extra`), totals and promotions likewise.
//
// Ownership and threads: a plain value owned by the runner's state store; one subject is folded by one thread at a
// time (its partition's). No internal synchronisation.

#include <cstdint>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "passerelle/v1/basket.pb.h"
#include "passerelle/v1/common.pb.h"
#include "passerelle/v1/demo.pb.h"
#include "passerelle/v1/quote.pb.h"
#include "passerelle/v1/wishlist.pb.h"

namespace passerelle::lifecycle {

// A write position in one source's order: which source (index into subject_common::sources) and its
// Event.source_version. version 0 = "unknown": never stale, applied in log order.
struct stamp {
  std::uint16_t source = 0;
  std::int64_t version = 0;
  bool operator==(const stamp&) const = default;
};

// Per-source ordering marks of one subject. `source` is "{connector}:{account}".
struct source_mark {
  std::string source;
  std::int64_t max_version = 0;     // highest source_version folded from this source (any event)
  std::int64_t snapshot_floor = 0;  // highest snapshot version folded: older snapshots and line events are stale
  std::int64_t closed_version = 0;  // max_version when the subject reached a terminal state (late-content rule)
  bool operator==(const source_mark&) const = default;
};

// One line (basket, quote) or item (wishlist). The money of `unit_price`, `line_total`, `discount_total` is held as
// minor units when its currency is `currency` (a packed 3-letter ISO code, 0 = empty); otherwise it stays in `extra`.
struct line_state {
  enum money_bit : std::uint8_t { unit_price_set = 1, line_total_set = 2, discount_total_set = 4 };
  std::string line_id;
  std::string sku;
  std::string title;
  std::int64_t quantity = 0;
  std::int64_t unit_price = 0;
  std::int64_t line_total = 0;
  std::int64_t discount_total = 0;
  std::uint32_t currency = 0;
  std::uint8_t money_present = 0;
  // Deterministic serialization of the v1::Line fields not held above (product/variant ids, properties, gtin,
  // unit of measure, image url, money in another currency). Empty for most lines.
  std::string extra;
  stamp written;  // the write that set this line (last-writer-wins by source version)
  bool operator==(const line_state&) const = default;
};

// A line removed by a line event, remembered so that an older add arriving later stays removed. Dropped once a
// newer snapshot of the same source covers it.
struct tombstone {
  std::string line_id;
  stamp written;
  bool operator==(const tombstone&) const = default;
};

// The lines of a subject under last-writer-wins per line id (see docs/lifecycle.md "Ordering"). Kept sorted by
// line id (natural order: "2" < "10") so that any arrival order yields the same state.
struct line_set {
  std::vector<line_state> lines;
  std::vector<tombstone> tombstones;
  bool operator==(const line_set&) const = default;
};

struct promotion_state {
  std::string promotion_id;
  std::string bytes;  // deterministic serialization of v1::Promotion
  bool operator==(const promotion_state&) const = default;
};

enum class handoff_status : std::uint8_t { pending = 0, accepted, completed, expired, failed, replaced, cancelled };

struct handoff_state {
  std::string handoff_id;
  std::string target_store;  // exactly one of target_store / target_web is set
  std::string target_web;
  std::string code_sha256;  // lowercase hex; the runner's code index points here
  std::string requested_by;
  std::int64_t requested_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  handoff_status status = handoff_status::pending;
  std::string accepted_store;
  std::string accepted_till;
  std::string checkout_url;
  std::string target_reference;
  bool operator==(const handoff_state&) const = default;
};

struct basket_data {
  v1::BasketState status = v1::BASKET_STATE_UNSPECIFIED;
  std::string currency;
  line_set lines;
  std::string totals;  // deterministic serialization of v1::Totals (empty: none)
  stamp totals_written;
  std::vector<promotion_state> promotions;  // sorted by promotion_id
  std::string checkout_url;
  std::string note;
  stamp header_written;                 // currency, promotions, checkout_url, note: last snapshot that set them
  std::vector<handoff_state> handoffs;  // in request order; at most one pending
  std::int64_t abandoned_at_ms = 0;     // last activity recorded by the abandonment (0 when not abandoned)
  std::string order_reference;          // set when converted
  v1::ConversionKind conversion = v1::CONVERSION_KIND_UNSPECIFIED;
  bool operator==(const basket_data&) const = default;
};

struct wishlist_data {
  v1::WishlistState status = v1::WISHLIST_STATE_UNSPECIFIED;
  std::string name;
  bool is_public = false;
  stamp header_written;
  line_set items;
  std::vector<std::string> order_references;  // conversions, in order
  bool operator==(const wishlist_data&) const = default;
};

struct quote_data {
  v1::QuoteState status = v1::QUOTE_STATE_UNSPECIFIED;
  std::string currency;
  std::string company;
  std::int32_t revision = 0;  // current offer's revision (0 before any offer)
  std::string quote_number;
  line_set lines;      // requested lines, then the current offer's lines
  std::string totals;  // deterministic v1::Totals of the current offer
  std::int64_t issued_at_ms = 0;
  std::int64_t valid_until_ms = 0;  // from the offer, else issued_at + quote_ttl
  std::string url;
  std::string order_reference;
  bool operator==(const quote_data&) const = default;
};

struct demo_data {
  v1::DemoRequestState status = v1::DEMO_REQUEST_STATE_UNSPECIFIED;
  v1::DemoRequestKind kind = v1::DEMO_REQUEST_KIND_UNSPECIFIED;
  std::vector<std::string> products;  // deterministic v1::ProductRef each
  std::int64_t preferred_at_ms = 0;
  std::string preferred_store_id;
  v1::ContactMode contact_mode = v1::CONTACT_MODE_UNSPECIFIED;
  std::int64_t scheduled_at_ms = 0;
  std::int64_t duration_ms = 0;
  std::string assignee_id;
  std::string meeting_url;
  std::string outcome;
  std::string basket_id;
  std::uint32_t schedule_count = 0;
  bool operator==(const demo_data&) const = default;
};

// A sorted customer reference ("type", scope, value as in v1::CustomerRef).
struct customer_ref {
  v1::CustomerRefType type = v1::CUSTOMER_REF_TYPE_UNSPECIFIED;
  std::string scope;
  std::string value;
  // Hand-written, not a defaulted <=> (clang-tidy 14 misreports those as modernize-use-nullptr).
  bool operator<(const customer_ref& o) const {
    return std::tie(type, scope, value) < std::tie(o.type, o.scope, o.value);
  }
  bool operator==(const customer_ref&) const = default;
};

// What every subject kind has.
struct subject_common {
  v1::SubjectKind kind = v1::SUBJECT_KIND_UNSPECIFIED;
  std::string id;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;  // origin channel: set by the first event that has one
  std::string store_id;                           // set by the first event that has one; a recall moves it
  std::int64_t created_at_ms = 0;                 // min occurred_at folded
  std::int64_t updated_at_ms = 0;                 // max occurred_at folded
  std::int64_t last_activity_ms = 0;              // max occurred_at of content events (the abandon timer's base)
  std::uint64_t version = 0;                      // distinct events folded (applied or stale), the API "version"
  std::vector<std::string> references;            // sorted
  std::vector<customer_ref> customers;            // sorted
  std::vector<source_mark> sources;               // in first-seen order (stamps index into it)
  // Bookkeeping, excluded from the view encoding (they depend on delivery, not on what happened):
  std::vector<std::uint64_t> dedup;  // FIFO window of event id hashes (oldest first)
  std::uint64_t rejected = 0;        // transitions rejected
  std::uint64_t stale = 0;           // events dropped as stale
  std::uint64_t duplicates = 0;      // events dropped as duplicates
  bool operator==(const subject_common&) const = default;
};

// The state of one subject. `data` holds the kind's alternative (std::monostate before the first event).
struct subject_state {
  subject_common common;
  std::variant<std::monostate, basket_data, wishlist_data, quote_data, demo_data> data;
  bool operator==(const subject_state&) const = default;
};

// Lowercase state name of the subject ("active", "handed_off", "no_show", "unspecified"...), as used in the HTTP
// API "status" and TransitionRejected.from_state.
std::string status_name(const subject_state& state);

// Whether the subject has reached a terminal state (converted/expired baskets, deleted wishlists, rejected/
// expired/converted quotes, done/cancelled demo requests). A wishlist's `converted` is not terminal.
bool is_terminal(const subject_state& state);

// v1::Line <-> line_state (exact round trip of every field).
line_state to_line_state(const v1::Line& line);
v1::Line to_proto(const line_state& line);

// Packs a 3-letter upper-case ISO 4217 code into 24 bits (0 for ""); returns false for anything else.
bool pack_currency(std::string_view code, std::uint32_t& out) noexcept;
std::string unpack_currency(std::uint32_t packed);

// Approximate heap + inline bytes held by a state (for memory budgeting and the bytes/basket printout).
std::size_t footprint_bytes(const subject_state& state);

}  // namespace passerelle::lifecycle

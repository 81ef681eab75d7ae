#include "broker/lifecycle/subject_state.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cctype>

#include "broker/lifecycle/proto_bytes.h"

namespace passerelle::lifecycle {

std::string deterministic_bytes(const google::protobuf::MessageLite& message) {
  std::string out;
  if (message.ByteSizeLong() == 0) return out;  // also caches the sizes SerializeWithCachedSizes needs
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&coded);
  }
  return out;
}

namespace {

// Lowercase enum value name without its `<ENUM>_` prefix ("BASKET_STATE_HANDED_OFF" -> "handed_off").
std::string lower_suffix(const std::string& full, std::string_view prefix) {
  std::string out = full.size() > prefix.size() ? full.substr(prefix.size()) : full;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string status_name(const subject_state& state) {
  struct visitor {
    std::string operator()(const std::monostate&) const { return "unspecified"; }
    std::string operator()(const basket_data& d) const {
      return lower_suffix(v1::BasketState_Name(d.status), "BASKET_STATE_");
    }
    std::string operator()(const wishlist_data& d) const {
      return lower_suffix(v1::WishlistState_Name(d.status), "WISHLIST_STATE_");
    }
    std::string operator()(const quote_data& d) const {
      return lower_suffix(v1::QuoteState_Name(d.status), "QUOTE_STATE_");
    }
    std::string operator()(const demo_data& d) const {
      return lower_suffix(v1::DemoRequestState_Name(d.status), "DEMO_REQUEST_STATE_");
    }
  };
  return std::visit(visitor{}, state.data);
}

bool is_terminal(const subject_state& state) {
  if (const auto* b = std::get_if<basket_data>(&state.data)) {
    return b->status == v1::BASKET_STATE_CONVERTED || b->status == v1::BASKET_STATE_EXPIRED;
  }
  if (const auto* w = std::get_if<wishlist_data>(&state.data)) return w->status == v1::WISHLIST_STATE_DELETED;
  if (const auto* q = std::get_if<quote_data>(&state.data)) {
    return q->status == v1::QUOTE_STATE_REJECTED || q->status == v1::QUOTE_STATE_EXPIRED ||
           q->status == v1::QUOTE_STATE_CONVERTED;
  }
  if (const auto* d = std::get_if<demo_data>(&state.data)) {
    return d->status == v1::DEMO_REQUEST_STATE_DONE || d->status == v1::DEMO_REQUEST_STATE_CANCELLED;
  }
  return false;
}

bool pack_currency(std::string_view code, std::uint32_t& out) noexcept {
  if (code.empty()) {
    out = 0;
    return true;
  }
  if (code.size() != 3) return false;
  std::uint32_t v = 0;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  out = v;
  return true;
}

std::string unpack_currency(std::uint32_t packed) {
  if (packed == 0) return {};
  std::string out(3, ' ');
  out[0] = static_cast<char>((packed >> 16) & 0xFF);
  out[1] = static_cast<char>((packed >> 8) & 0xFF);
  out[2] = static_cast<char>(packed & 0xFF);
  return out;
}

line_state to_line_state(const v1::Line& line) {
  line_state out;
  out.line_id = line.line_id();
  out.sku = line.sku();
  out.title = line.title();
  out.quantity = line.quantity();
  v1::Line rest = line;
  rest.clear_line_id();
  rest.clear_sku();
  rest.clear_title();
  rest.clear_quantity();
  // The currency of the first money field present decides the packed currency; money in that currency moves to
  // the integer fields, anything else stays in `extra` (so nothing is lost, whatever the input).
  const v1::Money* first = line.has_unit_price()       ? &line.unit_price()
                           : line.has_line_total()     ? &line.line_total()
                           : line.has_discount_total() ? &line.discount_total()
                                                       : nullptr;
  std::uint32_t packed = 0;
  if (first != nullptr && pack_currency(first->currency(), packed)) {
    out.currency = packed;
    const auto take = [&](bool has, const v1::Money& m, std::int64_t& amount, line_state::money_bit bit) {
      if (has && m.currency() == first->currency()) {
        amount = m.amount_minor();
        out.money_present |= bit;
        return true;
      }
      return false;
    };
    if (take(line.has_unit_price(), line.unit_price(), out.unit_price, line_state::unit_price_set)) {
      rest.clear_unit_price();
    }
    if (take(line.has_line_total(), line.line_total(), out.line_total, line_state::line_total_set)) {
      rest.clear_line_total();
    }
    if (take(line.has_discount_total(), line.discount_total(), out.discount_total, line_state::discount_total_set)) {
      rest.clear_discount_total();
    }
  }
  out.extra = deterministic_bytes(rest);
  return out;
}

v1::Line to_proto(const line_state& line) {
  v1::Line out;
  if (!line.extra.empty()) out.ParseFromString(line.extra);
  out.set_line_id(line.line_id);
  out.set_sku(line.sku);
  out.set_title(line.title);
  out.set_quantity(line.quantity);
  const std::string currency = unpack_currency(line.currency);
  const auto put = [&](v1::Money* m, std::int64_t amount) {
    m->set_amount_minor(amount);
    m->set_currency(currency);
  };
  if ((line.money_present & line_state::unit_price_set) != 0) put(out.mutable_unit_price(), line.unit_price);
  if ((line.money_present & line_state::line_total_set) != 0) put(out.mutable_line_total(), line.line_total);
  if ((line.money_present & line_state::discount_total_set) != 0) {
    put(out.mutable_discount_total(), line.discount_total);
  }
  return out;
}

namespace {

// Heap bytes of a string beyond the small-string buffer (libstdc++ keeps up to 15 chars inline).
std::size_t heap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

std::size_t lines_footprint(const line_set& set) {
  std::size_t n = set.lines.capacity() * sizeof(line_state) + set.tombstones.capacity() * sizeof(tombstone);
  for (const auto& l : set.lines) n += heap(l.line_id) + heap(l.sku) + heap(l.title) + heap(l.extra);
  for (const auto& t : set.tombstones) n += heap(t.line_id);
  return n;
}

}  // namespace

std::size_t footprint_bytes(const subject_state& state) {
  const subject_common& c = state.common;
  std::size_t n = sizeof(subject_state) + heap(c.id) + heap(c.store_id);
  n += c.references.capacity() * sizeof(std::string);
  for (const auto& r : c.references) n += heap(r);
  n += c.customers.capacity() * sizeof(customer_ref);
  for (const auto& r : c.customers) n += heap(r.scope) + heap(r.value);
  n += c.sources.capacity() * sizeof(source_mark);
  for (const auto& s : c.sources) n += heap(s.source);
  n += c.dedup.capacity() * sizeof(std::uint64_t);
  if (const auto* b = std::get_if<basket_data>(&state.data)) {
    n += lines_footprint(b->lines) + heap(b->currency) + heap(b->totals) + heap(b->checkout_url) + heap(b->note) +
         heap(b->order_reference);
    n += b->promotions.capacity() * sizeof(promotion_state);
    for (const auto& p : b->promotions) n += heap(p.promotion_id) + heap(p.bytes);
    n += b->handoffs.capacity() * sizeof(handoff_state);
    for (const auto& h : b->handoffs) {
      n += heap(h.handoff_id) + heap(h.target_store) + heap(h.target_web) + heap(h.code_sha256) + heap(h.requested_by) +
           heap(h.accepted_store) + heap(h.accepted_till) + heap(h.checkout_url) + heap(h.target_reference);
    }
  } else if (const auto* w = std::get_if<wishlist_data>(&state.data)) {
    n += lines_footprint(w->items) + heap(w->name);
  } else if (const auto* q = std::get_if<quote_data>(&state.data)) {
    n += lines_footprint(q->lines) + heap(q->totals) + heap(q->quote_number) + heap(q->url) + heap(q->company);
  } else if (const auto* d = std::get_if<demo_data>(&state.data)) {
    for (const auto& p : d->products) n += sizeof(std::string) + heap(p);
    n += heap(d->preferred_store_id) + heap(d->assignee_id) + heap(d->meeting_url) + heap(d->outcome);
  }
  return n;
}

}  // namespace passerelle::lifecycle

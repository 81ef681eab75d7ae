#include "broker/lifecycle/state_codec.h"

#include "broker/lifecycle/varint_codec.h"

namespace passerelle::lifecycle {

namespace {

using codec::reader;
using codec::writer;

void put(writer& w, const stamp& s) {
  w.varint(s.source);
  w.svarint(s.version);
}
stamp get_stamp(reader& r) {
  stamp s;
  s.source = static_cast<std::uint16_t>(r.varint());
  s.version = r.svarint();
  return s;
}

void put(writer& w, const line_set& set) {
  w.varint(set.lines.size());
  for (const auto& l : set.lines) {
    w.str(l.line_id);
    w.str(l.sku);
    w.str(l.title);
    w.svarint(l.quantity);
    w.varint(l.currency);
    w.u8(l.money_present);
    if ((l.money_present & line_state::unit_price_set) != 0) w.svarint(l.unit_price);
    if ((l.money_present & line_state::line_total_set) != 0) w.svarint(l.line_total);
    if ((l.money_present & line_state::discount_total_set) != 0) w.svarint(l.discount_total);
    w.str(l.extra);
    put(w, l.written);
  }
  w.varint(set.tombstones.size());
  for (const auto& t : set.tombstones) {
    w.str(t.line_id);
    put(w, t.written);
  }
}
line_set get_line_set(reader& r) {
  line_set set;
  const std::size_t n = r.count();
  set.lines.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    line_state l;
    l.line_id = r.str();
    l.sku = r.str();
    l.title = r.str();
    l.quantity = r.svarint();
    l.currency = static_cast<std::uint32_t>(r.varint());
    l.money_present = r.u8();
    if ((l.money_present & line_state::unit_price_set) != 0) l.unit_price = r.svarint();
    if ((l.money_present & line_state::line_total_set) != 0) l.line_total = r.svarint();
    if ((l.money_present & line_state::discount_total_set) != 0) l.discount_total = r.svarint();
    l.extra = r.str();
    l.written = get_stamp(r);
    set.lines.push_back(std::move(l));
  }
  const std::size_t t = r.count();
  for (std::size_t i = 0; i < t && r.ok(); ++i) {
    tombstone ts;
    ts.line_id = r.str();
    ts.written = get_stamp(r);
    set.tombstones.push_back(std::move(ts));
  }
  return set;
}

void put_strings(writer& w, const std::vector<std::string>& v) {
  w.varint(v.size());
  for (const auto& s : v) w.str(s);
}
std::vector<std::string> get_strings(reader& r) {
  std::vector<std::string> v;
  const std::size_t n = r.count();
  for (std::size_t i = 0; i < n && r.ok(); ++i) v.push_back(r.str());
  return v;
}

void put_common(writer& w, const subject_common& c, encode_scope scope) {
  w.str(c.id);
  w.varint(static_cast<std::uint64_t>(c.channel));
  w.str(c.store_id);
  w.svarint(c.created_at_ms);
  w.svarint(c.updated_at_ms - c.created_at_ms);  // deltas keep timestamps to 1-4 bytes
  w.svarint(c.last_activity_ms - c.created_at_ms);
  w.varint(c.version);
  put_strings(w, c.references);
  w.varint(c.customers.size());
  for (const auto& r : c.customers) {
    w.varint(static_cast<std::uint64_t>(r.type));
    w.str(r.scope);
    w.str(r.value);
  }
  w.varint(c.sources.size());
  for (const auto& s : c.sources) {
    w.str(s.source);
    w.svarint(s.max_version);
    w.svarint(s.max_version - s.snapshot_floor);
    w.svarint(s.max_version - s.closed_version);
  }
  if (scope == encode_scope::full) {
    w.varint(c.dedup.size());
    for (const std::uint64_t h : c.dedup) {
      for (int i = 0; i < 8; ++i) w.u8(static_cast<std::uint8_t>(h >> (56 - 8 * i)));
    }
    w.varint(c.rejected);
    w.varint(c.stale);
    w.varint(c.duplicates);
  }
}
void get_common(reader& r, subject_common& c, encode_scope scope) {
  c.id = r.str();
  c.channel = r.enum_value<v1::Channel>(v1::Channel_MAX);
  c.store_id = r.str();
  c.created_at_ms = r.svarint();
  c.updated_at_ms = c.created_at_ms + r.svarint();
  c.last_activity_ms = c.created_at_ms + r.svarint();
  c.version = r.varint();
  c.references = get_strings(r);
  const std::size_t nc = r.count();
  for (std::size_t i = 0; i < nc && r.ok(); ++i) {
    customer_ref ref;
    ref.type = r.enum_value<v1::CustomerRefType>(v1::CustomerRefType_MAX);
    ref.scope = r.str();
    ref.value = r.str();
    c.customers.push_back(std::move(ref));
  }
  const std::size_t ns = r.count();
  for (std::size_t i = 0; i < ns && r.ok(); ++i) {
    source_mark m;
    m.source = r.str();
    m.max_version = r.svarint();
    m.snapshot_floor = m.max_version - r.svarint();
    m.closed_version = m.max_version - r.svarint();
    c.sources.push_back(std::move(m));
  }
  if (scope == encode_scope::full) {
    const std::size_t nd = r.count();
    for (std::size_t i = 0; i < nd && r.ok(); ++i) {
      std::uint64_t h = 0;
      for (int b = 0; b < 8; ++b) h = (h << 8) | r.u8();
      c.dedup.push_back(h);
    }
    c.rejected = r.varint();
    c.stale = r.varint();
    c.duplicates = r.varint();
  }
}

void put_basket(writer& w, const basket_data& b) {
  w.varint(static_cast<std::uint64_t>(b.status));
  w.str(b.currency);
  put(w, b.lines);
  w.str(b.totals);
  put(w, b.totals_written);
  w.varint(b.promotions.size());
  for (const auto& p : b.promotions) {
    w.str(p.promotion_id);
    w.str(p.bytes);
  }
  w.str(b.checkout_url);
  w.str(b.note);
  put(w, b.header_written);
  w.varint(b.handoffs.size());
  for (const auto& h : b.handoffs) {
    w.str(h.handoff_id);
    w.str(h.target_store);
    w.str(h.target_web);
    w.str(h.code_sha256);
    w.str(h.requested_by);
    w.svarint(h.requested_at_ms);
    w.svarint(h.expires_at_ms - h.requested_at_ms);
    w.u8(static_cast<std::uint8_t>(h.status));
    w.str(h.accepted_store);
    w.str(h.accepted_till);
    w.str(h.checkout_url);
    w.str(h.target_reference);
  }
  w.svarint(b.abandoned_at_ms);
  w.str(b.order_reference);
  w.varint(static_cast<std::uint64_t>(b.conversion));
}
basket_data get_basket(reader& r) {
  basket_data b;
  b.status = r.enum_value<v1::BasketState>(v1::BasketState_MAX);
  b.currency = r.str();
  b.lines = get_line_set(r);
  b.totals = r.str();
  b.totals_written = get_stamp(r);
  const std::size_t np = r.count();
  for (std::size_t i = 0; i < np && r.ok(); ++i) {
    promotion_state p;
    p.promotion_id = r.str();
    p.bytes = r.str();
    b.promotions.push_back(std::move(p));
  }
  b.checkout_url = r.str();
  b.note = r.str();
  b.header_written = get_stamp(r);
  const std::size_t nh = r.count();
  for (std::size_t i = 0; i < nh && r.ok(); ++i) {
    handoff_state h;
    h.handoff_id = r.str();
    h.target_store = r.str();
    h.target_web = r.str();
    h.code_sha256 = r.str();
    h.requested_by = r.str();
    h.requested_at_ms = r.svarint();
    h.expires_at_ms = h.requested_at_ms + r.svarint();
    h.status = r.enum_value<handoff_status>(static_cast<int>(handoff_status::cancelled));
    h.accepted_store = r.str();
    h.accepted_till = r.str();
    h.checkout_url = r.str();
    h.target_reference = r.str();
    b.handoffs.push_back(std::move(h));
  }
  b.abandoned_at_ms = r.svarint();
  b.order_reference = r.str();
  b.conversion = r.enum_value<v1::ConversionKind>(v1::ConversionKind_MAX);
  return b;
}

void put_wishlist(writer& w, const wishlist_data& d) {
  w.varint(static_cast<std::uint64_t>(d.status));
  w.str(d.name);
  w.u8(d.is_public ? 1 : 0);
  put(w, d.header_written);
  put(w, d.items);
  put_strings(w, d.order_references);
}
wishlist_data get_wishlist(reader& r) {
  wishlist_data d;
  d.status = r.enum_value<v1::WishlistState>(v1::WishlistState_MAX);
  d.name = r.str();
  d.is_public = r.u8() != 0;
  d.header_written = get_stamp(r);
  d.items = get_line_set(r);
  d.order_references = get_strings(r);
  return d;
}

void put_quote(writer& w, const quote_data& q) {
  w.varint(static_cast<std::uint64_t>(q.status));
  w.str(q.currency);
  w.str(q.company);
  w.svarint(q.revision);
  w.str(q.quote_number);
  put(w, q.lines);
  w.str(q.totals);
  w.svarint(q.issued_at_ms);
  w.svarint(q.valid_until_ms);
  w.str(q.url);
  w.str(q.order_reference);
}
quote_data get_quote(reader& r) {
  quote_data q;
  q.status = r.enum_value<v1::QuoteState>(v1::QuoteState_MAX);
  q.currency = r.str();
  q.company = r.str();
  q.revision = static_cast<std::int32_t>(r.svarint());
  q.quote_number = r.str();
  q.lines = get_line_set(r);
  q.totals = r.str();
  q.issued_at_ms = r.svarint();
  q.valid_until_ms = r.svarint();
  q.url = r.str();
  q.order_reference = r.str();
  return q;
}

void put_demo(writer& w, const demo_data& d) {
  w.varint(static_cast<std::uint64_t>(d.status));
  w.varint(static_cast<std::uint64_t>(d.kind));
  put_strings(w, d.products);
  w.svarint(d.preferred_at_ms);
  w.str(d.preferred_store_id);
  w.varint(static_cast<std::uint64_t>(d.contact_mode));
  w.svarint(d.scheduled_at_ms);
  w.svarint(d.duration_ms);
  w.str(d.assignee_id);
  w.str(d.meeting_url);
  w.str(d.outcome);
  w.str(d.basket_id);
  w.varint(d.schedule_count);
}
demo_data get_demo(reader& r) {
  demo_data d;
  d.status = r.enum_value<v1::DemoRequestState>(v1::DemoRequestState_MAX);
  d.kind = r.enum_value<v1::DemoRequestKind>(v1::DemoRequestKind_MAX);
  d.products = get_strings(r);
  d.preferred_at_ms = r.svarint();
  d.preferred_store_id = r.str();
  d.contact_mode = r.enum_value<v1::ContactMode>(v1::ContactMode_MAX);
  d.scheduled_at_ms = r.svarint();
  d.duration_ms = r.svarint();
  d.assignee_id = r.str();
  d.meeting_url = r.str();
  d.outcome = r.str();
  d.basket_id = r.str();
  d.schedule_count = static_cast<std::uint32_t>(r.varint());
  return d;
}

// Every known-version stamp must index an existing source mark (fold relies on it).
bool stamps_valid(const subject_state& st) {
  const std::size_t n = st.common.sources.size();
  const auto ok = [n](const stamp& s) { return s.version == 0 || s.source < n; };
  const auto set_ok = [&](const line_set& set) {
    for (const auto& l : set.lines) {
      if (!ok(l.written)) return false;
    }
    for (const auto& t : set.tombstones) {
      if (!ok(t.written)) return false;
    }
    return true;
  };
  if (const auto* b = std::get_if<basket_data>(&st.data)) {
    return set_ok(b->lines) && ok(b->totals_written) && ok(b->header_written);
  }
  if (const auto* w = std::get_if<wishlist_data>(&st.data)) return set_ok(w->items) && ok(w->header_written);
  if (const auto* q = std::get_if<quote_data>(&st.data)) return set_ok(q->lines);
  return true;
}

}  // namespace

std::string encode(const subject_state& state, encode_scope scope) {
  writer w;
  w.u8(state_format_version);
  w.u8(static_cast<std::uint8_t>(scope));
  w.varint(static_cast<std::uint64_t>(state.common.kind));
  put_common(w, state.common, scope);
  if (const auto* b = std::get_if<basket_data>(&state.data)) {
    put_basket(w, *b);
  } else if (const auto* wl = std::get_if<wishlist_data>(&state.data)) {
    put_wishlist(w, *wl);
  } else if (const auto* q = std::get_if<quote_data>(&state.data)) {
    put_quote(w, *q);
  } else if (const auto* d = std::get_if<demo_data>(&state.data)) {
    put_demo(w, *d);
  }
  return w.take();
}

result<subject_state> decode(std::string_view bytes) {
  if (bytes.size() < 3) return error::reject("state_truncated", "encoded state shorter than its header");
  if (static_cast<std::uint8_t>(bytes[0]) != state_format_version) {
    return error::reject("state_version_unknown",
                         "state format version " + std::to_string(static_cast<std::uint8_t>(bytes[0])) +
                             " is not known (this build reads " + std::to_string(state_format_version) + ")");
  }
  reader r(bytes.substr(1));
  const auto scope = static_cast<encode_scope>(r.u8());
  if (scope != encode_scope::full && scope != encode_scope::view) {
    return error::reject("state_malformed", "unknown encoding scope");
  }
  subject_state st;
  st.common.kind = r.enum_value<v1::SubjectKind>(v1::SubjectKind_MAX);
  get_common(r, st.common, scope);
  switch (st.common.kind) {
    case v1::SUBJECT_KIND_UNSPECIFIED: break;
    case v1::SUBJECT_KIND_BASKET: st.data = get_basket(r); break;
    case v1::SUBJECT_KIND_WISHLIST: st.data = get_wishlist(r); break;
    case v1::SUBJECT_KIND_QUOTE: st.data = get_quote(r); break;
    case v1::SUBJECT_KIND_DEMO_REQUEST: st.data = get_demo(r); break;
    default: return error::reject("state_malformed", "subject kind without a lifecycle");
  }
  if (!r.ok()) return error::reject("state_truncated", "encoded state ends early or has a bad length");
  if (!r.at_end()) return error::reject("state_malformed", "trailing bytes after the encoded state");
  if (!stamps_valid(st)) return error::reject("state_malformed", "a write stamp names an unknown source");
  return st;
}

}  // namespace passerelle::lifecycle

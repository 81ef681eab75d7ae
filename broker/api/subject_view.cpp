#include "broker/api/subject_view.h"

#include "broker/api/proto_json.h"
#include "broker/lifecycle/fold.h"

namespace passerelle::api {

namespace {

void write_opt_string(http::json_writer& w, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  http::write_key(w, key);
  http::write_string(w, value);
}

void write_time(http::json_writer& w, std::string_view key, std::int64_t ms) {
  if (ms == 0) return;
  http::write_key(w, key);
  http::write_string(w, rfc3339_ms(ms));
}

void write_lines(http::json_writer& w, std::string_view key, const lifecycle::line_set& set) {
  http::write_key(w, key);
  w.StartArray();
  for (const auto& l : set.lines) write_message(w, lifecycle::to_proto(l));
  w.EndArray();
}

template <class Proto>
void write_blob(http::json_writer& w, std::string_view key, const std::string& bytes) {
  if (bytes.empty()) return;
  Proto p;
  if (!p.ParseFromString(bytes)) return;
  http::write_key(w, key);
  write_message(w, p);
}

std::string enum_name(const google::protobuf::EnumDescriptor* d, int value) {
  const auto* v = d->FindValueByNumber(value);
  return v == nullptr ? "unspecified" : enum_json_name(d->name(), v->name());
}

void write_handoffs(http::json_writer& w, const std::vector<lifecycle::handoff_state>& handoffs) {
  static constexpr std::array<std::string_view, 7> status = {"pending", "accepted", "completed", "expired",
                                                             "failed",  "replaced", "cancelled"};
  http::write_key(w, "handoffs");
  w.StartArray();
  for (const auto& h : handoffs) {
    w.StartObject();
    http::write_key(w, "handoff_id");
    http::write_string(w, h.handoff_id);
    http::write_key(w, "status");
    http::write_string(w, status.at(static_cast<std::size_t>(h.status)));
    http::write_key(w, "to");
    w.StartObject();
    if (!h.target_store.empty()) {
      http::write_key(w, "store");
      http::write_string(w, h.target_store);
    } else {
      http::write_key(w, "web");
      http::write_string(w, h.target_web);
    }
    w.EndObject();
    write_time(w, "requested_at", h.requested_at_ms);
    write_time(w, "expires_at", h.expires_at_ms);
    write_opt_string(w, "requested_by", h.requested_by);
    write_opt_string(w, "accepted_store", h.accepted_store);
    write_opt_string(w, "accepted_till", h.accepted_till);
    write_opt_string(w, "checkout_url", h.checkout_url);
    write_opt_string(w, "target_reference", h.target_reference);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string kind_name(v1::SubjectKind kind) { return enum_name(v1::SubjectKind_descriptor(), kind); }

std::string subject_json(const lifecycle::subject_state& s) {
  return http::build_json([&](http::json_writer& w) {
    const auto& c = s.common;
    w.StartObject();
    http::write_key(w, "id");
    http::write_string(w, c.id);
    http::write_key(w, "status");
    http::write_string(w, lifecycle::status_name(s));
    http::write_key(w, "channel");
    http::write_string(w, enum_name(v1::Channel_descriptor(), c.channel));
    write_opt_string(w, "store_id", c.store_id);
    http::write_key(w, "refs");
    w.StartArray();
    for (const auto& r : c.references) http::write_string(w, r);
    w.EndArray();
    http::write_key(w, "customer");
    w.StartObject();
    http::write_key(w, "refs");
    w.StartArray();
    for (const auto& r : c.customers) {
      w.StartObject();
      http::write_key(w, "type");
      http::write_string(w, enum_name(v1::CustomerRefType_descriptor(), r.type));
      write_opt_string(w, "scope", r.scope);
      http::write_key(w, "value");
      http::write_string(w, r.value);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    http::write_key(w, "version");
    w.Uint64(c.version);
    write_time(w, "created_at", c.created_at_ms);
    write_time(w, "updated_at", c.updated_at_ms);
    if (const auto* b = std::get_if<lifecycle::basket_data>(&s.data)) {
      write_opt_string(w, "currency", b->currency);
      write_lines(w, "lines", b->lines);
      write_blob<v1::Totals>(w, "totals", b->totals);
      http::write_key(w, "promotions");
      w.StartArray();
      for (const auto& p : b->promotions) {
        v1::Promotion promo;
        if (promo.ParseFromString(p.bytes)) write_message(w, promo);
      }
      w.EndArray();
      write_opt_string(w, "checkout_url", b->checkout_url);
      write_opt_string(w, "note", b->note);
      write_opt_string(w, "order_reference", b->order_reference);
      write_handoffs(w, b->handoffs);
    } else if (const auto* wl = std::get_if<lifecycle::wishlist_data>(&s.data)) {
      write_opt_string(w, "name", wl->name);
      http::write_key(w, "public");
      w.Bool(wl->is_public);
      write_lines(w, "lines", wl->items);
      http::write_key(w, "order_references");
      w.StartArray();
      for (const auto& o : wl->order_references) http::write_string(w, o);
      w.EndArray();
    } else if (const auto* q = std::get_if<lifecycle::quote_data>(&s.data)) {
      write_opt_string(w, "currency", q->currency);
      write_opt_string(w, "company", q->company);
      write_opt_string(w, "quote_number", q->quote_number);
      http::write_key(w, "revision");
      w.Int(q->revision);
      write_lines(w, "lines", q->lines);
      write_blob<v1::Totals>(w, "totals", q->totals);
      write_time(w, "issued_at", q->issued_at_ms);
      write_time(w, "valid_until", q->valid_until_ms);
      write_opt_string(w, "url", q->url);
      write_opt_string(w, "order_reference", q->order_reference);
    } else if (const auto* d = std::get_if<lifecycle::demo_data>(&s.data)) {
      http::write_key(w, "kind");
      http::write_string(w, enum_name(v1::DemoRequestKind_descriptor(), d->kind));
      http::write_key(w, "products");
      w.StartArray();
      for (const auto& p : d->products) {
        v1::ProductRef ref;
        if (ref.ParseFromString(p)) write_message(w, ref);
      }
      w.EndArray();
      write_time(w, "preferred_at", d->preferred_at_ms);
      write_opt_string(w, "preferred_store_id", d->preferred_store_id);
      http::write_key(w, "contact_mode");
      http::write_string(w, enum_name(v1::ContactMode_descriptor(), d->contact_mode));
      write_time(w, "scheduled_at", d->scheduled_at_ms);
      if (d->duration_ms != 0) {
        http::write_key(w, "duration_minutes");
        w.Int64(d->duration_ms / 60'000);
      }
      write_opt_string(w, "assignee_id", d->assignee_id);
      write_opt_string(w, "meeting_url", d->meeting_url);
      write_opt_string(w, "outcome", d->outcome);
      write_opt_string(w, "basket_id", d->basket_id);
    }
    w.EndObject();
  });
}

void write_history_event(http::json_writer& w, const v1::Event& e) {
  w.StartObject();
  http::write_key(w, "event_id");
  http::write_string(w, e.event_id());
  http::write_key(w, "type");
  http::write_string(w, lifecycle::payload_type_name(e));
  write_time(w, "occurred_at", lifecycle::to_ms(e.occurred_at()));
  write_time(w, "received_at", lifecycle::to_ms(e.received_at()));
  http::write_key(w, "channel");
  http::write_string(w, enum_name(v1::Channel_descriptor(), e.channel()));
  http::write_key(w, "source");
  w.StartObject();
  http::write_key(w, "connector");
  http::write_string(w, e.source().connector());
  http::write_key(w, "account");
  http::write_string(w, e.source().account());
  write_opt_string(w, "native_id", e.source().native_id());
  write_opt_string(w, "delivery_id", e.source().delivery_id());
  w.EndObject();
  // The payload: the one field of the `payload` oneof that is set.
  const auto* oneof = e.GetDescriptor()->FindOneofByName("payload");
  const auto* field = oneof == nullptr ? nullptr : e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  http::write_key(w, "payload");
  if (field == nullptr) {
    w.StartObject();
    w.EndObject();
  } else {
    write_message(w, e.GetReflection()->GetMessage(e, field));
  }
  w.EndObject();
}

}  // namespace passerelle::api

#pragma once
// Builders of v1::Event values for the lifecycle tests: short, explicit, no hidden defaults beyond the envelope.

#include <cstdint>
#include <string>

#include "broker/lifecycle/fold.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::lifecycle::test {

inline constexpr std::int64_t t0 = 1'700'000'000'000;  // ms

struct env {
  std::string connector = "shopify";
  std::string account = "shop.example.com";
  std::int64_t version = 0;
  std::int64_t at_ms = t0;
  v1::Channel channel = v1::CHANNEL_WEB;
};

inline v1::Event envelope(v1::SubjectKind kind, const std::string& subject, const std::string& id, const env& e) {
  v1::Event ev;
  ev.set_event_id(id);
  ev.set_subject_kind(kind);
  ev.set_subject_id(subject);
  set_ms(ev.mutable_occurred_at(), e.at_ms);
  set_ms(ev.mutable_received_at(), e.at_ms + 5);
  ev.set_channel(e.channel);
  ev.mutable_source()->set_connector(e.connector);
  ev.mutable_source()->set_account(e.account);
  ev.mutable_source()->set_native_id("native-" + subject);
  ev.set_source_version(e.version);
  return ev;
}

inline v1::Event basket(const std::string& id, const env& e = {}) {
  return envelope(v1::SUBJECT_KIND_BASKET, "bsk_1", id, e);
}
inline v1::Event wishlist(const std::string& id, const env& e = {}) {
  return envelope(v1::SUBJECT_KIND_WISHLIST, "wsh_1", id, e);
}
inline v1::Event quote(const std::string& id, const env& e = {}) {
  return envelope(v1::SUBJECT_KIND_QUOTE, "quo_1", id, e);
}
inline v1::Event demo(const std::string& id, const env& e = {}) {
  return envelope(v1::SUBJECT_KIND_DEMO_REQUEST, "dmo_1", id, e);
}

inline v1::Line line(const std::string& id, std::int64_t qty, std::int64_t unit_minor, const std::string& sku = "") {
  v1::Line l;
  l.set_line_id(id);
  l.set_sku(sku.empty() ? "SKU-" + id : sku);
  l.set_title("Product " + id);
  l.set_quantity(qty);
  l.mutable_unit_price()->set_amount_minor(unit_minor);
  l.mutable_unit_price()->set_currency("EUR");
  l.mutable_line_total()->set_amount_minor(unit_minor * qty);
  l.mutable_line_total()->set_currency("EUR");
  return l;
}

}  // namespace passerelle::lifecycle::test

// Round-trips every payload of passerelle.v1.Event through the binary wire format and protobuf's JSON mapping.
//
// The list of payloads comes from reflection over Event's `payload` oneof, so adding a payload to event.proto
// without a case here fails the suite. Two sets of events are checked: hand-written realistic ones (one per
// payload, the way connectors and the engine fill them) and machine-filled ones where every field, nested field,
// repeated field and map of the payload is set, so no field escapes the round trip.

#include <catch2/catch.hpp>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "passerelle/v1/event.pb.h"

namespace {

namespace pb = google::protobuf;
namespace v1 = passerelle::v1;

// ---- small builders for the hand-written cases -------------------------------------------------------------------

v1::Money money(std::int64_t amount_minor, const char* currency = "EUR") {
  v1::Money m;
  m.set_amount_minor(amount_minor);
  m.set_currency(currency);
  return m;
}

pb::Timestamp at(std::int64_t unix_seconds, std::int32_t nanos = 0) {
  pb::Timestamp t;
  t.set_seconds(unix_seconds);
  t.set_nanos(nanos);
  return t;
}

v1::Line line(const char* id, const char* sku, std::int64_t quantity, std::int64_t unit_price_minor) {
  v1::Line l;
  l.set_line_id(id);
  l.set_sku(sku);
  l.set_product_id("8123456789");
  l.set_variant_id("44012345678");
  l.set_title("Trail shoe - 42 / blue");
  l.set_quantity(quantity);
  *l.mutable_unit_price() = money(unit_price_minor);
  *l.mutable_line_total() = money(unit_price_minor * quantity - 500);
  *l.mutable_discount_total() = money(500);
  (*l.mutable_properties())["engraving"] = "A & B";
  l.set_gtin("4006381333931");
  return l;
}

v1::Line weighed_line() {
  v1::Line l;
  l.set_line_id("3");
  l.set_sku("CHEESE-COMTE");
  l.set_title("Comté 18 mois");
  l.set_quantity(1);
  l.set_unit_of_measure("KGM");
  l.set_measured_quantity_milli(1250);
  *l.mutable_unit_price() = money(2980);  // per kilogram
  *l.mutable_line_total() = money(3725);
  return l;
}

v1::Totals totals(std::int64_t total_minor) {
  v1::Totals t;
  *t.mutable_subtotal() = money(total_minor);
  *t.mutable_discount_total() = money(500);
  *t.mutable_tax_total() = money(total_minor / 6);
  *t.mutable_shipping_total() = money(0);
  *t.mutable_total() = money(total_minor);
  t.set_taxes_included(true);
  return t;
}

v1::ProductRef product() {
  v1::ProductRef p;
  p.set_product_id("8123456789");
  p.set_variant_id("44012345678");
  p.set_sku("TRAIL-42-BLUE");
  p.set_gtin("4006381333931");
  p.set_title("Trail shoe");
  p.set_url("https://example.myshopify.com/products/trail-shoe");
  return p;
}

v1::CustomerRef email_ref() {
  v1::CustomerRef c;
  c.set_type(v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
  // SHA-256 of "jane@example.com".
  c.set_value("8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eafa1e4b2e3b8d5f4");
  return c;
}

v1::CustomerRef loyalty_ref() {
  v1::CustomerRef c;
  c.set_type(v1::CUSTOMER_REF_TYPE_LOYALTY_ID);
  c.set_value("LOY-0042");
  c.set_scope("club-passerelle");
  return c;
}

// The envelope every case shares; the case sets the payload and may override the subject kind.
v1::Event envelope(v1::SubjectKind kind) {
  v1::Event e;
  e.set_event_id("evt_01HZX8Q4S8N7");
  e.set_subject_kind(kind);
  e.set_subject_id("bsk_7f3a9c1e5d2b4a60");
  *e.mutable_occurred_at() = at(1717400000, 123000000);
  *e.mutable_received_at() = at(1717400001, 456000000);
  e.set_channel(v1::CHANNEL_WEB);
  auto* src = e.mutable_source();
  src->set_connector("shopify");
  src->set_account("example.myshopify.com");
  src->set_native_id("c1-9f8e7d6c5b4a");
  src->set_delivery_id("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
  // Scoped references only: the envelope must have every field set (see the envelope test below).
  auto* platform = e.add_customers();
  platform->set_type(v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
  platform->set_value("7012345678901");
  platform->set_scope("shopify:example.myshopify.com");
  *e.add_customers() = loyalty_ref();
  e.set_store_id("paris-01");
  e.set_source_version(1717400000123);
  e.add_references("shopify:example.myshopify.com:c1-9f8e7d6c5b4a");
  e.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  e.set_tracestate("congo=t61rcWkgMzE");
  return e;
}

// One realistic payload per oneof field, keyed by the field's name.
using payload_filler = std::function<void(v1::Event&)>;

std::map<std::string, payload_filler> realistic_payloads() {
  std::map<std::string, payload_filler> cases;
  // Baskets.
  cases["basket_snapshot"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_snapshot();
    *p->add_lines() = line("1", "TRAIL-42-BLUE", 2, 8990);
    *p->add_lines() = weighed_line();
    *p->mutable_totals() = totals(21205);
    p->set_currency("EUR");
    auto* promo = p->add_promotions();
    promo->set_promotion_id("pr_1");
    promo->set_code("SUMMER10");
    promo->set_title("Summer -10%");
    *promo->mutable_amount() = money(500);
    promo->add_line_ids("1");
    p->set_checkout_url("https://example.myshopify.com/cart/c1-9f8e7d6c5b4a");
    p->set_note("Gift, please");
  };
  cases["basket_created"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_created();
    p->set_currency("EUR");
    *p->add_lines() = line("1", "TRAIL-42-BLUE", 1, 8990);
  };
  cases["basket_line_added"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_line_added();
    *p->mutable_line() = line("2", "SOCK-M", 3, 990);
    *p->mutable_totals() = totals(11460);
  };
  cases["basket_line_changed"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_line_changed();
    *p->mutable_line() = line("1", "TRAIL-42-BLUE", 3, 8990);
    *p->mutable_previous() = line("1", "TRAIL-42-BLUE", 2, 8990);
    *p->mutable_totals() = totals(26470);
  };
  cases["basket_line_removed"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_line_removed();
    p->set_line_id("2");
    *p->mutable_previous() = line("2", "SOCK-M", 3, 990);
    *p->mutable_totals() = totals(17480);
  };
  cases["basket_prices_changed"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_prices_changed();
    auto* c = p->add_changes();
    c->set_line_id("1");
    *c->mutable_previous_unit_price() = money(8990);
    *c->mutable_unit_price() = money(7990);
    *c->mutable_line_total() = money(15980);
    *p->mutable_totals() = totals(15980);
    p->set_reason("price_list_changed");
  };
  cases["basket_promotion_applied"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_promotion_applied();
    p->mutable_promotion()->set_promotion_id("pr_1");
    p->mutable_promotion()->set_code("SUMMER10");
    *p->mutable_promotion()->mutable_amount() = money(1798);
    *p->mutable_totals() = totals(16182);
  };
  cases["basket_promotion_removed"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_promotion_removed();
    p->set_promotion_id("pr_1");
    p->set_code("SUMMER10");
    *p->mutable_totals() = totals(17980);
  };
  cases["basket_customer_attached"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_customer_attached();
    *p->add_customers() = email_ref();
    *p->add_customers() = loyalty_ref();
  };
  cases["basket_handoff_requested"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_handoff_requested();
    p->set_handoff_id("hof_01HZX9");
    p->mutable_to()->set_store_id("paris-01");
    p->set_code_sha256("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    *p->mutable_expires_at() = at(1717407200);
    p->set_requested_by("key:3f2a9c");
  };
  cases["basket_handoff_accepted"] = [](v1::Event& e) {
    e.set_channel(v1::CHANNEL_STORE);
    auto* p = e.mutable_basket_handoff_accepted();
    p->set_handoff_id("hof_01HZX9");
    p->set_store_id("paris-01");
    p->set_till_id("till-3");
    p->set_target_reference("poslog:paris-01:3-2024-06-03-1042");
  };
  cases["basket_handoff_completed"] = [](v1::Event& e) {
    e.set_channel(v1::CHANNEL_STORE);
    auto* p = e.mutable_basket_handoff_completed();
    p->set_handoff_id("hof_01HZX9");
    p->set_order_reference("poslog:paris-01:3-2024-06-03-1043");
    *p->mutable_totals() = totals(17980);
  };
  cases["basket_handoff_expired"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_handoff_expired();
    p->set_handoff_id("hof_01HZX9");
    *p->mutable_expired_at() = at(1717407200);
  };
  cases["basket_handoff_failed"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_handoff_failed();
    p->set_handoff_id("hof_01HZXA");
    p->set_reason_code("target_rejected");
    p->set_message("draft order refused: variant 44012345678 is not sold on the target shop");
  };
  cases["basket_converted"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_converted();
    p->set_kind(v1::CONVERSION_KIND_ORDER);
    p->set_order_reference("shopify:example.myshopify.com:5512345678901");
    p->set_order_number("#1001");
    *p->mutable_totals() = totals(17980);
    *p->add_lines() = line("1", "TRAIL-42-BLUE", 2, 8990);
  };
  cases["basket_abandoned"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_abandoned();
    *p->mutable_last_activity_at() = at(1717313600);
    p->set_reason("inactivity");
  };
  cases["basket_expired"] = [](v1::Event& e) {
    auto* p = e.mutable_basket_expired();
    *p->mutable_last_activity_at() = at(1717313600);
    p->set_reason("platform_expired");
  };
  // Wishlists.
  cases["wishlist_snapshot"] = [](v1::Event& e) {
    auto* p = e.mutable_wishlist_snapshot();
    p->set_name("Birthday");
    *p->add_items() = line("w1", "TRAIL-42-BLUE", 1, 8990);
    p->set_is_public(true);
  };
  cases["wishlist_created"] = [](v1::Event& e) { e.mutable_wishlist_created()->set_name("Birthday"); };
  cases["wishlist_item_added"] = [](v1::Event& e) {
    *e.mutable_wishlist_item_added()->mutable_item() = line("w2", "SOCK-M", 1, 990);
  };
  cases["wishlist_item_removed"] = [](v1::Event& e) {
    auto* p = e.mutable_wishlist_item_removed();
    p->set_item_id("w2");
    *p->mutable_previous() = line("w2", "SOCK-M", 1, 990);
  };
  cases["wishlist_converted"] = [](v1::Event& e) {
    auto* p = e.mutable_wishlist_converted();
    p->set_order_reference("shopify:example.myshopify.com:5512345678901");
    p->add_item_ids("w1");
    p->set_basket_id("bsk_7f3a9c1e5d2b4a60");
  };
  cases["wishlist_deleted"] = [](v1::Event& e) { e.mutable_wishlist_deleted()->set_reason("customer"); };
  // Quotes.
  auto terms = [](std::int32_t revision) {
    v1::QuoteTerms t;
    t.set_revision(revision);
    t.set_quote_number("Q-2024-0042");
    *t.add_lines() = line("1", "DESK-OAK", 20, 34900);
    *t.mutable_totals() = totals(688000);
    *t.mutable_valid_until() = at(1719992000);
    t.set_notes("Payment 30 days net");
    t.set_url("https://b2b.example.com/quotes/Q-2024-0042");
    return t;
  };
  cases["quote_requested"] = [](v1::Event& e) {
    auto* p = e.mutable_quote_requested();
    *p->add_lines() = line("1", "DESK-OAK", 20, 34900);
    p->set_currency("EUR");
    p->set_message("20 desks for our new office, delivery in July");
    p->set_company("ACME SAS");
  };
  cases["quote_issued"] = [terms](v1::Event& e) { *e.mutable_quote_issued()->mutable_terms() = terms(1); };
  cases["quote_revised"] = [terms](v1::Event& e) {
    *e.mutable_quote_revised()->mutable_terms() = terms(2);
    e.mutable_quote_revised()->set_reason("volume discount");
  };
  cases["quote_accepted"] = [](v1::Event& e) { e.mutable_quote_accepted()->set_revision(2); };
  cases["quote_rejected"] = [](v1::Event& e) {
    auto* p = e.mutable_quote_rejected();
    p->set_revision(2);
    p->set_rejected_by("customer");
    p->set_reason("budget");
  };
  cases["quote_expired"] = [](v1::Event& e) {
    e.mutable_quote_expired()->set_revision(1);
    *e.mutable_quote_expired()->mutable_valid_until() = at(1719992000);
  };
  cases["quote_converted"] = [](v1::Event& e) {
    auto* p = e.mutable_quote_converted();
    p->set_revision(2);
    p->set_order_reference("commercetools:acme-prod:order-77");
    p->set_order_number("B2B-77");
    *p->mutable_totals() = totals(654000);
  };
  // Demo / information / appointment requests.
  cases["demo_requested"] = [](v1::Event& e) {
    auto* p = e.mutable_demo_requested();
    p->set_kind(v1::DEMO_REQUEST_KIND_APPOINTMENT);
    *p->add_products() = product();
    p->set_message("Fitting for running shoes");
    *p->mutable_preferred_at() = at(1717660800);
    p->set_preferred_store_id("paris-01");
    p->set_contact_mode(v1::CONTACT_MODE_IN_STORE);
    p->set_locale("fr-FR");
  };
  cases["demo_scheduled"] = [](v1::Event& e) {
    auto* p = e.mutable_demo_scheduled();
    *p->mutable_scheduled_at() = at(1717664400);
    p->mutable_duration()->set_seconds(1800);
    p->set_store_id("paris-01");
    p->set_assignee_id("staff-17");
    p->set_contact_mode(v1::CONTACT_MODE_VIDEO);
    p->set_meeting_url("https://meet.example.com/abc");
  };
  cases["demo_done"] = [](v1::Event& e) {
    auto* p = e.mutable_demo_done();
    p->set_outcome("bought");
    p->set_notes("Prefers wide fit");
    p->set_basket_id("bsk_7f3a9c1e5d2b4a60");
  };
  cases["demo_no_show"] = [](v1::Event& e) { *e.mutable_demo_no_show()->mutable_scheduled_at() = at(1717664400); };
  cases["demo_cancelled"] = [](v1::Event& e) {
    e.mutable_demo_cancelled()->set_cancelled_by("customer");
    e.mutable_demo_cancelled()->set_reason("moved abroad");
  };
  // Interest.
  cases["product_viewed"] = [](v1::Event& e) {
    auto* p = e.mutable_product_viewed();
    *p->mutable_product() = product();
    p->set_page_url("https://example.myshopify.com/products/trail-shoe?variant=44012345678");
    p->set_referrer_url("https://www.google.com/");
    p->mutable_dwell()->set_seconds(42);
    *p->mutable_price() = money(8990);
  };
  cases["availability_asked"] = [](v1::Event& e) {
    auto* p = e.mutable_availability_asked();
    *p->mutable_product() = product();
    p->set_store_id("paris-01");
    p->set_quantity(2);
    p->set_notify_when_available(true);
    p->set_postal_code("75011");
  };
  // Customers.
  cases["customer_identified"] = [](v1::Event& e) {
    auto* p = e.mutable_customer_identified();
    *p->add_references() = email_ref();
    *p->add_references() = loyalty_ref();
    p->set_locale("fr-FR");
    p->set_marketing_consent(false);  // explicitly false: proto3 optional keeps presence
  };
  cases["customer_references_linked"] = [](v1::Event& e) {
    auto* p = e.mutable_customer_references_linked();
    *p->add_references() = email_ref();
    *p->add_references() = loyalty_ref();
    p->set_evidence("loyalty_card_scanned");
    p->set_observed_on_subject_id("bsk_7f3a9c1e5d2b4a60");
  };
  // Any kind.
  cases["subject_linked"] = [](v1::Event& e) {
    e.mutable_subject_linked()->set_reference("shopify:example.myshopify.com:checkout-1a2b3c");
    e.mutable_subject_linked()->set_reason("checkout_started");
  };
  cases["transition_rejected"] = [](v1::Event& e) {
    auto* p = e.mutable_transition_rejected();
    p->set_from_state("converted");
    p->set_event_type("passerelle.v1.BasketLineAdded");
    p->set_reason("basket is converted; lines can no longer change");
    p->set_rejected_event_id("evt_01HZX8Q4S8N8");
  };
  return cases;
}

// The subject kind a payload belongs to, from its field-number range (documented in event.proto):
// 100s baskets, 200s wishlists, 300s quotes, 400s demo requests, 500s interest, 600s customers, 900s any kind.
v1::SubjectKind kind_of_range(int field_number) {
  switch (field_number / 100) {
    case 1: return v1::SUBJECT_KIND_BASKET;
    case 2: return v1::SUBJECT_KIND_WISHLIST;
    case 3: return v1::SUBJECT_KIND_QUOTE;
    case 4: return v1::SUBJECT_KIND_DEMO_REQUEST;
    case 5: return v1::SUBJECT_KIND_INTEREST;
    case 6: return v1::SUBJECT_KIND_CUSTOMER;
    case 9: return v1::SUBJECT_KIND_BASKET;  // any kind fits; the test uses a basket
    default: return v1::SUBJECT_KIND_UNSPECIFIED;
  }
}

const pb::OneofDescriptor& payload_oneof() {
  const pb::OneofDescriptor* oneof = v1::Event::descriptor()->FindOneofByName("payload");
  REQUIRE(oneof != nullptr);
  return *oneof;
}

// The `event-type` Kafka header value: the payload's protobuf full name (docs/events.md).
std::string event_type(const v1::Event& e) {
  const pb::FieldDescriptor* f = e.GetReflection()->GetOneofFieldDescriptor(e, &payload_oneof());
  return f == nullptr ? std::string{} : f->message_type()->full_name();
}

// ---- machine filling: every field of a message, recursively -----------------------------------------------------

void fill_all(pb::Message& msg, int depth);

void set_scalar(pb::Message& msg, const pb::FieldDescriptor& f, int salt) {
  const pb::Reflection& r = *msg.GetReflection();
  using FD = pb::FieldDescriptor;
  const bool rep = f.is_repeated();
  const std::string text = f.name() + "-" + std::to_string(salt) + " é✓";  // non-ASCII on purpose
  switch (f.cpp_type()) {
    case FD::CPPTYPE_INT32: rep ? r.AddInt32(&msg, &f, -17 - salt) : r.SetInt32(&msg, &f, 17 + salt); break;
    case FD::CPPTYPE_INT64:
      // Beyond 2^53 on purpose: JSON carries int64 as strings, so precision must survive.
      rep ? r.AddInt64(&msg, &f, -9007199254740993LL - salt) : r.SetInt64(&msg, &f, 9007199254740993LL + salt);
      break;
    case FD::CPPTYPE_UINT32: rep ? r.AddUInt32(&msg, &f, 4000000000U) : r.SetUInt32(&msg, &f, 4000000000U); break;
    case FD::CPPTYPE_UINT64:
      rep ? r.AddUInt64(&msg, &f, 18000000000000000000ULL) : r.SetUInt64(&msg, &f, 18000000000000000000ULL);
      break;
    case FD::CPPTYPE_BOOL: rep ? r.AddBool(&msg, &f, true) : r.SetBool(&msg, &f, true); break;
    case FD::CPPTYPE_ENUM: {
      // The last value: never the *_UNSPECIFIED default, so presence shows on the wire.
      const pb::EnumDescriptor* en = f.enum_type();
      const pb::EnumValueDescriptor* v = en->value(en->value_count() - 1);
      rep ? r.AddEnum(&msg, &f, v) : r.SetEnum(&msg, &f, v);
      break;
    }
    case FD::CPPTYPE_STRING: {
      // bytes get non-UTF-8 content (JSON maps them to base64).
      const std::string value = f.type() == FD::TYPE_BYTES ? std::string("\x00\xff\xfe raw", 7) : text;
      rep ? r.AddString(&msg, &f, value) : r.SetString(&msg, &f, value);
      break;
    }
    case FD::CPPTYPE_FLOAT:
    case FD::CPPTYPE_DOUBLE:
      FAIL("floating-point field " << f.full_name() << ": the event model never uses floats");
      break;
    case FD::CPPTYPE_MESSAGE: FAIL("not a scalar: " << f.full_name()); break;
  }
}

void fill_well_known_or_message(pb::Message& msg, int depth) {
  const std::string& name = msg.GetDescriptor()->full_name();
  const pb::Reflection& r = *msg.GetReflection();
  const pb::Descriptor& d = *msg.GetDescriptor();
  if (name == "google.protobuf.Timestamp") {
    // JSON only accepts 0001-01-01..9999-12-31; stay in range with a sub-second part.
    r.SetInt64(&msg, d.FindFieldByName("seconds"), 1717400000);
    r.SetInt32(&msg, d.FindFieldByName("nanos"), 250000000);
    return;
  }
  if (name == "google.protobuf.Duration") {
    r.SetInt64(&msg, d.FindFieldByName("seconds"), 1800);
    r.SetInt32(&msg, d.FindFieldByName("nanos"), 500000000);
    return;
  }
  fill_all(msg, depth + 1);
}

void fill_all(pb::Message& msg, int depth) {
  REQUIRE(depth < 8);  // the model has no recursive messages; this guards the filler if one appears
  const pb::Descriptor& d = *msg.GetDescriptor();
  const pb::Reflection& r = *msg.GetReflection();
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor& f = *d.field(i);
    if (f.real_containing_oneof() != nullptr && r.HasOneof(msg, f.real_containing_oneof())) {
      continue;  // a oneof holds one member: keep the first one filled
    }
    if (f.is_map()) {
      for (int k = 0; k < 2; ++k) {
        pb::Message* entry = r.AddMessage(&msg, &f);
        const pb::Descriptor& ed = *entry->GetDescriptor();
        set_scalar(*entry, *ed.FindFieldByName("key"), k);
        const pb::FieldDescriptor& value = *ed.FindFieldByName("value");
        if (value.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          fill_well_known_or_message(*entry->GetReflection()->MutableMessage(entry, &value), depth);
        } else {
          set_scalar(*entry, value, k);
        }
      }
    } else if (f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f.is_repeated()) {
        for (int k = 0; k < 2; ++k) fill_well_known_or_message(*r.AddMessage(&msg, &f), depth);
      } else {
        fill_well_known_or_message(*r.MutableMessage(&msg, &f), depth);
      }
    } else if (f.is_repeated()) {
      set_scalar(msg, f, 0);
      set_scalar(msg, f, 1);
    } else {
      set_scalar(msg, f, 0);
    }
  }
}

// Every field of `msg` (recursively, except inside well-known types) is present: non-default or non-empty.
void require_every_field_set(const pb::Message& msg) {
  const pb::Descriptor& d = *msg.GetDescriptor();
  if (d.file()->package() != "passerelle.v1") return;
  const pb::Reflection& r = *msg.GetReflection();
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor& f = *d.field(i);
    if (f.real_containing_oneof() != nullptr) {
      const pb::FieldDescriptor* set = r.GetOneofFieldDescriptor(msg, f.real_containing_oneof());
      INFO("oneof " << f.real_containing_oneof()->full_name());
      REQUIRE(set != nullptr);
      if (set != &f) continue;
    }
    INFO("field " << f.full_name());
    if (f.is_repeated()) {
      REQUIRE(r.FieldSize(msg, &f) > 0);
      if (f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f.is_map()) {
        for (int k = 0; k < r.FieldSize(msg, &f); ++k) require_every_field_set(r.GetRepeatedMessage(msg, &f, k));
      }
    } else {
      REQUIRE(r.HasField(msg, &f));
      if (f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) require_every_field_set(r.GetMessage(msg, &f));
    }
  }
}

// ---- the round trips ----------------------------------------------------------------------------------------------

void require_binary_round_trip(const v1::Event& original) {
  std::string wire;
  REQUIRE(original.SerializeToString(&wire));
  REQUIRE_FALSE(wire.empty());
  v1::Event parsed;
  REQUIRE(parsed.ParseFromString(wire));
  REQUIRE(pb::util::MessageDifferencer::Equals(original, parsed));
}

void require_json_round_trip(const v1::Event& original, bool proto_field_names) {
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = proto_field_names;
  std::string json;
  const auto printed = pb::util::MessageToJsonString(original, &json, print);
  INFO(printed.ToString());
  REQUIRE(printed.ok());
  INFO(json);
  const pb::FieldDescriptor* payload = original.GetReflection()->GetOneofFieldDescriptor(original, &payload_oneof());
  REQUIRE(payload != nullptr);
  // The payload appears under its snake_case name (contract's JSON convention) or protobuf's lowerCamelCase one.
  const std::string key = "\"" + (proto_field_names ? payload->name() : payload->json_name()) + "\":";
  REQUIRE(json.find(key) != std::string::npos);
  v1::Event parsed;
  const auto status = pb::util::JsonStringToMessage(json, &parsed);
  INFO(status.ToString());
  REQUIRE(status.ok());
  REQUIRE(pb::util::MessageDifferencer::Equals(original, parsed));
}

}  // namespace

TEST_CASE("every payload of Event has a realistic case, and no case names a missing payload", "[proto]") {
  const auto cases = realistic_payloads();
  const pb::OneofDescriptor& oneof = payload_oneof();
  std::set<std::string> payloads;
  for (int i = 0; i < oneof.field_count(); ++i) {
    const pb::FieldDescriptor& f = *oneof.field(i);
    payloads.insert(f.name());
    INFO("payload " << f.name() << " (" << f.message_type()->full_name()
                    << ") was added to event.proto without a case in realistic_payloads()");
    CHECK(cases.count(f.name()) == 1);
    INFO("payload field number " << f.number() << " is outside the documented per-kind ranges");
    CHECK(kind_of_range(f.number()) != v1::SUBJECT_KIND_UNSPECIFIED);
  }
  for (const auto& [name, fill] : cases) {
    INFO("case " << name << " names no payload of Event");
    CHECK(payloads.count(name) == 1);
  }
}

TEST_CASE("realistic events of every payload round-trip through binary and JSON", "[proto]") {
  const auto cases = realistic_payloads();
  const pb::OneofDescriptor& oneof = payload_oneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    const pb::FieldDescriptor& f = *oneof.field(i);
    DYNAMIC_SECTION(f.name()) {
      const auto it = cases.find(f.name());
      REQUIRE(it != cases.end());
      v1::Event e = envelope(kind_of_range(f.number()));
      it->second(e);
      REQUIRE(e.payload_case() == f.number());
      REQUIRE(event_type(e) == f.message_type()->full_name());
      REQUIRE(e.GetReflection()->GetMessage(e, &f).ByteSizeLong() > 0);  // the case really filled its payload
      require_binary_round_trip(e);
      require_json_round_trip(e, /*proto_field_names=*/true);
      require_json_round_trip(e, /*proto_field_names=*/false);
    }
  }
}

TEST_CASE("events with every field of every payload set round-trip through binary and JSON", "[proto]") {
  const pb::OneofDescriptor& oneof = payload_oneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    const pb::FieldDescriptor& f = *oneof.field(i);
    DYNAMIC_SECTION(f.name()) {
      v1::Event e = envelope(kind_of_range(f.number()));
      fill_all(*e.GetReflection()->MutableMessage(&e, &f), 0);
      REQUIRE(e.payload_case() == f.number());
      require_every_field_set(e);
      require_binary_round_trip(e);
      require_json_round_trip(e, true);
      require_json_round_trip(e, false);
    }
  }
}

TEST_CASE("the envelope has every field set in the shared test envelope", "[proto]") {
  // Guards the two tests above: a field added to Event must be set by envelope() to be round-tripped.
  v1::Event e = envelope(v1::SUBJECT_KIND_BASKET);
  e.mutable_subject_linked()->set_reference("shopify:example.myshopify.com:x");
  e.mutable_subject_linked()->set_reason("merged");
  require_every_field_set(e);
}

TEST_CASE("the event-type header value is the payload's full protobuf name", "[proto]") {
  v1::Event e = envelope(v1::SUBJECT_KIND_BASKET);
  CHECK(event_type(e).empty());
  e.mutable_basket_line_added();
  CHECK(event_type(e) == "passerelle.v1.BasketLineAdded");
  e.mutable_transition_rejected();
  CHECK(event_type(e) == "passerelle.v1.TransitionRejected");
}

TEST_CASE("an event written by hand in protobuf's JSON mapping parses (generic connector body)", "[proto]") {
  // The example of docs/events.md: snake_case names, enum names, int64 both as number and as string, RFC 3339.
  const std::string json = R"({
    "event_id": "shop-42-delivery-9",
    "subject_kind": "SUBJECT_KIND_BASKET",
    "subject_id": "bsk_0b1c2d3e4f5a6b7c",
    "occurred_at": "2024-06-03T07:33:20.123Z",
    "channel": "CHANNEL_WEB",
    "source": {"connector": "generic", "account": "shop.example.org", "native_id": "cart-42",
               "delivery_id": "9"},
    "customers": [{"type": "CUSTOMER_REF_TYPE_EMAIL_SHA256",
                   "value": "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eafa1e4b2e3b8d5f4"}],
    "source_version": 1717400000123,
    "references": ["generic:shop.example.org:cart-42"],
    "basket_snapshot": {
      "currency": "EUR",
      "lines": [{"line_id": "1", "sku": "TRAIL-42-BLUE", "title": "Trail shoe", "quantity": "2",
                 "unit_price": {"amount_minor": 8990, "currency": "EUR"},
                 "line_total": {"amount_minor": "17980", "currency": "EUR"}}],
      "totals": {"total": {"amount_minor": 17980, "currency": "EUR"}, "taxes_included": true}
    }
  })";
  v1::Event e;
  const auto status = pb::util::JsonStringToMessage(json, &e);
  INFO(status.ToString());
  REQUIRE(status.ok());
  CHECK(e.subject_kind() == v1::SUBJECT_KIND_BASKET);
  CHECK(e.occurred_at().seconds() == 1717400000);
  CHECK(e.occurred_at().nanos() == 123000000);
  CHECK(e.source_version() == 1717400000123);
  REQUIRE(e.payload_case() == v1::Event::kBasketSnapshot);
  REQUIRE(e.basket_snapshot().lines_size() == 1);
  CHECK(e.basket_snapshot().lines(0).quantity() == 2);
  CHECK(e.basket_snapshot().lines(0).line_total().amount_minor() == 17980);
  CHECK(e.basket_snapshot().totals().total().amount_minor() == 17980);
}

TEST_CASE("JSON with a float where the model wants integer minor units is refused", "[proto]") {
  v1::Money m;
  CHECK_FALSE(pb::util::JsonStringToMessage(R"({"amount_minor": 19.99, "currency": "EUR"})", &m).ok());
  CHECK_FALSE(pb::util::JsonStringToMessage(R"({"amount_minor": "abc", "currency": "EUR"})", &m).ok());
}

TEST_CASE("consumers of an older schema keep unknown fields and can ignore them in JSON", "[proto]") {
  // Evolution rule: a v1 consumer must accept events written by a newer v1 producer.
  v1::Event e = envelope(v1::SUBJECT_KIND_BASKET);
  e.mutable_basket_created()->set_currency("EUR");
  std::string wire;
  REQUIRE(e.SerializeToString(&wire));
  // A field number 4000 (varint 7) that this schema does not know, as a newer producer might add.
  const std::string unknown_field = {static_cast<char>(0x80), static_cast<char>(0xfa), static_cast<char>(0x01), 0x07};
  v1::Event parsed;
  REQUIRE(parsed.ParseFromString(wire + unknown_field));
  CHECK(parsed.basket_created().currency() == "EUR");
  CHECK(parsed.GetReflection()->GetUnknownFields(parsed).field_count() == 1);

  // A newer payload in the oneof (unknown number) leaves payload_case() unset rather than failing the parse.
  const std::string unknown_payload = {static_cast<char>(0xba), static_cast<char>(0x3e), 0x00};  // field 999, empty
  v1::Event only_envelope = envelope(v1::SUBJECT_KIND_BASKET);
  std::string envelope_wire;
  REQUIRE(only_envelope.SerializeToString(&envelope_wire));
  v1::Event newer;
  REQUIRE(newer.ParseFromString(envelope_wire + unknown_payload));
  CHECK(newer.payload_case() == v1::Event::PAYLOAD_NOT_SET);

  pb::util::JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  v1::Event from_json;
  CHECK(pb::util::JsonStringToMessage(R"({"event_id": "x", "future_field": {"a": 1}})", &from_json, lenient).ok());
  CHECK(from_json.event_id() == "x");
  CHECK_FALSE(pb::util::JsonStringToMessage(R"({"event_id": "x", "future_field": 1})", &from_json).ok());
}

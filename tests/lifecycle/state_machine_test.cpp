// Every (state, event) pair of every lifecycle: legal transitions land in the documented state (docs/events.md),
// every other pair is rejected with a TransitionRejected record and leaves the subject's view unchanged.

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "tests/lifecycle/event_builders.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::env;
using lc::test::t0;

namespace {

using maker = std::function<v1::Event(const std::string& name, const std::string& id, std::int64_t version,
                                      const lc::subject_state& state)>;

struct machine {
  std::string name;
  std::map<std::string, std::vector<std::string>> paths;  // state -> events that reach it from nothing
  std::vector<std::string> events;                        // every event of the kind
  maker make;
  std::map<std::pair<std::string, std::string>, std::string> legal;  // (from, event) -> to
};

// Handoff events come from the handoff service (its own source, no version); content from the platform.
v1::Event make_basket(const std::string& name, const std::string& id, std::int64_t version, const lc::subject_state&) {
  const bool handoff = name.rfind("handoff_", 0) == 0;
  env e;
  e.version = handoff ? 0 : version;
  e.at_ms = t0 + version * 1000;
  if (handoff) {
    e.connector = "passerelle";
    e.account = "handoff";
  }
  v1::Event ev = lc::test::basket(id, e);
  if (name == "snapshot") {
    auto* s = ev.mutable_basket_snapshot();
    s->set_currency("EUR");
    *s->add_lines() = lc::test::line("1", static_cast<int>(version % 5) + 1, 1000);
  } else if (name == "created") {
    ev.mutable_basket_created()->set_currency("EUR");
  } else if (name == "line_added") {
    *ev.mutable_basket_line_added()->mutable_line() = lc::test::line("2", 1, 500);
  } else if (name == "line_changed") {
    *ev.mutable_basket_line_changed()->mutable_line() = lc::test::line("1", 7, 1000);
  } else if (name == "line_removed") {
    ev.mutable_basket_line_removed()->set_line_id("1");
  } else if (name == "prices_changed") {
    auto* c = ev.mutable_basket_prices_changed()->add_changes();
    c->set_line_id("1");
    c->mutable_unit_price()->set_amount_minor(900);
    c->mutable_unit_price()->set_currency("EUR");
  } else if (name == "promotion_applied") {
    ev.mutable_basket_promotion_applied()->mutable_promotion()->set_promotion_id("p1");
  } else if (name == "promotion_removed") {
    ev.mutable_basket_promotion_removed()->set_promotion_id("p1");
  } else if (name == "customer_attached") {
    auto* c = ev.mutable_basket_customer_attached()->add_customers();
    c->set_type(v1::CUSTOMER_REF_TYPE_LOYALTY_ID);
    c->set_scope("club");
    c->set_value("L-" + id);
  } else if (name == "subject_linked") {
    ev.mutable_subject_linked()->set_reference("shopify:shop.example.com:checkout-" + id);
  } else if (name == "handoff_requested") {
    auto* h = ev.mutable_basket_handoff_requested();
    h->set_handoff_id("h-" + id);
    h->mutable_to()->set_store_id("paris-01");
  } else if (name == "handoff_accepted") {
    ev.mutable_basket_handoff_accepted()->set_handoff_id("h-req");
    ev.mutable_basket_handoff_accepted()->set_store_id("paris-01");
  } else if (name == "handoff_completed") {
    ev.mutable_basket_handoff_completed()->set_handoff_id("h-req");
  } else if (name == "handoff_expired") {
    ev.mutable_basket_handoff_expired()->set_handoff_id("h-req");
  } else if (name == "handoff_failed") {
    ev.mutable_basket_handoff_failed()->set_handoff_id("h-req");
  } else if (name == "converted") {
    ev.mutable_basket_converted()->set_order_reference("shopify:shop.example.com:order-" + id);
  } else if (name == "abandoned") {
    ev.mutable_basket_abandoned()->set_reason("deleted_at_till");
  } else if (name == "expired") {
    ev.mutable_basket_expired()->set_reason("platform_expired");
  } else {
    FAIL("unknown basket event " << name);
  }
  return ev;
}

machine basket_machine() {
  machine m;
  m.name = "basket";
  m.paths = {{"unspecified", {}},
             {"active", {"snapshot"}},
             {"handed_off", {"snapshot", "handoff_requested"}},
             {"recalled", {"snapshot", "handoff_requested", "handoff_accepted"}},
             {"converted", {"snapshot", "converted"}},
             {"abandoned", {"snapshot", "abandoned"}},
             {"expired", {"snapshot", "expired"}}};
  m.events = {"snapshot",          "created",         "line_added",        "line_changed",
              "line_removed",      "prices_changed",  "promotion_applied", "promotion_removed",
              "customer_attached", "subject_linked",  "handoff_requested", "handoff_accepted",
              "handoff_completed", "handoff_expired", "handoff_failed",    "converted",
              "abandoned",         "expired"};
  m.make = make_basket;
  const std::vector<std::string> content = {"snapshot",     "created",        "line_added",        "line_changed",
                                            "line_removed", "prices_changed", "promotion_applied", "promotion_removed"};
  for (const auto& s : {"unspecified", "active", "handed_off", "recalled", "converted", "abandoned", "expired"}) {
    m.legal[{s, "customer_attached"}] = s;
    m.legal[{s, "subject_linked"}] = s;
  }
  for (const auto& c : content) {
    m.legal[{"unspecified", c}] = "active";
    m.legal[{"active", c}] = "active";
    m.legal[{"handed_off", c}] = "handed_off";
    m.legal[{"recalled", c}] = "recalled";
    m.legal[{"abandoned", c}] = "active";
  }
  m.legal[{"active", "handoff_requested"}] = "handed_off";
  m.legal[{"active", "converted"}] = "converted";
  m.legal[{"active", "abandoned"}] = "abandoned";
  m.legal[{"active", "expired"}] = "expired";
  m.legal[{"handed_off", "handoff_requested"}] = "handed_off";
  m.legal[{"handed_off", "handoff_accepted"}] = "recalled";
  m.legal[{"handed_off", "handoff_expired"}] = "active";
  m.legal[{"handed_off", "handoff_failed"}] = "active";
  m.legal[{"handed_off", "converted"}] = "converted";
  m.legal[{"recalled", "handoff_completed"}] = "converted";
  m.legal[{"recalled", "converted"}] = "converted";
  m.legal[{"recalled", "abandoned"}] = "abandoned";
  m.legal[{"abandoned", "converted"}] = "converted";
  m.legal[{"abandoned", "expired"}] = "expired";
  return m;
}

v1::Event make_wishlist(const std::string& name, const std::string& id, std::int64_t version,
                        const lc::subject_state&) {
  env e;
  e.version = version;
  e.at_ms = t0 + version * 1000;
  v1::Event ev = lc::test::wishlist(id, e);
  if (name == "created") {
    ev.mutable_wishlist_created()->set_name("Birthday");
  } else if (name == "snapshot") {
    *ev.mutable_wishlist_snapshot()->add_items() = lc::test::line("w" + std::to_string(version), 1, 100);
  } else if (name == "item_added") {
    *ev.mutable_wishlist_item_added()->mutable_item() = lc::test::line("w1", 1, 100);
  } else if (name == "item_removed") {
    ev.mutable_wishlist_item_removed()->set_item_id("w1");
  } else if (name == "converted") {
    ev.mutable_wishlist_converted()->set_order_reference("shopify:shop.example.com:order-" + id);
  } else if (name == "deleted") {
    ev.mutable_wishlist_deleted()->set_reason("customer");
  } else if (name == "subject_linked") {
    ev.mutable_subject_linked()->set_reference("shopify:shop.example.com:list-" + id);
  } else {
    FAIL("unknown wishlist event " << name);
  }
  return ev;
}

machine wishlist_machine() {
  machine m;
  m.name = "wishlist";
  m.paths = {{"unspecified", {}},
             {"active", {"created"}},
             {"converted", {"created", "converted"}},
             {"deleted", {"created", "deleted"}}};
  m.events = {"created", "snapshot", "item_added", "item_removed", "converted", "deleted", "subject_linked"};
  m.make = make_wishlist;
  for (const auto& s : {"unspecified", "active", "converted", "deleted"}) m.legal[{s, "subject_linked"}] = s;
  for (const auto& c : {"created", "snapshot", "item_added", "item_removed"}) {
    m.legal[{"unspecified", c}] = "active";
    m.legal[{"active", c}] = "active";
    m.legal[{"converted", c}] = "active";
  }
  m.legal[{"converted", "created"}] = "converted";  // a header update is not an item change
  m.legal[{"active", "converted"}] = "converted";
  m.legal[{"converted", "converted"}] = "converted";
  m.legal[{"active", "deleted"}] = "deleted";
  m.legal[{"converted", "deleted"}] = "deleted";
  return m;
}

v1::Event make_quote(const std::string& name, const std::string& id, std::int64_t version,
                     const lc::subject_state& state) {
  env e;
  e.version = version;
  e.at_ms = t0 + version * 1000;
  v1::Event ev = lc::test::quote(id, e);
  const auto* q = std::get_if<lc::quote_data>(&state.data);
  const int current = q != nullptr ? q->revision : 0;
  if (name == "requested") {
    ev.mutable_quote_requested()->set_currency("EUR");
    *ev.mutable_quote_requested()->add_lines() = lc::test::line("1", 10, 900);
  } else if (name == "issued") {
    ev.mutable_quote_issued()->mutable_terms()->set_revision(1);
    *ev.mutable_quote_issued()->mutable_terms()->add_lines() = lc::test::line("1", 10, 850);
  } else if (name == "revised") {
    ev.mutable_quote_revised()->mutable_terms()->set_revision(current + 1);
  } else if (name == "accepted") {
    ev.mutable_quote_accepted()->set_revision(current);
  } else if (name == "rejected") {
    ev.mutable_quote_rejected()->set_rejected_by("customer");
  } else if (name == "expired") {
    ev.mutable_quote_expired()->set_revision(current);
  } else if (name == "converted") {
    ev.mutable_quote_converted()->set_order_reference("shopify:shop.example.com:order-" + id);
  } else if (name == "subject_linked") {
    ev.mutable_subject_linked()->set_reference("generic:b2b:quote-" + id);
  } else {
    FAIL("unknown quote event " << name);
  }
  return ev;
}

machine quote_machine() {
  machine m;
  m.name = "quote";
  m.paths = {{"unspecified", {}},
             {"requested", {"requested"}},
             {"issued", {"requested", "issued"}},
             {"revised", {"requested", "issued", "revised"}},
             {"accepted", {"requested", "issued", "accepted"}},
             {"rejected", {"requested", "rejected"}},
             {"expired", {"requested", "issued", "expired"}},
             {"converted", {"requested", "issued", "accepted", "converted"}}};
  m.events = {"requested", "issued", "revised", "accepted", "rejected", "expired", "converted", "subject_linked"};
  m.make = make_quote;
  for (const auto& [s, path] : m.paths) m.legal[{s, "subject_linked"}] = s;
  m.legal[{"unspecified", "requested"}] = "requested";
  m.legal[{"unspecified", "issued"}] = "issued";
  m.legal[{"requested", "issued"}] = "issued";
  m.legal[{"requested", "rejected"}] = "rejected";
  for (const auto& s : {"issued", "revised"}) {
    m.legal[{s, "revised"}] = "revised";
    m.legal[{s, "accepted"}] = "accepted";
    m.legal[{s, "rejected"}] = "rejected";
    m.legal[{s, "expired"}] = "expired";
  }
  m.legal[{"accepted", "converted"}] = "converted";
  return m;
}

v1::Event make_demo(const std::string& name, const std::string& id, std::int64_t version, const lc::subject_state&) {
  env e;
  e.version = version;
  e.at_ms = t0 + version * 1000;
  v1::Event ev = lc::test::demo(id, e);
  if (name == "requested") {
    ev.mutable_demo_requested()->set_kind(v1::DEMO_REQUEST_KIND_APPOINTMENT);
  } else if (name == "scheduled") {
    lc::set_ms(ev.mutable_demo_scheduled()->mutable_scheduled_at(), t0 + 86'400'000);
    ev.mutable_demo_scheduled()->set_store_id("paris-01");
  } else if (name == "done") {
    ev.mutable_demo_done()->set_outcome("interested");
  } else if (name == "no_show") {
    lc::set_ms(ev.mutable_demo_no_show()->mutable_scheduled_at(), t0 + 86'400'000);
  } else if (name == "cancelled") {
    ev.mutable_demo_cancelled()->set_cancelled_by("customer");
  } else if (name == "subject_linked") {
    ev.mutable_subject_linked()->set_reference("generic:shop:demo-" + id);
  } else {
    FAIL("unknown demo event " << name);
  }
  return ev;
}

machine demo_machine() {
  machine m;
  m.name = "demo_request";
  m.paths = {{"unspecified", {}},
             {"requested", {"requested"}},
             {"scheduled", {"requested", "scheduled"}},
             {"done", {"requested", "done"}},
             {"no_show", {"requested", "scheduled", "no_show"}},
             {"cancelled", {"requested", "cancelled"}}};
  m.events = {"requested", "scheduled", "done", "no_show", "cancelled", "subject_linked"};
  m.make = make_demo;
  for (const auto& [s, path] : m.paths) m.legal[{s, "subject_linked"}] = s;
  m.legal[{"unspecified", "requested"}] = "requested";
  m.legal[{"requested", "scheduled"}] = "scheduled";
  m.legal[{"requested", "done"}] = "done";
  m.legal[{"requested", "cancelled"}] = "cancelled";
  m.legal[{"scheduled", "scheduled"}] = "scheduled";
  m.legal[{"scheduled", "done"}] = "done";
  m.legal[{"scheduled", "no_show"}] = "no_show";
  m.legal[{"scheduled", "cancelled"}] = "cancelled";
  m.legal[{"no_show", "scheduled"}] = "scheduled";
  m.legal[{"no_show", "cancelled"}] = "cancelled";
  return m;
}

// Builds the state reached by `path`; handoff requests on the path use the id "h-req".
lc::subject_state reach(const machine& m, const std::vector<std::string>& path, const lc::lifecycle_config& cfg) {
  lc::subject_state st;
  std::int64_t v = 1;
  for (const auto& step : path) {
    v1::Event ev = m.make(step, step == "handoff_requested" ? "req" : "path-" + step, v, st);
    const auto out = lc::fold(st, ev, t0, cfg);
    INFO(m.name << " path step " << step << ": " << out.reason);
    REQUIRE(out.status == lc::fold_status::applied);
    ++v;
  }
  return st;
}

void check_machine(const machine& m) {
  const lc::lifecycle_config cfg;
  std::size_t legal_seen = 0;
  for (const auto& [from, path] : m.paths) {
    {
      const lc::subject_state st = reach(m, path, cfg);
      REQUIRE(lc::status_name(st) == from);
    }
    for (const auto& event : m.events) {
      lc::subject_state st = reach(m, path, cfg);
      const std::string before = lc::encode(st, lc::encode_scope::view);
      const v1::Event ev = m.make(event, "probe-" + event, 100, st);
      const auto out = lc::fold(st, ev, t0, cfg);
      const auto it = m.legal.find({from, event});
      INFO(m.name << ": " << from << " + " << event << " -> " << lc::to_string(out.status) << " " << out.reason);
      if (it != m.legal.end()) {
        ++legal_seen;
        CHECK(out.status == lc::fold_status::applied);
        CHECK(lc::status_name(st) == it->second);
        if (it->second != from) {
          REQUIRE(out.state_change.has_value());
          CHECK(out.state_change->from == from);
          CHECK(out.state_change->to == it->second);
        } else {
          CHECK_FALSE(out.state_change.has_value());
        }
      } else {
        CHECK(out.status == lc::fold_status::rejected);
        CHECK(lc::status_name(st) == from);
        CHECK(lc::encode(st, lc::encode_scope::view) == before);
        REQUIRE(out.derived.size() == 1);
        const auto& rec = out.derived.front();
        REQUIRE(rec.has_transition_rejected());
        CHECK(rec.transition_rejected().from_state() == from);
        CHECK(rec.transition_rejected().rejected_event_id() == ev.event_id());
        CHECK(rec.transition_rejected().event_type() == lc::payload_type_name(ev));
        CHECK(rec.subject_id() == ev.subject_id());
        CHECK(st.common.rejected == 1);
        // The same rejected event again is a duplicate: no second record.
        const auto again = lc::fold(st, ev, t0, cfg);
        CHECK(again.status == lc::fold_status::duplicate);
        CHECK(again.derived.empty());
      }
    }
  }
  CHECK(legal_seen == m.legal.size());
}

}  // namespace

TEST_CASE("basket state machine: every legal and illegal transition", "[lifecycle]") {
  check_machine(basket_machine());
}

TEST_CASE("wishlist state machine: every legal and illegal transition", "[lifecycle]") {
  check_machine(wishlist_machine());
}

TEST_CASE("quote state machine: every legal and illegal transition", "[lifecycle]") { check_machine(quote_machine()); }

TEST_CASE("demo request state machine: every legal and illegal transition", "[lifecycle]") {
  check_machine(demo_machine());
}

TEST_CASE("quote acceptance must name the current revision - revisions must increase", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  const machine m = quote_machine();
  lc::subject_state st = reach(m, {"requested", "issued", "revised"}, cfg);
  REQUIRE(std::get<lc::quote_data>(st.data).revision == 2);
  v1::Event old_accept = lc::test::quote("accept-r1", env{.version = 50});
  old_accept.mutable_quote_accepted()->set_revision(1);
  auto out = lc::fold(st, old_accept, t0, cfg);
  CHECK(out.status == lc::fold_status::rejected);
  CHECK(out.reason_code == "revision_not_current");
  v1::Event stale_revision = lc::test::quote("revise-r2", env{.version = 51});
  stale_revision.mutable_quote_revised()->mutable_terms()->set_revision(2);
  out = lc::fold(st, stale_revision, t0, cfg);
  CHECK(out.status == lc::fold_status::rejected);
  CHECK(out.reason_code == "revision_not_newer");
  CHECK(lc::status_name(st) == "revised");
}

TEST_CASE("demo request keeps its kind - a handoff accept for another handoff is rejected", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  lc::subject_state d = reach(demo_machine(), {"requested"}, cfg);
  CHECK(std::get<lc::demo_data>(d.data).kind == v1::DEMO_REQUEST_KIND_APPOINTMENT);

  lc::subject_state b = reach(basket_machine(), {"snapshot", "handoff_requested"}, cfg);
  v1::Event wrong = lc::test::basket("accept-other", env{.connector = "passerelle", .account = "handoff"});
  wrong.mutable_basket_handoff_accepted()->set_handoff_id("h-unknown");
  const auto out = lc::fold(b, wrong, t0, cfg);
  CHECK(out.status == lc::fold_status::rejected);
  CHECK(out.reason_code == "handoff_unknown");
  CHECK(lc::status_name(b) == "handed_off");
}

TEST_CASE("malformed events are invalid not folded", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  lc::subject_state st = reach(basket_machine(), {"snapshot"}, cfg);
  v1::Event no_id = lc::test::basket("");
  no_id.mutable_basket_created();
  CHECK(lc::fold(st, no_id, t0, cfg).status == lc::fold_status::invalid);
  v1::Event other_subject = lc::test::envelope(v1::SUBJECT_KIND_BASKET, "bsk_2", "e-x", env{});
  other_subject.mutable_basket_created();
  CHECK(lc::fold(st, other_subject, t0, cfg).reason_code == "subject_mismatch");
  v1::Event wrong_kind = lc::test::basket("e-y");
  wrong_kind.mutable_quote_requested();
  CHECK(lc::fold(st, wrong_kind, t0, cfg).reason_code == "payload_kind_mismatch");
  v1::Event interest = lc::test::envelope(v1::SUBJECT_KIND_INTEREST, "int_1", "e-z", env{});
  interest.mutable_product_viewed();
  lc::subject_state fresh;
  CHECK(lc::fold(fresh, interest, t0, cfg).status == lc::fold_status::ignored);
  v1::Event unknown_payload = lc::test::basket("e-w");
  CHECK(lc::fold(st, unknown_payload, t0, cfg).status == lc::fold_status::ignored);
  CHECK(st.common.version == 1);
}

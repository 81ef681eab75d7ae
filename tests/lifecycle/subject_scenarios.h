#pragma once
// Random scenarios for the property tests of wishlists, quotes and demo requests
// (tests/lifecycle/subject_property_test.cpp), and the arrival orders docs/lifecycle.md allows for each:
// - quotes and demo requests: a legal chain of transitions (docs/events.md "Lifecycles"), always delivered in causal
//   order ("Transitions are causal"), with redeliveries (copies of earlier events) inserted later; optionally one
//   illegal event inserted at a random point (a stale revision, anything after a terminal state, ...);
// - wishlists: content events of one platform with increasing source versions (snapshots, created, item added /
//   removed, links), delivered in any order with redeliveries, and maybe a deletion at the platform's newest
//   version (content arriving after it is late content).
// Every delivery says which outcome docs/lifecycle.md promises for it.

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/lifecycle/basket_scenarios.h"
#include "tests/lifecycle/event_builders.h"

namespace passerelle::lifecycle::test {

// The outcome docs/lifecycle.md promises for one delivery.
enum class expect : std::uint8_t {
  applied,           // a legal transition in causal order
  applied_or_stale,  // versioned content in any order: stale when its source already gave something newer
  duplicate,         // a redelivery within the dedup window
  rejected,          // an illegal transition: one TransitionRejected, state unchanged
};

struct delivery {
  v1::Event event;
  expect outcome = expect::applied;
  std::string reason_code;  // for `rejected`: the reason_code docs/lifecycle.md names
};

// One step of a quote's or demo request's chain and the state the machine is in after it.
struct step {
  v1::Event event;
  std::string status;         // status_name() after the step
  std::int32_t revision = 0;  // quotes: current revision after the step
};

struct subject_chain {
  std::string subject;
  std::vector<step> steps;                                       // causal order
  v1::DemoRequestKind kind = v1::DEMO_REQUEST_KIND_UNSPECIFIED;  // demo requests: the requested kind
  std::uint32_t schedules = 0;                                   // demo requests: DemoScheduled count
  const std::string& final_status() const { return steps.back().status; }
  std::int32_t final_revision() const { return steps.back().revision; }
};

// ---- quotes ----

// The customer side (web form, acceptance) and the merchant side (ERP: offers, revisions, expiry, orders).
inline env quote_customer_env(std::int64_t version, std::int64_t at_ms) {
  return env{.version = version, .at_ms = at_ms};
}
inline env quote_merchant_env(std::int64_t version, std::int64_t at_ms) {
  return env{.connector = "generic", .account = "b2b", .version = version, .at_ms = at_ms};
}

inline v1::QuoteTerms random_terms(std::mt19937_64& rng, std::int32_t revision, std::int64_t at_ms) {
  v1::QuoteTerms t;
  t.set_revision(revision);
  t.set_quote_number("Q-2024-" + std::to_string(uniform(rng, 1, 99)));
  std::vector<std::string> seen;
  for (int i = uniform(rng, 1, 3); i > 0; --i) {
    v1::Line l = random_line(rng);
    if (std::find(seen.begin(), seen.end(), l.line_id()) != seen.end()) continue;
    seen.push_back(l.line_id());
    *t.add_lines() = l;
  }
  maybe_totals(rng, t.mutable_totals());
  if (uniform(rng, 0, 1) == 1) set_ms(t.mutable_valid_until(), at_ms + std::int64_t{uniform(rng, 1, 30)} * 86'400'000);
  if (uniform(rng, 0, 1) == 1) t.set_notes("Payment at 30 days");
  if (uniform(rng, 0, 1) == 1) t.set_url("https://b2b.example.com/quotes/" + std::to_string(revision));
  return t;
}

// A legal quote chain: QuoteRequested (maybe declined by the merchant) or a merchant-initiated QuoteIssued, then
// revisions with increasing revision numbers, then maybe accepted (maybe converted), rejected or expired; links
// (SubjectLinked, legal in any state) now and then.
inline subject_chain make_quote_chain(std::mt19937_64& rng, const std::string& subject) {
  subject_chain c;
  c.subject = subject;
  const bool merchant_versions = uniform(rng, 0, 3) != 0;  // some ERPs send no versions (0: log order)
  std::int64_t n = 0;
  std::string status = "unspecified";
  std::int32_t revision = 0;
  const auto next = [&](bool merchant) {
    ++n;
    const std::int64_t at = t0 + n * 1000;
    const std::int64_t version = merchant && !merchant_versions ? 0 : 1000 + n;
    v1::Event ev = envelope(v1::SUBJECT_KIND_QUOTE, subject, subject + "-e" + std::to_string(n),
                            merchant ? quote_merchant_env(version, at) : quote_customer_env(version, at));
    if (n == 1) {
      ev.add_references(merchant ? "generic:b2b:quote-" + subject : "shopify:shop.example.com:quote-" + subject);
      auto* cust = ev.add_customers();
      cust->set_type(v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
      cust->set_value("e3b0c442" + std::to_string(uniform(rng, 1, 3)));
    }
    return ev;
  };
  const auto push = [&](v1::Event ev) {
    c.steps.push_back(step{std::move(ev), status, revision});
    if (uniform(rng, 0, 6) == 0) {  // a link, from either side, in any state
      v1::Event link = next(uniform(rng, 0, 1) == 1);
      link.mutable_subject_linked()->set_reference("generic:b2b:opportunity-" + std::to_string(uniform(rng, 1, 3)));
      c.steps.push_back(step{std::move(link), status, revision});
    }
  };
  const auto issue = [&] {
    v1::Event ev = next(true);
    revision = 1;
    *ev.mutable_quote_issued()->mutable_terms() = random_terms(rng, revision, t0 + n * 1000);
    status = "issued";
    push(std::move(ev));
  };
  if (uniform(rng, 0, 9) < 7) {
    v1::Event ev = next(false);
    auto* r = ev.mutable_quote_requested();
    r->set_currency("EUR");
    for (int i = uniform(rng, 0, 3); i > 0; --i) {
      v1::Line l = random_line(rng);
      l.set_line_id(std::to_string(i));  // distinct ids
      *r->add_lines() = l;
    }
    r->set_message("Price for 40 units?");
    if (uniform(rng, 0, 1) == 1) r->set_company("ACME SARL");
    status = "requested";
    push(std::move(ev));
    const int what = uniform(rng, 0, 9);
    if (what == 0) {  // the merchant declines before any offer
      v1::Event rej = next(true);
      rej.mutable_quote_rejected()->set_revision(0);
      rej.mutable_quote_rejected()->set_rejected_by("merchant");
      status = "rejected";
      push(std::move(rej));
      return c;
    }
    if (what == 1) return c;  // still waiting for an offer
  }
  issue();
  for (int r = uniform(rng, 0, 3); r > 0; --r) {
    v1::Event ev = next(true);
    revision += uniform(rng, 1, 2);  // greater than the current one (docs/lifecycle.md)
    *ev.mutable_quote_revised()->mutable_terms() = random_terms(rng, revision, t0 + n * 1000);
    ev.mutable_quote_revised()->set_reason(pick<const char*>(rng, {"discount", "quantity", "delivery"}));
    status = "revised";
    push(std::move(ev));
  }
  const int end = uniform(rng, 0, 9);
  if (end < 2) return c;  // an open offer
  if (end < 6) {
    v1::Event acc = next(false);
    acc.mutable_quote_accepted()->set_revision(revision);
    status = "accepted";
    push(std::move(acc));
    if (uniform(rng, 0, 1) == 1) {
      v1::Event conv = next(true);
      auto* p = conv.mutable_quote_converted();
      p->set_revision(revision);
      p->set_order_reference("generic:b2b:order-" + subject);
      p->set_order_number("SO-" + std::to_string(uniform(rng, 100, 999)));
      maybe_totals(rng, p->mutable_totals());
      status = "converted";
      push(std::move(conv));
    }
  } else if (end < 8) {
    const bool by_customer = uniform(rng, 0, 1) == 1;
    v1::Event rej = next(!by_customer);
    rej.mutable_quote_rejected()->set_revision(revision);
    rej.mutable_quote_rejected()->set_rejected_by(by_customer ? "customer" : "merchant");
    rej.mutable_quote_rejected()->set_reason("too expensive");
    status = "rejected";
    push(std::move(rej));
  } else {
    v1::Event exp = next(true);
    exp.mutable_quote_expired()->set_revision(revision);
    set_ms(exp.mutable_quote_expired()->mutable_valid_until(), t0 + n * 1000);
    status = "expired";
    push(std::move(exp));
  }
  return c;
}

// An event that is not a legal transition from `status` (quote at `revision`), with the reason docs/lifecycle.md
// gives: anything but SubjectLinked after a terminal state, a stale or future revision accepted, a revision not
// newer than the current one, a second request or offer, a conversion before an acceptance...
inline delivery illegal_quote(std::mt19937_64& rng, const std::string& subject, const std::string& id,
                              const std::string& status, std::int32_t revision) {
  // A high version: if the rejected event were wrongly counted, the source marks (in the view) would show it.
  v1::Event ev = envelope(v1::SUBJECT_KIND_QUOTE, subject, id, quote_customer_env(9000, t0 + 500));
  std::string reason = "illegal_transition";
  std::vector<std::string> choices;
  if (status == "unspecified") {
    choices = {"revised", "accepted", "rejected", "expired", "converted"};
  } else if (status == "requested") {
    choices = {"requested", "revised", "accepted", "expired", "converted"};
  } else if (status == "issued" || status == "revised") {
    choices = {"requested", "issued", "converted", "accepted_stale", "revised_not_newer"};
  } else if (status == "accepted") {
    choices = {"requested", "issued", "revised", "accepted", "rejected", "expired"};
  } else {  // rejected, expired, converted: terminal, every quote event is illegal
    choices = {"requested", "issued", "revised", "accepted", "rejected", "expired", "converted"};
  }
  const std::string what = choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(rng)];
  if (what == "requested") {
    ev.mutable_quote_requested()->set_currency("EUR");
  } else if (what == "issued") {
    *ev.mutable_quote_issued()->mutable_terms() = random_terms(rng, 1, t0);
  } else if (what == "revised") {
    *ev.mutable_quote_revised()->mutable_terms() = random_terms(rng, revision + 1, t0);
  } else if (what == "revised_not_newer") {
    *ev.mutable_quote_revised()->mutable_terms() = random_terms(rng, uniform(rng, 0, revision), t0);
    reason = "revision_not_newer";
  } else if (what == "accepted") {
    ev.mutable_quote_accepted()->set_revision(revision);
  } else if (what == "accepted_stale") {
    const int other = uniform(rng, 0, revision + 1);
    ev.mutable_quote_accepted()->set_revision(other == revision ? revision + 1 : other);
    reason = "revision_not_current";
  } else if (what == "rejected") {
    ev.mutable_quote_rejected()->set_revision(revision);
    ev.mutable_quote_rejected()->set_rejected_by("customer");
  } else if (what == "expired") {
    ev.mutable_quote_expired()->set_revision(revision);
  } else {
    ev.mutable_quote_converted()->set_revision(revision);
    ev.mutable_quote_converted()->set_order_reference("generic:b2b:order-late-" + subject);
  }
  return delivery{std::move(ev), expect::rejected, reason};
}

// ---- demo / information / appointment requests ----

inline env demo_customer_env(std::int64_t version, std::int64_t at_ms) {
  return env{.version = version, .at_ms = at_ms};
}
inline env demo_store_env(std::int64_t version, std::int64_t at_ms) {
  return env{
      .connector = "generic", .account = "agenda", .version = version, .at_ms = at_ms, .channel = v1::CHANNEL_STORE};
}

// A legal demo request chain: DemoRequested (demo, information or appointment), then scheduled (maybe rescheduled,
// maybe a no-show and a rebooking), then done / no_show / cancelled, or still open; links now and then.
inline subject_chain make_demo_chain(std::mt19937_64& rng, const std::string& subject) {
  subject_chain c;
  c.subject = subject;
  c.kind =
      pick(rng, {v1::DEMO_REQUEST_KIND_DEMO, v1::DEMO_REQUEST_KIND_INFORMATION, v1::DEMO_REQUEST_KIND_APPOINTMENT});
  std::int64_t n = 0;
  std::int64_t slot_ms = 0;  // the current slot, for DemoNoShow
  std::string status = "unspecified";
  const auto next = [&](bool store) {
    ++n;
    const std::int64_t at = t0 + n * 1000;
    v1::Event ev = envelope(v1::SUBJECT_KIND_DEMO_REQUEST, subject, subject + "-e" + std::to_string(n),
                            store ? demo_store_env(1000 + n, at) : demo_customer_env(1000 + n, at));
    if (n == 1) ev.add_references("shopify:shop.example.com:contact-" + subject);
    return ev;
  };
  const auto push = [&](v1::Event ev) {
    c.steps.push_back(step{std::move(ev), status, 0});
    if (uniform(rng, 0, 6) == 0) {
      v1::Event link = next(uniform(rng, 0, 1) == 1);
      link.mutable_subject_linked()->set_reference("generic:agenda:booking-" + std::to_string(uniform(rng, 1, 3)));
      c.steps.push_back(step{std::move(link), status, 0});
    }
  };
  {
    v1::Event ev = next(false);
    auto* r = ev.mutable_demo_requested();
    r->set_kind(c.kind);
    for (int i = uniform(rng, 0, 2); i > 0; --i) {
      auto* p = r->add_products();
      p->set_sku("SKU-" + std::to_string(uniform(rng, 1, 6)));
      p->set_title("Product");
    }
    r->set_message("Can I try it?");
    if (uniform(rng, 0, 1) == 1) set_ms(r->mutable_preferred_at(), t0 + std::int64_t{3} * 86'400'000);
    if (uniform(rng, 0, 1) == 1) r->set_preferred_store_id("paris-01");
    r->set_contact_mode(pick(rng, {v1::CONTACT_MODE_UNSPECIFIED, v1::CONTACT_MODE_IN_STORE, v1::CONTACT_MODE_PHONE,
                                   v1::CONTACT_MODE_VIDEO}));
    r->set_locale("fr-FR");
    auto* cust = ev.add_customers();
    cust->set_type(v1::CUSTOMER_REF_TYPE_PHONE_SHA256);
    cust->set_value("9f86d081" + std::to_string(uniform(rng, 1, 3)));
    status = "requested";
    push(std::move(ev));
  }
  const auto schedule = [&] {
    v1::Event ev = next(true);
    auto* s = ev.mutable_demo_scheduled();
    slot_ms = t0 + std::int64_t{uniform(rng, 1, 10)} * 86'400'000;
    set_ms(s->mutable_scheduled_at(), slot_ms);
    s->mutable_duration()->set_seconds(60LL * pick(rng, {15, 30, 60}));
    if (uniform(rng, 0, 1) == 1) s->set_store_id(pick<const char*>(rng, {"paris-01", "lyon-02"}));
    s->set_assignee_id("staff-" + std::to_string(uniform(rng, 1, 4)));
    s->set_contact_mode(pick(rng, {v1::CONTACT_MODE_UNSPECIFIED, v1::CONTACT_MODE_IN_STORE, v1::CONTACT_MODE_VIDEO}));
    if (s->contact_mode() == v1::CONTACT_MODE_VIDEO) s->set_meeting_url("https://meet.example.com/" + subject);
    ++c.schedules;
    status = "scheduled";
    push(std::move(ev));
  };
  const auto done = [&] {
    v1::Event ev = next(true);
    ev.mutable_demo_done()->set_outcome(pick<const char*>(rng, {"interested", "bought", "not_interested"}));
    if (uniform(rng, 0, 2) == 0) ev.mutable_demo_done()->set_basket_id("bsk_" + subject);
    status = "done";
    push(std::move(ev));
  };
  const auto cancel = [&] {
    const bool by_customer = uniform(rng, 0, 1) == 1;
    v1::Event ev = next(!by_customer);
    ev.mutable_demo_cancelled()->set_cancelled_by(by_customer ? "customer" : "merchant");
    status = "cancelled";
    push(std::move(ev));
  };
  for (int i = 0; i < 6 && status != "done" && status != "cancelled"; ++i) {
    const int r = uniform(rng, 0, 99);
    if (status == "requested") {
      if (r < 50) {
        schedule();
      } else if (r < 65) {
        done();  // an information request answered at once
      } else if (r < 80) {
        cancel();
      } else {
        break;
      }
    } else if (status == "scheduled") {
      if (r < 20) {
        schedule();  // rescheduled
      } else if (r < 50) {
        done();
      } else if (r < 70) {
        v1::Event ev = next(true);
        set_ms(ev.mutable_demo_no_show()->mutable_scheduled_at(), slot_ms);
        status = "no_show";
        push(std::move(ev));
      } else if (r < 85) {
        cancel();
      } else {
        break;
      }
    } else {  // no_show
      if (r < 50) {
        schedule();  // rebooked
      } else if (r < 80) {
        cancel();
      } else {
        break;
      }
    }
  }
  return c;
}

// An event that is not a legal transition from `status`: any demo event after done / cancelled, a second request,
// a no-show before a slot, completion after a no-show...
inline delivery illegal_demo(std::mt19937_64& rng, const std::string& subject, const std::string& id,
                             const std::string& status) {
  v1::Event ev = envelope(v1::SUBJECT_KIND_DEMO_REQUEST, subject, id, demo_store_env(9000, t0 + 500));
  std::vector<std::string> choices;
  if (status == "unspecified") {
    choices = {"scheduled", "done", "no_show", "cancelled"};
  } else if (status == "requested") {
    choices = {"requested", "no_show"};
  } else if (status == "scheduled") {
    choices = {"requested"};
  } else if (status == "no_show") {
    choices = {"requested", "done", "no_show"};
  } else {  // done, cancelled: terminal
    choices = {"requested", "scheduled", "done", "no_show", "cancelled"};
  }
  const std::string what = choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(rng)];
  if (what == "requested") {
    ev.mutable_demo_requested()->set_kind(v1::DEMO_REQUEST_KIND_INFORMATION);
  } else if (what == "scheduled") {
    set_ms(ev.mutable_demo_scheduled()->mutable_scheduled_at(), t0 + 86'400'000);
    ev.mutable_demo_scheduled()->set_store_id("marseille-03");
  } else if (what == "done") {
    ev.mutable_demo_done()->set_outcome("bought");
  } else if (what == "no_show") {
    set_ms(ev.mutable_demo_no_show()->mutable_scheduled_at(), t0 + 86'400'000);
  } else {
    ev.mutable_demo_cancelled()->set_cancelled_by("merchant");
  }
  return delivery{std::move(ev), expect::rejected, "illegal_transition"};
}

// ---- arrival orders of a chain ----

// Redeliveries: copies of random earlier deliveries inserted later (expected `duplicate`: the streams stay far
// below the dedup window of 64 events).
inline void add_redeliveries(std::mt19937_64& rng, std::vector<delivery>& out, int max_copies) {
  for (int d = uniform(rng, 0, max_copies); d > 0 && !out.empty(); --d) {
    const auto from = std::uniform_int_distribution<std::size_t>(0, out.size() - 1)(rng);
    const auto to = std::uniform_int_distribution<std::size_t>(from + 1, out.size())(rng);
    delivery copy{out[from].event, expect::duplicate, {}};
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(to), std::move(copy));
  }
}

// The chain in causal order, nothing else.
inline std::vector<delivery> causal(const subject_chain& c) {
  std::vector<delivery> out;
  out.reserve(c.steps.size());
  for (const auto& s : c.steps) out.push_back(delivery{s.event, expect::applied, {}});
  return out;
}

// The chain in causal order with redeliveries.
inline std::vector<delivery> redelivered(std::mt19937_64& rng, const subject_chain& c) {
  std::vector<delivery> out = causal(c);
  add_redeliveries(rng, out, 5);
  return out;
}

// The chain in causal order with one illegal event at a random point (before the first step included), then
// redeliveries (the illegal one may be redelivered too: a duplicate, not a second rejection).
template <typename MakeIllegal>
std::vector<delivery> with_illegal(std::mt19937_64& rng, const subject_chain& c, MakeIllegal make_illegal) {
  std::vector<delivery> out = causal(c);
  const auto at = std::uniform_int_distribution<std::size_t>(0, c.steps.size())(rng);
  const std::string status = at == 0 ? "unspecified" : c.steps[at - 1].status;
  const std::int32_t revision = at == 0 ? 0 : c.steps[at - 1].revision;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), make_illegal(status, revision));
  add_redeliveries(rng, out, 3);
  return out;
}

// ---- wishlists ----

struct wishlist_scenario {
  std::string subject;
  std::vector<v1::Event> content;  // the platform's events, source_version 1001..1000+n (in version order)
  // WishlistDeleted or WishlistConverted at the platform's newest version: content arriving after it is late.
  std::optional<v1::Event> deletion;
};

inline v1::Line random_item(std::mt19937_64& rng) {
  v1::Line l = line(std::to_string(uniform(rng, 1, 6)), uniform(rng, 1, 3), pick<std::int64_t>(rng, {500, 1000, 1990}));
  if (uniform(rng, 0, 1) == 1) l.clear_line_total();  // wishlist items usually have none
  return l;
}

inline wishlist_scenario make_wishlist_scenario(std::mt19937_64& rng, const std::string& subject) {
  wishlist_scenario s;
  s.subject = subject;
  const int n = uniform(rng, 2, 16);
  for (int v = 1; v <= n; ++v) {
    v1::Event ev = envelope(v1::SUBJECT_KIND_WISHLIST, subject, subject + "-v" + std::to_string(v),
                            env{.version = 1000 + v, .at_ms = t0 + std::int64_t{v} * 1000});
    if (v == 1) ev.add_references("shopify:shop.example.com:wishlist-" + subject);
    const int kind = v == 1 ? uniform(rng, 0, 89) : uniform(rng, 0, 99);  // the first one creates the wishlist
    if (kind < 35) {
      auto* snap = ev.mutable_wishlist_snapshot();
      snap->set_name(pick<const char*>(rng, {"Birthday", "Christmas"}));
      snap->set_is_public(uniform(rng, 0, 1) == 1);
      std::vector<std::string> seen;
      for (int i = uniform(rng, 0, 4); i > 0; --i) {
        v1::Line l = random_item(rng);
        if (std::find(seen.begin(), seen.end(), l.line_id()) != seen.end()) continue;
        seen.push_back(l.line_id());
        *snap->add_items() = l;
      }
    } else if (kind < 45) {
      ev.mutable_wishlist_created()->set_name(pick<const char*>(rng, {"Birthday", "Later"}));
      ev.mutable_wishlist_created()->set_is_public(uniform(rng, 0, 1) == 1);
    } else if (kind < 70) {
      *ev.mutable_wishlist_item_added()->mutable_item() = random_item(rng);
    } else if (kind < 90) {
      v1::Line prev = random_item(rng);
      ev.mutable_wishlist_item_removed()->set_item_id(prev.line_id());
      if (uniform(rng, 0, 1) == 1) *ev.mutable_wishlist_item_removed()->mutable_previous() = prev;
    } else {
      ev.mutable_subject_linked()->set_reference("shopify:shop.example.com:share-" +
                                                 std::to_string(uniform(rng, 1, 3)));
    }
    if (uniform(rng, 0, 9) == 0) {  // the customer logged in meanwhile
      auto* c = ev.add_customers();
      c->set_type(v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
      c->set_scope("shopify:shop.example.com");
      c->set_value("C-" + std::to_string(uniform(rng, 1, 3)));
    }
    s.content.push_back(std::move(ev));
  }
  if (uniform(rng, 0, 2) == 0) {
    v1::Event del = envelope(v1::SUBJECT_KIND_WISHLIST, subject, subject + "-ended",
                             env{.version = 1000 + n + 1, .at_ms = t0 + std::int64_t{n + 1} * 1000});
    if (uniform(rng, 0, 1) == 0) {
      del.mutable_wishlist_deleted()->set_reason("customer");
    } else {
      del.mutable_wishlist_converted()->set_order_reference("shopify:shop.example.com:order-" + subject);
    }
    s.deletion = std::move(del);
  }
  return s;
}

// Inserts the deletion at a random position after the first event that makes the wishlist exist (a link alone does
// not), or last.
inline void insert_deletion(std::mt19937_64& rng, std::vector<delivery>& out, const v1::Event& deletion, bool last) {
  std::size_t lo = out.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].event.has_subject_linked()) {
      lo = i + 1;
      break;
    }
  }
  const std::size_t pos = last ? out.size() : std::uniform_int_distribution<std::size_t>(lo, out.size())(rng);
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), delivery{deletion, expect::applied, {}});
}

// Version order, the deletion last: every event applies.
inline std::vector<delivery> wishlist_in_order(std::mt19937_64& rng, const wishlist_scenario& s) {
  std::vector<delivery> out;
  for (const auto& ev : s.content) out.push_back(delivery{ev, expect::applied, {}});
  if (s.deletion) insert_deletion(rng, out, *s.deletion, true);
  return out;
}

// Any order of the content, the deletion anywhere after the wishlist exists, redeliveries.
inline std::vector<delivery> wishlist_perturbed(std::mt19937_64& rng, const wishlist_scenario& s) {
  std::vector<v1::Event> content = s.content;
  std::shuffle(content.begin(), content.end(), rng);
  std::vector<delivery> out;
  for (auto& ev : content) out.push_back(delivery{std::move(ev), expect::applied_or_stale, {}});
  if (s.deletion) insert_deletion(rng, out, *s.deletion, false);
  add_redeliveries(rng, out, 5);
  return out;
}

}  // namespace passerelle::lifecycle::test

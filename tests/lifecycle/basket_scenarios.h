#pragma once
// Random basket scenarios for property and crash tests: one basket's platform events (snapshots, line, customer
// and link events with increasing source versions) plus its causally ordered transitions (handoff chain, maybe a
// conversion), and the arrival orders docs/lifecycle.md ("Ordering") allows: in order, or perturbed (content
// shuffled, transitions kept in order after the first creating event, redeliveries added). Used by
// tests/lifecycle/fold_property_test.cpp and tests/engine/engine_kafka_crash_test.cpp.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/lifecycle/event_builders.h"

namespace passerelle::lifecycle::test {

// The property tests' base seed: PASSERELLE_PROPERTY_SEED when set (to replay a failure), else a fixed one.
inline std::uint64_t property_base_seed() {
  if (const char* s = std::getenv("PASSERELLE_PROPERTY_SEED")) return std::strtoull(s, nullptr, 10);
  return 20240603;
}

struct scenario {
  std::vector<v1::Event> content;      // platform events, source_version 1..n (in version order)
  std::vector<v1::Event> transitions;  // lifecycle transitions, causally ordered
  bool ends_converted = false;
};

template <typename T>
inline T pick(std::mt19937_64& rng, std::initializer_list<T> values) {
  std::uniform_int_distribution<std::size_t> d(0, values.size() - 1);
  return *(values.begin() + static_cast<std::ptrdiff_t>(d(rng)));
}

inline int uniform(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

inline v1::Line random_line(std::mt19937_64& rng) {
  return line(std::to_string(uniform(rng, 1, 6)), uniform(rng, 1, 5), pick<std::int64_t>(rng, {500, 1000, 1990}));
}

inline void maybe_totals(std::mt19937_64& rng, v1::Totals* t) {
  t->mutable_total()->set_amount_minor(uniform(rng, 0, 100000));
  t->mutable_total()->set_currency("EUR");
}

inline scenario make_scenario(std::mt19937_64& rng, const std::string& subject) {
  scenario s;
  const int n = uniform(rng, 2, 16);
  for (int v = 1; v <= n; ++v) {
    v1::Event ev = envelope(v1::SUBJECT_KIND_BASKET, subject, subject + "-v" + std::to_string(v),
                            env{.version = 1000 + v, .at_ms = t0 + std::int64_t{v} * 1000});
    if (v == 1) ev.add_references("shopify:shop.example.com:cart-" + subject);
    const int kind = v == 1 ? uniform(rng, 0, 59) : uniform(rng, 0, 99);  // the first one creates the basket
    if (kind < 40) {
      auto* snap = ev.mutable_basket_snapshot();
      snap->set_currency("EUR");
      snap->set_checkout_url("https://shop.example.com/cart/" + std::to_string(v));
      std::vector<std::string> seen;
      for (int i = uniform(rng, 0, 4); i > 0; --i) {
        v1::Line l = random_line(rng);
        if (std::find(seen.begin(), seen.end(), l.line_id()) != seen.end()) continue;
        seen.push_back(l.line_id());
        *snap->add_lines() = l;
      }
      maybe_totals(rng, snap->mutable_totals());
    } else if (kind < 60) {
      *ev.mutable_basket_line_added()->mutable_line() = random_line(rng);
      if (uniform(rng, 0, 1) == 1) maybe_totals(rng, ev.mutable_basket_line_added()->mutable_totals());
    } else if (kind < 75) {
      *ev.mutable_basket_line_changed()->mutable_line() = random_line(rng);
    } else if (kind < 85) {
      ev.mutable_basket_line_removed()->set_line_id(std::to_string(uniform(rng, 1, 6)));
      if (uniform(rng, 0, 1) == 1) maybe_totals(rng, ev.mutable_basket_line_removed()->mutable_totals());
    } else if (kind < 95) {
      auto* c = ev.mutable_basket_customer_attached()->add_customers();
      c->set_type(v1::CUSTOMER_REF_TYPE_LOYALTY_ID);
      c->set_scope("club");
      c->set_value("L-" + std::to_string(uniform(rng, 1, 3)));
      *ev.add_customers() = *c;
    } else {
      ev.mutable_subject_linked()->set_reference("shopify:shop.example.com:checkout-" +
                                                 std::to_string(uniform(rng, 1, 3)));
    }
    s.content.push_back(std::move(ev));
  }
  // Transitions from the handoff service and the till (their own sources, no versions), causally ordered.
  const auto handoff = [&](int i) {
    v1::Event ev = envelope(v1::SUBJECT_KIND_BASKET, subject, subject + "-t" + std::to_string(i),
                            env{.connector = "passerelle",
                                .account = "handoff",
                                .at_ms = t0 + 500 + std::int64_t{i} * 700,
                                .channel = v1::CHANNEL_STORE});
    return ev;
  };
  int i = 0;
  const int chain = uniform(rng, 0, 5);
  std::string pending;
  if (chain >= 1) {
    v1::Event req = handoff(i++);
    req.mutable_basket_handoff_requested()->set_handoff_id("h1");
    req.mutable_basket_handoff_requested()->mutable_to()->set_store_id("paris-01");
    pending = "h1";
    s.transitions.push_back(std::move(req));
  }
  if (chain == 5) {  // a second request replaces the first
    v1::Event req = handoff(i++);
    req.mutable_basket_handoff_requested()->set_handoff_id("h2");
    req.mutable_basket_handoff_requested()->mutable_to()->set_store_id("lyon-02");
    pending = "h2";
    s.transitions.push_back(std::move(req));
  }
  if (chain == 2) {
    v1::Event ev = handoff(i++);
    ev.mutable_basket_handoff_expired()->set_handoff_id(pending);
    s.transitions.push_back(std::move(ev));
  } else if (chain == 3) {
    v1::Event ev = handoff(i++);
    ev.mutable_basket_handoff_failed()->set_handoff_id(pending);
    ev.mutable_basket_handoff_failed()->set_reason_code("store_unknown");
    s.transitions.push_back(std::move(ev));
  } else if (chain >= 4) {
    v1::Event ev = handoff(i++);
    ev.mutable_basket_handoff_accepted()->set_handoff_id(pending);
    ev.mutable_basket_handoff_accepted()->set_store_id(pending == "h1" ? "paris-01" : "lyon-02");
    ev.mutable_basket_handoff_accepted()->set_target_reference("poslog:paris-01:1-2024-06-03-" + subject);
    s.transitions.push_back(std::move(ev));
  }
  if (uniform(rng, 0, 2) == 0) {  // the platform reports the order, with its newest version
    v1::Event conv = envelope(v1::SUBJECT_KIND_BASKET, subject, subject + "-order",
                              env{.version = 1000 + n + 1, .at_ms = t0 + std::int64_t{n + 1} * 1000});
    conv.mutable_basket_converted()->set_kind(v1::CONVERSION_KIND_ORDER);
    conv.mutable_basket_converted()->set_order_reference("shopify:shop.example.com:order-" + subject);
    s.transitions.push_back(std::move(conv));
    s.ends_converted = true;
  }
  return s;
}

// Merges transitions (kept in order) into `content` at random positions; position 0 stays a content event (the
// handoff service only hands off a basket the engine already shows). `converted_last` pins a conversion last.
inline std::vector<v1::Event> interleave(std::mt19937_64& rng, std::vector<v1::Event> content,
                                         const std::vector<v1::Event>& transitions, bool converted_last) {
  std::vector<v1::Event> out = std::move(content);
  // After the first event that makes the basket exist (customer/link events alone do not).
  std::size_t lo = 1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].has_basket_customer_attached() && !out[i].has_subject_linked()) {
      lo = i + 1;
      break;
    }
  }
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    const bool last = converted_last && i + 1 == transitions.size() && transitions[i].has_basket_converted();
    const std::size_t pos = last ? out.size() : std::uniform_int_distribution<std::size_t>(lo, out.size())(rng);
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), transitions[i]);
    lo = pos + 1;
  }
  return out;
}

inline std::vector<v1::Event> in_order(std::mt19937_64& rng, const scenario& s) {
  return interleave(rng, s.content, s.transitions, true);
}

inline std::vector<v1::Event> perturbed(std::mt19937_64& rng, const scenario& s) {
  std::vector<v1::Event> content = s.content;
  std::shuffle(content.begin(), content.end(), rng);
  std::vector<v1::Event> out = interleave(rng, std::move(content), s.transitions, false);
  // Redeliveries: copies of random events later in the stream.
  for (int d = uniform(rng, 0, 4); d > 0; --d) {
    const auto from = std::uniform_int_distribution<std::size_t>(0, out.size() - 1)(rng);
    const auto to = std::uniform_int_distribution<std::size_t>(from + 1, out.size())(rng);
    v1::Event copy = out[from];
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(to), std::move(copy));
  }
  return out;
}

}  // namespace passerelle::lifecycle::test

// The compact state encoding: exact round trip for every kind, refusal of damaged input, and the size of a
// typical basket (printed, not asserted on time).

#include <catch2/catch.hpp>

#include <iostream>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "broker/lifecycle/timers.h"
#include "tests/lifecycle/event_builders.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::env;
using lc::test::t0;

namespace {

// A typical web basket: created by a Shopify cart snapshot, three lines, updated twice, a customer e-mail hash.
lc::subject_state typical_basket(const std::string& subject, int seed) {
  const lc::lifecycle_config cfg;
  lc::subject_state st;
  const std::string cart = "c1-" + std::to_string(100000 + seed) + "a8f3e2b7d9c4f1e6";
  for (int v = 1; v <= 3; ++v) {
    v1::Event ev = lc::test::envelope(
        v1::SUBJECT_KIND_BASKET, subject, subject + "-e" + std::to_string(v),
        env{.version = 1717400000000 + std::int64_t{v} * 60'000, .at_ms = t0 + std::int64_t{v} * 60'000});
    ev.add_references("shopify:shop.example.com:" + cart);
    if (v == 2) {
      auto* c = ev.add_customers();
      c->set_type(v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
      c->set_value("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    }
    auto* s = ev.mutable_basket_snapshot();
    s->set_currency("EUR");
    *s->add_lines() = lc::test::line("44012345678" + std::to_string(seed % 10), v, 8990, "TRAIL-42-BLUE");
    *s->add_lines() = lc::test::line("44012345679" + std::to_string(seed % 10), 1, 1990, "SOCK-M-GREY");
    if (v >= 2) *s->add_lines() = lc::test::line("44012345680" + std::to_string(seed % 10), 2, 450, "LACES-RED");
    s->mutable_lines(0)->set_title("Trail running shoe - Blue / 42");
    s->mutable_lines(1)->set_title("Merino socks - Grey / M");
    s->mutable_totals()->mutable_total()->set_amount_minor(8990 * v + 1990 + (v >= 2 ? 900 : 0));
    s->mutable_totals()->mutable_total()->set_currency("EUR");
    s->mutable_totals()->set_taxes_included(true);
    REQUIRE(lc::fold(st, ev, t0, cfg).status == lc::fold_status::applied);
  }
  return st;
}

void round_trip(const lc::subject_state& st) {
  for (const auto scope : {lc::encode_scope::full, lc::encode_scope::view}) {
    const std::string bytes = lc::encode(st, scope);
    auto back = lc::decode(bytes);
    REQUIRE(back.ok());
    CHECK(lc::encode(back.value(), scope) == bytes);
    if (scope == lc::encode_scope::full) CHECK(back.value() == st);
  }
}

}  // namespace

TEST_CASE("state encoding round-trips every subject kind exactly", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  round_trip(lc::subject_state{});
  lc::subject_state basket = typical_basket("bsk_0000000000000000000000000A", 1);
  // Add a handoff, a promotion and a conversion so that every basket field is exercised.
  v1::Event promo =
      lc::test::envelope(v1::SUBJECT_KIND_BASKET, basket.common.id, "promo", env{.version = 1717400000000 + 500'000});
  promo.mutable_basket_promotion_applied()->mutable_promotion()->set_promotion_id("SUMMER");
  promo.mutable_basket_promotion_applied()->mutable_promotion()->set_code("SUMMER10");
  REQUIRE(lc::fold(basket, promo, t0, cfg).status == lc::fold_status::applied);
  v1::Event req = lc::test::envelope(v1::SUBJECT_KIND_BASKET, basket.common.id, "req",
                                     env{.connector = "passerelle", .account = "handoff"});
  req.mutable_basket_handoff_requested()->set_handoff_id("h1");
  req.mutable_basket_handoff_requested()->mutable_to()->set_store_id("paris-01");
  req.mutable_basket_handoff_requested()->set_code_sha256(std::string(64, 'c'));
  REQUIRE(lc::fold(basket, req, t0, cfg).status == lc::fold_status::applied);
  v1::Event acc = lc::test::envelope(v1::SUBJECT_KIND_BASKET, basket.common.id, "acc",
                                     env{.connector = "passerelle", .account = "handoff"});
  acc.mutable_basket_handoff_accepted()->set_handoff_id("h1");
  acc.mutable_basket_handoff_accepted()->set_store_id("paris-01");
  acc.mutable_basket_handoff_accepted()->set_till_id("till-3");
  acc.mutable_basket_handoff_accepted()->set_target_reference("poslog:paris-01:3-2024-06-03-17");
  REQUIRE(lc::fold(basket, acc, t0, cfg).status == lc::fold_status::applied);
  v1::Event rm =
      lc::test::envelope(v1::SUBJECT_KIND_BASKET, basket.common.id, "rm", env{.version = 1717400000000 + 600'000});
  rm.mutable_basket_line_removed()->set_line_id("4401234568001");
  REQUIRE(lc::fold(basket, rm, t0, cfg).status == lc::fold_status::applied);
  REQUIRE_FALSE(std::get<lc::basket_data>(basket.data).lines.tombstones.empty());
  round_trip(basket);

  lc::subject_state quote;
  v1::Event q = lc::test::quote("q1", env{.version = 3});
  q.mutable_quote_issued()->mutable_terms()->set_revision(1);
  q.mutable_quote_issued()->mutable_terms()->set_quote_number("Q-2024-0042");
  *q.mutable_quote_issued()->mutable_terms()->add_lines() = lc::test::line("1", 100, 450);
  REQUIRE(lc::fold(quote, q, t0, cfg).status == lc::fold_status::applied);
  round_trip(quote);

  lc::subject_state wl;
  v1::Event w = lc::test::wishlist("w1", env{.version = 3});
  w.mutable_wishlist_snapshot()->set_name("Birthday");
  *w.mutable_wishlist_snapshot()->add_items() = lc::test::line("a", 1, 100);
  REQUIRE(lc::fold(wl, w, t0, cfg).status == lc::fold_status::applied);
  round_trip(wl);

  lc::subject_state demo;
  v1::Event d = lc::test::demo("d1");
  d.mutable_demo_requested()->set_kind(v1::DEMO_REQUEST_KIND_DEMO);
  d.mutable_demo_requested()->add_products()->set_sku("TV-55");
  REQUIRE(lc::fold(demo, d, t0, cfg).status == lc::fold_status::applied);
  round_trip(demo);
}

TEST_CASE("damaged or unknown state encodings are refused with a clear error", "[lifecycle]") {
  const std::string good = lc::encode(typical_basket("bsk_0000000000000000000000000B", 2));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const auto r = lc::decode(std::string_view(good).substr(0, cut));
    REQUIRE_FALSE(r.ok());
  }
  std::string future = good;
  future[0] = 9;
  const auto f = lc::decode(future);
  REQUIRE_FALSE(f.ok());
  CHECK(f.err().code == "state_version_unknown");
  const auto trailing = lc::decode(good + "x");
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.err().code == "state_malformed");
  std::string huge_len = good.substr(0, 3);
  huge_len += "\xff\xff\xff\xff\x0f";  // a string length far beyond the input
  CHECK_FALSE(lc::decode(huge_len).ok());
}

TEST_CASE("bytes per typical basket (printed)", "[lifecycle]") {
  constexpr int n = 200;
  std::size_t full = 0;
  std::size_t view = 0;
  std::size_t mem = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = "bsk_" + std::string(20, 'K') + std::to_string(100000 + i);
    const lc::subject_state st = typical_basket(id, i);
    full += lc::encode(st).size();
    view += lc::encode(st, lc::encode_scope::view).size();
    mem += lc::footprint_bytes(st);
  }
  std::cout << "[lifecycle] typical basket (3 lines, 3 snapshots, 1 ref, 1 customer): encoded " << full / n
            << " B (full), " << view / n << " B (view); decoded in memory ~" << mem / n
            << " B; 1M encoded = " << full / n * 1'000'000 / (std::size_t{1024} * 1024) << " MiB\n";
  CHECK(full / n < 1024);  // a bound on size, not on time: 1M baskets must fit well within 1 GiB encoded
}

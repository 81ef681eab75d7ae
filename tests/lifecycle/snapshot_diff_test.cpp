// Snapshots become line events; stale snapshots and duplicates change nothing; derived ids are deterministic.

#include <catch2/catch.hpp>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "tests/lifecycle/event_builders.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::env;
using lc::test::line;
using lc::test::t0;

namespace {

v1::Event snapshot(const std::string& id, std::int64_t version, std::initializer_list<v1::Line> lines,
                   std::int64_t total = -1) {
  v1::Event ev = lc::test::basket(id, env{.version = version, .at_ms = t0 + version});
  auto* s = ev.mutable_basket_snapshot();
  s->set_currency("EUR");
  std::int64_t sum = 0;
  for (const auto& l : lines) {
    *s->add_lines() = l;
    sum += l.line_total().amount_minor();
  }
  s->mutable_totals()->mutable_total()->set_amount_minor(total >= 0 ? total : sum);
  s->mutable_totals()->mutable_total()->set_currency("EUR");
  return ev;
}

// "BasketLineAdded(1) BasketLineRemoved(3) ..." for failure messages.
std::string describe(const std::vector<v1::Event>& events) {
  std::string out;
  for (const auto& e : events) out += lc::payload_type_name(e) + " ";
  return out;
}

const lc::basket_data& basket_of(const lc::subject_state& st) { return std::get<lc::basket_data>(st.data); }

}  // namespace

TEST_CASE("first snapshot derives BasketCreated then one BasketLineAdded per line", "[lifecycle]") {
  lc::subject_state st;
  const lc::lifecycle_config cfg;
  const auto out = lc::fold(st, snapshot("s1", 10, {line("1", 2, 1000), line("2", 1, 2500)}), t0, cfg);
  REQUIRE(out.status == lc::fold_status::applied);
  REQUIRE(out.state_change.has_value());
  CHECK(out.state_change->to == "active");
  REQUIRE(out.derived.size() == 3);
  CHECK(out.derived[0].has_basket_created());
  CHECK(out.derived[0].basket_created().currency() == "EUR");
  REQUIRE(out.derived[1].has_basket_line_added());
  CHECK(out.derived[1].basket_line_added().line().line_id() == "1");
  CHECK(out.derived[1].basket_line_added().line().quantity() == 2);
  CHECK(out.derived[1].basket_line_added().line().unit_price().amount_minor() == 1000);
  CHECK(out.derived[1].basket_line_added().line().unit_price().currency() == "EUR");
  CHECK(out.derived[1].basket_line_added().totals().total().amount_minor() == 4500);
  CHECK(out.derived[2].basket_line_added().line().line_id() == "2");
  for (const auto& d : out.derived) {
    CHECK(d.subject_id() == "bsk_1");
    CHECK(d.source().connector() == "passerelle");
    CHECK(d.source().account() == "lifecycle");
    CHECK(d.source().native_id() == "s1");
    CHECK(d.event_id().rfind("evt_", 0) == 0);
    CHECK(d.event_id().size() == 30);
  }
  CHECK(basket_of(st).lines.lines.size() == 2);
  CHECK(basket_of(st).currency == "EUR");
}

TEST_CASE("snapshot diff: quantity change repricing removal and addition", "[lifecycle]") {
  lc::subject_state st;
  const lc::lifecycle_config cfg;
  REQUIRE(
      lc::fold(st, snapshot("s1", 10, {line("1", 2, 1000), line("2", 1, 2500), line("3", 1, 300)}), t0, cfg).status ==
      lc::fold_status::applied);
  // line 1: quantity 2 -> 3; line 2: price 2500 -> 2000 (repricing); line 3 removed; line 4 added.
  const auto out =
      lc::fold(st, snapshot("s2", 20, {line("1", 3, 1000), line("2", 1, 2000), line("4", 5, 100)}), t0, cfg);
  REQUIRE(out.status == lc::fold_status::applied);
  CHECK_FALSE(out.state_change.has_value());
  INFO(describe(out.derived));
  REQUIRE(out.derived.size() == 4);
  REQUIRE(out.derived[0].has_basket_line_added());
  CHECK(out.derived[0].basket_line_added().line().line_id() == "4");
  CHECK(out.derived[0].basket_line_added().line().quantity() == 5);
  REQUIRE(out.derived[1].has_basket_line_changed());
  const auto& changed = out.derived[1].basket_line_changed();
  CHECK(changed.line().line_id() == "1");
  CHECK(changed.line().quantity() == 3);
  CHECK(changed.previous().quantity() == 2);
  CHECK(changed.line().line_total().amount_minor() == 3000);
  CHECK(changed.previous().line_total().amount_minor() == 2000);
  REQUIRE(out.derived[2].has_basket_prices_changed());
  const auto& prices = out.derived[2].basket_prices_changed();
  REQUIRE(prices.changes_size() == 1);
  CHECK(prices.changes(0).line_id() == "2");
  CHECK(prices.changes(0).previous_unit_price().amount_minor() == 2500);
  CHECK(prices.changes(0).unit_price().amount_minor() == 2000);
  CHECK(prices.changes(0).line_total().amount_minor() == 2000);
  CHECK(prices.totals().total().amount_minor() == 5500);
  REQUIRE(out.derived[3].has_basket_line_removed());
  CHECK(out.derived[3].basket_line_removed().line_id() == "3");
  CHECK(out.derived[3].basket_line_removed().previous().quantity() == 1);
  CHECK(out.derived[3].basket_line_removed().previous().unit_price().amount_minor() == 300);

  const auto& lines = basket_of(st).lines.lines;
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].line_id == "1");
  CHECK(lines[1].line_id == "2");
  CHECK(lines[2].line_id == "4");
  CHECK(lines[1].unit_price == 2000);

  // The same content again (new delivery, newer version): nothing to derive.
  const auto same =
      lc::fold(st, snapshot("s3", 30, {line("1", 3, 1000), line("2", 1, 2000), line("4", 5, 100)}), t0, cfg);
  CHECK(same.status == lc::fold_status::applied);
  CHECK(same.derived.empty());
}

TEST_CASE("line properties measured goods and foreign-currency money survive the compact line form", "[lifecycle]") {
  v1::Line l = line("7", 1, 2490);
  (*l.mutable_properties())["engraving"] = "A & B";
  (*l.mutable_properties())["gift"] = "yes";
  l.set_unit_of_measure("KGM");
  l.set_measured_quantity_milli(1250);
  l.set_gtin("04012345678901");
  l.mutable_discount_total()->set_amount_minor(100);
  l.mutable_discount_total()->set_currency("CHF");  // unusual: stays in the opaque part
  const lc::line_state s = lc::to_line_state(l);
  CHECK(s.currency != 0);
  CHECK((s.money_present & lc::line_state::discount_total_set) == 0);
  const v1::Line back = lc::to_proto(s);
  CHECK(back.SerializeAsString().size() == l.SerializeAsString().size());
  CHECK(back.properties().at("engraving") == "A & B");
  CHECK(back.measured_quantity_milli() == 1250);
  CHECK(back.discount_total().currency() == "CHF");
  CHECK(back.unit_price().amount_minor() == 2490);
  CHECK(back.gtin() == "04012345678901");
}

TEST_CASE("a stale snapshot is dropped and reported - the newer content stays", "[lifecycle]") {
  lc::subject_state st;
  const lc::lifecycle_config cfg;
  REQUIRE(lc::fold(st, snapshot("s-new", 200, {line("1", 5, 1000)}), t0, cfg).status == lc::fold_status::applied);
  const std::string before = lc::encode(st, lc::encode_scope::view);
  const auto out = lc::fold(st, snapshot("s-old", 100, {line("1", 1, 1000), line("9", 1, 1)}), t0, cfg);
  CHECK(out.status == lc::fold_status::stale);
  CHECK(out.reason_code == "stale_snapshot");
  CHECK(out.derived.empty());
  CHECK(st.common.stale == 1);
  REQUIRE(basket_of(st).lines.lines.size() == 1);
  CHECK(basket_of(st).lines.lines[0].quantity == 5);
  // Counted as folded (version), nothing else of the view moved but the event count.
  CHECK(st.common.version == 2);
  CHECK(lc::encode(st, lc::encode_scope::view) != before);
  // An equal version is not newer either.
  CHECK(lc::fold(st, snapshot("s-same", 200, {}), t0, cfg).status == lc::fold_status::stale);
  // Version 0 = unknown: never stale, applied in log order.
  const auto unknown = lc::fold(st, snapshot("s-unversioned", 0, {line("1", 4, 1000)}), t0, cfg);
  CHECK(unknown.status == lc::fold_status::applied);
  CHECK(basket_of(st).lines.lines[0].quantity == 4);
}

TEST_CASE("duplicates change nothing and emit nothing - derived ids are the same on re-processing", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  const v1::Event s1 = snapshot("s1", 10, {line("1", 2, 1000)});
  const v1::Event s2 = snapshot("s2", 20, {line("1", 3, 1000)});
  lc::subject_state a;
  const auto a1 = lc::fold(a, s1, t0, cfg);
  const auto a2 = lc::fold(a, s2, t0, cfg);
  const std::string full = lc::encode(a);
  const auto dup = lc::fold(a, s2, t0 + 999, cfg);
  CHECK(dup.status == lc::fold_status::duplicate);
  CHECK(dup.derived.empty());
  CHECK(a.common.duplicates == 1);
  CHECK(lc::encode(a, lc::encode_scope::view) == lc::encode(lc::decode(full).value(), lc::encode_scope::view));

  lc::subject_state b;  // the same input processed again from scratch (a crash before commit)
  const auto b1 = lc::fold(b, s1, t0 + 5000, cfg);
  const auto b2 = lc::fold(b, s2, t0 + 5000, cfg);
  REQUIRE(a2.derived.size() == b2.derived.size());
  for (std::size_t i = 0; i < a1.derived.size(); ++i) CHECK(a1.derived[i].event_id() == b1.derived[i].event_id());
  for (std::size_t i = 0; i < a2.derived.size(); ++i) {
    CHECK(a2.derived[i].SerializeAsString() == b2.derived[i].SerializeAsString());
  }
  CHECK(lc::encode(b) == full);

  // The engine's own derived events read back from the log are echoes.
  CHECK(lc::fold(a, a2.derived.front(), t0, cfg).status == lc::fold_status::echo);
}

TEST_CASE("the dedup window is bounded and FIFO", "[lifecycle]") {
  lc::lifecycle_config cfg;
  cfg.dedup_window = 4;
  lc::subject_state st;
  for (int i = 1; i <= 6; ++i) {
    v1::Event ev = lc::test::basket("c" + std::to_string(i), env{.version = i});
    auto* c = ev.mutable_basket_customer_attached()->add_customers();
    c->set_type(v1::CUSTOMER_REF_TYPE_EMAIL_SHA256);
    c->set_value(std::string(64, static_cast<char>('a' + i)));
    REQUIRE(lc::fold(st, ev, t0, cfg).status == lc::fold_status::applied);
  }
  CHECK(st.common.dedup.size() == 4);
  v1::Event recent = lc::test::basket("c6", env{.version = 6});
  recent.mutable_basket_customer_attached();
  CHECK(lc::fold(st, recent, t0, cfg).status == lc::fold_status::duplicate);
}

TEST_CASE("line events: last writer wins per line by source version", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  lc::subject_state st;
  v1::Event add = lc::test::basket("add", env{.version = 5});
  *add.mutable_basket_line_added()->mutable_line() = line("1", 1, 1000);
  v1::Event change = lc::test::basket("chg", env{.version = 7});
  *change.mutable_basket_line_changed()->mutable_line() = line("1", 4, 1000);
  v1::Event remove = lc::test::basket("rm", env{.version = 6});
  remove.mutable_basket_line_removed()->set_line_id("1");
  REQUIRE(lc::fold(st, change, t0, cfg).status == lc::fold_status::applied);
  CHECK(lc::fold(st, add, t0, cfg).status == lc::fold_status::stale);     // older than the change
  CHECK(lc::fold(st, remove, t0, cfg).status == lc::fold_status::stale);  // older than the change
  REQUIRE(basket_of(st).lines.lines.size() == 1);
  CHECK(basket_of(st).lines.lines[0].quantity == 4);
  // A removal leaves a tombstone so that an older add arriving later stays removed...
  v1::Event rm2 = lc::test::basket("rm2", env{.version = 9});
  rm2.mutable_basket_line_removed()->set_line_id("1");
  REQUIRE(lc::fold(st, rm2, t0, cfg).status == lc::fold_status::applied);
  v1::Event late_add = lc::test::basket("late", env{.version = 8});
  *late_add.mutable_basket_line_added()->mutable_line() = line("1", 2, 1000);
  CHECK(lc::fold(st, late_add, t0, cfg).status == lc::fold_status::stale);
  CHECK(basket_of(st).lines.lines.empty());
  CHECK(basket_of(st).lines.tombstones.size() == 1);
  // ...until a newer snapshot of the same source covers it.
  REQUIRE(lc::fold(st, snapshot("s", 10, {line("2", 1, 10)}), t0, cfg).status == lc::fold_status::applied);
  CHECK(basket_of(st).lines.tombstones.empty());
  // A snapshot keeps a line written later by a line event of the same source.
  v1::Event add3 = lc::test::basket("add3", env{.version = 15});
  *add3.mutable_basket_line_added()->mutable_line() = line("3", 1, 10);
  REQUIRE(lc::fold(st, add3, t0, cfg).status == lc::fold_status::applied);
  const auto older_snapshot = lc::fold(st, snapshot("s12", 12, {line("2", 2, 10)}), t0, cfg);
  REQUIRE(older_snapshot.status == lc::fold_status::applied);
  REQUIRE(basket_of(st).lines.lines.size() == 2);
  CHECK(basket_of(st).lines.lines[1].line_id == "3");
}

TEST_CASE("content older than a conversion is applied late - newer content is rejected", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  lc::subject_state st;
  REQUIRE(lc::fold(st, snapshot("s1", 10, {line("1", 1, 1000)}), t0, cfg).status == lc::fold_status::applied);
  v1::Event conv = lc::test::basket("conv", env{.version = 30});
  conv.mutable_basket_converted()->set_order_reference("shopify:shop.example.com:order-1");
  REQUIRE(lc::fold(st, conv, t0, cfg).status == lc::fold_status::applied);
  CHECK(std::find(st.common.references.begin(), st.common.references.end(), "shopify:shop.example.com:order-1") !=
        st.common.references.end());
  const auto late = lc::fold(st, snapshot("s2", 20, {line("1", 2, 1000)}), t0, cfg);
  CHECK(late.status == lc::fold_status::applied);
  CHECK(late.late);
  CHECK(lc::status_name(st) == "converted");
  CHECK(basket_of(st).lines.lines[0].quantity == 2);
  const auto after = lc::fold(st, snapshot("s3", 40, {}), t0, cfg);
  CHECK(after.status == lc::fold_status::rejected);
  CHECK(basket_of(st).lines.lines.size() == 1);
}

TEST_CASE("wishlist snapshot diff: items added re-added when changed removed", "[lifecycle]") {
  const lc::lifecycle_config cfg;
  lc::subject_state st;
  v1::Event s1 = lc::test::wishlist("w1", env{.version = 1});
  s1.mutable_wishlist_snapshot()->set_name("Birthday");
  *s1.mutable_wishlist_snapshot()->add_items() = line("a", 1, 100);
  *s1.mutable_wishlist_snapshot()->add_items() = line("b", 1, 200);
  auto out = lc::fold(st, s1, t0, cfg);
  REQUIRE(out.derived.size() == 3);
  CHECK(out.derived[0].has_wishlist_created());
  CHECK(out.derived[0].wishlist_created().name() == "Birthday");
  v1::Event s2 = lc::test::wishlist("w2", env{.version = 2});
  *s2.mutable_wishlist_snapshot()->add_items() = line("a", 2, 100);
  *s2.mutable_wishlist_snapshot()->add_items() = line("c", 1, 300);
  out = lc::fold(st, s2, t0, cfg);
  INFO(describe(out.derived));
  REQUIRE(out.derived.size() == 3);
  CHECK(out.derived[0].wishlist_item_added().item().line_id() == "c");
  CHECK(out.derived[1].wishlist_item_added().item().line_id() == "a");
  CHECK(out.derived[1].wishlist_item_added().item().quantity() == 2);
  CHECK(out.derived[2].wishlist_item_removed().item_id() == "b");
}

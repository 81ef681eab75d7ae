// Timers: deadlines from the state, the deadline-ordered index, firing produces one deterministic event.

#include <catch2/catch.hpp>

#include "broker/lifecycle/derived_ids.h"
#include "broker/lifecycle/state_codec.h"
#include "broker/lifecycle/timers.h"
#include "tests/lifecycle/event_builders.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::env;
using lc::test::t0;

namespace {

constexpr std::int64_t hour = 3'600'000;

lc::lifecycle_config config() {
  lc::lifecycle_config cfg;
  cfg.abandon_after_ms = 24 * hour;
  cfg.handoff_ttl_ms = 2 * hour;
  cfg.quote_ttl_ms = 720 * hour;
  cfg.abandoned_retention_ms = 48 * hour;
  return cfg;
}

lc::subject_state active_basket(const lc::lifecycle_config& cfg, std::int64_t at) {
  lc::subject_state st;
  v1::Event ev = lc::test::basket("s1", env{.version = 1, .at_ms = at});
  *ev.mutable_basket_snapshot()->add_lines() = lc::test::line("1", 1, 100);
  REQUIRE(lc::fold(st, ev, at, cfg).status == lc::fold_status::applied);
  return st;
}

}  // namespace

TEST_CASE("an untouched active basket is abandoned after abandon_after then expires after retention", "[lifecycle]") {
  const auto cfg = config();
  lc::subject_state st = active_basket(cfg, t0);
  auto d = lc::deadlines(st, cfg);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == lc::timer_kind::basket_abandon);
  CHECK(d[0].due_ms == t0 + 24 * hour);

  // Not due yet: obsolete, nothing changes.
  CHECK(lc::fire_timer(st, d[0], t0 + hour, cfg).status == lc::fold_status::obsolete);
  CHECK(lc::status_name(st) == "active");

  const auto out = lc::fire_timer(st, d[0], t0 + 25 * hour, cfg);
  REQUIRE(out.status == lc::fold_status::applied);
  CHECK(lc::status_name(st) == "abandoned");
  REQUIRE_FALSE(out.derived.empty());
  const v1::Event& fired = out.derived.front();
  REQUIRE(fired.has_basket_abandoned());
  CHECK(fired.basket_abandoned().reason() == "inactivity");
  CHECK(lc::to_ms(fired.basket_abandoned().last_activity_at()) == t0);
  CHECK(lc::to_ms(fired.occurred_at()) == t0 + 24 * hour);
  CHECK(fired.source().connector() == "passerelle");
  CHECK(fired.event_id() == lc::timer_event_id("bsk_1", "basket_abandon", t0 + 24 * hour, ""));

  // Re-firing the same timer (the runner crashed before updating its index) is a no-op.
  const std::string after = lc::encode(st);
  CHECK(lc::fire_timer(st, d[0], t0 + 26 * hour, cfg).status == lc::fold_status::obsolete);
  CHECK(lc::encode(st) == after);
  // The fired event read back from the log is an echo.
  CHECK(lc::fold(st, fired, t0 + 26 * hour, cfg).status == lc::fold_status::echo);

  d = lc::deadlines(st, cfg);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == lc::timer_kind::basket_expire);
  CHECK(d[0].due_ms == t0 + 24 * hour + 48 * hour);
  const auto expired = lc::fire_timer(st, d[0], d[0].due_ms, cfg);
  REQUIRE(expired.status == lc::fold_status::applied);
  CHECK(expired.derived.front().basket_expired().reason() == "retention");
  CHECK(lc::status_name(st) == "expired");
  CHECK(lc::deadlines(st, cfg).empty());
}

TEST_CASE("activity pushes the abandon deadline - new activity revives an abandoned basket", "[lifecycle]") {
  const auto cfg = config();
  lc::subject_state st = active_basket(cfg, t0);
  const auto first = lc::deadlines(st, cfg).at(0);
  v1::Event touch = lc::test::basket("touch", env{.version = 2, .at_ms = t0 + 10 * hour});
  *touch.mutable_basket_line_added()->mutable_line() = lc::test::line("2", 1, 100);
  REQUIRE(lc::fold(st, touch, t0 + 10 * hour, cfg).status == lc::fold_status::applied);
  CHECK(lc::fire_timer(st, first, t0 + 25 * hour, cfg).status == lc::fold_status::obsolete);
  const auto moved = lc::deadlines(st, cfg).at(0);
  CHECK(moved.due_ms == t0 + 34 * hour);
  REQUIRE(lc::fire_timer(st, moved, t0 + 35 * hour, cfg).status == lc::fold_status::applied);
  v1::Event back = lc::test::basket("back", env{.version = 3, .at_ms = t0 + 40 * hour});
  *back.mutable_basket_line_added()->mutable_line() = lc::test::line("3", 1, 100);
  const auto out = lc::fold(st, back, t0 + 40 * hour, cfg);
  REQUIRE(out.state_change.has_value());
  CHECK(out.state_change->from == "abandoned");
  CHECK(out.state_change->to == "active");
}

TEST_CASE("a pending handoff expires after handoff_ttl and the basket returns to active", "[lifecycle]") {
  const auto cfg = config();
  lc::subject_state st = active_basket(cfg, t0);
  v1::Event req = lc::test::basket("req", env{.connector = "passerelle", .account = "handoff", .at_ms = t0 + hour});
  req.mutable_basket_handoff_requested()->set_handoff_id("h1");
  req.mutable_basket_handoff_requested()->mutable_to()->set_store_id("paris-01");
  REQUIRE(lc::fold(st, req, t0 + hour, cfg).status == lc::fold_status::applied);
  const auto d = lc::deadlines(st, cfg);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == lc::timer_kind::handoff_expiry);
  CHECK(d[0].handoff_id == "h1");
  CHECK(d[0].due_ms == t0 + 3 * hour);
  const auto out = lc::fire_timer(st, d[0], t0 + 4 * hour, cfg);
  REQUIRE(out.status == lc::fold_status::applied);
  CHECK(out.derived.front().basket_handoff_expired().handoff_id() == "h1");
  CHECK(lc::status_name(st) == "active");
  CHECK(std::get<lc::basket_data>(st.data).handoffs.at(0).status == lc::handoff_status::expired);
}

TEST_CASE("a quote expires at valid_until or quote_ttl after issue", "[lifecycle]") {
  const auto cfg = config();
  lc::subject_state st;
  v1::Event issued = lc::test::quote("issued", env{.version = 1, .at_ms = t0});
  issued.mutable_quote_issued()->mutable_terms()->set_revision(1);
  REQUIRE(lc::fold(st, issued, t0, cfg).status == lc::fold_status::applied);
  auto d = lc::deadlines(st, cfg);
  REQUIRE(d.size() == 1);
  CHECK(d[0].due_ms == t0 + 720 * hour);
  v1::Event revised = lc::test::quote("revised", env{.version = 2, .at_ms = t0 + hour});
  revised.mutable_quote_revised()->mutable_terms()->set_revision(2);
  lc::set_ms(revised.mutable_quote_revised()->mutable_terms()->mutable_valid_until(), t0 + 100 * hour);
  REQUIRE(lc::fold(st, revised, t0, cfg).status == lc::fold_status::applied);
  d = lc::deadlines(st, cfg);
  REQUIRE(d.size() == 1);
  CHECK(d[0].due_ms == t0 + 100 * hour);
  const auto out = lc::fire_timer(st, d[0], t0 + 101 * hour, cfg);
  REQUIRE(out.status == lc::fold_status::applied);
  CHECK(out.derived.front().quote_expired().revision() == 2);
  CHECK(lc::status_name(st) == "expired");
}

TEST_CASE("timer index: ordered by deadline replaced per subject bounded answers", "[lifecycle]") {
  lc::timer_index idx;
  idx.update("bsk_b", {lc::timer{lc::timer_kind::basket_abandon, 300, ""}});
  idx.update("bsk_a", {lc::timer{lc::timer_kind::basket_abandon, 100, ""}});
  idx.update("bsk_c", {lc::timer{lc::timer_kind::handoff_expiry, 200, "h9"}});
  CHECK(idx.size() == 3);
  CHECK(idx.next_due() == 100);
  auto due = idx.due(250, 10);
  REQUIRE(due.size() == 2);
  CHECK(due[0].subject_id == "bsk_a");
  CHECK(due[1].subject_id == "bsk_c");
  CHECK(due[1].t.handoff_id == "h9");
  CHECK(idx.due(1000, 1).size() == 1);
  idx.update("bsk_a", {lc::timer{lc::timer_kind::basket_abandon, 500, ""}});  // activity moved it
  CHECK(idx.size() == 3);
  CHECK(idx.next_due() == 200);
  idx.erase("bsk_c");
  CHECK(idx.subjects() == 2);
  due = idx.due(1000, 10);
  REQUIRE(due.size() == 2);
  CHECK(due[0].subject_id == "bsk_b");
  CHECK(due[1].subject_id == "bsk_a");
  idx.update("bsk_a", {});
  idx.erase("bsk_b");
  CHECK(idx.size() == 0);
  CHECK_FALSE(idx.next_due().has_value());
}

// Properties of the wishlist, quote and demo request lifecycles, the companions of fold_property_test.cpp (baskets),
// asserting what docs/lifecycle.md promises ("Idempotency and ordering", "The property"):
// - quotes and demo requests: random legal chains delivered in causal order with redeliveries, interleaved with
//   other subjects' streams and with states restored from their full encoding mid-stream, fold to the in-order
//   state; every redelivery is a `duplicate`; an illegal event inserted at a random point is `rejected` with exactly
//   one TransitionRejected and changes nothing (its redelivery is a duplicate);
// - wishlists: one platform's versioned content in any order, with redeliveries and maybe a deletion or a
//   conversion at its newest version, folds to the in-order state; content arriving after the deletion or the
//   conversion is late; a snapshot's derived item events
//   turn the items before it into the items after it (a changed item is a WishlistItemAdded upsert).
// Generators: tests/lifecycle/subject_scenarios.h. The seed is printed on failure and can be forced with
// PASSERELLE_PROPERTY_SEED.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "tests/lifecycle/subject_scenarios.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::delivery;
using lc::test::expect;
using lc::test::subject_chain;
using lc::test::t0;
using lc::test::uniform;

namespace {

using fold_hook = std::function<void(const lc::subject_state& before, const lc::subject_state& after,
                                     const v1::Event& event, const lc::fold_outcome& out)>;

struct fold_run {
  std::map<std::string, std::string> views;  // subject id -> encode(state, view)
  std::size_t folded = 0;
  std::size_t duplicates = 0;
  std::size_t rejected = 0;
  std::size_t stale = 0;
};

// Folds several subjects' streams interleaved at random, restoring states from their full encoding now and then (a
// changelog restore), checks each delivery's outcome against what it expects, and returns each subject's view.
fold_run fold_all(std::mt19937_64& rng, const std::vector<std::vector<delivery>>& streams,
                  const lc::lifecycle_config& cfg, const fold_hook& hook = {}) {
  std::map<std::string, lc::subject_state> states;
  std::vector<std::size_t> next(streams.size(), 0);
  std::size_t left = 0;
  for (const auto& s : streams) left += s.size();
  fold_run run;
  for (; left > 0; --left) {
    std::size_t k = 0;
    do {
      k = std::uniform_int_distribution<std::size_t>(0, streams.size() - 1)(rng);
    } while (next[k] >= streams[k].size());
    const delivery& d = streams[k][next[k]++];
    lc::subject_state& st = states[d.event.subject_id()];
    if (uniform(rng, 0, 9) == 0) {
      auto restored = lc::decode(lc::encode(st));
      REQUIRE(restored.ok());
      st = std::move(restored).value();
    }
    // What the checks need of the state before the fold (copies only when asked: this is the hot loop).
    const std::string from = lc::status_name(st);
    const bool unchanged = d.outcome == expect::duplicate || d.outcome == expect::rejected;
    const std::string before_view = unchanged ? lc::encode(st, lc::encode_scope::view) : std::string();
    const lc::subject_state before = hook ? st : lc::subject_state{};
    const auto out = lc::fold(st, d.event, t0, cfg);
    ++run.folded;
    if (out.status == lc::fold_status::stale) ++run.stale;
    INFO("event " << d.event.event_id() << " (" << lc::payload_type_name(d.event) << ") in state " << from << ": "
                  << lc::to_string(out.status) << " " << out.reason);
    switch (d.outcome) {
      case expect::applied: REQUIRE(out.status == lc::fold_status::applied); break;
      case expect::applied_or_stale:
        REQUIRE((out.status == lc::fold_status::applied || out.status == lc::fold_status::stale));
        break;
      case expect::duplicate:
        REQUIRE(out.status == lc::fold_status::duplicate);
        CHECK(out.derived.empty());
        REQUIRE(lc::encode(st, lc::encode_scope::view) == before_view);
        ++run.duplicates;
        break;
      case expect::rejected: {
        REQUIRE(out.status == lc::fold_status::rejected);
        CHECK(out.reason_code == d.reason_code);
        REQUIRE(out.derived.size() == 1);
        const v1::Event& r = out.derived.front();
        REQUIRE(r.has_transition_rejected());
        CHECK(r.subject_id() == d.event.subject_id());
        CHECK(r.transition_rejected().from_state() == from);
        CHECK(r.transition_rejected().event_type() == lc::payload_type_name(d.event));
        CHECK(r.transition_rejected().rejected_event_id() == d.event.event_id());
        REQUIRE(lc::encode(st, lc::encode_scope::view) == before_view);
        ++run.rejected;
        break;
      }
    }
    if (hook) hook(before, st, d.event, out);
  }
  for (const auto& [id, st] : states) run.views[id] = lc::encode(st, lc::encode_scope::view);
  return run;
}

lc::subject_state decoded(const std::string& view) {
  auto st = lc::decode(view);
  REQUIRE(st.ok());
  return std::move(st).value();
}

enum class chain_mode : std::uint8_t { redeliveries, illegal };

// The chain properties (quotes, demo requests): per trial, 3 subjects' chains; the in-order fold of their causal
// streams is the reference; each perturbation adds redeliveries (and, in `illegal` mode, one illegal event per
// subject) and must fold to the same views.
template <typename MakeChain, typename MakeIllegal, typename CheckFinal>
void chain_property(chain_mode mode, int trials, const std::string& prefix, MakeChain make_chain,
                    MakeIllegal make_illegal, CheckFinal check_final) {
  const lc::lifecycle_config cfg;
  const std::uint64_t base = lc::test::property_base_seed();
  constexpr int perturbations = 4;
  constexpr int subjects = 3;
  std::size_t folded = 0;
  std::size_t duplicates = 0;
  std::size_t rejected = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::uint64_t seed = base + static_cast<std::uint64_t>(trial);
    INFO("seed " << seed << " (rerun with PASSERELLE_PROPERTY_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    std::vector<subject_chain> chains;
    for (int s = 0; s < subjects; ++s) {
      chains.push_back(make_chain(rng, prefix + std::to_string(trial) + "_" + std::to_string(s)));
    }
    std::vector<std::vector<delivery>> reference;
    for (const auto& c : chains) reference.push_back(lc::test::causal(c));
    const fold_run expected = fold_all(rng, reference, cfg);
    REQUIRE(expected.views.size() == chains.size());
    for (const auto& c : chains) {
      INFO("subject " << c.subject);
      check_final(c, decoded(expected.views.at(c.subject)));
    }
    for (int p = 0; p < perturbations; ++p) {
      std::vector<std::vector<delivery>> streams;
      std::size_t copies = 0;
      for (const auto& c : chains) {
        if (mode == chain_mode::redeliveries) {
          streams.push_back(lc::test::redelivered(rng, c));
        } else {
          const std::string bad_id = c.subject + "-bad" + std::to_string(p);
          streams.push_back(lc::test::with_illegal(rng, c, [&](const std::string& status, std::int32_t revision) {
            return make_illegal(rng, c.subject, bad_id, status, revision);
          }));
        }
        for (const auto& d : streams.back()) copies += d.outcome == expect::duplicate ? 1 : 0;
      }
      const fold_run got = fold_all(rng, streams, cfg);
      folded += got.folded;
      duplicates += got.duplicates;
      rejected += got.rejected;
      CHECK(got.duplicates == copies);
      if (mode == chain_mode::illegal) CHECK(got.rejected == chains.size());
      for (const auto& [id, view] : expected.views) {
        INFO("subject " << id << " perturbation " << p);
        REQUIRE(got.views.at(id) == view);
      }
    }
  }
  CHECK(folded > 0);
  CHECK(duplicates > 0);
  if (mode == chain_mode::illegal) CHECK(rejected == static_cast<std::size_t>(trials) * perturbations * subjects);
}

void check_quote(const subject_chain& c, const lc::subject_state& st) {
  CHECK(lc::status_name(st) == c.final_status());
  REQUIRE(std::holds_alternative<lc::quote_data>(st.data));
  CHECK(std::get<lc::quote_data>(st.data).revision == c.final_revision());
}

void check_demo(const subject_chain& c, const lc::subject_state& st) {
  CHECK(lc::status_name(st) == c.final_status());
  REQUIRE(std::holds_alternative<lc::demo_data>(st.data));
  CHECK(std::get<lc::demo_data>(st.data).kind == c.kind);
  CHECK(std::get<lc::demo_data>(st.data).schedule_count == c.schedules);
}

delivery illegal_demo(std::mt19937_64& rng, const std::string& subject, const std::string& id,
                      const std::string& status, std::int32_t /*revision*/) {
  return lc::test::illegal_demo(rng, subject, id, status);
}

// A wishlist's items by id, without their write stamps (content only).
std::map<std::string, lc::line_state> items_of(const lc::subject_state& st) {
  std::map<std::string, lc::line_state> out;
  if (const auto* w = std::get_if<lc::wishlist_data>(&st.data)) {
    for (auto l : w->items.lines) {
      l.written = {};
      out.emplace(l.line_id, std::move(l));
    }
  }
  return out;
}

// What docs/lifecycle.md says of one applied wishlist event, whatever the arrival order: content after the deletion
// or the conversion is late (applied, status unchanged); a snapshot's derived item events, applied to the items before
// it, give the items after it, a changed item being re-added with its new content (no WishlistItemChanged in v1).
void check_wishlist_fold(const lc::subject_state& before, const lc::subject_state& after, const v1::Event& ev,
                         const lc::fold_outcome& out) {
  if (out.status != lc::fold_status::applied) return;
  const bool content = !ev.has_subject_linked() && !ev.has_wishlist_deleted() && !ev.has_wishlist_converted();
  if (content && (lc::status_name(before) == "deleted" || lc::status_name(before) == "converted")) {
    CHECK(out.late);
    CHECK(lc::status_name(after) == lc::status_name(before));
  }
  if (!ev.has_wishlist_snapshot()) return;
  std::map<std::string, lc::line_state> items = items_of(before);
  for (std::size_t i = 0; i < out.derived.size(); ++i) {
    const v1::Event& d = out.derived[i];
    INFO("derived " << i << ": " << lc::payload_type_name(d));
    if (d.has_wishlist_created()) {
      CHECK(i == 0);
      CHECK(lc::status_name(before) == "unspecified");
    } else if (d.has_wishlist_item_added()) {
      lc::line_state l = lc::to_line_state(d.wishlist_item_added().item());
      const auto it = items.find(l.line_id);
      CHECK((it == items.end() || !(it->second == l)));  // new, or changed: never an unchanged item
      items[l.line_id] = std::move(l);
    } else if (d.has_wishlist_item_removed()) {
      const auto it = items.find(d.wishlist_item_removed().item_id());
      REQUIRE(it != items.end());
      CHECK(lc::to_line_state(d.wishlist_item_removed().previous()) == it->second);
      items.erase(it);
    } else {
      FAIL("a wishlist snapshot derived " << lc::payload_type_name(d));
    }
  }
  CHECK(items == items_of(after));
}

}  // namespace

TEST_CASE("property: quotes' causal chains with redeliveries interleavings and restores fold to the in-order state",
          "[lifecycle][property]") {
  chain_property(chain_mode::redeliveries, 60, "quo_", lc::test::make_quote_chain, lc::test::illegal_quote,
                 check_quote);
}

TEST_CASE("property: an illegal quote transition at any point is rejected once and changes nothing",
          "[lifecycle][property]") {
  chain_property(chain_mode::illegal, 60, "quo_", lc::test::make_quote_chain, lc::test::illegal_quote, check_quote);
}

TEST_CASE("property: demo requests' causal chains with redeliveries interleavings and restores fold to the same state",
          "[lifecycle][property]") {
  chain_property(chain_mode::redeliveries, 80, "dmo_", lc::test::make_demo_chain, illegal_demo, check_demo);
}

TEST_CASE("property: an illegal demo request transition at any point is rejected once and changes nothing",
          "[lifecycle][property]") {
  chain_property(chain_mode::illegal, 80, "dmo_", lc::test::make_demo_chain, illegal_demo, check_demo);
}

TEST_CASE("property: wishlist content in any order with redeliveries and a deletion folds to the in-order state",
          "[lifecycle][property]") {
  const lc::lifecycle_config cfg;
  const std::uint64_t base = lc::test::property_base_seed();
  constexpr int trials = 60;
  constexpr int perturbations = 5;
  std::size_t folded = 0;
  std::size_t stale = 0;
  std::size_t late = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::uint64_t seed = base + static_cast<std::uint64_t>(trial);
    INFO("seed " << seed << " (rerun with PASSERELLE_PROPERTY_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    std::vector<lc::test::wishlist_scenario> lists;
    for (int w = 0; w < 3; ++w) {
      lists.push_back(lc::test::make_wishlist_scenario(rng, "wsh_" + std::to_string(trial) + "_" + std::to_string(w)));
    }
    std::vector<std::vector<delivery>> reference;
    for (const auto& s : lists) reference.push_back(lc::test::wishlist_in_order(rng, s));
    const fold_run expected = fold_all(rng, reference, cfg, check_wishlist_fold);
    REQUIRE(expected.views.size() == lists.size());
    for (const auto& s : lists) {
      INFO("subject " << s.subject);
      const std::string ending = !s.deletion ? "active" : s.deletion->has_wishlist_deleted() ? "deleted" : "converted";
      CHECK(lc::status_name(decoded(expected.views.at(s.subject))) == ending);
    }
    const fold_hook count_late = [&](const lc::subject_state& before, const lc::subject_state& after,
                                     const v1::Event& ev, const lc::fold_outcome& out) {
      check_wishlist_fold(before, after, ev, out);
      late += out.late ? 1 : 0;
    };
    for (int p = 0; p < perturbations; ++p) {
      std::vector<std::vector<delivery>> streams;
      std::size_t copies = 0;
      for (const auto& s : lists) {
        streams.push_back(lc::test::wishlist_perturbed(rng, s));
        for (const auto& d : streams.back()) copies += d.outcome == expect::duplicate ? 1 : 0;
      }
      const fold_run got = fold_all(rng, streams, cfg, count_late);
      folded += got.folded;
      stale += got.stale;
      CHECK(got.duplicates == copies);
      for (const auto& [id, view] : expected.views) {
        INFO("subject " << id << " perturbation " << p);
        REQUIRE(got.views.at(id) == view);
      }
    }
  }
  CHECK(folded > 0);
  CHECK(stale > 0);  // older snapshots and item writes did arrive after newer ones  // the deletion did arrive before
                     // older content now and then
}

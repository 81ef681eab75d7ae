// Property: for random baskets' event sequences, any arrival order allowed by docs/lifecycle.md ("Ordering"),
// with duplicates, interleaved across subjects and with state restores from the encoding mid-stream, folds to the
// same subject state as the in-order sequence (compared as view encodings). The seed is printed on failure and can
// be forced with PASSERELLE_PROPERTY_SEED.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "tests/lifecycle/basket_scenarios.h"
#include "tests/lifecycle/event_builders.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using lc::test::in_order;
using lc::test::make_scenario;
using lc::test::perturbed;
using lc::test::scenario;
using lc::test::t0;
using lc::test::uniform;

namespace {

// Folds several subjects' streams interleaved at random, restoring states from their full encoding now and then
// (a changelog restore), and returns each subject's view encoding.
std::map<std::string, std::string> fold_all(std::mt19937_64& rng, std::vector<std::vector<v1::Event>> streams,
                                            const lc::lifecycle_config& cfg) {
  std::map<std::string, lc::subject_state> states;
  std::vector<std::size_t> next(streams.size(), 0);
  std::size_t left = 0;
  for (const auto& s : streams) left += s.size();
  for (; left > 0; --left) {
    std::size_t k = 0;
    do {
      k = std::uniform_int_distribution<std::size_t>(0, streams.size() - 1)(rng);
    } while (next[k] >= streams[k].size());
    const v1::Event& ev = streams[k][next[k]++];
    lc::subject_state& st = states[ev.subject_id()];
    if (uniform(rng, 0, 9) == 0) {
      auto restored = lc::decode(lc::encode(st));
      REQUIRE(restored.ok());
      st = std::move(restored).value();
    }
    const auto out = lc::fold(st, ev, t0, cfg);
    INFO("event " << ev.event_id() << ": " << lc::to_string(out.status) << " " << out.reason);
    REQUIRE((out.status == lc::fold_status::applied || out.status == lc::fold_status::stale ||
             out.status == lc::fold_status::duplicate));
  }
  std::map<std::string, std::string> views;
  for (const auto& [id, st] : states) views[id] = lc::encode(st, lc::encode_scope::view);
  return views;
}

}  // namespace

TEST_CASE("property: reorderings duplicates and interleavings of baskets' events fold to the same state",
          "[lifecycle][property]") {
  const lc::lifecycle_config cfg;
  const std::uint64_t base = lc::test::property_base_seed();
  constexpr int trials = 80;
  constexpr int perturbations = 5;
  std::size_t events_folded = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::uint64_t seed = base + static_cast<std::uint64_t>(trial);
    INFO("seed " << seed << " (rerun with PASSERELLE_PROPERTY_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    std::vector<scenario> baskets;
    for (int b = 0; b < 3; ++b)
      baskets.push_back(make_scenario(rng, "bsk_" + std::to_string(trial) + "_" + std::to_string(b)));
    std::vector<std::vector<v1::Event>> reference;
    for (const auto& s : baskets) reference.push_back(in_order(rng, s));
    const auto expected = fold_all(rng, reference, cfg);
    REQUIRE(expected.size() == baskets.size());
    for (const auto& basket : baskets) {
      const auto st = lc::decode(expected.at(basket.content.front().subject_id())).value();
      if (basket.ends_converted) CHECK(lc::status_name(st) == "converted");
    }
    for (int p = 0; p < perturbations; ++p) {
      std::vector<std::vector<v1::Event>> streams;
      for (const auto& s : baskets) {
        streams.push_back(perturbed(rng, s));
        events_folded += streams.back().size();
      }
      const auto got = fold_all(rng, streams, cfg);
      for (const auto& [id, view] : expected) {
        INFO("subject " << id << " perturbation " << p);
        REQUIRE(got.at(id) == view);
      }
    }
  }
  CHECK(events_folded > 0);
}

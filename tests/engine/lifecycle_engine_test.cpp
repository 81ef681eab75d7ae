// The lifecycle engine runner on the embedded backend: exactly-once folding into the store, history, restarts,
// timers. The Kafka run, with a kill -9 mid-stream, is engine_kafka_crash_test.cpp.
#include "broker/engine/lifecycle_engine.h"

#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <thread>

#include "tests/engine/engine_node.h"

using namespace std::chrono_literals;
namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;

namespace {

using namespace passerelle::engine::testing;

std::vector<std::string> types(const std::vector<v1::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(lc::payload_type_name(e));
  return out;
}

std::map<std::string, std::int64_t> quantities(const lc::subject_state& s) {
  std::map<std::string, std::int64_t> out;
  for (const auto& l : std::get<lc::basket_data>(s.data).lines.lines) out[l.line_id] = l.quantity;
  return out;
}

}  // namespace

TEST_CASE("the engine folds snapshots into line history once, drops duplicates and stale snapshots", "[engine]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  node n(dir, clock);
  using lc::test::line;
  n.produce(snapshot("bsk_A", "e1", 10, {line("1", 2, 1000), line("2", 1, 2500)}));
  n.produce(snapshot("bsk_A", "e2", 20, {line("1", 3, 1000), line("3", 1, 500)}));
  n.produce(snapshot("bsk_A", "e1", 10, {line("1", 2, 1000), line("2", 1, 2500)}));  // a redelivery
  n.produce(snapshot("bsk_A", "e0", 5, {line("9", 9, 9)}));                          // older than what we have

  REQUIRE(n.eventually(
      [&] { return n.engine->stats().folded + n.engine->stats().duplicates + n.engine->stats().stale >= 4; }));
  const auto stats = n.engine->stats();
  CHECK(stats.folded == 2);
  CHECK(stats.duplicates == 1);
  CHECK(stats.stale == 1);
  REQUIRE(n.eventually([&] {
    auto s = n.state_of("bsk_A");
    return s && quantities(*s) == std::map<std::string, std::int64_t>{{"1", 3}, {"3", 1}};
  }));
  CHECK(lc::status_name(*n.state_of("bsk_A")) == "active");

  // The history reads as what happened: each snapshot, then the line changes derived from it.
  REQUIRE(n.eventually([&] { return n.history_of("bsk_A").size() >= 8; }));
  CHECK(types(n.history_of("bsk_A")) ==
        std::vector<std::string>{"passerelle.v1.BasketSnapshot", "passerelle.v1.BasketCreated",
                                 "passerelle.v1.BasketLineAdded", "passerelle.v1.BasketLineAdded",
                                 "passerelle.v1.BasketSnapshot", "passerelle.v1.BasketLineAdded",
                                 "passerelle.v1.BasketLineChanged", "passerelle.v1.BasketLineRemoved"});
}

TEST_CASE("a restarted engine resumes from its committed offsets: no event is folded twice", "[engine]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  using lc::test::line;
  std::size_t history_before = 0;
  {
    node n(dir, clock);
    for (int i = 0; i < 50; ++i) {
      n.produce(snapshot("bsk_" + std::to_string(i % 5), "a" + std::to_string(i), 10 + i, {line("1", 1 + i, 100)}));
    }
    REQUIRE(n.eventually([&] { return n.engine->stats().folded == 50; }));
    REQUIRE(n.eventually(
        [&] { return n.reads->applied() > 0 && n.state_of("bsk_4") && quantities(*n.state_of("bsk_4"))["1"] == 50; }));
    for (int s = 0; s < 5; ++s) history_before += n.history_of("bsk_" + std::to_string(s)).size();
  }
  node n(dir, clock);
  for (int i = 50; i < 60; ++i) {
    n.produce(snapshot("bsk_" + std::to_string(i % 5), "a" + std::to_string(i), 10 + i, {line("1", 1 + i, 100)}));
  }
  REQUIRE(n.eventually([&] { return n.engine->stats().folded == 10; }));  // only the new ones
  CHECK(n.engine->stats().duplicates == 0);
  REQUIRE(n.eventually([&] { return quantities(*n.state_of("bsk_4"))["1"] == 60; }));
  // Every event id appears once in the histories.
  std::map<std::string, int> seen;
  REQUIRE(n.eventually([&] {
    std::size_t total = 0;
    for (int s = 0; s < 5; ++s) total += n.history_of("bsk_" + std::to_string(s)).size();
    return total >= history_before + 20;  // 10 snapshots + 10 derived line changes
  }));
  for (int s = 0; s < 5; ++s) {
    for (const auto& e : n.history_of("bsk_" + std::to_string(s))) ++seen[e.event_id()];
  }
  for (const auto& [id, count] : seen) {
    INFO(id);
    CHECK(count == 1);
  }
}

TEST_CASE("an untouched basket is abandoned by the engine's timer, and the history shows it", "[engine]") {
  temp_dir dir;
  manual_clock clock(lc::test::t0);
  lc::lifecycle_config cfg;
  cfg.abandon_after_ms = 3'600'000;
  node n(dir, clock, cfg);
  n.produce(snapshot("bsk_T", "t1", 10, {lc::test::line("1", 1, 100)}));
  REQUIRE(n.eventually([&] { return n.state_of("bsk_T").has_value(); }));
  CHECK(lc::status_name(*n.state_of("bsk_T")) == "active");

  clock.advance(std::chrono::milliseconds(cfg.abandon_after_ms + 1000));
  REQUIRE(n.eventually([&] { return n.engine->stats().timers_fired == 1; }));
  REQUIRE(n.eventually([&] { return lc::status_name(*n.state_of("bsk_T")) == "abandoned"; }));
  REQUIRE(n.eventually([&] { return types(n.history_of("bsk_T")).back() == "passerelle.v1.BasketAbandoned"; }));
}

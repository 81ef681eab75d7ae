#pragma once
// A running engine node for tests: the embedded log, the state store, the materializer and the lifecycle engine,
// wired as the daemon wires them, with a manual clock. Lifecycle: one per test; stops its threads on destruction.

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "broker/engine/engine_topics.h"
#include "broker/engine/lifecycle_engine.h"
#include "broker/engine/materializer.h"
#include "broker/engine/store_layout.h"
#include "broker/lifecycle/state_codec.h"
#include "broker/log/embedded/embedded_log.h"
#include "tests/lifecycle/event_builders.h"
#include "tests/log/temp_dir.h"

namespace passerelle::engine::testing {

using namespace std::chrono_literals;
namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;
using passerelle::core::manual_clock;
using passerelle::log::testing::temp_dir;
using passerelle::state::state_store;

inline constexpr std::int32_t partitions = 4;
inline const std::string prefix = "t.";

// A running node: the log, the store, the materializer and the engine, as the daemon wires them.
struct node {
  const temp_dir& dir;
  manual_clock& clock;
  std::unique_ptr<passerelle::log::event_log> log;
  std::unique_ptr<state_store> store;
  std::unique_ptr<materializer> reads;
  std::unique_ptr<lifecycle_engine> engine;

  node(const temp_dir& d, manual_clock& c, lc::lifecycle_config cfg = {}) : dir(d), clock(c) {
    passerelle::log::embedded_options o;
    o.data_dir = dir.str();
    o.default_partitions = partitions;
    o.sync = false;
    auto l = passerelle::log::open_embedded_log(o, clock);
    REQUIRE(l);
    log = std::move(*l);
    std::vector<passerelle::log::topic_spec> specs;
    for (const auto& t : passerelle::engine::input_topics(prefix)) specs.push_back({t, partitions, 1, {}});
    for (auto& s : passerelle::engine::engine_topic_specs(prefix, partitions, 1)) specs.push_back(s);
    REQUIRE(log->create_topics(specs));
    auto s = state_store::open({dir.str() + "/state"});
    REQUIRE(s);
    store = std::move(*s);
    auto m = materializer::start(*log, *store, materializer_options{prefix, partitions, 4096, 20ms});
    REQUIRE(m);
    reads = std::move(*m);
    engine_options eo;
    eo.topic_prefix = prefix;
    eo.partitions = partitions;
    eo.instance_id = "node-1";
    eo.lifecycle = cfg;
    eo.poll_timeout = 20ms;
    auto e = lifecycle_engine::start(*log, *store, clock, eo);
    REQUIRE(e);
    engine = std::move(*e);
  }
  ~node() {
    engine->stop();
    reads->stop();
  }

  void produce(const v1::Event& e) {
    std::promise<bool> done;
    log->produce(
        {passerelle::engine::topic_for_kind(prefix, e.subject_kind()),
         e.subject_id(),
         e.SerializeAsString(),
         {},
         std::nullopt},
        [&](const passerelle::result<passerelle::log::produce_ack>& r) { done.set_value(static_cast<bool>(r)); });
    REQUIRE(done.get_future().get());
  }

  std::optional<lc::subject_state> state_of(const std::string& id) const {
    auto bytes = store->get(passerelle::engine::state_key(id));
    REQUIRE(bytes);
    if (!*bytes) return std::nullopt;
    auto s = lc::decode(**bytes);
    REQUIRE(s);
    return *s;
  }

  std::vector<v1::Event> history_of(const std::string& id) const {
    std::vector<v1::Event> out;
    REQUIRE(store->scan(passerelle::engine::history_prefix(id), "", 100'000, [&](std::string_view, std::string_view v) {
      v1::Event e;
      REQUIRE(e.ParseFromArray(v.data(), static_cast<int>(v.size())));
      out.push_back(std::move(e));
      return true;
    }));
    return out;
  }

  // Waits (bounded) until `pred` holds; the engine and the materializer run on their own threads.
  template <class Pred>
  bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      INFO("engine error: " << engine->stats().last_error << " / materializer: " << reads->last_error());
      REQUIRE(engine->stats().last_error.empty());
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }
};

// A basket snapshot event of `subject`, versioned and timed by `version`.
inline v1::Event snapshot(const std::string& subject, const std::string& id, std::int64_t version,
                          std::initializer_list<v1::Line> lines) {
  lc::test::env e;
  e.version = version;
  e.at_ms = lc::test::t0 + version;
  auto ev = lc::test::envelope(v1::SUBJECT_KIND_BASKET, subject, id, e);
  auto* s = ev.mutable_basket_snapshot();
  s->set_currency("EUR");
  for (const auto& l : lines) *s->add_lines() = l;
  return ev;
}

}  // namespace passerelle::engine::testing

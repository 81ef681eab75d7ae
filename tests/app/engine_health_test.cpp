// The engine side of /readyz and /metrics, from engine_health samples (the daemon's wiring is in daemon_test).

#include "broker/app/engine_health.h"

#include <catch2/catch.hpp>

#include <string>

using namespace passerelle;

namespace {

app::engine_health running_health() {
  app::engine_health h;
  h.topics_ready = true;
  h.engine = engine::engine_stats{};
  h.engine->running = true;
  h.materializer_applied = 0;
  return h;
}

std::string readiness_code(const app::engine_health& h) {
  const auto r = app::engine_readiness(h);
  return r ? std::string("ready") : r.err().code;
}

}  // namespace

TEST_CASE("readiness fails while the engine or the materializer is not started or has failed", "[daemon][engine]") {
  CHECK(readiness_code(running_health()) == "ready");

  app::engine_health h = running_health();
  h.topics_ready = false;
  CHECK(readiness_code(h) == "topics_missing");

  // start_engine() failed: nothing is running, and the error says why.
  h = running_health();
  h.engine.reset();
  h.engine_error = "invalid_config: engine partitions must be >= 1";
  CHECK(readiness_code(h) == "engine_failed");
  CHECK(app::engine_readiness(h).err().message.find("engine partitions must be >= 1") != std::string::npos);
  CHECK(app::engine_readiness(h).err().kind == error_kind::retry);

  // The engine stopped with an error after starting.
  h = running_health();
  h.engine->running = false;
  h.engine_error = "fatal/fenced";
  CHECK(readiness_code(h) == "engine_failed");

  // The materializer failed to start, or stopped: reads no longer update.
  h = running_health();
  h.materializer_applied.reset();
  h.materializer_error = "corrupt";
  CHECK(readiness_code(h) == "materializer_failed");
  h = running_health();
  h.materializer_error = "changelog_corrupt: x";
  CHECK(readiness_code(h) == "materializer_failed");

  // Topics exist, components not started yet (the short window before start_engine() returns).
  h = running_health();
  h.engine.reset();
  CHECK(readiness_code(h) == "engine_starting");

  // lifecycle.engine: false: no engine on this instance is not a failure; the materializer is still required.
  h.engine_enabled = false;
  CHECK(readiness_code(h) == "ready");
  h.materializer_applied.reset();
  CHECK(readiness_code(h) == "engine_starting");
}

TEST_CASE("engine metrics follow the stats snapshots as counters and gauges", "[daemon][engine][metrics]") {
  obs::registry registry;
  app::engine_health current = running_health();
  app::register_engine_metrics(registry, [&] { return current; });

  std::string out = registry.render();
  CHECK(out.find("# TYPE passerelle_engine_events_total counter\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"applied\"} 0\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_running 1\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_failed 0\n") != std::string::npos);
  CHECK(out.find("passerelle_materializer_running 1\n") != std::string::npos);

  engine::engine_stats& s = *current.engine;
  s.folded = 7;
  s.duplicates = 2;
  s.stale = 3;
  s.rejected = 1;
  s.invalid = 4;
  s.echoes = 5;
  s.timers_fired = 6;
  s.transactions = 9;
  s.aborts = 1;
  s.restored = 11;
  current.materializer_applied = 12;
  out = registry.render();
  CHECK(out.find("passerelle_engine_events_total{outcome=\"applied\"} 7\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"duplicate\"} 2\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"stale\"} 3\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"rejected\"} 1\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"invalid\"} 4\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_events_total{outcome=\"echo\"} 5\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_timers_fired_total 6\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_transactions_total 9\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_aborts_total 1\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_restored_records_total 11\n") != std::string::npos);
  CHECK(out.find("passerelle_materializer_applied_total 12\n") != std::string::npos);
  // A second scrape with nothing new adds nothing.
  CHECK(registry.render() == out);

  // The engine stops with an error: counters keep their totals, the gauges flip.
  s.running = false;
  current.engine_error = "fatal/fenced";
  out = registry.render();
  CHECK(out.find("passerelle_engine_running 0\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_failed 1\n") != std::string::npos);
  CHECK(out.find("passerelle_engine_transactions_total 9\n") != std::string::npos);

  // The materializer fails to start: not running, failed.
  current.materializer_applied.reset();
  current.materializer_error = "io_error: x";
  out = registry.render();
  CHECK(out.find("passerelle_materializer_running 0\n") != std::string::npos);
  CHECK(out.find("passerelle_materializer_failed 1\n") != std::string::npos);
  CHECK(out.find("passerelle_materializer_applied_total 12\n") != std::string::npos);
}

#pragma once
// What operators see of the lifecycle engine and the materializer: their Prometheus metrics and their part of
// /readyz. Both are computed from one `engine_health` sample that the daemon takes at scrape or probe time
// (engine::lifecycle_engine::stats(), engine::materializer::applied()/last_error()), so nothing is added to the
// engine's hot path: the engine keeps its own counters and publishes them once per batch, as it always did.
//
// Metrics (registered by register_engine_metrics, refreshed by a registry collector before every render):
//   passerelle_engine_events_total{outcome}        input events by what the fold did with them: applied,
//                                                  duplicate, stale, rejected, invalid, echo
//   passerelle_engine_timers_fired_total           abandonments and expiries fired
//   passerelle_engine_transactions_total           transactions committed
//   passerelle_engine_aborts_total                 transactions aborted and redone
//   passerelle_engine_restored_records_total       changelog records read back into the store on assignment
//   passerelle_engine_running                      1 while the engine thread folds, else 0
//   passerelle_engine_failed                       1 when the engine failed to start or stopped with an error
//   passerelle_materializer_applied_total          changelog and history records applied to the local store
//   passerelle_materializer_running                1 while the materializer tails its topics, else 0
//   passerelle_materializer_failed                 1 when the materializer failed to start or stopped with an error
// The counters are totals of the current engine and materializer; the error text goes to the log and to
// /readyz, never into a label.
//
// Lifecycle and threads: register once per registry at start-up; the `sample` function is then called on the
// thread rendering /metrics (an I/O thread) and must be quick and non-blocking: it takes the daemon's mutex
// and reads the stats snapshots. The registry must not render after what `sample` reads is gone (the daemon
// stops its HTTP server first).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "broker/core/result.h"
#include "broker/engine/lifecycle_engine.h"
#include "broker/obs/metrics.h"

namespace passerelle::app {

struct engine_health {
  // Whether the topics exist: until then neither component is started (not an error: the daemon retries).
  bool topics_ready = false;
  // lifecycle.engine: false runs no engine here (ingest and reads only): its absence is then not "starting".
  bool engine_enabled = true;
  std::optional<engine::engine_stats> engine;         // nullopt: not started (yet, or its start failed)
  std::string engine_error;                           // why it is not running: its start failure or last_error; "" none
  std::optional<std::uint64_t> materializer_applied;  // nullopt: not started (yet, or its start failed)
  std::string materializer_error;                     // its start failure or last_error(); "" none
};

// The readiness verdict of the engine side (the log's own readiness is checked separately):
//   retry/"topics_missing"       the contract's topics are not created yet
//   retry/"engine_failed"        the engine failed to start, or stopped with an error (message: the error)
//   retry/"materializer_failed"  the same for the materializer: reads would no longer update
//   retry/"engine_starting"      topics exist but the components are not started yet (a short window)
result<void> engine_readiness(const engine_health& h);

// Registers the families above in `registry` and a collector that refreshes them from `sample()`.
// Errors: a name clash in the registry throws std::invalid_argument at start-up (obs::registry's contract).
void register_engine_metrics(obs::registry& registry, std::function<engine_health()> sample);

}  // namespace passerelle::app

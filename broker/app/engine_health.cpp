#include "broker/app/engine_health.h"

#include <array>
#include <memory>
#include <mutex>
#include <utility>

namespace passerelle::app {

result<void> engine_readiness(const engine_health& h) {
  if (!h.topics_ready) return error::retry("topics_missing", "the contract's topics are not created yet");
  if (!h.engine_error.empty()) return error::retry("engine_failed", "lifecycle engine: " + h.engine_error);
  if (!h.materializer_error.empty()) {
    return error::retry("materializer_failed", "materializer (reads no longer update): " + h.materializer_error);
  }
  if ((h.engine_enabled && !h.engine) || !h.materializer_applied) {
    return error::retry("engine_starting", "the lifecycle engine and the materializer are starting");
  }
  return ok();
}

namespace {

// The registry's counters only go up by increments while the components keep totals: each collection adds the
// difference since the previous one. A total smaller than the last one seen means a new component instance
// (counting from zero again), whose whole total is then added. Lifecycle: shared by the collector closure.
// Threads: renders may run concurrently; the mutex orders them.
struct engine_publisher {
  enum total : std::size_t {
    applied,
    duplicate,
    stale,
    rejected,
    invalid,
    echo,
    timers_fired,
    transactions,
    aborts,
    restored,
    materializer_applied,
    count
  };
  std::array<obs::counter*, total::count> counters{};
  std::array<std::uint64_t, total::count> last{};
  obs::gauge* engine_running = nullptr;
  obs::gauge* engine_failed = nullptr;
  obs::gauge* materializer_running = nullptr;
  obs::gauge* materializer_failed = nullptr;
  std::function<engine_health()> sample;
  std::mutex mu;

  void add(total t, std::uint64_t now) {
    std::uint64_t& before = last[t];
    if (now < before) before = 0;
    if (now > before) counters[t]->inc(now - before);
    before = now;
  }

  void collect() {
    const engine_health h = sample();
    const std::lock_guard lock(mu);
    if (h.engine) {
      const engine::engine_stats& s = *h.engine;
      add(applied, s.folded);
      add(duplicate, s.duplicates);
      add(stale, s.stale);
      add(rejected, s.rejected);
      add(invalid, s.invalid);
      add(echo, s.echoes);
      add(timers_fired, s.timers_fired);
      add(transactions, s.transactions);
      add(aborts, s.aborts);
      add(restored, s.restored);
    }
    if (h.materializer_applied) add(materializer_applied, *h.materializer_applied);
    engine_running->set(h.engine && h.engine->running && h.engine_error.empty() ? 1.0 : 0.0);
    engine_failed->set(h.engine_error.empty() ? 0.0 : 1.0);
    materializer_running->set(h.materializer_applied && h.materializer_error.empty() ? 1.0 : 0.0);
    materializer_failed->set(h.materializer_error.empty() ? 0.0 : 1.0);
  }
};

}  // namespace

void register_engine_metrics(obs::registry& registry, std::function<engine_health()> sample) {
  auto p = std::make_shared<engine_publisher>();
  p->sample = std::move(sample);
  auto& events = registry.add_counter(
      "passerelle_engine_events_total",
      "Input events read by the lifecycle engine, by outcome: applied (folded into its subject), duplicate (event id "
      "already folded), stale (older than the subject's state), rejected (illegal transition, kept in the history), "
      "invalid (not a lifecycle event of its subject), echo (the engine's own derived event read back)",
      {"outcome"});
  using t = engine_publisher::total;
  for (const auto& [slot, outcome] :
       {std::pair{t::applied, "applied"}, std::pair{t::duplicate, "duplicate"}, std::pair{t::stale, "stale"},
        std::pair{t::rejected, "rejected"}, std::pair{t::invalid, "invalid"}, std::pair{t::echo, "echo"}}) {
    p->counters[slot] = &events.with({outcome});
  }
  p->counters[t::timers_fired] = &registry
                                      .add_counter("passerelle_engine_timers_fired_total",
                                                   "Lifecycle timers fired by the engine (abandonments and expiries)")
                                      .get();
  p->counters[t::transactions] =
      &registry
           .add_counter("passerelle_engine_transactions_total",
                        "Engine transactions committed (one per poll batch: outputs and input offsets together)")
           .get();
  p->counters[t::aborts] = &registry
                                .add_counter("passerelle_engine_aborts_total",
                                             "Engine transactions aborted and redone from the committed offsets")
                                .get();
  p->counters[t::restored] =
      &registry
           .add_counter("passerelle_engine_restored_records_total",
                        "State changelog records read back into the local store when partitions were assigned")
           .get();
  p->counters[t::materializer_applied] =
      &registry
           .add_counter("passerelle_materializer_applied_total",
                        "State changelog and history records applied to the local store by the materializer")
           .get();
  p->engine_running =
      &registry.add_gauge("passerelle_engine_running", "1 while the lifecycle engine folds events, else 0").get();
  p->engine_failed =
      &registry
           .add_gauge("passerelle_engine_failed",
                      "1 when the lifecycle engine failed to start or stopped with an error (see the log, /readyz)")
           .get();
  p->materializer_running =
      &registry
           .add_gauge("passerelle_materializer_running",
                      "1 while the materializer keeps the local store current (reads update), else 0")
           .get();
  p->materializer_failed =
      &registry
           .add_gauge("passerelle_materializer_failed",
                      "1 when the materializer failed to start or stopped with an error: reads no longer update")
           .get();
  registry.add_collector([p] { p->collect(); });
}

}  // namespace passerelle::app

#include "broker/log/spool/spool_metrics.h"

#include <array>
#include <memory>
#include <mutex>

namespace passerelle::log {

namespace {

constexpr std::array<spool_health, 3> all_health = {spool_health::forwarding, spool_health::spooling,
                                                    spool_health::full};

// The registry's counters only go up by increments, while spool_status carries totals: each publication adds
// the difference since the previous one. Lifecycle: shared by the observer closure, so it lives as long as the
// observer is installed. Threads: the forwarder thread and the registering thread; the mutex orders them.
struct publisher {
  std::array<obs::gauge*, all_health.size()> state{};
  obs::gauge* records = nullptr;
  obs::gauge* bytes = nullptr;
  obs::gauge* capacity = nullptr;
  obs::gauge* oldest_age = nullptr;
  obs::gauge* dead = nullptr;
  obs::counter* spooled = nullptr;
  obs::counter* forwarded = nullptr;
  obs::counter* rescued = nullptr;
  obs::counter* uncertain = nullptr;

  std::mutex mu;
  spool_status last;  // totals already added to the counters

  void publish(const spool_status& st) {
    std::lock_guard lock(mu);
    for (std::size_t i = 0; i < all_health.size(); ++i) state[i]->set(st.health == all_health[i] ? 1.0 : 0.0);
    records->set(static_cast<double>(st.spooled_records));
    bytes->set(static_cast<double>(st.spooled_bytes));
    capacity->set(static_cast<double>(st.capacity_bytes));
    oldest_age->set(static_cast<double>(st.oldest_age_ms) / 1000.0);
    dead->set(static_cast<double>(st.dead_records));
    const auto add = [](obs::counter* c, std::uint64_t now, std::uint64_t& before) {
      if (now > before) c->inc(now - before);
      before = now;
    };
    add(spooled, st.spooled_total, last.spooled_total);
    add(forwarded, st.forwarded_total, last.forwarded_total);
    add(rescued, st.rescued_total, last.rescued_total);
    add(uncertain, st.uncertain_total, last.uncertain_total);
  }
};

}  // namespace

void register_spool_metrics(spooling_log& log, obs::registry& registry) {
  auto p = std::make_shared<publisher>();
  auto& state = registry.add_gauge("passerelle_spool_state",
                                   "Health of the local Kafka-outage spool: 1 for the current state", {"state"});
  for (std::size_t i = 0; i < all_health.size(); ++i)
    p->state[i] = &state.with({std::string(to_string(all_health[i]))});
  p->records = &registry.add_gauge("passerelle_spool_records", "Records in the local spool, not yet in the log").get();
  p->bytes = &registry.add_gauge("passerelle_spool_bytes", "Encoded bytes of the records in the local spool").get();
  p->capacity =
      &registry.add_gauge("passerelle_spool_capacity_bytes", "Bound of the local spool; past it webhooks get 503")
           .get();
  p->oldest_age = &registry
                       .add_gauge("passerelle_spool_oldest_age_seconds",
                                  "Age of the record at the head of the local spool (0 when empty)")
                       .get();
  p->dead =
      &registry
           .add_gauge("passerelle_spool_dead_records", "Spooled records the log refused for good, kept for an operator")
           .get();
  p->spooled = &registry.add_counter("passerelle_spool_spooled_total", "Records appended to the local spool").get();
  p->forwarded =
      &registry
           .add_counter("passerelle_spool_forwarded_total", "Spooled records forwarded to and acknowledged by the log")
           .get();
  p->rescued = &registry
                    .add_counter("passerelle_spool_rescued_total",
                                 "Stalled produces moved into the spool before their delivery timeout")
                    .get();
  p->uncertain =
      &registry
           .add_counter("passerelle_spool_uncertain_total",
                        "Spooled records whose first attempt may have been stored (the only possible duplicates)")
           .get();
  log.set_status_observer([p](const spool_status& st) { p->publish(st); });
}

}  // namespace passerelle::log

#pragma once
// Prometheus metrics of a spooling_log, registered in the daemon's obs::registry and refreshed from
// spooling_log::set_status_observer (about every probe_interval, on the spool's forwarder thread):
//
//   passerelle_spool_state{state="forwarding|spooling|full"}  1 for the current health, 0 for the others
//   passerelle_spool_records                                  records in the spool now
//   passerelle_spool_bytes                                    their encoded size
//   passerelle_spool_capacity_bytes                           the bound (spool_options::max_bytes)
//   passerelle_spool_oldest_age_seconds                       age of the record at the head of the spool (0: empty)
//   passerelle_spool_dead_records                             records refused for good, kept under the dead prefix
//   passerelle_spool_spooled_total / _forwarded_total / _rescued_total / _uncertain_total   counters since start
//
// Lifecycle: call once per spooling_log, after open(). The registry must outlive the log (the daemon creates it
// first); the observer installed here is dropped with the log. Threads: any thread may call it; it replaces a
// status observer already installed on `log`.

#include "broker/log/spool/spooling_log.h"
#include "broker/obs/metrics.h"

namespace passerelle::log {

// Registers the families above (idempotent per registry: a second call reuses them) and installs the observer
// that keeps them current. Errors: none at run time; a name clash in the registry throws std::invalid_argument
// at start-up (obs::registry's contract).
void register_spool_metrics(spooling_log& log, obs::registry& registry);

}  // namespace passerelle::log

#pragma once
// Shared by engine_crash_child and engine_kafka_crash_test: the lifecycle configuration both sides fold with. The
// test's events are dated in 2023 while the child's engine runs on the system clock, so the timers are pushed a
// century away: the test is about exactly-once folding, and a timer firing would make the expected state depend on
// when the test runs.

#include "broker/lifecycle/lifecycle_config.h"

namespace passerelle::engine::testing {

inline lifecycle::lifecycle_config crash_test_lifecycle() {
  constexpr std::int64_t century_ms = 100LL * 365 * 24 * 3600 * 1000;
  lifecycle::lifecycle_config cfg;
  cfg.abandon_after_ms = century_ms;
  cfg.handoff_ttl_ms = century_ms;
  cfg.quote_ttl_ms = century_ms;
  cfg.abandoned_retention_ms = 0;
  return cfg;
}

}  // namespace passerelle::engine::testing

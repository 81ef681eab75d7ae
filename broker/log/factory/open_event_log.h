#pragma once
// Opens the event_log backend the configuration names. The only place that knows both backends, so modules above
// the seam link this and never name a backend.

#include <memory>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log {

struct log_options {
  backend_kind backend = backend_kind::embedded;
  embedded_options embedded;
  kafka_options kafka;
};

// Errors: whatever the backend's open reports (embedded: the store cannot be opened or is locked by another
// process; kafka: invalid client properties). An unreachable Kafka cluster is NOT an open error: it shows in
// check_ready() and in produce completions.
result<std::unique_ptr<event_log>> open_event_log(const log_options& options);

}  // namespace passerelle::log

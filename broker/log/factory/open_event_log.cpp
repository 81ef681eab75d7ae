#include "broker/log/factory/open_event_log.h"

#include "broker/log/embedded/embedded_log.h"
#include "broker/log/kafka/kafka_log.h"

namespace passerelle::log {

result<std::unique_ptr<event_log>> open_event_log(const log_options& options) {
  switch (options.backend) {
    case backend_kind::embedded: return open_embedded_log(options.embedded);
    case backend_kind::kafka: return open_kafka_log(options.kafka);
  }
  return error::fatal("bad_backend", "unknown event log backend");
}

}  // namespace passerelle::log

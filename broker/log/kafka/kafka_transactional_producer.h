#pragma once
// Private to broker/log/kafka/: the Kafka transactional_producer (broker/log/event_log.h) behind
// event_log::open_transactional_producer(): its own librdkafka producer with a transactional.id, separate from the
// event log's ingress producer.

#include <memory>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log::kafka {

// Creates the producer and runs init_transactions (bounded by config.open_timeout), which fences every earlier
// producer with the same transactional id and resolves the transaction it left open. `owner` is the kafka
// event_log (send_offsets accepts only its consumers). Errors: see event_log::open_transactional_producer.
result<std::unique_ptr<transactional_producer>> make_transactional_producer(const kafka_options& options,
                                                                            const transactional_producer_config& config,
                                                                            const void* owner);

}  // namespace passerelle::log::kafka

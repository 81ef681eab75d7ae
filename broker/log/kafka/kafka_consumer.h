#pragma once
// Private to broker/log/kafka/: the two consumer flavours behind event_log::subscribe() and open_reader().

#include <memory>
#include <vector>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log::kafka {

// A consumer-group member (librdkafka high-level consumer, subscribe()). reject/"invalid_config" or
// reject/"invalid" on bad options/config.
result<std::unique_ptr<consumer>> make_group_consumer(const kafka_options& options, consumer_config config);

// A group-less reader, manually assigned to `start` (every offset >= 0). commit() on it is an error.
result<std::unique_ptr<consumer>> make_reader(const kafka_options& options,
                                              const std::vector<topic_partition_offset>& start);

}  // namespace passerelle::log::kafka

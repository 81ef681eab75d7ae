#pragma once
// Private to broker/log/kafka/: the two consumer flavours behind event_log::subscribe() and open_reader().

#include <memory>
#include <vector>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"
#include "broker/log/kafka/kafka_client.h"

namespace passerelle::log::kafka {

// `owner` identifies the event_log that creates a consumer (only compared, never dereferenced), so that
// group_metadata_of() can refuse consumers of another log.

// A consumer-group member (librdkafka high-level consumer, subscribe()). reject/"invalid_config" or
// reject/"invalid" on bad options/config.
result<std::unique_ptr<consumer>> make_group_consumer(const kafka_options& options, consumer_config config,
                                                      const void* owner);

// A group-less reader, manually assigned to `start` (every offset >= 0). commit() on it is an error.
result<std::unique_ptr<consumer>> make_reader(const kafka_options& options,
                                              const std::vector<topic_partition_offset>& start, const void* owner);

// The consumer group metadata of `c` (group, generation, member id: what lets the group coordinator fence a
// zombie in send_offsets_to_transaction), when `c` is a group member made by make_group_consumer with the same
// `owner`; reject/"foreign_consumer" otherwise. Thread: the consumer's owner thread.
result<group_metadata_handle> group_metadata_of(consumer& c, const void* owner);

}  // namespace passerelle::log::kafka

#pragma once
// Private to broker/log/kafka/: librdkafka handles wrapped in RAII types, the configuration builder that
// enforces Passerelle's fixed settings, and the mapping of librdkafka errors to passerelle::error.
// No header outside this folder may include this one (it includes librdkafka).

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log::kafka {

struct handle_deleter {
  void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept { rd_kafka_topic_partition_list_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_AdminOptions_t* p) const noexcept { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const noexcept { rd_kafka_NewTopic_destroy(p); }
  void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); }
  void operator()(const rd_kafka_metadata_t* p) const noexcept { rd_kafka_metadata_destroy(p); }
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* p) const noexcept {
    rd_kafka_ListConsumerGroupOffsets_destroy(p);
  }
  void operator()(rd_kafka_consumer_group_metadata_t* p) const noexcept { rd_kafka_consumer_group_metadata_destroy(p); }
};
template <typename T>
using handle = std::unique_ptr<T, handle_deleter>;

using client_handle = handle<rd_kafka_t>;
using conf_handle = handle<rd_kafka_conf_t>;
using partition_list = handle<rd_kafka_topic_partition_list_t>;
using queue_handle = handle<rd_kafka_queue_t>;
using event_handle = handle<rd_kafka_event_t>;
using metadata_handle = handle<const rd_kafka_metadata_t>;
using group_metadata_handle = handle<rd_kafka_consumer_group_metadata_t>;

enum class client_role { producer, consumer };

// Builds the configuration of one client from `options`: Passerelle's defaults, then the user's
// `options.properties`, refusing (reject/"invalid_config", naming the key) any property Passerelle fixes or
// takes from a dedicated option, and any property librdkafka rejects. Consumer-only settings (group.id,
// auto.offset.reset) are added by the consumer code. Installs the log and error callbacks.
result<conf_handle> make_conf(const kafka_options& options, client_role role);

// Sets one property; reject/"invalid_config" naming it when librdkafka refuses.
result<void> set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// Creates a client from `conf` (consumed on success and on failure).
result<client_handle> make_client(conf_handle conf, client_role role);

// Sends a line to the process-wide hook (kafka_log.h). Thread: any.
void emit_log(int level, std::string_view msg);

// librdkafka error -> passerelle::error, with `context` (what was being done) leading the message.
error map_error(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail = {});

// The client's fatal error (idempotence broken, fenced), if any: fatal/"producer_fatal" naming the cause.
std::optional<error> fatal_error_of(rd_kafka_t* rk);

// Milliseconds as librdkafka's int timeouts, clamped to [0, INT32_MAX].
int to_timeout_ms(std::chrono::milliseconds d) noexcept;

// Partition lists <-> Passerelle types.
partition_list to_list(const std::vector<topic_partition>& parts);
partition_list to_list(const std::vector<topic_partition_offset>& parts);
std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list);

}  // namespace passerelle::log::kafka

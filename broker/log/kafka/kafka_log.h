#pragma once
// The Kafka backend of the event log (broker/log/event_log.h), built on librdkafka 2.0's C API.
// Settings, threading, error mapping and delivery guarantees: broker/log/kafka/README.md.
//
// Nothing in this header exposes librdkafka: callers see only event_log and the options.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log {

// Opens the Kafka backend: one idempotent producer (acks=all, murmur2_random partitioner) with its poller
// thread, used for produce and admin calls; subscribe()/open_reader() create one librdkafka consumer each.
//
// Connecting is lazy: this does not contact the cluster, so a daemon can start (and spool) while Kafka is
// down; use check_ready() to probe it.
//
// Errors (no client is created):
//   reject/"invalid_config" — a bad option, an unknown or malformed librdkafka property, or a property in
//     `options.properties` that Passerelle fixes (acks, enable.idempotence, partitioner, enable.auto.commit,
//     ...) or sets from a dedicated option (message.timeout.ms <- delivery_timeout, ...). The message names
//     the key.
//   fatal/"client_create_failed" — librdkafka refused to create the client.
//
// Thread: any. The returned object may be used from any thread as event_log documents; destroying it joins
// the poller thread after a flush bounded by options.request_timeout, failing what is left with
// retry/"shutting_down". It must outlive every consumer it created.
result<std::unique_ptr<event_log>> open_kafka_log(const kafka_options& options);

// Receives librdkafka's own log lines and client errors (broker down, authentication failures, ...).
// `level` is a syslog level (0 emergency ... 3 error, 4 warning, 6 info, 7 debug); `msg` is valid only for the
// duration of the call. Called from librdkafka's internal threads and from the poller/consumer threads,
// possibly concurrently: the hook must be thread-safe, short and must not call back into the event_log.
using kafka_log_hook = std::function<void(int level, std::string_view msg)>;

// Replaces the process-wide hook (an empty function restores the default, which writes one line per message
// to stderr). Thread: any; takes effect for the next message.
void set_kafka_log_hook(kafka_log_hook hook);

// librdkafka's version string (rd_kafka_version_str()), for `passerelle version`.
std::string kafka_library_version();

}  // namespace passerelle::log

#pragma once
// Options of the two event_log backends, filled from the `backend`, `data_dir` and `kafka` sections of the YAML
// configuration (broker/config/) and by tests directly.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace passerelle::log {

struct embedded_options {
  std::string data_dir = "./passerelle-data";  // the log lives in <data_dir>/log (a RocksDB database)
  std::int32_t default_partitions = 12;        // partitions of topics created without an explicit count
  // Bound of the in-memory produce queue; past it produce() fails at once with retry/"queue_full".
  std::size_t max_queued_records = 100'000;
  // Group commit: the writer thread takes everything queued (up to this many records) into one RocksDB
  // WriteBatch and fsyncs it once; completions fire after the fsync.
  std::size_t max_batch_records = 4096;
  bool sync = true;  // fsync each batch (WriteOptions::sync). Only tests of throughput ceilings turn this off.
};

struct kafka_options {
  std::string bootstrap_servers = "127.0.0.1:9092";
  std::int32_t partitions = 12;  // for topics Passerelle creates
  std::int16_t replication_factor = 1;
  // librdkafka properties passed through as they are (they override Passerelle's defaults, except the safety
  // settings the contract fixes: acks=all, enable.idempotence=true, partitioner=murmur2_random).
  std::map<std::string, std::string> properties;
  // A produce not acknowledged within this is failed with retry/"timed_out" (librdkafka message.timeout.ms).
  std::chrono::milliseconds delivery_timeout{30'000};
  // Bound on admin/metadata calls, so an unreachable cluster gives an error, not a hang.
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_queued_records = 100'000;  // queue.buffering.max.messages
  std::string client_id = "passerelle";
};

}  // namespace passerelle::log

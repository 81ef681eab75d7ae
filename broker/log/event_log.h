#pragma once
// The event log: the one seam between Passerelle and its storage of record.
//
// Two backends implement it and a single conformance suite (tests/log/) proves they behave alike:
//   - kafka    (broker/log/kafka/)    Apache Kafka through librdkafka. The ONLY place in the tree that includes
//                                     librdkafka headers.
//   - embedded (broker/log/embedded/) a single-machine log on RocksDB, for a first run with nothing installed.
// Everything above this seam (ingress, lifecycle engine, ops) runs the same on both.
//
// Model (Kafka's): named topics split into a fixed number of partitions; a record's partition is chosen from its
// key with the Java client's murmur2 partitioner (core/murmur2.h); within a partition records have dense,
// increasing offsets and keep produce order; consumers in a group share a topic's partitions and commit the
// offset of the next record they want.
//
// Threading (see docs/architecture.md):
//   - produce() never blocks and may be called from any thread, including Asio I/O threads. Its completion runs
//     on a backend thread (the Kafka poller thread / the embedded writer thread): it must be short and must not
//     block; to continue on an executor, post to it (broker/log/async_produce.h does that for coroutines).
//   - consumer methods are called from ONE thread, the consumer's owner; poll() blocks up to its timeout, so
//     consumers run on dedicated threads, never on I/O threads.
//   - admin calls (create_topics, list_topics, watermarks, offset_for_time, committed_offsets, flush) may block
//     for up to the backend's request timeout: call them off I/O threads.
//
// Lifetime: an event_log outlives every consumer it created and every pending produce completion; destroying it
// fails still-pending produces with a `retry` error ("shutting_down") after a bounded flush.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.h"

namespace passerelle::log {

struct header {
  std::string key;
  std::string value;
  bool operator==(const header&) const = default;
};
using headers = std::vector<header>;

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const topic_partition&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive
};

struct topic_partition_offset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // for commits: the offset of the NEXT record to consume
  bool operator==(const topic_partition_offset&) const = default;
};

// A record to append. `key` must be non-empty (Passerelle keys every record by subject id).
struct produce_request {
  std::string topic;  // full topic name (prefix already applied)
  std::string key;
  std::string value;  // opaque bytes (a serialized passerelle.v1.Event / DeadLetter)
  headers hdrs;
  std::optional<std::int64_t> timestamp_ms;  // default: append time
};

// Where an acknowledged record was stored. Once you hold this, the record is durable: on Kafka, acked by all
// in-sync replicas (acks=all, idempotent producer); embedded, fsynced to the RocksDB WAL.
struct produce_ack {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;
};

// Called exactly once per produce() call, on a backend thread (see Threading above).
// Errors: retry/"queue_full" (backpressure: the in-memory queue is at its bound; nothing was queued),
// retry/"timed_out" (not acknowledged within the delivery timeout; the record may or may not have been stored),
// retry/"unavailable", retry/"shutting_down", not_found/"unknown_topic", reject/"invalid" (empty key, too large),
// fatal/... (e.g. the idempotent producer fenced).
using produce_callback = std::function<void(result<produce_ack>)>;

// A consumed record.
struct record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
  headers hdrs;
};

enum class offset_reset { earliest, latest };

// Told about partition assignment changes of a group member. Called on the consumer's own thread, from inside
// poll() (never concurrently with it), BEFORE the change takes effect for revocation (so the owner can commit)
// and after it for assignment.
struct rebalance_listener {
  std::function<void(const std::vector<topic_partition>&)> on_assigned;
  std::function<void(const std::vector<topic_partition>&)> on_revoked;
};

struct consumer_config {
  std::string group;                            // consumer group id; members of a group share the partitions
  std::vector<std::string> topics;              // full topic names
  offset_reset reset = offset_reset::earliest;  // where to start a partition with no committed offset
  rebalance_listener listener;                  // optional
};

// A member of a consumer group, or (from event_log::open_reader) a group-less reader of given partitions.
// Not thread-safe: one owner thread calls every method. Destroying it leaves the group (no implicit commit).
class consumer {
 public:
  virtual ~consumer() = default;

  // Up to `max_records` records from the assigned partitions, in offset order per partition, waiting up to
  // `timeout` when none are ready. An empty vector is a timeout, not an error.
  virtual result<std::vector<record>> poll(std::chrono::milliseconds timeout, std::size_t max_records) = 0;

  // Commits, synchronously, the given next-offsets for this member's group (group-less readers: error).
  virtual result<void> commit(const std::vector<topic_partition_offset>& offsets) = 0;

  // Moves this member's position in an assigned partition (replay from an offset). The next poll() starts there.
  virtual result<void> seek(const topic_partition_offset& position) = 0;

  // Partitions currently assigned to this member.
  virtual std::vector<topic_partition> assignment() const = 0;
};

struct topic_spec {
  std::string name;
  std::int32_t partitions = 1;
  std::int16_t replication_factor = 1;
  std::vector<header> config;  // topic configs (e.g. retention.ms=-1, cleanup.policy=compact)
};

struct topic_metadata {
  std::string name;
  std::int32_t partitions = 0;
};

struct watermarks {
  std::int64_t low = 0;   // first offset still stored
  std::int64_t high = 0;  // log-end offset: offset the next record will get
};

enum class backend_kind { embedded, kafka };

class event_log {
 public:
  virtual ~event_log() = default;

  virtual backend_kind kind() const noexcept = 0;

  // Appends a record asynchronously; `done` is called once when the record is durable or failed (see above).
  // Never blocks. When the backend's queue is full, `done` is called with retry/"queue_full" before this returns.
  virtual void produce(produce_request request, produce_callback done) = 0;

  // Joins `config.group` for `config.topics`. Partitions are assigned on the first poll().
  virtual result<std::unique_ptr<consumer>> subscribe(consumer_config config) = 0;

  // A group-less reader positioned at the given offsets (for history reads, DLQ browsing and tools).
  virtual result<std::unique_ptr<consumer>> open_reader(std::vector<topic_partition_offset> start) = 0;

  // Creates the topics that do not exist yet; existing ones are left as they are (not an error).
  virtual result<void> create_topics(const std::vector<topic_spec>& topics) = 0;

  virtual result<std::vector<topic_metadata>> list_topics() = 0;

  virtual result<watermarks> get_watermarks(const topic_partition& tp) = 0;

  // The earliest offset whose timestamp is >= `timestamp_ms` (the log-end offset if none): replay from a time.
  virtual result<std::int64_t> offset_for_time(const topic_partition& tp, std::int64_t timestamp_ms) = 0;

  // Committed next-offsets of `group` for the given partitions (nullopt where the group has not committed).
  virtual result<std::vector<std::optional<std::int64_t>>> committed_offsets(
      const std::string& group, const std::vector<topic_partition>& partitions) = 0;

  // Waits up to `timeout` until every produce issued before this call has completed.
  virtual result<void> flush(std::chrono::milliseconds timeout) = 0;

  // Cheap readiness probe: the backend can take writes right now (broker reachable / store open).
  virtual result<void> check_ready(std::chrono::milliseconds timeout) = 0;
};

}  // namespace passerelle::log

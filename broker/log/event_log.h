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
// offset of the next record they want. One exception to "dense": on Kafka, a transaction's commit/abort marker
// takes an offset in each partition it wrote, and aborted records keep theirs; consumers skip both, so after
// transactions a partition's consumed offsets can have gaps and its log-end offset can be one past the last
// record (lag 1 when caught up). The embedded backend stays dense (nothing is written before commit).
//
// Threading (see docs/architecture.md):
//   - produce() never blocks and may be called from any thread, including Asio I/O threads. Its completion runs
//     on a backend thread (the Kafka poller thread / the embedded writer thread): it must be short and must not
//     block; to continue on an executor, post to it (broker/log/async_produce.h does that for coroutines).
//   - consumer methods are called from ONE thread, the consumer's owner; poll() blocks up to its timeout, so
//     consumers run on dedicated threads, never on I/O threads.
//   - admin calls (create_topics, list_topics, watermarks, offset_for_time, committed_offsets, flush) may block
//     for up to the backend's request timeout: call them off I/O threads.
//   - a transactional_producer (consume-transform-produce, exactly once) is used from ONE owner thread, never an
//     I/O thread; see its section below.
//
// Lifetime: an event_log outlives every consumer and transactional producer it created and every pending produce
// completion; destroying it
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
// Reads committed records only: records of open or aborted transactions are never returned (read_committed).
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

// ---- Transactions: consume-transform-produce, exactly once -----------------------------------------------------
//
// A transactional_producer writes records to several partitions AND moves a consumer group's committed offsets
// as one atomic unit: after commit() every record of the transaction is visible to group consumers and the group's
// offsets have moved; after abort() (or a crash, or being fenced) none of the records is ever visible and the
// offsets have not moved. A loop of "poll input -> begin -> produce outputs -> send_offsets(input's next offsets)
// -> commit" therefore neither loses nor doubles an output when it crashes anywhere: a restarted instance (same
// transactional id) resumes from the last committed input offsets, and the outputs of the unfinished transaction
// were never visible. How each backend does it and its limits: docs/architecture.md ("Transactions").
//
// Errors of the transactional calls (besides those named per call):
//   fatal/"fenced"        another producer was opened with the same transactional id: this one is a zombie and can
//                         do nothing more (every later call answers the same). Its open transaction, if any, was
//                         aborted. Destroy it (and the consumer it fed); the newer instance carries on.
//   fatal/"producer_fatal" the producer failed for good for another reason (Kafka: a fatal client error).
//   retry/"abortable"     the open transaction can no longer commit (a produce of it failed, a rebalance took the
//                         input partitions away, a write failed): call abort(), re-read the input from the group's
//                         committed offsets (seek, or a fresh consumer) and do the work again in a new transaction.
//   retry/"timed_out"     commit()/abort() did not finish within its timeout; the transaction's outcome is not known
//                         yet: call the same method again (commit() may still commit, abort() may still abort).
//                         retry/"unavailable" (Kafka: coordinator not reachable) is answered the same way.
//   conflict/"no_transaction", conflict/"transaction_open"  a call in the wrong state (produce before begin(),
//                         begin() twice, ...): a bug of the caller; nothing changed.

// Settings of one transactional producer.
struct transactional_producer_config {
  // Identifies the logical producer across restarts: ONE id per engine instance (e.g. "<app>.<instance>"),
  // stable across its restarts. Opening a producer with an id fences every earlier producer with that id, and
  // first resolves (commits or aborts) whatever transaction an earlier one left open. 1-249 bytes.
  std::string transactional_id;
  // Bound on opening (Kafka: init_transactions, which may wait for a zombie's transaction to be resolved).
  std::chrono::milliseconds open_timeout{30'000};
  // A transaction left open longer than this is aborted by the backend (Kafka: transaction.timeout.ms, which the
  // broker caps with transaction.max.timeout.ms, 15 min by default; embedded: its commit() answers
  // retry/"abortable", measured with the log's clock). While a transaction is open, read-committed
  // consumers of its partitions stop at its first record, so a crashed instance that is never restarted holds up
  // those partitions for at most this long. Must be >= the backend's delivery timeout (Kafka).
  std::chrono::milliseconds transaction_timeout{60'000};
  // Bound on the records of one transaction; past it produce() fails with reject/"transaction_too_large" and the
  // transaction must be aborted (split the work into smaller transactions).
  std::size_t max_records = 100'000;
};

// One per engine instance (the lifecycle engine's output), separate from the ingress producer (event_log::produce).
// Lifecycle: created by event_log::open_transactional_producer(), owned by its caller, destroyed before the
// event_log that created it (and after, or independently of, the consumers it sends offsets for). Destroying it
// with a transaction open aborts that transaction (bounded by the config's open_timeout).
// Thread: NOT thread-safe; one owner thread calls every method (the thread that polls the input consumer, so that
// poll -> produce -> send_offsets -> commit is one sequence). Every method but produce() may block up to its
// timeout (or the backend's request timeout): never call them from an I/O thread.
class transactional_producer {
 public:
  virtual ~transactional_producer() = default;

  // Starts a transaction. Errors: conflict/"transaction_open" (one is open, or a commit/abort is unfinished),
  // fatal/"fenced", fatal/"producer_fatal".
  virtual result<void> begin() = 0;

  // Adds a record to the open transaction. Never blocks for long (no network wait, no disk write).
  // `done` is called exactly once, on the owner thread:
  //   - at once, before produce() returns, when the record is refused: conflict/"no_transaction" (no transaction
  //     is open; the transaction state is unchanged), or reject/"invalid", not_found/"unknown_topic",
  //     retry/"queue_full", reject/"transaction_too_large" — these also make the transaction abortable (commit()
  //     then answers retry/"abortable"), so a transaction never commits with an output missing;
  //   - otherwise from inside the commit()/abort() call that ends the transaction: with the record's produce_ack
  //     (partition and offset, visible to consumers from now on) when it committed; retry/"aborted" when it was
  //     aborted; fatal/"fenced" (or fatal/"producer_fatal") when it never will be; or the record's own error
  //     (e.g. not_found/"unknown_topic" found only by the broker) when that error made the transaction abortable.
  //   - from the destructor (retry/"aborted") for a transaction still open then.
  // `done` must not call back into this producer.
  virtual void produce(produce_request request, produce_callback done) = 0;

  // Adds to the open transaction the committing of `next_offsets` (for each partition, the offset of the NEXT
  // record to consume) for the group of `input`, so they take effect if and only if the transaction commits.
  // Calling it again in the same transaction replaces the offsets of the same partitions.
  // `input` must be a group member (event_log::subscribe) of the SAME event_log; it keeps being polled by the same
  // owner thread. If `input` loses these partitions to a rebalance before the commit, the commit fails with
  // retry/"abortable" (the new owner will process them: zombie fencing, KIP-447 on Kafka).
  // Errors: reject/"foreign_consumer" (a reader from open_reader(), or a consumer of another event_log),
  // reject/"invalid" (negative offset, empty list), not_found/"unknown_topic", conflict/"no_transaction",
  // retry/"abortable", retry/"timed_out" (Kafka: the group coordinator did not answer; the call may be retried),
  // fatal/"fenced".
  virtual result<void> send_offsets(consumer& input, const std::vector<topic_partition_offset>& next_offsets) = 0;

  // Commits the open transaction: every record produced in it and the offsets sent, atomically and durably
  // (Kafka: on every in-sync replica, with the commit markers written; embedded: one fsynced WriteBatch). Then
  // runs the records' completions (see produce()). An empty transaction commits trivially.
  // Errors: retry/"abortable" (call abort()), retry/"timed_out" (call commit() again), fatal/"fenced",
  // fatal/"producer_fatal", conflict/"no_transaction".
  virtual result<void> commit(std::chrono::milliseconds timeout) = 0;

  // Aborts the open transaction: none of its records will ever be visible to read-committed consumers and no
  // offset moves. Then runs the records' completions with retry/"aborted". Also the way out of retry/"abortable".
  // Errors: retry/"timed_out" (call abort() again), fatal/"fenced", fatal/"producer_fatal",
  // conflict/"no_transaction", conflict/"committed" (embedded: a commit() that had timed out committed after all;
  // the completions ran with their acks).
  virtual result<void> abort(std::chrono::milliseconds timeout) = 0;
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

  // Opens the transactional producer named by `config.transactional_id` (see transactional_producer above),
  // fencing any earlier producer with that id and resolving the transaction it may have left open. Blocks up to
  // config.open_timeout: call it off I/O threads. Consumers of this log read committed records only, on both
  // backends, so records of open or aborted transactions are never delivered to them.
  // Errors: reject/"invalid_config" (empty or overlong id, bad timeouts, max_records 0), retry/"timed_out",
  // retry/"unavailable" (Kafka: no transaction coordinator reachable), unauthorized/..., fatal/"producer_fatal".
  // This default is for decorators and test doubles that do not support transactions:
  // reject/"unsupported". Both backends (and spooling_log, by forwarding) implement it.
  virtual result<std::unique_ptr<transactional_producer>> open_transactional_producer(
      const transactional_producer_config& config) {
    return error::reject("unsupported",
                         "this event_log does not support transactions (producer '" + config.transactional_id + "')");
  }
};

}  // namespace passerelle::log

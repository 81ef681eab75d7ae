#pragma once
// spooling_log: an event_log decorator that keeps accepting records while the inner log (Kafka in production)
// is unavailable, by appending them to a durable local spool (its own RocksDB in <data_dir>/spool), and
// forwards them, in order, once the inner log answers again. The contract's "when Kafka is unavailable,
// accepted webhooks are spooled durably on local disk and forwarded in order when it returns (bounded by size;
// when full, 503)". Guarantees, duplicates and failure cases: broker/log/spool/README.md.
//
// States:
//   direct   — produce() goes to the inner log; the caller's completion is the inner's.
//   spooling — entered when an inner completion fails with a code meaning "the log is unreachable"
//              (is_outage_error below), when a stalled inner produce is confirmed by a failed check_ready()
//              probe, or at open when the spool is not empty. Every produce() is appended to the spool
//              (group-committed, fsynced) and acknowledged once durable there. A forwarder thread probes the
//              inner log and, once it answers, re-produces the spooled records in spool order, deleting each only
//              after the inner log acknowledged it. Back to direct when the spool is empty and nothing is in
//              flight (checked under the same lock produce() takes, so no record can overtake another).
//
// A spooled acknowledgement (produce_ack) has offset == -1 (spooled_offset): the record is durable on local
// disk, not yet in the log. Its partition is the one the record will land on (core::kafka_partition_for_key
// with the partition count last seen for the topic through create_topics()/list_topics() on this object,
// else spool_options::default_partitions); its timestamp_ms is the record's timestamp, fixed at spool time
// (the request's own, else the clock's now), and kept when forwarded.
//
// Threads: produce() from any thread, never blocks (no disk I/O on the caller's thread). Completions run on the
// inner log's thread (direct acks and errors) or on the spool writer thread (spooled acks, spool errors), and
// synchronously inside produce() for immediate refusals. Two threads of its own: the spool writer (group
// commit of appends and deletions) and the forwarder (probes, forwarding). Consumer and admin calls delegate to
// the inner log from the caller's thread.
//
// Lifetime: owns the inner log. Destruction stops the forwarder, destroys the inner log (whose still-pending
// produces complete with retry/"shutting_down" and are then spooled, so a restart forwards them), drains the
// spool writer and closes the spool. Consumers obtained from it must be destroyed first (event_log contract).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/log/event_log.h"

namespace passerelle::log {

// Offset reported in the ack of a record that is in the spool, not yet in the log.
inline constexpr std::int64_t spooled_offset = -1;

struct spool_options {
  std::string dir = "./passerelle-data/spool";  // the spool's own RocksDB (<data_dir>/spool)
  // Bound on the spool: the encoded size of the records in it (topic, key, value, headers). Past it, produce()
  // fails with retry/"spool_full" (HTTP 503 with Retry-After). A record larger than this is reject/"invalid".
  std::uint64_t max_bytes = 1ULL << 30;
  // Bound on records waiting for the spool writer (accepted, not yet fsynced); past it, retry/"queue_full".
  std::size_t max_queued_records = 100'000;
  // Group commit: at most this many appends/deletions per fsynced RocksDB WriteBatch.
  std::size_t max_batch_records = 4096;
  // Records forwarded to the inner log and not yet acknowledged by it (1 gives strict order even if the inner
  // log fails again mid-forward; see README.md).
  std::size_t forward_window = 1000;
  // How often the forwarder probes the inner log (check_ready) while spooling, and each probe's timeout.
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds probe_timeout{2000};
  // In direct state, an inner produce unacknowledged for this long makes the forwarder probe the inner log;
  // a failed probe switches to spooling at once instead of waiting for the inner's delivery timeout (and
  // spools the records still waiting in the inner log, acknowledging their callers). 0 disables it.
  std::chrono::milliseconds stall_after{2000};
  // Partition count assumed for the ack of a spooled record whose topic this object has not seen.
  std::int32_t default_partitions = 12;
};

enum class spool_state { direct, spooling };

// What the spool means for the service right now, for operators (/metrics, /readyz). Derived from the state:
//   forwarding — records reach the inner log: directly, or the inner log answered a probe and the spool drains.
//   spooling   — the inner log is unreachable: records are kept in the spool, and still accepted (ready).
//   full       — the spool is at max_bytes (or refused a record for lack of room and nothing has left it since):
//                new records get retry/"spool_full" (HTTP 503 with Retry-After); not ready.
enum class spool_health { forwarding, spooling, full };

// "forwarding", "spooling", "full" (the label values of the passerelle_spool_state gauge).
std::string_view to_string(spool_health h) noexcept;

// A snapshot for metrics and health (/readyz, /metrics).
struct spool_status {
  spool_state state = spool_state::direct;
  std::uint64_t spooled_records = 0;  // in the spool now (including appends not yet fsynced)
  std::uint64_t spooled_bytes = 0;
  std::uint64_t direct_in_flight = 0;   // produces handed to the inner log, not yet completed
  std::uint64_t forward_in_flight = 0;  // spooled records forwarded, not yet acknowledged
  std::uint64_t dead_records = 0;       // spooled records the inner log refused for good (kept, see README.md)
  std::uint64_t spooled_total = 0;      // since open: records appended to the spool
  std::uint64_t forwarded_total = 0;    // since open: spooled records acknowledged by the inner log
  std::uint64_t rescued_total = 0;      // since open: stalled inner produces spooled before their completion
  // Since open: spooled records whose inner attempt ended in retry/"timed_out" or "shutting_down" (the record
  // may nevertheless have been stored): the only records that can appear twice in the log (README.md).
  std::uint64_t uncertain_total = 0;
  std::string last_inner_error;  // the last outage error seen from the inner log ("" if none)
  spool_health health = spool_health::forwarding;
  std::uint64_t capacity_bytes = 0;  // spool_options::max_bytes: spooled_bytes can reach it, not pass it
  // Age (injected clock) of the record at the head of the spool, the next one to forward; 0 when the spool is
  // empty. Measured from when it was spooled; after a restart, from its acceptance timestamp (kept on disk).
  std::int64_t oldest_age_ms = 0;
};

// Readiness as the spool sees it: ready while it can take records, even with the inner log down; `detail` says
// why ("forwarding", or "spooling: the log is unavailable, ... records kept locally" with the depth and the last
// inner error), and names the bound when full.
struct spool_readiness {
  bool ready = true;
  std::string detail;
};
spool_readiness readiness_of(const spool_status& status);

// True for the inner errors that mean "the log is unreachable right now", which switch to spooling: retry with
// code "unavailable", "timed_out" or "shutting_down". Not "queue_full" (backpressure: the caller retries),
// not reject / not_found / unauthorized / conflict / fatal (spooling would not make them succeed later).
bool is_outage_error(const error& e) noexcept;

class spooling_log final : public event_log {
 public:
  // Opens (creating if missing) the spool in options.dir and wraps `inner`. A non-empty spool (after a crash or
  // a shutdown during an outage) starts in the spooling state and is forwarded once the inner log answers.
  // `clock` stamps spooled records that have no timestamp; it must outlive the log. On error `inner` is destroyed.
  // Errors: reject/"invalid_config" (a bad option, named), retry/"store_locked" (another process has the spool
  // open), fatal/"spool_open_failed" (RocksDB could not open it), fatal/"corrupt_spool".
  static result<std::unique_ptr<spooling_log>> open(std::unique_ptr<event_log> inner, const spool_options& options,
                                                    const core::clock& clock = core::system_clock::instance());

  ~spooling_log() override;
  spooling_log(const spooling_log&) = delete;
  spooling_log& operator=(const spooling_log&) = delete;

  backend_kind kind() const noexcept override;

  // Errors besides the inner log's: retry/"spool_full" (the spool is at max_bytes), retry/"queue_full" (the
  // spool writer queue is at max_queued_records), retry/"spool_write_failed" (the fsync failed; nothing kept),
  // reject/"invalid" (empty key or topic, record larger than the spool). A direct produce failing with an
  // outage error is spooled and acknowledged as spooled instead of failing.
  void produce(produce_request request, produce_callback done) override;

  result<std::unique_ptr<consumer>> subscribe(consumer_config config) override;
  result<std::unique_ptr<consumer>> open_reader(std::vector<topic_partition_offset> start) override;
  // Forwarded to the inner log: transactional output is never spooled (exactly-once needs the log itself; while
  // it is down, open/commit fail with its errors and the engine retries).
  result<std::unique_ptr<transactional_producer>> open_transactional_producer(
      const transactional_producer_config& config) override;
  result<void> create_topics(const std::vector<topic_spec>& topics) override;
  result<std::vector<topic_metadata>> list_topics() override;
  result<watermarks> get_watermarks(const topic_partition& tp) override;
  result<std::int64_t> offset_for_time(const topic_partition& tp, std::int64_t timestamp_ms) override;
  result<std::vector<std::optional<std::int64_t>>> committed_offsets(
      const std::string& group, const std::vector<topic_partition>& partitions) override;

  // Waits up to `timeout` until every produce has completed AND the spool is empty (forwarded and acknowledged
  // by the inner log). retry/"timed_out" with the counts left otherwise (e.g. the inner log is still down).
  result<void> flush(std::chrono::milliseconds timeout) override;

  // OK while produce() can accept records (directly or into the spool); retry/"spool_full" when the spool is
  // at its bound (or refused a record for lack of room and nothing has left it since). The inner log's own health is in
  // status() (last_inner_error, state). Never blocks.
  result<void> check_ready(std::chrono::milliseconds timeout) override;

  spool_status status() const;

  // Called with a fresh status() about every probe_interval on the forwarder thread (and once, at once, on the
  // caller's thread), until replaced or the log is destroyed; nullptr stops it. Must be short and must not call
  // back into this object. For metrics: see spool_metrics.h. Thread-safe.
  void set_status_observer(const std::function<void(const spool_status&)>& observer);

  // The wrapped log (for tests and tools). Owned by this object.
  event_log& inner() noexcept;

  struct impl;

 private:
  explicit spooling_log(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace passerelle::log

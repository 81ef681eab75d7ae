#pragma once
// webhook_ingest: the front door's pipeline, independent of HTTP.
//
//   find connector -> verify (401 unless authentic) -> [ping: 200, nothing kept]
//   -> dedup of the delivery (a retry gets the first answer) -> translate
//      -> reject: the raw request (credentials redacted) is dead-lettered, answered 202 once durable
//      -> events: ids assigned (identity.h), each produced to its subject topic; answered 200 once ALL are durable
//   A produce that fails with a retry error (backpressure, spool full, broker unavailable without spool) answers
//   503 + Retry-After: the platform's retry carries the same delivery id, so the same event ids (dedup downstream).
//
// replay() re-runs a dead letter's stored request through the connector's CURRENT translate() and configuration
// (docs/operations.md): no verify() (the request was authenticated when received, and its credentials were
// redacted since), the same delivery id and so the same event ids as a webhook would have produced.
//
// Metrics (per connector AND account, label cardinality bounded by the configuration): the account label is the
// verified account, which is always a configured one; requests that are not authenticated (or name no configured
// connector) are counted under account="unknown" (and connector="unknown"), never under a value they claim. The
// one exception is a platform ping that names no account (WooCommerce's creation ping): account="".
//
// The outcome is a value; broker/ingest/webhook_routes maps it to HTTP in one place.
//
// Lifecycle: created by `serve` after the event log; lives until shutdown. Thread-safety: handle() is called
// concurrently from I/O threads (it never blocks: produce completions are awaited); set_connectors() may be
// called from any thread (SIGHUP reload) and swaps the connector set atomically.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "broker/core/clock.h"
#include "broker/ingest/delivery_cache.h"
#include "broker/log/event_log.h"
#include "broker/obs/metrics.h"
#include "connectors/sdk/connector.h"
#include "passerelle/v1/dead_letter.pb.h"

namespace passerelle::ingest {

struct ingest_options {
  std::string topic_prefix = "passerelle.";
  std::size_t max_events_per_request = 1000;  // a delivery translating to more is dead-lettered ("too_many_events")
};

enum class outcome_kind {
  accepted,           // every event durable: 200
  ping,               // platform set-up ping: 200, nothing kept
  dead_lettered,      // authenticated but unusable: kept in the DLQ, 202
  unauthorized,       // bad/missing signature, unknown account: 401, nothing kept
  unknown_connector,  // 404
  retry_later,        // nothing (or not everything) durable: 503 + Retry-After
  // replay() only:
  still_unusable,  // translate() still refuses the request: 422 with the new reason (no new dead letter)
  not_configured,  // the dead letter's connector or account is no longer configured: 409
};

struct subject_ref {
  std::string kind;  // "basket", "wishlist", ...
  std::string id;
  bool operator==(const subject_ref&) const = default;
};

struct ingest_outcome {
  outcome_kind kind = outcome_kind::retry_later;
  std::vector<std::string> event_ids;
  std::vector<subject_ref> subjects;  // distinct, in first-seen order
  std::string reason_code;            // for dead_lettered / unauthorized / retry_later
  std::string reason_message;
  bool replayed = false;  // answered from the delivery cache (a platform retry)
};

// What replay() needs of a dead letter: the stored record's value and the platform topic the receiving connector
// named (kept in the record's "platform-topic" header, as DeadLetter has no field for it).
struct dead_letter_input {
  v1::DeadLetter letter;
  std::string platform_topic;
};

// Label value for requests that cannot be attributed to a configured connector or account.
inline constexpr std::string_view unknown_label = "unknown";

// The connectors currently configured, by name.
using connector_set = std::map<std::string, std::shared_ptr<const connector::connector>, std::less<>>;

class webhook_ingest {
 public:
  // `log`, `metrics` and `clock` must outlive this object.
  webhook_ingest(log::event_log& log, obs::registry& metrics, const core::clock& clock, ingest_options options,
                 std::size_t delivery_cache_entries, std::int64_t delivery_cache_window_ms);

  void set_connectors(connector_set connectors);

  // Counts a webhook the HTTP server refused before it reached handle() (`reason`: http::to_string(refusal), i.e.
  // body_too_large, header_too_large, read_timeout) in received and rejected, under the connector when it is
  // configured (else "unknown") and account "unknown": nothing of the request was authenticated. Any thread;
  // never blocks.
  void count_refused(std::string_view connector_name, std::string_view reason);
  std::shared_ptr<const connector_set> connectors() const;

  // `request.received_at_ms` must be set by the caller. `traceparent` may be empty.
  boost::asio::awaitable<ingest_outcome> handle(std::string_view connector_name,
                                                const connector::inbound_request& request, std::string traceparent);

  // Re-runs a dead letter (see the file comment). Outcomes: accepted (the events are durable; 200, the webhook's
  // body), still_unusable (reason_code/message are translate()'s new reason; nothing is written),
  // not_configured (the connector is gone, or translate() answers unknown_account: the account is gone),
  // retry_later (a produce failed). A delivery already accepted by this instance (a platform retry, or an earlier
  // replay) is answered from the delivery cache with `replayed` set and nothing is produced again.
  // Called from an I/O thread; never blocks.
  boost::asio::awaitable<ingest_outcome> replay(const dead_letter_input& input);

 private:
  // Completes `events` (ids, source, times), produces them and waits until all are durable. Updates the cache
  // and the produced/latency metrics on success.
  boost::asio::awaitable<ingest_outcome> produce_events(const connector::connector& c,
                                                        const connector::verified_delivery& delivery,
                                                        std::vector<v1::Event> events, const std::string& traceparent,
                                                        const std::string& cache_key);

  boost::asio::awaitable<ingest_outcome> dead_letter(const connector::connector& c,
                                                     const connector::inbound_request& request,
                                                     const connector::verified_delivery& delivery, const error& reason);

  log::event_log& log_;
  const core::clock& clock_;
  ingest_options options_;
  delivery_cache cache_;

  mutable std::mutex connectors_mu_;
  std::shared_ptr<const connector_set> connectors_;

  obs::counter_family& received_;
  obs::counter_family& verified_;
  obs::counter_family& rejected_;
  obs::counter_family& produced_;
  obs::counter_family& dead_lettered_;
  obs::counter_family& replays_;
  obs::histogram_family& latency_;
};

}  // namespace passerelle::ingest

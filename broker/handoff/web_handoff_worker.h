#pragma once
// web_handoff_worker: carries out store -> web handoffs (CONTRACT.md "Handoffs", {"to": {"web":
// "<connector>:<account>"}}), at least once.
//
// The HTTP route only makes a BasketHandoffRequested{to.web} durable on the basket's topic and answers 202. This
// worker is a member of the consumer group `<prefix>web-handoffs` on that topic (so a request survives a crash
// between the 202 and the platform call, and instances share the work by partition). For each web request it:
//   1. skips it when it has expired (the engine's timer expires it); reads the basket's folded state until it shows
//      the handoff (the engine decides: a request it refused, e.g. for an abandoned basket, never shows and is
//      skipped after `state_attempts` reads) and skips it when the handoff is settled already (accepted, failed,
//      expired, replaced: a redelivery after a crash);
//   2. asks the target connector's checkout_builder (connectors/sdk/checkout_builder.h) for the request, from the
//      basket's lines, currency and customers;
//   3. performs it with outbound_http_client (bounded timeout), again on retry answers and connection failures
//      with exponential backoff, honouring Retry-After, up to `max_attempts`;
//   4. produces BasketHandoffAccepted{checkout_url, target_reference} (the reference also in Event.references) or
//      BasketHandoffFailed{reason_code, message} to the basket's topic; the lifecycle engine folds it.
// The group's offsets are committed only once every outcome of a poll batch is durable. Failure reasons:
// "target_unknown" (connector or account not configured any more), "checkout_unsupported", "checkout_invalid"
// (the basket cannot be expressed on the platform), "target_rejected" (the platform refused: 4xx),
// "target_unavailable" (retry answers until the attempts ran out), "target_unreachable" (network, TLS),
// "basket_unreadable" (the basket's state could not be read).
//
// At least once, not exactly once: a crash after the platform created the checkout and before the outcome is
// durable makes the next owner call the platform again (a second draft order on Shopify; the first stays unused).
// The outcome's event id is derived from the handoff id, so a second outcome of one handoff is a duplicate the
// engine drops: the basket shows the first.
//
// Threads: one worker thread owns the group consumer and an io_context on which the requests of one poll batch
// run concurrently as coroutines (never an HTTP I/O thread); store reads and waits for the log's acknowledgements
// happen on it (bounded). Lifecycle: start() after the topics exist; stop() (or the destructor) abandons calls in
// flight WITHOUT committing their offsets (they are redone by the next owner) and joins. `log`, `clock` and what
// the callbacks use must outlive the worker.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/handoff/outbound_http_client.h"
#include "broker/lifecycle/subject_state.h"
#include "broker/log/event_log.h"
#include "connectors/sdk/checkout_builder.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::handoff {

struct web_handoff_options {
  std::string topic_prefix = "passerelle.";
  std::string group;                            // "" = topic_prefix + "web-handoffs"
  int max_attempts = 4;                         // platform calls per handoff (first one included)
  std::chrono::milliseconds backoff{1'000};     // wait before the 2nd attempt; doubles after each
  std::chrono::milliseconds max_wait{30'000};   // cap of one wait; a longer Retry-After ends the attempts
  int state_attempts = 10;                      // reads of the basket's state until it shows the handoff
  std::chrono::milliseconds state_wait{100};    // wait before the 2nd read; doubles after each (capped by max_wait)
  std::size_t max_batch = 32;                   // records per poll; their web requests run concurrently
  std::chrono::milliseconds poll_timeout{200};  // also bounds how long stop() waits for an idle worker
  outbound_http_options http;                   // timeout (10 s), response bound (1 MiB), CA file
};

struct web_handoff_deps {
  log::event_log* log = nullptr;
  const core::clock* clock = nullptr;
  // The configured connector named `name` (the current one after a reload), or nullptr. Called on the worker thread.
  std::function<std::shared_ptr<const connector::connector>(std::string_view name)> find_connector;
  // The basket's folded state (the local state store). Called on the worker thread; may block briefly.
  std::function<result<lifecycle::subject_state>(const std::string& basket_id)> read_basket;
};

struct web_handoff_stats {
  std::uint64_t accepted = 0;  // BasketHandoffAccepted produced
  std::uint64_t failed = 0;    // BasketHandoffFailed produced
  std::uint64_t skipped = 0;   // expired or already settled requests
  std::uint64_t calls = 0;     // platform calls made (retries included)
  std::string last_error;      // of the consumer or the log; empty when fine
};

// What one handoff came to (the pure part, for tests).
struct web_handoff_outcome {
  bool accepted = false;
  std::string checkout_url;
  std::string target_reference;  // "{connector}:{account}:{native_id}"
  std::string reason_code;       // when failed
  std::string message;           // when failed; no credentials
};

// The event that publishes `outcome` for `request` (a BasketHandoffRequested). Event id "evt_" + 26 Crockford
// base32 characters of SHA-256("web-handoff\n<handoff id>"), the same for both outcomes; source
// {passerelle, web-handoff, <handoff id>}; channel web; occurred/received at `now_ms`.
v1::Event web_handoff_outcome_event(const v1::Event& request, const web_handoff_outcome& outcome, std::int64_t now_ms);

// The basket as a checkout_builder sees it: lines with the source that wrote each, currency, customers, references.
connector::checkout_basket checkout_basket_of(const lifecycle::subject_state& basket, const std::string& handoff_id);

// Retry-After as seconds ("2", "2.0"); nullopt for absent or unparsable values (HTTP dates are not honoured).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

class web_handoff_worker {
 public:
  // Subscribes and starts the worker thread. Errors: reject/"invalid" (missing deps), the log's subscribe errors.
  static result<std::unique_ptr<web_handoff_worker>> start(web_handoff_deps deps, web_handoff_options options);
  ~web_handoff_worker();
  web_handoff_worker(const web_handoff_worker&) = delete;
  web_handoff_worker& operator=(const web_handoff_worker&) = delete;

  // Idempotent; see the lifecycle above.
  void stop();

  web_handoff_stats stats() const;

 private:
  struct impl;
  explicit web_handoff_worker(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace passerelle::handoff

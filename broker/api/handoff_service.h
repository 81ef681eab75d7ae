#pragma once
// Web -> store handoffs (CONTRACT.md "Handoffs"): a code the till types or scans to recall a basket.
//
//   request(basket, store)  checks the basket and the store, draws a code (broker/handoff/handoff_code.h), and
//                           makes a BasketHandoffRequested event durable on the basket's topic; the lifecycle engine
//                           folds it (the handoff enters the basket's state and history) and the materializer
//                           indexes the code's SHA-256 ("k/" keys), so a lookup works once the engine has folded it
//                           (the same eventual-consistency delay as every read). The code itself is never stored:
//                           only its digest is, in the event and the state.
//   peek(code, caller)      the basket behind a code, for the target store's tills: idempotent, changes nothing.
//   accept(code, caller)    the till recalled the basket: a BasketHandoffAccepted event is made durable; the code is
//                           consumed (this instance refuses it at once; every instance once the engine folded it).
//   request_web(basket, "<connector>:<account>")
//                           store -> web: checks the target (options.web_targets) and the basket, and makes a
//                           BasketHandoffRequested{to.web} durable. The checkout itself is created later by the web
//                           handoff worker (broker/handoff/web_handoff_worker.h), which publishes
//                           BasketHandoffAccepted{checkout_url} or BasketHandoffFailed.
// Unknown and malformed codes count against the caller's lookup budget (lookup_limiter); an exhausted budget is
// retry/"rate_limited" with the wait in the message (the routes answer 429 with Retry-After).
//
// Threads: every method blocks (store reads, waiting for the log's acknowledgement): call them on the HTTP layer's
// blocking pool. Thread-safe. Lifecycle: owned by the daemon; `log`, `store`, `clock` outlive it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "broker/api/read_service.h"
#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/handoff/lookup_limiter.h"
#include "broker/log/event_log.h"

namespace passerelle::api {

struct handoff_options {
  std::string topic_prefix = "passerelle.";
  std::chrono::milliseconds ttl{2 * 3600 * 1000};  // lifecycle.handoff_ttl
  std::set<std::string> stores;                    // configured store ids (the contract's `stores:`)
  handoff::lookup_limits limits;
  std::chrono::milliseconds produce_timeout{30'000};
  // Whether checkouts can be created on `connector`:`account` (the connector is configured, supports checkouts,
  // and knows the account). Errors: reject/"unknown_connector", reject/"checkout_unsupported", and the connector's
  // own check_account() errors (not_found/"unknown_account", reject/"checkout_not_configured", ...). Unset: every
  // web target is refused with reject/"checkout_unsupported". Called on the blocking pool; must be thread-safe.
  std::function<result<void>(std::string_view connector, std::string_view account)> web_targets;
};

struct web_handoff_created {
  std::string handoff_id;
  std::int64_t expires_at_ms = 0;
};

struct handoff_created {
  std::string handoff_id;
  std::string code;  // canonical form
  std::int64_t expires_at_ms = 0;
};

// Who asks: a store's till (store token) or an API key with admin role (any store).
struct handoff_caller {
  std::string store_id;  // empty for admin API keys
  std::string limiter_key;
};

struct handoff_peek {
  lifecycle::subject_state basket;
  lifecycle::handoff_state handoff;
};

class handoff_service {
 public:
  handoff_service(log::event_log& log, const read_service& reads, const core::clock& clock, handoff_options options);

  // Errors: not_found/"basket_not_found", reject/"unknown_store", conflict/"basket_closed" (converted, expired),
  // retry (the log could not take the event), fatal.
  result<handoff_created> request(const std::string& basket_id, const std::string& store_id,
                                  const std::string& requested_by);
  // Errors: reject/"malformed_code", not_found/"handoff_not_found", gone: conflict/"handoff_expired" or
  // conflict/"handoff_used" (the routes answer 410), unauthorized/"wrong_store" (another store's code),
  // retry/"rate_limited".
  result<handoff_peek> peek(const std::string& typed_code, const handoff_caller& caller);
  result<handoff_peek> accept(const std::string& typed_code, const handoff_caller& caller, const std::string& till_id);
  // Errors: reject/"bad_web_target" (not "<connector>:<account>"), the web_targets errors (as reject: the routes
  // answer 400), not_found/"basket_not_found", conflict/"basket_closed" or conflict/"basket_not_active" (abandoned,
  // recalled: the engine would refuse the request), retry (the log could not take the event).
  result<web_handoff_created> request_web(const std::string& basket_id, const std::string& web_target,
                                          const std::string& requested_by);

 private:
  result<handoff_peek> find(const std::string& typed_code, const handoff_caller& caller);
  result<void> produce_and_wait(const v1::Event& event);
  void remember_consumed(const std::string& code_sha256);
  bool consumed(const std::string& code_sha256);

  log::event_log& log_;
  const read_service& reads_;
  const core::clock& clock_;
  const handoff_options options_;
  handoff::lookup_limiter limiter_;
  std::mutex consumed_mutex_;
  std::list<std::string> consumed_order_;  // bounded: the oldest digests are forgotten first
  std::unordered_set<std::string> consumed_;
};

}  // namespace passerelle::api

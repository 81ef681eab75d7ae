#pragma once
// Idempotency-Key support for POST routes (contract: "a repeat returns the first answer").
//
// The scope of a key is (principal id, route operation id, key). For each scope the store remembers the SHA-256
// of the request body and, once the handler has answered, the complete response:
//   - first request            → proceed (the handler runs; the entry is "in flight")
//   - repeat while in flight   → 409 idempotency_in_flight
//   - repeat, same body digest → the stored response, replayed with `Idempotency-Replayed: true`
//   - repeat, other body       → 422 idempotency_key_reused
// Responses with a 5xx status are NOT stored: the key is released so that the client's retry runs the handler
// again (a 503 "try later" must not be replayed forever). 4xx and 2xx answers are stored.
//
// Bounds: at most `max_entries` scopes; entries expire `ttl_ms` after they were created (clock injectable, see
// broker/core/clock.h). When full, expired entries go first, then the oldest completed ones; if every entry is in
// flight the new request is refused with `retry` (503). In-flight entries never expire: they end when their
// handler does.
//
// Scope of the guarantee: per instance, in memory. Two instances behind a load balancer do not share keys, and
// a restart forgets them. (A shared store on the event log can replace this class behind the same interface.)
//
// Lifecycle and ownership: owned by the server (or the daemon, shared with it); outlives every request.
// Threading: every method may be called from any thread (one mutex; each call is O(log n) plus expiry work
// amortised over insertions).

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/http/auth.h"
#include "broker/http/json.h"

namespace passerelle::http {

struct idempotency_options {
  std::size_t max_entries = 100'000;
  std::int64_t ttl_ms = 24LL * 3600 * 1000;
};

// Keys are 1..255 visible ASCII characters (0x21..0x7e). Error: reject "bad_idempotency_key".
result<void> validate_idempotency_key(std::string_view key);

class idempotency_store {
 public:
  idempotency_store(idempotency_options opts, const core::clock& clk);

  enum class outcome { proceed, replay, in_flight, mismatch, full };
  struct begin_result {
    outcome k = outcome::proceed;
    std::optional<response> stored;  // when replay
  };

  static std::string scope(std::string_view principal_id, std::string_view operation_id, std::string_view key);

  // Looks the scope up and, when it is new, records it as in flight.
  begin_result begin(const std::string& scope, const sha256_digest& body_digest);
  // Ends an in-flight entry: stores `res` (status < 500) or releases the scope (5xx).
  void complete(const std::string& scope, const response& res);
  // Ends an in-flight entry without storing anything (the handler failed or the connection went away).
  void release(const std::string& scope);

  std::size_t size() const;

 private:
  struct entry {
    sha256_digest digest;
    std::int64_t created_ms = 0;
    std::optional<response> res;  // nullopt while in flight
    std::list<std::string>::iterator order;
  };
  void erase_locked(std::unordered_map<std::string, entry>::iterator it);
  bool make_room_locked(std::int64_t now);

  const idempotency_options opts_;
  const core::clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> order_;  // creation order == expiry order (one TTL for all)
};

}  // namespace passerelle::http

#include "broker/http/idempotency.h"

#include <openssl/crypto.h>

namespace passerelle::http {

result<void> validate_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) {
    return error::reject("bad_idempotency_key", "Idempotency-Key must be 1 to 255 characters");
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return error::reject("bad_idempotency_key", "Idempotency-Key must be visible ASCII characters");
    }
  }
  return ok();
}

idempotency_store::idempotency_store(idempotency_options opts, const core::clock& clk)
    : opts_(opts.max_entries == 0 ? idempotency_options{1, opts.ttl_ms} : opts), clock_(clk) {}

std::string idempotency_store::scope(std::string_view principal_id, std::string_view operation_id,
                                     std::string_view key) {
  // '\n' cannot appear in any of the three parts (keys are visible ASCII), so the join is unambiguous.
  std::string s;
  s.reserve(principal_id.size() + operation_id.size() + key.size() + 2);
  s.append(principal_id).append(1, '\n').append(operation_id).append(1, '\n').append(key);
  return s;
}

void idempotency_store::erase_locked(std::unordered_map<std::string, entry>::iterator it) {
  order_.erase(it->second.order);
  entries_.erase(it);
}

bool idempotency_store::make_room_locked(std::int64_t now) {
  // Expired completed entries first (oldest at the front of order_).
  for (auto o = order_.begin(); o != order_.end();) {
    auto it = entries_.find(*o);
    ++o;
    if (it->second.created_ms + opts_.ttl_ms > now) break;
    if (it->second.res) erase_locked(it);
  }
  if (entries_.size() < opts_.max_entries) return true;
  // Still full: evict the oldest completed entry.
  for (const auto& key : order_) {
    auto it = entries_.find(key);
    if (it->second.res) {
      erase_locked(it);
      return true;
    }
  }
  return false;  // every entry is in flight
}

idempotency_store::begin_result idempotency_store::begin(const std::string& scope, const sha256_digest& body_digest) {
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mu_);
  auto it = entries_.find(scope);
  if (it != entries_.end() && it->second.res && it->second.created_ms + opts_.ttl_ms <= now) {
    erase_locked(it);  // expired: treat as new
    it = entries_.end();
  }
  if (it != entries_.end()) {
    const entry& e = it->second;
    if (CRYPTO_memcmp(e.digest.data(), body_digest.data(), body_digest.size()) != 0) return {outcome::mismatch, {}};
    if (!e.res) return {outcome::in_flight, {}};
    return {outcome::replay, *e.res};
  }
  if (entries_.size() >= opts_.max_entries && !make_room_locked(now)) return {outcome::full, {}};
  order_.push_back(scope);
  entry e{body_digest, now, std::nullopt, std::prev(order_.end())};
  entries_.emplace(scope, std::move(e));
  return {outcome::proceed, {}};
}

void idempotency_store::complete(const std::string& scope, const response& res) {
  if (res.result_int() >= 500) {
    release(scope);
    return;
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(scope);
  if (it == entries_.end() || it->second.res) return;
  it->second.res = res;
}

void idempotency_store::release(const std::string& scope) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(scope);
  if (it != entries_.end() && !it->second.res) erase_locked(it);
}

std::size_t idempotency_store::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace passerelle::http

#pragma once
// Bearer authentication for the read, handoff and admin APIs and the POS gateway.
//
// Credentials come from the config: API keys (`api_keys: [{key, roles}]`) and store tokens (`stores: [{id,
// tokens}]`). Each secret is written either as "sha256:<64 hex>" (the digest of the key) or in plain, in which case
// it is hashed at load; only SHA-256 digests are kept in memory. A request presents `Authorization: Bearer <key>`;
// the key is hashed and compared with EVERY configured digest in constant time (core::constant_time_equal, no early
// exit),
// so response timing reveals nothing about which digest is closest.
//
// Roles: read, handoff, admin; admin implies the others. A store token grants a till's rights for its own store
// only (routes declare which path parameter names the store).
//
// Runtime replacement (SIGHUP): `credentials_store` holds an atomically swapped shared_ptr<const credentials>;
// a request takes one snapshot and uses it throughout, so a reload never mixes old and new keys in one request.
//
// Threading: `credentials` is immutable once built; `credentials_store` may be read and replaced from any thread.
// Ownership: the daemon owns the credentials_store and outlives the server that reads it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/crypto.h"
#include "broker/core/result.h"

namespace passerelle::http {

enum class role : std::uint8_t { read = 1, handoff = 2, admin = 4 };

// "read" | "handoff" | "admin".
result<role> parse_role(std::string_view s);
std::string_view to_string(role r) noexcept;

// Digests come from Passerelle's one crypto library (broker/core/crypto.h); these names are kept for the HTTP
// layer's callers (idempotency body digests, tests).
using core::sha256;
using core::sha256_digest;
// Lowercase hex of `n` bytes at `data`.
inline std::string to_hex(const unsigned char* data, std::size_t n) { return core::to_hex(std::span(data, n)); }

// "sha256:<64 lowercase or uppercase hex>" → that digest; anything else is a plain secret → its SHA-256.
// An empty secret, or a "sha256:" prefix followed by anything but 64 hex digits, is an error.
result<sha256_digest> parse_secret(std::string_view configured);

// Who made a request, once authenticated.
struct principal {
  enum class kind { anonymous, api_key, store_token };
  kind k = kind::anonymous;
  std::uint8_t roles = 0;  // bit set of `role` (api keys; admin already expanded to all roles)
  std::string store_id;    // store tokens only
  // A stable, non-secret identifier: "key:<first 16 hex of the digest>" / "store:<id>:<first 16 hex>" /
  // "anonymous". Used to scope idempotency keys and in access logs.
  std::string id = "anonymous";

  bool has_role(role r) const noexcept { return (roles & static_cast<std::uint8_t>(r)) != 0; }
};

// Immutable set of credentials; build it with `add_api_key` / `add_store_token`, then publish it.
class credentials {
 public:
  // `roles` must not be empty. Errors: bad secret (see parse_secret), no role.
  result<void> add_api_key(std::string_view secret, const std::vector<role>& roles);
  // `store_id` must not be empty.
  result<void> add_store_token(std::string_view store_id, std::string_view secret);

  // Looks a presented bearer key up. Compares against every entry in constant time per entry.
  std::optional<principal> find(std::string_view presented_key) const;

  std::size_t api_key_count() const noexcept { return api_keys_.size(); }
  std::size_t store_token_count() const noexcept { return store_tokens_.size(); }

 private:
  struct api_key_entry {
    sha256_digest digest;
    std::uint8_t roles;
  };
  struct store_token_entry {
    sha256_digest digest;
    std::string store_id;
  };
  std::vector<api_key_entry> api_keys_;
  std::vector<store_token_entry> store_tokens_;
};

// The live credentials, replaceable at runtime.
class credentials_store {
 public:
  explicit credentials_store(std::shared_ptr<const credentials> initial = std::make_shared<const credentials>())
      : current_(std::move(initial)) {}
  std::shared_ptr<const credentials> snapshot() const { return current_.load(std::memory_order_acquire); }
  void replace(std::shared_ptr<const credentials> next) { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const credentials>> current_;
};

// What a route demands.
struct auth_requirement {
  enum class kind {
    none,             // open (health, webhooks: connectors verify their own signatures)
    role,             // an API key holding `needed` (admin implies every role)
    store_token,      // a store token for the store named by path parameter `store_param`, or an admin API key
    any_store_token,  // any valid store token (the handler checks which store), or an admin API key
  };
  kind k = kind::none;
  http::role needed = http::role::read;
  std::string store_param = "store";

  static auth_requirement none() { return {}; }
  static auth_requirement of_role(http::role r) { return {kind::role, r, "store"}; }
  static auth_requirement store(std::string param = "store") {
    return {kind::store_token, http::role::admin, std::move(param)};
  }
  static auth_requirement any_store() { return {kind::any_store_token, http::role::admin, "store"}; }
};

// The outcome of checking a request against a requirement.
struct auth_outcome {
  enum class verdict { allowed, unauthenticated, forbidden };
  verdict v = verdict::allowed;
  principal who;        // when allowed (anonymous for open routes without credentials)
  std::string message;  // why not, for the error body (never echoes the presented key)
};

// Parses `Authorization` (may be absent: nullopt) and checks it against `req`. `store_param_value` is the decoded
// value of the route's store parameter when the requirement is `store_token`.
// Open routes still resolve a presented valid key into the principal (and ignore an invalid one).
auth_outcome check_auth(const credentials& creds, const auth_requirement& req,
                        std::optional<std::string_view> authorization_header,
                        std::optional<std::string_view> store_param_value);

}  // namespace passerelle::http

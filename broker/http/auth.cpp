#include "broker/http/auth.h"

namespace passerelle::http {

result<role> parse_role(std::string_view s) {
  if (s == "read") return role::read;
  if (s == "handoff") return role::handoff;
  if (s == "admin") return role::admin;
  return error::reject("bad_role", "unknown role '" + std::string(s) + "' (expected read, handoff or admin)");
}

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::read: return "read";
    case role::handoff: return "handoff";
    case role::admin: return "admin";
  }
  return "read";
}

namespace {

std::string short_id(const sha256_digest& d) { return core::to_hex(std::span<const std::uint8_t>(d).first(8)); }

}  // namespace

result<sha256_digest> parse_secret(std::string_view configured) {
  if (configured.empty()) return error::reject("empty_secret", "a key or token must not be empty");
  constexpr std::string_view prefix = "sha256:";
  if (!configured.starts_with(prefix)) return sha256(configured);
  const std::string_view hex = configured.substr(prefix.size());
  if (hex.size() != 64) {
    return error::reject("bad_secret_digest", "a 'sha256:' secret needs exactly 64 hex digits, got " +
                                                  std::to_string(hex.size()) + " characters");
  }
  const auto d = core::sha256_from_hex(hex);
  if (!d) return error::reject("bad_secret_digest", "a 'sha256:' secret must be hexadecimal");
  return *d;
}

result<void> credentials::add_api_key(std::string_view secret, const std::vector<role>& roles) {
  if (roles.empty()) return error::reject("no_roles", "an API key needs at least one role");
  auto d = parse_secret(secret);
  if (!d) return std::move(d).err();
  std::uint8_t bits = 0;
  for (role r : roles) {
    bits |= static_cast<std::uint8_t>(r);
  }
  if (bits & static_cast<std::uint8_t>(role::admin)) bits = 0x7;  // admin implies every role
  api_keys_.push_back({*d, bits});
  return ok();
}

result<void> credentials::add_store_token(std::string_view store_id, std::string_view secret) {
  if (store_id.empty()) return error::reject("no_store_id", "a store token needs a store id");
  auto d = parse_secret(secret);
  if (!d) return std::move(d).err();
  store_tokens_.push_back({*d, std::string(store_id)});
  return ok();
}

std::optional<principal> credentials::find(std::string_view presented_key) const {
  const sha256_digest d = sha256(presented_key);
  // Visit every entry whatever matches, so the time taken does not depend on where (or whether) it matched.
  const api_key_entry* key_hit = nullptr;
  for (const auto& e : api_keys_) {
    if (core::constant_time_equal(e.digest, d)) key_hit = &e;
  }
  const store_token_entry* store_hit = nullptr;
  for (const auto& e : store_tokens_) {
    if (core::constant_time_equal(e.digest, d)) store_hit = &e;
  }
  if (key_hit) {
    principal p;
    p.k = principal::kind::api_key;
    p.roles = key_hit->roles;
    p.id = "key:" + short_id(d);
    return p;
  }
  if (store_hit) {
    principal p;
    p.k = principal::kind::store_token;
    p.store_id = store_hit->store_id;
    p.id = "store:" + store_hit->store_id + ":" + short_id(d);
    return p;
  }
  return std::nullopt;
}

namespace {

// RFC 7235: the scheme is case-insensitive; one or more spaces separate it from the token.
std::optional<std::string_view> bearer_token(std::string_view h) {
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return std::nullopt;
  }
  if (h[scheme.size()] != ' ') return std::nullopt;
  std::string_view tok = h.substr(scheme.size());
  while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
  if (tok.empty() || tok.find(' ') != std::string_view::npos) return std::nullopt;
  return tok;
}

}  // namespace

auth_outcome check_auth(const credentials& creds, const auth_requirement& req,
                        std::optional<std::string_view> authorization_header,
                        std::optional<std::string_view> store_param_value) {
  auth_outcome out;
  std::optional<principal> who;
  std::optional<std::string_view> token;
  if (authorization_header) token = bearer_token(*authorization_header);
  if (token) who = creds.find(*token);

  if (req.k == auth_requirement::kind::none) {
    if (who) out.who = *who;
    return out;
  }
  if (!authorization_header) {
    out.v = auth_outcome::verdict::unauthenticated;
    out.message = "missing Authorization: Bearer credentials";
    return out;
  }
  if (!token) {
    out.v = auth_outcome::verdict::unauthenticated;
    out.message = "Authorization must be 'Bearer <key>'";
    return out;
  }
  if (!who) {
    out.v = auth_outcome::verdict::unauthenticated;
    out.message = "unknown API key or store token";
    return out;
  }
  out.who = *who;
  const bool is_admin = who->k == principal::kind::api_key && who->has_role(role::admin);
  switch (req.k) {
    case auth_requirement::kind::none: break;
    case auth_requirement::kind::role:
      if (who->k != principal::kind::api_key || !who->has_role(req.needed)) {
        out.v = auth_outcome::verdict::forbidden;
        out.message = "this operation needs an API key with role '" + std::string(to_string(req.needed)) + "'";
      }
      break;
    case auth_requirement::kind::store_token:
      if (is_admin) break;
      if (who->k != principal::kind::store_token || !store_param_value || who->store_id != *store_param_value) {
        out.v = auth_outcome::verdict::forbidden;
        out.message = "this operation needs the store token of this store";
      }
      break;
    case auth_requirement::kind::any_store_token:
      if (is_admin) break;
      if (who->k != principal::kind::store_token) {
        out.v = auth_outcome::verdict::forbidden;
        out.message = "this operation needs a store token";
      }
      break;
  }
  return out;
}

}  // namespace passerelle::http

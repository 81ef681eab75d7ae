#pragma once
// Passerelle's configuration: the YAML file of the contract ("Configuration (YAML)" in CONTRACT.md), loaded once
// at start-up into plain value structs, validated as a whole, with every default of the contract filled in.
// docs/configuration.md lists every key, its default and its bound.
//
// Lifecycle and ownership: `config` is a plain value. main() loads it, owns it, and hands const references (or
// copies of sections) to the modules it starts. On SIGHUP, reload_secrets() builds a NEW config that differs from
// the running one only in secrets and tokens; the owner swaps it in (modules that hold credentials take a
// shared_ptr<const ...> that is swapped atomically). Nothing here is shared or mutated behind anyone's back.
//
// Thread-safety: the functions are reentrant; they read the process environment (getenv) for `${NAME}`.
//
// Errors: every function returns passerelle::result. A bad configuration is error_kind::reject, code
// "bad_config", and a message of ONE line that starts with "config: " and names the key path, e.g.
//   config: kafka.partitions: expected an integer >= 1, got "x"
//   config: connectors.shopify.accounts["a.myshopify.com"].secrets: environment variable SHOP_SECRET is not set
// An unreadable file is error_kind::not_found (missing) or reject, code "config_unreadable". Secret values are
// never echoed in messages.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/crypto.h"
#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::config {

// ---- http ---------------------------------------------------------------------------------------------------

struct tls_config {
  std::string cert;  // PEM certificate chain file; read by the HTTP server at start (its errors name the file)
  std::string key;   // PEM private key file
  bool operator==(const tls_config&) const = default;
};

struct listen_address {
  std::string host = "127.0.0.1";  // IPv4/IPv6 literal or a host name; IPv6 written "[::1]:8080" in YAML
  std::uint16_t port = 8080;       // 0 = an ephemeral port (tests)
  bool operator==(const listen_address&) const = default;
  // "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
};

struct http_config {
  listen_address listen;
  std::optional<tls_config> tls;  // absent: plain HTTP
  bool operator==(const http_config&) const = default;
};

// ---- kafka --------------------------------------------------------------------------------------------------

struct kafka_config {
  std::string bootstrap_servers = "127.0.0.1:9092";
  std::string topic_prefix = "passerelle.";  // applies to both backends, so topic names agree
  std::int32_t partitions = 12;              // of topics Passerelle creates; the embedded backend uses it too
  std::int16_t replication_factor = 1;
  // librdkafka passthrough ("key: value" strings as written). The contract's safety settings (acks=all,
  // enable.idempotence=true, partitioner=murmur2_random) cannot be changed: a different value is a config error.
  std::map<std::string, std::string> properties;
  bool operator==(const kafka_config&) const = default;
};

// ---- api keys and stores ------------------------------------------------------------------------------------

// API keys and store tokens are kept only as SHA-256 digests ("sha256:<hex>" as written, or a plain value hashed
// at load and its copies wiped), so a memory dump or a log line never shows a usable key (broker/core/crypto.h).
using sha256_digest = core::sha256_digest;

enum class role : std::uint8_t { read = 1, handoff = 2, admin = 4 };

// A set of roles. admin implies read and handoff (the HTTP layer checks with `grants`).
struct role_set {
  std::uint8_t bits = 0;
  void add(role r) noexcept { bits = static_cast<std::uint8_t>(bits | static_cast<std::uint8_t>(r)); }
  bool has(role r) const noexcept { return (bits & static_cast<std::uint8_t>(r)) != 0; }
  // What a key may do: its own roles, plus everything when it has admin.
  bool grants(role r) const noexcept { return has(r) || has(role::admin); }
  bool empty() const noexcept { return bits == 0; }
  bool operator==(const role_set&) const = default;
};

struct api_key {
  sha256_digest digest{};  // SHA-256 of the key; the plain key is never kept
  role_set roles;
  bool operator==(const api_key&) const = default;
};

// A store's POS gateway credentials (a store token grants a till's rights for that store only).
struct store_config {
  std::string id;                     // BusinessUnit/UnitID in POSLog; no '/', ':', spaces or control characters
  std::vector<sha256_digest> tokens;  // at least one
  bool operator==(const store_config&) const = default;
};

// ---- connectors ---------------------------------------------------------------------------------------------

// A generic configuration tree (for connector sections): null, a scalar (as a string, `${NAME}` already
// replaced), a sequence, or a mapping. It mirrors connectors/sdk/config_node.h kind for kind (null, scalar, list,
// map), so the host converts one into the other without loss; it is separate so that this module does not
// depend on the connector SDK (and its protobuf code).
struct config_node {
  enum class node_kind { null, scalar, sequence, mapping };
  node_kind kind = node_kind::null;
  std::string scalar;
  std::vector<config_node> sequence;
  std::map<std::string, config_node> mapping;

  bool operator==(const config_node&) const = default;

  // The scalar at `key` of a mapping, or nullptr (absent, or not a scalar).
  const std::string* find_scalar(const std::string& key) const;
  // The scalars of the sequence at `key` of a mapping (empty when absent). Non-scalar items are skipped (the
  // loader has already refused them for known connectors).
  std::vector<std::string> scalars(const std::string& key) const;
  // The child at `key` of a mapping, or nullptr.
  const config_node* find(const std::string& key) const;
};

// One connector's section, `connectors.<name>`. The loader checks its SHAPE only: a mapping whose `accounts` is a
// mapping of account key -> fields, each field a string, a list of strings or a mapping of the same, `${NAME}`
// replaced. Which fields a connector takes, their types, which are required and how its account keys are
// normalised belong to the connector's factory alone (connectors/sdk connector_factory::create, run by the daemon
// at start-up and on SIGHUP), so config and connectors cannot disagree. Whether any connector has this name is
// also the daemon's check (its registry of factories).
struct connector_config {
  // Account key as written (no spaces, control characters or ':') -> its fields (a mapping node).
  std::map<std::string, config_node> accounts;
  // `body_bytes`: the largest webhook body this connector takes (1 - 1073741824; larger: 413, not read further);
  // nullopt: limits.body_bytes. A host setting, checked by the loader and never passed to the factory.
  std::optional<std::uint64_t> body_bytes;
  // The section as the connector factory takes it: {accounts: {...}} plus any other key as written except
  // body_bytes (factories refuse keys they do not know, naming them).
  config_node raw;
  bool operator==(const connector_config&) const = default;
};

// ---- smaller sections ---------------------------------------------------------------------------------------

struct plugins_config {
  std::string dir = "./plugins";  // "" disables plugins
  bool operator==(const plugins_config&) const = default;
};

struct limits_config {
  std::uint64_t body_bytes = 1'048'576;            // larger request bodies get 413
  std::uint64_t header_bytes = 16'384;             // larger request headers get 431
  std::chrono::milliseconds read_timeout{10'000};  // `read_timeout_ms`: a request not fully read in time is closed
  std::uint64_t max_connections = 10'000;          // further connections wait in the accept backlog
  bool operator==(const limits_config&) const = default;
};

struct lifecycle_config {
  std::chrono::milliseconds abandon_after{std::chrono::hours{24}};
  std::chrono::milliseconds handoff_ttl{std::chrono::hours{2}};
  std::chrono::milliseconds quote_ttl{std::chrono::hours{720}};
  // Whether this instance runs the lifecycle engine (and the web handoff worker). false: an ingest and read
  // instance only (webhooks, reads from the materialised store); some other instance must run the engine.
  bool engine = true;
  bool operator==(const lifecycle_config&) const = default;
};

struct dedup_config {
  std::chrono::milliseconds window{std::chrono::hours{72}};
  bool operator==(const dedup_config&) const = default;
};

struct lag_config {
  std::vector<std::string> groups;  // consumer groups to watch; empty = Passerelle's own groups
  std::chrono::milliseconds window{std::chrono::minutes{10}};
  bool operator==(const lag_config&) const = default;
};

enum class log_format { text, json };
enum class log_level { trace, debug, info, warn, error };

struct log_config {
  log_format format = log_format::text;
  log_level level = log_level::info;
  bool operator==(const log_config&) const = default;
};

// ---- the whole file -----------------------------------------------------------------------------------------

struct config {
  http_config http;
  log::backend_kind backend = log::backend_kind::embedded;
  std::string data_dir = "./passerelle-data";
  kafka_config kafka;
  std::vector<api_key> api_keys;
  std::map<std::string, connector_config> connectors;
  plugins_config plugins;
  std::vector<store_config> stores;
  limits_config limits;
  lifecycle_config lifecycle;
  dedup_config dedup;
  lag_config lag;
  log_config log;
  bool operator==(const config&) const = default;
};

// Loads the YAML file at `path`. Errors: see the file comment.
result<config> load_config_file(const std::string& path);

// Loads YAML text (an empty text gives the defaults).
result<config> load_config_string(const std::string& text);

// SIGHUP: re-reads `path` and returns a config equal to `current` except for secrets and tokens: api_keys,
// stores[].tokens, and the fields of existing connector accounts (webhook secrets, API tokens and the other
// account settings, which the daemon hands to the connector factories again; a factory refusing them refuses the
// reload). Any other difference, including added or removed connector sections, accounts, or stores, is refused
// with a one-line error naming the first changed key and saying it needs a restart; `current` stays in force.
result<config> reload_secrets(const std::string& path, const config& current);

// Names as written in the YAML.
std::string_view to_string(log::backend_kind kind) noexcept;
std::string_view to_string(log_format format) noexcept;
std::string_view to_string(log_level level) noexcept;
std::string_view to_string(role r) noexcept;

// The event_log backend options this configuration describes (data_dir, kafka.*; kafka.partitions is also the
// embedded backend's partition count, so a key lands on the same partition number on both backends).
log::embedded_options embedded_log_options(const config& cfg);
log::kafka_options kafka_log_options(const config& cfg);

}  // namespace passerelle::config

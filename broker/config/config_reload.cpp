// reload_secrets(): SIGHUP re-reads secrets and tokens only (api keys, store tokens, connector account fields,
// which the daemon hands to the connector factories again). Everything else (listeners, backend, limits, the set
// of connectors and accounts, ...) is wired into running components at start-up, so a change there would be
// silently ignored; refusing it with the name of the changed key tells the operator to restart instead.

#include <optional>

#include "broker/config/config.h"
#include "broker/config/config_internal.h"

namespace passerelle::config {

namespace {

using detail::child_path;
using detail::index_path;

// The first key path where `a` and `b` differ in settings that need a restart, or nullopt.
std::optional<std::string> first_restart_difference(const config& a, const config& b) {
  if (a.http.listen != b.http.listen) return "http.listen";
  if (a.http.tls != b.http.tls) return "http.tls";
  if (a.backend != b.backend) return "backend";
  if (a.data_dir != b.data_dir) return "data_dir";
  if (a.kafka.bootstrap_servers != b.kafka.bootstrap_servers) return "kafka.bootstrap_servers";
  if (a.kafka.topic_prefix != b.kafka.topic_prefix) return "kafka.topic_prefix";
  if (a.kafka.partitions != b.kafka.partitions) return "kafka.partitions";
  if (a.kafka.replication_factor != b.kafka.replication_factor) return "kafka.replication_factor";
  if (a.kafka.properties != b.kafka.properties) return "kafka.properties";
  if (a.plugins != b.plugins) return "plugins.dir";

  // Connector accounts' fields may change (credentials rotate): the daemon rebuilds the connectors from the new
  // sections through their factories, which validate them. Their set, and other section keys, need a restart.
  for (const auto& [name, ca] : a.connectors) {
    const auto it = b.connectors.find(name);
    const std::string p = child_path("connectors", name);
    if (it == b.connectors.end()) return p + " (removed)";
    const connector_config& cb = it->second;
    if (ca.body_bytes != cb.body_bytes) return child_path(p, "body_bytes");
    for (const auto& [account, fa] : ca.accounts) {
      if (cb.accounts.count(account) == 0) return child_path(p + ".accounts", account) + " (removed)";
    }
    for (const auto& [account, fb] : cb.accounts) {
      if (ca.accounts.count(account) == 0) return child_path(p + ".accounts", account) + " (added)";
    }
    for (const auto& [key, va] : ca.raw.mapping) {
      if (key == "accounts") continue;
      const auto kt = cb.raw.mapping.find(key);
      if (kt == cb.raw.mapping.end() || kt->second != va) return child_path(p, key);
    }
    for (const auto& [key, vb] : cb.raw.mapping) {
      if (key != "accounts" && ca.raw.mapping.count(key) == 0) return child_path(p, key);
    }
  }
  for (const auto& [name, cb] : b.connectors) {
    if (a.connectors.count(name) == 0) return child_path("connectors", name) + " (added)";
  }

  if (a.stores.size() != b.stores.size()) return "stores (stores added or removed)";
  for (std::size_t i = 0; i < a.stores.size(); ++i) {
    if (a.stores[i].id != b.stores[i].id) return index_path("stores", i) + ".id";
  }

  if (a.limits.body_bytes != b.limits.body_bytes) return "limits.body_bytes";
  if (a.limits.header_bytes != b.limits.header_bytes) return "limits.header_bytes";
  if (a.limits.read_timeout != b.limits.read_timeout) return "limits.read_timeout_ms";
  if (a.limits.max_connections != b.limits.max_connections) return "limits.max_connections";
  if (a.lifecycle.abandon_after != b.lifecycle.abandon_after) return "lifecycle.abandon_after";
  if (a.lifecycle.handoff_ttl != b.lifecycle.handoff_ttl) return "lifecycle.handoff_ttl";
  if (a.lifecycle.quote_ttl != b.lifecycle.quote_ttl) return "lifecycle.quote_ttl";
  if (a.lifecycle.engine != b.lifecycle.engine) return "lifecycle.engine";
  if (a.dedup.window != b.dedup.window) return "dedup.window";
  if (a.lag.groups != b.lag.groups) return "lag.groups";
  if (a.lag.window != b.lag.window) return "lag.window";
  if (a.log.format != b.log.format) return "log.format";
  if (a.log.level != b.log.level) return "log.level";
  return std::nullopt;
}

}  // namespace

result<config> reload_secrets(const std::string& path, const config& current) {
  result<std::string> text = detail::read_file(path);
  if (!text) return std::move(text).err();
  result<config> next = detail::parse_yaml(*text, path);
  core::wipe(*text);
  if (!next) return next;
  if (const auto changed = first_restart_difference(current, *next)) {
    return error::reject("reload_refused", "config: " + *changed +
                                               ": changed, but a reload (SIGHUP) only applies secrets and tokens; "
                                               "restart to apply it (the running configuration is unchanged)");
  }
  return next;
}

}  // namespace passerelle::config

// reload_secrets(): SIGHUP re-reads secrets and tokens only. Everything else (listeners, backend, limits, ...) is
// wired into running components at start-up, so a change there would be silently ignored; refusing it with the
// name of the changed key tells the operator to restart instead.

#include <optional>

#include "broker/config/config.h"
#include "broker/config/config_internal.h"
#include "broker/config/connectors_schema.h"

namespace passerelle::config {

namespace {

using detail::child_path;
using detail::index_path;

// The non-secret part of a built-in connector account's fields: secret fields (per the schema) removed.
config_node without_secrets(const connector_schema& schema, const config_node& account) {
  config_node out = account;
  for (const field_schema& f : schema.fields) {
    if (f.secret) out.mapping.erase(std::string(f.name));
  }
  return out;
}

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

  for (const auto& [name, ca] : a.connectors) {
    const auto it = b.connectors.find(name);
    const std::string p = child_path("connectors", name);
    if (it == b.connectors.end()) return p + " (removed)";
    const connector_config& cb = it->second;
    // A built-in's raw section holds its secrets; its accounts are compared field by field below.
    if (ca.built_in != cb.built_in || (!ca.built_in && ca.raw != cb.raw)) return p;
    const connector_schema* schema = find_builtin_connector(name);
    for (const auto& [account, fa] : ca.accounts) {
      const auto jt = cb.accounts.find(account);
      const std::string ap = child_path(p + ".accounts", account);
      if (jt == cb.accounts.end()) return ap + " (removed)";
      if (schema == nullptr) continue;  // unreachable: only built-in connectors have accounts
      const config_node na = without_secrets(*schema, fa);
      const config_node nb = without_secrets(*schema, jt->second);
      for (const auto& [field, va] : na.mapping) {
        const auto kt = nb.mapping.find(field);
        if (kt == nb.mapping.end() || kt->second != va) return child_path(ap, field);
      }
      for (const auto& [field, vb] : nb.mapping) {
        if (na.mapping.count(field) == 0) return child_path(ap, field);
      }
    }
    for (const auto& [account, fb] : cb.accounts) {
      if (ca.accounts.count(account) == 0) return child_path(p + ".accounts", account) + " (added)";
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
  wipe(*text);
  if (!next) return next;
  if (const auto changed = first_restart_difference(current, *next)) {
    return error::reject("reload_refused", "config: " + *changed +
                                               ": changed, but a reload (SIGHUP) only applies secrets and tokens; "
                                               "restart to apply it (the running configuration is unchanged)");
  }
  return next;
}

}  // namespace passerelle::config

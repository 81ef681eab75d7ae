#include "broker/config/config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include "broker/config/config_internal.h"
#include "broker/config/duration.h"

namespace passerelle::config {

// ---- small public helpers -----------------------------------------------------------------------------------

std::string listen_address::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const config_node* config_node::find(const std::string& key) const {
  if (kind != node_kind::mapping) return nullptr;
  const auto it = mapping.find(key);
  return it == mapping.end() ? nullptr : &it->second;
}

const std::string* config_node::find_scalar(const std::string& key) const {
  const config_node* n = find(key);
  return n != nullptr && n->kind == node_kind::scalar ? &n->scalar : nullptr;
}

std::vector<std::string> config_node::scalars(const std::string& key) const {
  std::vector<std::string> out;
  const config_node* n = find(key);
  if (n == nullptr || n->kind != node_kind::sequence) return out;
  for (const config_node& item : n->sequence) {
    if (item.kind == node_kind::scalar) out.push_back(item.scalar);
  }
  return out;
}

std::string_view to_string(log::backend_kind kind) noexcept {
  return kind == log::backend_kind::kafka ? "kafka" : "embedded";
}

std::string_view to_string(log_format format) noexcept { return format == log_format::json ? "json" : "text"; }

std::string_view to_string(log_level level) noexcept {
  switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::read: return "read";
    case role::handoff: return "handoff";
    case role::admin: return "admin";
  }
  return "read";
}

log::embedded_options embedded_log_options(const config& cfg) {
  log::embedded_options o;
  o.data_dir = cfg.data_dir;
  o.default_partitions = cfg.kafka.partitions;
  return o;
}

log::kafka_options kafka_log_options(const config& cfg) {
  log::kafka_options o;
  o.bootstrap_servers = cfg.kafka.bootstrap_servers;
  o.partitions = cfg.kafka.partitions;
  o.replication_factor = cfg.kafka.replication_factor;
  o.properties = cfg.kafka.properties;
  return o;
}

namespace detail {

// ---- key paths ----------------------------------------------------------------------------------------------

namespace {
bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

std::string child_path(const std::string& parent, std::string_view key) {
  if (is_plain_key(key)) return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  return parent + "[" + quote(key) + "]";
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Quoted, escaped and truncated, so an error message stays on one line and short.
std::string quote(std::string_view value) {
  constexpr std::size_t max_shown = 60;
  std::string out = "\"";
  std::size_t shown = 0;
  for (const char c : value) {
    if (shown++ == max_shown) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char digits[] = "0123456789abcdef";
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0x0f];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// ---- the reader ---------------------------------------------------------------------------------------------

namespace {

// Thrown inside the reader only, and turned into an error value at the API boundary (load_*): a recursive
// descent over the YAML tree is much clearer with one non-local exit than with a result check after each call.
struct bad_config {
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw bad_config{"config: " + (path.empty() ? std::string() : path + ": ") + what};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return quote(node.Scalar());
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "nothing";
}

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// `${NAME}` -> the environment variable NAME; `$${` -> a literal `${`.
std::string substitute_env(const std::string& text, const std::string& path) {
  if (text.find('$') == std::string::npos) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    const std::string name = close == std::string::npos ? std::string() : text.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && is_name_start(name.front());
    for (const char c : name) valid = valid && is_name_char(c);
    if (!valid)
      fail(path,
           "malformed ${...} reference (expected ${NAME} with NAME of letters, digits and _; write $${ for a literal "
           "${)");
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) fail(path, "environment variable " + name + " is not set");
    out += value;
    i = close + 1;
  }
  return out;
}

class reader {
 public:
  config read(const YAML::Node& root) {
    config cfg;
    if (root.IsNull()) return cfg;
    const auto top = fields(root, "",
                            {"http", "backend", "data_dir", "kafka", "api_keys", "connectors", "plugins", "stores",
                             "limits", "lifecycle", "dedup", "lag", "log"});
    if (const YAML::Node* n = get(top, "http")) cfg.http = read_http(*n, "http");
    if (const YAML::Node* n = get(top, "backend")) {
      const std::string v = scalar(*n, "backend");
      if (v == "embedded") {
        cfg.backend = log::backend_kind::embedded;
      } else if (v == "kafka") {
        cfg.backend = log::backend_kind::kafka;
      } else {
        fail("backend", "expected embedded or kafka, got " + quote(v));
      }
    }
    if (const YAML::Node* n = get(top, "data_dir")) cfg.data_dir = non_empty(*n, "data_dir");
    if (const YAML::Node* n = get(top, "kafka")) cfg.kafka = read_kafka(*n, "kafka");
    if (const YAML::Node* n = get(top, "api_keys")) cfg.api_keys = read_api_keys(*n, "api_keys");
    if (const YAML::Node* n = get(top, "plugins")) {
      const auto f = fields(*n, "plugins", {"dir"});
      if (const YAML::Node* d = get(f, "dir")) cfg.plugins.dir = scalar(*d, "plugins.dir");
    }
    if (const YAML::Node* n = get(top, "connectors")) cfg.connectors = read_connectors(*n, "connectors");
    if (const YAML::Node* n = get(top, "stores")) cfg.stores = read_stores(*n, "stores");
    if (const YAML::Node* n = get(top, "limits")) cfg.limits = read_limits(*n, "limits");
    if (const YAML::Node* n = get(top, "lifecycle")) {
      const auto f = fields(*n, "lifecycle", {"abandon_after", "handoff_ttl", "quote_ttl", "engine"});
      read_duration(f, "lifecycle", "abandon_after", cfg.lifecycle.abandon_after);
      read_duration(f, "lifecycle", "handoff_ttl", cfg.lifecycle.handoff_ttl);
      read_duration(f, "lifecycle", "quote_ttl", cfg.lifecycle.quote_ttl);
      if (const YAML::Node* e = get(f, "engine")) cfg.lifecycle.engine = boolean(*e, child_path("lifecycle", "engine"));
    }
    if (const YAML::Node* n = get(top, "dedup")) {
      const auto f = fields(*n, "dedup", {"window"});
      read_duration(f, "dedup", "window", cfg.dedup.window);
    }
    if (const YAML::Node* n = get(top, "lag")) {
      const auto f = fields(*n, "lag", {"groups", "window"});
      if (const YAML::Node* g = get(f, "groups")) cfg.lag.groups = string_list(*g, "lag.groups", /*allow_empty=*/true);
      read_duration(f, "lag", "window", cfg.lag.window);
    }
    if (const YAML::Node* n = get(top, "log")) cfg.log = read_log(*n, "log");
    return cfg;
  }

 private:
  using field_map = std::map<std::string, YAML::Node>;

  // The entries of mapping `node`, refusing duplicate and unknown keys. A null value counts as absent.
  static field_map fields(const YAML::Node& node, const std::string& path,
                          std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) fail(path, "expected a mapping, got " + describe(node));
    field_map out;
    for (const auto& kv : node) {
      const std::string key = map_key(kv.first, path);
      const std::string p = child_path(path, key);
      bool known = false;
      for (const std::string_view a : allowed) known = known || a == key;
      if (!known) {
        std::string list;
        for (const std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(p, "unknown key (expected one of: " + list + ")");
      }
      if (out.count(key) != 0) fail(p, "duplicate key");
      if (!kv.second.IsNull()) out.emplace(key, kv.second);
    }
    return out;
  }

  static std::string map_key(const YAML::Node& key, const std::string& path) {
    if (!key.IsScalar()) fail(path, "mapping keys must be plain strings, got " + describe(key));
    return key.Scalar();
  }

  static const YAML::Node* get(const field_map& f, const std::string& key) {
    const auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  }

  // A scalar, with `${NAME}` replaced. Its value is not echoed in errors (it may be a secret): only checks of
  // non-secret values (enums, numbers, URLs, ids) quote what they got.
  static std::string scalar(const YAML::Node& node, const std::string& path) {
    // Only a non-scalar is described, so a secret's value never reaches the message.
    if (!node.IsScalar()) fail(path, "expected a string, got " + describe(node));
    return substitute_env(node.Scalar(), path);
  }

  static std::string non_empty(const YAML::Node& node, const std::string& path) {
    std::string v = scalar(node, path);
    if (v.empty()) fail(path, "must not be empty");
    return v;
  }

  template <typename Int>
  static Int integer(const YAML::Node& node, const std::string& path, Int min, Int max) {
    const std::string what = max == std::numeric_limits<Int>::max() && sizeof(Int) >= 8
                                 ? "expected an integer >= " + std::to_string(min)
                                 : "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!node.IsScalar()) fail(path, what + ", got " + describe(node));
    const std::string v = substitute_env(node.Scalar(), path);
    Int out{};
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < min || out > max) {
      fail(path, what + ", got " + quote(v));
    }
    return out;
  }

  static bool boolean(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) fail(path, "expected true or false, got " + describe(node));
    const std::string v = substitute_env(node.Scalar(), path);
    if (v == "true") return true;
    if (v == "false") return false;
    fail(path, "expected true or false, got " + quote(v));
  }

  static void read_duration(const field_map& f, const std::string& section, const std::string& key,
                            std::chrono::milliseconds& out) {
    const YAML::Node* n = get(f, key);
    if (n == nullptr) return;
    const std::string path = child_path(section, key);
    const std::string what = "expected a positive duration such as 24h, 90m, 30s, 500ms or 2h30m";
    if (!n->IsScalar()) fail(path, what + ", got " + describe(*n));
    const std::string v = substitute_env(n->Scalar(), path);
    const auto d = parse_duration(v);
    if (!d || d->count() <= 0) fail(path, what + ", got " + quote(v));
    out = *d;
  }

  static std::vector<std::string> string_list(const YAML::Node& node, const std::string& path, bool allow_empty) {
    if (!node.IsSequence()) fail(path, "expected a list of strings, got " + describe(node));
    if (!allow_empty && node.size() == 0) fail(path, "expected a non-empty list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(non_empty(node[i], index_path(path, i)));
    return out;
  }

  // ---- sections -------------------------------------------------------------------------------------------

  static http_config read_http(const YAML::Node& node, const std::string& path) {
    http_config h;
    const auto f = fields(node, path, {"listen", "tls"});
    if (const YAML::Node* n = get(f, "listen")) h.listen = parse_listen(scalar(*n, path + ".listen"), path + ".listen");
    if (const YAML::Node* n = get(f, "tls")) {
      const auto t = fields(*n, path + ".tls", {"cert", "key"});
      tls_config tls;
      const YAML::Node* cert = get(t, "cert");
      const YAML::Node* key = get(t, "key");
      if (cert == nullptr) fail(path + ".tls.cert", "missing (tls needs both cert and key files)");
      if (key == nullptr) fail(path + ".tls.key", "missing (tls needs both cert and key files)");
      tls.cert = non_empty(*cert, path + ".tls.cert");
      tls.key = non_empty(*key, path + ".tls.key");
      h.tls = std::move(tls);
    }
    return h;
  }

  static listen_address parse_listen(const std::string& v, const std::string& path) {
    const std::string what = "expected host:port (IPv6 as [addr]:port, port 0 to 65535), got " + quote(v);
    listen_address a;
    std::string port;
    if (!v.empty() && v.front() == '[') {
      const std::size_t close = v.find(']');
      if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') fail(path, what);
      a.host = v.substr(1, close - 1);
      port = v.substr(close + 2);
    } else {
      const std::size_t colon = v.find(':');
      if (colon == std::string::npos || v.find(':', colon + 1) != std::string::npos) fail(path, what);
      a.host = v.substr(0, colon);
      port = v.substr(colon + 1);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (a.host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
      fail(path, what);
    }
    for (const char c : a.host) {
      if (static_cast<unsigned char>(c) <= 0x20) fail(path, what);
    }
    a.port = static_cast<std::uint16_t>(value);
    return a;
  }

  static kafka_config read_kafka(const YAML::Node& node, const std::string& path) {
    kafka_config k;
    const auto f =
        fields(node, path, {"bootstrap_servers", "topic_prefix", "partitions", "replication_factor", "properties"});
    if (const YAML::Node* n = get(f, "bootstrap_servers"))
      k.bootstrap_servers = non_empty(*n, path + ".bootstrap_servers");
    if (const YAML::Node* n = get(f, "topic_prefix")) {
      k.topic_prefix = scalar(*n, path + ".topic_prefix");
      // Kafka topic names: [a-zA-Z0-9._-], at most 249 characters; keep room for the longest suffix.
      constexpr std::size_t max_prefix = 200;
      bool ok = k.topic_prefix.size() <= max_prefix;
      for (const char c : k.topic_prefix) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-');
      }
      if (!ok)
        fail(path + ".topic_prefix",
             "expected at most 200 of the characters a-z A-Z 0-9 . _ -, got " + quote(k.topic_prefix));
    }
    if (const YAML::Node* n = get(f, "partitions"))
      k.partitions = integer<std::int32_t>(*n, path + ".partitions", 1, 10'000);
    if (const YAML::Node* n = get(f, "replication_factor")) {
      k.replication_factor =
          integer<std::int16_t>(*n, path + ".replication_factor", 1, std::numeric_limits<std::int16_t>::max());
    }
    if (const YAML::Node* n = get(f, "properties")) {
      const std::string pp = path + ".properties";
      if (!n->IsMap()) fail(pp, "expected a mapping of librdkafka properties, got " + describe(*n));
      for (const auto& kv : *n) {
        const std::string key = map_key(kv.first, pp);
        const std::string p = child_path(pp, key);
        if (key.empty()) fail(pp, "empty property name");
        if (k.properties.count(key) != 0) fail(p, "duplicate key");
        // Values may be secrets (sasl.password): never echoed.
        std::string value = scalar(kv.second, p);
        check_fixed_property(key, value, p);
        k.properties.emplace(key, std::move(value));
      }
    }
    return k;
  }

  // The contract fixes these: durable means acked by every in-sync replica, without duplicates, and every client
  // must agree on partitions.
  static void check_fixed_property(const std::string& key, const std::string& value, const std::string& path) {
    struct fixed {
      std::string_view key;
      std::array<std::string_view, 2> allowed;
      std::string_view why;
    };
    static constexpr std::array<fixed, 6> fixed_properties = {{
        {"acks", {"all", "-1"}, "a webhook's 200 means acked by all in-sync replicas"},
        {"request.required.acks", {"all", "-1"}, "a webhook's 200 means acked by all in-sync replicas"},
        {"enable.idempotence", {"true", "true"}, "retries must not duplicate records"},
        {"partitioner", {"murmur2_random", "murmur2_random"}, "every Kafka client must agree on partitions"},
        {"bootstrap.servers", {"", ""}, "use kafka.bootstrap_servers"},
        {"metadata.broker.list", {"", ""}, "use kafka.bootstrap_servers"},
    }};
    for (const fixed& fp : fixed_properties) {
      if (fp.key != key) continue;
      if (fp.allowed[0].empty()) fail(path, "not allowed here (" + std::string(fp.why) + ")");
      if (value != fp.allowed[0] && value != fp.allowed[1]) {
        fail(path,
             "fixed to " + quote(fp.allowed[0]) + " by Passerelle (" + std::string(fp.why) + "), got " + quote(value));
      }
    }
  }

  // "sha256:<64 hex>" as written, or a plain secret hashed now (and its copies wiped).
  static sha256_digest read_secret_digest(const YAML::Node& node, const std::string& path) {
    std::string v = non_empty(node, path);
    constexpr std::string_view prefix = "sha256:";
    if (v.starts_with(prefix)) {
      const auto d = core::sha256_from_hex(std::string_view(v).substr(prefix.size()));
      core::wipe(v);
      if (!d) fail(path, "expected 64 hex digits after \"sha256:\"");
      return *d;
    }
    const sha256_digest d = core::sha256(v);
    core::wipe(v);
    return d;
  }

  static std::vector<api_key> read_api_keys(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) fail(path, "expected a list of {key, roles}, got " + describe(node));
    std::vector<api_key> keys;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string p = index_path(path, i);
      const auto f = fields(node[i], p, {"key", "roles"});
      const YAML::Node* key = get(f, "key");
      const YAML::Node* roles = get(f, "roles");
      if (key == nullptr) fail(p + ".key", "missing");
      if (roles == nullptr) fail(p + ".roles", "missing (expected a list of read, handoff, admin)");
      api_key k;
      k.digest = read_secret_digest(*key, p + ".key");
      for (std::size_t j = 0; j < keys.size(); ++j) {
        if (keys[j].digest == k.digest) fail(p + ".key", "the same key as " + index_path(path, j) + ".key");
      }
      const std::vector<std::string> names = string_list(*roles, p + ".roles", /*allow_empty=*/false);
      for (std::size_t j = 0; j < names.size(); ++j) {
        if (names[j] == "read") {
          k.roles.add(role::read);
        } else if (names[j] == "handoff") {
          k.roles.add(role::handoff);
        } else if (names[j] == "admin") {
          k.roles.add(role::admin);
        } else {
          fail(index_path(p + ".roles", j), "unknown role " + quote(names[j]) + " (expected read, handoff or admin)");
        }
      }
      keys.push_back(k);
    }
    return keys;
  }

  static bool valid_store_id(std::string_view id) {
    constexpr std::size_t max_len = 128;
    if (id.empty() || id.size() > max_len) return false;
    for (const char c : id) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f || c == '/' || c == ':' || c == '?' || c == '#' || c == '%') return false;
    }
    return true;
  }

  static std::vector<store_config> read_stores(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) fail(path, "expected a list of {id, tokens}, got " + describe(node));
    std::vector<store_config> stores;
    std::map<sha256_digest, std::string> token_owner;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string p = index_path(path, i);
      const auto f = fields(node[i], p, {"id", "tokens"});
      const YAML::Node* id = get(f, "id");
      const YAML::Node* tokens = get(f, "tokens");
      if (id == nullptr) fail(p + ".id", "missing");
      store_config s;
      s.id = scalar(*id, p + ".id");
      if (!valid_store_id(s.id)) {
        fail(p + ".id",
             "expected 1 to 128 characters without spaces, control characters, / : ? # or %, got " + quote(s.id));
      }
      for (const store_config& other : stores) {
        if (other.id == s.id) fail(p + ".id", "duplicate store id " + quote(s.id));
      }
      if (tokens == nullptr) fail(p + ".tokens", "missing (a store needs at least one token)");
      if (!tokens->IsSequence()) fail(p + ".tokens", "expected a list of tokens, got " + describe(*tokens));
      if (tokens->size() == 0) fail(p + ".tokens", "expected a non-empty list (a store needs at least one token)");
      for (std::size_t j = 0; j < tokens->size(); ++j) {
        const std::string tp = index_path(p + ".tokens", j);
        const sha256_digest d = read_secret_digest((*tokens)[j], tp);
        const auto [it, inserted] = token_owner.emplace(d, tp);
        if (!inserted) fail(tp, "the same token as " + it->second + " (a token must name one store)");
        s.tokens.push_back(d);
      }
      stores.push_back(std::move(s));
    }
    return stores;
  }

  static limits_config read_limits(const YAML::Node& node, const std::string& path) {
    limits_config l;
    const auto f = fields(node, path, {"body_bytes", "header_bytes", "read_timeout_ms", "max_connections"});
    if (const YAML::Node* n = get(f, "body_bytes"))
      l.body_bytes = integer<std::uint64_t>(*n, path + ".body_bytes", 1, 1ULL << 30);
    if (const YAML::Node* n = get(f, "header_bytes"))
      l.header_bytes = integer<std::uint64_t>(*n, path + ".header_bytes", 1024, 1ULL << 20);
    if (const YAML::Node* n = get(f, "read_timeout_ms")) {
      l.read_timeout = std::chrono::milliseconds{integer<std::int64_t>(*n, path + ".read_timeout_ms", 1, 3'600'000)};
    }
    if (const YAML::Node* n = get(f, "max_connections"))
      l.max_connections = integer<std::uint64_t>(*n, path + ".max_connections", 1, 1'000'000);
    return l;
  }

  static log_config read_log(const YAML::Node& node, const std::string& path) {
    log_config l;
    const auto f = fields(node, path, {"format", "level"});
    if (const YAML::Node* n = get(f, "format")) {
      const std::string v = scalar(*n, path + ".format");
      if (v == "text") {
        l.format = log_format::text;
      } else if (v == "json") {
        l.format = log_format::json;
      } else {
        fail(path + ".format", "expected text or json, got " + quote(v));
      }
    }
    if (const YAML::Node* n = get(f, "level")) {
      const std::string v = scalar(*n, path + ".level");
      static constexpr std::array<log_level, 5> levels = {log_level::trace, log_level::debug, log_level::info,
                                                          log_level::warn, log_level::error};
      bool found = false;
      for (const log_level lv : levels) {
        if (v == to_string(lv)) {
          l.level = lv;
          found = true;
        }
      }
      if (!found) fail(path + ".level", "expected trace, debug, info, warn or error, got " + quote(v));
    }
    return l;
  }

  // ---- connectors -----------------------------------------------------------------------------------------
  //
  // Only the SHAPE is checked here; the connector factories (connectors/sdk connector_factory::create, called by
  // the daemon at start-up and on SIGHUP) are the one place that knows each connector's fields, their types,
  // required fields and how account keys are normalised. So a connector gains a field by changing its factory
  // alone, and no list here can drift from it. A name that no factory claims stops start-up in the daemon.

  // Bounds on one connector section, so YAML aliases (which share nodes) cannot expand into an enormous tree.
  static constexpr std::size_t max_section_nodes = 10'000;
  static constexpr std::size_t max_section_depth = 32;

  static std::map<std::string, connector_config> read_connectors(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) fail(path, "expected a mapping of connector name to section, got " + describe(node));
    std::map<std::string, connector_config> out;
    for (const auto& kv : node) {
      const std::string name = map_key(kv.first, path);
      const std::string p = child_path(path, name);
      bool valid = !name.empty();
      for (const char c : name) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
      if (!valid) fail(p, "connector names are lowercase letters, digits and _");
      if (out.count(name) != 0) fail(p, "duplicate key");
      if (kv.second.IsNull()) continue;  // an empty section: the connector is not configured
      if (!kv.second.IsMap()) fail(p, "expected a mapping with an accounts mapping, got " + describe_shape(kv.second));
      connector_config c;
      c.raw.kind = config_node::node_kind::mapping;
      std::size_t budget = max_section_nodes;
      bool seen_body_bytes = false;
      for (const auto& entry : kv.second) {
        const std::string key = map_key(entry.first, p);
        const std::string kp = child_path(p, key);
        if (c.raw.mapping.count(key) != 0) fail(kp, "duplicate key");
        if (key == "accounts") {
          if (entry.second.IsNull()) continue;  // null means absent, as everywhere
          c.accounts = read_accounts(entry.second, kp, budget);
          config_node accounts;
          accounts.kind = config_node::node_kind::mapping;
          accounts.mapping = c.accounts;
          c.raw.mapping.emplace(key, std::move(accounts));
        } else if (key == "body_bytes") {
          // The host's, not the connector's: the HTTP server applies it before the connector sees anything.
          if (seen_body_bytes) fail(kp, "duplicate key");
          seen_body_bytes = true;
          if (entry.second.IsNull()) continue;
          c.body_bytes = integer<std::uint64_t>(entry.second, kp, 1, 1ULL << 30);
        } else {
          // Not ours to judge: the connector's factory refuses keys it does not know, naming them.
          c.raw.mapping.emplace(key, raw_tree(entry.second, kp, budget, 1));
        }
      }
      out.emplace(name, std::move(c));
    }
    return out;
  }

  // `accounts`: account key -> a mapping of fields. Account keys are kept as written (each connector normalises
  // its own: shop domains, hosts, `stores/{hash}`); only what no connector can accept is refused here, because
  // the account is a part of references (`connector:account:native_id`) and of log lines.
  static std::map<std::string, config_node> read_accounts(const YAML::Node& node, const std::string& path,
                                                          std::size_t& budget) {
    if (!node.IsMap()) fail(path, "expected a mapping of account name to its fields, got " + describe_shape(node));
    std::map<std::string, config_node> out;
    for (const auto& kv : node) {
      const std::string account = map_key(kv.first, path);
      const std::string p = child_path(path, account);
      if (account.empty()) fail(p, "empty account name");
      for (const char c : account) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == ':') {
          fail(p, "account names have no spaces, control characters or ':' (references are connector:account:id)");
        }
      }
      if (out.count(account) != 0) fail(p, "duplicate account");
      if (!kv.second.IsMap()) fail(p, "expected a mapping of the account's fields, got " + describe_shape(kv.second));
      out.emplace(account, read_fields(kv.second, p, budget, 2));
    }
    return out;
  }

  // An account's fields (or a nested mapping of them): each value a string, a list of strings or a mapping of
  // the same. A null value counts as absent. Values are not echoed in errors: any of them may be a secret.
  static config_node read_fields(const YAML::Node& node, const std::string& path, std::size_t& budget,
                                 std::size_t depth) {
    count_node(path, budget, depth);
    config_node out;
    out.kind = config_node::node_kind::mapping;
    for (const auto& kv : node) {
      const std::string key = map_key(kv.first, path);
      const std::string p = child_path(path, key);
      if (key.empty()) fail(path, "empty field name");
      if (out.mapping.count(key) != 0) fail(p, "duplicate key");
      const YAML::Node& v = kv.second;
      if (v.IsNull()) continue;
      config_node value;
      if (v.IsScalar()) {
        count_node(p, budget, depth + 1);
        value.kind = config_node::node_kind::scalar;
        value.scalar = scalar(v, p);
      } else if (v.IsSequence()) {
        count_node(p, budget, depth + 1);
        value.kind = config_node::node_kind::sequence;
        for (std::size_t i = 0; i < v.size(); ++i) {
          const std::string ip = index_path(p, i);
          if (!v[i].IsScalar()) fail(ip, "expected a string, got " + describe_shape(v[i]));
          count_node(ip, budget, depth + 2);
          config_node item;
          item.kind = config_node::node_kind::scalar;
          item.scalar = scalar(v[i], ip);
          value.sequence.push_back(std::move(item));
        }
      } else {
        value = read_fields(v, p, budget, depth + 1);
      }
      out.mapping.emplace(key, std::move(value));
    }
    return out;
  }

  // Like describe(), but never shows a scalar's value.
  static std::string describe_shape(const YAML::Node& node) {
    return node.IsScalar() ? std::string("a string") : describe(node);
  }

  static void count_node(const std::string& path, std::size_t& budget, std::size_t depth) {
    if (budget == 0) fail(path, "section too large (more than 10000 values)");
    if (depth > max_section_depth) fail(path, "nested too deeply (more than 32 levels)");
    --budget;
  }

  // A section entry other than `accounts`, kept as written (after `${NAME}` substitution) for the factory.
  static config_node raw_tree(const YAML::Node& node, const std::string& path, std::size_t& budget, std::size_t depth) {
    count_node(path, budget, depth);
    config_node out;
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        out.kind = config_node::node_kind::scalar;
        out.scalar = scalar(node, path);
        break;
      case YAML::NodeType::Null: out.kind = config_node::node_kind::null; break;
      case YAML::NodeType::Sequence:
        out.kind = config_node::node_kind::sequence;
        for (std::size_t i = 0; i < node.size(); ++i) {
          out.sequence.push_back(raw_tree(node[i], index_path(path, i), budget, depth + 1));
        }
        break;
      case YAML::NodeType::Map:
        out.kind = config_node::node_kind::mapping;
        for (const auto& kv : node) {
          const std::string key = map_key(kv.first, path);
          if (out.mapping.count(key) != 0) fail(child_path(path, key), "duplicate key");
          out.mapping.emplace(key, raw_tree(kv.second, child_path(path, key), budget, depth + 1));
        }
        break;
      case YAML::NodeType::Undefined: break;
    }
    return out;
  }
};

}  // namespace

result<config> parse_yaml(const std::string& text, const std::string& origin) {
  const auto bad = [&](const std::string& message) { return error::reject("bad_config", message); };
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsNull() && !root.IsMap()) {
      return bad("config: " + origin + ": expected a mapping of sections at the top level, got " + describe(root));
    }
    return reader{}.read(root);
  } catch (const bad_config& e) {
    return bad(e.message);
  } catch (const YAML::Exception& e) {
    // Syntax errors name the place: line and column are 0-based in yaml-cpp.
    return bad("config: " + origin + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return error::reject("config_unreadable", "config: cannot read " + path + ": is a directory");
  }
  // A configuration is a few kilobytes; refusing anything huge keeps a wrong path (a log file, a device) from
  // being read into memory.
  constexpr std::uintmax_t max_config_bytes = 16U << 20U;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_config_bytes) {
    return error::reject("config_unreadable", "config: cannot read " + path + ": larger than 16 MiB");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string reason = err != 0 ? std::strerror(err) : "cannot open";
    if (err == ENOENT) return error::not_found("config_unreadable", "config: cannot read " + path + ": " + reason);
    return error::reject("config_unreadable", "config: cannot read " + path + ": " + reason);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return error::reject("config_unreadable", "config: cannot read " + path + ": read error");
  return buf.str();
}

}  // namespace detail

result<config> load_config_string(const std::string& text) { return detail::parse_yaml(text, "<string>"); }

result<config> load_config_file(const std::string& path) {
  result<std::string> text = detail::read_file(path);
  if (!text) return std::move(text).err();
  result<config> cfg = detail::parse_yaml(*text, path);
  // The text may hold plain api keys and tokens: wipe our copy now that they are hashed.
  core::wipe(*text);
  return cfg;
}

}  // namespace passerelle::config

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "broker/config/config.h"
#include "broker/config/duration.h"
#include "broker/core/crypto.h"

using namespace passerelle;
using namespace passerelle::config;
namespace core = passerelle::core;
using namespace std::chrono_literals;

namespace {

// The error message of loading `yaml`, which must fail.
std::string load_error(const std::string& yaml) {
  const result<passerelle::config::config> r = load_config_string(yaml);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().kind == error_kind::reject);
  CHECK(r.err().code == "bad_config");
  CHECK(r.err().message.find('\n') == std::string::npos);  // one line
  CHECK(r.err().message.rfind("config: ", 0) == 0);
  return r.err().message;
}

passerelle::config::config load_ok(const std::string& yaml) {
  result<passerelle::config::config> r = load_config_string(yaml);
  if (!r.ok()) FAIL(r.err().message);
  return std::move(r).value();
}

const std::string hex_of_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // SHA-256("abc")

}  // namespace

TEST_CASE("no configuration gives the contract's defaults", "[config]") {
  const passerelle::config::config c = load_ok("");
  CHECK(c == passerelle::config::config{});
  CHECK(c.backend == log::backend_kind::embedded);
  CHECK(c.http.listen.to_string() == "127.0.0.1:8080");
  CHECK_FALSE(c.http.tls.has_value());
  CHECK(c.data_dir == "./passerelle-data");
  CHECK(c.kafka.bootstrap_servers == "127.0.0.1:9092");
  CHECK(c.kafka.topic_prefix == "passerelle.");
  CHECK(c.kafka.partitions == 12);
  CHECK(c.kafka.replication_factor == 1);
  CHECK(c.kafka.properties.empty());
  CHECK(c.api_keys.empty());
  CHECK(c.connectors.empty());
  CHECK(c.plugins.dir == "./plugins");
  CHECK(c.stores.empty());
  CHECK(c.limits.body_bytes == 1048576);
  CHECK(c.limits.header_bytes == 16384);
  CHECK(c.limits.read_timeout == 10000ms);
  CHECK(c.limits.max_connections == 10000);
  CHECK(c.lifecycle.abandon_after == 24h);
  CHECK(c.lifecycle.handoff_ttl == 2h);
  CHECK(c.lifecycle.quote_ttl == 720h);
  CHECK(c.lifecycle.engine);
  CHECK(c.dedup.window == 72h);
  CHECK(c.lag.groups.empty());
  CHECK(c.lag.window == 10min);
  CHECK(c.log.format == log_format::text);
  CHECK(c.log.level == log_level::info);

  // Absent sections, empty sections and null sections all mean defaults.
  CHECK(load_ok("# nothing but a comment\n") == passerelle::config::config{});
  CHECK(load_ok("kafka: {}\nlimits: {}\nlog:\n") == passerelle::config::config{});
}

TEST_CASE("the contract's example configuration loads", "[config]") {
  const std::string yaml = R"(
http:      { listen: "0.0.0.0:8443", tls: { cert: /etc/passerelle/cert.pem, key: /etc/passerelle/key.pem } }
backend:   kafka
data_dir:  /var/lib/passerelle
kafka:     { bootstrap_servers: "k1:9092,k2:9092", topic_prefix: "shop.", partitions: 24,
             replication_factor: 3, properties: { "compression.type": lz4, "linger.ms": 5, acks: all } }
api_keys:  [ { key: "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", roles: [read, handoff, admin] },
             { key: "a-plain-key", roles: [read] } ]
connectors:
  shopify:     { accounts: { "Example.myshopify.com": { secrets: ["current", "previous"], access_token: "shpat" } } }
  woocommerce: { accounts: { "shop.example.fr": { secrets: ["wc"] } } }
  bigcommerce: { accounts: { "stores/abc123": { shared_token: "t", access_token: "a" } } }
  square:      { accounts: { "MERCHANT1": { signature_key: "k", notification_url: "https://example.com/v1/webhooks/square", access_token: "sq" } } }
  commercetools: { accounts: { "my-project": { client_id: "id", client_secret: "s", auth_url: "https://auth.example.com",
                   api_base_url: "http://127.0.0.1:9000", notices: { bootstrap_servers: "ct:9092", topic: "ct.messages" } } } }
  generic:     { accounts: { "custom-shop": { secrets: ["g"] } } }
  loyalty_plus: { endpoint: "https://loyalty.example.com", retries: 3, unset: ~,
                  accounts: { "club-1": { tiers: { gold: "10", silver: "5" }, regions: [eu, us], off: ~ } } }
plugins:   { dir: /usr/lib/passerelle/plugins }
stores:
  - { id: "paris-01", tokens: ["sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", "till-secret"] }
limits:    { body_bytes: 2097152, header_bytes: 8192, read_timeout_ms: 5000, max_connections: 500 }
lifecycle: { abandon_after: 12h, handoff_ttl: 90m, quote_ttl: 2h30m, engine: false }
dedup:     { window: 48h }
lag:       { groups: [passerelle-engine], window: 5m }
log:       { format: json, level: debug }
)";
  const passerelle::config::config c = load_ok(yaml);
  CHECK(c.http.listen.host == "0.0.0.0");
  CHECK(c.http.listen.port == 8443);
  REQUIRE(c.http.tls.has_value());
  CHECK(c.http.tls->cert == "/etc/passerelle/cert.pem");
  CHECK(c.backend == log::backend_kind::kafka);
  CHECK(c.data_dir == "/var/lib/passerelle");
  CHECK(c.kafka.bootstrap_servers == "k1:9092,k2:9092");
  CHECK(c.kafka.topic_prefix == "shop.");
  CHECK(c.kafka.partitions == 24);
  CHECK(c.kafka.replication_factor == 3);
  CHECK(c.kafka.properties.at("linger.ms") == "5");
  CHECK(c.kafka.properties.at("compression.type") == "lz4");

  REQUIRE(c.api_keys.size() == 2);
  CHECK(core::to_hex(c.api_keys[0].digest) == hex_of_abc);
  CHECK(c.api_keys[0].roles.has(role::admin));
  CHECK(c.api_keys[0].roles.has(role::handoff));
  CHECK(c.api_keys[1].digest == core::sha256("a-plain-key"));
  CHECK(c.api_keys[1].roles.has(role::read));
  CHECK_FALSE(c.api_keys[1].roles.grants(role::handoff));

  const connector_config& shopify = c.connectors.at("shopify");
  // Account keys are kept as written: the Shopify factory normalises shop domains.
  const config_node& shop = shopify.accounts.at("Example.myshopify.com");
  CHECK(shop.scalars("secrets") == std::vector<std::string>{"current", "previous"});
  REQUIRE(shop.find_scalar("access_token") != nullptr);
  CHECK(*shop.find_scalar("access_token") == "shpat");
  // The section as a connector factory takes it: the accounts under `accounts`.
  REQUIRE(shopify.raw.find("accounts") != nullptr);
  CHECK(*shopify.raw.find("accounts")->find("Example.myshopify.com") == shop);
  CHECK(c.connectors.at("bigcommerce").accounts.count("stores/abc123") == 1);
  CHECK(*c.connectors.at("square").accounts.at("MERCHANT1").find_scalar("notification_url") ==
        "https://example.com/v1/webhooks/square");
  const config_node& ct = c.connectors.at("commercetools").accounts.at("my-project");
  REQUIRE(ct.find("notices") != nullptr);
  CHECK(*ct.find("notices")->find_scalar("topic") == "ct.messages");
  CHECK(*ct.find_scalar("api_base_url") == "http://127.0.0.1:9000");

  // Any connector name is loaded the same way (the daemon's registry decides whether one exists); keys beside
  // `accounts` are kept as written for the factory, which refuses those it does not know.
  const connector_config& plugin = c.connectors.at("loyalty_plus");
  CHECK(*plugin.raw.find_scalar("retries") == "3");
  REQUIRE(plugin.raw.find("unset") != nullptr);
  CHECK(plugin.raw.find("unset")->kind == config_node::node_kind::null);
  const config_node& club = plugin.accounts.at("club-1");
  REQUIRE(club.find("tiers") != nullptr);
  CHECK(*club.find("tiers")->find_scalar("gold") == "10");
  CHECK(club.scalars("regions") == std::vector<std::string>{"eu", "us"});
  CHECK(club.find("off") == nullptr);  // a null field is absent
  CHECK(c.plugins.dir == "/usr/lib/passerelle/plugins");

  REQUIRE(c.stores.size() == 1);
  CHECK(c.stores[0].id == "paris-01");
  REQUIRE(c.stores[0].tokens.size() == 2);
  CHECK(c.stores[0].tokens[1] == core::sha256("till-secret"));

  CHECK(c.limits.body_bytes == 2097152);
  CHECK(c.limits.header_bytes == 8192);
  CHECK(c.limits.read_timeout == 5000ms);
  CHECK(c.limits.max_connections == 500);
  CHECK(c.lifecycle.abandon_after == 12h);
  CHECK(c.lifecycle.handoff_ttl == 90min);
  CHECK(c.lifecycle.quote_ttl == 150min);
  CHECK_FALSE(c.lifecycle.engine);
  CHECK(c.dedup.window == 48h);
  CHECK(c.lag.groups == std::vector<std::string>{"passerelle-engine"});
  CHECK(c.lag.window == 5min);
  CHECK(c.log.format == log_format::json);
  CHECK(c.log.level == log_level::debug);

  const log::kafka_options ko = kafka_log_options(c);
  CHECK(ko.bootstrap_servers == "k1:9092,k2:9092");
  CHECK(ko.partitions == 24);
  CHECK(ko.replication_factor == 3);
  const log::embedded_options eo = embedded_log_options(c);
  CHECK(eo.data_dir == "/var/lib/passerelle");
  CHECK(eo.default_partitions == 24);
}

TEST_CASE("every error names its key on one line", "[config]") {
  struct bad {
    const char* yaml;
    const char* message;
  };
  const bad cases[] = {
      {"kafka: { partitions: x }", R"(config: kafka.partitions: expected an integer from 1 to 10000, got "x")"},
      {"lifecycle: { engine: yes }", R"(config: lifecycle.engine: expected true or false, got "yes")"},
      {"kafka: { partitions: 0 }", R"(config: kafka.partitions: expected an integer from 1 to 10000, got "0")"},
      {"kafka: { partitions: [1] }", "config: kafka.partitions: expected an integer from 1 to 10000, got a list"},
      {"kafka: { replication_factor: 40000 }",
       R"(config: kafka.replication_factor: expected an integer from 1 to 32767, got "40000")"},
      {"kafka: { partiton: 3 }",
       "config: kafka.partiton: unknown key (expected one of: bootstrap_servers, topic_prefix, partitions, "
       "replication_factor, properties)"},
      {"kafka: { topic_prefix: \"a b\" }",
       R"(config: kafka.topic_prefix: expected at most 200 of the characters a-z A-Z 0-9 . _ -, got "a b")"},
      {"kafka: { properties: { acks: 1 } }",
       R"(config: kafka.properties.acks: fixed to "all" by Passerelle (a webhook's 200 means acked by all in-sync replicas), got "1")"},
      {"kafka: { properties: { enable.idempotence: false } }",
       R"(config: kafka.properties["enable.idempotence"]: fixed to "true" by Passerelle (retries must not duplicate records), got "false")"},
      {"kafka: { properties: { bootstrap.servers: x } }",
       R"(config: kafka.properties["bootstrap.servers"]: not allowed here (use kafka.bootstrap_servers))"},
      {"bogus: 1",
       "config: bogus: unknown key (expected one of: http, backend, data_dir, kafka, api_keys, "
       "connectors, plugins, stores, limits, lifecycle, dedup, lag, log)"},
      {"backend: rocks", R"(config: backend: expected embedded or kafka, got "rocks")"},
      {"data_dir: \"\"", "config: data_dir: must not be empty"},
      {"http: { listen: \"127.0.0.1:70000\" }",
       R"(config: http.listen: expected host:port (IPv6 as [addr]:port, port 0 to 65535), got "127.0.0.1:70000")"},
      {"http: { listen: \"::1:80\" }",
       R"(config: http.listen: expected host:port (IPv6 as [addr]:port, port 0 to 65535), got "::1:80")"},
      {"http: { listen: 8080 }",
       R"(config: http.listen: expected host:port (IPv6 as [addr]:port, port 0 to 65535), got "8080")"},
      {"http: { tls: { cert: a.pem } }", "config: http.tls.key: missing (tls needs both cert and key files)"},
      {"limits: { body_bytes: -1 }",
       R"(config: limits.body_bytes: expected an integer from 1 to 1073741824, got "-1")"},
      {"limits: { header_bytes: 10 }",
       R"(config: limits.header_bytes: expected an integer from 1024 to 1048576, got "10")"},
      {"limits: { read_timeout_ms: 1.5 }",
       R"(config: limits.read_timeout_ms: expected an integer from 1 to 3600000, got "1.5")"},
      {"limits: { max_connections: 0 }",
       R"(config: limits.max_connections: expected an integer from 1 to 1000000, got "0")"},
      {"lifecycle: { abandon_after: 24 }",
       R"(config: lifecycle.abandon_after: expected a positive duration such as 24h, 90m, 30s, 500ms or 2h30m, got "24")"},
      {"lifecycle: { handoff_ttl: 0s }",
       R"(config: lifecycle.handoff_ttl: expected a positive duration such as 24h, 90m, 30s, 500ms or 2h30m, got "0s")"},
      {"dedup: { window: 1d }",
       R"(config: dedup.window: expected a positive duration such as 24h, 90m, 30s, 500ms or 2h30m, got "1d")"},
      {"lag: { groups: engine }", R"(config: lag.groups: expected a list of strings, got "engine")"},
      {"log: { format: xml }", R"(config: log.format: expected text or json, got "xml")"},
      {"log: { level: loud }", R"(config: log.level: expected trace, debug, info, warn or error, got "loud")"},
      {"api_keys: [ { key: k, roles: [read, root] } ]",
       R"(config: api_keys[0].roles[1]: unknown role "root" (expected read, handoff or admin))"},
      {"api_keys: [ { key: k } ]", "config: api_keys[0].roles: missing (expected a list of read, handoff, admin)"},
      {"api_keys: [ { key: k, roles: [] } ]", "config: api_keys[0].roles: expected a non-empty list"},
      {"api_keys: [ { key: \"sha256:zz\", roles: [read] } ]",
       R"(config: api_keys[0].key: expected 64 hex digits after "sha256:")"},
      {"api_keys: [ { key: k, roles: [read] }, { key: k, roles: [admin] } ]",
       "config: api_keys[1].key: the same key as api_keys[0].key"},
      {"api_keys: { key: k }", "config: api_keys: expected a list of {key, roles}, got a mapping"},
      {"stores: [ { id: \"paris 01\", tokens: [t] } ]",
       R"(config: stores[0].id: expected 1 to 128 characters without spaces, control characters, / : ? # or %, got "paris 01")"},
      {"stores: [ { id: p1 } ]", "config: stores[0].tokens: missing (a store needs at least one token)"},
      {"stores: [ { id: p1, tokens: [a] }, { id: p1, tokens: [b] } ]",
       R"(config: stores[1].id: duplicate store id "p1")"},
      {"stores: [ { id: p1, tokens: [a] }, { id: p2, tokens: [a] } ]",
       "config: stores[1].tokens[0]: the same token as stores[0].tokens[0] (a token must name one store)"},
      {"stores: [ { id: p1, tokens: [\"sha256:0123\"] } ]",
       R"(config: stores[0].tokens[0]: expected 64 hex digits after "sha256:")"},
      {"connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [[x]] } } } }",
       R"(config: connectors.shopify.accounts["a.myshopify.com"].secrets[0]: expected a string, got a list)"},
      {"connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [ { a: b } ] } } } }",
       R"(config: connectors.shopify.accounts["a.myshopify.com"].secrets[0]: expected a string, got a mapping)"},
      {"connectors: { shopify: { accounts: [ a.myshopify.com ] } }",
       "config: connectors.shopify.accounts: expected a mapping of account name to its fields, got a list"},
      {"connectors: { shopify: { accounts: { a.myshopify.com: hunter2 } } }",
       R"(config: connectors.shopify.accounts["a.myshopify.com"]: expected a mapping of the account's fields, got a string)"},
      {"connectors: { shopify: hunter2 }",
       "config: connectors.shopify: expected a mapping with an accounts mapping, got a string"},
      {"connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [s] }, a.myshopify.com: { secrets: [t] } } } "
       "}",
       R"(config: connectors.shopify.accounts["a.myshopify.com"]: duplicate account)"},
      {"connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [s], secrets: [t] } } } }",
       R"(config: connectors.shopify.accounts["a.myshopify.com"].secrets: duplicate key)"},
      {"connectors: { woocommerce: { accounts: { \"https://shop.fr/\": { secrets: [s] } } } }",
       R"(config: connectors.woocommerce.accounts["https://shop.fr/"]: account names have no spaces, control characters or ':' (references are connector:account:id))"},
      {"connectors: { generic: { accounts: { \"\": { secrets: [s] } } } }",
       R"(config: connectors.generic.accounts[""]: empty account name)"},
      {"connectors: { Shopify: {} }",
       "config: connectors.Shopify: connector names are lowercase letters, digits and _"},
      {"kafka: { partitions: 3 }\nkafka: { partitions: 4 }", "config: kafka: duplicate key"},
      {"- a\n- b", "config: <string>: expected a mapping of sections at the top level, got a list"},
  };
  for (const bad& b : cases) {
    INFO(b.yaml);
    CHECK(load_error(b.yaml) == b.message);
  }
}

TEST_CASE("YAML syntax errors give the line", "[config]") {
  const std::string m = load_error("kafka:\n  partitions: [1, 2\n");
  CHECK(m.rfind("config: <string>: YAML syntax error at line ", 0) == 0);
}

TEST_CASE("secrets never appear in error messages", "[config]") {
  CHECK(load_error("api_keys: [ { key: \"sha256:hunter2-not-hex\", roles: [read] } ]").find("hunter2") ==
        std::string::npos);
  CHECK(load_error("api_keys: [ { key: hunter2, roles: [read] }, { key: hunter2, roles: [read] } ]").find("hunter2") ==
        std::string::npos);
  CHECK(load_error("kafka: { properties: { sasl.password: [hunter2] } }").find("hunter2") == std::string::npos);
  CHECK(load_error("connectors: { generic: { accounts: { a: hunter2 } } }").find("hunter2") == std::string::npos);
  CHECK(load_error("connectors: { generic: { accounts: { a: { secrets: [hunter2, [x]] } } } }").find("hunter2") ==
        std::string::npos);
}

TEST_CASE("${ENV} is replaced in any scalar", "[config]") {
  ::setenv("PASSERELLE_TEST_PARTITIONS", "7", 1);
  ::setenv("PASSERELLE_TEST_SECRET", "s3cret", 1);
  ::setenv("PASSERELLE_TEST_HOST", "10.0.0.1", 1);
  ::unsetenv("PASSERELLE_TEST_UNSET");

  const passerelle::config::config c = load_ok(R"(
http: { listen: "${PASSERELLE_TEST_HOST}:9000" }
kafka: { partitions: "${PASSERELLE_TEST_PARTITIONS}" }
api_keys: [ { key: "${PASSERELLE_TEST_SECRET}", roles: [admin] } ]
connectors: { generic: { accounts: { acct: { secrets: ["${PASSERELLE_TEST_SECRET}", "literal-$${NOT_A_VAR}"] } } } }
)");
  CHECK(c.http.listen.host == "10.0.0.1");
  CHECK(c.http.listen.port == 9000);
  CHECK(c.kafka.partitions == 7);
  CHECK(c.api_keys.at(0).digest == core::sha256("s3cret"));
  CHECK(c.connectors.at("generic").accounts.at("acct").scalars("secrets") ==
        std::vector<std::string>{"s3cret", "literal-${NOT_A_VAR}"});

  CHECK(load_error("kafka: { bootstrap_servers: \"${PASSERELLE_TEST_UNSET}\" }") ==
        "config: kafka.bootstrap_servers: environment variable PASSERELLE_TEST_UNSET is not set");
  CHECK(load_error("connectors: { generic: { accounts: { acct: { secrets: [\"${PASSERELLE_TEST_UNSET}\"] } } } }") ==
        "config: connectors.generic.accounts.acct.secrets[0]: environment variable PASSERELLE_TEST_UNSET is not set");
  CHECK(load_error("data_dir: \"${1BAD}\"").rfind("config: data_dir: malformed ${...} reference", 0) == 0);
  CHECK(load_error("data_dir: \"${UNCLOSED\"").rfind("config: data_dir: malformed ${...} reference", 0) == 0);
  // Substituted values are validated like written ones.
  ::setenv("PASSERELLE_TEST_PARTITIONS", "many", 1);
  CHECK(load_error("kafka: { partitions: \"${PASSERELLE_TEST_PARTITIONS}\" }") ==
        R"(config: kafka.partitions: expected an integer from 1 to 10000, got "many")");
}

TEST_CASE("IPv6 and ephemeral listen addresses", "[config]") {
  const passerelle::config::config c = load_ok("http: { listen: \"[::1]:0\" }");
  CHECK(c.http.listen.host == "::1");
  CHECK(c.http.listen.port == 0);
  CHECK(c.http.listen.to_string() == "[::1]:0");
}

TEST_CASE("connector names and fields are the factories' to check, not the loader's", "[config]") {
  // Fields the loader once refused for drifting from the generic factory (api_base_url, max_events_per_request),
  // a name no factory has, and a field no factory takes: all load; the factories (and the daemon's registry)
  // judge them at start-up (tests/config/connectors_section_test.cpp).
  const passerelle::config::config c = load_ok(R"(
plugins: { dir: "" }
connectors:
  generic: { accounts: { acct: { secrets: [s], api_base_url: "http://127.0.0.1:1", max_events_per_request: "5" } } }
  acme:    { accounts: { a: { token: "${HOME}" } } }
  shopify: { accounts: { a.myshopify.com: { secrets: [s], colour: blue } } }
)");
  CHECK(*c.connectors.at("generic").accounts.at("acct").find_scalar("max_events_per_request") == "5");
  CHECK(*c.connectors.at("acme").accounts.at("a").find_scalar("token") == std::getenv("HOME"));
  CHECK(*c.connectors.at("shopify").accounts.at("a.myshopify.com").find_scalar("colour") == "blue");
  // An empty (null) section: the connector is not configured.
  CHECK(load_ok("connectors: { shopify: ~ }").connectors.empty());
}

TEST_CASE("connectors.<name>.body_bytes is the host's: checked here, kept out of the factory's section", "[config]") {
  const passerelle::config::config c = load_ok(R"(
limits: { body_bytes: 4096 }
connectors:
  generic: { body_bytes: 1024, accounts: { acct: { secrets: [s] } } }
  shopify: { body_bytes: ~, accounts: { a.myshopify.com: { secrets: [s] } } }
)");
  CHECK(c.connectors.at("generic").body_bytes == std::optional<std::uint64_t>(1024));
  CHECK(c.connectors.at("generic").raw.find("body_bytes") == nullptr);  // the factory never sees it
  CHECK(c.connectors.at("generic").raw.find("accounts") != nullptr);
  CHECK_FALSE(c.connectors.at("shopify").body_bytes.has_value());  // null: limits.body_bytes
  CHECK(c.connectors.at("shopify").raw.find("body_bytes") == nullptr);

  CHECK(load_error("connectors: { generic: { body_bytes: 0, accounts: { a: { secrets: [s] } } } }") ==
        R"(config: connectors.generic.body_bytes: expected an integer from 1 to 1073741824, got "0")");
  CHECK(load_error("connectors: { generic: { body_bytes: 1MiB } }") ==
        R"(config: connectors.generic.body_bytes: expected an integer from 1 to 1073741824, got "1MiB")");
  CHECK(load_error("connectors: { generic: { body_bytes: 1073741825 } }") ==
        R"(config: connectors.generic.body_bytes: expected an integer from 1 to 1073741824, got "1073741825")");
  CHECK(load_error("connectors: { generic: { body_bytes: [1] } }") ==
        "config: connectors.generic.body_bytes: expected an integer from 1 to 1073741824, got a list");
}

TEST_CASE("connector sections are bounded against alias expansion", "[config]") {
  // Each level doubles the tree through aliases: 2^20 leaves if copied naively; refused past 10000 values.
  std::string yaml = "connectors:\n  acme:\n    l0: &l0 [x, x]\n";
  for (int i = 1; i <= 20; ++i) {
    yaml += "    l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
            std::to_string(i - 1) + "]\n";
  }
  const std::string m = load_error(yaml);
  CHECK(m.find("config: connectors.acme.") == 0);
  CHECK(m.find("section too large (more than 10000 values)") != std::string::npos);

  // The same through an account's nested mappings.
  std::string fields = "connectors:\n  acme:\n    accounts:\n      a:\n        f0: &f0 { x: y, z: w }\n";
  for (int i = 1; i <= 20; ++i) {
    fields += "        f" + std::to_string(i) + ": &f" + std::to_string(i) + " { a: *f" + std::to_string(i - 1) +
              ", b: *f" + std::to_string(i - 1) + " }\n";
  }
  CHECK(load_error(fields).find("section too large (more than 10000 values)") != std::string::npos);

  std::string deep = "connectors: { acme: { x: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += " } }";
  CHECK(load_error(deep).find("nested too deeply (more than 32 levels)") != std::string::npos);
  std::string deep_fields = "connectors: { acme: { accounts: { a: ";
  for (int i = 0; i < 40; ++i) deep_fields += "{ k: ";
  deep_fields += "v";
  for (int i = 0; i < 40; ++i) deep_fields += " }";
  deep_fields += " } } }";
  CHECK(load_error(deep_fields).find("nested too deeply (more than 32 levels)") != std::string::npos);
}

TEST_CASE("config files: missing, directory, and a real file", "[config]") {
  const result<passerelle::config::config> missing = load_config_file("/nonexistent/passerelle.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().kind == error_kind::not_found);
  CHECK(missing.err().message == "config: cannot read /nonexistent/passerelle.yaml: No such file or directory");

  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const result<passerelle::config::config> directory = load_config_file(dir.string());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.err().message.find("is a directory") != std::string::npos);

  char name[] = "/tmp/passerelle-config-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream f(name);
    f << "backend: kafka\nkafka: { partitions: x }\n";
  }
  const result<passerelle::config::config> bad = load_config_file(name);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message == R"(config: kafka.partitions: expected an integer from 1 to 10000, got "x")");
  {
    std::ofstream f(name, std::ios::trunc);
    f << "backend: kafka\n";
  }
  const result<passerelle::config::config> good = load_config_file(name);
  REQUIRE(good.ok());
  CHECK(good->backend == log::backend_kind::kafka);
  std::filesystem::remove(name);
}

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "broker/config/config.h"
#include "broker/core/crypto.h"

using namespace passerelle;
using namespace passerelle::config;

namespace {

// A configuration file in /tmp, removed at scope exit.
class temp_config_file {
 public:
  temp_config_file() {
    const int fd = ::mkstemp(path_.data());
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  ~temp_config_file() { std::filesystem::remove(path_); }
  temp_config_file(const temp_config_file&) = delete;
  temp_config_file& operator=(const temp_config_file&) = delete;

  void write(const std::string& text) {
    std::ofstream f(path_, std::ios::trunc);
    f << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_ = "/tmp/passerelle-reload-XXXXXX";
};

std::string base(const std::string& key, const std::string& shop_secret, const std::string& token,
                 const std::string& extra = "") {
  return "kafka: { partitions: 6 }\n"
         "api_keys: [ { key: \"" +
         key +
         "\", roles: [read] } ]\n"
         "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [\"" +
         shop_secret +
         "\"], api_base_url: \"http://127.0.0.1:1\" } } } }\n"
         "stores: [ { id: paris-01, tokens: [\"" +
         token + "\"] } ]\n" + extra;
}

}  // namespace

TEST_CASE("reload_secrets applies new keys, tokens and connector secrets", "[config]") {
  temp_config_file file;
  file.write(base("key-1", "shop-1", "token-1"));
  const result<passerelle::config::config> current = load_config_file(file.path());
  REQUIRE(current.ok());

  file.write(base("key-2", "shop-2", "token-2"));
  const result<passerelle::config::config> next = reload_secrets(file.path(), *current);
  if (!next.ok()) FAIL(next.err().message);
  CHECK(next->api_keys.at(0).digest == passerelle::core::sha256("key-2"));
  CHECK(next->stores.at(0).tokens.at(0) == passerelle::core::sha256("token-2"));
  CHECK(next->connectors.at("shopify").accounts.at("a.myshopify.com").scalars("secrets") ==
        std::vector<std::string>{"shop-2"});
  CHECK(next->kafka.partitions == 6);
}

TEST_CASE("reload_secrets applies connector account settings, which the factories validate again", "[config]") {
  temp_config_file file;
  file.write(base("key-1", "shop-1", "token-1"));
  const result<passerelle::config::config> current = load_config_file(file.path());
  REQUIRE(current.ok());
  // The daemon rebuilds the connectors from the new sections on SIGHUP, so a changed account field (here the
  // platform API a sandbox stands in for) takes effect instead of being silently ignored.
  file.write(
      "kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
      "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
      "\"http://127.0.0.1:2\", access_token: tok } } } }\n"
      "stores: [ { id: paris-01, tokens: [token-1] } ]\n");
  const result<passerelle::config::config> next = reload_secrets(file.path(), *current);
  if (!next.ok()) FAIL(next.err().message);
  const config_node& shop = next->connectors.at("shopify").accounts.at("a.myshopify.com");
  CHECK(*shop.find_scalar("api_base_url") == "http://127.0.0.1:2");
  CHECK(*shop.find_scalar("access_token") == "tok");
}

TEST_CASE("reload_secrets refuses changes that need a restart", "[config]") {
  temp_config_file file;
  file.write(base("key-1", "shop-1", "token-1"));
  const result<passerelle::config::config> current = load_config_file(file.path());
  REQUIRE(current.ok());

  struct change {
    std::string yaml;
    std::string key;
  };
  const change changes[] = {
      {base("key-1", "shop-1", "token-1", "log: { level: debug }\n"), "log.level"},
      {base("key-1", "shop-1", "token-1", "http: { listen: \"127.0.0.1:9\" }\n"), "http.listen"},
      {base("key-1", "shop-1", "token-1", "backend: kafka\n"), "backend"},
      {"kafka: { partitions: 7 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
       "\"http://127.0.0.1:1\" } } } }\n"
       "stores: [ { id: paris-01, tokens: [token-1] } ]\n",
       "kafka.partitions"},
      {"kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
       "\"http://127.0.0.1:1\" },"
       " b.myshopify.com: { secrets: [x] } } } }\n"
       "stores: [ { id: paris-01, tokens: [token-1] } ]\n",
       R"(connectors.shopify.accounts["b.myshopify.com"] (added))"},
      {"kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
       "\"http://127.0.0.1:1\" } } } }\n"
       "stores: [ { id: lyon-01, tokens: [token-1] } ]\n",
       "stores[0].id"},
      {"kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "stores: [ { id: paris-01, tokens: [token-1] } ]\n",
       "connectors.shopify (removed)"},
      {"kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "connectors: { shopify: { accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
       "\"http://127.0.0.1:1\" } } }, generic: { accounts: { g: { secrets: [x] } } } }\n"
       "stores: [ { id: paris-01, tokens: [token-1] } ]\n",
       "connectors.generic (added)"},
      {"kafka: { partitions: 6 }\napi_keys: [ { key: key-1, roles: [read] } ]\n"
       "connectors: { shopify: { body_bytes: 2048, accounts: { a.myshopify.com: { secrets: [shop-1], api_base_url: "
       "\"http://127.0.0.1:1\" } } } }\n"
       "stores: [ { id: paris-01, tokens: [token-1] } ]\n",
       "connectors.shopify.body_bytes"},
  };
  for (const change& c : changes) {
    INFO(c.yaml);
    file.write(c.yaml);
    const result<passerelle::config::config> next = reload_secrets(file.path(), *current);
    REQUIRE_FALSE(next.ok());
    CHECK(next.err().code == "reload_refused");
    CHECK(next.err().message == "config: " + c.key +
                                    ": changed, but a reload (SIGHUP) only applies secrets and tokens; restart to "
                                    "apply it (the running configuration is unchanged)");
  }
}

TEST_CASE("reload_secrets reports a broken file like a load", "[config]") {
  temp_config_file file;
  file.write(base("key-1", "shop-1", "token-1"));
  const result<passerelle::config::config> current = load_config_file(file.path());
  REQUIRE(current.ok());
  file.write(base("key-1", "shop-1", "token-1", "dedup: { window: soon }\n"));
  const result<passerelle::config::config> next = reload_secrets(file.path(), *current);
  REQUIRE_FALSE(next.ok());
  CHECK(next.err().message ==
        R"(config: dedup.window: expected a positive duration such as 24h, 90m, 30s, 500ms or 2h30m, got "soon")");
}

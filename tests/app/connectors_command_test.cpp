// `passerelle connectors`: every compiled-in connector with its metadata and config fields; with --config, the
// configured accounts each validated by the connector's own factory; never a secret in the output.

#include "broker/app/connectors_command.h"

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "tests/log/temp_dir.h"

using namespace passerelle;
using namespace passerelle::app;

namespace {

struct outcome {
  int code = -1;
  std::string out;
  std::string err;
};

outcome run(std::vector<std::string> args) {
  const std::vector<command> commands = {connectors_command()};
  args.insert(args.begin(), "connectors");
  std::ostringstream out;
  std::ostringstream err;
  outcome o;
  o.code = run_cli(args, commands, cli_io{out, err});
  o.out = out.str();
  o.err = err.str();
  return o;
}

// Two generic accounts, one the factory refuses (max_events_per_request out of range), and a section no built-in
// connector claims.
constexpr const char* config_yaml =
    "connectors:\n"
    "  generic:\n"
    "    accounts:\n"
    "      good: { secrets: [\"very-secret-value-1\"] }\n"
    "      bad: { secrets: [\"very-secret-value-2\"], max_events_per_request: \"0\" }\n"
    "  shopify: { accounts: { \"example.myshopify.com\": { secrets: [\"very-secret-value-3\"] } } }\n"
    "  acme_pos: { accounts: { x: { token: \"very-secret-value-4\" } } }\n";

}  // namespace

TEST_CASE("connectors lists every built-in connector with its status and config fields", "[cli][connectors]") {
  const auto o = run({});
  REQUIRE(o.code == 0);
  CHECK(o.err.empty());
  for (const char* name : {"generic  (", "shopify  (", "woocommerce  ("}) CHECK(o.out.find(name) != std::string::npos);
  CHECK(o.out.find("secrets") != std::string::npos);
  CHECK(o.out.find("required  secret") != std::string::npos);
  CHECK(o.out.find("X-Shopify-Shop-Domain") != std::string::npos);
  CHECK(o.out.find("configured accounts") == std::string::npos);  // only with --config
}

TEST_CASE("connectors --json carries the metadata of each field", "[cli][connectors]") {
  const auto o = run({"--json"});
  REQUIRE(o.code == 0);
  rapidjson::Document d;
  d.Parse(o.out.c_str());
  REQUIRE_FALSE(d.HasParseError());
  const auto& list = d["connectors"];
  REQUIRE(list.Size() == 3);
  CHECK(list[0]["name"] == "generic");
  CHECK(list[0]["status"] == "beta");
  CHECK(list[0]["source"] == "built-in");
  bool saw_secrets = false;
  for (const auto& f : list[0]["account_fields"].GetArray()) {
    if (f["name"] == "secrets") {
      saw_secrets = true;
      CHECK(f["type"] == "secret_list");
      CHECK(f["required"].GetBool());
      CHECK(f["secret"].GetBool());
      CHECK_FALSE(std::string(f["description"].GetString()).empty());
    }
  }
  CHECK(saw_secrets);
  CHECK_FALSE(list[0].HasMember("accounts"));
}

TEST_CASE("connectors --config validates each configured account and never prints secrets", "[cli][connectors]") {
  log::testing::temp_dir dir;
  const auto path = (dir.path() / "p.yaml").string();
  std::ofstream(path) << config_yaml;

  const auto text = run({"--config", path});
  REQUIRE(text.code == 0);
  CHECK(text.out.find("    good  ok") != std::string::npos);
  CHECK(text.out.find("    bad  INVALID: ") != std::string::npos);
  CHECK(text.out.find("max_events_per_request") != std::string::npos);
  CHECK(text.out.find("example.myshopify.com  ok") != std::string::npos);
  CHECK(text.out.find("configured accounts: none (not configured)") != std::string::npos);  // woocommerce
  CHECK(text.out.find("acme_pos  configured, but no compiled-in connector") != std::string::npos);
  CHECK(text.out.find("very-secret-value") == std::string::npos);

  const auto json = run({"--config=" + path, "--json"});
  REQUIRE(json.code == 0);
  CHECK(json.out.find("very-secret-value") == std::string::npos);
  rapidjson::Document d;
  d.Parse(json.out.c_str());
  REQUIRE_FALSE(d.HasParseError());
  const auto& generic = d["connectors"][0];
  REQUIRE(generic["configured"].GetBool());
  REQUIRE(generic["accounts"].Size() == 2);
  CHECK(generic["accounts"][0]["account"] == "bad");
  CHECK_FALSE(generic["accounts"][0]["valid"].GetBool());
  CHECK(std::string(generic["accounts"][0]["error"].GetString()).find("max_events_per_request") != std::string::npos);
  CHECK(generic["accounts"][1]["account"] == "good");
  CHECK(generic["accounts"][1]["valid"].GetBool());
  REQUIRE(d["unclaimed_sections"].Size() == 1);
  CHECK(d["unclaimed_sections"][0] == "acme_pos");
}

TEST_CASE("connectors usage and configuration errors exit 2 with one line", "[cli][connectors]") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--verbose"}, {"extra"}, {"--config"}, {"--config="}, {"--config", "/nonexistent/p.yaml"}}) {
    const auto o = run(args);
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  }
  log::testing::temp_dir dir;
  const auto path = (dir.path() / "p.yaml").string();
  std::ofstream(path) << "kafka: { partitions: x }\n";
  const auto o = run({"--config", path});
  CHECK(o.code == 2);
  CHECK(o.err.find("kafka.partitions") != std::string::npos);
}

// Tests of the generic signed JSON connector: golden fixtures (fixtures/), the signature header, configuration,
// and a table of bad inputs with their outcomes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connectors/generic/generic_connector.h"
#include "connectors/sdk/crypto.h"
#include "connectors/sdk/testing/golden.h"
#include "passerelle/v1/event.pb.h"

namespace {

namespace sdk = passerelle::connector;
namespace golden = passerelle::connector::testing;
namespace generic = passerelle::connectors::generic;

constexpr std::int64_t received_at_ms = 1'795'356'000'250;  // 2026-11-22T14:00:00.250Z
constexpr std::int64_t now_s = received_at_ms / 1000;
const std::string current_secret = "generic-test-secret-current";
const std::string previous_secret = "generic-test-secret-previous";
const std::string fixtures = GENERIC_FIXTURES_DIR;

sdk::config_node section_with(std::map<std::string, sdk::config_node> account) {
  return sdk::config_node::make_map(
      {{"accounts", sdk::config_node::make_map({{"boutique-lyon", sdk::config_node::make_map(std::move(account))}})}});
}

std::shared_ptr<const sdk::connector> make_connector(
    const sdk::config_node& section = section_with({{"secrets",
                                                     sdk::config_node::make_list({current_secret, previous_secret})},
                                                    {"max_events_per_request", sdk::config_node::make_scalar("5")}})) {
  auto created = generic::make_generic_factory()->create(section);
  REQUIRE(created.ok());
  return *created;
}

void set_header(golden::golden_request& req, const std::string& name, const std::string& value) {
  for (auto& h : req.headers) {
    if (h.name == name) {
      h.value = value;
      return;
    }
  }
  req.headers.push_back({name, value});
}

void remove_header(golden::golden_request& req, const std::string& name) {
  std::erase_if(req.headers, [&](const sdk::http_header& h) { return h.name == name; });
}

void sign_at(golden::golden_request& req, const std::string& secret, std::int64_t t) {
  set_header(req, "X-Passerelle-Signature", generic::sign(secret, t, req.body));
}

void signer(golden::golden_request& req) { sign_at(req, current_secret, now_s); }

golden::golden_request signed_snapshot() {
  auto req = golden::load_golden_request(fixtures, "basket_snapshot_single");
  signer(req);
  return req;
}

sdk::inbound_request inbound(const golden::golden_request& req) {
  sdk::inbound_request in;
  in.method = req.method;
  in.path_account = req.path_account;
  in.headers = &req.headers;
  in.body = req.body;
  in.received_at_ms = received_at_ms;
  return in;
}

}  // namespace

TEST_CASE("generic: golden fixtures translate to the expected events", "[generic][golden]") {
  const auto connector = make_connector();
  const auto results = golden::run_golden_dir(*connector, fixtures, signer, received_at_ms);
  REQUIRE(results.size() >= 20);
  for (const auto& r : results) {
    INFO(r.name << ": " << r.diff);
    CHECK(r.passed);
  }
}

TEST_CASE("generic: the signature header is parsed strictly", "[generic][signature]") {
  const std::string hex(64, 'a');
  const std::string other(64, 'b');
  auto parsed = generic::parse_signature_header("t=1795356000,v1=" + hex);
  REQUIRE(parsed);
  CHECK(parsed->timestamp_s == 1795356000);
  CHECK(parsed->v1 == std::vector<std::string>{hex});

  parsed = generic::parse_signature_header(" t=5 , v1=" + hex + ", v1=" + other + ",v2=whatever");
  REQUIRE(parsed);
  CHECK(parsed->v1.size() == 2);

  CHECK_FALSE(generic::parse_signature_header("v1=" + hex));          // no t
  CHECK_FALSE(generic::parse_signature_header("t=5"));                // no v1
  CHECK_FALSE(generic::parse_signature_header("t=5,t=6,v1=" + hex));  // two t
  CHECK_FALSE(generic::parse_signature_header("t=-5,v1=" + hex));     // negative
  CHECK_FALSE(generic::parse_signature_header("t=+5,v1=" + hex));
  CHECK_FALSE(generic::parse_signature_header("t=5x,v1=" + hex));
  CHECK_FALSE(generic::parse_signature_header("t=5,v1=" + std::string(64, 'A')));  // uppercase hex
  CHECK_FALSE(generic::parse_signature_header("t=5,v1=" + hex.substr(1)));         // short
  CHECK_FALSE(generic::parse_signature_header("t=5,v1"));                          // no '='
  std::string many = "t=5";
  for (int i = 0; i < 9; ++i) many += ",v1=" + hex;
  CHECK_FALSE(generic::parse_signature_header(many));  // more than max_signatures
  CHECK_FALSE(generic::parse_signature_header("t=5,v1=" + hex + ",x=" + std::string(1100, 'x')));  // too long

  // What a sender computes, checked against an independent computation.
  const auto header = generic::sign("k", 10, "{}");
  CHECK(header == "t=10,v1=" + sdk::to_hex(sdk::hmac_sha256("k", "10.{}")));
}

TEST_CASE("generic: the factory validates its section and names the key path", "[generic][config]") {
  const auto factory = generic::make_generic_factory();
  CHECK(factory->metadata().name == "generic");
  const auto refused = [&](const sdk::config_node& section, const std::string& path) {
    auto r = factory->create(section);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().kind == passerelle::error_kind::reject);
    INFO(r.err().message);
    CHECK(r.err().message.starts_with(path));
  };
  refused(section_with({}), "accounts.boutique-lyon.secrets");
  refused(section_with({{"secrets", sdk::config_node::make_list({""})}}), "accounts.boutique-lyon.secrets");
  refused(section_with({{"secrets", sdk::config_node::make_list({current_secret})},
                        {"max_events_per_request", sdk::config_node::make_scalar("0")}}),
          "accounts.boutique-lyon.max_events_per_request");
  refused(section_with({{"secrets", sdk::config_node::make_list({current_secret})},
                        {"max_events_per_request", sdk::config_node::make_scalar("12abc")}}),
          "accounts.boutique-lyon.max_events_per_request");
  refused(section_with({{"secrets", sdk::config_node::make_list({current_secret})},
                        {"secret", sdk::config_node::make_scalar("x")}}),
          "accounts.boutique-lyon.secret");
  refused(
      sdk::config_node::make_map(
          {{"accounts",
            sdk::config_node::make_map(
                {{"a:b", sdk::config_node::make_map({{"secrets", sdk::config_node::make_list({current_secret})}})}})}}),
      "accounts.a:b");
  refused(sdk::config_node::make_map({{"account", sdk::config_node::make_map({})}}), "account");
}

namespace {

enum class outcome { unauthorized, rejected, events, no_events };

struct bad_input_case {
  std::string name;
  std::function<void(golden::golden_request&)> mutate;
  outcome expected;
  std::string code;
};

std::string batch_of(int n) {
  std::string body = "{\"events\": [";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ",";
    body += R"({"references": ["generic:boutique-lyon:v-)" + std::to_string(i) +
            R"("], "product_viewed": {"product": {"sku": "S"}}})";
  }
  return body + "]}";
}

}  // namespace

TEST_CASE("generic: bad inputs end in the documented outcome", "[generic][bad_input]") {
  const auto connector = make_connector();
  const std::vector<bad_input_case> cases = {
      {"valid, current secret", [](auto&) {}, outcome::events, ""},
      {"valid, previous secret (rotation on our side)", [](auto& r) { sign_at(r, previous_secret, now_s); },
       outcome::events, ""},
      {"old and new signatures side by side (rotation on the sender's side)",
       [](auto& r) {
         const auto good = generic::sign(current_secret, now_s, r.body);
         const auto stale = generic::sign("generic-test-secret-removed", now_s, r.body);
         set_header(r, "X-Passerelle-Signature", stale + "," + good.substr(good.find("v1=")));
       },
       outcome::events, ""},
      {"signed with a removed secret", [](auto& r) { sign_at(r, "generic-test-secret-removed", now_s); },
       outcome::unauthorized, "bad_signature"},
      {"wrong signature",
       [](auto& r) {
         set_header(r, "X-Passerelle-Signature", "t=" + std::to_string(now_s) + ",v1=" + std::string(64, '0'));
       },
       outcome::unauthorized, "bad_signature"},
      {"signature over another timestamp",
       [](auto& r) {
         auto header = generic::sign(current_secret, now_s - 1, r.body);
         header.replace(0, header.find(','), "t=" + std::to_string(now_s));
         set_header(r, "X-Passerelle-Signature", header);
       },
       outcome::unauthorized, "bad_signature"},
      {"malformed signature header", [](auto& r) { set_header(r, "X-Passerelle-Signature", "sha256=abc"); },
       outcome::unauthorized, "bad_signature"},
      {"missing signature", [](auto& r) { remove_header(r, "X-Passerelle-Signature"); }, outcome::unauthorized,
       "missing_signature"},
      {"unknown account", [](auto& r) { set_header(r, "X-Passerelle-Account", "boutique-paris"); },
       outcome::unauthorized, "unknown_account"},
      {"missing account", [](auto& r) { remove_header(r, "X-Passerelle-Account"); }, outcome::unauthorized,
       "unknown_account"},
      {"account from the path",
       [](auto& r) {
         remove_header(r, "X-Passerelle-Account");
         r.path_account = "boutique-lyon";
       },
       outcome::events, ""},
      {"path and header disagree", [](auto& r) { r.path_account = "boutique-paris"; }, outcome::unauthorized,
       "unknown_account"},
      {"timestamp 301 s old", [](auto& r) { sign_at(r, current_secret, now_s - 301); }, outcome::unauthorized,
       "stale_timestamp"},
      {"timestamp 301 s ahead", [](auto& r) { sign_at(r, current_secret, now_s + 301); }, outcome::unauthorized,
       "stale_timestamp"},
      {"timestamp 299 s old", [](auto& r) { sign_at(r, current_secret, now_s - 299); }, outcome::events, ""},
      {"stale and wrong: reported as a bad signature",
       [](auto& r) { sign_at(r, "generic-test-secret-removed", now_s - 3600); }, outcome::unauthorized,
       "bad_signature"},
      {"body tampered after signing", [](auto& r) { r.body.replace(r.body.find("6900"), 4, "0001"); },
       outcome::unauthorized, "bad_signature"},
      {"truncated body",
       [](auto& r) {
         r.body.resize(r.body.size() / 2);
         signer(r);
       },
       outcome::rejected, "invalid_json"},
      {"invalid UTF-8",
       [](auto& r) {
         r.body.replace(r.body.find("Chemise"), 1, "\xFF");
         signer(r);
       },
       outcome::rejected, "invalid_utf8"},
      {"deeply nested JSON",
       [](auto& r) {
         r.body = "{\"events\":" + std::string(200, '[') + std::string(200, ']') + "}";
         signer(r);
       },
       outcome::rejected, "too_deep"},
      {"not an object",
       [](auto& r) {
         r.body = "\"basket\"";
         signer(r);
       },
       outcome::rejected, "invalid_payload"},
      {"events not an array",
       [](auto& r) {
         r.body = R"({"events": {}})";
         signer(r);
       },
       outcome::rejected, "invalid_payload"},
      {"batch element not an object",
       [](auto& r) {
         r.body = R"({"events": [1]})";
         signer(r);
       },
       outcome::rejected, "invalid_payload"},
      {"batch at the account's limit",
       [](auto& r) {
         r.body = batch_of(5);
         signer(r);
       },
       outcome::events, ""},
      {"batch over the account's limit",
       [](auto& r) {
         r.body = batch_of(6);
         signer(r);
       },
       outcome::rejected, "too_many_events"},
      {"unknown enum value",
       [](auto& r) {
         r.body.replace(r.body.find("SUBJECT_KIND_BASKET"), 19, "SUBJECT_KIND_PLANET");
         signer(r);
       },
       outcome::rejected, "invalid_event"},
      {"amount out of int64 range",
       [](auto& r) {
         r.body.replace(r.body.find("6900"), 4, "99999999999999999999");
         signer(r);
       },
       outcome::rejected, "invalid_event"},
      {"missing delivery id", [](auto& r) { remove_header(r, "X-Passerelle-Delivery"); }, outcome::rejected,
       "missing_delivery_id"},
      {"delivery id with spaces", [](auto& r) { set_header(r, "X-Passerelle-Delivery", "a b"); }, outcome::rejected,
       "bad_delivery_id"},
      {"empty batch",
       [](auto& r) {
         r.body = R"({"events": []})";
         signer(r);
       },
       outcome::no_events, ""},
  };
  for (const auto& c : cases) {
    auto req = signed_snapshot();
    c.mutate(req);
    const auto in = inbound(req);
    INFO("case: " << c.name);
    auto delivery = connector->verify(in);
    if (c.expected == outcome::unauthorized) {
      REQUIRE_FALSE(delivery.ok());
      CHECK(delivery.err().kind == passerelle::error_kind::unauthorized);
      CHECK(delivery.err().code == c.code);
      continue;
    }
    REQUIRE(delivery.ok());
    CHECK(delivery->account == "boutique-lyon");
    auto events = connector->translate(in, *delivery);
    if (c.expected == outcome::rejected) {
      REQUIRE_FALSE(events.ok());
      CHECK(events.err().kind == passerelle::error_kind::reject);
      CHECK(events.err().code == c.code);
      CHECK_FALSE(events.err().message.empty());
      continue;
    }
    REQUIRE(events.ok());
    if (c.expected == outcome::no_events)
      CHECK(events->empty());
    else
      CHECK_FALSE(events->empty());
  }
}

TEST_CASE("generic: error messages name the bad field and the event", "[generic][bad_input]") {
  const auto connector = make_connector();
  const std::map<std::string, std::string> expected = {
      {"unknown_field", "colour"},
      {"batch_with_a_bad_event", "events[1]"},
      {"bad_currency", "basket_snapshot.totals.total.currency"},
      {"clear_email", "customers[0].value"},
      {"subject_kind_mismatch", "subject_kind"},
      {"reference_of_another_account", "references[1]"},
  };
  for (const auto& [name, needle] : expected) {
    auto req = golden::load_golden_request(fixtures, name);
    signer(req);
    auto r = golden::run_request(*connector, req, received_at_ms);
    INFO(name);
    REQUIRE_FALSE(r.ok());
    INFO(r.err().message);
    CHECK(r.err().message.find(needle) != std::string::npos);
  }
}

TEST_CASE("generic: a replayed request keeps its delivery id, and host fields are never taken from the sender",
          "[generic][dedup]") {
  const auto connector = make_connector();
  auto first = signed_snapshot();
  auto again = signed_snapshot();
  auto a = connector->verify(inbound(first));
  auto b = connector->verify(inbound(again));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->delivery_id == "dlv-basket_snapshot_single");
  CHECK(a->delivery_id == b->delivery_id);

  auto req = golden::load_golden_request(fixtures, "host_fields_cleared_and_kind_filled");
  signer(req);
  auto events = golden::run_request(*connector, req, received_at_ms);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  const auto& e = (*events)[0];
  CHECK(e.event_id().empty());
  CHECK(e.subject_id().empty());
  CHECK_FALSE(e.has_received_at());
  CHECK(e.source().delivery_id().empty());
  CHECK(e.subject_kind() == passerelle::v1::SUBJECT_KIND_BASKET);
}

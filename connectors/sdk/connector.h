#pragma once
// The in-process connector SDK: what an e-commerce platform or POS connector implements.
//
// A connector TRANSLATES; the host DECIDES. Given the bytes and headers of one inbound request and its own typed
// configuration, a connector (1) verifies the request's authenticity by the platform's own scheme and names the
// account and delivery, then (2) translates the verified bytes into passerelle.v1.Event messages: full snapshots
// where the platform sends them, plus references. The host (broker/ingest/) then assigns event ids (from the
// delivery id, so retries deduplicate) and subject ids (from the origin reference), makes the events durable,
// dead-letters what the connector rejects, and answers the platform. The lifecycle engine diffs snapshots, drops
// stale ones and applies the state machines.
//
// No Asio, Beast or librdkafka type crosses this interface, and nothing here blocks.
//
// Lifecycle and threads: the host creates one connector per configured connector section through its factory at
// start-up (and again on a configuration reload), owns it through a shared_ptr, and calls verify()/translate()
// concurrently from its I/O threads: implementations are immutable after construction (const methods, no locks).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "connectors/sdk/config_node.h"

namespace passerelle::v1 {
class Event;
}

namespace passerelle::connector {

class checkout_builder;  // connectors/sdk/checkout_builder.h

struct http_header {
  std::string name;  // as received (compare case-insensitively)
  std::string value;
};

// One inbound HTTP request as received, before anything in it is trusted. Views are valid for the duration of
// the verify()/translate() call only.
struct inbound_request {
  std::string_view method;        // "POST"
  std::string_view target;        // path and query as received
  std::string_view path_account;  // the {account} segment of /v1/webhooks/{connector}/{account}; empty if absent
  const std::vector<http_header>* headers = nullptr;
  std::string_view body;  // raw bytes exactly as received (signatures are computed over these)
  std::int64_t received_at_ms = 0;

  // First value of the header `name` (ASCII case-insensitive), or empty when absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
};

// What verify() established about a request.
struct verified_delivery {
  std::string account;      // the normalised account key (see CONTRACT.md "Account keys are normalised")
  std::string delivery_id;  // the platform's unique delivery id (X-Shopify-Webhook-Id, ...): the dedup key
  std::string topic;        // the platform's event topic ("carts/update", "order.created", ...), for metrics/DLQ
  bool ping = false;        // a platform's unsigned set-up ping: answer 200, emit nothing, keep nothing
};

class connector {
 public:
  virtual ~connector() = default;

  // The connector's name: the {connector} of /v1/webhooks/{connector} and of references.
  virtual std::string_view name() const noexcept = 0;

  // Authenticity before anything else: finds the account from the request, checks the signature against each of
  // the account's secrets in constant time (several secrets allow rotation), and the replay window where the
  // platform sends a timestamp. Must not parse the body beyond what the scheme requires.
  // Errors (the request is then NOT kept, answered 401): unauthorized/"unknown_account",
  // unauthorized/"missing_signature", unauthorized/"bad_signature", unauthorized/"stale_timestamp".
  virtual result<verified_delivery> verify(const inbound_request& request) const = 0;

  // Translates a verified request into events, in the order they happened. Fills in, for each event: the
  // payload, occurred_at, channel, source {connector, account, native_id} (delivery_id is set by the host),
  // source_version where the platform gives one, store_id where relevant, customer references, and the
  // subject references — refs[0] being the ORIGIN reference from which the host derives the subject id.
  // Leaves event_id, subject_id and received_at to the host.
  // Errors: reject/<code> with a message naming what is wrong (the request is then dead-lettered, answered 202).
  // An empty vector is allowed (a topic Passerelle does not use): answered 200 with no event.
  virtual result<std::vector<v1::Event>> translate(const inbound_request& request,
                                                   const verified_delivery& delivery) const = 0;

  // Names of headers whose values are credentials or signatures, redacted before a request is dead-lettered.
  virtual std::vector<std::string> sensitive_headers() const { return {}; }

  // Optional capability: creating a checkout on the platform for a basket handed off to the web
  // (connectors/sdk/checkout_builder.h). nullptr (the default) means this connector cannot be a web handoff
  // target. The builder is owned by the connector and lives as long as it.
  virtual const checkout_builder* checkout() const noexcept { return nullptr; }
};

// ---- Factories and metadata (what `passerelle connectors` lists) ----

enum class field_type { string, secret, string_list, secret_list, url, map };

struct config_field {
  std::string name;  // key under connectors.<name>.accounts.<account>
  field_type type = field_type::string;
  bool required = false;
  std::string description;
};

enum class maturity { stable, beta, alpha };

struct connector_metadata {
  std::string name;          // "shopify"
  std::string display_name;  // "Shopify"
  std::string description;   // one line
  maturity status = maturity::beta;
  std::string security_posture;  // how requests are authenticated, in one line
  std::string account_key;       // how the account is identified ("X-Shopify-Shop-Domain header")
  std::vector<config_field> account_fields;
};

// Turns a connector's configuration section into a ready connector. Stateless; called at start-up and reload.
class connector_factory {
 public:
  virtual ~connector_factory() = default;
  virtual const connector_metadata& metadata() const noexcept = 0;

  // `section` is connectors.<name> from the YAML configuration (a map with an `accounts` map). Unknown or missing
  // fields, and bad values, are errors of kind reject whose message names the key path below the section, e.g.
  // `accounts.example.myshopify.com.secrets: expected a non-empty list of strings`.
  virtual result<std::shared_ptr<const connector>> create(const config_node& section) const = 0;
};

// Checks `section` against the metadata's account_fields (types, required fields, no unknown keys); the common
// part of every factory's create().
result<void> validate_accounts_section(const connector_metadata& metadata, const config_node& section);

std::string_view to_string(field_type type) noexcept;
std::string_view to_string(maturity status) noexcept;

}  // namespace passerelle::connector

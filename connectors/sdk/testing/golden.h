#pragma once
// Golden tests for connectors: each captured request in a fixture folder is paired with the events it must produce.
//
// A case `<dir>/<name>` is three files:
//   <name>.body              the raw request body, byte for byte as the platform sends it
//   <name>.request.json      {"method": "POST", "path_account": "", "headers": {"X-Shopify-Topic": "carts/update",
//   ...}} <name>.events.json       the expected outcome: {"events": [<passerelle.v1.Event in protobuf JSON>...]}
//                            or {"error": {"kind": "reject", "code": "..."}} for a refused request
// Signature headers are NOT stored in fixtures: the test passes a `signer` that adds them (computed with a test
// secret over the raw body), so fixtures stay readable and the signature path is exercised on every case.
// Set PASSERELLE_UPDATE_GOLDEN=1 to (re)write the .events.json files from the current output — then review the diff.
//
// Test-only code (linked into connector tests, never into the daemon).

#include <functional>
#include <string>
#include <vector>

#include "connectors/sdk/connector.h"

namespace passerelle::connector::testing {

struct golden_request {
  std::string method = "POST";
  std::string path_account;
  std::vector<http_header> headers;
  std::string body;
};

// Adds authentication headers to a request (e.g. X-Shopify-Hmac-Sha256 over the body).
using golden_signer = std::function<void(golden_request&)>;

struct golden_result {
  std::string name;
  bool passed = false;
  std::string diff;  // human-readable explanation when not passed
};

// Loads every case under `dir`, runs verify() then translate() at `received_at_ms`, and compares with the
// expected file. Returns one result per case (an empty folder yields one failed result: a golden suite that finds
// nothing must not pass).
std::vector<golden_result> run_golden_dir(const connector& c, const std::string& dir, const golden_signer& signer,
                                          std::int64_t received_at_ms);

// Reads one fixture request (body + request.json) without signing it; for hand-written tests.
golden_request load_golden_request(const std::string& dir, const std::string& name);

// Runs verify() + translate() on a request (the views point into `req`).
result<std::vector<v1::Event>> run_request(const connector& c, const golden_request& req, std::int64_t received_at_ms);

}  // namespace passerelle::connector::testing

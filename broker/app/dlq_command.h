#pragma once
// `passerelle dlq list|show|replay`: dead-letter operations through the running daemon's admin API
// (broker/dlq/dead_letter_routes.h). The CLI never opens the event log itself: with the embedded backend the
// daemon holds the store's lock, and on Kafka the daemon already has the connection and configuration.
//
//   passerelle dlq list   [--limit N] [--cursor C] [common options]
//   passerelle dlq show   ID [common options]
//   passerelle dlq replay ID [--idempotency-key K] [common options]
//   common options: [--config FILE] [--url URL] [--ca FILE] [--json]
//
// The URL defaults from the configuration's http.listen (https when http.tls is set; a wildcard listen address
// is reached on loopback). The API key (role admin) comes from the environment variable PASSERELLE_API_KEY: the
// configuration keeps only digests of keys.
// Output: a human table/summary, or the daemon's JSON verbatim with --json. Exit codes: 0 ok; 2 bad usage or
// configuration (one line, naming the option or key); 1 runtime failure (daemon unreachable, refused key, unknown
// id, replay still unusable or no longer configured), one line on stderr saying which.
//
// Thread: the CLI's main thread; each call makes one blocking HTTP exchange, bounded by --timeout-ms (30 s).

#include <functional>
#include <optional>
#include <string>

#include "broker/app/cli.h"

namespace passerelle::app {

inline constexpr const char* api_key_env = "PASSERELLE_API_KEY";

// Where the command finds the API key: the environment by default; tests inject one.
using api_key_source = std::function<std::optional<std::string>()>;
std::optional<std::string> api_key_from_environment();

command dlq_command(api_key_source api_key = api_key_from_environment);

}  // namespace passerelle::app

#pragma once
// daemon: the running Passerelle process, assembled from configuration — the one place that wires modules
// together (event log + topics, connectors, webhook ingest, dead-letter operations, HTTP server with ops routes).
//
// Lifecycle: start() builds and starts everything or returns the first error (nothing left running); reload()
// applies a SIGHUP (secrets and tokens only); stop() shuts down in order: stop accepting and drain in-flight HTTP
// requests, then flush the event log, then release it. The destructor calls stop().
// Threads: start/reload/stop are called from the main thread (serve's signal loop) or a test's thread, never
// concurrently with each other. The daemon owns the I/O threads (through http::server) and the topic-creation
// thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "broker/config/config.h"
#include "broker/core/result.h"
#include "broker/http/router.h"
#include "broker/obs/logger.h"

namespace passerelle::connector {
class registry;
}

namespace passerelle::app {

// What a caller adds to the daemon beyond the configuration: the seam through which in-process connectors that
// are not built in (plugins, a test's own connector) join the registry before the configured sections are
// instantiated. Called once, on the thread calling start().
struct daemon_extensions {
  std::function<result<void>(connector::registry&)> register_connectors;  // may be empty
};

class daemon {
 public:
  // `config_path` is re-read on reload(); nullopt when running on defaults (reload is then a no-op).
  static result<std::unique_ptr<daemon>> start(const config::config& cfg, std::optional<std::string> config_path,
                                               obs::logger& log, const daemon_extensions& extensions = {});
  ~daemon();
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  // Re-reads the configuration file's secrets and tokens (API keys, store tokens, connector credentials) and
  // swaps them in atomically. Errors (the running configuration is kept): those of config::reload_secrets().
  result<void> reload();

  // Idempotent.
  void stop();

  // The bound HTTP port (useful when the configuration asks for port 0).
  std::uint16_t port() const noexcept;

  // The routes served (for the OpenAPI consistency test).
  const http::router& routes() const noexcept;

 private:
  struct impl;
  explicit daemon(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace passerelle::app

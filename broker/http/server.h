#pragma once
// The HTTP server: listener → per-connection session, on Boost.Beast with C++20 coroutines.
//
// Threading: `io_threads` threads run ONE io_context. Each connection is a coroutine on its own strand, so a
// connection's reads, handler and writes never run concurrently with each other; handlers of different
// connections run in parallel. Handlers must never block: blocking work goes to the server's blocking_pool
// (request_context::blocking). The listeners' accept loops run on their own strands.
//
// Per connection (HTTP/1.1 keep-alive): a fresh parser per request; the header is read first (limit
// header_bytes, deadline read_timeout_ms), the route looked up and authenticated, THEN the body is read with the
// route's body limit (deadline read_timeout_ms again). Unauthenticated or unroutable requests are answered
// without reading their body, and the connection is closed if a body was announced.
//
// Lifecycle: construct → start() (binds; errors are values) → stop() (graceful) → destroy. stop() stops
// accepting, closes idle keep-alive connections at once, lets in-flight requests finish (their connections close
// after the response) for up to shutdown_grace_ms, then closes whatever remains and joins the threads. stop() is
// called from a non-I/O thread (main, signal handling thread, test); the destructor calls it.
//
// Ownership: the server owns its io_context, threads, listeners, blocking pool and idempotency store. The
// routers are shared (immutable); the credentials store, metrics registry, logger and clock are borrowed and must
// outlive the server.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/http/auth.h"
#include "broker/http/idempotency.h"
#include "broker/http/router.h"
#include "broker/http/server_options.h"
#include "broker/obs/logger.h"
#include "broker/obs/metrics.h"

namespace passerelle::http {

struct server_deps {
  std::shared_ptr<const router> routes;            // main listener (required)
  std::shared_ptr<const router> admin_routes;      // admin listener (required iff options.admin_listen is set)
  const credentials_store* credentials = nullptr;  // required
  obs::registry* metrics = nullptr;                // required
  obs::logger* log = nullptr;                      // required
  const core::clock* clock = &core::system_clock::instance();  // idempotency TTLs
};

class server {
 public:
  server(server_options opts, server_deps deps);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds the listeners, loads the TLS certificate and key, starts the I/O threads. Errors (reject): bad listen
  // address, missing dependency, unreadable/invalid certificate or key; (retry): address in use or not
  // bindable. Call once.
  result<void> start();

  // Graceful stop (see above). Idempotent; blocks the caller for at most about shutdown_grace_ms + 1 s.
  void stop();

  // The bound ports (useful with port 0). 0 before start() / when there is no admin listener.
  std::uint16_t port() const noexcept;
  std::uint16_t admin_port() const noexcept;

  // Open connections on the main listener (for tests and the metrics gauge).
  std::size_t active_connections() const noexcept;

  idempotency_store& idempotency() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace passerelle::http

#include "broker/http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/http/error_mapping.h"

namespace passerelle::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

result<listen_address> parse_listen_address(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return error::reject("bad_listen_address", "listen address '" + std::string(s) + "': " + std::string(why));
  };
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return bad("expected host:port");
  std::string host(s.substr(0, colon));
  const std::string_view port_s = s.substr(colon + 1);
  if (port_s.empty() || port_s.size() > 5) return bad("bad port");
  unsigned port = 0;
  for (char c : port_s) {
    if (c < '0' || c > '9') return bad("bad port");
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535) return bad("port out of range");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  if (host == "*" || host.empty()) host = "0.0.0.0";
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return bad("host must be an IP address, 'localhost' or '*'");
  return listen_address{host, static_cast<std::uint16_t>(port)};
}

namespace {

// State of one connection shared between its session coroutine and stop(). Every field is touched only on the
// connection's strand (stop() posts there).
struct session_state {
  explicit session_state(asio::any_io_executor ex) : executor(std::move(ex)) {}
  asio::any_io_executor executor;  // the connection's strand
  std::function<void()> close;     // closes the socket; cleared when the session ends
  bool idle = true;                // waiting for the next request's header
};

std::string endpoint_string(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == beast_http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

struct server::impl {
  // One bound listener: main (maybe TLS) or admin (plain).
  struct listener {
    std::string name;  // "main" | "admin"
    std::shared_ptr<const router> routes;
    std::unique_ptr<tcp::acceptor> acceptor;
    asio::any_io_executor strand;
    bool tls = false;
    std::size_t max_connections = 0;
    std::atomic<std::size_t> active{0};
    std::uint16_t port = 0;
  };

  impl(server_options o, server_deps d)
      : opts(std::move(o)),
        deps(std::move(d)),
        ioc(std::make_unique<asio::io_context>(static_cast<int>(opts.io_threads == 0 ? 1 : opts.io_threads))),
        blocking(opts.blocking_threads, opts.blocking_max_pending),
        idem(opts.idempotency, deps.clock ? *deps.clock : core::system_clock::instance()) {}

  ~impl() {
    stop();
    // Destroy the io_context (and with it any coroutine frame that never finished) while the members those
    // frames reference are still alive.
    main.acceptor.reset();
    admin.acceptor.reset();
    main.strand = {};  // strands must not outlive their io_context
    admin.strand = {};
    ioc.reset();
  }

  result<void> start();
  void stop();
  result<void> bind(listener& l, const std::string& address);
  asio::awaitable<void> accept_loop(listener& l);
  asio::awaitable<void> reject(tcp::socket socket);
  template <typename Stream>
  asio::awaitable<void> session(Stream& stream, listener& l, std::shared_ptr<session_state> st, std::string remote);
  template <typename Stream>
  asio::awaitable<void> run_plain_or_tls(tcp::socket socket, listener& l);
  template <typename Stream>
  asio::awaitable<response> handle(Stream& stream, beast::flat_buffer& buffer,
                                   beast_http::request_parser<beast_http::empty_body>& hp, listener& l,
                                   const std::string& remote, bool& body_read, std::string& route_label,
                                   request_context*& ctx_out, std::unique_ptr<request_context>& ctx_holder);
  void spawn(const asio::any_io_executor& ex, asio::awaitable<void> a, const char* what);
  void refused(const route& rt, const params& path_params, refusal why);
  void refused_before_route(const listener& l, const beast_http::request_parser<beast_http::empty_body>& hp,
                            refusal why);
  void observe(const std::string& route_label, beast_http::verb method, unsigned status,
               std::chrono::steady_clock::time_point start, std::string_view path, std::size_t bytes_in,
               std::size_t bytes_out, const std::string& remote, const principal* who, std::string_view traceparent);

  server_options opts;
  server_deps deps;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::optional<ssl::context> tls_ctx;
  blocking_pool blocking;
  idempotency_store idem;
  listener main;
  listener admin;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::once_flag stop_once;
  std::atomic<std::size_t> rejecting{0};

  std::mutex sessions_mu;
  std::condition_variable sessions_cv;
  std::map<std::uint64_t, std::shared_ptr<session_state>> sessions;
  std::uint64_t next_session_id = 0;
  std::size_t other_tasks = 0;  // accept loops and 503 answers still running (guarded by sessions_mu)

  // Registered in start(), once the registry is known to be there.
  obs::counter_family* requests_total = nullptr;
  obs::histogram_family* request_seconds = nullptr;
  obs::gauge_family* connections_active = nullptr;
  obs::counter_family* connections_rejected = nullptr;
};

void server::impl::spawn(const asio::any_io_executor& ex, asio::awaitable<void> a, const char* what) {
  asio::co_spawn(ex, std::move(a), [this, what](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& failure) {
      deps.log->error("http task failed", {{"task", what}, {"error", failure.what()}});
    } catch (...) {
      deps.log->error("http task failed", {{"task", what}});
    }
  });
}

// Tells the route's on_refused hook (webhook routes count the refusal per connector). A hook that throws is a bug
// in it; it must not take the connection's coroutine down with it.
void server::impl::refused(const route& rt, const params& path_params, refusal why) {
  if (!rt.on_refused) return;
  try {
    rt.on_refused(path_params, why);
  } catch (const std::exception& e) {
    deps.log->error("http on_refused hook failed", {{"route", rt.pattern}, {"error", e.what()}});
  }
}

// A refusal while the header was being read: the route is known only if the request line was read whole.
void server::impl::refused_before_route(const listener& l, const beast_http::request_parser<beast_http::empty_body>& hp,
                                        refusal why) {
  const auto& req = hp.get();
  if (req.target().empty()) return;  // nothing (or no whole request line) read: an idle or garbage connection
  const std::string_view target = req.target();
  auto m = l.routes->match(req.method(), target.substr(0, target.find('?')));
  if (m.k == router::match_result::kind::found) refused(*m.r, m.path_params, why);
}

result<void> server::impl::bind(listener& l, const std::string& address) {
  auto addr = parse_listen_address(address);
  if (!addr) return std::move(addr).err();
  boost::system::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(addr->host), addr->port);
  l.strand = asio::make_strand(*ioc);
  l.acceptor = std::make_unique<tcp::acceptor>(l.strand);
  auto fail = [&](std::string_view step) {
    return error::retry("listen_failed", "cannot " + std::string(step) + " " + address + ": " + ec.message());
  };
  l.acceptor->open(ep.protocol(), ec);
  if (ec) return fail("open");
  l.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  l.acceptor->bind(ep, ec);
  if (ec) return fail("bind");
  l.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  l.port = l.acceptor->local_endpoint(ec).port();
  return ok();
}

result<void> server::impl::start() {
  if (!deps.routes || !deps.credentials || !deps.metrics || !deps.log || !deps.clock) {
    return error::reject("bad_server_deps", "the HTTP server needs routes, credentials, metrics, a logger and a clock");
  }
  if (!opts.admin_listen.empty() && !deps.admin_routes) {
    return error::reject("bad_server_deps", "http admin_listen is set but there are no admin routes");
  }
  if (started.exchange(true)) return error::reject("already_started", "the HTTP server was already started");
  requests_total =
      &deps.metrics->add_counter("http_requests_total", "HTTP requests answered, by route pattern, method and status.",
                                 {"route", "method", "status"});
  request_seconds = &deps.metrics->add_histogram(
      "http_request_duration_seconds", "Time from the end of the request header to the end of the response write.",
      {"route"});
  connections_active = &deps.metrics->add_gauge("http_connections_active", "Open HTTP connections.", {"listener"});
  connections_rejected = &deps.metrics->add_counter(
      "http_connections_rejected_total", "Connections refused because max_connections was reached.", {"listener"});
  if (opts.tls) {
    tls_ctx.emplace(ssl::context::tls_server);
    boost::system::error_code ec;
    tls_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    tls_ctx->use_certificate_chain_file(opts.tls->cert_file, ec);
    if (ec) return error::reject("bad_tls_cert", "http.tls.cert '" + opts.tls->cert_file + "': " + ec.message());
    tls_ctx->use_private_key_file(opts.tls->key_file, ssl::context::pem, ec);
    if (ec) return error::reject("bad_tls_key", "http.tls.key '" + opts.tls->key_file + "': " + ec.message());
  }
  main.name = "main";
  main.routes = deps.routes;
  main.tls = opts.tls.has_value();
  main.max_connections = opts.limits.max_connections == 0 ? 1 : opts.limits.max_connections;
  if (auto r = bind(main, opts.listen); !r) return r;
  if (!opts.admin_listen.empty()) {
    admin.name = "admin";
    admin.routes = deps.admin_routes;
    admin.max_connections = opts.admin_max_connections == 0 ? 1 : opts.admin_max_connections;
    if (auto r = bind(admin, opts.admin_listen); !r) return r;
  }
  work.emplace(ioc->get_executor());
  {
    std::lock_guard lock(sessions_mu);
    other_tasks += admin.acceptor ? 2 : 1;
  }
  spawn(main.strand, accept_loop(main), "accept");
  if (admin.acceptor) spawn(admin.strand, accept_loop(admin), "accept");
  const std::size_t n = opts.io_threads == 0 ? 1 : opts.io_threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([this] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          deps.log->error("http I/O thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  deps.log->info("http listening",
                 {{"address", opts.listen}, {"port", main.port}, {"tls", main.tls}, {"io_threads", n}});
  if (admin.acceptor) deps.log->info("http admin listening", {{"address", opts.admin_listen}, {"port", admin.port}});
  return ok();
}

asio::awaitable<void> server::impl::accept_loop(listener& l) {
  struct done_guard {
    impl* self;
    ~done_guard() {
      std::lock_guard lock(self->sessions_mu);
      --self->other_tasks;
      self->sessions_cv.notify_all();
    }
  } guard{this};
  for (;;) {
    boost::system::error_code ec;
    // Each connection gets its own strand: its session coroutine and stop()'s close run serialised on it.
    tcp::socket socket = co_await l.acceptor->async_accept(asio::any_io_executor(asio::make_strand(*ioc)),
                                                           asio::redirect_error(asio::use_awaitable, ec));
    if (stopping.load()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      // EMFILE and friends: log and keep accepting (the error is per attempt).
      deps.log->warn("http accept failed", {{"listener", l.name}, {"error", ec.message()}});
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (l.active.load() >= l.max_connections) {
      connections_rejected->with({l.name}).inc();
      if (l.tls || rejecting.load() >= opts.max_rejecting) {
        // A plaintext 503 means nothing to a TLS client, and a handshake costs CPU we do not have: close.
        socket.close(ec);
        continue;
      }
      {
        std::lock_guard lock(sessions_mu);
        ++other_tasks;
      }
      ++rejecting;
      auto ex = socket.get_executor();
      spawn(ex, reject(std::move(socket)), "reject");
      continue;
    }
    ++l.active;
    connections_active->with({l.name}).inc();
    auto ex = socket.get_executor();
    if (l.tls) {
      spawn(ex, run_plain_or_tls<beast::ssl_stream<beast::tcp_stream>>(std::move(socket), l), "session");
    } else {
      spawn(ex, run_plain_or_tls<beast::tcp_stream>(std::move(socket), l), "session");
    }
  }
}

asio::awaitable<void> server::impl::reject(tcp::socket socket) {
  struct done_guard {
    impl* self;
    ~done_guard() {
      --self->rejecting;
      std::lock_guard lock(self->sessions_mu);
      --self->other_tasks;
      self->sessions_cv.notify_all();
    }
  } guard{this};
  beast::tcp_stream stream(std::move(socket));
  response res = json_error(beast_http::status::service_unavailable, "too_many_connections",
                            "the server is at its connection limit; retry later");
  res.set(beast_http::field::retry_after, "1");
  res.keep_alive(false);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::milliseconds(opts.reject_linger_ms));
  co_await beast_http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  // Half-close, then drain what the client sent until it closes (or the linger ends): closing a socket with
  // unread input sends a RST that can destroy the 503 before the client reads it.
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  char sink[4096];
  std::size_t drained = 0;
  while (!ec && drained < 65536) {
    drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
  stream.close();
}

template <typename Stream>
asio::awaitable<void> server::impl::run_plain_or_tls(tcp::socket socket, listener& l) {
  boost::system::error_code ec;
  const std::string remote = endpoint_string(socket.remote_endpoint(ec));
  auto st = std::make_shared<session_state>(socket.get_executor());
  std::uint64_t id = 0;
  {
    std::lock_guard lock(sessions_mu);
    id = next_session_id++;
    sessions.emplace(id, st);
  }
  struct done_guard {
    impl* self;
    listener& l;
    std::uint64_t id;
    std::shared_ptr<session_state> st;
    ~done_guard() {
      st->close = nullptr;  // on the strand: a close posted by stop() after this is a no-op
      --l.active;
      self->connections_active->with({l.name}).dec();
      std::lock_guard lock(self->sessions_mu);
      self->sessions.erase(id);
      self->sessions_cv.notify_all();
    }
  } guard{this, l, id, st};

  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    Stream stream(std::move(socket));
    st->close = [&stream] { stream.close(); };
    if (stopping.load()) co_return;
    co_await session(stream, l, st, remote);
  } else {
    Stream stream(std::move(socket), *tls_ctx);
    st->close = [&stream] { beast::get_lowest_layer(stream).close(); };
    if (stopping.load()) co_return;
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(opts.limits.read_timeout_ms));
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      deps.log->debug("tls handshake failed", {{"remote", remote}, {"error", ec.message()}});
      co_return;
    }
    co_await session(stream, l, st, remote);
  }
}

template <typename Stream>
asio::awaitable<void> server::impl::session(Stream& stream, listener& l, std::shared_ptr<session_state> st,
                                            std::string remote) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bool clean_end = true;  // false when the connection was cut: no TLS close_notify then
  for (;;) {
    st->idle = true;
    if (stopping.load()) break;
    // A fresh parser per request (limits apply per message).
    beast_http::request_parser<beast_http::empty_body> hp;
    hp.header_limit(static_cast<std::uint32_t>(opts.limits.header_bytes));
    // Checked against the route's limit once the route is known. Not boost::none: Beast 1.74 compares
    // `content_length > body_limit_` with an empty optional as "exceeded".
    hp.body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest.expires_after(std::chrono::milliseconds(opts.limits.read_timeout_ms));
    boost::system::error_code ec;
    co_await beast_http::async_read_header(stream, buffer, hp, asio::redirect_error(asio::use_awaitable, ec));
    st->idle = false;
    const auto start = std::chrono::steady_clock::now();
    if (ec) {
      if (is_disconnect(ec)) {
        clean_end = ec == beast_http::error::end_of_stream;
        break;
      }
      response res;
      std::string code;
      if (ec == beast::error::timeout) {
        // beast::tcp_stream closes the socket when its deadline passes, so no 408 can be sent: slow senders
        // and idle keep-alive connections are simply closed.
        refused_before_route(l, hp, refusal::read_timeout);
        clean_end = false;
        break;
      }
      if (ec == beast_http::error::header_limit) {
        refused_before_route(l, hp, refusal::header_too_large);
        res = json_error(beast_http::status::request_header_fields_too_large, "header_too_large",
                         "the request header exceeds " + std::to_string(opts.limits.header_bytes) + " bytes");
      } else {
        res = json_error(beast_http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message());
      }
      res.keep_alive(false);
      lowest.expires_after(std::chrono::milliseconds(opts.write_timeout_ms));
      co_await beast_http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      observe("unmatched", beast_http::verb::unknown, res.result_int(), start, {}, 0, res.body().size(), remote,
              nullptr, {});
      clean_end = !ec;
      break;
    }

    const unsigned version = hp.get().version();
    const bool wants_keep_alive = hp.get().keep_alive();
    const bool has_body = hp.content_length() ? *hp.content_length() > 0 : hp.chunked();
    const beast_http::verb method = hp.get().method();
    const std::string target(hp.get().target());
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));

    bool body_read = false;
    std::string route_label = "unmatched";
    request_context* ctx = nullptr;
    std::unique_ptr<request_context> ctx_holder;
    response res = co_await handle(stream, buffer, hp, l, remote, body_read, route_label, ctx, ctx_holder);
    if (res.result() == beast_http::status::unknown) break;  // the connection failed while reading the body

    const bool keep_alive = wants_keep_alive && (!has_body || body_read) && !stopping.load() &&
                            res.result() != beast_http::status::request_timeout &&
                            res.result() != beast_http::status::payload_too_large;
    res.version(version);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    lowest.expires_after(std::chrono::milliseconds(opts.write_timeout_ms));
    co_await beast_http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    observe(route_label, method, res.result_int(), start, path, ctx ? ctx->body().size() : 0, res.body().size(), remote,
            ctx ? &ctx->who : nullptr, ctx ? std::string_view(ctx->traceparent) : std::string_view{});
    if (ec) {
      clean_end = false;
      break;
    }
    if (!keep_alive) break;
  }
  st->idle = false;
  boost::system::error_code ec;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    (void)clean_end;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    if (clean_end && lowest.socket().is_open()) {
      lowest.expires_after(std::chrono::milliseconds(opts.write_timeout_ms));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

template <typename Stream>
asio::awaitable<response> server::impl::handle(Stream& stream, beast::flat_buffer& buffer,
                                               beast_http::request_parser<beast_http::empty_body>& hp, listener& l,
                                               const std::string& remote, bool& body_read, std::string& route_label,
                                               request_context*& ctx_out,
                                               std::unique_ptr<request_context>& ctx_holder) {
  auto& lowest = beast::get_lowest_layer(stream);
  const auto& hreq = hp.get();
  const unsigned version = hreq.version();
  const std::string target(hreq.target());
  const std::size_t q = target.find('?');
  const std::string path = target.substr(0, q);

  auto m = l.routes->match(hreq.method(), path);
  switch (m.k) {
    case router::match_result::kind::not_found:
      co_return json_error(beast_http::status::not_found, "route_not_found", "no route for " + path, version);
    case router::match_result::kind::method_not_allowed: {
      response res = json_error(beast_http::status::method_not_allowed, "method_not_allowed",
                                std::string(hreq.method_string()) + " is not allowed on " + path, version);
      res.set(beast_http::field::allow, m.allow);
      co_return res;
    }
    case router::match_result::kind::bad_path:
      co_return json_error(beast_http::status::bad_request, "bad_path", m.message, version);
    case router::match_result::kind::found: break;
  }
  const route& rt = *m.r;
  route_label = rt.pattern;

  std::optional<params> query;
  if (q != std::string::npos) {
    query = parse_query(std::string_view(target).substr(q + 1));
    if (!query)
      co_return json_error(beast_http::status::bad_request, "bad_query", "malformed percent-encoding in the query",
                           version);
  }

  // Authenticate on the header alone: an unauthenticated body is never read, let alone stored.
  std::optional<std::string_view> authz;
  if (auto it = hreq.find(beast_http::field::authorization); it != hreq.end()) authz = it->value();
  std::optional<std::string_view> store_value;
  for (const auto& [k, v] : m.path_params) {
    if (k == rt.auth.store_param) store_value = v;
  }
  const auto creds = deps.credentials->snapshot();
  auth_outcome auth = check_auth(*creds, rt.auth, authz, store_value);
  if (auth.v == auth_outcome::verdict::unauthenticated) {
    response res = json_error(beast_http::status::unauthorized, "unauthorized", auth.message, version);
    res.set(beast_http::field::www_authenticate, "Bearer realm=\"passerelle\"");
    co_return res;
  }
  if (auth.v == auth_outcome::verdict::forbidden) {
    co_return json_error(beast_http::status::forbidden, "forbidden", auth.message, version);
  }

  std::size_t limit = rt.body_limit.value_or(opts.limits.body_bytes);
  if (rt.body_limit_of) {
    if (const auto of = rt.body_limit_of(m.path_params)) limit = *of;
  }
  if (hp.content_length() && *hp.content_length() > limit) {
    refused(rt, m.path_params, refusal::body_too_large);
    co_return json_error(beast_http::status::payload_too_large, "body_too_large",
                         "the body exceeds this route's limit of " + std::to_string(limit) + " bytes", version);
  }
  boost::system::error_code ec;
  if (auto it = hreq.find(beast_http::field::expect); it != hreq.end()) {
    if (beast::iequals(it->value(), "100-continue")) {
      beast_http::response<beast_http::empty_body> cont{beast_http::status::continue_, version};
      lowest.expires_after(std::chrono::milliseconds(opts.write_timeout_ms));
      co_await beast_http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return response{beast_http::status::unknown, version};
    }
  }

  // Now the body, with the route's limit (hreq is gone after the move).
  beast_http::request_parser<beast_http::string_body> bp(std::move(hp));
  bp.body_limit(limit);
  lowest.expires_after(std::chrono::milliseconds(opts.limits.read_timeout_ms));
  co_await beast_http::async_read(stream, buffer, bp, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast_http::error::body_limit) {
    refused(rt, m.path_params, refusal::body_too_large);
    co_return json_error(beast_http::status::payload_too_large, "body_too_large",
                         "the body exceeds this route's limit of " + std::to_string(limit) + " bytes", version);
  }
  if (ec == beast::error::timeout) refused(rt, m.path_params, refusal::read_timeout);
  if (ec) co_return response{beast_http::status::unknown, version};
  body_read = true;

  ctx_holder = std::make_unique<request_context>();
  request_context& ctx = *ctx_holder;
  ctx_out = &ctx;
  ctx.request = bp.release();
  ctx.path = path;
  ctx.path_params = std::move(m.path_params);
  if (query) ctx.query_params = std::move(*query);
  ctx.who = std::move(auth.who);
  ctx.remote_address = remote;
  if (auto tp = ctx.header("traceparent")) {
    if (auto valid = valid_traceparent(*tp)) ctx.traceparent = std::move(*valid);
  }
  ctx.matched = &rt;
  ctx.blocking = &blocking;

  // Idempotency-Key on POST: replay, refuse, or run and remember.
  std::string scope;
  if (rt.method == beast_http::verb::post) {
    if (auto key = ctx.header("Idempotency-Key")) {
      if (auto valid = validate_idempotency_key(*key); !valid) co_return error_response(valid.err(), version);
      scope = idempotency_store::scope(ctx.who.id, rt.operation_id, *key);
      auto b = idem.begin(scope, sha256(ctx.body()));
      switch (b.k) {
        case idempotency_store::outcome::replay: {
          response res = std::move(*b.stored);
          res.set("Idempotency-Replayed", "true");
          co_return res;
        }
        case idempotency_store::outcome::in_flight:
          co_return json_error(beast_http::status::conflict, "idempotency_in_flight",
                               "a request with this Idempotency-Key is still in progress", version);
        case idempotency_store::outcome::mismatch:
          co_return json_error(beast_http::status::unprocessable_entity, "idempotency_key_reused",
                               "this Idempotency-Key was used with a different body", version);
        case idempotency_store::outcome::full:
          co_return error_response(
              error::retry("idempotency_store_full", "too many Idempotency-Key requests in progress"), version);
        case idempotency_store::outcome::proceed: break;
      }
    }
  }
  // Releases an in-flight idempotency entry if the handler throws or its coroutine is destroyed at shutdown.
  struct idem_guard {
    idempotency_store& store;
    const std::string& scope;
    bool done = false;
    ~idem_guard() {
      if (!done && !scope.empty()) store.release(scope);
    }
  } guard{idem, scope};

  response res;
  std::string failure;
  try {
    res = co_await rt.handler(ctx);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    deps.log->error("http handler failed", {{"route", rt.pattern}, {"operation", rt.operation_id}, {"error", failure}});
    co_return error_response(error::fatal("handler_failed", failure), version);
  }
  if (!scope.empty()) {
    res.prepare_payload();
    idem.complete(scope, res);
    guard.done = true;
  }
  co_return res;
}

void server::impl::observe(const std::string& route_label, beast_http::verb method, unsigned status,
                           std::chrono::steady_clock::time_point start, std::string_view path, std::size_t bytes_in,
                           std::size_t bytes_out, const std::string& remote, const principal* who,
                           std::string_view traceparent) {
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const std::string method_s(method == beast_http::verb::unknown ? std::string_view("UNKNOWN")
                                                                 : beast_http::to_string(method));
  requests_total->with({route_label, method_s, std::to_string(status)}).inc();
  request_seconds->with({route_label}).observe(seconds);
  if (!deps.log->enabled(obs::log_level::info)) return;
  deps.log->info("http request", {{"method", method_s},
                                  {"path", path},
                                  {"route", route_label},
                                  {"status", status},
                                  {"duration_ms", seconds * 1000.0},
                                  {"bytes_in", bytes_in},
                                  {"bytes_out", bytes_out},
                                  {"remote", remote},
                                  {"principal", who ? std::string_view(who->id) : std::string_view("anonymous")},
                                  {"traceparent", traceparent}});
}

void server::impl::stop() {
  if (!started.load()) return;
  std::call_once(stop_once, [this] {
    stopping.store(true);
    auto close_acceptor = [](listener& l) {
      if (!l.acceptor) return;
      asio::post(l.strand, [&l] {
        boost::system::error_code ec;
        l.acceptor->close(ec);
      });
    };
    close_acceptor(main);
    close_acceptor(admin);
    // Idle keep-alive connections close now; busy ones close after their response (the session sees `stopping`).
    auto close_sessions = [this](bool only_idle) {
      std::lock_guard lock(sessions_mu);
      for (auto& [id, st] : sessions) {
        asio::post(st->executor, [st = st, only_idle] {
          if (st->close && (!only_idle || st->idle)) st->close();
        });
      }
    };
    close_sessions(true);
    const auto grace = std::chrono::milliseconds(opts.shutdown_grace_ms);
    std::unique_lock lock(sessions_mu);
    if (!sessions_cv.wait_for(lock, grace, [this] { return sessions.empty() && other_tasks == 0; })) {
      const std::size_t left = sessions.size();
      lock.unlock();
      deps.log->warn("http stop: closing connections still busy after the grace period", {{"connections", left}});
      close_sessions(false);
      lock.lock();
      sessions_cv.wait_for(lock, 1s, [this] { return sessions.empty() && other_tasks == 0; });
    }
    lock.unlock();
    work.reset();
    ioc->stop();
    for (auto& t : threads) t.join();
    threads.clear();
    blocking.stop();
    deps.log->info("http stopped");
  });
}

server::server(server_options opts, server_deps deps)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(deps))) {}

server::~server() = default;

result<void> server::start() { return impl_->start(); }

void server::stop() { impl_->stop(); }

std::uint16_t server::port() const noexcept { return impl_->main.port; }
std::uint16_t server::admin_port() const noexcept { return impl_->admin.port; }
std::size_t server::active_connections() const noexcept { return impl_->main.active.load(); }
idempotency_store& server::idempotency() noexcept { return impl_->idem; }

}  // namespace passerelle::http

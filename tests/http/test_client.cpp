#include "tests/http/test_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <stdexcept>
#include <thread>

namespace passerelle::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// Runs one coroutine to completion on `ioc` and returns its value (exceptions propagate).
template <typename T>
T run(asio::io_context& ioc, asio::awaitable<T> a) {
  std::optional<T> out;
  std::exception_ptr err;
  asio::co_spawn(ioc, std::move(a), [&](const std::exception_ptr& e, T v) {
    if (e) {
      err = e;
    } else {
      out = std::move(v);
    }
  });
  ioc.restart();
  ioc.run();
  if (err) std::rethrow_exception(err);
  return std::move(*out);
}

}  // namespace

struct client::impl {
  asio::io_context ioc;
  std::chrono::milliseconds timeout;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }

  template <typename F>
  auto with_stream(F&& f) {
    if (plain) return f(*plain);
    return f(*tls);
  }
};

client::client(std::uint16_t port, asio::ssl::context* tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  impl_->timeout = timeout;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  if (tls) {
    impl_->tls.emplace(impl_->ioc, *tls);
  } else {
    impl_->plain.emplace(impl_->ioc);
  }
  impl* i = impl_.get();
  run(i->ioc, [](impl* self, tcp::endpoint e) -> asio::awaitable<int> {
    self->lowest().expires_after(self->timeout);
    co_await self->lowest().async_connect(e, asio::use_awaitable);
    if (self->tls) {
      self->lowest().expires_after(self->timeout);
      co_await self->tls->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    }
    co_return 0;
  }(i, ep));
}

client::~client() = default;

void client::write(beast_http::request<beast_http::string_body> req) {
  impl* i = impl_.get();
  req.prepare_payload();
  i->with_stream([&](auto& s) {
    return run(i->ioc,
               [](impl* self, decltype(s) st, beast_http::request<beast_http::string_body> r) -> asio::awaitable<int> {
                 self->lowest().expires_after(self->timeout);
                 co_await beast_http::async_write(st, r, asio::use_awaitable);
                 co_return 0;
               }(i, s, std::move(req)));
  });
}

client_response client::read() {
  impl* i = impl_.get();
  return i->with_stream([&](auto& s) {
    return run(i->ioc, [](impl* self, decltype(s) st) -> asio::awaitable<client_response> {
      self->lowest().expires_after(self->timeout);
      beast_http::response_parser<beast_http::string_body> p;
      p.body_limit(std::uint64_t{64} * 1024 * 1024);
      co_await beast_http::async_read(st, self->buffer, p, asio::use_awaitable);
      co_return p.release();
    }(i, s));
  });
}

client_response client::request(beast_http::verb method, const std::string& target, const std::string& body,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  beast_http::request<beast_http::string_body> req{method, target, 11};
  req.set(beast_http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  write(std::move(req));
  return read();
}

void client::write_raw(const std::string& bytes) {
  impl* i = impl_.get();
  i->with_stream([&](auto& s) {
    return run(i->ioc, [](impl* self, decltype(s) st, std::string b) -> asio::awaitable<int> {
      self->lowest().expires_after(self->timeout);
      co_await asio::async_write(st, asio::buffer(b), asio::use_awaitable);
      co_return 0;
    }(i, s, bytes));
  });
}

std::string client::read_until_close(bool& closed) {
  impl* i = impl_.get();
  std::string out(static_cast<const char*>(i->buffer.data().data()), i->buffer.size());
  i->buffer.consume(i->buffer.size());
  closed = i->with_stream([&](auto& s) {
    return run(i->ioc, [](impl* self, decltype(s) st, std::string* o) -> asio::awaitable<bool> {
      self->lowest().expires_after(self->timeout);
      char buf[4096];
      for (;;) {
        boost::system::error_code ec;
        const std::size_t n =
            co_await st.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        o->append(buf, n);
        if (ec == beast::error::timeout) co_return false;
        if (ec) co_return true;  // eof, reset, TLS truncation: the peer is gone
      }
    }(i, s, &out));
  });
  return out;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool connect_refused(std::uint16_t port) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  return static_cast<bool>(ec);
}

}  // namespace passerelle::http::test

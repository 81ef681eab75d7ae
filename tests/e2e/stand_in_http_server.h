#pragma once
// A local HTTP server standing in for a platform's API (Shopify's Admin API...) in end-to-end tests: binds
// 127.0.0.1:0, answers every request with what the test's responder returns, and records the requests it got.
// One connection per request (Connection: close), as the host's outbound client does.
//
// Lifecycle: one per test case; the constructor starts its thread, the destructor stops and joins it.
// Threads: the responder runs on the server's thread; requests() may be called from the test thread.

#include <utility>  // before Asio: awaitable.hpp uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace passerelle::e2e {

class stand_in_http_server {
 public:
  struct recorded {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers) {
        if (boost::beast::iequals(k, name)) return v;
      }
      return {};
    }
  };
  struct reply {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  using responder = std::function<reply(const recorded&)>;

  explicit stand_in_http_server(responder r) : responder_(std::move(r)) {
    namespace asio = boost::asio;
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~stand_in_http_server() {
    ioc_.stop();
    thread_.join();
  }
  stand_in_http_server(const stand_in_http_server&) = delete;
  stand_in_http_server& operator=(const stand_in_http_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<recorded> requests() const {
    const std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    namespace asio = boost::asio;
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) {
    namespace asio = boost::asio;
    namespace bh = boost::beast::http;
    boost::beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(10));
    boost::beast::flat_buffer buffer;
    bh::request<bh::string_body> req;
    boost::system::error_code ec;
    co_await bh::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    recorded r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = req.body();
    {
      const std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    const reply answer = responder_(r);
    bh::response<bh::string_body> res{static_cast<bh::status>(answer.status), 11};
    res.set(bh::field::content_type, "application/json; charset=utf-8");
    res.set(bh::field::connection, "close");
    for (const auto& [k, v] : answer.headers) res.set(k, v);
    res.body() = answer.body;
    res.prepare_payload();
    co_await bh::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  responder responder_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<recorded> requests_;
  std::thread thread_;
};

}  // namespace passerelle::e2e

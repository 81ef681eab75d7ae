#pragma once
// A small real HTTP/1.1 client for the server tests: Beast over TCP or TLS, one connection per object, every
// operation bounded by a deadline (the client's own tcp_stream timeout), so a broken server fails a test instead
// of hanging it. Not thread-safe: one test thread drives it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace passerelle::http::test {

namespace beast_http = boost::beast::http;
using client_response = beast_http::response<beast_http::string_body>;

class client {
 public:
  // Connects to 127.0.0.1:port (TLS with handshake when `tls` is given). Throws on failure.
  explicit client(std::uint16_t port, boost::asio::ssl::context* tls = nullptr,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~client();

  // One request/response on this connection.
  client_response request(beast_http::verb method, const std::string& target, const std::string& body = {},
                          const std::vector<std::pair<std::string, std::string>>& headers = {});
  void write(beast_http::request<beast_http::string_body> req);
  client_response read();

  void write_raw(const std::string& bytes);
  // Reads until the peer closes or the deadline passes; `closed` says which.
  std::string read_until_close(bool& closed);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Waits for `pred` with a deadline (polling every millisecond): the way tests wait for a condition.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(10));

// true if a TCP connection to 127.0.0.1:port is refused (or otherwise fails).
bool connect_refused(std::uint16_t port);

}  // namespace passerelle::http::test

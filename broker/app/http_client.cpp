#include "broker/app/http_client.h"

#include "broker/core/url_authority.h"
#include "broker/http/tls_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

namespace passerelle::app {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;
using tcp = asio::ip::tcp;

error classify(const boost::system::error_code& ec, const base_url& url, std::string_view step) {
  if (ec == beast::error::timeout) {
    return error::retry("timed_out", "no answer from " + url.to_string() + " in time (" + std::string(step) + ")");
  }
  if (ec.category() == asio::error::get_ssl_category() || ec == asio::ssl::error::stream_truncated) {
    return error::fatal("tls", "TLS with " + url.to_string() + " failed: " + ec.message());
  }
  if (step == "resolve" || step == "connect") {
    return error::retry("unreachable", "cannot reach the daemon at " + url.to_string() + ": " + ec.message() +
                                           " (is `passerelle serve` running? see --url)");
  }
  return error::fatal("http",
                      "exchange with " + url.to_string() + " failed (" + std::string(step) + "): " + ec.message());
}

struct exchange_state {
  const base_url& url;
  const http_call& call;
  std::optional<result<http_reply>> out;
};

template <typename Stream>
asio::awaitable<void> request_response(Stream& stream, beast::tcp_stream& lowest, exchange_state& st,
                                       std::chrono::steady_clock::time_point deadline) {
  bh::request<bh::string_body> req;
  req.method(st.call.method == "POST" ? bh::verb::post : bh::verb::get);
  req.target(st.url.path_prefix + st.call.target);
  req.version(11);
  req.set(bh::field::host, st.url.host);
  req.set(bh::field::user_agent, "passerelle-cli");
  req.set(bh::field::connection, "close");
  for (const auto& [k, v] : st.call.headers) req.set(k, v);
  req.body() = st.call.body;
  req.prepare_payload();
  boost::system::error_code ec;
  lowest.expires_at(deadline);
  co_await bh::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    st.out = classify(ec, st.url, "write");
    co_return;
  }
  beast::flat_buffer buffer;
  bh::response_parser<bh::string_body> parser;
  parser.body_limit(st.call.max_response_bytes);
  lowest.expires_at(deadline);
  co_await bh::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    st.out = classify(ec, st.url, "read");
    co_return;
  }
  auto res = parser.release();
  http_reply reply;
  reply.status = res.result_int();
  reply.content_type = std::string(res[bh::field::content_type]);
  reply.body = std::move(res.body());
  st.out = std::move(reply);
}

asio::awaitable<void> run_exchange(exchange_state& st, asio::ssl::context* tls_ctx) {
  const auto deadline = std::chrono::steady_clock::now() + st.call.timeout;
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  boost::system::error_code ec;
  // The resolver has no deadline of its own; a numeric host (the usual case) resolves without a lookup.
  const auto endpoints =
      co_await resolver.async_resolve(st.url.host, st.url.port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    st.out = classify(ec, st.url, "resolve");
    co_return;
  }
  if (tls_ctx == nullptr) {
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      st.out = classify(ec, st.url, "connect");
      co_return;
    }
    co_await request_response(stream, stream, st, deadline);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls_ctx);
  http::prepare_client_tls(stream, st.url.host);
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  co_await lowest.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    st.out = classify(ec, st.url, "connect");
    co_return;
  }
  lowest.expires_at(deadline);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    st.out = classify(ec, st.url, "TLS handshake");
    co_return;
  }
  co_await request_response(stream, lowest, st, deadline);
  lowest.expires_at(deadline);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));  // errors here are irrelevant
}

}  // namespace

std::string base_url::to_string() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "https" : "http") + "://" + h + ":" + port + path_prefix;
}

result<base_url> parse_base_url(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return error::reject("bad_url", "--url: " + why + " (expected http[s]://host[:port][/prefix])");
  };
  base_url out;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
    out.port = "80";
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
    out.port = "443";
  } else {
    return bad("the scheme must be http or https");
  }
  if (url.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = url.substr(slash);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    out.path_prefix = std::string(prefix);
  }
  auto parsed = core::parse_url_authority(authority);
  if (const auto* why = std::get_if<std::string>(&parsed)) return bad(*why);
  auto& a = std::get<core::url_authority>(parsed);
  out.host = std::move(a.host);
  if (!a.port.empty()) out.port = std::move(a.port);
  return out;
}

result<http_reply> http_exchange(const base_url& url, const http_call& call) {
  asio::io_context ioc;
  std::optional<asio::ssl::context> tls_ctx;
  if (url.tls) {
    tls_ctx.emplace(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    if (call.ca_file) {
      tls_ctx->load_verify_file(*call.ca_file, ec);
      if (ec) return error::fatal("tls", "cannot read the CA file \"" + *call.ca_file + "\": " + ec.message());
    } else {
      tls_ctx->set_default_verify_paths(ec);
      if (ec) return error::fatal("tls", "cannot load the system's trusted certificates: " + ec.message());
    }
  }
  exchange_state st{url, call, std::nullopt};
  asio::co_spawn(ioc, run_exchange(st, tls_ctx ? &*tls_ctx : nullptr), [&](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      st.out = error::fatal("http", std::string("exchange with ") + url.to_string() + " failed: " + ex.what());
    }
  });
  ioc.run();
  if (!st.out) return error::fatal("http", "exchange with " + url.to_string() + " ended without an answer");
  return std::move(*st.out);
}

}  // namespace passerelle::app

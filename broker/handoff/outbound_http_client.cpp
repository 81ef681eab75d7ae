#include <utility>  // before Asio: awaitable.hpp uses std::exchange (notes/boost-1.74.md)

#include "broker/handoff/outbound_http_client.h"

#include "broker/core/url_authority.h"
#include "broker/http/tls_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

namespace passerelle::handoff {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;
using tcp = asio::ip::tcp;

std::string origin(const outbound_url& u) {
  return std::string(u.tls ? "https://" : "http://") +
         (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + u.port;
}

error classify(const boost::system::error_code& ec, const outbound_url& url, std::string_view step) {
  const std::string where = origin(url) + " (" + std::string(step) + "): " + ec.message();
  if (ec == beast::error::timeout) return error::retry("timed_out", "no answer in time from " + where);
  if (ec.category() == asio::error::get_ssl_category() || ec == asio::ssl::error::stream_truncated) {
    return error::fatal("tls", "TLS with " + where);
  }
  if (step == "resolve" || step == "connect") return error::retry("unreachable", "cannot reach " + where);
  if (ec == bh::error::body_limit || ec == bh::error::header_limit ||
      ec.category() == bh::make_error_code(bh::error::bad_target).category()) {
    return error::fatal("http", "bad answer from " + where);
  }
  return error::retry("connection_lost", "connection lost with " + where);
}

template <typename Stream>
asio::awaitable<result<connector::outbound_response>> request_response(Stream& stream, beast::tcp_stream& lowest,
                                                                       const outbound_url& url,
                                                                       const connector::outbound_request& call,
                                                                       const outbound_http_options& options,
                                                                       std::chrono::steady_clock::time_point deadline) {
  bh::request<bh::string_body> req;
  req.method_string(call.method);
  req.target(url.target);
  req.version(11);
  const bool default_port = (url.tls && url.port == "443") || (!url.tls && url.port == "80");
  req.set(bh::field::host, default_port ? url.host : url.host + ":" + url.port);
  req.set(bh::field::user_agent, options.user_agent);
  req.set(bh::field::connection, "close");
  for (const auto& h : call.headers) req.set(h.name, h.value);
  req.body() = call.body;
  req.prepare_payload();
  boost::system::error_code ec;
  lowest.expires_at(deadline);
  co_await bh::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return classify(ec, url, "write");
  beast::flat_buffer buffer;
  bh::response_parser<bh::string_body> parser;
  parser.body_limit(options.max_response_bytes);
  lowest.expires_at(deadline);
  co_await bh::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return classify(ec, url, "read");
  auto res = parser.release();
  connector::outbound_response out;
  out.status = res.result_int();
  for (const auto& field : res) out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

result<outbound_url> parse_outbound_url(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return error::reject("bad_url", "\"" + std::string(url.substr(0, 200)) + "\": " + why);
  };
  outbound_url out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    out.tls = true;
    out.port = "443";
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    out.port = "80";
  } else {
    return bad("the scheme must be http or https");
  }
  if (rest.find('#') != std::string_view::npos) return bad("no fragment");
  const auto end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  out.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (out.target.front() == '?') out.target.insert(0, 1, '/');
  auto parsed = core::parse_url_authority(authority);
  if (const auto* why = std::get_if<std::string>(&parsed)) return bad(*why);
  auto& a = std::get<core::url_authority>(parsed);
  out.host = std::move(a.host);
  if (!a.port.empty()) out.port = std::move(a.port);
  return out;
}

outbound_http_client::outbound_http_client(outbound_http_options options)
    : options_(std::move(options)), tls_(asio::ssl::context::tls_client) {
  boost::system::error_code ec;
  if (options_.ca_file) {
    tls_.load_verify_file(*options_.ca_file, ec);
  } else {
    tls_.set_default_verify_paths(ec);
  }
  if (ec) tls_error_ = "cannot load the trust store: " + ec.message();
  tls_.set_verify_mode(asio::ssl::verify_peer);
}

asio::awaitable<result<connector::outbound_response>> outbound_http_client::exchange(
    const connector::outbound_request& request) {
  auto url = parse_outbound_url(request.url);
  if (!url) co_return std::move(url).err();
  if (url->tls && !tls_error_.empty()) co_return error::fatal("tls", tls_error_);
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  boost::system::error_code ec;
  // The resolver has no deadline of its own; a numeric host resolves without a lookup.
  const auto endpoints =
      co_await resolver.async_resolve(url->host, url->port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return classify(ec, *url, "resolve");
  if (!url->tls) {
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return classify(ec, *url, "connect");
    auto out = co_await request_response(stream, stream, *url, request, options_, deadline);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return out;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, tls_);
  http::prepare_client_tls(stream, url->host);
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  co_await lowest.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return classify(ec, *url, "connect");
  lowest.expires_at(deadline);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return classify(ec, *url, "TLS handshake");
  auto out = co_await request_response(stream, lowest, *url, request, options_, deadline);
  lowest.expires_at(deadline);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));  // errors here are irrelevant
  co_return out;
}

}  // namespace passerelle::handoff

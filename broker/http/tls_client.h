#pragma once
// The TLS set-up every outbound HTTPS call of Passerelle makes (the CLI's broker/app/http_client and the platform
// calls of broker/handoff/outbound_http_client): SNI for a host name (never for an IP literal, as RFC 6066 asks),
// peer verification against the context's trust store, and the host name the certificate must carry. Header-only:
// the callers already link Beast and OpenSSL.

#include <utility>  // before Asio: awaitable.hpp uses std::exchange (notes/boost-1.74.md)

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <string>

namespace passerelle::http {

// Prepares `stream` (before its handshake) to talk to `host` ("example.com" or an IP literal, without brackets).
inline void prepare_client_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) {                  // a name, not an IP literal
    std::string sni = host;  // OpenSSL copies it
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             static_cast<void*>(sni.data()));
  }
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace passerelle::http

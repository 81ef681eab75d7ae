// [http] TLS: a self-signed certificate generated at test time with OpenSSL's APIs, a TLS server on port 0, and
// a Beast TLS client that trusts exactly that certificate.
#include <catch2/catch.hpp>

#include <boost/asio/ssl/context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "broker/http/ops_routes.h"
#include "broker/http/server.h"
#include "tests/http/test_client.h"

using namespace passerelle;
using namespace passerelle::http;
namespace fs = std::filesystem;

namespace {

// Writes key.pem and cert.pem (CN=localhost, SAN IP:127.0.0.1, one day) into `dir`.
void make_self_signed(const fs::path& dir) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* cert = X509_new();
  REQUIRE(cert != nullptr);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);

  FILE* kf = std::fopen((dir / "key.pem").c_str(), "wb");
  REQUIRE(kf != nullptr);
  REQUIRE(PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(kf);
  FILE* cf = std::fopen((dir / "cert.pem").c_str(), "wb");
  REQUIRE(cf != nullptr);
  REQUIRE(PEM_write_X509(cf, cert) == 1);
  std::fclose(cf);
  X509_free(cert);
  EVP_PKEY_free(key);
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("passerelle-tls-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("TLS listener with a certificate generated at test time", "[http]") {
  temp_dir dir;
  make_self_signed(dir.path);

  obs::registry metrics;
  obs::logger log(obs::log_level::warn, obs::log_format::text, [](std::string_view) {});
  credentials_store creds;
  auto routes = std::make_shared<router>();
  REQUIRE(add_ops_routes(*routes, {&metrics, {}, 5}).ok());
  server_options o;
  o.listen = "127.0.0.1:0";
  o.tls = tls_options{(dir.path / "cert.pem").string(), (dir.path / "key.pem").string()};
  o.limits.read_timeout_ms = 2000;
  server srv(o, {routes, nullptr, &creds, &metrics, &log});
  auto started = srv.start();
  INFO((started.ok() ? "" : started.err().message));
  REQUIRE(started.ok());

  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.load_verify_file((dir.path / "cert.pem").string());
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  {
    test::client c(srv.port(), &ctx);
    auto r = c.request(beast_http::verb::get, "/healthz");
    CHECK(r.result() == beast_http::status::ok);
    CHECK(r.body() == R"({"status":"ok"})");
    CHECK(c.request(beast_http::verb::get, "/v1/openapi.json").result() == beast_http::status::ok);  // keep-alive
  }
  {
    // Plain HTTP on the TLS port gets no HTTP answer.
    test::client plain(srv.port());
    plain.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    bool closed = false;
    const std::string got = plain.read_until_close(closed);
    CHECK(got.find("200 OK") == std::string::npos);
  }
  {
    // A client that does not trust the certificate fails the handshake.
    boost::asio::ssl::context strict(boost::asio::ssl::context::tls_client);
    strict.set_verify_mode(boost::asio::ssl::verify_peer);
    CHECK_THROWS(test::client(srv.port(), &strict));
  }
  // The key file must match and exist: a wrong key path is a start error.
  server_options bad = o;
  bad.tls->key_file = (dir.path / "missing.pem").string();
  server srv2(bad, {routes, nullptr, &creds, &metrics, &log});
  auto r2 = srv2.start();
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.err().code == "bad_tls_key");
}

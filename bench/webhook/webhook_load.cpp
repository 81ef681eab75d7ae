// webhook_load: a closed-loop load generator for webhook ingest. C keep-alive connections each post signed
// Shopify carts/update webhooks back to back (one in flight per connection) to any HTTP server that takes them
// (Passerelle's POST /v1/webhooks/shopify, or a peer such as Redpanda Connect/Benthos configured alike), for a
// warm-up and then a measured duration or count, and prints one machine-readable RESULT line.
//
// The requests are what Shopify sends (connectors/shopify/README.md, fixtures/carts_update.*): a compact JSON
// cart whose line items have the fixtures' shape (2-4 lines, so 2.5-5 KB bodies), from a pool of shops and carts;
// X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the raw body under the shop's secret; a unique
// X-Shopify-Webhook-Id per request (so nothing is deduplicated away); X-Shopify-Shop-Domain, -Topic,
// -API-Version, -Event-Id and -Triggered-At. The shops and their secrets follow one convention that the run
// script also uses to configure the servers: shop i is "bench-shop-<i>.myshopify.com", its secret
// "bench-secret-<i>" (see shop_domain()/shop_secret()).
//
// Why bodies come from a pool (default 512 pre-signed bodies) rather than being built per request: the generator
// shares two CPUs with the server it measures, so per-request work is kept to the headers that must change (the
// webhook id, the triggered-at time). Bodies stay realistic and varied; the servers do not cache by body.
//
// Measured: accepted requests (status 200) per second over the measured phase, the latency of those requests
// (request write start to full response read, p50/p90/p99/p99.9/max), counts of every other status and of I/O
// errors, this process's CPU, and the CPU (utime+stime from /proc/<pid>/stat) that each --cpu-pid process used
// during the measured phase, also per accepted request.
//
// Threads: main sets up, then runs one io_context on --threads threads; each connection is one coroutine, so a
// connection's statistics are only touched by that coroutine (no lock); the phase clock is one more coroutine.
// Exit codes: 0 ran (whatever the statuses: figures are not pass/fail); 1 runtime failure (cannot connect, no
// request completed); 2 bad usage.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace passerelle::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using steady = std::chrono::steady_clock;

constexpr const char* usage_text = R"(usage: webhook_load [options]
  --host HOST           server address (default 127.0.0.1)
  --port PORT           server port (required)
  --path PATH           request target (default /v1/webhooks/shopify)
  --target NAME         name copied into the RESULT line (default server)
  --connections N       concurrent keep-alive connections, one request in flight each (default 32)
  --warmup SECONDS      warm-up, not counted (default 3)
  --duration SECONDS    measured phase (default 20); ignored with --count
  --count N             measured requests instead of a duration (default 0: use --duration)
  --shops N             shops bench-shop-0..N-1.myshopify.com, secret bench-secret-<i> (default 8)
  --carts N             distinct cart tokens over all shops (default 20000)
  --bodies N            pre-signed bodies in the pool (default 512)
  --threads N           threads running the connections (default 1)
  --request-timeout S   a request not answered in S seconds counts as an I/O error (default 30)
  --cpu-pid LABEL=PID   also report that process's CPU over the measured phase (repeatable)
  --label TEXT          copied into the RESULT line (e.g. round=2)
  --probe               send one valid, one badly signed and one repeated delivery; print their statuses; exit
  --print-body          print one generated body and its headers; exit
)";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct config {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path = "/v1/webhooks/shopify";
  std::string target = "server";
  std::size_t connections = 32;
  double warmup_s = 3;
  double duration_s = 20;
  std::uint64_t count = 0;
  std::size_t shops = 8;
  std::size_t carts = 20'000;
  std::size_t bodies = 512;
  std::size_t threads = 1;
  double request_timeout_s = 30;
  std::vector<std::pair<std::string, int>> cpu_pids;
  std::string label;
  bool probe = false;
  bool print_body = false;
};

std::uint64_t parse_uint(const std::string& name, const std::string& v, std::uint64_t lo, std::uint64_t hi) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 12) {
    throw usage_error("--" + name + ": expected a non-negative integer, got '" + v + "'");
  }
  const std::uint64_t n = std::stoull(v);
  if (n < lo || n > hi) {
    throw usage_error("--" + name + ": " + v + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "]");
  }
  return n;
}

double parse_seconds(const std::string& name, const std::string& v, double lo) {
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || !(d >= lo) || d > 86'400) {
    throw usage_error("--" + name + ": expected seconds >= " + std::to_string(lo) + ", got '" + v + "'");
  }
  return d;
}

config parse(int argc, char** argv) {
  config c;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      std::exit(0);
    }
    if (a == "--probe") {
      c.probe = true;
      continue;
    }
    if (a == "--print-body") {
      c.print_body = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + a + "' (see --help)");
    const std::string name = a.substr(2);
    if (i + 1 >= args.size()) throw usage_error(a + " needs a value");
    const std::string& v = args[++i];
    if (name == "host") {
      c.host = v;
    } else if (name == "port") {
      c.port = std::to_string(parse_uint(name, v, 1, 65535));
    } else if (name == "path") {
      if (v.empty() || v[0] != '/') throw usage_error("--path must start with '/'");
      c.path = v;
    } else if (name == "target") {
      c.target = v;
    } else if (name == "connections") {
      c.connections = parse_uint(name, v, 1, 10'000);
    } else if (name == "warmup") {
      c.warmup_s = parse_seconds(name, v, 0);
    } else if (name == "duration") {
      c.duration_s = parse_seconds(name, v, 0.1);
    } else if (name == "count") {
      c.count = parse_uint(name, v, 0, 1'000'000'000);
    } else if (name == "shops") {
      c.shops = parse_uint(name, v, 1, 100'000);
    } else if (name == "carts") {
      c.carts = parse_uint(name, v, 1, 100'000'000);
    } else if (name == "bodies") {
      c.bodies = parse_uint(name, v, 1, 1'000'000);
    } else if (name == "threads") {
      c.threads = parse_uint(name, v, 1, 64);
    } else if (name == "request-timeout") {
      c.request_timeout_s = parse_seconds(name, v, 0.001);
    } else if (name == "cpu-pid") {
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) throw usage_error("--cpu-pid: expected LABEL=PID, got '" + v + "'");
      c.cpu_pids.emplace_back(v.substr(0, eq), static_cast<int>(parse_uint(name, v.substr(eq + 1), 1, 4'194'304)));
    } else if (name == "label") {
      c.label = v;
    } else {
      throw usage_error("unknown option " + a + " (see --help)");
    }
  }
  if (c.port.empty() && !c.print_body) throw usage_error("--port is required");
  return c;
}

// --- the requests --------------------------------------------------------------------------------------------

std::string shop_domain(std::size_t i) { return "bench-shop-" + std::to_string(i) + ".myshopify.com"; }
std::string shop_secret(std::size_t i) { return "bench-secret-" + std::to_string(i); }

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));  // NOLINT
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string hmac_sha256_base64(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
           body.size(), mac, &mac_len) == nullptr) {  // NOLINT
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return base64(mac, mac_len);
}

std::string hex(std::uint64_t v, int digits) {
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4U) s[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 0xFU];
  return s;
}

std::string rfc3339(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int fields, so that -Wformat-truncation has nothing to say
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string money(std::int64_t minor) {
  return std::to_string(minor / 100) + "." + (minor % 100 < 10 ? "0" : "") + std::to_string(minor % 100);
}

std::string money_set(std::int64_t minor) {
  const std::string a = money(minor);
  return R"({"shop_money":{"amount":")" + a + R"(","currency_code":"EUR"},"presentment_money":{"amount":")" + a +
         R"(","currency_code":"EUR"}})";
}

struct signed_body {
  std::size_t shop = 0;
  std::string body;
  std::string hmac;
};

// One carts/update body with the shape of connectors/shopify/fixtures/carts_update.body: 2-4 line items with
// their price sets and discounts, token, note, updated_at/created_at.
signed_body make_body(std::mt19937_64& rng, const config& c) {
  static const char* const titles[] = {"Marinière bretonne - M",   "Bol en grès émaillé",
                                       "Tablier en lin lavé",      "Coffret thé vert jasmin - 12 sachets",
                                       "Carafe verre soufflé 1 L", "Plaid laine mérinos - Gris chiné",
                                       "Savon de Marseille 300 g"};
  const std::size_t cart = static_cast<std::size_t>(rng() % c.carts);
  signed_body b;
  b.shop = cart % c.shops;
  const std::string token = hex(0x5eedULL * 1'000'003ULL + cart, 16) + hex(cart * 0x9e3779b97f4a7c15ULL, 16);
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const int lines = 2 + static_cast<int>(rng() % 3);
  std::string s;
  s.reserve(6000);
  s += R"({"id":")" + token + R"(","token":")" + token + R"(","line_items":[)";
  for (int l = 0; l < lines; ++l) {
    const std::uint64_t variant = 44'812'349'000'000ULL + rng() % 1'000'000;
    const std::int64_t qty = 1 + static_cast<std::int64_t>(rng() % 4);
    const std::int64_t unit = 500 + static_cast<std::int64_t>(rng() % 9500);
    const bool discounted = rng() % 3 == 0;
    const std::int64_t discount = discounted ? unit * qty / 10 : 0;
    const std::int64_t line_price = unit * qty - discount;
    const std::string v = std::to_string(variant);
    const std::string title = titles[rng() % std::size(titles)];
    if (l > 0) s += ',';
    s += R"({"id":)" + v + R"(,"properties":null,"quantity":)" + std::to_string(qty) + R"(,"variant_id":)" + v +
         R"(,"key":")" + v + ":" + hex(rng(), 16) + hex(rng(), 16) + R"(","discounted_price":")" +
         money(line_price / qty) + R"(","discounts":[)" +
         (discounted ? R"({"title":"Arts de la table -10%","amount":")" + money(discount) + R"("})" : "") +
         R"(],"gift_card":false,"grams":)" + std::to_string(100 + rng() % 900) + R"(,"line_price":")" +
         money(line_price) + R"(","original_line_price":")" + money(unit * qty) + R"(","original_price":")" +
         money(unit) + R"(","price":")" + money(unit) + R"(","product_id":)" +
         std::to_string(8'012'345'000'000ULL + rng() % 1'000'000) + R"(,"sku":"SKU-)" + hex(variant, 8) +
         R"(","taxable":true,"title":")" + title + R"(","total_discount":")" + money(discount) +
         R"(","vendor":"Maison Exemple","discounted_price_set":)" + money_set(line_price / qty) +
         R"(,"line_price_set":)" + money_set(line_price) + R"(,"original_line_price_set":)" + money_set(unit * qty) +
         R"(,"price_set":)" + money_set(unit) + R"(,"total_discount_set":)" + money_set(discount) +
         R"(,"parent_relationship":null})";
  }
  s += R"(],"note":"Livraison en magasin si possible","updated_at":")" +
       rfc3339(now_ms - 1000 + static_cast<std::int64_t>(rng() % 1000)) + R"(","created_at":")" +
       rfc3339(now_ms - 600'000) + R"("})";
  b.hmac = hmac_sha256_base64(shop_secret(b.shop), s);
  b.body = std::move(s);
  return b;
}

using request_t = http::request<http::string_body>;

struct request_factory {
  const config& cfg;
  std::vector<signed_body> pool;
  std::string id_prefix;  // random per run: webhook ids never repeat across runs against one server
  std::atomic<std::uint64_t> next_id{0};

  explicit request_factory(const config& c) : cfg(c) {
    std::random_device rd;
    std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32U) ^ rd());
    id_prefix = hex(rng(), 8) + "-" + hex(rng(), 4) + "-4" + hex(rng(), 3) + "-";
    pool.reserve(c.bodies);
    for (std::size_t i = 0; i < c.bodies; ++i) pool.push_back(make_body(rng, c));
  }

  // Builds request `n` (body n % pool size) with a fresh webhook id; `hmac_override` replaces the signature.
  request_t make(std::uint64_t n, const std::string* webhook_id = nullptr,
                 const std::string* hmac_override = nullptr) const {
    const signed_body& b = pool[n % pool.size()];
    const std::string id = webhook_id != nullptr ? *webhook_id : id_prefix + "a" + hex(n, 3) + "-" + hex(n, 12);
    request_t req{http::verb::post, cfg.path, 11};
    req.set(http::field::host, cfg.host + ":" + cfg.port);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "Shopify-Captain-Hook");
    req.set("X-Shopify-Topic", "carts/update");
    req.set("X-Shopify-Shop-Domain", shop_domain(b.shop));
    req.set("X-Shopify-API-Version", "2025-01");
    req.set("X-Shopify-Hmac-Sha256", hmac_override != nullptr ? *hmac_override : b.hmac);
    req.set("X-Shopify-Webhook-Id", id);
    req.set("X-Shopify-Event-Id", id_prefix + "e" + hex(n, 3) + "-" + hex(n, 12));
    req.set("X-Shopify-Triggered-At", rfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count()));
    req.keep_alive(true);
    req.body() = b.body;
    req.prepare_payload();
    return req;
  }
};

// --- the closed loop -------------------------------------------------------------------------------------------

enum class phase : int { warmup = 0, measuring = 1, done = 2 };

struct shared_state {
  std::atomic<int> current{static_cast<int>(phase::warmup)};
  std::atomic<std::uint64_t> measured_issued{0};  // with --count: requests issued in the measured phase
  std::atomic<std::uint64_t> measured_done{0};
  steady::time_point measure_start{};
  steady::time_point measure_end{};
};

struct conn_stats {
  std::vector<std::uint32_t> latencies_us;  // accepted (200) requests of the measured phase
  std::map<int, std::uint64_t> statuses;    // every status of the measured phase
  std::uint64_t io_errors = 0;
  std::uint64_t reconnects = 0;
  std::string last_error;
  std::string last_non200_body;
};

asio::awaitable<void> run_connection(const config& cfg, const request_factory& factory, shared_state& st,
                                     conn_stats& stats, asio::ip::tcp::resolver::results_type endpoints,
                                     std::uint64_t first, std::uint64_t stride) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  beast::flat_buffer buffer;
  bool connected = false;
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(cfg.request_timeout_s * 1000));
  for (std::uint64_t n = first;; n += stride) {
    const auto ph = static_cast<phase>(st.current.load(std::memory_order_acquire));
    if (ph == phase::done) break;
    bool counted = ph == phase::measuring;
    if (counted && cfg.count > 0 && st.measured_issued.fetch_add(1) >= cfg.count) break;
    beast::error_code ec;
    if (!connected) {
      stream.expires_after(timeout);
      co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        ++stats.io_errors;
        stats.last_error = "connect: " + ec.message();
        stream.close();
        // Do not spin on a refused connection: a short pause, bounded by the phase clock.
        asio::steady_timer t(ex, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      stream.socket().set_option(asio::ip::tcp::no_delay(true));
      connected = true;
    }
    auto req = factory.make(n);
    http::response<http::string_body> res;
    const auto t0 = steady::now();
    stream.expires_after(timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    const auto t1 = steady::now();
    // A request counts when it started inside the measured phase and ended before its end (a duration run).
    counted = counted && t0 >= st.measure_start &&
              (cfg.count > 0 || static_cast<phase>(st.current.load(std::memory_order_acquire)) == phase::measuring);
    if (ec) {
      if (counted) ++stats.io_errors;
      stats.last_error = "request: " + ec.message();
      beast::error_code ignored;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      stream.close();
      connected = false;
      ++stats.reconnects;
      continue;
    }
    if (counted) {
      const int status = static_cast<int>(res.result_int());
      ++stats.statuses[status];
      if (status == 200) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
        stats.latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
      } else {
        stats.last_non200_body = res.body().substr(0, 200);
      }
      if (cfg.count > 0 && st.measured_done.fetch_add(1) + 1 >= cfg.count) {
        st.measure_end = t1;
        st.current.store(static_cast<int>(phase::done), std::memory_order_release);
      }
    }
    if (!res.keep_alive()) {
      stream.close();
      connected = false;
      ++stats.reconnects;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

// --- figures ----------------------------------------------------------------------------------------------------

double cpu_seconds_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 3.. after "pid (comm)"; utime=14, stime=15
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a;
  in >> a;
  return a.empty() ? "?" : a;
}

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

int probe(const config& cfg, const request_factory& factory) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.connect(resolver.resolve(cfg.host, cfg.port));
  beast::flat_buffer buffer;
  const std::string dup_id = factory.id_prefix + "dddd-" + hex(42, 12);
  const std::string bad = hmac_sha256_base64("not-the-secret", factory.pool[1'000'000 % factory.pool.size()].body);
  struct step {
    const char* what;
    const std::string* id;
    const std::string* hmac;
  };
  const step steps[] = {{"valid", &dup_id, nullptr}, {"bad_signature", nullptr, &bad}, {"repeat", &dup_id, nullptr}};
  // The same body (and so the same shop) every time: a repeat is the same delivery, byte for byte.
  const std::uint64_t n = 1'000'000;
  for (const auto& s : steps) {
    auto req = factory.make(n, s.id, s.hmac);
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    std::cout << "PROBE target=" << cfg.target << " case=" << s.what << " status=" << res.result_int()
              << " body=" << res.body().substr(0, 160) << "\n";
  }
  return 0;
}

int run(const config& cfg) {
  const request_factory factory(cfg);
  if (cfg.print_body) {
    std::size_t total = 0;
    for (const auto& b : factory.pool) total += b.body.size();
    std::cout << factory.make(0) << "\n\nmean_body_bytes=" << total / factory.pool.size() << "\n";
    return 0;
  }
  if (cfg.probe) return probe(cfg, factory);

  asio::io_context io(static_cast<int>(cfg.threads));
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(cfg.host, cfg.port);
  shared_state st;
  st.measure_start = steady::now() + std::chrono::hours(24);  // nothing counts before the phase clock says so
  std::vector<conn_stats> stats(cfg.connections);
  for (std::size_t i = 0; i < cfg.connections; ++i) {
    asio::co_spawn(io, run_connection(cfg, factory, st, stats[i], endpoints, i, cfg.connections), asio::detached);
  }

  std::vector<double> cpu0(cfg.cpu_pids.size());
  double self0 = 0;
  // The phase clock: warm-up, then the measured phase (by time, or until --count requests completed).
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(cfg.warmup_s * 1000)));
        co_await t.async_wait(asio::use_awaitable);
        for (std::size_t i = 0; i < cfg.cpu_pids.size(); ++i) cpu0[i] = cpu_seconds_of(cfg.cpu_pids[i].second);
        self0 = self_cpu_seconds();
        st.measure_start = steady::now();
        st.current.store(static_cast<int>(phase::measuring), std::memory_order_release);
        if (cfg.count > 0) co_return;
        t.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(cfg.duration_s * 1000)));
        co_await t.async_wait(asio::use_awaitable);
        st.measure_end = steady::now();
        st.current.store(static_cast<int>(phase::done), std::memory_order_release);
      },
      asio::detached);

  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < cfg.threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& w : workers) w.join();
  const double self1 = self_cpu_seconds();
  std::vector<double> cpu1(cfg.cpu_pids.size());
  for (std::size_t i = 0; i < cfg.cpu_pids.size(); ++i) cpu1[i] = cpu_seconds_of(cfg.cpu_pids[i].second);

  std::vector<std::uint32_t> lat;
  std::map<int, std::uint64_t> statuses;
  std::uint64_t io_errors = 0;
  std::uint64_t reconnects = 0;
  std::string last_error;
  std::string last_body;
  for (const auto& s : stats) {
    lat.insert(lat.end(), s.latencies_us.begin(), s.latencies_us.end());
    for (const auto& [k, v] : s.statuses) statuses[k] += v;
    io_errors += s.io_errors;
    reconnects += s.reconnects;
    if (!s.last_error.empty()) last_error = s.last_error;
    if (!s.last_non200_body.empty()) last_body = s.last_non200_body;
  }
  std::sort(lat.begin(), lat.end());
  const double seconds = std::chrono::duration<double>(st.measure_end - st.measure_start).count();
  const auto accepted = static_cast<double>(lat.size());
  std::size_t body_total = 0;
  for (const auto& b : factory.pool) body_total += b.body.size();

  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "RESULT target=" << cfg.target;
  if (!cfg.label.empty()) out << " " << cfg.label;
  out << " connections=" << cfg.connections << " seconds=" << seconds << " accepted=" << lat.size()
      << " rps=" << (seconds > 0 ? accepted / seconds : 0) << " p50_us=" << percentile(lat, 50)
      << " p90_us=" << percentile(lat, 90) << " p99_us=" << percentile(lat, 99) << " p999_us=" << percentile(lat, 99.9)
      << " max_us=" << (lat.empty() ? 0 : lat.back());
  std::uint64_t non200 = 0;
  for (const auto& [k, v] : statuses) {
    if (k != 200) {
      out << " status_" << k << "=" << v;
      non200 += v;
    }
  }
  out << " non200=" << non200 << " io_errors=" << io_errors << " reconnects=" << reconnects
      << " mean_body_bytes=" << body_total / factory.pool.size();
  out.precision(2);
  out << " client_cpu_s=" << self1 - self0
      << " client_cpu_us_per_req=" << (accepted > 0 ? (self1 - self0) * 1e6 / accepted : 0);
  for (std::size_t i = 0; i < cfg.cpu_pids.size(); ++i) {
    const double d = cpu0[i] < 0 || cpu1[i] < 0 ? -1 : cpu1[i] - cpu0[i];
    out << " cpu_" << cfg.cpu_pids[i].first << "_s=" << d << " cpu_" << cfg.cpu_pids[i].first
        << "_us_per_req=" << (accepted > 0 && d >= 0 ? d * 1e6 / accepted : -1);
  }
  out << " loadavg=" << loadavg();
  std::cout << out.str() << std::endl;
  if (!last_error.empty()) std::cerr << "webhook_load: last I/O error: " << last_error << "\n";
  if (!last_body.empty()) std::cerr << "webhook_load: a non-200 answer: " << last_body << "\n";
  if (lat.empty() && non200 == 0) {
    std::cerr << "webhook_load: no request completed (server at " << cfg.host << ":" << cfg.port << "?)\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace passerelle::bench

int main(int argc, char** argv) {
  try {
    return passerelle::bench::run(passerelle::bench::parse(argc, argv));
  } catch (const passerelle::bench::usage_error& e) {
    std::cerr << "webhook_load: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "webhook_load: " << e.what() << "\n";
    return 1;
  }
}

// The web handoff worker's pure parts (outcome events, the basket a checkout_builder sees, Retry-After) and the
// outbound HTTP client against a local stand-in server.
#include <utility>  // before Asio

#include "broker/handoff/web_handoff_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "broker/lifecycle/fold.h"
#include "tests/e2e/stand_in_http_server.h"

namespace handoff = passerelle::handoff;
namespace lifecycle = passerelle::lifecycle;
namespace connector = passerelle::connector;
namespace v1 = passerelle::v1;
using namespace std::chrono_literals;

namespace {

v1::Event web_request() {
  v1::Event e;
  e.set_event_id("evt_request");
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  e.set_subject_id("bsk_1");
  auto* r = e.mutable_basket_handoff_requested();
  r->set_handoff_id("hof_1");
  r->mutable_to()->set_web("shopify:example.myshopify.com");
  return e;
}

// Runs the outbound exchange on a private io_context (the test thread is not an HTTP I/O thread).
passerelle::result<connector::outbound_response> exchange(handoff::outbound_http_client& client,
                                                          const connector::outbound_request& req) {
  boost::asio::io_context ioc;
  std::optional<passerelle::result<connector::outbound_response>> out;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        auto r = co_await client.exchange(req);
        out.emplace(std::move(r));
      },
      boost::asio::detached);
  ioc.run();
  REQUIRE(out.has_value());
  return std::move(*out);
}

}  // namespace

TEST_CASE("handoff outcomes are events with an id derived from the handoff", "[handoff][web]") {
  const auto request = web_request();
  handoff::web_handoff_outcome ok;
  ok.accepted = true;
  ok.checkout_url = "https://shop/invoices/1";
  ok.target_reference = "shopify:example.myshopify.com:draft_order:7";
  const auto accepted = handoff::web_handoff_outcome_event(request, ok, 1'000);
  CHECK(accepted.subject_id() == "bsk_1");
  CHECK(accepted.subject_kind() == v1::SUBJECT_KIND_BASKET);
  CHECK(accepted.basket_handoff_accepted().handoff_id() == "hof_1");
  CHECK(accepted.basket_handoff_accepted().checkout_url() == "https://shop/invoices/1");
  CHECK(accepted.basket_handoff_accepted().target_reference() == ok.target_reference);
  REQUIRE(accepted.references_size() == 1);
  CHECK(accepted.references(0) == ok.target_reference);
  CHECK(accepted.source().connector() == "passerelle");
  CHECK(accepted.source().account() == "web-handoff");
  CHECK(accepted.event_id().size() == 30);

  handoff::web_handoff_outcome bad;
  bad.reason_code = "target_rejected";
  bad.message = "unprocessable: line_items: is invalid";
  const auto failed = handoff::web_handoff_outcome_event(request, bad, 2'000);
  CHECK(failed.basket_handoff_failed().reason_code() == "target_rejected");
  CHECK(failed.basket_handoff_failed().message() == bad.message);
  // One outcome per handoff: a second (after a crash) is a duplicate the engine drops.
  CHECK(failed.event_id() == accepted.event_id());
}

TEST_CASE("a folded basket becomes the checkout_builder's basket", "[handoff][web]") {
  lifecycle::subject_state s;
  v1::Event snap;
  snap.set_event_id("evt_s1");
  snap.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  snap.set_subject_id("bsk_1");
  snap.set_source_version(5);
  snap.mutable_source()->set_connector("shopify");
  snap.mutable_source()->set_account("example.myshopify.com");
  snap.add_references("shopify:example.myshopify.com:tok");
  auto* c = snap.add_customers();
  c->set_type(v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
  c->set_scope("shopify:example.myshopify.com");
  c->set_value("42");
  lifecycle::set_ms(snap.mutable_occurred_at(), 1'000);
  auto* b = snap.mutable_basket_snapshot();
  b->set_currency("EUR");
  b->set_note("gift");
  auto* l = b->add_lines();
  l->set_line_id("1");
  l->set_variant_id("777");
  l->set_quantity(2);
  l->mutable_unit_price()->set_amount_minor(1999);
  l->mutable_unit_price()->set_currency("EUR");
  const auto folded = lifecycle::fold(s, snap, 1'000, lifecycle::lifecycle_config{});
  REQUIRE(folded.status == lifecycle::fold_status::applied);

  const auto basket = handoff::checkout_basket_of(s, "hof_9");
  CHECK(basket.basket_id == "bsk_1");
  CHECK(basket.handoff_id == "hof_9");
  CHECK(basket.currency == "EUR");
  CHECK(basket.note == "gift");
  REQUIRE(basket.lines.size() == 1);
  CHECK(basket.lines[0].source == "shopify:example.myshopify.com");
  CHECK(basket.lines[0].line.variant_id() == "777");
  CHECK(basket.lines[0].line.unit_price().amount_minor() == 1999);
  REQUIRE(basket.customers.size() == 1);
  CHECK(basket.customers[0].value() == "42");
  CHECK(basket.references == std::vector<std::string>{"shopify:example.myshopify.com:tok"});
}

TEST_CASE("Retry-After in seconds, with or without a fraction", "[handoff][web]") {
  CHECK(handoff::parse_retry_after("2") == 2000ms);
  CHECK(handoff::parse_retry_after(" 2.0 ") == 2000ms);
  CHECK(handoff::parse_retry_after("0.05") == 50ms);
  CHECK_FALSE(handoff::parse_retry_after(""));
  CHECK_FALSE(handoff::parse_retry_after("-1"));
  CHECK_FALSE(handoff::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(handoff::parse_retry_after("2.x"));
}

TEST_CASE("outbound URLs", "[handoff][web]") {
  auto u = handoff::parse_outbound_url("https://example.myshopify.com/admin/api/2024-01/draft_orders.json");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "example.myshopify.com");
  CHECK(u->port == "443");
  CHECK(u->target == "/admin/api/2024-01/draft_orders.json");
  u = handoff::parse_outbound_url("http://127.0.0.1:8081?x=1");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->port == "8081");
  CHECK(u->target == "/?x=1");
  CHECK(handoff::parse_outbound_url("http://[::1]:9/a")->host == "::1");
  CHECK_FALSE(handoff::parse_outbound_url("ftp://x/"));
  CHECK_FALSE(handoff::parse_outbound_url("https://user:pw@x/"));
  CHECK_FALSE(handoff::parse_outbound_url("https://x:0/"));
  CHECK_FALSE(handoff::parse_outbound_url("https:///a"));
}

TEST_CASE("the outbound client sends the request and returns any status with its headers", "[handoff][web]") {
  passerelle::e2e::stand_in_http_server server([](const passerelle::e2e::stand_in_http_server::recorded& r) {
    return passerelle::e2e::stand_in_http_server::reply{429, {{"Retry-After", "1.5"}}, "echo:" + r.body};
  });
  handoff::outbound_http_client client({});
  connector::outbound_request req;
  req.url = server.base_url() + "/admin/api/2024-01/draft_orders.json";
  req.headers = {{"X-Shopify-Access-Token", "tok"}, {"Content-Type", "application/json"}};
  req.body = R"({"draft_order":{}})";
  auto r = exchange(client, req);
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->body == R"(echo:{"draft_order":{}})");
  bool retry_after = false;
  for (const auto& h : r->headers) retry_after = retry_after || (h.name == "Retry-After" && h.value == "1.5");
  CHECK(retry_after);
  const auto got = server.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].target == "/admin/api/2024-01/draft_orders.json");
  CHECK(got[0].header("X-Shopify-Access-Token") == "tok");
  CHECK(got[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("the outbound client reports unreachable hosts and timeouts as retryable", "[handoff][web]") {
  // A port nobody listens on: bind one, close it.
  std::uint16_t closed_port = 0;
  {
    passerelle::e2e::stand_in_http_server s([](const auto&) { return passerelle::e2e::stand_in_http_server::reply{}; });
    closed_port = s.port();
  }
  handoff::outbound_http_client client({});
  connector::outbound_request req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
  auto r = exchange(client, req);
  REQUIRE_FALSE(r);
  CHECK(r.err().kind == passerelle::error_kind::retry);
  CHECK(r.err().code == "unreachable");

  // A listener that never answers: the deadline ends the exchange.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  handoff::outbound_http_options quick;
  quick.timeout = 200ms;
  handoff::outbound_http_client impatient(quick);
  req.url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  r = exchange(impatient, req);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == "timed_out");
}

#include <catch2/catch.hpp>

#include <stdexcept>
#include <thread>
#include <vector>

#include "broker/obs/metrics.h"

using namespace passerelle::obs;

TEST_CASE("counters render with HELP, TYPE and escaped labels", "[obs]") {
  registry r;
  auto& c = r.add_counter("http_requests_total", "Requests served.\nBy route.", {"route", "status"});
  c.with({"/v1/x", "200"}).inc();
  c.with({"/v1/x", "200"}).inc(2);
  c.with({"a\"b\\c\nd", "500"}).inc();
  const std::string out = r.render();
  CHECK(out.find("# HELP http_requests_total Requests served.\\nBy route.\n") != std::string::npos);
  CHECK(out.find("# TYPE http_requests_total counter\n") != std::string::npos);
  CHECK(out.find("http_requests_total{route=\"/v1/x\",status=\"200\"} 3\n") != std::string::npos);
  CHECK(out.find("http_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"500\"} 1\n") != std::string::npos);
}

TEST_CASE("gauges go up and down and render without labels", "[obs]") {
  registry r;
  auto& g = r.add_gauge("connections_open", "Open connections.").get();
  g.inc();
  g.inc();
  g.dec();
  g.add(0.5);
  CHECK(g.value() == 1.5);
  CHECK(r.render().find("connections_open 1.5\n") != std::string::npos);
}

TEST_CASE("histograms render cumulative buckets, +Inf, sum and count", "[obs]") {
  registry r;
  auto& h = r.add_histogram("latency_seconds", "Latency.", {"route"}, {0.1, 1.0}).with({"r"});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.5);
  h.observe(7);
  const std::string out = r.render();
  CHECK(out.find("# TYPE latency_seconds histogram\n") != std::string::npos);
  CHECK(out.find("latency_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n") != std::string::npos);
  CHECK(out.find("latency_seconds_bucket{route=\"r\",le=\"1\"} 3\n") != std::string::npos);
  CHECK(out.find("latency_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(out.find("latency_seconds_sum{route=\"r\"} 7.65\n") != std::string::npos);
  CHECK(out.find("latency_seconds_count{route=\"r\"} 4\n") != std::string::npos);
}

TEST_CASE("registration validates names and rejects clashes", "[obs]") {
  registry r;
  CHECK_THROWS_AS(r.add_counter("9bad", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("ok_name", "x", {"bad-label"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("ok_name", "x", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("ok_name", "x", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_histogram("h", "x", {"le"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_histogram("h", "x", {}, {1.0, 0.5}), std::invalid_argument);
  auto& a = r.add_counter("same", "help", {"l"});
  auto& b = r.add_counter("same", "help", {"l"});
  CHECK(&a == &b);
  CHECK_THROWS_AS(r.add_gauge("same", "help", {"l"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("same", "help", {"other"}), std::invalid_argument);
  CHECK_THROWS_AS(a.with({"x", "y"}), std::invalid_argument);
}

TEST_CASE("concurrent increments are not lost", "[obs]") {
  registry r;
  auto& fam = r.add_counter("ops_total", "Ops.", {"t"});
  auto& h = r.add_histogram("obs_seconds", "Obs.", {}, {1.0}).get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&fam, &h, t] {
      for (int i = 0; i < 10000; ++i) {
        fam.with({t % 2 == 0 ? "even" : "odd"}).inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(fam.with({"even"}).value() == 20000);
  CHECK(fam.with({"odd"}).value() == 20000);
  CHECK(h.count() == 40000);
  CHECK(h.sum() == 20000.0);
}

TEST_CASE("format_value spells special values as the text format requires", "[obs]") {
  CHECK(format_value(3) == "3");
  CHECK(format_value(0.005) == "0.005");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
}

TEST_CASE("collectors refresh cells at render time, outside the registry's locks", "[obs]") {
  registry r;
  std::uint64_t source_total = 0;  // a component's own statistic, read at scrape time
  auto& total = r.add_counter("things_total", "Things.").get();
  std::uint64_t published = 0;
  int runs = 0;
  r.add_collector([&] {
    ++runs;
    total.inc(source_total - published);
    published = source_total;
    // Registering (or looking up) a family from a collector must not deadlock.
    r.add_gauge("collector_runs", "Renders so far.").get().set(runs);
  });
  CHECK(r.render().find("things_total 0\n") != std::string::npos);
  source_total = 5;
  const std::string out = r.render();
  CHECK(out.find("things_total 5\n") != std::string::npos);
  CHECK(out.find("collector_runs 2\n") != std::string::npos);
  CHECK_THROWS_AS(r.add_collector({}), std::invalid_argument);
}

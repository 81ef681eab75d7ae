// spooling_log's operator view: health (forwarding / spooling / full), depth, capacity, age of the oldest spooled
// record, the readiness it implies and the Prometheus metrics that export it. On the real embedded backend behind
// the fault injector (a Kafka outage on command). No sleeps: conditions with deadlines and an injected clock.

#include <catch2/catch.hpp>

#include <string>

#include "broker/core/clock.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/spool/spool_codec.h"
#include "broker/log/spool/spool_metrics.h"
#include "broker/log/spool/spooling_log.h"
#include "broker/obs/metrics.h"
#include "tests/log/temp_dir.h"
#include "tests/log_spool/fault_injecting_log.h"
#include "tests/log_spool/spool_test_support.h"

namespace passerelle::log {
namespace {

using namespace std::chrono_literals;
using namespace spool_test;
using testing::fault_injecting_log;
using testing::temp_dir;

constexpr std::int32_t partitions = 4;
const std::string topic = "basket.events";

spool_options status_options(const temp_dir& dir) {
  spool_options o;
  o.dir = (dir.path() / "spool").string();
  o.probe_interval = 20ms;
  o.probe_timeout = 200ms;
  o.stall_after = 0ms;
  o.default_partitions = partitions;
  return o;
}

struct stack {
  fault_injecting_log* faults = nullptr;
  std::unique_ptr<spooling_log> log;
};

// The embedded log behind the fault injector (already in `initial` mode when the spool opens), behind the spool.
stack open_stack(const temp_dir& dir, const spool_options& o, const core::clock& clock,
                 fault_injecting_log::mode initial = fault_injecting_log::mode::up) {
  embedded_options eo;
  eo.data_dir = (dir.path() / "embedded").string();
  auto real = open_embedded_log(eo);
  if (!real) FAIL("open_embedded_log: " << real.err().message);
  if (auto r = (*real)->create_topics({{topic, partitions, 1, {}}}); !r) FAIL("create_topics: " << r.err().message);
  auto faults = std::make_unique<fault_injecting_log>(std::move(real).value());
  faults->set_mode(initial);
  stack s;
  s.faults = faults.get();
  auto opened = spooling_log::open(std::move(faults), o, clock);
  if (!opened) FAIL("spooling_log::open: " << opened.err().message);
  s.log = std::move(opened).value();
  return s;
}

void produce_n(spooling_log& log, ack_book& book, int from, int to) {
  for (int n = from; n < to; ++n) log.produce(make_request(topic, n % 3, n), book.slot(event_id(n % 3, n)));
}

// The value of one sample line ("name{labels} value") of a rendered registry; "" when absent.
std::string sample(const std::string& rendered, const std::string& series) {
  const auto at = rendered.find("\n" + series + " ");
  if (at == std::string::npos) return {};
  const auto start = at + series.size() + 2;
  return rendered.substr(start, rendered.find('\n', start) - start);
}

TEST_CASE("spool status: forwarding, spooling with depth and age, full, and back", "[spool][spool_status]") {
  temp_dir dir;
  core::manual_clock clock;
  auto o = status_options(dir);
  auto one = make_request(topic, 0, 0);
  one.timestamp_ms = 1;
  o.max_bytes = 12 * spool::encode_record(one).size();  // about a dozen of the records below
  auto s = open_stack(dir, o, clock);

  auto st = s.log->status();
  CHECK(st.health == spool_health::forwarding);
  CHECK(st.capacity_bytes == o.max_bytes);
  CHECK(st.spooled_records == 0);
  CHECK(st.oldest_age_ms == 0);
  auto ready = readiness_of(st);
  CHECK(ready.ready);
  CHECK(ready.detail == "forwarding");

  // Kafka goes away: records are still accepted, into the spool; ready, with a "spooling" detail.
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  produce_n(*s.log, book, 0, 5);
  REQUIRE(book.wait_for(5, 30s));
  for (const auto& [id, r] : book.results()) REQUIRE(r.ok());
  clock.advance(7s);
  st = s.log->status();
  CHECK(st.state == spool_state::spooling);
  CHECK(st.health == spool_health::spooling);
  CHECK(st.spooled_records == 5);
  CHECK(st.spooled_bytes > 0);
  CHECK(st.spooled_bytes < st.capacity_bytes);
  CHECK(st.oldest_age_ms == 7000);
  CHECK_FALSE(st.last_inner_error.empty());
  ready = readiness_of(st);
  CHECK(ready.ready);
  CHECK(ready.detail.rfind("spooling: ", 0) == 0);
  CHECK(ready.detail.find("5 records") != std::string::npos);
  CHECK(ready.detail.find("oldest 7 s") != std::string::npos);
  CHECK(s.log->check_ready(10ms).ok());

  // Newer records do not make the head younger.
  clock.advance(3s);
  produce_n(*s.log, book, 5, 6);
  REQUIRE(book.wait_for(6, 30s));
  CHECK(s.log->status().oldest_age_ms == 10'000);

  // Fill it: refused with spool_full; health full, not ready.
  produce_n(*s.log, book, 6, 40);
  REQUIRE(book.wait_for(40, 30s));
  std::size_t refused = 0;
  for (const auto& [id, r] : book.results()) {
    if (!r) {
      CHECK(r.err().code == "spool_full");
      ++refused;
    }
  }
  CHECK(refused > 0);
  st = s.log->status();
  CHECK(st.health == spool_health::full);
  CHECK(st.spooled_bytes <= st.capacity_bytes);
  ready = readiness_of(st);
  CHECK_FALSE(ready.ready);
  CHECK(ready.detail.rfind("full: ", 0) == 0);
  REQUIRE_FALSE(s.log->check_ready(10ms).ok());  // the two views agree

  // Kafka returns: drained, forwarding again, empty, age 0.
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  st = s.log->status();
  CHECK(st.health == spool_health::forwarding);
  CHECK(st.spooled_records == 0);
  CHECK(st.spooled_bytes == 0);
  CHECK(st.oldest_age_ms == 0);
  CHECK(readiness_of(st).ready);
}

TEST_CASE("spool status: after a restart the age counts from the records' acceptance", "[spool][spool_status]") {
  temp_dir dir;
  core::manual_clock clock(1'700'000'000'000);
  ack_book book;
  {
    auto s = open_stack(dir, status_options(dir), clock, fault_injecting_log::mode::down);
    produce_n(*s.log, book, 0, 4);
    REQUIRE(book.wait_for(4, 30s));
  }  // closed during the outage: the records stay on disk
  clock.advance(60s);
  auto s = open_stack(dir, status_options(dir), clock, fault_injecting_log::mode::down);
  const auto st = s.log->status();
  CHECK(st.health == spool_health::spooling);
  CHECK(st.spooled_records == 4);
  CHECK(st.oldest_age_ms == 60'000);
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
}

TEST_CASE("spool metrics: gauges and counters follow the spool through an outage", "[spool][spool_status]") {
  temp_dir dir;
  core::manual_clock clock;
  obs::registry registry;
  auto s = open_stack(dir, status_options(dir), clock);
  register_spool_metrics(*s.log, registry);

  // Published at once on registration.
  auto text = registry.render();
  CHECK(sample(text, "passerelle_spool_state{state=\"forwarding\"}") == "1");
  CHECK(sample(text, "passerelle_spool_state{state=\"spooling\"}") == "0");
  CHECK(sample(text, "passerelle_spool_state{state=\"full\"}") == "0");
  CHECK(sample(text, "passerelle_spool_records") == "0");
  CHECK(sample(text, "passerelle_spool_capacity_bytes") == std::to_string(status_options(dir).max_bytes));
  CHECK(sample(text, "passerelle_spool_spooled_total") == "0");

  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  produce_n(*s.log, book, 0, 9);
  REQUIRE(book.wait_for(9, 30s));
  clock.advance(2500ms);
  // Refreshed by the spool's forwarder thread about every probe_interval.
  REQUIRE(eventually(
      [&] {
        const auto t = registry.render();
        return sample(t, "passerelle_spool_state{state=\"spooling\"}") == "1" &&
               sample(t, "passerelle_spool_records") == "9" && sample(t, "passerelle_spool_spooled_total") == "9" &&
               sample(t, "passerelle_spool_oldest_age_seconds") == "2.5";
      },
      10s));
  text = registry.render();
  CHECK(sample(text, "passerelle_spool_state{state=\"forwarding\"}") == "0");
  CHECK(std::stoull(sample(text, "passerelle_spool_bytes")) > 0);

  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  REQUIRE(eventually(
      [&] {
        const auto t = registry.render();
        return sample(t, "passerelle_spool_state{state=\"forwarding\"}") == "1" &&
               sample(t, "passerelle_spool_records") == "0" && sample(t, "passerelle_spool_forwarded_total") == "9" &&
               sample(t, "passerelle_spool_oldest_age_seconds") == "0";
      },
      10s));
  // Counters never double-count: the total stays at what happened.
  CHECK(sample(registry.render(), "passerelle_spool_spooled_total") == "9");
}

TEST_CASE("spool health names are the gauge's label values", "[spool][spool_status]") {
  CHECK(to_string(spool_health::forwarding) == "forwarding");
  CHECK(to_string(spool_health::spooling) == "spooling");
  CHECK(to_string(spool_health::full) == "full");
}

}  // namespace
}  // namespace passerelle::log

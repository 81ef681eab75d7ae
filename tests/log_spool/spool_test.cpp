// spooling_log on the real embedded backend, with the fault injector standing in for a Kafka outage.
// No sleeps: every wait is a condition with a deadline (ack_book::wait_for, flush(timeout)).

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "broker/core/clock.h"
#include "broker/core/murmur2.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/spool/spool_codec.h"
#include "broker/log/spool/spooling_log.h"
#include "tests/log/temp_dir.h"
#include "tests/log_spool/fault_injecting_log.h"
#include "tests/log_spool/spool_test_support.h"

extern char** environ;

namespace passerelle::log {
namespace {

using namespace std::chrono_literals;
using namespace spool_test;
using testing::fault_injecting_log;
using testing::temp_dir;

constexpr std::int32_t partitions = 4;
const std::string topic = "basket.events";

spool_options fast_options(const temp_dir& dir) {
  spool_options o;
  o.dir = (dir.path() / "spool").string();
  o.probe_interval = 20ms;
  o.probe_timeout = 200ms;
  o.stall_after = 0ms;  // the tests that want stall detection turn it on
  o.default_partitions = partitions;
  return o;
}

// The embedded log in <dir>/embedded with the topic, wrapped in a fault injector, wrapped in a spooling_log.
struct stack {
  fault_injecting_log* faults = nullptr;
  std::unique_ptr<spooling_log> log;
};

stack open_stack(const temp_dir& dir, const spool_options& o,
                 const core::clock& clock = core::system_clock::instance()) {
  embedded_options eo;
  eo.data_dir = (dir.path() / "embedded").string();
  auto real = open_embedded_log(eo);
  if (!real) FAIL("open_embedded_log: " << real.err().message);
  if (auto r = (*real)->create_topics({{topic, partitions, 1, {}}}); !r) FAIL("create_topics: " << r.err().message);
  auto faults = std::make_unique<fault_injecting_log>(std::move(real).value());
  stack s;
  s.faults = faults.get();
  auto opened = spooling_log::open(std::move(faults), o, clock);
  if (!opened) FAIL("spooling_log::open: " << opened.err().message);
  s.log = std::move(opened).value();
  return s;
}

// Produces records n in [from, to) for keys [0, keys), one thread per key, pipelined (no wait between
// produces): produce order per key is n order.
void produce_range(event_log& log, ack_book& book, std::size_t keys, int from, int to) {
  std::vector<std::thread> threads;
  threads.reserve(keys);
  for (int k = 0; k < static_cast<int>(keys); ++k) {
    threads.emplace_back([&, k] {
      for (int n = from; n < to; ++n) log.produce(make_request(topic, k, n), book.slot(event_id(k, n)));
    });
  }
  for (auto& t : threads) t.join();
}

std::set<std::string> ok_ids(const ack_book& book) {
  std::set<std::string> ids;
  for (const auto& [id, r] : book.results()) {
    if (r) ids.insert(id);
  }
  return ids;
}

TEST_CASE("spool: an outage is spooled, acknowledged, then forwarded once in per-key order", "[spool]") {
  temp_dir dir;
  auto s = open_stack(dir, fast_options(dir));
  ack_book book;
  constexpr std::size_t keys = 6;

  produce_range(*s.log, book, keys, 0, 50);
  REQUIRE(book.wait_for(keys * 50, 30s));
  for (const auto& [id, r] : book.results()) {
    REQUIRE(r.ok());
    CHECK(r->offset >= 0);  // direct: a real log offset
  }
  CHECK(s.log->status().state == spool_state::direct);

  s.faults->set_mode(fault_injecting_log::mode::down);
  produce_range(*s.log, book, keys, 50, 250);
  REQUIRE(book.wait_for(keys * 250, 30s));
  std::size_t spooled_acks = 0;
  for (const auto& [id, r] : book.results()) {
    REQUIRE(r.ok());  // nothing is refused: the spool takes it all
    if (r->offset == spooled_offset) {
      ++spooled_acks;
      // The ack names the partition the record will land on.
      const int k = std::stoi(id.substr(0, id.find('-')));
      CHECK(r->partition == core::kafka_partition_for_key("subject-" + std::to_string(k), partitions));
    }
  }
  CHECK(spooled_acks == keys * 200);
  auto st = s.log->status();
  CHECK(st.state == spool_state::spooling);
  CHECK(st.spooled_records == keys * 200);
  CHECK_FALSE(st.last_inner_error.empty());
  // Still down: flush cannot drain and says so, within its bound.
  auto f = s.log->flush(100ms);
  REQUIRE_FALSE(f.ok());
  CHECK(f.err().code == "timed_out");

  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  st = s.log->status();
  CHECK(st.state == spool_state::direct);
  CHECK(st.spooled_records == 0);
  CHECK(st.forwarded_total == keys * 200);

  // Back to direct: new records get real offsets again, after the forwarded ones.
  produce_range(*s.log, book, keys, 250, 260);
  REQUIRE(book.wait_for(keys * 260, 30s));
  for (int k = 0; k < static_cast<int>(keys); ++k) CHECK(book.results().at(event_id(k, 255))->offset >= 0);
  CHECK(book.each_once());

  auto check = check_topic(read_topic(*s.log, topic, partitions), ok_ids(book));
  CHECK(check.records == keys * 260);
  CHECK(check.duplicates == 0);
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
}

TEST_CASE("spool: a full spool refuses with retry/spool_full and recovers once drained", "[spool]") {
  temp_dir dir;
  auto o = fast_options(dir);
  o.max_bytes = 4000;  // ~30 records of the test's size
  auto s = open_stack(dir, o);
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  for (int n = 0; n < 100; ++n) s.log->produce(make_request(topic, 0, n), book.slot(event_id(0, n)));
  REQUIRE(book.wait_for(100, 30s));
  std::size_t ok = 0;
  std::size_t full = 0;
  const auto results = book.results();
  for (int n = 0; n < 100; ++n) {
    const auto& r = results.at(event_id(0, n));
    if (r) {
      ++ok;
      CHECK(full == 0);  // once full, nothing later slips in for this key
    } else {
      CHECK(r.err().kind == error_kind::retry);
      CHECK(r.err().code == "spool_full");
      ++full;
    }
  }
  CHECK(ok > 10);
  CHECK(full > 0);
  CHECK(s.log->status().spooled_bytes <= 4000);
  // Readiness says so until something leaves the spool.
  auto ready = s.log->check_ready(10ms);
  REQUIRE_FALSE(ready.ok());
  CHECK(ready.err().code == "spool_full");
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  CHECK(s.log->check_ready(10ms).ok());
  ack_book after;
  s.log->produce(make_request(topic, 0, 100), after.slot(event_id(0, 100)));
  REQUIRE(after.wait_for(1, 30s));
  CHECK(after.results().at(event_id(0, 100)).ok());

  auto check = check_topic(read_topic(*s.log, topic, partitions), ok_ids(book));
  CHECK(check.records == ok + 1);
  CHECK(check.duplicates == 0);
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
}

TEST_CASE("spool: check_ready reports spool_full at the bound", "[spool]") {
  temp_dir dir;
  auto o = fast_options(dir);
  auto probe = make_request(topic, 0, 0);
  probe.timestamp_ms = 1;
  o.max_bytes = spool::encode_record(probe).size();  // exactly one such record fits
  auto s = open_stack(dir, o);
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  s.log->produce(make_request(topic, 0, 0), book.slot("a"));
  s.log->produce(make_request(topic, 0, 0), book.slot("b"));
  REQUIRE(book.wait_for(2, 30s));
  CHECK(book.results().at("a").ok());
  REQUIRE_FALSE(book.results().at("b").ok());
  CHECK(book.results().at("b").err().code == "spool_full");
  auto ready = s.log->check_ready(10ms);
  REQUIRE_FALSE(ready.ok());
  CHECK(ready.err().code == "spool_full");
}

TEST_CASE("spool: stalled inner produces are rescued into the spool and never duplicated", "[spool]") {
  temp_dir dir;
  auto o = fast_options(dir);
  o.stall_after = 50ms;
  auto s = open_stack(dir, o);
  constexpr std::size_t keys = 4;
  constexpr int per_key = 25;  // int: an event id component
  ack_book book;
  // The broker stops answering: records sit in the inner log's queue, as with librdkafka.
  s.faults->set_mode(fault_injecting_log::mode::holding);
  produce_range(*s.log, book, keys, 0, per_key);
  // Answered from the spool, long before any inner delivery timeout (the held records never complete here).
  REQUIRE(book.wait_for(keys * std::size_t{per_key}, 30s));
  for (const auto& [id, r] : book.results()) {
    REQUIRE(r.ok());
    CHECK(r->offset == spooled_offset);
  }
  auto st = s.log->status();
  CHECK(st.rescued_total == keys * std::size_t{per_key});
  CHECK(st.state == spool_state::spooling);
  CHECK(s.faults->held_count() == keys * std::size_t{per_key});

  // Records produced now go to the spool, behind the rescued ones.
  produce_range(*s.log, book, keys, per_key, 2 * per_key);
  REQUIRE(book.wait_for(keys * 2 * std::size_t{per_key}, 30s));

  bool delivered_in_time = GENERATE(true, false);
  INFO("the held records " << (delivered_in_time ? "reach the log after all" : "time out"));
  if (delivered_in_time) {
    // The broker answers after all: the rescued records are in the log, and leave the spool without a forward.
    s.faults->set_mode(fault_injecting_log::mode::up);
    s.faults->release_deliver();
  } else {
    // The inner delivery timeout fires (not persisted here): the forwarder sends them, once.
    s.faults->release_fail();
    s.faults->set_mode(fault_injecting_log::mode::up);
  }
  REQUIRE(s.log->flush(30s).ok());
  CHECK(s.log->status().state == spool_state::direct);
  CHECK(book.each_once());
  auto check = check_topic(read_topic(*s.log, topic, partitions), ok_ids(book));
  CHECK(check.records == keys * 2 * std::size_t{per_key});
  CHECK(check.duplicates == 0);
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
}

TEST_CASE("spool: forwarding that fails again stops, probes, and resumes without loss or duplicate", "[spool]") {
  temp_dir dir;
  auto o = fast_options(dir);
  o.forward_window = 7;
  auto s = open_stack(dir, o);
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  produce_range(*s.log, book, 3, 0, 100);
  REQUIRE(book.wait_for(300, 30s));
  // Probes answer, produces fail: the forwarder tries, fails, drains its window and probes again, repeatedly.
  const std::size_t before = s.faults->produce_calls();
  s.faults->set_mode(fault_injecting_log::mode::flaky);
  REQUIRE(eventually([&] { return s.faults->produce_calls() >= before + 3 * o.forward_window; }, 30s));
  auto st = s.log->status();
  CHECK(st.state == spool_state::spooling);
  CHECK(st.spooled_records == 300);  // nothing left the spool on a failed forward
  CHECK(st.forwarded_total == 0);
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  auto check = check_topic(read_topic(*s.log, topic, partitions), ok_ids(book));
  CHECK(check.records == 300);
  CHECK(check.duplicates == 0);
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
}

TEST_CASE("spool: records refused for good while forwarding are kept as dead, the rest flows", "[spool]") {
  temp_dir dir;
  auto s = open_stack(dir, fast_options(dir));
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  s.log->produce(make_request(topic, 0, 0), book.slot("0-0"));
  auto unknown = make_request("no.such.topic", 1, 0);
  s.log->produce(std::move(unknown), book.slot("bad"));
  s.log->produce(make_request(topic, 0, 1), book.slot("0-1"));
  REQUIRE(book.wait_for(3, 30s));
  for (const auto& [id, r] : book.results()) REQUIRE(r.ok());
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  CHECK(s.log->status().dead_records == 1);
  auto check = check_topic(read_topic(*s.log, topic, partitions), {"0-0", "0-1"});
  CHECK(check.records == 2);
  CHECK(check.missing.empty());
}

TEST_CASE("spool: a non-empty spool survives a restart and is forwarded", "[spool]") {
  temp_dir dir;
  ack_book book;
  {
    auto s = open_stack(dir, fast_options(dir));
    s.faults->set_mode(fault_injecting_log::mode::down);
    for (int n = 0; n < 40; ++n) s.log->produce(make_request(topic, n % 3, n), book.slot(event_id(n % 3, n)));
    REQUIRE(book.wait_for(40, 30s));
  }  // closed while the inner log is still down
  auto s = open_stack(dir, fast_options(dir));
  CHECK(s.log->status().state == spool_state::spooling);
  CHECK(s.log->status().spooled_records == 40);
  REQUIRE(s.log->flush(30s).ok());
  auto check = check_topic(read_topic(*s.log, topic, partitions), ok_ids(book));
  CHECK(check.records == 40);
  CHECK(check.duplicates == 0);
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
}

TEST_CASE("spool: a spooled record keeps its timestamp, from the request or the injected clock", "[spool]") {
  temp_dir dir;
  core::manual_clock clock(1'600'000'000'000);
  auto s = open_stack(dir, fast_options(dir), clock);
  s.faults->set_mode(fault_injecting_log::mode::down);
  ack_book book;
  // The stamped record goes first: the embedded backend keeps timestamps non-decreasing per partition.
  auto stamped = make_request(topic, 0, 0);
  stamped.timestamp_ms = 1'500'000'000'000;
  s.log->produce(std::move(stamped), book.slot("0-0"));
  s.log->produce(make_request(topic, 0, 1), book.slot("0-1"));
  REQUIRE(book.wait_for(2, 30s));
  CHECK(book.results().at("0-0")->timestamp_ms == 1'500'000'000'000);
  CHECK(book.results().at("0-1")->timestamp_ms == 1'600'000'000'000);
  clock.advance(1h);  // forwarding later does not restamp
  s.faults->set_mode(fault_injecting_log::mode::up);
  REQUIRE(s.log->flush(30s).ok());
  auto records = read_topic(*s.log, topic, partitions);
  REQUIRE(records.size() == 2);
  for (const auto& r : records) {
    CHECK(r.timestamp_ms == (header_value(r, "event-id") == "0-0" ? 1'500'000'000'000 : 1'600'000'000'000));
  }
}

TEST_CASE("spool: bad options, bad input and a locked spool get clear errors", "[spool]") {
  temp_dir dir;
  auto bad = [&](auto mutate, const std::string& word) {
    auto o = fast_options(dir);
    mutate(o);
    auto r = spooling_log::open(std::make_unique<fault_injecting_log>(nullptr), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == "invalid_config");
    CHECK_THAT(r.err().message, Catch::Contains(word));
  };
  bad([](spool_options& o) { o.dir.clear(); }, "dir");
  bad([](spool_options& o) { o.max_bytes = 0; }, "max_bytes");
  bad([](spool_options& o) { o.forward_window = 0; }, "forward_window");
  bad([](spool_options& o) { o.probe_interval = 0ms; }, "probe_interval");
  bad([](spool_options& o) { o.stall_after = -1ms; }, "stall_after");
  auto none = spooling_log::open(nullptr, fast_options(dir));
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().code == "invalid_config");

  auto s = open_stack(dir, fast_options(dir));
  ack_book book;
  auto empty_key = make_request(topic, 0, 0);
  empty_key.key.clear();
  s.log->produce(std::move(empty_key), book.slot("k"));
  REQUIRE(book.wait_for(1, 5s));
  CHECK(book.results().at("k").err().kind == error_kind::reject);

  // A second spooling_log on the same spool directory (RocksDB's LOCK) is refused.
  embedded_options eo;
  eo.data_dir = (dir.path() / "other-embedded").string();
  auto other = open_embedded_log(eo);
  REQUIRE(other.ok());
  auto second = spooling_log::open(std::move(other).value(), fast_options(dir));
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code == "store_locked");
}

TEST_CASE("spool: record codec round-trips bytes and refuses corrupt values", "[spool]") {
  produce_request r = make_request(topic, 3, 7);
  r.value.push_back('\xff');
  r.hdrs.push_back({"", std::string("\0\1", 2)});
  r.timestamp_ms = 1234;
  const std::string bytes = spool::encode_record(r);
  auto back = spool::decode_record(bytes);
  REQUIRE(back);
  CHECK(back->topic == r.topic);
  CHECK(back->key == r.key);
  CHECK(back->value == r.value);
  CHECK(back->hdrs == r.hdrs);
  CHECK(back->timestamp_ms == 1234);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK_FALSE(spool::decode_record(bytes.substr(0, cut)));
  CHECK_FALSE(spool::decode_record(bytes + "x"));
  CHECK(spool::parse_key(spool::spooled_prefix, spool::make_key(spool::spooled_prefix, 0x0102030405060708ULL)) ==
        0x0102030405060708ULL);
  CHECK_FALSE(spool::parse_key(spool::dead_prefix, spool::make_key(spool::spooled_prefix, 1)));
  // Bytewise key order is sequence order (RocksDB's default comparator).
  CHECK(spool::make_key(spool::spooled_prefix, 255) < spool::make_key(spool::spooled_prefix, 256));
}

TEST_CASE("spool: is_outage_error picks exactly the 'log unreachable' errors", "[spool]") {
  CHECK(is_outage_error(error::retry("unavailable", "")));
  CHECK(is_outage_error(error::retry("timed_out", "")));
  CHECK(is_outage_error(error::retry("shutting_down", "")));
  CHECK_FALSE(is_outage_error(error::retry("queue_full", "")));
  CHECK_FALSE(is_outage_error(error::reject("invalid", "")));
  CHECK_FALSE(is_outage_error(error::not_found("unknown_topic", "")));
  CHECK_FALSE(is_outage_error(error::fatal("producer_fatal", "")));
}

// kill -9 of a process that is spooling: every record it printed as acknowledged is forwarded after restart.
TEST_CASE("spool: acked spooled records survive kill -9 and are forwarded after restart", "[spool][durability]") {
  temp_dir dir;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string path = SPOOL_CRASH_CHILD_PATH;
  std::string embedded_dir = (dir.path() / "embedded").string();
  std::string spool_dir = (dir.path() / "spool").string();
  char* argv[] = {path.data(), embedded_dir.data(), spool_dir.data(), const_cast<char*>(topic.c_str()), nullptr};
  pid_t child = 0;
  REQUIRE(posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);

  constexpr std::size_t kill_after = 300;
  std::string buffer;
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[65536];
    const ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got <= 0) break;  // EOF: the child is gone
    buffer.append(chunk, static_cast<std::size_t>(got));
    if (!killed && static_cast<std::size_t>(std::count(buffer.begin(), buffer.end(), '\n')) >= kill_after) {
      REQUIRE(::kill(child, SIGKILL) == 0);
      killed = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));

  // Every complete line is an ack the child received for a spooled record ("<k> <n>").
  std::set<std::string> acked;
  std::istringstream lines(buffer.substr(0, buffer.rfind('\n') + 1));
  int k = 0;
  int n = 0;
  while (lines >> k >> n) acked.insert(event_id(k, n));
  REQUIRE(acked.size() >= kill_after);

  auto s = open_stack(dir, fast_options(dir));  // inner up this time
  CHECK(s.log->status().spooled_records >= acked.size());
  REQUIRE(s.log->flush(60s).ok());
  auto check = check_topic(read_topic(*s.log, topic, partitions), acked);
  CHECK(check.missing.empty());
  CHECK(check.duplicates == 0);
  CHECK(check.out_of_order.empty());
}

}  // namespace
}  // namespace passerelle::log

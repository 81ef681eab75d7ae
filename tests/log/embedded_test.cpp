// Tests of the embedded (RocksDB) event_log backend: the shared conformance suite, then what only the embedded
// backend promises (durability across kill -9, recovery on reopen, dense offsets, its own group coordinator).

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/core/clock.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/embedded/range_assignment.h"
#include "broker/log/embedded/record_codec.h"
#include "tests/log/conformance_cases.h"
#include "tests/log/crash_records.h"
#include "tests/log/temp_dir.h"
#include "tests/log/txn_crash_driver.h"

extern char** environ;

namespace {

using namespace passerelle;
using namespace passerelle::log;
using passerelle::log::conformance::make_request;
using passerelle::log::conformance::poll_until;
using passerelle::log::testing::temp_dir;

std::unique_ptr<event_log> open_or_fail(const embedded_options& options,
                                        const core::clock& clock = core::system_clock::instance()) {
  auto r = open_embedded_log(options, clock);
  INFO((r.ok() ? std::string() : r.err().code + ": " + r.err().message));
  REQUIRE(r.ok());
  return std::move(r).value();
}

embedded_options options_in(const temp_dir& dir) {
  embedded_options o;
  o.data_dir = dir.str();
  return o;
}

// The conformance fixture: one temp data dir per test case; the tiny-queue log opens on the same dir (the suite
// never holds two logs of one fixture at once, and RocksDB's lock would refuse it).
struct embedded_fixture : conformance::log_fixture {
  temp_dir dir;
  std::unique_ptr<event_log> open() override { return open_or_fail(options_in(dir)); }
  std::unique_ptr<event_log> open_with_queue_bound(std::size_t max_queued_records) override {
    auto o = options_in(dir);
    o.max_queued_records = max_queued_records;
    return open_or_fail(o);
  }
  std::chrono::milliseconds patience() const override { return std::chrono::seconds(20); }
};

}  // namespace

PASSERELLE_LOG_CONFORMANCE_CASES(embedded_fixture, "embedded", "[embedded][conformance]")

namespace {

// The suite's helpers need only patience() from a fixture; embedded-only tests use this one.
struct patience_fixture : conformance::log_fixture {
  std::unique_ptr<event_log> open() override { return nullptr; }
  std::unique_ptr<event_log> open_with_queue_bound(std::size_t) override { return nullptr; }
  std::chrono::milliseconds patience() const override { return std::chrono::seconds(20); }
};

std::vector<produce_ack> produce_all(event_log& log, std::vector<produce_request> reqs) {
  patience_fixture fx;
  return conformance::produce_all(fx, log, std::move(reqs));
}

}  // namespace

TEST_CASE("embedded: acked records survive kill -9 of the writing process", "[embedded][durability]") {
  temp_dir dir;
  const std::string topic = "crash.events";
  constexpr int partitions = 3;

  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  std::string path = LOG_CRASH_CHILD_PATH;
  std::string data_dir = dir.str();
  std::string topic_arg = topic;
  std::string partitions_arg = std::to_string(partitions);
  char* argv[] = {path.data(), data_dir.data(), topic_arg.data(), partitions_arg.data(), nullptr};
  pid_t child = 0;
  const int spawned = ::posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  REQUIRE(spawned == 0);

  // Read acks until we have seen enough of them (bounded by a deadline), kill -9, then drain what was printed.
  std::string text;
  auto lines = [&] { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  while (lines() < 500) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{out[0], POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;  // the child died on its own: checked below
    text.append(buf, static_cast<std::size_t>(n));
  }
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  for (ssize_t n = 0; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  REQUIRE(WIFSIGNALED(status));  // it was killed mid-run, not finished
  CHECK(WTERMSIG(status) == SIGKILL);

  struct ack {
    std::int64_t seq;
    std::int32_t partition;
    std::int64_t offset;
  };
  std::vector<ack> acks;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof() && !text.ends_with('\n')) break;  // a half-printed last line: not an ack we can trust
    std::istringstream fields(line);
    ack a{};
    REQUIRE(static_cast<bool>(fields >> a.seq >> a.partition >> a.offset));
    acks.push_back(a);
  }
  REQUIRE(acks.size() >= 500);

  auto log = open_or_fail(options_in(dir));
  std::vector<topic_partition_offset> starts;
  std::size_t stored = 0;
  for (int p = 0; p < partitions; ++p) {
    auto wm = log->get_watermarks(topic_partition{topic, p});
    REQUIRE(wm.ok());
    CHECK(wm->low == 0);
    stored += static_cast<std::size_t>(wm->high);
    starts.push_back({topic, p, 0});
  }
  CHECK(stored >= acks.size());  // records written but not yet printed may be there too
  auto reader = log->open_reader(starts);
  REQUIRE(reader.ok());
  patience_fixture fx;
  const auto recs = poll_until(fx, **reader, stored);
  REQUIRE(recs.size() == stored);
  std::map<std::pair<std::int32_t, std::int64_t>, const record*> by_position;
  std::map<std::int32_t, std::int64_t> next_offset;
  for (const auto& r : recs) {
    CHECK(r.offset == next_offset[r.partition]++);  // dense, in order
    by_position[{r.partition, r.offset}] = &r;
  }
  for (const auto& a : acks) {
    INFO("ack seq " << a.seq << " at " << a.partition << "@" << a.offset);
    const auto it = by_position.find({a.partition, a.offset});
    REQUIRE(it != by_position.end());
    CHECK(it->second->key == testing::crash_key(a.seq));
    CHECK(it->second->value == testing::crash_value(a.seq));
    CHECK(it->second->hdrs == testing::crash_headers(a.seq));
  }
}

TEST_CASE("embedded: reopening recovers log-end offsets, commits and timestamps", "[embedded]") {
  temp_dir dir;
  core::manual_clock clock(1'700'000'000'000);
  const std::string topic = "recover.events";
  std::map<std::int32_t, watermarks> before;
  std::map<std::int32_t, std::int64_t> last_ts;
  {
    auto log = open_or_fail(options_in(dir), clock);
    REQUIRE(log->create_topics({topic_spec{topic, 3, 1, {}}}).ok());
    std::vector<produce_request> reqs;
    reqs.reserve(60);
    for (int i = 0; i < 60; ++i) reqs.push_back(make_request(topic, "k" + std::to_string(i), std::to_string(i)));
    const auto acks = produce_all(*log, reqs);
    for (const auto& a : acks) {
      CHECK(a.timestamp_ms == clock.now_ms());
      last_ts[a.partition] = a.timestamp_ms;
    }
    auto c = log->subscribe(consumer_config{"g", {topic}, offset_reset::earliest, {}});
    REQUIRE(c.ok());
    patience_fixture fx;
    REQUIRE(poll_until(fx, **c, 60).size() == 60);
    REQUIRE((*c)->commit({{topic, 0, 5}, {topic, 2, 7}}).ok());
    for (std::int32_t p = 0; p < 3; ++p) before[p] = *log->get_watermarks({topic, p});
  }
  clock.set(1'600'000'000'000);  // the wall clock went backwards while we were down
  auto log = open_or_fail(options_in(dir), clock);
  auto listed = log->list_topics();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].name == topic);
  CHECK((*listed)[0].partitions == 3);
  for (std::int32_t p = 0; p < 3; ++p) {
    auto wm = log->get_watermarks({topic, p});
    REQUIRE(wm.ok());
    CHECK(wm->low == before[p].low);
    CHECK(wm->high == before[p].high);
  }
  auto committed = log->committed_offsets("g", {{topic, 0}, {topic, 1}, {topic, 2}});
  REQUIRE(committed.ok());
  CHECK((*committed)[0] == std::optional<std::int64_t>(5));
  CHECK_FALSE((*committed)[1].has_value());
  CHECK((*committed)[2] == std::optional<std::int64_t>(7));

  // New records continue the partition densely, and their timestamps never go below the stored ones.
  const auto acks = produce_all(*log, {make_request(topic, "k0", "after reopen")});
  const auto p = acks[0].partition;
  CHECK(acks[0].offset == before[p].high);
  CHECK(acks[0].timestamp_ms == last_ts[p]);
  auto found = log->offset_for_time({topic, p}, last_ts[p]);
  REQUIRE(found.ok());
  CHECK(*found == 0);

  // A member of the group resumes from the committed offset.
  auto c = log->subscribe(consumer_config{"g", {topic}, offset_reset::earliest, {}});
  REQUIRE(c.ok());
  patience_fixture fx;
  const auto recs = poll_until(fx, **c, 1);
  REQUIRE_FALSE(recs.empty());
  std::map<std::int32_t, std::int64_t> first;
  for (const auto& r : recs) first.try_emplace(r.partition, r.offset);
  if (first.contains(0)) CHECK(first[0] == 5);
  if (first.contains(2)) CHECK(first[2] == 7);
  if (first.contains(1)) CHECK(first[1] == 0);
}

TEST_CASE("embedded: offsets are dense across many small group commits", "[embedded]") {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_batch_records = 3;
  auto log = open_or_fail(o);
  REQUIRE(log->create_topics({topic_spec{"dense", 1, 1, {}}}).ok());
  std::vector<produce_request> reqs;
  reqs.reserve(100);
  for (int i = 0; i < 100; ++i) reqs.push_back(make_request("dense", "k" + std::to_string(i % 5), std::to_string(i)));
  const auto acks = produce_all(*log, reqs);
  for (std::size_t i = 0; i < acks.size(); ++i) CHECK(acks[i].offset == static_cast<std::int64_t>(i));
  auto reader = log->open_reader({{"dense", 0, 0}});
  REQUIRE(reader.ok());
  patience_fixture fx;
  const auto recs = poll_until(fx, **reader, 100);
  REQUIRE(recs.size() == 100);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    CHECK(recs[i].offset == static_cast<std::int64_t>(i));
    CHECK(recs[i].value == std::to_string(i));
  }
  CHECK(log->flush(std::chrono::seconds(5)).ok());
  CHECK(log->check_ready(std::chrono::milliseconds(100)).ok());
}

TEST_CASE("embedded: a record with no timestamp gets the injected clock's time", "[embedded]") {
  temp_dir dir;
  core::manual_clock clock(1'234'567'000);
  auto log = open_or_fail(options_in(dir), clock);
  REQUIRE(log->create_topics({topic_spec{"t", 1, 1, {}}}).ok());
  auto a = produce_all(*log, {make_request("t", "k", "1")});
  CHECK(a[0].timestamp_ms == 1'234'567'000);
  clock.advance(std::chrono::seconds(5));
  auto explicit_req = make_request("t", "k", "2");
  explicit_req.timestamp_ms = 1'234'000'000;  // older than the partition's last record: clamped
  auto b = produce_all(*log, {make_request("t", "k", "3"), explicit_req});
  CHECK(b[0].timestamp_ms == 1'234'572'000);
  CHECK(b[1].timestamp_ms == 1'234'572'000);
}

TEST_CASE("embedded: bad options and a second open of the same directory are refused", "[embedded]") {
  temp_dir dir;
  auto bad = [&](auto mutate) {
    auto o = options_in(dir);
    mutate(o);
    auto r = open_embedded_log(o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().kind == error_kind::reject);
    CHECK(r.err().code == "invalid_config");
  };
  bad([](embedded_options& o) { o.data_dir.clear(); });
  bad([](embedded_options& o) { o.default_partitions = 0; });
  bad([](embedded_options& o) { o.max_queued_records = 0; });
  bad([](embedded_options& o) { o.max_batch_records = 0; });

  auto first = open_or_fail(options_in(dir));
  auto second = open_embedded_log(options_in(dir));
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code == "store_locked");
}

TEST_CASE("embedded: bad input gets clear errors", "[embedded]") {
  temp_dir dir;
  auto o = options_in(dir);
  o.default_partitions = 5;
  auto log = open_or_fail(o);
  CHECK(log->create_topics({topic_spec{"bad/name", 1, 1, {}}}).err().code == "invalid");
  CHECK(log->create_topics({topic_spec{"", 1, 1, {}}}).err().code == "invalid");
  REQUIRE(log->create_topics({topic_spec{"defaulted", 0, 1, {}}}).ok());
  CHECK(log->list_topics()->at(0).partitions == 5);

  CHECK(log->subscribe(consumer_config{"g", {"nope"}, offset_reset::earliest, {}}).err().code == "unknown_topic");
  CHECK(log->subscribe(consumer_config{"", {"defaulted"}, offset_reset::earliest, {}}).err().code == "invalid");
  CHECK(log->get_watermarks({"defaulted", 5}).err().code == "unknown_partition");
  CHECK(log->open_reader({{"defaulted", 0, 1}}).err().code == "offset_out_of_range");
  CHECK(log->committed_offsets("g", {{"nope", 0}}).err().code == "unknown_topic");

  auto reader = log->open_reader({{"defaulted", 1, 0}});
  REQUIRE(reader.ok());
  CHECK((*reader)->commit({{"defaulted", 1, 0}}).err().code == "no_group");
  CHECK((*reader)->seek({"defaulted", 2, 0}).err().code == "not_assigned");
  CHECK((*reader)->poll(std::chrono::milliseconds(0), 0).err().code == "invalid");
  auto empty = (*reader)->poll(std::chrono::milliseconds(0), 10);
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  conformance::completions done(2);
  auto negative = make_request("defaulted", "k", "v");
  negative.timestamp_ms = -5;
  log->produce(negative, done.callback(0));
  log->produce(make_request("defaulted", "k", std::string(std::size_t{17} * 1024 * 1024, 'x')), done.callback(1));
  REQUIRE(done.wait_all(std::chrono::seconds(0)));
  CHECK(done.get(0).err().code == "invalid");
  CHECK(done.get(1).err().code == "invalid");
}

TEST_CASE("embedded: rebalance listeners run inside poll, partitions move only once released", "[embedded]") {
  temp_dir dir;
  auto log = open_or_fail(options_in(dir));
  REQUIRE(log->create_topics({topic_spec{"t", 4, 1, {}}}).ok());
  using tps = std::vector<topic_partition>;
  struct events {
    std::vector<std::pair<std::string, tps>> seen;
    std::thread::id thread;
    bool wrong_thread = false;
  };
  auto listener_for = [](events& e) {
    rebalance_listener l;
    l.on_assigned = [&e](const tps& p) {
      e.wrong_thread |= std::this_thread::get_id() != e.thread;
      e.seen.emplace_back("assigned", p);
    };
    l.on_revoked = [&e](const tps& p) {
      e.wrong_thread |= std::this_thread::get_id() != e.thread;
      e.seen.emplace_back("revoked", p);
    };
    return l;
  };
  events ea;
  events eb;
  ea.thread = eb.thread = std::this_thread::get_id();
  const tps all = {{"t", 0}, {"t", 1}, {"t", 2}, {"t", 3}};
  const tps low = {{"t", 0}, {"t", 1}};
  const tps high = {{"t", 2}, {"t", 3}};
  const auto zero = std::chrono::milliseconds(0);

  auto a = std::move(log->subscribe(consumer_config{"g", {"t"}, offset_reset::earliest, listener_for(ea)})).value();
  CHECK(a->assignment().empty());  // assigned on the first poll
  REQUIRE(a->poll(zero, 10).ok());
  CHECK(a->assignment() == all);
  {
    auto b = std::move(log->subscribe(consumer_config{"g", {"t"}, offset_reset::earliest, listener_for(eb)})).value();
    REQUIRE(b->poll(zero, 10).ok());
    CHECK(b->assignment().empty());  // a still holds 2 and 3 until its own poll revokes them
    REQUIRE(a->poll(zero, 10).ok());
    CHECK(a->assignment() == low);
    REQUIRE(b->poll(zero, 10).ok());
    CHECK(b->assignment() == high);
    // A second group is independent: it gets everything.
    auto other = std::move(log->subscribe(consumer_config{"other", {"t"}, offset_reset::latest, {}})).value();
    REQUIRE(other->poll(zero, 10).ok());
    CHECK(other->assignment() == all);
  }  // b leaves
  REQUIRE(a->poll(zero, 10).ok());
  CHECK(a->assignment() == all);

  CHECK_FALSE(ea.wrong_thread);
  CHECK_FALSE(eb.wrong_thread);
  REQUIRE(ea.seen.size() == 3);
  CHECK(ea.seen[0] == std::pair<std::string, tps>{"assigned", all});
  CHECK(ea.seen[1] == std::pair<std::string, tps>{"revoked", high});
  CHECK(ea.seen[2] == std::pair<std::string, tps>{"assigned", high});
  REQUIRE(eb.seen.size() == 1);
  CHECK(eb.seen[0] == std::pair<std::string, tps>{"assigned", high});
}

TEST_CASE("embedded: poll wakes up when a record arrives", "[embedded]") {
  temp_dir dir;
  auto log = open_or_fail(options_in(dir));
  REQUIRE(log->create_topics({topic_spec{"t", 1, 1, {}}}).ok());
  auto c = std::move(log->subscribe(consumer_config{"g", {"t"}, offset_reset::latest, {}})).value();
  REQUIRE(c->poll(std::chrono::milliseconds(0), 10).ok());  // joined, positioned at the end
  std::thread producer([&] { log->produce(make_request("t", "k", "late"), [](const result<produce_ack>&) {}); });
  patience_fixture fx;
  const auto recs = poll_until(fx, *c, 1);
  producer.join();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].value == "late");
}

TEST_CASE("embedded: range assignment is deterministic and contiguous", "[embedded]") {
  using embedded::member_subscription;
  const auto out = embedded::range_assign(
      {member_subscription{1, {"a", "b"}}, member_subscription{2, {"a"}}, member_subscription{3, {"c"}}},
      {{"a", 5}, {"b", 2}});
  using tps = std::vector<topic_partition>;
  CHECK(out.at(1) == tps{{"a", 0}, {"a", 1}, {"a", 2}, {"b", 0}, {"b", 1}});
  CHECK(out.at(2) == tps{{"a", 3}, {"a", 4}});
  CHECK(out.at(3).empty());  // topic c has no known partition count
}

TEST_CASE("embedded: record encoding round-trips bytes and refuses corrupt values", "[embedded]") {
  const std::string key("k\0ey", 4);
  const std::string value("\xff\x00\x01 value", 9);
  const headers hdrs = {{"event-id", "e1"}, {"", ""}, {"bin", std::string("\0\xfe", 2)}};
  const auto encoded = embedded::encode_record_value(-1, key, value, hdrs);
  auto decoded = embedded::decode_record_value(encoded);
  REQUIRE(decoded.ok());
  CHECK(decoded->timestamp_ms == -1);
  CHECK(decoded->key == key);
  CHECK(decoded->value == value);
  CHECK(decoded->hdrs == hdrs);
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    auto r = embedded::decode_record_value(std::string_view(encoded).substr(0, cut));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == "corrupt_record");
  }
  CHECK_FALSE(embedded::decode_record_value(encoded + "x").ok());

  // Keys sort by partition, then offset (big-endian), which is what iteration in offset order relies on.
  CHECK(embedded::record_key("t", 0, 255) < embedded::record_key("t", 0, 256));
  CHECK(embedded::record_key("t", 0, 1'000'000) < embedded::record_key("t", 1, 0));
  auto off = embedded::offset_of_record_key(embedded::record_key("t", 3, 77), "t", 3);
  REQUIRE(off.ok());
  CHECK(*off == 77);
  CHECK_FALSE(embedded::offset_of_record_key(embedded::record_key("t", 3, 77), "t", 4).ok());
}

TEST_CASE("embedded: kill -9 mid-transaction, then a successor with the same transactional id: exactly once",
          "[embedded][durability][transactions]") {
  temp_dir dir;
  testing::txn_crash_setup s;
  s.child_path = LOG_TXN_CRASH_CHILD_PATH;
  s.backend = "embedded";
  s.location = dir.str();
  s.open = [&] { return open_or_fail(options_in(dir)); };
  s.input = "txn.input";
  s.output = "txn.output";
  s.group = "txn.group";
  s.transactional_id = "txn.engine-1";
  testing::run_txn_crash_test(s);
}

TEST_CASE("embedded: a transaction open longer than transaction_timeout can only be aborted",
          "[embedded][transactions]") {
  temp_dir dir;
  core::manual_clock clock;
  auto log = open_or_fail(options_in(dir), clock);
  REQUIRE(log->create_topics({topic_spec{"txn.slow", 1, 1, {}}}).ok());
  conformance::completions done(1);  // outlives the producer, whose destructor may complete its records
  transactional_producer_config config;
  config.transactional_id = "slow-engine";
  config.transaction_timeout = std::chrono::seconds(60);
  auto p = log->open_transactional_producer(config);
  REQUIRE(p.ok());
  REQUIRE((*p)->begin().ok());
  (*p)->produce(make_request("txn.slow", "k", "late"), done.callback(0));
  clock.advance(std::chrono::seconds(61));
  auto committed = (*p)->commit(std::chrono::seconds(10));
  REQUIRE_FALSE(committed.ok());
  CHECK(committed.err().code == "abortable");
  REQUIRE((*p)->abort(std::chrono::seconds(10)).ok());
  CHECK(done.get(0).err().code == "aborted");
  auto wm = log->get_watermarks(topic_partition{"txn.slow", 0});
  REQUIRE(wm.ok());
  CHECK(wm->high == 0);  // nothing was written

  REQUIRE((*p)->begin().ok());  // the next transaction starts a new clock
  (*p)->produce(make_request("txn.slow", "k", "on-time"), done.callback(0));
  REQUIRE((*p)->commit(std::chrono::seconds(10)).ok());
  CHECK(done.get(0).ok());
}

TEST_CASE("embedded: transactional offsets need the sending member to still hold the input partitions",
          "[embedded][transactions]") {
  temp_dir dir;
  auto log = open_or_fail(options_in(dir));
  REQUIRE(log->create_topics({topic_spec{"txn.in", 2, 1, {}}, topic_spec{"txn.out", 1, 1, {}}}).ok());
  // An input on partition 1: range assignment moves partition 1 to the second member that joins.
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    if (core::kafka_partition_for_key("k" + std::to_string(i), 2) == 1) key = "k" + std::to_string(i);
  }
  produce_all(*log, {make_request("txn.in", key, "input")});
  conformance::completions done(1);  // outlives the producer, whose destructor may complete its records
  transactional_producer_config config;
  config.transactional_id = "engine";
  auto p = log->open_transactional_producer(config);
  REQUIRE(p.ok());
  auto a = log->subscribe(consumer_config{"g", {"txn.in"}, offset_reset::earliest, {}});
  REQUIRE(a.ok());
  patience_fixture fx;
  const auto in = poll_until(fx, **a, 1);
  REQUIRE(in.size() == 1);

  REQUIRE((*p)->begin().ok());
  (*p)->produce(make_request("txn.out", "k", "output"), done.callback(0));
  REQUIRE(in[0].partition == 1);
  REQUIRE((*p)->send_offsets(**a, {topic_partition_offset{"txn.in", 1, in[0].offset + 1}}).ok());

  // Another member joins; range assignment gives it partition 1, which `a` gives up on its next poll.
  auto b = log->subscribe(consumer_config{"g", {"txn.in"}, offset_reset::earliest, {}});
  REQUIRE(b.ok());
  auto nothing = (*a)->poll(std::chrono::milliseconds(0), 10);
  REQUIRE(nothing.ok());
  REQUIRE((*a)->assignment() == std::vector<topic_partition>{topic_partition{"txn.in", 0}});

  auto committed = (*p)->commit(std::chrono::seconds(10));
  REQUIRE_FALSE(committed.ok());
  CHECK(committed.err().code == "abortable");
  REQUIRE((*p)->abort(std::chrono::seconds(10)).ok());
  CHECK(done.get(0).err().code == "aborted");
  auto offsets = log->committed_offsets("g", {topic_partition{"txn.in", 1}});
  REQUIRE(offsets.ok());
  CHECK_FALSE((*offsets)[0].has_value());  // the input will be processed again, by its new owner

  // A consumer of another log is refused.
  temp_dir other_dir;
  auto other = open_or_fail(options_in(other_dir));
  REQUIRE(other->create_topics({topic_spec{"txn.in", 1, 1, {}}}).ok());
  auto foreign = other->subscribe(consumer_config{"g", {"txn.in"}, offset_reset::earliest, {}});
  REQUIRE(foreign.ok());
  REQUIRE((*p)->begin().ok());
  auto refused = (*p)->send_offsets(**foreign, {topic_partition_offset{"txn.in", 0, 1}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == "foreign_consumer");
  REQUIRE((*p)->abort(std::chrono::seconds(10)).ok());
}

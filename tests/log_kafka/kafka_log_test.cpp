// Kafka-specific behaviour of the Kafka event_log backend, against a real broker (PASSERELLE_KAFKA_BOOTSTRAP)
// or, for the failure cases, against an address where nothing listens.

#include <catch2/catch.hpp>

#include <set>

#include "broker/core/murmur2.h"
#include "broker/log/kafka/kafka_log.h"
#include "tests/log_kafka/kafka_test_support.h"

namespace passerelle::log {
namespace {

using namespace std::chrono_literals;
using namespace kafka_test;

// Nothing listens on port 1: connections are refused at once.
kafka_options unreachable_options() {
  kafka_options o;
  o.bootstrap_servers = "127.0.0.1:1";
  o.delivery_timeout = 1500ms;
  o.request_timeout = 1000ms;
  return o;
}

// Keeps librdkafka's connection-refused noise out of the test output while a test runs.
struct quiet_kafka_log {
  quiet_kafka_log() {
    set_kafka_log_hook([](int, std::string_view) {});
  }
  ~quiet_kafka_log() { set_kafka_log_hook({}); }
};

TEST_CASE("kafka: safety settings cannot be overridden and the error names the key", "[kafka]") {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"acks", "1"},
      {"request.required.acks", "0"},
      {"enable.idempotence", "false"},
      {"partitioner", "consistent_random"},
      {"enable.auto.commit", "true"},
      {"message.timeout.ms", "1000"},
      {"queue.buffering.max.messages", "10"},
      {"group.id", "sneaky"},
      {"bootstrap.servers", "10.0.0.1:9092"},
  };
  for (const auto& [key, value] : refused) {
    kafka_options o = unreachable_options();
    o.properties[key] = value;
    auto log = open_kafka_log(o);
    INFO(key << "=" << value);
    REQUIRE_FALSE(log.ok());
    CHECK(log.err().kind == error_kind::reject);
    CHECK(log.err().code == "invalid_config");
    CHECK_THAT(log.err().message, Catch::Contains(key));
  }
}

TEST_CASE("kafka: repeating a fixed value is accepted; unknown or malformed properties are refused", "[kafka]") {
  quiet_kafka_log quiet;
  {
    kafka_options o = unreachable_options();
    o.properties = {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "20"}};
    auto log = open_kafka_log(o);
    REQUIRE(log.ok());
    CHECK((*log)->kind() == backend_kind::kafka);
  }
  {
    kafka_options o = unreachable_options();
    o.properties = {{"no.such.property", "1"}};
    auto log = open_kafka_log(o);
    REQUIRE_FALSE(log.ok());
    CHECK(log.err().code == "invalid_config");
    CHECK_THAT(log.err().message, Catch::Contains("no.such.property"));
  }
  {
    kafka_options o = unreachable_options();
    o.properties = {{"linger.ms", "soon"}};
    auto log = open_kafka_log(o);
    REQUIRE_FALSE(log.ok());
    CHECK_THAT(log.err().message, Catch::Contains("linger.ms"));
  }
  {
    kafka_options o = unreachable_options();
    o.delivery_timeout = 0ms;  // librdkafka would read 0 as "never time out"
    auto log = open_kafka_log(o);
    REQUIRE_FALSE(log.ok());
    CHECK_THAT(log.err().message, Catch::Contains("delivery_timeout"));
  }
}

TEST_CASE("kafka: an unreachable cluster gives clear errors, not hangs", "[kafka]") {
  quiet_kafka_log quiet;
  auto log = open_kafka_log(unreachable_options());
  REQUIRE(log.ok());

  completions done;
  (*log)->produce({"passerelle.basket.events", "subject-1", "value", {}, {}}, done.slot(0));
  REQUIRE(done.wait_for(1));
  const auto r = done.results().at(0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().kind == error_kind::retry);
  CHECK(r.err().code == "timed_out");

  auto ready = (*log)->check_ready(300ms);
  REQUIRE_FALSE(ready.ok());
  CHECK(ready.err().kind == error_kind::retry);
  CHECK_THAT(ready.err().message, Catch::Contains("127.0.0.1:1"));

  auto topics = (*log)->list_topics();
  REQUIRE_FALSE(topics.ok());
  CHECK(topics.err().kind == error_kind::retry);

  auto created = (*log)->create_topics({{"passerelle.never", 1, 1, {}}});
  REQUIRE_FALSE(created.ok());
  CHECK(created.err().kind == error_kind::retry);

  auto wm = (*log)->get_watermarks({"passerelle.never", 0});
  REQUIRE_FALSE(wm.ok());
  CHECK(wm.err().kind == error_kind::retry);
}

TEST_CASE("kafka: consumers of an unreachable cluster stay bounded", "[kafka]") {
  quiet_kafka_log quiet;
  kafka_options o = unreachable_options();
  // librdkafka fails an unanswered commit only after the session timeout, and closing the consumer waits for
  // it: the broker's minimum session timeout keeps this test short (the bound is documented in the README).
  o.properties["session.timeout.ms"] = "6000";
  auto log = open_kafka_log(o);
  REQUIRE(log.ok());
  {
    auto c = (*log)->subscribe({"passerelle.unreachable", {"passerelle.basket.events"}, offset_reset::earliest, {}});
    REQUIRE(c.ok());
    auto batch = (*c)->poll(200ms, 10);
    REQUIRE(batch.ok());
    CHECK(batch->empty());
    CHECK((*c)->assignment().empty());
    auto commit = (*c)->commit({{"passerelle.basket.events", 0, 1}});
    REQUIRE_FALSE(commit.ok());
    CHECK(commit.err().kind == error_kind::retry);
  }  // closing a member that never joined must not wait for the cluster
  {
    auto r = (*log)->open_reader({{"passerelle.basket.events", 0, 0}});
    REQUIRE(r.ok());
    auto batch = (*r)->poll(200ms, 10);
    REQUIRE(batch.ok());
    CHECK(batch->empty());
  }
  auto committed = (*log)->committed_offsets("passerelle.unreachable", {{"passerelle.basket.events", 0}});
  REQUIRE_FALSE(committed.ok());
  CHECK(committed.err().kind == error_kind::retry);
  auto at = (*log)->offset_for_time({"passerelle.basket.events", 0}, 0);
  REQUIRE_FALSE(at.ok());
  CHECK(at.err().kind == error_kind::retry);
}

TEST_CASE("kafka: produce validates its input", "[kafka]") {
  quiet_kafka_log quiet;
  auto log = open_kafka_log(unreachable_options());
  REQUIRE(log.ok());
  completions done;
  (*log)->produce({"passerelle.basket.events", "", "value", {}, {}}, done.slot(0));
  (*log)->produce({"", "key", "value", {}, {}}, done.slot(1));
  // Both fail synchronously, before produce() returns.
  const auto results = done.results();
  REQUIRE(results.size() == 2);
  for (const auto& [id, r] : results) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().kind == error_kind::reject);
    CHECK(r.err().code == "invalid");
  }
}

TEST_CASE("kafka: a full queue fails produce at once; shutdown completes every produce exactly once", "[kafka]") {
  quiet_kafka_log quiet;
  kafka_options o = unreachable_options();
  o.max_queued_records = 5;
  o.delivery_timeout = 600'000ms;  // nothing times out by itself: only shutdown ends these produces
  completions done;
  constexpr int total = 20;
  int queue_full_before_return = 0;
  {
    auto log = open_kafka_log(o);
    REQUIRE(log.ok());
    for (int i = 0; i < total; ++i) {
      const std::size_t before = done.results().size();
      (*log)->produce({"passerelle.basket.events", "key-" + std::to_string(i), "v", {}, {}}, done.slot(i));
      const auto after = done.results();
      if (after.size() > before && after.count(i) == 1 && !after.at(i).ok() && after.at(i).err().code == "queue_full") {
        ++queue_full_before_return;
      }
    }
    CHECK(queue_full_before_return == total - 5);
    auto flushed = (*log)->flush(50ms);
    REQUIRE_FALSE(flushed.ok());
    CHECK(flushed.err().code == "timed_out");
  }  // destroying the log: bounded flush (request_timeout), then purge
  REQUIRE(done.results().size() == total);
  for (const auto& [id, n] : done.calls()) CHECK(n == 1);
  int shutting_down = 0;
  for (const auto& [id, r] : done.results()) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().kind == error_kind::retry);
    if (r.err().code == "shutting_down") ++shutting_down;
  }
  CHECK(shutting_down == 5);
}

TEST_CASE("kafka: records land on the Java client's murmur2 partition of their key", "[kafka]") {
  auto log = open_live();
  constexpr std::int32_t partitions = 6;
  const std::string topic = create_topic(*log, "murmur2", partitions);

  completions done;
  constexpr int total = 300;
  for (int i = 0; i < total; ++i) {
    log->produce({topic, "basket-" + std::to_string(i * 7919), "v" + std::to_string(i), {}, {}}, done.slot(i));
  }
  REQUIRE(done.wait_for(total));
  std::set<std::int32_t> used;
  for (const auto& [i, r] : done.results()) {
    REQUIRE(r.ok());
    const std::string key = "basket-" + std::to_string(i * 7919);
    CHECK(r->partition == core::kafka_partition_for_key(key, partitions));
    used.insert(r->partition);
  }
  CHECK(used.size() == static_cast<std::size_t>(partitions));  // 300 keys spread over every partition

  // And a reader finds each key on that partition.
  std::vector<topic_partition_offset> start;
  start.reserve(partitions);
  for (std::int32_t p = 0; p < partitions; ++p) start.push_back({topic, p, 0});
  const auto records = read_records(*log, start, total);
  REQUIRE(records.size() == total);
  for (const auto& rec : records) CHECK(rec.partition == core::kafka_partition_for_key(rec.key, partitions));
}

TEST_CASE("kafka: headers, binary values and timestamps round-trip", "[kafka]") {
  auto log = open_live();
  const std::string topic = create_topic(*log, "headers", 1);
  const std::string binary("\x00\x01\xff\x7f payload \x00 end", 17);
  const headers hdrs = {{"event-id", "0190-abc"},
                        {"event-type", "passerelle.v1.BasketSnapshot"},
                        {"content-type", "application/x-protobuf"},
                        {"empty", ""},
                        {"bin", std::string("\x00\x02", 2)},
                        {"event-id", "repeated keys keep their order"}};
  auto ack = produce_sync(*log, {topic, "basket-42", binary, hdrs, 1'700'000'123'456});
  REQUIRE(ack.ok());
  CHECK(ack->timestamp_ms == 1'700'000'123'456);

  const auto records = read_records(*log, {{topic, ack->partition, ack->offset}}, 1);
  REQUIRE(records.size() == 1);
  const record& r = records[0];
  CHECK(r.topic == topic);
  CHECK(r.offset == ack->offset);
  CHECK(r.key == "basket-42");
  CHECK(r.value == binary);
  CHECK(r.hdrs == hdrs);
  CHECK(r.timestamp_ms == 1'700'000'123'456);
}

TEST_CASE("kafka: admin calls — create is idempotent, watermarks, offset for time", "[kafka]") {
  auto log = open_live();
  const std::string topic = create_topic(*log, "admin", 3);
  REQUIRE(log->create_topics({{topic, 3, 1, {}}}).ok());  // exists: not an error

  auto topics = log->list_topics();
  REQUIRE(topics.ok());
  bool found = false;
  for (const auto& t : *topics) {
    if (t.name == topic) {
      found = true;
      CHECK(t.partitions == 3);
    }
    CHECK_FALSE(t.name.starts_with("__"));
  }
  CHECK(found);

  // Keys chosen for partition 0 so the three records are in one partition, in time order.
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 3; ++i) {
    std::string k = "k" + std::to_string(i);
    if (core::kafka_partition_for_key(k, 3) == 0) keys.push_back(k);
  }
  std::vector<std::int64_t> offsets;
  for (int i = 0; i < 3; ++i) {
    auto ack = produce_sync(*log, {topic, keys[static_cast<std::size_t>(i)], "v", {}, 1'000'000 * (i + 1)});
    REQUIRE(ack.ok());
    REQUIRE(ack->partition == 0);
    offsets.push_back(ack->offset);
  }
  auto wm = log->get_watermarks({topic, 0});
  REQUIRE(wm.ok());
  CHECK(wm->low == 0);
  CHECK(wm->high == 3);

  auto at = log->offset_for_time({topic, 0}, 1'500'000);
  REQUIRE(at.ok());
  CHECK(*at == offsets[1]);
  auto exact = log->offset_for_time({topic, 0}, 1'000'000);
  REQUIRE(exact.ok());
  CHECK(*exact == offsets[0]);
  auto after_all = log->offset_for_time({topic, 0}, 9'000'000);
  REQUIRE(after_all.ok());
  CHECK(*after_all == 3);

  auto missing = log->get_watermarks({unique_name("missing"), 0});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().kind == error_kind::not_found);
}

TEST_CASE("kafka: producing to a topic that does not exist is not_found, not auto-created", "[kafka]") {
  kafka_options o = live_options();
  o.properties["topic.metadata.propagation.max.ms"] = "500";
  auto log = open_live(o);
  const std::string topic = unique_name("absent");
  auto r = produce_sync(*log, {topic, "k", "v", {}, {}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().kind == error_kind::not_found);
  CHECK(r.err().code == "unknown_topic");
  auto topics = log->list_topics();
  REQUIRE(topics.ok());
  for (const auto& t : *topics) CHECK(t.name != topic);
}

TEST_CASE("kafka: a group member polls, commits, seeks and hears about rebalances", "[kafka]") {
  auto log = open_live();
  const std::string topic = create_topic(*log, "group", 2);
  const std::string group = unique_name("group");
  for (int i = 0; i < 10; ++i)
    REQUIRE(produce_sync(*log, {topic, "key-" + std::to_string(i), "v" + std::to_string(i), {}, {}}).ok());

  std::vector<std::vector<topic_partition>> assigned;
  std::vector<std::vector<topic_partition>> revoked;
  consumer_config cfg{group, {topic}, offset_reset::earliest, {}};
  cfg.listener.on_assigned = [&](const std::vector<topic_partition>& p) { assigned.push_back(p); };
  cfg.listener.on_revoked = [&](const std::vector<topic_partition>& p) { revoked.push_back(p); };
  std::vector<record> got;
  {
    auto c = log->subscribe(cfg);
    REQUIRE(c.ok());
    const auto end = std::chrono::steady_clock::now() + 60s;
    while (got.size() < 10 && std::chrono::steady_clock::now() < end) {
      auto batch = (*c)->poll(500ms, 3);
      REQUIRE(batch.ok());
      CHECK(batch->size() <= 3);
      for (auto& r : *batch) got.push_back(std::move(r));
    }
    REQUIRE(got.size() == 10);
    REQUIRE(assigned.size() == 1);
    CHECK(assigned[0] == std::vector<topic_partition>{{topic, 0}, {topic, 1}});
    CHECK((*c)->assignment() == assigned[0]);

    // Commit the end of partition 0 and the start of partition 1.
    std::int64_t end0 = 0;
    for (const auto& r : got) {
      if (r.partition == 0) end0 = std::max(end0, r.offset + 1);
    }
    REQUIRE((*c)->commit({{topic, 0, end0}, {topic, 1, 0}}).ok());
    auto committed = log->committed_offsets(group, {{topic, 0}, {topic, 1}});
    REQUIRE(committed.ok());
    REQUIRE(committed->size() == 2);
    CHECK((*committed)[0] == std::optional<std::int64_t>(end0));
    CHECK((*committed)[1] == std::optional<std::int64_t>(0));

    // Replay partition 0 from its first record.
    REQUIRE((*c)->seek({topic, 0, 0}).ok());
    std::vector<record> replay;
    const auto end2 = std::chrono::steady_clock::now() + 60s;
    while (replay.empty() && std::chrono::steady_clock::now() < end2) {
      auto batch = (*c)->poll(500ms, 100);
      REQUIRE(batch.ok());
      replay = std::move(batch).value();
    }
    REQUIRE_FALSE(replay.empty());
    CHECK(replay[0].partition == 0);
    CHECK(replay[0].offset == 0);

    auto not_mine = (*c)->seek({topic, 7, 0});
    REQUIRE_FALSE(not_mine.ok());
    CHECK(not_mine.err().kind == error_kind::not_found);
    CHECK(revoked.empty());
  }  // leaving the group revokes, on this thread, before the consumer is gone
  REQUIRE(revoked.size() == 1);
  CHECK(revoked[0] == assigned[0]);

  auto never = log->committed_offsets(unique_name("nogroup"), {{topic, 0}});
  REQUIRE(never.ok());
  CHECK((*never)[0] == std::nullopt);

  // A new member of the group resumes from the commits: partition 0 is done, partition 1 starts at 0.
  auto c2 = log->subscribe({group, {topic}, offset_reset::latest, {}});
  REQUIRE(c2.ok());
  std::size_t want1 = 0;
  for (const auto& r : got) want1 += r.partition == 1 ? 1 : 0;
  std::vector<record> resumed;
  const auto end3 = std::chrono::steady_clock::now() + 60s;
  while (resumed.size() < want1 && std::chrono::steady_clock::now() < end3) {
    auto batch = (*c2)->poll(500ms, 100);
    REQUIRE(batch.ok());
    for (auto& r : *batch) resumed.push_back(std::move(r));
  }
  REQUIRE(resumed.size() == want1);
  for (const auto& r : resumed) CHECK(r.partition == 1);
}

TEST_CASE("kafka: a reader has no group and reads only what it was given", "[kafka]") {
  auto log = open_live();
  const std::string topic = create_topic(*log, "reader", 1);
  for (int i = 0; i < 5; ++i) REQUIRE(produce_sync(*log, {topic, "k", "v" + std::to_string(i), {}, {}}).ok());
  auto reader = log->open_reader({{topic, 0, 2}});
  REQUIRE(reader.ok());
  CHECK((*reader)->assignment() == std::vector<topic_partition>{{topic, 0}});
  auto commit = (*reader)->commit({{topic, 0, 3}});
  REQUIRE_FALSE(commit.ok());
  CHECK(commit.err().code == "no_group");
  CHECK(commit.err().kind == error_kind::reject);

  std::vector<record> got;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (got.size() < 3 && std::chrono::steady_clock::now() < end) {
    auto batch = (*reader)->poll(500ms, 100);
    REQUIRE(batch.ok());
    for (auto& r : *batch) got.push_back(std::move(r));
  }
  REQUIRE(got.size() == 3);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].offset == static_cast<std::int64_t>(i + 2));
    CHECK(got[i].value == "v" + std::to_string(i + 2));
  }

  auto bad = log->open_reader({{topic, 0, -5}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().kind == error_kind::reject);
}

TEST_CASE("kafka: check_ready and flush on a live broker", "[kafka]") {
  auto log = open_live();
  const std::string topic = create_topic(*log, "flush", 2);
  completions done;
  for (int i = 0; i < 50; ++i) log->produce({topic, "k" + std::to_string(i), "v", {}, {}}, done.slot(i));
  REQUIRE(log->flush(30s).ok());
  // flush returned: every produce issued before it has completed.
  const auto results = done.results();
  REQUIRE(results.size() == 50);
  for (const auto& [i, r] : results) CHECK(r.ok());
  CHECK(log->check_ready(5s).ok());
}

}  // namespace
}  // namespace passerelle::log

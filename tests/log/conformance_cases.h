#pragma once
// The event_log conformance suite: backend-neutral test cases, written once and run against every backend
// (tests/log/embedded_test.cpp for RocksDB, tests/log_kafka/ for Kafka), so both provably behave alike.
//
// How to use it: derive a fixture from `log_fixture`, default-constructible (Catch2 makes a fresh one per test
// case), then register the cases in ONE .cpp of your test executable:
//
//   struct my_fixture : passerelle::log::conformance::log_fixture { ... };
//   PASSERELLE_LOG_CONFORMANCE_CASES(my_fixture, "kafka", "[kafka][conformance]")
//
// Rules the cases follow, so that they hold on a shared, persistent Kafka cluster too: every topic and group name
// is fresh (unique per process, run and test); every wait is on a condition with a deadline (fixture.patience());
// nothing sleeps; nothing depends on how fast a backend is; Catch2 assertions run on the test's thread only
// (worker threads just collect what they saw).

#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "broker/core/murmur2.h"
#include "broker/log/event_log.h"

namespace passerelle::log::conformance {

// What a backend provides to the suite. A test holds at most one log from a fixture at a time.
struct log_fixture {
  virtual ~log_fixture() = default;

  // A log on the fixture's store (the same store for every call within one test case).
  virtual std::unique_ptr<event_log> open() = 0;

  // A log on the fixture's store whose in-memory produce queue holds at most `max_queued_records` records, so
  // the backpressure case can fill it.
  virtual std::unique_ptr<event_log> open_with_queue_bound(std::size_t max_queued_records) = 0;

  // How long any single wait of the suite may last before the case fails (a bound, not an expectation).
  virtual std::chrono::milliseconds patience() const { return std::chrono::seconds(30); }

  // A name no other test, run or process has used (topics persist on a Kafka cluster).
  virtual std::string unique_name(const std::string& what) {
    static std::atomic<std::uint64_t> counter{0};
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return "conformance." + what + "." + std::to_string(::getpid()) + "." + std::to_string(now) + "." +
           std::to_string(++counter);
  }

  // Creates a fresh topic with `partitions` partitions through `log` and returns its name once it is usable.
  // Backends whose metadata propagates asynchronously override this to wait for it (with patience()).
  virtual std::string fresh_topic(event_log& log, std::int32_t partitions) {
    std::string name = unique_name("topic");
    auto created = log.create_topics({topic_spec{name, partitions, 1, {}}});
    REQUIRE(created.ok());
    return name;
  }

  virtual std::string fresh_group() { return unique_name("group"); }
};

// ---- helpers -------------------------------------------------------------------------------------------------

// Collects produce completions from any thread; counts completions per request index to prove "exactly once".
class completions {
 public:
  explicit completions(std::size_t n) : results_(n), calls_(n) {}

  produce_callback callback(std::size_t index) {
    return [this, index](result<produce_ack> r) {
      {
        std::lock_guard lk(mu_);
        ++calls_[index];
        results_[index].emplace(std::move(r));
        ++done_;
      }
      cv_.notify_all();
    };
  }

  // True when every request has completed at least once before `deadline`.
  bool wait_all(std::chrono::milliseconds patience) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, patience, [&] { return done_ >= results_.size(); });
  }

  std::size_t calls(std::size_t index) {
    std::lock_guard lk(mu_);
    return calls_[index];
  }
  bool completed(std::size_t index) { return calls(index) > 0; }
  result<produce_ack> get(std::size_t index) {
    std::lock_guard lk(mu_);
    return *results_[index];
  }
  std::size_t size() const { return results_.size(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<result<produce_ack>>> results_;
  std::vector<std::size_t> calls_;
  std::size_t done_ = 0;
};

inline produce_request make_request(const std::string& topic, std::string key, std::string value) {
  produce_request r;
  r.topic = topic;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

// Produces every request and waits for all completions; every one must be an ack.
inline std::vector<produce_ack> produce_all(log_fixture& fx, event_log& log, std::vector<produce_request> requests) {
  completions done(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) log.produce(std::move(requests[i]), done.callback(i));
  REQUIRE(done.wait_all(fx.patience()));
  std::vector<produce_ack> acks;
  for (std::size_t i = 0; i < done.size(); ++i) {
    auto r = done.get(i);
    INFO("produce " << i << ": " << (r.ok() ? std::string() : r.err().code + " " + r.err().message));
    REQUIRE(r.ok());
    acks.push_back(*r);
  }
  return acks;
}

// Polls until at least `count` records arrived or patience ran out; returns what arrived.
inline std::vector<record> poll_until(log_fixture& fx, consumer& c, std::size_t count) {
  std::vector<record> out;
  const auto deadline = std::chrono::steady_clock::now() + fx.patience();
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto r = c.poll(std::chrono::milliseconds(200), 500);
    REQUIRE(r.ok());
    for (auto& rec : *r) out.push_back(std::move(rec));
  }
  return out;
}

inline std::unique_ptr<consumer> subscribe(event_log& log, const std::string& group, const std::string& topic,
                                           rebalance_listener listener = {}) {
  auto c = log.subscribe(consumer_config{group, {topic}, offset_reset::earliest, std::move(listener)});
  REQUIRE(c.ok());
  return std::move(c).value();
}

// ---- the cases -----------------------------------------------------------------------------------------------

// Many keys, interleaved: each key stays on kafka_partition_for_key's partition and is consumed in produce order.
inline void per_key_order(log_fixture& fx) {
  auto log = fx.open();
  constexpr std::int32_t partitions = 6;
  constexpr int keys = 40;
  constexpr int per_key = 25;
  const auto topic = fx.fresh_topic(*log, partitions);
  std::vector<produce_request> reqs;
  for (int seq = 0; seq < per_key; ++seq) {
    for (int k = 0; k < keys; ++k) {
      reqs.push_back(make_request(topic, "key-" + std::to_string(k), std::to_string(seq)));
    }
  }
  const auto acks = produce_all(fx, *log, reqs);
  std::map<std::string, std::int64_t> last_offset;
  for (std::size_t i = 0; i < acks.size(); ++i) {
    const auto& key = reqs[i].key;
    CHECK(acks[i].partition == core::kafka_partition_for_key(key, partitions));
    if (last_offset.contains(key)) CHECK(acks[i].offset > last_offset[key]);
    last_offset[key] = acks[i].offset;
  }

  auto c = subscribe(*log, fx.fresh_group(), topic);
  const auto recs = poll_until(fx, *c, reqs.size());
  REQUIRE(recs.size() == reqs.size());
  std::map<std::string, int> next_seq;
  for (const auto& r : recs) {
    INFO("key " << r.key << " offset " << r.offset);
    CHECK(r.topic == topic);
    CHECK(r.partition == core::kafka_partition_for_key(r.key, partitions));
    CHECK(r.value == std::to_string(next_seq[r.key]));
    next_seq[r.key] += 1;
  }
  CHECK(next_seq.size() == static_cast<std::size_t>(keys));
  for (const auto& [key, n] : next_seq) CHECK(n == per_key);
}

// Commit, close the member, and a new member of the same group starts exactly at the committed offset.
inline void resume_after_commit(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 1);
  const auto group = fx.fresh_group();
  std::vector<produce_request> reqs;
  reqs.reserve(10);
  for (int i = 0; i < 10; ++i) reqs.push_back(make_request(topic, "same-key", "v" + std::to_string(i)));
  const auto acks = produce_all(fx, *log, reqs);

  std::int64_t committed = 0;
  {
    auto first = subscribe(*log, group, topic);
    const auto recs = poll_until(fx, *first, 4);
    REQUIRE(recs.size() >= 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(recs[i].value == "v" + std::to_string(i));
    committed = recs[3].offset + 1;
    REQUIRE(first->commit({topic_partition_offset{topic, 0, committed}}).ok());
  }  // the first member leaves without committing anything more
  auto stored = log->committed_offsets(group, {topic_partition{topic, 0}});
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 1);
  CHECK((*stored)[0] == std::optional<std::int64_t>(committed));

  auto second = subscribe(*log, group, topic);
  const auto rest = poll_until(fx, *second, 6);
  REQUIRE(rest.size() == 6);  // no gap, no duplicate: exactly v4..v9
  for (std::size_t i = 0; i < rest.size(); ++i) {
    CHECK(rest[i].value == "v" + std::to_string(i + 4));
    CHECK(rest[i].offset == acks[i + 4].offset);
  }
}

// Replay: seek back to the first offset, find offsets by timestamp, read from an offset with a group-less reader.
inline void replay_from_beginning(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 1);
  const std::int64_t base =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<produce_request> reqs;
  for (int i = 0; i < 5; ++i) {
    auto r = make_request(topic, "k", "r" + std::to_string(i));
    r.timestamp_ms = base + std::int64_t{i} * 1000;
    r.hdrs = {header{"event-id", "e" + std::to_string(i)}};
    reqs.push_back(std::move(r));
  }
  const auto acks = produce_all(fx, *log, reqs);
  for (int i = 0; i < 5; ++i) CHECK(acks[static_cast<std::size_t>(i)].timestamp_ms == base + std::int64_t{i} * 1000);

  auto c = subscribe(*log, fx.fresh_group(), topic);
  const auto first_pass = poll_until(fx, *c, 5);
  REQUIRE(first_pass.size() == 5);
  REQUIRE(c->seek(topic_partition_offset{topic, 0, acks[0].offset}).ok());
  const auto second_pass = poll_until(fx, *c, 5);
  REQUIRE(second_pass.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(second_pass[i].offset == first_pass[i].offset);
    CHECK(second_pass[i].value == first_pass[i].value);
    CHECK(second_pass[i].timestamp_ms == base + static_cast<std::int64_t>(i) * 1000);
    CHECK(second_pass[i].hdrs == reqs[i].hdrs);
  }

  const topic_partition tp{topic, 0};
  auto at = [&](std::int64_t ts) {
    auto r = log->offset_for_time(tp, ts);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(at(base - 3'600'000) == acks[0].offset);
  CHECK(at(base) == acks[0].offset);
  CHECK(at(base + 1500) == acks[2].offset);
  CHECK(at(base + 2000) == acks[2].offset);
  CHECK(at(base + 4000) == acks[4].offset);
  auto wm = log->get_watermarks(tp);
  REQUIRE(wm.ok());
  CHECK(at(base + 3'600'000) == wm->high);

  // A group-less reader from the offset found by time: r2, r3, r4. It has no group, so it cannot commit.
  auto reader = log->open_reader({topic_partition_offset{topic, 0, at(base + 2000)}});
  REQUIRE(reader.ok());
  const auto tail = poll_until(fx, **reader, 3);
  REQUIRE(tail.size() == 3);
  CHECK(tail[0].value == "r2");
  CHECK(tail[2].value == "r4");
  CHECK_FALSE((*reader)->commit({topic_partition_offset{topic, 0, tail[2].offset + 1}}).ok());
}

// Several threads produce at once: everything is acknowledged and consumed exactly once.
inline void concurrent_producers(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 4);
  constexpr std::size_t threads = 4;
  constexpr std::size_t per_thread = 200;
  completions done(threads * per_thread);
  std::vector<std::thread> producers;
  producers.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_thread; ++i) {
        const std::size_t index = t * per_thread + i;
        log->produce(
            make_request(topic, "t" + std::to_string(t) + "-k" + std::to_string(i % 10), std::to_string(index)),
            done.callback(index));
      }
    });
  }
  for (auto& p : producers) p.join();
  REQUIRE(done.wait_all(fx.patience()));
  for (std::size_t i = 0; i < done.size(); ++i) {
    INFO("produce " << i);
    CHECK(done.get(i).ok());
  }

  auto c = subscribe(*log, fx.fresh_group(), topic);
  const auto recs = poll_until(fx, *c, done.size());
  CHECK(recs.size() == done.size());
  std::set<std::string> seen;
  for (const auto& r : recs) CHECK(seen.insert(r.value).second);
  CHECK(seen.size() == done.size());
}

// Two members of one group, each on its own thread: they split the partitions and together see every record
// exactly once (each commits what it consumed when a partition is revoked).
inline void two_members_split_partitions(log_fixture& fx) {
  auto log = fx.open();
  constexpr std::int32_t partitions = 4;
  const auto topic = fx.fresh_topic(*log, partitions);
  const auto group = fx.fresh_group();
  std::vector<produce_request> reqs;
  reqs.reserve(200);
  for (int i = 0; i < 200; ++i) reqs.push_back(make_request(topic, "key-" + std::to_string(i), std::to_string(i)));
  produce_all(fx, *log, reqs);

  struct member_run {
    std::vector<record> seen;
    std::vector<topic_partition> final_assignment;
    std::vector<std::string> errors;
  };
  std::array<member_run, 2> runs;
  std::array<std::atomic<std::size_t>, 2> assigned{};
  std::atomic<std::size_t> total{0};
  std::atomic<int> finished{0};
  // Nobody leaves before both are done: a member leaving hands its partitions back from their last commit, and
  // the records it consumed after that commit would (rightly, at-least-once) be delivered again.
  std::latch leave_together(2);
  const auto deadline = std::chrono::steady_clock::now() + fx.patience();

  auto run_member = [&](std::size_t me) {
    auto& run = runs[me];
    std::map<topic_partition, std::int64_t> next;  // what this member consumed, per partition
    consumer* self = nullptr;
    rebalance_listener listener;
    listener.on_revoked = [&](const std::vector<topic_partition>& tps) {
      std::vector<topic_partition_offset> offsets;
      for (const auto& tp : tps) {
        if (auto it = next.find(tp); it != next.end()) offsets.push_back({tp.topic, tp.partition, it->second});
      }
      if (!offsets.empty()) {
        if (auto r = self->commit(offsets); !r) run.errors.push_back("commit on revoke: " + r.err().message);
      }
    };
    auto sub = log->subscribe(consumer_config{group, {topic}, offset_reset::earliest, listener});
    if (!sub) {
      run.errors.push_back("subscribe: " + sub.err().message);
      ++finished;
      leave_together.arrive_and_wait();
      return;
    }
    auto c = std::move(sub).value();
    self = c.get();
    bool done_here = false;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c->poll(std::chrono::milliseconds(100), 50);
      if (!r) {
        run.errors.push_back("poll: " + r.err().message);
        break;
      }
      for (auto& rec : *r) {
        next[topic_partition{rec.topic, rec.partition}] = rec.offset + 1;
        run.seen.push_back(std::move(rec));
        ++total;
      }
      assigned[me] = c->assignment().size();
      const bool settled = total.load() >= reqs.size() && assigned[0] > 0 && assigned[1] > 0 &&
                           assigned[0] + assigned[1] == static_cast<std::size_t>(partitions);
      if (settled && !done_here) {
        done_here = true;
        run.final_assignment = c->assignment();
        ++finished;
      }
      if (finished.load() == 2) break;  // keep polling (taking part in the group) until both are done
    }
    if (!done_here) ++finished;
    leave_together.arrive_and_wait();
  };
  std::thread a(run_member, 0);
  std::thread b(run_member, 1);
  a.join();
  b.join();

  for (const auto& run : runs) {
    for (const auto& e : run.errors) FAIL_CHECK(e);
  }
  std::set<std::string> values;
  std::size_t count = 0;
  for (const auto& run : runs) {
    for (const auto& rec : run.seen) {
      INFO("duplicate " << rec.partition << "@" << rec.offset);
      CHECK(values.insert(rec.value).second);
      ++count;
    }
  }
  CHECK(count == reqs.size());
  CHECK(values.size() == reqs.size());
  REQUIRE_FALSE(runs[0].final_assignment.empty());
  REQUIRE_FALSE(runs[1].final_assignment.empty());
  std::set<topic_partition> all;
  for (const auto& run : runs) {
    for (const auto& tp : run.final_assignment) CHECK(all.insert(tp).second);  // disjoint
  }
  CHECK(all.size() == static_cast<std::size_t>(partitions));
}

// Past the queue bound produce() fails at once with retry/"queue_full" (a value, completed before produce()
// returns); everything that was accepted still completes and is stored.
inline void backpressure_queue_full(log_fixture& fx) {
  auto log = fx.open_with_queue_bound(8);
  const auto topic = fx.fresh_topic(*log, 1);
  constexpr std::size_t n = 20'000;
  completions done(n);
  std::vector<bool> completed_inline(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    log->produce(make_request(topic, "k" + std::to_string(i % 13), std::to_string(i)), done.callback(i));
    completed_inline[i] = done.completed(i);
  }
  REQUIRE(done.wait_all(fx.patience()));
  REQUIRE(log->flush(fx.patience()).ok());
  std::size_t full = 0;
  std::set<std::int64_t> offsets;
  for (std::size_t i = 0; i < n; ++i) {
    INFO("produce " << i);
    CHECK(done.calls(i) == 1);
    auto r = done.get(i);
    if (r.ok()) {
      CHECK(offsets.insert(r->offset).second);
    } else {
      CHECK(r.err().kind == error_kind::retry);
      CHECK(r.err().code == "queue_full");
      CHECK(completed_inline[i]);  // refused synchronously: the caller never waits for room
      ++full;
    }
  }
  CHECK(full > 0);
  CHECK(offsets.size() + full == n);
  auto wm = log->get_watermarks(topic_partition{topic, 0});
  REQUIRE(wm.ok());
  CHECK(static_cast<std::size_t>(wm->high - wm->low) == offsets.size());
}

// Every produce() gets exactly one completion, whatever happens to it: acked, refused for bad input, unknown
// topic, or still pending when the log is destroyed.
inline void exactly_one_completion(log_fixture& fx) {
  constexpr std::size_t n = 600;
  completions done(n);
  std::string topic;
  const std::string missing = fx.unique_name("missing");
  {
    auto log = fx.open();
    topic = fx.fresh_topic(*log, 3);
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 7 == 3) {
        log->produce(make_request(topic, "", "no key"), done.callback(i));
      } else if (i % 11 == 5) {
        log->produce(make_request(missing, "k", "unknown topic"), done.callback(i));
      } else {
        log->produce(make_request(topic, "k" + std::to_string(i), std::to_string(i)), done.callback(i));
      }
    }
  }                                                      // destroyed with produces possibly still pending
  REQUIRE(done.wait_all(std::chrono::milliseconds(0)));  // the destructor completed every one
  for (std::size_t i = 0; i < n; ++i) {
    INFO("produce " << i);
    CHECK(done.calls(i) == 1);
    auto r = done.get(i);
    if (i % 7 == 3) {
      REQUIRE_FALSE(r.ok());
      CHECK(r.err().kind == error_kind::reject);
      CHECK(r.err().code == "invalid");
    } else if (i % 11 == 5) {
      REQUIRE_FALSE(r.ok());
      CHECK(r.err().kind == error_kind::not_found);
      CHECK(r.err().code == "unknown_topic");
    } else if (!r.ok()) {
      CHECK(r.err().kind == error_kind::retry);
      CHECK(r.err().code == "shutting_down");
    }
  }
}

inline void unknown_topic(log_fixture& fx) {
  auto log = fx.open();
  const std::string missing = fx.unique_name("missing");
  completions done(1);
  log->produce(make_request(missing, "k", "v"), done.callback(0));
  REQUIRE(done.wait_all(fx.patience()));
  auto r = done.get(0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().kind == error_kind::not_found);
  CHECK(r.err().code == "unknown_topic");
  CHECK_FALSE(log->get_watermarks(topic_partition{missing, 0}).ok());
}

// Watermarks follow the acks; create_topics leaves an existing topic as it is; list_topics shows it.
inline void watermarks_follow_acks(log_fixture& fx) {
  auto log = fx.open();
  constexpr std::int32_t partitions = 3;
  const auto topic = fx.fresh_topic(*log, partitions);
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto wm = log->get_watermarks(topic_partition{topic, p});
    REQUIRE(wm.ok());
    CHECK(wm->low == wm->high);
  }
  std::vector<produce_request> reqs;
  reqs.reserve(30);
  for (int i = 0; i < 30; ++i) reqs.push_back(make_request(topic, "key" + std::to_string(i), "v"));
  const auto acks = produce_all(fx, *log, reqs);
  std::map<std::int32_t, std::int64_t> count;
  std::map<std::int32_t, std::int64_t> max_offset;
  for (const auto& a : acks) {
    count[a.partition] += 1;
    max_offset[a.partition] = std::max(max_offset[a.partition], a.offset);
  }
  for (const auto& [p, c] : count) {
    auto wm = log->get_watermarks(topic_partition{topic, p});
    REQUIRE(wm.ok());
    CHECK(wm->high - wm->low == c);
    CHECK(wm->high == max_offset[p] + 1);
  }

  REQUIRE(log->create_topics({topic_spec{topic, 7, 1, {}}}).ok());  // exists: left as it is
  auto listed = log->list_topics();
  REQUIRE(listed.ok());
  const auto it = std::find_if(listed->begin(), listed->end(), [&](const auto& t) { return t.name == topic; });
  REQUIRE(it != listed->end());
  CHECK(it->partitions == partitions);
}

// committed_offsets: nothing for a fresh group, then exactly what was committed, per partition.
inline void committed_offsets_per_partition(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 2);
  const auto group = fx.fresh_group();
  const std::vector<topic_partition> tps = {{topic, 0}, {topic, 1}};
  auto before = log->committed_offsets(group, tps);
  REQUIRE(before.ok());
  REQUIRE(before->size() == 2);
  CHECK_FALSE((*before)[0].has_value());
  CHECK_FALSE((*before)[1].has_value());

  // Find a key of partition 0 so that only partition 0 gets a commit.
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    if (core::kafka_partition_for_key("k" + std::to_string(i), 2) == 0) key = "k" + std::to_string(i);
  }
  std::vector<produce_request> reqs;
  reqs.reserve(3);
  for (int i = 0; i < 3; ++i) reqs.push_back(make_request(topic, key, std::to_string(i)));
  const auto acks = produce_all(fx, *log, reqs);
  auto c = subscribe(*log, group, topic);
  const auto recs = poll_until(fx, *c, 3);
  REQUIRE(recs.size() == 3);
  REQUIRE(c->commit({topic_partition_offset{topic, 0, acks[2].offset + 1}}).ok());
  auto after = log->committed_offsets(group, tps);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 2);
  CHECK((*after)[0] == std::optional<std::int64_t>(acks[2].offset + 1));
  CHECK_FALSE((*after)[1].has_value());
}

// ---- transactions (consume-transform-produce, exactly once) ---------------------------------------------------

inline std::unique_ptr<transactional_producer> open_producer(event_log& log, const std::string& transactional_id) {
  transactional_producer_config config;
  config.transactional_id = transactional_id;
  auto p = log.open_transactional_producer(config);
  INFO((p.ok() ? std::string() : p.err().code + ": " + p.err().message));
  REQUIRE(p.ok());
  return std::move(p).value();
}

inline std::string describe(const result<void>& r) { return r.ok() ? "ok" : r.err().code + ": " + r.err().message; }

// Polls until at least one record came (at most `max`), or patience ran out.
inline std::vector<record> poll_some(log_fixture& fx, consumer& c, std::size_t max) {
  const auto deadline = std::chrono::steady_clock::now() + fx.patience();
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.poll(std::chrono::milliseconds(200), max);
    REQUIRE(r.ok());
    if (!r->empty()) return std::move(r).value();
  }
  return {};
}

// For each partition of `recs`, the offset after its last record (what a consumer commits).
inline std::vector<topic_partition_offset> next_offsets(const std::vector<record>& recs) {
  std::map<topic_partition, std::int64_t> next;
  for (const auto& r : recs) {
    auto& n = next[topic_partition{r.topic, r.partition}];
    n = std::max(n, r.offset + 1);
  }
  std::vector<topic_partition_offset> out;
  for (const auto& [tp, off] : next) out.push_back(topic_partition_offset{tp.topic, tp.partition, off});
  return out;
}

// Committed records become visible with the offsets their completions reported; aborted ones never do (to a
// group member nor to a reader), and their completions say "aborted".
inline void transactions_commit_visible_abort_invisible(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 2);
  auto p = open_producer(*log, fx.unique_name("txn"));

  auto run = [&](const std::string& prefix, int first, int n, bool commit) {
    completions done(static_cast<std::size_t>(n));
    REQUIRE(p->begin().ok());
    for (int i = 0; i < n; ++i) {
      p->produce(make_request(topic, "k" + std::to_string(first + i), prefix + std::to_string(first + i)),
                 done.callback(static_cast<std::size_t>(i)));
    }
    for (int i = 0; i < n; ++i) CHECK_FALSE(done.completed(static_cast<std::size_t>(i)));  // only when it ends
    const auto ended = commit ? p->commit(fx.patience()) : p->abort(fx.patience());
    INFO(describe(ended));
    REQUIRE(ended.ok());
    std::map<std::string, produce_ack> acks;
    for (int i = 0; i < n; ++i) {
      const auto idx = static_cast<std::size_t>(i);
      REQUIRE(done.calls(idx) == 1);  // ran inside commit()/abort(), exactly once
      auto r = done.get(idx);
      if (commit) {
        REQUIRE(r.ok());
        acks.emplace(prefix + std::to_string(first + i), *r);
      } else {
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().kind == error_kind::retry);
        CHECK(r.err().code == "aborted");
      }
    }
    return acks;
  };
  auto acks = run("committed-", 0, 4, true);
  run("aborted-", 0, 3, false);
  acks.merge(run("committed-", 4, 2, true));
  REQUIRE(acks.size() == 6);

  auto c = subscribe(*log, fx.fresh_group(), topic);
  auto recs = poll_until(fx, *c, 6);
  auto more = c->poll(std::chrono::milliseconds(500), 100);  // nothing else may come
  REQUIRE(more.ok());
  for (auto& r : *more) recs.push_back(std::move(r));
  std::set<std::string> seen;
  for (const auto& r : recs) {
    INFO("value " << r.value);
    REQUIRE(acks.contains(r.value));
    CHECK(r.partition == acks.at(r.value).partition);
    CHECK(r.offset == acks.at(r.value).offset);
    CHECK(seen.insert(r.value).second);
  }
  CHECK(seen.size() == 6);

  // A group-less reader reads committed only too.
  auto reader = log->open_reader({topic_partition_offset{topic, 0, 0}, topic_partition_offset{topic, 1, 0}});
  REQUIRE(reader.ok());
  auto read = poll_until(fx, **reader, 6);
  auto read_more = (*reader)->poll(std::chrono::milliseconds(500), 100);
  REQUIRE(read_more.ok());
  CHECK(read.size() + read_more->size() == 6);
  for (const auto& r : read) CHECK(r.value.starts_with("committed-"));
}

// The consume-transform-produce loop: each input record gives one output record, in a transaction that also
// commits the input offsets. An instance that dies mid-transaction (producer and consumer destroyed, transaction
// never committed) and its successor with the same transactional id together produce every output exactly once,
// and the group's offsets end at the input's end.
inline void transactions_consume_transform_produce(log_fixture& fx) {
  auto log = fx.open();
  const auto input = fx.fresh_topic(*log, 2);
  const auto output = fx.fresh_topic(*log, 2);
  const auto group = fx.fresh_group();
  const auto id = fx.unique_name("txn");
  constexpr int n = 20;
  std::vector<produce_request> reqs;
  for (int i = 0; i < n; ++i) reqs.push_back(make_request(input, "s" + std::to_string(i % 5), std::to_string(i)));
  produce_all(fx, *log, reqs);

  // One step of the loop: poll up to `max` inputs, produce their outputs and the input offsets in a transaction;
  // commit it or not. Returns how many inputs it covered. Completions outlive the producers (they may run in a
  // producer's destructor).
  std::deque<completions> kept;
  auto step = [&](transactional_producer& p, consumer& c, std::size_t max, bool commit) {
    auto in = poll_some(fx, c, max);
    REQUIRE_FALSE(in.empty());
    REQUIRE(p.begin().ok());
    completions& done = kept.emplace_back(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      p.produce(make_request(output, in[i].key, "out-" + in[i].value), done.callback(i));
    }
    const auto sent = p.send_offsets(c, next_offsets(in));
    INFO(describe(sent));
    REQUIRE(sent.ok());
    if (commit) {
      const auto committed = p.commit(fx.patience());
      INFO(describe(committed));
      REQUIRE(committed.ok());
      for (std::size_t i = 0; i < in.size(); ++i) CHECK(done.get(i).ok());
    }
    return in.size();
  };

  std::size_t covered = 0;
  {
    auto p = open_producer(*log, id);
    auto c = subscribe(*log, group, input);
    covered += step(*p, *c, 5, true);
    step(*p, *c, 5, false);  // outputs produced and offsets sent, then the instance "dies"
  }
  for (std::size_t i = 0; i < kept.back().size(); ++i) {
    REQUIRE(kept.back().calls(i) == 1);  // the destroyed producer's open transaction was aborted
    CHECK(kept.back().get(i).err().code == "aborted");
  }
  {
    auto p = open_producer(*log, id);
    auto c = subscribe(*log, group, input);
    const auto deadline = std::chrono::steady_clock::now() + fx.patience();
    while (covered < static_cast<std::size_t>(n) && std::chrono::steady_clock::now() < deadline) {
      covered += step(*p, *c, 7, true);
    }
    REQUIRE(covered == static_cast<std::size_t>(n));  // the uncommitted step's inputs came again, nothing more
  }

  auto check = subscribe(*log, fx.fresh_group(), output);
  auto outs = poll_until(fx, *check, n);
  auto more = check->poll(std::chrono::milliseconds(500), 100);
  REQUIRE(more.ok());
  for (auto& r : *more) outs.push_back(std::move(r));
  std::map<std::string, int> count;
  for (const auto& r : outs) count[r.value] += 1;
  CHECK(outs.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) CHECK(count["out-" + std::to_string(i)] == 1);

  const std::vector<topic_partition> tps{{input, 0}, {input, 1}};
  auto committed = log->committed_offsets(group, tps);
  REQUIRE(committed.ok());
  for (std::size_t i = 0; i < tps.size(); ++i) {
    auto wm = log->get_watermarks(tps[i]);
    REQUIRE(wm.ok());
    if (wm->high == 0) continue;
    CHECK((*committed)[i] == std::optional<std::int64_t>(wm->high));
  }
}

// Opening a producer with the same transactional id fences the earlier one: its commit fails fatal/"fenced" (its
// records never become visible, their completions say so) and so does everything it tries later.
inline void transactions_fencing(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 1);
  const auto id = fx.unique_name("txn");
  auto zombie = open_producer(*log, id);
  REQUIRE(zombie->begin().ok());
  completions zombie_done(1);
  zombie->produce(make_request(topic, "k", "zombie"), zombie_done.callback(0));

  auto successor = open_producer(*log, id);
  const auto r = zombie->commit(fx.patience());
  INFO(describe(r));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().kind == error_kind::fatal);
  CHECK(r.err().code == "fenced");
  REQUIRE(zombie_done.calls(0) == 1);
  CHECK_FALSE(zombie_done.get(0).ok());
  const auto again = zombie->begin();
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == "fenced");

  REQUIRE(successor->begin().ok());
  completions done(1);
  successor->produce(make_request(topic, "k", "successor"), done.callback(0));
  const auto committed = successor->commit(fx.patience());
  INFO(describe(committed));
  REQUIRE(committed.ok());
  REQUIRE(done.get(0).ok());

  auto c = subscribe(*log, fx.fresh_group(), topic);
  auto recs = poll_until(fx, *c, 1);
  auto more = c->poll(std::chrono::milliseconds(500), 100);
  REQUIRE(more.ok());
  REQUIRE(recs.size() + more->size() == 1);
  CHECK(recs[0].value == "successor");
  CHECK(recs[0].offset == done.get(0)->offset);
}

// Calls in the wrong state, foreign consumers and a failed produce get clear errors; a transaction with a failed
// produce can only be aborted, after which the producer works again.
inline void transactions_misuse(log_fixture& fx) {
  auto log = fx.open();
  const auto topic = fx.fresh_topic(*log, 1);
  {
    auto bad = log->open_transactional_producer(transactional_producer_config{});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.err().code == "invalid_config");
  }
  auto p = open_producer(*log, fx.unique_name("txn"));
  completions outside(1);
  p->produce(make_request(topic, "k", "v"), outside.callback(0));
  REQUIRE(outside.calls(0) == 1);  // refused before produce() returned
  CHECK(outside.get(0).err().code == "no_transaction");
  CHECK(p->commit(fx.patience()).err().code == "no_transaction");
  CHECK(p->abort(fx.patience()).err().code == "no_transaction");

  REQUIRE(p->begin().ok());
  CHECK(p->begin().err().code == "transaction_open");
  CHECK(p->commit(fx.patience()).ok());  // an empty transaction commits

  REQUIRE(p->begin().ok());
  auto reader = log->open_reader({topic_partition_offset{topic, 0, 0}});
  REQUIRE(reader.ok());
  const auto foreign = p->send_offsets(**reader, {topic_partition_offset{topic, 0, 0}});
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.err().code == "foreign_consumer");

  // A record that cannot be written makes the transaction abortable, with the record's own error.
  completions failed(2);
  p->produce(make_request(topic, "k", "kept-out"), failed.callback(0));
  p->produce(make_request(fx.unique_name("missing"), "k", "v"), failed.callback(1));
  const auto commit = p->commit(fx.patience());
  INFO(describe(commit));
  REQUIRE_FALSE(commit.ok());
  CHECK(commit.err().kind == error_kind::retry);
  CHECK(commit.err().code == "abortable");
  REQUIRE(p->abort(fx.patience()).ok());
  REQUIRE(failed.calls(0) == 1);
  REQUIRE(failed.calls(1) == 1);
  CHECK(failed.get(0).err().code == "aborted");
  CHECK(failed.get(1).err().code == "unknown_topic");

  REQUIRE(p->begin().ok());
  completions good(1);
  p->produce(make_request(topic, "k", "after"), good.callback(0));
  REQUIRE(p->commit(fx.patience()).ok());
  REQUIRE(good.get(0).ok());
  auto c = subscribe(*log, fx.fresh_group(), topic);
  auto recs = poll_until(fx, *c, 1);
  auto more = c->poll(std::chrono::milliseconds(500), 100);
  REQUIRE(more.ok());
  REQUIRE(recs.size() + more->size() == 1);
  CHECK(recs[0].value == "after");
}

}  // namespace passerelle::log::conformance

// Registers every conformance case for `fixture_type` (derived from log_fixture), named "<name> conformance: ..."
// and tagged `tags` (e.g. "[embedded][conformance]").
#define PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, title, fn) \
  TEST_CASE_METHOD(fixture_type, name " conformance: " title, tags) { ::passerelle::log::conformance::fn(*this); }

#define PASSERELLE_LOG_CONFORMANCE_CASES(fixture_type, name, tags)                                                   \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "per-key order and partition", per_key_order)           \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "consumption resumes after the last commit",            \
                                   resume_after_commit)                                                              \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "replay by seek, by time and with a reader",            \
                                   replay_from_beginning)                                                            \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "concurrent producers", concurrent_producers)           \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "two members split the partitions",                     \
                                   two_members_split_partitions)                                                     \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "backpressure: queue_full as a value",                  \
                                   backpressure_queue_full)                                                          \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "exactly one completion per produce",                   \
                                   exactly_one_completion)                                                           \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "unknown topic", unknown_topic)                         \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "watermarks follow acks", watermarks_follow_acks)       \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "committed offsets per partition",                      \
                                   committed_offsets_per_partition)                                                  \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "transactions: committed visible, aborted never",       \
                                   transactions_commit_visible_abort_invisible)                                      \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "transactions: consume-transform-produce exactly once", \
                                   transactions_consume_transform_produce)                                           \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "transactions: a newer producer fences the older",      \
                                   transactions_fencing)                                                             \
  PASSERELLE_LOG_CONFORMANCE_CASE_(fixture_type, name, tags, "transactions: misuse and failed produces",             \
                                   transactions_misuse)

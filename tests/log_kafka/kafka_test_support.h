#pragma once
// Helpers of the Kafka backend tests: the broker address (from PASSERELLE_KAFKA_BOOTSTRAP; a test that needs a
// broker FAILS, never skips, when it is unset or unreachable), unique names, and waiting for produce
// completions on a condition with a deadline (never a sleep).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "broker/log/kafka/kafka_log.h"

namespace passerelle::log::kafka_test {

using namespace std::chrono_literals;

inline std::string bootstrap() {
  const char* v = std::getenv("PASSERELLE_KAFKA_BOOTSTRAP");
  if (v == nullptr || *v == '\0') {
    FAIL(
        "PASSERELLE_KAFKA_BOOTSTRAP is not set. These tests need a real Kafka broker: run "
        "`deploy/local/kafka.sh start` and export PASSERELLE_KAFKA_BOOTSTRAP=127.0.0.1:9092");
  }
  return v;
}

inline kafka_options live_options() {
  kafka_options o;
  o.bootstrap_servers = bootstrap();
  o.request_timeout = 15s;
  o.delivery_timeout = 30s;
  return o;
}

// Opens the backend on the live broker and checks that it answers; FAILs with the reason otherwise.
inline std::unique_ptr<event_log> open_live(const kafka_options& o = live_options()) {
  auto log = open_kafka_log(o);
  if (!log) FAIL("open_kafka_log: " << log.err().message);
  auto ready = (*log)->check_ready(10s);
  if (!ready) {
    FAIL("Kafka broker at " << o.bootstrap_servers
                            << " (PASSERELLE_KAFKA_BOOTSTRAP) is unreachable: " << ready.err().message);
  }
  return std::move(log).value();
}

// A name no other test run uses: the tests share one broker and never delete topics.
inline std::string unique_name(const std::string& what) {
  static std::atomic<int> counter{0};
  static const auto run = std::random_device{}();
  return "test." + what + "." + std::to_string(::getpid()) + "." + std::to_string(run % 100000) + "." +
         std::to_string(counter++);
}

inline std::string create_topic(event_log& log, const std::string& what, std::int32_t partitions) {
  std::string name = unique_name(what);
  auto r = log.create_topics({{name, partitions, 1, {}}});
  if (!r) FAIL("create_topics " << name << ": " << r.err().message);
  return name;
}

// Collects produce completions; wait_for() returns when `n` have arrived or the deadline passes.
class completions {
 public:
  produce_callback slot(int id) {
    return [this, id](result<produce_ack> r) {
      std::lock_guard lock(mu_);
      ++calls_[id];
      results_.insert_or_assign(id, std::move(r));
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds deadline = 60s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return results_.size() >= n; });
  }
  std::map<int, result<produce_ack>> results() {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::map<int, int> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, result<produce_ack>> results_;
  std::map<int, int> calls_;
};

// Produces one record and waits for its completion.
inline result<produce_ack> produce_sync(event_log& log, produce_request req) {
  completions c;
  log.produce(std::move(req), c.slot(0));
  if (!c.wait_for(1)) FAIL("produce completion never came");
  return c.results().at(0);
}

// Reads from `start` until `want` records came or the deadline passed.
inline std::vector<record> read_records(event_log& log, std::vector<topic_partition_offset> start, std::size_t want,
                                        std::chrono::milliseconds deadline = 60s) {
  auto reader = log.open_reader(std::move(start));
  if (!reader) FAIL("open_reader: " << reader.err().message);
  std::vector<record> out;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (out.size() < want && std::chrono::steady_clock::now() < end) {
    auto batch = (*reader)->poll(500ms, 1000);
    if (!batch) FAIL("poll: " << batch.err().message);
    for (auto& r : *batch) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace passerelle::log::kafka_test

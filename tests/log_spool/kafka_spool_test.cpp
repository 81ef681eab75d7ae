// The real thing: spooling_log over the Kafka backend, a broker of its own (deploy/local/kafka.sh on port
// 29492 with its own data and run dirs), stopped under load and started again. Every record acknowledged to a
// producer must be in the topic afterwards, in per-key order; duplicates are counted and must be explained by
// inner attempts that ended "timed out, possibly persisted" (spool_status::uncertain_total).
// FAILS (never skips) when the script, its jars or Java are missing. Bounded: every wait has a deadline.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <semaphore>
#include <sstream>
#include <thread>

#include "broker/log/kafka/kafka_log.h"
#include "broker/log/spool/spooling_log.h"
#include "tests/log/temp_dir.h"
#include "tests/log_spool/spool_test_support.h"

namespace passerelle::log {
namespace {

using namespace std::chrono_literals;
using namespace spool_test;
using testing::temp_dir;

constexpr int kafka_port = 29492;

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs deploy/local/kafka.sh with this test's own port, data dir and run dir. Lifecycle: owned by the test;
// its destructor stops the broker whatever happened (a failed REQUIRE unwinds through it).
class own_broker {
 public:
  explicit own_broker(const std::filesystem::path& dir) : dir_(dir) {
    script_ = std::filesystem::path(PASSERELLE_SOURCE_DIR) / "deploy/local/kafka.sh";
  }
  ~own_broker() {
    if (started_) (void)run("stop");
  }
  own_broker(const own_broker&) = delete;
  own_broker& operator=(const own_broker&) = delete;

  void start() {
    started_ = true;  // from here on, always try to stop it
    const int rc = run("start");
    if (rc != 0) FAIL("deploy/local/kafka.sh start failed (exit " << rc << "):\n" << file_text(dir_ / "script.log"));
  }
  void stop() {
    const int rc = run("stop");
    if (rc != 0) FAIL("deploy/local/kafka.sh stop failed (exit " << rc << "):\n" << file_text(dir_ / "script.log"));
  }
  const std::filesystem::path& script() const { return script_; }

 private:
  int run(const std::string& cmd) {
    const std::string line = "KAFKA_PORT=" + std::to_string(kafka_port) + " KAFKA_DATA_DIR='" +
                             (dir_ / "kafka-data").string() + "' KAFKA_RUN_DIR='" + (dir_ / "kafka-run").string() +
                             "' KAFKA_START_TIMEOUT=150 KAFKA_STOP_TIMEOUT=30 bash '" + script_.string() + "' " + cmd +
                             " >'" + (dir_ / "script.log").string() + "' 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  std::filesystem::path dir_;
  std::filesystem::path script_;
  bool started_ = false;
};

TEST_CASE("kafka spool: broker stopped and restarted under load, every ack reaches the topic in order",
          "[spool][kafka]") {
  temp_dir dir;
  own_broker broker(dir.path());
  REQUIRE(std::filesystem::exists(broker.script()));
  if (std::system("command -v java >/dev/null 2>&1") != 0) FAIL("java is not installed: the broker cannot run");
  broker.start();

  kafka_options ko;
  ko.bootstrap_servers = "127.0.0.1:" + std::to_string(kafka_port);
  ko.delivery_timeout = 10s;
  ko.request_timeout = 5s;
  ko.properties = {{"reconnect.backoff.max.ms", "500"}};
  auto kafka = open_kafka_log(ko);
  REQUIRE(kafka.ok());
  REQUIRE((*kafka)->check_ready(10s).ok());
  const std::string topic = "spool.outage";
  constexpr std::int32_t partitions = 6;
  REQUIRE((*kafka)->create_topics({{topic, partitions, 1, {}}}).ok());

  spool_options so;
  so.dir = (dir.path() / "spool").string();
  so.probe_interval = 200ms;
  so.probe_timeout = 1s;
  so.stall_after = 1s;
  so.default_partitions = partitions;
  auto opened = spooling_log::open(std::move(kafka).value(), so);
  REQUIRE(opened.ok());
  auto& log = **opened;
  REQUIRE(log.create_topics({{topic, partitions, 1, {}}}).ok());  // records the partition count

  // Producers: each thread owns its keys and produces them round-robin, pipelined, at most 200 in flight.
  constexpr int threads = 4;
  constexpr int keys_per_thread = 5;
  ack_book book;
  std::atomic<bool> stop{false};
  std::atomic<int> produced{0};
  std::atomic<int> stuck{0};
  std::vector<std::thread> producers;
  producers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      std::counting_semaphore<200> in_flight(200);
      std::vector<int> next(keys_per_thread, 0);
      for (int i = 0; !stop.load(); ++i) {
        if (!in_flight.try_acquire_for(60s)) {
          ++stuck;
          break;
        }
        const int slot = i % keys_per_thread;
        const int k = t * keys_per_thread + slot;
        const int n = next[static_cast<std::size_t>(slot)]++;
        auto record_done = book.slot(event_id(k, n));
        log.produce(make_request(topic, k, n), [record_done, &in_flight](result<produce_ack> r) {
          record_done(std::move(r));
          in_flight.release();
        });
        ++produced;
      }
      // Wait for this thread's last completions before its semaphore goes away.
      for (int j = 0; j < 200; ++j) {
        if (!in_flight.try_acquire_for(120s)) {
          ++stuck;
          break;
        }
      }
    });
  }
  auto join_producers = [&] {
    stop = true;
    for (auto& p : producers) {
      if (p.joinable()) p.join();
    }
  };
  struct joiner {
    std::function<void()> f;
    ~joiner() { f(); }
  } join_on_exit{join_producers};

  auto acked_count = [&] { return book.count(); };
  REQUIRE(eventually([&] { return acked_count() >= 3000; }, 60s));
  CHECK(log.status().state == spool_state::direct);

  broker.stop();
  // Acks keep coming, from the spool now.
  REQUIRE(eventually([&] { return log.status().state == spool_state::spooling; }, 60s));
  const std::size_t at_switch = acked_count();
  REQUIRE(eventually([&] { return acked_count() >= at_switch + 3000; }, 60s));
  const auto during = log.status();
  CHECK(during.spooled_records > 0);

  broker.start();
  REQUIRE(eventually([&] { return log.status().forwarded_total > 0; }, 120s));
  const std::size_t at_restart = acked_count();
  REQUIRE(eventually([&] { return acked_count() >= at_restart + 2000; }, 60s));
  join_producers();
  CHECK(stuck.load() == 0);
  REQUIRE(book.wait_for(static_cast<std::size_t>(produced.load()), 120s));
  auto drained = log.flush(120s);
  INFO("flush: " << (drained ? std::string("ok") : drained.err().message));
  REQUIRE(drained.ok());
  CHECK(log.status().state == spool_state::direct);

  std::set<std::string> acked;
  std::map<std::string, std::size_t> errors;
  std::size_t spooled_acks = 0;
  for (const auto& [id, r] : book.results()) {
    if (r) {
      acked.insert(id);
      if (r->offset == spooled_offset) ++spooled_acks;
    } else {
      ++errors[r.err().code];
    }
  }
  const auto st = log.status();
  auto check = check_topic(read_topic(log, topic, partitions, 120s), acked);
  // What happened, for the report (printed with -s).
  WARN("produced " << produced.load() << ", acked " << acked.size() << " (" << spooled_acks << " from the spool, "
                   << st.rescued_total << " rescued from the stalled inner log), errors " << errors.size()
                   << " kinds; topic holds " << check.records << " records, " << check.duplicates
                   << " duplicate(s); uncertain inner attempts " << st.uncertain_total << "; dead " << st.dead_records);
  for (const auto& [code, count] : errors) WARN("error " << code << ": " << count);
  CHECK(spooled_acks > 0);
  CHECK(errors.empty());
  CHECK(check.missing.empty());
  CHECK(check.out_of_order.empty());
  // A duplicate is only possible for a record whose inner attempt ended "timed out, possibly persisted".
  CHECK(check.duplicates <= st.uncertain_total);
  CHECK(check.records == acked.size() + check.duplicates);
}

}  // namespace
}  // namespace passerelle::log

// log_bench: events/s and produce-to-durable latency of one event_log backend (embedded or kafka), through the
// public interface (broker/log/event_log.h) exactly as Passerelle's ingress uses it. The raw librdkafka ceiling
// is the sibling tool raw_librdkafka_bench (broker/log/kafka/bench/); bench/run_log_bench.sh runs them
// interleaved and compares. Measurement model: bench/log/workload.h and docs/performance.md.
//
// Threads: main (the closed-loop issuer) and the backend's own (writer thread / Kafka poller), where the
// completions run. Exit codes: 0 every record acknowledged; 1 a runtime failure (backend would not open, topic
// creation failed, records failed or timed out); 2 bad usage.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "bench/log/workload.h"
#include "broker/log/backend_options.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/event_log.h"
#include "broker/log/kafka/kafka_log.h"

namespace passerelle::bench {
namespace {

constexpr const char* usage_text = R"(usage: log_bench --backend embedded|kafka [options]
  --backend NAME        embedded or kafka (required)
  --count N             measured records (default 200000)
  --warmup N            records produced and awaited before measuring, not counted (default 20000)
  --window N            closed loop: most records in flight at once (default 4096)
  --record-size BYTES   value size (default 1024)
  --keys N              distinct record keys (default 100000)
  --headers BOOL        add the contract's four headers to every record (default true)
  --partitions N        partitions of the fresh benchmark topic (default 12)
  --topic NAME          topic to create and write (default bench.log.<backend>.<time>.<pid>)
  --timeout SECONDS     give up when a phase has not completed by then (default 300)
  --label TEXT          copied into the RESULT line (e.g. round=2)
 kafka:
  --bootstrap HOST:PORT bootstrap servers (default 127.0.0.1:9092)
  --queue N             producer queue bound, kafka_options::max_queued_records (default 100000)
  -X key=value          librdkafka property passed through kafka_options::properties (repeatable)
 embedded:
  --data-dir DIR        parent folder; the log goes in a fresh DIR/log_bench-<pid>-<time> (default ./bench-data)
  --keep-data           keep that folder afterwards (default: removed)
  --queue N             embedded_options::max_queued_records (default 100000)
  --batch N             embedded_options::max_batch_records (group-commit batch bound, default 4096)
  --sync BOOL           fsync every batch (default true: durable; false only to show the fsync cost)
)";

struct config {
  std::string backend;
  std::uint64_t count = 200'000;
  std::uint64_t warmup = 20'000;
  std::size_t window = 4096;
  workload_options records;
  std::int32_t partitions = 12;
  std::string topic;
  std::chrono::seconds timeout{300};
  std::string label;
  std::string bootstrap = "127.0.0.1:9092";
  std::size_t queue = 100'000;
  std::map<std::string, std::string> properties;
  std::string data_dir = "./bench-data";
  bool keep_data = false;
  std::size_t batch = 4096;
  bool sync = true;
};

config parse(int argc, char** argv) {
  config c;
  option_parser p(argc, argv);
  std::string name;
  std::string value;
  static const std::set<std::string> kafka_only{"bootstrap", "property"};
  static const std::set<std::string> embedded_only{"data-dir", "keep-data", "batch", "sync"};
  std::set<std::string> given;
  while (p.next(name, value)) {
    given.insert(name);
    if (name == "help") {
      std::cout << usage_text;
      std::exit(0);
    } else if (name == "backend") {
      c.backend = p.require_value(name, value);
      if (c.backend != "embedded" && c.backend != "kafka") {
        throw usage_error("--backend: expected embedded or kafka, got '" + c.backend + "'");
      }
    } else if (name == "count") {
      c.count = parse_count(name, value, 1, 100'000'000);
    } else if (name == "warmup") {
      c.warmup = parse_count(name, value, 0, 100'000'000);
    } else if (name == "window") {
      c.window = parse_count(name, value, 1, 10'000'000);
    } else if (name == "record-size") {
      c.records.value_bytes = parse_count(name, value, 1, 16ULL * 1024 * 1024);
    } else if (name == "keys") {
      c.records.distinct_keys = parse_count(name, value, 1, 10'000'000);
    } else if (name == "headers") {
      c.records.with_headers = parse_bool(name, value);
    } else if (name == "partitions") {
      c.partitions = static_cast<std::int32_t>(parse_count(name, value, 1, 10'000));
    } else if (name == "topic") {
      c.topic = p.require_value(name, value);
    } else if (name == "timeout") {
      c.timeout = std::chrono::seconds(parse_count(name, value, 1, 86'400));
    } else if (name == "label") {
      c.label = p.require_value(name, value);
    } else if (name == "bootstrap") {
      c.bootstrap = p.require_value(name, value);
    } else if (name == "queue") {
      c.queue = parse_count(name, value, 1, 100'000'000);
    } else if (name == "property") {
      c.properties.insert(parse_property(name, p.require_value(name, value)));
    } else if (name == "data-dir") {
      c.data_dir = p.require_value(name, value);
    } else if (name == "keep-data") {
      c.keep_data = parse_bool(name, value);
    } else if (name == "batch") {
      c.batch = parse_count(name, value, 1, 10'000'000);
    } else if (name == "sync") {
      c.sync = parse_bool(name, value);
    } else {
      throw usage_error("unknown option --" + name + " (see --help)");
    }
  }
  if (c.backend.empty()) throw usage_error("--backend is required (embedded or kafka)");
  // An option of the other backend would be silently ignored: refuse it instead.
  const auto& other = c.backend == "kafka" ? embedded_only : kafka_only;
  for (const auto& o : given) {
    if (other.count(o) > 0) throw usage_error("--" + o + " does not apply to --backend " + c.backend);
  }
  // A window larger than the backend's queue would turn the closed loop into a queue_full storm: refuse it.
  if (c.window > c.queue) {
    throw usage_error("--window (" + std::to_string(c.window) + ") must not exceed --queue (" +
                      std::to_string(c.queue) + ")");
  }
  if (c.topic.empty()) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    c.topic = "bench.log." + c.backend + "." + std::to_string(ms) + "." + std::to_string(getpid());
  }
  return c;
}

// Produces records [first, first+count) through `log` in a closed loop. The request is built (key, value and
// headers copied into it) on the issuer thread, as a real caller would.
bool produce_phase(log::event_log& log, const workload& w, const config& c, closed_loop& loop) {
  const std::string topic = c.topic;
  return loop.run([&](std::uint64_t i) {
    log::produce_request req;
    req.topic = topic;
    req.key = std::string(w.key(i));
    req.value = std::string(w.value(i));
    if (w.options().with_headers) {
      char id[37];
      req.hdrs.reserve(4);
      req.hdrs.push_back({"event-id", std::string(w.event_id(i, id))});
      req.hdrs.push_back({"event-type", std::string(workload::event_type)});
      req.hdrs.push_back({"source", std::string(workload::source)});
      req.hdrs.push_back({"content-type", std::string(workload::content_type)});
    }
    log.produce(std::move(req), [&loop, i](const result<log::produce_ack>& r) {
      if (r.ok()) {
        loop.complete(i, outcome{true, {}, {}});
      } else {
        loop.complete(i, outcome{false, r.err().code, r.err().message});
      }
    });
  });
}

int run(const config& c) {
  // Declared before `log`, so it runs after the log is closed, on every return path.
  struct store_remover {
    std::filesystem::path dir;
    bool keep = false;
    store_remover() = default;
    store_remover(const store_remover&) = delete;
    store_remover& operator=(const store_remover&) = delete;
    ~store_remover() {
      if (dir.empty() || keep) return;
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      if (ec) std::cerr << "log_bench: could not remove " << dir << ": " << ec.message() << "\n";
    }
  } remover;
  remover.keep = c.keep_data;
  std::unique_ptr<log::event_log> log;
  std::filesystem::path store_dir;
  if (c.backend == "embedded") {
    store_dir = std::filesystem::path(c.data_dir) /
                ("log_bench-" + std::to_string(getpid()) + "-" +
                 std::to_string(std::chrono::system_clock::now().time_since_epoch().count()));
    std::error_code ec;
    std::filesystem::create_directories(store_dir, ec);
    remover.dir = store_dir;
    if (ec) {
      std::cerr << "log_bench: cannot create " << store_dir << ": " << ec.message() << "\n";
      return 1;
    }
    log::embedded_options o;
    o.data_dir = store_dir.string();
    o.default_partitions = c.partitions;
    o.max_queued_records = c.queue;
    o.max_batch_records = c.batch;
    o.sync = c.sync;
    auto opened = log::open_embedded_log(o);
    if (!opened) {
      std::cerr << "log_bench: open_embedded_log: " << opened.err().code << ": " << opened.err().message << "\n";
      return 1;
    }
    log = std::move(opened).value();
  } else {
    log::kafka_options o;
    o.bootstrap_servers = c.bootstrap;
    o.partitions = c.partitions;
    o.max_queued_records = c.queue;
    o.properties = c.properties;
    o.client_id = "passerelle-log-bench";
    auto opened = log::open_kafka_log(o);
    if (!opened) {
      std::cerr << "log_bench: open_kafka_log: " << opened.err().code << ": " << opened.err().message << "\n";
      return 1;
    }
    log = std::move(opened).value();
  }

  if (auto r = log->create_topics({log::topic_spec{c.topic, c.partitions, 1, {}}}); !r) {
    std::cerr << "log_bench: create_topics " << c.topic << ": " << r.err().code << ": " << r.err().message << "\n";
    return 1;
  }

  const workload w(c.records);
  int rc = 0;
  // Warm-up: connections, metadata, leader lookups, RocksDB memtables, allocator pools. Not counted.
  if (c.warmup > 0) {
    closed_loop warm(0, c.warmup, c.window, c.timeout);
    if (!produce_phase(*log, w, c, warm) || warm.failed() > 0) {
      std::cerr << "log_bench: warm-up did not complete (" << warm.acknowledged() << " acked, " << warm.failed()
                << " failed of " << c.warmup << ")\n";
      for (const auto& [code, f] : warm.failures())
        std::cerr << "  " << code << " x" << f.first << ": " << f.second << "\n";
      log.reset();  // before `warm` goes: the backend fails what is left, and those completions reference it
      return 1;
    }
  }

  closed_loop loop(c.warmup, c.count, c.window, c.timeout);
  const auto threads0 = thread_times();
  const double cpu0 = process_cpu_seconds();
  const bool completed = produce_phase(*log, w, c, loop);
  const double cpu = process_cpu_seconds() - cpu0;
  const auto threads1 = thread_times();
  if (!completed) {
    std::cerr << "log_bench: not every record completed within " << c.timeout.count() << " s\n";
    rc = 1;
  }
  if (completed) {
    run_description d{c.backend, c.label, c.topic, c.partitions, c.window, c.records.value_bytes, c.warmup};
    if (c.backend == "embedded" && !c.sync) d.variant = "embedded-nosync";
    summary s = summarise(loop, c.count, cpu);
    s.runqueue_wait_s = print_thread_times(threads0, threads1, s.seconds);
    print_report(d, s, loop);
    if (s.failed > 0) rc = 1;
  }

  log.reset();  // flushes (bounded) and, if the run timed out, fails what is left before the loop goes away
  return rc;
}

}  // namespace
}  // namespace passerelle::bench

int main(int argc, char** argv) {
  using namespace passerelle::bench;
  config c;
  try {
    c = parse(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "log_bench: " << e.what() << "\n" << usage_text;
    return 2;
  }
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::cerr << "log_bench: " << e.what() << "\n";
    return 1;
  }
}

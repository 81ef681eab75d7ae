// raw_librdkafka_bench: the ceiling the Kafka backend is compared with. librdkafka's own producer (C API), with
// the settings the Kafka backend fixes or defaults to (broker/log/kafka/kafka_client.cpp, make_conf, producer
// role: acks=all, enable.idempotence=true, partitioner=murmur2_random, linger.ms=5, message.timeout.ms=30000,
// queue.buffering.max.messages=100000, allow.auto.create.topics=false, topic.metadata.propagation.max.ms=5000;
// batch.num.messages/batch.size at librdkafka's defaults on both sides), writing the SAME records (bench/log/
// workload.h) to a fresh topic with the same partition count, measured by the same closed loop as log_bench.
//
// It lives in broker/log/kafka/ because only that folder may include librdkafka. It is deliberately the
// leanest use of librdkafka: no per-record bookkeeping beyond the benchmark's own, key and value passed without
// a copy (they live in the workload for the whole run), delivery reports served by a poller thread calling
// rd_kafka_poll, as the backend does. Whatever the backend costs on top of this is its overhead.
//
// Threads: main (issuer), the poller (delivery reports -> closed_loop::complete), librdkafka's own.
// Exit codes: 0 every record acknowledged; 1 runtime failure; 2 bad usage.

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "bench/log/workload.h"

namespace passerelle::bench {
namespace {

constexpr const char* usage_text = R"(usage: raw_librdkafka_bench [options]
  --bootstrap HOST:PORT bootstrap servers (default 127.0.0.1:9092)
  --count N             measured records (default 200000)
  --warmup N            records produced and awaited before measuring, not counted (default 20000)
  --window N            closed loop: most records in flight at once (default 4096)
  --record-size BYTES   value size (default 1024)
  --keys N              distinct record keys (default 100000)
  --headers BOOL        add the contract's four headers to every record (default true)
  --partitions N        partitions of the fresh benchmark topic (default 12)
  --topic NAME          topic to create and write (default bench.log.raw.<time>.<pid>)
  --queue N             queue.buffering.max.messages (default 100000, as kafka_options::max_queued_records)
  --timeout SECONDS     give up when a phase has not completed by then (default 300)
  --label TEXT          copied into the RESULT line (e.g. round=2)
  -X key=value          extra librdkafka property (repeatable; applied after the defaults, as the backend does)
)";

struct config {
  std::string bootstrap = "127.0.0.1:9092";
  std::uint64_t count = 200'000;
  std::uint64_t warmup = 20'000;
  std::size_t window = 4096;
  workload_options records;
  std::int32_t partitions = 12;
  std::string topic;
  std::size_t queue = 100'000;
  std::chrono::seconds timeout{300};
  std::string label;
  std::map<std::string, std::string> properties;
};

config parse(int argc, char** argv) {
  config c;
  option_parser p(argc, argv);
  std::string name;
  std::string value;
  while (p.next(name, value)) {
    if (name == "help") {
      std::cout << usage_text;
      std::exit(0);
    } else if (name == "bootstrap") {
      c.bootstrap = p.require_value(name, value);
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
    } else if (name == "queue") {
      c.queue = parse_count(name, value, 1, 10'000'000);
    } else if (name == "timeout") {
      c.timeout = std::chrono::seconds(parse_count(name, value, 1, 86'400));
    } else if (name == "label") {
      c.label = p.require_value(name, value);
    } else if (name == "property") {
      c.properties.insert(parse_property(name, p.require_value(name, value)));
    } else {
      throw usage_error("unknown option --" + name + " (see --help)");
    }
  }
  if (c.window > c.queue) {
    throw usage_error("--window (" + std::to_string(c.window) + ") must not exceed --queue (" +
                      std::to_string(c.queue) + ")");
  }
  if (c.topic.empty()) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    c.topic = "bench.log.raw." + std::to_string(ms) + "." + std::to_string(getpid());
  }
  return c;
}

struct rk_deleter {
  void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const noexcept { rd_kafka_NewTopic_destroy(p); }
  void operator()(rd_kafka_AdminOptions_t* p) const noexcept { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); }
};
template <typename T>
using rk_handle = std::unique_ptr<T, rk_deleter>;

// The closed loop of the phase being run; the delivery-report callback reaches it through the client opaque.
// Lifecycle: owned by run(); set before a phase's first produce, and a phase ends only once every report came.
struct bench_state {
  std::atomic<closed_loop*> loop{nullptr};
};

void delivery_cb(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
  auto* state = static_cast<bench_state*>(opaque);
  closed_loop* loop = state->loop.load(std::memory_order_acquire);
  const auto i = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    loop->complete(i, outcome{true, {}, {}});
  } else {
    loop->complete(i, outcome{false, rd_kafka_err2name(m->err), rd_kafka_err2str(m->err)});
  }
}

bool set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> errstr{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
    std::cerr << "raw_librdkafka_bench: property " << key << "=" << value << ": " << errstr.data() << "\n";
    return false;
  }
  return true;
}

// Creates the topic and waits (bounded) until every partition answers, as the backend's create_topics does,
// so the measured phase never pays for leader election.
bool create_topic(rd_kafka_t* rk, const config& c) {
  std::array<char, 512> errstr{};
  rk_handle<rd_kafka_NewTopic_t> nt(
      rd_kafka_NewTopic_new(c.topic.c_str(), c.partitions, 1, errstr.data(), errstr.size()));
  if (!nt) {
    std::cerr << "raw_librdkafka_bench: topic " << c.topic << ": " << errstr.data() << "\n";
    return false;
  }
  rk_handle<rd_kafka_AdminOptions_t> opts(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_operation_timeout(opts.get(), 10'000, errstr.data(), errstr.size());
  rk_handle<rd_kafka_queue_t> q(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* topics[] = {nt.get()};
  rd_kafka_CreateTopics(rk, topics, 1, opts.get(), q.get());
  rk_handle<rd_kafka_event_t> ev(rd_kafka_queue_poll(q.get(), 15'000));
  if (!ev) {
    std::cerr << "raw_librdkafka_bench: CreateTopics: no answer within 15 s from " << c.bootstrap << "\n";
    return false;
  }
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::cerr << "raw_librdkafka_bench: CreateTopics: " << rd_kafka_event_error_string(ev.get()) << "\n";
    return false;
  }
  std::size_t n = 0;
  const rd_kafka_topic_result_t** res =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (std::size_t k = 0; k < n; ++k) {
    const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[k]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      std::cerr << "raw_librdkafka_bench: CreateTopics " << c.topic << ": " << rd_kafka_err2name(e) << "\n";
      return false;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (std::int32_t p = 0; p < c.partitions; ++p) {
    while (true) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      const rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, c.topic.c_str(), p, &low, &high, 5'000);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "raw_librdkafka_bench: partition " << p << " of " << c.topic
                  << " has no serving leader: " << rd_kafka_err2name(e) << "\n";
        return false;
      }
      // Setup only, never in a measured phase: the leader is being elected.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

// One record through rd_kafka_produceva; the report comes to delivery_cb with the index as opaque.
void produce_one(rd_kafka_t* rk, const workload& w, const std::string& topic, std::uint64_t i, closed_loop& loop) {
  const std::string_view key = w.key(i);
  const std::string_view value = w.value(i);
  std::array<rd_kafka_vu_t, 6> vu{};
  std::size_t n = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vu[n++].u.cstr = topic.c_str();
  vu[n].vtype = RD_KAFKA_VTYPE_KEY;
  vu[n].u.mem.ptr = const_cast<char*>(key.data());  // NOLINT: no F_COPY, librdkafka only reads it
  vu[n++].u.mem.size = key.size();
  vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[n].u.mem.ptr = const_cast<char*>(value.data());  // NOLINT: as above
  vu[n++].u.mem.size = value.size();
  vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu[n++].u.ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i));
  rk_handle<rd_kafka_headers_t> hdrs;
  if (w.options().with_headers) {
    char id[37];
    const std::string_view event_id = w.event_id(i, id);
    hdrs.reset(rd_kafka_headers_new(4));
    rd_kafka_header_add(hdrs.get(), "event-id", 8, event_id.data(), static_cast<ssize_t>(event_id.size()));
    rd_kafka_header_add(hdrs.get(), "event-type", 10, workload::event_type.data(),
                        static_cast<ssize_t>(workload::event_type.size()));
    rd_kafka_header_add(hdrs.get(), "source", 6, workload::source.data(),
                        static_cast<ssize_t>(workload::source.size()));
    rd_kafka_header_add(hdrs.get(), "content-type", 12, workload::content_type.data(),
                        static_cast<ssize_t>(workload::content_type.size()));
    vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vu[n++].u.headers = hdrs.get();
  }
  rk_handle<rd_kafka_error_t> err(rd_kafka_produceva(rk, vu.data(), n));
  if (!err) {
    (void)hdrs.release();  // librdkafka owns them now
    return;
  }
  loop.complete(i, outcome{false, rd_kafka_err2name(rd_kafka_error_code(err.get())), rd_kafka_error_string(err.get())});
}

int run(const config& c) {
  rk_handle<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  // The Kafka backend's producer settings (kafka_client.cpp make_conf), then the user's -X properties.
  const std::map<std::string, std::string> settings{
      {"bootstrap.servers", c.bootstrap},
      {"client.id", "passerelle-raw-bench"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", "30000"},
      {"queue.buffering.max.messages", std::to_string(c.queue)},
      {"linger.ms", "5"},
      {"allow.auto.create.topics", "false"},
      {"topic.metadata.propagation.max.ms", "5000"},
  };
  for (const auto& [k, v] : settings) {
    if (!set(conf.get(), k, v)) return 1;
  }
  for (const auto& [k, v] : c.properties) {
    if (!set(conf.get(), k, v)) return 1;
  }
  bench_state state;
  rd_kafka_conf_set_opaque(conf.get(), &state);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &delivery_cb);
  std::array<char, 512> errstr{};
  rk_handle<rd_kafka_t> rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr.data(), errstr.size()));
  if (!rk) {
    std::cerr << "raw_librdkafka_bench: rd_kafka_new: " << errstr.data() << "\n";
    return 1;
  }
  (void)conf.release();  // rd_kafka_new took it

  if (!create_topic(rk.get(), c)) return 1;

  // The poller thread, as the backend's: serves delivery reports (the completions) with rd_kafka_poll.
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop.load(std::memory_order_acquire)) rd_kafka_poll(rk.get(), 100);
  });

  const workload w(c.records);
  int rc = 0;
  auto phase = [&](closed_loop& loop) {
    state.loop.store(&loop, std::memory_order_release);
    return loop.run([&](std::uint64_t i) { produce_one(rk.get(), w, c.topic, i, loop); });
  };
  bool warm_ok = true;
  if (c.warmup > 0) {
    closed_loop warm(0, c.warmup, c.window, c.timeout);
    warm_ok = phase(warm) && warm.failed() == 0;
    if (!warm_ok) {
      std::cerr << "raw_librdkafka_bench: warm-up did not complete (" << warm.acknowledged() << " acked, "
                << warm.failed() << " failed of " << c.warmup << ")\n";
      for (const auto& [code, f] : warm.failures())
        std::cerr << "  " << code << " x" << f.first << ": " << f.second << "\n";
      // Reports still due would reference `warm`: purge and serve them before it goes.
      rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(rk.get(), 10'000);
      rc = 1;
    }
  }
  if (warm_ok) {
    closed_loop loop(c.warmup, c.count, c.window, c.timeout);
    const auto threads0 = thread_times();
    const double cpu0 = process_cpu_seconds();
    const bool completed = phase(loop);
    const double cpu = process_cpu_seconds() - cpu0;
    const auto threads1 = thread_times();
    if (completed) {
      summary s = summarise(loop, c.count, cpu);
      s.runqueue_wait_s = print_thread_times(threads0, threads1, s.seconds);
      print_report(run_description{"raw", c.label, c.topic, c.partitions, c.window, c.records.value_bytes, c.warmup}, s,
                   loop);
      if (s.failed > 0) rc = 1;
    } else {
      std::cerr << "raw_librdkafka_bench: not every record completed within " << c.timeout.count() << " s\n";
      rc = 1;
    }
    if (!completed) {
      rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(rk.get(), 10'000);
    }
  }
  stop.store(true, std::memory_order_release);
  poller.join();
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
    std::cerr << "raw_librdkafka_bench: " << e.what() << "\n" << usage_text;
    return 2;
  }
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::cerr << "raw_librdkafka_bench: " << e.what() << "\n";
    return 1;
  }
}

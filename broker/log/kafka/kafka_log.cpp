// The Kafka event_log: one idempotent producer (also used for admin and metadata calls) and its poller thread.

#include "broker/log/kafka/kafka_log.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "broker/log/kafka/kafka_client.h"
#include "broker/log/kafka/kafka_consumer.h"
#include "broker/log/kafka/kafka_transactional_producer.h"

namespace passerelle::log {
namespace kafka {
namespace {

using steady = std::chrono::steady_clock;

// How long the poller blocks in rd_kafka_poll before rechecking its stop flag.
constexpr int poll_interval_ms = 100;
// After the bounded flush and the purge on shutdown, how long we wait for librdkafka to hand back the
// purged records' delivery reports (they are local; this only bounds a misbehaving client).
constexpr std::chrono::milliseconds purge_drain_bound{2000};
// Extra wait beyond an admin request's own timeout, so librdkafka's precise error wins over ours.
constexpr std::chrono::milliseconds admin_margin{250};
// Pause between metadata probes while a just-created topic propagates.
constexpr std::chrono::milliseconds propagation_probe_interval{50};

// Calls a produce completion; it runs inside a librdkafka C callback, so nothing may unwind through it.
void complete(produce_callback& done, result<produce_ack> r) {
  try {
    done(std::move(r));
  } catch (const std::exception& e) {
    emit_log(3, std::string("produce completion threw: ") + e.what());
  } catch (...) {
    emit_log(3, "produce completion threw a non-std exception");
  }
}

// Lifecycle: created by open_kafka_log(), owned by its caller; the destructor stops produce, flushes (bounded
// by request_timeout), purges and fails what is left with retry/"shutting_down", then joins the poller.
// Threads: produce(), flush() and the admin calls from any thread; delivery reports (produce completions) on
// the poller thread only, which is the only thread calling rd_kafka_poll on the producer.
class kafka_event_log final : public event_log {
 public:
  explicit kafka_event_log(kafka_options options) : options_(std::move(options)) {}

  ~kafka_event_log() override {
    if (poller_.joinable()) {
      stopping_.store(true, std::memory_order_release);
      poller_.join();
    }
    producer_.reset();
    // Anything librdkafka did not report (a produce() racing with shutdown) still gets its one completion.
    std::map<std::uint64_t, std::unique_ptr<pending>> left;
    {
      std::lock_guard lock(mu_);
      left.swap(pending_);
    }
    for (auto& [seq, p] : left) {
      complete(p->done, error::retry("shutting_down", "kafka event log closed before the record was acknowledged"));
    }
  }

  kafka_event_log(const kafka_event_log&) = delete;
  kafka_event_log& operator=(const kafka_event_log&) = delete;

  result<void> start() {
    auto conf = make_conf(options_, client_role::producer);
    if (!conf) return std::move(conf).err();
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &kafka_event_log::delivery_cb);
    auto client = make_client(std::move(conf).value(), client_role::producer);
    if (!client) return std::move(client).err();
    producer_ = std::move(client).value();
    poller_ = std::thread([this] { poller_loop(); });
    return ok();
  }

  backend_kind kind() const noexcept override { return backend_kind::kafka; }

  void produce(produce_request request, produce_callback done) override {
    if (stopping_.load(std::memory_order_acquire)) {
      complete(done, error::retry("shutting_down", "kafka event log is closing"));
      return;
    }
    if (request.key.empty()) {
      complete(done, error::reject("invalid", "produce: the record key must not be empty"));
      return;
    }
    if (request.topic.empty()) {
      complete(done, error::reject("invalid", "produce: the topic must not be empty"));
      return;
    }
    // The key and value live in `pending` until the delivery report, so librdkafka can use them without a
    // copy (no RD_KAFKA_MSG_F_COPY). A heap object never moves, so the pointers stay valid.
    auto owned = std::make_unique<pending>();
    owned->done = std::move(done);
    owned->key = std::move(request.key);
    owned->value = std::move(request.value);
    pending* p = owned.get();
    {
      std::lock_guard lock(mu_);
      p->seq = next_seq_++;
      pending_.emplace(p->seq, std::move(owned));
    }

    handle<rd_kafka_headers_t> hdrs;
    if (!request.hdrs.empty()) {
      hdrs.reset(rd_kafka_headers_new(request.hdrs.size()));
      for (const auto& h : request.hdrs) {
        rd_kafka_header_add(hdrs.get(), h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    std::array<rd_kafka_vu_t, 7> vu{};
    std::size_t n = 0;
    vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[n++].u.cstr = request.topic.c_str();
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = p->key.data();
    vu[n++].u.mem.size = p->key.size();
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = p->value.data();
    vu[n++].u.mem.size = p->value.size();
    vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[n++].u.ptr = p;
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = 0;
    if (request.timestamp_ms) {
      vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      vu[n++].u.i64 = *request.timestamp_ms;
    }
    if (hdrs) {
      vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
      vu[n++].u.headers = hdrs.get();
    }
    handle<rd_kafka_error_t> err(rd_kafka_produceva(producer_.get(), vu.data(), n));
    if (!err) {
      (void)hdrs.release();  // librdkafka owns the headers now
      return;
    }
    // Not enqueued (queue full, unknown topic, too large, fatal...): the completion runs now, on this thread.
    const rd_kafka_resp_err_t code = rd_kafka_error_code(err.get());
    error e = code == RD_KAFKA_RESP_ERR__FATAL && fatal_error_of(producer_.get())
                  ? *fatal_error_of(producer_.get())
                  : map_error(code, "produce to " + request.topic, rd_kafka_error_string(err.get()));
    complete(p->done, std::move(e));
    forget(p->seq);
  }

  result<std::unique_ptr<consumer>> subscribe(consumer_config config) override {
    return make_group_consumer(options_, std::move(config), this);
  }

  result<std::unique_ptr<consumer>> open_reader(std::vector<topic_partition_offset> start) override {
    return make_reader(options_, start, this);
  }

  result<std::unique_ptr<transactional_producer>> open_transactional_producer(
      const transactional_producer_config& config) override {
    return make_transactional_producer(options_, config, this);
  }

  result<void> create_topics(const std::vector<topic_spec>& topics) override {
    if (topics.empty()) return ok();
    std::vector<handle<rd_kafka_NewTopic_t>> owned;
    std::vector<rd_kafka_NewTopic_t*> raw;
    for (const auto& t : topics) {
      if (t.name.empty() || t.partitions <= 0 || t.replication_factor <= 0) {
        return error::reject(
            "invalid", "create_topics: topic '" + t.name + "' needs a name, partitions > 0 and replication_factor > 0");
      }
      std::array<char, 512> errstr{};
      handle<rd_kafka_NewTopic_t> nt(
          rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, errstr.data(), errstr.size()));
      if (!nt) return error::reject("invalid", "create_topics: " + t.name + ": " + errstr.data());
      for (const auto& c : t.config) {
        if (rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt.get(), c.key.c_str(), c.value.c_str());
            e != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return map_error(e, "create_topics: " + t.name + " config " + c.key);
        }
      }
      raw.push_back(nt.get());
      owned.push_back(std::move(nt));
    }
    const auto deadline = steady::now() + options_.request_timeout;
    auto opts = admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (!opts) return std::move(opts).err();
    queue_handle q(rd_kafka_queue_new(producer_.get()));
    rd_kafka_CreateTopics(producer_.get(), raw.data(), raw.size(), opts->get(), q.get());
    auto ev = await_admin(q.get(), "create_topics");
    if (!ev) return std::move(ev).err();
    std::size_t cnt = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &cnt);
    for (std::size_t i = 0; i < cnt; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      return map_error(e, std::string("create_topics: ") + rd_kafka_topic_result_name(results[i]),
                       detail != nullptr ? detail : "");
    }
    return wait_for_leaders(topics, deadline);
  }

  result<std::vector<topic_metadata>> list_topics() override {
    auto md = metadata(true, options_.request_timeout, "list_topics");
    if (!md) return std::move(md).err();
    std::vector<topic_metadata> out;
    for (int i = 0; i < (*md)->topic_cnt; ++i) {
      const auto& t = (*md)->topics[i];
      // Kafka's internal topics (__consumer_offsets, __transaction_state) are not Passerelle's.
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || std::string_view(t.topic).starts_with("__")) continue;
      out.push_back({t.topic, t.partition_cnt});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  result<watermarks> get_watermarks(const topic_partition& tp) override {
    if (tp.topic.empty() || tp.partition < 0) return error::reject("invalid", "get_watermarks: bad topic/partition");
    return query_watermarks(tp, steady::now() + options_.request_timeout);
  }

  result<std::int64_t> offset_for_time(const topic_partition& tp, std::int64_t timestamp_ms) override {
    if (tp.topic.empty() || tp.partition < 0) return error::reject("invalid", "offset_for_time: bad topic/partition");
    if (timestamp_ms < 0) return error::reject("invalid", "offset_for_time: negative timestamp");
    const auto deadline = steady::now() + options_.request_timeout;
    std::int64_t off = 0;
    while (true) {
      partition_list list = to_list(std::vector<topic_partition_offset>{{tp.topic, tp.partition, timestamp_ms}});
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(producer_.get(), list.get(), std::max(1, to_timeout_ms(left)));
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = list->elems[0].err;
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        off = list->elems[0].offset;
        break;
      }
      if (!leader_moving(e) || steady::now() + propagation_probe_interval >= deadline) {
        return map_error(e, "offset_for_time " + describe(tp));
      }
      std::this_thread::sleep_for(propagation_probe_interval);  // admin call, off the I/O threads by contract
    }
    if (off >= 0) return off;
    // Kafka answers -1 when no record is that recent: the contract wants the log-end offset then.
    auto wm = get_watermarks(tp);
    if (!wm) return std::move(wm).err();
    return wm->high;
  }

  result<std::vector<std::optional<std::int64_t>>> committed_offsets(
      const std::string& group, const std::vector<topic_partition>& partitions) override {
    if (group.empty()) return error::reject("invalid", "committed_offsets: empty group");
    if (partitions.empty()) return std::vector<std::optional<std::int64_t>>{};
    partition_list parts = to_list(partitions);
    handle<rd_kafka_ListConsumerGroupOffsets_t> req(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), parts.get()));
    rd_kafka_ListConsumerGroupOffsets_t* reqs[] = {req.get()};
    auto opts = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    if (!opts) return std::move(opts).err();
    queue_handle q(rd_kafka_queue_new(producer_.get()));
    rd_kafka_ListConsumerGroupOffsets(producer_.get(), reqs, 1, opts->get(), q.get());
    auto ev = await_admin(q.get(), "committed_offsets");
    if (!ev) return std::move(ev).err();
    std::size_t cnt = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev->get()), &cnt);
    if (cnt != 1) return error::fatal("kafka_protocol", "committed_offsets: expected one group result");
    if (const rd_kafka_error_t* ge = rd_kafka_group_result_error(groups[0])) {
      return map_error(rd_kafka_error_code(ge), "committed_offsets of group " + group, rd_kafka_error_string(ge));
    }
    const rd_kafka_topic_partition_list_t* got = rd_kafka_group_result_partitions(groups[0]);
    std::vector<std::optional<std::int64_t>> out;
    out.reserve(partitions.size());
    for (const auto& tp : partitions) {
      const rd_kafka_topic_partition_t* found =
          got != nullptr ? rd_kafka_topic_partition_list_find(got, tp.topic.c_str(), tp.partition) : nullptr;
      if (found != nullptr && found->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return map_error(found->err, "committed_offsets of group " + group + " for " + describe(tp));
      }
      out.push_back(found != nullptr && found->offset >= 0 ? std::optional<std::int64_t>(found->offset) : std::nullopt);
    }
    return out;
  }

  result<void> flush(std::chrono::milliseconds timeout) override {
    // Waits on our own bookkeeping rather than rd_kafka_flush(), which would serve delivery reports (run
    // completions) on the caller's thread; completions belong to the poller thread.
    std::unique_lock lock(mu_);
    const std::uint64_t issued = next_seq_;
    const bool done =
        cv_.wait_for(lock, timeout, [&] { return pending_.empty() || pending_.begin()->first >= issued; });
    if (done) return ok();
    std::size_t left = 0;
    for (auto it = pending_.begin(); it != pending_.end() && it->first < issued; ++it) ++left;
    return error::retry("timed_out", "flush: " + std::to_string(left) + " record(s) still unacknowledged after " +
                                         std::to_string(timeout.count()) + " ms");
  }

  result<void> check_ready(std::chrono::milliseconds timeout) override {
    if (auto f = fatal_error_of(producer_.get())) return *f;
    auto md = metadata(false, timeout, "check_ready");
    if (!md) return std::move(md).err();
    if ((*md)->broker_cnt <= 0) {
      return error::retry("unavailable",
                          "check_ready: the cluster at " + options_.bootstrap_servers + " lists no broker");
    }
    return ok();
  }

 private:
  struct pending {
    std::uint64_t seq = 0;
    produce_callback done;
    std::string key;
    std::string value;
  };

  static std::string describe(const topic_partition& tp) { return tp.topic + "/" + std::to_string(tp.partition); }

  static void delivery_cb(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
    static_cast<kafka_event_log*>(opaque)->on_delivery(m);
  }

  // Poller thread. The record leaves pending_ only after its completion has run, so flush() returning means
  // the completions themselves are done.
  void on_delivery(const rd_kafka_message_t* m) {
    auto* p = static_cast<pending*>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
      complete(p->done, produce_ack{m->partition, m->offset, rd_kafka_message_timestamp(m, &type)});
    } else {
      std::string topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "?";
      std::string detail;
      if (rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED) {
        detail = "the record may or may not have been stored";
      }
      error e = m->err == RD_KAFKA_RESP_ERR__FATAL && fatal_error_of(producer_.get())
                    ? *fatal_error_of(producer_.get())
                    : map_error(m->err, "produce to " + topic, detail);
      complete(p->done, std::move(e));
    }
    forget(p->seq);
  }

  // Drops a completed record (its key and value buffers with it) and wakes flush() waiters.
  void forget(std::uint64_t seq) {
    std::unique_ptr<pending> gone;
    {
      std::lock_guard lock(mu_);
      auto node = pending_.extract(seq);
      if (!node.empty()) gone = std::move(node.mapped());
    }
    cv_.notify_all();
  }

  void poller_loop() {
    rd_kafka_t* rk = producer_.get();
    while (!stopping_.load(std::memory_order_acquire)) rd_kafka_poll(rk, poll_interval_ms);
    // Shutdown: give queued records a bounded chance, then fail the rest. rd_kafka_flush serves delivery
    // reports here, on the poller thread.
    if (rd_kafka_flush(rk, to_timeout_ms(options_.request_timeout)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      emit_log(4, "shutdown: flush timed out; failing the records left with retry/shutting_down");
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      const auto deadline = steady::now() + purge_drain_bound;
      while (rd_kafka_outq_len(rk) > 0 && steady::now() < deadline) rd_kafka_poll(rk, poll_interval_ms);
    }
  }

  // Leadership moves (and, just after a topic is created, the broker named leader in the metadata may not act
  // as one yet): these answers mean "ask again in a moment", until the deadline.
  static bool leader_moving(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
  }

  result<watermarks> query_watermarks(const topic_partition& tp, steady::time_point deadline) {
    while (true) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      const rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(producer_.get(), tp.topic.c_str(), tp.partition,
                                                                     &low, &high, std::max(1, to_timeout_ms(left)));
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return watermarks{low, high};
      if (!leader_moving(e) || steady::now() + propagation_probe_interval >= deadline) {
        return map_error(e, "get_watermarks " + describe(tp));
      }
      std::this_thread::sleep_for(propagation_probe_interval);  // admin call, off the I/O threads by contract
    }
  }

  result<handle<rd_kafka_AdminOptions_t>> admin_options(rd_kafka_admin_op_t op) {
    handle<rd_kafka_AdminOptions_t> opts(rd_kafka_AdminOptions_new(producer_.get(), op));
    std::array<char, 512> errstr{};
    const int ms = to_timeout_ms(options_.request_timeout);
    if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), ms, errstr.data(), errstr.size()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return error::reject("invalid_config", std::string("request_timeout: ") + errstr.data());
    }
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS &&
        rd_kafka_AdminOptions_set_operation_timeout(opts.get(), ms, errstr.data(), errstr.size()) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      return error::reject("invalid_config", std::string("request_timeout: ") + errstr.data());
    }
    return opts;
  }

  result<event_handle> await_admin(rd_kafka_queue_t* q, const std::string& what) {
    event_handle ev(rd_kafka_queue_poll(q, to_timeout_ms(options_.request_timeout + admin_margin)));
    if (!ev) {
      return error::retry("timed_out", what + ": no answer from the Kafka cluster at " + options_.bootstrap_servers +
                                           " within " + std::to_string(options_.request_timeout.count()) + " ms");
    }
    if (rd_kafka_resp_err_t e = rd_kafka_event_error(ev.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return map_error(e, what + " (cluster " + options_.bootstrap_servers + ")",
                       rd_kafka_event_error_string(ev.get()));
    }
    return ev;
  }

  result<metadata_handle> metadata(bool all_topics, std::chrono::milliseconds timeout, const std::string& what) {
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t e =
        rd_kafka_metadata(producer_.get(), all_topics ? 1 : 0, nullptr, &md, std::max(1, to_timeout_ms(timeout)));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return map_error(e, what + ": Kafka cluster at " + options_.bootstrap_servers + " did not answer within " +
                              std::to_string(timeout.count()) + " ms");
    }
    return metadata_handle(md);
  }

  // CreateTopics returns once the controller has the topics; brokers learn of them a little later. Waiting
  // until every partition has a leader means a subscribe() or produce() right after sees the topic.
  result<void> wait_for_leaders(const std::vector<topic_spec>& topics, steady::time_point deadline) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      if (left.count() <= 0) break;
      auto md = metadata(true, left, "create_topics (waiting for leaders)");
      if (!md) return std::move(md).err();
      bool all = true;
      std::vector<topic_metadata> found;  // with the partition count the cluster has (an existing topic's may differ)
      for (const auto& want : topics) {
        bool ready = false;
        for (int i = 0; i < (*md)->topic_cnt && !ready; ++i) {
          const auto& t = (*md)->topics[i];
          if (want.name != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt <= 0) continue;
          ready = true;
          for (int j = 0; j < t.partition_cnt; ++j) ready = ready && t.partitions[j].leader >= 0;
          if (ready) found.push_back({t.topic, t.partition_cnt});
        }
        all = all && ready;
      }
      if (all) {
        // The metadata names leaders before they serve: only an answer from each partition proves it.
        for (const auto& t : found) {
          for (std::int32_t p = 0; p < t.partitions; ++p) {
            auto wm = query_watermarks({t.name, p}, deadline);
            if (!wm) return std::move(wm).err();
          }
        }
        return ok();
      }
      std::this_thread::sleep_for(propagation_probe_interval);  // admin call, off the I/O threads by contract
    }
    return error::retry("timed_out", "create_topics: topics created but without partition leaders within " +
                                         std::to_string(options_.request_timeout.count()) + " ms");
  }

  const kafka_options options_;
  client_handle producer_;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // signalled whenever a record leaves pending_ (flush waits on it)
  std::map<std::uint64_t, std::unique_ptr<pending>> pending_;  // by produce order; begin() is the oldest
  std::uint64_t next_seq_ = 0;
};

}  // namespace
}  // namespace kafka

result<std::unique_ptr<event_log>> open_kafka_log(const kafka_options& options) {
  auto log = std::make_unique<kafka::kafka_event_log>(options);
  if (auto r = log->start(); !r) return std::move(r).err();
  return std::unique_ptr<event_log>(std::move(log));
}

std::string kafka_library_version() { return rd_kafka_version_str(); }

}  // namespace passerelle::log

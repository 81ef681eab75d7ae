// Consumers of the Kafka backend: a librdkafka high-level consumer per subscribe() / open_reader().

#include "broker/log/kafka/kafka_consumer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "broker/log/kafka/kafka_client.h"

namespace passerelle::log::kafka {
namespace {

using steady = std::chrono::steady_clock;

// One librdkafka consumer instance.
// Lifecycle: created by event_log::subscribe()/open_reader(), owned by the caller (unique_ptr); destroying it
// closes the consumer (leaving the group, which runs on_revoked on the destroying thread) and frees it. The
// event_log must outlive it.
// Thread: one owner thread calls every method; the rebalance callback runs on that thread, inside poll()
// (rd_kafka_consumer_poll serves it) or inside the destructor (consumer close).
class kafka_consumer final : public consumer {
 public:
  kafka_consumer(const kafka_options& options, bool group, rebalance_listener listener, const void* owner)
      : request_timeout_(options.request_timeout), group_(group), listener_(std::move(listener)), owner_(owner) {}

  ~kafka_consumer() override {
    if (rk_) close_bounded();
  }

  kafka_consumer(const kafka_consumer&) = delete;
  kafka_consumer& operator=(const kafka_consumer&) = delete;

  // Second construction step: the conf needs `this` as opaque for the rebalance callback.
  result<void> start(conf_handle conf, const std::vector<std::string>& topics,
                     const std::vector<topic_partition_offset>& assignment) {
    rd_kafka_conf_set_opaque(conf.get(), this);
    if (group_) rd_kafka_conf_set_rebalance_cb(conf.get(), &kafka_consumer::rebalance_cb);
    auto client = make_client(std::move(conf), client_role::consumer);
    if (!client) return std::move(client).err();
    rk_ = std::move(client).value();
    // Serve client errors and rebalances from consumer_poll (the owner thread), not from a poll nobody calls.
    rd_kafka_poll_set_consumer(rk_.get());
    if (group_) {
      partition_list list = to_list(std::vector<topic_partition>{});
      for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
      if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return map_error(err, "kafka subscribe");
      }
    } else {
      partition_list list = to_list(assignment);
      if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return map_error(err, "kafka reader assign");
      }
    }
    return ok();
  }

  result<std::vector<record>> poll(std::chrono::milliseconds timeout, std::size_t max_records) override {
    if (deferred_) {
      error e = std::move(*deferred_);
      deferred_.reset();
      return e;
    }
    if (max_records == 0) return error::reject("invalid", "poll: max_records must be > 0");
    std::vector<record> out;
    collecting_ = &out;
    struct reset_collecting {
      std::vector<record>** slot;
      ~reset_collecting() { *slot = nullptr; }
    } reset{&collecting_};
    const auto deadline = steady::now() + timeout;
    while (out.size() < max_records) {
      // Wait only while nothing is collected; once a record is in hand, take what is already fetched.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      const int wait_ms = out.empty() ? to_timeout_ms(left) : 0;
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), wait_ms);
      if (m == nullptr) {
        if (!out.empty() || steady::now() >= deadline) break;
        continue;
      }
      handle_message msg(m);
      if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out.push_back(to_record(msg.get()));
        continue;
      }
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      std::string detail = msg_text(msg.get());
      error e = msg->err == RD_KAFKA_RESP_ERR__FATAL && fatal_error_of(rk_.get())
                    ? *fatal_error_of(rk_.get())
                    : map_error(msg->err, "kafka consume", detail);
      if (e.kind == error_kind::retry) {
        // Broker down, leader moving...: librdkafka reconnects and resumes by itself.
        emit_log(4, e.message);
        if (out.empty() && steady::now() >= deadline) break;
        continue;
      }
      if (out.empty()) return e;
      deferred_ = std::move(e);  // deliver the records first, the error on the next poll
      break;
    }
    return out;
  }

  result<void> commit(const std::vector<topic_partition_offset>& offsets) override {
    if (!group_) {
      return error::reject("no_group", "commit: this reader (open_reader) belongs to no consumer group");
    }
    if (offsets.empty()) return ok();
    for (const auto& o : offsets) {
      if (o.offset < 0) return error::reject("invalid", "commit: negative offset for " + o.topic);
    }
    partition_list list = to_list(offsets);
    // rd_kafka_commit() could wait without bound for the group coordinator; the queue variant lets us bound
    // the wait by request_timeout (a late answer is then dropped with the queue).
    queue_handle q(rd_kafka_queue_new(rk_.get()));
    if (rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_.get(), list.get(), q.get(), nullptr, nullptr);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return map_error(err, "kafka commit");
    }
    event_handle ev(rd_kafka_queue_poll(q.get(), to_timeout_ms(request_timeout_)));
    if (!ev) {
      return error::retry("timed_out", "kafka commit: no answer from the group coordinator within " +
                                           std::to_string(request_timeout_.count()) + " ms");
    }
    if (rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return map_error(err, "kafka commit", rd_kafka_event_error_string(ev.get()));
    }
    if (const auto* parts = rd_kafka_event_topic_partition_list(ev.get())) {
      for (int i = 0; i < parts->cnt; ++i) {
        if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return map_error(parts->elems[i].err, "kafka commit",
                           std::string(parts->elems[i].topic) + "/" + std::to_string(parts->elems[i].partition));
        }
      }
    }
    return ok();
  }

  result<void> seek(const topic_partition_offset& position) override {
    if (position.offset < 0) return error::reject("invalid", "seek: negative offset");
    const topic_partition tp{position.topic, position.partition};
    bool assigned = false;
    for (const auto& a : assignment()) assigned = assigned || a == tp;
    if (!assigned) {
      return error::not_found("not_assigned", "seek: " + position.topic + "/" + std::to_string(position.partition) +
                                                  " is not assigned to this consumer");
    }
    partition_list list = to_list(std::vector<topic_partition_offset>{position});
    handle<rd_kafka_error_t> err(rd_kafka_seek_partitions(rk_.get(), list.get(), to_timeout_ms(request_timeout_)));
    if (err) {
      return map_error(rd_kafka_error_code(err.get()), "kafka seek", rd_kafka_error_string(err.get()));
    }
    if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) return map_error(list->elems[0].err, "kafka seek");
    return ok();
  }

  // For group_metadata_of(): which log made this consumer, whether it is a group member, its client.
  const void* owner() const noexcept { return owner_; }
  bool is_group_member() const noexcept { return group_; }
  rd_kafka_t* client() const noexcept { return rk_.get(); }

  std::vector<topic_partition> assignment() const override {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    partition_list list(raw);
    return from_list(list.get());
  }

 private:
  // rd_kafka_consumer_close() waits for the group coordinator without bound (45 s and more when the cluster
  // is gone). The queue variant lets us stop waiting after request_timeout; the revocation it triggers comes
  // back as an event on our queue and goes through the same handler as in poll().
  void close_bounded() {
    rd_kafka_t* rk = rk_.get();
    queue_handle q(rd_kafka_queue_new(rk));
    handle<rd_kafka_error_t> err(rd_kafka_consumer_close_queue(rk, q.get()));
    bool closed = !err;
    if (err) emit_log(4, std::string("consumer close: ") + rd_kafka_error_string(err.get()));
    const auto deadline = steady::now() + request_timeout_;
    while (closed && rd_kafka_consumer_closed(rk) == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      if (left.count() <= 0) {
        closed = false;
        emit_log(4, "consumer close: the group coordinator did not answer within " +
                        std::to_string(request_timeout_.count()) + " ms; leaving without a clean group leave");
        break;
      }
      event_handle ev(rd_kafka_queue_poll(q.get(), to_timeout_ms(left)));
      if (ev && rd_kafka_event_type(ev.get()) == RD_KAFKA_EVENT_REBALANCE) {
        on_rebalance(rk, rd_kafka_event_error(ev.get()), rd_kafka_event_topic_partition_list(ev.get()));
      }
    }
    q.reset();
    // Closed (or given up on): destroy without a second, unbounded close.
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  struct message_deleter {
    void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
  };
  using handle_message = std::unique_ptr<rd_kafka_message_t, message_deleter>;

  static std::string msg_text(const rd_kafka_message_t* m) {
    std::string s = m->rkt != nullptr ? std::string(rd_kafka_topic_name(m->rkt)) + ": " : std::string();
    if (m->payload != nullptr) s.append(static_cast<const char*>(m->payload), m->len);
    return s;
  }

  static record to_record(const rd_kafka_message_t* m) {
    record r;
    r.topic = rd_kafka_topic_name(m->rkt);
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    r.timestamp_ms = rd_kafka_message_timestamp(m, &ts_type);
    if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;  // owned by the message
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
      const char* name = nullptr;
      const void* val = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        r.hdrs.push_back({name, val != nullptr ? std::string(static_cast<const char*>(val), size) : std::string()});
      }
    }
    return r;
  }

  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    static_cast<kafka_consumer*>(opaque)->on_rebalance(rk, err, parts);
  }

  // Eager protocol (librdkafka's default range,roundrobin): every rebalance revokes the whole assignment, then
  // assigns the new one. Cooperative (partition.assignment.strategy=cooperative-sticky): only the partitions
  // that move are revoked/assigned. Either way on_revoked runs before the partitions go (so the owner can
  // commit) and on_assigned after they are ours.
  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    const auto list = from_list(parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        handle<rd_kafka_error_t> e(rd_kafka_incremental_assign(rk, parts));
        if (e) emit_log(3, std::string("incremental assign: ") + rd_kafka_error_string(e.get()));
      } else if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        emit_log(3, std::string("assign: ") + rd_kafka_err2str(e));
      }
      notify(listener_.on_assigned, list);
      return;
    }
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      emit_log(3, std::string("rebalance error: ") + rd_kafka_err2str(err));
    }
    // Records of the revoked partitions collected earlier in this poll() were never seen by the owner, so it
    // cannot commit them: drop them. The partition's next owner reads them from the committed offset.
    if (collecting_ != nullptr) {
      std::erase_if(*collecting_, [&](const record& r) {
        return std::binary_search(list.begin(), list.end(), topic_partition{r.topic, r.partition});
      });
    }
    notify(listener_.on_revoked, list);
    if (cooperative) {
      handle<rd_kafka_error_t> e(rd_kafka_incremental_unassign(rk, parts));
      if (e) emit_log(3, std::string("incremental unassign: ") + rd_kafka_error_string(e.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  // Listener code runs inside a librdkafka C callback: an exception must not unwind through it.
  static void notify(const std::function<void(const std::vector<topic_partition>&)>& fn,
                     const std::vector<topic_partition>& list) {
    if (!fn) return;
    try {
      fn(list);
    } catch (const std::exception& e) {
      emit_log(3, std::string("rebalance listener threw: ") + e.what());
    } catch (...) {
      emit_log(3, "rebalance listener threw a non-std exception");
    }
  }

  std::chrono::milliseconds request_timeout_;
  bool group_;
  rebalance_listener listener_;
  const void* owner_;  // the event_log that made it (compared only)
  client_handle rk_;
  std::optional<error> deferred_;              // a non-retry consume error met after records were collected
  std::vector<record>* collecting_ = nullptr;  // the batch poll() is filling, while inside poll()
};

}  // namespace

result<std::unique_ptr<consumer>> make_group_consumer(const kafka_options& options, consumer_config config,
                                                      const void* owner) {
  if (config.group.empty()) return error::reject("invalid", "subscribe: group must not be empty");
  if (config.topics.empty()) return error::reject("invalid", "subscribe: at least one topic is required");
  for (const auto& t : config.topics) {
    if (t.empty()) return error::reject("invalid", "subscribe: empty topic name");
  }
  auto conf = make_conf(options, client_role::consumer);
  if (!conf) return std::move(conf).err();
  if (auto r = set_property(conf->get(), "group.id", config.group); !r) return std::move(r).err();
  const char* reset = config.reset == offset_reset::earliest ? "earliest" : "latest";
  if (auto r = set_property(conf->get(), "auto.offset.reset", reset); !r) return std::move(r).err();
  auto c = std::make_unique<kafka_consumer>(options, true, std::move(config.listener), owner);
  if (auto r = c->start(std::move(conf).value(), config.topics, {}); !r) return std::move(r).err();
  return std::unique_ptr<consumer>(std::move(c));
}

result<std::unique_ptr<consumer>> make_reader(const kafka_options& options,
                                              const std::vector<topic_partition_offset>& start, const void* owner) {
  for (const auto& s : start) {
    if (s.topic.empty() || s.partition < 0 || s.offset < 0) {
      return error::reject("invalid", "open_reader: each start needs a topic, a partition >= 0 and an offset >= 0");
    }
  }
  auto conf = make_conf(options, client_role::consumer);
  if (!conf) return std::move(conf).err();
  // librdkafka's consumer API needs a group id even for manual assignment; a reader never subscribes or
  // commits, so the id is only a label. An offset below the log start (deleted by retention) restarts at the
  // earliest record still stored.
  if (auto r = set_property(conf->get(), "group.id", options.client_id + ".reader"); !r) return std::move(r).err();
  if (auto r = set_property(conf->get(), "auto.offset.reset", "earliest"); !r) return std::move(r).err();
  auto c = std::make_unique<kafka_consumer>(options, false, rebalance_listener{}, owner);
  if (auto r = c->start(std::move(conf).value(), {}, start); !r) return std::move(r).err();
  return std::unique_ptr<consumer>(std::move(c));
}

result<group_metadata_handle> group_metadata_of(consumer& c, const void* owner) {
  auto* member = dynamic_cast<kafka_consumer*>(&c);
  if (member == nullptr || member->owner() != owner || !member->is_group_member()) {
    return error::reject("foreign_consumer",
                         "send_offsets: the consumer must be a group member (subscribe) of this same Kafka event log");
  }
  group_metadata_handle md(rd_kafka_consumer_group_metadata(member->client()));
  if (!md) return error::fatal("producer_fatal", "send_offsets: the consumer has no group metadata");
  return md;
}

}  // namespace passerelle::log::kafka

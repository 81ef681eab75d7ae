// librdkafka plumbing shared by the producer side (kafka_log.cpp) and the consumers (kafka_consumer.cpp).

#include "broker/log/kafka/kafka_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdio>
#include <mutex>
#include <optional>

#include "broker/log/kafka/kafka_log.h"

namespace passerelle::log {

namespace {

// The process-wide log hook. librdkafka calls log_cb from its own threads, so the hook is copied under a
// mutex and called outside it (a slow hook must not serialise every client's logging behind the lock).
std::mutex& hook_mutex() {
  static std::mutex m;
  return m;
}
kafka_log_hook& hook_slot() {
  static kafka_log_hook h;
  return h;
}

}  // namespace

void set_kafka_log_hook(kafka_log_hook hook) {
  std::lock_guard lock(hook_mutex());
  hook_slot() = std::move(hook);
}

namespace kafka {

void emit_log(int level, std::string_view msg) {
  kafka_log_hook hook;
  {
    std::lock_guard lock(hook_mutex());
    hook = hook_slot();
  }
  if (hook) {
    hook(level, msg);
    return;
  }
  std::fprintf(stderr, "kafka[%d] %.*s\n", level, static_cast<int>(msg.size()), msg.data());
}

namespace {

void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  std::string line;
  line.append(rk != nullptr ? rd_kafka_name(rk) : "rdkafka").append(" ").append(fac).append(": ").append(buf);
  emit_log(level, line);
}

// Client-level errors (broker down, all brokers down, authentication, fatal). librdkafka recovers from the
// transient ones by itself; produce and consume results carry what callers need, so these are only logged.
void error_cb(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const bool transient = code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                         code == RD_KAFKA_RESP_ERR__RESOLVE;
  std::string line;
  line.append(rd_kafka_name(rk)).append(" error ").append(rd_kafka_err2name(code)).append(": ").append(reason);
  emit_log(transient ? 4 : 3, line);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Settings the contract fixes. A user property may repeat the fixed value (accepted) but never change it.
struct fixed_setting {
  std::string_view key;
  std::string_view value;
  std::string_view also_accepted;  // an equivalent spelling ("-1" for acks=all)
  std::string_view why;
};
constexpr std::array<fixed_setting, 6> fixed_settings{{
    {"acks", "all", "-1", "records are durable only once every in-sync replica has them"},
    {"request.required.acks", "all", "-1", "records are durable only once every in-sync replica has them"},
    {"enable.idempotence", "true", "true", "retries must neither duplicate nor reorder records"},
    {"partitioner", "murmur2_random", "murmur2_random", "every client must put a key on the same partition"},
    {"enable.auto.commit", "false", "false", "offsets are committed only after records are processed"},
    {"isolation.level", "read_committed", "read_committed",
     "consumers must never see records of open or aborted transactions"},
}};

// Properties that come from a dedicated option: two sources for one value would be a trap.
struct option_backed {
  std::string_view key;
  std::string_view option;
};
constexpr std::array<option_backed, 11> option_backed_settings{{
    {"bootstrap.servers", "kafka.bootstrap_servers"},
    {"metadata.broker.list", "kafka.bootstrap_servers"},
    {"client.id", "client_id"},
    {"message.timeout.ms", "delivery_timeout"},
    {"delivery.timeout.ms", "delivery_timeout"},
    {"queue.buffering.max.messages", "max_queued_records"},
    {"group.id", "the consumer's group"},
    {"auto.offset.reset", "the consumer's offset_reset"},
    {"enable.auto.offset.store", "nothing (Passerelle commits explicit offsets)"},
    {"transactional.id", "transactional_producer_config.transactional_id"},
    {"transaction.timeout.ms", "transactional_producer_config.transaction_timeout"},
}};

error invalid_config(std::string message) { return error::reject("invalid_config", std::move(message)); }

result<void> check_user_property(const std::string& key, const std::string& value) {
  for (const auto& f : fixed_settings) {
    if (key != f.key) continue;
    const std::string v = lower(value);
    if (v == f.value || v == f.also_accepted) return ok();
    std::string msg = "kafka.properties.";
    msg.append(key).append("=").append(value).append(": Passerelle fixes ").append(f.key).append("=");
    msg.append(f.value).append(" (").append(f.why).append("); remove the key");
    return invalid_config(std::move(msg));
  }
  for (const auto& o : option_backed_settings) {
    if (key == o.key) {
      return invalid_config("kafka.properties." + key + ": set by " + std::string(o.option) +
                            ", not by a librdkafka property; remove the key");
    }
  }
  return ok();
}

result<void> validate_options(const kafka_options& o) {
  if (o.bootstrap_servers.empty()) return invalid_config("kafka.bootstrap_servers: must not be empty");
  if (o.partitions <= 0) return invalid_config("kafka.partitions: must be > 0");
  if (o.replication_factor <= 0) return invalid_config("kafka.replication_factor: must be > 0");
  // librdkafka reads message.timeout.ms=0 as "never time out": an unbounded wait is not allowed here.
  if (o.delivery_timeout.count() <= 1) return invalid_config("kafka delivery_timeout: must be > 1 ms");
  if (o.delivery_timeout.count() > INT32_MAX) return invalid_config("kafka delivery_timeout: too large");
  if (o.request_timeout.count() <= 0) return invalid_config("kafka request_timeout: must be > 0 ms");
  if (o.max_queued_records == 0 || o.max_queued_records > static_cast<std::size_t>(INT32_MAX)) {
    return invalid_config("kafka max_queued_records: must be in [1, 2147483647]");
  }
  if (o.client_id.empty()) return invalid_config("kafka client_id: must not be empty");
  return ok();
}

}  // namespace

int to_timeout_ms(std::chrono::milliseconds d) noexcept {
  if (d.count() <= 0) return 0;
  if (d.count() >= INT32_MAX) return INT32_MAX;
  return static_cast<int>(d.count());
}

result<void> set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> errstr{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
    return invalid_config("kafka property " + key + "=" + value + ": " + errstr.data());
  }
  return ok();
}

result<conf_handle> make_conf(const kafka_options& options, client_role role) {
  if (auto v = validate_options(options); !v) return std::move(v).err();
  conf_handle conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_cb);
  rd_kafka_conf_set_error_cb(conf.get(), &error_cb);

  std::vector<std::pair<std::string, std::string>> settings{
      {"bootstrap.servers", options.bootstrap_servers},
      {"client.id", options.client_id},
  };
  if (role == client_role::producer) {
    const auto delivery = options.delivery_timeout.count();
    settings.insert(settings.end(),
                    {
                        {"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"partitioner", "murmur2_random"},
                        {"message.timeout.ms", std::to_string(delivery)},
                        {"queue.buffering.max.messages", std::to_string(options.max_queued_records)},
                        // A short linger batches the bursts of an HTTP server without adding noticeable latency;
                        // librdkafka requires it below message.timeout.ms.
                        {"linger.ms", std::to_string(std::min<long long>(5, delivery - 1))},
                        // Passerelle creates its topics with their partition count; a typo must fail (unknown_topic),
                        // not silently create a one-partition topic on brokers that allow auto-creation.
                        {"allow.auto.create.topics", "false"},
                        // librdkafka waits this long (default 30 s) before it believes a topic is missing, to cover
                        // topics created just before. create_topics() waits for partition leaders, so Passerelle's own
                        // topics need no such grace; a missing topic should fail fast and loudly.
                        {"topic.metadata.propagation.max.ms", "5000"},
                    });
  } else {
    settings.insert(settings.end(), {
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"},
                                        {"enable.partition.eof", "false"},
                                        // librdkafka's default, fixed: records of open or aborted transactions
                                        // (and their markers) are never delivered.
                                        {"isolation.level", "read_committed"},
                                    });
  }
  for (const auto& [k, v] : settings) {
    if (auto r = set_property(conf.get(), k, v); !r) return std::move(r).err();
  }
  for (const auto& [k, v] : options.properties) {
    if (auto r = check_user_property(k, v); !r) return std::move(r).err();
    if (auto r = set_property(conf.get(), k, v); !r) return std::move(r).err();
  }
  return conf;
}

result<client_handle> make_client(conf_handle conf, client_role role) {
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(role == client_role::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf.get(),
                                errstr.data(), errstr.size());
  if (rk == nullptr) {
    // rd_kafka_new leaves the conf with the caller on failure; conf_handle frees it. Configuration
    // conflicts only found at creation (e.g. idempotence with max.in.flight > 5) are the user's to fix.
    return invalid_config(std::string("kafka client creation failed: ") + errstr.data());
  }
  (void)conf.release();  // rd_kafka_new took ownership
  return client_handle(rk);
}

std::optional<error> fatal_error_of(rd_kafka_t* rk) {
  std::array<char, 512> errstr{};
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk, errstr.data(), errstr.size());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return error::fatal("producer_fatal", std::string("kafka client failed for good (") + rd_kafka_err2name(err) +
                                            "): " + errstr.data() + "; the event log must be reopened");
}

error map_error(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail) {
  std::string msg(context);
  msg.append(": ").append(rd_kafka_err2name(err)).append(" (").append(rd_kafka_err2str(err)).append(")");
  if (!detail.empty()) msg.append(": ").append(detail);
  switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL: return error::retry("queue_full", std::move(msg));
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE: return error::retry("timed_out", std::move(msg));
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY: return error::retry("shutting_down", std::move(msg));
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return error::not_found("unknown_topic", std::move(msg));
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP: return error::not_found("unknown_group", std::move(msg));
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION: return error::reject("invalid", std::move(msg));
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL: return {error_kind::unauthorized, "unauthorized", std::move(msg)};
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST: return error::retry("rebalance", std::move(msg));
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__CONFLICT: return {error_kind::conflict, "conflict", std::move(msg)};
    // The idempotent producer's guarantees are broken (sequence gap, fenced epoch, ...): only a new producer
    // can continue, and records may have been lost; never retry silently.
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR__INCONSISTENT: return error::fatal("producer_fatal", std::move(msg));
    default:
      // Broker down, leader moving, not enough replicas, transport errors...: librdkafka retries these
      // internally; by the time one reaches us, the caller can only try again later.
      return error::retry("unavailable", std::move(msg));
  }
}

partition_list to_list(const std::vector<topic_partition>& parts) {
  partition_list list(rd_kafka_topic_partition_list_new(static_cast<int>(std::max<std::size_t>(parts.size(), 1))));
  for (const auto& p : parts) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  return list;
}

partition_list to_list(const std::vector<topic_partition_offset>& parts) {
  partition_list list(rd_kafka_topic_partition_list_new(static_cast<int>(std::max<std::size_t>(parts.size(), 1))));
  for (const auto& p : parts) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  return list;
}

std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kafka
}  // namespace passerelle::log

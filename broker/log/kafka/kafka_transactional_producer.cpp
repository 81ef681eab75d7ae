// The Kafka transactional producer: librdkafka's transactional API (init/begin/send_offsets/commit/abort) on a
// dedicated client. Semantics and errors: broker/log/event_log.h; design and limits: docs/architecture.md.

#include "broker/log/kafka/kafka_transactional_producer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/log/kafka/kafka_client.h"
#include "broker/log/kafka/kafka_consumer.h"

namespace passerelle::log::kafka {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t max_transactional_id_bytes = 249;

// The codes by which a newer producer with our transactional id shows (directly or as the cause of _FATAL).
bool is_fencing(rd_kafka_resp_err_t code) {
  return code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

// Calls a produce completion; nothing may unwind through our callers' loops.
void complete(produce_callback& done, result<produce_ack> r) {
  try {
    done(std::move(r));
  } catch (const std::exception& e) {
    emit_log(3, std::string("transactional produce completion threw: ") + e.what());
  } catch (...) {
    emit_log(3, "transactional produce completion threw a non-std exception");
  }
}

// Lifecycle: created by kafka_event_log::open_transactional_producer (make_transactional_producer), owned by the
// caller, destroyed before the event_log; the destructor aborts an open transaction (bounded by open_timeout).
// Thread: one owner thread calls every method. Nobody else polls this client, so its delivery reports run on the
// owner thread too, inside produce() (rd_kafka_poll(0)), commit() and abort() (librdkafka flushes there); they only
// record the outcome, and the caller's completions run when the transaction ends.
class kafka_txn_producer final : public transactional_producer {
 public:
  kafka_txn_producer(const kafka_options& options, transactional_producer_config config, const void* owner)
      : options_(options), config_(std::move(config)), owner_(owner) {}

  ~kafka_txn_producer() override {
    if (rk_ && open_ && !fatal_) {
      handle<rd_kafka_error_t> e(abort_transaction(config_.open_timeout));
      if (e) emit_log(4, std::string("transactional producer close: abort failed: ") + rd_kafka_error_string(e.get()));
    }
    // Destroy the client first: afterwards no delivery report can reach a record we free below.
    rk_.reset();
    finish([](const txn_record&) -> result<produce_ack> {
      return error::retry("aborted", "the transactional producer was destroyed with its transaction open");
    });
  }

  kafka_txn_producer(const kafka_txn_producer&) = delete;
  kafka_txn_producer& operator=(const kafka_txn_producer&) = delete;

  result<void> start() {
    auto conf = make_conf(options_, client_role::producer);
    if (!conf) return std::move(conf).err();
    const std::vector<std::pair<std::string, std::string>> settings{
        {"client.id", options_.client_id + ".txn"},
        {"transactional.id", config_.transactional_id},
        {"transaction.timeout.ms", std::to_string(config_.transaction_timeout.count())},
    };
    for (const auto& [k, v] : settings) {
      if (auto r = set_property(conf->get(), k, v); !r) return std::move(r).err();
    }
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &kafka_txn_producer::delivery_cb);
    auto client = make_client(std::move(conf).value(), client_role::producer);
    if (!client) return std::move(client).err();
    rk_ = std::move(client).value();
    handle<rd_kafka_error_t> e(rd_kafka_init_transactions(rk_.get(), to_timeout_ms(config_.open_timeout)));
    if (e) {
      if (rd_kafka_error_is_retriable(e.get()) || rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        return error::retry("timed_out", "open_transactional_producer '" + config_.transactional_id +
                                             "': init_transactions: " + rd_kafka_error_string(e.get()));
      }
      return to_error(e.get(), "open_transactional_producer '" + config_.transactional_id + "': init_transactions");
    }
    return ok();
  }

  result<void> begin() override {
    if (auto u = usable(); !u) return u;
    if (open_) {
      return error{error_kind::conflict, "transaction_open", "begin: a transaction is already open (or unfinished)"};
    }
    if (handle<rd_kafka_error_t> e(rd_kafka_begin_transaction(rk_.get())); e) {
      return on_error(e.get(), "begin_transaction");
    }
    open_ = true;
    abort_required_ = false;
    return ok();
  }

  void produce(produce_request request, produce_callback done) override {
    if (!done) done = [](const result<produce_ack>&) {};
    if (auto u = usable(); !u) {
      complete(done, std::move(u).err());
      return;
    }
    if (!open_) {
      complete(done, error{error_kind::conflict, "no_transaction", "produce: no transaction is open (call begin())"});
      return;
    }
    if (abort_required_) {
      complete(done, error::retry("abortable", "produce: the transaction can only be aborted now"));
      return;
    }
    std::optional<error> refused;
    if (request.key.empty()) refused = error::reject("invalid", "produce: the record key must not be empty");
    if (request.topic.empty()) refused = error::reject("invalid", "produce: the topic must not be empty");
    if (records_.size() >= config_.max_records) {
      refused = error::reject("transaction_too_large",
                              "a transaction holds at most " + std::to_string(config_.max_records) + " records");
    }
    if (refused) {
      abort_required_ = true;  // never commit a transaction with an output missing
      complete(done, std::move(*refused));
      return;
    }
    auto owned = std::make_unique<txn_record>();
    owned->done = std::move(done);
    owned->key = std::move(request.key);
    owned->value = std::move(request.value);
    txn_record* p = owned.get();
    records_.push_back(std::move(owned));

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
    handle<rd_kafka_error_t> err(rd_kafka_produceva(rk_.get(), vu.data(), n));
    if (!err) {
      (void)hdrs.release();  // librdkafka owns the headers now
      // Serve delivery reports that are ready, so they do not pile up in a long transaction (they only record
      // outcomes; no user code runs here).
      rd_kafka_poll(rk_.get(), 0);
      return;
    }
    // Not enqueued: the record is not part of the transaction, so the transaction must not commit.
    std::unique_ptr<txn_record> failed = std::move(records_.back());
    records_.pop_back();
    abort_required_ = true;
    const rd_kafka_resp_err_t code = rd_kafka_error_code(err.get());
    error e = code == RD_KAFKA_RESP_ERR__FATAL
                  ? fail_for_good(fatal_cause("produce"))
                  : map_error(code, "produce to " + request.topic, rd_kafka_error_string(err.get()));
    complete(failed->done, std::move(e));
  }

  result<void> send_offsets(consumer& input, const std::vector<topic_partition_offset>& next_offsets) override {
    if (auto u = usable(); !u) return u;
    if (!open_) {
      return error{error_kind::conflict, "no_transaction", "send_offsets: no transaction is open (call begin())"};
    }
    if (abort_required_) return error::retry("abortable", "send_offsets: the transaction can only be aborted now");
    auto md = group_metadata_of(input, owner_);
    if (!md) return std::move(md).err();
    if (next_offsets.empty()) return error::reject("invalid", "send_offsets: no offsets given");
    for (const auto& o : next_offsets) {
      if (o.topic.empty() || o.partition < 0 || o.offset < 0) {
        return error::reject("invalid", "send_offsets: each offset needs a topic, a partition >= 0 and an offset >= 0");
      }
    }
    partition_list list = to_list(next_offsets);
    handle<rd_kafka_error_t> e(rd_kafka_send_offsets_to_transaction(rk_.get(), list.get(), md->get(),
                                                                    to_timeout_ms(options_.request_timeout)));
    if (e) return on_error(e.get(), "send_offsets_to_transaction");
    return ok();
  }

  result<void> commit(std::chrono::milliseconds timeout) override {
    if (auto u = usable(); !u) return u;
    if (!open_) return error{error_kind::conflict, "no_transaction", "commit: no transaction is open"};
    if (abort_required_) {
      return error::retry("abortable", "commit: a produce of this transaction failed; abort() it and redo the work");
    }
    // Flushes the transaction's records (serving their delivery reports here), then commits. Bounded by timeout.
    if (handle<rd_kafka_error_t> e(rd_kafka_commit_transaction(rk_.get(), to_timeout_ms(timeout))); e) {
      return on_error(e.get(), "commit_transaction");
    }
    open_ = false;
    serve_remaining_reports();
    finish([](const txn_record& r) -> result<produce_ack> {
      if (r.report && r.report->ok()) return *r.report;
      // Committed means delivered; only the offset is unknown if the report never came (not expected).
      return error::fatal("producer_fatal", "transaction committed but the record's delivery report is missing");
    });
    return ok();
  }

  result<void> abort(std::chrono::milliseconds timeout) override {
    if (auto u = usable(); !u) return u;
    if (!open_) return error{error_kind::conflict, "no_transaction", "abort: no transaction is open"};
    if (handle<rd_kafka_error_t> e(abort_transaction(timeout)); e) return on_error(e.get(), "abort_transaction");
    open_ = false;
    abort_required_ = false;
    serve_remaining_reports();
    finish([](const txn_record& r) -> result<produce_ack> {
      // A record whose own failure made the transaction abortable reports that failure; the others were discarded.
      if (r.report && !r.report->ok() && r.report->err().code != "shutting_down") return r.report->err();
      return error::retry("aborted", "the transaction was aborted");
    });
    return ok();
  }

 private:
  // A record of the open transaction: the caller's completion, the key and value librdkafka points into (no
  // copy), and the delivery report once it came. Heap-allocated (the delivery report finds it by pointer).
  struct txn_record {
    produce_callback done;
    std::string key;
    std::string value;
    std::optional<result<produce_ack>> report;
  };

  static void delivery_cb(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
    static_cast<kafka_txn_producer*>(opaque)->on_delivery(m);
  }

  void on_delivery(const rd_kafka_message_t* m) {
    auto* r = static_cast<txn_record*>(m->_private);
    if (r == nullptr) return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
      r->report.emplace(produce_ack{m->partition, m->offset, rd_kafka_message_timestamp(m, &type)});
    } else {
      const std::string topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "?";
      r->report.emplace(map_error(m->err, "produce to " + topic));
    }
  }

  // rd_kafka_abort_transaction, after letting the transaction's records reach the broker. An abort sent while
  // librdkafka is still adding the transaction's partitions (AddPartitionsToTxn) can be answered
  // INVALID_TXN_STATE by Kafka 3.x, which librdkafka 2.0.2 treats as FATAL (librdkafka issue #4849): flushing
  // first closes that window. Both steps share `timeout`.
  rd_kafka_error_t* abort_transaction(std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    (void)rd_kafka_flush(rk_.get(), to_timeout_ms(timeout));  // a timeout here is left to the abort's own
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    return rd_kafka_abort_transaction(rk_.get(), std::max(1, to_timeout_ms(left)));
  }

  // After commit/abort librdkafka has served every report in the normal case; this bounds the odd late one.
  void serve_remaining_reports() {
    const auto deadline = steady::now() + options_.request_timeout;
    auto missing = [&] {
      return std::any_of(records_.begin(), records_.end(), [](const auto& r) { return !r->report; });
    };
    while (missing() && rd_kafka_outq_len(rk_.get()) > 0 && steady::now() < deadline) rd_kafka_poll(rk_.get(), 10);
  }

  // Runs every record's completion with result_of(record) and forgets the transaction's records. A record whose
  // delivery report has not come yet stays allocated (librdkafka still points at it) until it comes or the
  // client is destroyed.
  void finish(const std::function<result<produce_ack>(const txn_record&)>& result_of) {
    auto records = std::move(records_);
    records_.clear();
    for (auto& r : records) {
      if (r->done) complete(r->done, result_of(*r));
      r->done = nullptr;
      if (!r->report && rk_) late_.push_back(std::move(r));
    }
    std::erase_if(late_, [](const auto& r) { return r->report.has_value() || r == nullptr; });
  }

  // The client's fatal error, as fatal/"fenced" when a newer producer with our id caused it.
  error fatal_cause(const std::string& what) {
    std::array<char, 512> errstr{};
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk_.get(), errstr.data(), errstr.size());
    if (is_fencing(cause)) return fenced(what + ": " + errstr.data());
    return error::fatal("producer_fatal", what + ": " + rd_kafka_err2name(cause) + ": " + errstr.data() +
                                              "; open a new transactional producer");
  }

  error fenced(const std::string& detail) const {
    return error::fatal("fenced", "transactional producer '" + config_.transactional_id +
                                      "' was fenced by a newer one with the same id (" + detail + ")");
  }

  // Ends the producer for good: every pending completion gets `e`, and so does every later call.
  error fail_for_good(error e) {
    fatal_ = e;
    open_ = false;
    finish([&](const txn_record&) -> result<produce_ack> { return e; });
    return e;
  }

  result<void> usable() {
    if (fatal_) return *fatal_;
    if (rd_kafka_fatal_error(rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail_for_good(fatal_cause("transactional producer"));
    }
    return ok();
  }

  // librdkafka transactional error -> passerelle::error, updating our state: fatal ends the producer, abortable
  // leaves the transaction open but only abortable, retriable changes nothing (call again).
  error on_error(const rd_kafka_error_t* e, const std::string& what) {
    error out = to_error(e, what);
    if (out.kind == error_kind::fatal) return fail_for_good(std::move(out));
    if (out.code == "abortable") abort_required_ = true;
    return out;
  }

  error to_error(const rd_kafka_error_t* e, const std::string& what) {
    const rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    std::string msg = what + ": " + rd_kafka_error_name(e) + ": " + rd_kafka_error_string(e);
    if (rd_kafka_error_is_fatal(e)) {
      if (is_fencing(code)) return fenced(msg);
      return fatal_cause(what);
    }
    if (rd_kafka_error_txn_requires_abort(e)) {
      return error::retry("abortable", std::move(msg) + "; abort() the transaction and redo the work");
    }
    if (rd_kafka_error_is_retriable(e)) {
      const bool timed_out = code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
      return error::retry(timed_out ? "timed_out" : "unavailable", std::move(msg) + "; call it again");
    }
    if (code == RD_KAFKA_RESP_ERR__STATE || code == RD_KAFKA_RESP_ERR__CONFLICT) {
      return error{error_kind::conflict, "conflict", std::move(msg)};
    }
    return map_error(code, what, rd_kafka_error_string(e));
  }

  const kafka_options options_;
  const transactional_producer_config config_;
  const void* owner_;
  // Records before the client: the client is destroyed first (members die in reverse order), so no delivery
  // report can reach a freed record.
  std::vector<std::unique_ptr<txn_record>> records_;  // the open transaction's, in produce order
  std::vector<std::unique_ptr<txn_record>> late_;     // of ended transactions, delivery report still due
  client_handle rk_;
  bool open_ = false;            // begin() succeeded and neither commit() nor abort() has ended it
  bool abort_required_ = false;  // open, but it can only be aborted
  std::optional<error> fatal_;
};

}  // namespace

result<std::unique_ptr<transactional_producer>> make_transactional_producer(const kafka_options& options,
                                                                            const transactional_producer_config& config,
                                                                            const void* owner) {
  const auto& id = config.transactional_id;
  if (id.empty() || id.size() > max_transactional_id_bytes) {
    return error::reject("invalid_config",
                         "transactional_id must be 1-" + std::to_string(max_transactional_id_bytes) + " bytes");
  }
  if (config.max_records == 0) return error::reject("invalid_config", "transaction max_records must be at least 1");
  if (config.open_timeout.count() <= 0) return error::reject("invalid_config", "transaction open_timeout must be > 0");
  // librdkafka requires message.timeout.ms <= transaction.timeout.ms: a record must not outlive its transaction.
  if (config.transaction_timeout < options.delivery_timeout || config.transaction_timeout.count() > INT32_MAX) {
    return error::reject("invalid_config", "transaction_timeout (" +
                                               std::to_string(config.transaction_timeout.count()) +
                                               " ms) must be >= the Kafka delivery_timeout (" +
                                               std::to_string(options.delivery_timeout.count()) + " ms)");
  }
  auto p = std::make_unique<kafka_txn_producer>(options, config, owner);
  if (auto r = p->start(); !r) return std::move(r).err();
  return std::unique_ptr<transactional_producer>(std::move(p));
}

}  // namespace passerelle::log::kafka

#include "broker/engine/lifecycle_engine.h"

#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include "broker/core/murmur2.h"
#include "broker/engine/engine_topics.h"
#include "broker/engine/store_layout.h"
#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "broker/lifecycle/timers.h"
#include "broker/state/changelog_restore.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::engine {

namespace {

// A state this engine committed to the changelog that the store may not hold yet (the materializer applies it a
// moment later): folds read it first. Dropped once the store's checkpoint is past its offset.
struct written_state {
  lifecycle::subject_state state;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

log::headers event_headers(const v1::Event& e) {
  return {{"event-id", e.event_id()},
          {"event-type", lifecycle::payload_type_name(e)},
          {"source", e.source().connector() + ":" + e.source().account()},
          {"content-type", "application/x-protobuf"}};
}

}  // namespace

// Everything the engine thread owns. Lives on the engine thread's stack.
struct lifecycle_engine::worker {
  lifecycle_engine& e;
  std::string state_topic;
  std::string history_topic;
  std::unique_ptr<log::transactional_producer> producer;
  std::unique_ptr<log::consumer> consumer;
  lifecycle::timer_index timers;
  std::set<log::topic_partition> owned;  // input partitions assigned to this member
  bool rebuild_timers = false;
  std::unordered_map<std::string, written_state> written;

  // The transaction being built.
  std::unordered_map<std::string, lifecycle::subject_state> working;
  std::set<std::string> dirty;
  std::map<log::topic_partition, std::int64_t> next_offsets;
  std::map<std::string, std::pair<std::int32_t, std::int64_t>> changelog_acks;  // subject -> where it was written
  engine_stats delta;

  explicit worker(lifecycle_engine& engine)
      : e(engine),
        state_topic(log::topics::full_name(engine.options_.topic_prefix, engine::state_changelog_topic)),
        history_topic(log::topics::full_name(engine.options_.topic_prefix, engine::history_topic)) {}

  // The consumer leaves its group first: closing it may call the rebalance listener, which uses the members below.
  ~worker() {
    consumer.reset();
    producer.reset();
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  std::int32_t partition_of(std::string_view subject_id) const {
    return core::kafka_partition_for_key(subject_id, e.options_.partitions);
  }

  bool owns_subject(const lifecycle::subject_state& s) const {
    const std::string topic = topic_for_kind(e.options_.topic_prefix, s.common.kind);
    return !topic.empty() && owned.contains({topic, partition_of(s.common.id)});
  }

  // The subject's current state: the transaction's working copy, else what this engine wrote, else the store.
  result<lifecycle::subject_state*> load(const std::string& id) {
    auto it = working.find(id);
    if (it != working.end()) return &it->second;
    lifecycle::subject_state s;
    if (auto w = written.find(id); w != written.end()) {
      s = w->second.state;
    } else {
      auto bytes = e.store_.get(state_key(id));
      if (!bytes) return std::move(bytes).err();
      if (*bytes) {
        auto decoded = lifecycle::decode(**bytes);
        if (!decoded) return std::move(decoded).err();
        s = std::move(*decoded);
      }
    }
    return &working.emplace(id, std::move(s)).first->second;
  }

  void produce(std::string topic, const std::string& key, std::string value, log::headers hdrs) {
    producer->produce({std::move(topic), key, std::move(value), std::move(hdrs), std::nullopt},
                      [](const result<log::produce_ack>&) {});  // a failure makes commit() answer abortable
  }

  void count(const lifecycle::fold_outcome& o) {
    switch (o.status) {
      case lifecycle::fold_status::applied: ++delta.folded; break;
      case lifecycle::fold_status::duplicate: ++delta.duplicates; break;
      case lifecycle::fold_status::stale: ++delta.stale; break;
      case lifecycle::fold_status::rejected: ++delta.rejected; break;
      case lifecycle::fold_status::echo: ++delta.echoes; break;
      case lifecycle::fold_status::ignored:
      case lifecycle::fold_status::invalid: ++delta.invalid; break;
      case lifecycle::fold_status::obsolete: break;
    }
  }

  // Writes what a fold produced into the open transaction. `input` is the folded input record (nullptr for a
  // timer firing).
  void emit(const std::string& id, const lifecycle::subject_state& s, const lifecycle::fold_outcome& o,
            const log::record* input) {
    using lifecycle::fold_status;
    if (o.status == fold_status::echo || o.status == fold_status::ignored || o.status == fold_status::invalid ||
        o.status == fold_status::obsolete) {
      return;
    }
    dirty.insert(id);  // counters and the dedup window are state too
    if (o.status == fold_status::applied && input != nullptr) {
      produce(history_topic, id, input->value, input->hdrs);
    }
    const std::string own_topic = topic_for_kind(e.options_.topic_prefix, s.common.kind);
    for (const v1::Event& d : o.derived) {
      std::string bytes = d.SerializeAsString();
      if (!own_topic.empty()) produce(own_topic, id, bytes, event_headers(d));
      produce(history_topic, id, std::move(bytes), event_headers(d));
    }
  }

  result<void> fold_record(const log::record& r, std::int64_t now) {
    next_offsets[{r.topic, r.partition}] = r.offset + 1;
    v1::Event event;
    if (r.key.empty() || !event.ParseFromString(r.value)) {
      ++delta.invalid;  // ingest validated it: only a foreign producer writes such records
      return {};
    }
    auto state = load(r.key);
    if (!state) return std::move(state).err();
    const auto outcome = lifecycle::fold(**state, event, now, e.options_.lifecycle);
    count(outcome);
    emit(r.key, **state, outcome, &r);
    return {};
  }

  result<void> fire_timers(std::int64_t now) {
    for (const auto& due : timers.due(now, e.options_.max_timers_per_batch)) {
      auto state = load(due.subject_id);
      if (!state) return std::move(state).err();
      const auto outcome = lifecycle::fire_timer(**state, due.t, now, e.options_.lifecycle);
      if (outcome.status == lifecycle::fold_status::applied) ++delta.timers_fired;
      if (outcome.status == lifecycle::fold_status::obsolete) {
        // Not due any more (the state moved on): refresh its deadlines so it is not asked again.
        timers.update(due.subject_id, lifecycle::deadlines(**state, e.options_.lifecycle));
        continue;
      }
      emit(due.subject_id, **state, outcome, nullptr);
    }
    return {};
  }

  void forget_transaction() {
    working.clear();
    dirty.clear();
    next_offsets.clear();
    changelog_acks.clear();
    delta = engine_stats{};
  }

  // Puts the input back at the group's committed offsets after an abort: the transaction's input is read again.
  result<void> rewind() {
    std::vector<log::topic_partition> tps(owned.begin(), owned.end());
    if (tps.empty()) return {};
    auto committed = e.log_.committed_offsets(group(), tps);
    if (!committed) return std::move(committed).err();
    for (std::size_t i = 0; i < tps.size(); ++i) {
      std::int64_t at = 0;
      if ((*committed)[i]) {
        at = *(*committed)[i];
      } else {
        auto wm = e.log_.get_watermarks(tps[i]);
        if (!wm) return std::move(wm).err();
        at = wm->low;
      }
      auto s = consumer->seek({tps[i].topic, tps[i].partition, at});
      if (!s) return s;
    }
    return {};
  }

  std::string group() const {
    return e.options_.group.empty() ? e.options_.topic_prefix + "lifecycle" : e.options_.group;
  }

  // One transaction: the batch's folds, due timers, changelog records and input offsets, atomically.
  result<void> transact(const std::vector<log::record>& batch, std::int64_t now) {
    forget_transaction();
    if (auto b = producer->begin(); !b) return b;
    for (const log::record& r : batch) {
      if (auto f = fold_record(r, now); !f) return f;
    }
    if (auto t = fire_timers(now); !t) return t;
    for (const std::string& id : dirty) {
      const lifecycle::subject_state& s = working.at(id);
      producer->produce({state_topic, id, lifecycle::encode(s), {}, std::nullopt},
                        [this, id](const result<log::produce_ack>& ack) {
                          if (ack) changelog_acks[id] = {ack->partition, ack->offset};
                        });
    }
    if (!next_offsets.empty()) {
      std::vector<log::topic_partition_offset> offsets;
      for (const auto& [tp, next] : next_offsets) offsets.push_back({tp.topic, tp.partition, next});
      if (auto s = producer->send_offsets(*consumer, offsets); !s) return s;
    }
    if (auto c = producer->commit(e.options_.commit_timeout); !c) return c;
    // Committed: the states are durable in the changelog. Keep them until the store has them; refresh timers.
    for (const std::string& id : dirty) {
      lifecycle::subject_state& s = working.at(id);
      timers.update(id,
                    owns_subject(s) ? lifecycle::deadlines(s, e.options_.lifecycle) : std::vector<lifecycle::timer>{});
      const auto ack = changelog_acks.find(id);
      if (ack != changelog_acks.end()) written[id] = written_state{std::move(s), ack->second.first, ack->second.second};
    }
    ++delta.transactions;
    return {};
  }

  // Drops the written states the store has caught up with.
  void trim_written() {
    if (written.empty()) return;
    std::map<std::int32_t, std::int64_t> checkpoints;
    for (auto it = written.begin(); it != written.end();) {
      auto cp = checkpoints.find(it->second.partition);
      if (cp == checkpoints.end()) {
        auto c = e.store_.checkpoint(state_topic, it->second.partition);
        cp = checkpoints.emplace(it->second.partition, c ? *c : 0).first;
      }
      it = it->second.offset < cp->second ? written.erase(it) : std::next(it);
    }
  }

  // After an assignment change: restores the owned partitions' changelog into the store (to its end, so it holds
  // every state this and earlier owners committed), then rebuilds the timers of the owned subjects from the store.
  // The written states are dropped: the store is current for the owned partitions now, and for the others another
  // instance may have written newer states since.
  result<void> on_assignment() {
    written.clear();
    std::set<std::int32_t> partitions;
    for (const auto& tp : owned) partitions.insert(tp.partition);
    auto restored = state::restore_changelog(e.log_, e.store_, state_topic,
                                             std::vector<std::int32_t>(partitions.begin(), partitions.end()),
                                             state_record_mutations);
    if (!restored) return std::move(restored).err();
    delta.restored += restored->records;
    auto rebuilt = engine::rebuild_timers(
        e.store_, [this](const lifecycle::subject_state& s) { return owns_subject(s); }, e.options_.lifecycle);
    if (!rebuilt) return std::move(rebuilt).err();
    timers = std::move(rebuilt).value();
    return {};
  }

  void publish() {
    const std::lock_guard lock(e.stats_mutex_);
    engine_stats& s = e.stats_;
    s.folded += delta.folded;
    s.duplicates += delta.duplicates;
    s.stale += delta.stale;
    s.rejected += delta.rejected;
    s.invalid += delta.invalid;
    s.echoes += delta.echoes;
    s.timers_fired += delta.timers_fired;
    s.transactions += delta.transactions;
    s.aborts += delta.aborts;
    s.restored += delta.restored;
    delta = engine_stats{};
  }

  void fail(const error& err) {
    const std::lock_guard lock(e.stats_mutex_);
    e.stats_.last_error = err.code + ": " + err.message;
    e.stats_.running = false;
  }

  // One poll, then, when it brought enough records to show load, more polls for up to batch_linger to fill the
  // batch (engine_options::batch_linger). A retriable error ends the lingering; any other stops the engine (the
  // batch's offsets are not committed, so the next owner reads it again).
  result<std::vector<log::record>> poll_batch() {
    const engine_options& o = e.options_;
    auto batch = consumer->poll(o.poll_timeout, o.max_batch_records);
    if (!batch || o.batch_linger.count() <= 0 || batch->size() < o.linger_min_records) return batch;
    const auto deadline = std::chrono::steady_clock::now() + o.batch_linger;
    while (batch->size() < o.max_batch_records) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      auto more = consumer->poll(left, o.max_batch_records - batch->size());
      if (!more && more.err().kind != error_kind::retry) return std::move(more).err();  // the engine stops
      if (!more || more->empty()) break;
      std::move(more->begin(), more->end(), std::back_inserter(*batch));
    }
    return batch;
  }

  void run() {
    auto p = e.log_.open_transactional_producer({group() + "." + e.options_.instance_id, e.options_.open_timeout,
                                                 std::chrono::milliseconds(60'000), 1'000'000});
    if (!p) return fail(p.err());
    producer = std::move(*p);
    log::consumer_config cc;
    cc.group = group();
    cc.topics = input_topics(e.options_.topic_prefix);
    cc.reset = log::offset_reset::earliest;
    cc.listener.on_assigned = [this](const std::vector<log::topic_partition>& tps) {
      owned.insert(tps.begin(), tps.end());
      rebuild_timers = true;
    };
    cc.listener.on_revoked = [this](const std::vector<log::topic_partition>& tps) {
      for (const auto& tp : tps) owned.erase(tp);
      rebuild_timers = true;
    };
    auto c = e.log_.subscribe(std::move(cc));
    if (!c) return fail(c.err());
    consumer = std::move(*c);
    {
      const std::lock_guard lock(e.stats_mutex_);
      e.stats_.running = true;
    }
    while (!e.stop_.load()) {
      auto batch = poll_batch();
      if (!batch) {
        if (batch.err().kind == error_kind::retry) continue;
        return fail(batch.err());
      }
      if (rebuild_timers) {
        rebuild_timers = false;
        if (auto a = on_assignment(); !a) return fail(a.err());
      }
      const std::int64_t now = e.clock_.now_ms();
      const auto next = timers.next_due();
      if (batch->empty() && (!next || *next > now)) {
        trim_written();
        publish();
        continue;
      }
      auto done = transact(*batch, now);
      if (!done) {
        if (done.err().kind == error_kind::fatal) return fail(done.err());
        // Abortable (or a failed store read): undo and read the same input again.
        (void)producer->abort(e.options_.commit_timeout);
        forget_transaction();
        ++delta.aborts;
        if (auto r = rewind(); !r) return fail(r.err());
      }
      trim_written();
      publish();
    }
    publish();
  }
};

result<std::unique_ptr<lifecycle_engine>> lifecycle_engine::start(log::event_log& log, state::state_store& store,
                                                                  const core::clock& clock, engine_options options) {
  if (options.partitions < 1) return error::reject("invalid_config", "engine partitions must be >= 1");
  if (options.instance_id.empty()) return error::reject("invalid_config", "engine instance_id must not be empty");
  if (options.max_batch_records < 1) return error::reject("invalid_config", "max_batch_records must be >= 1");
  std::unique_ptr<lifecycle_engine> engine(new lifecycle_engine(log, store, clock, std::move(options)));
  engine->thread_ = std::thread([raw = engine.get()] { raw->run(); });
  return engine;
}

lifecycle_engine::lifecycle_engine(log::event_log& log, state::state_store& store, const core::clock& clock,
                                   engine_options options)
    : log_(log), store_(store), clock_(clock), options_(std::move(options)) {}

lifecycle_engine::~lifecycle_engine() { stop(); }

void lifecycle_engine::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

engine_stats lifecycle_engine::stats() const {
  const std::lock_guard lock(stats_mutex_);
  return stats_;
}

void lifecycle_engine::run() {
  worker w(*this);
  w.run();
  const std::lock_guard lock(stats_mutex_);
  stats_.running = false;
}

}  // namespace passerelle::engine

#include "broker/log/embedded/embedded_log.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "broker/core/murmur2.h"
#include "broker/log/embedded/range_assignment.h"
#include "broker/log/embedded/record_codec.h"

namespace passerelle::log {
namespace embedded {
namespace {

using steady = std::chrono::steady_clock;

// Fixed limits. They are not in embedded_options (broker/log/backend_options.h) yet; see README.md.
constexpr std::size_t max_record_bytes = std::size_t{16} * 1024 * 1024;  // key + value + headers of one record
constexpr std::int32_t max_partitions = 10'000;                          // per topic
constexpr std::chrono::seconds shutdown_drain_timeout{10};  // destructor: how long to keep writing the queue

constexpr const char* records_cf_name = "records";
constexpr const char* topics_cf_name = "topics";
constexpr const char* offsets_cf_name = "offsets";

struct partition_state {
  std::int64_t low = 0;   // first stored offset
  std::int64_t high = 0;  // next offset to assign (log-end offset)
  std::int64_t last_timestamp_ms = std::numeric_limits<std::int64_t>::min();
};

struct topic_state {
  std::vector<partition_state> partitions;
};

struct group_state {
  std::map<std::uint64_t, std::vector<std::string>> members;  // member id (join order) -> subscribed topics
  std::map<topic_partition, std::uint64_t> owners;            // partition -> member that holds it right now
};

struct pending_produce {
  produce_request request;
  produce_callback done;
  std::uint64_t seq = 0;  // issue order, for flush()
};

// The offsets a transaction commits for one group, and the member that sent them (it must still hold the
// partitions when the transaction is written: zombie fencing).
struct txn_group_offsets {
  std::uint64_t member = 0;
  std::map<topic_partition, std::int64_t> next;
};

// A transaction handed to the writer thread by transactional_producer::commit(). Shared (shared_ptr) by the
// committing producer and the writer, because either may be done with it first (the commit may time out).
struct pending_transaction {
  std::string transactional_id;
  std::uint64_t epoch = 0;
  std::vector<produce_request> records;
  std::map<std::string, txn_group_offsets> offsets;  // by group
  // Guarded by embedded_log::queue_mu_:
  bool taken = false;                                       // the writer has it: it can no longer be withdrawn
  std::optional<result<std::vector<produce_ack>>> outcome;  // set once by the writer (acks in records' order)
};

inline constexpr std::size_t max_transactional_id_bytes = 249;

error store_error(const rocksdb::Status& st, const std::string& what) {
  return error::retry("unavailable", "embedded log: " + what + ": " + st.ToString());
}

result<void> validate_topic_name(const std::string& name) {
  if (name.empty() || name.size() > max_topic_name_bytes || name == "." || name == "..") {
    return error::reject("invalid", "topic name must be 1-" + std::to_string(max_topic_name_bytes) +
                                        " characters and not '.' or '..': '" + name + "'");
  }
  for (const char c : name) {
    const bool legal =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!legal) return error::reject("invalid", "topic name may only contain [a-zA-Z0-9._-]: '" + name + "'");
  }
  return ok();
}

result<void> validate_group_name(const std::string& group) {
  if (group.empty() || group.size() > max_group_name_bytes) {
    return error::reject("invalid", "group id must be 1-" + std::to_string(max_group_name_bytes) + " bytes");
  }
  return ok();
}

class embedded_log;

// A consumer of the embedded log: a group member (subscribe) or a group-less reader (open_reader).
// Lifecycle: created by embedded_log, owned by the caller, destroyed before the log (leaving its group).
// Thread: every method on the owner's thread; listeners run on that thread from inside poll().
class embedded_consumer final : public consumer {
 public:
  embedded_consumer(embedded_log& log, consumer_config config, std::uint64_t member_id);
  embedded_consumer(embedded_log& log, std::map<topic_partition, std::int64_t> positions);
  ~embedded_consumer() override;
  embedded_consumer(const embedded_consumer&) = delete;
  embedded_consumer& operator=(const embedded_consumer&) = delete;

  result<std::vector<record>> poll(std::chrono::milliseconds timeout, std::size_t max_records) override;
  result<void> commit(const std::vector<topic_partition_offset>& offsets) override;
  result<void> seek(const topic_partition_offset& position) override;
  std::vector<topic_partition> assignment() const override;

  // For transactional_producer::send_offsets: which log, group and member this consumer is.
  const embedded_log& owner() const noexcept { return log_; }
  const consumer_config* group_config() const noexcept { return config_ ? &*config_ : nullptr; }
  std::uint64_t member_id() const noexcept { return member_id_; }

 private:
  result<void> sync_with_group();
  result<std::vector<record>> read_available(std::size_t max_records);

  embedded_log& log_;
  std::optional<consumer_config> config_;  // nullopt for group-less readers
  std::uint64_t member_id_ = 0;
  std::map<topic_partition, std::int64_t> positions_;  // assigned partitions -> next offset to return
  std::size_t round_robin_ = 0;  // which partition is read first, so one busy partition cannot starve others
};

// The embedded transactional producer: it buffers the transaction's records and offsets in memory and, at
// commit(), hands them to the log's writer thread, which assigns the records' offsets and writes records and the
// group's committed offsets in ONE fsynced WriteBatch. Nothing reaches the store before commit, so readers can
// never see an uncommitted record and abort() (or a crash) just drops the buffer.
// Fencing: the log keeps an epoch per transactional id (in memory: RocksDB's lock file keeps every other process
// out of the store, so only producers of this process can compete); opening a producer bumps it, and the writer
// refuses a transaction whose epoch is stale.
// Lifecycle: created by embedded_log::open_transactional_producer, owned by the caller, destroyed before the log.
// Thread: one owner thread; completions of its records run on that thread, inside commit()/abort().
class embedded_txn_producer final : public transactional_producer {
 public:
  embedded_txn_producer(embedded_log& log, transactional_producer_config config, std::uint64_t epoch);
  ~embedded_txn_producer() override;
  embedded_txn_producer(const embedded_txn_producer&) = delete;
  embedded_txn_producer& operator=(const embedded_txn_producer&) = delete;

  result<void> begin() override;
  void produce(produce_request request, produce_callback done) override;
  result<void> send_offsets(consumer& input, const std::vector<topic_partition_offset>& next_offsets) override;
  result<void> commit(std::chrono::milliseconds timeout) override;
  result<void> abort(std::chrono::milliseconds timeout) override;

 private:
  enum class txn_state {
    idle,            // no transaction
    open,            // begin() done: produce/send_offsets accepted
    abort_required,  // open, but it can only be aborted (a produce failed, the writer refused it)
    committing,      // handed to the writer; outcome not seen yet (a commit() timed out)
  };

  // The state errors, fencing included; ok when a call may go on.
  result<void> usable();
  // Ends the producer for good: every buffered completion gets `e`.
  error fail_for_good(error e);
  // Runs the buffered completions, the i-th with result(i), and forgets the transaction.
  void finish(const std::function<result<produce_ack>(std::size_t)>& result_of);
  // Waits for the writer's outcome of `committing_` and applies it.
  result<void> settle_commit(std::chrono::milliseconds timeout);

  embedded_log& log_;
  const transactional_producer_config config_;
  const std::uint64_t epoch_;
  txn_state state_ = txn_state::idle;
  std::vector<produce_request> records_;
  std::vector<produce_callback> dones_;  // one per produce() accepted into the transaction
  std::map<std::string, txn_group_offsets> offsets_;
  std::shared_ptr<pending_transaction> committing_;
  std::optional<error> fatal_;  // set once fenced (or failed for good): every call answers it
  std::int64_t began_ms_ = 0;   // when the open transaction began (the log's clock)
};

// The event_log implementation. Lifecycle: created by open_embedded_log, owned by the caller; the destructor
// drains the produce queue (bounded), stops the writer thread and closes RocksDB.
// Threads: produce/admin calls from any thread; one writer thread; consumers on their owners' threads.
// Locks: `mu_` guards topic/partition/group state; `queue_mu_` guards the produce queue. Never held together,
// never held while calling user callbacks.
class embedded_log final : public event_log {
 public:
  embedded_log(embedded_options options, const core::clock& clock) : options_(std::move(options)), clock_(clock) {}

  ~embedded_log() override {
    assert(live_consumers_.load() == 0 && "consumers must be destroyed before their event_log");
    assert(live_producers_.load() == 0 && "transactional producers must be destroyed before their event_log");
    if (writer_.joinable()) {
      {
        std::lock_guard lk(queue_mu_);
        stopping_ = true;
        drain_deadline_ = steady::now() + shutdown_drain_timeout;
      }
      queue_cv_.notify_all();
      writer_.join();
    }
    if (db_) {
      for (auto* h : {records_cf_, topics_cf_, offsets_cf_, default_cf_}) {
        if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
      }
      db_->Close().PermitUncheckedError();
    }
  }
  embedded_log(const embedded_log&) = delete;
  embedded_log& operator=(const embedded_log&) = delete;

  result<void> open() {
    const std::filesystem::path dir = std::filesystem::path(options_.data_dir) / "log";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return error::fatal("store_open_failed", "cannot create " + dir.string() + ": " + ec.message());

    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    // Records are appended and read in order by key; the defaults (leveled compaction, Snappy) suit that.
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {records_cf_name, rocksdb::ColumnFamilyOptions()},
        {topics_cf_name, rocksdb::ColumnFamilyOptions()},
        {offsets_cf_name, rocksdb::ColumnFamilyOptions()},
    };
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status st = rocksdb::DB::Open(db_options, dir.string(), families, &handles, &raw);
    if (!st.ok()) {
      if (st.IsIOError() && st.ToString().find("lock") != std::string::npos) {
        return error::retry("store_locked", "embedded log " + dir.string() + " is open elsewhere: " + st.ToString());
      }
      if (st.IsCorruption())
        return error::fatal("corrupt_store", "embedded log " + dir.string() + ": " + st.ToString());
      return error::fatal("store_open_failed", "embedded log " + dir.string() + ": " + st.ToString());
    }
    db_.reset(raw);
    default_cf_ = handles[0];
    records_cf_ = handles[1];
    topics_cf_ = handles[2];
    offsets_cf_ = handles[3];

    if (auto r = recover(); !r) return r;
    try {
      writer_ = std::thread([this] { writer_loop(); });
    } catch (const std::system_error& e) {
      return error::fatal("store_open_failed", std::string("cannot start the writer thread: ") + e.what());
    }
    return ok();
  }

  backend_kind kind() const noexcept override { return backend_kind::embedded; }

  void produce(produce_request request, produce_callback done) override {
    if (!done) done = [](const result<produce_ack>&) {};  // fire-and-forget callers still get "exactly once"
    if (auto bad = check_record(request); !bad) {
      done(std::move(bad).err());
      return;
    }
    error refusal;
    {
      std::unique_lock lk(queue_mu_);
      if (!stopping_ && queue_.size() < options_.max_queued_records) {
        queue_.push_back(pending_produce{std::move(request), std::move(done), ++issued_seq_});
        lk.unlock();
        queue_cv_.notify_one();
        return;
      }
      refusal = stopping_ ? error::retry("shutting_down", "the embedded log is shutting down")
                          : error::retry("queue_full", "embedded produce queue is full (" +
                                                           std::to_string(options_.max_queued_records) + " records)");
    }
    done(std::move(refusal));  // outside the lock: the callback may produce again
  }

  result<std::unique_ptr<consumer>> subscribe(consumer_config config) override {
    if (auto r = validate_group_name(config.group); !r) return std::move(r).err();
    if (config.topics.empty()) return error::reject("invalid", "subscribe needs at least one topic");
    std::sort(config.topics.begin(), config.topics.end());
    config.topics.erase(std::unique(config.topics.begin(), config.topics.end()), config.topics.end());
    std::uint64_t id = 0;
    {
      std::lock_guard lk(mu_);
      for (const auto& t : config.topics) {
        if (!topics_.contains(t)) return error::not_found("unknown_topic", "unknown topic '" + t + "'");
      }
      id = ++next_member_id_;
      groups_[config.group].members.emplace(id, config.topics);
      ++change_seq_;
    }
    state_cv_.notify_all();  // other members recompute their share on their next poll
    return std::unique_ptr<consumer>(new embedded_consumer(*this, std::move(config), id));
  }

  result<std::unique_ptr<consumer>> open_reader(std::vector<topic_partition_offset> start) override {
    std::map<topic_partition, std::int64_t> positions;
    for (const auto& s : start) {
      auto wm = get_watermarks(topic_partition{s.topic, s.partition});
      if (!wm) return std::move(wm).err();
      if (s.offset < wm->low || s.offset > wm->high) {
        return error::reject("offset_out_of_range", "offset " + std::to_string(s.offset) + " of " + s.topic + "/" +
                                                        std::to_string(s.partition) + " is outside [" +
                                                        std::to_string(wm->low) + ", " + std::to_string(wm->high) +
                                                        "]");
      }
      if (!positions.emplace(topic_partition{s.topic, s.partition}, s.offset).second) {
        return error::reject("invalid", "partition " + s.topic + "/" + std::to_string(s.partition) + " given twice");
      }
    }
    return std::unique_ptr<consumer>(new embedded_consumer(*this, std::move(positions)));
  }

  result<void> create_topics(const std::vector<topic_spec>& specs) override {
    for (const auto& s : specs) {
      if (auto r = validate_topic_name(s.name); !r) return r;
      if (s.partitions > max_partitions) {
        return error::reject("invalid",
                             "topic '" + s.name + "': at most " + std::to_string(max_partitions) + " partitions");
      }
    }
    std::lock_guard admin(admin_mu_);  // one creator at a time, so two callers cannot create a topic twice
    rocksdb::WriteBatch batch;
    std::map<std::string, std::int32_t> created;
    {
      std::lock_guard lk(mu_);
      for (const auto& s : specs) {
        if (topics_.contains(s.name) || created.contains(s.name)) continue;  // existing topics stay as they are
        // Like Kafka's CreateTopics, a non-positive count asks for the default.
        const std::int32_t n = s.partitions > 0 ? s.partitions : options_.default_partitions;
        created.emplace(s.name, n);
      }
    }
    if (created.empty()) return ok();
    for (const auto& [name, n] : created) {
      if (auto st = batch.Put(topics_cf_, name, encode_u32(static_cast<std::uint32_t>(n))); !st.ok()) {
        return store_error(st, "create_topics");
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;  // topic metadata is tiny and rare: always durable
    if (auto st = db_->Write(wo, &batch); !st.ok()) return store_error(st, "create_topics");
    {
      std::lock_guard lk(mu_);
      for (const auto& [name, n] : created) {
        topics_[name].partitions.resize(static_cast<std::size_t>(n));
      }
      ++change_seq_;
    }
    state_cv_.notify_all();
    return ok();
  }

  result<std::vector<topic_metadata>> list_topics() override {
    std::lock_guard lk(mu_);
    std::vector<topic_metadata> out;
    out.reserve(topics_.size());
    for (const auto& [name, t] : topics_) {
      out.push_back(topic_metadata{name, static_cast<std::int32_t>(t.partitions.size())});
    }
    return out;
  }

  result<watermarks> get_watermarks(const topic_partition& tp) override {
    std::lock_guard lk(mu_);
    auto p = find_partition_locked(tp);
    if (!p) return std::move(p).err();
    return watermarks{(*p)->low, (*p)->high};
  }

  result<std::int64_t> offset_for_time(const topic_partition& tp, std::int64_t timestamp_ms) override {
    auto wm = get_watermarks(tp);
    if (!wm) return std::move(wm).err();
    // Timestamps are non-decreasing within a partition (the writer clamps them), so binary search by offset.
    std::int64_t lo = wm->low;
    std::int64_t hi = wm->high;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      rocksdb::PinnableSlice value;
      const auto st = db_->Get(rocksdb::ReadOptions(), records_cf_, record_key(tp.topic, tp.partition, mid), &value);
      if (!st.ok()) return store_error(st, "offset_for_time");
      auto ts = decode_record_timestamp(value.ToStringView());
      if (!ts) return std::move(ts).err();
      if (*ts >= timestamp_ms) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  result<std::vector<std::optional<std::int64_t>>> committed_offsets(
      const std::string& group, const std::vector<topic_partition>& partitions) override {
    if (auto r = validate_group_name(group); !r) return std::move(r).err();
    std::vector<std::optional<std::int64_t>> out;
    out.reserve(partitions.size());
    for (const auto& tp : partitions) {
      {
        std::lock_guard lk(mu_);
        if (auto p = find_partition_locked(tp); !p) return std::move(p).err();
      }
      auto c = read_committed(group, tp);
      if (!c) return std::move(c).err();
      out.push_back(*c);
    }
    return out;
  }

  result<void> flush(std::chrono::milliseconds timeout) override {
    std::unique_lock lk(queue_mu_);
    const std::uint64_t target = issued_seq_;
    if (!flush_cv_.wait_for(lk, timeout, [&] { return completed_seq_ >= target; })) {
      return error::retry("timed_out",
                          "flush: produces still pending after " + std::to_string(timeout.count()) + " ms");
    }
    return ok();
  }

  result<std::unique_ptr<transactional_producer>> open_transactional_producer(
      const transactional_producer_config& config) override {
    const auto& id = config.transactional_id;
    if (id.empty() || id.size() > max_transactional_id_bytes) {
      return error::reject("invalid_config",
                           "transactional_id must be 1-" + std::to_string(max_transactional_id_bytes) + " bytes");
    }
    if (config.max_records == 0) return error::reject("invalid_config", "transaction max_records must be at least 1");
    if (config.open_timeout.count() <= 0 || config.transaction_timeout.count() <= 0) {
      return error::reject("invalid_config", "transaction open_timeout and transaction_timeout must be > 0");
    }
    std::uint64_t epoch = 0;
    {
      std::unique_lock lk(mu_);
      epoch = ++txn_epochs_[id];  // from here on, every earlier producer with this id is fenced
      // A transaction of an earlier producer that the writer is writing right now lands before we answer, so the
      // new instance reads committed offsets that already include it (Kafka's init_transactions does the same).
      if (!state_cv_.wait_for(lk, config.open_timeout, [&] { return !writing_txn_ids_.contains(id); })) {
        return error::retry("timed_out", "open_transactional_producer '" + id +
                                             "': an earlier producer's commit is still being written");
      }
    }
    return std::unique_ptr<transactional_producer>(new embedded_txn_producer(*this, config, epoch));
  }

  result<void> check_ready(std::chrono::milliseconds /*timeout: never blocks*/) override {
    std::lock_guard lk(queue_mu_);
    if (stopping_) return error::retry("shutting_down", "the embedded log is shutting down");
    if (last_write_error_) return *last_write_error_;
    if (queue_.size() >= options_.max_queued_records) {
      return error::retry("queue_full", "embedded produce queue is full");
    }
    return ok();
  }

  // ---- for embedded_consumer (same threading rules as the public consumer API) ----

  std::uint64_t change_seq() {
    std::lock_guard lk(mu_);
    return change_seq_;
  }

  // Waits until anything changes (new records, group membership, released partitions) after `seen`.
  // False at the deadline with nothing changed.
  bool wait_for_change(std::uint64_t seen, steady::time_point deadline) {
    std::unique_lock lk(mu_);
    return state_cv_.wait_until(lk, deadline, [&] { return change_seq_ != seen; });
  }

  // Partitions `member` holds but that the current range assignment gives to someone else.
  std::vector<topic_partition> lost_partitions(const std::string& group, std::uint64_t member,
                                               const std::map<topic_partition, std::int64_t>& held) {
    std::lock_guard lk(mu_);
    const auto target = target_locked(group, member);
    std::vector<topic_partition> lost;
    for (const auto& [tp, pos] : held) {
      if (!std::binary_search(target.begin(), target.end(), tp)) lost.push_back(tp);
    }
    return lost;
  }

  void release(const std::string& group, std::uint64_t member, const std::vector<topic_partition>& tps) {
    {
      std::lock_guard lk(mu_);
      auto g = groups_.find(group);
      if (g == groups_.end()) return;
      for (const auto& tp : tps) {
        auto o = g->second.owners.find(tp);
        if (o != g->second.owners.end() && o->second == member) g->second.owners.erase(o);
      }
      ++change_seq_;
    }
    state_cv_.notify_all();
  }

  // Takes the partitions of `member`'s share that no other member holds any more (a partition moves only after
  // its previous holder released it, i.e. after that holder's on_revoked ran: its commits are visible).
  std::vector<topic_partition> acquire_free(const std::string& group, std::uint64_t member) {
    std::lock_guard lk(mu_);
    std::vector<topic_partition> taken;
    auto g = groups_.find(group);
    if (g == groups_.end()) return taken;
    for (const auto& tp : target_locked(group, member)) {
      if (g->second.owners.try_emplace(tp, member).second) taken.push_back(tp);
    }
    return taken;
  }

  void leave_group(const std::string& group, std::uint64_t member) {
    {
      std::lock_guard lk(mu_);
      auto g = groups_.find(group);
      if (g == groups_.end()) return;
      g->second.members.erase(member);
      std::erase_if(g->second.owners, [&](const auto& o) { return o.second == member; });
      if (g->second.members.empty()) groups_.erase(g);
      ++change_seq_;
    }
    state_cv_.notify_all();
  }

  result<std::optional<std::int64_t>> read_committed(const std::string& group, const topic_partition& tp) {
    rocksdb::PinnableSlice value;
    const auto st =
        db_->Get(rocksdb::ReadOptions(), offsets_cf_, committed_offset_key(group, tp.topic, tp.partition), &value);
    if (st.IsNotFound()) return std::optional<std::int64_t>{};
    if (!st.ok()) return store_error(st, "read committed offset");
    auto v = decode_u64(value.ToStringView());
    if (!v) return std::move(v).err();
    return std::optional<std::int64_t>{static_cast<std::int64_t>(*v)};
  }

  result<void> commit_offsets(const std::string& group, const std::vector<topic_partition_offset>& offsets) {
    rocksdb::WriteBatch batch;
    {
      std::lock_guard lk(mu_);
      for (const auto& o : offsets) {
        if (auto p = find_partition_locked(topic_partition{o.topic, o.partition}); !p) return std::move(p).err();
        if (o.offset < 0) return error::reject("invalid", "committed offset must not be negative");
      }
    }
    for (const auto& o : offsets) {
      auto st = batch.Put(offsets_cf_, committed_offset_key(group, o.topic, o.partition),
                          encode_u64(static_cast<std::uint64_t>(o.offset)));
      if (!st.ok()) return store_error(st, "commit");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;  // commit() is synchronous and durable whatever options_.sync says
    if (auto st = db_->Write(wo, &batch); !st.ok()) return store_error(st, "commit");
    return ok();
  }

  // Appends to `out` the records of `tp` from offset `from`, at most `max`; returns how many.
  result<std::size_t> read_partition(const topic_partition& tp, std::int64_t from, std::size_t max,
                                     std::vector<record>& out) {
    std::int64_t high = 0;
    {
      std::lock_guard lk(mu_);
      auto p = find_partition_locked(tp);
      if (!p) return std::move(p).err();
      high = (*p)->high;
    }
    if (from >= high || max == 0) return std::size_t{0};
    const std::int64_t end =
        std::min<std::int64_t>(high, from + static_cast<std::int64_t>(std::min<std::size_t>(max, 1U << 30U)));
    const std::string upper = record_key(tp.topic, tp.partition, end);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, records_cf_));
    std::int64_t expected = from;
    for (it->Seek(record_key(tp.topic, tp.partition, from)); it->Valid(); it->Next()) {
      auto off = offset_of_record_key(it->key().ToStringView(), tp.topic, tp.partition);
      if (!off) return std::move(off).err();
      if (*off != expected) break;
      auto rec = decode_record_value(it->value().ToStringView());
      if (!rec) return std::move(rec).err();
      out.push_back(record{tp.topic, tp.partition, expected, rec->timestamp_ms, std::move(rec->key),
                           std::move(rec->value), std::move(rec->hdrs)});
      ++expected;
    }
    if (!it->status().ok()) return store_error(it->status(), "read");
    if (expected != end) {
      return error::fatal("corrupt_store", "embedded log: offset " + std::to_string(expected) + " of " + tp.topic +
                                               "/" + std::to_string(tp.partition) + " is missing");
    }
    return static_cast<std::size_t>(end - from);
  }

  std::atomic<int> live_consumers_{0};

  // ---- for embedded_txn_producer (its owner thread) ----

  std::atomic<int> live_producers_{0};

  // The injected clock's time (transaction_timeout is measured with it, so tests need not wait).
  std::int64_t now_ms() const noexcept { return clock_.now_ms(); }

  // The checks produce() makes before queueing a record: reject/"invalid", not_found/"unknown_topic".
  result<void> check_record(const produce_request& request) {
    if (request.key.empty()) return error::reject("invalid", "record key must not be empty");
    std::size_t size = request.key.size() + request.value.size();
    for (const auto& h : request.hdrs) size += h.key.size() + h.value.size();
    if (size > max_record_bytes) {
      return error::reject("invalid", "record of " + std::to_string(size) + " bytes exceeds the limit of " +
                                          std::to_string(max_record_bytes));
    }
    if (request.timestamp_ms && *request.timestamp_ms < 0) {
      return error::reject("invalid", "record timestamp must not be negative");
    }
    if (!topic_exists(request.topic)) return error::not_found("unknown_topic", "unknown topic '" + request.topic + "'");
    return ok();
  }

  result<void> check_partition(const topic_partition& tp) {
    std::lock_guard lk(mu_);
    auto p = find_partition_locked(tp);
    if (!p) return std::move(p).err();
    return ok();
  }

  bool is_current_epoch(const std::string& transactional_id, std::uint64_t epoch) {
    std::lock_guard lk(mu_);
    auto it = txn_epochs_.find(transactional_id);
    return it != txn_epochs_.end() && it->second == epoch;
  }

  // Hands a transaction to the writer. retry/"shutting_down" when the log is closing.
  result<void> enqueue_transaction(std::shared_ptr<pending_transaction> txn) {
    {
      std::lock_guard lk(queue_mu_);
      if (stopping_) return error::retry("shutting_down", "the embedded log is shutting down");
      txn_queue_.push_back(std::move(txn));
    }
    queue_cv_.notify_one();
    return ok();
  }

  // The writer's outcome of `txn`, waiting up to `timeout`; nullopt when it has none yet.
  std::optional<result<std::vector<produce_ack>>> wait_transaction(const std::shared_ptr<pending_transaction>& txn,
                                                                   std::chrono::milliseconds timeout) {
    std::unique_lock lk(queue_mu_);
    if (!txn_cv_.wait_for(lk, timeout, [&] { return txn->outcome.has_value(); })) return std::nullopt;
    return std::move(txn->outcome);
  }

  // Takes `txn` back out of the queue if the writer has not taken it yet (then it will never be written).
  bool withdraw_transaction(const std::shared_ptr<pending_transaction>& txn) {
    std::lock_guard lk(queue_mu_);
    if (txn->taken || txn->outcome) return false;
    std::erase(txn_queue_, txn);
    return true;
  }

 private:
  bool topic_exists(const std::string& topic) {
    std::lock_guard lk(mu_);
    return topics_.contains(topic);
  }

  result<partition_state*> find_partition_locked(const topic_partition& tp) {
    auto t = topics_.find(tp.topic);
    if (t == topics_.end()) return error::not_found("unknown_topic", "unknown topic '" + tp.topic + "'");
    if (tp.partition < 0 || static_cast<std::size_t>(tp.partition) >= t->second.partitions.size()) {
      return error::not_found("unknown_partition",
                              "topic '" + tp.topic + "' has no partition " + std::to_string(tp.partition));
    }
    return &t->second.partitions[static_cast<std::size_t>(tp.partition)];
  }

  std::vector<topic_partition> target_locked(const std::string& group, std::uint64_t member) {
    auto g = groups_.find(group);
    if (g == groups_.end() || !g->second.members.contains(member)) return {};
    std::vector<member_subscription> subs;
    std::map<std::string, std::int32_t> counts;
    for (const auto& [id, topics] : g->second.members) {
      subs.push_back(member_subscription{id, topics});
      for (const auto& t : topics) {
        counts[t] = static_cast<std::int32_t>(topics_.at(t).partitions.size());
      }
    }
    return range_assign(subs, counts)[member];
  }

  // Log-end offsets, low watermarks and last timestamps from the stored keys: the store is the only truth.
  result<void> recover() {
    std::unique_ptr<rocksdb::Iterator> t(db_->NewIterator(rocksdb::ReadOptions(), topics_cf_));
    std::map<std::string, topic_state> topics;
    for (t->SeekToFirst(); t->Valid(); t->Next()) {
      auto n = decode_u32(t->value().ToStringView());
      if (!n) return std::move(n).err();
      topics[t->key().ToString()].partitions.resize(*n);
    }
    if (!t->status().ok()) return error::fatal("store_open_failed", "reading topics: " + t->status().ToString());
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), records_cf_));
    for (auto& [name, topic] : topics) {
      for (std::size_t p = 0; p < topic.partitions.size(); ++p) {
        const auto partition = static_cast<std::int32_t>(p);
        const std::string prefix = partition_prefix(name, partition);
        auto& state = topic.partitions[p];
        it->Seek(prefix);
        if (!it->Valid() || !it->key().starts_with(prefix)) continue;  // empty partition
        auto low = offset_of_record_key(it->key().ToStringView(), name, partition);
        if (!low) return std::move(low).err();
        it->SeekForPrev(record_key(name, partition, std::numeric_limits<std::int64_t>::max()));
        if (!it->Valid() || !it->key().starts_with(prefix)) {
          return error::fatal("corrupt_store", "cannot find the last record of " + name + "/" + std::to_string(p));
        }
        auto last = offset_of_record_key(it->key().ToStringView(), name, partition);
        if (!last) return std::move(last).err();
        auto ts = decode_record_timestamp(it->value().ToStringView());
        if (!ts) return std::move(ts).err();
        state.low = *low;
        state.high = *last + 1;
        state.last_timestamp_ms = *ts;
      }
    }
    if (!it->status().ok()) return error::fatal("store_open_failed", "reading records: " + it->status().ToString());
    std::lock_guard lk(mu_);
    topics_ = std::move(topics);
    return ok();
  }

  void writer_loop() {
    std::vector<pending_produce> batch;
    std::vector<std::shared_ptr<pending_transaction>> txns;
    for (;;) {
      {
        std::unique_lock lk(queue_mu_);
        queue_cv_.wait(lk, [&] { return !queue_.empty() || !txn_queue_.empty() || stopping_; });
        if (queue_.empty() && txn_queue_.empty()) break;           // stopping, and everything written
        if (stopping_ && steady::now() >= drain_deadline_) break;  // stopping, and out of time
        const std::size_t n = std::min(queue_.size(), options_.max_batch_records);
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        // Transactions ride in the same group commit (each is bounded by its producer's max_records).
        txns.assign(txn_queue_.begin(), txn_queue_.end());
        txn_queue_.clear();
        for (auto& t : txns) t->taken = true;
      }
      write_batch(batch, txns);
      batch.clear();
      txns.clear();
    }
    std::deque<std::shared_ptr<pending_transaction>> left_txns;
    {
      std::lock_guard lk(queue_mu_);
      left_txns.swap(txn_queue_);
      for (auto& t : left_txns) {
        t->outcome.emplace(error::retry("shutting_down", "the embedded log shut down before this transaction"));
      }
    }
    txn_cv_.notify_all();
    // Whatever is left could not be written in time: exactly one completion each, then no more.
    std::deque<pending_produce> left;
    {
      std::lock_guard lk(queue_mu_);
      left.swap(queue_);
    }
    for (auto& p : left) p.done(error::retry("shutting_down", "the embedded log shut down before writing this record"));
    {
      std::lock_guard lk(queue_mu_);
      completed_seq_ = issued_seq_;
    }
    flush_cv_.notify_all();
  }

  // Group commit: offsets and timestamps assigned, one WriteBatch, one fsync, then state, wake-ups, completions.
  // The transactions of `txns` go in the same WriteBatch, each with its group offsets (atomic: all or nothing),
  // unless refused first: stale epoch (fatal/"fenced") or input partitions no longer held (retry/"abortable").
  void write_batch(std::vector<pending_produce>& batch, std::vector<std::shared_ptr<pending_transaction>>& txns) {
    std::vector<produce_ack> acks(batch.size());
    std::vector<std::optional<result<std::vector<produce_ack>>>> txn_results(txns.size());
    std::vector<std::vector<produce_ack>> txn_acks(txns.size());
    std::map<topic_partition, partition_state> touched;  // this batch's view of each partition it writes
    {
      const std::int64_t now = clock_.now_ms();
      std::lock_guard lk(mu_);
      auto assign = [&](const produce_request& req) {
        const auto& topic = topics_.at(req.topic);  // checked at produce; topics are never deleted
        const auto partition =
            core::kafka_partition_for_key(req.key, static_cast<std::int32_t>(topic.partitions.size()));
        auto [it, inserted] = touched.try_emplace(topic_partition{req.topic, partition},
                                                  topic.partitions[static_cast<std::size_t>(partition)]);
        auto& state = it->second;
        // Timestamps never go backwards within a partition, so offset_for_time can binary-search.
        const std::int64_t ts = std::max(req.timestamp_ms.value_or(now), state.last_timestamp_ms);
        const produce_ack ack{partition, state.high, ts};
        state.high += 1;
        state.last_timestamp_ms = ts;
        return ack;
      };
      for (std::size_t i = 0; i < batch.size(); ++i) acks[i] = assign(batch[i].request);
      for (std::size_t i = 0; i < txns.size(); ++i) {
        const auto& t = *txns[i];
        if (auto e = txn_epochs_.find(t.transactional_id); e == txn_epochs_.end() || e->second != t.epoch) {
          txn_results[i].emplace(error::fatal("fenced", "transactional producer '" + t.transactional_id +
                                                            "' was fenced by a newer one with the same id"));
          continue;
        }
        if (auto lost = lost_input_locked(t)) {
          txn_results[i].emplace(error::retry("abortable", *lost));
          continue;
        }
        for (const auto& req : t.records) txn_acks[i].push_back(assign(req));
        writing_txn_ids_.insert(t.transactional_id);
      }
    }
    rocksdb::WriteBatch wb;
    rocksdb::Status st;
    bool any_txn = false;
    for (std::size_t i = 0; i < batch.size() && st.ok(); ++i) {
      const auto& req = batch[i].request;
      st = wb.Put(records_cf_, record_key(req.topic, acks[i].partition, acks[i].offset),
                  encode_record_value(acks[i].timestamp_ms, req.key, req.value, req.hdrs));
    }
    for (std::size_t i = 0; i < txns.size() && st.ok(); ++i) {
      if (txn_results[i]) continue;  // refused above
      any_txn = true;
      const auto& t = *txns[i];
      for (std::size_t r = 0; r < t.records.size() && st.ok(); ++r) {
        const auto& req = t.records[r];
        const auto& ack = txn_acks[i][r];
        st = wb.Put(records_cf_, record_key(req.topic, ack.partition, ack.offset),
                    encode_record_value(ack.timestamp_ms, req.key, req.value, req.hdrs));
      }
      for (const auto& [group, g] : t.offsets) {
        for (const auto& [tp, next] : g.next) {
          if (!st.ok()) break;
          st = wb.Put(offsets_cf_, committed_offset_key(group, tp.topic, tp.partition),
                      encode_u64(static_cast<std::uint64_t>(next)));
        }
      }
    }
    if (st.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync || any_txn;  // a commit is durable whatever options_.sync says
      st = db_->Write(wo, &wb);
    }
    for (std::size_t i = 0; i < txns.size(); ++i) {
      if (txn_results[i]) continue;
      if (st.ok()) {
        txn_results[i].emplace(std::move(txn_acks[i]));
      } else {
        txn_results[i].emplace(error::retry("abortable", "embedded log: transaction write failed: " + st.ToString()));
      }
    }
    {
      std::lock_guard lk(mu_);
      if (st.ok()) {
        for (const auto& [tp, state] : touched) {
          auto& p = topics_.at(tp.topic).partitions[static_cast<std::size_t>(tp.partition)];
          p.high = state.high;
          p.last_timestamp_ms = state.last_timestamp_ms;
        }
      }
      for (const auto& t : txns) writing_txn_ids_.erase(t->transactional_id);
      ++change_seq_;
    }
    state_cv_.notify_all();
    {
      std::lock_guard lk(queue_mu_);
      if (st.ok()) {
        last_write_error_.reset();
      } else {
        last_write_error_ = store_error(st, "write");
      }
      for (std::size_t i = 0; i < txns.size(); ++i) txns[i]->outcome = std::move(txn_results[i]);
    }
    txn_cv_.notify_all();
    if (st.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(acks[i]);
    } else {
      // Nothing of the batch was stored (a WriteBatch is atomic) and no offset was used.
      const error e = store_error(st, "write");
      for (auto& p : batch) p.done(e);
    }
    if (!batch.empty()) {
      std::lock_guard lk(queue_mu_);
      completed_seq_ = batch.back().seq;
    }
    flush_cv_.notify_all();
  }

  // Why `t` may not commit because its input partitions moved (a message), or nullopt when every partition it
  // commits offsets for is still held by the member that sent them. mu_ held.
  std::optional<std::string> lost_input_locked(const pending_transaction& t) {
    for (const auto& [group, g] : t.offsets) {
      auto gs = groups_.find(group);
      for (const auto& [tp, next] : g.next) {
        if (gs == groups_.end()) return "group '" + group + "' has no member any more";
        auto o = gs->second.owners.find(tp);
        if (o == gs->second.owners.end() || o->second != g.member) {
          return "partition " + tp.topic + "/" + std::to_string(tp.partition) + " of group '" + group +
                 "' moved to another member before the commit";
        }
      }
    }
    return std::nullopt;
  }

  const embedded_options options_;
  const core::clock& clock_;

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* records_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* topics_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* offsets_cf_ = nullptr;

  std::mutex admin_mu_;  // serialises create_topics

  std::mutex mu_;
  std::condition_variable state_cv_;  // change_seq_ moved: consumers look again
  std::uint64_t change_seq_ = 0;
  std::map<std::string, topic_state> topics_;
  std::map<std::string, group_state> groups_;
  std::uint64_t next_member_id_ = 0;
  std::map<std::string, std::uint64_t> txn_epochs_;  // transactional id -> epoch of its newest producer
  std::set<std::string> writing_txn_ids_;            // ids whose transaction the writer is writing right now

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // writer: queue non-empty or stopping
  std::condition_variable flush_cv_;  // flush(): completed_seq_ moved
  std::deque<pending_produce> queue_;
  std::deque<std::shared_ptr<pending_transaction>> txn_queue_;  // commits waiting for the writer
  std::condition_variable txn_cv_;                              // a transaction's outcome was set
  std::uint64_t issued_seq_ = 0;
  std::uint64_t completed_seq_ = 0;
  bool stopping_ = false;
  steady::time_point drain_deadline_{};
  std::optional<error> last_write_error_;

  std::thread writer_;
};

embedded_consumer::embedded_consumer(embedded_log& log, consumer_config config, std::uint64_t member_id)
    : log_(log), config_(std::move(config)), member_id_(member_id) {
  ++log_.live_consumers_;
}

embedded_consumer::embedded_consumer(embedded_log& log, std::map<topic_partition, std::int64_t> positions)
    : log_(log), positions_(std::move(positions)) {
  ++log_.live_consumers_;
}

embedded_consumer::~embedded_consumer() {
  if (config_) log_.leave_group(config_->group, member_id_);
  --log_.live_consumers_;
}

result<void> embedded_consumer::sync_with_group() {
  // Revoke first (listener before the change, so the owner can commit), then take what is free of our share.
  auto lost = log_.lost_partitions(config_->group, member_id_, positions_);
  if (!lost.empty()) {
    if (config_->listener.on_revoked) config_->listener.on_revoked(lost);
    for (const auto& tp : lost) positions_.erase(tp);
    log_.release(config_->group, member_id_, lost);
  }
  auto gained = log_.acquire_free(config_->group, member_id_);
  if (gained.empty()) return ok();
  for (const auto& tp : gained) {
    auto committed = log_.read_committed(config_->group, tp);
    if (!committed) return std::move(committed).err();
    auto wm = log_.get_watermarks(tp);
    if (!wm) return std::move(wm).err();
    std::int64_t start = config_->reset == offset_reset::earliest ? wm->low : wm->high;
    if (*committed && **committed >= wm->low && **committed <= wm->high) start = **committed;
    positions_[tp] = start;
  }
  if (config_->listener.on_assigned) config_->listener.on_assigned(gained);
  return ok();
}

result<std::vector<record>> embedded_consumer::read_available(std::size_t max_records) {
  std::vector<record> out;
  if (positions_.empty()) return out;
  std::vector<topic_partition> order;
  order.reserve(positions_.size());
  for (const auto& [tp, pos] : positions_) order.push_back(tp);
  const std::size_t first = round_robin_++ % order.size();
  for (std::size_t i = 0; i < order.size() && out.size() < max_records; ++i) {
    const auto& tp = order[(first + i) % order.size()];
    auto n = log_.read_partition(tp, positions_[tp], max_records - out.size(), out);
    if (!n) return std::move(n).err();
    positions_[tp] += static_cast<std::int64_t>(*n);
  }
  return out;
}

result<std::vector<record>> embedded_consumer::poll(std::chrono::milliseconds timeout, std::size_t max_records) {
  if (max_records == 0) return error::reject("invalid", "poll: max_records must be at least 1");
  const auto deadline = steady::now() + timeout;
  for (;;) {
    // Read the change counter before looking, so a change made while we look wakes the wait below.
    const std::uint64_t seen = log_.change_seq();
    if (config_) {
      if (auto r = sync_with_group(); !r) return std::move(r).err();
    }
    auto records = read_available(max_records);
    if (!records || !records->empty()) return records;
    if (!log_.wait_for_change(seen, deadline)) return std::vector<record>{};
  }
}

result<void> embedded_consumer::commit(const std::vector<topic_partition_offset>& offsets) {
  if (!config_) return error::reject("no_group", "a group-less reader cannot commit offsets");
  return log_.commit_offsets(config_->group, offsets);
}

result<void> embedded_consumer::seek(const topic_partition_offset& position) {
  const topic_partition tp{position.topic, position.partition};
  auto it = positions_.find(tp);
  if (it == positions_.end()) {
    return error::reject(
        "not_assigned", "seek: " + tp.topic + "/" + std::to_string(tp.partition) + " is not assigned to this consumer");
  }
  auto wm = log_.get_watermarks(tp);
  if (!wm) return std::move(wm).err();
  if (position.offset < wm->low || position.offset > wm->high) {
    return error::reject("offset_out_of_range", "seek: offset " + std::to_string(position.offset) + " is outside [" +
                                                    std::to_string(wm->low) + ", " + std::to_string(wm->high) + "]");
  }
  it->second = position.offset;
  return ok();
}

std::vector<topic_partition> embedded_consumer::assignment() const {
  std::vector<topic_partition> out;
  out.reserve(positions_.size());
  for (const auto& [tp, pos] : positions_) out.push_back(tp);
  return out;
}

// ---- embedded_txn_producer ----------------------------------------------------------------------------------

embedded_txn_producer::embedded_txn_producer(embedded_log& log, transactional_producer_config config,
                                             std::uint64_t epoch)
    : log_(log), config_(std::move(config)), epoch_(epoch) {
  ++log_.live_producers_;
}

embedded_txn_producer::~embedded_txn_producer() {
  if (committing_) {
    // A commit whose outcome we never saw: withdraw it if the writer has not taken it, else learn its outcome
    // (bounded), so the completions tell the truth.
    if (!log_.withdraw_transaction(committing_)) {
      auto outcome = log_.wait_transaction(committing_, config_.open_timeout);
      if (outcome && outcome->ok()) {
        const auto& acks = outcome->value();
        finish([&](std::size_t i) -> result<produce_ack> { return acks[i]; });
      }
    }
    committing_.reset();
  }
  finish([](std::size_t) -> result<produce_ack> {
    return error::retry("aborted", "the transactional producer was destroyed with its transaction open");
  });
  --log_.live_producers_;
}

result<void> embedded_txn_producer::usable() {
  if (fatal_) return *fatal_;
  if (!log_.is_current_epoch(config_.transactional_id, epoch_)) {
    return fail_for_good(error::fatal("fenced", "transactional producer '" + config_.transactional_id +
                                                    "' was fenced by a newer one with the same id"));
  }
  return ok();
}

error embedded_txn_producer::fail_for_good(error e) {
  fatal_ = e;
  if (committing_) {
    (void)log_.withdraw_transaction(committing_);  // if taken, the writer refuses it (stale epoch)
    committing_.reset();
  }
  finish([&](std::size_t) -> result<produce_ack> { return e; });
  return e;
}

void embedded_txn_producer::finish(const std::function<result<produce_ack>(std::size_t)>& result_of) {
  auto dones = std::move(dones_);
  dones_.clear();
  records_.clear();
  offsets_.clear();
  state_ = txn_state::idle;
  for (std::size_t i = 0; i < dones.size(); ++i) dones[i](result_of(i));
}

result<void> embedded_txn_producer::begin() {
  if (auto u = usable(); !u) return u;
  if (state_ != txn_state::idle) {
    return error{error_kind::conflict, "transaction_open", "begin: a transaction is already open (or committing)"};
  }
  state_ = txn_state::open;
  began_ms_ = log_.now_ms();
  return ok();
}

void embedded_txn_producer::produce(produce_request request, produce_callback done) {
  if (!done) done = [](const result<produce_ack>&) {};
  if (auto u = usable(); !u) {
    done(std::move(u).err());
    return;
  }
  if (state_ == txn_state::abort_required) {
    done(error::retry("abortable", "produce: the transaction can only be aborted now"));
    return;
  }
  if (state_ != txn_state::open) {
    done(error{error_kind::conflict, "no_transaction", "produce: no transaction is open (call begin())"});
    return;
  }
  result<void> refused = log_.check_record(request);
  if (refused && records_.size() >= config_.max_records) {
    refused = error::reject("transaction_too_large",
                            "a transaction holds at most " + std::to_string(config_.max_records) + " records");
  }
  if (!refused) {
    state_ = txn_state::abort_required;  // never commit a transaction with an output missing
    done(std::move(refused).err());
    return;
  }
  records_.push_back(std::move(request));
  dones_.push_back(std::move(done));
}

result<void> embedded_txn_producer::send_offsets(consumer& input,
                                                 const std::vector<topic_partition_offset>& next_offsets) {
  if (auto u = usable(); !u) return u;
  if (state_ == txn_state::abort_required) {
    return error::retry("abortable", "send_offsets: the transaction can only be aborted now");
  }
  if (state_ != txn_state::open) {
    return error{error_kind::conflict, "no_transaction", "send_offsets: no transaction is open (call begin())"};
  }
  const auto* member = dynamic_cast<const embedded_consumer*>(&input);
  if (member == nullptr || &member->owner() != &log_ || member->group_config() == nullptr) {
    return error::reject("foreign_consumer",
                         "send_offsets: the consumer must be a group member (subscribe) of this same embedded log");
  }
  if (next_offsets.empty()) return error::reject("invalid", "send_offsets: no offsets given");
  for (const auto& o : next_offsets) {
    if (o.offset < 0) return error::reject("invalid", "send_offsets: negative offset for " + o.topic);
    if (auto p = log_.check_partition(topic_partition{o.topic, o.partition}); !p) return p;
  }
  auto& g = offsets_[member->group_config()->group];
  g.member = member->member_id();
  for (const auto& o : next_offsets) g.next[topic_partition{o.topic, o.partition}] = o.offset;
  return ok();
}

result<void> embedded_txn_producer::commit(std::chrono::milliseconds timeout) {
  if (auto u = usable(); !u) return u;
  switch (state_) {
    case txn_state::idle: return error{error_kind::conflict, "no_transaction", "commit: no transaction is open"};
    case txn_state::abort_required:
      return error::retry("abortable", "commit: a produce of this transaction failed; abort() it and redo the work");
    case txn_state::open: {
      // Kafka's coordinator aborts a transaction open longer than transaction.timeout.ms; same rule here.
      if (log_.now_ms() - began_ms_ > config_.transaction_timeout.count()) {
        state_ = txn_state::abort_required;
        return error::retry("abortable", "commit: the transaction was open longer than transaction_timeout (" +
                                             std::to_string(config_.transaction_timeout.count()) +
                                             " ms); abort() it and redo the work");
      }
      if (records_.empty() && offsets_.empty()) {
        state_ = txn_state::idle;
        return ok();
      }
      auto txn = std::make_shared<pending_transaction>();
      txn->transactional_id = config_.transactional_id;
      txn->epoch = epoch_;
      txn->records = std::move(records_);
      records_.clear();
      txn->offsets = std::move(offsets_);
      offsets_.clear();
      if (auto q = log_.enqueue_transaction(txn); !q) {
        state_ = txn_state::abort_required;
        return error::retry("abortable", "commit: " + q.err().message);
      }
      committing_ = std::move(txn);
      state_ = txn_state::committing;
      return settle_commit(timeout);
    }
    case txn_state::committing: return settle_commit(timeout);
  }
  return error::fatal("bad_state", "commit: unknown transaction state");
}

result<void> embedded_txn_producer::settle_commit(std::chrono::milliseconds timeout) {
  auto outcome = log_.wait_transaction(committing_, timeout);
  if (!outcome) {
    return error::retry("timed_out", "commit: not written within " + std::to_string(timeout.count()) +
                                         " ms; its outcome is unknown: call commit() again");
  }
  committing_.reset();
  if (outcome->ok()) {
    const auto& acks = outcome->value();
    finish([&](std::size_t i) -> result<produce_ack> { return acks[i]; });
    return ok();
  }
  error e = std::move(*outcome).err();
  if (e.kind == error_kind::fatal) return fail_for_good(std::move(e));
  state_ = txn_state::abort_required;
  return e;
}

result<void> embedded_txn_producer::abort(std::chrono::milliseconds timeout) {
  if (auto u = usable(); !u) return u;
  if (state_ == txn_state::idle) return error{error_kind::conflict, "no_transaction", "abort: no transaction is open"};
  if (state_ == txn_state::committing && !log_.withdraw_transaction(committing_)) {
    // The writer has it: it will be written or refused; abort only once we know it was not written.
    auto outcome = log_.wait_transaction(committing_, timeout);
    if (!outcome) {
      return error::retry("timed_out", "abort: the commit being written has no outcome after " +
                                           std::to_string(timeout.count()) + " ms: call abort() again");
    }
    committing_.reset();
    if (outcome->ok()) {
      const auto& acks = outcome->value();
      finish([&](std::size_t i) -> result<produce_ack> { return acks[i]; });
      return error{error_kind::conflict, "committed", "abort: the earlier commit() had committed the transaction"};
    }
    if (outcome->err().kind == error_kind::fatal) return fail_for_good(std::move(*outcome).err());
  }
  committing_.reset();
  finish([](std::size_t) -> result<produce_ack> { return error::retry("aborted", "the transaction was aborted"); });
  return ok();
}

}  // namespace
}  // namespace embedded

result<std::unique_ptr<event_log>> open_embedded_log(const embedded_options& options, const core::clock& clock) {
  if (options.data_dir.empty()) return error::reject("invalid_config", "data_dir must not be empty");
  if (options.default_partitions < 1 || options.default_partitions > embedded::max_partitions) {
    return error::reject("invalid_config",
                         "default_partitions must be between 1 and " + std::to_string(embedded::max_partitions));
  }
  if (options.max_queued_records < 1) return error::reject("invalid_config", "max_queued_records must be at least 1");
  if (options.max_batch_records < 1) return error::reject("invalid_config", "max_batch_records must be at least 1");
  auto log = std::make_unique<embedded::embedded_log>(options, clock);
  if (auto r = log->open(); !r) return std::move(r).err();
  return std::unique_ptr<event_log>(std::move(log));
}

result<std::unique_ptr<event_log>> open_embedded_log(const embedded_options& options) {
  return open_embedded_log(options, core::system_clock::instance());
}

}  // namespace passerelle::log

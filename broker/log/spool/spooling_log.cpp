// spooling_log: see spooling_log.h for the states and README.md for the guarantees.
//
// One mutex (impl::mu) guards every piece of state: the state flag, the records handed to the inner log
// (`direct`), the in-memory index of the spool (`index`, authoritative for what is in the spool, including
// appends not yet fsynced) and the writer queue. produce() decides "direct or spool" under it, and the switch
// back to direct is taken under it only when the index is empty and nothing is in flight: that is what makes
// the switch race-free. Nothing blocking runs under it: no inner-log call, no disk I/O, no user callback.

#include "broker/log/spool/spooling_log.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/core/murmur2.h"
#include "broker/log/spool/spool_codec.h"

namespace passerelle::log {

using steady = std::chrono::steady_clock;

namespace {
// The inner attempt may have stored the record although it reports a failure.
bool is_uncertain(const error& e) noexcept {
  return e.kind == error_kind::retry && (e.code == "timed_out" || e.code == "shutting_down");
}
}  // namespace

bool is_outage_error(const error& e) noexcept {
  return e.kind == error_kind::retry && (e.code == "unavailable" || e.code == "timed_out" || e.code == "shutting_down");
}

namespace {

// A produce handed to the inner log in the direct state. Kept until its inner completion, with a copy of the
// record so that an outage error can still spool it.
struct direct_entry {
  std::uint64_t seq = 0;
  produce_request copy;
  produce_callback done;         // moved out when the caller is answered (or when the record is rescued)
  std::int64_t received_ms = 0;  // the record's timestamp if it ends up spooled without one
  steady::time_point started;
  bool rescued = false;  // spooled (and the caller acked) while the inner log still holds it
};

struct spool_entry {
  std::uint64_t bytes = 0;
  bool durable = false;            // fsynced: the forwarder may read it
  bool in_flight = false;          // forwarded, waiting for the inner ack
  std::int64_t spooled_at_ms = 0;  // injected clock; after a restart, the record's acceptance timestamp
};

struct write_op {
  enum class kind { append, erase, bury } what = kind::append;
  std::uint64_t seq = 0;
  std::string encoded;    // append, bury
  produce_callback done;  // append: the caller, answered once durable
  produce_ack ack;        // append: what the caller is told
};

}  // namespace

// Lifecycle: created by spooling_log::open(), owned by the spooling_log; see the destructor for the order of
// shutdown. Threads: the writer and forwarder threads it starts, the inner log's completion thread, callers.
struct spooling_log::impl {
  impl(std::unique_ptr<event_log> in, spool_options o, const core::clock& c)
      : inner(std::move(in)), opt(std::move(o)), clock(c) {}

  std::unique_ptr<event_log> inner;
  const spool_options opt;
  const core::clock& clock;
  std::unique_ptr<rocksdb::DB> db;

  mutable std::mutex mu;
  std::condition_variable forwarder_cv;  // state changes the forwarder waits for
  std::condition_variable writer_cv;     // ops queued, or stop
  std::condition_variable progress_cv;   // something completed (flush waits on it)

  spool_state state = spool_state::direct;
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, std::shared_ptr<direct_entry>> direct;  // by seq; begin() is the oldest
  std::map<std::uint64_t, spool_entry> index;                     // by seq: spool order
  std::uint64_t spooled_bytes = 0;
  bool refused_full = false;  // a record was refused for lack of room, and nothing has left the spool since
  std::deque<write_op> ops;
  std::size_t queued_appends = 0;
  std::size_t forward_in_flight = 0;
  bool inner_ready = false;     // the last probe answered; forwarding may go on
  bool forward_failed = false;  // a forward failed: finish the window, then probe again
  steady::time_point next_probe{};
  std::map<std::string, std::int32_t, std::less<>> partitions;
  std::uint64_t dead_records = 0;
  std::uint64_t spooled_total = 0;
  std::uint64_t forwarded_total = 0;
  std::uint64_t rescued_total = 0;
  std::uint64_t uncertain_total = 0;
  std::string last_inner_error;
  bool stop_forwarder = false;
  bool stop_writer = false;
  std::function<void(const spool_status&)> status_observer;  // see set_status_observer()
  steady::time_point next_status{};                          // when the forwarder calls it next

  std::thread writer;
  std::thread forwarder;

  ~impl() {
    {
      std::lock_guard lock(mu);
      stop_forwarder = true;
    }
    forwarder_cv.notify_all();
    if (forwarder.joinable()) forwarder.join();
    // The inner log completes whatever it still holds (retry/"shutting_down" after its bounded flush): those
    // completions spool through the writer, which is still running.
    inner.reset();
    {
      std::lock_guard lock(mu);
      stop_writer = true;
    }
    writer_cv.notify_all();
    if (writer.joinable()) writer.join();
    db.reset();
  }

  std::int32_t partition_for(const std::string& topic, const std::string& key) const {
    auto it = partitions.find(topic);
    return core::kafka_partition_for_key(key, it != partitions.end() ? it->second : opt.default_partitions);
  }

  void enter_spooling_locked(const error& why) {
    last_inner_error = why.code + ": " + why.message;
    if (state == spool_state::spooling) return;
    state = spool_state::spooling;
    inner_ready = false;
    next_probe = steady::now() + opt.probe_interval;
    forwarder_cv.notify_all();
  }

  // Queues `request` for the spool at `seq`. On success `done` has been moved into the queue (the writer
  // answers it once fsynced); on error it is untouched and the error is for the caller.
  std::optional<error> spool_locked(std::uint64_t seq, produce_request request, produce_callback& done,
                                    std::int64_t received_ms) {
    if (queued_appends >= opt.max_queued_records) {
      return error::retry("queue_full", "spool: " + std::to_string(queued_appends) +
                                            " records already wait for the spool writer (max_queued_records)");
    }
    if (!request.timestamp_ms) request.timestamp_ms = received_ms;
    std::string encoded = spool::encode_record(request);
    if (encoded.size() > opt.max_bytes) {
      return error::reject("invalid", "spool: a record of " + std::to_string(encoded.size()) +
                                          " bytes is larger than the whole spool (max_bytes " +
                                          std::to_string(opt.max_bytes) + ")");
    }
    if (spooled_bytes + encoded.size() > opt.max_bytes) {
      refused_full = true;
      return error::retry("spool_full", "the log is unavailable and the local spool is full (" +
                                            std::to_string(spooled_bytes) + " of " + std::to_string(opt.max_bytes) +
                                            " bytes, " + std::to_string(index.size()) + " records)");
    }
    const std::uint64_t bytes = encoded.size();
    index.emplace(seq, spool_entry{bytes, false, false, clock.now_ms()});
    spooled_bytes += bytes;
    ++spooled_total;
    write_op op;
    op.what = write_op::kind::append;
    op.seq = seq;
    op.encoded = std::move(encoded);
    op.done = std::move(done);
    op.ack = produce_ack{partition_for(request.topic, request.key), spooled_offset, *request.timestamp_ms};
    ops.push_back(std::move(op));
    ++queued_appends;
    writer_cv.notify_one();
    return std::nullopt;
  }

  // Removes a record from the spool (the inner log has it, or it is buried).
  void remove_locked(std::uint64_t seq, write_op::kind what, std::string encoded) {
    auto it = index.find(seq);
    if (it == index.end()) return;
    spooled_bytes -= it->second.bytes;
    refused_full = false;
    index.erase(it);
    write_op op;
    op.what = what;
    op.seq = seq;
    op.encoded = std::move(encoded);
    ops.push_back(std::move(op));
    writer_cv.notify_one();
  }

  spool_status status_locked() const {
    spool_status st;
    st.state = state;
    st.spooled_records = index.size();
    st.spooled_bytes = spooled_bytes;
    st.direct_in_flight = direct.size();
    st.forward_in_flight = forward_in_flight;
    st.dead_records = dead_records;
    st.spooled_total = spooled_total;
    st.forwarded_total = forwarded_total;
    st.rescued_total = rescued_total;
    st.uncertain_total = uncertain_total;
    st.last_inner_error = last_inner_error;
    st.capacity_bytes = opt.max_bytes;
    if (refused_full || spooled_bytes >= opt.max_bytes) {
      st.health = spool_health::full;
    } else if (state == spool_state::spooling && !inner_ready) {
      st.health = spool_health::spooling;
    } else {
      st.health = spool_health::forwarding;
    }
    if (!index.empty())
      st.oldest_age_ms = std::max<std::int64_t>(0, clock.now_ms() - index.begin()->second.spooled_at_ms);
    return st;
  }

  // Forwarder thread: hands a status snapshot to the observer about every probe_interval (every wait of the
  // forwarder is bounded by it). Called with the lock held; calls the observer without it. True if it did.
  bool publish_status_locked(std::unique_lock<std::mutex>& lock) {
    if (!status_observer) return false;
    const auto now = steady::now();
    if (now < next_status) return false;
    next_status = now + opt.probe_interval;
    const auto observer = status_observer;
    const auto st = status_locked();
    lock.unlock();
    observer(st);
    lock.lock();
    return true;
  }

  bool maybe_resume_direct_locked() {
    if (state == spool_state::spooling && inner_ready && index.empty() && forward_in_flight == 0 && direct.empty()) {
      state = spool_state::direct;
      progress_cv.notify_all();
      return true;
    }
    return false;
  }

  // Forwarder thread, direct state, after a failed probe: spools the records the inner log still holds (in
  // seq order), answering their callers now instead of after the inner delivery timeout. Their inner
  // completions come later: success deletes them from the spool again; failure leaves them to the forwarder.
  void rescue_locked() {
    for (auto& [seq, e] : direct) {
      if (e->rescued) continue;
      if (spool_locked(seq, e->copy, e->done, e->received_ms)) break;  // spool full: they wait for the inner
      e->rescued = true;
      e->copy = produce_request{};
      ++rescued_total;
    }
  }

  void produce(produce_request request, produce_callback done) {
    if (request.key.empty() || request.topic.empty()) {
      done(error::reject("invalid", "produce: the record key and topic must not be empty"));
      return;
    }
    // The copy (kept in case the inner log fails with an outage) is made before taking the lock, so producers
    // on other threads do not wait for it.
    auto e = std::make_shared<direct_entry>();
    e->copy = request;
    e->received_ms = clock.now_ms();
    std::unique_lock lock(mu);
    if (state == spool_state::spooling) {
      auto refused = spool_locked(next_seq++, std::move(request), done, e->received_ms);
      lock.unlock();
      if (refused) done(std::move(*refused));
      return;
    }
    e->seq = next_seq++;
    e->done = std::move(done);
    e->started = steady::now();
    direct.emplace(e->seq, e);
    lock.unlock();
    // The inner log may complete synchronously (queue full, ...): on_direct_done then runs on this thread.
    inner->produce(std::move(request), [this, e](result<produce_ack> r) { on_direct_done(e, std::move(r)); });
  }

  void on_direct_done(const std::shared_ptr<direct_entry>& e, result<produce_ack> r) {
    produce_callback answer;
    {
      std::lock_guard lock(mu);
      direct.erase(e->seq);
      if (e->rescued) {
        // The caller was answered when the record was rescued into the spool.
        if (r.ok()) {
          remove_locked(e->seq, write_op::kind::erase, {});
        } else if (is_outage_error(r.err())) {
          last_inner_error = r.err().code + ": " + r.err().message;
          if (is_uncertain(r.err())) ++uncertain_total;
        }
        forwarder_cv.notify_all();
        progress_cv.notify_all();
        return;
      }
      if (!r.ok() && is_outage_error(r.err())) {
        enter_spooling_locked(r.err());
        auto refused = spool_locked(e->seq, std::move(e->copy), e->done, e->received_ms);
        if (!refused && is_uncertain(r.err())) ++uncertain_total;
        forwarder_cv.notify_all();
        progress_cv.notify_all();
        if (!refused) return;  // the writer answers the caller once the record is fsynced
        r = std::move(*refused);
      }
      answer = std::move(e->done);
      e->copy = produce_request{};
      forwarder_cv.notify_all();
      progress_cv.notify_all();
    }
    answer(std::move(r));
  }

  void on_forward_done(std::uint64_t seq, std::string encoded, const result<produce_ack>& r) {
    std::lock_guard lock(mu);
    --forward_in_flight;
    if (r.ok()) {
      remove_locked(seq, write_op::kind::erase, {});
      ++forwarded_total;
      maybe_resume_direct_locked();
    } else if (r.err().kind == error_kind::reject || r.err().kind == error_kind::not_found) {
      // Refused for good: retrying would block the spool forever. Kept under the dead prefix for an operator.
      std::fprintf(stderr, "spool: record %llu refused by the inner log, kept as dead: %s: %s\n",
                   static_cast<unsigned long long>(seq), r.err().code.c_str(), r.err().message.c_str());
      remove_locked(seq, write_op::kind::bury, std::move(encoded));
      ++dead_records;
      maybe_resume_direct_locked();
    } else {
      if (auto it = index.find(seq); it != index.end()) it->second.in_flight = false;
      if (is_uncertain(r.err())) ++uncertain_total;
      forward_failed = true;
      last_inner_error = r.err().code + ": " + r.err().message;
    }
    forwarder_cv.notify_all();
    progress_cv.notify_all();
  }

  void writer_loop() {
    std::unique_lock lock(mu);
    while (true) {
      writer_cv.wait(lock, [&] { return !ops.empty() || stop_writer; });
      if (ops.empty()) break;  // stop_writer, and everything written
      std::vector<write_op> batch;
      while (!ops.empty() && batch.size() < opt.max_batch_records) {
        batch.push_back(std::move(ops.front()));
        ops.pop_front();
      }
      lock.unlock();
      rocksdb::WriteBatch wb;
      bool sync = false;
      for (const auto& op : batch) {
        const std::string key = spool::make_key(spool::spooled_prefix, op.seq);
        switch (op.what) {
          case write_op::kind::append:
            wb.Put(key, op.encoded);
            sync = true;
            break;
          case write_op::kind::erase: wb.Delete(key); break;
          case write_op::kind::bury:
            wb.Delete(key);
            wb.Put(spool::make_key(spool::dead_prefix, op.seq), op.encoded);
            sync = true;
            break;
        }
      }
      rocksdb::WriteOptions wo;
      // Appends are acknowledged to callers: they must survive a power cut. A deletion alone is not synced:
      // losing it only means forwarding that record once more after a crash (README.md, duplicates).
      wo.sync = sync;
      const rocksdb::Status st = db->Write(wo, &wb);
      lock.lock();
      for (auto& op : batch) {
        if (op.what != write_op::kind::append) continue;
        --queued_appends;
        auto it = index.find(op.seq);
        if (st.ok()) {
          if (it != index.end()) it->second.durable = true;
        } else if (it != index.end()) {
          spooled_bytes -= it->second.bytes;
          index.erase(it);
        }
      }
      if (!st.ok()) last_inner_error = "spool write failed: " + st.ToString();
      forwarder_cv.notify_all();
      progress_cv.notify_all();
      lock.unlock();
      for (auto& op : batch) {
        if (op.what != write_op::kind::append || !op.done) continue;
        if (st.ok()) {
          op.done(op.ack);
        } else {
          op.done(error::retry("spool_write_failed",
                               "the log is unavailable and the spool write failed: " + st.ToString()));
        }
      }
      lock.lock();
    }
  }

  // Probes the inner log without the lock; returns with the lock held again.
  result<void> probe(std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    auto r = inner->check_ready(opt.probe_timeout);
    lock.lock();
    next_probe = steady::now() + opt.probe_interval;
    if (!r) last_inner_error = r.err().code + ": " + r.err().message;
    return r;
  }

  void forwarder_loop() {
    std::unique_lock lock(mu);
    while (!stop_forwarder) {
      if (publish_status_locked(lock)) continue;  // the state may have changed meanwhile: look again
      const auto now = steady::now();
      if (state == spool_state::direct) {
        // Stall detection: the oldest record the inner log holds has waited too long; ask the inner log.
        if (opt.stall_after.count() > 0 && !direct.empty()) {
          const auto stall_at = std::max(direct.begin()->second->started + opt.stall_after, next_probe);
          if (now >= stall_at) {
            auto r = probe(lock);
            if (!r && is_outage_error(r.err()) && state == spool_state::direct && !direct.empty()) {
              enter_spooling_locked(r.err());
              rescue_locked();
            }
            continue;
          }
          forwarder_cv.wait_until(lock, std::min(stall_at, now + opt.probe_interval));
        } else {
          forwarder_cv.wait_for(
              lock, std::min(opt.probe_interval, opt.stall_after.count() > 0 ? opt.stall_after : opt.probe_interval));
        }
        continue;
      }
      // Spooling. Records still held by the inner log come first in order: wait for their completions.
      if (!direct.empty()) {
        forwarder_cv.wait_for(lock, opt.probe_interval);
        continue;
      }
      if (forward_failed) {
        if (forward_in_flight > 0) {
          forwarder_cv.wait_for(lock, opt.probe_interval);
          continue;
        }
        forward_failed = false;
        inner_ready = false;
        next_probe = now + opt.probe_interval;
        continue;
      }
      if (!inner_ready) {
        if (now < next_probe) {
          forwarder_cv.wait_until(lock, next_probe);
          continue;
        }
        auto r = probe(lock);
        if (r) inner_ready = true;
        continue;
      }
      if (maybe_resume_direct_locked()) continue;
      // Forward the next durable records in spool order, up to the window.
      std::vector<std::uint64_t> batch;
      for (auto& [seq, entry] : index) {
        if (forward_in_flight + batch.size() >= opt.forward_window) break;
        if (entry.in_flight) continue;
        if (!entry.durable) break;  // order: never skip a record still being written
        entry.in_flight = true;
        batch.push_back(seq);
      }
      if (batch.empty()) {
        forwarder_cv.wait_for(lock, opt.probe_interval);
        continue;
      }
      forward_in_flight += batch.size();
      lock.unlock();
      for (std::uint64_t seq : batch) forward_one(seq);
      lock.lock();
    }
  }

  // Forwarder thread, without the lock.
  void forward_one(std::uint64_t seq) {
    std::string encoded;
    const rocksdb::Status st = db->Get(rocksdb::ReadOptions(), spool::make_key(spool::spooled_prefix, seq), &encoded);
    if (!st.ok()) {
      // A durable record that cannot be read: the disk failed. Stop forwarding and try again after a probe.
      on_forward_done(seq, {},
                      error::retry("spool_read_failed",
                                   "spool read of record " + std::to_string(seq) + " failed: " + st.ToString()));
      return;
    }
    auto request = spool::decode_record(encoded);
    if (!request) {
      on_forward_done(seq, std::move(encoded),
                      error::reject("corrupt_spool_record", "spool record " + std::to_string(seq) + " is corrupt"));
      return;
    }
    inner->produce(std::move(*request), [this, seq, kept = std::move(encoded)](const result<produce_ack>& r) mutable {
      on_forward_done(seq, std::move(kept), r);
    });
  }
};

result<std::unique_ptr<spooling_log>> spooling_log::open(std::unique_ptr<event_log> inner, const spool_options& options,
                                                         const core::clock& clock) {
  auto invalid = [](const std::string& what) { return error::reject("invalid_config", "spool: " + what); };
  if (!inner) return invalid("no inner event log");
  if (options.dir.empty()) return invalid("dir must not be empty");
  if (options.max_bytes == 0) return invalid("max_bytes must be > 0");
  if (options.max_queued_records == 0) return invalid("max_queued_records must be > 0");
  if (options.max_batch_records == 0) return invalid("max_batch_records must be > 0");
  if (options.forward_window == 0) return invalid("forward_window must be > 0");
  if (options.probe_interval.count() <= 0) return invalid("probe_interval must be > 0");
  if (options.probe_timeout.count() <= 0) return invalid("probe_timeout must be > 0");
  if (options.stall_after.count() < 0) return invalid("stall_after must be >= 0");
  if (options.default_partitions <= 0) return invalid("default_partitions must be > 0");

  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return error::fatal("spool_open_failed", "spool: cannot create " + options.dir + ": " + ec.message());

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status st = rocksdb::DB::Open(db_options, options.dir, &raw);
  if (!st.ok()) {
    if (st.IsIOError() && st.ToString().find("lock") != std::string::npos) {
      return error::retry("store_locked", "spool " + options.dir + " is open in another process: " + st.ToString());
    }
    if (st.IsCorruption()) return error::fatal("corrupt_spool", "spool " + options.dir + ": " + st.ToString());
    return error::fatal("spool_open_failed", "spool " + options.dir + ": " + st.ToString());
  }

  auto state = std::make_unique<impl>(std::move(inner), options, clock);
  state->db.reset(raw);
  // Recover the index from disk: what is in the spool is forwarded; sequence numbers continue after the last.
  {
    std::unique_ptr<rocksdb::Iterator> it(state->db->NewIterator(rocksdb::ReadOptions()));
    std::uint64_t last = 0;
    bool any = false;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (auto seq = spool::parse_key(spool::spooled_prefix, key)) {
        const std::string_view value(it->value().data(), it->value().size());
        state->index.emplace(
            *seq, spool_entry{value.size(), true, false, spool::peek_timestamp(value).value_or(clock.now_ms())});
        state->spooled_bytes += it->value().size();
        last = std::max(last, *seq);
        any = true;
      } else if (auto dead = spool::parse_key(spool::dead_prefix, key)) {
        ++state->dead_records;
        last = std::max(last, *dead);
        any = true;
      } else {
        return error::fatal("corrupt_spool",
                            "spool " + options.dir + ": unexpected key of " + std::to_string(key.size()) + " bytes");
      }
    }
    if (!it->status().ok())
      return error::fatal("corrupt_spool", "spool " + options.dir + ": " + it->status().ToString());
    state->next_seq = any ? last + 1 : 0;
  }
  if (!state->index.empty()) {
    state->state = spool_state::spooling;
    state->inner_ready = false;
    state->next_probe = steady::now();  // probe at once: the log may well be back
  }
  impl* p = state.get();
  p->writer = std::thread([p] { p->writer_loop(); });
  p->forwarder = std::thread([p] { p->forwarder_loop(); });
  return std::unique_ptr<spooling_log>(new spooling_log(std::move(state)));
}

spooling_log::spooling_log(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
spooling_log::~spooling_log() = default;

backend_kind spooling_log::kind() const noexcept { return impl_->inner->kind(); }

void spooling_log::produce(produce_request request, produce_callback done) {
  impl_->produce(std::move(request), std::move(done));
}

result<std::unique_ptr<consumer>> spooling_log::subscribe(consumer_config config) {
  return impl_->inner->subscribe(std::move(config));
}

result<std::unique_ptr<consumer>> spooling_log::open_reader(std::vector<topic_partition_offset> start) {
  return impl_->inner->open_reader(std::move(start));
}

result<std::unique_ptr<transactional_producer>> spooling_log::open_transactional_producer(
    const transactional_producer_config& config) {
  return impl_->inner->open_transactional_producer(config);
}

result<void> spooling_log::create_topics(const std::vector<topic_spec>& topics) {
  auto r = impl_->inner->create_topics(topics);
  if (r) {
    // An existing topic keeps its own count; list_topics() corrects the map when it learns otherwise.
    std::lock_guard lock(impl_->mu);
    for (const auto& t : topics) impl_->partitions.try_emplace(t.name, t.partitions);
  }
  return r;
}

result<std::vector<topic_metadata>> spooling_log::list_topics() {
  auto r = impl_->inner->list_topics();
  if (r) {
    std::lock_guard lock(impl_->mu);
    for (const auto& t : *r) impl_->partitions.insert_or_assign(t.name, t.partitions);
  }
  return r;
}

result<watermarks> spooling_log::get_watermarks(const topic_partition& tp) { return impl_->inner->get_watermarks(tp); }

result<std::int64_t> spooling_log::offset_for_time(const topic_partition& tp, std::int64_t timestamp_ms) {
  return impl_->inner->offset_for_time(tp, timestamp_ms);
}

result<std::vector<std::optional<std::int64_t>>> spooling_log::committed_offsets(
    const std::string& group, const std::vector<topic_partition>& partitions) {
  return impl_->inner->committed_offsets(group, partitions);
}

result<void> spooling_log::flush(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  std::unique_lock lock(s.mu);
  const bool drained = s.progress_cv.wait_for(
      lock, timeout, [&] { return s.direct.empty() && s.index.empty() && s.forward_in_flight == 0 && s.ops.empty(); });
  if (drained) return ok();
  return error::retry("timed_out", "flush: after " + std::to_string(timeout.count()) + " ms, " +
                                       std::to_string(s.direct.size()) + " record(s) still with the inner log and " +
                                       std::to_string(s.index.size()) + " in the spool (last inner error: " +
                                       (s.last_inner_error.empty() ? "none" : s.last_inner_error) + ")");
}

result<void> spooling_log::check_ready(std::chrono::milliseconds /*timeout*/) {
  std::lock_guard lock(impl_->mu);
  if (impl_->refused_full || impl_->spooled_bytes >= impl_->opt.max_bytes) {
    return error::retry("spool_full", "the log is unavailable and the local spool is full (" +
                                          std::to_string(impl_->spooled_bytes) + " bytes)");
  }
  return ok();
}

spool_status spooling_log::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status_locked();
}

void spooling_log::set_status_observer(const std::function<void(const spool_status&)>& observer) {
  spool_status now;
  {
    std::lock_guard lock(impl_->mu);
    impl_->status_observer = observer;
    impl_->next_status = steady::now() + impl_->opt.probe_interval;
    now = impl_->status_locked();
  }
  impl_->forwarder_cv.notify_all();
  if (observer) observer(now);
}

std::string_view to_string(spool_health h) noexcept {
  switch (h) {
    case spool_health::forwarding: return "forwarding";
    case spool_health::spooling: return "spooling";
    case spool_health::full: return "full";
  }
  return "unknown";
}

spool_readiness readiness_of(const spool_status& st) {
  spool_readiness r;
  const auto depth = std::to_string(st.spooled_records) + " records, " + std::to_string(st.spooled_bytes) + " of " +
                     std::to_string(st.capacity_bytes) + " bytes, oldest " + std::to_string(st.oldest_age_ms / 1000) +
                     " s";
  const auto inner = st.last_inner_error.empty() ? std::string() : "; last log error: " + st.last_inner_error;
  switch (st.health) {
    case spool_health::forwarding:
      r.detail = st.spooled_records == 0 ? "forwarding" : "forwarding: draining the local spool (" + depth + ")";
      break;
    case spool_health::spooling:
      r.detail =
          "spooling: the log is unavailable, accepted records are kept in the local spool (" + depth + ")" + inner;
      break;
    case spool_health::full:
      r.ready = false;
      r.detail = "full: the log is unavailable and the local spool is at its bound (" + depth + ")" + inner;
      break;
  }
  return r;
}

event_log& spooling_log::inner() noexcept { return *impl_->inner; }

}  // namespace passerelle::log

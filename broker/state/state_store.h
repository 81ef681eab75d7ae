#pragma once
// The engine's local state: a RocksDB key-value store that is a materialised copy of the changelog topics
// (the Kafka Streams model). The changelog is the truth; this store is a cache of it that survives restarts, so a
// restart or a partition move rebuilds state by reading the changelog from the store's checkpoint, never by
// replaying all history.
//
// Keys are global (subject ids are unique across partitions); every write names the changelog partition it
// comes from and the changelog offset it reaches, and the store keeps, per changelog topic-partition, a
// CHECKPOINT: the next changelog offset not yet applied. The values and the checkpoint move together in one
// atomic RocksDB batch, so after any crash the store is exactly "the changelog up to the checkpoint", and reading
// the changelog from the checkpoint makes it current again.
//
// Durability: writes skip RocksDB's WAL and fsync, on purpose. What was not flushed when the process died is lost
// together with its checkpoint (atomically), and is read again from the changelog: the changelog topic is the
// durable copy. close() flushes memtables so a clean stop restarts without re-reading.
//
// Memory: bounded by `block_cache_bytes` + `write_buffer_bytes` x 2 + index/filter blocks (kept in the cache),
// whatever the number of keys: a million baskets live on disk, hot ones in the cache.
//
// Thread-safety: every method may be called from any thread (RocksDB is thread-safe; apply() serialises the
// checkpoint check-and-write per store with a mutex). Lifecycle: owned by the engine; outlives its readers.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"

namespace rocksdb {
class DB;
class Cache;
}  // namespace rocksdb

namespace passerelle::state {

struct state_store_options {
  std::string path;                               // a directory; created when missing
  std::size_t block_cache_bytes = 64ULL << 20U;   // hot state and index blocks
  std::size_t write_buffer_bytes = 32ULL << 20U;  // one memtable; two may exist while one is flushed
};

// One key's new value; nullopt deletes the key (a changelog tombstone).
struct mutation {
  std::string key;
  std::optional<std::string> value;
};

class state_store {
 public:
  // Opens or creates the store. Errors: fatal/"state_open_failed" (with RocksDB's message: locked by another
  // process, corrupt, no space, permissions).
  static result<std::unique_ptr<state_store>> open(const state_store_options& options);
  ~state_store();
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  // The value of `key`, nullopt when absent. Errors: fatal/"state_read_failed".
  result<std::optional<std::string>> get(std::string_view key) const;

  // Calls `visit(key, value)` for keys starting with `prefix`, in key order, starting after `after` (exclusive;
  // empty = from the first), at most `limit` keys; `visit` returns false to stop early. Returns the number of
  // keys visited. Errors: fatal/"state_read_failed".
  result<std::size_t> scan(std::string_view prefix, std::string_view after, std::size_t limit,
                           const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Applies `mutations` from changelog `topic`/`partition` and moves that partition's checkpoint to
  // `next_offset`, atomically. When `next_offset` is not beyond the current checkpoint, nothing is applied and
  // the call returns false: these changelog records are in the store already (a re-read after a crash, or an
  // engine's own write seen again by a reader). Errors: fatal/"state_write_failed".
  result<bool> apply(std::string_view topic, std::int32_t partition, std::int64_t next_offset,
                     const std::vector<mutation>& mutations);

  // The next changelog offset not yet applied for `topic`/`partition` (0 when none was ever applied).
  result<std::int64_t> checkpoint(std::string_view topic, std::int32_t partition) const;

  // Flushes memtables to disk so a restart needs no changelog re-read. Errors: fatal/"state_flush_failed".
  result<void> flush();

  // Approximate numbers for metrics: live keys (RocksDB's estimate) and the memory held by memtables and cache.
  std::uint64_t approximate_keys() const;
  std::uint64_t approximate_memory_bytes() const;

 private:
  state_store(std::unique_ptr<rocksdb::DB> db, std::shared_ptr<rocksdb::Cache> cache);
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::mutex apply_mutex_;  // makes checkpoint check + batch write one step
};

// Internal key space (exposed for tests and tools): user keys are stored as "k" + key, checkpoints as
// "c" + topic + '\0' + 4-byte big-endian partition, so a user key can never collide with a checkpoint.
std::string checkpoint_key(std::string_view topic, std::int32_t partition);

}  // namespace passerelle::state

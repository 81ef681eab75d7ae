#include "broker/state/state_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <filesystem>

namespace passerelle::state {

namespace {

constexpr char user_prefix = 'k';
constexpr char checkpoint_prefix = 'c';

std::string user_key(std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k += user_prefix;
  k += key;
  return k;
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

std::string encode_offset(std::int64_t offset) {
  std::string out(8, '\0');
  auto u = static_cast<std::uint64_t>(offset);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xffU);
    u >>= 8U;
  }
  return out;
}

std::int64_t decode_offset(std::string_view bytes) {
  std::uint64_t u = 0;
  for (const char c : bytes.substr(0, 8)) u = (u << 8U) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(u);
}

rocksdb::WriteOptions unsynced_write() {
  rocksdb::WriteOptions wo;
  // The changelog topic is the durable copy: see the header's "Durability".
  wo.disableWAL = true;
  wo.sync = false;
  return wo;
}

}  // namespace

std::string checkpoint_key(std::string_view topic, std::int32_t partition) {
  std::string k;
  k.reserve(topic.size() + 6);
  k += checkpoint_prefix;
  k += topic;
  k += '\0';
  const auto p = static_cast<std::uint32_t>(partition);
  for (int shift = 24; shift >= 0; shift -= 8) k += static_cast<char>((p >> static_cast<unsigned>(shift)) & 0xffU);
  return k;
}

result<std::unique_ptr<state_store>> state_store::open(const state_store_options& options) {
  if (options.path.empty()) return error::reject("invalid_config", "the state store needs a directory");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return error::fatal("state_open_failed", "cannot create state directory " + options.path + ": " + ec.message());
  }
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;  // index and filters count against the cache bound, not beside it
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));  // point reads by subject id
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = options.write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kZSTD;
  o.max_open_files = 256;
  o.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, options.path, &raw);
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    // Compression libraries missing from this RocksDB build: fall back to none rather than refuse to start.
    o.compression = rocksdb::kNoCompression;
    o.bottommost_compression = rocksdb::kNoCompression;
    s = rocksdb::DB::Open(o, options.path, &raw);
  }
  if (!s.ok())
    return error::fatal("state_open_failed", "cannot open state store " + options.path + ": " + s.ToString());
  return std::unique_ptr<state_store>(new state_store(std::unique_ptr<rocksdb::DB>(raw), std::move(cache)));
}

state_store::state_store(std::unique_ptr<rocksdb::DB> db, std::shared_ptr<rocksdb::Cache> cache)
    : db_(std::move(db)), cache_(std::move(cache)) {}

state_store::~state_store() {
  if (db_) {
    rocksdb::FlushOptions fo;
    db_->Flush(fo).PermitUncheckedError();  // best effort: what is not flushed is re-read from the changelog
    db_->Close().PermitUncheckedError();
  }
}

result<std::optional<std::string>> state_store::get(std::string_view key) const {
  std::string value;
  const auto s = db_->Get(rocksdb::ReadOptions(), user_key(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return error::fatal("state_read_failed", "state store read failed: " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

result<std::size_t> state_store::scan(std::string_view prefix, std::string_view after, std::size_t limit,
                                      const std::function<bool(std::string_view, std::string_view)>& visit) const {
  const std::string first = user_key(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  if (after.empty()) {
    it->Seek(first);
  } else {
    const std::string start = user_key(after);
    it->Seek(start);
    if (it->Valid() && it->key() == rocksdb::Slice(start)) it->Next();
  }
  std::size_t visited = 0;
  for (; it->Valid() && visited < limit; it->Next()) {
    const auto k = it->key();
    if (!k.starts_with(first)) break;
    ++visited;
    if (!visit(std::string_view(k.data() + 1, k.size() - 1),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  if (!it->status().ok())
    return error::fatal("state_read_failed", "state store scan failed: " + it->status().ToString());
  return visited;
}

result<bool> state_store::apply(std::string_view topic, std::int32_t partition, std::int64_t next_offset,
                                const std::vector<mutation>& mutations) {
  const std::lock_guard lock(apply_mutex_);
  auto current = checkpoint(topic, partition);
  if (!current) return std::move(current).err();
  if (next_offset <= *current) return false;
  rocksdb::WriteBatch batch;
  for (const mutation& m : mutations) {
    const std::string k = user_key(m.key);
    const auto s = m.value ? batch.Put(k, slice(*m.value)) : batch.Delete(k);
    if (!s.ok()) return error::fatal("state_write_failed", "state store batch failed: " + s.ToString());
  }
  const auto cs = batch.Put(checkpoint_key(topic, partition), encode_offset(next_offset));
  if (!cs.ok()) return error::fatal("state_write_failed", "state store batch failed: " + cs.ToString());
  const auto s = db_->Write(unsynced_write(), &batch);
  if (!s.ok()) return error::fatal("state_write_failed", "state store write failed: " + s.ToString());
  return true;
}

result<std::int64_t> state_store::checkpoint(std::string_view topic, std::int32_t partition) const {
  std::string value;
  const auto s = db_->Get(rocksdb::ReadOptions(), checkpoint_key(topic, partition), &value);
  if (s.IsNotFound()) return std::int64_t{0};
  if (!s.ok()) return error::fatal("state_read_failed", "state store read failed: " + s.ToString());
  return decode_offset(value);
}

result<void> state_store::flush() {
  const auto s = db_->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return error::fatal("state_flush_failed", "state store flush failed: " + s.ToString());
  return {};
}

std::uint64_t state_store::approximate_keys() const {
  std::uint64_t n = 0;
  db_->GetIntProperty("rocksdb.estimate-num-keys", &n);
  return n;
}

std::uint64_t state_store::approximate_memory_bytes() const {
  std::uint64_t memtables = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &memtables);
  return memtables + cache_->GetUsage();
}

}  // namespace passerelle::state

#include "broker/state/changelog_restore.h"

#include <algorithm>
#include <map>
#include <optional>
#include <thread>

namespace passerelle::state {

namespace {

result<std::vector<mutation>> default_decode(const log::record& r) {
  std::vector<mutation> out(1);
  out[0].key = r.key;
  if (!r.value.empty()) out[0].value = r.value;
  return out;
}

// Restores `partitions` with one reader, on the calling thread.
result<restore_stats> restore_group(log::event_log& log, state_store& store, const std::string& topic,
                                    const std::vector<std::int32_t>& partitions, const changelog_decoder& decode,
                                    const restore_options& options) {
  const auto started = std::chrono::steady_clock::now();
  restore_stats stats;
  struct progress {
    std::int64_t end = 0;   // log-end offset when the restore started
    std::int64_t next = 0;  // next offset to apply
    int idle = 0;           // empty polls since the last record of this partition
  };
  std::map<std::int32_t, progress> todo;
  std::vector<log::topic_partition_offset> start;
  for (const std::int32_t p : partitions) {
    auto wm = log.get_watermarks({topic, p});
    if (!wm) return std::move(wm).err();
    auto cp = store.checkpoint(topic, p);
    if (!cp) return std::move(cp).err();
    // Below the low watermark the changelog was compacted or deleted away: start at the first stored record.
    const std::int64_t from = std::max(*cp, wm->low);
    if (from >= wm->high) continue;
    todo[p] = progress{wm->high, from, 0};
    start.push_back({topic, p, from});
  }
  if (todo.empty()) return stats;
  auto reader = log.open_reader(start);
  if (!reader) return std::move(reader).err();

  while (!todo.empty()) {
    if (std::chrono::steady_clock::now() - started > options.deadline) {
      return error::retry("restore_timed_out", "changelog " + topic + " not restored within " +
                                                   std::to_string(options.deadline.count()) + " ms");
    }
    auto batch = (*reader)->poll(options.poll_timeout, options.max_poll_records);
    if (!batch) return std::move(batch).err();
    std::map<std::int32_t, std::vector<mutation>> by_partition;
    std::map<std::int32_t, std::int64_t> next_of;
    for (const log::record& r : *batch) {
      auto it = todo.find(r.partition);
      if (it == todo.end() || r.offset < it->second.next) {
        ++stats.skipped;
        continue;
      }
      auto m = decode ? decode(r) : default_decode(r);
      if (!m) {
        return error::fatal("changelog_corrupt", topic + "[" + std::to_string(r.partition) + "]@" +
                                                     std::to_string(r.offset) + ": " + m.err().message);
      }
      auto& dst = by_partition[r.partition];
      for (auto& one : *m) dst.push_back(std::move(one));
      next_of[r.partition] = r.offset + 1;
      ++stats.records;
    }
    for (auto& [p, muts] : by_partition) {
      // In key order, and only the last write of each key: the memtable's skip list then inserts each key next to
      // the previous one instead of searching from the top (the restore is bound by those inserts).
      std::stable_sort(muts.begin(), muts.end(), [](const mutation& a, const mutation& b) { return a.key < b.key; });
      auto last =
          std::unique(muts.rbegin(), muts.rend(), [](const mutation& a, const mutation& b) { return a.key == b.key; });
      muts.erase(muts.begin(), last.base());
      auto applied = store.apply(topic, p, next_of[p], muts);
      if (!applied) return std::move(applied).err();
      todo[p].next = next_of[p];
      todo[p].idle = 0;
    }
    for (auto it = todo.begin(); it != todo.end();) {
      progress& pr = it->second;
      if (batch->empty()) ++pr.idle;
      if (pr.next >= pr.end || (batch->empty() && pr.idle >= options.idle_polls_at_end)) {
        it = todo.erase(it);
      } else {
        ++it;
      }
    }
  }
  stats.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return stats;
}

}  // namespace

result<restore_stats> restore_changelog(log::event_log& log, state_store& store, const std::string& topic,
                                        const std::vector<std::int32_t>& partitions, const changelog_decoder& decode,
                                        restore_options options) {
  const std::size_t threads = std::clamp<std::size_t>(options.threads, 1, std::max<std::size_t>(1, partitions.size()));
  if (threads == 1) return restore_group(log, store, topic, partitions, decode, options);
  // Partitions dealt round-robin to `threads` readers, each applying its own partitions' batches: the store takes
  // concurrent writers, and the restore is bound by the CPU of decoding and inserting.
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::vector<std::int32_t>> groups(threads);
  for (std::size_t i = 0; i < partitions.size(); ++i) groups[i % threads].push_back(partitions[i]);
  std::vector<std::optional<result<restore_stats>>> results(threads);
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back(
          [&, t] { results[t].emplace(restore_group(log, store, topic, groups[t], decode, options)); });
    }
  }  // joined
  restore_stats total;
  for (auto& r : results) {
    if (!*r) return std::move(*r).err();
    total.records += (*r)->records;
    total.skipped += (*r)->skipped;
  }
  total.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return total;
}

}  // namespace passerelle::state

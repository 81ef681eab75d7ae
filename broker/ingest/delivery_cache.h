#pragma once
// delivery_cache: remembers the answer given to each (connector, account, delivery id) for a window, so that a
// platform's retry of a delivery that was already made durable gets the same answer at once, without producing
// its events again.
//
// This is an optimisation and a courtesy to the platform; the guarantee that a retry changes nothing downstream
// comes from the deterministic event ids (identity.h) that the lifecycle engine deduplicates on. The cache is per
// instance and in memory, bounded by entries (least recently inserted evicted first) and by time.
//
// Thread-safety: all methods lock an internal mutex (short critical sections, no I/O).

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace passerelle::ingest {

struct cached_answer {
  int kind = 0;  // outcome_kind as int (kept opaque here)
  std::vector<std::string> event_ids;
  std::vector<std::pair<std::string, std::string>> subjects;
  std::string reason_code;
  std::string reason_message;
};

class delivery_cache {
 public:
  delivery_cache(std::size_t max_entries, std::int64_t window_ms);

  std::optional<cached_answer> find(const std::string& key, std::int64_t now_ms);
  void put(const std::string& key, cached_answer answer, std::int64_t now_ms);
  std::size_t size() const;

 private:
  struct entry {
    cached_answer answer;
    std::int64_t stored_at_ms;
    std::list<std::string>::iterator order_it;
  };
  std::size_t max_entries_;
  std::int64_t window_ms_;
  mutable std::mutex mu_;
  std::list<std::string> order_;  // oldest first
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace passerelle::ingest

#include "broker/ingest/delivery_cache.h"

namespace passerelle::ingest {

delivery_cache::delivery_cache(std::size_t max_entries, std::int64_t window_ms)
    : max_entries_(max_entries), window_ms_(window_ms) {}

std::optional<cached_answer> delivery_cache::find(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (now_ms - it->second.stored_at_ms > window_ms_) {
    order_.erase(it->second.order_it);
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.answer;
}

void delivery_cache::put(const std::string& key, cached_answer answer, std::int64_t now_ms) {
  if (max_entries_ == 0) return;
  std::lock_guard lock(mu_);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    order_.erase(it->second.order_it);
    entries_.erase(it);
  }
  while (entries_.size() >= max_entries_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, entry{std::move(answer), now_ms, std::prev(order_.end())});
}

std::size_t delivery_cache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace passerelle::ingest

#include "broker/handoff/lookup_limiter.h"

#include <algorithm>
#include <cmath>

namespace passerelle::handoff {

namespace {
// A zero burst or key bound would refuse everyone forever: both are raised to 1.
lookup_limits sane(lookup_limits l) {
  l.burst = std::max<std::uint32_t>(l.burst, 1);
  l.max_keys = std::max<std::size_t>(l.max_keys, 1);
  return l;
}
}  // namespace

lookup_limiter::lookup_limiter(lookup_limits limits, const core::clock& clock) : limits_(sane(limits)), clock_(clock) {}

lookup_limiter::bucket& lookup_limiter::touch(std::string_view key) {
  const std::int64_t now = clock_.now_ms();
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_keys) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(key);
    it = buckets_.emplace(lru_.front(), bucket{static_cast<double>(limits_.burst), now, lru_.begin()}).first;
    return it->second;
  }
  bucket& b = it->second;
  const auto interval = std::max<std::int64_t>(limits_.refill_interval.count(), 1);
  if (now > b.updated_ms) {
    b.tokens = std::min(static_cast<double>(limits_.burst),
                        b.tokens + static_cast<double>(now - b.updated_ms) / static_cast<double>(interval));
    b.updated_ms = now;
  }
  lru_.splice(lru_.begin(), lru_, b.lru);
  return b;
}

bool lookup_limiter::allowed(std::string_view key) {
  const std::lock_guard lock(mutex_);
  return touch(key).tokens >= 1.0;
}

void lookup_limiter::record_failure(std::string_view key) {
  const std::lock_guard lock(mutex_);
  bucket& b = touch(key);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

std::chrono::milliseconds lookup_limiter::retry_after(std::string_view key) {
  const std::lock_guard lock(mutex_);
  const bucket& b = touch(key);
  if (b.tokens >= 1.0) return std::chrono::milliseconds(0);
  const auto interval = static_cast<double>(std::max<std::int64_t>(limits_.refill_interval.count(), 1));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) * interval)));
}

std::size_t lookup_limiter::tracked_keys() const {
  const std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace passerelle::handoff

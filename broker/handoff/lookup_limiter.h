#pragma once
// Rate limit on handoff code lookups (CONTRACT.md: codes are "rate-limited on lookup").
//
// A token bucket per caller key (the store id of a store token, or the client address otherwise): `burst`
// lookups at once, then one more every `refill_interval`. Only FAILED lookups (unknown, expired or malformed
// codes) take a token — a till that recalls real baskets all day is never slowed, while a guesser is held to
// the refill rate. When a caller's bucket is empty the answer is 429 with Retry-After (retry_after()).
//
// Memory is bounded: at most `max_keys` buckets, the least recently used one evicted first. An evicted key
// starts again with a full bucket, so the bound must exceed the number of callers seen in one refill window
// (default 100,000 keys, about 10 MB).
//
// Thread-safety: every method may be called from any thread (one mutex; O(1) work under it, so I/O threads may
// call it). Lifecycle: owned by the daemon's handoff service, lives as long as the routes.

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/core/clock.h"

namespace passerelle::handoff {

struct lookup_limits {
  std::uint32_t burst = 10;                         // failed lookups allowed at once
  std::chrono::milliseconds refill_interval{6000};  // one more failed lookup allowed per interval
  std::size_t max_keys = 100'000;                   // buckets kept (LRU eviction)
};

class lookup_limiter {
 public:
  lookup_limiter(lookup_limits limits, const core::clock& clock);

  // True when `key` may attempt a lookup now (its bucket is not empty). Does not take a token.
  bool allowed(std::string_view key);
  // Records a failed lookup by `key`: takes one token.
  void record_failure(std::string_view key);
  // How long until `key` may try again (zero when allowed now).
  std::chrono::milliseconds retry_after(std::string_view key);

  std::size_t tracked_keys() const;

 private:
  struct bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
    std::list<std::string>::iterator lru;
  };
  bucket& touch(std::string_view key);  // finds or creates, refills, marks most recently used; mutex held

  const lookup_limits limits_;
  const core::clock& clock_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;  // front: most recently used
  std::unordered_map<std::string, bucket> buckets_;
};

}  // namespace passerelle::handoff

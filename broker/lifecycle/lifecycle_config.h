#pragma once
// Configuration of the lifecycle engine's pure core: the contract's `lifecycle:` section (abandon_after,
// handoff_ttl, quote_ttl) plus the per-subject bounds that keep state small. Plain value; copy it freely.

#include <cstddef>
#include <cstdint>

namespace passerelle::lifecycle {

struct lifecycle_config {
  // `lifecycle.abandon_after`: an active basket untouched this long becomes abandoned (engine timer).
  std::int64_t abandon_after_ms = 24LL * 3600 * 1000;
  // `lifecycle.handoff_ttl`: a handoff request without `expires_at` expires this long after it occurred.
  std::int64_t handoff_ttl_ms = 2LL * 3600 * 1000;
  // `lifecycle.quote_ttl`: an issued quote without `valid_until` expires this long after it was issued.
  std::int64_t quote_ttl_ms = 720LL * 3600 * 1000;
  // An abandoned basket expires for good this long after its last activity + abandon_after (not in the contract
  // yet: `lifecycle.abandoned_retention` is proposed; 0 disables the timer).
  std::int64_t abandoned_retention_ms = 720LL * 3600 * 1000;

  // Bounds per subject. Hitting one rejects the event (reason "limit_<name>"), never drops data silently.
  std::size_t max_lines = 500;         // lines of a basket / quote, items of a wishlist (tombstones count too)
  std::size_t max_references = 64;     // references attached to one subject
  std::size_t max_customer_refs = 32;  // customer references attached to one subject
  std::size_t max_sources = 16;        // distinct {connector}:{account} feeding one subject
  std::size_t max_handoffs = 16;       // handoffs remembered per basket (the oldest finished one is forgotten)
  // Event ids remembered per subject for idempotency (a FIFO window of 64-bit hashes, 8 bytes each). A duplicate
  // older than the window is caught by source versions when it carries one (see docs/lifecycle.md).
  std::size_t dedup_window = 64;
};

}  // namespace passerelle::lifecycle

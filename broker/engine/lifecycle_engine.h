#pragma once
// The lifecycle engine runner: a member of a consumer group that folds the event topics into subject states
// (broker/lifecycle/fold.h), exactly once, with state in the local store and its changelog (docs/lifecycle.md
// "Runner").
//
// One transaction per poll batch (consume-transform-produce, event_log.h "Transactions"):
//   poll input events -> fold each into its subject's state (working copy) -> fire due timers -> produce, inside
//   the transaction, the derived events (to the subject's own topic), the history records (lifecycle.history) and
//   one changelog record per changed subject (lifecycle.state) -> send the input's next offsets -> commit.
//   After the commit the new states go to the local store at the changelog offsets the commit acknowledged.
//   A crash anywhere before the commit leaves nothing visible and the input offsets where they were: the restarted
//   instance (same instance id, so the same transactional id, which fences the old one) folds the same input into
//   the same states with the same derived event ids. An abortable failure aborts, seeks the input back to the
//   committed offsets and forgets the working copies.
//
// Partitions: the input, changelog and history topics have the same partition count, so a subject keeps one
// partition number everywhere. When partitions are assigned, the engine first restores their changelog into the
// store (from the store's checkpoint), then rebuilds the timers of their subjects; revoked partitions' timers are
// dropped.
//
// Threads: start() launches one engine thread that owns the consumer, the transactional producer and the timers;
// stats() may be read from any thread. stop() (or the destructor) asks the thread to finish its current
// transaction and joins it. Lifecycle: created by the daemon after the log and the state store, destroyed before
// them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/lifecycle/lifecycle_config.h"
#include "broker/log/event_log.h"
#include "broker/state/state_store.h"

namespace passerelle::engine {

struct engine_options {
  std::string topic_prefix = "passerelle.";
  std::int32_t partitions = 12;  // of the input topics (and so of the engine's topics)
  // Consumer group of every engine instance; "" = topic_prefix + "lifecycle".
  std::string group;
  // Stable across restarts of this instance (e.g. the host name): the transactional id is group + "." + this.
  std::string instance_id = "0";
  lifecycle::lifecycle_config lifecycle;
  std::size_t max_batch_records = 2000;     // input records per transaction
  std::size_t max_timers_per_batch = 2000;  // timer firings per transaction
  std::chrono::milliseconds poll_timeout{200};
  // Under load, a poll may return only what the client fetched so far (on Kafka, a read-committed fetch of one
  // partition); a transaction per such small batch costs a commit each. When a poll brings at least
  // `linger_min_records`, the engine polls again for up to `batch_linger` to fill the batch to max_batch_records.
  // A trickle of single events is not delayed (they are below the threshold). 0 turns lingering off.
  std::chrono::milliseconds batch_linger{20};
  std::size_t linger_min_records = 16;
  std::chrono::milliseconds commit_timeout{30'000};
  std::chrono::milliseconds open_timeout{30'000};  // opening the transactional producer (fencing)
};

struct engine_stats {
  std::uint64_t folded = 0;        // input events applied
  std::uint64_t duplicates = 0;    // input events already folded
  std::uint64_t stale = 0;         // snapshots / line events older than what the subject has
  std::uint64_t rejected = 0;      // illegal transitions (recorded as TransitionRejected in the history)
  std::uint64_t invalid = 0;       // records that are not a lifecycle event of their subject
  std::uint64_t echoes = 0;        // the engine's own derived events read back
  std::uint64_t timers_fired = 0;  // abandonments and expiries
  std::uint64_t transactions = 0;  // committed
  std::uint64_t aborts = 0;        // aborted and redone
  std::uint64_t restored = 0;      // changelog records read back into the store on assignment
  bool running = false;
  std::string last_error;  // the error that stopped the engine, if any
};

class lifecycle_engine {
 public:
  // Starts the engine thread. `log`, `store` and `clock` must outlive the engine.
  // Errors: reject/"invalid_config".
  static result<std::unique_ptr<lifecycle_engine>> start(log::event_log& log, state::state_store& store,
                                                         const core::clock& clock, engine_options options);
  ~lifecycle_engine();
  lifecycle_engine(const lifecycle_engine&) = delete;
  lifecycle_engine& operator=(const lifecycle_engine&) = delete;

  // Asks the thread to stop after its current transaction and joins it. Idempotent.
  void stop();
  engine_stats stats() const;

 private:
  lifecycle_engine(log::event_log& log, state::state_store& store, const core::clock& clock, engine_options options);
  void run();
  struct worker;

  log::event_log& log_;
  state::state_store& store_;
  const core::clock& clock_;
  const engine_options options_;
  std::atomic<bool> stop_{false};
  mutable std::mutex stats_mutex_;
  engine_stats stats_;
  std::thread thread_;
};

}  // namespace passerelle::engine

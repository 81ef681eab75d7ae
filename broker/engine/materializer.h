#pragma once
// The read side of the lifecycle engine: tails every partition of the state changelog and the history topic
// into the local store (store_layout.h), so that ANY instance answers any read, whichever instance folds the
// subject. Reads are eventually consistent: a state is readable here once its transaction committed and this
// tailer applied it (the delay is exposed as lag() and measured in docs/performance.md).
//
// It is the store's main writer; the engine's restore on assignment writes too, through the same checkpoints, so
// whichever reaches an offset first applies it and the other skips it (state_store::apply).
//
// Threads: one tailer thread, started by start(), stopped by stop()/the destructor. lag() and applied() from any
// thread. Lifecycle: owned by the lifecycle engine (or the daemon), after the log and the store, before them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/core/result.h"
#include "broker/log/event_log.h"
#include "broker/state/state_store.h"

namespace passerelle::engine {

struct materializer_options {
  std::string topic_prefix = "passerelle.";
  std::int32_t partitions = 12;
  std::size_t max_poll_records = 4096;
  std::chrono::milliseconds poll_timeout{100};
};

class materializer {
 public:
  static result<std::unique_ptr<materializer>> start(log::event_log& log, state::state_store& store,
                                                     materializer_options options);
  ~materializer();
  materializer(const materializer&) = delete;
  materializer& operator=(const materializer&) = delete;
  void stop();

  // Records applied so far (state and history).
  std::uint64_t applied() const noexcept { return applied_.load(std::memory_order_relaxed); }
  // The error that stopped the tailer, if any (a corrupt record, a failing store).
  std::string last_error() const;

 private:
  materializer(log::event_log& log, state::state_store& store, materializer_options options,
               std::unique_ptr<log::consumer> reader);
  void run();

  log::event_log& log_;
  state::state_store& store_;
  const materializer_options options_;
  std::unique_ptr<log::consumer> reader_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> applied_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace passerelle::engine

#pragma once
// Rebuilding the state store from changelog topics: on start and when partitions move to this instance, read
// each changelog partition from the store's checkpoint to its end and apply it (state_store.h).
//
// "Its end" is the partition's log-end offset when the restore starts. On Kafka, transaction markers take
// offsets and aborted records are invisible to a read-committed reader, so the last visible record may sit below
// log-end - 1: a partition also counts as restored once the reader has returned nothing for
// `idle_polls_at_end` consecutive polls (2 s by default) after its last record. The engine restores a partition only
// after its transactional producer has fenced the previous owner, so nothing new is being written to it meanwhile.
//
// Thread: the caller's (it blocks on the log's reader; never call it on an I/O thread).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "broker/core/result.h"
#include "broker/log/event_log.h"
#include "broker/state/state_store.h"

namespace passerelle::state {

// Turns one changelog record into store mutations. The default (nullptr) maps key -> value, an empty value
// deleting the key.
using changelog_decoder = std::function<result<std::vector<mutation>>(const log::record&)>;

struct restore_options {
  std::size_t max_poll_records = 8192;          // records applied per store batch, at most
  std::chrono::milliseconds poll_timeout{200};  // one reader poll
  int idle_polls_at_end = 10;                   // consecutive empty polls; see above
  std::chrono::milliseconds deadline{600'000};  // the whole restore; then retry/"restore_timed_out"
  // Readers working in parallel, each on its share of the partitions (capped by the partition count). The decoder
  // is then called from several threads at once: it must be thread-safe (the engine's are pure functions).
  std::size_t threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
};

struct restore_stats {
  std::uint64_t records = 0;  // changelog records applied
  std::uint64_t skipped = 0;  // records already in the store (below the checkpoint)
  std::chrono::milliseconds elapsed{0};
};

// Restores `partitions` of changelog `topic` into `store`. Errors: those of the log's reader and watermarks,
// the decoder's (a record that cannot be decoded is fatal/"changelog_corrupt": state would be wrong), the
// store's, and retry/"restore_timed_out".
result<restore_stats> restore_changelog(log::event_log& log, state_store& store, const std::string& topic,
                                        const std::vector<std::int32_t>& partitions,
                                        const changelog_decoder& decode = nullptr, restore_options options = {});

}  // namespace passerelle::state

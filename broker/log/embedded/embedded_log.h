#pragma once
// The embedded event_log backend: a single-process, single-machine log on RocksDB, so Passerelle runs with
// nothing installed. Same model and guarantees as the Kafka backend (see broker/log/event_log.h); what it stores
// where, its fsync policy, limits and threads are in broker/log/embedded/README.md.
//
// Ownership: the caller owns the returned log. It must outlive every consumer it created (contract of
// event_log). Only one log may have a given data_dir open at a time (RocksDB's LOCK file enforces it; a second
// open fails with retry/"store_locked").
//
// Threads: open_embedded_log starts one writer thread (group commit of produces, then their completions);
// consumers run on their owners' threads; admin calls run on the caller's thread.

#include <memory>

#include "broker/core/clock.h"
#include "broker/core/result.h"
#include "broker/log/backend_options.h"
#include "broker/log/event_log.h"

namespace passerelle::log {

// Opens (creating if missing) the log in <options.data_dir>/log and recovers its log-end offsets.
// Errors: reject/"invalid_config" (a bad option value, named in the message), retry/"store_locked" (another log
// has the directory open), fatal/"store_open_failed" or fatal/"corrupt_store" (RocksDB could not open it).
result<std::unique_ptr<event_log>> open_embedded_log(const embedded_options& options);

// As above, with the clock that stamps records produced without a timestamp. `clock` must outlive the log.
result<std::unique_ptr<event_log>> open_embedded_log(const embedded_options& options, const core::clock& clock);

}  // namespace passerelle::log

#pragma once
// dead_letter_reader: bounded, blocking reads of the `dlq` topic for operators (list a page, fetch one).
//
// A dead letter's id is "<partition>-<offset>" of its record in the `dlq` topic: stable for the record's life,
// valid on both backends, and enough to find it again with one positioned read.
//
// Listing is NEWEST FIRST: each partition is read backwards in windows of at most `limit` records below its
// cursor position, and the windows are merged by received_at (ties: lower partition first) so a page is the
// `limit` newest dead letters not yet listed. The cursor is opaque to clients; it records, per partition, the
// offset below which the next page starts ("c1_<p>-<end>_<p>-<end>..."). New dead letters arriving while an
// operator pages are not shown by later pages (they are newer than the first page): list again from the start.
//
// Bounds: `limit` is 1..max_limit; a list reads at most limit records per partition, a get at most
// `max_scan` records; each call stops at `deadline` (error retry/"dlq_read_timeout"); records are polled in
// batches of `poll_batch` and bodies are dropped as soon as they are summarised, so memory stays at a few batches.
//
// Lifecycle and threads: owned by the daemon, created after the event log and destroyed before it. Every method
// BLOCKS (event-log admin calls and reader polls): call them off I/O threads (http::blocking_pool). Methods are
// safe to call concurrently (each call opens its own group-less reader).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "broker/ingest/webhook_ingest.h"
#include "broker/log/event_log.h"

namespace passerelle::dlq {

struct reader_options {
  std::string topic;  // the full name of the dlq topic (prefix applied)
  std::size_t default_limit = 20;
  std::size_t max_limit = 100;
  std::size_t max_scan = 1000;  // get(): records read past a gap before giving up
  std::size_t poll_batch = 16;
  std::chrono::milliseconds poll_timeout{500};
  std::chrono::milliseconds deadline{5000};
};

// One line of a listing.
struct dead_letter_summary {
  std::string id;  // "<partition>-<offset>"
  std::int64_t received_at_ms = 0;
  std::string connector;
  std::string account;
  std::string reason_code;
  std::string reason_message;
  std::size_t body_bytes = 0;
};

struct dead_letter_page {
  std::vector<dead_letter_summary> items;  // newest first
  std::optional<std::string> next_cursor;  // nullopt: nothing older remains
};

// One dead letter, whole.
struct dead_letter_entry {
  std::string id;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  ingest::dead_letter_input input;  // the DeadLetter and the platform topic (what replay needs)
  std::string traceparent;          // of the original request, when it had a well-formed one
};

// "<partition>-<offset>" (both decimal, no sign, no leading zeros beyond "0") → the pair; nullopt otherwise.
struct record_position {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};
std::optional<record_position> parse_dead_letter_id(std::string_view id);
std::string format_dead_letter_id(std::int32_t partition, std::int64_t offset);

class dead_letter_reader {
 public:
  // `log` must outlive this object.
  dead_letter_reader(log::event_log& log, reader_options options);

  // A page of at most `limit` (nullopt: default_limit) dead letters, newest first, starting below `cursor`
  // (empty: from the newest). Errors: reject/"bad_limit", reject/"bad_cursor", retry/"dlq_read_timeout", and
  // the event log's own (retry/"unavailable", ...). A missing dlq topic is an empty page.
  result<dead_letter_page> list(std::optional<std::size_t> limit, std::string_view cursor) const;

  // The dead letter `id`. Errors: not_found/"dead_letter_not_found" (malformed id, no such partition, offset out
  // of the partition's range or not a record), reject/"undecodable_dead_letter" (the record is not a
  // DeadLetter), retry/"dlq_read_timeout", and the event log's own.
  result<dead_letter_entry> get(std::string_view id) const;

  const reader_options& options() const noexcept { return options_; }

 private:
  result<std::int32_t> partition_count() const;

  log::event_log& log_;
  reader_options options_;
};

}  // namespace passerelle::dlq

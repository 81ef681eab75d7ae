#pragma once
// What the event-log benchmarks share, so that every variant (embedded backend, Kafka backend, raw librdkafka
// ceiling) writes the SAME records and is measured the SAME way:
//   - workload:          the records (key, value, the contract's four headers), a pure function of the index;
//   - closed_loop:       the driver that keeps at most `window` produces in flight and times each one;
//   - summarise/print_*: the figures (events/s of acknowledged records, latency percentiles) and the report.
//
// Measurement model (docs/performance.md explains why): closed loop with a bounded in-flight window. One issuer
// thread calls the variant's produce for record i as soon as fewer than `window` records are unacknowledged;
// the variant's completion (on its own backend thread) calls closed_loop::complete(i, ...). Latency of record i =
// time of complete() - time just before its produce call. Throughput counts only acknowledged records, over the
// time from the first produce call to the last completion.
//
// Errors: bad command-line input gives a usage_error naming the option; the benchmark tools print it and exit 2.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace passerelle::bench {

// A bad option or option value; the message names the option.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Monotonic nanoseconds (steady clock): what every latency and duration here is measured with.
inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct workload_options {
  std::size_t value_bytes = 1024;       // record value size ("1 KB events")
  std::size_t distinct_keys = 100'000;  // subject ids the records are keyed by (spread over the partitions)
  bool with_headers = true;             // the contract's event-id, event-type, source and content-type headers
};

// The records, as a pure function of their index: record i has the same key, value and headers in every variant.
// Values are pseudo-random bytes (incompressible: no variant compresses, and none can gain from a compressible
// test payload). Lifecycle: built once per run, immutable afterwards; read from any thread.
class workload {
 public:
  explicit workload(const workload_options& options);

  const workload_options& options() const noexcept { return options_; }

  // The key of record i ("basket-<16 hex digits>"): one of `distinct_keys` subject ids.
  std::string_view key(std::uint64_t i) const noexcept;
  // The value of record i (value_bytes bytes; taken from a pool of distinct values).
  std::string_view value(std::uint64_t i) const noexcept;
  // The unique event id of record i, written into `out` (36 characters, UUID-shaped): the event-id header.
  std::string_view event_id(std::uint64_t i, char (&out)[37]) const noexcept;

  // The constant headers (all but event-id).
  static constexpr std::string_view event_type = "passerelle.v1.BasketSnapshot";
  static constexpr std::string_view source = "bench:local";
  static constexpr std::string_view content_type = "application/x-protobuf";

 private:
  workload_options options_;
  std::vector<std::string> keys_;
  std::vector<std::string> values_;
};

// Per-record completion outcome as the variants report it.
struct outcome {
  bool ok = false;
  std::string_view error_code;  // when !ok: a short code ("queue_full", "timed_out", librdkafka's error name...)
  std::string_view message;     // when !ok: detail (only the first one per code is kept)
};

// The closed-loop driver. Lifecycle: one per measured phase; run() once. Threads: run() on the issuer thread
// (the caller); complete() from any thread (the variant's completion thread), exactly once per issued index.
class closed_loop {
 public:
  // `window` >= 1: the most records in flight at once. `timeout`: run() gives up (returns false) when the
  // records are not all complete by then, so a stuck backend cannot hang the benchmark.
  closed_loop(std::uint64_t first_index, std::uint64_t count, std::size_t window, std::chrono::seconds timeout);

  // Issues records first_index .. first_index+count-1 through `issue(i)` (which must not block for long and
  // must lead to exactly one complete(i, ...) call, possibly before it returns) and waits until all completed.
  // Returns false on timeout (some records never completed).
  bool run(const std::function<void(std::uint64_t)>& issue);

  // Records the completion of record i. Never blocks for long; safe from any thread.
  void complete(std::uint64_t i, const outcome& result) noexcept;

  // Results, valid after run() returned true.
  std::uint64_t acknowledged() const noexcept { return acked_.load(); }
  std::uint64_t failed() const noexcept { return failed_.load(); }
  std::int64_t started_ns() const noexcept { return started_ns_; }
  std::int64_t last_completion_ns() const noexcept;
  // Latencies (ns) of the acknowledged records, unsorted.
  std::vector<std::int64_t> ack_latencies_ns() const;
  // Failures by error code, each with the count and the first message seen.
  std::map<std::string, std::pair<std::uint64_t, std::string>> failures() const;

 private:
  const std::uint64_t first_;
  const std::uint64_t count_;
  const std::size_t window_;
  const std::chrono::seconds timeout_;
  std::vector<std::int64_t> issued_ns_;   // written by the issuer before produce; read by complete()
  std::vector<std::int64_t> latency_ns_;  // -1: failed; written by complete()
  std::int64_t started_ns_ = 0;
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> acked_{0};
  std::atomic<std::uint64_t> failed_{0};
  // The issuer sleeps only when the window is full; completions wake it only then (Dekker-style flag, both
  // sides seq_cst), so the common path of complete() takes no lock.
  std::atomic<bool> issuer_waiting_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  mutable std::mutex failures_mu_;
  std::map<std::string, std::pair<std::uint64_t, std::string>> failures_;
};

// The figures of one measured phase.
struct summary {
  std::uint64_t records = 0;
  std::uint64_t acked = 0;
  std::uint64_t failed = 0;
  double seconds = 0;       // first produce call to last completion
  double events_per_s = 0;  // acked / seconds
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double cpu_s = 0;            // user+system CPU of this process during the phase (all its threads)
  double runqueue_wait_s = 0;  // time this process's threads spent runnable but waiting for a CPU
};

summary summarise(const closed_loop& loop, std::uint64_t records, double cpu_s);

// User + system CPU seconds consumed so far by this process.
double process_cpu_seconds();

// Scheduler accounting of every thread of this process (/proc/self/task/*/schedstat): how long each ran and how
// long it sat runnable waiting for a CPU. The difference of two snapshots tells whether a phase was limited by
// its own CPU work, by waiting for a CPU (a busy machine), or by neither (I/O such as fsync, the network, the
// broker). Empty where /proc is not available.
struct thread_time {
  std::string name;
  double run_s = 0;
  double runqueue_wait_s = 0;
};
std::map<int, thread_time> thread_times();

// Prints, per thread, its CPU time and run-queue wait between two snapshots (threads that used < 1 ms are left
// out), and returns the summed run-queue wait.
double print_thread_times(const std::map<int, thread_time>& before, const std::map<int, thread_time>& after,
                          double wall_s);

// Everything a report line names besides the figures.
struct run_description {
  std::string variant;  // "embedded", "kafka", "raw"
  std::string label;    // free text from --label (e.g. "round=3"), may be empty
  std::string topic;
  std::int32_t partitions = 0;
  std::size_t window = 0;
  std::size_t value_bytes = 0;
  std::uint64_t warmup = 0;
};

// Prints a human table and then ONE machine-readable line to stdout:
//   RESULT variant=<v> <label> records=.. acked=.. failed=.. seconds=.. eps=.. p50_us=.. p90_us=.. p99_us=..
//          p999_us=.. max_us=.. cpu_s=.. cpu_us_per_event=.. window=.. value_bytes=.. partitions=.. warmup=..
//          topic=.. build=release|debug|sanitizer
// and the failures (if any) to stderr.
void print_report(const run_description& run, const summary& s, const closed_loop& loop);

// --- tiny option parsing shared by the tools --------------------------------------------------------------------

// Parses "--name=value" / "--name value" arguments. Unknown options are usage errors.
class option_parser {
 public:
  option_parser(int argc, char** argv);
  // Next option: false when done. `name` without dashes; `value` empty for flags given without a value.
  bool next(std::string& name, std::string& value);
  // The value of the current option, or a usage_error when it has none.
  std::string require_value(const std::string& name, const std::string& value);

 private:
  std::vector<std::string> args_;
  std::size_t pos_ = 0;
};

std::uint64_t parse_count(const std::string& option, const std::string& value, std::uint64_t min, std::uint64_t max);
bool parse_bool(const std::string& option, const std::string& value);
// "key=value" (for -X/--property librdkafka passthrough).
std::pair<std::string, std::string> parse_property(const std::string& option, const std::string& value);

}  // namespace passerelle::bench

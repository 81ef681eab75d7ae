#pragma once
// A tiny metrics registry rendered in the Prometheus text exposition format 0.0.4.
//
// Model: a `registry` owns metric *families* (a name, a help text, a type and a fixed list of label names);
// a family hands out *cells* (one per combination of label values). Cells are updated with plain atomics, so
// the hot path is lock-free once a caller holds the cell: callers that update a metric per request look the cell
// up once (or per label combination, which takes a shared lock on the family's map) and keep the reference.
//
// Lifecycle and ownership: a registry is created at start-up by the daemon (or a test) and outlives every
// component that updates it. Families and cells are owned by the registry and are never removed, so references
// returned by `counter_family::with()` etc. stay valid for the registry's lifetime. Label cardinality is the
// caller's responsibility: use route patterns, never raw paths or ids, as label values.
//
// Components that already keep their own statistics (a stats() snapshot, a queue depth) need not update cells on
// their hot path: they register a *collector* (add_collector) that copies those statistics into cells right
// before each render(), i.e. at scrape time.
//
// Threading: every method may be called from any thread. Registration takes an exclusive lock (start-up only);
// `with()` takes a shared lock (an exclusive one the first time a label combination is seen); increments are
// atomic; `render()` takes shared locks and may run concurrently with updates (each sample is read atomically,
// a histogram's buckets may be a few increments apart from its count: Prometheus tolerates that).
//
// Errors: registering an invalid metric/label name, a name already registered with another type, help or label
// set, or calling `with()` with the wrong number of label values is a programming error and throws
// std::invalid_argument (these happen at start-up, never on the data path).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace passerelle::obs {

// A monotonically increasing count (requests served, bytes received, ...).
class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (connections open, queue depth, ...).
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { add(-1.0); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed, increasing upper bounds (plus the implicit +Inf bucket), with sum and count.
class histogram {
 public:
  explicit histogram(const std::vector<double>& bounds);
  void observe(double v) noexcept;

  // Snapshot accessors (non-cumulative bucket counts; index bounds().size() is the +Inf bucket).
  const std::vector<double>& bounds() const noexcept { return *bounds_; }
  std::uint64_t bucket_count(std::size_t i) const noexcept { return buckets_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;  // owned by the family, which outlives the cell
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Default latency buckets in seconds (Prometheus client defaults).
const std::vector<double>& default_latency_buckets();

enum class metric_type { counter, gauge, histogram };

class registry;

// A family: one metric name with a fixed label-name list. `with(values)` returns the cell for those label values
// (same order as the label names), creating it on first use.
template <typename Cell>
class family {
 public:
  Cell& with(const std::vector<std::string>& label_values);
  // The cell of a family registered without labels.
  Cell& get() { return with({}); }

  const std::string& name() const noexcept { return name_; }

 private:
  friend class registry;
  family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Cell>> cells_;  // ordered: stable rendering
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

// Owns every family. Not copyable or movable: families point into it.
class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Registers (or returns the already registered, identical) family. Throws std::invalid_argument on an invalid
  // name, invalid/reserved label names, or a clash with an existing family of the same name.
  counter_family& add_counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  gauge_family& add_gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bounds` must be strictly increasing and finite; +Inf is implicit.
  histogram_family& add_histogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                                  std::vector<double> bounds = default_latency_buckets());

  // Adds a function run at the start of every render(), in registration order, on the rendering thread and with
  // no registry lock held (it may call add_*() and with()). It refreshes cells from a component's own statistics:
  // it must be quick, must not block on I/O, and must tolerate two renders at once (two scrapes). Whatever it
  // captures must stay valid for every later render(); collectors are never removed.
  void add_collector(std::function<void()> collect);

  // The whole registry in text exposition format 0.0.4 (content type `text/plain; version=0.0.4`), families in
  // name order, each with its # HELP and # TYPE lines. Runs the collectors first.
  std::string render() const;

  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct entry {
    metric_type type;
    std::unique_ptr<counter_family> c;
    std::unique_ptr<gauge_family> g;
    std::unique_ptr<histogram_family> h;
  };
  entry& add(metric_type type, std::string& name, std::string& help, std::vector<std::string>& labels,
             std::vector<double>* bounds);

  mutable std::shared_mutex mu_;
  std::map<std::string, entry, std::less<>> families_;
  mutable std::mutex collectors_mu_;  // guards collectors_ only; collectors run without it
  std::vector<std::shared_ptr<const std::function<void()>>> collectors_;
};

// Helpers exposed for tests and for other exposition code.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;
// Escapes a label value (backslash, double quote, newline) as the text format requires.
std::string escape_label_value(std::string_view v);
// Formats a sample value: integers without exponent, +Inf/-Inf/NaN spelled as the format requires.
std::string format_value(double v);

}  // namespace passerelle::obs

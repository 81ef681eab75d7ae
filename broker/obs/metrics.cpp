#include "broker/obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace passerelle::obs {

histogram::histogram(const std::vector<double>& bounds)
    : bounds_(&bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  // Bucket bounds are few (about a dozen): a binary search is cheaper than anything cleverer.
  const auto& b = *bounds_;
  const auto idx = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
  buckets_[idx].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

template <typename Cell>
Cell& family<Cell>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(label_values.size()));
  }
  {
    std::shared_lock lock(mu_);
    auto it = cells_.find(label_values);
    if (it != cells_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = cells_[label_values];
  if (!slot) {
    if constexpr (std::is_same_v<Cell, histogram>) {
      slot = std::make_unique<histogram>(bounds_);
    } else {
      slot = std::make_unique<Cell>();
    }
  }
  return *slot;
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.starts_with("__")) return false;  // __-prefixed names are reserved by Prometheus
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// HELP text escapes backslash and newline only (not quotes).
std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` (empty when there are no labels); `extra` appends one more pair (histogram `le`).
std::string label_block(const std::vector<std::string>& names, const std::vector<std::string>& values,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  // Shortest representation that round-trips (0.005 stays "0.005").
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

registry::entry& registry::add(metric_type type, std::string& name, std::string& help, std::vector<std::string>& labels,
                               std::vector<double>* bounds) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: '" + name + "'");
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i]))
      throw std::invalid_argument("metric " + name + ": invalid label name '" + labels[i] + "'");
    if (type == metric_type::histogram && labels[i] == "le")
      throw std::invalid_argument("metric " + name + ": label 'le' is reserved for histograms");
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[i] == labels[j])
        throw std::invalid_argument("metric " + name + ": duplicate label '" + labels[i] + "'");
    }
  }
  if (bounds) {
    for (std::size_t i = 0; i < bounds->size(); ++i) {
      if (!std::isfinite((*bounds)[i]) || (i > 0 && (*bounds)[i] <= (*bounds)[i - 1])) {
        throw std::invalid_argument("metric " + name + ": histogram bounds must be finite and strictly increasing");
      }
    }
  }
  std::unique_lock lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    entry& e = it->second;
    const std::vector<std::string>* existing_labels = nullptr;
    const std::string* existing_help = nullptr;
    const std::vector<double>* existing_bounds = nullptr;
    if (e.c) {
      existing_labels = &e.c->label_names_;
      existing_help = &e.c->help_;
    }
    if (e.g) {
      existing_labels = &e.g->label_names_;
      existing_help = &e.g->help_;
    }
    if (e.h) {
      existing_labels = &e.h->label_names_;
      existing_help = &e.h->help_;
      existing_bounds = &e.h->bounds_;
    }
    const bool same = e.type == type && *existing_labels == labels && *existing_help == help &&
                      (!bounds || *existing_bounds == *bounds);
    if (!same) throw std::invalid_argument("metric " + name + " is already registered differently");
    return e;
  }
  entry e{type, nullptr, nullptr, nullptr};
  switch (type) {
    case metric_type::counter: e.c.reset(new counter_family(name, std::move(help), std::move(labels), {})); break;
    case metric_type::gauge: e.g.reset(new gauge_family(name, std::move(help), std::move(labels), {})); break;
    case metric_type::histogram:
      e.h.reset(new histogram_family(name, std::move(help), std::move(labels), std::move(*bounds)));
      break;
  }
  return families_.emplace(std::move(name), std::move(e)).first->second;
}

counter_family& registry::add_counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return *add(metric_type::counter, name, help, label_names, nullptr).c;
}

gauge_family& registry::add_gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return *add(metric_type::gauge, name, help, label_names, nullptr).g;
}

histogram_family& registry::add_histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  return *add(metric_type::histogram, name, help, label_names, &bounds).h;
}

void registry::add_collector(std::function<void()> collect) {
  if (!collect) throw std::invalid_argument("a metrics collector must be callable");
  const std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::make_shared<const std::function<void()>>(std::move(collect)));
}

std::string registry::render() const {
  std::vector<std::shared_ptr<const std::function<void()>>> collectors;
  {
    const std::lock_guard lock(collectors_mu_);
    collectors = collectors_;
  }
  // Outside every lock: a collector may register families or create cells.
  for (const auto& collect : collectors) (*collect)();
  std::string out;
  std::shared_lock lock(mu_);
  for (const auto& [name, e] : families_) {
    const std::string* help = e.c ? &e.c->help_ : e.g ? &e.g->help_ : &e.h->help_;
    out += "# HELP " + name + ' ' + escape_help(*help) + '\n';
    out += "# TYPE " + name + ' ' + std::string(type_name(e.type)) + '\n';
    if (e.c) {
      std::shared_lock fl(e.c->mu_);
      for (const auto& [values, cell] : e.c->cells_) {
        out += name + label_block(e.c->label_names_, values) + ' ' + std::to_string(cell->value()) + '\n';
      }
    } else if (e.g) {
      std::shared_lock fl(e.g->mu_);
      for (const auto& [values, cell] : e.g->cells_) {
        out += name + label_block(e.g->label_names_, values) + ' ' + format_value(cell->value()) + '\n';
      }
    } else {
      std::shared_lock fl(e.h->mu_);
      for (const auto& [values, cell] : e.h->cells_) {
        std::uint64_t cumulative = 0;
        const auto& bounds = cell->bounds();
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
          cumulative += cell->bucket_count(i);
          const std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
          out += name + "_bucket" + label_block(e.h->label_names_, values, "le", le) + ' ' +
                 std::to_string(cumulative) + '\n';
        }
        out += name + "_sum" + label_block(e.h->label_names_, values) + ' ' + format_value(cell->sum()) + '\n';
        // _count equals the +Inf bucket so that the exposition is self-consistent even mid-update.
        out += name + "_count" + label_block(e.h->label_names_, values) + ' ' + std::to_string(cumulative) + '\n';
      }
    }
  }
  return out;
}

}  // namespace passerelle::obs

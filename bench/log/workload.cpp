#include "bench/log/workload.h"

#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

namespace passerelle::bench {
namespace {

// splitmix64: a cheap, well-mixed, deterministic generator, so every variant derives identical bytes.
std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

// Distinct values in the pool: enough that consecutive records differ, small enough to stay in cache-friendly
// memory (256 KiB for 1 KB values).
constexpr std::size_t value_pool_size = 256;

constexpr char hex_digits[] = "0123456789abcdef";

void write_hex(std::uint64_t v, char* out, int digits) noexcept {
  for (int d = digits - 1; d >= 0; --d) {
    out[d] = hex_digits[v & 0xFU];
    v >>= 4U;
  }
}

double percentile_us(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  const std::size_t idx = std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1;
  return static_cast<double>(sorted[idx]) / 1000.0;
}

// "release" only for an optimised build without assertions and sanitizers: other builds' figures mislead.
const char* build_kind() noexcept {
#if defined(__SANITIZE_ADDRESS__)
  return "sanitizer";
#elif !defined(NDEBUG) || !defined(__OPTIMIZE__)
  return "debug";
#else
  return "release";
#endif
}

}  // namespace

workload::workload(const workload_options& options) : options_(options) {
  if (options_.value_bytes == 0) throw usage_error("--record-size must be at least 1 byte");
  if (options_.distinct_keys == 0) throw usage_error("--keys must be at least 1");
  keys_.reserve(options_.distinct_keys);
  for (std::size_t k = 0; k < options_.distinct_keys; ++k) {
    std::string key = "basket-0000000000000000";
    write_hex(splitmix64(k), key.data() + 7, 16);
    keys_.push_back(std::move(key));
  }
  values_.reserve(value_pool_size);
  for (std::size_t v = 0; v < value_pool_size; ++v) {
    std::string value(options_.value_bytes, '\0');
    std::uint64_t state = splitmix64(0xC0FFEEULL + v);
    for (std::size_t b = 0; b < value.size(); b += 8) {
      state = splitmix64(state);
      for (std::size_t j = 0; j < 8 && b + j < value.size(); ++j) {
        value[b + j] = static_cast<char>((state >> (8U * j)) & 0xFFU);
      }
    }
    values_.push_back(std::move(value));
  }
}

std::string_view workload::key(std::uint64_t i) const noexcept { return keys_[i % keys_.size()]; }

std::string_view workload::value(std::uint64_t i) const noexcept { return values_[i % values_.size()]; }

std::string_view workload::event_id(std::uint64_t i, char (&out)[37]) const noexcept {
  // UUID-shaped: 8-4-4-4-12 hex digits, unique per index.
  const std::uint64_t hi = splitmix64(i ^ 0x5EEDULL);
  write_hex(hi >> 32U, out, 8);
  out[8] = '-';
  write_hex((hi >> 16U) & 0xFFFFU, out + 9, 4);
  out[13] = '-';
  write_hex(hi & 0xFFFFU, out + 14, 4);
  out[18] = '-';
  write_hex((i >> 48U) & 0xFFFFU, out + 19, 4);
  out[23] = '-';
  write_hex(i & 0xFFFFFFFFFFFFULL, out + 24, 12);
  out[36] = '\0';
  return {out, 36};
}

// --- closed_loop -----------------------------------------------------------------------------------------------

closed_loop::closed_loop(std::uint64_t first_index, std::uint64_t count, std::size_t window,
                         std::chrono::seconds timeout)
    : first_(first_index),
      count_(count),
      window_(window),
      timeout_(timeout),
      issued_ns_(count, 0),
      latency_ns_(count, -1) {
  if (window_ == 0) throw usage_error("--window must be at least 1");
}

bool closed_loop::run(const std::function<void(std::uint64_t)>& issue) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  started_ns_ = now_ns();
  std::uint64_t issued = 0;
  while (issued < count_) {
    // Room in the window? seq_cst load pairs with complete()'s seq_cst increment (see issuer_waiting_).
    if (issued - completed_.load() >= window_) {
      std::unique_lock lock(mu_);
      issuer_waiting_.store(true);
      const bool room = cv_.wait_until(lock, deadline, [&] { return issued - completed_.load() < window_; });
      issuer_waiting_.store(false);
      if (!room) return false;
      continue;
    }
    const std::uint64_t slot = issued++;
    issued_ns_[slot] = now_ns();
    issue(first_ + slot);
  }
  std::unique_lock lock(mu_);
  issuer_waiting_.store(true);
  const bool all = cv_.wait_until(lock, deadline, [&] { return completed_.load() == count_; });
  issuer_waiting_.store(false);
  return all;
}

void closed_loop::complete(std::uint64_t i, const outcome& result) noexcept {
  const std::int64_t t = now_ns();
  const std::uint64_t slot = i - first_;
  if (slot >= count_) return;  // not ours (cannot happen: indexes come from run())
  if (result.ok) {
    latency_ns_[slot] = t - issued_ns_[slot];
    acked_.fetch_add(1, std::memory_order_relaxed);
  } else {
    latency_ns_[slot] = -1;
    failed_.fetch_add(1, std::memory_order_relaxed);
    try {
      std::lock_guard lock(failures_mu_);
      auto& f = failures_[std::string(result.error_code)];
      if (f.first++ == 0) f.second = std::string(result.message);
    } catch (...) {
      // Out of memory while recording a failure: the count above is what matters.
    }
  }
  completed_.fetch_add(1);  // seq_cst: pairs with the issuer's load after setting issuer_waiting_
  if (issuer_waiting_.load()) {
    std::lock_guard lock(mu_);
    cv_.notify_one();
  }
}

std::int64_t closed_loop::last_completion_ns() const noexcept {
  std::int64_t last = started_ns_;
  for (std::size_t s = 0; s < latency_ns_.size(); ++s) {
    if (latency_ns_[s] >= 0) last = std::max(last, issued_ns_[s] + latency_ns_[s]);
  }
  return last;
}

std::vector<std::int64_t> closed_loop::ack_latencies_ns() const {
  std::vector<std::int64_t> out;
  out.reserve(acked_.load());
  for (const std::int64_t l : latency_ns_) {
    if (l >= 0) out.push_back(l);
  }
  return out;
}

std::map<std::string, std::pair<std::uint64_t, std::string>> closed_loop::failures() const {
  std::lock_guard lock(failures_mu_);
  return failures_;
}

// --- figures and report ----------------------------------------------------------------------------------------

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

std::map<int, thread_time> thread_times() {
  std::map<int, thread_time> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const std::string tid = entry.path().filename().string();
    std::ifstream stat(entry.path() / "schedstat");
    std::ifstream comm(entry.path() / "comm");
    unsigned long long run_ns = 0;
    unsigned long long wait_ns = 0;
    if (!(stat >> run_ns >> wait_ns)) continue;  // the thread ended meanwhile
    thread_time t;
    std::getline(comm, t.name);
    t.run_s = static_cast<double>(run_ns) / 1e9;
    t.runqueue_wait_s = static_cast<double>(wait_ns) / 1e9;
    out.emplace(std::stoi(tid), std::move(t));
  }
  return out;
}

double print_thread_times(const std::map<int, thread_time>& before, const std::map<int, thread_time>& after,
                          double wall_s) {
  double total_wait = 0;
  std::printf("%-8s %-16s %10s %12s %14s %14s\n", "tid", "thread", "on cpu s", "% of wall", "wait for cpu s",
              "% of wall");
  for (const auto& [tid, a] : after) {
    thread_time b;
    if (auto it = before.find(tid); it != before.end()) b = it->second;
    const double run = a.run_s - b.run_s;
    const double wait = a.runqueue_wait_s - b.runqueue_wait_s;
    total_wait += wait;
    if (run < 0.001) continue;
    std::printf("%-8d %-16s %10.3f %11.0f%% %14.3f %13.0f%%\n", tid, a.name.c_str(), run,
                wall_s > 0 ? 100 * run / wall_s : 0, wait, wall_s > 0 ? 100 * wait / wall_s : 0);
  }
  return total_wait;
}

summary summarise(const closed_loop& loop, std::uint64_t records, double cpu_s) {
  summary s;
  s.records = records;
  s.acked = loop.acknowledged();
  s.failed = loop.failed();
  s.seconds = static_cast<double>(loop.last_completion_ns() - loop.started_ns()) / 1e9;
  s.events_per_s = s.seconds > 0 ? static_cast<double>(s.acked) / s.seconds : 0;
  std::vector<std::int64_t> lat = loop.ack_latencies_ns();
  std::sort(lat.begin(), lat.end());
  s.p50_us = percentile_us(lat, 0.50);
  s.p90_us = percentile_us(lat, 0.90);
  s.p99_us = percentile_us(lat, 0.99);
  s.p999_us = percentile_us(lat, 0.999);
  s.max_us = lat.empty() ? 0 : static_cast<double>(lat.back()) / 1000.0;
  s.cpu_s = cpu_s;
  return s;
}

void print_report(const run_description& run, const summary& s, const closed_loop& loop) {
  if (std::string_view(build_kind()) != "release") {
    std::fprintf(stderr,
                 "%s: WARNING: %s build: these figures are not representative (build with "
                 "scripts/setup.sh release)\n",
                 run.variant.c_str(), build_kind());
  }
  std::printf("%-10s %10s %10s %8s %12s %10s %10s %10s %10s %10s %8s\n", "variant", "acked", "failed", "seconds",
              "events/s", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "cpu s");
  std::printf("%-10s %10" PRIu64 " %10" PRIu64 " %8.3f %12.0f %10.0f %10.0f %10.0f %10.0f %10.0f %8.2f\n",
              run.variant.c_str(), s.acked, s.failed, s.seconds, s.events_per_s, s.p50_us, s.p90_us, s.p99_us,
              s.p999_us, s.max_us, s.cpu_s);
  const double cpu_per_event_us = s.acked > 0 ? s.cpu_s * 1e6 / static_cast<double>(s.acked) : 0;
  std::printf("RESULT variant=%s%s%s records=%" PRIu64 " acked=%" PRIu64 " failed=%" PRIu64
              " seconds=%.4f eps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f cpu_s=%.3f"
              " cpu_us_per_event=%.2f runq_wait_s=%.3f window=%zu value_bytes=%zu partitions=%d warmup=%" PRIu64
              " topic=%s build=%s\n",
              run.variant.c_str(), run.label.empty() ? "" : " ", run.label.c_str(), s.records, s.acked, s.failed,
              s.seconds, s.events_per_s, s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us, s.cpu_s, cpu_per_event_us,
              s.runqueue_wait_s, run.window, run.value_bytes, run.partitions, run.warmup, run.topic.c_str(),
              build_kind());
  std::fflush(stdout);
  for (const auto& [code, f] : loop.failures()) {
    std::fprintf(stderr, "%s: %" PRIu64 " record(s) failed with %s (first: %s)\n", run.variant.c_str(), f.first,
                 code.c_str(), f.second.c_str());
  }
}

// --- options ---------------------------------------------------------------------------------------------------

option_parser::option_parser(int argc, char** argv) : args_(argv + 1, argv + argc) {}

bool option_parser::next(std::string& name, std::string& value) {
  if (pos_ >= args_.size()) return false;
  std::string arg = args_[pos_++];
  if (arg == "-X") {
    name = "property";
  } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
    name = arg.substr(2);
  } else {
    throw usage_error("unexpected argument '" + arg + "' (options are --name=value or --name value)");
  }
  value.clear();
  if (const auto eq = name.find('='); eq != std::string::npos) {
    value = name.substr(eq + 1);
    name.resize(eq);
    return true;
  }
  // "--name value": take the next argument unless it is an option itself.
  if (pos_ < args_.size() && args_[pos_].rfind("--", 0) != 0 && args_[pos_] != "-X") value = args_[pos_++];
  return true;
}

std::string option_parser::require_value(const std::string& name, const std::string& value) {
  if (value.empty()) throw usage_error("--" + name + " needs a value");
  return value;
}

std::uint64_t parse_count(const std::string& option, const std::string& value, std::uint64_t min, std::uint64_t max) {
  // At most 19 digits, so the value cannot overflow 64 bits.
  const bool digits_only = !value.empty() && value.size() <= 19 &&
                           std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) throw usage_error("--" + option + ": expected a non-negative integer, got '" + value + "'");
  std::uint64_t v = 0;
  for (const char c : value) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v < min || v > max) {
    throw usage_error("--" + option + ": " + value + " is out of range [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  }
  return v;
}

bool parse_bool(const std::string& option, const std::string& value) {
  if (value.empty() || value == "1" || value == "true" || value == "on") return true;
  if (value == "0" || value == "false" || value == "off") return false;
  throw usage_error("--" + option + ": expected true/false, got '" + value + "'");
}

std::pair<std::string, std::string> parse_property(const std::string& option, const std::string& value) {
  const auto eq = value.find('=');
  if (eq == std::string::npos || eq == 0)
    throw usage_error("--" + option + ": expected key=value, got '" + value + "'");
  return {value.substr(0, eq), value.substr(eq + 1)};
}

}  // namespace passerelle::bench

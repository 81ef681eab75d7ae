#pragma once
// The structured logger: one line per event, `text` (logfmt: ts=... level=... msg="..." key=value) or `json`
// ({"ts": ..., "level": ..., "msg": ..., "key": value}), with an RFC 3339 UTC timestamp (milliseconds) taken from
// an injectable clock.
//
// Policy: request and message bodies are never logged. To make that hard to get wrong, fields named `body`,
// `authorization`, `cookie`, `set_cookie`, `token`, `secret`, `password` or `api_key` (case-insensitive) are
// written as "[redacted]" whatever their value.
//
// Lifecycle and ownership: created at start-up by the daemon (or a test) and shared by reference with every
// component; it must outlive them. Its level can change at runtime (config reload).
//
// Threading: every method may be called from any thread. A line is formatted on the calling thread and written
// with a single sink call under a mutex, so lines never interleave. The default sink writes to stderr (one
// fwrite + fflush per line); it blocks only as long as the write to stderr does.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include "broker/core/clock.h"
#include "broker/core/result.h"

namespace passerelle::obs {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
enum class log_format { text, json };

// "debug" | "info" | "warn" | "error" | "off" (case-sensitive, as written in the config).
result<log_level> parse_log_level(std::string_view s);
// "text" | "json".
result<log_format> parse_log_format(std::string_view s);
std::string_view to_string(log_level l) noexcept;

// One key/value pair. Strings are quoted (and escaped) in both formats; numbers and booleans are not.
struct log_field {
  enum class kind { string, number, boolean };
  std::string_view key;
  std::string value;
  kind k = kind::string;

  log_field(std::string_view k_, std::string_view v) : key(k_), value(v) {}
  log_field(std::string_view k_, const std::string& v) : key(k_), value(v) {}
  log_field(std::string_view k_, const char* v) : key(k_), value(v ? v : "") {}
  log_field(std::string_view k_, bool v) : key(k_), value(v ? "true" : "false"), k(kind::boolean) {}
  log_field(std::string_view k_, double v);
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) log_field(std::string_view k_, I v)
      : key(k_), value(std::to_string(v)), k(kind::number) {}
};

class logger {
 public:
  // Receives one complete line, newline included.
  using sink = std::function<void(std::string_view line)>;

  // Writes to stderr.
  explicit logger(log_level level = log_level::info, log_format format = log_format::text,
                  const core::clock& clk = core::system_clock::instance());
  // Writes to `s` (tests capture lines this way).
  logger(log_level level, log_format format, sink s, const core::clock& clk = core::system_clock::instance());

  void set_level(log_level l) noexcept { level_.store(l, std::memory_order_relaxed); }
  log_level level() const noexcept { return level_.load(std::memory_order_relaxed); }
  bool enabled(log_level l) const noexcept { return l >= level() && l != log_level::off; }

  void log(log_level l, std::string_view msg, std::initializer_list<log_field> fields = {});
  void debug(std::string_view msg, std::initializer_list<log_field> fields = {}) { log(log_level::debug, msg, fields); }
  void info(std::string_view msg, std::initializer_list<log_field> fields = {}) { log(log_level::info, msg, fields); }
  void warn(std::string_view msg, std::initializer_list<log_field> fields = {}) { log(log_level::warn, msg, fields); }
  void error(std::string_view msg, std::initializer_list<log_field> fields = {}) { log(log_level::error, msg, fields); }

  // Formats a line without writing it (exposed for tests).
  std::string format_line(log_level l, std::string_view msg, std::initializer_list<log_field> fields) const;

 private:
  std::atomic<log_level> level_;
  const log_format format_;
  sink sink_;
  const core::clock& clock_;
  std::mutex mu_;
};

// RFC 3339 UTC with milliseconds: 2023-11-14T22:13:20.000Z.
std::string rfc3339_ms(std::int64_t unix_ms);

}  // namespace passerelle::obs

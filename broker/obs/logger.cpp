#include "broker/obs/logger.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace passerelle::obs {

result<log_level> parse_log_level(std::string_view s) {
  if (s == "debug") return log_level::debug;
  if (s == "info") return log_level::info;
  if (s == "warn") return log_level::warn;
  if (s == "error") return log_level::error;
  if (s == "off") return log_level::off;
  return error::reject("bad_log_level",
                       "log.level must be one of debug, info, warn, error, off; got '" + std::string(s) + "'");
}

result<log_format> parse_log_format(std::string_view s) {
  if (s == "text") return log_format::text;
  if (s == "json") return log_format::json;
  return error::reject("bad_log_format", "log.format must be text or json; got '" + std::string(s) + "'");
}

std::string_view to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "info";
}

log_field::log_field(std::string_view k_, double v) : key(k_), k(kind::number) {
  if (!std::isfinite(v)) {
    // JSON has no NaN/Inf: write them as strings so that both formats stay parseable.
    value = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    k = kind::string;
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  value.assign(buf, r.ptr);
}

std::string rfc3339_ms(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

namespace {

bool is_sensitive(std::string_view key) {
  static constexpr std::array<std::string_view, 8> names = {"body",  "authorization", "cookie",   "set_cookie",
                                                            "token", "secret",        "password", "api_key"};
  for (auto n : names) {
    if (n.size() != key.size()) continue;
    bool eq = true;
    for (std::size_t i = 0; i < n.size(); ++i) {
      char c = key[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c == '-') c = '_';
      if (c != n[i]) {
        eq = false;
        break;
      }
    }
    if (eq) return true;
  }
  return false;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through
        }
    }
  }
  out += '"';
}

// logfmt: bare when the value has no space, quote, '=' or control character; quoted and escaped otherwise.
void append_text_value(std::string& out, std::string_view s, bool force_quote) {
  bool needs_quote = force_quote || s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      needs_quote = true;
      break;
    }
  }
  if (needs_quote) {
    append_json_string(out, s);
  } else {
    out += s;
  }
}

// Keys are written as given when they are simple identifiers; anything else is replaced by '_' so that a hostile
// key cannot forge fields.
std::string safe_key(std::string_view k) {
  std::string out(k);
  for (auto& c : out) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

}  // namespace

logger::logger(log_level level, log_format format, const core::clock& clk)
    : logger(
          level, format,
          [](std::string_view line) {
            std::fwrite(line.data(), 1, line.size(), stderr);
            std::fflush(stderr);
          },
          clk) {}

logger::logger(log_level level, log_format format, sink s, const core::clock& clk)
    : level_(level), format_(format), sink_(std::move(s)), clock_(clk) {}

std::string logger::format_line(log_level l, std::string_view msg, std::initializer_list<log_field> fields) const {
  std::string out;
  out.reserve(128);
  const std::string ts = rfc3339_ms(clock_.now_ms());
  if (format_ == log_format::json) {
    out += "{\"ts\":";
    append_json_string(out, ts);
    out += ",\"level\":";
    append_json_string(out, to_string(l));
    out += ",\"msg\":";
    append_json_string(out, msg);
    for (const auto& f : fields) {
      const std::string key = safe_key(f.key);
      if (key == "ts" || key == "level" || key == "msg") continue;  // never shadow the envelope
      out += ',';
      append_json_string(out, key);
      out += ':';
      if (is_sensitive(key)) {
        append_json_string(out, "[redacted]");
      } else if (f.k == log_field::kind::string) {
        append_json_string(out, f.value);
      } else {
        out += f.value;
      }
    }
    out += "}\n";
  } else {
    out += "ts=";
    out += ts;
    out += " level=";
    out += to_string(l);
    out += " msg=";
    append_text_value(out, msg, true);
    for (const auto& f : fields) {
      const std::string key = safe_key(f.key);
      if (key == "ts" || key == "level" || key == "msg") continue;
      out += ' ';
      out += key;
      out += '=';
      if (is_sensitive(key)) {
        out += "[redacted]";
      } else {
        append_text_value(out, f.value, false);
      }
    }
    out += '\n';
  }
  return out;
}

void logger::log(log_level l, std::string_view msg, std::initializer_list<log_field> fields) {
  if (!enabled(l)) return;
  const std::string line = format_line(l, msg, fields);
  std::lock_guard lock(mu_);
  sink_(line);
}

}  // namespace passerelle::obs

#include "broker/http/router.h"

#include <set>

namespace passerelle::http {

std::optional<std::string_view> request_context::param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> request_context::query(std::string_view name) const {
  for (const auto& [k, v] : query_params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> request_context::header(std::string_view name) const {
  auto it = request.find(name);
  if (it == request.end()) return std::nullopt;
  return it->value();
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path == "/") return out;
  std::size_t pos = 1;
  while (true) {
    const std::size_t next = path.find('/', pos);
    out.push_back(path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

bool valid_param_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

result<void> router::add(route r) {
  const std::string where = "route " + std::string(beast_http::to_string(r.method)) + " " + r.pattern + ": ";
  if (r.pattern.empty() || r.pattern.front() != '/')
    return error::reject("bad_route", where + "pattern must start with '/'");
  if (!r.handler) return error::reject("bad_route", where + "no handler");
  if (r.operation_id.empty()) return error::reject("bad_route", where + "operation id is required");
  compiled c{nullptr, {}, {}};
  std::set<std::string_view> names;
  for (std::string_view seg : split_path(r.pattern)) {
    if (seg.empty()) return error::reject("bad_route", where + "empty path segment");
    if (seg.front() == '{') {
      if (seg.back() != '}') return error::reject("bad_route", where + "a parameter must be a whole segment");
      const std::string_view name = seg.substr(1, seg.size() - 2);
      if (!valid_param_name(name))
        return error::reject("bad_route", where + "bad parameter name '" + std::string(name) + "'");
      if (!names.insert(name).second)
        return error::reject("bad_route", where + "duplicate parameter '" + std::string(name) + "'");
      c.segments.emplace_back(name);
      c.is_param.push_back(true);
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos)
        return error::reject("bad_route", where + "braces inside a literal segment");
      c.segments.emplace_back(seg);
      c.is_param.push_back(false);
    }
  }
  for (const auto& existing : compiled_) {
    if (existing.r->operation_id == r.operation_id)
      return error::reject("bad_route", where + "duplicate operation id '" + r.operation_id + "'");
    if (existing.r->method == r.method && existing.is_param == c.is_param) {
      bool same = true;
      for (std::size_t i = 0; i < c.segments.size() && same; ++i) {
        same = c.is_param[i] || c.segments[i] == existing.segments[i];
      }
      if (same) return error::reject("bad_route", where + "same method and shape as " + existing.r->pattern);
    }
  }
  routes_.push_back(std::make_unique<route>(std::move(r)));
  c.r = routes_.back().get();
  compiled_.push_back(std::move(c));
  return ok();
}

router::match_result router::match(verb method, std::string_view path) const {
  match_result out;
  if (path.empty() || path.front() != '/') {
    out.k = match_result::kind::bad_path;
    out.message = "the request target must be an absolute path";
    return out;
  }
  const auto segs = split_path(path);
  const compiled* best = nullptr;
  std::string best_shape;
  std::vector<std::string> allowed;
  for (const auto& c : compiled_) {
    if (c.segments.size() != segs.size()) continue;
    bool ok_match = true;
    std::string shape;
    for (std::size_t i = 0; i < segs.size() && ok_match; ++i) {
      if (c.is_param[i]) {
        ok_match = !segs[i].empty();
        shape += '0';
      } else {
        ok_match = segs[i] == c.segments[i];
        shape += '1';
      }
    }
    if (!ok_match) continue;
    if (c.r->method != method) {
      const std::string m(beast_http::to_string(c.r->method));
      bool seen = false;
      for (const auto& a : allowed) seen = seen || a == m;
      if (!seen) allowed.push_back(m);
      continue;
    }
    if (!best || shape > best_shape) {  // '1' (literal) > '0' (param): the most literal pattern wins
      best = &c;
      best_shape = std::move(shape);
    }
  }
  if (best) {
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (!best->is_param[i]) continue;
      auto decoded = percent_decode(segs[i], false);
      if (!decoded) {
        out.k = match_result::kind::bad_path;
        out.message = "malformed percent-encoding in the path";
        return out;
      }
      out.path_params.emplace_back(best->segments[i], std::move(*decoded));
    }
    out.k = match_result::kind::found;
    out.r = best->r;
    return out;
  }
  if (!allowed.empty()) {
    out.k = match_result::kind::method_not_allowed;
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0) out.allow += ", ";
      out.allow += allowed[i];
    }
    return out;
  }
  out.k = match_result::kind::not_found;
  return out;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex(s[i + 1]);
      const int lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<params> parse_query(std::string_view query) {
  params out;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    const std::size_t amp = query.find('&', pos);
    const std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      auto k = percent_decode(part.substr(0, eq), true);
      auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
      if (!k || !v) return std::nullopt;
      out.emplace_back(std::move(*k), std::move(*v));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string_view to_string(refusal r) noexcept {
  switch (r) {
    case refusal::body_too_large: return "body_too_large";
    case refusal::header_too_large: return "header_too_large";
    case refusal::read_timeout: return "read_timeout";
  }
  return "unknown";
}

std::optional<std::string> valid_traceparent(std::string_view v) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2)
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  auto lower_hex = [](std::string_view s) {
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  };
  auto all_zero = [](std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; };
  const auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16), flags = v.substr(53, 2);
  if (!lower_hex(version) || version == "ff" || !lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags))
    return std::nullopt;
  if (all_zero(trace) || all_zero(parent)) return std::nullopt;
  return std::string(v);
}

}  // namespace passerelle::http

#include "broker/app/dlq_command.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iomanip>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "broker/app/http_client.h"

namespace passerelle::app {

namespace {

struct dlq_options {
  std::string action;  // list | show | replay
  std::optional<std::string> id;
  std::optional<std::string> config_path;
  std::optional<std::string> url;
  std::optional<std::string> ca_file;
  std::optional<std::string> cursor;
  std::optional<std::string> idempotency_key;
  std::optional<std::size_t> limit;
  std::chrono::milliseconds timeout{30'000};
  bool json = false;
};

std::string one_line(std::string_view s, std::size_t max = 120) {
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string quote(std::string_view s) { return "\"" + one_line(s, 80) + "\""; }

error usage(std::string message) { return error::reject("bad_usage", "dlq: " + std::move(message)); }

result<dlq_options> parse(std::span<const std::string> args) {
  if (args.empty()) return usage("missing action: list, show ID or replay ID");
  dlq_options o;
  o.action = args.front();
  if (o.action != "list" && o.action != "show" && o.action != "replay") {
    return usage("unknown action " + quote(o.action) + " (list, show, replay)");
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> inline_value;
    if (a.starts_with("--")) {
      if (const auto eq = a.find('='); eq != std::string::npos) {
        inline_value = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
    }
    const auto value = [&](const char* what) -> result<std::string> {
      std::string v;
      if (inline_value) {
        v = *inline_value;
      } else {
        if (i + 1 == args.size()) return usage(a + " needs " + what);
        v = args[++i];
      }
      if (v.empty()) return usage(a + " needs " + what);
      return v;
    };
    const auto once = [&](std::optional<std::string>& slot, const char* what) -> result<void> {
      if (slot) return usage(a + " given more than once");
      auto v = value(what);
      if (!v) return std::move(v).err();
      slot = std::move(v).value();
      return ok();
    };
    result<void> r;
    if (a == "--json") {
      if (inline_value) return usage("--json takes no value");
      o.json = true;
    } else if (a == "--config") {
      r = once(o.config_path, "a FILE");
    } else if (a == "--url") {
      r = once(o.url, "a URL");
    } else if (a == "--ca") {
      r = once(o.ca_file, "a FILE");
    } else if (a == "--cursor" && o.action == "list") {
      r = once(o.cursor, "a cursor");
    } else if (a == "--idempotency-key" && o.action == "replay") {
      r = once(o.idempotency_key, "a KEY");
    } else if ((a == "--limit" || a == "--timeout-ms") && !(a == "--limit" && o.action != "list")) {
      auto v = value("a number");
      if (!v) return std::move(v).err();
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || ptr != v->data() + v->size() || n == 0 || n > 1'000'000) {
        return usage(a + ": expected a positive integer, got " + quote(*v));
      }
      if (a == "--limit") {
        o.limit = n;
      } else {
        o.timeout = std::chrono::milliseconds(n);
      }
    } else if (a.starts_with("-")) {
      return usage(o.action + ": unknown option " + quote(a));
    } else if (o.action != "list" && !o.id) {
      o.id = a;
    } else {
      return usage(o.action + ": unexpected argument " + quote(a));
    }
    if (!r) return std::move(r).err();
  }
  if (o.action != "list" && !o.id) return usage(o.action + ": missing the dead letter's ID (see dlq list)");
  return o;
}

// The daemon's address: --url, else the configuration's http.listen.
result<base_url> resolve_url(const dlq_options& o) {
  if (o.url) return parse_base_url(*o.url);
  serve_options so;
  so.config_path = o.config_path;
  auto cfg = load_serve_config(so);
  if (!cfg) return std::move(cfg).err();
  const auto& listen = cfg->http.listen;
  if (listen.port == 0) {
    return error::reject("bad_config", "config: http.listen: port 0 is chosen at start-up; pass --url");
  }
  base_url u;
  u.tls = cfg->http.tls.has_value();
  // A wildcard listen address is reached on loopback.
  u.host = listen.host == "0.0.0.0" ? "127.0.0.1" : listen.host == "::" ? "::1" : listen.host;
  u.port = std::to_string(listen.port);
  return u;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4U];
      out += hex[u & 0x0fU];
    }
  }
  return out;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                     : std::string();
}

std::uint64_t num(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return 0;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

// "code: message" of the contract's error body, or the status alone.
std::string describe_error(const http_reply& reply) {
  rapidjson::Document d;
  d.Parse(reply.body.data(), reply.body.size());
  if (!d.HasParseError()) {
    if (const auto* e = member(d, "error")) {
      return "HTTP " + std::to_string(reply.status) + " " + one_line(str(*e, "code")) + ": " +
             one_line(str(*e, "message"), 300);
    }
  }
  return "HTTP " + std::to_string(reply.status);
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

int print_list(const rapidjson::Document& d, std::ostream& out) {
  const auto* items = member(d, "items");
  if (items == nullptr || !items->IsArray()) return exit_code::failure;
  if (items->Empty()) {
    out << "no dead letters\n";
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "RECEIVED AT", "CONNECTOR", "ACCOUNT", "REASON", "BYTES"}};
  for (const auto& it : items->GetArray()) {
    const auto* reason = member(it, "reason");
    rows.push_back({one_line(str(it, "id")), str(it, "received_at"), one_line(str(it, "connector")),
                    one_line(str(it, "account")), reason != nullptr ? one_line(str(*reason, "code")) : "",
                    std::to_string(num(it, "body_bytes"))});
  }
  print_table(rows, out);
  const auto cursor = str(d, "next_cursor");
  if (!cursor.empty()) out << "\nmore: passerelle dlq list --cursor " << cursor << "\n";
  return exit_code::ok;
}

constexpr std::size_t show_body_preview = 4096;

int print_show(const rapidjson::Document& d, std::ostream& out) {
  const auto* reason = member(d, "reason");
  print_table({{"id:", one_line(str(d, "id"))},
               {"received at:", str(d, "received_at")},
               {"connector:", one_line(str(d, "connector"))},
               {"account:", one_line(str(d, "account"))},
               {"reason:", reason != nullptr ? one_line(str(*reason, "code")) : ""},
               {"", reason != nullptr ? one_line(str(*reason, "message"), 500) : ""},
               {"delivery id:", one_line(str(d, "delivery_id"))},
               {"platform topic:", one_line(str(d, "platform_topic"))},
               {"traceparent:", one_line(str(d, "traceparent"))},
               {"request:", one_line(str(d, "http_method")) + " " + one_line(str(d, "http_path"), 300)},
               {"body bytes:", std::to_string(num(d, "body_bytes"))}},
              out);
  out << "headers (credentials redacted):\n";
  if (const auto* headers = member(d, "headers"); headers != nullptr && headers->IsArray()) {
    for (const auto& h : headers->GetArray()) {
      out << "  " << one_line(str(h, "name")) << ": " << one_line(str(h, "value"), 300) << "\n";
    }
  }
  const auto* text = member(d, "body_text");
  if (text != nullptr && text->IsString()) {
    const std::string_view body(text->GetString(), text->GetStringLength());
    out << "body:\n" << body.substr(0, show_body_preview) << "\n";
    if (body.size() > show_body_preview) out << "... (" << body.size() << " bytes; --json for all of it)\n";
  } else {
    out << "body (not UTF-8; base64):\n" << str(d, "body_base64").substr(0, show_body_preview) << "\n";
  }
  return exit_code::ok;
}

int print_replay(const rapidjson::Document& d, const std::string& id, std::ostream& out) {
  const auto* ids = member(d, "event_ids");
  std::size_t n = ids != nullptr && ids->IsArray() ? ids->Size() : 0;
  const auto* replayed = member(d, "replayed");
  out << "replayed " << one_line(id) << ": " << n << (n == 1 ? " event" : " events") << " durable"
      << (replayed != nullptr && replayed->IsTrue() ? " (already made durable before: nothing written again)" : "")
      << "\n";
  if (n != 0) {
    for (const auto& e : ids->GetArray()) out << "  event   " << (e.IsString() ? e.GetString() : "") << "\n";
  }
  if (const auto* subjects = member(d, "subjects"); subjects != nullptr && subjects->IsArray()) {
    for (const auto& s : subjects->GetArray()) {
      out << "  subject " << one_line(str(s, "kind")) << " " << one_line(str(s, "id")) << "\n";
    }
  }
  return exit_code::ok;
}

int run_dlq(std::span<const std::string> args, cli_io io, const api_key_source& api_key) {
  auto o = parse(args);
  if (!o) {
    io.err << "passerelle: " << o.err().message << "\n";
    return exit_code::usage;
  }
  auto url = resolve_url(*o);
  if (!url) {
    io.err << (url.err().code == "bad_url" ? "passerelle: dlq: " : "") << url.err().message << "\n";
    return exit_code::usage;
  }
  const auto key = api_key ? api_key() : std::nullopt;
  if (!key || key->empty()) {
    io.err << "passerelle: dlq: " << api_key_env << " is not set (an API key with the admin role)\n";
    return exit_code::usage;
  }

  http_call call;
  call.headers = {{"Authorization", "Bearer " + *key}, {"Accept", "application/json"}};
  call.timeout = o->timeout;
  call.ca_file = o->ca_file;
  if (o->action == "list") {
    call.target = "/v1/ops/dead-letters";
    std::string query;
    if (o->limit) query += "limit=" + std::to_string(*o->limit);
    if (o->cursor) query += std::string(query.empty() ? "" : "&") + "cursor=" + percent_encode(*o->cursor);
    if (!query.empty()) call.target += "?" + query;
  } else if (o->action == "show") {
    call.target = "/v1/ops/dead-letters/" + percent_encode(*o->id);
  } else {
    call.method = "POST";
    call.target = "/v1/ops/dead-letters/" + percent_encode(*o->id) + "/replay";
    if (o->idempotency_key) call.headers.emplace_back("Idempotency-Key", *o->idempotency_key);
  }

  auto reply = http_exchange(*url, call);
  if (!reply) {
    io.err << "passerelle: dlq: " << reply.err().message << "\n";
    return exit_code::failure;
  }
  if (reply->status != 200) {
    std::string hint;
    if (reply->status == 401) hint = " (check " + std::string(api_key_env) + ")";
    if (reply->status == 403) hint = " (the API key needs the admin role)";
    if (reply->status == 422) hint = " (the connector still refuses it: fix the cause, then replay again)";
    if (reply->status == 409) hint = " (configure the connector/account again to replay it)";
    io.err << "passerelle: dlq " << o->action << ": " << describe_error(*reply) << hint << "\n";
    if (o->json && !reply->body.empty()) io.out << reply->body << "\n";
    return exit_code::failure;
  }
  if (o->json) {
    io.out << reply->body << "\n";
    return exit_code::ok;
  }
  rapidjson::Document d;
  d.Parse(reply->body.data(), reply->body.size());
  if (d.HasParseError() || !d.IsObject()) {
    io.err << "passerelle: dlq: the daemon's answer is not a JSON object\n";
    return exit_code::failure;
  }
  if (o->action == "list") return print_list(d, io.out);
  if (o->action == "show") return print_show(d, io.out);
  return print_replay(d, *o->id, io.out);
}

}  // namespace

std::optional<std::string> api_key_from_environment() {
  const char* v = std::getenv(api_key_env);  // NOLINT(concurrency-mt-unsafe): read once, on the main thread
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

command dlq_command(api_key_source api_key) {
  command c;
  c.name = "dlq";
  c.synopsis = "dlq list|show ID|replay ID [options]";
  c.summary = "list, inspect and replay dead letters through the running daemon";
  c.details =
      "Actions:\n"
      "  list                  newest first; --limit N (1..100, default 20), --cursor C (from the previous page)\n"
      "  show ID               everything kept: reason, redacted headers, body\n"
      "  replay ID             run the stored request through the connector's current translate() and\n"
      "                        configuration; --idempotency-key K makes a repeat return the first answer\n"
      "Options:\n"
      "  --config FILE         the daemon's configuration: the URL defaults from http.listen (https with tls)\n"
      "  --url URL             the daemon's base URL, e.g. http://127.0.0.1:8080\n"
      "  --ca FILE             trust this PEM certificate/CA for https (default: the system's trust store)\n"
      "  --timeout-ms N        the whole exchange (default 30000)\n"
      "  --json                print the daemon's JSON answer as is\n"
      "Environment:\n"
      "  PASSERELLE_API_KEY    an API key with the admin role (the configuration keeps only digests)\n"
      "See docs/operations.md.\n";
  c.run = [api_key = std::move(api_key)](std::span<const std::string> args, cli_io io) {
    return run_dlq(args, io, api_key);
  };
  return c;
}

}  // namespace passerelle::app

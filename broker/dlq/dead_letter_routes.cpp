#include "broker/dlq/dead_letter_routes.h"

#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <functional>
#include <memory>

#include "broker/http/error_mapping.h"
#include "broker/ingest/webhook_routes.h"
#include "connectors/sdk/crypto.h"

namespace passerelle::dlq {

namespace {

namespace asio = boost::asio;
namespace bh = boost::beast::http;

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): the body is shown as text only then.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1fU;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0fU;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0U) != 0x80U) return false;
      cp = (cp << 6U) | (cc & 0x3fU);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void write_reason(http::json_writer& w, const std::string& code, const std::string& message) {
  http::write_key(w, "reason");
  w.StartObject();
  http::write_key(w, "code");
  http::write_string(w, code);
  http::write_key(w, "message");
  http::write_string(w, message);
  w.EndObject();
}

std::optional<std::size_t> parse_limit(std::string_view s) {
  std::size_t v = 0;
  if (s.empty() || s.size() > 6) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Runs `fn` on the blocking pool. A named std::function, not a temporary in the co_await (GCC 12).
template <typename T>
asio::awaitable<result<T>> off_io(http::request_context& ctx, std::function<result<T>()> fn) {
  co_return co_await ctx.blocking->run<T>(std::move(fn));
}

}  // namespace

std::string rfc3339_ms(std::int64_t ms) {
  // TimeUtil prints 0, 3, 6 or 9 fractional digits as needed; milliseconds need at most 3.
  return google::protobuf::util::TimeUtil::ToString(google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms));
}

std::string page_json(const dead_letter_page& page) {
  return http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "items");
    w.StartArray();
    for (const auto& s : page.items) {
      w.StartObject();
      http::write_key(w, "id");
      http::write_string(w, s.id);
      http::write_key(w, "received_at");
      http::write_string(w, rfc3339_ms(s.received_at_ms));
      http::write_key(w, "connector");
      http::write_string(w, s.connector);
      http::write_key(w, "account");
      http::write_string(w, s.account);
      write_reason(w, s.reason_code, s.reason_message);
      http::write_key(w, "body_bytes");
      w.Uint64(s.body_bytes);
      w.EndObject();
    }
    w.EndArray();
    http::write_key(w, "next_cursor");
    if (page.next_cursor) {
      http::write_string(w, *page.next_cursor);
    } else {
      w.Null();
    }
    w.EndObject();
  });
}

std::string entry_json(const dead_letter_entry& e) {
  const v1::DeadLetter& dl = e.input.letter;
  return http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "id");
    http::write_string(w, e.id);
    http::write_key(w, "dead_letter_id");
    http::write_string(w, dl.dead_letter_id());
    http::write_key(w, "received_at");
    http::write_string(
        w, rfc3339_ms(dl.has_received_at() ? google::protobuf::util::TimeUtil::TimestampToMilliseconds(dl.received_at())
                                           : 0));
    http::write_key(w, "connector");
    http::write_string(w, dl.connector());
    http::write_key(w, "account");
    http::write_string(w, dl.account());
    write_reason(w, dl.reason_code(), dl.reason_message());
    http::write_key(w, "delivery_id");
    http::write_string(w, dl.delivery_id());
    http::write_key(w, "platform_topic");
    http::write_string(w, e.input.platform_topic);
    http::write_key(w, "traceparent");
    http::write_string(w, e.traceparent);
    http::write_key(w, "attempt_count");
    w.Uint(dl.attempt_count());
    http::write_key(w, "http_method");
    http::write_string(w, dl.http_method());
    http::write_key(w, "http_path");
    http::write_string(w, dl.http_path());
    http::write_key(w, "headers");
    w.StartArray();
    for (const auto& h : dl.headers()) {
      w.StartObject();
      http::write_key(w, "name");
      http::write_string(w, h.key());
      http::write_key(w, "value");
      http::write_string(w, h.value());
      w.EndObject();
    }
    w.EndArray();
    http::write_key(w, "body_bytes");
    w.Uint64(dl.body().size());
    http::write_key(w, "body_base64");
    http::write_string(w, connector::base64_encode(dl.body()));
    http::write_key(w, "body_text");
    if (valid_utf8(dl.body())) {
      http::write_string(w, dl.body());
    } else {
      w.Null();
    }
    w.EndObject();
  });
}

result<void> add_dead_letter_routes(http::router& router, const dead_letter_reader& reader,
                                    ingest::webhook_ingest& ingest, route_options options) {
  const auto admin = http::auth_requirement::of_role(http::role::admin);

  http::route list;
  list.method = bh::verb::get;
  list.pattern = "/v1/ops/dead-letters";
  list.auth = admin;
  list.body_limit = 0;
  list.operation_id = "list_dead_letters";
  list.handler = [&reader](http::request_context& ctx) -> asio::awaitable<http::response> {
    std::optional<std::size_t> limit;
    if (const auto l = ctx.query("limit")) {
      limit = parse_limit(*l);
      if (!limit) {
        co_return http::error_response(error::reject("bad_limit", "limit: expected an integer from 1 to " +
                                                                      std::to_string(reader.options().max_limit)),
                                       ctx.request.version());
      }
    }
    const std::string cursor(ctx.query("cursor").value_or(""));
    std::function<result<dead_letter_page>()> job = [&reader, limit, cursor] { return reader.list(limit, cursor); };
    auto page = co_await off_io<dead_letter_page>(ctx, std::move(job));
    if (!page) co_return http::error_response(page.err(), ctx.request.version());
    co_return http::json_response(bh::status::ok, page_json(*page), ctx.request.version());
  };
  if (auto r = router.add(std::move(list)); !r) return r;

  http::route show;
  show.method = bh::verb::get;
  show.pattern = "/v1/ops/dead-letters/{id}";
  show.auth = admin;
  show.body_limit = 0;
  show.operation_id = "get_dead_letter";
  show.handler = [&reader](http::request_context& ctx) -> asio::awaitable<http::response> {
    const std::string id(ctx.param("id").value_or(""));
    std::function<result<dead_letter_entry>()> job = [&reader, id] { return reader.get(id); };
    auto entry = co_await off_io<dead_letter_entry>(ctx, std::move(job));
    if (!entry) co_return http::error_response(entry.err(), ctx.request.version());
    co_return http::json_response(bh::status::ok, entry_json(*entry), ctx.request.version());
  };
  if (auto r = router.add(std::move(show)); !r) return r;

  http::route replay;
  replay.method = bh::verb::post;
  replay.pattern = "/v1/ops/dead-letters/{id}/replay";
  replay.auth = admin;
  replay.body_limit = 1024;  // the request has no body; a small one (e.g. "{}") is tolerated and ignored
  replay.operation_id = "replay_dead_letter";
  replay.handler = [&reader, &ingest, options](http::request_context& ctx) -> asio::awaitable<http::response> {
    const std::string id(ctx.param("id").value_or(""));
    std::function<result<dead_letter_entry>()> job = [&reader, id] { return reader.get(id); };
    auto entry = co_await off_io<dead_letter_entry>(ctx, std::move(job));
    if (!entry) co_return http::error_response(entry.err(), ctx.request.version(), options.retry_after_seconds);
    const auto outcome = co_await ingest.replay(entry->input);
    co_return ingest::to_http(outcome, ctx.request.version(), options.retry_after_seconds);
  };
  return router.add(std::move(replay));
}

}  // namespace passerelle::dlq

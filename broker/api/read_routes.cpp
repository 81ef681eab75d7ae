#include "broker/api/read_routes.h"

#include <charconv>
#include <memory>

#include "broker/api/proto_json.h"
#include "broker/api/subject_view.h"
#include "broker/http/error_mapping.h"
#include "broker/lifecycle/customer_directory.h"

namespace passerelle::api {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using http::request_context;
using http::response;

namespace {

struct collection {
  std::string_view path;      // "baskets"
  std::string_view singular;  // "basket": operation ids
  v1::SubjectKind kind;
};

constexpr std::array<collection, 4> collections = {{
    {"baskets", "basket", v1::SUBJECT_KIND_BASKET},
    {"wishlists", "wishlist", v1::SUBJECT_KIND_WISHLIST},
    {"quotes", "quote", v1::SUBJECT_KIND_QUOTE},
    {"demo-requests", "demo_request", v1::SUBJECT_KIND_DEMO_REQUEST},
}};

// Runs `job` on the blocking pool and renders its value with `render`, or its error. Callers pass a NAMED job and
// await into a named response: GCC 12 mishandles temporaries inside co_await expressions (double destruction).
template <class T>
asio::awaitable<response> answer(request_context& ctx, std::function<result<T>()> job,
                                 std::string (*render)(const T&)) {
  auto r = co_await ctx.blocking->run<T>(std::move(job));
  if (!r) co_return http::error_response(r.err(), ctx.request.version());
  co_return http::json_response(beast_http::status::ok, render(*r), ctx.request.version());
}

response bad_request(request_context& ctx, std::string_view code, std::string_view message) {
  return http::json_error(beast_http::status::bad_request, code, message, ctx.request.version());
}

std::optional<std::size_t> parse_limit(std::optional<std::string_view> text) {
  if (!text) return default_history_limit;
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < 1 || v > max_history_limit) return std::nullopt;
  return v;
}

std::string history_json(const history_page& page) {
  return http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "events");
    w.StartArray();
    for (const auto& e : page.events) write_history_event(w, e);
    w.EndArray();
    http::write_key(w, "next_cursor");
    if (page.next_cursor.empty()) {
      w.Null();
    } else {
      http::write_string(w, page.next_cursor);
    }
    w.EndObject();
  });
}

}  // namespace

std::string customer_json(const customer_view& view) {
  return http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "id");
    http::write_string(w, view.id);
    http::write_key(w, "refs");
    w.StartArray();
    for (const auto& r : view.refs) {
      w.StartObject();
      http::write_key(w, "ref");
      http::write_string(w, lifecycle::ref_key(r));
      http::write_key(w, "type");
      const auto* v = v1::CustomerRefType_descriptor()->FindValueByNumber(r.type);
      http::write_string(w, v == nullptr ? "unspecified" : enum_json_name("CustomerRefType", v->name()));
      if (!r.scope.empty()) {
        http::write_key(w, "scope");
        http::write_string(w, r.scope);
      }
      http::write_key(w, "value");
      http::write_string(w, r.value);
      w.EndObject();
    }
    w.EndArray();
    http::write_key(w, "subjects");
    w.StartArray();
    for (const auto& s : view.subjects) {
      w.StartObject();
      http::write_key(w, "kind");
      http::write_string(w, kind_name(s.common.kind));
      http::write_key(w, "id");
      http::write_string(w, s.common.id);
      http::write_key(w, "status");
      http::write_string(w, lifecycle::status_name(s));
      http::write_key(w, "channel");
      const auto* ch = v1::Channel_descriptor()->FindValueByNumber(s.common.channel);
      http::write_string(w, ch == nullptr ? "unspecified" : enum_json_name("Channel", ch->name()));
      if (!s.common.store_id.empty()) {
        http::write_key(w, "store_id");
        http::write_string(w, s.common.store_id);
      }
      if (s.common.updated_at_ms != 0) {
        http::write_key(w, "updated_at");
        http::write_string(w, rfc3339_ms(s.common.updated_at_ms));
      }
      w.EndObject();
    }
    w.EndArray();
    http::write_key(w, "truncated");
    w.Bool(view.truncated);
    w.EndObject();
  });
}

result<void> add_read_routes(http::router& r, const read_service& reads) {
  const auto read_role = http::auth_requirement::of_role(http::role::read);
  const read_service* svc = &reads;
  for (const collection& c : collections) {
    const std::string base = "/v1/" + std::string(c.path);
    const v1::SubjectKind kind = c.kind;
    auto rv = r.add({http::verb::get, base + "/{id}",
                     [svc, kind](request_context& ctx) -> asio::awaitable<response> {
                       const std::string id(*ctx.param("id"));
                       std::function<result<lifecycle::subject_state>()> job = [svc, kind, id] {
                         return svc->subject(kind, id);
                       };
                       response res = co_await answer<lifecycle::subject_state>(ctx, std::move(job), subject_json);
                       co_return res;
                     },
                     read_role, std::size_t{0}, "get_" + std::string(c.singular)});
    if (!rv) return rv;
    rv = r.add({http::verb::get, base,
                [svc, kind](request_context& ctx) -> asio::awaitable<response> {
                  const auto ref = ctx.query("ref");
                  if (!ref || ref->empty()) {
                    co_return bad_request(ctx, "missing_ref",
                                          "give ?ref={connector}:{account}:{native_id} (percent-encoded)");
                  }
                  const std::string reference(*ref);
                  std::function<result<lifecycle::subject_state>()> job = [svc, kind, reference] {
                    return svc->subject_by_ref(kind, reference);
                  };
                  response res = co_await answer<lifecycle::subject_state>(ctx, std::move(job), subject_json);
                  co_return res;
                },
                read_role, std::size_t{0}, "find_" + std::string(c.singular)});
    if (!rv) return rv;
    rv = r.add({http::verb::get, base + "/{id}/history",
                [svc, kind](request_context& ctx) -> asio::awaitable<response> {
                  const auto limit = parse_limit(ctx.query("limit"));
                  if (!limit) {
                    co_return bad_request(ctx, "bad_limit",
                                          "limit must be an integer from 1 to " + std::to_string(max_history_limit));
                  }
                  const std::string id(*ctx.param("id"));
                  const std::string cursor(ctx.query("cursor").value_or(""));
                  std::function<result<history_page>()> job = [svc, kind, id, n = *limit, cursor] {
                    return svc->history(kind, id, n, cursor);
                  };
                  response res = co_await answer<history_page>(ctx, std::move(job), history_json);
                  co_return res;
                },
                read_role, std::size_t{0}, "get_" + std::string(c.singular) + "_history"});
    if (!rv) return rv;
  }
  auto rv = r.add({http::verb::get, "/v1/customers/{id}",
                   [svc](request_context& ctx) -> asio::awaitable<response> {
                     const std::string id(*ctx.param("id"));
                     std::function<result<customer_view>()> job = [svc, id] { return svc->customer_by_id(id); };
                     response res = co_await answer<customer_view>(ctx, std::move(job), customer_json);
                     co_return res;
                   },
                   read_role, std::size_t{0}, "get_customer"});
  if (!rv) return rv;
  return r.add({http::verb::get, "/v1/customers",
                [svc](request_context& ctx) -> asio::awaitable<response> {
                  const auto ref = ctx.query("ref");
                  if (!ref || ref->empty()) {
                    co_return bad_request(ctx, "missing_ref",
                                          "give ?ref=<type>:<scope>:<value>, e.g. loyalty_id:club:123");
                  }
                  const std::string key(*ref);
                  std::function<result<customer_view>()> job = [svc, key] { return svc->customer_by_ref(key); };
                  response res = co_await answer<customer_view>(ctx, std::move(job), customer_json);
                  co_return res;
                },
                read_role, std::size_t{0}, "find_customer"});
}

}  // namespace passerelle::api

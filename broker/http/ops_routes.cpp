#include "broker/http/ops_routes.h"

#include <memory>
#include <variant>

#include "broker/http/openapi.h"

namespace passerelle::http {

namespace asio = boost::asio;

result<void> add_ops_routes(router& r, ops_options opts) {
  if (!opts.metrics) return error::reject("bad_ops_options", "ops routes need a metrics registry");
  const obs::registry* metrics = opts.metrics;
  auto readiness = std::make_shared<std::function<result<void>()>>(std::move(opts.readiness));
  const unsigned retry_after = opts.retry_after_seconds;

  auto rv = r.add({verb::get, "/healthz",
                   [](request_context& ctx) -> asio::awaitable<response> {
                     co_return json_response(beast_http::status::ok, R"({"status":"ok"})", ctx.request.version());
                   },
                   auth_requirement::none(), std::size_t{0}, "get_healthz"});
  if (!rv) return rv;

  rv = r.add({verb::get, "/readyz",
              [readiness, retry_after](request_context& ctx) -> asio::awaitable<response> {
                result<void> ready;
                if (*readiness) {
                  // A named job, not a temporary inside the co_await expression (GCC 12 coroutine temporaries).
                  std::function<result<std::monostate>()> job = [readiness]() -> result<std::monostate> {
                    auto pr = (*readiness)();
                    if (!pr) return std::move(pr).err();
                    return std::monostate{};
                  };
                  auto rr = co_await ctx.blocking->run<std::monostate>(std::move(job));
                  if (!rr) ready = std::move(rr).err();
                }
                if (ready) {
                  co_return json_response(beast_http::status::ok, R"({"status":"ready"})", ctx.request.version());
                }
                response res = json_error(beast_http::status::service_unavailable, ready.err().code,
                                          ready.err().message, ctx.request.version());
                res.set(beast_http::field::retry_after, std::to_string(retry_after));
                co_return res;
              },
              auth_requirement::none(), std::size_t{0}, "get_readyz"});
  if (!rv) return rv;

  rv = r.add({verb::get, "/metrics",
              [metrics](request_context& ctx) -> asio::awaitable<response> {
                co_return typed_response(beast_http::status::ok, obs::registry::content_type, metrics->render(),
                                         ctx.request.version());
              },
              auth_requirement::none(), std::size_t{0}, "get_metrics"});
  if (!rv) return rv;

  return r.add({verb::get, "/v1/openapi.json",
                [](request_context& ctx) -> asio::awaitable<response> {
                  co_return typed_response(beast_http::status::ok, "application/json", std::string(openapi_document()),
                                           ctx.request.version());
                },
                auth_requirement::none(), std::size_t{0}, "get_openapi"});
}

}  // namespace passerelle::http

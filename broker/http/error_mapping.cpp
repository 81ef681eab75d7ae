#include "broker/http/error_mapping.h"

namespace passerelle::http {

beast_http::status status_for(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::retry: return beast_http::status::service_unavailable;
    case error_kind::reject: return beast_http::status::bad_request;
    case error_kind::not_found: return beast_http::status::not_found;
    case error_kind::unauthorized: return beast_http::status::unauthorized;
    case error_kind::conflict: return beast_http::status::conflict;
    case error_kind::fatal: return beast_http::status::internal_server_error;
  }
  return beast_http::status::internal_server_error;
}

response error_response(const error& err, unsigned version, unsigned retry_after_seconds) {
  const auto status = status_for(err.kind);
  // A fatal error's message may describe internals; the caller logs it, the client gets a generic text.
  const std::string_view message = err.kind == error_kind::fatal ? std::string_view("internal error") : err.message;
  const std::string_view code = err.code.empty() ? to_string(err.kind) : std::string_view(err.code);
  response res = json_error(status, code, message, version);
  if (err.kind == error_kind::retry) res.set(beast_http::field::retry_after, std::to_string(retry_after_seconds));
  if (err.kind == error_kind::unauthorized) res.set(beast_http::field::www_authenticate, "Bearer realm=\"passerelle\"");
  return res;
}

}  // namespace passerelle::http

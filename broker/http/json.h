#pragma once
// The JSON conventions of the public contract, in one place:
//   - errors are {"error": {"code": "<stable snake_case code>", "message": "<human text>"}};
//   - money is {"amount_minor": <integer>, "currency": "<ISO 4217>"} (never a float);
//   - times are RFC 3339 UTC; field names are snake_case; enums are lowercase strings.
// Every response body in the HTTP layer is written through RapidJSON's Writer via these helpers, so strings are
// always escaped correctly.
//
// Threading: free functions on values; no shared state.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace passerelle::http {

namespace beast_http = boost::beast::http;

// Every handler answers with a string body; the server sets Content-Length and keep-alive.
using response = beast_http::response<beast_http::string_body>;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes a string value (or key) from a string_view, escaping as needed.
inline void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void write_key(json_writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

// Runs `build(writer)` and returns the document text.
template <typename F>
std::string build_json(F&& build) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  build(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// {"amount_minor": n, "currency": "EUR"} as a value (after a key, or in an array).
void write_money(json_writer& w, std::int64_t amount_minor, std::string_view currency);

// {"error": {"code": ..., "message": ...}}
std::string error_json(std::string_view code, std::string_view message);

// A response with `Content-Type: application/json` and the given body.
response json_response(beast_http::status status, std::string body, unsigned version = 11);
// A JSON error response (error_json).
response json_error(beast_http::status status, std::string_view code, std::string_view message, unsigned version = 11);
// A response with an arbitrary content type (metrics, OpenAPI document, SVG...).
response typed_response(beast_http::status status, std::string_view content_type, std::string body,
                        unsigned version = 11);

}  // namespace passerelle::http

#include "broker/http/json.h"

namespace passerelle::http {

void write_money(json_writer& w, std::int64_t amount_minor, std::string_view currency) {
  w.StartObject();
  write_key(w, "amount_minor");
  w.Int64(amount_minor);
  write_key(w, "currency");
  write_string(w, currency);
  w.EndObject();
}

std::string error_json(std::string_view code, std::string_view message) {
  return build_json([&](json_writer& w) {
    w.StartObject();
    write_key(w, "error");
    w.StartObject();
    write_key(w, "code");
    write_string(w, code);
    write_key(w, "message");
    write_string(w, message);
    w.EndObject();
    w.EndObject();
  });
}

response typed_response(beast_http::status status, std::string_view content_type, std::string body, unsigned version) {
  response res{status, version};
  res.set(beast_http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response json_response(beast_http::status status, std::string body, unsigned version) {
  return typed_response(status, "application/json", std::move(body), version);
}

response json_error(beast_http::status status, std::string_view code, std::string_view message, unsigned version) {
  return json_response(status, error_json(code, message), version);
}

}  // namespace passerelle::http

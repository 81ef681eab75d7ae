#include "broker/http/openapi.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace passerelle::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::vector<std::string> check_openapi(const std::vector<const router*>& routers, std::string_view document) {
  std::vector<std::string> problems;
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError()) {
    problems.push_back(std::string("the OpenAPI document does not parse: ") +
                       rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                       std::to_string(doc.GetErrorOffset()));
    return problems;
  }
  if (!doc.IsObject() || !doc.HasMember("paths") || !doc["paths"].IsObject()) {
    problems.emplace_back("the OpenAPI document has no \"paths\" object");
    return problems;
  }
  static constexpr std::array<std::string_view, 8> methods = {"get",   "put",  "post",    "delete",
                                                              "patch", "head", "options", "trace"};
  // (method, path) -> operationId ("" when missing)
  std::map<std::pair<std::string, std::string>, std::string> documented;
  // Const iteration: RapidJSON's non-const member iterators compare ambiguously under C++20's reversed operators.
  const rapidjson::Value& paths = doc["paths"];
  for (const auto& p_member : paths.GetObject()) {
    const auto* p = &p_member;
    if (!p->value.IsObject()) continue;
    for (const auto& m_member : p->value.GetObject()) {
      const auto* m = &m_member;
      const std::string method = m->name.GetString();
      if (std::find(methods.begin(), methods.end(), method) == methods.end()) continue;  // "parameters", ...
      std::string op;
      if (m->value.IsObject() && m->value.HasMember("operationId") && m->value["operationId"].IsString()) {
        op = m->value["operationId"].GetString();
      }
      documented[{method, p->name.GetString()}] = op;
    }
  }
  std::map<std::pair<std::string, std::string>, bool> seen;
  for (const router* r : routers) {
    for (const auto& rt : r->routes()) {
      const std::string method = lower(beast_http::to_string(rt->method));
      const auto key = std::make_pair(method, rt->pattern);
      seen[key] = true;
      auto it = documented.find(key);
      if (it == documented.end()) {
        problems.push_back("route " + std::string(beast_http::to_string(rt->method)) + " " + rt->pattern + " (" +
                           rt->operation_id + ") is not in the OpenAPI document");
      } else if (it->second != rt->operation_id) {
        problems.push_back("route " + std::string(beast_http::to_string(rt->method)) + " " + rt->pattern +
                           " has operation id '" + rt->operation_id + "' but the document says '" + it->second + "'");
      }
    }
  }
  for (const auto& [key, op] : documented) {
    if (!seen.count(key)) {
      problems.push_back("documented operation " + key.first + " " + key.second + " (" + op + ") has no route");
    }
  }
  return problems;
}

}  // namespace passerelle::http

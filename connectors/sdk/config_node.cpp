#include "connectors/sdk/config_node.h"

namespace passerelle::connector {

config_node config_node::make_scalar(std::string value) {
  config_node n;
  n.type = kind::scalar;
  n.scalar = std::move(value);
  return n;
}

config_node config_node::make_list(std::vector<std::string> values) {
  config_node n;
  n.type = kind::list;
  n.list.reserve(values.size());
  for (auto& v : values) n.list.push_back(make_scalar(std::move(v)));
  return n;
}

config_node config_node::make_map(std::map<std::string, config_node> entries) {
  config_node n;
  n.type = kind::map;
  n.map = std::move(entries);
  return n;
}

const config_node* config_node::find(std::string_view key) const {
  if (!is_map()) return nullptr;
  const auto it = map.find(std::string(key));
  return it == map.end() ? nullptr : &it->second;
}

std::optional<std::string> config_node::get_string(std::string_view key) const {
  const auto* n = find(key);
  if (n == nullptr || !n->is_scalar()) return std::nullopt;
  return n->scalar;
}

std::optional<std::vector<std::string>> config_node::get_string_list(std::string_view key) const {
  const auto* n = find(key);
  if (n == nullptr || !n->is_list()) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(n->list.size());
  for (const auto& item : n->list) {
    if (!item.is_scalar()) return std::nullopt;
    out.push_back(item.scalar);
  }
  return out;
}

}  // namespace passerelle::connector

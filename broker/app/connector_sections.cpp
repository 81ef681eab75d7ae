#include "broker/app/connector_sections.h"

#include <map>
#include <utility>

namespace passerelle::app {

connector::config_node to_sdk_node(const config::config_node& n) {
  using k = config::config_node::node_kind;
  switch (n.kind) {
    case k::null: return {};
    case k::scalar: return connector::config_node::make_scalar(n.scalar);
    case k::sequence: {
      connector::config_node out;
      out.type = connector::config_node::kind::list;
      for (const auto& item : n.sequence) out.list.push_back(to_sdk_node(item));
      return out;
    }
    case k::mapping: {
      std::map<std::string, connector::config_node> entries;
      for (const auto& [key, value] : n.mapping) entries.emplace(key, to_sdk_node(value));
      return connector::config_node::make_map(std::move(entries));
    }
  }
  return {};
}

connector::config_node single_account_section(const config::connector_config& section, const std::string& account) {
  connector::config_node out = to_sdk_node(section.raw);
  if (out.type != connector::config_node::kind::map) out = connector::config_node::make_map({});
  std::map<std::string, connector::config_node> one;
  if (const auto it = section.accounts.find(account); it != section.accounts.end()) {
    one.emplace(account, to_sdk_node(it->second));
  }
  out.map["accounts"] = connector::config_node::make_map(std::move(one));
  return out;
}

}  // namespace passerelle::app

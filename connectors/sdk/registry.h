#pragma once
// The connector registry: name -> factory. Built-in connectors are registered by ONE explicit call,
// connectors/register_builtin.h `register_builtin_connectors()` (no static initialisers), and plugin
// connectors (later) by the plugin loader.
//
// Lifecycle: built once at start-up on the main thread, read-only afterwards (safe to read from any thread).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "connectors/sdk/connector.h"

namespace passerelle::connector {

class registry {
 public:
  // Errors: reject/"duplicate_connector" when the name is taken.
  result<void> add(std::unique_ptr<connector_factory> factory);
  const connector_factory* find(std::string_view name) const;
  // Factories in name order.
  std::vector<const connector_factory*> list() const;

 private:
  std::map<std::string, std::unique_ptr<connector_factory>, std::less<>> factories_;
};

}  // namespace passerelle::connector

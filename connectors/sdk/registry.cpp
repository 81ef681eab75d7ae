#include "connectors/sdk/registry.h"

namespace passerelle::connector {

result<void> registry::add(std::unique_ptr<connector_factory> factory) {
  std::string name = factory->metadata().name;
  if (factories_.count(name) != 0) {
    return error::reject("duplicate_connector", "connector \"" + name + "\" is registered twice");
  }
  factories_.emplace(std::move(name), std::move(factory));
  return ok();
}

const connector_factory* registry::find(std::string_view name) const {
  const auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<const connector_factory*> registry::list() const {
  std::vector<const connector_factory*> out;
  out.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) out.push_back(factory.get());
  return out;
}

}  // namespace passerelle::connector

#pragma once
// A connector's configuration section as a small tree of strings, lists and maps: the SDK's own representation,
// so that connectors depend on neither yaml-cpp nor the host's config structs. The host builds it from YAML
// (after ${ENV} substitution) and hands it to the connector's factory.
//
// Value type; immutable once built; safe to read from any thread.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace passerelle::connector {

struct config_node {
  enum class kind { null, scalar, list, map };

  kind type = kind::null;
  std::string scalar;                      // when type == scalar
  std::vector<config_node> list;           // when type == list
  std::map<std::string, config_node> map;  // when type == map (ordered: stable listings)

  static config_node make_scalar(std::string value);
  static config_node make_list(std::vector<std::string> values);
  static config_node make_map(std::map<std::string, config_node> entries);

  bool is_scalar() const noexcept { return type == kind::scalar; }
  bool is_list() const noexcept { return type == kind::list; }
  bool is_map() const noexcept { return type == kind::map; }

  // Child of a map by key, or nullptr.
  const config_node* find(std::string_view key) const;
  // Scalar child of a map, or nullopt when absent or not a scalar.
  std::optional<std::string> get_string(std::string_view key) const;
  // List-of-scalars child of a map; nullopt when absent or not a list of scalars.
  std::optional<std::vector<std::string>> get_string_list(std::string_view key) const;
};

}  // namespace passerelle::connector

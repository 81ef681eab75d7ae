#pragma once
// Helpers shared by the loader (config.cpp) and the SIGHUP reload (config_reload.cpp). Not a public interface.

#include <cstddef>
#include <string>
#include <string_view>

#include "broker/config/config.h"
#include "broker/core/result.h"

namespace passerelle::config::detail {

// Key paths as shown in errors: `kafka.partitions`, `api_keys[0].roles[1]`, `accounts["a.myshopify.com"]`.
std::string child_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

// A value for an error message: double-quoted, escaped, truncated, always one line.
std::string quote(std::string_view value);

// Parses YAML `text`; `origin` (a file path) names it in syntax errors.
result<config> parse_yaml(const std::string& text, const std::string& origin);

// The whole file. Errors: not_found/config_unreadable (missing), reject/config_unreadable (other).
result<std::string> read_file(const std::string& path);

}  // namespace passerelle::config::detail

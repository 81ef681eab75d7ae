#include "connectors/sdk/connector.h"

#include <set>

namespace passerelle::connector {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

result<void> check_field(const config_field& field, const config_node& value, const std::string& path) {
  const auto fail = [&](std::string_view expected) {
    return error::reject("bad_config", path + ": expected " + std::string(expected));
  };
  switch (field.type) {
    case field_type::string:
    case field_type::secret:
      if (!value.is_scalar() || value.scalar.empty()) return fail("a non-empty string");
      break;
    case field_type::url:
      if (!value.is_scalar() || !(value.scalar.starts_with("https://") || value.scalar.starts_with("http://"))) {
        return fail("an http:// or https:// URL");
      }
      break;
    case field_type::string_list:
    case field_type::secret_list: {
      if (!value.is_list() || value.list.empty()) return fail("a non-empty list of strings");
      for (const auto& item : value.list) {
        if (!item.is_scalar() || item.scalar.empty()) return fail("a non-empty list of non-empty strings");
      }
      break;
    }
    case field_type::map:
      if (!value.is_map()) return fail("a map");
      break;
  }
  return ok();
}

}  // namespace

std::string_view inbound_request::header(std::string_view name) const noexcept {
  if (headers == nullptr) return {};
  for (const auto& h : *headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool inbound_request::has_header(std::string_view name) const noexcept {
  if (headers == nullptr) return false;
  for (const auto& h : *headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

result<void> validate_accounts_section(const connector_metadata& metadata, const config_node& section) {
  if (!section.is_map()) return error::reject("bad_config", "expected a map with an `accounts` map");
  for (const auto& [key, value] : section.map) {
    if (key != "accounts") return error::reject("bad_config", key + ": unknown key (expected `accounts`)");
    (void)value;
  }
  const auto* accounts = section.find("accounts");
  if (accounts == nullptr || !accounts->is_map() || accounts->map.empty()) {
    return error::reject("bad_config", "accounts: expected a non-empty map of account -> settings");
  }
  for (const auto& [account, settings] : accounts->map) {
    const std::string base = "accounts." + account;
    if (!settings.is_map()) return error::reject("bad_config", base + ": expected a map of settings");
    std::set<std::string> known;
    for (const auto& field : metadata.account_fields) {
      known.insert(field.name);
      const auto* value = settings.find(field.name);
      if (value == nullptr || value->type == config_node::kind::null) {
        if (field.required) return error::reject("bad_config", base + "." + field.name + ": required");
        continue;
      }
      if (auto r = check_field(field, *value, base + "." + field.name); !r) return std::move(r).err();
    }
    for (const auto& [key, unused] : settings.map) {
      (void)unused;
      if (known.count(key) == 0) return error::reject("bad_config", base + "." + key + ": unknown key");
    }
  }
  return ok();
}

std::string_view to_string(field_type type) noexcept {
  switch (type) {
    case field_type::string: return "string";
    case field_type::secret: return "secret";
    case field_type::string_list: return "string_list";
    case field_type::secret_list: return "secret_list";
    case field_type::url: return "url";
    case field_type::map: return "map";
  }
  return "string";
}

std::string_view to_string(maturity status) noexcept {
  switch (status) {
    case maturity::stable: return "stable";
    case maturity::beta: return "beta";
    case maturity::alpha: return "alpha";
  }
  return "beta";
}

}  // namespace passerelle::connector

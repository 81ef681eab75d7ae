#include "broker/app/connectors_command.h"

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "broker/app/connector_sections.h"
#include "broker/http/json.h"
#include "connectors/register_builtin.h"
#include "connectors/sdk/registry.h"

namespace passerelle::app {

namespace {

struct connectors_options {
  std::optional<std::string> config_path;
  bool json = false;
};

result<connectors_options> parse(std::span<const std::string> args) {
  connectors_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<std::string> value;
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--config") {
      if (i + 1 == args.size()) return error::reject("bad_usage", "connectors: --config needs a FILE");
      value = args[++i];
    } else if (a.starts_with("--config=")) {
      value = a.substr(std::string_view("--config=").size());
    } else {
      const std::string shown = a.substr(0, 80);
      return error::reject("bad_usage", std::string("connectors: ") +
                                            (a.starts_with("-") ? "unknown option \"" : "unexpected argument \"") +
                                            shown + "\"");
    }
    if (value->empty()) return error::reject("bad_usage", "connectors: --config needs a FILE");
    if (o.config_path) return error::reject("bad_usage", "connectors: --config given more than once");
    o.config_path = std::move(value);
  }
  return o;
}

bool is_secret(connector::field_type t) {
  return t == connector::field_type::secret || t == connector::field_type::secret_list;
}

// An account as configured, and what its connector's factory says of it.
struct account_check {
  std::string account;
  std::optional<std::string> problem;  // nullopt: accepted
};

// Runs the factory on each account alone, so one bad account does not hide the state of the others.
std::vector<account_check> check_accounts(const connector::connector_factory& factory,
                                          const config::connector_config& section) {
  std::vector<account_check> out;
  for (const auto& [account, fields] : section.accounts) {
    (void)fields;
    account_check c{account, std::nullopt};
    auto created = factory.create(single_account_section(section, account));
    if (!created) c.problem = created.err().message;
    out.push_back(std::move(c));
  }
  return out;
}

void write_json(const connector::registry& registry, const std::optional<config::config>& cfg, std::ostream& out) {
  out << http::build_json([&](http::json_writer& w) {
    w.StartObject();
    http::write_key(w, "connectors");
    w.StartArray();
    for (const auto* f : registry.list()) {
      const auto& m = f->metadata();
      w.StartObject();
      http::write_key(w, "name");
      http::write_string(w, m.name);
      http::write_key(w, "display_name");
      http::write_string(w, m.display_name);
      http::write_key(w, "status");
      http::write_string(w, connector::to_string(m.status));
      http::write_key(w, "source");
      http::write_string(w, "built-in");
      http::write_key(w, "description");
      http::write_string(w, m.description);
      http::write_key(w, "security");
      http::write_string(w, m.security_posture);
      http::write_key(w, "account_key");
      http::write_string(w, m.account_key);
      http::write_key(w, "account_fields");
      w.StartArray();
      for (const auto& field : m.account_fields) {
        w.StartObject();
        http::write_key(w, "name");
        http::write_string(w, field.name);
        http::write_key(w, "type");
        http::write_string(w, connector::to_string(field.type));
        http::write_key(w, "required");
        w.Bool(field.required);
        http::write_key(w, "secret");
        w.Bool(is_secret(field.type));
        http::write_key(w, "description");
        http::write_string(w, field.description);
        w.EndObject();
      }
      w.EndArray();
      if (cfg) {
        const auto it = cfg->connectors.find(m.name);
        http::write_key(w, "configured");
        w.Bool(it != cfg->connectors.end());
        http::write_key(w, "accounts");
        w.StartArray();
        if (it != cfg->connectors.end()) {
          for (const auto& c : check_accounts(*f, it->second)) {
            w.StartObject();
            http::write_key(w, "account");
            http::write_string(w, c.account);
            http::write_key(w, "valid");
            w.Bool(!c.problem);
            if (c.problem) {
              http::write_key(w, "error");
              http::write_string(w, *c.problem);
            }
            w.EndObject();
          }
        }
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
    if (cfg) {
      http::write_key(w, "unclaimed_sections");
      w.StartArray();
      for (const auto& [name, section] : cfg->connectors) {
        if (registry.find(name) == nullptr) http::write_string(w, name);
      }
      w.EndArray();
    }
    w.EndObject();
  }) << "\n";
}

void write_text(const connector::registry& registry, const std::optional<config::config>& cfg, std::ostream& out) {
  bool first = true;
  for (const auto* f : registry.list()) {
    const auto& m = f->metadata();
    if (!first) out << "\n";
    first = false;
    out << m.name << "  (" << m.display_name << ", " << connector::to_string(m.status) << ", built-in)\n"
        << "  " << m.description << "\n"
        << "  authentication: " << m.security_posture << "\n"
        << "  account:        " << m.account_key << "\n"
        << "  account fields:\n";
    std::size_t name_w = 4;
    std::size_t type_w = 4;
    for (const auto& field : m.account_fields) {
      name_w = std::max(name_w, field.name.size());
      type_w = std::max(type_w, connector::to_string(field.type).size());
    }
    for (const auto& field : m.account_fields) {
      const std::string type(connector::to_string(field.type));
      out << "    " << field.name << std::string(name_w - field.name.size() + 2, ' ') << type
          << std::string(type_w - type.size() + 2, ' ') << (field.required ? "required" : "optional") << "  "
          << (is_secret(field.type) ? "secret" : "      ") << "  " << field.description << "\n";
    }
    if (!cfg) continue;
    const auto it = cfg->connectors.find(m.name);
    if (it == cfg->connectors.end()) {
      out << "  configured accounts: none (not configured)\n";
      continue;
    }
    const auto checks = check_accounts(*f, it->second);
    out << "  configured accounts:" << (checks.empty() ? " none" : "") << "\n";
    for (const auto& c : checks) {
      out << "    " << c.account << "  " << (c.problem ? "INVALID: " + *c.problem : "ok") << "\n";
    }
  }
  if (!cfg) return;
  for (const auto& [name, section] : cfg->connectors) {
    if (registry.find(name) == nullptr) {
      out << "\n"
          << name << "  configured, but no compiled-in connector has this name (a plugin section: plugin loading is "
          << "not built yet)\n";
    }
  }
}

}  // namespace

command connectors_command() {
  command c;
  c.name = "connectors";
  c.synopsis = "connectors [--config FILE] [--json]";
  c.summary = "list the connectors compiled in, their status and config fields";
  c.details =
      "Options:\n"
      "  --config FILE  also show each connector's configured accounts and whether each one's configuration\n"
      "                 is accepted by the connector (its error otherwise). Secrets are never printed.\n"
      "  --json         machine-readable output\n";
  c.run = [](std::span<const std::string> args, cli_io io) {
    const auto o = parse(args);
    if (!o) {
      io.err << "passerelle: " << o.err().message << "\n";
      return exit_code::usage;
    }
    connector::registry registry;
    if (auto r = connectors::register_builtin_connectors(registry); !r) {
      io.err << "passerelle: connectors: " << r.err().message << "\n";
      return exit_code::failure;
    }
    std::optional<config::config> cfg;
    if (o->config_path) {
      auto loaded = config::load_config_file(*o->config_path);
      if (!loaded) {
        io.err << loaded.err().message << "\n";
        return exit_code::usage;
      }
      cfg = std::move(loaded).value();
    }
    if (o->json) {
      write_json(registry, cfg, io.out);
    } else {
      write_text(registry, cfg, io.out);
    }
    return exit_code::ok;
  };
  return c;
}

}  // namespace passerelle::app

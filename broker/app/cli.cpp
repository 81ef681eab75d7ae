#include "broker/app/cli.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "broker/app/version.h"

namespace passerelle::app {

namespace {

// An argument echoed in an error: quoted, control characters escaped, so the message stays on one line.
std::string quote(std::string_view arg) {
  std::string out = "\"";
  for (const char c : arg.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out + (arg.size() > 80 ? "...\"" : "\"");
}

bool is_help_flag(std::string_view a) { return a == "--help" || a == "-h"; }

const command* find_command(std::span<const command> commands, std::string_view name) {
  const auto it = std::find_if(commands.begin(), commands.end(), [&](const command& c) { return c.name == name; });
  return it == commands.end() ? nullptr : &*it;
}

void print_usage(std::span<const command> commands, std::ostream& os) {
  os << "Usage: passerelle <command> [options]\n\n"
        "Passerelle moves shopping baskets between web shops and store tills.\n\n"
        "Commands:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const command& c : commands) rows.emplace_back(c.synopsis, c.summary);
  rows.emplace_back("help [COMMAND]", "this help, or a command's options");
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [synopsis, summary] : rows) {
    os << "  " << synopsis << std::string(width - synopsis.size() + 2, ' ') << summary << "\n";
  }
  os << "\nExit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.\n";
}

void print_command_help(const command& c, std::ostream& os) {
  os << "Usage: passerelle " << c.synopsis << "\n\n" << c.summary << "\n";
  if (!c.details.empty()) os << "\n" << c.details;
}

}  // namespace

int run_cli(std::span<const std::string> args, std::span<const command> commands, cli_io io) {
  if (args.empty()) {
    io.err << "passerelle: missing command (see passerelle help)\n";
    return exit_code::usage;
  }
  const std::string& name = args.front();
  if (name == "help" || is_help_flag(name)) {
    if (args.size() == 1) {
      print_usage(commands, io.out);
      return exit_code::ok;
    }
    if (args.size() > 2) {
      io.err << "passerelle: help: expected at most one command name\n";
      return exit_code::usage;
    }
    const command* c = find_command(commands, args[1]);
    if (c == nullptr) {
      io.err << "passerelle: help: unknown command " << quote(args[1]) << " (see passerelle help)\n";
      return exit_code::usage;
    }
    print_command_help(*c, io.out);
    return exit_code::ok;
  }
  if (name == "--version") return run_cli(std::vector<std::string>{"version"}, commands, io);
  const command* c = find_command(commands, name);
  if (c == nullptr) {
    io.err << "passerelle: unknown command " << quote(name) << " (see passerelle help)\n";
    return exit_code::usage;
  }
  const std::span<const std::string> rest = args.subspan(1);
  if (std::any_of(rest.begin(), rest.end(), [](const std::string& a) { return is_help_flag(a); })) {
    print_command_help(*c, io.out);
    return exit_code::ok;
  }
  return c->run(rest, io);
}

result<serve_options> parse_serve_options(std::span<const std::string> args) {
  serve_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<std::string> value;
    if (a == "--config") {
      if (i + 1 == args.size()) return error::reject("bad_usage", "serve: --config needs a FILE");
      value = args[++i];
    } else if (a.starts_with("--config=")) {
      value = a.substr(std::string_view("--config=").size());
    } else if (a.starts_with("-")) {
      return error::reject("bad_usage", "serve: unknown option " + quote(a));
    } else {
      return error::reject("bad_usage", "serve: unexpected argument " + quote(a));
    }
    if (value->empty()) return error::reject("bad_usage", "serve: --config needs a FILE");
    if (o.config_path) return error::reject("bad_usage", "serve: --config given more than once");
    o.config_path = std::move(value);
  }
  return o;
}

result<config::config> load_serve_config(const serve_options& options) {
  if (options.config_path) return config::load_config_file(*options.config_path);
  return config::load_config_string("");
}

command serve_command(std::function<int(const config::config&, const serve_options&)> serve) {
  command c;
  c.name = "serve";
  c.synopsis = "serve [--config FILE]";
  c.summary = "run the daemon (HTTP ingress, event log, lifecycle engine)";
  c.details =
      "Options:\n"
      "  --config FILE  YAML configuration (docs/configuration.md). Without it: embedded backend,\n"
      "                 HTTP on 127.0.0.1:8080, data in ./passerelle-data.\n"
      "SIGHUP reloads secrets and tokens from the same file.\n";
  c.run = [serve = std::move(serve)](std::span<const std::string> args, cli_io io) {
    const result<serve_options> options = parse_serve_options(args);
    if (!options) {
      io.err << "passerelle: " << options.err().message << "\n";
      return exit_code::usage;
    }
    const result<config::config> cfg = load_serve_config(*options);
    if (!cfg) {
      io.err << cfg.err().message << "\n";
      return exit_code::usage;
    }
    return serve(*cfg, *options);
  };
  return c;
}

command version_command() {
  command c;
  c.name = "version";
  c.synopsis = "version";
  c.summary = "print the versions of Passerelle and of the libraries it was built with";
  c.run = [](std::span<const std::string> args, cli_io io) {
    if (!args.empty()) {
      io.err << "passerelle: version: unexpected argument " << quote(args.front()) << "\n";
      return exit_code::usage;
    }
    io.out << format_version(current_version());
    return exit_code::ok;
  };
  return c;
}

}  // namespace passerelle::app

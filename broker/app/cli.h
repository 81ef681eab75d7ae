#pragma once
// The command line: `passerelle <command> [options]`.
//
// A command is an entry of a table that main() assembles (serve and version today; lag, dlq, connectors join the
// table the same way). run_cli() dispatches to it, and handles what is common to all commands: `help`,
// `--help`/`-h` (also after a command name), no command, unknown command.
//
// Exit codes (CONTRACT.md): 0 ok, 1 runtime failure, 2 bad usage or configuration. Every usage or configuration
// error is ONE line on stderr; for configuration errors it names the key ("config: kafka.partitions: ...").
//
// Thread-safety: run on the main thread only (commands may start threads of their own).

#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "broker/config/config.h"
#include "broker/core/result.h"

namespace passerelle::app {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;  // runtime failure
inline constexpr int usage = 2;    // bad usage or configuration
}  // namespace exit_code

// Where a command writes. Tests pass string streams; main() passes std::cout and std::cerr.
struct cli_io {
  std::ostream& out;
  std::ostream& err;
};

struct command {
  std::string name;      // "serve"
  std::string synopsis;  // "serve [--config FILE]"
  std::string summary;   // one line for `passerelle help`
  std::string details;   // the rest of `passerelle help <name>` (options), may be empty
  // Runs the command with the arguments after its name; returns the exit code.
  std::function<int(std::span<const std::string> args, cli_io io)> run;
};

// Dispatches `args` (argv without argv[0]) to the command they name. Returns the exit code.
int run_cli(std::span<const std::string> args, std::span<const command> commands, cli_io io);

// ---- serve ---------------------------------------------------------------------------------------------------

struct serve_options {
  std::optional<std::string> config_path;  // absent: the contract's defaults (embedded, 127.0.0.1:8080)
};

// Parses the options of `serve`: `--config FILE` or `--config=FILE`, once.
// Errors: reject/"bad_usage" with a one-line message ("serve: unknown option \"--x\"").
result<serve_options> parse_serve_options(std::span<const std::string> args);

// The configuration `serve` runs with: the file named by --config, or the defaults when there is none.
// Errors: those of config::load_config_file().
result<config::config> load_serve_config(const serve_options& options);

// The `serve` command: parses options, loads the configuration (exit 2 on any error, one line), then runs
// `serve(config, options)` and returns its exit code (the options carry the file path SIGHUP re-reads).
command serve_command(std::function<int(const config::config&, const serve_options&)> serve);

// The `version` command: prints format_version(current_version()) to out; takes no arguments.
command version_command();

}  // namespace passerelle::app

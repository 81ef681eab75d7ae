// The `passerelle` binary: assembles the command table and dispatches (broker/app/cli.h).

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "broker/app/cli.h"
#include "broker/app/connectors_command.h"
#include "broker/app/dlq_command.h"
#include "broker/app/serve.h"

int main(int argc, char** argv) {
  using namespace passerelle::app;
  try {
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    // Later commands (lag) are added to this table.
    const std::vector<command> commands = {serve_command(run_serve), dlq_command(), connectors_command(),
                                           version_command()};
    return run_cli(args, commands, cli_io{std::cout, std::cerr});
  } catch (const std::exception& e) {
    std::cerr << "passerelle: fatal: " << e.what() << "\n";
    return exit_code::failure;
  }
}

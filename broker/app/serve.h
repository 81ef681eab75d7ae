#pragma once
// `passerelle serve`: runs the daemon (broker/app/daemon.h) with a loaded, validated configuration until SIGINT or
// SIGTERM; SIGHUP reloads secrets and tokens from the configuration file.

#include "broker/app/cli.h"
#include "broker/config/config.h"

namespace passerelle::app {

// Runs on the main thread until the daemon stops. Returns the process exit code (0 clean stop, 1 failure to
// start, 2 a configuration the daemon refuses at start, e.g. a connector section no connector claims).
int run_serve(const config::config& cfg, const serve_options& options);

}  // namespace passerelle::app

#include "broker/app/serve.h"

#include <csignal>
#include <iostream>

#include <pthread.h>

#include "broker/app/daemon.h"
#include "broker/obs/logger.h"

namespace passerelle::app {

namespace {

obs::log_level to_obs(config::log_level l) {
  switch (l) {
    case config::log_level::trace:
    case config::log_level::debug: return obs::log_level::debug;
    case config::log_level::info: return obs::log_level::info;
    case config::log_level::warn: return obs::log_level::warn;
    case config::log_level::error: return obs::log_level::error;
  }
  return obs::log_level::info;
}

}  // namespace

int run_serve(const config::config& cfg, const serve_options& options) {
  obs::logger log(to_obs(cfg.log.level),
                  cfg.log.format == config::log_format::json ? obs::log_format::json : obs::log_format::text);

  // Signals are taken synchronously by this thread with sigwait(); they are blocked BEFORE any other thread
  // starts, so every thread inherits the mask and no handler ever runs on an I/O thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto started = daemon::start(cfg, options.config_path, log);
  if (!started) {
    log.error("cannot start", {{"code", started.err().code}, {"error", started.err().message}});
    std::cerr << "passerelle: " << started.err().message << "\n";
    return started.err().code == "bad_config" ? 2 : 1;
  }
  auto& d = *started.value();

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (auto r = d.reload(); !r)
        log.error("SIGHUP: reload refused; keeping the running configuration", {{"error", r.err().message}});
      continue;
    }
    log.info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    break;
  }
  d.stop();
  return 0;
}

}  // namespace passerelle::app

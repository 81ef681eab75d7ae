#include "broker/app/daemon.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "broker/core/clock.h"
#include "broker/http/auth.h"
#include "broker/http/ops_routes.h"
#include "broker/http/router.h"
#include "broker/http/server.h"
#include "broker/ingest/webhook_ingest.h"
#include "broker/ingest/webhook_routes.h"
#include "broker/log/factory/open_event_log.h"
#include "broker/log/spool/spooling_log.h"
#include "broker/log/topics.h"
#include "broker/obs/metrics.h"
#include "connectors/register_builtin.h"
#include "connectors/sdk/registry.h"

namespace passerelle::app {

namespace {

// The SDK's config tree from the configuration module's (same shape; the SDK must not depend on yaml-cpp).
connector::config_node to_sdk_node(const config::config_node& n) {
  using k = config::config_node::node_kind;
  switch (n.kind) {
    case k::null: return {};
    case k::scalar: return connector::config_node::make_scalar(n.scalar);
    case k::sequence: {
      connector::config_node out;
      out.type = connector::config_node::kind::list;
      for (const auto& item : n.sequence) out.list.push_back(to_sdk_node(item));
      return out;
    }
    case k::mapping: {
      std::map<std::string, connector::config_node> entries;
      for (const auto& [key, value] : n.mapping) entries.emplace(key, to_sdk_node(value));
      return connector::config_node::make_map(std::move(entries));
    }
  }
  return {};
}

std::string hex(const config::sha256_digest& d) { return http::to_hex(d.data(), d.size()); }

result<std::shared_ptr<const http::credentials>> make_credentials(const config::config& cfg) {
  auto creds = std::make_shared<http::credentials>();
  for (const auto& key : cfg.api_keys) {
    std::vector<http::role> roles;
    if (key.roles.has(config::role::read)) roles.push_back(http::role::read);
    if (key.roles.has(config::role::handoff)) roles.push_back(http::role::handoff);
    if (key.roles.has(config::role::admin)) roles.push_back(http::role::admin);
    if (auto r = creds->add_api_key("sha256:" + hex(key.digest), roles); !r) return std::move(r).err();
  }
  for (const auto& store : cfg.stores) {
    for (const auto& token : store.tokens) {
      if (auto r = creds->add_store_token(store.id, "sha256:" + hex(token)); !r) return std::move(r).err();
    }
  }
  return std::shared_ptr<const http::credentials>(std::move(creds));
}

// Connector instances for every configured connector section. An unknown name (no built-in, no plugin loaded)
// is an error naming the key: nothing configured is silently ignored.
result<ingest::connector_set> make_connectors(const config::config& cfg, const connector::registry& registry) {
  ingest::connector_set set;
  for (const auto& [name, section] : cfg.connectors) {
    const auto* factory = registry.find(name);
    if (factory == nullptr) {
      return error::reject("bad_config",
                           "connectors." + name + ": no built-in connector or loaded plugin has this name");
    }
    auto sdk_section = to_sdk_node(section.raw);
    auto created = factory->create(sdk_section);
    if (!created) return error::reject("bad_config", "connectors." + name + "." + created.err().message);
    set.emplace(name, std::move(created).value());
  }
  return set;
}

std::vector<log::topic_spec> contract_topic_specs(const config::config& cfg) {
  std::vector<log::topic_spec> specs;
  for (const auto name : log::topics::contract_topics) {
    log::topic_spec spec;
    spec.name = log::topics::full_name(cfg.kafka.topic_prefix, name);
    spec.partitions = cfg.kafka.partitions;
    spec.replication_factor = cfg.kafka.replication_factor;
    // Event topics keep a subject's whole life (CONTRACT: "without time limit unless configured").
    spec.config = {{"retention.ms", "-1"}, {"retention.bytes", "-1"}};
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

struct daemon::impl {
  config::config cfg;
  std::optional<std::string> config_path;
  obs::logger& logger;
  obs::registry metrics;
  connector::registry connector_registry;
  std::unique_ptr<log::event_log> event_log;
  std::unique_ptr<ingest::webhook_ingest> ingest;
  http::credentials_store credentials;
  std::shared_ptr<http::router> routes;
  std::unique_ptr<http::server> server;

  // Topics are created at start; when the cluster is unreachable the daemon still starts (not ready) and this
  // thread keeps trying, so a Kafka that comes up later is picked up without a restart.
  std::mutex topics_mu;
  std::condition_variable topics_cv;
  bool topics_ready = false;
  bool stopping = false;
  std::thread topics_thread;
  bool stopped = false;

  impl(const config::config& c, std::optional<std::string> path, obs::logger& l)
      : cfg(c), config_path(std::move(path)), logger(l) {}

  void ensure_topics() {
    const auto specs = contract_topic_specs(cfg);
    std::unique_lock lock(topics_mu);
    while (!stopping) {
      lock.unlock();
      auto created = event_log->create_topics(specs);
      lock.lock();
      if (created) {
        topics_ready = true;
        logger.info("topics ready", {{"prefix", cfg.kafka.topic_prefix}, {"partitions", cfg.kafka.partitions}});
        return;
      }
      logger.warn("cannot create topics yet; retrying", {{"error", created.err().message}});
      topics_cv.wait_for(lock, std::chrono::seconds(5), [this] { return stopping; });
    }
  }

  result<void> readiness() {
    {
      std::lock_guard lock(topics_mu);
      if (!topics_ready) return error::retry("topics_missing", "the contract's topics are not created yet");
    }
    return event_log->check_ready(std::chrono::milliseconds(2000));
  }
};

daemon::daemon(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

daemon::~daemon() { stop(); }

result<std::unique_ptr<daemon>> daemon::start(const config::config& cfg, std::optional<std::string> config_path,
                                              obs::logger& log) {
  auto p = std::make_unique<impl>(cfg, std::move(config_path), log);

  if (auto r = connectors::register_builtin_connectors(p->connector_registry); !r) return std::move(r).err();
  auto connector_set = make_connectors(cfg, p->connector_registry);
  if (!connector_set) return std::move(connector_set).err();

  auto creds = make_credentials(cfg);
  if (!creds) return std::move(creds).err();
  p->credentials.replace(std::move(creds).value());

  log::log_options log_opts;
  log_opts.backend = cfg.backend;
  log_opts.embedded = config::embedded_log_options(cfg);
  log_opts.kafka = config::kafka_log_options(cfg);
  auto opened = log::open_event_log(log_opts);
  if (!opened) return std::move(opened).err();
  p->event_log = std::move(opened).value();
  if (cfg.backend == log::backend_kind::kafka) {
    // Kafka outages must not lose what platforms that never retry (WooCommerce) send: accepted records are
    // spooled durably under <data_dir>/spool and forwarded in order when the cluster answers again.
    log::spool_options spool;
    spool.dir = (std::filesystem::path(cfg.data_dir) / "spool").string();
    spool.default_partitions = cfg.kafka.partitions;
    auto spooled = log::spooling_log::open(std::move(p->event_log), spool);
    if (!spooled) return std::move(spooled).err();
    p->event_log = std::move(spooled).value();
  }

  ingest::ingest_options ingest_opts;
  ingest_opts.topic_prefix = cfg.kafka.topic_prefix;
  p->ingest = std::make_unique<ingest::webhook_ingest>(*p->event_log, p->metrics, core::system_clock::instance(),
                                                       ingest_opts, /*delivery_cache_entries=*/100'000,
                                                       static_cast<std::int64_t>(cfg.dedup.window.count()));
  p->ingest->set_connectors(std::move(connector_set).value());

  auto routes = std::make_shared<http::router>();
  p->routes = routes;
  impl* raw = p.get();
  http::ops_options ops;
  ops.metrics = &p->metrics;
  ops.readiness = [raw] { return raw->readiness(); };
  if (auto r = http::add_ops_routes(*routes, ops); !r) return std::move(r).err();
  ingest::webhook_route_options webhook_opts;
  webhook_opts.body_limit = cfg.limits.body_bytes;
  if (auto r = ingest::add_webhook_routes(*routes, *p->ingest, core::system_clock::instance(), webhook_opts); !r) {
    return std::move(r).err();
  }

  http::server_options server_opts;
  server_opts.listen = cfg.http.listen.to_string();
  if (cfg.http.tls) server_opts.tls = http::tls_options{cfg.http.tls->cert, cfg.http.tls->key};
  server_opts.limits.body_bytes = cfg.limits.body_bytes;
  server_opts.limits.header_bytes = cfg.limits.header_bytes;
  server_opts.limits.read_timeout_ms = static_cast<std::uint32_t>(cfg.limits.read_timeout.count());
  server_opts.limits.max_connections = cfg.limits.max_connections;
  http::server_deps deps;
  deps.routes = routes;
  deps.credentials = &p->credentials;
  deps.metrics = &p->metrics;
  deps.log = &p->logger;
  p->server = std::make_unique<http::server>(server_opts, deps);

  p->topics_thread = std::thread([raw] { raw->ensure_topics(); });
  if (auto r = p->server->start(); !r) {
    std::unique_ptr<daemon> cleanup(new daemon(std::move(p)));
    cleanup->stop();
    return std::move(r).err();
  }
  log.info("passerelle serving", {{"listen", cfg.http.listen.host + ":" + std::to_string(p->server->port())},
                                  {"tls", cfg.http.tls.has_value()},
                                  {"backend", std::string(config::to_string(cfg.backend))},
                                  {"connectors", static_cast<std::int64_t>(cfg.connectors.size())}});
  return std::unique_ptr<daemon>(new daemon(std::move(p)));
}

result<void> daemon::reload() {
  auto& p = *impl_;
  if (!p.config_path) {
    p.logger.info("SIGHUP: running on defaults, nothing to reload");
    return ok();
  }
  auto next = config::reload_secrets(*p.config_path, p.cfg);
  if (!next) return std::move(next).err();
  auto creds = make_credentials(*next);
  if (!creds) return std::move(creds).err();
  auto connector_set = make_connectors(*next, p.connector_registry);
  if (!connector_set) return std::move(connector_set).err();
  p.credentials.replace(std::move(creds).value());
  p.ingest->set_connectors(std::move(connector_set).value());
  p.cfg = std::move(next).value();
  p.logger.info("SIGHUP: secrets and tokens reloaded");
  return ok();
}

void daemon::stop() {
  auto& p = *impl_;
  if (p.stopped) return;
  p.stopped = true;
  {
    std::lock_guard lock(p.topics_mu);
    p.stopping = true;
  }
  p.topics_cv.notify_all();
  if (p.server) p.server->stop();  // stop accepting, drain in-flight requests
  if (p.topics_thread.joinable()) p.topics_thread.join();
  if (p.event_log) {
    if (auto r = p.event_log->flush(std::chrono::seconds(10)); !r) {
      p.logger.warn("event log flush at shutdown incomplete", {{"error", r.err().message}});
    }
  }
  p.server.reset();
  p.ingest.reset();
  p.event_log.reset();
  p.logger.info("passerelle stopped");
}

std::uint16_t daemon::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

const http::router& daemon::routes() const noexcept { return *impl_->routes; }

}  // namespace passerelle::app

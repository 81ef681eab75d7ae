#include "broker/app/daemon.h"

#include "broker/app/connector_sections.h"
#include "broker/app/engine_health.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "broker/api/handoff_routes.h"
#include "broker/api/handoff_service.h"
#include "broker/api/read_routes.h"
#include "broker/api/read_service.h"
#include "broker/core/clock.h"
#include "broker/core/crypto.h"
#include "broker/dlq/dead_letter_reader.h"
#include "broker/dlq/dead_letter_routes.h"
#include "broker/engine/engine_topics.h"
#include "broker/engine/lifecycle_engine.h"
#include "broker/engine/materializer.h"
#include "broker/handoff/web_handoff_worker.h"
#include "broker/http/auth.h"
#include "broker/http/ops_routes.h"
#include "broker/http/router.h"
#include "broker/http/server.h"
#include "broker/ingest/webhook_ingest.h"
#include "broker/ingest/webhook_routes.h"
#include "broker/log/factory/open_event_log.h"
#include "broker/log/spool/spool_metrics.h"
#include "broker/log/spool/spooling_log.h"
#include "broker/log/topics.h"
#include "broker/obs/metrics.h"
#include "broker/state/state_store.h"
#include "connectors/register_builtin.h"
#include "connectors/sdk/checkout_builder.h"
#include "connectors/sdk/registry.h"

namespace passerelle::app {

namespace {

std::string hex(const config::sha256_digest& d) { return http::to_hex(d.data(), d.size()); }

// The configured connector `name` of the current (possibly reloaded) set, or nullptr.
std::shared_ptr<const connector::connector> configured_connector(const ingest::webhook_ingest& ingest,
                                                                 std::string_view name) {
  const auto set = ingest.connectors();
  if (!set) return nullptr;
  const auto it = set->find(name);
  return it == set->end() ? nullptr : it->second;
}

// Whether a web handoff may target connector:account (handoff_options::web_targets).
result<void> check_web_target(const ingest::webhook_ingest& ingest, std::string_view connector_name,
                              std::string_view account) {
  const auto c = configured_connector(ingest, connector_name);
  if (!c) {
    return error::reject("unknown_connector", "connector \"" + std::string(connector_name) + "\" is not configured");
  }
  const auto* builder = c->checkout();
  if (builder == nullptr) {
    return error::reject("checkout_unsupported",
                         "connector " + std::string(connector_name) + " cannot create checkouts");
  }
  return builder->check_account(account);
}

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
  for (auto& spec :
       engine::engine_topic_specs(cfg.kafka.topic_prefix, cfg.kafka.partitions, cfg.kafka.replication_factor)) {
    specs.push_back(std::move(spec));
  }
  return specs;
}

// A stable id for this instance's transactional producer: the host name and the data directory (two instances on
// one host have two data directories), so a restart fences its own previous incarnation and nobody else.
std::string instance_id_for(const config::config& cfg) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::error_code ec;
  const auto dir = std::filesystem::weakly_canonical(cfg.data_dir, ec);
  const std::string digest = core::to_hex(core::as_bytes(core::sha256(ec ? cfg.data_dir : dir.string())));
  return std::string(host.data()) + "-" + digest.substr(0, 12);
}

lifecycle::lifecycle_config lifecycle_config_of(const config::config& cfg) {
  lifecycle::lifecycle_config l;
  l.abandon_after_ms = cfg.lifecycle.abandon_after.count();
  l.handoff_ttl_ms = cfg.lifecycle.handoff_ttl.count();
  l.quote_ttl_ms = cfg.lifecycle.quote_ttl.count();
  return l;
}

}  // namespace

struct daemon::impl {
  config::config cfg;
  std::optional<std::string> config_path;
  obs::logger& logger;
  obs::registry metrics;
  connector::registry connector_registry;
  std::unique_ptr<log::event_log> event_log;
  log::spooling_log* spool = nullptr;  // view of event_log on the kafka backend; owned by event_log
  std::unique_ptr<state::state_store> state;
  std::unique_ptr<api::read_service> reads;
  std::unique_ptr<api::handoff_service> handoffs;
  std::unique_ptr<engine::materializer> materializer;  // started once the topics exist
  std::unique_ptr<engine::lifecycle_engine> engine;
  std::unique_ptr<handoff::web_handoff_worker> web_handoffs;  // store -> web handoffs; started with the engine
  std::unique_ptr<ingest::webhook_ingest> ingest;
  std::unique_ptr<dlq::dead_letter_reader> dead_letters;
  http::credentials_store credentials;
  std::shared_ptr<http::router> routes;
  std::unique_ptr<http::server> server;

  // Topics are created at start; when the cluster is unreachable the daemon still starts (not ready) and this
  // thread keeps trying, so a Kafka that comes up later is picked up without a restart.
  std::mutex topics_mu;
  std::condition_variable topics_cv;
  bool topics_ready = false;
  // Why start_engine() failed, for /readyz and the metrics ("" when it did not fail). Guarded by topics_mu.
  std::string engine_start_error;
  std::string materializer_start_error;
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
        lock.unlock();
        start_engine();
        if (cfg.lifecycle.engine) start_web_handoffs();
        return;
      }
      logger.warn("cannot create topics yet; retrying", {{"error", created.err().message}});
      topics_cv.wait_for(lock, std::chrono::seconds(5), [this] { return stopping; });
    }
  }

  // The lifecycle engine and the materializer need the topics: started by the topics thread once they exist.
  void start_engine() {
    engine::materializer_options mo;
    mo.topic_prefix = cfg.kafka.topic_prefix;
    mo.partitions = cfg.kafka.partitions;
    auto m = engine::materializer::start(*event_log, *state, mo);
    if (!m) {
      logger.error("materializer not started: reads will not update", {{"error", m.err().message}});
      std::lock_guard lock(topics_mu);
      materializer_start_error = m.err().code + ": " + m.err().message;
      engine_start_error = "not started: the materializer failed to start";
      return;
    }
    if (!cfg.lifecycle.engine) {
      // An ingest and read instance: reads stay current from what the engine instances write.
      std::lock_guard lock(topics_mu);
      materializer = std::move(m).value();
      logger.info("lifecycle engine off on this instance (lifecycle.engine: false)", {});
      return;
    }
    engine::engine_options eo;
    eo.topic_prefix = cfg.kafka.topic_prefix;
    eo.partitions = cfg.kafka.partitions;
    eo.instance_id = instance_id_for(cfg);
    eo.lifecycle = lifecycle_config_of(cfg);
    auto e = engine::lifecycle_engine::start(*event_log, *state, core::system_clock::instance(), eo);
    if (!e) {
      logger.error("lifecycle engine not started", {{"error", e.err().message}});
      std::lock_guard lock(topics_mu);
      engine_start_error = e.err().code + ": " + e.err().message;
      return;
    }
    std::lock_guard lock(topics_mu);
    materializer = std::move(m).value();
    engine = std::move(e).value();
    logger.info("lifecycle engine started", {{"instance", eo.instance_id}});
  }

  // Store -> web handoffs (broker/handoff/web_handoff_worker.h): a consumer group on the basket topic, so it needs
  // the topics too. Reads baskets from the local store; finds the target connector in the current (reloaded) set.
  void start_web_handoffs() {
    handoff::web_handoff_deps deps;
    deps.log = event_log.get();
    deps.clock = &core::system_clock::instance();
    deps.find_connector = [this](std::string_view name) { return configured_connector(*ingest, name); };
    deps.read_basket = [this](const std::string& id) { return reads->subject(v1::SUBJECT_KIND_BASKET, id); };
    handoff::web_handoff_options wo;
    wo.topic_prefix = cfg.kafka.topic_prefix;
    auto w = handoff::web_handoff_worker::start(std::move(deps), wo);
    if (!w) {
      logger.error("web handoff worker not started: web handoffs stay pending", {{"error", w.err().message}});
      return;
    }
    std::lock_guard lock(topics_mu);
    web_handoffs = std::move(w).value();
  }

  // The engine side's state, read at probe and scrape time (stats snapshots: nothing on the engine's hot path).
  engine_health sample_engine() {
    std::lock_guard lock(topics_mu);
    engine_health h;
    h.topics_ready = topics_ready;
    h.engine_enabled = cfg.lifecycle.engine;
    h.engine_error = engine_start_error;
    h.materializer_error = materializer_start_error;
    if (engine) {
      h.engine = engine->stats();
      h.engine_error = h.engine->last_error;
    }
    if (materializer) {
      h.materializer_applied = materializer->applied();
      h.materializer_error = materializer->last_error();
    }
    return h;
  }

  result<void> readiness() {
    if (auto r = engine_readiness(sample_engine()); !r) return r;
    if (spool != nullptr) {
      const auto r = log::readiness_of(spool->status());
      if (!r.ready) return error::retry("spool_full", r.detail);
      return ok();
    }
    return event_log->check_ready(std::chrono::milliseconds(2000));
  }
};

daemon::daemon(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

daemon::~daemon() { stop(); }

result<std::unique_ptr<daemon>> daemon::start(const config::config& cfg, std::optional<std::string> config_path,
                                              obs::logger& log, const daemon_extensions& extensions) {
  auto p = std::make_unique<impl>(cfg, std::move(config_path), log);

  if (auto r = connectors::register_builtin_connectors(p->connector_registry); !r) return std::move(r).err();
  if (extensions.register_connectors) {
    if (auto r = extensions.register_connectors(p->connector_registry); !r) return std::move(r).err();
  }
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
    p->spool = spooled->get();
    log::register_spool_metrics(*p->spool, p->metrics);
    p->event_log = std::move(spooled).value();
  }

  // The engine's local state: a cache of the changelog topics (broker/state), read by every read route.
  auto state_store = state::state_store::open({(std::filesystem::path(cfg.data_dir) / "state").string()});
  if (!state_store) return std::move(state_store).err();
  p->state = std::move(state_store).value();
  p->reads = std::make_unique<api::read_service>(*p->state);
  api::handoff_options handoff_opts;
  handoff_opts.topic_prefix = cfg.kafka.topic_prefix;
  handoff_opts.ttl = cfg.lifecycle.handoff_ttl;
  for (const auto& store : cfg.stores) handoff_opts.stores.insert(store.id);
  handoff_opts.web_targets = [raw_impl = p.get()](std::string_view connector_name, std::string_view account) {
    return check_web_target(*raw_impl->ingest, connector_name, account);
  };
  p->handoffs =
      std::make_unique<api::handoff_service>(*p->event_log, *p->reads, core::system_clock::instance(), handoff_opts);

  ingest::ingest_options ingest_opts;
  ingest_opts.topic_prefix = cfg.kafka.topic_prefix;
  p->ingest = std::make_unique<ingest::webhook_ingest>(*p->event_log, p->metrics, core::system_clock::instance(),
                                                       ingest_opts, /*delivery_cache_entries=*/100'000,
                                                       static_cast<std::int64_t>(cfg.dedup.window.count()));
  p->ingest->set_connectors(std::move(connector_set).value());

  auto routes = std::make_shared<http::router>();
  p->routes = routes;
  impl* raw = p.get();
  register_engine_metrics(p->metrics, [raw] { return raw->sample_engine(); });
  http::ops_options ops;
  ops.metrics = &p->metrics;
  ops.readiness = [raw] { return raw->readiness(); };
  if (auto r = http::add_ops_routes(*routes, ops); !r) return std::move(r).err();
  ingest::webhook_route_options webhook_opts;
  webhook_opts.body_limit = cfg.limits.body_bytes;
  for (const auto& [name, section] : cfg.connectors) {
    if (section.body_bytes) webhook_opts.connector_body_limits.emplace(name, *section.body_bytes);
  }
  if (auto r = ingest::add_webhook_routes(*routes, *p->ingest, core::system_clock::instance(), webhook_opts); !r) {
    return std::move(r).err();
  }
  dlq::reader_options dlq_opts;
  dlq_opts.topic = log::topics::full_name(cfg.kafka.topic_prefix, log::topics::dlq);
  p->dead_letters = std::make_unique<dlq::dead_letter_reader>(*p->event_log, dlq_opts);
  if (auto r = dlq::add_dead_letter_routes(*routes, *p->dead_letters, *p->ingest); !r) return std::move(r).err();
  if (auto r = api::add_read_routes(*routes, *p->reads); !r) return std::move(r).err();
  if (auto r = api::add_handoff_routes(*routes, *p->handoffs); !r) return std::move(r).err();

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
  // The engine finishes its transaction, then the materializer its batch; both before the log goes.
  if (p.web_handoffs) p.web_handoffs->stop();  // abandons calls in flight, uncommitted: redone after restart
  if (p.engine) p.engine->stop();
  if (p.materializer) p.materializer->stop();
  if (p.event_log) {
    if (auto r = p.event_log->flush(std::chrono::seconds(10)); !r) {
      p.logger.warn("event log flush at shutdown incomplete", {{"error", r.err().message}});
    }
  }
  p.server.reset();
  p.dead_letters.reset();
  p.ingest.reset();
  p.engine.reset();
  p.materializer.reset();
  p.web_handoffs.reset();
  p.handoffs.reset();
  p.reads.reset();
  p.spool = nullptr;
  p.event_log.reset();
  p.state.reset();
  p.logger.info("passerelle stopped");
}

std::uint16_t daemon::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

const http::router& daemon::routes() const noexcept { return *impl_->routes; }

}  // namespace passerelle::app

// engine_bench: the lifecycle engine's figures at scale (issue 4), on the embedded backend, in one process:
//   phase fold       N baskets x E snapshot events folded by the pure core (lifecycle::fold) and encoded:
//                    events/s of the core alone, and the encoded state's size. The states go to a changelog topic.
//   phase rebuild    a fresh state store restored from that changelog the way an engine restores on assignment
//                    (state::restore_changelog with the engine's decoder), then the timer index rebuilt from the
//                    store (engine::rebuild_timers): baskets/s for each.
//   phase memory     resident set size of the process holding N active baskets in the restored store and the timer
//                    index: the growth over the baseline taken before the rebuild (after malloc_trim), per basket,
//                    and the process total.
//   phase engine     M events through the whole runner (consumer group, one transaction per batch, changelog,
//                    history, materializer) on fresh topics: events/s end to end. With --kafka, this phase and
//                    the next run on that Kafka cluster (fresh topics; the engine's Kafka transactions).
//   phase freshness  with the runner idle, K single events produced one after the other: the delay from the
//                    produce acknowledgement (what makes a webhook answer 200) until the store, which every read
//                    route reads, shows the folded state: p50/p99/max.
// Event times are set an hour before the run, so no abandonment timer is due during it.
// Prints one RESULT line of key=value pairs. Exit codes: 0 ok, 1 runtime failure, 2 bad usage.

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "broker/core/murmur2.h"
#include "broker/engine/engine_topics.h"
#include "broker/engine/lifecycle_engine.h"
#include "broker/engine/materializer.h"
#include "broker/engine/store_layout.h"
#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "broker/lifecycle/timers.h"
#include "broker/log/embedded/embedded_log.h"
#include "broker/log/kafka/kafka_log.h"
#include "broker/state/changelog_restore.h"
#include "broker/state/state_store.h"

namespace passerelle::bench {
namespace {

namespace lc = passerelle::lifecycle;
using steady = std::chrono::steady_clock;

constexpr const char* usage_text = R"(usage: engine_bench [options]
  --baskets N          active baskets (default 1000000)
  --events N           snapshot events per basket in the fold phase (default 2)
  --lines N            lines per basket (default 3)
  --engine-events N    events through the whole runner in the engine phase (default 100000; 0 skips it)
  --fresh-events N     single events timed in the freshness phase (default 2000; 0 skips it)
  --partitions N       partitions (default 12)
  --sync true|false    fsync the embedded log's writes (default true: durable, as the daemon runs)
  --data-dir DIR       parent folder for the stores and logs (default ./bench-data); removed afterwards
  --kafka BOOTSTRAP    run the engine and freshness phases on this Kafka cluster instead of the embedded log
  --restore-threads N  parallel readers of the rebuild phase (default: state::restore_options' default, one per CPU)
)";

struct options {
  std::uint64_t baskets = 1'000'000;
  int events = 2;
  int lines = 3;
  std::uint64_t engine_events = 100'000;
  std::uint64_t fresh_events = 2'000;
  std::int32_t partitions = 12;
  bool sync = true;
  std::string data_dir = "./bench-data";
  std::string kafka;  // bootstrap servers; empty: embedded
  std::size_t restore_threads = state::restore_options{}.threads;
};

std::uint64_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      std::uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

std::string basket_id(std::uint64_t i) { return "bsk_" + std::to_string(1'000'000'000ULL + i); }

// An hour ago: events are recent, so no abandonment (24 h) is due while the bench runs.
const std::int64_t base_ms = core::system_clock::instance().now_ms() - 3'600'000;

// A realistic web basket snapshot: `lines` lines with SKUs, titles and prices, a reference and a customer.
v1::Event snapshot(std::uint64_t basket, int version, int lines) {
  v1::Event e;
  e.set_event_id("evt_" + std::to_string(basket) + "_" + std::to_string(version));
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  e.set_subject_id(basket_id(basket));
  const std::int64_t at = base_ms + static_cast<std::int64_t>(version) * 1'000;
  lc::set_ms(e.mutable_occurred_at(), at);
  lc::set_ms(e.mutable_received_at(), at + 40);
  e.set_channel(v1::CHANNEL_WEB);
  e.mutable_source()->set_connector("shopify");
  e.mutable_source()->set_account("shop.example.com");
  e.mutable_source()->set_native_id("c1-" + std::to_string(basket));
  e.set_source_version(at);
  e.add_references("shopify:shop.example.com:c1-" + std::to_string(basket));
  auto* c = e.add_customers();
  c->set_type(v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID);
  c->set_scope("shopify:shop.example.com");
  c->set_value(std::to_string(7'000'000 + basket % 500'000));
  auto* s = e.mutable_basket_snapshot();
  s->set_currency("EUR");
  for (int l = 0; l < lines; ++l) {
    auto* line = s->add_lines();
    line->set_line_id(std::to_string(40'000'000'000LL + l));
    line->set_sku("SKU-" + std::to_string((basket * 7 + static_cast<std::uint64_t>(l)) % 20'000));
    line->set_title("Chemise lin coupe droite - taille " + std::to_string(38 + l));
    line->set_quantity(1 + (version + l) % 3);
    line->mutable_unit_price()->set_amount_minor(2900 + std::int64_t{100} * l);
    line->mutable_unit_price()->set_currency("EUR");
    line->mutable_line_total()->set_amount_minor((2900 + std::int64_t{100} * l) * line->quantity());
    line->mutable_line_total()->set_currency("EUR");
  }
  return e;
}

bool produce_all(log::event_log& log, std::vector<log::produce_request> batch) {
  if (batch.empty()) return true;
  std::atomic<std::size_t> failed{0};
  std::promise<void> all;
  std::atomic<std::size_t> left{batch.size()};
  for (auto& r : batch) {
    log.produce(std::move(r), [&](const result<log::produce_ack>& a) {
      if (!a) failed.fetch_add(1);
      if (left.fetch_sub(1) == 1) all.set_value();
    });
  }
  all.get_future().wait();
  return failed.load() == 0;
}

bool create_topics(log::event_log& log, const std::string& prefix, std::int32_t partitions) {
  std::vector<log::topic_spec> specs;
  for (const auto& t : engine::input_topics(prefix)) specs.push_back({t, partitions, 1, {}});
  for (auto& s : engine::engine_topic_specs(prefix, partitions, 1)) specs.push_back(s);
  auto c = log.create_topics(specs);
  if (!c) std::cerr << "topics: " << c.err().message << "\n";
  return c.ok();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(rank, sorted.size() - 1)];
}

struct figures {
  std::uint64_t folded = 0;
  double fold_seconds = 0;
  std::uint64_t encoded_bytes = 0;
  std::uint64_t rebuilt = 0;
  double rebuild_seconds = 0;
  double timers_seconds = 0;
  std::size_t timers = 0;
  std::uint64_t rss_baseline = 0;
  std::uint64_t rss_held = 0;
  double engine_seconds = 0;
  std::vector<double> fresh_ms;
};

// Phase fold: folds every basket's snapshots, writes the states to the changelog.
bool fold_phase(const options& o, log::event_log& log, const std::string& changelog, figures& f) {
  const lc::lifecycle_config cfg;
  std::vector<log::produce_request> batch;
  for (std::uint64_t b = 0; b < o.baskets; ++b) {
    lc::subject_state st;
    const auto f0 = steady::now();
    for (int v = 1; v <= o.events; ++v) {
      const auto out = lc::fold(st, snapshot(b, v, o.lines), 0, cfg);
      if (out.status != lc::fold_status::applied) return std::cerr << "fold: " << out.reason << "\n", false;
      ++f.folded;
    }
    std::string bytes = lc::encode(st);
    f.fold_seconds += seconds_since(f0);
    f.encoded_bytes += bytes.size();
    batch.push_back({changelog, st.common.id, std::move(bytes), {}, std::nullopt});
    if (batch.size() == 4096 || b + 1 == o.baskets) {
      if (!produce_all(log, std::move(batch))) return std::cerr << "changelog produce failed\n", false;
      batch.clear();
    }
  }
  return true;
}

// Phases rebuild + memory: what one engine instance holds for all the baskets after a restore.
bool rebuild_phase(const options& o, log::event_log& log, const std::string& changelog,
                   const std::filesystem::path& dir, figures& f) {
  ::malloc_trim(0);  // the fold phase's freed memory is not the store's
  f.rss_baseline = rss_bytes();
  auto store = state::state_store::open({dir.string()});
  if (!store) return std::cerr << store.err().message << "\n", false;
  std::vector<std::int32_t> all;
  for (std::int32_t p = 0; p < o.partitions; ++p) all.push_back(p);
  const auto r0 = steady::now();
  state::restore_options ro;
  ro.threads = o.restore_threads;
  auto restored = state::restore_changelog(log, **store, changelog, all, engine::state_record_mutations, ro);
  f.rebuild_seconds = seconds_since(r0);
  if (!restored) return std::cerr << "restore: " << restored.err().message << "\n", false;
  f.rebuilt = restored->records;
  const auto t0 = steady::now();
  auto timers = engine::rebuild_timers(
      **store, [](const lc::subject_state&) { return true; }, lc::lifecycle_config{});
  f.timers_seconds = seconds_since(t0);
  if (!timers) return std::cerr << "timers: " << timers.err().message << "\n", false;
  f.timers = timers->size();
  f.rss_held = rss_bytes();
  return true;
}

// Phases engine + freshness: the whole runner on fresh topics of the same log.
bool engine_phase(const options& o, log::event_log& log, const std::filesystem::path& dir, figures& f) {
  const std::string prefix = "bench.run." + std::to_string(::getpid()) + ".";
  if (!create_topics(log, prefix, o.partitions)) return false;
  auto store = state::state_store::open({dir.string()});
  if (!store) return std::cerr << store.err().message << "\n", false;
  const std::string topic = engine::topic_for_kind(prefix, v1::SUBJECT_KIND_BASKET);
  const std::uint64_t baskets = std::max<std::uint64_t>(1, o.engine_events / 2);
  std::vector<log::produce_request> input;
  for (std::uint64_t i = 0; i < o.engine_events; ++i) {
    auto e = snapshot(i % baskets, static_cast<int>(i / baskets) + 1, o.lines);
    input.push_back({topic, e.subject_id(), e.SerializeAsString(), {}, std::nullopt});
  }
  if (!produce_all(log, std::move(input))) return std::cerr << "input produce failed\n", false;
  // The daemon's settings (broker/app/daemon.cpp start_engine): defaults of both.
  engine::materializer_options mo;
  mo.topic_prefix = prefix;
  mo.partitions = o.partitions;
  auto reads = engine::materializer::start(log, **store, mo);
  if (!reads) return std::cerr << reads.err().message << "\n", false;
  engine::engine_options eo;
  eo.topic_prefix = prefix;
  eo.partitions = o.partitions;
  eo.instance_id = "bench";
  const auto e0 = steady::now();
  auto eng = engine::lifecycle_engine::start(log, **store, core::system_clock::instance(), eo);
  if (!eng) return std::cerr << eng.err().message << "\n", false;
  const auto failed = [&] {
    const auto st = (*eng)->stats();
    if (!st.last_error.empty()) std::cerr << "engine: " << st.last_error << "\n";
    return !st.last_error.empty() || seconds_since(e0) > 3600;
  };
  while ((*eng)->stats().folded < o.engine_events) {
    if (failed()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  f.engine_seconds = seconds_since(e0);

  // Freshness: one event at a time, each a new version of a basket of the engine phase.
  for (std::uint64_t k = 0; k < o.fresh_events; ++k) {
    const std::uint64_t b = k % baskets;
    const std::string id = basket_id(b);
    const int version = 1000 + static_cast<int>(k);
    auto before = (*store)->get(engine::state_key(id));
    if (!before || !*before) return std::cerr << "freshness: basket " << id << " not in the store\n", false;
    const auto was = lc::decode(**before);
    if (!was) return std::cerr << "freshness: " << was.err().message << "\n", false;
    const std::uint64_t want = was->common.version + 1;
    auto e = snapshot(b, version, o.lines);
    std::vector<log::produce_request> one;
    one.push_back({topic, id, e.SerializeAsString(), {}, std::nullopt});
    if (!produce_all(log, std::move(one))) return std::cerr << "freshness produce failed\n", false;
    const auto acked = steady::now();
    for (;;) {
      auto now = (*store)->get(engine::state_key(id));
      if (now && *now) {
        auto st = lc::decode(**now);
        if (st && st->common.version >= want) break;
      }
      if (failed()) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    f.fresh_ms.push_back(seconds_since(acked) * 1000.0);
  }
  (*eng)->stop();
  (*reads)->stop();
  std::sort(f.fresh_ms.begin(), f.fresh_ms.end());
  return true;
}

int run(const options& o) {
  const auto root = std::filesystem::path(o.data_dir) / ("engine_bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);
  const std::string prefix = "bench.";
  const std::string changelog = log::topics::full_name(prefix, engine::state_changelog_topic);

  passerelle::log::embedded_options lo;
  lo.data_dir = (root / "log").string();
  lo.default_partitions = o.partitions;
  lo.sync = o.sync;
  auto log = passerelle::log::open_embedded_log(lo);
  if (!log) return std::cerr << "open log: " << log.err().message << "\n", 1;
  if (!create_topics(**log, prefix, o.partitions)) return 1;

  std::unique_ptr<log::event_log> kafka;
  if (!o.kafka.empty()) {
    log::kafka_options ko;
    ko.bootstrap_servers = o.kafka;
    ko.partitions = o.partitions;
    auto k = log::open_kafka_log(ko);
    if (!k) return std::cerr << "open kafka: " << k.err().message << "\n", 1;
    if (auto r = (*k)->check_ready(std::chrono::seconds(10)); !r) return std::cerr << r.err().message << "\n", 1;
    kafka = std::move(*k);
  }

  figures f;
  const bool ok = fold_phase(o, **log, changelog, f) && rebuild_phase(o, **log, changelog, root / "rebuilt", f) &&
                  (o.engine_events == 0 || engine_phase(o, kafka ? *kafka : **log, root / "engine-state", f));
  kafka.reset();
  log->reset();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (!ok) return 1;

  const auto mib = [](std::uint64_t b) { return static_cast<double>(b) / 1048576.0; };
  std::printf(
      "RESULT baskets=%llu lines=%d sync=%d engine_backend=%s fold_events=%llu fold_events_per_s=%.0f "
      "state_bytes_per_basket=%.0f "
      "restore_threads=%zu rebuild_records=%llu rebuild_seconds=%.2f rebuild_baskets_per_s=%.0f timers=%zu "
      "timers_seconds=%.2f "
      "timers_baskets_per_s=%.0f rss_baseline_mib=%.1f rss_held_mib=%.1f rss_bytes_per_basket=%.0f "
      "engine_events=%llu engine_events_per_s=%.0f fresh_events=%zu fresh_p50_ms=%.2f fresh_p99_ms=%.2f "
      "fresh_max_ms=%.2f\n",
      static_cast<unsigned long long>(o.baskets), o.lines, o.sync ? 1 : 0, o.kafka.empty() ? "embedded" : "kafka",
      static_cast<unsigned long long>(f.folded), static_cast<double>(f.folded) / f.fold_seconds,
      static_cast<double>(f.encoded_bytes) / static_cast<double>(o.baskets), o.restore_threads,
      static_cast<unsigned long long>(f.rebuilt), f.rebuild_seconds, static_cast<double>(f.rebuilt) / f.rebuild_seconds,
      f.timers, f.timers_seconds, static_cast<double>(o.baskets) / f.timers_seconds, mib(f.rss_baseline),
      mib(f.rss_held), static_cast<double>(f.rss_held - f.rss_baseline) / static_cast<double>(o.baskets),
      static_cast<unsigned long long>(o.engine_events),
      f.engine_seconds > 0 ? static_cast<double>(o.engine_events) / f.engine_seconds : 0.0, f.fresh_ms.size(),
      percentile(f.fresh_ms, 0.50), percentile(f.fresh_ms, 0.99), f.fresh_ms.empty() ? 0.0 : f.fresh_ms.back());
  return 0;
}

}  // namespace
}  // namespace passerelle::bench

int main(int argc, char** argv) {
  passerelle::bench::options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    try {
      if (a == "--baskets" && has_value) {
        o.baskets = std::stoull(argv[++i]);
      } else if (a == "--events" && has_value) {
        o.events = std::stoi(argv[++i]);
      } else if (a == "--lines" && has_value) {
        o.lines = std::stoi(argv[++i]);
      } else if (a == "--engine-events" && has_value) {
        o.engine_events = std::stoull(argv[++i]);
      } else if (a == "--fresh-events" && has_value) {
        o.fresh_events = std::stoull(argv[++i]);
      } else if (a == "--sync" && has_value) {
        const std::string v = argv[++i];
        if (v != "true" && v != "false") throw std::invalid_argument(v);
        o.sync = v == "true";
      } else if (a == "--partitions" && has_value) {
        o.partitions = std::stoi(argv[++i]);
      } else if (a == "--restore-threads" && has_value) {
        o.restore_threads = std::stoul(argv[++i]);
      } else if (a == "--kafka" && has_value) {
        o.kafka = argv[++i];
      } else if (a == "--data-dir" && has_value) {
        o.data_dir = argv[++i];
      } else {
        std::cerr << "engine_bench: unknown or incomplete option " << a << "\n" << passerelle::bench::usage_text;
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "engine_bench: bad value for " << a << "\n";
      return 2;
    }
  }
  if (o.baskets < 1 || o.events < 1 || o.lines < 0 || o.partitions < 1) {
    std::cerr << "engine_bench: --baskets, --events and --partitions must be >= 1\n";
    return 2;
  }
  return passerelle::bench::run(o);
}

#pragma once
// Helpers of the end-to-end tests: a real `passerelle serve` daemon in-process (configured through YAML like an
// operator would), webhook requests built from the connectors' fixtures and signed with the connectors' own
// signing helpers, the contract's answers parsed, and the event log read back through the event_log API after
// the daemon stopped (group-less reader, so nothing is committed).
//
// Lifecycle: one e2e_daemon per test case; the data directory is removed with it. Single-threaded: the test
// thread drives everything.

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "broker/app/daemon.h"
#include "broker/config/config.h"
#include "broker/log/event_log.h"
#include "broker/log/factory/open_event_log.h"
#include "broker/log/topics.h"
#include "passerelle/v1/event.pb.h"
#include "tests/http/test_client.h"
#include "tests/log/temp_dir.h"

namespace passerelle::e2e {

namespace bh = boost::beast::http;
using header_list = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

// A captured request of connectors/<connector>/fixtures/<name>.{request.json,body}: its headers and raw bytes.
struct fixture_request {
  header_list headers;
  std::string body;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot read " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline fixture_request load_fixture(const std::string& connector, const std::string& name) {
  const std::string base = std::string(PASSERELLE_SOURCE_DIR) + "/connectors/" + connector + "/fixtures/" + name;
  fixture_request f;
  f.body = read_file(base + ".body");
  rapidjson::Document doc;
  const std::string meta = read_file(base + ".request.json");
  doc.Parse(meta.data(), meta.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("headers")) FAIL("bad fixture " << base);
  const rapidjson::Value& headers = doc["headers"];  // const: its iterators compare unambiguously in C++20
  for (const auto& m : headers.GetObject()) f.headers.emplace_back(m.name.GetString(), m.value.GetString());
  return f;
}

// Sets (replacing, case-insensitively) or with an empty value removes a header.
inline void set_header(header_list& h, const std::string& name, const std::string& value) {
  const auto same = [&](const std::pair<std::string, std::string>& p) {
    return p.first.size() == name.size() &&
           std::equal(p.first.begin(), p.first.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  std::erase_if(h, same);
  if (!value.empty()) h.emplace_back(name, value);
}

inline std::string header_of(const std::vector<log::header>& hdrs, const std::string& key) {
  for (const auto& h : hdrs) {
    if (h.key == key) return h.value;
  }
  return {};
}

// The parts of a webhook answer the tests check: status, error/reason code, event ids and subject ids.
struct answer {
  unsigned status = 0;
  std::string code;  // error.code (4xx/5xx) or reason.code (202)
  std::vector<std::string> event_ids;
  std::vector<std::string> subject_ids;
  bool replayed = false;
  std::string body;
  std::string retry_after;
};

inline answer parse_answer(const http::test::client_response& r) {
  answer a;
  a.status = r.result_int();
  a.body = r.body();
  if (auto it = r.find(bh::field::retry_after); it != r.end()) a.retry_after = std::string(it->value());
  rapidjson::Document doc;
  doc.Parse(r.body().data(), r.body().size());
  if (doc.HasParseError() || !doc.IsObject()) return a;
  if (doc.HasMember("error") && doc["error"].IsObject() && doc["error"].HasMember("code")) {
    a.code = doc["error"]["code"].GetString();
  }
  if (doc.HasMember("reason") && doc["reason"].IsObject() && doc["reason"].HasMember("code")) {
    a.code = doc["reason"]["code"].GetString();
  }
  if (doc.HasMember("event_ids")) {
    for (const auto& id : doc["event_ids"].GetArray()) a.event_ids.emplace_back(id.GetString());
  }
  if (doc.HasMember("subjects")) {
    for (const auto& s : doc["subjects"].GetArray()) a.subject_ids.emplace_back(s["id"].GetString());
  }
  a.replayed = doc.HasMember("replayed") && doc["replayed"].IsBool() && doc["replayed"].GetBool();
  return a;
}

inline answer post(std::uint16_t port, const std::string& target, const std::string& body, const header_list& h) {
  http::test::client c(port);
  return parse_answer(c.request(bh::verb::post, target, body, h));
}

// The sum of the samples of metric `name` in a /metrics text whose labels include every pair of `labels`
// (other labels, e.g. account, are summed over); 0 when there is none.
inline double metric_sum(const std::string& rendered, const std::string& name,
                         const std::vector<std::pair<std::string, std::string>>& labels) {
  double sum = 0;
  std::istringstream in(rendered);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    const auto brace = line.find('{');
    const auto series_name = line.substr(0, std::min(brace, space));
    if (series_name != name) continue;
    const std::string block = brace == std::string::npos ? "" : line.substr(brace, space - brace);
    bool all = true;
    for (const auto& [k, v] : labels) {
      const std::string want = k + "=\"" + v + "\"";
      if (block.find("{" + want) == std::string::npos && block.find("," + want) == std::string::npos) all = false;
    }
    if (all) sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

// A daemon started from YAML text (the caller's `extra` sections appended to a base with port 0 and the data dir).
class e2e_daemon {
 public:
  explicit e2e_daemon(const std::string& sections) {
    config_path_ = (dir_.path() / "passerelle.yaml").string();
    std::ofstream(config_path_) << "http: { listen: \"127.0.0.1:0\" }\n"
                                << "data_dir: \"" << (dir_.path() / "data").string() << "\"\n"
                                << "log: { level: warn }\n"
                                << sections;
    auto cfg = config::load_config_file(config_path_);
    if (!cfg) FAIL("config: " << cfg.err().message);
    cfg_ = std::move(cfg).value();
    auto started = app::daemon::start(cfg_, config_path_, logger_);
    if (!started) FAIL("daemon start: " << started.err().message);
    daemon_ = std::move(started).value();
    // Ready: listening and the contract's topics exist (on Kafka, created by the daemon's topic thread).
    REQUIRE(http::test::wait_until(
        [&] {
          http::test::client c(daemon_->port());
          return c.request(bh::verb::get, "/readyz").result() == bh::status::ok;
        },
        60s));
  }

  std::uint16_t port() const { return daemon_->port(); }
  const config::config& cfg() const { return cfg_; }

  std::string metrics() const {
    http::test::client c(daemon_->port());
    return c.request(bh::verb::get, "/metrics").body();
  }

  // Stops the daemon (drain, flush) so that its log can be opened again by the test.
  void stop() {
    if (daemon_) daemon_->stop();
    daemon_.reset();
  }

  // The daemon's log, opened as the daemon opens it (same backend and options). Call after stop() on the
  // embedded backend (RocksDB allows one process-local owner).
  std::unique_ptr<log::event_log> open_log() const {
    log::log_options o;
    o.backend = cfg_.backend;
    o.embedded = config::embedded_log_options(cfg_);
    o.kafka = config::kafka_log_options(cfg_);
    o.kafka.client_id = "passerelle-e2e-reader";
    auto opened = log::open_event_log(o);
    if (!opened) FAIL("open_event_log: " << opened.err().message);
    return std::move(opened).value();
  }

 private:
  log::testing::temp_dir dir_;
  std::string config_path_;
  config::config cfg_;
  obs::logger logger_{obs::log_level::warn};
  std::unique_ptr<app::daemon> daemon_;
};

// Every record of every contract topic (prefix applied), by short topic name, read from offset low to the high
// watermark seen at the start, with a deadline.
inline std::map<std::string, std::vector<log::record>> read_contract_topics(log::event_log& log,
                                                                            const std::string& prefix,
                                                                            std::int32_t partitions) {
  std::map<std::string, std::vector<log::record>> out;
  std::vector<log::topic_partition_offset> start;
  std::map<std::string, std::string> short_name;
  std::int64_t want = 0;
  for (const auto name : log::topics::contract_topics) {
    const auto full = log::topics::full_name(prefix, name);
    short_name[full] = std::string(name);
    out[std::string(name)];
    for (std::int32_t p = 0; p < partitions; ++p) {
      auto wm = log.get_watermarks({full, p});
      if (!wm) FAIL("get_watermarks " << full << "/" << p << ": " << wm.err().message);
      want += wm->high - wm->low;
      start.push_back({full, p, wm->low});
    }
  }
  auto reader = log.open_reader(start);
  if (!reader) FAIL("open_reader: " << reader.err().message);
  // The daemon's lifecycle engine writes to the subject topics in transactions, and on Kafka each commit marker
  // takes an offset that no reader receives: the read also ends after 2 s without a record.
  std::int64_t got = 0;
  int idle = 0;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (got < want && idle < 10 && std::chrono::steady_clock::now() < end) {
    auto batch = (*reader)->poll(200ms, 1000);
    if (!batch) FAIL("poll: " << batch.err().message);
    idle = batch->empty() ? idle + 1 : 0;
    for (auto& r : *batch) {
      ++got;
      // The engine's derived events (line changes from snapshots, ...) are its output, not what ingest wrote.
      v1::Event e;
      if (short_name.at(r.topic) != log::topics::dlq && e.ParseFromString(r.value) &&
          e.source().connector() == "passerelle") {
        continue;
      }
      out[short_name.at(r.topic)].push_back(std::move(r));
    }
  }
  if (got == 0 && want > 0) FAIL("read none of " << want << " records");
  return out;
}

}  // namespace passerelle::e2e

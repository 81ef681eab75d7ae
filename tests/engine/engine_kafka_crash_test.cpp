// The lifecycle engine on a real Kafka broker, killed with SIGKILL mid-stream and restarted (same instance id, so
// the same transactional id; same state directory, whose unlogged writes the kill loses): every subject ends in
// exactly the state an uninterrupted in-process fold of its events gives, and its history on lifecycle.history
// holds every applied event and derived event once, in order. The input is random baskets' events with the
// reorderings and redeliveries docs/lifecycle.md allows (tests/lifecycle/basket_scenarios.h).

#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "broker/engine/engine_topics.h"
#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/state_codec.h"
#include "tests/engine/engine_crash_common.h"
#include "tests/lifecycle/basket_scenarios.h"
#include "tests/log/temp_dir.h"
#include "tests/log/txn_crash_driver.h"
#include "tests/log_kafka/kafka_test_support.h"

namespace passerelle::engine {
namespace {

using namespace std::chrono_literals;
namespace lc = passerelle::lifecycle;
namespace kt = passerelle::log::kafka_test;
using passerelle::log::testing::spawned_child;
using passerelle::log::testing::temp_dir;

constexpr std::int32_t partitions = 4;

struct expectation {
  std::map<std::string, std::string> states;                // subject -> encode(state, full)
  std::map<std::string, std::vector<std::string>> history;  // subject -> event ids, in order
  std::size_t applied = 0;
};

// Folds each subject's events in their log order, as the engine must, and lists what its history must hold:
// each applied input, then the events derived from it (docs/lifecycle.md "Runner").
expectation expect(const std::vector<v1::Event>& log_order, const lc::lifecycle_config& cfg) {
  expectation x;
  std::map<std::string, lc::subject_state> states;
  for (const v1::Event& e : log_order) {
    lc::subject_state& st = states[e.subject_id()];
    const auto out = lc::fold(st, e, lc::test::t0, cfg);
    INFO(e.event_id() << ": " << lc::to_string(out.status) << " " << out.reason);
    REQUIRE((out.status == lc::fold_status::applied || out.status == lc::fold_status::stale ||
             out.status == lc::fold_status::duplicate));
    auto& h = x.history[e.subject_id()];
    if (out.status == lc::fold_status::applied) {
      h.push_back(e.event_id());
      ++x.applied;
    }
    for (const auto& d : out.derived) h.push_back(d.event_id());
  }
  for (const auto& [id, st] : states) x.states[id] = lc::encode(st);
  return x;
}

// Everything committed on `topic` so far: the last value per key, and the event ids per key in offset order.
struct topic_view {
  std::map<std::string, std::string> last;
  std::map<std::string, std::vector<std::string>> ids;
};

topic_view read_topic(log::event_log& log, const std::string& topic) {
  std::vector<log::topic_partition_offset> start;
  for (std::int32_t p = 0; p < partitions; ++p) start.push_back({topic, p, 0});
  auto reader = log.open_reader(start);
  REQUIRE(reader);
  topic_view v;
  // Until two polls in a row bring nothing: the reader has reached the committed end of every partition.
  for (int empty = 0; empty < 2;) {
    auto batch = (*reader)->poll(300ms, 2000);
    REQUIRE(batch);
    empty = batch->empty() ? empty + 1 : 0;
    for (const auto& r : *batch) {
      v.last[r.key] = r.value;
      v1::Event e;
      if (e.ParseFromString(r.value)) v.ids[r.key].push_back(e.event_id());
    }
  }
  return v;
}

}  // namespace

TEST_CASE("kafka: the engine killed with SIGKILL mid-stream and restarted folds every event exactly once",
          "[engine][kafka]") {
  const std::string bootstrap = kt::bootstrap();
  auto log = kt::open_live();
  const std::string prefix = kt::unique_name("engine") + ".";
  std::vector<log::topic_spec> specs;
  for (const auto& t : input_topics(prefix)) specs.push_back({t, partitions, 1, {}});
  for (auto& s : engine_topic_specs(prefix, partitions, 1)) specs.push_back(s);
  REQUIRE(log->create_topics(specs));

  // 40 baskets' perturbed streams, interleaved at random into one log order (each subject keeps its own order).
  std::mt19937_64 rng(20261206);
  std::vector<std::vector<v1::Event>> streams;
  for (int b = 0; b < 40; ++b) {
    streams.push_back(lc::test::perturbed(rng, lc::test::make_scenario(rng, "bsk_k" + std::to_string(b))));
  }
  std::vector<v1::Event> order;
  std::vector<std::size_t> next(streams.size(), 0);
  for (std::size_t left =
           [&] {
             std::size_t n = 0;
             for (const auto& s : streams) n += s.size();
             return n;
           }();
       left > 0; --left) {
    std::size_t k = 0;
    do {
      k = std::uniform_int_distribution<std::size_t>(0, streams.size() - 1)(rng);
    } while (next[k] >= streams[k].size());
    order.push_back(streams[k][next[k]++]);
  }
  const lc::lifecycle_config cfg = testing::crash_test_lifecycle();
  const expectation want = expect(order, cfg);
  REQUIRE(want.applied > 200);

  // One idempotent producer: each subject's records land in its partition in this order. The first half goes in
  // before the first instance starts, the second half only after it was killed: however fast the first instance is,
  // its successor has work left, and the kill lands while the first half is being folded.
  const auto produce_range = [&](std::size_t from, std::size_t to) {
    kt::completions acks;
    for (std::size_t i = from; i < to; ++i) {
      const v1::Event& e = order[i];
      log->produce({topic_for_kind(prefix, e.subject_kind()), e.subject_id(), e.SerializeAsString(), {}, std::nullopt},
                   acks.slot(static_cast<int>(i)));
    }
    REQUIRE(acks.wait_for(to - from));
    for (const auto& [i, r] : acks.results()) REQUIRE(r.ok());
  };
  const std::size_t half = order.size() / 2;
  produce_range(0, half);

  temp_dir dir;
  // Small batches: many transactions, so the kill lands in the middle of the stream.
  const std::vector<std::string> args{ENGINE_CRASH_CHILD_PATH, bootstrap, prefix, std::to_string(partitions),
                                      dir.str() + "/state",    "node-1",  "7"};
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  long long folded_before_kill = 0;
  {
    spawned_child first(args);
    while (first.last("folded") < static_cast<long long>(want.applied / 8)) {
      INFO("child output: " << (first.lines().empty() ? "" : first.lines().back()));
      REQUIRE(first.read_until("folded", deadline));
    }
    first.kill_hard();
    folded_before_kill = first.last("folded");
  }
  INFO("folded before the kill: " << folded_before_kill << " of " << want.applied);
  CHECK(folded_before_kill < static_cast<long long>(want.applied));
  produce_range(half, order.size());

  spawned_child second(args);
  const std::string state_topic = log::topics::full_name(prefix, state_changelog_topic);
  const std::string hist_topic = log::topics::full_name(prefix, history_topic);
  topic_view states;
  for (;;) {
    states = read_topic(*log, state_topic);
    if (states.last == want.states) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    // Wait for the successor's progress (bounded), never a bare sleep.
    (void)second.read_until("transactions", std::min(deadline, std::chrono::steady_clock::now() + 1s));
    for (const auto& l : second.lines()) REQUIRE_FALSE(l.starts_with("error"));
  }
  // The successor folded the second half at least (its progress lines may not have been read yet).
  while (second.last("folded") <= 0 && std::chrono::steady_clock::now() < deadline) {
    (void)second.read_until("folded", std::min(deadline, std::chrono::steady_clock::now() + 1s));
  }
  CHECK(second.last("folded") > 0);

  // Same states (compared above as full encodings: content, versions, dedup window and counters)...
  for (const auto& [id, bytes] : want.states) {
    INFO("subject " << id);
    CHECK(states.last.at(id) == bytes);
  }
  // ...and every history holds each applied and derived event once, in order.
  const topic_view history = read_topic(*log, hist_topic);
  CHECK(history.ids.size() == want.history.size());
  for (const auto& [id, ids] : want.history) {
    INFO("history of " << id);
    CHECK(history.ids.count(id) == 1);
    if (history.ids.count(id) == 1) CHECK(history.ids.at(id) == ids);
  }
}

}  // namespace passerelle::engine

// log_txn_crash_child: one instance of a consume-transform-produce loop (the lifecycle engine's shape) for the
// transaction crash tests (tests/log/txn_crash_driver.h). Not a test by itself.
//
//   log_txn_crash_child <embedded|kafka> <data_dir|bootstrap> <input> <output> <group> <transactional_id> <mode>
//
// Every transaction: poll up to 3 input records, produce one output per input ("out-" + input value, same key),
// send the inputs' next offsets, commit. Prints "committed <inputs>" after each commit (flushed at once).
//   mode "stall":  after 3 committed transactions, opens a 4th (outputs produced, offsets sent), prints
//                  "open <inputs>" and blocks on stdin: the parent kills it with SIGKILL there.
//   mode "finish": runs until the group's committed offsets reach the input's end, prints "done", exits 0.
// Exit codes: 0 done, 1 a log error (printed on stderr), 2 bad usage.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "broker/log/factory/open_event_log.h"

namespace {

using namespace passerelle;
using namespace passerelle::log;
using namespace std::chrono_literals;

int fail(const std::string& what, const error& e) {
  std::fprintf(stderr, "%s: %s: %s\n", what.c_str(), e.code.c_str(), e.message.c_str());
  return 1;
}

std::vector<topic_partition_offset> next_offsets(const std::vector<record>& recs) {
  std::map<topic_partition, std::int64_t> next;
  for (const auto& r : recs) {
    auto& n = next[topic_partition{r.topic, r.partition}];
    n = std::max(n, r.offset + 1);
  }
  std::vector<topic_partition_offset> out;
  for (const auto& [tp, off] : next) out.push_back(topic_partition_offset{tp.topic, tp.partition, off});
  return out;
}

// True when the group has committed every input record (an input topic without transactions: its log-end offset
// is the offset after its last record).
result<bool> caught_up(event_log& log, const std::string& input, const std::string& group) {
  auto topics = log.list_topics();
  if (!topics) return std::move(topics).err();
  std::vector<topic_partition> tps;
  for (const auto& t : *topics) {
    if (t.name != input) continue;
    for (std::int32_t p = 0; p < t.partitions; ++p) tps.push_back(topic_partition{input, p});
  }
  auto committed = log.committed_offsets(group, tps);
  if (!committed) return std::move(committed).err();
  for (std::size_t i = 0; i < tps.size(); ++i) {
    auto wm = log.get_watermarks(tps[i]);
    if (!wm) return std::move(wm).err();
    if (wm->high > 0 && (*committed)[i].value_or(0) < wm->high) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: log_txn_crash_child <embedded|kafka> <data_dir|bootstrap> <input> <output> <group> "
                 "<transactional_id> <stall|finish>\n");
    return 2;
  }
  const std::string backend = argv[1];
  const std::string input = argv[3];
  const std::string output = argv[4];
  const std::string group = argv[5];
  const std::string mode = argv[7];
  if ((backend != "embedded" && backend != "kafka") || (mode != "stall" && mode != "finish")) return 2;

  log_options options;
  if (backend == "embedded") {
    options.backend = backend_kind::embedded;
    options.embedded.data_dir = argv[2];
  } else {
    options.backend = backend_kind::kafka;
    options.kafka.bootstrap_servers = argv[2];
    options.kafka.request_timeout = 15s;
    // The killed instance stays a group member until its session expires; keep that short (the broker's minimum).
    options.kafka.properties["session.timeout.ms"] = "6000";
  }
  auto opened = open_event_log(options);
  if (!opened) return fail("open", opened.err());
  auto& log = **opened;
  transactional_producer_config config;
  config.transactional_id = argv[6];
  auto producer = log.open_transactional_producer(config);
  if (!producer) return fail("open_transactional_producer", producer.err());
  auto& p = **producer;
  auto subscribed = log.subscribe(consumer_config{group, {input}, offset_reset::earliest, {}});
  if (!subscribed) return fail("subscribe", subscribed.err());
  auto& c = **subscribed;

  int committed = 0;
  for (;;) {
    auto in = c.poll(200ms, 3);
    if (!in) return fail("poll", in.err());
    if (in->empty()) {
      if (mode == "stall") continue;
      auto done = caught_up(log, input, group);
      if (!done) return fail("caught_up", done.err());
      if (*done) break;
      continue;
    }
    if (auto r = p.begin(); !r) return fail("begin", r.err());
    for (const auto& rec : *in) {
      produce_request out;
      out.topic = output;
      out.key = rec.key;
      out.value = "out-" + rec.value;
      p.produce(std::move(out), [](const result<produce_ack>& r) {
        if (!r) std::fprintf(stderr, "output: %s: %s\n", r.err().code.c_str(), r.err().message.c_str());
      });
    }
    if (auto r = p.send_offsets(c, next_offsets(*in)); !r) return fail("send_offsets", r.err());
    if (mode == "stall" && committed == 3) {
      std::printf("open %zu\n", in->size());
      std::fflush(stdout);
      char ignored = 0;
      while (::read(STDIN_FILENO, &ignored, 1) > 0) {
      }
      return 1;  // the parent was to kill us here
    }
    if (auto r = p.commit(60s); !r) return fail("commit", r.err());
    ++committed;
    std::printf("committed %zu\n", in->size());
    std::fflush(stdout);
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}

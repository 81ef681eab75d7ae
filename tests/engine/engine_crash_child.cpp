// engine_crash_child: one lifecycle engine instance as the daemon runs it (materializer + engine on a Kafka log
// and a state store), for tests/engine/engine_kafka_crash_test.cpp, which kills it with SIGKILL mid-stream. Not a
// test by itself.
//
//   engine_crash_child <bootstrap> <topic_prefix> <partitions> <state_dir> <instance_id> <max_batch_records>
//
// Prints "folded N" (input events applied since this process started) and "transactions N" whenever they change,
// and "error <message>" when the engine stops on an error. Runs until killed, or until its stdin closes (then it
// stops the engine cleanly and exits 0).

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "broker/core/clock.h"
#include "broker/engine/lifecycle_engine.h"
#include "broker/engine/materializer.h"
#include "broker/log/kafka/kafka_log.h"
#include "broker/state/state_store.h"
#include "tests/engine/engine_crash_common.h"

using namespace std::chrono_literals;
namespace engine = passerelle::engine;
namespace plog = passerelle::log;

namespace {

int fail(const char* what, const passerelle::error& e) {
  std::printf("error %s: %s: %s\n", what, e.code.c_str(), e.message.c_str());
  std::fflush(stdout);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: engine_crash_child <bootstrap> <topic_prefix> <partitions> <state_dir> <instance_id> "
                 "<max_batch_records>\n");
    return 2;
  }
  const std::string prefix = argv[2];
  const int partitions = std::stoi(argv[3]);

  plog::kafka_options ko;
  ko.bootstrap_servers = argv[1];
  ko.partitions = partitions;
  ko.request_timeout = 15s;
  // The killed instance stays a group member until its session expires: keep that short (the broker's minimum),
  // so the successor is assigned the partitions within seconds.
  ko.properties["session.timeout.ms"] = "6000";
  auto log = plog::open_kafka_log(ko);
  if (!log) return fail("open_kafka_log", log.err());
  auto store = passerelle::state::state_store::open({argv[4]});
  if (!store) return fail("state_store", store.err());
  auto reads = engine::materializer::start(**log, **store, {prefix, partitions, 4096, 50ms});
  if (!reads) return fail("materializer", reads.err());

  engine::engine_options eo;
  eo.topic_prefix = prefix;
  eo.partitions = partitions;
  eo.instance_id = argv[5];
  eo.max_batch_records = static_cast<std::size_t>(std::stoul(argv[6]));
  eo.lifecycle = engine::testing::crash_test_lifecycle();
  eo.poll_timeout = 50ms;
  auto eng = engine::lifecycle_engine::start(**log, **store, passerelle::core::system_clock::instance(), eo);
  if (!eng) return fail("engine", eng.err());

  std::uint64_t folded = 0;
  std::uint64_t transactions = 0;
  for (;;) {
    const auto s = (*eng)->stats();
    if (!s.last_error.empty()) {
      std::printf("error engine: %s\n", s.last_error.c_str());
      std::fflush(stdout);
      return 1;
    }
    if (s.folded != folded || s.transactions != transactions) {
      folded = s.folded;
      transactions = s.transactions;
      std::printf("folded %llu\ntransactions %llu\n", static_cast<unsigned long long>(folded),
                  static_cast<unsigned long long>(transactions));
      std::fflush(stdout);
    }
    // Wait for the parent closing stdin (clean stop) or 20 ms, whichever comes first.
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&pfd, 1, 20) > 0) {
      char c = 0;
      if (::read(STDIN_FILENO, &c, 1) <= 0) break;
    }
  }
  (*eng)->stop();
  (*reads)->stop();
  return 0;
}

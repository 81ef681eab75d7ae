// log_crash_child <data_dir> <topic> <partitions>: produces records to the embedded log as fast as it can and
// prints "<seq> <partition> <offset>" for each acknowledged one, until killed (embedded_test kills it with
// SIGKILL and checks every printed ack survived). Not a test by itself.

#include <cstdio>
#include <cstdlib>
#include <semaphore>
#include <string>

#include "broker/log/embedded/embedded_log.h"
#include "tests/log/crash_records.h"

int main(int argc, char** argv) {
  using namespace passerelle;
  if (argc != 4) {
    std::fprintf(stderr, "usage: log_crash_child <data_dir> <topic> <partitions>\n");
    return 2;
  }
  log::embedded_options options;
  options.data_dir = argv[1];
  options.sync = true;
  const std::string topic = argv[2];
  auto opened = log::open_embedded_log(options);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.err().message.c_str());
    return 1;
  }
  auto& event_log = **opened;
  if (auto r = event_log.create_topics({log::topic_spec{topic, std::atoi(argv[3]), 1, {}}}); !r) {
    std::fprintf(stderr, "create_topics: %s\n", r.err().message.c_str());
    return 1;
  }
  // At most 256 records in flight: this process may block, it is not a server.
  std::counting_semaphore<256> in_flight(256);
  constexpr std::int64_t max_records = 5'000'000;  // bounded even if nobody kills it
  for (std::int64_t seq = 0; seq < max_records; ++seq) {
    in_flight.acquire();
    log::produce_request req;
    req.topic = topic;
    req.key = log::testing::crash_key(seq);
    req.value = log::testing::crash_value(seq);
    req.hdrs = log::testing::crash_headers(seq);
    event_log.produce(std::move(req), [seq, &in_flight](result<log::produce_ack> r) {
      if (r) {
        // Printed only after the record is durable; flushed at once so the parent sees it before any kill.
        std::printf("%lld %d %lld\n", static_cast<long long>(seq), r->partition, static_cast<long long>(r->offset));
        std::fflush(stdout);
      } else {
        std::fprintf(stderr, "produce %lld: %s\n", static_cast<long long>(seq), r.err().message.c_str());
      }
      in_flight.release();
    });
  }
  return 0;
}

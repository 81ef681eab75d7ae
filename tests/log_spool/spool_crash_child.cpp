// spool_crash_child <embedded_dir> <spool_dir> <topic>: a process whose log is "down" (the fault injector over
// the embedded backend), so every record goes to the spool; prints "<k> <n>" for each acknowledged (spooled,
// fsynced) record until killed. spool_test kills it with SIGKILL and checks every printed ack is forwarded after
// a restart. Not a test by itself.

#include <cstdio>
#include <semaphore>
#include <string>

#include "broker/log/embedded/embedded_log.h"
#include "broker/log/spool/spooling_log.h"
#include "tests/log_spool/fault_injecting_log.h"
#include "tests/log_spool/spool_test_support.h"

int main(int argc, char** argv) {
  using namespace passerelle;
  if (argc != 4) {
    std::fprintf(stderr, "usage: spool_crash_child <embedded_dir> <spool_dir> <topic>\n");
    return 2;
  }
  log::embedded_options eo;
  eo.data_dir = argv[1];
  auto real = log::open_embedded_log(eo);
  if (!real) {
    std::fprintf(stderr, "open_embedded_log: %s\n", real.err().message.c_str());
    return 1;
  }
  const std::string topic = argv[3];
  if (auto r = (*real)->create_topics({log::topic_spec{topic, 4, 1, {}}}); !r) {
    std::fprintf(stderr, "create_topics: %s\n", r.err().message.c_str());
    return 1;
  }
  auto faults = std::make_unique<log::testing::fault_injecting_log>(std::move(real).value());
  faults->set_mode(log::testing::fault_injecting_log::mode::down);
  log::spool_options so;
  so.dir = argv[2];
  so.default_partitions = 4;
  auto opened = log::spooling_log::open(std::move(faults), so);
  if (!opened) {
    std::fprintf(stderr, "spooling_log::open: %s\n", opened.err().message.c_str());
    return 1;
  }
  auto& spool = **opened;
  std::counting_semaphore<128> in_flight(128);  // a bounded pipeline: this process is not a server
  constexpr int max_records = 2'000'000;        // bounded even if nobody kills it
  for (int i = 0; i < max_records; ++i) {
    in_flight.acquire();
    const int k = i % 7;
    const int n = i;  // increasing per key too
    spool.produce(log::spool_test::make_request(topic, k, n), [k, n, &in_flight](result<log::produce_ack> r) {
      if (r && r->offset == log::spooled_offset) {
        std::printf("%d %d\n", k, n);  // printed only once fsynced in the spool; flushed before any kill
        std::fflush(stdout);
      } else if (!r) {
        std::fprintf(stderr, "produce %d: %s\n", n, r.err().message.c_str());
      }
      in_flight.release();
    });
  }
  return 0;
}

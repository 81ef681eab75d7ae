// kafka_crash_producer <bootstrap> <topic> <count>: produces records 0..count-1 of crash_record.h and writes
// "ACK <i> <partition> <offset>" on stdout for each one Kafka acknowledged. The crash-durability test kills
// it with SIGKILL mid-stream and checks that every printed ack is in the topic, byte for byte.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/log/kafka/kafka_log.h"
#include "tests/log_kafka/crash_record.h"

int main(int argc, char** argv) {
  using namespace passerelle::log;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <bootstrap> <topic> <count>\n", argv[0]);
    return 2;
  }
  kafka_options o;
  o.bootstrap_servers = argv[1];
  o.delivery_timeout = std::chrono::milliseconds(60'000);
  const std::string topic = argv[2];
  const long count = std::strtol(argv[3], nullptr, 10);
  auto log = open_kafka_log(o);
  if (!log) {
    std::fprintf(stderr, "open_kafka_log: %s\n", log.err().message.c_str());
    return 1;
  }
  for (long i = 0; i < count; ++i) {
    (*log)->produce({topic, kafka_test::crash_key(i), kafka_test::crash_value(i), {}, {}},
                    [i](passerelle::result<produce_ack> r) {
                      // One write(2) per line: lines of a pipe under PIPE_BUF are never torn, and nothing
                      // sits in a stdio buffer when SIGKILL comes.
                      std::string line = r ? "ACK " + std::to_string(i) + " " + std::to_string(r->partition) + " " +
                                                 std::to_string(r->offset) + "\n"
                                           : "ERR " + std::to_string(i) + " " + r.err().code + "\n";
                      (void)!::write(STDOUT_FILENO, line.data(), line.size());
                    });
  }
  auto flushed = (*log)->flush(std::chrono::milliseconds(120'000));
  return flushed ? 0 : 1;
}

// Crash durability: a producer process is killed with SIGKILL while records are in flight; every record it
// was told is acknowledged must be in the topic with exactly its bytes (acks=all + idempotence).

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "tests/log_kafka/crash_record.h"
#include "tests/log_kafka/kafka_test_support.h"

extern char** environ;

namespace passerelle::log {
namespace {

using namespace std::chrono_literals;
using namespace kafka_test;

struct ack_line {
  std::int64_t index = 0;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

TEST_CASE("kafka: every ack printed before a SIGKILL is in the topic with its exact bytes", "[kafka]") {
  auto log = open_live();
  constexpr std::int32_t partitions = 4;
  const std::string topic = create_topic(*log, "crash", partitions);

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  const std::string bs = bootstrap();
  std::string path = PASSERELLE_KAFKA_CRASH_PRODUCER;
  std::string count = "200000";
  char* argv[] = {path.data(), const_cast<char*>(bs.c_str()), const_cast<char*>(topic.c_str()), count.data(), nullptr};
  pid_t child = 0;
  REQUIRE(posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);

  // Read acks until enough have come, then kill the producer mid-stream; whatever it wrote before dying is
  // still in the pipe and counts as acknowledged.
  constexpr std::size_t kill_after = 2000;
  std::string buffer;
  std::size_t lines = 0;
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[65536];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // EOF: the child is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    lines = static_cast<std::size_t>(std::count(buffer.begin(), buffer.end(), '\n'));
    if (!killed && lines >= kill_after) {
      REQUIRE(::kill(child, SIGKILL) == 0);
      killed = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  std::vector<ack_line> acks;
  std::istringstream in(buffer);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a last line without '\n' was cut by the kill: not a complete ack
    std::istringstream ls(line);
    std::string tag;
    ack_line a;
    ls >> tag >> a.index >> a.partition >> a.offset;
    INFO(line);
    REQUIRE(tag == "ACK");  // no produce failed while the broker was up
    acks.push_back(a);
  }
  REQUIRE(acks.size() >= kill_after);

  // Read the whole topic back and check every acknowledged record.
  std::vector<topic_partition_offset> start;
  std::size_t stored = 0;
  for (std::int32_t p = 0; p < partitions; ++p) {
    start.push_back({topic, p, 0});
    auto wm = log->get_watermarks({topic, p});
    REQUIRE(wm.ok());
    stored += static_cast<std::size_t>(wm->high - wm->low);
  }
  REQUIRE(stored >= acks.size());
  const auto records = read_records(*log, start, stored, 120s);
  REQUIRE(records.size() == stored);
  std::map<std::pair<std::int32_t, std::int64_t>, const record*> by_position;
  for (const auto& r : records) by_position[{r.partition, r.offset}] = &r;
  std::size_t missing = 0;
  std::size_t wrong = 0;
  for (const auto& a : acks) {
    auto it = by_position.find({a.partition, a.offset});
    if (it == by_position.end()) {
      ++missing;
      continue;
    }
    if (it->second->key != crash_key(a.index) || it->second->value != crash_value(a.index)) ++wrong;
  }
  CHECK(missing == 0);
  CHECK(wrong == 0);
  // Idempotence: no record was written twice by the producer's retries.
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key);
  CHECK(keys.size() == records.size());
}

}  // namespace
}  // namespace passerelle::log

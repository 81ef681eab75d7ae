#pragma once
// The transaction crash test, backend-neutral: an instance of a consume-transform-produce loop
// (log_txn_crash_child) is killed with SIGKILL in the middle of a transaction; a new instance with the same
// transactional id finishes the work. Every input must then have exactly one output, and the group's committed
// offsets must be at the input's end. Used by tests/log/embedded_test.cpp and tests/log_kafka/.

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "broker/log/event_log.h"

extern char** environ;

namespace passerelle::log::testing {

struct txn_crash_setup {
  std::string child_path;                              // log_txn_crash_child
  std::string backend;                                 // "embedded" or "kafka"
  std::string location;                                // data dir or bootstrap servers
  std::function<std::unique_ptr<event_log>()> open;    // a log on the same store (embedded: only while no child runs)
  std::string input, output, group, transactional_id;  // fresh names
  std::chrono::seconds patience{120};
};

// A child process with its stdout on a pipe and its stdin on another (it blocks reading stdin in "stall" mode).
class spawned_child {
 public:
  spawned_child(const txn_crash_setup& s, const std::string& mode)
      : spawned_child(std::vector<std::string>{s.child_path, s.backend, s.location, s.input, s.output, s.group,
                                               s.transactional_id, mode}) {}

  // Any child program: args[0] is its path.
  explicit spawned_child(std::vector<std::string> args) {
    int out[2];
    int in[2];
    REQUIRE(::pipe(out) == 0);
    REQUIRE(::pipe(in) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    for (int fd : {out[0], out[1], in[0], in[1]}) posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int spawned = ::posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    out_ = out[0];
    in_ = in[1];
    REQUIRE(spawned == 0);
  }
  ~spawned_child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
    ::close(in_);
  }
  spawned_child(const spawned_child&) = delete;
  spawned_child& operator=(const spawned_child&) = delete;

  // Reads lines until one starts with `prefix` (true) or the child closes its stdout / the deadline passes.
  bool read_until(const std::string& prefix, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      for (std::size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
        lines_.push_back(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
        if (lines_.back().starts_with(prefix)) return true;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return false;
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Sum of N over the lines "<word> N" seen so far.
  int sum(const std::string& word) const {
    int total = 0;
    for (const auto& l : lines_) {
      std::istringstream fields(l);
      std::string w;
      int n = 0;
      if (fields >> w >> n && w == word) total += n;
    }
    return total;
  }

  // N of the last line "<word> N" seen so far (progress counters a child prints), or -1.
  long long last(const std::string& word) const {
    long long found = -1;
    for (const auto& l : lines_) {
      std::istringstream fields(l);
      std::string w;
      long long n = 0;
      if (fields >> w >> n && w == word) found = n;
    }
    return found;
  }

  void kill_hard() {
    REQUIRE(::kill(pid_, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    CHECK(WIFSIGNALED(status));
  }

  int wait_exit(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // Not exited yet: wait for output or end of file (bounded), never a bare sleep.
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, 200) > 0) {
        char buf[4096];
        const ssize_t n = ::read(out_, buf, sizeof buf);
        if (n > 0) buffer_.append(buf, static_cast<std::size_t>(n));
        if (n == 0) {
          // stdout closed: the exit follows at once; waitpid without WNOHANG is now bounded.
          if (::waitpid(pid_, &status, 0) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          }
        }
      }
    }
    return -1;
  }

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  std::string buffer_;
  std::vector<std::string> lines_;
};

inline void run_txn_crash_test(const txn_crash_setup& s) {
  constexpr int inputs = 30;
  {
    auto log = s.open();
    REQUIRE(log->create_topics({topic_spec{s.input, 2, 1, {}}, topic_spec{s.output, 2, 1, {}}}).ok());
    std::map<int, std::optional<result<produce_ack>>> acks;
    std::mutex mu;
    std::condition_variable cv;
    for (int i = 0; i < inputs; ++i) {
      produce_request r;
      r.topic = s.input;
      r.key = "subject-" + std::to_string(i % 7);
      r.value = std::to_string(i);
      log->produce(std::move(r), [&, i](result<produce_ack> a) {
        std::lock_guard lk(mu);
        acks[i].emplace(std::move(a));
        cv.notify_all();
      });
    }
    std::unique_lock lk(mu);
    REQUIRE(cv.wait_for(lk, s.patience, [&] { return acks.size() == inputs; }));
    for (auto& [i, a] : acks) REQUIRE(a->ok());
  }  // closed: the embedded store admits one process at a time

  const auto deadline = std::chrono::steady_clock::now() + s.patience;
  int committed_before_crash = 0;
  {
    spawned_child stalled(s, "stall");
    INFO("child lines so far: " << stalled.lines().size());
    REQUIRE(stalled.read_until("open", deadline));
    committed_before_crash = stalled.sum("committed");
    CHECK(committed_before_crash > 0);
    CHECK(stalled.sum("open") > 0);
    stalled.kill_hard();  // SIGKILL with a transaction open: outputs produced, offsets sent, nothing committed
  }
  int committed_after = 0;
  {
    spawned_child successor(s, "finish");
    REQUIRE(successor.read_until("done", deadline));
    committed_after = successor.sum("committed");
    CHECK(successor.wait_exit(deadline) == 0);
  }
  // Exactly the inputs not committed before the crash were processed again, nothing more.
  CHECK(committed_before_crash + committed_after == inputs);

  auto log = s.open();
  std::map<std::string, int> outputs;
  std::size_t total = 0;
  {
    auto c = log->subscribe(consumer_config{s.group + ".check", {s.output}, offset_reset::earliest, {}});
    REQUIRE(c.ok());
    // Read until every output came, then once more briefly: a duplicate would show up there.
    for (bool extra = false;;) {
      auto recs = (*c)->poll(extra ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(200), 1000);
      REQUIRE(recs.ok());
      for (const auto& r : *recs) {
        outputs[r.value] += 1;
        ++total;
      }
      if (extra) break;
      if (total >= static_cast<std::size_t>(inputs)) extra = true;
      if (std::chrono::steady_clock::now() > deadline) break;
    }
  }  // the consumer goes before the log
  CHECK(total == static_cast<std::size_t>(inputs));
  for (int i = 0; i < inputs; ++i) CHECK(outputs["out-" + std::to_string(i)] == 1);
  auto committed = log->committed_offsets(s.group, {topic_partition{s.input, 0}, topic_partition{s.input, 1}});
  REQUIRE(committed.ok());
  for (std::int32_t p = 0; p < 2; ++p) {
    auto wm = log->get_watermarks(topic_partition{s.input, p});
    REQUIRE(wm.ok());
    if (wm->high > 0) CHECK((*committed)[static_cast<std::size_t>(p)] == std::optional<std::int64_t>(wm->high));
  }
}

}  // namespace passerelle::log::testing

#pragma once
// A fault-injecting event_log decorator for the spool tests: it wraps a REAL backend (the embedded log) and,
// on command, behaves like a Kafka cluster that went away:
//   - down:    produce() fails at once with retry/"unavailable"; check_ready() fails with retry/"unavailable".
//   - holding: produce() keeps the record without completing it (as librdkafka does while no broker answers);
//              check_ready() fails. release_deliver() then hands every held record to the real backend (the
//              broker came back in time); release_fail() fails them with retry/"timed_out" (delivery timeout).
//   - flaky:   check_ready() answers (through the real backend) but produce() fails with retry/"unavailable":
//              a broker that accepts connections and then fails requests, so forwarding fails after a probe.
//   - up:      everything passes through to the real backend.
// Lifecycle: owned by the spooling_log under test (as its inner log); the test keeps a raw pointer to drive it.
// Threads: any; the fault state is behind a mutex, completions of held records run on the releasing thread.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "broker/log/event_log.h"

namespace passerelle::log::testing {

class fault_injecting_log final : public event_log {
 public:
  enum class mode { up, down, holding, flaky };

  explicit fault_injecting_log(std::unique_ptr<event_log> real) : real_(std::move(real)) {}
  ~fault_injecting_log() override {
    // Held records still get their one completion, like a backend that is shutting down.
    std::deque<held> left;
    {
      std::lock_guard lock(mu_);
      left.swap(held_);
    }
    for (auto& h : left) h.done(error::retry("shutting_down", "fault injector destroyed with the record held"));
  }

  void set_mode(mode m) {
    std::lock_guard lock(mu_);
    mode_ = m;
  }

  // Hands the held records to the real backend, in the order they came.
  void release_deliver() {
    std::deque<held> taken;
    {
      std::lock_guard lock(mu_);
      taken.swap(held_);
    }
    for (auto& h : taken) real_->produce(std::move(h.request), std::move(h.done));
  }

  // Fails the held records as a delivery timeout would.
  void release_fail() {
    std::deque<held> taken;
    {
      std::lock_guard lock(mu_);
      taken.swap(held_);
    }
    for (auto& h : taken) h.done(error::retry("timed_out", "injected delivery timeout"));
  }

  std::size_t held_count() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  std::size_t produce_calls() const { return produce_calls_.load(); }

  backend_kind kind() const noexcept override { return real_->kind(); }

  void produce(produce_request request, produce_callback done) override {
    produce_calls_.fetch_add(1);
    std::unique_lock lock(mu_);
    switch (mode_) {
      case mode::down:
      case mode::flaky:
        lock.unlock();
        done(error::retry("unavailable", "injected: broker unreachable"));
        return;
      case mode::holding: held_.push_back({std::move(request), std::move(done)}); return;
      case mode::up: break;
    }
    lock.unlock();
    real_->produce(std::move(request), std::move(done));
  }

  result<void> check_ready(std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(mu_);
      if (mode_ == mode::down || mode_ == mode::holding)
        return error::retry("unavailable", "injected: broker unreachable");
    }
    return real_->check_ready(timeout);
  }

  result<std::unique_ptr<consumer>> subscribe(consumer_config config) override {
    return real_->subscribe(std::move(config));
  }
  result<std::unique_ptr<consumer>> open_reader(std::vector<topic_partition_offset> start) override {
    return real_->open_reader(std::move(start));
  }
  result<void> create_topics(const std::vector<topic_spec>& topics) override { return real_->create_topics(topics); }
  result<std::vector<topic_metadata>> list_topics() override { return real_->list_topics(); }
  result<watermarks> get_watermarks(const topic_partition& tp) override { return real_->get_watermarks(tp); }
  result<std::int64_t> offset_for_time(const topic_partition& tp, std::int64_t ts) override {
    return real_->offset_for_time(tp, ts);
  }
  result<std::vector<std::optional<std::int64_t>>> committed_offsets(
      const std::string& group, const std::vector<topic_partition>& partitions) override {
    return real_->committed_offsets(group, partitions);
  }
  result<void> flush(std::chrono::milliseconds timeout) override { return real_->flush(timeout); }

 private:
  struct held {
    produce_request request;
    produce_callback done;
  };
  std::unique_ptr<event_log> real_;
  mutable std::mutex mu_;
  mode mode_ = mode::up;
  std::deque<held> held_;
  std::atomic<std::size_t> produce_calls_{0};
};

}  // namespace passerelle::log::testing

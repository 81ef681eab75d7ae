#pragma once
// Helpers of the spool tests: records that say who they are (key "subject-<k>", header event-id "<k>-<n>",
// where n counts the records of key k in produce order), an ack book that waits on a condition with a deadline,
// and a checker that reads a whole topic back and verifies "every acknowledged record exactly once, in per-key
// produce order". Shared by the broker-free tests and the real-Kafka test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "broker/log/event_log.h"

namespace passerelle::log::spool_test {

using namespace std::chrono_literals;

inline std::string event_id(int k, int n) { return std::to_string(k) + "-" + std::to_string(n); }

inline produce_request make_request(const std::string& topic, int k, int n) {
  produce_request r;
  r.topic = topic;
  r.key = "subject-" + std::to_string(k);
  r.value = "value of " + event_id(k, n) + std::string(1, '\0') + std::string(static_cast<std::size_t>(n % 50), 'x');
  r.hdrs = {header{"event-id", event_id(k, n)}, header{"content-type", "application/x-protobuf"}};
  return r;
}

inline std::string header_value(const record& r, const std::string& key) {
  for (const auto& h : r.hdrs) {
    if (h.key == key) return h.value;
  }
  return {};
}

// Completions by event id. Thread-safe; wait_for() waits on a condition with a deadline.
class ack_book {
 public:
  produce_callback slot(const std::string& id) {
    return [this, id](result<produce_ack> r) {
      std::lock_guard lock(mu_);
      ++calls_[id];
      results_.insert_or_assign(id, std::move(r));
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return results_.size() >= n; });
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return results_.size();
  }
  std::map<std::string, result<produce_ack>> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  // Every id completed exactly once?
  bool each_once() const {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : calls_) {
      if (c != 1) return false;
    }
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, result<produce_ack>> results_;
  std::map<std::string, int> calls_;
};

// Reads every record of `topic` (all `partitions`, from offset 0 to the high watermark seen at the start).
inline std::vector<record> read_topic(event_log& log, const std::string& topic, std::int32_t partitions,
                                      std::chrono::milliseconds deadline = 60s) {
  std::vector<topic_partition_offset> start;
  std::int64_t want = 0;
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto wm = log.get_watermarks({topic, p});
    if (!wm) FAIL("get_watermarks " << topic << "/" << p << ": " << wm.err().message);
    want += wm->high - wm->low;
    start.push_back({topic, p, wm->low});
  }
  auto reader = log.open_reader(start);
  if (!reader) FAIL("open_reader: " << reader.err().message);
  std::vector<record> out;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (static_cast<std::int64_t>(out.size()) < want && std::chrono::steady_clock::now() < end) {
    auto batch = (*reader)->poll(200ms, 5000);
    if (!batch) FAIL("poll: " << batch.err().message);
    for (auto& r : *batch) out.push_back(std::move(r));
  }
  if (static_cast<std::int64_t>(out.size()) < want) FAIL("read only " << out.size() << " of " << want << " records");
  return out;
}

// Waits until `done()` holds, with a deadline, re-checking every 20 ms: for state only observable through
// status() (there is no event to wait on from outside). Never a fixed sleep.
template <typename F>
bool eventually(F done, std::chrono::milliseconds deadline) {
  std::mutex mu;
  std::condition_variable never_signalled;
  std::unique_lock lock(mu);
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    never_signalled.wait_for(lock, 20ms);
  }
  return true;
}

struct topic_check {
  std::size_t records = 0;
  std::size_t duplicates = 0;             // records whose event id appeared before
  std::vector<std::string> missing;       // acknowledged ids not in the topic
  std::vector<std::string> out_of_order;  // "<key>: n after m"
};

// Checks the topic against the acknowledged ids. Order: for each key, the first occurrences of n must increase
// (a duplicate re-appearing later is counted as a duplicate, not as an order violation).
inline topic_check check_topic(const std::vector<record>& records, const std::set<std::string>& acked) {
  topic_check c;
  c.records = records.size();
  std::set<std::string> seen;
  std::map<std::string, int> last_n;  // by key
  std::vector<const record*> ordered;
  ordered.reserve(records.size());
  for (const auto& r : records) ordered.push_back(&r);
  // Per partition, offsets are log order; keys never span partitions, so per-key order is offset order.
  std::sort(ordered.begin(), ordered.end(), [](const record* a, const record* b) {
    return std::tie(a->partition, a->offset) < std::tie(b->partition, b->offset);
  });
  for (const record* r : ordered) {
    const std::string id = header_value(*r, "event-id");
    if (!seen.insert(id).second) {
      ++c.duplicates;
      continue;
    }
    const int n = std::stoi(id.substr(id.find('-') + 1));
    auto it = last_n.find(r->key);
    if (it != last_n.end() && n <= it->second) {
      c.out_of_order.push_back(r->key + ": " + std::to_string(n) + " after " + std::to_string(it->second));
    }
    last_n[r->key] = n;
  }
  for (const auto& id : acked) {
    if (!seen.contains(id)) c.missing.push_back(id);
  }
  return c;
}

}  // namespace passerelle::log::spool_test

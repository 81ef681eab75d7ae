// The backend-neutral event_log conformance suite (tests/log/conformance_cases.h) on a real Kafka broker
// (PASSERELLE_KAFKA_BOOTSTRAP). Every case gets fresh topic and group names, so runs share one broker safely.

#include <catch2/catch.hpp>

#include "broker/log/kafka/kafka_log.h"
#include "tests/log/conformance_cases.h"
#include "tests/log_kafka/kafka_test_support.h"

namespace passerelle::log {
namespace {

struct kafka_fixture : conformance::log_fixture {
  static kafka_options options() {
    kafka_options o = kafka_test::live_options();
    // Unknown topics must surface within the suite's patience (and within the shutdown flush bound).
    o.properties["topic.metadata.propagation.max.ms"] = "2000";
    return o;
  }
  std::unique_ptr<event_log> open() override { return kafka_test::open_live(options()); }
  std::unique_ptr<event_log> open_with_queue_bound(std::size_t max_queued_records) override {
    kafka_options o = options();
    o.max_queued_records = max_queued_records;
    return kafka_test::open_live(o);
  }
  // Group joins and rebalances on a real broker take seconds; this bounds each wait, it is not an expectation.
  std::chrono::milliseconds patience() const override { return std::chrono::seconds(60); }
};

// The same backend with the cooperative (incremental) rebalance protocol, for the cases where it differs.
struct kafka_cooperative_fixture : kafka_fixture {
  std::unique_ptr<event_log> open() override {
    kafka_options o = options();
    o.properties["partition.assignment.strategy"] = "cooperative-sticky";
    return kafka_test::open_live(o);
  }
};

}  // namespace

PASSERELLE_LOG_CONFORMANCE_CASES(kafka_fixture, "kafka", "[kafka][conformance]")

TEST_CASE_METHOD(kafka_cooperative_fixture, "kafka cooperative-sticky conformance: two members split the partitions",
                 "[kafka][conformance]") {
  conformance::two_members_split_partitions(*this);
}

TEST_CASE_METHOD(kafka_cooperative_fixture, "kafka cooperative-sticky conformance: resume after commit",
                 "[kafka][conformance]") {
  conformance::resume_after_commit(*this);
}

}  // namespace passerelle::log

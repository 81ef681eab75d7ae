// Exactly once across a crash on a real broker: a consume-transform-produce instance is killed with SIGKILL
// mid-transaction; its successor (same transactional id) fences it, aborts its transaction and finishes the work.

#include <catch2/catch.hpp>

#include "tests/log/txn_crash_driver.h"
#include "tests/log_kafka/kafka_test_support.h"

namespace passerelle::log {

TEST_CASE("kafka: kill -9 mid-transaction, then a successor with the same transactional id: exactly once",
          "[kafka][transactions]") {
  testing::txn_crash_setup s;
  s.child_path = LOG_TXN_CRASH_CHILD_PATH;
  s.backend = "kafka";
  s.location = kafka_test::bootstrap();
  s.open = [] { return kafka_test::open_live(); };
  s.input = kafka_test::unique_name("txn.input");
  s.output = kafka_test::unique_name("txn.output");
  s.group = kafka_test::unique_name("txn.group");
  s.transactional_id = kafka_test::unique_name("txn.engine");
  testing::run_txn_crash_test(s);
}

}  // namespace passerelle::log

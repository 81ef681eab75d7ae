#include "broker/core/murmur2.h"

#include <catch2/catch.hpp>

#include <string>

using passerelle::core::kafka_murmur2;
using passerelle::core::kafka_partition_for_key;

// Vectors from Apache Kafka's UtilsTest.testMurmur2: the Java client must agree with us byte for byte.
TEST_CASE("murmur2 matches the Java Kafka client", "[core][partitioner]") {
  CHECK(kafka_murmur2("21") == -973932308);
  CHECK(kafka_murmur2("foobar") == -790332482);
  CHECK(kafka_murmur2("a-little-bit-long-string") == -985981536);
  CHECK(kafka_murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(kafka_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(kafka_murmur2(std::string{"abc"}) == 479470107);
}

TEST_CASE("partition is toPositive(murmur2) modulo count", "[core][partitioner]") {
  // toPositive clears the sign bit: -973932308 & 0x7fffffff = 1173551340.
  CHECK(kafka_partition_for_key("21", 12) == 1173551340 % 12);
  for (int n = 1; n <= 64; ++n) {
    const auto p = kafka_partition_for_key("basket-42", n);
    CHECK(p >= 0);
    CHECK(p < n);
  }
}

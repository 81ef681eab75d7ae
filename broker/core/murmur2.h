#pragma once
// The Java Kafka client's default partitioner (murmur2 of the key bytes, seed 0x9747b28c, masked positive,
// modulo the partition count), which librdkafka calls `murmur2_random` (keyless records go to a random partition).
// The embedded backend partitions with this so a key lands on the same partition number as on Kafka.

#include <cstdint>
#include <string_view>

namespace passerelle::core {

// Kafka's murmur2 hash of `key` (org.apache.kafka.common.utils.Utils.murmur2).
std::int32_t kafka_murmur2(std::string_view key) noexcept;

// Partition for a non-empty key among `partition_count` (> 0) partitions, as the Java client computes it.
std::int32_t kafka_partition_for_key(std::string_view key, std::int32_t partition_count) noexcept;

}  // namespace passerelle::core

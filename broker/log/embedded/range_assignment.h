#pragma once
// Range assignment of a consumer group's partitions among its members, the rule Kafka's RangeAssignor uses:
// per topic, the subscribed members in a fixed order (here: join order) each take a contiguous run of
// partitions, the first (partitions % members) taking one more. Deterministic: the same members and topics always
// give the same assignment, so every member computes its share alone, without a leader.
//
// Thread-safety: a pure function over values.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/log/event_log.h"

namespace passerelle::log::embedded {

struct member_subscription {
  std::uint64_t member_id = 0;  // smaller = joined earlier
  std::vector<std::string> topics;
};

// Every member appears in the result (possibly with no partitions). Topics missing from `partition_counts` get
// no partitions. Each member's partitions are sorted.
std::map<std::uint64_t, std::vector<topic_partition>> range_assign(
    const std::vector<member_subscription>& members, const std::map<std::string, std::int32_t>& partition_counts);

}  // namespace passerelle::log::embedded

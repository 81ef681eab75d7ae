#include "broker/log/embedded/range_assignment.h"

#include <algorithm>
#include <set>

namespace passerelle::log::embedded {

std::map<std::uint64_t, std::vector<topic_partition>> range_assign(
    const std::vector<member_subscription>& members, const std::map<std::string, std::int32_t>& partition_counts) {
  std::map<std::uint64_t, std::vector<topic_partition>> out;
  std::map<std::string, std::set<std::uint64_t>> subscribers;  // ordered: topic name, then join order
  for (const auto& m : members) {
    out[m.member_id];
    for (const auto& t : m.topics) subscribers[t].insert(m.member_id);
  }
  for (const auto& [topic, ids] : subscribers) {
    const auto it = partition_counts.find(topic);
    if (it == partition_counts.end() || ids.empty()) continue;
    const auto n = static_cast<std::size_t>(it->second);
    const std::size_t per_member = n / ids.size();
    const std::size_t extra = n % ids.size();
    std::size_t next = 0;
    std::size_t index = 0;
    for (const auto id : ids) {
      const std::size_t count = per_member + (index < extra ? 1 : 0);
      for (std::size_t p = next; p < next + count; ++p) {
        out[id].push_back(topic_partition{topic, static_cast<std::int32_t>(p)});
      }
      next += count;
      ++index;
    }
  }
  for (auto& [id, tps] : out) std::sort(tps.begin(), tps.end());
  return out;
}

}  // namespace passerelle::log::embedded

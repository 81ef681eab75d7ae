#include "broker/engine/engine_topics.h"

namespace passerelle::engine {

std::vector<std::string> input_topics(std::string_view prefix) {
  return {log::topics::full_name(prefix, log::topics::basket_events),
          log::topics::full_name(prefix, log::topics::wishlist_events),
          log::topics::full_name(prefix, log::topics::quote_events),
          log::topics::full_name(prefix, log::topics::demo_events)};
}

std::string topic_for_kind(std::string_view prefix, v1::SubjectKind kind) {
  switch (kind) {
    case v1::SUBJECT_KIND_BASKET: return log::topics::full_name(prefix, log::topics::basket_events);
    case v1::SUBJECT_KIND_WISHLIST: return log::topics::full_name(prefix, log::topics::wishlist_events);
    case v1::SUBJECT_KIND_QUOTE: return log::topics::full_name(prefix, log::topics::quote_events);
    case v1::SUBJECT_KIND_DEMO_REQUEST: return log::topics::full_name(prefix, log::topics::demo_events);
    default: return {};
  }
}

std::vector<log::topic_spec> engine_topic_specs(std::string_view prefix, std::int32_t partitions,
                                                std::int16_t replication_factor) {
  return {
      {log::topics::full_name(prefix, state_changelog_topic),
       partitions,
       replication_factor,
       {{"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "60000"}}},
      {log::topics::full_name(prefix, history_topic),
       partitions,
       replication_factor,
       {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}}},
  };
}

}  // namespace passerelle::engine

#pragma once
// Topics the lifecycle engine adds to the contract's (after the configured prefix; docs/lifecycle.md):
//   lifecycle.state    changelog of subject states: key subject id, value lifecycle::encode(state, full).
//                      cleanup.policy=compact: only the latest state per subject is kept, so a rebuild reads one
//                      record per subject, never the whole history.
//   lifecycle.history  what happened to each subject, in order: the input events the engine applied and the events
//                      it derived (line changes from snapshots, timer firings, rejected transitions). Key subject id,
//                      value a serialized passerelle.v1.Event. retention.ms=-1: a subject's whole life by default.
// Both have the input topics' partition count, so a subject's input, state and history share a partition number:
// the engine instance that owns a subject's input partition owns its state partition too.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/log/event_log.h"
#include "broker/log/topics.h"
#include "passerelle/v1/common.pb.h"

namespace passerelle::engine {

inline constexpr std::string_view state_changelog_topic = "lifecycle.state";
inline constexpr std::string_view history_topic = "lifecycle.history";

// The input topics the engine folds (subject kinds with a lifecycle), after the prefix.
std::vector<std::string> input_topics(std::string_view prefix);

// The event topic of a subject kind ("basket.events", ...), after the prefix; empty for kinds without one.
std::string topic_for_kind(std::string_view prefix, v1::SubjectKind kind);

// Specs of the engine's own topics, to create at start beside the contract's.
std::vector<log::topic_spec> engine_topic_specs(std::string_view prefix, std::int32_t partitions,
                                                std::int16_t replication_factor);

}  // namespace passerelle::engine

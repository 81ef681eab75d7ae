#pragma once
// How the lifecycle engine lays its state out in the state store (broker/state/state_store.h), and how changelog
// and history records become store mutations. Every instance keeps the same layout, fed by the same topics, so
// any instance answers any read.
//
//   "s/" + subject id                         -> lifecycle::encode(state, full)
//   "r/" + reference                          -> subject id       (every reference attached to the subject)
//   "c/" + customer ref key + "\n" + subject  -> ""               (subjects of a customer reference)
//   "i/" + customer id + "\n" + ref key       -> ""               (the references behind a customer id)
//   "k/" + handoff code SHA-256 (hex)         -> basket id        (handoff lookups; the code itself is never stored)
//   "h/" + subject id + "\n" + offset (8B BE) -> serialized v1::Event (history, in log order)
//
// References only accumulate (a link adds, nothing detaches), so a state record puts its subject's references and
// never deletes one; a put that is already there costs a rewrite of a few bytes.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <functional>

#include "broker/core/result.h"
#include "broker/lifecycle/lifecycle_config.h"
#include "broker/lifecycle/subject_state.h"
#include "broker/lifecycle/timers.h"
#include "broker/log/event_log.h"
#include "broker/state/state_store.h"

namespace passerelle::engine {

std::string state_key(std::string_view subject_id);
std::string reference_key(std::string_view reference);
// Prefix of the "c/" keys of one customer reference (lifecycle::ref_key form), for a scan.
std::string customer_prefix(std::string_view customer_ref_key);
// Prefix of the "i/" keys of one customer id ("cus_..."), for a scan.
std::string customer_id_prefix(std::string_view customer_id);
std::string handoff_code_key(std::string_view code_sha256_hex);
std::string history_prefix(std::string_view subject_id);
std::string history_key(std::string_view subject_id, std::int64_t offset);
// The log offset at the end of a history key (for cursors).
std::int64_t history_offset(std::string_view key);

// The mutations for one state (its value, its reference and customer index entries).
std::vector<state::mutation> state_mutations(const std::string& subject_id, const lifecycle::subject_state& state,
                                             std::string encoded);

// Changelog decoders for state::restore_changelog and the read model. Errors: reject/... when the record cannot be
// decoded (a corrupt changelog: the restore stops rather than serve wrong state).
result<std::vector<state::mutation>> state_record_mutations(const log::record& r);
result<std::vector<state::mutation>> history_record_mutations(const log::record& r);

// The timers of every state in the store for which `owns(state)` holds: what an engine instance rebuilds after a
// restore (docs/lifecycle.md "Runner"). Reads the "s/" keys in pages. Errors: the store's, and a state that does
// not decode (reject/... from lifecycle::decode).
result<lifecycle::timer_index> rebuild_timers(const state::state_store& store,
                                              const std::function<bool(const lifecycle::subject_state&)>& owns,
                                              const lifecycle::lifecycle_config& config);

}  // namespace passerelle::engine

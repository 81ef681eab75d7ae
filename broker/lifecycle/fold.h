#pragma once
// fold(): the lifecycle engine's pure, deterministic step. Given a subject's state, one event of that subject and
// the runner's current time, it applies the event through the subject kind's state machine and returns what
// happened: the transition applied, or why the event was not applied (duplicate, stale, rejected, ...), and the
// DERIVED events the runner must append to the subject's topic (snapshot diffs as line events, TransitionRejected
// records, BasketCreated for a first snapshot).
//
// Determinism: the same state and event give the same outcome, derived event ids included (derived_ids.h), so a
// runner that re-processes input after a crash emits identical records. `now_ms` is only used when the event has
// neither occurred_at nor received_at.
//
// Idempotency and ordering rules: docs/lifecycle.md. In short: an event id already in the subject's dedup window
// is a duplicate; a snapshot whose source_version is not newer than the last snapshot of its source is stale;
// lines are last-writer-wins per line id by source_version, so line events and snapshots of one source commute;
// content older than a terminal transition of its source is applied late instead of rejected.
//
// Events whose source is {connector "passerelle", account "lifecycle"} are this function's own outputs coming back
// from the log: they are reported as `echo` and change nothing.
//
// Threading: pure function; the caller owns `state` and must not fold one subject on two threads at once.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/lifecycle/lifecycle_config.h"
#include "broker/lifecycle/subject_state.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::lifecycle {

enum class fold_status : std::uint8_t {
  applied,    // the event changed the state (or was a legal no-op transition); derived events may follow
  duplicate,  // event id already folded: nothing changed, nothing to emit
  stale,      // older than what its source already gave: counted, not applied, nothing emitted
  rejected,   // not a legal transition (or over a bound): state unchanged, a TransitionRejected is in `derived`
  echo,       // one of the engine's own derived events read back from the log: nothing changed
  ignored,    // not a lifecycle subject (interest, customer) or an unknown payload from a newer producer
  invalid,    // malformed for this subject (no event id, kind/id mismatch, payload of another kind): report/DLQ it
  obsolete,   // fire_timer() only: the timer no longer applies (state moved on, or not yet due)
};

std::string_view to_string(fold_status status) noexcept;

// A state change: lowercase state names (status_name()).
struct transition {
  std::string from;
  std::string to;
  bool operator==(const transition&) const = default;
};

struct fold_outcome {
  fold_status status = fold_status::applied;
  // Stable machine-readable reason for anything but `applied` ("illegal_transition", "stale_snapshot",
  // "stale_line", "limit_lines", "handoff_unknown", ...), and a human message.
  std::string reason_code;
  std::string reason;
  std::optional<transition> state_change;  // set when the status changed
  bool late = false;                       // content applied after a terminal transition (older than it)
  // Events to append to the subject's topic, in order, with deterministic ids.
  std::vector<v1::Event> derived;
  // References newly attached to the subject (for the runner's reference index) and customer references newly
  // attached (for the customer directory). Only on `applied` / `stale`.
  std::vector<std::string> references_attached;
  std::vector<customer_ref> customers_attached;
};

// Folds `event` into `state` (modified in place: on anything but applied/stale only its bookkeeping counters and
// dedup window may change). A default-constructed state is a subject not seen yet: the event's kind and id define
// it. Never throws on bad input: bad input is `invalid`.
fold_outcome fold(subject_state& state, const v1::Event& event, std::int64_t now_ms, const lifecycle_config& config);

// Full protobuf name of the event's payload ("passerelle.v1.BasketLineAdded"), or "" when none is set.
std::string payload_type_name(const v1::Event& event);

// Milliseconds since the Unix epoch of a protobuf timestamp (0 when unset).
std::int64_t to_ms(const google::protobuf::Timestamp& ts) noexcept;
void set_ms(google::protobuf::Timestamp* ts, std::int64_t ms);

namespace detail {
// Applies `event` without the echo check (timers fold their own synthesized events through this).
fold_outcome fold_trusted(subject_state& state, const v1::Event& event, std::int64_t now_ms,
                          const lifecycle_config& config);
// Natural order of line ids: all-digit ids by numeric value ("2" < "10"), otherwise bytewise.
bool line_id_less(std::string_view a, std::string_view b) noexcept;
}  // namespace detail

}  // namespace passerelle::lifecycle

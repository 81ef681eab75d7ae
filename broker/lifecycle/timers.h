#pragma once
// Lifecycle timers: per-subject deadlines computed from the folded state (abandon after inactivity, abandoned
// retention, handoff expiry, quote validity), an index ordered by deadline that the runner asks "what is due at
// time T", and fire_timer() that turns a due timer into an engine event folded like any other.
//
// Deadlines are a pure function of the state (deadlines()): after each fold the runner calls
// timer_index::update(subject, deadlines(state, config)); nothing else schedules timers. A fired timer's event has
// a deterministic id (derived_ids.h), so re-firing after a crash either finds the timer obsolete (the state moved
// on) or the event id already folded: the history shows one event.
//
// Threading: deadlines()/fire_timer() are pure; a timer_index is owned by one runner thread (its partitions') and
// is not synchronised.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "broker/lifecycle/fold.h"
#include "broker/lifecycle/lifecycle_config.h"
#include "broker/lifecycle/subject_state.h"

namespace passerelle::lifecycle {

enum class timer_kind : std::uint8_t {
  basket_abandon,  // active basket untouched for abandon_after -> BasketAbandoned{reason "inactivity"}
  basket_expire,   // abandoned basket past abandoned_retention -> BasketExpired{reason "retention"}
  handoff_expiry,  // pending handoff past expires_at -> BasketHandoffExpired
  quote_expiry,    // issued/revised quote past valid_until -> QuoteExpired
};

std::string_view to_string(timer_kind kind) noexcept;

struct timer {
  timer_kind kind = timer_kind::basket_abandon;
  std::int64_t due_ms = 0;
  std::string handoff_id;  // handoff_expiry only
  bool operator==(const timer&) const = default;
};

// The timers the subject needs now (empty for terminal subjects and kinds without timers).
std::vector<timer> deadlines(const subject_state& state, const lifecycle_config& config);

// Fires `t` at `now_ms`: when `t` is still one of deadlines(state) and due, folds the engine event it stands for
// and returns the outcome with that event first in `derived` (append it to the subject's topic). Otherwise the
// outcome is `obsolete` and nothing changes.
fold_outcome fire_timer(subject_state& state, const timer& t, std::int64_t now_ms, const lifecycle_config& config);

// Deadline-ordered index of every subject's timers. Memory: one map node and one set node per timer (about
// 2 x (64 + id length) bytes).
class timer_index {
 public:
  struct due_timer {
    std::string subject_id;
    timer t;
  };

  // Replaces the subject's timers (an empty list removes the subject).
  void update(const std::string& subject_id, std::vector<timer> timers);
  void erase(const std::string& subject_id) { update(subject_id, {}); }
  // Timers with due_ms <= now_ms, earliest first, at most `max` of them. They stay in the index until the runner
  // folds them and calls update() with the subject's new deadlines.
  std::vector<due_timer> due(std::int64_t now_ms, std::size_t max) const;
  // The earliest deadline, to know when to wake up.
  std::optional<std::int64_t> next_due() const;
  std::size_t size() const noexcept { return by_due_.size(); }
  std::size_t subjects() const noexcept { return by_subject_.size(); }

 private:
  std::map<std::string, std::vector<timer>, std::less<>> by_subject_;
  std::set<std::tuple<std::int64_t, std::string, std::uint8_t, std::string>> by_due_;
};

}  // namespace passerelle::lifecycle

#include "broker/lifecycle/timers.h"

#include <algorithm>

#include "broker/lifecycle/derived_ids.h"

namespace passerelle::lifecycle {

std::string_view to_string(timer_kind kind) noexcept {
  switch (kind) {
    case timer_kind::basket_abandon: return "basket_abandon";
    case timer_kind::basket_expire: return "basket_expire";
    case timer_kind::handoff_expiry: return "handoff_expiry";
    case timer_kind::quote_expiry: return "quote_expiry";
  }
  return "unknown";
}

std::vector<timer> deadlines(const subject_state& state, const lifecycle_config& config) {
  std::vector<timer> out;
  const subject_common& c = state.common;
  const std::int64_t last = c.last_activity_ms != 0 ? c.last_activity_ms : c.created_at_ms;
  if (const auto* b = std::get_if<basket_data>(&state.data)) {
    switch (b->status) {
      case v1::BASKET_STATE_ACTIVE:
        if (config.abandon_after_ms > 0)
          out.push_back(timer{timer_kind::basket_abandon, last + config.abandon_after_ms, {}});
        break;
      case v1::BASKET_STATE_ABANDONED:
        if (config.abandoned_retention_ms > 0) {
          const std::int64_t base = std::max(last, b->abandoned_at_ms);
          out.push_back(
              timer{timer_kind::basket_expire, base + config.abandon_after_ms + config.abandoned_retention_ms, {}});
        }
        break;
      case v1::BASKET_STATE_HANDED_OFF:
        for (const auto& h : b->handoffs) {
          if (h.status == handoff_status::pending) {
            out.push_back(timer{timer_kind::handoff_expiry, h.expires_at_ms, h.handoff_id});
          }
        }
        break;
      default: break;
    }
  } else if (const auto* q = std::get_if<quote_data>(&state.data)) {
    if ((q->status == v1::QUOTE_STATE_ISSUED || q->status == v1::QUOTE_STATE_REVISED) && q->valid_until_ms > 0) {
      out.push_back(timer{timer_kind::quote_expiry, q->valid_until_ms, {}});
    }
  }
  return out;
}

fold_outcome fire_timer(subject_state& state, const timer& t, std::int64_t now_ms, const lifecycle_config& config) {
  const std::vector<timer> current = deadlines(state, config);
  if (t.due_ms > now_ms || std::find(current.begin(), current.end(), t) == current.end()) {
    fold_outcome out;
    out.status = fold_status::obsolete;
    out.reason_code = "timer_obsolete";
    out.reason = std::string(to_string(t.kind)) + " timer no longer applies";
    return out;
  }
  v1::Event ev;
  ev.set_event_id(timer_event_id(state.common.id, to_string(t.kind), t.due_ms, t.handoff_id));
  ev.set_subject_kind(state.common.kind);
  ev.set_subject_id(state.common.id);
  set_ms(ev.mutable_occurred_at(), t.due_ms);
  set_ms(ev.mutable_received_at(), now_ms);
  ev.mutable_source()->set_connector("passerelle");
  ev.mutable_source()->set_account("lifecycle");
  ev.mutable_source()->set_native_id("timer:" + std::string(to_string(t.kind)));
  const std::int64_t last =
      state.common.last_activity_ms != 0 ? state.common.last_activity_ms : state.common.created_at_ms;
  switch (t.kind) {
    case timer_kind::basket_abandon: {
      auto* p = ev.mutable_basket_abandoned();
      set_ms(p->mutable_last_activity_at(), last);
      p->set_reason("inactivity");
      break;
    }
    case timer_kind::basket_expire: {
      auto* p = ev.mutable_basket_expired();
      set_ms(p->mutable_last_activity_at(), last);
      p->set_reason("retention");
      break;
    }
    case timer_kind::handoff_expiry: {
      auto* p = ev.mutable_basket_handoff_expired();
      p->set_handoff_id(t.handoff_id);
      set_ms(p->mutable_expired_at(), t.due_ms);
      break;
    }
    case timer_kind::quote_expiry: {
      auto* p = ev.mutable_quote_expired();
      p->set_revision(std::get<quote_data>(state.data).revision);
      set_ms(p->mutable_valid_until(), t.due_ms);
      break;
    }
  }
  fold_outcome out = detail::fold_trusted(state, ev, now_ms, config);
  if (out.status == fold_status::applied) out.derived.insert(out.derived.begin(), std::move(ev));
  return out;
}

void timer_index::update(const std::string& subject_id, std::vector<timer> timers) {
  auto it = by_subject_.find(subject_id);
  if (it != by_subject_.end()) {
    for (const auto& t : it->second) {
      by_due_.erase({t.due_ms, subject_id, static_cast<std::uint8_t>(t.kind), t.handoff_id});
    }
    if (timers.empty()) {
      by_subject_.erase(it);
      return;
    }
  } else if (timers.empty()) {
    return;
  }
  for (const auto& t : timers) by_due_.emplace(t.due_ms, subject_id, static_cast<std::uint8_t>(t.kind), t.handoff_id);
  by_subject_.insert_or_assign(subject_id, std::move(timers));
}

std::vector<timer_index::due_timer> timer_index::due(std::int64_t now_ms, std::size_t max) const {
  std::vector<due_timer> out;
  for (const auto& [due_ms, subject, kind, handoff] : by_due_) {
    if (due_ms > now_ms || out.size() >= max) break;
    out.push_back(due_timer{subject, timer{static_cast<timer_kind>(kind), due_ms, handoff}});
  }
  return out;
}

std::optional<std::int64_t> timer_index::next_due() const {
  if (by_due_.empty()) return std::nullopt;
  return std::get<0>(*by_due_.begin());
}

}  // namespace passerelle::lifecycle

#include "broker/lifecycle/fold.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "broker/lifecycle/derived_ids.h"
#include "broker/lifecycle/proto_bytes.h"

namespace passerelle::lifecycle {

std::string_view to_string(fold_status status) noexcept {
  switch (status) {
    case fold_status::applied: return "applied";
    case fold_status::duplicate: return "duplicate";
    case fold_status::stale: return "stale";
    case fold_status::rejected: return "rejected";
    case fold_status::echo: return "echo";
    case fold_status::ignored: return "ignored";
    case fold_status::invalid: return "invalid";
    case fold_status::obsolete: return "obsolete";
  }
  return "unknown";
}

std::int64_t to_ms(const google::protobuf::Timestamp& ts) noexcept {
  return ts.seconds() * 1000 + ts.nanos() / 1'000'000;
}

void set_ms(google::protobuf::Timestamp* ts, std::int64_t ms) {
  std::int64_t secs = ms / 1000;
  std::int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  ts->set_seconds(secs);
  ts->set_nanos(static_cast<std::int32_t>(rem * 1'000'000));
}

std::string payload_type_name(const v1::Event& event) {
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("payload");
  const auto* field = event.GetReflection()->GetOneofFieldDescriptor(event, oneof);
  return field == nullptr ? std::string() : std::string(field->message_type()->full_name());
}

namespace detail {

bool line_id_less(std::string_view a, std::string_view b) noexcept {
  const auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (digits(a) && digits(b)) {
    const auto strip = [](std::string_view s) {
      while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
      return s;
    };
    const std::string_view x = strip(a);
    const std::string_view y = strip(b);
    if (x.size() != y.size()) return x.size() < y.size();
    if (x != y) return x < y;
    return a < b;  // "01" vs "1": still a strict order
  }
  return a < b;
}

}  // namespace detail

namespace {

using detail::line_id_less;

constexpr std::string_view engine_connector = "passerelle";
constexpr std::string_view engine_account = "lifecycle";

// The subject kind a payload belongs to, by its field-number range (docs/events.md); UNSPECIFIED for "any kind".
v1::SubjectKind payload_kind(v1::Event::PayloadCase c) {
  const int n = static_cast<int>(c);
  if (n >= 100 && n < 200) return v1::SUBJECT_KIND_BASKET;
  if (n >= 200 && n < 300) return v1::SUBJECT_KIND_WISHLIST;
  if (n >= 300 && n < 400) return v1::SUBJECT_KIND_QUOTE;
  if (n >= 400 && n < 500) return v1::SUBJECT_KIND_DEMO_REQUEST;
  if (n >= 500 && n < 600) return v1::SUBJECT_KIND_INTEREST;
  if (n >= 600 && n < 700) return v1::SUBJECT_KIND_CUSTOMER;
  return v1::SUBJECT_KIND_UNSPECIFIED;
}

template <typename T>
auto find_line(std::vector<T>& v, std::string_view id) {
  auto it = std::lower_bound(v.begin(), v.end(), id,
                             [](const T& x, std::string_view key) { return line_id_less(x.line_id, key); });
  return (it != v.end() && it->line_id == id) ? it : v.end();
}

template <typename T>
void insert_sorted(std::vector<T>& v, T value) {
  auto it = std::lower_bound(v.begin(), v.end(), value,
                             [](const T& x, const T& y) { return line_id_less(x.line_id, y.line_id); });
  v.insert(it, std::move(value));
}

// Content equality of two lines (everything but the write stamp).
bool same_content(const line_state& a, const line_state& b) {
  return a.line_id == b.line_id && a.sku == b.sku && a.title == b.title && a.quantity == b.quantity &&
         a.unit_price == b.unit_price && a.line_total == b.line_total && a.discount_total == b.discount_total &&
         a.currency == b.currency && a.money_present == b.money_present && a.extra == b.extra;
}

// Only the price fields differ (a repricing rather than a customer's change).
bool only_price_differs(const line_state& a, const line_state& b) {
  return a.sku == b.sku && a.title == b.title && a.quantity == b.quantity && a.discount_total == b.discount_total &&
         a.currency == b.currency && a.money_present == b.money_present && a.extra == b.extra &&
         (a.unit_price != b.unit_price || a.line_total != b.line_total);
}

// `newer` (a write at `at`) loses to an existing write `old` only when both come from the same source with known
// versions and `old` is not older. Different sources or unknown versions: log order (the newcomer wins).
bool loses_to(const stamp& at, const stamp& old) {
  return at.version != 0 && old.version != 0 && at.source == old.source && old.version >= at.version;
}

struct snapshot_diff {
  std::vector<line_state> added;
  std::vector<std::pair<line_state, line_state>> changed;  // previous, now
  std::vector<line_state> removed;
};

class folder {
 public:
  folder(subject_state& st, const v1::Event& ev, std::int64_t now, const lifecycle_config& cfg)
      : st_(st), c_(st.common), ev_(ev), now_(now), cfg_(cfg) {}

  fold_outcome run() {
    const auto pcase = ev_.payload_case();
    const v1::SubjectKind kind = ev_.subject_kind();
    if (ev_.event_id().empty()) return invalid("missing_event_id", "event has no event_id");
    if (kind == v1::SUBJECT_KIND_INTEREST || kind == v1::SUBJECT_KIND_CUSTOMER) {
      return ignored("not_a_lifecycle_subject", "interest and customer events have no lifecycle");
    }
    if (kind == v1::SUBJECT_KIND_UNSPECIFIED || kind > v1::SUBJECT_KIND_CUSTOMER) {
      return invalid("subject_kind_invalid", "event has no valid subject_kind");
    }
    if (ev_.subject_id().empty()) return invalid("missing_subject_id", "event has no subject_id");
    if (c_.kind != v1::SUBJECT_KIND_UNSPECIFIED && (c_.kind != kind || c_.id != ev_.subject_id())) {
      return invalid("subject_mismatch", "event is for " + ev_.subject_id() + ", state is " + c_.id);
    }
    if (pcase == v1::Event::PAYLOAD_NOT_SET) {
      return ignored("unknown_payload", "no payload this version knows (newer producer?)");
    }
    const v1::SubjectKind pk = payload_kind(pcase);
    if (pk != v1::SUBJECT_KIND_UNSPECIFIED && pk != kind) {
      return invalid("payload_kind_mismatch", payload_type_name(ev_) + " on a " + v1::SubjectKind_Name(kind));
    }
    if (pcase == v1::Event::kTransitionRejected) {
      return ignored("engine_record", "TransitionRejected records are not folded");
    }
    const std::uint64_t h = event_id_hash(ev_.event_id());
    if (std::find(c_.dedup.begin(), c_.dedup.end(), h) != c_.dedup.end()) {
      ++c_.duplicates;
      out_.status = fold_status::duplicate;
      out_.reason_code = "duplicate_event";
      out_.reason = "event " + ev_.event_id() + " was already folded";
      return std::move(out_);
    }
    const bool created = c_.kind == v1::SUBJECT_KIND_UNSPECIFIED;
    if (created) {
      c_.kind = kind;
      c_.id = ev_.subject_id();
      switch (kind) {
        case v1::SUBJECT_KIND_BASKET: st_.data = basket_data{}; break;
        case v1::SUBJECT_KIND_WISHLIST: st_.data = wishlist_data{}; break;
        case v1::SUBJECT_KIND_QUOTE: st_.data = quote_data{}; break;
        default: st_.data = demo_data{}; break;
      }
    }
    before_ = status_name(st_);
    version_ = std::max<std::int64_t>(0, ev_.source_version());
    source_key_ = ev_.source().connector() + ":" + ev_.source().account();

    if (!envelope_fits()) {
      // reject() already filled out_
    } else if (pcase == v1::Event::kSubjectLinked) {
      on_subject_linked();
    } else {
      switch (kind) {
        case v1::SUBJECT_KIND_BASKET: on_basket(std::get<basket_data>(st_.data)); break;
        case v1::SUBJECT_KIND_WISHLIST: on_wishlist(std::get<wishlist_data>(st_.data)); break;
        case v1::SUBJECT_KIND_QUOTE: on_quote(std::get<quote_data>(st_.data)); break;
        default: on_demo(std::get<demo_data>(st_.data)); break;
      }
    }
    if (created && out_.status == fold_status::rejected) {
      // A subject's first event was refused: the subject still does not exist (only the bookkeeping remains).
      c_.kind = v1::SUBJECT_KIND_UNSPECIFIED;
      c_.id.clear();
      st_.data = std::monostate{};
    }
    remember(h);
    const std::string after = status_name(st_);
    if (out_.status == fold_status::applied && after != before_) out_.state_change = transition{before_, after};
    return std::move(out_);
  }

 private:
  // ---- outcomes ----
  fold_outcome invalid(std::string code, std::string msg) {
    out_.status = fold_status::invalid;
    out_.reason_code = std::move(code);
    out_.reason = std::move(msg);
    return std::move(out_);
  }
  fold_outcome ignored(std::string code, std::string msg) {
    out_.status = fold_status::ignored;
    out_.reason_code = std::move(code);
    out_.reason = std::move(msg);
    return std::move(out_);
  }
  void reject(std::string code, std::string msg) {
    out_.status = fold_status::rejected;
    out_.reason_code = std::move(code);
    out_.reason = std::move(msg);
    ++c_.rejected;
    v1::Event& d = derive();
    auto* r = d.mutable_transition_rejected();
    r->set_from_state(before_);
    r->set_event_type(payload_type_name(ev_));
    r->set_reason(out_.reason);
    r->set_rejected_event_id(ev_.event_id());
  }
  void illegal(std::string_view what) {
    reject("illegal_transition",
           std::string(what) + " is not allowed when the " + std::string(kind_name()) + " is " + before_);
  }
  // A stale event was delivered and superseded: it counts as folded (version, times, references, and its totals
  // in the totals register) so that the view does not depend on whether it arrived before or after what
  // superseded it. Returns its stamp.
  stamp stale(std::string code, std::string msg) {
    const stamp at = accept(false);
    out_.status = fold_status::stale;
    out_.reason_code = std::move(code);
    out_.reason = std::move(msg);
    ++c_.stale;
    return at;
  }
  std::string_view kind_name() const {
    switch (c_.kind) {
      case v1::SUBJECT_KIND_BASKET: return "basket";
      case v1::SUBJECT_KIND_WISHLIST: return "wishlist";
      case v1::SUBJECT_KIND_QUOTE: return "quote";
      default: return "demo request";
    }
  }

  void remember(std::uint64_t h) {
    if (out_.status == fold_status::invalid || cfg_.dedup_window == 0) return;
    c_.dedup.push_back(h);
    if (c_.dedup.size() > cfg_.dedup_window) {
      c_.dedup.erase(c_.dedup.begin(),
                     c_.dedup.begin() + static_cast<std::ptrdiff_t>(c_.dedup.size() - cfg_.dedup_window));
    }
  }

  v1::Event& derive() {
    v1::Event& d = out_.derived.emplace_back();
    d.set_event_id(derived_event_id(ev_.event_id(), next_index_++));
    d.set_subject_kind(c_.kind);
    d.set_subject_id(c_.id);
    if (ev_.has_occurred_at()) *d.mutable_occurred_at() = ev_.occurred_at();
    if (ev_.has_received_at()) *d.mutable_received_at() = ev_.received_at();
    d.set_channel(ev_.channel());
    d.set_store_id(ev_.store_id());
    auto* s = d.mutable_source();
    s->set_connector(std::string(engine_connector));
    s->set_account(std::string(engine_account));
    s->set_native_id(ev_.event_id());
    d.set_source_version(ev_.source_version());
    return d;
  }

  // ---- time and sources ----
  std::int64_t event_time() const {
    if (ev_.has_occurred_at()) return to_ms(ev_.occurred_at());
    if (ev_.has_received_at()) return to_ms(ev_.received_at());
    return now_;
  }
  const source_mark* mark() const {
    for (const auto& m : c_.sources) {
      if (m.source == source_key_) return &m;
    }
    return nullptr;
  }
  // The stamp of this event; creates its source mark (sorted by name, stamps renumbered) when new.
  stamp ensure_source() {
    auto it = std::lower_bound(c_.sources.begin(), c_.sources.end(), source_key_,
                               [](const source_mark& m, const std::string& k) { return m.source < k; });
    const auto pos = static_cast<std::uint16_t>(it - c_.sources.begin());
    if (it == c_.sources.end() || it->source != source_key_) {
      c_.sources.insert(it, source_mark{source_key_, 0, 0, 0});
      renumber(pos);
    }
    return stamp{pos, version_};
  }
  void renumber(std::uint16_t inserted) {
    const auto bump = [inserted](stamp& s) {
      if (s.version != 0 && s.source >= inserted) ++s.source;
    };
    const auto bump_set = [&](line_set& set) {
      for (auto& l : set.lines) bump(l.written);
      for (auto& t : set.tombstones) bump(t.written);
    };
    if (auto* b = std::get_if<basket_data>(&st_.data)) {
      bump_set(b->lines);
      bump(b->totals_written);
      bump(b->header_written);
    } else if (auto* w = std::get_if<wishlist_data>(&st_.data)) {
      bump_set(w->items);
      bump(w->header_written);
    } else if (auto* q = std::get_if<quote_data>(&st_.data)) {
      bump_set(q->lines);
    }
  }
  bool sources_fit() const { return mark() != nullptr || c_.sources.size() < cfg_.max_sources; }

  // References and customers the envelope would add must fit their bounds; checked before anything changes.
  bool envelope_fits() {
    if (!sources_fit()) {
      reject("limit_sources", "more than " + std::to_string(cfg_.max_sources) + " sources feed this subject");
      return false;
    }
    std::size_t new_refs = 0;
    for (const auto& r : ev_.references()) {
      if (!std::binary_search(c_.references.begin(), c_.references.end(), r)) ++new_refs;
    }
    if (c_.references.size() + new_refs > cfg_.max_references) {
      reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " references");
      return false;
    }
    std::size_t new_customers = 0;
    for (const auto& r : ev_.customers()) {
      if (!std::binary_search(c_.customers.begin(), c_.customers.end(), to_ref(r))) ++new_customers;
    }
    if (c_.customers.size() + new_customers > cfg_.max_customer_refs) {
      reject("limit_customers", "more than " + std::to_string(cfg_.max_customer_refs) + " customer references");
      return false;
    }
    return true;
  }
  static customer_ref to_ref(const v1::CustomerRef& r) { return customer_ref{r.type(), r.scope(), r.value()}; }

  void add_reference(const std::string& ref) {
    if (ref.empty()) return;
    auto it = std::lower_bound(c_.references.begin(), c_.references.end(), ref);
    if (it != c_.references.end() && *it == ref) return;
    c_.references.insert(it, ref);
    out_.references_attached.push_back(ref);
  }
  void add_customer(const v1::CustomerRef& r) {
    if (r.value().empty()) return;
    customer_ref ref = to_ref(r);
    auto it = std::lower_bound(c_.customers.begin(), c_.customers.end(), ref);
    if (it != c_.customers.end() && *it == ref) return;
    out_.customers_attached.push_back(ref);
    c_.customers.insert(it, std::move(ref));
  }

  // The event is folded (applied or stale): envelope effects that do not depend on arrival order.
  stamp accept(bool content) {
    const stamp at = ensure_source();
    auto& m = c_.sources[at.source];
    if (version_ != 0) m.max_version = std::max(m.max_version, version_);
    ++c_.version;
    const std::int64_t t = event_time();
    c_.created_at_ms = c_.created_at_ms == 0 ? t : std::min(c_.created_at_ms, t);
    c_.updated_at_ms = std::max(c_.updated_at_ms, t);
    if (content) c_.last_activity_ms = std::max(c_.last_activity_ms, t);
    if (c_.channel == v1::CHANNEL_UNSPECIFIED) c_.channel = ev_.channel();
    if (c_.store_id.empty()) c_.store_id = ev_.store_id();
    for (const auto& r : ev_.references()) add_reference(r);
    for (const auto& r : ev_.customers()) add_customer(r);
    return at;
  }
  // Terminal transition: remember each source's position, so that older content arriving later is applied late.
  void close() {
    for (auto& m : c_.sources) m.closed_version = m.max_version;
  }
  // Content arriving in a terminal state is "late" when its source already had a newer event at closing time.
  bool is_late() const {
    const source_mark* m = mark();
    return m != nullptr && version_ != 0 && version_ <= m->closed_version;
  }

  // ---- line sets (basket lines, quote lines, wishlist items) ----
  bool lines_fit(const line_set& set, std::size_t adding) const {
    return set.lines.size() + set.tombstones.size() + adding <= cfg_.max_lines;
  }
  // Stale when a newer snapshot of the same source covers it, or the line's last write is not older.
  bool line_write_stale(line_set& set, std::string_view id) const {
    const source_mark* m = mark();
    if (version_ == 0 || m == nullptr) return false;
    if (version_ <= m->snapshot_floor) return true;
    const auto idx = static_cast<std::uint16_t>(m - c_.sources.data());
    const stamp at{idx, version_};
    if (auto it = find_line(set.lines, id); it != set.lines.end() && loses_to(at, it->written)) return true;
    if (auto it = find_line(set.tombstones, id); it != set.tombstones.end() && loses_to(at, it->written)) return true;
    return false;
  }
  // Upsert of one line at `at`; returns the previous content when there was one.
  std::optional<line_state> upsert(line_set& set, line_state line, const stamp& at) {
    line.written = at;
    if (auto t = find_line(set.tombstones, line.line_id); t != set.tombstones.end()) set.tombstones.erase(t);
    if (auto it = find_line(set.lines, line.line_id); it != set.lines.end()) {
      std::optional<line_state> prev = std::move(*it);
      *it = std::move(line);
      return prev;
    }
    insert_sorted(set.lines, std::move(line));
    return std::nullopt;
  }
  std::optional<line_state> remove(line_set& set, const std::string& id, const stamp& at) {
    std::optional<line_state> prev;
    if (auto it = find_line(set.lines, id); it != set.lines.end()) {
      prev = std::move(*it);
      set.lines.erase(it);
    }
    if (at.version != 0) {
      if (auto t = find_line(set.tombstones, id); t != set.tombstones.end()) {
        t->written = at;
      } else {
        insert_sorted(set.tombstones, tombstone{id, at});
      }
    }
    return prev;
  }
  // Replaces the set by a full snapshot at `at`, keeping lines (and removals) written later by the same source.
  snapshot_diff apply_snapshot(line_set& set, std::vector<line_state> incoming, const stamp& at) {
    snapshot_diff diff;
    std::vector<std::string> listed_ids;  // sorted (incoming is), kept because incoming lines are moved below
    listed_ids.reserve(incoming.size());
    for (const auto& in : incoming) listed_ids.push_back(in.line_id);
    std::vector<line_state> next;
    next.reserve(incoming.size() + set.lines.size());
    for (auto& in : incoming) {
      auto old = find_line(set.lines, in.line_id);
      auto tomb = find_line(set.tombstones, in.line_id);
      if (old != set.lines.end() && loses_to(at, old->written)) continue;         // a newer line event wins
      if (tomb != set.tombstones.end() && loses_to(at, tomb->written)) continue;  // a newer removal wins
      in.written = at;
      if (old == set.lines.end()) {
        diff.added.push_back(in);
      } else if (!same_content(*old, in)) {
        diff.changed.emplace_back(*old, in);
      }
      next.push_back(std::move(in));
    }
    for (auto& old : set.lines) {
      const bool listed =
          std::binary_search(listed_ids.begin(), listed_ids.end(), old.line_id,
                             [](const std::string& a, const std::string& b) { return line_id_less(a, b); });
      if (listed) {
        if (std::none_of(next.begin(), next.end(), [&](const line_state& l) { return l.line_id == old.line_id; })) {
          next.push_back(old);  // listed but a newer write of the same source keeps the current line
        }
        continue;
      }
      if (loses_to(at, old.written)) {
        next.push_back(old);  // added by a newer line event of the same source
      } else {
        diff.removed.push_back(old);
      }
    }
    std::sort(next.begin(), next.end(),
              [](const line_state& a, const line_state& b) { return line_id_less(a.line_id, b.line_id); });
    set.lines = std::move(next);
    if (at.version != 0) {
      std::erase_if(set.tombstones, [&](const tombstone& t) {
        return t.written.source == at.source && t.written.version <= at.version;
      });
    }
    return diff;
  }
  // Snapshot lines, sorted, or false (and a rejection) on duplicate line ids / over the bound.
  bool snapshot_lines(const google::protobuf::RepeatedPtrField<v1::Line>& lines, std::vector<line_state>& out) {
    if (lines.size() > static_cast<int>(cfg_.max_lines)) {
      reject("limit_lines", "snapshot has more than " + std::to_string(cfg_.max_lines) + " lines");
      return false;
    }
    out.reserve(static_cast<std::size_t>(lines.size()));
    for (const auto& l : lines) out.push_back(to_line_state(l));
    std::sort(out.begin(), out.end(),
              [](const line_state& a, const line_state& b) { return line_id_less(a.line_id, b.line_id); });
    for (std::size_t i = 1; i < out.size(); ++i) {
      if (out[i].line_id == out[i - 1].line_id) {
        reject("duplicate_line_id", "snapshot lists line " + out[i].line_id + " twice");
        return false;
      }
    }
    return true;
  }
  bool snapshot_stale() const {
    const source_mark* m = mark();
    return version_ != 0 && m != nullptr && version_ <= m->snapshot_floor;
  }
  void raise_floor(const stamp& at) {
    if (at.version != 0) {
      auto& m = c_.sources[at.source];
      m.snapshot_floor = std::max(m.snapshot_floor, at.version);
    }
  }

  // ---- any kind ----
  void on_subject_linked() {
    const auto& p = ev_.subject_linked();
    if (p.reference().empty()) {
      reject("reference_missing", "SubjectLinked without a reference");
      return;
    }
    if (!std::binary_search(c_.references.begin(), c_.references.end(), p.reference()) &&
        c_.references.size() + static_cast<std::size_t>(ev_.references_size()) >= cfg_.max_references) {
      reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " references");
      return;
    }
    accept(false);
    add_reference(p.reference());
  }

  // ---- baskets ----
  void set_totals(basket_data& b, const v1::Totals& totals, const stamp& at) {
    if (loses_to(at, b.totals_written)) return;
    b.totals = deterministic_bytes(totals);
    b.totals_written = at;
  }
  void basket_content_status(basket_data& b) {
    if (b.status == v1::BASKET_STATE_UNSPECIFIED) {
      b.status = v1::BASKET_STATE_ACTIVE;
    } else if (b.status == v1::BASKET_STATE_ABANDONED && event_time() > b.abandoned_at_ms) {
      b.status = v1::BASKET_STATE_ACTIVE;  // new activity revives an abandoned basket
      b.abandoned_at_ms = 0;
    }
  }
  // Content in a terminal state: applied late when older than the closing, else rejected. Returns false when
  // the caller must stop.
  bool basket_content_allowed(const basket_data& b, std::string_view what) {
    if (b.status != v1::BASKET_STATE_CONVERTED && b.status != v1::BASKET_STATE_EXPIRED) return true;
    if (is_late()) {
      out_.late = true;
      return true;
    }
    reject("illegal_transition",
           std::string(what) + ": the basket is " + before_ + "; its content can no longer change");
    return false;
  }
  v1::Totals totals_of(const basket_data& b) const {
    v1::Totals t;
    if (!b.totals.empty()) t.ParseFromString(b.totals);
    return t;
  }

  void on_basket(basket_data& b) {
    switch (ev_.payload_case()) {
      case v1::Event::kBasketSnapshot: basket_snapshot(b); return;
      case v1::Event::kBasketCreated: basket_created(b); return;
      case v1::Event::kBasketLineAdded:
        basket_line_upsert(b, ev_.basket_line_added().line(), ev_.basket_line_added().has_totals(),
                           ev_.basket_line_added().totals(), "line added");
        return;
      case v1::Event::kBasketLineChanged:
        basket_line_upsert(b, ev_.basket_line_changed().line(), ev_.basket_line_changed().has_totals(),
                           ev_.basket_line_changed().totals(), "line changed");
        return;
      case v1::Event::kBasketLineRemoved: basket_line_removed(b); return;
      case v1::Event::kBasketPricesChanged: basket_prices_changed(b); return;
      case v1::Event::kBasketPromotionApplied:
      case v1::Event::kBasketPromotionRemoved: basket_promotion(b); return;
      case v1::Event::kBasketCustomerAttached: basket_customer_attached(); return;
      case v1::Event::kBasketHandoffRequested: handoff_requested(b); return;
      case v1::Event::kBasketHandoffAccepted: handoff_accepted(b); return;
      case v1::Event::kBasketHandoffCompleted: handoff_completed(b); return;
      case v1::Event::kBasketHandoffExpired: handoff_ended(b, handoff_status::expired); return;
      case v1::Event::kBasketHandoffFailed: handoff_ended(b, handoff_status::failed); return;
      case v1::Event::kBasketConverted: basket_converted(b); return;
      case v1::Event::kBasketAbandoned: basket_abandoned(b); return;
      case v1::Event::kBasketExpired: basket_expired(b); return;
      default: illegal(payload_type_name(ev_)); return;
    }
  }

  void basket_snapshot(basket_data& b) {
    const auto& p = ev_.basket_snapshot();
    if (snapshot_stale()) {
      const stamp at = stale("stale_snapshot", "snapshot version " + std::to_string(version_) + " is not newer than " +
                                                   std::to_string(mark()->snapshot_floor));
      if (p.has_totals()) set_totals(b, p.totals(), at);
      return;
    }
    if (!basket_content_allowed(b, "snapshot")) return;
    std::vector<line_state> incoming;
    if (!snapshot_lines(p.lines(), incoming)) return;
    const bool first = b.status == v1::BASKET_STATE_UNSPECIFIED;
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    if (first) {
      auto* created = derive().mutable_basket_created();
      created->set_currency(p.currency());
    }
    // Header (currency, promotions, links): last snapshot of the source wins.
    std::vector<promotion_state> promos_before = b.promotions;
    if (!loses_to(at, b.header_written)) {
      b.header_written = at;
      b.currency = p.currency();
      b.checkout_url = p.checkout_url();
      b.note = p.note();
      std::vector<promotion_state> promos;
      for (const auto& pr : p.promotions())
        promos.push_back(promotion_state{pr.promotion_id(), deterministic_bytes(pr)});
      std::sort(promos.begin(), promos.end(),
                [](const promotion_state& x, const promotion_state& y) { return x.promotion_id < y.promotion_id; });
      promos.erase(std::unique(promos.begin(), promos.end(),
                               [](const promotion_state& x, const promotion_state& y) {
                                 return x.promotion_id == y.promotion_id;
                               }),
                   promos.end());
      b.promotions = std::move(promos);
    }
    if (p.has_totals()) set_totals(b, p.totals(), at);
    snapshot_diff diff = apply_snapshot(b.lines, std::move(incoming), at);
    raise_floor(at);
    emit_basket_diff(b, diff, promos_before);
  }

  void emit_basket_diff(const basket_data& b, const snapshot_diff& diff,
                        const std::vector<promotion_state>& promos_before) {
    const v1::Totals totals = totals_of(b);
    const bool has_totals = !b.totals.empty();
    for (const auto& l : diff.added) {
      auto* a = derive().mutable_basket_line_added();
      *a->mutable_line() = to_proto(l);
      if (has_totals) *a->mutable_totals() = totals;
    }
    v1::BasketPricesChanged prices;
    for (const auto& [prev, now] : diff.changed) {
      if (only_price_differs(prev, now)) {
        auto* ch = prices.add_changes();
        ch->set_line_id(now.line_id);
        const v1::Line pl = to_proto(prev);
        const v1::Line nl = to_proto(now);
        if (pl.has_unit_price()) *ch->mutable_previous_unit_price() = pl.unit_price();
        if (nl.has_unit_price()) *ch->mutable_unit_price() = nl.unit_price();
        if (nl.has_line_total()) *ch->mutable_line_total() = nl.line_total();
        continue;
      }
      auto* c = derive().mutable_basket_line_changed();
      *c->mutable_line() = to_proto(now);
      *c->mutable_previous() = to_proto(prev);
      if (has_totals) *c->mutable_totals() = totals;
    }
    if (prices.changes_size() > 0) {
      prices.set_reason("snapshot");
      if (has_totals) *prices.mutable_totals() = totals;
      *derive().mutable_basket_prices_changed() = std::move(prices);
    }
    for (const auto& l : diff.removed) {
      auto* r = derive().mutable_basket_line_removed();
      r->set_line_id(l.line_id);
      *r->mutable_previous() = to_proto(l);
      if (has_totals) *r->mutable_totals() = totals;
    }
    // Promotions: removed ids, then applied (new or changed) ones.
    for (const auto& old : promos_before) {
      const bool kept = std::any_of(b.promotions.begin(), b.promotions.end(),
                                    [&](const promotion_state& p) { return p.promotion_id == old.promotion_id; });
      if (kept) continue;
      v1::Promotion pr;
      pr.ParseFromString(old.bytes);
      auto* r = derive().mutable_basket_promotion_removed();
      r->set_promotion_id(old.promotion_id);
      r->set_code(pr.code());
      if (has_totals) *r->mutable_totals() = totals;
    }
    for (const auto& now : b.promotions) {
      const bool same =
          std::any_of(promos_before.begin(), promos_before.end(), [&](const promotion_state& p) { return p == now; });
      if (same) continue;
      auto* a = derive().mutable_basket_promotion_applied();
      a->mutable_promotion()->ParseFromString(now.bytes);
      if (has_totals) *a->mutable_totals() = totals;
    }
  }

  void basket_created(basket_data& b) {
    const auto& p = ev_.basket_created();
    if (!basket_content_allowed(b, "created")) return;
    std::vector<line_state> lines;
    if (!snapshot_lines(p.lines(), lines)) return;
    if (!lines_fit(b.lines, lines.size())) {
      reject("limit_lines", "more than " + std::to_string(cfg_.max_lines) + " lines");
      return;
    }
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    if (b.currency.empty() || !loses_to(at, b.header_written)) {
      if (!p.currency().empty()) b.currency = p.currency();
    }
    for (auto& l : lines) {
      if (!line_write_stale(b.lines, l.line_id)) upsert(b.lines, std::move(l), at);
    }
  }

  void basket_line_upsert(basket_data& b, const v1::Line& line, bool has_totals, const v1::Totals& totals,
                          std::string_view what) {
    if (line.line_id().empty()) {
      reject("line_id_missing", std::string(what) + " without a line_id");
      return;
    }
    if (line_write_stale(b.lines, line.line_id())) {
      const stamp at = stale("stale_line", "line " + line.line_id() + " already has a newer write from this source");
      if (has_totals) set_totals(b, totals, at);
      return;
    }
    if (!basket_content_allowed(b, what)) return;
    if (find_line(b.lines.lines, line.line_id()) == b.lines.lines.end() && !lines_fit(b.lines, 1)) {
      reject("limit_lines", "more than " + std::to_string(cfg_.max_lines) + " lines");
      return;
    }
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    upsert(b.lines, to_line_state(line), at);
    if (has_totals) set_totals(b, totals, at);
  }

  void basket_line_removed(basket_data& b) {
    const auto& p = ev_.basket_line_removed();
    if (p.line_id().empty()) {
      reject("line_id_missing", "line removed without a line_id");
      return;
    }
    if (line_write_stale(b.lines, p.line_id())) {
      const stamp at = stale("stale_line", "line " + p.line_id() + " already has a newer write from this source");
      if (p.has_totals()) set_totals(b, p.totals(), at);
      return;
    }
    if (!basket_content_allowed(b, "line removed")) return;
    if (version_ != 0 && find_line(b.lines.tombstones, p.line_id()) == b.lines.tombstones.end() &&
        find_line(b.lines.lines, p.line_id()) == b.lines.lines.end() && !lines_fit(b.lines, 1)) {
      reject("limit_lines", "more than " + std::to_string(cfg_.max_lines) + " lines and removed lines");
      return;
    }
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    remove(b.lines, p.line_id(), at);
    if (p.has_totals()) set_totals(b, p.totals(), at);
  }

  // Repricing and promotions are partial updates applied in log order (not commutative: docs/lifecycle.md); they
  // are stale only when a newer snapshot of their source covers them.
  void basket_prices_changed(basket_data& b) {
    const auto& p = ev_.basket_prices_changed();
    if (snapshot_stale()) {
      const stamp at = stale("stale_prices", "a newer snapshot of this source covers this repricing");
      if (p.has_totals()) set_totals(b, p.totals(), at);
      return;
    }
    if (!basket_content_allowed(b, "prices changed")) return;
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    for (const auto& ch : p.changes()) {
      auto it = find_line(b.lines.lines, ch.line_id());
      if (it == b.lines.lines.end()) continue;
      v1::Line l = to_proto(*it);
      if (ch.has_unit_price()) *l.mutable_unit_price() = ch.unit_price();
      if (ch.has_line_total()) *l.mutable_line_total() = ch.line_total();
      line_state next = to_line_state(l);
      next.written = at;
      *it = std::move(next);
    }
    if (p.has_totals()) set_totals(b, p.totals(), at);
  }

  void basket_promotion(basket_data& b) {
    if (snapshot_stale()) {
      stale("stale_promotion", "a newer snapshot of this source covers this promotion change");
      return;
    }
    if (!basket_content_allowed(b, "promotion")) return;
    const stamp at = accept(true);
    if (!out_.late) basket_content_status(b);
    const auto by_id = [&](std::string_view id) {
      return std::find_if(b.promotions.begin(), b.promotions.end(),
                          [&](const promotion_state& p) { return p.promotion_id == id; });
    };
    if (ev_.has_basket_promotion_applied()) {
      const auto& p = ev_.basket_promotion_applied();
      promotion_state ps{p.promotion().promotion_id(), deterministic_bytes(p.promotion())};
      if (auto it = by_id(ps.promotion_id); it != b.promotions.end()) {
        *it = std::move(ps);
      } else {
        b.promotions.insert(std::lower_bound(b.promotions.begin(), b.promotions.end(), ps,
                                             [](const promotion_state& x, const promotion_state& y) {
                                               return x.promotion_id < y.promotion_id;
                                             }),
                            std::move(ps));
      }
      if (p.has_totals()) set_totals(b, p.totals(), at);
    } else {
      const auto& p = ev_.basket_promotion_removed();
      if (auto it = by_id(p.promotion_id()); it != b.promotions.end()) b.promotions.erase(it);
      if (p.has_totals()) set_totals(b, p.totals(), at);
    }
  }

  void basket_customer_attached() {
    const auto& p = ev_.basket_customer_attached();
    std::size_t adding = 0;
    for (const auto& r : p.customers()) {
      if (!std::binary_search(c_.customers.begin(), c_.customers.end(), to_ref(r))) ++adding;
    }
    if (c_.customers.size() + adding > cfg_.max_customer_refs) {
      reject("limit_customers", "more than " + std::to_string(cfg_.max_customer_refs) + " customer references");
      return;
    }
    accept(false);
    for (const auto& r : p.customers()) add_customer(r);
  }

  handoff_state* pending_handoff(basket_data& b) {
    for (auto& h : b.handoffs) {
      if (h.status == handoff_status::pending) return &h;
    }
    return nullptr;
  }
  handoff_state* find_handoff(basket_data& b, std::string_view id) {
    for (auto& h : b.handoffs) {
      if (h.handoff_id == id) return &h;
    }
    return nullptr;
  }

  void handoff_requested(basket_data& b) {
    const auto& p = ev_.basket_handoff_requested();
    if (b.status != v1::BASKET_STATE_ACTIVE && b.status != v1::BASKET_STATE_HANDED_OFF) {
      illegal("a handoff request");
      return;
    }
    if (p.handoff_id().empty() || p.to().target_case() == v1::HandoffTarget::TARGET_NOT_SET) {
      reject("handoff_invalid", "handoff request without handoff_id or target");
      return;
    }
    if (find_handoff(b, p.handoff_id()) != nullptr) {
      reject("handoff_id_reused", "handoff " + p.handoff_id() + " was already requested");
      return;
    }
    accept(false);
    if (auto* prev = pending_handoff(b)) prev->status = handoff_status::replaced;
    handoff_state h;
    h.handoff_id = p.handoff_id();
    h.target_store = p.to().store_id();
    h.target_web = p.to().web();
    h.code_sha256 = p.code_sha256();
    h.requested_by = p.requested_by();
    h.requested_at_ms = event_time();
    h.expires_at_ms = p.has_expires_at() ? to_ms(p.expires_at()) : h.requested_at_ms + cfg_.handoff_ttl_ms;
    b.handoffs.push_back(std::move(h));
    // Bounded: forget the oldest finished handoff (the pending one always stays).
    while (b.handoffs.size() > std::max<std::size_t>(1, cfg_.max_handoffs)) {
      auto it = std::find_if(b.handoffs.begin(), b.handoffs.end(),
                             [](const handoff_state& x) { return x.status != handoff_status::pending; });
      if (it == b.handoffs.end()) break;
      b.handoffs.erase(it);
    }
    b.status = v1::BASKET_STATE_HANDED_OFF;
  }

  void handoff_accepted(basket_data& b) {
    const auto& p = ev_.basket_handoff_accepted();
    handoff_state* h = pending_handoff(b);
    if (b.status != v1::BASKET_STATE_HANDED_OFF) {
      illegal("a handoff acceptance");
      return;
    }
    if (h == nullptr || h->handoff_id != p.handoff_id()) {
      reject("handoff_unknown", "handoff " + p.handoff_id() + " is not the pending handoff of this basket");
      return;
    }
    if (!p.target_reference().empty() &&
        !std::binary_search(c_.references.begin(), c_.references.end(), p.target_reference()) &&
        c_.references.size() + 1 > cfg_.max_references) {
      reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " references");
      return;
    }
    accept(false);
    h->status = handoff_status::accepted;
    h->accepted_store = p.store_id();
    h->accepted_till = p.till_id();
    h->checkout_url = p.checkout_url();
    h->target_reference = p.target_reference();
    if (!p.store_id().empty()) c_.store_id = p.store_id();  // the basket is now in that store
    add_reference(p.target_reference());
    b.status = v1::BASKET_STATE_RECALLED;
  }

  void handoff_completed(basket_data& b) {
    const auto& p = ev_.basket_handoff_completed();
    if (b.status != v1::BASKET_STATE_RECALLED) {
      illegal("a handoff completion");
      return;
    }
    handoff_state* h = find_handoff(b, p.handoff_id());
    if (h == nullptr || h->status != handoff_status::accepted) {
      reject("handoff_unknown", "handoff " + p.handoff_id() + " was not accepted for this basket");
      return;
    }
    const stamp at = accept(false);
    h->status = handoff_status::completed;
    b.order_reference = p.order_reference();
    if (p.has_totals()) set_totals(b, p.totals(), at);
    b.status = v1::BASKET_STATE_CONVERTED;
    close();
  }

  void handoff_ended(basket_data& b, handoff_status how) {
    const std::string& id = how == handoff_status::expired ? ev_.basket_handoff_expired().handoff_id()
                                                           : ev_.basket_handoff_failed().handoff_id();
    if (b.status != v1::BASKET_STATE_HANDED_OFF) {
      illegal(how == handoff_status::expired ? "a handoff expiry" : "a handoff failure");
      return;
    }
    handoff_state* h = pending_handoff(b);
    if (h == nullptr || h->handoff_id != id) {
      reject("handoff_unknown", "handoff " + id + " is not the pending handoff of this basket");
      return;
    }
    accept(false);
    h->status = how;
    b.status = v1::BASKET_STATE_ACTIVE;
  }

  void basket_converted(basket_data& b) {
    const auto& p = ev_.basket_converted();
    if (b.status != v1::BASKET_STATE_ACTIVE && b.status != v1::BASKET_STATE_HANDED_OFF &&
        b.status != v1::BASKET_STATE_RECALLED && b.status != v1::BASKET_STATE_ABANDONED) {
      illegal("a conversion");
      return;
    }
    if (!p.order_reference().empty() &&
        !std::binary_search(c_.references.begin(), c_.references.end(), p.order_reference()) &&
        c_.references.size() + 1 > cfg_.max_references) {
      reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " references");
      return;
    }
    const stamp at = accept(false);
    if (auto* h = pending_handoff(b)) h->status = handoff_status::cancelled;
    b.order_reference = p.order_reference();
    b.conversion = p.kind();
    add_reference(p.order_reference());
    if (p.has_totals()) set_totals(b, p.totals(), at);
    b.status = v1::BASKET_STATE_CONVERTED;
    b.abandoned_at_ms = 0;
    close();
  }

  void basket_abandoned(basket_data& b) {
    const auto& p = ev_.basket_abandoned();
    if (b.status != v1::BASKET_STATE_ACTIVE && b.status != v1::BASKET_STATE_RECALLED) {
      illegal("an abandonment");
      return;
    }
    accept(false);
    b.abandoned_at_ms = p.has_last_activity_at() ? to_ms(p.last_activity_at()) : c_.last_activity_ms;
    b.status = v1::BASKET_STATE_ABANDONED;
  }

  void basket_expired(basket_data& b) {
    if (b.status != v1::BASKET_STATE_ACTIVE && b.status != v1::BASKET_STATE_ABANDONED) {
      illegal("an expiry");
      return;
    }
    accept(false);
    b.status = v1::BASKET_STATE_EXPIRED;
    close();
  }

  // ---- wishlists ----
  // Content of a deleted wishlist is late (applied, status unchanged) when its source had a newer event at the
  // deletion, else illegal. Content of a converted wishlist reactivates it only when newer than the conversion:
  // older content arriving after it is late too, so the order of arrival cannot change the status.
  bool wishlist_content_allowed(wishlist_data& w, std::string_view what) {
    if (w.status != v1::WISHLIST_STATE_DELETED && w.status != v1::WISHLIST_STATE_CONVERTED) return true;
    if (is_late()) {
      out_.late = true;
      return true;
    }
    if (w.status == v1::WISHLIST_STATE_CONVERTED) return true;
    reject("illegal_transition", std::string(what) + ": the wishlist is deleted");
    return false;
  }
  void wishlist_touched(wishlist_data& w, bool changed) {
    if (out_.late) return;
    if (w.status == v1::WISHLIST_STATE_UNSPECIFIED) w.status = v1::WISHLIST_STATE_ACTIVE;
    if (w.status == v1::WISHLIST_STATE_CONVERTED && changed) w.status = v1::WISHLIST_STATE_ACTIVE;
  }

  void on_wishlist(wishlist_data& w) {
    switch (ev_.payload_case()) {
      case v1::Event::kWishlistCreated: {
        const auto& p = ev_.wishlist_created();
        if (!wishlist_content_allowed(w, "created")) return;
        const stamp at = accept(true);
        wishlist_touched(w, false);
        if (!loses_to(at, w.header_written)) {
          w.header_written = at;
          w.name = p.name();
          w.is_public = p.is_public();
        }
        return;
      }
      case v1::Event::kWishlistSnapshot: {
        const auto& p = ev_.wishlist_snapshot();
        if (snapshot_stale()) {
          stale("stale_snapshot", "snapshot version " + std::to_string(version_) + " is not newer than " +
                                      std::to_string(mark()->snapshot_floor));
          return;
        }
        if (!wishlist_content_allowed(w, "snapshot")) return;
        std::vector<line_state> incoming;
        if (!snapshot_lines(p.items(), incoming)) return;
        const bool first = w.status == v1::WISHLIST_STATE_UNSPECIFIED;
        const stamp at = accept(true);
        if (first) {
          auto* c = derive().mutable_wishlist_created();
          c->set_name(p.name());
          c->set_is_public(p.is_public());
        }
        if (!loses_to(at, w.header_written)) {
          w.header_written = at;
          w.name = p.name();
          w.is_public = p.is_public();
        }
        snapshot_diff diff = apply_snapshot(w.items, std::move(incoming), at);
        raise_floor(at);
        wishlist_touched(w, !diff.added.empty() || !diff.changed.empty() || !diff.removed.empty());
        // No WishlistItemChanged in v1: a changed item is re-added with its new content (an upsert).
        for (const auto& l : diff.added) *derive().mutable_wishlist_item_added()->mutable_item() = to_proto(l);
        for (const auto& ch : diff.changed) {
          *derive().mutable_wishlist_item_added()->mutable_item() = to_proto(ch.second);
        }
        for (const auto& l : diff.removed) {
          auto* r = derive().mutable_wishlist_item_removed();
          r->set_item_id(l.line_id);
          *r->mutable_previous() = to_proto(l);
        }
        return;
      }
      case v1::Event::kWishlistItemAdded:
      case v1::Event::kWishlistItemRemoved: {
        const bool add = ev_.has_wishlist_item_added();
        const std::string id = add ? ev_.wishlist_item_added().item().line_id() : ev_.wishlist_item_removed().item_id();
        if (id.empty()) {
          reject("line_id_missing", "wishlist item without a line_id");
          return;
        }
        if (line_write_stale(w.items, id)) {
          stale("stale_line", "item " + id + " already has a newer write from this source");
          return;
        }
        if (!wishlist_content_allowed(w, add ? "item added" : "item removed")) return;
        if (find_line(w.items.lines, id) == w.items.lines.end() &&
            find_line(w.items.tombstones, id) == w.items.tombstones.end() && !lines_fit(w.items, 1)) {
          reject("limit_lines", "more than " + std::to_string(cfg_.max_lines) + " items");
          return;
        }
        const stamp at = accept(true);
        wishlist_touched(w, true);
        if (add) {
          upsert(w.items, to_line_state(ev_.wishlist_item_added().item()), at);
        } else {
          remove(w.items, id, at);
        }
        return;
      }
      case v1::Event::kWishlistConverted: {
        if (w.status != v1::WISHLIST_STATE_ACTIVE && w.status != v1::WISHLIST_STATE_CONVERTED) {
          illegal("a conversion");
          return;
        }
        const auto& p = ev_.wishlist_converted();
        if (w.order_references.size() >= cfg_.max_references) {
          reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " conversions");
          return;
        }
        accept(false);
        if (!p.order_reference().empty()) w.order_references.push_back(p.order_reference());
        w.status = v1::WISHLIST_STATE_CONVERTED;
        close();  // content older than the conversion, arriving later, does not reactivate the wishlist
        return;
      }
      case v1::Event::kWishlistDeleted:
        if (w.status != v1::WISHLIST_STATE_ACTIVE && w.status != v1::WISHLIST_STATE_CONVERTED) {
          illegal("a deletion");
          return;
        }
        accept(false);
        w.status = v1::WISHLIST_STATE_DELETED;
        close();
        return;
      default: illegal(payload_type_name(ev_)); return;
    }
  }

  // ---- quotes ----
  bool quote_set_lines(quote_data& q, const google::protobuf::RepeatedPtrField<v1::Line>& lines) {
    std::vector<line_state> incoming;
    if (!snapshot_lines(lines, incoming)) return false;
    q.lines.lines = std::move(incoming);
    q.lines.tombstones.clear();
    return true;
  }
  void quote_set_terms(quote_data& q, const v1::QuoteTerms& t) {
    q.quote_number = t.quote_number();
    q.totals = deterministic_bytes(t.totals());
    q.url = t.url();
    q.valid_until_ms = t.has_valid_until() ? to_ms(t.valid_until()) : q.issued_at_ms + cfg_.quote_ttl_ms;
  }

  void on_quote(quote_data& q) {
    switch (ev_.payload_case()) {
      case v1::Event::kQuoteRequested: {
        if (q.status != v1::QUOTE_STATE_UNSPECIFIED) {
          illegal("a quote request");
          return;
        }
        const auto& p = ev_.quote_requested();
        std::vector<line_state> check;
        if (!snapshot_lines(p.lines(), check)) return;
        accept(true);
        (void)quote_set_lines(q, p.lines());
        q.currency = p.currency();
        q.company = p.company();
        q.status = v1::QUOTE_STATE_REQUESTED;
        return;
      }
      case v1::Event::kQuoteIssued: {
        if (q.status != v1::QUOTE_STATE_UNSPECIFIED && q.status != v1::QUOTE_STATE_REQUESTED) {
          illegal("issuing an offer");
          return;
        }
        const auto& t = ev_.quote_issued().terms();
        std::vector<line_state> check;
        if (!snapshot_lines(t.lines(), check)) return;
        accept(true);
        (void)quote_set_lines(q, t.lines());
        q.revision = t.revision() > 0 ? t.revision() : 1;
        q.issued_at_ms = event_time();
        quote_set_terms(q, t);
        q.status = v1::QUOTE_STATE_ISSUED;
        return;
      }
      case v1::Event::kQuoteRevised: {
        if (q.status != v1::QUOTE_STATE_ISSUED && q.status != v1::QUOTE_STATE_REVISED) {
          illegal("a revision");
          return;
        }
        const auto& t = ev_.quote_revised().terms();
        if (t.revision() <= q.revision) {
          reject("revision_not_newer",
                 "revision " + std::to_string(t.revision()) + " is not newer than " + std::to_string(q.revision));
          return;
        }
        std::vector<line_state> check;
        if (!snapshot_lines(t.lines(), check)) return;
        accept(true);
        (void)quote_set_lines(q, t.lines());
        q.revision = t.revision();
        q.issued_at_ms = event_time();
        quote_set_terms(q, t);
        q.status = v1::QUOTE_STATE_REVISED;
        return;
      }
      case v1::Event::kQuoteAccepted: {
        if (q.status != v1::QUOTE_STATE_ISSUED && q.status != v1::QUOTE_STATE_REVISED) {
          illegal("an acceptance");
          return;
        }
        if (ev_.quote_accepted().revision() != q.revision) {
          reject("revision_not_current", "revision " + std::to_string(ev_.quote_accepted().revision()) +
                                             " is not the current offer (" + std::to_string(q.revision) + ")");
          return;
        }
        accept(false);
        q.status = v1::QUOTE_STATE_ACCEPTED;
        return;
      }
      case v1::Event::kQuoteRejected:
        if (q.status != v1::QUOTE_STATE_REQUESTED && q.status != v1::QUOTE_STATE_ISSUED &&
            q.status != v1::QUOTE_STATE_REVISED) {
          illegal("a rejection");
          return;
        }
        accept(false);
        q.status = v1::QUOTE_STATE_REJECTED;
        close();
        return;
      case v1::Event::kQuoteExpired:
        if (q.status != v1::QUOTE_STATE_ISSUED && q.status != v1::QUOTE_STATE_REVISED) {
          illegal("an expiry");
          return;
        }
        accept(false);
        q.status = v1::QUOTE_STATE_EXPIRED;
        close();
        return;
      case v1::Event::kQuoteConverted: {
        if (q.status != v1::QUOTE_STATE_ACCEPTED) {
          illegal("a conversion");
          return;
        }
        const auto& p = ev_.quote_converted();
        if (!p.order_reference().empty() &&
            !std::binary_search(c_.references.begin(), c_.references.end(), p.order_reference()) &&
            c_.references.size() + 1 > cfg_.max_references) {
          reject("limit_references", "more than " + std::to_string(cfg_.max_references) + " references");
          return;
        }
        accept(false);
        q.order_reference = p.order_reference();
        add_reference(p.order_reference());
        q.status = v1::QUOTE_STATE_CONVERTED;
        close();
        return;
      }
      default: illegal(payload_type_name(ev_)); return;
    }
  }

  // ---- demo / information / appointment requests ----
  void on_demo(demo_data& d) {
    switch (ev_.payload_case()) {
      case v1::Event::kDemoRequested: {
        if (d.status != v1::DEMO_REQUEST_STATE_UNSPECIFIED) {
          illegal("a new request");
          return;
        }
        const auto& p = ev_.demo_requested();
        if (static_cast<std::size_t>(p.products_size()) > cfg_.max_lines) {
          reject("limit_lines", "more than " + std::to_string(cfg_.max_lines) + " products");
          return;
        }
        accept(true);
        d.kind = p.kind();
        d.products.clear();
        for (const auto& pr : p.products()) d.products.push_back(deterministic_bytes(pr));
        d.preferred_at_ms = p.has_preferred_at() ? to_ms(p.preferred_at()) : 0;
        d.preferred_store_id = p.preferred_store_id();
        d.contact_mode = p.contact_mode();
        d.status = v1::DEMO_REQUEST_STATE_REQUESTED;
        return;
      }
      case v1::Event::kDemoScheduled: {
        if (d.status != v1::DEMO_REQUEST_STATE_REQUESTED && d.status != v1::DEMO_REQUEST_STATE_SCHEDULED &&
            d.status != v1::DEMO_REQUEST_STATE_NO_SHOW) {
          illegal("scheduling");
          return;
        }
        const auto& p = ev_.demo_scheduled();
        accept(true);
        d.scheduled_at_ms = p.has_scheduled_at() ? to_ms(p.scheduled_at()) : 0;
        d.duration_ms = p.duration().seconds() * 1000 + p.duration().nanos() / 1'000'000;
        if (!p.store_id().empty()) c_.store_id = p.store_id();
        d.assignee_id = p.assignee_id();
        if (p.contact_mode() != v1::CONTACT_MODE_UNSPECIFIED) d.contact_mode = p.contact_mode();
        d.meeting_url = p.meeting_url();
        ++d.schedule_count;
        d.status = v1::DEMO_REQUEST_STATE_SCHEDULED;
        return;
      }
      case v1::Event::kDemoDone:
        if (d.status != v1::DEMO_REQUEST_STATE_REQUESTED && d.status != v1::DEMO_REQUEST_STATE_SCHEDULED) {
          illegal("completion");
          return;
        }
        accept(true);
        d.outcome = ev_.demo_done().outcome();
        d.basket_id = ev_.demo_done().basket_id();
        d.status = v1::DEMO_REQUEST_STATE_DONE;
        close();
        return;
      case v1::Event::kDemoNoShow:
        if (d.status != v1::DEMO_REQUEST_STATE_SCHEDULED) {
          illegal("a no-show");
          return;
        }
        accept(true);
        d.status = v1::DEMO_REQUEST_STATE_NO_SHOW;
        return;
      case v1::Event::kDemoCancelled:
        if (d.status != v1::DEMO_REQUEST_STATE_REQUESTED && d.status != v1::DEMO_REQUEST_STATE_SCHEDULED &&
            d.status != v1::DEMO_REQUEST_STATE_NO_SHOW) {
          illegal("a cancellation");
          return;
        }
        accept(true);
        d.status = v1::DEMO_REQUEST_STATE_CANCELLED;
        close();
        return;
      default: illegal(payload_type_name(ev_)); return;
    }
  }

  subject_state& st_;
  subject_common& c_;
  const v1::Event& ev_;
  std::int64_t now_;
  const lifecycle_config& cfg_;
  fold_outcome out_;
  std::string before_;
  std::int64_t version_ = 0;
  std::string source_key_;
  std::size_t next_index_ = 0;
};

}  // namespace

namespace detail {

fold_outcome fold_trusted(subject_state& state, const v1::Event& event, std::int64_t now_ms,
                          const lifecycle_config& config) {
  return folder(state, event, now_ms, config).run();
}

}  // namespace detail

fold_outcome fold(subject_state& state, const v1::Event& event, std::int64_t now_ms, const lifecycle_config& config) {
  if (event.source().connector() == engine_connector && event.source().account() == engine_account) {
    fold_outcome out;
    out.status = fold_status::echo;
    out.reason_code = "engine_output";
    out.reason = "derived by the lifecycle engine itself";
    return out;
  }
  return detail::fold_trusted(state, event, now_ms, config);
}

}  // namespace passerelle::lifecycle

#include "broker/api/read_service.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <set>

#include "broker/api/subject_view.h"
#include "broker/engine/store_layout.h"
#include "broker/lifecycle/customer_directory.h"
#include "broker/lifecycle/derived_ids.h"
#include "broker/lifecycle/state_codec.h"

namespace passerelle::api {

namespace {

error not_found_of(v1::SubjectKind kind, const std::string& what) {
  return error::not_found(kind_name(kind) + "_not_found", "no " + kind_name(kind) + " " + what);
}

}  // namespace

result<lifecycle::subject_state> read_service::subject(v1::SubjectKind kind, const std::string& id) const {
  auto bytes = store_.get(engine::state_key(id));
  if (!bytes) return std::move(bytes).err();
  if (!*bytes) return not_found_of(kind, "with id " + id);
  auto state = lifecycle::decode(**bytes);
  if (!state)
    return error::fatal("state_corrupt", "the stored state of " + id + " cannot be read: " + state.err().message);
  if (state->common.kind != kind) return not_found_of(kind, "with id " + id);
  return std::move(*state);
}

result<lifecycle::subject_state> read_service::subject_by_ref(v1::SubjectKind kind,
                                                              const std::string& reference) const {
  auto id = store_.get(engine::reference_key(reference));
  if (!id) return std::move(id).err();
  if (!*id) return not_found_of(kind, "with reference " + reference);
  auto s = subject(kind, **id);
  if (!s && s.err().kind == error_kind::not_found) return not_found_of(kind, "with reference " + reference);
  return s;
}

result<lifecycle::subject_state> read_service::subject_by_code(const std::string& code_sha256) const {
  auto id = store_.get(engine::handoff_code_key(code_sha256));
  if (!id) return std::move(id).err();
  if (!*id) return error::not_found("handoff_not_found", "no handoff has this code");
  auto s = subject(v1::SUBJECT_KIND_BASKET, **id);
  if (!s && s.err().kind == error_kind::not_found)
    return error::not_found("handoff_not_found", "no handoff has this code");
  return s;
}

result<history_page> read_service::history(v1::SubjectKind kind, const std::string& id, std::size_t limit,
                                           const std::string& cursor) const {
  std::string after;
  if (!cursor.empty()) {
    std::int64_t offset = -1;
    const auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), offset);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || offset < 0) {
      return error::reject("bad_cursor", "cursor is not one this API returned");
    }
    after = engine::history_key(id, offset);
  }
  auto exists = subject(kind, id);
  if (!exists) return std::move(exists).err();
  history_page page;
  std::string last_key;
  std::string corrupt;
  auto n = store_.scan(engine::history_prefix(id), after, limit + 1, [&](std::string_view k, std::string_view v) {
    if (page.events.size() == limit) {
      page.next_cursor = std::to_string(engine::history_offset(last_key));
      return false;
    }
    v1::Event e;
    if (!e.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      corrupt = std::string(k);
      return false;
    }
    page.events.push_back(std::move(e));
    last_key = std::string(k);
    return true;
  });
  if (!n) return std::move(n).err();
  if (!corrupt.empty()) return error::fatal("history_corrupt", "a history record of " + id + " cannot be read");
  return page;
}

result<customer_view> read_service::closure(std::vector<std::string> start, const std::string& asked) const {
  customer_view view;
  std::set<std::string> seen_refs(start.begin(), start.end());
  std::set<std::string> seen_subjects;
  std::deque<std::string> queue(start.begin(), start.end());
  std::set<lifecycle::customer_ref> refs;
  while (!queue.empty() && !view.truncated) {
    const std::string ref = queue.front();
    queue.pop_front();
    std::vector<std::string> subjects;
    auto n = store_.scan(engine::customer_prefix(ref), "", max_customer_subjects + 1,
                         [&](std::string_view k, std::string_view) {
                           subjects.emplace_back(k.substr(engine::customer_prefix(ref).size()));
                           return true;
                         });
    if (!n) return std::move(n).err();
    for (const std::string& sid : subjects) {
      if (!seen_subjects.insert(sid).second) continue;
      if (seen_subjects.size() > max_customer_subjects) {
        view.truncated = true;
        break;
      }
      auto bytes = store_.get(engine::state_key(sid));
      if (!bytes) return std::move(bytes).err();
      if (!*bytes) continue;
      auto state = lifecycle::decode(**bytes);
      if (!state) continue;
      for (const auto& c : state->common.customers) {
        refs.insert(c);
        const std::string key = lifecycle::ref_key(c);
        if (seen_refs.insert(key).second) queue.push_back(key);
      }
      view.subjects.push_back(std::move(*state));
    }
  }
  if (view.subjects.empty()) return error::not_found("customer_not_found", "no customer " + asked);
  view.refs.assign(refs.begin(), refs.end());
  for (const auto& key : seen_refs) {
    const std::string id = lifecycle::customer_id_for(key);
    if (view.id.empty() || id < view.id) view.id = id;
  }
  std::sort(view.subjects.begin(), view.subjects.end(),
            [](const auto& a, const auto& b) { return a.common.created_at_ms < b.common.created_at_ms; });
  return view;
}

result<customer_view> read_service::customer_by_ref(const std::string& ref_key) const {
  return closure({ref_key}, "with reference " + ref_key);
}

result<customer_view> read_service::customer_by_id(const std::string& id) const {
  std::vector<std::string> keys;
  const std::string prefix = engine::customer_id_prefix(id);
  auto n = store_.scan(prefix, "", 64, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k.substr(prefix.size()));
    return true;
  });
  if (!n) return std::move(n).err();
  if (keys.empty()) return error::not_found("customer_not_found", "no customer with id " + id);
  return closure(std::move(keys), "with id " + id);
}

}  // namespace passerelle::api

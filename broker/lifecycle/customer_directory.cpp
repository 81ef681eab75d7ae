#include "broker/lifecycle/customer_directory.h"

#include <algorithm>
#include <cctype>

#include "broker/lifecycle/derived_ids.h"
#include "broker/lifecycle/varint_codec.h"

namespace passerelle::lifecycle {

std::string ref_key(const customer_ref& ref) {
  std::string type = v1::CustomerRefType_Name(ref.type);
  constexpr std::string_view prefix = "CUSTOMER_REF_TYPE_";
  if (type.size() > prefix.size()) type = type.substr(prefix.size());
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type + ":" + ref.scope + ":" + ref.value;
}

reference_index::attach_result reference_index::attach(const std::string& reference, const subject_key& subject) {
  auto [it, inserted] = refs_.try_emplace(reference, subject);
  if (inserted) return attach_result::attached;
  return it->second == subject ? attach_result::already : attach_result::conflict;
}

const subject_key* reference_index::find(std::string_view reference) const {
  auto it = refs_.find(reference);
  return it == refs_.end() ? nullptr : &it->second;
}

namespace {

template <typename T>
bool insert_sorted_unique(std::vector<T>& v, const T& value) {
  auto it = std::lower_bound(v.begin(), v.end(), value);
  if (it != v.end() && *it == value) return false;
  v.insert(it, value);
  return true;
}

}  // namespace

customer_view& customer_directory::create(const std::string& id) {
  auto [it, inserted] = customers_.try_emplace(id);
  if (inserted) it->second.id = id;
  return it->second;
}

void customer_directory::merge_into(customer_view& survivor, const std::string& absorbed_id) {
  auto it = customers_.find(absorbed_id);
  if (it == customers_.end()) return;
  customer_view absorbed = std::move(it->second);
  customers_.erase(it);
  // A merge never drops what either side knew: bounds apply to new observations only.
  for (const auto& r : absorbed.refs) {
    insert_sorted_unique(survivor.refs, r);
    by_ref_[r] = survivor.id;
  }
  for (const auto& s : absorbed.subjects) insert_sorted_unique(survivor.subjects, s);
  insert_sorted_unique(survivor.merged_ids, absorbed.id);
  aliases_[absorbed.id] = survivor.id;
  for (const auto& m : absorbed.merged_ids) {
    insert_sorted_unique(survivor.merged_ids, m);
    aliases_[m] = survivor.id;
  }
  survivor.truncated = survivor.truncated || absorbed.truncated;
}

link_outcome customer_directory::observe(const std::vector<customer_ref>& refs, const subject_key* subject,
                                         std::string_view evidence, std::string_view origin_event_id) {
  link_outcome out;
  std::vector<std::string> keys;
  for (const auto& r : refs) {
    if (r.type == v1::CUSTOMER_REF_TYPE_UNSPECIFIED || r.value.empty()) continue;
    keys.push_back(ref_key(r));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) return out;

  // The survivor is the smallest id among the existing customers and the ids the new references would get: the
  // smallest customer_id_for() over the whole connected component, whatever the order of observations.
  std::vector<std::string> live;
  std::string survivor_id;
  for (const auto& k : keys) {
    auto it = by_ref_.find(k);
    std::string id = it != by_ref_.end() ? it->second : customer_id_for(k);
    if (it != by_ref_.end()) insert_sorted_unique(live, it->second);
    if (survivor_id.empty() || id < survivor_id) survivor_id = std::move(id);
  }
  const bool existed = customers_.contains(survivor_id);
  customer_view& survivor = create(survivor_id);
  out.changed = !existed;
  for (const auto& id : live) {
    if (id == survivor_id) continue;
    merge_into(survivor, id);
    out.merged_ids.push_back(id);
    out.changed = true;
  }
  bool new_refs = false;
  for (const auto& k : keys) {
    if (std::binary_search(survivor.refs.begin(), survivor.refs.end(), k)) continue;
    if (survivor.refs.size() >= limits_.max_refs) {
      survivor.truncated = out.truncated = true;
      continue;
    }
    insert_sorted_unique(survivor.refs, k);
    by_ref_[k] = survivor_id;
    new_refs = out.changed = true;
  }
  if (subject != nullptr && !subject->id.empty() &&
      !std::binary_search(survivor.subjects.begin(), survivor.subjects.end(), *subject)) {
    if (survivor.subjects.size() >= limits_.max_subjects) {
      survivor.truncated = out.truncated = true;
    } else {
      insert_sorted_unique(survivor.subjects, *subject);
      out.changed = true;
    }
  }
  out.customer_id = survivor_id;
  // History: a link event when references were tied together (two or more seen at once and something new), or
  // customers merged.
  if ((keys.size() >= 2 && new_refs && existed) || !out.merged_ids.empty() || (keys.size() >= 2 && !existed)) {
    v1::Event ev;
    ev.set_event_id(derived_event_id("customer\n" + std::string(origin_event_id), 0));
    ev.set_subject_kind(v1::SUBJECT_KIND_CUSTOMER);
    ev.set_subject_id(survivor_id);
    ev.mutable_source()->set_connector("passerelle");
    ev.mutable_source()->set_account("lifecycle");
    ev.mutable_source()->set_native_id(std::string(origin_event_id));
    auto* p = ev.mutable_customer_references_linked();
    for (const auto& r : refs) {
      if (r.type == v1::CUSTOMER_REF_TYPE_UNSPECIFIED || r.value.empty()) continue;
      auto* cr = p->add_references();
      cr->set_type(r.type);
      cr->set_scope(r.scope);
      cr->set_value(r.value);
    }
    p->set_evidence(std::string(evidence));
    if (subject != nullptr) p->set_observed_on_subject_id(subject->id);
    out.derived.push_back(std::move(ev));
  }
  return out;
}

const customer_view* customer_directory::find(std::string_view customer_id) const {
  if (auto it = customers_.find(customer_id); it != customers_.end()) return &it->second;
  if (auto a = aliases_.find(customer_id); a != aliases_.end()) {
    if (auto it = customers_.find(a->second); it != customers_.end()) return &it->second;
  }
  return nullptr;
}

const customer_view* customer_directory::find_by_ref(const customer_ref& ref) const {
  auto it = by_ref_.find(ref_key(ref));
  return it == by_ref_.end() ? nullptr : find(it->second);
}

std::string customer_directory::encode_customer(std::string_view customer_id) const {
  const customer_view* v = find(customer_id);
  if (v == nullptr) return {};
  codec::writer w;
  w.u8(1);  // format version
  w.str(v->id);
  w.varint(v->refs.size());
  for (const auto& r : v->refs) w.str(r);
  w.varint(v->subjects.size());
  for (const auto& s : v->subjects) {
    w.varint(static_cast<std::uint64_t>(s.kind));
    w.str(s.id);
  }
  w.varint(v->merged_ids.size());
  for (const auto& m : v->merged_ids) w.str(m);
  w.u8(v->truncated ? 1 : 0);
  return w.take();
}

result<void> customer_directory::restore_customer(std::string_view bytes) {
  codec::reader r(bytes);
  if (r.u8() != 1 || !r.ok()) return error::reject("customer_version_unknown", "unknown customer encoding version");
  customer_view v;
  v.id = r.str();
  const std::size_t nr = r.count();
  for (std::size_t i = 0; i < nr && r.ok(); ++i) v.refs.push_back(r.str());
  const std::size_t ns = r.count();
  for (std::size_t i = 0; i < ns && r.ok(); ++i) {
    subject_key k;
    k.kind = r.enum_value<v1::SubjectKind>(v1::SubjectKind_MAX);
    k.id = r.str();
    v.subjects.push_back(std::move(k));
  }
  const std::size_t nm = r.count();
  for (std::size_t i = 0; i < nm && r.ok(); ++i) v.merged_ids.push_back(r.str());
  v.truncated = r.u8() != 0;
  if (!r.ok() || !r.at_end() || v.id.empty()) {
    return error::reject("customer_malformed", "encoded customer is truncated or malformed");
  }
  for (const auto& ref : v.refs) by_ref_[ref] = v.id;
  for (const auto& m : v.merged_ids) aliases_[m] = v.id;
  customers_.insert_or_assign(v.id, std::move(v));
  return ok();
}

}  // namespace passerelle::lifecycle

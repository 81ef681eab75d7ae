#include "broker/engine/store_layout.h"

#include "broker/lifecycle/customer_directory.h"
#include "broker/lifecycle/derived_ids.h"
#include "broker/lifecycle/state_codec.h"

namespace passerelle::engine {

std::string state_key(std::string_view subject_id) { return "s/" + std::string(subject_id); }
std::string reference_key(std::string_view reference) { return "r/" + std::string(reference); }
std::string customer_prefix(std::string_view customer_ref_key) { return "c/" + std::string(customer_ref_key) + "\n"; }
std::string customer_id_prefix(std::string_view customer_id) { return "i/" + std::string(customer_id) + "\n"; }
std::string handoff_code_key(std::string_view code_sha256_hex) { return "k/" + std::string(code_sha256_hex); }
std::string history_prefix(std::string_view subject_id) { return "h/" + std::string(subject_id) + "\n"; }

std::string history_key(std::string_view subject_id, std::int64_t offset) {
  std::string k = history_prefix(subject_id);
  auto u = static_cast<std::uint64_t>(offset);
  for (int shift = 56; shift >= 0; shift -= 8) k += static_cast<char>((u >> static_cast<unsigned>(shift)) & 0xffU);
  return k;
}

std::int64_t history_offset(std::string_view key) {
  if (key.size() < 8) return -1;
  std::uint64_t u = 0;
  for (const char c : key.substr(key.size() - 8)) u = (u << 8U) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(u);
}

std::vector<state::mutation> state_mutations(const std::string& subject_id, const lifecycle::subject_state& state,
                                             std::string encoded) {
  std::vector<state::mutation> out;
  out.reserve(1 + state.common.references.size() + 2 * state.common.customers.size());
  out.push_back({state_key(subject_id), std::move(encoded)});
  for (const std::string& ref : state.common.references) out.push_back({reference_key(ref), subject_id});
  for (const lifecycle::customer_ref& c : state.common.customers) {
    const std::string key = lifecycle::ref_key(c);
    out.push_back({customer_prefix(key) + subject_id, std::string()});
    out.push_back({customer_id_prefix(lifecycle::customer_id_for(key)) + key, std::string()});
  }
  if (const auto* b = std::get_if<lifecycle::basket_data>(&state.data)) {
    for (const auto& h : b->handoffs) {
      if (!h.code_sha256.empty()) out.push_back({handoff_code_key(h.code_sha256), subject_id});
    }
  }
  return out;
}

result<std::vector<state::mutation>> state_record_mutations(const log::record& r) {
  if (r.value.empty()) return std::vector<state::mutation>{{state_key(r.key), std::nullopt}};
  auto decoded = lifecycle::decode(r.value);
  if (!decoded) return std::move(decoded).err();
  return state_mutations(r.key, *decoded, r.value);
}

result<std::vector<state::mutation>> history_record_mutations(const log::record& r) {
  if (r.key.empty()) return error::reject("history_without_key", "a history record has no subject id");
  return std::vector<state::mutation>{{history_key(r.key, r.offset), r.value}};
}

result<lifecycle::timer_index> rebuild_timers(const state::state_store& store,
                                              const std::function<bool(const lifecycle::subject_state&)>& owns,
                                              const lifecycle::lifecycle_config& config) {
  lifecycle::timer_index timers;
  const std::string prefix = state_key("");
  std::string after;
  std::optional<error> bad;
  for (;;) {
    auto seen = store.scan(prefix, after, 10'000, [&](std::string_view key, std::string_view value) {
      after = std::string(key);
      auto s = lifecycle::decode(value);
      if (!s) {
        bad = std::move(s).err();
        return false;
      }
      if (owns(*s)) timers.update(s->common.id, lifecycle::deadlines(*s, config));
      return true;
    });
    if (!seen) return std::move(seen).err();
    if (bad) return *bad;
    if (*seen == 0) break;
  }
  return timers;
}

}  // namespace passerelle::engine

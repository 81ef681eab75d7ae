#pragma once
// Cross-channel identity: which subject a reference names (reference_index) and which customer a customer
// reference belongs to, with every subject linked to that customer (customer_directory).
//
// A customer is the union of customer references seen together (on one event, a CustomerIdentified, or a
// CustomerReferencesLinked). Its id is "cus_" + base32(SHA-256 of a reference key) (derived_ids.h); when two
// customers turn out to be one (a web cart later tied to a loyalty card in store), they MERGE: the survivor is the
// smaller id — so the result does not depend on the order of observations — and the absorbed id stays resolvable
// (find() follows it). No subject's history is rewritten: subjects keep their own customer references; the merged
// view lists all of them.
//
// Ownership and threads: owned by the runner task that folds customer observations (one writer thread; no
// internal synchronisation). Pure in-memory structures; persistence is encode_customer()/decode_customer() per
// customer into the runner's store and changelog.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "broker/core/result.h"
#include "broker/lifecycle/subject_state.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::lifecycle {

// "<type>:<scope>:<value>" with the type's lowercase JSON name ("loyalty_id:club:123"). The directory's key.
std::string ref_key(const customer_ref& ref);

struct subject_key {
  v1::SubjectKind kind = v1::SUBJECT_KIND_UNSPECIFIED;
  std::string id;
  bool operator<(const subject_key& o) const { return std::tie(kind, id) < std::tie(o.kind, o.id); }
  bool operator==(const subject_key&) const = default;
};

// reference "{connector}:{account}:{native_id}" -> subject. The first subject a reference is attached to keeps it.
class reference_index {
 public:
  enum class attach_result : std::uint8_t { attached, already, conflict };
  attach_result attach(const std::string& reference, const subject_key& subject);
  // nullptr when unknown.
  const subject_key* find(std::string_view reference) const;
  std::size_t size() const noexcept { return refs_.size(); }

 private:
  std::map<std::string, subject_key, std::less<>> refs_;
};

struct customer_view {
  std::string id;
  std::vector<std::string> refs;        // ref_key()s, sorted
  std::vector<subject_key> subjects;    // sorted
  std::vector<std::string> merged_ids;  // ids absorbed into this one, sorted
  bool truncated = false;               // a bound was hit: some refs or subjects were not added (reported)
  bool operator==(const customer_view&) const = default;
};

struct customer_limits {
  std::size_t max_refs = 256;       // references per customer
  std::size_t max_subjects = 4096;  // subjects per customer
};

struct link_outcome {
  std::string customer_id;              // the customer the observation belongs to now ("" when no usable ref)
  std::vector<std::string> merged_ids;  // customers absorbed by this observation
  bool changed = false;                 // anything new (refs, subjects, merges)
  bool truncated = false;               // a bound was hit during this observation
  // CustomerReferencesLinked on `customer_id` (topic customer.events) when references were newly linked or
  // customers merged; deterministic event id from `origin_event_id`.
  std::vector<v1::Event> derived;
};

class customer_directory {
 public:
  explicit customer_directory(customer_limits limits = {}) : limits_(limits) {}

  // References seen together, optionally on `subject` (nullptr for CustomerIdentified without a subject).
  // Idempotent: observing the same thing twice changes nothing the second time.
  link_outcome observe(const std::vector<customer_ref>& refs, const subject_key* subject, std::string_view evidence,
                       std::string_view origin_event_id);

  // By id (an absorbed id resolves to its survivor); nullptr when unknown.
  const customer_view* find(std::string_view customer_id) const;
  const customer_view* find_by_ref(const customer_ref& ref) const;
  std::size_t size() const noexcept { return customers_.size(); }

  // Persistence of one customer (the runner writes it on every change) and restore.
  std::string encode_customer(std::string_view customer_id) const;
  result<void> restore_customer(std::string_view bytes);

 private:
  customer_view& create(const std::string& id);
  void merge_into(customer_view& survivor, const std::string& absorbed_id);

  customer_limits limits_;
  std::map<std::string, customer_view, std::less<>> customers_;  // by live id
  std::map<std::string, std::string, std::less<>> by_ref_;       // ref key -> live id
  std::map<std::string, std::string, std::less<>> aliases_;      // absorbed id -> live id
};

}  // namespace passerelle::lifecycle

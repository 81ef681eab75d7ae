#pragma once
// Reads of subjects, their history and customers from the local store (broker/engine/store_layout.h), as the
// read API needs them. Every instance's store holds every subject (the materializer tails all partitions), so
// any instance answers any read; reads are eventually consistent with the webhooks' 200s.
//
// Threads: every method blocks on the store (RocksDB reads): call them from the HTTP layer's blocking pool, never
// on an I/O thread. Thread-safe. Lifecycle: owned by the daemon, after the store, before the HTTP server stops.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.h"
#include "broker/lifecycle/subject_state.h"
#include "broker/state/state_store.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::api {

struct history_page {
  std::vector<v1::Event> events;
  std::string next_cursor;  // empty: no more
};

struct customer_view {
  std::string id;                                  // the customer's id (the smallest of its references' ids)
  std::vector<lifecycle::customer_ref> refs;       // every reference known for the customer, sorted
  std::vector<lifecycle::subject_state> subjects;  // every subject linked to one of them
  bool truncated = false;                          // more than max_customer_subjects: the list is cut
};

class read_service {
 public:
  explicit read_service(const state::state_store& store) : store_(store) {}

  // The subject `id` when it exists AND is of `kind`. Errors: not_found/"<kind>_not_found", fatal (store).
  result<lifecycle::subject_state> subject(v1::SubjectKind kind, const std::string& id) const;
  // The subject of `kind` a reference ("{connector}:{account}:{native_id}") is attached to.
  result<lifecycle::subject_state> subject_by_ref(v1::SubjectKind kind, const std::string& reference) const;
  // The basket holding a handoff whose code has this SHA-256 (lowercase hex). Errors: not_found/"handoff_not_found".
  result<lifecycle::subject_state> subject_by_code(const std::string& code_sha256) const;
  // `limit` events of the subject's history after `cursor` ("" = from the start), in log order.
  // Errors: reject/"bad_cursor", not_found (subject), fatal (store or an unreadable history record).
  result<history_page> history(v1::SubjectKind kind, const std::string& id, std::size_t limit,
                               const std::string& cursor) const;
  // A customer by id ("cus_...") or by one reference in "<type>:<scope>:<value>" form (lifecycle::ref_key).
  result<customer_view> customer_by_id(const std::string& id) const;
  result<customer_view> customer_by_ref(const std::string& ref_key) const;

  static constexpr std::size_t max_customer_subjects = 1000;

 private:
  result<customer_view> closure(std::vector<std::string> ref_keys, const std::string& asked) const;
  const state::state_store& store_;
};

}  // namespace passerelle::api

#include "broker/api/handoff_service.h"

#include <openssl/rand.h>

#include <future>

#include "broker/core/crypto.h"
#include "broker/engine/engine_topics.h"
#include "broker/engine/store_layout.h"
#include "broker/handoff/handoff_code.h"
#include "broker/ingest/identity.h"
#include "broker/lifecycle/fold.h"

namespace passerelle::api {

namespace {

constexpr std::size_t max_consumed_remembered = 100'000;

bool is_closed(const lifecycle::subject_state& s) {
  const std::string status = lifecycle::status_name(s);
  return status == "converted" || status == "expired";
}

result<std::string> new_handoff_id() {
  std::string random(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size())) != 1) {
    return error::fatal("rng_failed", "no random bytes for a handoff id");
  }
  return "hof_" + ingest::crockford_base32(random, 26);
}

// The BasketHandoffRequested event of a new handoff of `basket`, from the API, without its target (the caller sets
// `to` and, for a store, the code's digest). Its id derives from the handoff id: a retried request is one event.
v1::Event handoff_requested(const std::string& basket_id, const lifecycle::subject_state& basket,
                            const std::string& handoff_id, std::int64_t now_ms, std::int64_t expires_at_ms,
                            const std::string& requested_by) {
  v1::Event e;
  e.set_event_id("evt_" + ingest::crockford_base32(core::as_bytes(core::sha256("handoff\n" + handoff_id)), 26));
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  e.set_subject_id(basket_id);
  lifecycle::set_ms(e.mutable_occurred_at(), now_ms);
  lifecycle::set_ms(e.mutable_received_at(), now_ms);
  e.set_channel(basket.common.channel);
  e.mutable_source()->set_connector("passerelle");
  e.mutable_source()->set_account("api");
  e.mutable_source()->set_native_id(handoff_id);
  auto* h = e.mutable_basket_handoff_requested();
  h->set_handoff_id(handoff_id);
  lifecycle::set_ms(h->mutable_expires_at(), expires_at_ms);
  h->set_requested_by(requested_by);
  return e;
}

}  // namespace

handoff_service::handoff_service(log::event_log& log, const read_service& reads, const core::clock& clock,
                                 handoff_options options)
    : log_(log), reads_(reads), clock_(clock), options_(std::move(options)), limiter_(options_.limits, clock) {}

result<void> handoff_service::produce_and_wait(const v1::Event& event) {
  std::promise<result<log::produce_ack>> done;
  auto future = done.get_future();
  log::produce_request req;
  req.topic = engine::topic_for_kind(options_.topic_prefix, v1::SUBJECT_KIND_BASKET);
  req.key = event.subject_id();
  req.hdrs = {{"event-id", event.event_id()},
              {"event-type", lifecycle::payload_type_name(event)},
              {"source", event.source().connector() + ":" + event.source().account()},
              {"content-type", "application/x-protobuf"}};
  req.value = event.SerializeAsString();
  log_.produce(std::move(req), [&done](result<log::produce_ack> r) { done.set_value(std::move(r)); });
  if (future.wait_for(options_.produce_timeout) != std::future_status::ready) {
    // The callback still runs later and sets the promise: keep it alive by waiting for it (bounded by the log's
    // own delivery timeout).
    future.wait();
  }
  auto r = future.get();
  if (!r) return std::move(r).err();
  return {};
}

result<handoff_created> handoff_service::request(const std::string& basket_id, const std::string& store_id,
                                                 const std::string& requested_by) {
  if (!options_.stores.contains(store_id)) {
    return error::reject("unknown_store", "no store \"" + store_id + "\" is configured (stores:)");
  }
  auto basket = reads_.subject(v1::SUBJECT_KIND_BASKET, basket_id);
  if (!basket) return std::move(basket).err();
  if (is_closed(*basket)) {
    return error{error_kind::conflict, "basket_closed",
                 "basket " + basket_id + " is " + lifecycle::status_name(*basket) + ": it cannot be handed off"};
  }
  auto code = handoff::generate_handoff_code();
  if (!code) return std::move(code).err();
  auto handoff_id = new_handoff_id();
  if (!handoff_id) return std::move(handoff_id).err();
  handoff_created out;
  out.handoff_id = std::move(handoff_id).value();
  out.code = *code;
  const std::int64_t now = clock_.now_ms();
  out.expires_at_ms = now + options_.ttl.count();

  v1::Event e = handoff_requested(basket_id, *basket, out.handoff_id, now, out.expires_at_ms, requested_by);
  auto* h = e.mutable_basket_handoff_requested();
  h->mutable_to()->set_store_id(store_id);
  h->set_code_sha256(core::to_hex(core::as_bytes(core::sha256(out.code))));
  if (auto p = produce_and_wait(e); !p) return std::move(p).err();
  return out;
}

result<web_handoff_created> handoff_service::request_web(const std::string& basket_id, const std::string& web_target,
                                                         const std::string& requested_by) {
  const auto colon = web_target.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == web_target.size()) {
    return error::reject("bad_web_target", R"(expected {"to": {"web": "<connector>:<account>"}})");
  }
  if (!options_.web_targets) {
    return error::reject("checkout_unsupported", "no connector can create checkouts in this configuration");
  }
  if (auto target = options_.web_targets(std::string_view(web_target).substr(0, colon),
                                         std::string_view(web_target).substr(colon + 1));
      !target) {
    // The basket exists or not independently of the target: a bad target is the request's fault (400), never 404.
    auto err = std::move(target).err();
    if (err.kind == error_kind::not_found) err.kind = error_kind::reject;
    return err;
  }
  auto basket = reads_.subject(v1::SUBJECT_KIND_BASKET, basket_id);
  if (!basket) return std::move(basket).err();
  if (is_closed(*basket)) {
    return error{error_kind::conflict, "basket_closed",
                 "basket " + basket_id + " is " + lifecycle::status_name(*basket) + ": it cannot be handed off"};
  }
  if (const std::string status = lifecycle::status_name(*basket); status != "active" && status != "handed_off") {
    // The engine would refuse the request (docs/lifecycle.md): say so now rather than leave it pending for nothing.
    return error{error_kind::conflict, "basket_not_active",
                 "basket " + basket_id + " is " + status + ": only an active basket can be handed off to the web"};
  }
  auto handoff_id = new_handoff_id();
  if (!handoff_id) return std::move(handoff_id).err();
  web_handoff_created out;
  out.handoff_id = std::move(handoff_id).value();
  const std::int64_t now = clock_.now_ms();
  out.expires_at_ms = now + options_.ttl.count();

  v1::Event e = handoff_requested(basket_id, *basket, out.handoff_id, now, out.expires_at_ms, requested_by);
  e.mutable_basket_handoff_requested()->mutable_to()->set_web(web_target);
  if (auto p = produce_and_wait(e); !p) return std::move(p).err();
  return out;
}

void handoff_service::remember_consumed(const std::string& code_sha256) {
  const std::lock_guard lock(consumed_mutex_);
  if (!consumed_.insert(code_sha256).second) return;
  consumed_order_.push_back(code_sha256);
  if (consumed_order_.size() > max_consumed_remembered) {
    consumed_.erase(consumed_order_.front());
    consumed_order_.pop_front();
  }
}

bool handoff_service::consumed(const std::string& code_sha256) {
  const std::lock_guard lock(consumed_mutex_);
  return consumed_.contains(code_sha256);
}

result<handoff_peek> handoff_service::find(const std::string& typed_code, const handoff_caller& caller) {
  if (!limiter_.allowed(caller.limiter_key)) {
    return error::retry("rate_limited", "too many failed handoff lookups; retry in " +
                                            std::to_string(limiter_.retry_after(caller.limiter_key).count()) + " ms");
  }
  const auto code = handoff::normalize_handoff_code(typed_code);
  if (!code) {
    limiter_.record_failure(caller.limiter_key);
    return error::reject("malformed_code", "a handoff code is 10 characters of Crockford base32 (e.g. 7KQ2M-XD4RB)");
  }
  const std::string digest = core::to_hex(core::as_bytes(core::sha256(*code)));
  auto basket = reads_.subject_by_code(digest);
  if (!basket) {
    if (basket.err().kind == error_kind::not_found) {
      limiter_.record_failure(caller.limiter_key);
      return error::not_found("handoff_not_found", "no handoff has this code (yet: a new code works once folded)");
    }
    return std::move(basket).err();
  }
  const auto& handoffs = std::get<lifecycle::basket_data>(basket->data).handoffs;
  const auto it = std::find_if(handoffs.begin(), handoffs.end(),
                               [&](const lifecycle::handoff_state& h) { return h.code_sha256 == digest; });
  if (it == handoffs.end()) {
    limiter_.record_failure(caller.limiter_key);
    return error::not_found("handoff_not_found", "no handoff has this code");
  }
  if (!caller.store_id.empty() && it->target_store != caller.store_id) {
    limiter_.record_failure(caller.limiter_key);
    return error{error_kind::unauthorized, "wrong_store", "this code is for another store"};
  }
  if (consumed(digest) || it->status == lifecycle::handoff_status::accepted ||
      it->status == lifecycle::handoff_status::completed) {
    return error{error_kind::conflict, "handoff_used", "this code was already used"};
  }
  if (it->status != lifecycle::handoff_status::pending || clock_.now_ms() >= it->expires_at_ms) {
    return error{error_kind::conflict, "handoff_expired", "this code has expired"};
  }
  return handoff_peek{std::move(*basket), *it};
}

result<handoff_peek> handoff_service::peek(const std::string& typed_code, const handoff_caller& caller) {
  return find(typed_code, caller);
}

result<handoff_peek> handoff_service::accept(const std::string& typed_code, const handoff_caller& caller,
                                             const std::string& till_id) {
  auto found = find(typed_code, caller);
  if (!found) return found;
  const std::int64_t now = clock_.now_ms();
  v1::Event e;
  e.set_event_id("evt_" + ingest::crockford_base32(
                              core::as_bytes(core::sha256("handoff-accepted\n" + found->handoff.handoff_id)), 26));
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  e.set_subject_id(found->basket.common.id);
  lifecycle::set_ms(e.mutable_occurred_at(), now);
  lifecycle::set_ms(e.mutable_received_at(), now);
  e.set_channel(v1::CHANNEL_STORE);
  e.set_store_id(found->handoff.target_store);
  e.mutable_source()->set_connector("passerelle");
  e.mutable_source()->set_account("api");
  e.mutable_source()->set_native_id(found->handoff.handoff_id);
  auto* a = e.mutable_basket_handoff_accepted();
  a->set_handoff_id(found->handoff.handoff_id);
  a->set_store_id(found->handoff.target_store);
  a->set_till_id(till_id);
  if (auto p = produce_and_wait(e); !p) return std::move(p).err();
  remember_consumed(found->handoff.code_sha256);
  found->handoff.status = lifecycle::handoff_status::accepted;
  found->handoff.accepted_store = found->handoff.target_store;
  found->handoff.accepted_till = till_id;
  return found;
}

}  // namespace passerelle::api

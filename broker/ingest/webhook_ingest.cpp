#include "broker/ingest/webhook_ingest.h"

#include <google/protobuf/util/time_util.h>

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>

#include "broker/http/router.h"
#include "broker/ingest/identity.h"
#include "broker/log/async_produce.h"
#include "broker/log/topics.h"
#include "connectors/sdk/crypto.h"
#include "passerelle/v1/dead_letter.pb.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::ingest {

namespace {

std::string_view topic_for(v1::SubjectKind kind) noexcept {
  switch (kind) {
    case v1::SUBJECT_KIND_BASKET: return log::topics::basket_events;
    case v1::SUBJECT_KIND_WISHLIST: return log::topics::wishlist_events;
    case v1::SUBJECT_KIND_QUOTE: return log::topics::quote_events;
    case v1::SUBJECT_KIND_DEMO_REQUEST: return log::topics::demo_events;
    case v1::SUBJECT_KIND_INTEREST: return log::topics::interest_events;
    case v1::SUBJECT_KIND_CUSTOMER: return log::topics::customer_events;
    default: return {};
  }
}

google::protobuf::Timestamp timestamp_from_ms(std::int64_t ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Headers that carry credentials whatever the connector: always redacted in dead letters.
bool always_sensitive(std::string_view lowered) {
  return lowered == "authorization" || lowered == "cookie" || lowered == "proxy-authorization" ||
         lowered == "x-api-key";
}

// Checks and completes one translated event. Errors are reject/"invalid_event" naming the problem.
result<void> complete_event(v1::Event& e, std::size_t index, const connector::connector& c,
                            const connector::verified_delivery& delivery, std::int64_t received_at_ms,
                            const std::string& traceparent) {
  const auto bad = [&](const std::string& why) {
    return error::reject("invalid_event", "event " + std::to_string(index) + ": " + why);
  };
  if (e.payload_case() == v1::Event::PAYLOAD_NOT_SET) return bad("no payload");
  if (e.subject_kind() == v1::SUBJECT_KIND_UNSPECIFIED || topic_for(e.subject_kind()).empty()) {
    return bad("subject_kind is not set");
  }
  if (e.references_size() == 0) return bad("no origin reference (references[0])");
  reference_parts parts;
  if (!split_reference(e.references(0), parts)) {
    return bad("origin reference \"" + e.references(0) + "\" is not {connector}:{account}:{native_id}");
  }
  auto& src = *e.mutable_source();
  if (src.connector().empty()) src.set_connector(std::string(c.name()));
  if (src.account().empty()) src.set_account(delivery.account);
  if (src.connector() != c.name() || src.account() != delivery.account) {
    return bad("source " + src.connector() + ":" + src.account() + " is not the verified " + std::string(c.name()) +
               ":" + delivery.account);
  }
  src.set_delivery_id(delivery.delivery_id);
  e.set_event_id(event_id_for(c.name(), delivery.account, delivery.delivery_id, index));
  e.set_subject_id(subject_id_for(e.subject_kind(), e.references(0)));
  *e.mutable_received_at() = timestamp_from_ms(received_at_ms);
  if (!e.has_occurred_at()) *e.mutable_occurred_at() = timestamp_from_ms(received_at_ms);
  if (!traceparent.empty()) e.set_traceparent(traceparent);
  return ok();
}

std::string payload_full_name(const v1::Event& e) {
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("payload");
  const auto* field = v1::Event::GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return field != nullptr && field->message_type() != nullptr ? field->message_type()->full_name() : std::string();
}

cached_answer to_cached(const ingest_outcome& o) {
  cached_answer a;
  a.kind = static_cast<int>(o.kind);
  a.event_ids = o.event_ids;
  for (const auto& s : o.subjects) a.subjects.emplace_back(s.kind, s.id);
  a.reason_code = o.reason_code;
  a.reason_message = o.reason_message;
  return a;
}

ingest_outcome from_cached(const cached_answer& a) {
  ingest_outcome o;
  o.kind = static_cast<outcome_kind>(a.kind);
  o.event_ids = a.event_ids;
  for (const auto& [k, id] : a.subjects) o.subjects.push_back({k, id});
  o.reason_code = a.reason_code;
  o.reason_message = a.reason_message;
  o.replayed = true;
  return o;
}

// The delivery cache's key of a delivery.
std::string cache_key_of(std::string_view connector, std::string_view account, std::string_view delivery_id) {
  std::string key;
  key.reserve(connector.size() + account.size() + delivery_id.size() + 2);
  key.append(connector).append(1, '\n').append(account).append(1, '\n').append(delivery_id);
  return key;
}

// The host's own checks on what translate() returned: the per-request bound, then each event completed.
result<void> check_and_complete(std::vector<v1::Event>& events, std::size_t max_events, const connector::connector& c,
                                const connector::verified_delivery& delivery, std::int64_t received_at_ms,
                                const std::string& traceparent) {
  if (events.size() > max_events) {
    return error::reject("too_many_events", "the request translates to " + std::to_string(events.size()) +
                                                " events; the limit is " + std::to_string(max_events));
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (auto r = complete_event(events[i], i, c, delivery, received_at_ms, traceparent); !r) return r;
  }
  return ok();
}

// "/v1/webhooks/{connector}/{account}" -> the decoded {account}; empty for any other path.
std::string path_account_of(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  constexpr std::string_view prefix = "/v1/webhooks/";
  if (!path.starts_with(prefix)) return {};
  const auto rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  const auto account = rest.substr(slash + 1);
  if (account.empty() || account.find('/') != std::string_view::npos) return {};
  auto decoded = http::percent_decode(account, /*plus_is_space=*/false);
  return decoded ? *decoded : std::string();
}

}  // namespace

webhook_ingest::webhook_ingest(log::event_log& log, obs::registry& metrics, const core::clock& clock,
                               ingest_options options, std::size_t delivery_cache_entries,
                               std::int64_t delivery_cache_window_ms)
    : log_(log),
      clock_(clock),
      options_(std::move(options)),
      cache_(delivery_cache_entries, delivery_cache_window_ms),
      connectors_(std::make_shared<const connector_set>()),
      received_(metrics.add_counter("passerelle_webhooks_received_total",
                                    "Webhook requests received, including those the HTTP server refused before "
                                    "reading them whole (account \"unknown\" until authenticated; \"\" for a "
                                    "platform ping that names no account)",
                                    {"connector", "account"})),
      verified_(metrics.add_counter("passerelle_webhooks_verified_total",
                                    "Webhook requests that passed verification (account \"\" for a platform ping "
                                    "that names no account, e.g. WooCommerce's creation ping)",
                                    {"connector", "account"})),
      rejected_(metrics.add_counter("passerelle_webhooks_rejected_total",
                                    "Webhook requests not accepted, by reason: body_too_large (413), "
                                    "header_too_large (431) and read_timeout (closed) from the HTTP server, and "
                                    "signature failures (401), all under account \"unknown\"; unknown_connector "
                                    "(404, connector \"unknown\"); dead-letter reasons (202); produce failures "
                                    "(503)",
                                    {"connector", "account", "reason"})),
      produced_(metrics.add_counter("passerelle_events_produced_total", "Events made durable from webhooks",
                                    {"connector", "account"})),
      dead_lettered_(metrics.add_counter("passerelle_dead_letters_total", "Requests kept in the dead-letter topic",
                                         {"connector", "account", "reason"})),
      replays_(metrics.add_counter("passerelle_dead_letter_replays_total",
                                   "Dead letters re-run by an operator, by outcome (accepted, still_unusable, "
                                   "not_configured, retry_later)",
                                   {"connector", "account", "outcome"})),
      latency_(metrics.add_histogram("passerelle_webhook_duration_seconds",
                                     "Time from request received to answer decided", {"connector", "account"})) {}

void webhook_ingest::count_refused(std::string_view connector_name, std::string_view reason) {
  const std::string unknown(unknown_label);
  const auto set = connectors();
  // Label values come from the configuration only: a name nobody configured is not a label.
  const std::string name = set->find(connector_name) != set->end() ? std::string(connector_name) : unknown;
  received_.with({name, unknown}).inc();
  rejected_.with({name, unknown, std::string(reason)}).inc();
}

void webhook_ingest::set_connectors(connector_set connectors) {
  auto next = std::make_shared<const connector_set>(std::move(connectors));
  std::lock_guard lock(connectors_mu_);
  connectors_ = std::move(next);
}

std::shared_ptr<const connector_set> webhook_ingest::connectors() const {
  std::lock_guard lock(connectors_mu_);
  return connectors_;
}

boost::asio::awaitable<ingest_outcome> webhook_ingest::handle(std::string_view connector_name,
                                                              const connector::inbound_request& request,
                                                              std::string traceparent) {
  const std::string unknown(unknown_label);
  const auto set = connectors();  // keeps the connector alive across a concurrent reload
  const auto it = set->find(connector_name);
  if (it == set->end()) {
    // Counted without the requested name: label values come from the configuration only.
    received_.with({unknown, unknown}).inc();
    rejected_.with({unknown, unknown, "unknown_connector"}).inc();
    ingest_outcome o;
    o.kind = outcome_kind::unknown_connector;
    o.reason_code = "unknown_connector";
    o.reason_message = "no connector \"" + std::string(connector_name) + "\" is configured";
    co_return o;
  }
  const connector::connector& c = *it->second;
  const std::string name(c.name());
  const auto observe = [&](const std::string& account) {
    latency_.with({name, account}).observe(static_cast<double>(clock_.now_ms() - request.received_at_ms) / 1000.0);
  };

  auto delivery = c.verify(request);
  if (!delivery) {
    // Not authenticated: the account the request claims is not trusted, even as a label.
    received_.with({name, unknown}).inc();
    rejected_.with({name, unknown, delivery.err().code}).inc();
    observe(unknown);
    ingest_outcome o;
    o.kind = outcome_kind::unauthorized;
    o.reason_code = delivery.err().code;
    o.reason_message = delivery.err().message;
    co_return o;
  }
  const std::string account = delivery->account;
  received_.with({name, account}).inc();
  verified_.with({name, account}).inc();
  if (delivery->ping) {
    observe(account);
    ingest_outcome o;
    o.kind = outcome_kind::ping;
    co_return o;
  }

  // Without a platform delivery id, the body's digest stands in: an identical redelivery maps to the same ids.
  if (delivery->delivery_id.empty()) {
    delivery->delivery_id = "sha256:" + connector::to_hex(connector::sha256(request.body));
  }
  const std::string cache_key = cache_key_of(name, account, delivery->delivery_id);
  if (auto cached = cache_.find(cache_key, clock_.now_ms())) {
    observe(account);
    co_return from_cached(*cached);
  }

  auto events = c.translate(request, *delivery);
  if (events) {
    if (auto r = check_and_complete(*events, options_.max_events_per_request, c, *delivery, request.received_at_ms,
                                    traceparent);
        !r) {
      events = std::move(r).err();
    }
  }
  if (!events) {
    auto o = co_await dead_letter(c, request, *delivery, events.err());
    if (o.kind == outcome_kind::dead_lettered) cache_.put(cache_key, to_cached(o), clock_.now_ms());
    observe(account);
    co_return o;
  }
  auto o = co_await produce_events(c, *delivery, std::move(events).value(), traceparent, cache_key);
  observe(account);
  co_return o;
}

boost::asio::awaitable<ingest_outcome> webhook_ingest::produce_events(const connector::connector& c,
                                                                      const connector::verified_delivery& delivery,
                                                                      std::vector<v1::Event> events,
                                                                      const std::string& traceparent,
                                                                      const std::string& cache_key) {
  const std::string name(c.name());
  ingest_outcome o;
  o.kind = outcome_kind::accepted;
  std::vector<log::produce_request> requests;
  requests.reserve(events.size());
  for (const auto& e : events) {
    log::produce_request pr;
    pr.topic = log::topics::full_name(options_.topic_prefix, topic_for(e.subject_kind()));
    pr.key = e.subject_id();
    pr.value = e.SerializeAsString();
    pr.hdrs = {{"event-id", e.event_id()},
               {"event-type", payload_full_name(e)},
               {"source", name + ":" + delivery.account},
               {"content-type", "application/x-protobuf"}};
    if (!traceparent.empty()) pr.hdrs.push_back({"traceparent", traceparent});
    requests.push_back(std::move(pr));
    o.event_ids.push_back(e.event_id());
    subject_ref s{std::string(subject_kind_name(e.subject_kind())), e.subject_id()};
    if (std::find(o.subjects.begin(), o.subjects.end(), s) == o.subjects.end()) o.subjects.push_back(std::move(s));
  }
  const auto acks = co_await log::async_produce_all(log_, std::move(requests), boost::asio::use_awaitable);
  for (const auto& ack : acks) {
    if (!ack) {
      // Some events may be durable already; the platform's retry carries the same ids, deduplicated downstream.
      rejected_.with({name, delivery.account, ack.err().code}).inc();
      ingest_outcome failed;
      failed.kind = outcome_kind::retry_later;
      failed.reason_code = ack.err().code;
      failed.reason_message = ack.err().message;
      co_return failed;
    }
  }
  produced_.with({name, delivery.account}).inc(acks.size());
  cache_.put(cache_key, to_cached(o), clock_.now_ms());
  co_return o;
}

boost::asio::awaitable<ingest_outcome> webhook_ingest::replay(const dead_letter_input& input) {
  const v1::DeadLetter& dl = input.letter;
  const std::string unknown(unknown_label);
  const auto set = connectors();
  const auto it = set->find(dl.connector());
  if (it == set->end()) {
    replays_.with({unknown, unknown, "not_configured"}).inc();
    ingest_outcome o;
    o.kind = outcome_kind::not_configured;
    o.reason_code = "connector_not_configured";
    o.reason_message = "connector \"" + dl.connector() + "\" is no longer configured";
    co_return o;
  }
  const connector::connector& c = *it->second;
  const std::string name(c.name());

  // The request as it was received (redacted credentials included: translate() does not read them).
  std::vector<connector::http_header> headers;
  headers.reserve(static_cast<std::size_t>(dl.headers_size()));
  std::string traceparent;
  for (const auto& h : dl.headers()) {
    headers.push_back({h.key(), h.value()});
    if (lower(h.key()) == "traceparent") traceparent = http::valid_traceparent(h.value()).value_or("");
  }
  const std::string path_account = path_account_of(dl.http_path());
  const std::int64_t received_at_ms = google::protobuf::util::TimeUtil::TimestampToMilliseconds(dl.received_at());
  connector::inbound_request request;
  request.method = dl.http_method();
  request.target = dl.http_path();
  request.path_account = path_account;
  request.headers = &headers;
  request.body = dl.body();
  request.received_at_ms = received_at_ms;

  connector::verified_delivery delivery;
  delivery.account = dl.account();
  delivery.delivery_id = dl.delivery_id();
  delivery.topic = input.platform_topic;

  const std::string cache_key = cache_key_of(name, delivery.account, delivery.delivery_id);
  if (auto cached = cache_.find(cache_key, clock_.now_ms());
      cached && static_cast<outcome_kind>(cached->kind) == outcome_kind::accepted) {
    replays_.with({name, delivery.account, "accepted"}).inc();
    co_return from_cached(*cached);
  }

  // The events keep the original received_at: a replay produces byte-identical events, whatever its time.
  auto events = c.translate(request, delivery);
  if (events) {
    if (auto r = check_and_complete(*events, options_.max_events_per_request, c, delivery, received_at_ms, traceparent);
        !r) {
      events = std::move(r).err();
    }
  }
  if (!events) {
    // The account label only for an account this connector still has: unknown_account means it is gone.
    const bool gone = events.err().code == "unknown_account";
    replays_.with({name, gone ? unknown : delivery.account, gone ? "not_configured" : "still_unusable"}).inc();
    ingest_outcome o;
    o.kind = gone ? outcome_kind::not_configured : outcome_kind::still_unusable;
    o.reason_code = gone ? "account_not_configured" : events.err().code;
    o.reason_message = events.err().message;
    co_return o;
  }
  auto o = co_await produce_events(c, delivery, std::move(events).value(), traceparent, cache_key);
  replays_.with({name, delivery.account, o.kind == outcome_kind::accepted ? "accepted" : "retry_later"}).inc();
  co_return o;
}

boost::asio::awaitable<ingest_outcome> webhook_ingest::dead_letter(const connector::connector& c,
                                                                   const connector::inbound_request& request,
                                                                   const connector::verified_delivery& delivery,
                                                                   const error& reason) {
  const std::string name(c.name());
  std::vector<std::string> sensitive;
  for (const auto& h : c.sensitive_headers()) sensitive.push_back(lower(h));

  v1::DeadLetter dl;
  dl.set_dead_letter_id(event_id_for(name, delivery.account, delivery.delivery_id, 0).replace(0, 4, "dlq_"));
  dl.set_connector(name);
  dl.set_account(delivery.account);
  dl.set_reason_code(reason.code);
  dl.set_reason_message(reason.message);
  *dl.mutable_received_at() = timestamp_from_ms(request.received_at_ms);
  if (request.headers != nullptr) {
    for (const auto& h : *request.headers) {
      auto* out = dl.add_headers();
      out->set_key(h.name);
      const auto l = lower(h.name);
      const bool redact = always_sensitive(l) || std::find(sensitive.begin(), sensitive.end(), l) != sensitive.end();
      out->set_value(redact ? "[redacted]" : h.value);
    }
  }
  dl.set_body(std::string(request.body));
  dl.set_http_method(std::string(request.method));
  dl.set_http_path(std::string(request.target));
  dl.set_attempt_count(1);
  dl.set_delivery_id(delivery.delivery_id);

  log::produce_request pr;
  pr.topic = log::topics::full_name(options_.topic_prefix, log::topics::dlq);
  pr.key = name + ":" + delivery.account;
  pr.value = dl.SerializeAsString();
  pr.hdrs = {{"event-id", dl.dead_letter_id()},
             {"event-type", v1::DeadLetter::descriptor()->full_name()},
             {"source", name + ":" + delivery.account},
             {"content-type", "application/x-protobuf"},
             {"reason", reason.code}};
  // DeadLetter has no field for the platform's topic (Shopify's X-Shopify-Topic, ...), which translate() needs
  // on replay: kept in a record header.
  if (!delivery.topic.empty()) pr.hdrs.push_back({"platform-topic", delivery.topic});
  const auto ack = co_await log::async_produce(log_, std::move(pr), boost::asio::use_awaitable);
  ingest_outcome o;
  o.reason_code = reason.code;
  o.reason_message = reason.message;
  if (!ack) {
    o.kind = outcome_kind::retry_later;
    o.reason_code = ack.err().code;
    o.reason_message = "could not keep the request in the dead-letter topic: " + ack.err().message;
    co_return o;
  }
  rejected_.with({name, delivery.account, reason.code}).inc();
  dead_lettered_.with({name, delivery.account, reason.code}).inc();
  o.kind = outcome_kind::dead_lettered;
  co_return o;
}

}  // namespace passerelle::ingest

#include <utility>  // before Asio: awaitable.hpp uses std::exchange (notes/boost-1.74.md)

#include "broker/handoff/web_handoff_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

#include "broker/core/crypto.h"
#include "broker/ingest/identity.h"
#include "broker/lifecycle/fold.h"
#include "broker/log/topics.h"

namespace passerelle::handoff {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_message_chars = 500;

std::string bounded(std::string s) {
  if (s.size() > max_message_chars) {
    s.resize(max_message_chars);
    s += "...";
  }
  return s;
}

web_handoff_outcome failure(std::string reason, const error& err) {
  web_handoff_outcome o;
  o.reason_code = std::move(reason);
  o.message = bounded(err.code + ": " + err.message);
  return o;
}

web_handoff_outcome failure(std::string reason, std::string message) {
  web_handoff_outcome o;
  o.reason_code = std::move(reason);
  o.message = bounded(std::move(message));
  return o;
}

std::string_view header_value(const std::vector<connector::http_header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() && std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return h.value;
    }
  }
  return {};
}

// Produces still waiting for the log's acknowledgement, shared with the completions (which may outlive a batch
// abandoned by stop()).
struct pending_produces {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t outstanding = 0;
  std::vector<log::produce_request> failed;  // to produce again (same event id: harmless if it was in fact stored)
  std::string last_error;
};

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || seconds < 0 || seconds > 86'400) return std::nullopt;
  std::int64_t millis = 0;
  if (end != value.data() + value.size()) {
    // A fraction: "2.0", "0.5".
    if (*end != '.') return std::nullopt;
    std::int64_t scale = 100;
    for (const char* p = end + 1; p != value.data() + value.size(); ++p) {
      if (*p < '0' || *p > '9') return std::nullopt;
      millis += (*p - '0') * scale;
      scale /= 10;
    }
  }
  return std::chrono::milliseconds(seconds * 1000 + millis);
}

v1::Event web_handoff_outcome_event(const v1::Event& request, const web_handoff_outcome& outcome, std::int64_t now_ms) {
  const std::string& handoff_id = request.basket_handoff_requested().handoff_id();
  v1::Event e;
  e.set_event_id("evt_" + ingest::crockford_base32(core::as_bytes(core::sha256("web-handoff\n" + handoff_id)), 26));
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  e.set_subject_id(request.subject_id());
  lifecycle::set_ms(e.mutable_occurred_at(), now_ms);
  lifecycle::set_ms(e.mutable_received_at(), now_ms);
  e.set_channel(v1::CHANNEL_WEB);
  e.mutable_source()->set_connector("passerelle");
  e.mutable_source()->set_account("web-handoff");
  e.mutable_source()->set_native_id(handoff_id);
  if (outcome.accepted) {
    auto* a = e.mutable_basket_handoff_accepted();
    a->set_handoff_id(handoff_id);
    a->set_checkout_url(outcome.checkout_url);
    a->set_target_reference(outcome.target_reference);
    if (!outcome.target_reference.empty()) e.add_references(outcome.target_reference);
  } else {
    auto* f = e.mutable_basket_handoff_failed();
    f->set_handoff_id(handoff_id);
    f->set_reason_code(outcome.reason_code);
    f->set_message(outcome.message);
  }
  return e;
}

connector::checkout_basket checkout_basket_of(const lifecycle::subject_state& basket, const std::string& handoff_id) {
  connector::checkout_basket out;
  out.basket_id = basket.common.id;
  out.handoff_id = handoff_id;
  out.references = basket.common.references;
  for (const auto& c : basket.common.customers) {
    v1::CustomerRef r;
    r.set_type(c.type);
    r.set_scope(c.scope);
    r.set_value(c.value);
    out.customers.push_back(std::move(r));
  }
  if (const auto* b = std::get_if<lifecycle::basket_data>(&basket.data)) {
    out.currency = b->currency;
    out.note = b->note;
    for (const auto& l : b->lines.lines) {
      connector::checkout_line line;
      line.line = lifecycle::to_proto(l);
      if (l.written.source < basket.common.sources.size()) line.source = basket.common.sources[l.written.source].source;
      out.lines.push_back(std::move(line));
    }
  }
  return out;
}

struct web_handoff_worker::impl {
  web_handoff_deps deps;
  web_handoff_options opts;
  std::string topic;
  std::unique_ptr<log::consumer> consumer;
  outbound_http_client client;
  mutable std::mutex mu;  // stats, and the stop-aware waits
  std::condition_variable cv;
  web_handoff_stats counters;
  std::atomic<bool> stopping{false};
  std::thread thread;
  asio::io_context ioc{1};  // last: destroyed first, with the coroutine frames of an abandoned batch

  impl(web_handoff_deps d, web_handoff_options o)
      : deps(std::move(d)),
        opts(std::move(o)),
        topic(log::topics::full_name(opts.topic_prefix, log::topics::basket_events)),
        client(opts.http) {}

  void count(std::uint64_t web_handoff_stats::*field) {
    const std::lock_guard lock(mu);
    ++(counters.*field);
  }
  void note_error(std::string message) {
    const std::lock_guard lock(mu);
    counters.last_error = std::move(message);
  }

  // Waits up to `d` unless stopping; false when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [this] { return stopping.load(); });
    return !stopping.load();
  }

  log::produce_request produce_request_of(const v1::Event& e) const {
    log::produce_request req;
    req.topic = topic;
    req.key = e.subject_id();
    req.hdrs = {{"event-id", e.event_id()},
                {"event-type", lifecycle::payload_type_name(e)},
                {"source", e.source().connector() + ":" + e.source().account()},
                {"content-type", "application/x-protobuf"}};
    req.value = e.SerializeAsString();
    return req;
  }

  void produce(log::produce_request req, const std::shared_ptr<pending_produces>& pending) {
    {
      const std::lock_guard lock(pending->mu);
      ++pending->outstanding;
    }
    auto copy = req;
    deps.log->produce(std::move(req), [pending, copy = std::move(copy)](const result<log::produce_ack>& r) mutable {
      const std::lock_guard lock(pending->mu);
      if (!r) {
        pending->last_error = r.err().code + ": " + r.err().message;
        pending->failed.push_back(std::move(copy));
      }
      --pending->outstanding;
      pending->cv.notify_all();
    });
  }

  void publish(const v1::Event& request, const web_handoff_outcome& outcome,
               const std::shared_ptr<pending_produces>& pending) {
    count(outcome.accepted ? &web_handoff_stats::accepted : &web_handoff_stats::failed);
    produce(produce_request_of(web_handoff_outcome_event(request, outcome, deps.clock->now_ms())), pending);
  }

  asio::awaitable<void> wait(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  std::chrono::milliseconds next_backoff(std::chrono::milliseconds current) const {
    return std::min(current * 2, opts.max_wait);
  }

  // The handoff's outcome; nullopt when it is to be skipped (expired, already settled).
  asio::awaitable<std::optional<web_handoff_outcome>> carry_out(const v1::Event& request) {
    const auto& p = request.basket_handoff_requested();
    if (p.has_expires_at() && lifecycle::to_ms(p.expires_at()) <= deps.clock->now_ms()) co_return std::nullopt;
    const std::string& target = p.to().web();
    const auto colon = target.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
      co_return failure("target_unknown", "web target \"" + target + "\" is not <connector>:<account>");
    }
    const std::string connector_name = target.substr(0, colon);
    const std::string account = target.substr(colon + 1);
    const auto target_connector = deps.find_connector(connector_name);  // held: keeps the builder alive
    if (!target_connector) co_return failure("target_unknown", "connector " + connector_name + " is not configured");
    const auto* builder = target_connector->checkout();
    if (builder == nullptr) {
      co_return failure("checkout_unsupported", "connector " + connector_name + " cannot create checkouts");
    }

    // The engine decides: the handoff is carried out only once the basket's state shows it pending (the engine may
    // have refused the request, e.g. for an abandoned basket, or a newer request replaced it). The worker reads the
    // request at about the time the engine folds it, so the state may lag a little: bounded waits.
    auto pause_for = opts.state_wait;
    std::optional<result<lifecycle::subject_state>> basket;
    for (int attempt = 1;; ++attempt) {
      basket.emplace(deps.read_basket(request.subject_id()));
      if (*basket) {
        const lifecycle::handoff_state* found = nullptr;
        if (const auto* b = std::get_if<lifecycle::basket_data>(&(**basket).data)) {
          for (const auto& h : b->handoffs) {
            if (h.handoff_id == p.handoff_id()) found = &h;
          }
        }
        if (found != nullptr) {
          if (found->status != lifecycle::handoff_status::pending) co_return std::nullopt;  // settled already
          break;
        }
      } else if ((*basket).err().kind != error_kind::not_found && (*basket).err().kind != error_kind::retry) {
        co_return failure("basket_unreadable", (*basket).err());
      }
      if (attempt >= opts.state_attempts) {
        note_error("handoff " + p.handoff_id() + " never showed in basket " + request.subject_id() +
                   "'s state (refused by the engine?): not carried out");
        co_return std::nullopt;
      }
      co_await wait(pause_for);
      pause_for = next_backoff(pause_for);
    }
    const lifecycle::subject_state& state = **basket;

    auto call = builder->build_checkout_request(account, checkout_basket_of(state, p.handoff_id()));
    if (!call) {
      co_return failure(call.err().kind == error_kind::not_found ? "target_unknown" : "checkout_invalid", call.err());
    }
    auto backoff = opts.backoff;
    for (int attempt = 1;; ++attempt) {
      count(&web_handoff_stats::calls);
      auto answer = co_await client.exchange(*call);
      pause_for = backoff;
      std::string reason;
      std::optional<error> last;
      if (!answer) {
        if (answer.err().kind != error_kind::retry) co_return failure("target_unreachable", answer.err());
        reason = "target_unreachable";
        last = answer.err();
      } else {
        auto parsed = builder->parse_checkout_response(account, *answer);
        if (parsed) {
          web_handoff_outcome o;
          o.accepted = true;
          o.checkout_url = parsed->checkout_url;
          o.target_reference = connector_name + ":" + account + ":" + parsed->native_id;
          co_return o;
        }
        if (parsed.err().kind == error_kind::not_found) co_return failure("target_unknown", parsed.err());
        if (parsed.err().kind != error_kind::retry) co_return failure("target_rejected", parsed.err());
        reason = "target_unavailable";
        last = parsed.err();
        if (const auto ra = parse_retry_after(header_value(answer->headers, "Retry-After"))) {
          if (*ra > opts.max_wait) {
            co_return failure(reason, last->code + ": " + last->message + " (Retry-After " +
                                          std::to_string(ra->count() / 1000) + " s is beyond the wait bound)");
          }
          pause_for = std::max(*ra, std::chrono::milliseconds(1));
        }
      }
      if (attempt >= opts.max_attempts) {
        co_return failure(reason,
                          last->code + ": " + last->message + " (after " + std::to_string(attempt) + " attempts)");
      }
      co_await wait(pause_for);
      backoff = next_backoff(backoff);
    }
  }

  asio::awaitable<void> handle(v1::Event request, std::shared_ptr<pending_produces> pending) {
    auto outcome = co_await carry_out(request);
    if (!outcome) {
      count(&web_handoff_stats::skipped);
      co_return;
    }
    publish(request, *outcome, pending);
  }

  // Waits until every outcome of the batch is durable, producing failed ones again. false when stopping first.
  bool settle(const std::shared_ptr<pending_produces>& pending) {
    for (;;) {
      std::vector<log::produce_request> again;
      {
        std::unique_lock lock(pending->mu);
        while (pending->outstanding > 0) {
          pending->cv.wait_for(lock, std::chrono::milliseconds(200));
          if (stopping.load()) return false;
        }
        again.swap(pending->failed);
        if (again.empty()) return true;
        note_error("producing a handoff outcome: " + pending->last_error);
      }
      if (!pause(std::chrono::milliseconds(1000))) return false;
      for (auto& r : again) produce(std::move(r), pending);
    }
  }

  void run() {
    while (!stopping.load()) {
      auto batch = consumer->poll(opts.poll_timeout, opts.max_batch);
      if (!batch) {
        note_error("polling " + topic + ": " + batch.err().message);
        if (!pause(std::chrono::milliseconds(1000))) return;
        continue;
      }
      if (batch->empty()) continue;
      std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
      auto pending = std::make_shared<pending_produces>();
      std::size_t spawned = 0;
      for (const auto& r : *batch) {
        auto& n = next[{r.topic, r.partition}];
        n = std::max(n, r.offset + 1);
        v1::Event e;
        if (!e.ParseFromString(r.value) || !e.has_basket_handoff_requested() ||
            e.basket_handoff_requested().to().web().empty()) {
          continue;
        }
        asio::co_spawn(ioc, handle(std::move(e), pending), asio::detached);
        ++spawned;
      }
      if (spawned > 0) {
        ioc.run();
        ioc.restart();
        if (stopping.load()) return;  // abandoned: not committed, redone by the next owner
        if (!settle(pending)) return;
      }
      std::vector<log::topic_partition_offset> offsets;
      for (const auto& [tp, offset] : next) offsets.push_back({tp.first, tp.second, offset});
      if (auto c = consumer->commit(offsets); !c) {
        // Lost the partitions to a rebalance, or the log is unavailable: their new owner redoes the batch.
        note_error("committing web handoff offsets: " + c.err().message);
      } else {
        note_error({});
      }
    }
  }
};

web_handoff_worker::web_handoff_worker(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

web_handoff_worker::~web_handoff_worker() { stop(); }

result<std::unique_ptr<web_handoff_worker>> web_handoff_worker::start(web_handoff_deps deps,
                                                                      web_handoff_options options) {
  if (deps.log == nullptr || deps.clock == nullptr || !deps.find_connector || !deps.read_basket) {
    return error::reject("invalid", "web_handoff_worker: log, clock, find_connector and read_basket are required");
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  if (options.max_batch == 0) options.max_batch = 1;
  if (options.group.empty()) options.group = options.topic_prefix + "web-handoffs";
  auto p = std::make_unique<impl>(std::move(deps), std::move(options));
  log::consumer_config cc;
  cc.group = p->opts.group;
  cc.topics = {p->topic};
  cc.reset = log::offset_reset::earliest;  // a new group still finds requests made before it existed
  auto consumer = p->deps.log->subscribe(std::move(cc));
  if (!consumer) return std::move(consumer).err();
  p->consumer = std::move(consumer).value();
  impl* raw = p.get();
  p->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<web_handoff_worker>(new web_handoff_worker(std::move(p)));
}

void web_handoff_worker::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  {
    const std::lock_guard lock(impl_->mu);
    impl_->stopping.store(true);
  }
  impl_->cv.notify_all();
  impl_->ioc.stop();
  impl_->thread.join();
  impl_->consumer.reset();  // leaves the group (no commit)
}

web_handoff_stats web_handoff_worker::stats() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->counters;
}

}  // namespace passerelle::handoff

#pragma once
// async_produce: event_log::produce() as an Asio asynchronous operation, so that an I/O-thread coroutine can write
//   auto r = co_await log::async_produce(log, std::move(request), asio::use_awaitable);
// The backend's completion (which runs on a backend thread) is posted back to the handler's associated executor:
// completions come back on the caller's executor and nothing blocks an I/O thread. A work guard keeps that
// executor alive until the completion has been posted.

#include <atomic>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "broker/log/event_log.h"

namespace passerelle::log {

template <typename CompletionToken>
auto async_produce(event_log& log, produce_request request, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(result<produce_ack>)>(
      [&log](auto handler, produce_request&& req) {
        using handler_type = decltype(handler);
        // produce_callback is a std::function (copyable); Asio handlers are move-only: share ownership.
        struct state {
          handler_type handler;
          boost::asio::executor_work_guard<boost::asio::associated_executor_t<handler_type>> work;
        };
        auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        auto st = std::make_shared<state>(state{std::move(handler), std::move(work)});
        log.produce(std::move(req), [st](result<produce_ack> r) {
          auto ex = st->work.get_executor();
          boost::asio::post(ex, [st, r = std::move(r)]() mutable {
            st->work.reset();
            std::move(st->handler)(std::move(r));
          });
        });
      },
      token, std::move(request));
}

// Produces every request concurrently and completes once ALL have completed, with their results in request
// order, on the handler's associated executor. Used to acknowledge a webhook only when each of its events is
// durable.
template <typename CompletionToken>
auto async_produce_all(event_log& log, std::vector<produce_request> requests, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(std::vector<result<produce_ack>>)>(
      [&log](auto handler, std::vector<produce_request>&& reqs) {
        using handler_type = decltype(handler);
        struct state {
          handler_type handler;
          boost::asio::executor_work_guard<boost::asio::associated_executor_t<handler_type>> work;
          std::vector<std::optional<result<produce_ack>>> results;
          std::atomic<std::size_t> remaining;
        };
        auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        const std::size_t n = reqs.size();
        auto st = std::shared_ptr<state>(new state{std::move(handler), std::move(work), {}, {n}});
        st->results.resize(n);
        const auto finish = [](const std::shared_ptr<state>& s) {
          auto ex = s->work.get_executor();
          boost::asio::post(ex, [s]() mutable {
            std::vector<result<produce_ack>> out;
            out.reserve(s->results.size());
            for (auto& r : s->results) out.push_back(std::move(*r));
            s->work.reset();
            std::move(s->handler)(std::move(out));
          });
        };
        if (n == 0) {
          finish(st);
          return;
        }
        for (std::size_t i = 0; i < n; ++i) {
          log.produce(std::move(reqs[i]), [st, i, finish](result<produce_ack> r) {
            st->results[i].emplace(std::move(r));
            // acq_rel: the last completer sees every other completer's write to `results`.
            if (st->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(st);
          });
        }
      },
      token, std::move(requests));
}

}  // namespace passerelle::log

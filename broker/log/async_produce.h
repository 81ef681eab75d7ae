#pragma once
// async_produce: event_log::produce() as an Asio asynchronous operation, so that an I/O-thread coroutine can write
//   auto r = co_await log::async_produce(log, std::move(request), asio::use_awaitable);
// The backend's completion (which runs on a backend thread) is posted back to the handler's associated executor:
// completions come back on the caller's executor and nothing blocks an I/O thread. A work guard keeps that
// executor alive until the completion has been posted.

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "broker/log/event_log.h"

namespace passerelle::log {

template <typename CompletionToken>
auto async_produce(event_log& log, produce_request request, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(result<produce_ack>)>(
      [&log](auto handler, produce_request req) {
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

}  // namespace passerelle::log

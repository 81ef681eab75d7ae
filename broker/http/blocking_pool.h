#pragma once
// Runs blocking work (readiness probes, admin calls on the event log, disk I/O) OFF the I/O threads and resumes
// the calling coroutine on its own executor with the result. I/O threads never block (docs/architecture.md).
//
// Bounded: at most `max_pending` jobs are queued or running; beyond that `run` fails at once with a `retry`
// error ("blocking_pool_full") instead of queueing without limit.
//
// Lifecycle and ownership: owned by the http::server (or a test), created before and destroyed after the I/O
// threads. `stop()` (also run by the destructor) discards jobs not yet started and joins the workers: a job that
// is running must finish first, so jobs must bound their own duration (e.g. a readiness check with a timeout).
// A coroutine whose job was discarded is never resumed; its frame is destroyed with the io_context.
//
// Threading: `run` may be awaited from any coroutine on any executor; the job runs on a pool thread.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>

#include "broker/core/result.h"

namespace passerelle::http {

class blocking_pool {
 public:
  blocking_pool(std::size_t threads, std::size_t max_pending)
      : pool_(threads == 0 ? 1 : threads), max_pending_(max_pending == 0 ? 1 : max_pending) {}
  ~blocking_pool() { stop(); }
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  // Runs `fn` on a pool thread; an exception escaping `fn` becomes a `fatal` error. Not itself a coroutine: it
  // returns the awaitable of an asynchronous operation. Pass a named std::function (std::move(job)), not a
  // temporary built inside the co_await expression: GCC 12 mishandles the lifetime of such temporaries.
  template <typename T>
  boost::asio::awaitable<result<T>> run(std::function<result<T>()>&& fn) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(result<T>)>(
        [this](auto handler, std::function<result<T>()> f) {
          // Keep the caller's executor alive (outstanding work) until the result is posted back to it.
          auto home = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                          boost::asio::execution::outstanding_work.tracked);
          if (pending_.fetch_add(1, std::memory_order_acq_rel) >= max_pending_) {
            pending_.fetch_sub(1, std::memory_order_acq_rel);
            boost::asio::post(home, [handler = std::move(handler)]() mutable {
              std::move(handler)(
                  result<T>(error::retry("blocking_pool_full", "too many blocking operations in progress")));
            });
            return;
          }
          boost::asio::post(pool_,
                            [this, f = std::move(f), handler = std::move(handler), home = std::move(home)]() mutable {
                              result<T> r = invoke(f);
                              pending_.fetch_sub(1, std::memory_order_acq_rel);
                              boost::asio::post(home, [handler = std::move(handler), r = std::move(r)]() mutable {
                                std::move(handler)(std::move(r));
                              });
                            });
        },
        boost::asio::use_awaitable, std::move(fn));
  }

  // Discards queued jobs and joins the workers. Idempotent.
  void stop() {
    pool_.stop();
    pool_.join();
  }

  std::size_t pending() const noexcept { return pending_.load(std::memory_order_acquire); }

 private:
  template <typename T>
  static result<T> invoke(std::function<result<T>()>& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      return error::fatal("blocking_job_failed", e.what());
    } catch (...) {
      return error::fatal("blocking_job_failed", "unknown exception");
    }
  }

  boost::asio::thread_pool pool_;
  const std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace passerelle::http

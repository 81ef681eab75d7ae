#pragma once
// An injectable clock. Production code takes a `const clock&` (or shared_ptr) instead of calling
// std::chrono::system_clock::now(), so tests drive time with manual_clock instead of sleeping.
//
// Thread-safety: system_clock is stateless; manual_clock is safe to read and advance from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace passerelle::core {

class clock {
 public:
  virtual ~clock() = default;
  // Wall-clock time (UTC) in milliseconds since the Unix epoch.
  virtual std::int64_t now_ms() const noexcept = 0;
};

class system_clock final : public clock {
 public:
  std::int64_t now_ms() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide instance.
  static const system_clock& instance() noexcept {
    static const system_clock c;
    return c;
  }
};

class manual_clock final : public clock {
 public:
  explicit manual_clock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const noexcept override { return now_.load(std::memory_order_acquire); }
  void advance(std::chrono::milliseconds d) noexcept { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(std::int64_t ms) noexcept { now_.store(ms, std::memory_order_release); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace passerelle::core

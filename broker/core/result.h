#pragma once
// Errors on the data path are values: every fallible operation returns `result<T>`, holding either a T or an
// `error`. The `kind` says what the caller should do (retry later, reject the input for good, or treat it as a
// fault); it is mapped to HTTP statuses in exactly one place (broker/http/error_mapping.h).
//
// Thread-safety: plain values; no shared state.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace passerelle {

enum class error_kind {
  retry,         // transient: try again later (backpressure, broker unavailable, timeout). Nothing was kept.
  reject,        // the input is unusable as it is; retrying the same input will fail the same way.
  not_found,     // the named thing (topic, subject, group, ...) does not exist.
  unauthorized,  // missing or bad credentials.
  conflict,      // the request clashes with the current state (e.g. a concurrent request with the same key).
  fatal,         // an internal fault that should not happen; the component may need restarting.
};

// A short, stable, machine-readable code ("queue_full", "broker_unreachable", ...) and a human message.
struct error {
  error_kind kind = error_kind::fatal;
  std::string code;
  std::string message;

  static error retry(std::string code, std::string message) {
    return {error_kind::retry, std::move(code), std::move(message)};
  }
  static error reject(std::string code, std::string message) {
    return {error_kind::reject, std::move(code), std::move(message)};
  }
  static error not_found(std::string code, std::string message) {
    return {error_kind::not_found, std::move(code), std::move(message)};
  }
  static error fatal(std::string code, std::string message) {
    return {error_kind::fatal, std::move(code), std::move(message)};
  }
};

std::string_view to_string(error_kind kind) noexcept;

template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  error&& err() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const error& err() const& {
    assert(!ok_);
    return err_;
  }
  error&& err() && {
    assert(!ok_);
    return std::move(err_);
  }

 private:
  error err_;
  bool ok_ = true;
};

inline result<void> ok() { return {}; }

}  // namespace passerelle

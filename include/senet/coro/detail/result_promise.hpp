// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_RESULT_PROMISE_HPP
#define SENET_CORO_DETAIL_RESULT_PROMISE_HPP

#include <senet/coro/detail/awaiting.hpp>

#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::coro::detail {

/** The outcome of a coroutine body: its value (a pointer for a reference) or its exception. */
template <class T>
class result_storage {
 public:
  static constexpr bool is_reference = std::is_reference_v<T>;
  using stored_type = std::conditional_t<is_reference, std::remove_reference_t<T>*, std::remove_const_t<T>>;

  template <class U>
  void return_value(U&& value) {
    if constexpr (is_reference) {
      T ref = static_cast<U&&>(value);
      storage_.template emplace<1>(std::addressof(ref));
    } else {
      storage_.template emplace<1>(std::forward<U>(value));
    }
  }
  void unhandled_exception() noexcept { storage_.template emplace<2>(std::current_exception()); }

  /** The value (a reference to it), or rethrows the exception. */
  std::add_lvalue_reference_t<T> result() & {
    rethrow();
    if constexpr (is_reference) {
      return *std::get<1>(storage_);
    } else {
      return std::get<1>(storage_);
    }
  }
  const std::remove_reference_t<T>& result() const& {
    rethrow();
    if constexpr (is_reference) {
      return *std::get<1>(storage_);
    } else {
      return std::get<1>(storage_);
    }
  }
  std::conditional_t<is_reference, T, T&&> result() && {
    rethrow();
    if constexpr (is_reference) {
      return *std::get<1>(storage_);
    } else {
      return std::move(std::get<1>(storage_));
    }
  }

 private:
  void rethrow() const {
    if (storage_.index() == 2) {
      std::rethrow_exception(std::get<2>(storage_));
    }
  }

  std::variant<std::monostate, stored_type, std::exception_ptr> storage_{};
};

template <>
class result_storage<void> {
 public:
  void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  void result() const {
    if (exception_) {
      std::rethrow_exception(exception_);
    }
  }

 private:
  std::exception_ptr exception_{};
};

/** The promise of the helper coroutines of sync_wait and when_all: it awaits like a coro::task,
    keeps the body's outcome, and tells `Sink` (`notify()`) when the body has ended. `Task` is the
    coroutine's return type, made from the handle. */
template <class T, class Task, class Sink>
class notifying_promise : public awaiting_promise, public result_storage<T> {
  using handle_type = std::coroutine_handle<notifying_promise>;

 public:
  Task get_return_object() noexcept { return Task(handle_type::from_promise(*this)); }
  [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }

  struct notifier {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(handle_type h) const noexcept { h.promise().sink_->notify(); }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] notifier final_suspend() const noexcept { return {}; }

  /** Runs the body on the calling thread until its first suspension. */
  void start(Sink& sink) noexcept {
    sink_ = &sink;
    handle_type::from_promise(*this).resume();
  }

 private:
  Sink* sink_ = nullptr;
};

}  // namespace senet::coro::detail

#endif  // SENET_CORO_DETAIL_RESULT_PROMISE_HPP

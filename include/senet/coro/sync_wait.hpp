// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_SYNC_WAIT_HPP
#define SENET_CORO_SYNC_WAIT_HPP

#include <senet/coro/detail/awaiting.hpp>

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::coro {

namespace detail {

/** The blocking side of sync_wait: set by the coroutine's end, waited for by the caller. */
class sync_wait_event {
 public:
  void set() noexcept {
    std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  void wait() noexcept {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

template <class T>
class sync_wait_task;

/** The promise of the coroutine sync_wait runs: it awaits the argument and keeps its result. */
template <class T>
class sync_wait_promise : public awaiting_promise {
 public:
  static constexpr bool is_reference = std::is_reference_v<T>;
  using stored_type = std::conditional_t<is_reference, std::remove_reference_t<T>*, std::remove_const_t<T>>;

  sync_wait_task<T> get_return_object() noexcept;
  [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
  struct notifier {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<sync_wait_promise> h) const noexcept {
      h.promise().event_->set();
    }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] notifier final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { storage_.template emplace<2>(std::current_exception()); }

  template <class U>
  void return_value(U&& value) {
    if constexpr (is_reference) {
      T ref = static_cast<U&&>(value);
      storage_.template emplace<1>(std::addressof(ref));
    } else {
      storage_.template emplace<1>(std::forward<U>(value));
    }
  }

  void start(sync_wait_event& e) {
    event_ = &e;
    std::coroutine_handle<sync_wait_promise>::from_promise(*this).resume();
  }

  T result() {
    if (storage_.index() == 2) {
      std::rethrow_exception(std::get<2>(storage_));
    }
    if constexpr (is_reference) {
      return static_cast<T>(*std::get<1>(storage_));
    } else {
      return std::move(std::get<1>(storage_));
    }
  }

 private:
  sync_wait_event* event_ = nullptr;
  std::variant<std::monostate, stored_type, std::exception_ptr> storage_{};
};

template <>
class sync_wait_promise<void> : public awaiting_promise {
 public:
  sync_wait_task<void> get_return_object() noexcept;
  [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
  struct notifier {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<sync_wait_promise> h) const noexcept {
      h.promise().event_->set();
    }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] notifier final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  void return_void() noexcept {}

  void start(sync_wait_event& e) {
    event_ = &e;
    std::coroutine_handle<sync_wait_promise>::from_promise(*this).resume();
  }

  void result() const {
    if (exception_) {
      std::rethrow_exception(exception_);
    }
  }

 private:
  sync_wait_event* event_ = nullptr;
  std::exception_ptr exception_{};
};

template <class T>
class sync_wait_task {
 public:
  using promise_type = sync_wait_promise<T>;
  explicit sync_wait_task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  sync_wait_task(sync_wait_task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  sync_wait_task& operator=(sync_wait_task&&) = delete;
  ~sync_wait_task() {
    if (handle_) {
      handle_.destroy();
    }
  }
  promise_type& promise() noexcept { return handle_.promise(); }

 private:
  std::coroutine_handle<promise_type> handle_;
};

template <class T>
sync_wait_task<T> sync_wait_promise<T>::get_return_object() noexcept {
  return sync_wait_task<T>(std::coroutine_handle<sync_wait_promise>::from_promise(*this));
}
inline sync_wait_task<void> sync_wait_promise<void>::get_return_object() noexcept {
  return sync_wait_task<void>(std::coroutine_handle<sync_wait_promise>::from_promise(*this));
}

template <class T, class A>
sync_wait_task<T> make_sync_wait_task(A&& a) {
  if constexpr (std::is_void_v<T>) {
    co_await std::forward<A>(a);
  } else {
    co_return co_await std::forward<A>(a);
  }
}

}  // namespace detail

/** Runs `a` (a `coro::task`, any awaitable, or any sender) to its end, blocking the calling
    thread, and gives its result (libcoro 0.15's `coro::sync_wait`): the value (`T`, or a reference
    for a result that is one), nothing for `void`, or the exception the body threw, rethrown.

    `a` starts on the calling thread; it typically moves to a scheduler with
    `co_await scheduler->schedule()`, and the calling thread sleeps until it ends wherever it
    ends. A sender given directly runs as `co_await sndr` in a `coro::task` on the calling
    thread would (see `coro::task`). Not from a thread that `a` needs to end (a scheduler's I/O
    thread or pool thread, or the thread that must call `process_events`): that blocks forever,
    as in libcoro.

    Allocation: one coroutine frame for the call.
*/
template <detail::awaitable_or_sender A>
decltype(auto) sync_wait(A&& a) {
  using T = detail::await_result_t<A>;
  detail::sync_wait_event e;
  auto task = detail::make_sync_wait_task<T>(std::forward<A>(a));
  task.promise().start(e);
  e.wait();
  if constexpr (std::is_void_v<T>) {
    task.promise().result();
  } else if constexpr (std::is_reference_v<T>) {
    return task.promise().result();
  } else {
    // Moved out before the frame (and the promise holding the value) is destroyed.
    std::remove_cv_t<T> result = task.promise().result();
    return result;
  }
}

}  // namespace senet::coro

#endif  // SENET_CORO_SYNC_WAIT_HPP
